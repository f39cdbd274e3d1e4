//! `seedream_image_format`: the file format of an image's bytes (JPEG, PNG, ...), its media type and
//! its file extension, as static strings.

use std::ffi::{CStr, c_char, c_int};

use seedream_types::ImageFormat;

use crate::ffi::{Sentinel, ffi_fn};

/// The file format of an image. The service sends JPEG, or PNG with `"output_format": "png"`
/// (Seedream 5.0), a transparent background or layer decomposition; relays may send others. Read
/// from the bytes' magic number first, else from what the response states. The values are fixed:
/// new formats may be added, existing values never change.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum seedream_image_format {
    /// Not known: no bytes to read (a failed image, a `url` image not downloaded) and no format
    /// stated, or bytes of a format this version does not know.
    Unknown = 0,
    /// JPEG: `image/jpeg`, `.jpg`.
    Jpeg = 1,
    /// PNG: `image/png`, `.png`.
    Png = 2,
    /// WebP: `image/webp`, `.webp`.
    Webp = 3,
    /// GIF: `image/gif`, `.gif`.
    Gif = 4,
    /// BMP: `image/bmp`, `.bmp`.
    Bmp = 5,
    /// TIFF: `image/tiff`, `.tiff`.
    Tiff = 6,
    /// HEIC: `image/heic`, `.heic`.
    Heic = 7,
    /// HEIF: `image/heif`, `.heif`.
    Heif = 8,
}

impl Sentinel for seedream_image_format {
    fn on_null() -> Self {
        seedream_image_format::Unknown
    }
    fn on_panic() -> Self {
        seedream_image_format::Unknown
    }
}

impl From<Option<ImageFormat>> for seedream_image_format {
    fn from(format: Option<ImageFormat>) -> Self {
        match format {
            None => seedream_image_format::Unknown,
            Some(ImageFormat::Jpeg) => seedream_image_format::Jpeg,
            Some(ImageFormat::Png) => seedream_image_format::Png,
            Some(ImageFormat::Webp) => seedream_image_format::Webp,
            Some(ImageFormat::Gif) => seedream_image_format::Gif,
            Some(ImageFormat::Bmp) => seedream_image_format::Bmp,
            Some(ImageFormat::Tiff) => seedream_image_format::Tiff,
            Some(ImageFormat::Heic) => seedream_image_format::Heic,
            Some(ImageFormat::Heif) => seedream_image_format::Heif,
        }
    }
}

impl seedream_image_format {
    /// The media type and the file extension, as static C strings ("" and "" when unknown).
    fn strings(self) -> (&'static CStr, &'static CStr) {
        match self {
            seedream_image_format::Unknown => (c"", c""),
            seedream_image_format::Jpeg => (c"image/jpeg", c"jpg"),
            seedream_image_format::Png => (c"image/png", c"png"),
            seedream_image_format::Webp => (c"image/webp", c"webp"),
            seedream_image_format::Gif => (c"image/gif", c"gif"),
            seedream_image_format::Bmp => (c"image/bmp", c"bmp"),
            seedream_image_format::Tiff => (c"image/tiff", c"tiff"),
            seedream_image_format::Heic => (c"image/heic", c"heic"),
            seedream_image_format::Heif => (c"image/heif", c"heif"),
        }
    }

    /// The media type (`image/png`) as a static C string; "" when unknown.
    pub(crate) fn mime_type(self) -> *const c_char {
        self.strings().0.as_ptr()
    }

    /// The file extension without a dot (`png`, `jpg`) as a static C string; "" when unknown.
    pub(crate) fn extension(self) -> *const c_char {
        self.strings().1.as_ptr()
    }

    /// The value of a C `int` (C may pass any number where the enum is expected).
    fn from_raw(raw: c_int) -> Self {
        use seedream_image_format as F;
        [F::Jpeg, F::Png, F::Webp, F::Gif, F::Bmp, F::Tiff, F::Heic, F::Heif]
            .into_iter()
            .find(|format| *format as c_int == raw)
            .unwrap_or(F::Unknown)
    }
}

/// The media type of `format` (a `seedream_image_format` value), such as "image/png"; "" for
/// `SEEDREAM_IMAGE_FORMAT_UNKNOWN` and for values this version does not know. Static: valid for the
/// life of the program, never free it.
#[ffi_fn]
#[unsafe(no_mangle)]
pub extern "C" fn seedream_image_format_mime_type(format: c_int) -> *const c_char {
    // An `int`, not the enum: C may pass any number, and an enum must hold one of its values.
    seedream_image_format::from_raw(format).mime_type()
}

/// The usual file extension of `format` (a `seedream_image_format` value), without a dot: "jpg",
/// "png", ...; "" for `SEEDREAM_IMAGE_FORMAT_UNKNOWN` and for values this version does not know.
/// Static: valid for the life of the program, never free it.
#[ffi_fn]
#[unsafe(no_mangle)]
pub extern "C" fn seedream_image_format_extension(format: c_int) -> *const c_char {
    seedream_image_format::from_raw(format).extension()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(ptr: *const c_char) -> &'static str {
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap()
    }

    #[test]
    fn every_format_has_its_media_type_and_extension() {
        assert_eq!(text(seedream_image_format_mime_type(seedream_image_format::Png as c_int)), "image/png");
        assert_eq!(text(seedream_image_format_extension(seedream_image_format::Png as c_int)), "png");
        assert_eq!(text(seedream_image_format_mime_type(seedream_image_format::Jpeg as c_int)), "image/jpeg");
        assert_eq!(text(seedream_image_format_extension(seedream_image_format::Jpeg as c_int)), "jpg");
        assert_eq!(text(seedream_image_format_mime_type(0)), "");
        assert_eq!(text(seedream_image_format_extension(-7)), "");
        for format in [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::Webp,
            ImageFormat::Gif,
            ImageFormat::Bmp,
            ImageFormat::Tiff,
            ImageFormat::Heic,
            ImageFormat::Heif,
        ] {
            let c = seedream_image_format::from(Some(format));
            assert_eq!(text(c.mime_type()), format.media_type());
            assert_eq!(text(c.extension()), format.extension());
            assert_eq!(seedream_image_format::from_raw(c as c_int), c);
        }
        assert_eq!(seedream_image_format::from_raw(99), seedream_image_format::Unknown);
    }
}
