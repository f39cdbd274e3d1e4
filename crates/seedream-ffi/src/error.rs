//! `seedream_error`: what went wrong in a failed call — result code, HTTP status, the service's
//! code, message and request id, and for invalid requests every violation.

use std::any::Any;
use std::ffi::{CString, c_char};

use seedream_types::ValidationError;

use crate::ffi::{c_string, ffi_fn, free_c, panic_message, try_ref};
use crate::result::seedream_result;
use crate::violation::{Violations, violation_field};

/// The internal result type of fallible calls; the error is boxed because it is handed to C as is.
pub(crate) type FfiResult<T> = Result<T, Box<seedream_error>>;

/// A failed call's details. Written to a call's `error_out` parameter when that is not NULL; the
/// caller owns it and frees it with `seedream_error_free`. Immutable: safe to read from several
/// threads. Strings it returns live as long as the error.
#[allow(non_camel_case_types)]
pub struct seedream_error {
    pub(crate) code: seedream_result,
    pub(crate) http_status: u16,
    pub(crate) message: CString,
    pub(crate) api_code: CString,
    pub(crate) request_id: CString,
    pub(crate) client_request_id: CString,
    pub(crate) param: CString,
    pub(crate) retryable: bool,
    pub(crate) retry_after_ms: u64,
    pub(crate) violations: Violations,
}

impl std::fmt::Debug for seedream_error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("seedream_error")
            .field("code", &self.code)
            .field("http_status", &self.http_status)
            .field("message", &self.message)
            .field("api_code", &self.api_code)
            .field("request_id", &self.request_id)
            .field("client_request_id", &self.client_request_id)
            .finish_non_exhaustive()
    }
}

impl seedream_error {
    /// An error with a code and a message, nothing else.
    pub(crate) fn new(code: seedream_result, message: impl Into<String>) -> Box<Self> {
        Box::new(Self {
            code,
            http_status: 0,
            message: c_string(message),
            api_code: CString::default(),
            request_id: CString::default(),
            client_request_id: CString::default(),
            param: CString::default(),
            retryable: false,
            retry_after_ms: 0,
            violations: Violations::default(),
        })
    }

    /// A required pointer was NULL.
    pub(crate) fn null_parameter(name: &str) -> Box<Self> {
        Self::new(seedream_result::NullParameter, format!("{name} must not be NULL"))
    }

    /// An argument out of range or not UTF-8.
    pub(crate) fn invalid_argument(message: impl Into<String>) -> Box<Self> {
        Self::new(seedream_result::InvalidArgument, message)
    }

    /// A panic caught at the boundary.
    pub(crate) fn panic(payload: &(dyn Any + Send)) -> Box<Self> {
        let message = format!("internal error, please report it: {}", panic_message(payload));
        Self::new(seedream_result::Panic, message)
    }

    /// The result code.
    pub(crate) fn code(&self) -> seedream_result {
        self.code
    }

    /// A request that breaks the model's rules.
    pub(crate) fn validation(error: &ValidationError) -> Box<Self> {
        let mut this = Self::new(seedream_result::InvalidRequest, error.to_string());
        this.violations = Violations::new(&error.violations);
        this
    }
}

impl seedream_error {
    /// Any error of the client, mapped to the most precise result code.
    pub(crate) fn from_client(error: &::seedream_client::Error) -> Box<Self> {
        use ::seedream_client::Error;
        let code = match error {
            Error::Validation(validation) => return Self::validation(validation),
            Error::Api(api) => api_result(api.class),
            Error::Timeout { .. } => seedream_result::Timeout,
            Error::Transport(_) => seedream_result::Transport,
            Error::Decode { .. } => seedream_result::Decode,
            Error::BodyTooLarge { .. } => seedream_result::BodyTooLarge,
            Error::Config(_) => seedream_result::Config,
            Error::Io(_) => seedream_result::Io,
            _ => seedream_result::Other,
        };
        let mut this = Self::new(code, seedream_client::text::with_causes(error));
        this.retryable = error.is_retryable();
        this.client_request_id = c_string(error.client_request_id().unwrap_or_default());
        if let Some(api) = error.api() {
            this.http_status = api.status;
            this.api_code = c_string(api.code.as_str());
            this.request_id = c_string(api.request_id.clone().unwrap_or_default());
            this.param = c_string(api.param.clone().unwrap_or_default());
            this.retry_after_ms = api.retry_after.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        }
        this
    }
}

/// The result code for an API error of a class.
fn api_result(class: seedream_types::ErrorClass) -> seedream_result {
    use seedream_types::ErrorClass;
    match class {
        ErrorClass::Authentication => seedream_result::Authentication,
        ErrorClass::RateLimited => seedream_result::RateLimited,
        ErrorClass::QuotaExhausted => seedream_result::QuotaExhausted,
        ErrorClass::ServerError => seedream_result::ServerError,
        ErrorClass::SensitiveContent => seedream_result::ContentRejected,
        _ => seedream_result::Api,
    }
}

/// The result code of the failed call (never `SEEDREAM_RESULT_OK`). NULL gives
/// `SEEDREAM_RESULT_NULL_PARAMETER`.
///
/// `error` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_code(error: *const seedream_error) -> seedream_result {
    try_ref!(error).code
}

/// A human-readable message: what failed and why, with the service's message for API errors.
/// Never contains the API key. NULL when `error` is NULL.
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_message(error: *const seedream_error) -> *const c_char {
    try_ref!(error).message.as_ptr()
}

/// The HTTP status of an API error (such as 401 or 429); 0 when the error did not come from the
/// service (an error event inside a stream carries the stream's status, 200).
///
/// `error` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_http_status(error: *const seedream_error) -> u16 {
    try_ref!(error).http_status
}

/// The service's error code, such as `QuotaExceeded`; "" when there is none.
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_api_code(error: *const seedream_error) -> *const c_char {
    try_ref!(error).api_code.as_ptr()
}

/// The service's request id (`x-request-id`), to quote in a support ticket; "" when there is none.
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_request_id(error: *const seedream_error) -> *const c_char {
    try_ref!(error).request_id.as_ptr()
}

/// The `X-Client-Request-Id` the failed call sent (the same on each of its retries), to quote in a
/// support ticket when no answer came (a timeout, a failed connection); "" when nothing was sent (an
/// invalid request, a bad setting).
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_client_request_id(error: *const seedream_error) -> *const c_char {
    try_ref!(error).client_request_id.as_ptr()
}

/// The request field the service blamed (`param`); "" when it named none.
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_param(error: *const seedream_error) -> *const c_char {
    try_ref!(error).param.as_ptr()
}

/// Whether sending the same request again later can succeed (rate limits, 5xx, connect failures).
/// The client has already retried as configured before returning the error.
///
/// `error` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_is_retryable(error: *const seedream_error) -> bool {
    try_ref!(error).retryable
}

/// How long the service asked to wait before retrying (`Retry-After`), in milliseconds; 0 when it
/// did not say.
///
/// `error` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_retry_after_ms(error: *const seedream_error) -> u64 {
    try_ref!(error).retry_after_ms
}

/// For `SEEDREAM_RESULT_INVALID_REQUEST`: how many rules the request breaks; 0 otherwise.
///
/// `error` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_violation_count(error: *const seedream_error) -> usize {
    try_ref!(error).violations.len()
}

/// The field path of violation `index` (such as `size` or `image[3]`); NULL when `index` is out of range.
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_violation_field(error: *const seedream_error, index: usize) -> *const c_char {
    violation_field(&try_ref!(error).violations, index, |v| &v.field)
}

/// The rule violation `index` breaks, as a short word: `required`, `range`, `value`, `unsupported`,
/// `size`, `count`, `image` or `length` (as `seedream_validation_violation_code`); NULL when `index` is
/// out of range.
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_violation_code(error: *const seedream_error, index: usize) -> *const c_char {
    violation_field(&try_ref!(error).violations, index, |v| &v.code)
}

/// The message of violation `index` (the rule and the accepted values); NULL when `index` is out of range.
///
/// `error` is borrowed for the call only. The string is valid until `error` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_violation_message(error: *const seedream_error, index: usize) -> *const c_char {
    violation_field(&try_ref!(error).violations, index, |v| &v.message)
}

/// Frees an error. NULL is a no-op. The error and its strings must not be used afterwards.
///
/// Consumes `error`: it and everything borrowed from it are invalid afterwards.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_error_free(error: *mut seedream_error) {
    // SAFETY: the caller passes NULL or an error from this library, once.
    unsafe { free_c(error) }
}
