//! The SSE decoder gives the same events for any split of the same bytes, whatever the line endings,
//! comments and multi-line data, and those events are the ones that were written.

use proptest::prelude::*;
use seedream_client::sse::{SseDecoder, SseEvent};

#[derive(Debug, Clone)]
struct Written {
    event: Option<String>,
    data_lines: Vec<String>,
    comment: Option<String>,
}

fn written() -> impl Strategy<Value = Written> {
    let text = "[a-zA-Z0-9{}\":,. \\[\\]_-]{0,24}";
    (prop::option::of("[a-z_.]{1,30}"), prop::collection::vec(text, 1..4), prop::option::of(text))
        .prop_map(|(event, data_lines, comment)| Written { event, data_lines, comment })
}

fn render(events: &[Written], eol: &str) -> Vec<u8> {
    let mut out = String::new();
    for e in events {
        if let Some(comment) = &e.comment {
            out.push_str(&format!(":{comment}{eol}"));
        }
        if let Some(name) = &e.event {
            out.push_str(&format!("event: {name}{eol}"));
        }
        for line in &e.data_lines {
            out.push_str(&format!("data: {line}{eol}"));
        }
        out.push_str(eol);
    }
    out.into_bytes()
}

fn decode_in_pieces(bytes: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let mut start = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        events.extend(decoder.feed(&bytes[start..point]));
        start = point;
    }
    events.extend(decoder.finish());
    events
}

proptest! {
    #[test]
    fn any_split_gives_the_written_events(
        events in prop::collection::vec(written(), 1..6),
        eol in prop::sample::select(vec!["\n", "\r\n", "\r"]),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes = render(&events, eol);
        let decoded = decode_in_pieces(&bytes, &cuts);
        let whole = decode_in_pieces(&bytes, &[]);
        prop_assert_eq!(&decoded, &whole);
        prop_assert_eq!(decoded.len(), events.len());
        for (got, want) in decoded.iter().zip(&events) {
            prop_assert_eq!(&got.event, &want.event);
            prop_assert_eq!(&got.data, &want.data_lines.join("\n"));
        }
    }

    #[test]
    fn arbitrary_bytes_split_anywhere_decode_alike(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        prop_assert_eq!(decode_in_pieces(&bytes, &cuts), decode_in_pieces(&bytes, &[]));
    }
}
