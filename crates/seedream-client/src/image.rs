//! [`ImageBytes`]: the bytes of one image together with their file format.
//!
//! The service sends JPEG or PNG (5.0 with `output_format: png`, transparent backgrounds, layers);
//! relays may send other formats, and 5.0 lite states no format even for PNG. So the format is read
//! from the bytes' magic number first, and only when that says nothing from what the response item
//! states (`output_format`) or, for a download, the `Content-Type` header. Nothing assumes JPEG.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use seedream_types::image::sniff_format;
use seedream_types::{GeneratedImage, ImageFormat};

/// The extension [`ImageBytes::extension`] gives bytes of no known format.
pub const UNKNOWN_EXTENSION: &str = "bin";

/// Decoded or downloaded image bytes and their format. Dereferences to `[u8]`; cheap to clone
/// (the bytes are shared).
#[derive(Clone, PartialEq, Eq)]
pub struct ImageBytes {
    bytes: Bytes,
    format: Option<ImageFormat>,
}

impl fmt::Debug for ImageBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageBytes").field("len", &self.bytes.len()).field("format", &self.format).finish()
    }
}

impl ImageBytes {
    /// Bytes whose format is sniffed from their magic number, else taken from `stated` (what the
    /// response or a header says).
    pub fn new(bytes: impl Into<Bytes>, stated: Option<ImageFormat>) -> Self {
        let bytes = bytes.into();
        let format = sniff_format(&bytes).or(stated);
        Self { bytes, format }
    }

    /// The bytes of `image`, with the format `image` states (`output_format`) as the fallback.
    pub fn of(image: &GeneratedImage, bytes: impl Into<Bytes>) -> Self {
        Self::new(bytes, image.stated_format())
    }

    /// The file format: from the bytes, else as stated; `None` when neither tells.
    pub fn format(&self) -> Option<ImageFormat> {
        self.format
    }

    /// The media type, such as `image/png`; `None` when the format is unknown.
    pub fn media_type(&self) -> Option<String> {
        self.format.map(ImageFormat::media_type)
    }

    /// The file extension of the format (`png`, `jpg`, ...), or [`UNKNOWN_EXTENSION`].
    pub fn extension(&self) -> &'static str {
        self.format.map_or(UNKNOWN_EXTENSION, ImageFormat::extension)
    }

    /// `stem` with this image's extension: `file_name("lighthouse-0")` is `lighthouse-0.png` for a PNG.
    pub fn file_name(&self, stem: &str) -> String {
        format!("{stem}.{}", self.extension())
    }

    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The bytes, without their format.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}

impl Deref for ImageBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for ImageBytes {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl From<ImageBytes> for Bytes {
    fn from(image: ImageBytes) -> Bytes {
        image.bytes
    }
}

/// The format a `Content-Type` value names (`image/png`, `image/jpeg; charset=…`), if any.
pub(crate) fn format_of_media_type(value: &str) -> Option<ImageFormat> {
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    ImageFormat::from_word(essence.strip_prefix("image/")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedream_types::OutputFormat;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0];

    #[test]
    fn the_bytes_decide_the_format_before_what_is_stated() {
        let png = ImageBytes::new(Bytes::from_static(PNG), Some(ImageFormat::Jpeg));
        assert_eq!(png.format(), Some(ImageFormat::Png));
        assert_eq!(png.extension(), "png");
        assert_eq!(png.media_type().as_deref(), Some("image/png"));
        assert_eq!(png.file_name("out-0"), "out-0.png");
        assert_eq!(&png[..4], b"\x89PNG");

        let jpeg = ImageBytes::new(Bytes::from_static(JPEG), Some(ImageFormat::Png));
        assert_eq!((jpeg.format(), jpeg.extension()), (Some(ImageFormat::Jpeg), "jpg"));
    }

    #[test]
    fn unknown_bytes_take_the_stated_format_or_none() {
        let stated = GeneratedImage { output_format: Some(OutputFormat::Png), ..GeneratedImage::default() };
        assert_eq!(ImageBytes::of(&stated, &b"????"[..]).format(), Some(ImageFormat::Png));
        let silent = ImageBytes::of(&GeneratedImage::default(), &b"????"[..]);
        assert_eq!((silent.format(), silent.extension(), silent.media_type()), (None, UNKNOWN_EXTENSION, None));
    }

    #[test]
    fn media_types_name_formats() {
        assert_eq!(format_of_media_type("image/png"), Some(ImageFormat::Png));
        assert_eq!(format_of_media_type(" IMAGE/JPEG ; q=1"), Some(ImageFormat::Jpeg));
        assert_eq!(format_of_media_type("application/octet-stream"), None);
        assert_eq!(format_of_media_type("image/x-unknown"), None);
    }
}
