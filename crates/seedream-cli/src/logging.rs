//! `RUST_LOG`: when it is set, the client's spans and events (each call's request id, retries, time
//! limits, connections, downloads) go to stderr through a tracing subscriber. Unset, nothing is
//! installed and `--verbose` stays the only detail.

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber when `RUST_LOG` is set and not empty.
pub fn install_from_env() {
    let Some(directives) = std::env::var_os("RUST_LOG").filter(|value| !value.is_empty()) else { return };
    let filter = match EnvFilter::try_new(directives.to_string_lossy()) {
        Ok(filter) => filter,
        Err(error) => {
            eprintln!("seedream: RUST_LOG ignored: {error}");
            return;
        }
    };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
