//! A loopback stand-in for the Seedream / SeedEdit image service, for tests, CI, benchmarks and demos.
//!
//! [`Emulator::start`] binds `127.0.0.1` (any free port by default) and serves, over HTTP/1.1 and
//! HTTP/2, optionally with TLS and a self-signed certificate made at start:
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/images/generations` | relay style: JSON request, relay-shaped `usage` |
//! | `POST /api/v3/images/generations` | Ark style: JSON request, Ark-shaped `usage` |
//! | `POST /v1/images/edits` | relay edits: `multipart/form-data`, the generation it stands for (its `seed`, `output_format`, `stream`, … too) |
//! | `GET /files/<token>.jpeg?X-Tos-…`, `….png?…` | the image links it hands out (expired: 403, unknown: 404) |
//!
//! Requests are validated with the `seedream-types` rules, each family's read from its catalog row
//! (an alias gets its family's rules and is answered with the family's dated `model` id). A refused
//! request gets a 400 worded as the live service words it: code `InvalidParameter` (or
//! `MissingParameter`), ``The parameter `X` specified in the request is not valid: <rule>. Request id:
//! <id>`` with `param` = `X`; the rule follows the service's captured bodies where the spec has them
//! ("stream is not supported by the current model", "number of reference images cannot exceed N",
//! "image size must be at least N pixels", each N read from the row; the reference-count sentence
//! says "are not valid", as the captured body does), and any further violations are listed after it.
//!
//! What comes back follows the request and the family's row:
//! - images are real files whose size follows the request and whose pixels derive from (prompt,
//!   seed, index): JPEG by default, PNG (written with the `png` crate) with `output_format: png`;
//! - `background: transparent` gives an RGBA PNG whose background is fully transparent around an
//!   opaque subject;
//! - `layer_decomposition: true` gives the base image (`z_index` 0, the full picture, `size` `auto`
//!   or absent: the input image's size) and 2 to the row's `default_layers()` layers (its cap when
//!   the request sets none), their number and boxes derived from (prompt, seed): each an RGBA PNG the size of the base image, opaque only inside its
//!   `bounding_box` (`absolute` in base pixels, `normalized` on 0–1000, rounded), with a `name` and a
//!   `description`. `usage.generated_images` counts every item (base and layers) as billed images;
//!   a moderation fault on any item fails the whole request, as the service does;
//! - items state `size` when the row has `reports_size`, and `output_format` (and `usage` counts
//!   `input_images`, 0 without references) when it has `reports_formats` (5.0 pro and flash; 5.0 lite
//!   makes PNGs without saying so);
//! - `tools: [{"type": "web_search"}]` is echoed as the answer's top-level `tools` and billed as
//!   `usage.tool_usage.web_search: 1`;
//! - `stream: true` gets the documented server-sent events, each `partial_succeeded` carrying the
//!   same fields as the plain answer's item, and `completed` the plain answer's top level (`usage`
//!   in the Ark shape, `tools`).
//!
//! Faults are injected per request with the [`FAULT_HEADER`] header
//! (`x-emulator-fault: <name>[;times=N][;id=KEY][;ms=MILLIS][;images=I,J][;retry_after=S]`, names in
//! [`FaultKind`]) or for every request with [`EmulatorConfig::fault`]; faults act on the API routes,
//! never on image downloads. [`EmulatorHandle::stats`] counts requests, connections (open ones too,
//! to catch leaks), faults and images. Every answer carries [`SYNTHETIC_HEADER`]
//! (`x-emulator-synthetic: true`), so a client reached by URL can tell it was not the service.
//!
//! Images are synthetic: a smooth mosaic of flat 8×8 blocks. JPEGs come from a DC-only baseline
//! writer (see [`synthetic_jpeg`]) that costs milliseconds even at 4K; PNGs use the `Up` filter and
//! fast compression, so repeated rows cost almost nothing. Files are cached per recipe (size, prompt,
//! seed, index, watermark, format, transparency, layer), so a JPEG, a PNG and a layer of one request
//! never share an entry. Image links are remembered as recipes, so they serve the same bytes as
//! `b64_json` would carry.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use seedream_emulator::{Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let base = emulator.base_url(); // http://127.0.0.1:PORT/v1
//! // ... point a client at `base` ...
//! emulator.shutdown().await;
//! # let _ = base; Ok(()) }
//! ```

#![warn(missing_docs)]

mod body;
mod canvas;
mod edits;
mod error;
mod fault;
mod generate;
mod jpeg;
mod layers;
mod models;
mod pngfile;
mod server;
mod service;
mod state;
mod store;
mod tls;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use fault::{FAULT_HEADER, FaultKind, FaultSpec};
pub use jpeg::{DimensionsError, MAX_SIDE, synthetic_jpeg};
pub use models::models_listing;

/// The response header (`x-emulator-synthetic: true`) on every answer of the emulator, API errors and
/// image downloads included: what comes back was made here, not by the service.
pub const SYNTHETIC_HEADER: &str = "x-emulator-synthetic";

/// The request header naming a call (`X-Client-Request-Id`, sent by the official SDKs and
/// `seedream-client`); the emulator echoes it on the answer.
pub const CLIENT_REQUEST_ID_HEADER: &str = "x-client-request-id";

/// How an emulator behaves. `Default::default()`: plain HTTP, any free port, no auth, links valid 24 h,
/// no delay, 200 MiB body limit, no rate limit, no faults.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Port on `127.0.0.1`; 0 (the default) takes any free port.
    pub port: u16,
    /// Serve HTTPS with a self-signed certificate made at start (ALPN `h2` and `http/1.1`); see
    /// [`EmulatorHandle::certificate_pem`]. Default false.
    pub tls: bool,
    /// Accepted API keys. Empty (the default): no auth. Otherwise `Authorization: Bearer <key>` must
    /// match one, else 401 `AuthenticationError`.
    pub api_keys: Vec<String>,
    /// Lifetime of the image links handed out. Default 24 hours.
    pub url_ttl: Duration,
    /// Time spent per generated image: before the response for plain requests, before each event for
    /// streams. Default 0.
    pub image_delay: Duration,
    /// Largest request body; larger ones get 413 with the error JSON. Default 200 MiB (14 data URLs of
    /// 10 MB fit).
    pub max_body_bytes: usize,
    /// Images per minute per API key; over it, 429 `ModelAccountIpmRateLimitExceeded` with
    /// `Retry-After`. Default `None`: unlimited.
    pub images_per_minute: Option<u32>,
    /// A fault spec (the [`FAULT_HEADER`] syntax) applied to every API request that carries no fault
    /// header. Default `None`. An invalid spec makes [`Emulator::start`] fail.
    pub fault: Option<String>,
    /// `(probability, seed)`: each API request without another fault gets, with this probability, a
    /// random fault from [`FaultKind::RANDOM`] (random rate limits say `Retry-After: 0`). The seed makes
    /// the sequence repeatable. Default `None`.
    pub random_faults: Option<(f64, u64)>,
    /// On shutdown, how long in-flight responses get to finish before their connections are dropped.
    /// Pauses (delays, stalls) end at once. Default 1 s.
    pub shutdown_grace: Duration,
    /// Bytes of encoded images (JPEG and PNG) kept in memory for reuse. Default 64 MiB.
    pub image_cache_bytes: usize,
    /// A hostile keep-alive: every answer keeps its connection open (no `Connection: close`), but an
    /// image download arriving on a connection that has already answered a request finds it closed,
    /// without an answer — a server whose keep-alive timer fired as the request came. Clients that
    /// pool connections see "connection closed before message completed". Default false.
    pub stale_keep_alive: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            tls: false,
            api_keys: Vec::new(),
            url_ttl: Duration::from_secs(24 * 3600),
            image_delay: Duration::ZERO,
            max_body_bytes: 200 * 1024 * 1024,
            images_per_minute: None,
            fault: None,
            random_faults: None,
            shutdown_grace: Duration::from_secs(1),
            image_cache_bytes: 64 * 1024 * 1024,
            stale_keep_alive: false,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    // The keys are secrets: only their number is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("api_keys", &format_args!("[{} redacted]", self.api_keys.len()))
            .field("url_ttl", &self.url_ttl)
            .field("image_delay", &self.image_delay)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("images_per_minute", &self.images_per_minute)
            .field("fault", &self.fault)
            .field("random_faults", &self.random_faults)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("image_cache_bytes", &self.image_cache_bytes)
            .field("stale_keep_alive", &self.stale_keep_alive)
            .finish()
    }
}

/// Starts emulators.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `127.0.0.1:config.port` and starts serving on the current Tokio runtime. Fails when the
    /// port is taken, the certificate cannot be made, or `config.fault` is not a valid spec.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<EmulatorHandle> {
        server::start(config).await
    }
}

/// Counters of a running emulator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmulatorStats {
    /// HTTP requests received (every route, including refused ones).
    pub requests: u64,
    /// Connections accepted since start.
    pub connections: u64,
    /// Connections open now (TLS handshakes included); 0 once clients have closed theirs.
    pub open_connections: u64,
    /// Faults injected (header, configured and random ones that fired).
    pub faults_injected: u64,
    /// Images generated successfully (moderated ones excluded).
    pub images_generated: u64,
    /// Tasks the emulator runs now (accept loop, connections, HTTP/2 streams, encoders).
    pub tasks: u64,
    /// Downloads dropped unanswered with their connection ([`EmulatorConfig::stale_keep_alive`]).
    pub stale_closes: u64,
}

/// A running emulator. Dropping it stops the server without waiting; [`shutdown`](Self::shutdown)
/// waits until every task has ended.
pub struct EmulatorHandle {
    server: server::Server,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle").field("addr", &self.addr()).field("tls", &self.server.tls()).finish()
    }
}

impl EmulatorHandle {
    /// Relay-style base URL: `http://127.0.0.1:PORT/v1` (`https://` with TLS).
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.origin())
    }

    /// Ark-style base URL: `http://127.0.0.1:PORT/api/v3` (`https://` with TLS).
    pub fn ark_base_url(&self) -> String {
        format!("{}/api/v3", self.origin())
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn origin(&self) -> String {
        self.server.state().origin.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.state().addr
    }

    /// The self-signed certificate (PEM) with TLS, for clients to trust; `None` without TLS. It names
    /// `127.0.0.1` and `localhost`.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.server.certificate_pem()
    }

    /// The counters now.
    pub fn stats(&self) -> EmulatorStats {
        self.server.state().stats()
    }

    /// Stops accepting, ends every connection (in-flight responses get
    /// [`EmulatorConfig::shutdown_grace`]) and waits until every task has ended.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Shared by every task of one emulator.
pub(crate) type SharedState = Arc<state::State>;
