//! `POST /images/edits` (relays): a multipart form, described transport-free as a list of parts.

use bytes::Bytes;
use serde_json::Value;

use crate::image::{ImageFormat, encode_data_url, sniff_format};
use crate::request::{GenerateRequest, ImageCount, ResponseFormat};
use crate::size::Size;

/// The form's field names: the one table both the encoder (client) and the parser (emulator) use.
pub mod field {
    /// Model id (text).
    pub const MODEL: &str = "model";
    /// Prompt (text).
    pub const PROMPT: &str = "prompt";
    /// An input image (file); repeated once per image.
    pub const IMAGE: &str = "image";
    /// Optional mask (file).
    pub const MASK: &str = "mask";
    /// Number of images (text).
    pub const N: &str = "n";
    /// Output size (text).
    pub const SIZE: &str = "size";
    /// `url` or `b64_json` (text).
    pub const RESPONSE_FORMAT: &str = "response_format";
    /// `true` or `false` (text).
    pub const WATERMARK: &str = "watermark";
}

/// An image file held in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// File name sent in the part's `Content-Disposition`.
    pub file_name: String,
    /// Media type, such as `image/png`.
    pub media_type: String,
    /// The file's bytes (cheap to clone, so a retry can rebuild the form).
    pub bytes: Bytes,
}

impl std::fmt::Debug for ImageFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageFile")
            .field("file_name", &self.file_name)
            .field("media_type", &self.media_type)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .finish()
    }
}

impl ImageFile {
    /// A file whose media type is sniffed from its bytes (falling back to `application/octet-stream`).
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let media_type =
            sniff_format(&bytes).map_or_else(|| "application/octet-stream".to_owned(), ImageFormat::media_type);
        Self { file_name: file_name.into(), media_type, bytes }
    }

    /// The format, from the bytes or else the media type.
    pub fn format(&self) -> Option<ImageFormat> {
        sniff_format(&self.bytes).or_else(|| ImageFormat::from_word(self.media_type.strip_prefix("image/")?))
    }

    /// The file as `data:image/<format>;base64,…` (JPEG assumed when the format is unknown).
    pub fn to_data_url(&self) -> String {
        encode_data_url(self.format().unwrap_or(ImageFormat::Jpeg), &self.bytes)
    }
}

/// The value of one form part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartValue<'a> {
    /// A text field.
    Text(String),
    /// A file field.
    File(&'a ImageFile),
}

/// One part of the multipart form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart<'a> {
    /// The field name, from [`field`].
    pub name: &'static str,
    /// Its value.
    pub value: PartValue<'a>,
}

/// The body of `POST /images/edits`.
#[derive(Debug, Clone, PartialEq)]
pub struct EditRequest {
    /// Model id. Required.
    pub model: String,
    /// What to change. Required, non-empty.
    pub prompt: String,
    /// The image(s) to edit: at least one (SeedEdit 3.0: exactly one; Seedream 4.x: up to 14).
    pub images: Vec<ImageFile>,
    /// Optional mask (relays that support it).
    pub mask: Option<ImageFile>,
    /// Number of images, 1 to 15.
    pub n: Option<ImageCount>,
    /// Output size, as for generations.
    pub size: Option<Size>,
    /// `url` (default) or `b64_json`.
    pub response_format: Option<ResponseFormat>,
    /// Watermark (default true).
    pub watermark: Option<bool>,
}

impl EditRequest {
    /// An edit of one image.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>, image: ImageFile) -> Self {
        Self {
            model: model.into(),
            prompt: prompt.into(),
            images: vec![image],
            mask: None,
            n: None,
            size: None,
            response_format: None,
            watermark: None,
        }
    }

    /// Adds another image to edit (the first comes with [`new`](Self::new)).
    pub fn with_image(mut self, image: ImageFile) -> Self {
        self.images.push(image);
        self
    }

    /// Adds more images to edit.
    pub fn with_images(mut self, images: impl IntoIterator<Item = ImageFile>) -> Self {
        self.images.extend(images);
        self
    }

    /// Sets `mask`.
    pub fn with_mask(mut self, mask: ImageFile) -> Self {
        self.mask = Some(mask);
        self
    }

    /// Sets `n`, the number of images (1 to 15).
    pub fn with_n(mut self, n: i64) -> Self {
        self.n = Some(ImageCount::Number(n));
        self
    }

    /// Sets `size`.
    pub fn with_size(mut self, size: impl Into<Size>) -> Self {
        self.size = Some(size.into());
        self
    }

    /// Sets `response_format`.
    pub fn with_response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Sets `watermark`.
    pub fn with_watermark(mut self, watermark: bool) -> Self {
        self.watermark = Some(watermark);
        self
    }

    /// The form's parts, in order: text fields first, then the image files and the mask.
    /// A field that is `None` has no part.
    pub fn form_parts(&self) -> Vec<FormPart<'_>> {
        let text = |name, value: Option<String>| value.map(|v| FormPart { name, value: PartValue::Text(v) });
        let mut parts: Vec<FormPart<'_>> = [
            text(field::MODEL, Some(self.model.clone())),
            text(field::PROMPT, Some(self.prompt.clone())),
            text(field::N, self.n.as_ref().map(count_text)),
            text(field::SIZE, self.size.as_ref().map(|s| s.to_wire().into_owned())),
            text(field::RESPONSE_FORMAT, self.response_format.as_ref().map(|f| f.as_str().to_owned())),
            text(field::WATERMARK, self.watermark.map(|w| w.to_string())),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.extend(self.images.iter().map(|file| FormPart { name: field::IMAGE, value: PartValue::File(file) }));
        parts.extend(self.mask.iter().map(|file| FormPart { name: field::MASK, value: PartValue::File(file) }));
        parts
    }

    /// The same job as a generations request with the images as data URLs, for services without an
    /// edits endpoint (Ark). One image is sent as a string, several as an array; `n` above 1 turns
    /// group generation on; the mask, which generations has no field for, is sent as `mask`.
    pub fn to_generate_request(&self) -> GenerateRequest {
        let mut request = GenerateRequest::new(self.model.clone(), self.prompt.clone());
        request = match self.images.as_slice() {
            [one] => request.with_image(one.to_data_url()),
            many => request.with_images(many.iter().map(ImageFile::to_data_url)),
        };
        if let Some(n) = self.n.as_ref().and_then(ImageCount::value).filter(|&n| n != 1) {
            request = request.with_max_images(n);
        }
        request.size = self.size.clone();
        request.response_format = self.response_format.clone();
        request.watermark = self.watermark;
        if let Some(mask) = &self.mask {
            request.extra.insert(field::MASK.into(), Value::from(mask.to_data_url()));
        }
        request
    }
}

fn count_text(count: &ImageCount) -> String {
    match count {
        ImageCount::Number(n) => n.to_string(),
        ImageCount::Text(text) => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png() -> ImageFile {
        ImageFile::new("in.png", Bytes::from_static(&[0x89, b'P', b'N', b'G', 0, 0, 0, 0]))
    }

    #[test]
    fn form_lists_each_set_field_once_in_order() {
        let mut req = EditRequest::new("m", "p", png());
        req.mask = Some(png());
        req.n = Some(ImageCount::Text("2".into()));
        req.watermark = Some(false);
        let names: Vec<_> = req.form_parts().iter().map(|p| p.name).collect();
        assert_eq!(names, ["model", "prompt", "n", "watermark", "image", "mask"]);
        assert_eq!(req.form_parts()[2].value, PartValue::Text("2".into()));
        assert_eq!(req.images[0].media_type, "image/png");
    }

    #[test]
    fn builders_set_the_fields_they_name() {
        let req = EditRequest::new("m", "p", png())
            .with_image(png())
            .with_images([png()])
            .with_mask(png())
            .with_n(2)
            .with_size(crate::size::SizePreset::TwoK)
            .with_response_format(ResponseFormat::B64Json)
            .with_watermark(false);
        assert_eq!(req.images.len(), 3);
        assert!(req.mask.is_some());
        assert_eq!(req.n, Some(ImageCount::Number(2)));
        assert_eq!(req.size, Some(Size::from(crate::size::SizePreset::TwoK)));
        assert_eq!(req.response_format, Some(ResponseFormat::B64Json));
        assert_eq!(req.watermark, Some(false));
    }

    #[test]
    fn converts_to_a_generations_request_with_data_urls() {
        let mut req = EditRequest::new("m", "p", png());
        req.n = Some(ImageCount::Number(3));
        let generate = req.to_generate_request();
        assert!(generate.images()[0].starts_with("data:image/png;base64,"));
        assert_eq!(generate.max_output_images(), 3);
    }
}
