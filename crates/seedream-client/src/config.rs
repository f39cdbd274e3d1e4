//! The client's plain settings: [`Timeouts`] and [`EditMode`].

use std::time::Duration;

/// The deadline front ends put over a call and its downloads unless told otherwise: the CLI's
/// `--timeout` default and the C ABI's. A 4K group of 6–9 images takes 4–6 minutes; nothing
/// legitimate takes 15, and a call that hangs must end some day.
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Time limits. `connect`, `headers` and `idle` are per phase, so a 4K group that takes minutes
/// still works; `overall` bounds a whole call whatever the server does (a server sending one byte a
/// second, or stream keep-alives forever, resets the idle timer each time). A limit that runs out
/// is [`Error::Timeout`](crate::Error::Timeout) naming the limit and what the call was doing.
///
/// For one deadline across a call *and* the downloads of its images, use
/// [`Client::with_deadline`](crate::Client::with_deadline): every call made through the handle it returns ends by then.
///
/// Start from [`Timeouts::default`] and change what you need with the `with_*` setters (fields may
/// be added, so the struct cannot be written out literally):
///
/// ```
/// # use std::time::Duration;
/// let timeouts = seedream_client::Timeouts::default().with_idle(Duration::from_secs(60)).with_overall(Duration::from_secs(600));
/// # assert_eq!(timeouts.overall, Some(Duration::from_secs(600)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Opening a connection (TCP and TLS). Default 10 s. Applies to the built-in transport.
    pub connect: Duration,
    /// From sending a request to its response headers. Without `stream` the service sends them only
    /// when every image is done (4–6 minutes for a 4K group), hence the default of 15 minutes.
    pub headers: Duration,
    /// Longest wait for the next piece of a body, such as the next image of a stream. Default 5 minutes.
    pub idle: Duration,
    /// A deadline for each whole call (a generate, an edit, a stream to its end, one download),
    /// retries and reading the body included. Default none.
    pub overall: Option<Duration>,
}

impl Timeouts {
    /// The same limits with `connect` set.
    pub fn with_connect(self, connect: Duration) -> Self {
        Self { connect, ..self }
    }

    /// The same limits with `headers` set.
    pub fn with_headers(self, headers: Duration) -> Self {
        Self { headers, ..self }
    }

    /// The same limits with `idle` set.
    pub fn with_idle(self, idle: Duration) -> Self {
        Self { idle, ..self }
    }

    /// The same limits with `overall` set (`None`: no deadline).
    pub fn with_overall(self, overall: impl Into<Option<Duration>>) -> Self {
        Self { overall: overall.into(), ..self }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            headers: Duration::from_secs(15 * 60),
            idle: Duration::from_secs(5 * 60),
            overall: None,
        }
    }
}

/// How [`Client::edit`](crate::Client::edit) reaches the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EditMode {
    /// Generations with data URLs when the base URL is Ark's (its path ends with `/api/v3`),
    /// multipart `/images/edits` otherwise (relays). The default.
    #[default]
    Auto,
    /// Always multipart `POST {base}/images/edits`.
    Multipart,
    /// Always `POST {base}/images/generations` with the images as data URLs.
    Generations,
}
