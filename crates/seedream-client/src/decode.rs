//! Decoding image responses without needless copies.
//!
//! [`ImagesDecoder`] turns a response body, fed chunk by chunk as it arrives, into an
//! [`ImagesResponse`]. A group of 4K `b64_json` images is about 100 MB of JSON; parsing the whole
//! body with serde would hold the body and a copy of every string at once (twice the size). Instead,
//! each `data[i].b64_json` string is moved straight from the chunks into its own buffer, the small rest
//! of the JSON (the "skeleton", with those strings left empty) is parsed by serde, and the strings are
//! put back. Peak memory stays at about the size of the body.
//!
//! [`decode_b64`] and [`decode_b64_owned`] turn `b64_json` text into image bytes; the owned one decodes
//! in place, reusing the string's memory.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use seedream_types::response::{ParseError, parse_json};
use seedream_types::{ImageItem, ImagesResponse};
use serde_json::Value;

/// Where the scanner is in the JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between tokens (or inside a number or literal).
    Structure,
    /// Inside a string that is copied to the skeleton; `start` is where its text begins there.
    Str { start: usize, escape: bool },
    /// Inside a `data[i].b64_json` string that is moved to its own buffer.
    Extract,
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
            skeleton: Vec::with_capacity(4096),
            state: State::Structure,
            depth: 0,
            in_data: false,
            element: 0,
            last_string: None,
            pending_key: None,
            current: Vec::new(),
            extracted: Vec::new(),
            total: 0,
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.total
    }

    /// Takes the next piece of the body.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        self.total += chunk.len() as u64;
        while !chunk.is_empty() {
            chunk = match self.state {
                State::Structure => self.structure(chunk),
                State::Str { start, escape } => self.string(chunk, start, escape),
                State::Extract => self.extract(chunk),
            };
        }
    }

    /// Parses what was fed. The error carries the body's start (with the image strings left out).
    pub fn finish(self) -> Result<ImagesResponse, ParseError> {
        if self.state == State::Extract {
            return Err(ParseError::new("the body ends inside an image string", &self.skeleton));
        }
        let mut response: ImagesResponse = parse_json(&self.skeleton)?;
        for (index, bytes) in self.extracted {
            let text = String::from_utf8(bytes)
                .map_err(|e| ParseError::new(format!("b64_json of image {index} is not UTF-8: {e}"), &self.skeleton))?;
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

    /// Decodes a whole body at once.
    pub fn decode(body: &[u8]) -> Result<ImagesResponse, ParseError> {
        let mut decoder = Self::new();
        decoder.feed(body);
        decoder.finish()
    }

    fn structure<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
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
                        self.current = Vec::with_capacity(self.extracted.last().map_or(0, |(_, last)| last.len()));
                        self.state = State::Extract;
                        return &chunk[i + 1..];
                    }
                    self.skeleton.extend_from_slice(&chunk[..=i]);
                    self.state = State::Str { start: self.skeleton.len(), escape: false };
                    return &chunk[i + 1..];
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
        &[]
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

    fn extract<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
        match memchr::memchr2(b'"', b'\\', chunk) {
            None => {
                self.current.extend_from_slice(chunk);
                &[]
            }
            Some(pos) if chunk[pos] == b'"' => {
                self.current.extend_from_slice(&chunk[..pos]);
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

/// Why `b64_json` text is not an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("b64_json is not valid base64: {0}")]
pub struct Base64Error(String);

/// Decodes `b64_json` text (standard alphabet, padding optional) into bytes.
pub fn decode_b64(text: &str) -> Result<Bytes, Base64Error> {
    let mut out = vec![0; text.len().div_ceil(4) * 3];
    let len = decode_into(text.as_bytes(), &mut out)?;
    out.truncate(len);
    Ok(Bytes::from(out))
}

/// Decodes `b64_json` text into bytes in place, reusing the string's memory (no second buffer).
pub fn decode_b64_owned(text: String) -> Result<Bytes, Base64Error> {
    const BLOCK: usize = 16 * 1024; // input bytes per step: a multiple of 4
    let mut buf = text.into_bytes();
    let mut out = [0u8; BLOCK / 4 * 3];
    let (mut read, mut written) = (0, 0);
    while read < buf.len() {
        let end = (read + BLOCK).min(buf.len());
        let n = decode_into(&buf[read..end], &mut out)?;
        // `written <= read`: decoded data is shorter than its text, so this never overwrites unread input.
        buf[written..written + n].copy_from_slice(&out[..n]);
        written += n;
        read = end;
    }
    buf.truncate(written);
    buf.shrink_to_fit();
    Ok(Bytes::from(buf))
}

/// The standard alphabet, with or without padding.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_into(input: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
    ENGINE.decode_slice_unchecked(input, out).map_err(|e| Base64Error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn base64_decodes_copied_and_in_place() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let text = general_purpose::STANDARD.encode(&bytes);
        assert_eq!(decode_b64(&text).unwrap(), bytes);
        assert_eq!(decode_b64_owned(text.clone()).unwrap(), bytes);
        assert_eq!(decode_b64_owned(text.trim_end_matches('=').to_owned()).unwrap(), bytes);
        assert!(decode_b64("ab$d").is_err());
        assert!(decode_b64_owned("ab$d".into()).is_err());
        assert_eq!(decode_b64_owned(String::new()).unwrap(), Bytes::new());
    }
}
