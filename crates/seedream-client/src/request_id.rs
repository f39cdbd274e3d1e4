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
    // One per call: the timestamp is written once a second per thread, and the random part comes
    // from two draws rather than one per character.
    let mut id = [0u8; 14 + RANDOM_LEN];
    id[..14].copy_from_slice(&timestamp_now());
    let (first, second) = id[14..].split_at_mut(RANDOM_LEN / 2);
    alphanumerics(fastrand::u64(..), first);
    alphanumerics(fastrand::u64(..), second);
    // Owned by its `Bytes` from the start: the copies a call makes (its request's header, each
    // attempt's) then share it without allocating.
    HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(id))
        .expect("digits and ASCII letters are a valid header value")
}

const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base-62 digits of `random`, read as a fraction of 2⁶⁴, into `out` (10 of them use 60 of its 64
/// bits): each digit is the whole part of the fraction times 62, a multiplication where `%` and `/`
/// would take two.
fn alphanumerics(mut random: u64, out: &mut [u8]) {
    for byte in out {
        let scaled = u128::from(random) * 62;
        *byte = ALPHANUMERIC[(scaled >> 64) as usize];
        random = scaled as u64;
    }
}

/// `yyyyMMddHHmmss` of now (UTC), remembered for the rest of the second.
fn timestamp_now() -> [u8; 14] {
    thread_local! {
        static LAST: std::cell::Cell<(u64, [u8; 14])> = const { std::cell::Cell::new((u64::MAX, [0; 14])) };
    }
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs());
    LAST.with(|last| {
        let (second, text) = last.get();
        if second == unix {
            return text;
        }
        let text = timestamp(UtcTime::from_unix(unix as i64));
        last.set((unix, text));
        text
    })
}

/// `yyyyMMddHHmmss`: [`UtcTime::basic`] without its `T` and `Z` (made once a second, so its
/// allocation does not count).
fn timestamp(now: UtcTime) -> [u8; 14] {
    let mut text = [b'0'; 14];
    for (slot, digit) in text.iter_mut().zip(now.basic().bytes().filter(u8::is_ascii_digit)) {
        *slot = digit;
    }
    text
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

    #[test]
    fn timestamps_are_utc_digits() {
        // 2026-12-03 14:15:02 UTC
        assert_eq!(&timestamp(UtcTime::from_unix(1_796_307_302)), b"20261203141502");
        assert_eq!(&timestamp(UtcTime::from_unix(0)), b"19700101000000");
    }

    #[test]
    fn random_parts_use_every_letter_and_digit() {
        let mut seen = [false; 62];
        for _ in 0..200 {
            let id = new_client_request_id();
            for byte in id[14..].bytes() {
                seen[ALPHANUMERIC.iter().position(|&known| known == byte).unwrap()] = true;
            }
        }
        assert!(seen.iter().all(|&s| s), "{seen:?}");
    }
}
