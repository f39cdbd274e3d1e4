//! Per-model validation: every violation, each with its field path and the rule it breaks.
//!
//! The rules common to all models are written here; every rule that depends on the model family is
//! read from its [`catalog`] row. Unknown ids, endpoint ids (`ep-…`) and aliases get
//! the common rules only: a request the service would accept is never refused locally.

use std::fmt;

use crate::catalog::{self, COMMON_GROUP, GroupRule, InputRule, ModelFamily, Range, Span};
use crate::edit::EditRequest;
use crate::image::{DataUrl, DataUrlError, ImageFormat, has_alpha, read_dimensions};
use crate::request::{Background, GenerateRequest, ImageCount, ImageInput, ResponseFormat, SequentialImageGeneration};
use crate::size::{Dimensions, Size, SizeForm};

const ADVISED_PROMPT_CJK_CHARS: usize = 300;
const ADVISED_PROMPT_WORDS: usize = 600;

/// One broken rule (or, among warnings, one piece of advice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Field path, such as `size`, `image[3]` or `sequential_image_generation_options.max_images`.
    pub field: String,
    /// Short machine-readable rule name: `required`, `range`, `value`, `unsupported`, `size`,
    /// `count`, `image`, `length`.
    pub code: &'static str,
    /// The rule and the accepted values, in words.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A request that breaks one or more rules. Lists every violation, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// Every broken rule, never empty.
    pub violations: Vec<Violation>,
    /// Advice that does not make the request invalid.
    pub warnings: Vec<Violation>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request is invalid: ")?;
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl ValidationError {
    /// The field paths of the violations, in order.
    pub fn fields(&self) -> Vec<&str> {
        self.violations.iter().map(|v| v.field.as_str()).collect()
    }
}

#[derive(Default)]
struct Report {
    violations: Vec<Violation>,
    warnings: Vec<Violation>,
}

impl Report {
    fn fail(&mut self, field: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.violations.push(Violation { field: field.into(), code, message: message.into() });
    }

    fn warn(&mut self, field: &str, code: &'static str, message: String) {
        self.warnings.push(Violation { field: field.into(), code, message });
    }

    fn finish(self) -> Result<Vec<Violation>, ValidationError> {
        if self.violations.is_empty() {
            Ok(self.warnings)
        } else {
            Err(ValidationError { violations: self.violations, warnings: self.warnings })
        }
    }
}

impl GenerateRequest {
    /// Checks the request against the rules of its model's family (its [`catalog`]
    /// row) and returns the warnings, or every violation. Unknown models, endpoint ids (`ep-…`) and
    /// aliases get only the rules common to all. No network: URLs are checked for form only; data
    /// URLs are decoded and their headers read.
    pub fn validate(&self) -> Result<Vec<Violation>, ValidationError> {
        self.validate_for(catalog::family_of(&self.model))
    }

    /// Checks the request against `family`'s rules (the common rules only with `None`), whatever
    /// its `model` says: for a server that knows an alias's family.
    pub fn validate_for(&self, family: Option<&ModelFamily>) -> Result<Vec<Violation>, ValidationError> {
        let mut report = Report::default();
        if is_blank(&self.model) {
            report.fail("model", "required", "is required and must not be empty");
        }
        check_prompt(&mut report, &self.prompt, self.is_layer_decomposition());
        check_open_values(&mut report, self);
        if let Some(family) = family {
            if let Some(size) = &self.size {
                check_size(&mut report, family, size, self.is_layer_decomposition());
            }
            check_family_fields(&mut report, family, self);
        }
        check_images(&mut report, family, self.image.as_ref());
        check_group(&mut report, family, self);
        if let Some(family) = family {
            check_layers_and_background(&mut report, family, self);
        }
        report.finish()
    }
}

impl EditRequest {
    /// Checks an edit with the same rules as the generations request it stands for (the images'
    /// bytes are checked as data URLs would be; `seed`, `output_format`, `tools`, … by the model's
    /// catalog row, as on generations), plus a readable mask.
    pub fn validate(&self) -> Result<Vec<Violation>, ValidationError> {
        self.validate_for(catalog::family_of(&self.model))
    }

    /// [`validate`](Self::validate) by `family`'s rules (the common rules only with `None`), whatever
    /// its `model` says: for a server that knows an alias's family.
    pub fn validate_for(&self, family: Option<&ModelFamily>) -> Result<Vec<Violation>, ValidationError> {
        let mut generate = self.to_generate_request();
        generate.extra.clear();
        // Validate `n` under its own name, not as the max_images it is converted to.
        generate.sequential_image_generation = None;
        generate.sequential_image_generation_options = None;
        generate.n = self.n.clone();
        if self.images.len() > 1 {
            generate.image = Some(ImageInput::Many(generate.images().to_vec()));
        }
        let mut report = match generate.validate_for(family) {
            Ok(warnings) => Report { violations: Vec::new(), warnings },
            Err(e) => Report { violations: e.violations, warnings: e.warnings },
        };
        if self.images.is_empty() {
            report.fail("image", "required", "at least one image file is required");
        }
        if let Some(mask) = &self.mask
            && read_dimensions(&mask.bytes).is_none()
        {
            report.fail("mask", "image", "is not a readable PNG, JPEG, WebP, GIF, BMP, TIFF or HEIF image");
        }
        report.finish()
    }
}

/// Whether `text` is empty or only whitespace: stops at the first other character, where `trim`
/// walks both ends (this runs on every request).
fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

fn check_prompt(report: &mut Report, prompt: &str, layers: bool) {
    if is_blank(prompt) {
        if !layers {
            report.fail("prompt", "required", "is required and must not be empty");
        }
        return;
    }
    // A CJK character takes 3 bytes and a word with its space 2: a prompt this short cannot be over
    // either advice, so it is not counted.
    if prompt.len() <= (3 * ADVISED_PROMPT_CJK_CHARS).min(2 * ADVISED_PROMPT_WORDS) {
        return;
    }
    let cjk = prompt.chars().filter(|c| matches!(*c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF)).count();
    let words = prompt.split_whitespace().count();
    if cjk > ADVISED_PROMPT_CJK_CHARS || words > ADVISED_PROMPT_WORDS {
        report.warn(
            "prompt",
            "length",
            format!(
                "is longer than advised ({cjk} Chinese characters, {words} words; advised at most \
                 {ADVISED_PROMPT_CJK_CHARS} or {ADVISED_PROMPT_WORDS}): the model may ignore details"
            ),
        );
    }
}

/// Values are open: one this version does not know is sent as written, whatever the model. A field
/// no row lists values for gets a warning; those a row lists are checked in [`check_family_fields`].
fn check_open_values(report: &mut Report, req: &GenerateRequest) {
    if let Some(format) = req.response_format.as_ref().filter(|f| !f.is_known()) {
        report.warn(
            "response_format",
            "value",
            format!(
                "{:?} is not one this version knows ({}); it is sent as written",
                format.as_str(),
                or_list(ResponseFormat::KNOWN)
            ),
        );
    }
    if let Some(mode) = req.sequential_image_generation.as_ref().filter(|m| !m.is_known()) {
        report.warn(
            "sequential_image_generation",
            "value",
            format!("{:?} is not one this version knows (auto, disabled); it is sent as written", mode.as_str()),
        );
    }
}

fn or_list(words: &[impl AsRef<str>]) -> String {
    let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn check_size(report: &mut Report, family: &ModelFamily, size: &Size, layers: bool) {
    let name = &family.name;
    let refuse = |report: &mut Report| {
        let auto = if layers && family.layers.is_some() { ", auto" } else { "" };
        report.fail(
            "size",
            "size",
            format!("{name} takes {}{auto}, not {:?}", family.describe_sizes(), size.to_wire()),
        );
    };
    match size.form() {
        SizeForm::Preset(preset) if family.takes_preset(preset) => {}
        SizeForm::Adaptive if family.size.adaptive => {}
        SizeForm::Auto if layers && family.layers.is_some() => {}
        SizeForm::Pixels(dims) if family.size.area.is_some() && !layers => check_area(report, family, dims),
        _ => refuse(report),
    }
}

fn check_area(report: &mut Report, family: &ModelFamily, dims: Dimensions) {
    if let Some(Span { min, max }) = family.size.area
        && !(min..=max).contains(&dims.area())
    {
        report.fail(
            "size",
            "size",
            format!("{dims} has {} pixels; {} takes W·H from {min} to {max}", dims.area(), family.name),
        );
    }
    if let Some(ratio) = family.size.ratio
        && !ratio.contains(dims)
    {
        report.fail("size", "size", format!("{dims}: the width/height ratio must be {}", ratio.describe()));
    }
}

fn check_images(report: &mut Report, family: Option<&ModelFamily>, image: Option<&ImageInput>) {
    if let Some(ImageInput::Many(many)) = image
        && many.is_empty()
    {
        return report.fail("image", "count", "must hold at least one image when given as an array");
    }
    if let Some(family) = family {
        let refs = family.references;
        let count = image.map_or(0, ImageInput::len);
        let name = &family.name;
        if refs.max == 0 && count > 0 {
            return report.fail("image", "unsupported", format!("{name} does not take input images"));
        }
        if count < refs.min {
            return report.fail("image", "required", format!("is required for {name}: at least {} image", refs.min));
        }
        if refs.single_string && matches!(image, Some(ImageInput::Many(_))) {
            return report.fail("image", "count", format!("{name} takes exactly one image, as a string"));
        }
        if count > refs.max {
            return report.fail(
                "image",
                "count",
                format!("{name} takes at most {} reference images, not {count}", refs.max),
            );
        }
    }
    let rule = family.map(|f| &f.input);
    match image {
        Some(ImageInput::One(one)) => check_image_ref(report, "image".into(), one, rule),
        Some(ImageInput::Many(many)) => {
            for (index, item) in many.iter().enumerate() {
                check_image_ref(report, format!("image[{index}]"), item, rule);
            }
        }
        None => {}
    }
}

fn check_image_ref(report: &mut Report, field: String, image: &str, rule: Option<&InputRule>) {
    let data_url = match DataUrl::parse(image) {
        Some(Ok(data_url)) => data_url,
        Some(Err(error)) => return report.fail(field, "image", error.to_string()),
        None if is_http_url(image) => return,
        None => {
            return report.fail(field, "image", "must be an http(s) URL or data:image/<format>;base64,<data>");
        }
    };
    if data_url.format.bytes().any(|b| b.is_ascii_uppercase()) {
        return report.fail(
            field,
            "image",
            format!("the format word must be lower case: data:image/{};base64,…", data_url.format.to_ascii_lowercase()),
        );
    }
    let declared = ImageFormat::from_word(data_url.format);
    if let Some(rule) = rule.filter(|rule| !declared.is_some_and(|f| rule.formats.contains(&f))) {
        let words: Vec<_> = rule.formats.iter().map(|f| f.as_str()).collect();
        return report.fail(
            field,
            "image",
            format!("format {:?} is not accepted; use {}", data_url.format, words.join(", ")),
        );
    }
    if let Some(max) = rule.map(|r| r.max_bytes).filter(|&max| data_url.decoded_len() > max) {
        return report.fail(
            field,
            "image",
            format!("is {} bytes; the limit is {} MB ({max} bytes)", data_url.decoded_len(), max / (1024 * 1024)),
        );
    }
    match data_url.check_base64() {
        Ok(()) => {}
        Err(DataUrlError::Base64(reason)) => {
            return report.fail(field, "image", format!("the base64 data does not decode: {reason}"));
        }
        Err(error) => return report.fail(field, "image", error.to_string()),
    }
    let Some(rule) = rule else { return };
    // Decodes only the first bytes when the header is there, not the whole image.
    let Some((format, dims)) = data_url.dimensions() else {
        // HEIF keeps its size deep in the file: when it cannot be read here, the service decides.
        if matches!(declared, Some(ImageFormat::Heic | ImageFormat::Heif)) {
            return;
        }
        return report.fail(field, "image", "the data is not a readable PNG, JPEG, WebP, GIF, BMP, TIFF or HEIF image");
    };
    if !rule.formats.contains(&format) {
        let words: Vec<_> = rule.formats.iter().map(|f| f.as_str()).collect();
        return report.fail(field, "image", format!("the data is {}; use {}", format.as_str(), words.join(", ")));
    }
    if dims.width <= rule.min_side_exclusive || dims.height <= rule.min_side_exclusive {
        return report.fail(
            field,
            "image",
            format!("is {dims}; each side must be more than {} pixels", rule.min_side_exclusive),
        );
    }
    if !rule.ratio.contains(dims) {
        return report.fail(
            field,
            "image",
            format!("is {dims}; the width/height ratio must be {}", rule.ratio.describe()),
        );
    }
    if let Some(Span { min, max }) = rule.pixels.filter(|span| !span.contains(dims.area())) {
        report.fail(field, "image", format!("is {dims} ({} pixels); it must have {min} to {max} pixels", dims.area()));
    }
}

fn is_http_url(text: &str) -> bool {
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

fn check_group(report: &mut Report, family: Option<&ModelFamily>, req: &GenerateRequest) {
    let group = family.map_or(Some(COMMON_GROUP), |f| f.group);
    let GroupRule { max_images: Range { min, max, .. }, max_total } = group.unwrap_or(COMMON_GROUP);
    let references = req.images().len() as i64;
    let room = max_total - references;
    if let Some(max_images) = req.sequential_image_generation_options.as_ref().and_then(|o| o.max_images) {
        if !(min..=max).contains(&max_images) {
            report.fail(
                "sequential_image_generation_options.max_images",
                "range",
                format!("must be an integer from {min} to {max}"),
            );
        } else if group.is_some() && max_images > room {
            report.fail(
                "sequential_image_generation_options.max_images",
                "count",
                format!("{references} reference images + {max_images} images exceed {max_total}: at most {room}"),
            );
        }
    }
    let Some(n) = &req.n else { return };
    match n.value() {
        Some(count) if (min..=max).contains(&count) => {
            if group.is_some() && count > room {
                report.fail(
                    "n",
                    "count",
                    format!("{references} reference images + {count} images exceed {max_total}: at most {room}"),
                );
            } else if let Some(family) = family.filter(|_| group.is_none() && count != 1) {
                report.fail("n", "unsupported", format!("{} makes one image per request: n must be 1", family.name));
            }
        }
        _ => report.fail("n", "range", format!("must be an integer from {min} to {max}, not {}", count_repr(n))),
    }
}

fn count_repr(n: &ImageCount) -> String {
    match n {
        ImageCount::Number(v) => v.to_string(),
        ImageCount::Text(t) => format!("{t:?}"),
    }
}

/// The fields only some families take, each read from the family's row.
fn check_family_fields(report: &mut Report, family: &ModelFamily, req: &GenerateRequest) {
    let name = &family.name;
    let unsupported = |report: &mut Report, field: &str, takes: fn(&ModelFamily) -> bool| {
        report.fail(field, "unsupported", format!("is not accepted by {name} (only {})", catalog::names_where(takes)));
    };
    match (req.seed, family.seed) {
        (Some(_), None) => unsupported(report, "seed", |f| f.seed.is_some()),
        (Some(seed), Some(range)) if !range.contains(seed) => {
            report.fail("seed", "range", format!("must be an integer from {} to {}", range.min, range.max))
        }
        _ => {}
    }
    match (req.guidance_scale, family.guidance_scale) {
        (Some(_), None) => unsupported(report, "guidance_scale", |f| f.guidance_scale.is_some()),
        (Some(scale), Some(range)) if !range.contains(scale) => {
            report.fail("guidance_scale", "range", format!("must be a number from {} to {}", range.min, range.max))
        }
        _ => {}
    }
    if req.sequential_image_generation == Some(SequentialImageGeneration::Auto) && family.group.is_none() {
        unsupported(report, "sequential_image_generation", ModelFamily::takes_group);
    }
    if req.is_stream() && !family.stream {
        unsupported(report, "stream", |f| f.stream);
    }
    // A known family's row refuses the values it does not list, known to this version or not.
    if let Some(format) = req.output_format.as_ref().filter(|f| !family.takes_output_format(f.as_str())) {
        report.fail(
            "output_format",
            "unsupported",
            format!("{name} makes {} only, not {}", or_list(&family.output_formats), format.as_str()),
        );
    }
    for (index, tool) in req.tools.iter().flatten().enumerate() {
        if !family.takes_tool(tool.kind.as_str()) {
            let takers = catalog::names_where(|f| f.takes_tool(tool.kind.as_str()));
            let only = if takers.is_empty() { String::new() } else { format!(" (only {takers})") };
            report.fail(
                format!("tools[{index}].type"),
                "unsupported",
                format!("{} is not accepted by {name}{only}", tool.kind),
            );
        }
    }
    if req.is_layer_decomposition() && family.layers.is_none() {
        unsupported(report, "layer_decomposition", |f| f.layers.is_some());
    }
    if let Some(background) = &req.background {
        match &family.background {
            // Every family draws an ordinary picture: only other values need a row that lists them.
            None if *background == Background::Opaque => {}
            None => unsupported(report, "background", |f| f.background.is_some()),
            Some(rule) if !family.takes_background(background.as_str()) => report.fail(
                "background",
                "value",
                format!("{name} takes {}, not {}", or_list(&rule.values), background.as_str()),
            ),
            Some(_) => {}
        }
    }
    if let Some(options) = &req.optimize_prompt_options {
        if family.optimize_prompt_modes.is_empty() {
            unsupported(report, "optimize_prompt_options", |f| !f.optimize_prompt_modes.is_empty());
        } else if let Some(mode) = options.mode.as_ref()
            && !family.optimize_prompt_modes.iter().any(|m| m == mode.as_str())
        {
            report.fail(
                "optimize_prompt_options.mode",
                "value",
                format!("{name} takes only {}", or_list(&family.optimize_prompt_modes)),
            );
        }
    }
}

/// Layer decomposition and transparent backgrounds both work on exactly one input image.
fn check_layers_and_background(report: &mut Report, family: &ModelFamily, req: &GenerateRequest) {
    let layers = family.layers.as_ref().filter(|_| req.is_layer_decomposition());
    let rule = family.background.as_ref();
    let transparent = req.background == Some(Background::Transparent) && family.takes_transparent();
    if transparent && req.output_format.as_ref().is_some_and(|f| f.as_str() == "jpeg") {
        report.fail("output_format", "value", "must be png when background is transparent");
    }
    if layers.is_some() && req.background.is_some() && rule.is_some_and(|r| !r.with_layers) {
        report.fail(
            "background",
            "unsupported",
            format!("{} takes no background together with layer_decomposition", family.name),
        );
    }
    // 5.0 makes a transparent background from one input image with alpha; 5.5 from the prompt alone.
    let needs_image = transparent && rule.is_some_and(|r| r.transparent_needs_image);
    if layers.is_none() && !needs_image {
        return;
    }
    let what = if layers.is_some() { "layer_decomposition" } else { "background: transparent" };
    let images = req.images();
    if images.len() != 1 {
        return report.fail("image", "count", format!("{what} needs exactly one input image, not {}", images.len()));
    }
    let Some(bytes) = DataUrl::parse(&images[0]).and_then(Result::ok).and_then(|d| d.decode().ok()) else {
        return; // a link: the service reads it
    };
    let field = if matches!(req.image, Some(ImageInput::Many(_))) { "image[0]" } else { "image" };
    if let (Some(rule), Some((format, dims))) = (layers, read_dimensions(&bytes)) {
        if !rule.input_formats.contains(&format) {
            let words: Vec<_> = rule.input_formats.iter().map(|f| f.as_str()).collect();
            report.fail(
                field,
                "image",
                format!("layer_decomposition takes {}, not {}", or_list(&words), format.as_str()),
            );
        }
        if !rule.input_pixels.contains(dims.area()) {
            let (min, max) = (rule.input_pixels.min, rule.input_pixels.max);
            report.fail(
                field,
                "image",
                format!("is {dims} ({} pixels); layer_decomposition takes {min} to {max} pixels", dims.area()),
            );
        }
    }
    if needs_image && has_alpha(&bytes) == Some(false) {
        report.fail(field, "image", "has no alpha channel; background: transparent needs an image with transparency");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{
        SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I, SEEDREAM_4_0, SEEDREAM_4_5, SEEDREAM_5_0_LITE, SEEDREAM_5_0_PRO,
    };
    use crate::image::encode_data_url;
    use crate::request::{Background, OptimizePromptMode, OutputFormat, ResponseFormat, Tool};

    fn png(w: u32, h: u32) -> String {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        encode_data_url(ImageFormat::Png, &b)
    }

    fn fields(req: &GenerateRequest) -> Vec<String> {
        match req.validate() {
            Ok(_) => vec![],
            Err(e) => e.violations.into_iter().map(|v| v.field).collect(),
        }
    }

    #[test]
    fn sizes_follow_each_family() {
        let sized = |model: &str, size: &str| GenerateRequest::new(model, "p").with_size(Size::from_wire(size));
        assert!(fields(&sized(SEEDREAM_4_0, "1K")).is_empty());
        assert!(fields(&sized(SEEDREAM_4_0, "1280x720")).is_empty());
        assert_eq!(fields(&sized(SEEDREAM_4_0, "1000x900")), ["size"]);
        assert_eq!(fields(&sized(SEEDREAM_4_0, "adaptive")), ["size"]);
        assert_eq!(fields(&sized(SEEDREAM_4_0, "4096x100")), ["size", "size"]);
        assert_eq!(fields(&sized(SEEDREAM_4_5, "1K")), ["size"]);
        assert!(sized(SEEDREAM_4_5, "1K").validate().unwrap_err().to_string().contains("takes 2K, 4K or WxH"));
        assert!(fields(&sized(SEEDREAM_4_5, "2k")).is_empty());
        assert!(fields(&sized(SEEDREAM_4_0, "6240x2656")).is_empty(), "4.0's own 4K 21:9 preset");
        assert!(fields(&sized(SEEDREAM_5_0_PRO, "1.5k")).is_empty());
        assert_eq!(fields(&sized(SEEDREAM_5_0_PRO, "4K")), ["size"]);
        assert!(fields(&sized(SEEDREAM_5_0_LITE, "3K")).is_empty());
        assert_eq!(fields(&sized(SEEDREAM_5_0_PRO, "auto")), ["size"], "auto only with layers");
        assert!(fields(&sized(SEEDREAM_4_5, "2560x1440")).is_empty());
        assert_eq!(fields(&sized(SEEDREAM_4_5, "2048x1440")), ["size"]);
        assert_eq!(fields(&sized(SEEDREAM_3_0_T2I, "2K")), ["size"]);
        assert!(fields(&sized(SEEDREAM_3_0_T2I, "512x2048")).is_empty());
        // Side or area is UNCONFIRMED for 3.0 t2i: only what both readings refuse is refused.
        assert!(fields(&sized(SEEDREAM_3_0_T2I, "511x1024")).is_empty());
        assert_eq!(fields(&sized(SEEDREAM_3_0_T2I, "511x511")), ["size"]);
        assert!(fields(&sized("ep-2025", "whatever")).is_empty());
    }

    #[test]
    fn images_are_checked_by_form_header_and_family() {
        let with = |model: &str, image: String| GenerateRequest::new(model, "p").with_image(image);
        assert!(fields(&with(SEEDREAM_4_0, png(100, 100))).is_empty());
        assert_eq!(fields(&with(SEEDREAM_4_0, png(10, 100))), ["image"]);
        assert_eq!(fields(&with(SEEDREAM_4_0, png(1700, 100))), ["image"]);
        assert_eq!(fields(&with(SEEDREAM_4_0, png(7000, 7000))), ["image"]);
        assert_eq!(fields(&with(SEEDREAM_4_0, "data:image/PNG;base64,AAAA".into())), ["image"]);
        assert_eq!(fields(&with(SEEDREAM_4_0, "data:image/png;base64,@@@".into())), ["image"]);
        assert_eq!(fields(&with(SEEDREAM_4_0, "data:image/png;base64,AAAA".into())), ["image"]);
        assert_eq!(fields(&with(SEEDREAM_4_0, "ftp://x".into())), ["image"]);
        assert_eq!(fields(&with(SEEDEDIT_3_0_I2I, png(300, 100))), ["image"]);
        assert!(fields(&with(SEEDEDIT_3_0_I2I, png(290, 100))).is_empty());
        assert_eq!(fields(&with(SEEDEDIT_3_0_I2I, "data:image/webp;base64,AAAA".into())), ["image"]);
        assert_eq!(fields(&GenerateRequest::new(SEEDEDIT_3_0_I2I, "p")), ["image"]);
        assert_eq!(fields(&with(SEEDREAM_3_0_T2I, "https://a/b.png".into())), ["image"]);
        let many = GenerateRequest::new(SEEDREAM_4_0, "p").with_images(["https://a/1.png", "nope", "https://a/3.png"]);
        assert_eq!(fields(&many), ["image[1]"]);
        let too_many = GenerateRequest::new(SEEDREAM_4_0, "p").with_images((0..15).map(|i| format!("https://a/{i}")));
        assert_eq!(fields(&too_many), ["image"]);
    }

    #[test]
    fn group_counts_and_family_only_fields() {
        let refs = GenerateRequest::new(SEEDREAM_4_0, "p").with_images((0..5).map(|i| format!("https://a/{i}")));
        assert!(fields(&refs.clone().with_max_images(10)).is_empty());
        assert_eq!(fields(&refs.clone().with_max_images(11)), ["sequential_image_generation_options.max_images"]);
        assert_eq!(
            fields(&GenerateRequest::new(SEEDREAM_4_0, "p").with_max_images(0)),
            ["sequential_image_generation_options.max_images"]
        );
        let mut n = GenerateRequest::new(SEEDREAM_4_0, "p");
        n.n = Some(ImageCount::Text("three".into()));
        assert_eq!(fields(&n), ["n"]);
        assert_eq!(fields(&GenerateRequest::new(SEEDREAM_4_0, "p").with_seed(1)), ["seed"]);
        assert_eq!(fields(&GenerateRequest::new(SEEDREAM_3_0_T2I, "p").with_seed(-2)), ["seed"]);
        assert_eq!(fields(&GenerateRequest::new(SEEDREAM_3_0_T2I, "p").with_guidance_scale(10.5)), ["guidance_scale"]);
        assert_eq!(fields(&GenerateRequest::new(SEEDREAM_3_0_T2I, "p").with_stream(true)), ["stream"]);
        assert_eq!(
            fields(&GenerateRequest::new(SEEDREAM_4_5, "p").with_optimize_prompt(OptimizePromptMode::Fast)),
            ["optimize_prompt_options.mode"]
        );
        // Values are open: an unknown response_format is a warning, and it is sent.
        let png = GenerateRequest::new(SEEDREAM_4_0, "p").with_response_format(ResponseFormat::Other("png".into()));
        assert_eq!(png.validate().unwrap()[0].field, "response_format");
        assert_eq!(fields(&GenerateRequest::new("", " ")), ["model", "prompt"]);
    }

    #[test]
    fn five_zero_fields_follow_each_family() {
        let pro = || GenerateRequest::new(SEEDREAM_5_0_PRO, "p");
        let lite = || GenerateRequest::new(SEEDREAM_5_0_LITE, "p");
        assert!(fields(&pro().with_output_format(OutputFormat::Png)).is_empty());
        assert_eq!(
            fields(&GenerateRequest::new(SEEDREAM_4_0, "p").with_output_format(OutputFormat::Png)),
            ["output_format"]
        );
        assert_eq!(fields(&pro().with_stream(true)), ["stream"]);
        assert_eq!(fields(&pro().with_max_images(3)), ["sequential_image_generation"]);
        assert_eq!(fields(&pro().with_tool(Tool::web_search())), ["tools[0].type"]);
        assert!(fields(&lite().with_tool(Tool::web_search()).with_max_images(4).with_stream(true)).is_empty());
        assert_eq!(fields(&lite().with_layer_decomposition(true)), ["layer_decomposition"]);
        let eleven = pro().with_images((0..11).map(|i| format!("https://a/{i}")));
        assert_eq!(fields(&eleven), ["image"]);
        assert!(fields(&pro().with_images((0..10).map(|i| format!("https://a/{i}")))).is_empty());
    }

    #[test]
    fn layers_and_transparency_need_one_fitting_input() {
        let layers = GenerateRequest::new(SEEDREAM_5_0_PRO, "").with_layer_decomposition(true);
        assert!(fields(&layers.clone().with_image(png(1024, 1024)).with_size(Size::Auto)).is_empty());
        assert_eq!(fields(&layers.clone()), ["image"]);
        assert_eq!(fields(&layers.clone().with_image(png(256, 256))), ["image"], "below 262144 pixels");
        assert_eq!(fields(&layers.clone().with_image(png(1024, 1024)).with_size(Size::pixels(1024, 1024))), ["size"]);
        let transparent = GenerateRequest::new(SEEDREAM_5_0_PRO, "p").with_background(Background::Transparent);
        assert!(fields(&transparent.clone().with_image(png(512, 512))).is_empty());
        assert_eq!(
            fields(&transparent.clone().with_image(png(512, 512)).with_output_format(OutputFormat::Jpeg)),
            ["output_format"]
        );
        // The header helper stops after the size; colour type 2 is RGB without alpha.
        let mut rgb = DataUrl::parse(&png(512, 512)).unwrap().unwrap().decode().unwrap();
        rgb.extend_from_slice(&[8, 2, 0, 0, 0]);
        let rgb = encode_data_url(ImageFormat::Png, &rgb);
        assert_eq!(fields(&transparent.with_image(rgb)), ["image"], "no alpha channel");
        assert_eq!(
            fields(&GenerateRequest::new(SEEDREAM_4_0, "").with_layer_decomposition(true)),
            ["layer_decomposition"]
        );
    }

    #[test]
    fn an_edit_gets_exactly_the_generations_rules_for_its_fields() {
        use crate::edit::{EditRequest, ImageFile};
        use crate::request::{OptimizePromptMode, Tool};
        let url = png(512, 512);
        let bytes = DataUrl::parse(&url).unwrap().unwrap().decode().unwrap();
        type Set = fn(GenerateRequest, EditRequest) -> (GenerateRequest, EditRequest);
        let cases: [(&str, Set); 12] = [
            ("nothing", |g, e| (g, e)),
            ("seed", |g, e| (g.with_seed(7), e.with_seed(7))),
            ("seed out of range", |g, e| (g.with_seed(-2), e.with_seed(-2))),
            ("guidance_scale", |g, e| (g.with_guidance_scale(5.5), e.with_guidance_scale(5.5))),
            ("guidance_scale out of range", |g, e| (g.with_guidance_scale(11.0), e.with_guidance_scale(11.0))),
            ("png", |g, e| (g.with_output_format(OutputFormat::Png), e.with_output_format(OutputFormat::Png))),
            ("webp", |g, e| {
                let webp = OutputFormat::Other("webp".into());
                (g.with_output_format(webp.clone()), e.with_output_format(webp))
            }),
            ("transparent", |g, e| {
                (g.with_background(Background::Transparent), e.with_background(Background::Transparent))
            }),
            ("transparent jpeg", |g, e| {
                let (g, e) = (g.with_output_format(OutputFormat::Jpeg), e.with_output_format(OutputFormat::Jpeg));
                (g.with_background(Background::Transparent), e.with_background(Background::Transparent))
            }),
            ("stream", |g, e| (g.with_stream(true), e.with_stream(true))),
            ("fast", |g, e| {
                (g.with_optimize_prompt(OptimizePromptMode::Fast), e.with_optimize_prompt(OptimizePromptMode::Fast))
            }),
            ("web search", |g, e| (g.with_tool(Tool::web_search()), e.with_tool(Tool::web_search()))),
        ];
        let models = catalog::families().iter().map(|f| f.model_id.as_str()).chain(["ep-20260101-x", "some-new-model"]);
        for model in models {
            for (what, set) in &cases {
                let (generate, edit) = set(
                    GenerateRequest::new(model, "p").with_image(url.clone()),
                    EditRequest::new(model, "p", ImageFile::new("in.png", bytes.clone())),
                );
                let edit_fields = match edit.validate() {
                    Ok(_) => vec![],
                    Err(e) => e.violations.into_iter().map(|v| v.field).collect(),
                };
                assert_eq!(edit_fields, fields(&generate), "{model}, {what}");
            }
        }
    }

    #[test]
    fn values_this_version_does_not_know_are_refused_only_by_a_known_row_that_lists_others() {
        let open = |model: &str| {
            let mut request = GenerateRequest::new(model, "p")
                .with_background(Background::Other("studio".into()))
                .with_output_format(OutputFormat::Other("webp".into()))
                .with_tool(Tool {
                    kind: crate::request::ToolType::Other("image_search".into()),
                    extra: Default::default(),
                })
                .with_optimize_prompt(OptimizePromptMode::Other("deep".into()));
            request.sequential_image_generation = Some(SequentialImageGeneration::Other("manual".into()));
            request
        };
        for model in ["ep-20260101-abcde", "some-new-model", "dola-seedream-9-0-270101"] {
            let warnings = open(model).validate().unwrap_or_else(|e| panic!("{model}: {e}"));
            assert_eq!(warnings.len(), 1, "{model}: the unknown group mode is a warning");
            let auto = GenerateRequest::new(model, "p").with_background(Background::Auto);
            assert!(auto.validate().is_ok(), "{model}: background auto");
        }
        // A known row refuses what it does not list, known to this version or not.
        assert_eq!(
            fields(&open(SEEDREAM_5_0_PRO)),
            ["output_format", "tools[0].type", "background", "optimize_prompt_options.mode"]
        );
        assert!(serde_json::to_value(open("ep-1")).unwrap()["tools"][0]["type"] == "image_search", "sent as written");
    }

    #[test]
    fn background_auto_is_taken_by_5_0_and_5_5_and_5_5_makes_transparency_from_text() {
        use crate::catalog::SEEDREAM_5_5;
        for model in [SEEDREAM_5_0_PRO, SEEDREAM_5_5, "dola-seedream-5-0-flash-260915"] {
            assert!(fields(&GenerateRequest::new(model, "p").with_background(Background::Auto)).is_empty(), "{model}");
        }
        assert_eq!(fields(&GenerateRequest::new(SEEDREAM_4_0, "p").with_background(Background::Auto)), ["background"]);
        assert!(fields(&GenerateRequest::new(SEEDREAM_4_0, "p").with_background(Background::Opaque)).is_empty());
        // 5.5: transparent from the prompt alone; 5.0 pro needs an input image.
        let transparent =
            |model: &str| GenerateRequest::new(model, "a red apple").with_background(Background::Transparent);
        assert!(fields(&transparent(SEEDREAM_5_5)).is_empty());
        assert_eq!(fields(&transparent(SEEDREAM_5_0_PRO)), ["image"]);
        // 5.5 refuses jpeg with transparent and any background with layers.
        assert_eq!(fields(&transparent(SEEDREAM_5_5).with_output_format(OutputFormat::Jpeg)), ["output_format"]);
        let layered = GenerateRequest::new(SEEDREAM_5_5, "").with_layer_decomposition(true).with_image(png(1024, 1024));
        assert!(fields(&layered).is_empty());
        assert_eq!(fields(&layered.with_background(Background::Opaque)), ["background"]);
        // No groups, no streams, ten references, 3K taken (UNCONFIRMED), 4K not.
        assert_eq!(
            fields(&GenerateRequest::new(SEEDREAM_5_5, "p").with_max_images(2)),
            ["sequential_image_generation"]
        );
        assert_eq!(fields(&GenerateRequest::new(SEEDREAM_5_5, "p").with_stream(true)), ["stream"]);
        let refs =
            |n: usize| GenerateRequest::new(SEEDREAM_5_5, "p").with_images((0..n).map(|i| format!("https://a/{i}")));
        assert!(fields(&refs(10)).is_empty());
        assert_eq!(fields(&refs(11)), ["image"]);
        assert!(fields(&GenerateRequest::new(SEEDREAM_5_5, "p").with_size(Size::from_wire("3K"))).is_empty());
        assert_eq!(fields(&GenerateRequest::new(SEEDREAM_5_5, "p").with_size(Size::from_wire("4K"))), ["size"]);
    }

    #[test]
    fn layer_inputs_take_gif_and_bmp_as_well_as_png_and_jpeg_but_not_heic() {
        let layers = |format: ImageFormat, bytes: Vec<u8>| {
            let url = encode_data_url(format, &bytes);
            GenerateRequest::new(SEEDREAM_5_0_PRO, "").with_layer_decomposition(true).with_image(url)
        };
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&[0, 4, 0, 4, 0, 0, 0]); // 1024 x 1024, little-endian
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());
        bmp.extend_from_slice(&1024i32.to_le_bytes());
        bmp.extend_from_slice(&1024i32.to_le_bytes());
        bmp.extend_from_slice(&[1, 0, 24, 0]);
        assert_eq!(read_dimensions(&gif), Some((ImageFormat::Gif, Dimensions::new(1024, 1024))));
        assert_eq!(read_dimensions(&bmp).map(|(f, _)| f), Some(ImageFormat::Bmp));
        assert!(fields(&layers(ImageFormat::Gif, gif)).is_empty());
        assert!(fields(&layers(ImageFormat::Bmp, bmp)).is_empty());
        let rule = catalog::family_of(SEEDREAM_5_0_PRO).unwrap().layers.clone().unwrap();
        assert_eq!(rule.input_formats.len(), 6);
        assert!(!rule.input_formats.contains(&ImageFormat::Heic));
    }

    #[test]
    fn a_long_prompt_is_a_warning_not_an_error() {
        let long = "猫".repeat(301);
        let warnings = GenerateRequest::new(SEEDREAM_4_0, long).validate().unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].field, "prompt");
    }
}
