//! `POST /images/edits` (relays): a multipart form, described transport-free as a list of parts.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::image::{ImageFormat, encode_data_url, sniff_format};
use crate::request::{
    Background, GenerateRequest, ImageCount, OptimizePromptMode, OptimizePromptOptions, OutputFormat, ResponseFormat,
    Tool,
};
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
    /// An integer (text).
    pub const SEED: &str = "seed";
    /// A number (text).
    pub const GUIDANCE_SCALE: &str = "guidance_scale";
    /// `true` or `false` (text).
    pub const STREAM: &str = "stream";
    /// `png` or `jpeg` (text).
    pub const OUTPUT_FORMAT: &str = "output_format";
    /// `opaque` or `transparent` (text).
    pub const BACKGROUND: &str = "background";
    /// `{"mode": …, "thinking": …}` as JSON text.
    pub const OPTIMIZE_PROMPT_OPTIONS: &str = "optimize_prompt_options";
    /// `[{"type": "web_search"}]` as JSON text.
    pub const TOOLS: &str = "tools";
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
    /// The field name: one of [`field`], or a name from [`EditRequest::extra`].
    pub name: &'a str,
    /// Its value.
    pub value: PartValue<'a>,
}

/// The body of `POST /images/edits`.
///
/// Besides the relays' edit form (model, prompt, images, mask, `n`, size, response format), it takes
/// the generations fields an edit can use, each sent under its JSON name (a form part on relays,
/// a JSON field on Ark): every optional field is left out when `None`, and fields this version does
/// not know are kept in [`extra`](Self::extra) and sent as given. Which model takes which field is
/// in its [`catalog`](crate::catalog) row; [`validate`](Self::validate) applies the same rules as to
/// the generations request the edit stands for.
///
/// `Default` is the empty form (no model, prompt or image: not a valid request), for filling a
/// struct literal's other fields with `..Default::default()`.
#[derive(Debug, Clone, Default, PartialEq)]
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
    /// Random seed, −1 to 2 147 483 647 (default −1: random). Seedream 3.0 t2i and SeedEdit 3.0 only.
    pub seed: Option<i64>,
    /// Prompt weight against the input image, 1 to 10. Seedream 3.0 t2i (default 2.5) and SeedEdit
    /// 3.0 (default 5.5) only.
    pub guidance_scale: Option<f64>,
    /// Server-sent events, one per image (default false); the client gathers them into one response.
    /// Seedream 4.x and 5.0 lite.
    pub stream: Option<bool>,
    /// `jpeg` (default) or `png`. 5.0 families only.
    pub output_format: Option<OutputFormat>,
    /// `opaque` (default) or `transparent` (one input image with alpha; PNG output). 5.0 pro and flash.
    pub background: Option<Background>,
    /// Prompt optimisation; see [`OptimizePromptOptions`]. Seedream 4.x and 5.0. Sent as JSON text in
    /// the form.
    pub optimize_prompt_options: Option<OptimizePromptOptions>,
    /// Tools the model may use, such as [`Tool::web_search`]. 5.0 lite. Sent as JSON text in the form.
    pub tools: Option<Vec<Tool>>,
    /// Fields this version does not model, sent as given: a string as its text, anything else as
    /// JSON text in the form; as the JSON value on Ark. A name a typed field above already sends is
    /// not sent twice (the typed field wins).
    pub extra: Map<String, Value>,
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
            seed: None,
            guidance_scale: None,
            stream: None,
            output_format: None,
            background: None,
            optimize_prompt_options: None,
            tools: None,
            extra: Map::new(),
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

    /// Sets `seed`.
    pub fn with_seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets `guidance_scale`.
    pub fn with_guidance_scale(mut self, scale: f64) -> Self {
        self.guidance_scale = Some(scale);
        self
    }

    /// Sets `stream`.
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.stream = Some(stream);
        self
    }

    /// Sets `output_format`.
    pub fn with_output_format(mut self, format: OutputFormat) -> Self {
        self.output_format = Some(format);
        self
    }

    /// Sets `background`.
    pub fn with_background(mut self, background: Background) -> Self {
        self.background = Some(background);
        self
    }

    /// Sets `optimize_prompt_options.mode`.
    pub fn with_optimize_prompt(mut self, mode: OptimizePromptMode) -> Self {
        self.optimize_prompt_options.get_or_insert_with(Default::default).mode = Some(mode);
        self
    }

    /// Adds a tool, such as [`Tool::web_search`].
    pub fn with_tool(mut self, tool: Tool) -> Self {
        self.tools.get_or_insert_with(Vec::new).push(tool);
        self
    }

    /// Adds a field this version does not model; it is sent as given.
    pub fn with_extra(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// Whether the request asks for server-sent events.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// The form's parts, in order: text fields first (then [`extra`](Self::extra)'s, by name), then
    /// the image files and the mask. A field that is `None` has no part.
    pub fn form_parts(&self) -> Vec<FormPart<'_>> {
        let text = |name, value: Option<String>| value.map(|v| FormPart { name, value: PartValue::Text(v) });
        let json = |value: Option<Value>| value.map(|v| v.to_string());
        let mut parts: Vec<FormPart<'_>> = [
            text(field::MODEL, Some(self.model.clone())),
            text(field::PROMPT, Some(self.prompt.clone())),
            text(field::N, self.n.as_ref().map(count_text)),
            text(field::SIZE, self.size.as_ref().map(|s| s.to_wire().into_owned())),
            text(field::RESPONSE_FORMAT, self.response_format.as_ref().map(|f| f.as_str().to_owned())),
            text(field::WATERMARK, self.watermark.map(|w| w.to_string())),
            text(field::SEED, self.seed.map(|s| s.to_string())),
            text(field::GUIDANCE_SCALE, self.guidance_scale.map(|g| g.to_string())),
            text(field::STREAM, self.stream.map(|s| s.to_string())),
            text(field::OUTPUT_FORMAT, self.output_format.as_ref().map(|f| f.as_str().to_owned())),
            text(field::BACKGROUND, self.background.as_ref().map(|b| b.as_str().to_owned())),
            text(
                field::OPTIMIZE_PROMPT_OPTIONS,
                json(self.optimize_prompt_options.as_ref().and_then(|o| serde_json::to_value(o).ok())),
            ),
            text(field::TOOLS, json(self.tools.as_ref().and_then(|t| serde_json::to_value(t).ok()))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut files: Vec<FormPart<'_>> =
            self.images.iter().map(|file| FormPart { name: field::IMAGE, value: PartValue::File(file) }).collect();
        files.extend(self.mask.iter().map(|file| FormPart { name: field::MASK, value: PartValue::File(file) }));
        for (name, value) in &self.extra {
            // A name a typed field sends is not sent twice.
            if parts.iter().chain(&files).any(|part| part.name == name) {
                continue;
            }
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            parts.push(FormPart { name, value: PartValue::Text(text) });
        }
        parts.extend(files);
        parts
    }

    /// The same job as a generations request with the images as data URLs, for services without an
    /// edits endpoint (Ark). One image is sent as a string, several as an array; `n` above 1 turns
    /// group generation on; the mask, which generations has no field for, is sent as `mask`. Every
    /// other field is carried under its own name, [`extra`](Self::extra) too (except a name a typed
    /// field already sends).
    pub fn to_generate_request(&self) -> GenerateRequest {
        let mut options = self.options();
        // One image is what generations makes anyway: a group only for more.
        options.max_images = options.max_images.filter(|&n| n != 1);
        let mut request = GenerateRequest::new(self.model.clone(), self.prompt.clone()).with_options(options);
        if !self.extra.is_empty() {
            // The typed fields' names, read before the images (megabytes of data URLs) are added.
            let typed = serde_json::to_value(&request).unwrap_or_default();
            let taken = |name: &str| {
                typed.get(name).is_some()
                    || (name == field::IMAGE && !self.images.is_empty())
                    || (name == field::MASK && self.mask.is_some())
            };
            request
                .extra
                .extend(self.extra.iter().filter(|(name, _)| !taken(name)).map(|(k, v)| (k.clone(), v.clone())));
        }
        request = match self.images.as_slice() {
            [one] => request.with_image(one.to_data_url()),
            many => request.with_images(many.iter().map(ImageFile::to_data_url)),
        };
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

    #[test]
    fn generations_fields_are_parts_under_their_json_names() {
        let req = EditRequest::new("m", "p", png())
            .with_seed(7)
            .with_guidance_scale(5.5)
            .with_stream(true)
            .with_output_format(OutputFormat::Png)
            .with_background(Background::Transparent)
            .with_optimize_prompt(OptimizePromptMode::Fast)
            .with_tool(Tool::web_search())
            .with_extra("future", Value::from("x"))
            .with_extra("depth", serde_json::json!({"a": 1}))
            .with_extra(field::SEED, Value::from(8))
            .with_extra(field::IMAGE, Value::from("https://a/b.png"));
        let parts: Vec<(&str, String)> = req
            .form_parts()
            .into_iter()
            .map(|part| match part.value {
                PartValue::Text(text) => (part.name, text),
                PartValue::File(file) => (part.name, file.file_name.clone()),
            })
            .collect();
        let expected = [
            ("model", "m"),
            ("prompt", "p"),
            ("seed", "7"),
            ("guidance_scale", "5.5"),
            ("stream", "true"),
            ("output_format", "png"),
            ("background", "transparent"),
            ("optimize_prompt_options", r#"{"mode":"fast"}"#),
            ("tools", r#"[{"type":"web_search"}]"#),
            ("depth", r#"{"a":1}"#),
            ("future", "x"),
            ("image", "in.png"),
        ];
        let expected: Vec<(&str, String)> = expected.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        assert_eq!(parts, expected, "each field once; extra after the typed fields, never over them");
    }

    #[test]
    fn the_generations_request_carries_every_field_and_extra() {
        let req = EditRequest::new("m", "p", png())
            .with_seed(-1)
            .with_guidance_scale(2.5)
            .with_stream(true)
            .with_output_format(OutputFormat::Png)
            .with_background(Background::Opaque)
            .with_optimize_prompt(OptimizePromptMode::Standard)
            .with_tool(Tool::web_search())
            .with_extra("layer_decomposition", Value::Bool(false))
            .with_extra(field::OUTPUT_FORMAT, Value::from("jpeg"));
        let generate = req.to_generate_request();
        let image = generate.images()[0].clone();
        let expected = GenerateRequest::new("m", "p")
            .with_image(image)
            .with_seed(-1)
            .with_guidance_scale(2.5)
            .with_stream(true)
            .with_output_format(OutputFormat::Png)
            .with_background(Background::Opaque)
            .with_optimize_prompt(OptimizePromptMode::Standard)
            .with_tool(Tool::web_search())
            .with_extra("layer_decomposition", Value::Bool(false));
        assert_eq!(generate, expected);
        let json = serde_json::to_string(&generate).unwrap();
        assert_eq!(json.matches("\"output_format\"").count(), 1, "{json}");
        assert!(generate.is_stream() && req.is_stream());
    }
}
