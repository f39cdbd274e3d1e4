//! Decoding image responses without needless copies.
//!
//! [`ImagesDecoder`] turns a response body, fed chunk by chunk as it arrives, into an
//! [`ImagesResponse`]. A group of 4K `b64_json` images is about 100 MB of JSON; parsing the whole
//! body with serde would hold the body and a copy of every string at once (twice the size). Instead,
//! each `data[i].b64_json` string is moved straight from the chunks into its own buffer, the small rest
//! of the JSON (the "skeleton", with those strings left empty) is parsed by the one wire model,
//! seedream-types' `ImagesResponse` (so a field added there is decoded here with no change), and the
//! strings are put back. Peak memory stays at about the size of the body.
//!
//! [`decode_b64`] and [`decode_b64_owned`] (from `b64.rs`) turn `b64_json` text into image bytes; the
//! owned one decodes in place, reusing the string's memory.
//!
//! The streaming outputs (`ImagesCall::save_to`, `.stage_in`, `.bytes`) feed the same scanner with an `ImageSink`: the
//! image strings then go to the sink as they arrive (to be decoded into files) instead of buffers, and
//! only the skeleton is kept.

use seedream_types::response::{ParseError, parse_json};
use seedream_types::{ImageItem, ImagesResponse};
use serde_json::Value;

pub use crate::b64::{Base64Error, decode_b64, decode_b64_owned};
use crate::error::Error;

/// Bodies up to this size are parsed in one go: extracting their strings would gain nothing.
const DIRECT_PARSE_LIMIT: usize = 64 * 1024;

/// Where the scanner is in the JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between tokens (or inside a number or literal).
    Structure,
    /// Inside a string that is copied to the skeleton; `start` is where its text begins there.
    Str { start: usize, escape: bool },
    /// Inside a `data[i].b64_json` string that is moved to its own buffer.
    Extract,
    /// Inside a `data[i].b64_json` string that goes to an [`ImageSink`]; `escape` after a `\\` that
    /// ended the last chunk.
    Stream { escape: bool },
}

/// Where `data[i].b64_json` strings go as they arrive when fed with
/// [`ImagesDecoder::feed_streaming`]: the text as it comes, its JSON escapes (`\\/`) resolved.
pub(crate) trait ImageSink {
    /// The string of `data[index].b64_json` starts.
    fn start(&mut self, index: usize) -> Result<(), Error>;
    /// The next piece of its text.
    fn write(&mut self, text: &[u8]) -> Result<(), Error>;
    /// The string has ended.
    fn end(&mut self) -> Result<(), Error>;
}

/// Which string last ended, to recognize the keys that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Data,
    B64,
    Other,
}

/// Incremental decoder of an `ImagesResponse` body; see the [module docs](self).
#[derive(Debug)]
pub struct ImagesDecoder {
    skeleton: Vec<u8>,
    state: State,
    depth: usize,
    /// The container at depth 2 is the top-level `data` array.
    in_data: bool,
    /// Index of the current `data` element.
    element: usize,
    /// The last string, while only whitespace follows it.
    last_string: Option<Key>,
    /// The key whose `:` was just seen, until its value starts.
    pending_key: Option<Key>,
    current: Vec<u8>,
    /// Every extracted string so far is ASCII (so UTF-8 without checking it again).
    ascii: bool,
    extracted: Vec<(usize, Vec<u8>)>,
    total: u64,
}

impl Default for ImagesDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ImagesDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        Self {
            skeleton: Vec::new(),
            state: State::Structure,
            depth: 0,
            in_data: false,
            element: 0,
            last_string: None,
            pending_key: None,
            current: Vec::new(),
            ascii: true,
            extracted: Vec::new(),
            total: 0,
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.total
    }

    /// Takes the next piece of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        // Without a sink nothing can fail.
        let _ = self.run::<dyn ImageSink>(chunk, None);
    }

    /// Takes the next piece of the body, handing the image strings to `sink` as they arrive rather than
    /// keeping them (their placeholders in the response stay empty strings). Use the same sink for
    /// every piece. After an error from the sink the decoder must not be fed again.
    pub(crate) fn feed_streaming(&mut self, chunk: &[u8], sink: &mut dyn ImageSink) -> Result<(), Error> {
        self.run(chunk, Some(sink))
    }

    fn run<S: ImageSink + ?Sized>(&mut self, mut chunk: &[u8], mut sink: Option<&mut S>) -> Result<(), Error> {
        self.total += chunk.len() as u64;
        while !chunk.is_empty() {
            chunk = match self.state {
                State::Structure => self.structure(chunk, sink.as_deref_mut())?,
                State::Str { start, escape } => self.string(chunk, start, escape),
                State::Extract => self.extract(chunk),
                State::Stream { escape } => match sink.as_deref_mut() {
                    Some(sink) => self.stream(chunk, escape, sink)?,
                    None => return Err(Error::Config("a streamed image string fed without its sink".into())),
                },
            };
        }
        Ok(())
    }

    /// Parses what was fed. The error carries the body's start (with the image strings left out).
    pub fn finish(self) -> Result<ImagesResponse, ParseError> {
        if matches!(self.state, State::Extract | State::Stream { .. }) {
            return Err(ParseError::new("the body ends inside an image string", &self.skeleton));
        }
        let mut response = parse_json::<ImagesResponse>(&self.skeleton)?;
        for (index, bytes) in self.extracted {
            let text = if self.ascii {
                // SAFETY: every byte was checked to be ASCII as it was extracted (`push_current`).
                unsafe { String::from_utf8_unchecked(bytes) }
            } else {
                String::from_utf8(bytes).map_err(|e| {
                    ParseError::new(format!("b64_json of image {index} is not UTF-8: {e}"), &self.skeleton)
                })?
            };
            match response.data.get_mut(index) {
                Some(ImageItem::Image(image)) => image.b64_json = Some(text),
                Some(ImageItem::Failed(failed)) => {
                    failed.extra.insert("b64_json".into(), Value::String(text));
                }
                None => return Err(ParseError::new(format!("image {index} is missing"), &self.skeleton)),
            }
        }
        Ok(response)
    }

    /// Decodes a whole body at once (parsed directly when it is small).
    pub fn decode(body: &[u8]) -> Result<ImagesResponse, ParseError> {
        if body.len() <= DIRECT_PARSE_LIMIT {
            return parse_json(body);
        }
        let mut decoder = Self::new();
        decoder.feed(body);
        decoder.finish()
    }

    fn structure<'a, S: ImageSink + ?Sized>(
        &mut self,
        chunk: &'a [u8],
        sink: Option<&mut S>,
    ) -> Result<&'a [u8], Error> {
        for (i, &byte) in chunk.iter().enumerate() {
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' => {}
                b'"' => {
                    let key = self.pending_key.take();
                    self.last_string = None;
                    if key == Some(Key::B64) && self.depth == 3 && self.in_data {
                        // The placeholder: an empty string, filled in by `finish`.
                        self.skeleton.extend_from_slice(&chunk[..i]);
                        self.skeleton.extend_from_slice(b"\"\"");
                        if let Some(sink) = sink {
                            sink.start(self.element)?;
                            self.state = State::Stream { escape: false };
                            return Ok(&chunk[i + 1..]);
                        }
                        // Images of a group are about the same size: room for the last one's length plus a
                        // margin avoids regrowing (copying) the buffer for each.
                        let guess = self.extracted.last().map_or(64 * 1024, |(_, last)| last.len());
                        self.current = Vec::with_capacity(guess);
                        self.state = State::Extract;
                        return Ok(&chunk[i + 1..]);
                    }
                    self.skeleton.extend_from_slice(&chunk[..=i]);
                    self.state = State::Str { start: self.skeleton.len(), escape: false };
                    return Ok(&chunk[i + 1..]);
                }
                b':' => self.pending_key = self.last_string.take(),
                b'{' | b'[' => {
                    if byte == b'[' && self.depth == 1 && self.pending_key == Some(Key::Data) {
                        self.in_data = true;
                        self.element = 0;
                    }
                    self.depth += 1;
                    self.pending_key = None;
                    self.last_string = None;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth < 2 {
                        self.in_data = false;
                    }
                    self.pending_key = None;
                    self.last_string = None;
                }
                b',' => {
                    if self.depth == 2 && self.in_data {
                        self.element += 1;
                    }
                    self.pending_key = None;
                    self.last_string = None;
                }
                _ => {
                    self.pending_key = None;
                    self.last_string = None;
                }
            }
        }
        self.skeleton.extend_from_slice(chunk);
        Ok(&[])
    }

    /// Hands the image string's text to `sink` up to its closing quote. Base64 needs no escape, but a
    /// server may write `/` as `\\/`; any other escape cannot be base64 and is refused.
    fn stream<'a, S: ImageSink + ?Sized>(
        &mut self,
        chunk: &'a [u8],
        escape: bool,
        sink: &mut S,
    ) -> Result<&'a [u8], Error> {
        if escape {
            self.state = State::Stream { escape: false };
            return match chunk[0] {
                b'/' => sink.write(b"/").map(|()| &chunk[1..]),
                other => Err(Error::Decode {
                    reason: format!("b64_json of image {} holds the escape \\{}", self.element, char::from(other)),
                    body_start: String::from_utf8_lossy(&self.skeleton[..self.skeleton.len().min(256)]).into_owned(),
                }),
            };
        }
        match memchr::memchr2(b'"', b'\\', chunk) {
            None => {
                sink.write(chunk)?;
                Ok(&[])
            }
            Some(pos) if chunk[pos] == b'"' => {
                sink.write(&chunk[..pos])?;
                sink.end()?;
                self.state = State::Structure;
                Ok(&chunk[pos + 1..])
            }
            Some(pos) => {
                sink.write(&chunk[..pos])?;
                self.state = State::Stream { escape: true };
                Ok(&chunk[pos + 1..])
            }
        }
    }

    fn string<'a>(&mut self, chunk: &'a [u8], start: usize, escape: bool) -> &'a [u8] {
        let mut from = 0;
        if escape {
            // The escaped byte (for `\uXXXX` the rest is plain text).
            from = 1;
        }
        match memchr::memchr2(b'"', b'\\', &chunk[from..]).map(|p| p + from) {
            None => {
                self.skeleton.extend_from_slice(chunk);
                self.state = State::Str { start, escape: false };
                &[]
            }
            Some(pos) if chunk[pos] == b'\\' => {
                let end = (pos + 2).min(chunk.len());
                self.skeleton.extend_from_slice(&chunk[..end]);
                self.state = State::Str { start, escape: pos + 1 == chunk.len() };
                &chunk[end..]
            }
            Some(pos) => {
                self.skeleton.extend_from_slice(&chunk[..pos]);
                self.last_string = Some(match &self.skeleton[start.min(self.skeleton.len())..] {
                    b"data" => Key::Data,
                    b"b64_json" => Key::B64,
                    _ => Key::Other,
                });
                self.skeleton.push(b'"');
                self.state = State::Structure;
                &chunk[pos + 1..]
            }
        }
    }

    /// Appends to the image string being extracted. After the first image, whose size is unknown,
    /// the buffer grows in steps of an eighth rather than doubling: a slightly larger image than the
    /// last must not cost twice its size.
    fn push_current(&mut self, bytes: &[u8]) {
        // Checked while the bytes are in cache: `finish` then needs no UTF-8 pass over them.
        self.ascii &= bytes.is_ascii();
        let room = self.current.capacity() - self.current.len();
        if bytes.len() > room && !self.extracted.is_empty() {
            self.current.reserve_exact(bytes.len().max(self.current.len() / 8));
        }
        self.current.extend_from_slice(bytes);
    }

    fn extract<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
        match memchr::memchr2(b'"', b'\\', chunk) {
            None => {
                self.push_current(chunk);
                &[]
            }
            Some(pos) if chunk[pos] == b'"' => {
                self.push_current(&chunk[..pos]);
                let mut text = std::mem::take(&mut self.current);
                if text.capacity() > text.len() + text.len() / 8 {
                    text.shrink_to_fit();
                }
                self.extracted.push((self.element, text));
                self.state = State::Structure;
                &chunk[pos + 1..]
            }
            Some(pos) => {
                // An escape: base64 never needs one, but a server may write `\/`. Put the string back
                // into the skeleton (replacing the placeholder's closing quote) and let serde unescape it.
                self.skeleton.pop();
                let start = self.skeleton.len();
                self.skeleton.append(&mut self.current);
                self.current = Vec::new();
                self.skeleton.extend_from_slice(&chunk[..pos]);
                self.state = State::Str { start, escape: false };
                &chunk[pos..]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose;
    use serde_json::json;

    fn body() -> Value {
        json!({
            "model": "m", "created": 1,
            "data": [{"b64_json": "QUJD", "size": "1x1"},
                     {"error": {"code": "OutputImageSensitiveContentDetected", "message": "x"}},
                     {"url": "https://u", "b64_json": "REVG"}],
            "usage": {"generated_images": 2, "b64_json": "not an image"},
            "extra": {"data": [{"b64_json": "kept"}]}
        })
    }

    #[test]
    fn any_chunking_gives_what_serde_gives() {
        let text = serde_json::to_vec_pretty(&body()).unwrap();
        let expected: ImagesResponse = serde_json::from_slice(&text).unwrap();
        for cut in 0..text.len() {
            let mut decoder = ImagesDecoder::new();
            decoder.feed(&text[..cut]);
            decoder.feed(&text[cut..]);
            assert_eq!(decoder.extracted.len(), 2, "cut {cut}");
            assert_eq!(decoder.finish().unwrap(), expected, "cut {cut}");
        }
        let mut decoder = ImagesDecoder::new();
        text.chunks(1).for_each(|byte| decoder.feed(byte));
        assert_eq!(decoder.finish().unwrap(), expected);
    }

    #[test]
    fn the_decoder_agrees_with_the_model_for_every_fixture_however_cut() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/responses");
        let mut bodies: Vec<Vec<u8>> = std::fs::read_dir(fixtures)
            .map(|dir| dir.map(|entry| std::fs::read(entry.unwrap().path()).unwrap()).collect())
            .unwrap_or_default();
        assert!(!bodies.is_empty(), "the shared response fixtures are there");
        for extra in [
            json!({"data": [{"url": "u", "size": "1x1", "revised_prompt": "r"}], "usage": {"prompt_tokens_details": null}}),
            json!({"data": [{"url": null, "error": null}]}),
            json!({"data": [{"error": "text"}]}),
            json!({"data": [{"url": "u", "error": {"code": "c", "message": "m"}}]}),
            json!({"data": [], "usage": {"total_tokens": 1, "new_counter": 2}}),
            json!({"data": [{"url": "u", "new_field": 1}], "id": "x"}),
            json!({"created": 1, "model": null}),
            json!({}),
        ] {
            bodies.push(serde_json::to_vec(&extra).unwrap());
        }
        for body in bodies {
            let full: ImagesResponse = serde_json::from_slice(&body).unwrap();
            assert_eq!(ImagesDecoder::decode(&body).unwrap(), full, "{}", String::from_utf8_lossy(&body));
            for cut in [1, body.len() / 2, body.len() - 1] {
                let mut decoder = ImagesDecoder::new();
                decoder.feed(&body[..cut]);
                decoder.feed(&body[cut..]);
                assert_eq!(decoder.finish().unwrap(), full, "cut {cut}: {}", String::from_utf8_lossy(&body));
            }
        }
        assert_eq!(
            ImagesDecoder::decode(b"{\"data\": 1}").unwrap_err(),
            parse_json::<ImagesResponse>(b"{\"data\": 1}").unwrap_err()
        );
        // Not UTF-8 inside a string: refused as the model refuses it.
        let bad = b"{\"data\": [{\"url\": \"u\xff\"}]}";
        assert_eq!(ImagesDecoder::decode(bad).unwrap_err(), parse_json::<ImagesResponse>(bad).unwrap_err());
        let text = "{\"data\": [{\"url\": \"https://example.com/\u{e9}\u{1F600}\"}]}";
        assert_eq!(
            ImagesDecoder::decode(text.as_bytes()).unwrap().images().next().unwrap().url.as_deref(),
            Some("https://example.com/\u{e9}\u{1F600}")
        );
    }

    /// A 5.0 pro answer to `layer_decomposition: true`: the base image and two layers, PNG.
    fn layered_body() -> Value {
        let layer = |z: u32, name: &str, abs: [u32; 4]| {
            json!({"b64_json": "iVBORw0KGgo=", "size": "512x512", "output_format": "png", "z_index": z,
                   "bounding_box": {"absolute": abs, "normalized": abs.map(|v| v * 1000 / 512)},
                   "name": name, "description": format!("the {name}")})
        };
        json!({
            "model": "doubao-seedream-5-0-pro-260628", "created": 1789641090,
            "data": [{"b64_json": "iVBORw0KGgo=", "size": "512x512", "output_format": "png", "z_index": 0},
                     layer(1, "sky", [0, 0, 512, 200]), layer(2, "boat", [100, 250, 300, 400])],
            "usage": {"input_images": 1, "generated_images": 3, "output_tokens": 3072, "total_tokens": 3072}
        })
    }

    #[test]
    fn five_zero_bodies_decode_as_the_model_parses_them_and_nothing_is_lost() {
        let plain = json!({"model": "doubao-seedream-5-0-pro-260628", "created": 1,
            "data": [{"b64_json": "iVBORw0KGgo=", "size": "2048x2048", "output_format": "png"}],
            "usage": {"input_images": 0, "generated_images": 1, "output_tokens": 16384, "total_tokens": 16384}});
        // Layers (z_index, bounding_box, name, description), tool usage and tools.
        let web_search = json!({"model": "doubao-seedream-5-0-260128", "created": 1,
            "data": [{"url": "https://x/0.png", "size": "2048x2048"}],
            "usage": {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384,
                      "tool_usage": {"web_search": 2}},
            "tools": [{"type": "web_search"}]});
        let tool_usage_only = json!({"data": [], "usage": {"tool_usage": {"web_search": 1}}});
        for body in [plain, layered_body(), web_search, tool_usage_only] {
            let text = serde_json::to_vec(&body).unwrap();
            let full: ImagesResponse = serde_json::from_slice(&text).unwrap();
            let parsed = ImagesDecoder::decode(&text).unwrap();
            assert_eq!(parsed, full, "{body}");
            assert_eq!(serde_json::to_value(&parsed).unwrap(), body, "nothing lost on the way back");
        }
    }

    #[test]
    fn a_layered_five_zero_pro_body_decodes_identically_through_both_paths() {
        let body = layered_body();
        let text = serde_json::to_vec_pretty(&body).unwrap();
        let full: ImagesResponse = serde_json::from_slice(&text).unwrap();
        assert_eq!(ImagesDecoder::decode(&text).unwrap(), full);
        for cut in (0..text.len()).step_by(7) {
            let mut decoder = ImagesDecoder::new();
            decoder.feed(&text[..cut]);
            decoder.feed(&text[cut..]);
            assert_eq!(decoder.finish().unwrap(), full, "cut {cut}");
        }
        let layer = full.images().nth(2).unwrap();
        assert_eq!((layer.z_index, layer.name.as_deref()), (Some(2), Some("boat")));
        let bounding_box = layer.bounding_box.as_ref().unwrap();
        assert_eq!(bounding_box.absolute_corners(), Some([100.0, 250.0, 300.0, 400.0]));
        assert_eq!(bounding_box.normalized_corners(), Some([195.0, 488.0, 585.0, 781.0]));
        assert_eq!(full.usage.as_ref().unwrap().input_images, Some(1));
    }

    #[test]
    fn one_malformed_layer_field_keeps_every_image_through_both_paths() {
        // 20 paid images, large enough for the scanner (over DIRECT_PARSE_LIMIT); layer 7's box is
        // a bare list and layer 9's z_index a string.
        let png = general_purpose::STANDARD.encode(vec![7u8; 8 * 1024]);
        let mut data: Vec<Value> = (0..20)
            .map(|z| {
                json!({"b64_json": png, "size": "512x512", "z_index": z, "name": format!("layer {z}"),
                            "bounding_box": {"absolute": [0, 0, 512, 512], "normalized": [0, 0, 1000, 1000]}})
            })
            .collect();
        data[7]["bounding_box"] = json!([0, 0, 512, 512]);
        data[9]["z_index"] = json!("9");
        let body = json!({"model": "doubao-seedream-5-0-pro-260628", "data": data});
        let text = serde_json::to_vec(&body).unwrap();
        assert!(text.len() > DIRECT_PARSE_LIMIT);
        let decoded = ImagesDecoder::decode(&text).unwrap();
        let mut streamed = ImagesDecoder::new();
        text.chunks(4096).for_each(|chunk| streamed.feed(chunk));
        for response in [decoded, streamed.finish().unwrap(), parse_json::<ImagesResponse>(&text).unwrap()] {
            assert_eq!(response.images().count(), 20);
            assert!(response.images().all(|image| image.b64_json.as_deref() == Some(png.as_str())));
            let malformed: Vec<(usize, &str)> = response
                .images()
                .enumerate()
                .flat_map(|(at, image)| image.malformed_fields().map(move |(field, _)| (at, field)))
                .collect();
            assert_eq!(malformed, [(7, "bounding_box"), (9, "z_index")]);
            let layer = response.images().nth(7).unwrap();
            assert_eq!((layer.z_index, layer.bounding_box.as_ref()), (Some(7), None));
            assert_eq!(serde_json::to_value(&response).unwrap(), body, "kept as sent");
        }
    }

    #[test]
    fn escaped_strings_fall_back_to_serde() {
        let text = br#"{"data":[{"b64_json":"AB\/C\"D"},{"b64_json":"QUJD"}],"x":"a\"b"}"#;
        let expected: ImagesResponse = serde_json::from_slice(text).unwrap();
        for cut in 0..text.len() {
            let mut decoder = ImagesDecoder::new();
            decoder.feed(&text[..cut]);
            decoder.feed(&text[cut..]);
            assert_eq!(decoder.finish().unwrap(), expected, "cut {cut}");
        }
    }

    #[test]
    fn bad_bodies_are_errors_with_the_body_start() {
        let error = ImagesDecoder::decode(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
        assert!(error.body_start.contains("502 Bad Gateway"), "{error}");
        assert!(ImagesDecoder::decode(br#"{"data":[{"b64_json":"QUJ"#).is_err());
        assert!(ImagesDecoder::decode(b"]]]}}}{").is_err());
        assert!(ImagesDecoder::decode(b"").is_err());
    }

    /// Collects what a streaming feed hands over: `(index, text)` per string.
    #[derive(Default)]
    struct Collect {
        strings: Vec<(usize, Vec<u8>)>,
        open: bool,
    }

    impl ImageSink for Collect {
        fn start(&mut self, index: usize) -> Result<(), Error> {
            assert!(!self.open, "strings do not nest");
            self.open = true;
            self.strings.push((index, Vec::new()));
            Ok(())
        }
        fn write(&mut self, text: &[u8]) -> Result<(), Error> {
            assert!(self.open);
            self.strings.last_mut().unwrap().1.extend_from_slice(text);
            Ok(())
        }
        fn end(&mut self) -> Result<(), Error> {
            self.open = std::mem::take(&mut self.open).then_some(false).expect("an end follows a start");
            Ok(())
        }
    }

    #[test]
    fn streaming_hands_over_the_strings_extraction_keeps_for_any_chunking() {
        let text = serde_json::to_vec_pretty(&body()).unwrap();
        let escaped = br#"{"data":[{"b64_json":"AB\/CD"},{"b64_json":"QUJD"}],"x":"a\"b"}"#;
        for text in [&text[..], &escaped[..]] {
            let expected: ImagesResponse = serde_json::from_slice(text).unwrap();
            let images: Vec<(usize, Vec<u8>)> = expected
                .data
                .iter()
                .enumerate()
                .filter_map(|(i, item)| item.image()?.b64_json.clone().map(|b| (i, b.into_bytes())))
                .collect();
            for cut in 0..text.len() {
                for second in [cut, (cut + 3).min(text.len())] {
                    let mut decoder = ImagesDecoder::new();
                    let mut sink = Collect::default();
                    for piece in [&text[..cut], &text[cut..second], &text[second..]] {
                        decoder.feed_streaming(piece, &mut sink).unwrap();
                    }
                    assert!(!sink.open, "cut {cut}");
                    assert_eq!(sink.strings, images, "cut {cut}");
                    let skeleton = decoder.finish().unwrap();
                    assert_eq!(skeleton.data.len(), expected.data.len());
                    assert_eq!(skeleton.model, expected.model);
                }
            }
        }
        // Escapes that base64 cannot hold, and bodies that end inside an image string, are errors.
        let mut decoder = ImagesDecoder::new();
        let error = decoder.feed_streaming(br#"{"data":[{"b64_json":"AB\nCD"}]}"#, &mut Collect::default());
        assert!(matches!(error, Err(Error::Decode { .. })), "{error:?}");
        let mut decoder = ImagesDecoder::new();
        decoder.feed_streaming(br#"{"data":[{"b64_json":"ABCD"#, &mut Collect::default()).unwrap();
        assert!(decoder.finish().is_err());
    }
}
