//! [`ImageOptions`]: the fields a generations request and an edit share, set once and applied to
//! either, so that a front end (the CLI's flags) maps them in one place and an edit turned into a
//! generations request carries each of them.

use serde::Serialize;
use serde_with::skip_serializing_none;

use crate::edit::EditRequest;
use crate::request::{
    Background, GenerateRequest, ImageCount, OptimizePromptOptions, OutputFormat, ResponseFormat, Tool,
};
use crate::size::Size;

/// What to make, apart from the model, the prompt and the input images: the options generations and
/// edits both take. `None` leaves a field out of the request (the service's default applies).
///
/// Serializes as the fields it sets, under their own names (`max_images` included).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ImageOptions {
    /// Output size; see [`GenerateRequest::size`].
    pub size: Option<Size>,
    /// How many images: on a generations request a group of up to this many
    /// ([`GenerateRequest::with_max_images`]), on an edit its `n`.
    pub max_images: Option<i64>,
    /// Random seed; see [`GenerateRequest::seed`].
    pub seed: Option<i64>,
    /// Prompt weight; see [`GenerateRequest::guidance_scale`].
    pub guidance_scale: Option<f64>,
    /// `url` (default) or `b64_json`.
    pub response_format: Option<ResponseFormat>,
    /// Server-sent events, one per image.
    pub stream: Option<bool>,
    /// The "AI生成" mark (default true).
    pub watermark: Option<bool>,
    /// `jpeg`, `png` or a newer value.
    pub output_format: Option<OutputFormat>,
    /// `opaque`, `transparent`, `auto` or a newer value.
    pub background: Option<Background>,
    /// Prompt optimisation.
    pub optimize_prompt_options: Option<OptimizePromptOptions>,
    /// Tools the model may use, such as [`Tool::web_search`].
    pub tools: Option<Vec<Tool>>,
}

impl ImageOptions {
    /// No option set.
    pub fn new() -> Self {
        Self::default()
    }
}

impl GenerateRequest {
    /// Sets every field `options` sets (a field it leaves `None` keeps its value here).
    pub fn with_options(mut self, options: ImageOptions) -> Self {
        let ImageOptions {
            size,
            max_images,
            seed,
            guidance_scale,
            response_format,
            stream,
            watermark,
            output_format,
            background,
            optimize_prompt_options,
            tools,
        } = options;
        if let Some(max_images) = max_images {
            self = self.with_max_images(max_images);
        }
        set(&mut self.size, size);
        set(&mut self.seed, seed);
        set(&mut self.guidance_scale, guidance_scale);
        set(&mut self.response_format, response_format);
        set(&mut self.stream, stream);
        set(&mut self.watermark, watermark);
        set(&mut self.output_format, output_format);
        set(&mut self.background, background);
        set(&mut self.optimize_prompt_options, optimize_prompt_options);
        set(&mut self.tools, tools);
        self
    }
}

impl EditRequest {
    /// Sets every field `options` sets (a field it leaves `None` keeps its value here); `max_images`
    /// is the edit's `n`.
    pub fn with_options(mut self, options: ImageOptions) -> Self {
        let ImageOptions {
            size,
            max_images,
            seed,
            guidance_scale,
            response_format,
            stream,
            watermark,
            output_format,
            background,
            optimize_prompt_options,
            tools,
        } = options;
        set(&mut self.n, max_images.map(ImageCount::Number));
        set(&mut self.size, size);
        set(&mut self.seed, seed);
        set(&mut self.guidance_scale, guidance_scale);
        set(&mut self.response_format, response_format);
        set(&mut self.stream, stream);
        set(&mut self.watermark, watermark);
        set(&mut self.output_format, output_format);
        set(&mut self.background, background);
        set(&mut self.optimize_prompt_options, optimize_prompt_options);
        set(&mut self.tools, tools);
        self
    }

    /// The options this edit sets (`n` as `max_images` when it is a number, or a string holding one).
    pub fn options(&self) -> ImageOptions {
        ImageOptions {
            size: self.size.clone(),
            max_images: self.n.as_ref().and_then(ImageCount::value),
            seed: self.seed,
            guidance_scale: self.guidance_scale,
            response_format: self.response_format.clone(),
            stream: self.stream,
            watermark: self.watermark,
            output_format: self.output_format.clone(),
            background: self.background.clone(),
            optimize_prompt_options: self.optimize_prompt_options.clone(),
            tools: self.tools.clone(),
        }
    }
}

/// `field = value` when the value is set.
fn set<T>(field: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *field = value;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use bytes::Bytes;
    use serde_json::{Map, Value};

    use super::*;
    use crate::edit::ImageFile;
    use crate::request::OptimizePromptMode;
    use crate::size::SizePreset;

    fn png() -> ImageFile {
        ImageFile::new("in.png", Bytes::from_static(&[0x89, b'P', b'N', b'G', 0, 0, 0, 0]))
    }

    /// Every option set. A struct literal, not `..Default::default()`: a field added to
    /// [`ImageOptions`] does not compile here until it is set, and then the tests below check that
    /// both requests carry it.
    fn every_option() -> ImageOptions {
        ImageOptions {
            size: Some(Size::from(SizePreset::TwoK)),
            max_images: Some(3),
            seed: Some(7),
            guidance_scale: Some(5.5),
            response_format: Some(ResponseFormat::B64Json),
            stream: Some(true),
            watermark: Some(false),
            output_format: Some(OutputFormat::Png),
            background: Some(Background::Transparent),
            optimize_prompt_options: Some(OptimizePromptOptions {
                mode: Some(OptimizePromptMode::Fast),
                ..Default::default()
            }),
            tools: Some(vec![Tool::web_search()]),
        }
    }

    fn keys(object: &Map<String, Value>) -> BTreeSet<String> {
        object.keys().cloned().collect()
    }

    /// The option names with `max_images` spelled as `request` names it.
    fn option_names_as(max_images: &[&str]) -> BTreeSet<String> {
        let Value::Object(options) = serde_json::to_value(every_option()).unwrap() else { panic!("not an object") };
        let mut names = keys(&options);
        assert!(names.remove("max_images"));
        names.extend(max_images.iter().map(|name| (*name).to_owned()));
        names
    }

    #[test]
    fn every_option_lands_in_a_generations_request() {
        let request = GenerateRequest::new("m", "p").with_options(every_option());
        let Value::Object(mut body) = serde_json::to_value(&request).unwrap() else { panic!("not an object") };
        body.remove("model");
        body.remove("prompt");
        assert_eq!(
            keys(&body),
            option_names_as(&["sequential_image_generation", "sequential_image_generation_options"])
        );
        assert_eq!(request.max_output_images(), 3);
    }

    #[test]
    fn every_option_lands_in_an_edit_and_comes_back_out() {
        let edit = EditRequest::new("m", "p", png()).with_options(every_option());
        let parts: BTreeSet<String> = edit
            .form_parts()
            .iter()
            .map(|part| part.name.to_owned())
            .filter(|name| !["model", "prompt", "image"].contains(&name.as_str()))
            .collect();
        assert_eq!(parts, option_names_as(&["n"]));
        assert_eq!(edit.options(), every_option());
    }

    #[test]
    fn an_edit_as_a_generations_request_carries_every_option() {
        let edit = EditRequest::new("m", "p", png()).with_options(every_option());
        let mut from_edit = edit.to_generate_request();
        from_edit.image = None;
        assert_eq!(from_edit, GenerateRequest::new("m", "p").with_options(every_option()));
    }

    #[test]
    fn options_left_unset_change_nothing() {
        let request = GenerateRequest::new("m", "p").with_seed(4).with_options(ImageOptions::new());
        assert_eq!(request, GenerateRequest::new("m", "p").with_seed(4));
        let edit = EditRequest::new("m", "p", png()).with_options(ImageOptions::new());
        assert_eq!(edit, EditRequest::new("m", "p", png()));
        assert_eq!(serde_json::to_value(ImageOptions::new()).unwrap(), serde_json::json!({}));
    }
}
