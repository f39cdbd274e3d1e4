//! The SSE decoder fed arbitrary bytes in arbitrary chunks: never panics, and gives the same events
//! as when the same bytes arrive in one piece.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seedream_client::sse::SseDecoder;

fuzz_target!(|input: (Vec<u8>, Vec<u16>)| {
    let (bytes, cuts) = input;
    let mut whole = SseDecoder::new();
    let mut expected = whole.feed(&bytes);
    expected.extend(whole.finish());

    let mut points: Vec<usize> = cuts.iter().map(|&c| usize::from(c) % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunked = SseDecoder::new();
    let mut events = Vec::new();
    let mut start = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        events.extend(chunked.feed(&bytes[start..point]));
        start = point;
    }
    events.extend(chunked.finish());
    assert_eq!(events, expected);
});
