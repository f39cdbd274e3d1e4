//! A standalone, incremental decoder for server-sent events (the `text/event-stream` format).
//!
//! Feed it bytes as they arrive, cut anywhere; it returns each complete event. Handles LF, CRLF
//! and CR line ends (a CRLF split across two chunks included), `:` comments, multi-line `data`,
//! a leading byte-order mark, and `event`/`id`/`retry` fields. It knows nothing about JSON or
//! `[DONE]`: that is the image stream's business. No I/O, so it can be fuzzed and property-tested.
//!
//! ```
//! use seedream_client::sse::SseDecoder;
//!
//! let mut decoder = SseDecoder::new();
//! let mut events = decoder.feed(b"event: a\r\ndata: {\"x\"");
//! events.extend(decoder.feed(b":1}\r\n\r\n: comment\ndata: [DONE]\n\n"));
//! assert_eq!(events[0].event.as_deref(), Some("a"));
//! assert_eq!(events[0].data, "{\"x\":1}");
//! assert_eq!(events[1].data, "[DONE]");
//! ```

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the event had one (`None` means the default type, `message`).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen so far in the stream, when there was one.
    pub id: Option<String>,
    /// The `retry:` field (milliseconds), when this event had one.
    pub retry: Option<u64>,
}

/// Incremental SSE decoder; see the [module docs](self).
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// An unfinished line carried over from the previous chunk.
    line: Vec<u8>,
    /// The previous chunk ended with CR: an LF at the start of the next one belongs to it.
    after_cr: bool,
    /// No line has been processed yet (a byte-order mark may lead the first one).
    started: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `chunk` and returns the events it completes (possibly none).
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        self.feed_into(chunk, &mut events);
        events
    }

    /// Like [`feed`](Self::feed), appending to `events`.
    pub fn feed_into(&mut self, mut chunk: &[u8], events: &mut Vec<SseEvent>) {
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', chunk) {
            if self.line.is_empty() {
                self.process_line(&chunk[..end], events);
            } else {
                self.line.extend_from_slice(&chunk[..end]);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, events);
                // Keep the allocation for the next long line.
                self.line = line;
                self.line.clear();
            }
            if chunk[end] == b'\r' {
                match chunk.get(end + 1) {
                    Some(b'\n') => chunk = &chunk[end + 2..],
                    Some(_) => chunk = &chunk[end + 1..],
                    None => {
                        self.after_cr = true;
                        chunk = &[];
                    }
                }
            } else {
                chunk = &chunk[end + 1..];
            }
        }
        self.line.extend_from_slice(chunk);
    }

    /// Ends the stream: an unterminated last line is taken as a line, and a pending event is
    /// dispatched even without its blank line (more lenient than the SSE spec, which drops it,
    /// because servers do end with `data: [DONE]` and no blank line).
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, &mut events);
        }
        self.after_cr = false;
        self.dispatch(&mut events);
        events
    }

    /// Whether bytes of an unfinished event are buffered (a stream ending now would lose them
    /// unless [`finish`](Self::finish) is called).
    pub fn has_pending(&self) -> bool {
        !self.line.is_empty() || self.has_data
    }

    fn process_line(&mut self, mut line: &[u8], events: &mut Vec<SseEvent>) {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(events);
            return;
        }
        if line[0] == b':' {
            return; // comment
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.has_data = true;
                match std::str::from_utf8(value) {
                    Ok(text) => self.data.push_str(text),
                    Err(_) => self.data.push_str(&String::from_utf8_lossy(value)),
                }
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"id" if !value.contains(&0) => self.id = Some(String::from_utf8_lossy(value).into_owned()),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
            }
            _ => {} // unknown fields are ignored, as the spec says
        }
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = self.event.take();
        let retry = self.retry.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        events.push(SseEvent { event, data: std::mem::take(&mut self.data), id: self.id.clone(), retry });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "event: image_generation.partial_succeeded\r\n\
        data: {\"type\":\"image_generation.partial_succeeded\",\"image_index\":0}\r\n\r\n\
        : keep-alive\r\n\
        id: 7\r\n\
        data: first\r\n\
        data: second\r\n\
        \r\n\
        data: [DONE]\r\n\r\n";

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        for chunk in chunks {
            decoder.feed_into(chunk, &mut events);
        }
        events.extend(decoder.finish());
        events
    }

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                event: Some("image_generation.partial_succeeded".into()),
                data: "{\"type\":\"image_generation.partial_succeeded\",\"image_index\":0}".into(),
                id: None,
                retry: None,
            },
            SseEvent { event: None, data: "first\nsecond".into(), id: Some("7".into()), retry: None },
            SseEvent { event: None, data: "[DONE]".into(), id: Some("7".into()), retry: None },
        ]
    }

    #[test]
    fn every_split_point_and_line_ending_gives_the_same_events() {
        for ending in ["\r\n", "\n", "\r"] {
            let text = STREAM.replace("\r\n", ending);
            let bytes = text.as_bytes();
            assert_eq!(decode_all(&[bytes]), expected(), "whole, ending {ending:?}");
            for cut in 0..=bytes.len() {
                assert_eq!(decode_all(&[&bytes[..cut], &bytes[cut..]]), expected(), "cut {cut}, {ending:?}");
            }
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            assert_eq!(decode_all(&singles), expected(), "byte by byte, ending {ending:?}");
        }
    }

    #[test]
    fn field_edge_cases() {
        let events = decode_all(&[b"\xEF\xBB\xBFdata:no-space\n\ndata\n\nevent: x\n\nretry: 1500\ndata:  two\n\n"]);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].data, "no-space");
        assert_eq!(events[1].data, "", "a bare `data` line is an empty data line");
        // `event: x` with no data dispatches nothing and its type does not leak into the next event.
        assert_eq!(events[2].event, None);
        assert_eq!(events[2].data, " two", "only one leading space is removed");
        assert_eq!(events[2].retry, Some(1500));
    }

    #[test]
    fn finish_flushes_an_unterminated_last_event() {
        let mut decoder = SseDecoder::new();
        assert!(decoder.feed(b"data: [DONE]").is_empty());
        assert!(decoder.has_pending());
        assert_eq!(decoder.finish()[0].data, "[DONE]");
        assert!(!decoder.has_pending());
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let events = decode_all(&[b"data: a\xFFb\n\n"]);
        assert_eq!(events[0].data, "a\u{FFFD}b");
    }
}
