//! Input images as the service sees them: URLs, `data:` URLs, and the dimensions in an image's header.
//!
//! Only what can be known without a network: the data URL's form, its format word, the base64, the
//! decoded size, and width and height read from the first bytes of PNG, JPEG, WebP, GIF, BMP or TIFF.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::size::Dimensions;

/// An image file format the service reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (`image/jpeg`).
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// HEIC (HEIF with HEVC images).
    Heic,
    /// HEIF.
    Heif,
}

impl ImageFormat {
    const TABLE: [(ImageFormat, &'static str); 8] = [
        (ImageFormat::Jpeg, "jpeg"),
        (ImageFormat::Png, "png"),
        (ImageFormat::Webp, "webp"),
        (ImageFormat::Gif, "gif"),
        (ImageFormat::Bmp, "bmp"),
        (ImageFormat::Tiff, "tiff"),
        (ImageFormat::Heic, "heic"),
        (ImageFormat::Heif, "heif"),
    ];

    /// The lower-case format word used in `data:image/<word>;base64,` and in media types.
    pub fn as_str(self) -> &'static str {
        Self::TABLE.iter().find(|(f, _)| *f == self).map_or("jpeg", |(_, s)| s)
    }

    /// Parses a lower-case format word; `jpg` is taken as `jpeg`.
    pub fn from_word(word: &str) -> Option<Self> {
        if word == "jpg" {
            return Some(ImageFormat::Jpeg);
        }
        Self::TABLE.iter().find(|(_, s)| *s == word).map(|(f, _)| *f)
    }

    /// The media type, such as `image/png`.
    pub fn media_type(self) -> String {
        format!("image/{}", self.as_str())
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            other => other.as_str(),
        }
    }
}

/// A format is written as its lower-case word (`png`, `jpeg`, …) in catalog files.
impl serde::Serialize for ImageFormat {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ImageFormat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = std::borrow::Cow::<str>::deserialize(deserializer)?;
        ImageFormat::from_word(&word).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown image format {word:?}: use jpeg, png, webp, gif, bmp, tiff, heic or heif"
            ))
        })
    }
}

impl schemars::JsonSchema for ImageFormat {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ImageFormat".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "enum": ["jpeg", "png", "webp", "gif", "bmp", "tiff", "heic", "heif"]})
    }
}

/// The parts of `data:image/<format>;base64,<data>`, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataUrl<'a> {
    /// The format word exactly as written (validation requires it in lower case).
    pub format: &'a str,
    /// The base64 text.
    pub base64: &'a str,
}

/// Why a string is not a usable `data:` image URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataUrlError {
    /// Not of the form `data:image/<format>;base64,<data>`.
    #[error("must be of the form data:image/<format>;base64,<data>")]
    Malformed,
    /// The base64 part does not decode.
    #[error("the base64 data does not decode: {0}")]
    Base64(String),
}

impl<'a> DataUrl<'a> {
    /// Splits a data URL into its format word and base64 text. Returns `None` when `text` is not a
    /// `data:` URL at all, and an error when it is one of the wrong form.
    pub fn parse(text: &'a str) -> Option<Result<Self, DataUrlError>> {
        let rest = text.strip_prefix("data:")?;
        Some(Self::parse_rest(rest))
    }

    fn parse_rest(rest: &'a str) -> Result<Self, DataUrlError> {
        let (header, base64) = rest.split_once(',').ok_or(DataUrlError::Malformed)?;
        let format = header
            .strip_prefix("image/")
            .and_then(|h| h.strip_suffix(";base64"))
            .filter(|f| !f.is_empty() && !f.contains(';'))
            .ok_or(DataUrlError::Malformed)?;
        Ok(DataUrl { format, base64 })
    }

    /// Decodes the base64 data.
    pub fn decode(&self) -> Result<Vec<u8>, DataUrlError> {
        STANDARD.decode(self.base64).map_err(|e| DataUrlError::Base64(e.to_string()))
    }

    /// Checks that the base64 decodes, without decoding it: accepts exactly what [`DataUrl::decode`]
    /// accepts and refuses the rest with the same error.
    pub fn check_base64(&self) -> Result<(), DataUrlError> {
        first_base64_error(self.base64.as_bytes()).map_or(Ok(()), |e| Err(DataUrlError::Base64(e.to_string())))
    }

    /// The format and dimensions in the image's header, as [`read_dimensions`] reads them from the
    /// decoded bytes. Call it on base64 that [`DataUrl::check_base64`] accepts.
    pub fn dimensions(&self) -> Option<(ImageFormat, Dimensions)> {
        self.probe_dimensions().found
    }

    /// [`DataUrl::dimensions`], and how many bytes it decoded to find them: the first
    /// [`HEADER_PREFIX_LEN`] bytes when the header is there, the whole image when it is not.
    pub fn probe_dimensions(&self) -> DimensionsProbe {
        let prefix = self.decode_prefix();
        let found = read_dimensions(&prefix);
        if found.is_some() || prefix.len() == self.decoded_len() {
            return DimensionsProbe { found, bytes_decoded: prefix.len() };
        }
        // Cut short: a JPEG with a large thumbnail before its frame header, say.
        let whole = self.decode().unwrap_or_default();
        DimensionsProbe { found: read_dimensions(&whole), bytes_decoded: whole.len() }
    }

    /// The first [`HEADER_PREFIX_LEN`] decoded bytes (all of them for a smaller image); empty when
    /// the base64 does not decode.
    fn decode_prefix(&self) -> Vec<u8> {
        const PREFIX_CHARS: usize = HEADER_PREFIX_LEN / 3 * 4;
        match self.base64.get(..PREFIX_CHARS).filter(|_| self.base64.len() > PREFIX_CHARS) {
            // Whole quads ahead of the last one hold no padding, so the prefix decodes on its own.
            Some(prefix) => STANDARD.decode(prefix).unwrap_or_default(),
            None => self.decode().unwrap_or_default(),
        }
    }

    /// The decoded length in bytes, computed from the text without decoding.
    pub fn decoded_len(&self) -> usize {
        let text = self.base64.as_bytes();
        let padding = text.iter().rev().take(2).take_while(|&&b| b == b'=').count();
        (text.len() / 4 * 3 + (text.len() % 4) * 3 / 4).saturating_sub(padding)
    }
}

/// How many decoded bytes [`DataUrl::dimensions`] reads first: the headers of PNG, GIF, BMP and WebP,
/// a JPEG's frame header after typical EXIF and ICC segments, and the 64 KiB (plus the 16 bytes of
/// an `ispe` box) that the HEIF reader searches. A multiple of 3, so it is whole base64 quads.
pub const HEADER_PREFIX_LEN: usize = (64 * 1024 + 16_usize).div_ceil(3) * 3;

/// What [`DataUrl::probe_dimensions`] found, and how many bytes it decoded to find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimensionsProbe {
    /// The format and dimensions, as [`read_dimensions`] gives them for the whole image.
    pub found: Option<(ImageFormat, Dimensions)>,
    /// How many bytes were decoded.
    pub bytes_decoded: usize,
}

/// The error `STANDARD.decode(text)` would give, found without decoding. The decoder reports, in this
/// order: a stray last byte when the length is one past whole quads, the first invalid byte before
/// the last quad, then whatever is wrong with the last quad (padding, length, trailing bits).
fn first_base64_error(text: &[u8]) -> Option<base64::DecodeError> {
    let rem = text.len() % 4;
    let last_quad_at = text.len().saturating_sub(if rem == 0 { 4 } else { rem });
    let stray_last_byte =
        (rem == 1).then(|| text.len() - 1).filter(|&at| !is_base64_symbol(text[at]) && text[at] != b'=');
    if let Some(at) = stray_last_byte {
        return Some(base64::DecodeError::InvalidByte(at, text[at]));
    }
    if let Some(at) = first_non_symbol(&text[..last_quad_at]) {
        return Some(base64::DecodeError::InvalidByte(at, text[at]));
    }
    STANDARD.decode(&text[last_quad_at..]).err().map(|error| shift_error(error, last_quad_at))
}

/// Where the first byte outside `A-Z a-z 0-9 + /` is. Checks 64 bytes at a time without branching
/// per byte, which the compiler turns into vector code: this scan is most of validation's time.
fn first_non_symbol(text: &[u8]) -> Option<usize> {
    const BLOCK: usize = 64;
    let block = text.chunks(BLOCK).position(|block| !block.iter().fold(true, |ok, &b| ok & is_base64_symbol(b)))?;
    let at = block * BLOCK;
    text[at..].iter().position(|&b| !is_base64_symbol(b)).map(|i| at + i)
}

fn is_base64_symbol(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    letter | digit | (b == b'+') | (b == b'/')
}

/// An error found in `text[at..]`, with its offsets made relative to `text`.
fn shift_error(error: base64::DecodeError, at: usize) -> base64::DecodeError {
    use base64::DecodeError::*;
    match error {
        InvalidByte(offset, byte) => InvalidByte(offset + at, byte),
        InvalidLength(len) => InvalidLength(len + at),
        InvalidLastSymbol(offset, byte) => InvalidLastSymbol(offset + at, byte),
        InvalidPadding => InvalidPadding,
    }
}

/// Builds `data:image/<format>;base64,<data>` for image bytes.
pub fn encode_data_url(format: ImageFormat, bytes: &[u8]) -> String {
    let mut url = String::with_capacity(20 + bytes.len().div_ceil(3) * 4);
    url.push_str("data:image/");
    url.push_str(format.as_str());
    url.push_str(";base64,");
    STANDARD.encode_string(bytes, &mut url);
    url
}

/// The format of image bytes, from their magic number.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some(ImageFormat::Png),
        [0xFF, 0xD8, 0xFF, ..] => Some(ImageFormat::Jpeg),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(ImageFormat::Webp),
        [b'G', b'I', b'F', b'8', ..] => Some(ImageFormat::Gif),
        [b'B', b'M', ..] => Some(ImageFormat::Bmp),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some(ImageFormat::Tiff),
        [_, _, _, _, b'f', b't', b'y', b'p', brand @ ..] => match brand.get(..4)? {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => Some(ImageFormat::Heic),
            b"mif1" | b"msf1" | b"heif" => Some(ImageFormat::Heif),
            _ => None,
        },
        _ => None,
    }
}

/// The format and pixel dimensions stated in an image's header, or `None` when the bytes are not
/// one of the supported formats or the header is cut short. Never panics on any input.
pub fn read_dimensions(bytes: &[u8]) -> Option<(ImageFormat, Dimensions)> {
    let format = sniff_format(bytes)?;
    let dims = match format {
        ImageFormat::Png => png(bytes),
        ImageFormat::Jpeg => jpeg(bytes),
        ImageFormat::Webp => webp(bytes),
        ImageFormat::Gif => Some(Dimensions::new(le16(bytes, 6)?.into(), le16(bytes, 8)?.into())),
        ImageFormat::Bmp => bmp(bytes),
        ImageFormat::Tiff => tiff(bytes),
        ImageFormat::Heic | ImageFormat::Heif => heif(bytes),
    }?;
    Some((format, dims))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// HEIF keeps the size in an `ispe` property box (version/flags, then width and height); the first
/// one found is the primary image's in the files cameras write.
fn heif(b: &[u8]) -> Option<Dimensions> {
    let head = &b[..b.len().min(64 * 1024)];
    let at = head.windows(4).position(|w| w == b"ispe")?;
    Some(Dimensions::new(be32(b, at + 8)?, be32(b, at + 12)?))
}

/// Whether the image has an alpha channel, from its header: PNG colour types with alpha or a
/// `tRNS` chunk, WebP with the alpha flag or lossless; `Some(false)` for formats without alpha
/// (JPEG), `None` when the bytes do not tell.
pub fn has_alpha(bytes: &[u8]) -> Option<bool> {
    match sniff_format(bytes)? {
        ImageFormat::Png => {
            let color_type = *bytes.get(25)?;
            Some(matches!(color_type, 4 | 6) || png_has_trns(bytes))
        }
        ImageFormat::Jpeg | ImageFormat::Bmp => Some(false),
        ImageFormat::Webp => match bytes.get(12..16)? {
            b"VP8X" => Some(bytes.get(20)? & 0x10 != 0),
            b"VP8L" => Some(bytes.get(24)? & 0x10 != 0),
            _ => Some(false),
        },
        _ => None,
    }
}

/// Walks PNG chunks up to the first `IDAT`, looking for `tRNS` (transparency for palette or
/// single-colour images).
fn png_has_trns(b: &[u8]) -> bool {
    let mut at = 8;
    while let (Some(len), Some(kind)) = (be32(b, at), b.get(at + 4..at + 8)) {
        match kind {
            b"tRNS" => return true,
            b"IDAT" | b"IEND" => return false,
            _ => at = at.saturating_add(12).saturating_add(len as usize),
        }
    }
    false
}

fn png(b: &[u8]) -> Option<Dimensions> {
    (b.get(12..16)? == b"IHDR").then_some(())?;
    Some(Dimensions::new(be32(b, 16)?, be32(b, 20)?))
}

fn jpeg(b: &[u8]) -> Option<Dimensions> {
    let mut at = 2;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while *b.get(at)? == 0xFF && *b.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        at += 2;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = usize::from(be16(b, at)?);
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            return Some(Dimensions::new(be16(b, at + 5)?.into(), be16(b, at + 3)?.into()));
        }
        if len < 2 {
            return None;
        }
        at += len;
    }
}

fn webp(b: &[u8]) -> Option<Dimensions> {
    match b.get(12..16)? {
        b"VP8 " => {
            // Key frame start code, then 14-bit width and height.
            (b.get(23..26)? == [0x9D, 0x01, 0x2A]).then_some(())?;
            Some(Dimensions::new((le16(b, 26)? & 0x3FFF).into(), (le16(b, 28)? & 0x3FFF).into()))
        }
        b"VP8L" => {
            (*b.get(20)? == 0x2F).then_some(())?;
            let bits = le32(b, 21)?;
            Some(Dimensions::new((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => {
            let w = u32::from_le_bytes([*b.get(24)?, *b.get(25)?, *b.get(26)?, 0]) + 1;
            let h = u32::from_le_bytes([*b.get(27)?, *b.get(28)?, *b.get(29)?, 0]) + 1;
            Some(Dimensions::new(w, h))
        }
        _ => None,
    }
}

fn bmp(b: &[u8]) -> Option<Dimensions> {
    let header_size = le32(b, 14)?;
    if header_size == 12 {
        return Some(Dimensions::new(le16(b, 18)?.into(), le16(b, 20)?.into()));
    }
    let width = le32(b, 18)? as i32;
    let height = le32(b, 22)? as i32; // negative for top-down bitmaps
    Some(Dimensions::new(width.unsigned_abs(), height.unsigned_abs()))
}

fn tiff(b: &[u8]) -> Option<Dimensions> {
    let big = b.first()? == &b'M';
    let u16_at = |at: usize| if big { be16(b, at) } else { le16(b, at) };
    let u32_at = |at: usize| if big { be32(b, at) } else { le32(b, at) };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(ifd)?);
    let (mut width, mut height) = (None, None);
    for i in 0..entries.min(512) {
        let entry = ifd.checked_add(2 + i * 12)?;
        let tag = u16_at(entry)?;
        let value = match u16_at(entry + 2)? {
            3 => u32::from(u16_at(entry + 8)?), // SHORT
            4 => u32_at(entry + 8)?,            // LONG
            _ => continue,
        };
        match tag {
            256 => width = Some(value),
            257 => height = Some(value),
            _ => {}
        }
    }
    Some(Dimensions::new(width?, height?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0]);
        b
    }

    #[test]
    fn reads_dimensions_of_each_format() {
        assert_eq!(read_dimensions(&png_header(640, 480)), Some((ImageFormat::Png, Dimensions::new(640, 480))));

        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0x01, 0xE0, 0x02, 0x80, 3]);
        assert_eq!(read_dimensions(&jpeg), Some((ImageFormat::Jpeg, Dimensions::new(640, 480))));

        let gif = [b'G', b'I', b'F', b'8', b'9', b'a', 0x80, 0x02, 0xE0, 0x01];
        assert_eq!(read_dimensions(&gif), Some((ImageFormat::Gif, Dimensions::new(640, 480))));

        let mut bmp = vec![b'B', b'M'];
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());
        bmp.extend_from_slice(&640i32.to_le_bytes());
        bmp.extend_from_slice(&(-480i32).to_le_bytes());
        assert_eq!(read_dimensions(&bmp), Some((ImageFormat::Bmp, Dimensions::new(640, 480))));

        let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 2, 0];
        tiff.extend_from_slice(&[0, 1, 3, 0, 1, 0, 0, 0, 0x80, 0x02, 0, 0]);
        tiff.extend_from_slice(&[1, 1, 4, 0, 1, 0, 0, 0, 0xE0, 0x01, 0, 0]);
        assert_eq!(read_dimensions(&tiff), Some((ImageFormat::Tiff, Dimensions::new(640, 480))));

        let mut webp = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
        webp.extend_from_slice(&[0; 8]);
        webp.extend_from_slice(&[0x7F, 0x02, 0x00, 0xDF, 0x01, 0x00]);
        assert_eq!(read_dimensions(&webp), Some((ImageFormat::Webp, Dimensions::new(640, 480))));
    }

    #[test]
    fn heif_is_sniffed_and_sized_from_its_ispe_box() {
        let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        heic.extend_from_slice(b"\0\0\0\x14ispe\0\0\0\0");
        heic.extend_from_slice(&4032u32.to_be_bytes());
        heic.extend_from_slice(&3024u32.to_be_bytes());
        assert_eq!(read_dimensions(&heic), Some((ImageFormat::Heic, Dimensions::new(4032, 3024))));
        assert_eq!(sniff_format(b"\0\0\0\x18ftypmif1"), Some(ImageFormat::Heif));
        assert_eq!(sniff_format(b"\0\0\0\x18ftypisom"), None);
    }

    #[test]
    fn alpha_is_read_from_the_header() {
        assert_eq!(has_alpha(&png_header(4, 4)), Some(true));
        let mut rgb = png_header(4, 4);
        rgb[25] = 2;
        assert_eq!(has_alpha(&rgb), Some(false));
        let mut with_trns = rgb.clone();
        with_trns.extend_from_slice(&[0, 0, 0, 0]); // IHDR CRC
        with_trns.extend_from_slice(&[0, 0, 0, 6]);
        with_trns.extend_from_slice(b"tRNS");
        assert_eq!(has_alpha(&with_trns), Some(true));
        assert_eq!(has_alpha(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(false));
        assert_eq!(has_alpha(b"nothing"), None);
    }

    #[test]
    fn truncated_or_foreign_bytes_give_none() {
        let png = png_header(10, 10);
        for cut in 0..png.len() - 5 {
            assert_eq!(read_dimensions(&png[..cut]).map(|(_, d)| d).filter(|_| cut < 24), None);
        }
        assert_eq!(read_dimensions(b"hello world"), None);
        assert_eq!(read_dimensions(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), None);
    }

    proptest::proptest! {
        #[test]
        fn base64_is_checked_as_decoding_would(text in "[AQgw+/=\\n !-]{0,24}") {
            let data_url = DataUrl { format: "png", base64: &text };
            proptest::prop_assert_eq!(data_url.check_base64(), data_url.decode().map(|_| ()));
        }

        #[test]
        fn one_changed_byte_is_found_as_decoding_would(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            at in 0usize..64,
            with in "[A-Za-z0-9+/=\\n.]",
            cut in 0usize..3,
        ) {
            let mut text = STANDARD.encode(&bytes);
            if !text.is_empty() {
                let at = at % text.len();
                text.replace_range(at..=at, &with);
            }
            text.truncate(text.len().saturating_sub(cut));
            let data_url = DataUrl { format: "png", base64: &text };
            proptest::prop_assert_eq!(data_url.check_base64(), data_url.decode().map(|_| ()));
        }
    }

    #[test]
    fn data_urls_split_and_measure() {
        let url = encode_data_url(ImageFormat::Png, &png_header(20, 30));
        let parsed = DataUrl::parse(&url).unwrap().unwrap();
        assert_eq!(parsed.format, "png");
        assert_eq!(parsed.decoded_len(), parsed.decode().unwrap().len());
        assert_eq!(DataUrl::parse("https://x/y.png"), None);
        assert_eq!(DataUrl::parse("data:text/plain;base64,aGk="), Some(Err(DataUrlError::Malformed)));
        assert_eq!(DataUrl::parse("data:image/png,abc"), Some(Err(DataUrlError::Malformed)));
        for len in 0..10 {
            let text = STANDARD.encode(vec![7u8; len]);
            let d = DataUrl { format: "png", base64: &text };
            assert_eq!(d.decoded_len(), len);
        }
    }
}
