//! The crate's one error type: every way a call can fail, as variants a caller can act on.

use std::fmt;
use std::time::Duration;

use seedream_types::response::ParseError;
use seedream_types::{ErrorClass, Moderation, ValidationError};

use crate::transport::TransportError;

/// Everything a [`Client`](crate::Client) call can fail with.
///
/// Never contains the API key: not in its `Display`, not in its `Debug`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request breaks the model's rules; nothing was sent. Lists every violated field.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The service answered with an error status (or an error event inside a stream).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A time limit ran out: `phase` says which limit, `during` what the call was doing then
    /// (connecting, waiting for the headers, reading the body or the stream, downloading an image).
    #[error("{}", timeout_text(*phase, *during))]
    Timeout {
        /// The time limit that ran out.
        phase: TimeoutPhase,
        /// What the call was doing when it ran out.
        during: CallPhase,
        /// The `X-Client-Request-Id` the call sent (`None` for downloads), so a call that got no
        /// answer can still be named to support.
        client_request_id: Option<String>,
    },
    /// The connection failed (connect, TLS, reset, protocol error).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A `2xx` body that is not what it should be; carries the body's first bytes so an HTML page
    /// from a proxy can be read.
    #[error("the response could not be decoded ({reason}); the body starts with: {body_start:?}")]
    Decode {
        /// What went wrong.
        reason: String,
        /// Up to the first 512 bytes of the body, as text.
        body_start: String,
    },
    /// The response body is larger than the configured limit.
    #[error("the response body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The client is configured wrongly (bad base URL, missing key, bad header, bad certificate).
    #[error("configuration error: {0}")]
    Config(String),
    /// A local file operation failed (saving an image).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Whether sending the same request again later can succeed: retryable API errors (rate limits,
    /// 500/502/503/504), connect failures and connect timeouts. Everything the service may already
    /// have acted on (a time-to-headers timeout, a connection reset after sending) is not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => api.is_retryable(),
            Error::Timeout { phase, .. } => *phase == TimeoutPhase::Connect,
            Error::Transport(transport) => transport.is_connect(),
            _ => false,
        }
    }

    /// The service's request id, when the error came from the service.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.request_id.as_deref(),
            _ => None,
        }
    }

    /// The `X-Client-Request-Id` the failed call sent, for API errors, timeouts and transport
    /// failures of API calls (not downloads, and not requests refused before sending).
    pub fn client_request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.client_request_id.as_deref(),
            Error::Timeout { client_request_id, .. } => client_request_id.as_deref(),
            Error::Transport(transport) => transport.client_request_id(),
            _ => None,
        }
    }

    /// The same error naming the call's `X-Client-Request-Id`, unless it already names one.
    pub(crate) fn with_client_request_id(mut self, id: Option<&str>) -> Self {
        let Some(id) = id else { return self };
        match &mut self {
            Error::Api(api) if api.client_request_id.is_none() => api.client_request_id = Some(id.to_owned()),
            Error::Timeout { client_request_id: slot @ None, .. } => *slot = Some(id.to_owned()),
            Error::Transport(transport) if transport.client_request_id().is_none() => {
                transport.set_client_request_id(id.to_owned());
            }
            _ => {}
        }
        self
    }

    /// The moderation refusal this is (the prompt, an input image, a generated image), if it is one.
    pub fn moderation(&self) -> Option<&Moderation> {
        self.api().and_then(|api| api.moderation.as_ref())
    }

    /// The same error knowing the request sent `images` reference images (see
    /// [`ApiError::with_input_images`]).
    pub(crate) fn with_input_images(self, images: usize) -> Self {
        match self {
            Error::Api(api) => Error::Api(Box::new(api.with_input_images(images))),
            other => other,
        }
    }

    /// The API error, when this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    pub(crate) fn decode(error: ParseError) -> Self {
        Error::Decode { reason: error.reason, body_start: error.body_start }
    }

    pub(crate) fn timeout(phase: TimeoutPhase, during: CallPhase) -> Self {
        Error::Timeout { phase, during, client_request_id: None }
    }
}

/// `timed out waiting for the response headers`, `the overall deadline passed while reading the stream`.
fn timeout_text(phase: TimeoutPhase, during: CallPhase) -> String {
    match (phase, during) {
        (TimeoutPhase::Overall, during) => format!("the overall deadline passed while {during}"),
        (TimeoutPhase::Idle, CallPhase::Stream) => format!("timed out waiting for {phase} (the next stream event)"),
        (_, CallPhase::Download) => format!("timed out waiting for {phase} of an image download"),
        (phase, _) => format!("timed out waiting for {phase}"),
    }
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Error::Api(Box::new(error))
    }
}

/// An error answer from the service.
///
/// The client builds these; hosts and tests that need one (a fake transport's error, a test of
/// error handling) use [`ApiError::new`] and the `with_*` setters, since fields may be added.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status (200 for an error event inside a stream).
    pub status: u16,
    /// The service's code, such as `InvalidParameter`; empty when the body was not JSON.
    pub code: String,
    /// The service's message, or the text of a non-JSON body (an HTML error page).
    pub message: String,
    /// The request field at fault, when the service names one.
    pub param: Option<String>,
    /// `x-request-id`, or the id the service puts at the end of its message.
    pub request_id: Option<String>,
    /// The `X-Client-Request-Id` the call sent.
    pub client_request_id: Option<String>,
    /// What the error means for the caller.
    pub class: ErrorClass,
    /// How long the service asked to wait (`Retry-After`), when it did.
    pub retry_after: Option<Duration>,
    /// Where a `3xx` answer pointed (`Location`): the client follows no redirect, so a base URL that
    /// moved shows up here.
    pub location: Option<String>,
    /// For a moderation refusal: the prompt or which image it was about (never retried).
    pub moderation: Option<Moderation>,
}

impl ApiError {
    /// An error answer with `status`, the service's `code` (empty when it gave none) and `message`;
    /// its [`class`](Self::class) from the status and code ([`ErrorClass::classify`]), no param,
    /// request id, `Retry-After` or redirect.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        Self {
            status,
            class: ErrorClass::classify(Some(status), &code),
            code,
            message: message.into(),
            param: None,
            request_id: None,
            client_request_id: None,
            retry_after: None,
            location: None,
            moderation: None,
        }
        .read_moderation()
    }

    /// Reads [`moderation`](Self::moderation) from the code, param and message.
    fn read_moderation(self) -> Self {
        let moderation = Moderation::of(&self.code, self.param.as_deref(), &self.message);
        Self { moderation, ..self }
    }

    /// The same error with the request field at fault (`None`: none named).
    pub fn with_param(self, param: impl Into<Option<String>>) -> Self {
        Self { param: param.into(), ..self }.read_moderation()
    }

    /// The same error knowing the request sent `images` reference images: a refused input image
    /// the answer did not name is the only one, when there was only one.
    pub fn with_input_images(self, images: usize) -> Self {
        let moderation = self.moderation.map(|m| m.with_input_images(images));
        Self { moderation, ..self }
    }

    /// The same error with the service's request id.
    pub fn with_request_id(self, request_id: impl Into<Option<String>>) -> Self {
        Self { request_id: request_id.into(), ..self }
    }

    /// The same error with the `X-Client-Request-Id` of the call.
    pub fn with_client_request_id(self, client_request_id: impl Into<Option<String>>) -> Self {
        Self { client_request_id: client_request_id.into(), ..self }
    }

    /// The same error with another class than the one [`new`](Self::new) derived.
    pub fn with_class(self, class: ErrorClass) -> Self {
        Self { class, ..self }
    }

    /// The same error with the wait the service asked for (`Retry-After`).
    pub fn with_retry_after(self, retry_after: impl Into<Option<Duration>>) -> Self {
        Self { retry_after: retry_after.into(), ..self }
    }

    /// The same error with where a `3xx` answer pointed (`Location`).
    pub fn with_location(self, location: impl Into<Option<String>>) -> Self {
        Self { location: location.into(), ..self }
    }

    /// Whether a retry can succeed: 429 rate limits (not quota) and 500/502/503/504.
    pub fn is_retryable(&self) -> bool {
        match self.status {
            429 => self.class == ErrorClass::RateLimited,
            500 | 502 | 503 | 504 => true,
            // An in-stream error carries the 200 of the stream; go by its code.
            200 => self.class.is_retryable(),
            _ => false,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the service answered {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(param) = self.param.as_deref().filter(|p| !p.is_empty()) {
            write!(f, " (param {param})")?;
        }
        if let Some(location) = &self.location {
            write!(f, " (redirected to {location}; redirects are not followed)")?;
        }
        if let Some(id) = &self.request_id
            && !self.message.contains(id.as_str())
        {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// What a call was doing when a time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallPhase {
    /// Opening the connection (TCP, TLS, a proxy's tunnel).
    Connect,
    /// Sending the request and waiting for the response headers.
    Headers,
    /// Reading a JSON response body.
    Body,
    /// Reading the events of a stream.
    Stream,
    /// Downloading an image (any part of it).
    Download,
}

impl CallPhase {
    /// A one-word name: `connect`, `headers`, `body`, `stream`, `download`.
    pub fn name(self) -> &'static str {
        match self {
            CallPhase::Connect => "connect",
            CallPhase::Headers => "headers",
            CallPhase::Body => "body",
            CallPhase::Stream => "stream",
            CallPhase::Download => "download",
        }
    }
}

impl fmt::Display for CallPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallPhase::Connect => "connecting",
            CallPhase::Headers => "waiting for the answer",
            CallPhase::Body => "reading the answer",
            CallPhase::Stream => "reading the stream",
            CallPhase::Download => "downloading an image",
        })
    }
}

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutPhase {
    /// Opening the connection (TCP and TLS).
    Connect,
    /// Waiting for the response headers after sending the request.
    Headers,
    /// Waiting for the next piece of the body.
    Idle,
    /// The whole call, retries included (the client's overall limit, or the deadline of
    /// [`Client::with_deadline`](crate::Client::with_deadline)).
    Overall,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "the connection",
            TimeoutPhase::Headers => "the response headers",
            TimeoutPhase::Idle => "more of the response body",
            TimeoutPhase::Overall => "the whole call (overall deadline)",
        })
    }
}
