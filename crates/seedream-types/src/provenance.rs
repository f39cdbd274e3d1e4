//! Provenance written into image files: what made an image (prompt, model, size, seed, request id,
//! time, whether it is synthetic, the tool), in the standard place for the format, without touching
//! the image data.
//!
//! The record is an XMP packet (`dc:description` holds the prompt, `xmp:CreateDate` the time,
//! `xmp:CreatorTool` the tool, the rest in the `seedream:` namespace):
//! - JPEG: an APP1 segment (`http://ns.adobe.com/xap/1.0/`) after SOI and JFIF's APP0; when the file
//!   already carries someone else's XMP, it is kept and ours goes into a COM segment instead;
//! - PNG: an `iTXt` chunk (`XML:com.adobe.xmp`, or `seedream` beside a foreign XMP) after `IHDR`.
//!
//! Only segments and chunks are inserted (or a previous record of ours replaced): every byte of the
//! compressed image data stays as it was. Any other format is refused with [`ProvenanceError`].

use std::fmt::Write as _;

use crate::image::{ImageFormat, sniff_format};
use crate::markup::{escape, unescape};

/// What made an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The prompt, as sent.
    pub prompt: String,
    /// The model id the request named (or the service answered with).
    pub model: String,
    /// The image's `WxH`, when known.
    pub size: Option<String>,
    /// The seed, when the request gave one.
    pub seed: Option<i64>,
    /// The service's request id.
    pub request_id: Option<String>,
    /// When it was made, RFC 3339 (`2026-11-29T13:40:00Z`); empty when unknown (then not written).
    pub created: String,
    /// Whether a local emulator drew it (not the real service).
    pub synthetic: bool,
    /// The program that saved it, such as `seedream 0.1.0`.
    pub tool: String,
}

/// Why provenance could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvenanceError {
    /// The bytes are neither JPEG nor PNG.
    #[error("not a JPEG or PNG file")]
    UnsupportedFormat,
    /// The file's structure is broken (cut short, a bad segment or chunk length).
    #[error("the {0} file is damaged: {1}")]
    Damaged(&'static str, String),
}

const NS: &str = "https://github.com/seedream-rs/ns/provenance/1.0/";
const XMP_APP1_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const PNG_XMP_KEYWORD: &str = "XML:com.adobe.xmp";
const PNG_OWN_KEYWORD: &str = "seedream";
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The largest JPEG segment payload (the length field is 16 bits and counts itself).
const MAX_SEGMENT: usize = 65_533;
/// The longest packet written or read back (a PNG's, whose prompt is shortened to fit). A longer
/// text is not ours: an answer's image could carry megabytes of it, and reading is done per saved
/// image.
pub const MAX_PACKET_LEN: usize = 256 * 1024;

impl Provenance {
    /// The XMP packet of this record.
    pub fn to_xmp(&self) -> String {
        let mut attributes = format!(" seedream:model=\"{}\"", escape(&self.model));
        let mut add = |name: &str, value: &str| {
            let _ = write!(attributes, "\n   {name}=\"{}\"", escape(value));
        };
        if let Some(size) = &self.size {
            add("seedream:size", size);
        }
        if let Some(seed) = self.seed {
            add("seedream:seed", &seed.to_string());
        }
        if let Some(id) = &self.request_id {
            add("seedream:requestId", id);
        }
        add("seedream:synthetic", if self.synthetic { "True" } else { "False" });
        // A deterministic file (the emulator's) has no time to state.
        if !self.created.is_empty() {
            add("xmp:CreateDate", &self.created);
        }
        add("xmp:CreatorTool", &self.tool);
        format!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
             <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n \
             <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n  \
             <rdf:Description rdf:about=\"\"\n   \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n   \
             xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n   \
             xmlns:seedream=\"{NS}\"\n  \
             {attributes}>\n   \
             <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:description>\n  \
             </rdf:Description>\n \
             </rdf:RDF>\n\
             </x:xmpmeta>\n\
             <?xpacket end=\"w\"?>",
            escape(&self.prompt)
        )
    }

    /// Reads a record from an XMP packet written by [`to_xmp`](Self::to_xmp); `None` when the
    /// packet is not ours.
    pub fn from_xmp(xmp: &str) -> Option<Self> {
        if xmp.len() > MAX_PACKET_LEN || !xmp.contains(NS) {
            return None;
        }
        let attr = |name: &str| -> Option<String> {
            let start = xmp.find(&format!("{name}=\""))? + name.len() + 2;
            let end = start + xmp[start..].find('"')?;
            Some(unescape(&xmp[start..end]))
        };
        let prompt = xmp
            .find("<rdf:li xml:lang=\"x-default\">")
            .and_then(|at| {
                let start = at + "<rdf:li xml:lang=\"x-default\">".len();
                Some(unescape(&xmp[start..start + xmp[start..].find("</rdf:li>")?]))
            })
            .unwrap_or_default();
        Some(Self {
            prompt,
            model: attr("seedream:model").unwrap_or_default(),
            size: attr("seedream:size"),
            seed: attr("seedream:seed").and_then(|s| s.parse().ok()),
            request_id: attr("seedream:requestId"),
            created: attr("xmp:CreateDate").unwrap_or_default(),
            synthetic: attr("seedream:synthetic").is_some_and(|s| s == "True"),
            tool: attr("xmp:CreatorTool").unwrap_or_default(),
        })
    }
}

/// The image with `provenance` written into it (a previous record of ours is replaced).
pub fn embed(image: &[u8], provenance: &Provenance) -> Result<Vec<u8>, ProvenanceError> {
    match sniff_format(image) {
        Some(ImageFormat::Jpeg) => embed_jpeg(image, provenance),
        Some(ImageFormat::Png) => embed_png(image, provenance),
        _ => Err(ProvenanceError::UnsupportedFormat),
    }
}

/// Room set aside for a record in an image written as it arrives ([`reserve`]), filled in once the
/// record is known ([`fill`]): one JPEG segment or PNG chunk of fixed length where [`embed`] puts a
/// record, so writing the record costs its own few KiB where `embed` rewrites the whole image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// Where it starts in the file: after SOI (and JFIF's APP0 when that comes first) in a JPEG,
    /// after IHDR in a PNG.
    pub offset: usize,
    /// Its length in bytes, a segment's marker or a chunk's length and CRC included.
    pub len: usize,
}

/// Room for a record of up to `packet` bytes of XMP in the JPEG or PNG whose first bytes are `head`,
/// and the placeholder to write there until [`fill`] (a JPEG comment or a PNG `seedream` text of
/// spaces, so the file is a valid image meanwhile). `None` for other formats, or when `head` ends
/// before the place of the record.
pub fn reserve(head: &[u8], packet: usize) -> Option<(Reservation, Vec<u8>)> {
    match sniff_format(head)? {
        ImageFormat::Jpeg => {
            let offset = match head.get(2..6)? {
                [0xFF, 0xE0, high, low] => 4 + usize::from(u16::from_be_bytes([*high, *low])),
                _ => 2,
            };
            let payload = XMP_APP1_HEADER.len() + packet;
            if offset > head.len() || payload > MAX_SEGMENT {
                return None;
            }
            Some((Reservation { offset, len: 4 + payload }, jpeg_segment(0xFE, &vec![b' '; payload])))
        }
        ImageFormat::Png => {
            let ihdr = png_chunks_in(head, false).ok()?.into_iter().next().filter(|c| c.kind == b"IHDR")?;
            // The longer keyword's room: ours may be either (see `fill`).
            let data = PNG_XMP_KEYWORD.len() + 5 + packet;
            if data > MAX_PACKET_LEN {
                return None;
            }
            let mut placeholder = PNG_OWN_KEYWORD.as_bytes().to_vec();
            placeholder.resize(data, b' ');
            placeholder[PNG_OWN_KEYWORD.len()..PNG_OWN_KEYWORD.len() + 5].fill(0);
            Some((Reservation { offset: ihdr.end, len: 12 + data }, png_chunk(b"iTXt", &placeholder)))
        }
        _ => None,
    }
}

/// The segment or chunk that puts `provenance` in `room`, padded to its length, for a file whose
/// first bytes (the room's placeholder among them) are `head`: a JPEG's up to its scan data, a PNG's
/// as far as its chunks before the pixels reach. A foreign XMP packet stays the file's XMP, and ours
/// is then a JPEG comment or a PNG `seedream` text, as [`embed`] writes it: a packet within `head`,
/// or in a PNG one after it (`xmp_after_head`, found by walking the chunks that follow
/// [`png_chunks_after`] with [`PngChunkHead`]). `None` when the record does not fit, `head` does not
/// parse as the image's segments or chunks (bytes that cannot carry a record, for `embed` too), or
/// `head` is not the file of `room`.
pub fn fill(room: &Reservation, head: &[u8], provenance: &Provenance, xmp_after_head: bool) -> Option<Vec<u8>> {
    let packet = provenance.to_xmp();
    // XMP's own padding: whitespace before the closing processing instruction.
    let end = packet.rfind("<?xpacket end").unwrap_or(packet.len());
    let padded = |before: &[u8], room_len: usize| -> Option<Vec<u8>> {
        let padding = room_len.checked_sub(before.len() + packet.len())?;
        let mut payload = Vec::with_capacity(room_len);
        payload.extend_from_slice(before);
        payload.extend_from_slice(&packet.as_bytes()[..end]);
        payload.resize(payload.len() + padding, b' ');
        payload.extend_from_slice(&packet.as_bytes()[end..]);
        Some(payload)
    };
    match sniff_format(head)? {
        ImageFormat::Jpeg => {
            let segments = jpeg_segments(head).ok()?;
            if !segments.iter().any(|s| s.start == room.offset && s.end == room.offset + room.len) {
                return None;
            }
            let foreign_xmp = segments.iter().any(|s| {
                s.start != room.offset
                    && s.marker == 0xE1
                    && s.payload.strip_prefix(XMP_APP1_HEADER).is_some_and(|text| packet_of(text).is_none())
            });
            let header: &[u8] = if foreign_xmp { &[] } else { XMP_APP1_HEADER };
            Some(jpeg_segment(if foreign_xmp { 0xFE } else { 0xE1 }, &padded(header, room.len - 4)?))
        }
        ImageFormat::Png => {
            let chunks = png_chunks_in(head, false).ok()?;
            if !chunks.iter().any(|c| c.start == room.offset && c.end == room.offset + room.len) {
                return None;
            }
            let foreign_xmp = xmp_after_head
                || chunks.iter().any(|c| {
                    c.start != room.offset
                        && itxt(c).is_some_and(|(keyword, text)| {
                            keyword == PNG_XMP_KEYWORD.as_bytes() && packet_of(text).is_none()
                        })
                });
            let keyword = if foreign_xmp { PNG_OWN_KEYWORD } else { PNG_XMP_KEYWORD };
            let before = [keyword.as_bytes(), &[0; 5]].concat();
            Some(png_chunk(b"iTXt", &padded(&before, room.len - 12)?))
        }
        _ => None,
    }
}

/// Where the chunks after a PNG's first bytes `head` start, when the file goes on past them: its
/// pixels, and after them chunks that may hold an XMP packet, which a record's [`fill`] must know
/// of. `None` for a JPEG (its XMP comes before the scan, within the head [`fill`] reads), other bytes,
/// or a `head` that reaches `IEND`.
pub fn png_chunks_after(head: &[u8]) -> Option<u64> {
    let chunks = png_chunks_in(head, false).ok()?;
    let last = chunks.last()?;
    (last.kind != b"IEND").then_some(last.end as u64)
}

/// A PNG chunk as its first [`PngChunkHead::LEN`] bytes tell it, to walk a file's chunks without
/// reading their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PngChunkHead {
    /// The whole chunk's length: its length field, type, data and CRC.
    pub len: u64,
    /// It is `IEND`, the last chunk.
    pub is_end: bool,
    /// It is an `iTXt` chunk holding an XMP packet.
    pub is_xmp: bool,
}

impl PngChunkHead {
    /// How many bytes of a chunk's start [`of`](Self::of) reads: length, type, and the XMP keyword
    /// with its terminating zero.
    pub const LEN: usize = 8 + PNG_XMP_KEYWORD.len() + 1;

    /// The chunk whose first bytes are `start` (fewer than [`LEN`](Self::LEN) at the end of a file);
    /// `None` when they cannot start a chunk.
    pub fn of(start: &[u8]) -> Option<Self> {
        let header = start.get(..8)?;
        let data_len = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let kind = &header[4..8];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        // The keyword and its terminating zero (no allocation: this runs for every chunk of a walk).
        let keyword = PNG_XMP_KEYWORD.as_bytes();
        let is_xmp = kind == b"iTXt"
            && start.get(8..8 + keyword.len()) == Some(keyword)
            && start.get(8 + keyword.len()) == Some(&0);
        Some(Self { len: 12 + data_len, is_end: kind == b"IEND", is_xmp })
    }
}

/// A JPEG marker segment: the marker, the length, the payload (at most [`MAX_SEGMENT`] bytes).
fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut segment = Vec::with_capacity(payload.len() + 4);
    segment.extend_from_slice(&[0xFF, marker]);
    segment.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap_or(u16::MAX).to_be_bytes());
    segment.extend_from_slice(payload);
    segment
}

/// The record an image carries: `Ok(None)` for a JPEG or PNG without one of ours.
pub fn read(image: &[u8]) -> Result<Option<Provenance>, ProvenanceError> {
    let texts = match sniff_format(image) {
        Some(ImageFormat::Jpeg) => jpeg_segments(image)?
            .into_iter()
            .filter_map(|s| match s.marker {
                0xE1 => s.payload.strip_prefix(XMP_APP1_HEADER),
                0xFE => Some(s.payload),
                _ => None,
            })
            .collect::<Vec<_>>(),
        Some(ImageFormat::Png) => png_chunks(image)?.into_iter().filter_map(itxt_text).collect(),
        _ => return Err(ProvenanceError::UnsupportedFormat),
    };
    Ok(texts.into_iter().find_map(packet_of))
}

/// The record in one segment's or chunk's text, when it is ours (and not over [`MAX_PACKET_LEN`],
/// checked before any copy).
fn packet_of(text: &[u8]) -> Option<Provenance> {
    (text.len() <= MAX_PACKET_LEN).then(|| Provenance::from_xmp(&String::from_utf8_lossy(text)))?
}

/// One JPEG marker segment before the scan data.
struct Segment<'a> {
    marker: u8,
    /// Where the segment (its 0xFF) starts and ends in the file.
    start: usize,
    end: usize,
    payload: &'a [u8],
}

/// The marker segments from SOI up to (not including) SOS.
fn jpeg_segments(b: &[u8]) -> Result<Vec<Segment<'_>>, ProvenanceError> {
    let damaged = |why: &str| ProvenanceError::Damaged("JPEG", why.to_owned());
    let mut segments = Vec::new();
    let mut at = 2;
    loop {
        let (&ff, &marker) =
            (b.get(at).ok_or_else(|| damaged("cut short"))?, b.get(at + 1).ok_or_else(|| damaged("cut short"))?);
        if ff != 0xFF {
            return Err(damaged("a marker was expected"));
        }
        match marker {
            0xFF => at += 1, // fill byte
            0xDA | 0xD9 => return Ok(segments),
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                let len = usize::from(u16::from_be_bytes([
                    *b.get(at + 2).ok_or_else(|| damaged("cut short"))?,
                    *b.get(at + 3).ok_or_else(|| damaged("cut short"))?,
                ]));
                let end = at + 2 + len;
                if len < 2 || end > b.len() {
                    return Err(damaged("a segment length runs past the end"));
                }
                segments.push(Segment { marker, start: at, end, payload: &b[at + 4..end] });
                at = end;
            }
        }
    }
}

fn embed_jpeg(image: &[u8], provenance: &Provenance) -> Result<Vec<u8>, ProvenanceError> {
    let segments = jpeg_segments(image)?;
    let is_ours = |s: &Segment<'_>| {
        let text = match s.marker {
            0xE1 => s.payload.strip_prefix(XMP_APP1_HEADER),
            0xFE => Some(s.payload),
            _ => None,
        };
        text.and_then(packet_of).is_some()
    };
    let foreign_xmp =
        segments.iter().any(|s| s.marker == 0xE1 && s.payload.starts_with(XMP_APP1_HEADER) && !is_ours(s));
    // JFIF wants its APP0 right after SOI; ours goes after it.
    let insert_at = segments.first().filter(|s| s.marker == 0xE0).map_or(2, |s| s.end);
    let header_len = if foreign_xmp { 0 } else { XMP_APP1_HEADER.len() };
    let packet = packet_within(provenance, MAX_SEGMENT - header_len);
    let header: &[u8] = if foreign_xmp { &[] } else { XMP_APP1_HEADER };
    let segment = jpeg_segment(if foreign_xmp { 0xFE } else { 0xE1 }, &[header, packet.as_bytes()].concat());

    // SOI [APP0], ours, then everything else minus our old records.
    let mut result = Vec::with_capacity(image.len() + segment.len());
    result.extend_from_slice(&image[..insert_at]);
    result.extend_from_slice(&segment);
    let mut at = insert_at;
    for old in segments.iter().filter(|s| s.start >= insert_at && is_ours(s)) {
        result.extend_from_slice(&image[at..old.start]);
        at = old.end;
    }
    result.extend_from_slice(&image[at..]);
    Ok(result)
}

/// The record's packet, its prompt shortened (rather than the save refused) when the packet would
/// be longer than `max` bytes.
fn packet_within(provenance: &Provenance, max: usize) -> String {
    let packet = provenance.to_xmp();
    if packet.len() <= max {
        return packet;
    }
    let mut shorter = provenance.clone();
    let budget = max.saturating_sub(packet.len() - escape(&provenance.prompt).len() + 16);
    shorter.prompt = truncate_escaped(&provenance.prompt, budget);
    shorter.to_xmp()
}

fn truncate_escaped(prompt: &str, budget: usize) -> String {
    let mut kept = String::new();
    let mut escaped_len = 0;
    for c in prompt.chars() {
        escaped_len += escape(c.encode_utf8(&mut [0; 4])).len();
        if escaped_len + '…'.len_utf8() > budget {
            kept.push('…');
            break;
        }
        kept.push(c);
    }
    kept
}

/// One PNG chunk.
struct Chunk<'a> {
    kind: &'a [u8],
    start: usize,
    end: usize,
    data: &'a [u8],
}

fn png_chunks(b: &[u8]) -> Result<Vec<Chunk<'_>>, ProvenanceError> {
    png_chunks_in(b, true)
}

/// The chunks of `b`; of a file's first bytes only (`whole` false), the chunks that end within them.
fn png_chunks_in(b: &[u8], whole: bool) -> Result<Vec<Chunk<'_>>, ProvenanceError> {
    let damaged = |why: &str| ProvenanceError::Damaged("PNG", why.to_owned());
    if !b.starts_with(PNG_SIGNATURE) {
        return Err(damaged("the signature is wrong"));
    }
    let mut chunks = Vec::new();
    let mut at = PNG_SIGNATURE.len();
    while at < b.len() {
        let Some(header) = b.get(at..at + 8) else {
            if whole {
                return Err(damaged("cut short"));
            }
            break;
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let end = at.checked_add(12).and_then(|v| v.checked_add(len)).filter(|&end| end <= b.len());
        let end = match end {
            Some(end) => end,
            None if whole => return Err(damaged("a chunk length runs past the end")),
            None => break,
        };
        let kind = &b[at + 4..at + 8];
        chunks.push(Chunk { kind, start: at, end, data: &b[at + 8..end - 4] });
        at = end;
        if kind == b"IEND" {
            break;
        }
    }
    if chunks.first().is_none_or(|c| c.kind != b"IHDR") {
        return Err(damaged("IHDR is not the first chunk"));
    }
    Ok(chunks)
}

/// The keyword and text of an uncompressed `iTXt` chunk.
fn itxt<'a>(chunk: &Chunk<'a>) -> Option<(&'a [u8], &'a [u8])> {
    if chunk.kind != b"iTXt" {
        return None;
    }
    let data = chunk.data;
    let keyword_end = data.iter().position(|&b| b == 0)?;
    let (compressed, rest) = (*data.get(keyword_end + 1)?, data.get(keyword_end + 3..)?);
    if compressed != 0 {
        return None;
    }
    let language_end = rest.iter().position(|&b| b == 0)?;
    let rest = &rest[language_end + 1..];
    let translated_end = rest.iter().position(|&b| b == 0)?;
    Some((&data[..keyword_end], &rest[translated_end + 1..]))
}

fn itxt_text<'a>(chunk: Chunk<'a>) -> Option<&'a [u8]> {
    let (keyword, text) = itxt(&chunk)?;
    (keyword == PNG_XMP_KEYWORD.as_bytes() || keyword == PNG_OWN_KEYWORD.as_bytes()).then_some(text)
}

fn embed_png(image: &[u8], provenance: &Provenance) -> Result<Vec<u8>, ProvenanceError> {
    let chunks = png_chunks(image)?;
    let is_ours = |c: &Chunk<'_>| itxt(c).and_then(|(_, text)| packet_of(text)).is_some();
    let foreign_xmp =
        chunks.iter().any(|c| itxt(c).is_some_and(|(k, _)| k == PNG_XMP_KEYWORD.as_bytes()) && !is_ours(c));
    let keyword = if foreign_xmp { PNG_OWN_KEYWORD } else { PNG_XMP_KEYWORD };
    let packet = packet_within(provenance, MAX_PACKET_LEN);
    let mut data = Vec::with_capacity(keyword.len() + 5 + packet.len());
    data.extend_from_slice(keyword.as_bytes());
    data.extend_from_slice(&[0, 0, 0, 0, 0]); // NUL, not compressed, method 0, no language, no translation
    data.extend_from_slice(packet.as_bytes());
    let chunk = png_chunk(b"iTXt", &data);

    let after_ihdr = chunks[0].end;
    let mut out = Vec::with_capacity(image.len() + chunk.len());
    out.extend_from_slice(&image[..after_ihdr]);
    out.extend_from_slice(&chunk);
    let mut at = after_ihdr;
    for old in chunks.iter().filter(|c| is_ours(c)) {
        out.extend_from_slice(&image[at..old.start]);
        at = old.end;
    }
    out.extend_from_slice(&image[at..]);
    Ok(out)
}

/// A PNG chunk: length, kind, data, CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = Vec::with_capacity(data.len() + 12);
    chunk.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    chunk
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Provenance {
        Provenance {
            prompt: "a \"lighthouse\" <at> dawn & 灯塔\nline two".into(),
            model: "doubao-seedream-5-0-pro-260628".into(),
            size: Some("2048x2048".into()),
            seed: Some(42),
            request_id: Some("0217-abc".into()),
            created: "2026-11-29T13:40:00Z".into(),
            synthetic: true,
            tool: "seedream 0.1.0".into(),
        }
    }

    /// SOI, JFIF APP0, a quantisation table, SOS with two bytes of "scan data", EOI.
    fn jpeg() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        b.extend_from_slice(&[0xFF, 0xDB, 0, 4, 0, 1]);
        b.extend_from_slice(&[0xFF, 0xDA, 0, 2, 0x12, 0x34, 0xFF, 0xD9]);
        b
    }

    fn png() -> Vec<u8> {
        let mut b = PNG_SIGNATURE.to_vec();
        for (kind, data) in
            [(&b"IHDR"[..], &[0u8, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0][..]), (b"IDAT", b"xyz"), (b"IEND", b"")]
        {
            b.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = b.len();
            b.extend_from_slice(kind);
            b.extend_from_slice(data);
            let crc = crc32(&b[start..]);
            b.extend_from_slice(&crc.to_be_bytes());
        }
        b
    }

    #[test]
    fn jpeg_carries_the_record_after_jfif_and_keeps_every_other_byte() {
        let original = jpeg();
        let with = embed(&original, &record()).unwrap();
        assert_eq!(read(&with).unwrap(), Some(record()));
        assert_eq!(&with[..20], &original[..20], "SOI and APP0 first");
        assert_eq!(&with[20..22], &[0xFF, 0xE1]);
        assert!(with.ends_with(&original[20..]), "the rest, scan data included, is untouched");
        // Saving again replaces the record instead of adding a second one.
        let mut other = record();
        other.prompt = "second".into();
        let again = embed(&with, &other).unwrap();
        assert_eq!(again.len(), with.len() - record().to_xmp().len() + other.to_xmp().len());
        assert_eq!(read(&again).unwrap().unwrap().prompt, "second");
        assert_eq!(read(&original).unwrap(), None);
    }

    #[test]
    fn png_carries_the_record_in_itxt_after_ihdr_with_a_valid_crc() {
        let original = png();
        let with = embed(&original, &record()).unwrap();
        assert_eq!(read(&with).unwrap(), Some(record()));
        let chunks = png_chunks(&with).unwrap();
        let kinds: Vec<_> = chunks.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [&b"IHDR"[..], b"iTXt", b"IDAT", b"IEND"]);
        for chunk in &chunks {
            let crc = u32::from_be_bytes(with[chunk.end - 4..chunk.end].try_into().unwrap());
            assert_eq!(crc, crc32(&with[chunk.start + 4..chunk.end - 4]));
        }
        assert!(with.ends_with(&original[33..]), "IDAT and IEND untouched");
        assert_eq!(embed(&with, &record()).unwrap(), with, "idempotent");
    }

    #[test]
    fn a_foreign_xmp_packet_is_kept_and_ours_goes_beside_it() {
        let foreign = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">theirs</x:xmpmeta>";
        let mut jpeg_with_xmp = jpeg();
        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&((foreign.len() + XMP_APP1_HEADER.len() + 2) as u16).to_be_bytes());
        segment.extend_from_slice(XMP_APP1_HEADER);
        segment.extend_from_slice(foreign);
        jpeg_with_xmp.splice(20..20, segment);
        let with = embed(&jpeg_with_xmp, &record()).unwrap();
        assert_eq!(read(&with).unwrap(), Some(record()));
        assert!(with.windows(foreign.len()).any(|w| w == foreign), "their packet is still there");
        assert_eq!(&with[20..22], &[0xFF, 0xFE], "ours is a COM segment");
    }

    #[test]
    fn a_huge_prompt_is_shortened_to_fit_one_jpeg_segment() {
        let mut long = record();
        long.prompt = "猫<".repeat(40_000);
        let with = embed(&jpeg(), &long).unwrap();
        let back = read(&with).unwrap().unwrap();
        assert!(back.prompt.ends_with('…') && long.prompt.starts_with(back.prompt.trim_end_matches('…')));
    }

    #[test]
    fn a_huge_prompt_is_shortened_to_what_a_png_reads_back() {
        let mut long = record();
        long.prompt = "&".repeat(MAX_PACKET_LEN);
        let back = read(&embed(&png(), &long).unwrap()).unwrap().unwrap();
        assert!(back.prompt.ends_with('…') && back.prompt.len() < MAX_PACKET_LEN / 4, "{}", back.prompt.len());
    }

    /// An answer's image whose XMP is megabytes of `&` (with our namespace, so it reads as ours) is
    /// not parsed: it is not ours, and stamping replaces nothing of it.
    #[test]
    fn a_packet_over_the_limit_is_not_read() {
        let huge = format!("{NS} {}", "&".repeat(4 << 20));
        let mut chunk = b"iTXt".to_vec();
        chunk.extend_from_slice(PNG_XMP_KEYWORD.as_bytes());
        chunk.extend_from_slice(&[0, 0, 0, 0, 0]);
        chunk.extend_from_slice(huge.as_bytes());
        let png = png();
        let mut with = png[..33].to_vec(); // signature and IHDR
        with.extend_from_slice(&u32::try_from(chunk.len() - 4).unwrap().to_be_bytes());
        with.extend_from_slice(&chunk);
        with.extend_from_slice(&crc32(&chunk).to_be_bytes());
        with.extend_from_slice(&png[33..]);
        assert_eq!(read(&with), Ok(None));
        let stamped = embed(&with, &record()).unwrap();
        assert_eq!(read(&stamped).unwrap(), Some(record()));
        assert!(stamped.len() > with.len(), "the foreign packet is kept, ours goes beside it");
    }

    /// `image` written as a streamed save writes it: the placeholder at its room.
    fn with_room(image: &[u8], packet: usize) -> (Reservation, Vec<u8>) {
        let (room, placeholder) = reserve(image, packet).expect("a JPEG has room");
        assert_eq!(placeholder.len(), room.len);
        let mut file = image[..room.offset].to_vec();
        file.extend_from_slice(&placeholder);
        file.extend_from_slice(&image[room.offset..]);
        (room, file)
    }

    #[test]
    fn a_reserved_room_takes_the_record_where_embed_puts_it_and_the_image_stays_whole() {
        let image = jpeg();
        let (room, mut file) = with_room(&image, 2048);
        assert_eq!(read(&file).unwrap(), None, "the placeholder is not a record");
        let segment = fill(&room, &file, &record(), false).expect("the record fits");
        assert_eq!(segment.len(), room.len);
        file[room.offset..room.offset + room.len].copy_from_slice(&segment);
        assert_eq!(read(&file).unwrap(), Some(record()));
        // Every byte of the image is there around the segment, as `embed` leaves them.
        assert_eq!([&file[..room.offset], &file[room.offset + room.len..]].concat(), image);
        let embedded = embed(&image, &record()).unwrap();
        assert_eq!(&embedded[..room.offset], &file[..room.offset], "after SOI and APP0, as embed");
    }

    #[test]
    fn a_record_larger_than_its_room_or_a_foreign_file_is_not_filled() {
        let (room, file) = with_room(&jpeg(), 64);
        assert_eq!(fill(&room, &file, &record(), false), None, "64 bytes cannot take the packet");
        let (room, _) = with_room(&jpeg(), 4096);
        assert_eq!(fill(&room, &jpeg(), &record(), false), None, "a file without the room");
        assert_eq!(reserve(&jpeg()[..3], 4096), None, "a head too short");
    }

    #[test]
    fn a_png_room_after_ihdr_takes_the_record_with_valid_crcs_and_a_foreign_packet_stays_theirs() {
        let image = png();
        let (room, mut file) = with_room(&image, 2048);
        assert_eq!(room.offset, 33, "after IHDR");
        assert_eq!(read(&file).unwrap(), None, "the placeholder is not a record");
        let segment = fill(&room, &file, &record(), false).expect("fits");
        file[room.offset..room.offset + room.len].copy_from_slice(&segment);
        assert_eq!(read(&file).unwrap(), Some(record()));
        for chunk in png_chunks(&file).unwrap() {
            let crc = u32::from_be_bytes(file[chunk.end - 4..chunk.end].try_into().unwrap());
            assert_eq!(crc, crc32(&file[chunk.start + 4..chunk.end - 4]), "{:?}", chunk.kind);
        }
        assert_eq!([&file[..room.offset], &file[room.offset + room.len..]].concat(), image);
        // Only the first bytes: the pixels' chunk cut off still finds the room.
        assert!(fill(&room, &file[..room.offset + room.len + 10], &record(), false).is_some());

        let foreign = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">theirs</x:xmpmeta>";
        let mut theirs = image.clone();
        let data = [PNG_XMP_KEYWORD.as_bytes(), &[0; 5], &foreign[..]].concat();
        theirs.splice(33..33, png_chunk(b"iTXt", &data));
        let (room, mut file) = with_room(&theirs, 2048);
        let segment = fill(&room, &file, &record(), false).expect("fits");
        assert!(segment[8..].starts_with(PNG_OWN_KEYWORD.as_bytes()), "ours is the seedream text");
        file[room.offset..room.offset + room.len].copy_from_slice(&segment);
        assert_eq!(read(&file).unwrap(), Some(record()));
        assert!(file.windows(foreign.len()).any(|w| w == foreign), "their packet is still there");
    }

    #[test]
    fn a_walk_of_png_chunk_heads_past_the_head_finds_an_xmp_packet_after_the_pixels() {
        // Walks `file`'s chunks from where `head` leaves off, as a saver does with reads at offsets.
        let walk = |file: &[u8], head: &[u8]| -> (bool, usize) {
            let (mut at, mut steps) = (png_chunks_after(head).expect("the file goes on") as usize, 0);
            while at < file.len() {
                let chunk = PngChunkHead::of(&file[at..file.len().min(at + PngChunkHead::LEN)]).expect("a chunk");
                steps += 1;
                if chunk.is_xmp || chunk.is_end {
                    return (chunk.is_xmp, steps);
                }
                at += chunk.len as usize;
            }
            (false, steps)
        };
        let foreign = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">theirs</x:xmpmeta>";
        let image = png();
        let iend = image.len() - 12;
        let mut theirs = image.clone();
        let data = [PNG_XMP_KEYWORD.as_bytes(), &[0; 5], &foreign[..]].concat();
        theirs.splice(iend..iend, png_chunk(b"iTXt", &data));
        theirs.splice(iend..iend, png_chunk(b"tEXt", b"Comment\0after the pixels"));
        let (room, mut file) = with_room(&theirs, 2048);
        let head = &file[..room.offset + room.len + 10];
        assert_eq!(walk(&file, head), (true, 3), "the pixels, a text, then their packet");
        let segment = fill(&room, head, &record(), true).expect("fits");
        assert!(segment[8..].starts_with(PNG_OWN_KEYWORD.as_bytes()), "ours is the seedream text");
        file[room.offset..room.offset + room.len].copy_from_slice(&segment);
        assert_eq!(read(&file).unwrap(), Some(record()));

        let (room, file) = with_room(&image, 2048);
        assert_eq!(walk(&file, &file[..room.offset + room.len + 10]), (false, 2), "the pixels, then IEND");
        assert_eq!(png_chunks_after(&file), None, "a head that reaches IEND");
        assert_eq!(png_chunks_after(&jpeg()), None);
        assert_eq!(PngChunkHead::of(b"\0\0\0\x04\xff\xd8\0\0"), None, "not a chunk type");
        assert_eq!(PngChunkHead::of(b"\0\0\0"), None, "cut short");
    }

    #[test]
    fn beside_a_foreign_xmp_packet_the_room_becomes_a_comment() {
        let foreign = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">theirs</x:xmpmeta>";
        let mut image = jpeg();
        image.splice(20..20, jpeg_segment(0xE1, &[XMP_APP1_HEADER, &foreign[..]].concat()));
        let (room, mut file) = with_room(&image, 4096);
        let segment = fill(&room, &file, &record(), false).expect("fits");
        assert_eq!(&segment[..2], &[0xFF, 0xFE], "a comment, not a second XMP packet");
        file[room.offset..room.offset + room.len].copy_from_slice(&segment);
        assert!(file.windows(foreign.len()).any(|w| w == foreign), "their packet is still there");
        assert_eq!(read(&file).unwrap(), Some(record()));
    }

    #[test]
    fn other_formats_and_damaged_files_are_errors_not_panics() {
        assert_eq!(embed(b"GIF89a....", &record()), Err(ProvenanceError::UnsupportedFormat));
        assert_eq!(read(b"hello"), Err(ProvenanceError::UnsupportedFormat));
        let jpeg = jpeg();
        let png = png();
        for cut in 3..jpeg.len() - 4 {
            let _ = read(&jpeg[..cut]);
            let _ = embed(&jpeg[..cut], &record());
        }
        for cut in 8..png.len() {
            let _ = read(&png[..cut]);
            let _ = embed(&png[..cut], &record());
        }
        assert!(matches!(read(&jpeg[..10]), Err(ProvenanceError::Damaged("JPEG", _))));
    }
}
