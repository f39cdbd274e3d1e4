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
//!
//! The streaming save (`Client::generate_and_save`) feeds the same scanner with an `ImageSink`: the
//! image strings then go to the sink as they arrive (to be decoded into files) instead of buffers, and
//! only the skeleton is kept.

use bytes::Bytes;
use seedream_types::response::{ParseError, parse_json};
use seedream_types::{ImageItem, ImagesResponse};
use serde_json::Value;

use crate::error::Error;

/// Bodies up to this size are parsed in one go: extracting their strings would gain nothing.
const DIRECT_PARSE_LIMIT: usize = 64 * 1024;

/// Parses an `ImagesResponse` body: first as the common shape, with only the fields this version
/// knows (serde's `flatten`, which keeps unknown fields, costs several times more), and when the body
/// has anything else, with the full model. Both give the same value for any body the first accepts.
pub fn parse_response(body: &[u8]) -> Result<ImagesResponse, ParseError> {
    // One UTF-8 check of the whole body (a few instructions per 16 ASCII bytes) rather than one per
    // string, which is what parsing from bytes does.
    let known = std::str::from_utf8(body).ok().and_then(|text| serde_json::from_str::<fast::Response>(text).ok());
    match known {
        Some(known) => Ok(known.into()),
        None => parse_json(body),
    }
}

/// The known shape of a response, strictly: any other field makes parsing fail (and the full model
/// take over), so nothing is lost.
mod fast {
    use seedream_types::{GeneratedImage, ImageItem, ImagesResponse, OutputFormat, Usage};
    use serde::Deserialize;
    use serde_json::{Map, Value};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Response {
        model: Option<String>,
        created: Option<i64>,
        #[serde(default)]
        data: Vec<Image>,
        usage: Option<Tokens>,
    }

    /// A successful image only: an item with `error` (or anything else) is not this shape.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Image {
        url: Option<String>,
        b64_json: Option<String>,
        size: Option<String>,
        output_format: Option<OutputFormat>,
        revised_prompt: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Tokens {
        input_images: Option<u64>,
        generated_images: Option<u64>,
        output_tokens: Option<u64>,
        total_tokens: Option<u64>,
        prompt_tokens: Option<u64>,
        completion_tokens: Option<u64>,
        prompt_tokens_details: Option<Value>,
        completion_tokens_details: Option<Value>,
    }

    impl From<Response> for ImagesResponse {
        fn from(known: Response) -> Self {
            let data = known
                .data
                .into_iter()
                .map(|image| {
                    ImageItem::Image(GeneratedImage {
                        url: image.url,
                        b64_json: image.b64_json,
                        size: image.size,
                        output_format: image.output_format,
                        revised_prompt: image.revised_prompt,
                        ..GeneratedImage::default()
                    })
                })
                .collect();
            let usage = known.usage.map(|tokens| Usage {
                input_images: tokens.input_images,
                generated_images: tokens.generated_images,
                output_tokens: tokens.output_tokens,
                total_tokens: tokens.total_tokens,
                prompt_tokens: tokens.prompt_tokens,
                completion_tokens: tokens.completion_tokens,
                prompt_tokens_details: tokens.prompt_tokens_details,
                completion_tokens_details: tokens.completion_tokens_details,
                tool_usage: None,
                extra: Map::new(),
            });
            ImagesResponse { model: known.model, created: known.created, data, usage, tools: None, extra: Map::new() }
        }
    }
}

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
        let mut response = parse_response(&self.skeleton)?;
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
            return parse_response(body);
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

/// Why `b64_json` text is not an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("b64_json is not valid base64: {0}")]
pub struct Base64Error(String);

/// Decodes `b64_json` text (standard alphabet, padding optional) into bytes.
pub fn decode_b64(text: &str) -> Result<Bytes, Base64Error> {
    let mut out = vec![0; decoded_capacity(text.len())];
    let len = decode_into(text.as_bytes(), &mut out, 0)?;
    out.truncate(len);
    Ok(Bytes::from(out))
}

/// Decodes `b64_json` text into bytes in place, reusing the string's memory (no second buffer).
pub fn decode_b64_owned(text: String) -> Result<Bytes, Base64Error> {
    const BLOCK: usize = 8 * 1024; // input bytes per step: a multiple of 8
    let mut buf = text.into_bytes();
    let mut block = [0u8; BLOCK];
    let (mut read, mut written) = (0, 0);
    while read < buf.len() {
        let end = if buf.len() - read > BLOCK { read + BLOCK } else { buf.len() };
        let input = &mut block[..end - read];
        input.copy_from_slice(&buf[read..end]);
        // `written + decoded <= end`: decoded data is shorter than its text, so unread input is never
        // overwritten; only the last block can have padding or a partial group.
        written += decode_into(input, &mut buf[written..], read)?;
        read = end;
    }
    buf.truncate(written);
    buf.shrink_to_fit();
    Ok(Bytes::from(buf))
}

/// Decodes base64 text that arrives in pieces (the streaming save): whole groups of four characters
/// are decoded as they come, up to three wait for the next piece. Accepts and refuses exactly what
/// [`decode_b64`] does for the same text, however it is cut.
#[derive(Debug, Default)]
pub(crate) struct B64Stream {
    carry: [u8; 4],
    carried: usize,
    /// Characters decoded so far (for error offsets).
    offset: usize,
    /// Padding was seen: the text must end here.
    ended: bool,
}

impl B64Stream {
    /// Room `out` needs for a piece of `len` characters.
    pub(crate) fn room_for(len: usize) -> usize {
        decoded_capacity(len + 3)
    }

    /// Decodes the next piece of text into the start of `out` (at least [`room_for`](Self::room_for)
    /// its length); returns the bytes written.
    pub(crate) fn feed(&mut self, mut text: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
        let mut written = 0;
        if self.carried > 0 {
            let take = (4 - self.carried).min(text.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&text[..take]);
            self.carried += take;
            text = &text[take..];
            if self.carried < 4 {
                return Ok(0);
            }
            self.carried = 0;
            let quad = self.carry;
            written += self.decode(&quad, out)?;
        }
        let whole = text.len() / 4 * 4;
        written += self.decode(&text[..whole], &mut out[written..])?;
        let rest = &text[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
        Ok(written)
    }

    /// Decodes what waits at the end of the text into `out` (at least 3 bytes); returns the bytes written.
    pub(crate) fn finish(&mut self, out: &mut [u8]) -> Result<usize, Base64Error> {
        let carried = std::mem::take(&mut self.carried);
        let rest = self.carry;
        self.decode(&rest[..carried], out)
    }

    fn decode(&mut self, text: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
        if text.is_empty() {
            return Ok(0);
        }
        if self.ended {
            // As `decode_b64` sees it: padding inside the text.
            let at = self.offset.saturating_sub(1);
            return Err(Base64Error(format!("invalid character '=' at offset {at}")));
        }
        let written = decode_into(text, out, self.offset)?;
        self.offset += text.len();
        self.ended = text.ends_with(b"=");
        Ok(written)
    }
}

/// Marks a character outside the alphabet in the tables below (above any 24-bit group value).
const BAD: u32 = 1 << 24;

/// For each input byte, its 6-bit value shifted into place within a 24-bit group, or [`BAD`]:
/// four lookups and an `or` decode four characters (the approach of Chromium's modp_b64).
const fn table(shift: u32) -> [u32; 256] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [BAD; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = (i as u32) << shift;
        i += 1;
    }
    table
}

static D0: [u32; 256] = table(18);
static D1: [u32; 256] = table(12);
static D2: [u32; 256] = table(6);
static D3: [u32; 256] = table(0);

fn group(quad: &[u8]) -> u32 {
    D0[quad[0] as usize] | D1[quad[1] as usize] | D2[quad[2] as usize] | D3[quad[3] as usize]
}

/// Room needed to decode `len` characters.
fn decoded_capacity(len: usize) -> usize {
    len.div_ceil(4) * 3
}

/// Decodes `input` into the start of `out`; returns the bytes written. `offset` (where `input` starts
/// in the whole text) only serves error messages. `out` must hold `decoded_capacity(input.len())`
/// bytes, or at least as many as the input decodes to when used in place.
fn decode_into(input: &[u8], out: &mut [u8], offset: usize) -> Result<usize, Base64Error> {
    let text = input.strip_suffix(b"==").or_else(|| input.strip_suffix(b"=")).unwrap_or(input);
    // Whole blocks of 32 characters with AVX2 where the CPU has it; the rest (and any block with a
    // bad character, to name it) as below.
    let (read, mut written) = simd::decode_prefix(text, out);
    let (text, out) = (&text[read..], &mut out[written..]);
    let offset = offset + read;
    let whole = text.len() / 8 * 8;
    let mut bad = 0;
    for (chars, bytes) in text[..whole].chunks_exact(8).zip(out.chunks_exact_mut(6)) {
        let (x, y) = (group(&chars[..4]), group(&chars[4..]));
        bad |= x | y;
        let pair = (u64::from(x) << 24) | u64::from(y);
        bytes.copy_from_slice(&pair.to_be_bytes()[2..]);
    }
    let mut at = whole / 8 * 6;
    let mut rest = &text[whole..];
    if rest.len() >= 4 {
        let x = group(&rest[..4]);
        bad |= x;
        out[at..at + 3].copy_from_slice(&x.to_be_bytes()[1..]);
        at += 3;
        rest = &rest[4..];
    }
    match rest.len() {
        0 => {}
        1 => return Err(Base64Error(format!("a lone character at the end (offset {})", offset + text.len() - 1))),
        n => {
            let mut quad = [b'A'; 4];
            quad[..n].copy_from_slice(rest);
            let x = group(&quad);
            bad |= x;
            out[at..at + n - 1].copy_from_slice(&x.to_be_bytes()[1..n]);
            at += n - 1;
        }
    }
    if bad & BAD != 0 {
        let at = text.iter().position(|&c| D0[c as usize] == BAD).unwrap_or_default();
        return Err(Base64Error(format!("invalid character {:?} at offset {}", char::from(text[at]), offset + at)));
    }
    written += at;
    Ok(written)
}

/// Base64 decoding 32 characters at a time with AVX2 (Wojciech Muła's method: nibble lookups to
/// validate and to map characters to 6-bit values, multiply-adds to pack them).
mod simd {
    /// Decodes the longest run of whole 32-character blocks at the start of `text` that holds only
    /// base64 characters, while `out` has room for a 32-byte store; returns the characters read
    /// and the bytes written. Each store writes 8 bytes past its 24 decoded ones: they lie where the
    /// next bytes go, in room the caller gave for output (never past `out`).
    pub(super) fn decode_prefix(text: &[u8], out: &mut [u8]) -> (usize, usize) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { avx2::decode_prefix(text, out) };
        }
        let _ = (text, out);
        (0, 0)
    }

    #[cfg(target_arch = "x86_64")]
    mod avx2 {
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx2")]
        pub(super) fn decode_prefix(text: &[u8], out: &mut [u8]) -> (usize, usize) {
            let (mut read, mut written) = (0, 0);
            let shift_lut = _mm256_setr_epi8(
                0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, //
                0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
            );
            // For each low nibble, the high nibbles that make a base64 character, as bits.
            let mask_lut = _mm256_setr_epi8(
                0xa8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf0u8 as i8,
                0x54,
                0x50,
                0x50,
                0x50,
                0x54, //
                0xa8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf0u8 as i8,
                0x54,
                0x50,
                0x50,
                0x50,
                0x54,
            );
            let bit_lut = _mm256_setr_epi8(
                0x01,
                0x02,
                0x04,
                0x08,
                0x10,
                0x20,
                0x40,
                0x80u8 as i8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0, //
                0x01,
                0x02,
                0x04,
                0x08,
                0x10,
                0x20,
                0x40,
                0x80u8 as i8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            );
            let pack = _mm256_setr_epi8(
                2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, //
                2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
            );
            let lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
            while text.len() - read >= 32 && out.len() - written >= 32 {
                // SAFETY: 32 bytes from `read` are inside `text` (checked by the loop).
                let input = unsafe { _mm256_loadu_si256(text.as_ptr().add(read).cast()) };
                let high = _mm256_and_si256(_mm256_srli_epi32::<4>(input), _mm256_set1_epi8(0x0f));
                let low = _mm256_and_si256(input, _mm256_set1_epi8(0x0f));
                let allowed = _mm256_shuffle_epi8(mask_lut, low);
                let bit = _mm256_shuffle_epi8(bit_lut, high);
                let invalid = _mm256_cmpeq_epi8(_mm256_and_si256(allowed, bit), _mm256_setzero_si256());
                if _mm256_movemask_epi8(invalid) != 0 {
                    break; // the scalar decoder names the character
                }
                let slash = _mm256_cmpeq_epi8(input, _mm256_set1_epi8(b'/' as i8));
                let shift = _mm256_blendv_epi8(_mm256_shuffle_epi8(shift_lut, high), _mm256_set1_epi8(16), slash);
                let values = _mm256_add_epi8(input, shift);
                let pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x0140_0140));
                let quads = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x0001_1000));
                let bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(quads, pack), lanes);
                // SAFETY: 32 bytes from `written` are inside `out` (checked by the loop).
                unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(written).cast(), bytes) };
                read += 32;
                written += 24;
            }
            (read, written)
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
    fn the_fast_parse_agrees_with_the_full_model() {
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
            assert_eq!(parse_response(&body).unwrap(), full, "{}", String::from_utf8_lossy(&body));
        }
        assert_eq!(
            parse_response(b"{\"data\": 1}").unwrap_err(),
            parse_json::<ImagesResponse>(b"{\"data\": 1}").unwrap_err()
        );
        // Not UTF-8 inside a string: refused as the full model refuses it.
        let bad = b"{\"data\": [{\"url\": \"u\xff\"}]}";
        assert_eq!(parse_response(bad).unwrap_err(), parse_json::<ImagesResponse>(bad).unwrap_err());
        let text = "{\"data\": [{\"url\": \"https://example.com/\u{e9}\u{1F600}\"}]}";
        assert_eq!(
            parse_response(text.as_bytes()).unwrap().images().next().unwrap().url.as_deref(),
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
    fn five_zero_bodies_take_the_fast_path_or_fall_back_intact() {
        // Plain 5.0 pro with PNG output and input_images: the fast path's shape.
        let plain = json!({"model": "doubao-seedream-5-0-pro-260628", "created": 1,
            "data": [{"b64_json": "iVBORw0KGgo=", "size": "2048x2048", "output_format": "png"}],
            "usage": {"input_images": 0, "generated_images": 1, "output_tokens": 16384, "total_tokens": 16384}});
        let text = serde_json::to_vec(&plain).unwrap();
        assert!(serde_json::from_slice::<fast::Response>(&text).is_ok(), "plain 5.0 bodies are the fast shape");
        assert_eq!(parse_response(&text).unwrap(), serde_json::from_slice::<ImagesResponse>(&text).unwrap());

        // Layers (z_index, bounding_box, name, description), tool usage and tools: the full model.
        let web_search = json!({"model": "doubao-seedream-5-0-260128", "created": 1,
            "data": [{"url": "https://x/0.png", "size": "2048x2048"}],
            "usage": {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384,
                      "tool_usage": {"web_search": 2}},
            "tools": [{"type": "web_search"}]});
        let tool_usage_only = json!({"data": [], "usage": {"tool_usage": {"web_search": 1}}});
        for body in [layered_body(), web_search, tool_usage_only] {
            let text = serde_json::to_vec(&body).unwrap();
            assert!(serde_json::from_slice::<fast::Response>(&text).is_err(), "{body}");
            let full: ImagesResponse = serde_json::from_slice(&text).unwrap();
            let parsed = parse_response(&text).unwrap();
            assert_eq!(parsed, full, "{body}");
            assert_eq!(serde_json::to_value(&parsed).unwrap(), body, "nothing lost on the way back");
        }
    }

    #[test]
    fn a_layered_five_zero_pro_body_decodes_identically_through_both_paths() {
        let body = layered_body();
        let text = serde_json::to_vec_pretty(&body).unwrap();
        let full: ImagesResponse = serde_json::from_slice(&text).unwrap();
        assert_eq!(parse_response(&text).unwrap(), full);
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
        for response in [decoded, streamed.finish().unwrap(), parse_response(&text).unwrap()] {
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

    #[test]
    fn base64_decodes_copied_and_in_place() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let text = general_purpose::STANDARD.encode(&bytes);
        assert_eq!(decode_b64(&text).unwrap(), bytes);
        assert_eq!(decode_b64_owned(text.clone()).unwrap(), bytes);
        assert_eq!(decode_b64_owned(text.trim_end_matches('=').to_owned()).unwrap(), bytes);
        assert_eq!(decode_b64_owned(String::new()).unwrap(), Bytes::new());
    }

    #[test]
    fn base64_matches_the_reference_for_every_length() {
        let mut rng = fastrand::Rng::with_seed(9);
        // Lengths around the 8-character groups and the in-place block size.
        for len in (0..100).chain(6100..6200).chain([20_000, 20_001, 20_002]) {
            let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let padded = general_purpose::STANDARD.encode(&bytes);
            for text in [padded.clone(), padded.trim_end_matches('=').to_owned()] {
                assert_eq!(decode_b64(&text).unwrap(), bytes, "len {len}");
                assert_eq!(decode_b64_owned(text).unwrap(), bytes, "len {len}, in place");
            }
        }
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

    #[test]
    fn streamed_base64_accepts_and_refuses_what_whole_text_does_however_cut() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut texts: Vec<String> = (0..40usize)
            .map(|len| general_purpose::STANDARD.encode((0..len).map(|_| rng.u8(..)).collect::<Vec<_>>()))
            .collect();
        texts.extend(texts.clone().into_iter().map(|t| t.trim_end_matches('=').to_owned()));
        texts.extend(
            ["QUJD=QUJD", "QUJDQ", "QU=D", "QUJD\n", "Q===", "QU==QUJD", "QUJD=", "AB=", "A"].map(String::from),
        );
        for text in texts {
            let whole = decode_b64(&text);
            for cut in 0..=text.len() {
                for second in cut..=text.len() {
                    let mut stream = B64Stream::default();
                    let mut out = vec![0; decoded_capacity(text.len()) + 16];
                    let mut written = 0;
                    let result = (|| {
                        for piece in
                            [&text.as_bytes()[..cut], &text.as_bytes()[cut..second], &text.as_bytes()[second..]]
                        {
                            written += stream.feed(piece, &mut out[written..])?;
                        }
                        written += stream.finish(&mut out[written..])?;
                        Ok::<_, Base64Error>(())
                    })();
                    match (&whole, result) {
                        (Ok(bytes), Ok(())) => assert_eq!(&out[..written], &bytes[..], "{text} cut {cut}/{second}"),
                        (Err(_), Err(_)) => {}
                        (whole, streamed) => panic!("{text} cut {cut}/{second}: {whole:?} but {streamed:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn every_character_decodes_and_every_other_byte_is_refused_at_any_place_of_a_block() {
        // Every alphabet character at every place of the 32-character blocks the vector path takes.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let text: String = (0..96 * 4).map(|i| char::from(alphabet[(i * 7 + i / 64) % 64])).collect();
        let expected = general_purpose::STANDARD.decode(&text).unwrap();
        assert_eq!(decode_b64(&text).unwrap(), expected);
        assert_eq!(decode_b64_owned(text.clone()).unwrap(), expected);
        for byte in (0..=255u8).filter(|b| !alphabet.contains(b)) {
            for at in [0, 1, 15, 16, 31, 32, 63, 64, 95] {
                let mut bad = text.clone().into_bytes();
                bad[at] = byte;
                // Not UTF-8 for some bytes: go through the bytes path the decoders share.
                let mut out = vec![0; decoded_capacity(bad.len())];
                let error = decode_into(&bad, &mut out, 0).unwrap_err();
                assert!(error.to_string().contains(&format!("offset {at}")), "{byte:#x} at {at}: {error}");
            }
        }
    }

    #[test]
    fn base64_errors_name_the_bad_character() {
        let text = general_purpose::STANDARD.encode([7u8; 9000]);
        for at in [0, 5, 8191, 8192, 8193, text.len() - 1] {
            let mut bad = text.clone().into_bytes();
            bad[at] = b'$';
            let bad = String::from_utf8(bad).unwrap();
            let error = decode_b64(&bad).unwrap_err();
            assert!(error.to_string().contains(&format!("offset {at}")), "{error}");
            let error = decode_b64_owned(bad).unwrap_err();
            assert!(error.to_string().contains(&format!("offset {at}")), "{error}");
        }
        for bad in ["QUJD=QUJD", "QUJDQ", "QU=D", "QUJD\n", "Q==="] {
            assert!(decode_b64(bad).is_err(), "{bad}");
            assert!(decode_b64_owned(bad.to_owned()).is_err(), "{bad}");
        }
    }
}
