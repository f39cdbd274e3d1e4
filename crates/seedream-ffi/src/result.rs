//! `seedream_result`: the one result code every fallible function returns, and its name.

use std::ffi::{CStr, c_char, c_int};

use crate::ffi::ffi_fn;

/// The result of a call. `SEEDREAM_RESULT_OK` (0) is success; every other value is a failure,
/// described further by the `seedream_error` object the call writes when asked to.
/// The values are fixed: new codes may be added, existing ones never change.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum seedream_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// An argument is out of range or not valid UTF-8 (an image index past the end, 0 attempts, ...).
    InvalidArgument = 2,
    /// The request JSON does not parse, or is not the shape of a request (`model`/`prompt` missing,
    /// a field of the wrong type).
    InvalidJson = 3,
    /// The request breaks the model's rules; nothing was sent. The error lists every violation.
    InvalidRequest = 4,
    /// The client configuration is wrong (no API key, bad base URL, bad header or certificate).
    Config = 5,
    /// The asked-for value is not there (no usage in the response, a URL image that was not
    /// downloaded, the bytes of a failed image).
    NotAvailable = 6,
    /// The service answered with an error this list has no more precise code for (such as 400
    /// `InvalidParameter`, 403, 404).
    Api = 10,
    /// 401 `AuthenticationError`: the API key is missing or wrong.
    Authentication = 11,
    /// 429 rate limit or overload: retry later (the client already retried as configured).
    RateLimited = 12,
    /// 429 `QuotaExceeded` / `SetLimitExceeded`: retrying cannot help.
    QuotaExhausted = 13,
    /// 5xx: the service failed (the client already retried as configured).
    ServerError = 14,
    /// 400 `*SensitiveContentDetected`: the prompt, an input or the output failed moderation.
    ContentRejected = 15,
    /// A time limit ran out (connect, response headers, idle body, or the overall deadline).
    Timeout = 20,
    /// The connection failed (connect, TLS, reset, protocol error).
    Transport = 21,
    /// A success answer whose body is not what it should be (not JSON, bad base64).
    Decode = 22,
    /// The response is larger than the client accepts.
    BodyTooLarge = 23,
    /// A local I/O operation failed.
    Io = 24,
    /// The call was cancelled through its `seedream_cancel`.
    Cancelled = 30,
    /// A blocking call was made from inside a stream callback, where it would deadlock.
    Reentrant = 31,
    /// A bug in the library: a Rust panic was caught at the boundary. The library is still usable.
    Panic = 90,
    /// An error of a kind this version does not name.
    Other = 99,
}

// One table for code → name, so that the names and the values cannot drift apart.
const NAMES: &[(seedream_result, &CStr)] = &[
    (seedream_result::Ok, c"ok"),
    (seedream_result::NullParameter, c"a required pointer argument is NULL"),
    (seedream_result::InvalidArgument, c"invalid argument"),
    (seedream_result::InvalidJson, c"the request JSON is invalid"),
    (seedream_result::InvalidRequest, c"the request breaks the model's rules"),
    (seedream_result::Config, c"the client configuration is invalid"),
    (seedream_result::NotAvailable, c"the value is not available"),
    (seedream_result::Api, c"the service answered with an error"),
    (seedream_result::Authentication, c"authentication failed (API key missing or wrong)"),
    (seedream_result::RateLimited, c"rate limited"),
    (seedream_result::QuotaExhausted, c"quota exhausted"),
    (seedream_result::ServerError, c"the service failed"),
    (seedream_result::ContentRejected, c"content rejected by moderation"),
    (seedream_result::Timeout, c"timed out"),
    (seedream_result::Transport, c"connection failed"),
    (seedream_result::Decode, c"the response could not be decoded"),
    (seedream_result::BodyTooLarge, c"the response is too large"),
    (seedream_result::Io, c"I/O error"),
    (seedream_result::Cancelled, c"cancelled"),
    (seedream_result::Reentrant, c"called from inside a stream callback"),
    (seedream_result::Panic, c"internal error (panic caught)"),
    (seedream_result::Other, c"other error"),
];

impl seedream_result {
    /// A short English description of the code.
    pub fn name(self) -> &'static str {
        NAMES.iter().find(|(code, _)| *code == self).and_then(|(_, text)| text.to_str().ok()).unwrap_or("other error")
    }
}

/// A short English description of a result code, such as "timed out", for logs.
/// Takes an `int` so that any value is safe to pass; an unknown value gives "unknown result code".
/// The string is static: never free it.
#[ffi_fn]
#[unsafe(no_mangle)]
pub extern "C" fn seedream_result_name(result: c_int) -> *const c_char {
    NAMES
        .iter()
        .find(|(code, _)| *code as c_int == result)
        .map_or(c"unknown result code".as_ptr(), |(_, text)| text.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_name() {
        let mut seen = std::collections::HashSet::new();
        for (code, text) in NAMES {
            assert!(seen.insert(*text), "{code:?}");
            let named = unsafe { CStr::from_ptr(seedream_result_name(*code as c_int)) };
            assert_eq!(named, *text);
        }
        assert_eq!(NAMES.len(), 22);
        let unknown = unsafe { CStr::from_ptr(seedream_result_name(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown result code");
        assert_eq!(seedream_result::Timeout.name(), "timed out");
    }
}
