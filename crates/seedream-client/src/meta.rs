//! [`ResponseMeta`]: what came with an answer besides its body (status, request id, attempts, whether
//! the emulator made it).

use http::header::{AsHeaderName, HeaderName};
use http::{HeaderMap, HeaderValue};

/// The header that carries the service's request id.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The header `seedream-emulator` puts on every answer (its `SYNTHETIC_HEADER`).
pub(crate) const SYNTHETIC: HeaderName = HeaderName::from_static("x-emulator-synthetic");

/// What came with a response besides its body.
///
/// Built by the client; hosts and tests that need one make it with [`ResponseMeta::new`] and the
/// `with_*` setters (fields may be added, so the struct cannot be written out literally).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// `x-request-id`, when the service sent one.
    pub request_id: Option<String>,
    /// The HTTP status of the last attempt.
    pub status: u16,
    /// How many attempts the call took (1 = no retry).
    pub attempts: u32,
    /// The answer came from `seedream-emulator` (it sent `x-emulator-synthetic`), not the service:
    /// its images are synthetic. `false` for the service and any other server.
    pub synthetic: bool,
}

impl ResponseMeta {
    /// The meta of a first-attempt answer with `status` and no request id.
    pub fn new(status: u16) -> Self {
        Self { request_id: None, status, attempts: 1, synthetic: false }
    }

    /// The same meta with `request_id` set.
    pub fn with_request_id(self, request_id: impl Into<Option<String>>) -> Self {
        Self { request_id: request_id.into(), ..self }
    }

    /// The same meta with `attempts` set (1 = no retry).
    pub fn with_attempts(self, attempts: u32) -> Self {
        Self { attempts, ..self }
    }

    /// The same meta with `synthetic` set (`true`: the emulator answered).
    pub fn with_synthetic(self, synthetic: bool) -> Self {
        Self { synthetic, ..self }
    }

    /// The meta of an answer with these headers, after `attempts` attempts.
    pub(crate) fn of(status: http::StatusCode, headers: &HeaderMap, attempts: u32) -> Self {
        // One pass over the few headers of an answer: cheaper than two hashed lookups of custom names.
        let mut meta = Self::new(status.as_u16()).with_attempts(attempts);
        for (name, value) in headers {
            if *name == REQUEST_ID && meta.request_id.is_none() {
                meta.request_id = text_of(value);
            } else if *name == SYNTHETIC {
                meta.synthetic = true;
            }
        }
        meta
    }
}

/// A header's value as trimmed text; `None` when absent, empty or not text.
pub(crate) fn header_text(headers: &HeaderMap, name: impl AsHeaderName) -> Option<String> {
    headers.get(name).and_then(text_of)
}

/// A header value as trimmed text; `None` when empty or not text.
fn text_of(value: &HeaderValue) -> Option<String> {
    value.to_str().ok().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}
