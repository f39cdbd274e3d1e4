//! The options several commands share: the global ones (`--json`, `--provider`, `--catalog`), where
//! the service is ([`NetworkArgs`]), how a call runs ([`CallArgs`]), the [`Secret`] that holds a key,
//! and the durations those flags take.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Args;
use seedream_types::catalog::Provider;

/// Where results go unless `--out` says otherwise.
pub const DEFAULT_OUT_DIR: &str = "seedream-out";
/// `--timeout`: the deadline of one call (sending, waiting, downloading, saving), by default. A 4K group
/// of 6–9 images takes 4–6 minutes; nothing legitimate takes 15.
pub const DEFAULT_TIMEOUT: &str = "15m";
/// `--idle-timeout`: the longest wait for the next piece of an answer, by default (the client's).
pub const DEFAULT_IDLE_TIMEOUT: &str = "5m";
/// `--retries`: retries after a failure that may pass, by default (the client's 3 attempts).
pub const DEFAULT_RETRIES: u32 = 2;

/// A secret string (the API key): its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

/// Options every command takes (they may come before or after the command's name).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Print one machine-readable JSON result on stdout, and no progress.
    #[arg(long, global = true)]
    pub json: bool,
    /// Whose service and model ids: volcengine (Ark, ids doubao-…; the default) or byteplus (ModelArk,
    /// https://ark.ap-southeast.bytepluses.com/api/v3, ids dola-… or unprefixed). Sets the base URL
    /// when none is given. Also read from SEEDREAM_PROVIDER.
    #[arg(long, global = true, value_name = "PROVIDER", value_parser = parse_provider, env = "SEEDREAM_PROVIDER")]
    pub provider: Option<Provider>,
    /// A catalog file adding or replacing model families (the format `seedream models --json` prints).
    /// Also read from SEEDREAM_CATALOG.
    #[arg(long, global = true, value_name = "FILE", env = "SEEDREAM_CATALOG")]
    pub catalog: Option<PathBuf>,
}

/// Where and how to reach the service: listed only by the commands that call it (generate, edit,
/// batch, models --remote) or serve it (emulator: --api-key only is read), so no command takes an
/// option it would ignore.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Network options")]
pub struct NetworkArgs {
    /// API base URL: Ark's https://ark.cn-beijing.volces.com/api/v3 (the default when a key is given) or a
    /// relay's https://host/v1. Also read from SEEDREAM_BASE_URL.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// API key, sent as a bearer token. Also read from SEEDREAM_API_KEY, then ARK_API_KEY. Never printed.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<Secret>,
    /// Also trust this PEM certificate (a company proxy's root, or the one `seedream emulator --tls`
    /// writes).
    #[arg(long, value_name = "PEM_FILE")]
    pub ca_cert: Option<PathBuf>,
    /// An extra header for every API request, as "Name: value" (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Send every request through this HTTP proxy, http://[user:password@]host:port (credentials are
    /// sent as Basic auth, never printed). Without it HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY
    /// apply, as for curl.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<Secret>,
    /// Connect straight to the service, ignoring the proxy variables of the environment.
    #[arg(long)]
    pub no_proxy: bool,
}

impl NetworkArgs {
    /// The first option given, as typed on the command line (for commands where none acts).
    pub fn first_given(&self) -> Option<&'static str> {
        [
            (self.base_url.is_some(), "--base-url"),
            (self.api_key.is_some(), "--api-key"),
            (self.ca_cert.is_some(), "--ca-cert"),
            (!self.headers.is_empty(), "--header"),
            (self.proxy.is_some(), "--proxy"),
            (self.no_proxy, "--no-proxy"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// Reads `volcengine` or `byteplus`, in any case.
fn parse_provider(text: &str) -> Result<Provider, String> {
    Provider::from_name(text.trim()).ok_or_else(|| format!("{text:?} is not a provider: use volcengine or byteplus"))
}

/// Options of the commands that call the service (generate, edit, batch).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Call options")]
pub struct CallArgs {
    /// Deadline for the whole call, downloads and saving included (batch: per line): 30, 30s, 500ms,
    /// 5m (or 5min), 1h.
    /// When it runs out the command stops with exit status 4, naming what it was doing
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = DEFAULT_TIMEOUT)]
    pub timeout: Duration,
    /// Longest wait for the next piece of an answer, such as the next image of a stream: 30, 30s, 500ms,
    /// 5m (or 5min)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = DEFAULT_IDLE_TIMEOUT)]
    pub idle_timeout: Duration,
    /// Retries after a failure that may pass: rate limits, 5xx, a connection that could not be opened
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RETRIES,
          value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=20))]
    pub retries: u32,
    /// Print only results and errors (no notes, no progress)
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print attempts, request ids and timings (never the API key)
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Check the request and print the exact JSON that would be sent (data URLs abbreviated); send
    /// nothing, write nothing. Exit status 0, or 2 when invalid
    #[arg(long)]
    pub dry_run: bool,
    /// The most images this run may buy. A call starts only when the most images it can make (its
    /// max images, or 1; with layers the base and the layer cap) fit in what is left; batch lines left
    /// out are recorded as not_run and run on the next run
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=1_000_000))]
    pub image_budget: Option<u64>,
}

/// Reads a duration: `30` (seconds), `30s`, `500ms`, `5m` (`5min`), `1h`; more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration such as 30, 30s, 500ms, 5m (5min) or 1h"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s, m (or min) or h (30, 30s, 500ms, 10ms, 5m, 5min, 1h)"
            ));
        }
    };
    if !(seconds > 0.0 && seconds <= 7.0 * 24.0 * 3600.0) {
        return Err(format!("{text:?} must be more than zero and at most a week"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A duration as the flags take it: `30s`, `5m`, `1h`, `1.5s`.
pub fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds >= 3600.0 && seconds % 3600.0 == 0.0 {
        format!("{}h", seconds / 3600.0)
    } else if seconds >= 60.0 && seconds % 60.0 == 0.0 {
        format!("{}m", seconds / 60.0)
    } else {
        format!("{seconds}s")
    }
}

/// `--no-validate`, as generate, edit and batch list it.
pub const NO_VALIDATE_HELP: &str =
    "Skip the local checks of the model's rules and send the request as it is (the service decides)";
