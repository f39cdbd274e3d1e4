//! `X-Client-Request-Id`: the id the official SDKs (2026 line) send with every call, so a call that
//! never got an answer (a timeout, a reset connection) can still be named to support.

use http::{HeaderName, HeaderValue};
use seedream_types::time::UtcTime;

/// The header the id travels in (the emulator echoes it back under the same name).
pub(crate) const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

/// How many random letters and digits follow the timestamp, as the official SDKs write it.
const RANDOM_LEN: usize = 20;

/// A new `X-Client-Request-Id` in the official SDKs' form: `yyyyMMddHHmmss` (UTC) and 20 random
/// letters and digits, such as `20261203141502a8Xk2P0qLm4ZbT7cW1nRy`. The client makes one per call
/// by itself; this is for a caller that records the id first (see
/// [`Client::with_client_request_id`](crate::Client::with_client_request_id)).
pub fn new_client_request_id() -> String {
    new_client_request_id_value().to_str().unwrap_or_default().to_owned()
}

/// [`new_client_request_id`] as a header value.
pub(crate) fn new_client_request_id_value() -> HeaderValue {
    // Written digit by digit: one per call, where `format!` would cost more than the rest of the
    // request's headers.
    let now = UtcTime::now();
    let mut id = [0u8; 14 + RANDOM_LEN];
    let fields = [
        (now.year.clamp(0, 9999) as u32, 4),
        (now.month, 2),
        (now.day, 2),
        (now.hour, 2),
        (now.minute, 2),
        (now.second, 2),
    ];
    let mut at = 0;
    for (value, width) in fields {
        let mut rest = value;
        for place in (at..at + width).rev() {
            id[place] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        at += width;
    }
    for byte in &mut id[14..] {
        *byte = fastrand::alphanumeric() as u8;
    }
    HeaderValue::from_bytes(&id).expect("digits and ASCII letters are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_sdk_form_and_differ() {
        let first = new_client_request_id();
        let second = new_client_request_id();
        let text = first.as_str();
        assert_eq!(text.len(), 14 + RANDOM_LEN, "{text}");
        assert!(text[..14].bytes().all(|b| b.is_ascii_digit()), "{text}");
        assert!(text[..4] >= *"2025" && (1..=12).contains(&text[4..6].parse::<u32>().unwrap()), "{text}");
        assert!(text[14..].bytes().all(|b| b.is_ascii_alphanumeric()), "{text}");
        assert_ne!(first, second);
    }
}
