//! `POST /images/generations`: the JSON request body and its parts.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use crate::size::Size;
use crate::wire::wire_enum;

wire_enum! {
    /// `response_format`: how images come back. Default `url`.
    pub enum ResponseFormat {
        /// A download link that expires 24 hours after generation.
        Url = "url",
        /// The JPEG bytes, base64-encoded in the JSON.
        B64Json = "b64_json",
    }
}

wire_enum! {
    /// `sequential_image_generation`: group generation switch (Seedream 4.x only). Default `disabled`.
    pub enum SequentialImageGeneration {
        /// The model decides from the prompt how many images (up to `max_images`) to make.
        Auto = "auto",
        /// Exactly one image.
        Disabled = "disabled",
    }
}

wire_enum! {
    /// `optimize_prompt_options.mode`: prompt rewriting (Seedream 4.0: `standard` or `fast`; 4.5: `standard`).
    pub enum OptimizePromptMode {
        /// Higher quality, slower.
        Standard = "standard",
        /// Faster (Seedream 4.0 only).
        Fast = "fast",
    }
}

wire_enum! {
    /// `output_format`: the file format of the generated images (5.0 families). Default `jpeg`.
    pub enum OutputFormat {
        /// JPEG.
        Jpeg = "jpeg",
        /// PNG (required with `background: transparent`).
        Png = "png",
    }
}

wire_enum! {
    /// `background` (5.0 pro and flash: default `opaque`; 5.5: default `auto`).
    pub enum Background {
        /// An ordinary picture.
        Opaque = "opaque",
        /// A transparent background, PNG output: on 5.0 from one input image with alpha, on 5.5 from
        /// the prompt alone.
        Transparent = "transparent",
        /// The model decides (5.5's default; a JPEG never has alpha).
        Auto = "auto",
    }
}

wire_enum! {
    /// `tools[].type`.
    pub enum ToolType {
        /// The model may search the web for what the prompt names (5.0 lite).
        WebSearch = "web_search",
    }
}

wire_enum! {
    /// `optimize_prompt_options.thinking` (an SDK field; the service's handling is unconfirmed).
    pub enum Thinking {
        /// The model decides.
        Auto = "auto",
        /// Always think before rewriting.
        Enabled = "enabled",
        /// Never.
        Disabled = "disabled",
    }
}

/// One entry of `tools`, such as `{"type": "web_search"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    /// The tool.
    #[serde(rename = "type")]
    pub kind: ToolType,
    /// Fields this version does not know, kept and sent back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tool {
    /// `{"type": "web_search"}`.
    pub fn web_search() -> Self {
        Self { kind: ToolType::WebSearch, extra: Map::new() }
    }
}

/// `image`: one reference image or several, kept in the form it was given so that it serializes
/// back the same way (SeedEdit wants a string; Seedream 4.x takes either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ImageInput {
    /// A single URL or data URL.
    One(String),
    /// A list of URLs or data URLs (Seedream 4.x: 1 to 14).
    Many(Vec<String>),
}

impl ImageInput {
    /// The images, in order.
    pub fn as_slice(&self) -> &[String] {
        match self {
            ImageInput::One(one) => std::slice::from_ref(one),
            ImageInput::Many(many) => many,
        }
    }

    /// How many images.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether the list is empty (only possible for `Many`).
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

/// `n` as relays send it: a number or a numeric string, kept in its form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ImageCount {
    /// `"n": 3`
    Number(i64),
    /// `"n": "3"`
    Text(String),
}

impl ImageCount {
    /// The count, when it is an integer (a string must hold one).
    pub fn value(&self) -> Option<i64> {
        match self {
            ImageCount::Number(n) => Some(*n),
            ImageCount::Text(text) => text.trim().parse().ok(),
        }
    }
}

/// `sequential_image_generation_options`: only meaningful with `sequential_image_generation: auto`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SequentialImageGenerationOptions {
    /// Most images to generate, 1 to 15 (default 15); with k reference images at most 15 − k
    /// (the [`catalog`](crate::catalog)'s group rule).
    pub max_images: Option<i64>,
    /// Fields this version does not know, kept and sent back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `optimize_prompt_options` (Seedream 4.x).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OptimizePromptOptions {
    /// `standard` (every family that takes the field) or `fast` (4.0, 5.0 pro).
    pub mode: Option<OptimizePromptMode>,
    /// `auto`, `enabled` or `disabled` (SDK field; sent as given, not checked).
    pub thinking: Option<Thinking>,
    /// Fields this version does not know, kept and sent back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `POST /images/generations`.
///
/// Every optional field is skipped when `None`, so a request serializes to exactly what was set;
/// fields this version does not know (`output_format`, `tools`, …) are kept in [`extra`](Self::extra)
/// and sent back unchanged. Parsing is lenient; [`validate`](Self::validate) applies the model's rules.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GenerateRequest {
    /// Model id (such as [`SEEDREAM_4_0`](crate::SEEDREAM_4_0)) or endpoint id (`ep-…`). Required.
    pub model: String,
    /// What to draw, Chinese or English. Required, non-empty (except with `layer_decomposition`, where
    /// it may be empty, and a missing prompt is sent as `""` as the Go SDK does); advised at most 300
    /// Chinese characters or 600 English words (longer is a warning).
    #[serde(default)]
    pub prompt: String,
    /// Reference images: `http(s)` URLs or `data:image/<format>;base64,…`. How many and of what
    /// kind each family takes is in its [`catalog`](crate::catalog) row (4.x and 5.0 lite: up to 14;
    /// 5.0 pro and flash: up to 10; SeedEdit 3.0: exactly one string; Seedream 3.0 t2i: none).
    pub image: Option<ImageInput>,
    /// Output size: a preset in any case (`2K`, `2k`), `WxH` (limited by pixel area and ratio only),
    /// `adaptive` (SeedEdit 3.0) or `auto` (layer decomposition). Each family's presets, area range
    /// and default are in its [`catalog`](crate::catalog) row.
    pub size: Option<Size>,
    /// Random seed, −1 to 2 147 483 647 (default −1: random). Seedream 3.0 t2i and SeedEdit 3.0 only.
    pub seed: Option<i64>,
    /// Prompt weight against the input image, 1 to 10. Seedream 3.0 t2i (default 2.5) and SeedEdit
    /// 3.0 (default 5.5) only.
    pub guidance_scale: Option<f64>,
    /// `auto` or `disabled` (default). Seedream 4.x only.
    pub sequential_image_generation: Option<SequentialImageGeneration>,
    /// Group options; see [`SequentialImageGenerationOptions`]. Seedream 4.x only.
    pub sequential_image_generation_options: Option<SequentialImageGenerationOptions>,
    /// Relays' spelling of the group size (a number or a numeric string), 1 to 15.
    pub n: Option<ImageCount>,
    /// `url` (default) or `b64_json`.
    pub response_format: Option<ResponseFormat>,
    /// Server-sent events, one per image (default false). Seedream 4.x only.
    pub stream: Option<bool>,
    /// Adds an "AI生成" mark bottom right (default true).
    pub watermark: Option<bool>,
    /// Prompt optimisation; see [`OptimizePromptOptions`]. Seedream 4.x and 5.0.
    pub optimize_prompt_options: Option<OptimizePromptOptions>,
    /// Legacy prompt-optimisation switch (an SDK field; sent as given, not checked).
    pub optimize_prompt: Option<bool>,
    /// `jpeg` (default) or `png`. 5.0 families only.
    pub output_format: Option<OutputFormat>,
    /// `opaque` (default) or `transparent` (one input image with alpha; PNG output). 5.0 pro and flash.
    pub background: Option<Background>,
    /// Splits the one input image into a base image and up to 16 layers. 5.0 pro and flash.
    pub layer_decomposition: Option<bool>,
    /// Tools the model may use, such as [`Tool::web_search`]. 5.0 lite.
    pub tools: Option<Vec<Tool>>,
    /// Fields this version does not know, kept and sent back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GenerateRequest {
    /// A request with just the two required fields.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            prompt: prompt.into(),
            image: None,
            size: None,
            seed: None,
            guidance_scale: None,
            sequential_image_generation: None,
            sequential_image_generation_options: None,
            n: None,
            response_format: None,
            stream: None,
            watermark: None,
            optimize_prompt_options: None,
            optimize_prompt: None,
            output_format: None,
            background: None,
            layer_decomposition: None,
            tools: None,
            extra: Map::new(),
        }
    }

    /// Adds a reference image (URL or data URL). One image is sent as a string, more as an array.
    pub fn with_image(mut self, image: impl Into<String>) -> Self {
        let image = image.into();
        self.image = Some(match self.image.take() {
            None => ImageInput::One(image),
            Some(ImageInput::One(first)) => ImageInput::Many(vec![first, image]),
            Some(ImageInput::Many(mut many)) => {
                many.push(image);
                ImageInput::Many(many)
            }
        });
        self
    }

    /// Sets the reference images as an array (even when there is one).
    pub fn with_images<I: IntoIterator<Item = S>, S: Into<String>>(mut self, images: I) -> Self {
        self.image = Some(ImageInput::Many(images.into_iter().map(Into::into).collect()));
        self
    }

    /// Sets `size`.
    pub fn with_size(mut self, size: impl Into<Size>) -> Self {
        self.size = Some(size.into());
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

    /// Turns group generation on (`auto`) with at most `max_images` images.
    pub fn with_max_images(mut self, max_images: i64) -> Self {
        self.sequential_image_generation = Some(SequentialImageGeneration::Auto);
        self.sequential_image_generation_options.get_or_insert_with(Default::default).max_images = Some(max_images);
        self
    }

    /// Sets `response_format`.
    pub fn with_response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Sets `stream`.
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.stream = Some(stream);
        self
    }

    /// Sets `watermark`.
    pub fn with_watermark(mut self, watermark: bool) -> Self {
        self.watermark = Some(watermark);
        self
    }

    /// Sets `optimize_prompt_options.mode`.
    pub fn with_optimize_prompt(mut self, mode: OptimizePromptMode) -> Self {
        self.optimize_prompt_options.get_or_insert_with(Default::default).mode = Some(mode);
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

    /// Sets `layer_decomposition`.
    pub fn with_layer_decomposition(mut self, on: bool) -> Self {
        self.layer_decomposition = Some(on);
        self
    }

    /// Adds a tool, such as [`Tool::web_search`].
    pub fn with_tool(mut self, tool: Tool) -> Self {
        self.tools.get_or_insert_with(Vec::new).push(tool);
        self
    }

    /// Whether the request asks for layer decomposition.
    pub fn is_layer_decomposition(&self) -> bool {
        self.layer_decomposition == Some(true)
    }

    /// Adds a field this version does not model; it is sent as given.
    pub fn with_extra(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// The reference images, or an empty slice.
    pub fn images(&self) -> &[String] {
        self.image.as_ref().map_or(&[], ImageInput::as_slice)
    }

    /// `response_format`, or its default `url`.
    pub fn response_format_or_default(&self) -> ResponseFormat {
        self.response_format.clone().unwrap_or(ResponseFormat::Url)
    }

    /// Whether the request asks for server-sent events.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// The most images this request can yield: `max_images` (or `n`) when group generation is on,
    /// capped by the group rule (15 minus the reference images); otherwise 1. Layer decomposition
    /// yields a base image and layers, counted by the service.
    pub fn max_output_images(&self) -> usize {
        let rule = crate::catalog::family_of(&self.model).and_then(|f| f.group).unwrap_or(crate::catalog::COMMON_GROUP);
        let group = self.sequential_image_generation == Some(SequentialImageGeneration::Auto);
        let asked = self
            .sequential_image_generation_options
            .as_ref()
            .and_then(|o| o.max_images)
            .or_else(|| self.n.as_ref().and_then(ImageCount::value));
        let wanted = match (group, asked) {
            (true, Some(n)) => n,
            (true, None) => rule.max_images.default,
            (false, Some(n)) if self.sequential_image_generation.is_none() && self.n.is_some() => n,
            _ => 1,
        };
        let room = rule.max_total - self.images().len() as i64;
        wanted.clamp(1, room.max(1)) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_minimal_request_serializes_to_its_required_fields() {
        let req = GenerateRequest::new("m", "p");
        assert_eq!(serde_json::to_value(&req).unwrap(), json!({"model": "m", "prompt": "p"}));
    }

    #[test]
    fn image_keeps_its_form_and_unknown_fields_survive() {
        let body = json!({"model": "m", "prompt": "p", "image": "https://a", "output_format": "webp",
                          "tools": [{"type": "x", "k": 1}], "n": "3", "size": "2k", "response_format": "weird",
                          "background": "transparent", "layer_decomposition": true, "future": {"a": 1},
                          "optimize_prompt_options": {"mode": "standard", "thinking": "enabled", "depth": 2}});
        let req: GenerateRequest = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(req.image, Some(ImageInput::One("https://a".into())));
        assert_eq!(req.response_format, Some(ResponseFormat::Other("weird".into())));
        assert_eq!(serde_json::to_value(&req).unwrap(), body);
        let arr = json!({"model": "m", "prompt": "p", "image": ["https://a"], "n": 3});
        let req: GenerateRequest = serde_json::from_value(arr.clone()).unwrap();
        assert_eq!(serde_json::to_value(&req).unwrap(), arr);
    }

    #[test]
    fn builder_sets_group_fields() {
        let req = GenerateRequest::new("m", "p").with_image("a").with_image("b").with_max_images(3);
        assert_eq!(req.images().len(), 2);
        assert_eq!(req.max_output_images(), 3);
        assert_eq!(
            serde_json::to_value(&req).unwrap()["sequential_image_generation_options"],
            json!({"max_images": 3})
        );
        assert_eq!(GenerateRequest::new("m", "p").max_output_images(), 1);
        let many = GenerateRequest::new("m", "p").with_images((0..14).map(|i| i.to_string()));
        assert_eq!(many.with_max_images(15).max_output_images(), 1);
    }
}
