//! Base64 decoding alone: the client's decoder (`seedream_client::decode`; hand-written AVX2 until
//! these figures chose `base64-simd` for it, now `base64-simd` with our error reporting) against the
//! `base64-simd` crate alone on the same 25 MB of base64 text (random bytes, fixed seed), in this
//! process, rounds alternating the order: a guard that the wrapper costs nothing.
//!
//! Two pairs, each decoding into memory of the same kind:
//! - into memory already touched: `decode_b64_owned` on a copy of the text made before the clock
//!   starts (it decodes in place, in the copy's memory) against `base64-simd` into one buffer
//!   allocated and touched once (the key `base64_simd_ratio_to_hand_avx2`);
//! - into fresh memory: `decode_b64`, which allocates its output, against `base64-simd` into a new
//!   `vec![0; n]` each time (page faults included, as in a real answer).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const CLIENT_DECODE_IN_PLACE: &str = "seedream-client decode_b64_owned (in place)";
pub const SIMD: &str = "base64-simd (preallocated buffer)";
pub const CLIENT_DECODE_FRESH: &str = "seedream-client decode_b64 (fresh output)";
pub const SIMD_FRESH: &str = "base64-simd (fresh vec![0; n])";

/// Characters of base64 text decoded by each contender.
pub const TEXT_BYTES: usize = 25_000_000;

/// Decodes per contender per round; the round keeps the fastest (the least disturbed by other work).
const REPEATS: usize = 3;

/// `rounds` rounds; returns `{"text_bytes", "decoded_bytes", "rounds": [{name: {"text_gbps"}}]}`.
pub fn run(rounds: usize) -> Result<Value, String> {
    let mut rng = fastrand::Rng::with_seed(0x0b64_5eed);
    let mut bytes = vec![0u8; TEXT_BYTES / 4 * 3];
    rng.fill(&mut bytes);
    let text = base64_simd::STANDARD.encode_to_string(&bytes);
    assert_eq!(text.len(), TEXT_BYTES);
    let mut buffer = vec![0u8; bytes.len()];
    let names = [CLIENT_DECODE_IN_PLACE, SIMD, CLIENT_DECODE_FRESH, SIMD_FRESH];
    let mut measured = Vec::new();
    for round in 0..rounds {
        let mut row = serde_json::Map::new();
        for i in 0..names.len() {
            let name = names[(round + i) % names.len()];
            let mut best = Duration::MAX;
            for _ in 0..REPEATS {
                let (time, decoded) = decode_once(name, &text, &mut buffer)?;
                if decoded != bytes {
                    return Err(format!("{name} decoded other bytes"));
                }
                best = best.min(time);
            }
            row.insert(name.to_owned(), json!({ "text_gbps": TEXT_BYTES as f64 / best.as_secs_f64() / 1e9 }));
        }
        eprintln!(
            "  base64 round {}/{rounds}: {}",
            round + 1,
            names
                .iter()
                .map(|name| format!("{name} {:.2} GB/s", row[*name]["text_gbps"].as_f64().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        measured.push(Value::Object(row));
    }
    Ok(json!({ "text_bytes": TEXT_BYTES, "decoded_bytes": bytes.len(), "rounds": measured }))
}

/// One timed decode of `text` by `name`; returns the time and the bytes (checked outside the clock).
fn decode_once(name: &str, text: &str, buffer: &mut [u8]) -> Result<(Duration, Vec<u8>), String> {
    let error = |e: &dyn std::fmt::Display| format!("{name}: {e}");
    Ok(match name {
        CLIENT_DECODE_IN_PLACE => {
            let copy = text.to_owned();
            let start = Instant::now();
            let decoded = seedream_client::decode::decode_b64_owned(copy).map_err(|e| error(&e))?;
            (start.elapsed(), decoded.to_vec())
        }
        SIMD => {
            let start = Instant::now();
            let len = base64_simd::STANDARD
                .decode(text.as_bytes(), base64_simd::Out::from_slice(buffer))
                .map_err(|e| error(&e))?
                .len();
            (start.elapsed(), buffer[..len].to_vec())
        }
        CLIENT_DECODE_FRESH => {
            let start = Instant::now();
            let decoded = seedream_client::decode::decode_b64(text).map_err(|e| error(&e))?;
            (start.elapsed(), decoded.to_vec())
        }
        SIMD_FRESH => {
            let start = Instant::now();
            let mut out = vec![0u8; text.len() / 4 * 3];
            let len = base64_simd::STANDARD
                .decode(text.as_bytes(), base64_simd::Out::from_slice(&mut out))
                .map_err(|e| error(&e))?
                .len();
            out.truncate(len);
            (start.elapsed(), out)
        }
        other => return Err(format!("unknown base64 contender {other:?}")),
    })
}
