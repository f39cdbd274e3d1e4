//! What every example shares: a client for the service the environment names (`ARK_API_KEY` or
//! `SEEDREAM_API_KEY`, `SEEDREAM_BASE_URL`), or for a local emulator when nothing is configured, so
//! each example runs with no account (the images are then synthetic).

use std::path::PathBuf;

use seedream_client::Client;
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// A client and, when one was started, the emulator behind it (stopped when this is dropped).
pub struct Service {
    pub client: Client,
    _emulator: Option<EmulatorHandle>,
}

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The configured service, or a local emulator.
pub async fn connect() -> Result<Service> {
    let configured = ["ARK_API_KEY", "SEEDREAM_API_KEY", "SEEDREAM_BASE_URL"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()));
    if configured {
        return Ok(Service { client: Client::from_env()?, _emulator: None });
    }
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    eprintln!("no service configured: a local emulator at {} answers (synthetic images)", emulator.base_url());
    // Loopback: never through a proxy from the environment.
    let client = Client::builder().base_url(emulator.base_url()).api_key("local").no_proxy().build()?;
    Ok(Service { client, _emulator: Some(emulator) })
}

/// The output folder: `--out DIR` on the command line, else `./seedream-examples`.
pub fn out_dir() -> PathBuf {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == "--out")
        .and_then(|at| args.get(at + 1))
        .map_or_else(|| PathBuf::from("seedream-examples"), PathBuf::from)
}
