//! Per-model validation: every violation, each with its field path and the rule it breaks.
//!
//! Range rules that hold for every model come from the `validator` derive on the request types; the
//! rules that depend on the model family (the spec's tables) are checked here.

use std::fmt;

use validator::{ValidationErrors, ValidationErrorsKind};

use crate::edit::EditRequest;
use crate::image::{DataUrl, DataUrlError, ImageFormat, read_dimensions};
use crate::model::ModelFamily;
use crate::request::{GenerateRequest, ImageCount, ImageInput, OptimizePromptMode, SequentialImageGeneration};
use crate::size::{Dimensions, Size, SizePreset};

/// The largest input image the service takes, in bytes (10 MB).
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;
/// Reference images plus generated images may not exceed this.
pub const MAX_TOTAL_IMAGES: i64 = 15;
/// Most reference images Seedream 4.x takes.
pub const MAX_REFERENCE_IMAGES: usize = 14;
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

    /// Adds the `validator` derive's errors under their field paths.
    fn absorb(&mut self, prefix: &str, errors: &ValidationErrors) {
        let mut fields: Vec<_> = errors.errors().iter().collect();
        fields.sort_by(|a, b| a.0.cmp(b.0));
        for (name, kind) in fields {
            let path = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
            match kind {
                ValidationErrorsKind::Field(list) => {
                    for error in list {
                        let message = error.message.as_deref().unwrap_or(&error.code).to_owned();
                        let code = if error.code == "length" { "required" } else { "range" };
                        self.fail(path.clone(), code, message);
                    }
                }
                ValidationErrorsKind::Struct(inner) => self.absorb(&path, inner),
                ValidationErrorsKind::List(items) => {
                    for (index, inner) in items {
                        self.absorb(&format!("{path}[{index}]"), inner);
                    }
                }
            }
        }
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
    /// Checks the request against the rules of its model's family and returns the warnings, or every
    /// violation. Unknown models and endpoint ids (`ep-…`) get only the rules common to all.
    /// No network: URLs are checked for form only; data URLs are decoded and their headers read.
    pub fn validate(&self) -> Result<Vec<Violation>, ValidationError> {
        let mut report = Report::default();
        if let Err(errors) = validator::Validate::validate(self) {
            report.absorb("", &errors);
        }
        let family = ModelFamily::of(&self.model);
        check_prompt(&mut report, &self.prompt);
        if let Some(format) = self.response_format.as_ref().filter(|f| !f.is_known()) {
            report.fail(
                "response_format",
                "value",
                format!("must be url or b64_json, not {format:?}", format = format.as_str()),
            );
        }
        if let Some(size) = &self.size {
            check_size(&mut report, family, size);
        }
        check_images(&mut report, family, self.image.as_ref());
        check_group(&mut report, family, self);
        check_family_only_fields(&mut report, family, self);
        report.finish()
    }
}

impl EditRequest {
    /// Checks an edit with the same rules as the generations request it stands for (the images'
    /// bytes are checked as data URLs would be), plus a readable mask.
    pub fn validate(&self) -> Result<Vec<Violation>, ValidationError> {
        let mut generate = self.to_generate_request();
        generate.extra.clear();
        // Validate `n` under its own name, not as the max_images it is converted to.
        generate.sequential_image_generation = None;
        generate.sequential_image_generation_options = None;
        generate.n = self.n.clone();
        if self.images.len() > 1 {
            generate.image = Some(ImageInput::Many(generate.images().to_vec()));
        }
        let mut report = match generate.validate() {
            Ok(warnings) => Report { violations: Vec::new(), warnings },
            Err(e) => Report { violations: e.violations, warnings: e.warnings },
        };
        if self.images.is_empty() {
            report.fail("image", "required", "at least one image file is required");
        }
        if let Some(mask) = &self.mask
            && read_dimensions(&mask.bytes).is_none()
        {
            report.fail("mask", "image", "is not a readable PNG, JPEG, WebP, GIF, BMP or TIFF image");
        }
        report.finish()
    }
}

fn check_prompt(report: &mut Report, prompt: &str) {
    if prompt.trim().is_empty() {
        report.fail("prompt", "required", "is required and must not be empty");
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

/// Allowed `WxH` pixel area and ratio for a family.
struct PixelRule {
    min_area: u64,
    max_area: u64,
}

const AREA_4_0: PixelRule = PixelRule { min_area: 921_600, max_area: 16_777_216 };
const AREA_4_5: PixelRule = PixelRule { min_area: 3_686_400, max_area: 16_777_216 };

fn check_size(report: &mut Report, family: ModelFamily, size: &Size) {
    let name = family.display_name();
    match (family, size) {
        (ModelFamily::Other, _) => {}
        (ModelFamily::Seedream40, Size::Preset(_)) => {}
        (ModelFamily::Seedream45, Size::Preset(SizePreset::OneK)) => report.fail(
            "size",
            "size",
            "Seedream 4.5 does not take 1K: use 2K or 4K, or WxH with W·H from 3686400 (2560x1440) to 16777216",
        ),
        (ModelFamily::Seedream45, Size::Preset(_)) => {}
        (ModelFamily::Seedream40, Size::Pixels(dims)) => check_area(report, dims, &AREA_4_0),
        (ModelFamily::Seedream45, Size::Pixels(dims)) => check_area(report, dims, &AREA_4_5),
        (ModelFamily::Seedream40, _) => report.fail(
            "size",
            "size",
            format!("{name} takes 1K, 2K, 4K or WxH (such as 2048x2048), not {:?}", size.to_wire()),
        ),
        (ModelFamily::Seedream45, _) => report.fail(
            "size",
            "size",
            format!("{name} takes 2K, 4K or WxH (such as 2560x1440), not {:?}", size.to_wire()),
        ),
        (ModelFamily::SeedEdit30I2i, Size::Adaptive) => {}
        (ModelFamily::SeedEdit30I2i, _) => {
            report.fail("size", "size", format!("{name} takes only adaptive, not {:?}", size.to_wire()))
        }
        (ModelFamily::Seedream30T2i, Size::Pixels(dims))
            if (512..=2048).contains(&dims.width) && (512..=2048).contains(&dims.height) => {}
        (ModelFamily::Seedream30T2i, _) => report.fail(
            "size",
            "size",
            format!("{name} takes WxH with each side from 512 to 2048 (such as 1024x1024), not {:?}", size.to_wire()),
        ),
    }
}

fn check_area(report: &mut Report, dims: &Dimensions, rule: &PixelRule) {
    if !(rule.min_area..=rule.max_area).contains(&dims.area()) {
        report.fail(
            "size",
            "size",
            format!("{dims} has {} pixels; W·H must be from {} to {}", dims.area(), rule.min_area, rule.max_area),
        );
    }
    if !ratio_within(*dims, 1.0 / 16.0, 16.0) {
        report.fail("size", "size", format!("{dims}: the width/height ratio must be from 1/16 to 16"));
    }
}

fn ratio_within(dims: Dimensions, low: f64, high: f64) -> bool {
    let ratio = dims.ratio();
    (low..=high).contains(&ratio)
}

/// What a family accepts of each input image.
struct ImageRule {
    formats: &'static [ImageFormat],
    /// Allowed width/height ratio and whether its ends are included.
    ratio: (f64, f64, bool),
    max_pixels: Option<u64>,
}

const IMAGES_4_X: ImageRule = ImageRule {
    formats: &[
        ImageFormat::Jpeg,
        ImageFormat::Png,
        ImageFormat::Webp,
        ImageFormat::Bmp,
        ImageFormat::Tiff,
        ImageFormat::Gif,
    ],
    ratio: (1.0 / 16.0, 16.0, true),
    max_pixels: Some(36_000_000),
};
const IMAGES_SEEDEDIT: ImageRule =
    ImageRule { formats: &[ImageFormat::Jpeg, ImageFormat::Png], ratio: (1.0 / 3.0, 3.0, false), max_pixels: None };

fn check_images(report: &mut Report, family: ModelFamily, image: Option<&ImageInput>) {
    let name = family.display_name();
    let rule = match family {
        ModelFamily::Seedream40 | ModelFamily::Seedream45 => Some(&IMAGES_4_X),
        ModelFamily::SeedEdit30I2i => Some(&IMAGES_SEEDEDIT),
        ModelFamily::Seedream30T2i | ModelFamily::Other => None,
    };
    match (family, image) {
        (ModelFamily::Seedream30T2i, Some(_)) => {
            return report.fail("image", "unsupported", format!("{name} does not take input images"));
        }
        (ModelFamily::SeedEdit30I2i, None) => {
            return report.fail("image", "required", format!("is required for {name}: exactly one image"));
        }
        (ModelFamily::SeedEdit30I2i, Some(ImageInput::Many(_))) => {
            return report.fail("image", "count", format!("{name} takes exactly one image, as a string"));
        }
        (_, Some(ImageInput::Many(many)))
            if many.is_empty() || (family.is_seedream_4() && many.len() > MAX_REFERENCE_IMAGES) =>
        {
            return report.fail(
                "image",
                "count",
                format!("must hold 1 to {MAX_REFERENCE_IMAGES} images, not {}", many.len()),
            );
        }
        _ => {}
    }
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

fn check_image_ref(report: &mut Report, field: String, image: &str, rule: Option<&ImageRule>) {
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
    if data_url.decoded_len() > MAX_IMAGE_BYTES {
        return report.fail(
            field,
            "image",
            format!("is {} bytes; the limit is 10 MB ({MAX_IMAGE_BYTES} bytes)", data_url.decoded_len()),
        );
    }
    let bytes = match data_url.decode() {
        Ok(bytes) => bytes,
        Err(DataUrlError::Base64(reason)) => {
            return report.fail(field, "image", format!("the base64 data does not decode: {reason}"));
        }
        Err(error) => return report.fail(field, "image", error.to_string()),
    };
    let Some(rule) = rule else { return };
    let Some((_, dims)) = read_dimensions(&bytes) else {
        return report.fail(field, "image", "the data is not a readable PNG, JPEG, WebP, GIF, BMP or TIFF image");
    };
    if dims.width <= 14 || dims.height <= 14 {
        return report.fail(field, "image", format!("is {dims}; each side must be more than 14 pixels"));
    }
    let (low, high, inclusive) = rule.ratio;
    let ratio = dims.ratio();
    let ratio_ok = if inclusive { (low..=high).contains(&ratio) } else { ratio > low && ratio < high };
    if !ratio_ok {
        let bounds = if inclusive { "from 1/16 to 16" } else { "strictly between 1/3 and 3" };
        return report.fail(field, "image", format!("is {dims}; the width/height ratio must be {bounds}"));
    }
    if let Some(max) = rule.max_pixels.filter(|&max| dims.area() > max) {
        report.fail(field, "image", format!("is {dims} ({} pixels); the limit is {max} pixels", dims.area()));
    }
}

fn is_http_url(text: &str) -> bool {
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

fn check_group(report: &mut Report, family: ModelFamily, req: &GenerateRequest) {
    let references = req.images().len() as i64;
    let room = MAX_TOTAL_IMAGES - references;
    if let Some(mode) = req.sequential_image_generation.as_ref().filter(|m| !m.is_known()) {
        report.fail(
            "sequential_image_generation",
            "value",
            format!("must be auto or disabled, not {:?}", mode.as_str()),
        );
    }
    if family.is_seedream_4()
        && let Some(max) = req.sequential_image_generation_options.as_ref().and_then(|o| o.max_images)
        && (1..=15).contains(&max)
        && max > room
    {
        report.fail(
            "sequential_image_generation_options.max_images",
            "count",
            format!("{references} reference images + {max} images exceed 15: at most {room}"),
        );
    }
    let Some(n) = &req.n else { return };
    match n.value() {
        Some(count) if (1..=15).contains(&count) => {
            if family.is_seedream_4() && count > room {
                report.fail(
                    "n",
                    "count",
                    format!("{references} reference images + {count} images exceed 15: at most {room}"),
                );
            } else if !family.is_seedream_4() && family != ModelFamily::Other && count != 1 {
                report.fail(
                    "n",
                    "unsupported",
                    format!("{} makes one image per request: n must be 1", family.display_name()),
                );
            }
        }
        _ => report.fail("n", "range", format!("must be an integer from 1 to 15, not {}", count_repr(n))),
    }
}

fn count_repr(n: &ImageCount) -> String {
    match n {
        ImageCount::Number(v) => v.to_string(),
        ImageCount::Text(t) => format!("{t:?}"),
    }
}

fn check_family_only_fields(report: &mut Report, family: ModelFamily, req: &GenerateRequest) {
    if family == ModelFamily::Other {
        if let Some(mode) = optimize_mode(req).filter(|m| !m.is_known()) {
            report.fail(
                "optimize_prompt_options.mode",
                "value",
                format!("must be standard or fast, not {:?}", mode.as_str()),
            );
        }
        return;
    }
    let name = family.display_name();
    let unsupported = |report: &mut Report, field: &str, takers: &str| {
        report.fail(field, "unsupported", format!("is not accepted by {name} (only {takers})"));
    };
    if family.is_seedream_4() {
        if req.seed.is_some() {
            unsupported(report, "seed", "Seedream 3.0 t2i and SeedEdit 3.0");
        }
        if req.guidance_scale.is_some() {
            unsupported(report, "guidance_scale", "Seedream 3.0 t2i and SeedEdit 3.0");
        }
        match optimize_mode(req) {
            Some(OptimizePromptMode::Fast) if family == ModelFamily::Seedream45 => {
                report.fail("optimize_prompt_options.mode", "value", "Seedream 4.5 takes only standard")
            }
            Some(OptimizePromptMode::Other(mode)) => {
                report.fail("optimize_prompt_options.mode", "value", format!("must be standard or fast, not {mode:?}"))
            }
            _ => {}
        }
        return;
    }
    if req.sequential_image_generation.as_ref().is_some_and(SequentialImageGeneration::is_known) {
        unsupported(report, "sequential_image_generation", "Seedream 4.x");
    }
    if req.sequential_image_generation_options.is_some() {
        unsupported(report, "sequential_image_generation_options", "Seedream 4.x");
    }
    if req.stream == Some(true) {
        unsupported(report, "stream", "Seedream 4.x");
    }
    if req.optimize_prompt_options.is_some() {
        unsupported(report, "optimize_prompt_options", "Seedream 4.x");
    }
}

fn optimize_mode(req: &GenerateRequest) -> Option<&OptimizePromptMode> {
    req.optimize_prompt_options.as_ref()?.mode.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::encode_data_url;
    use crate::model::{SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I, SEEDREAM_4_0, SEEDREAM_4_5};
    use crate::request::ResponseFormat;

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
        assert!(sized(SEEDREAM_4_5, "1K").validate().unwrap_err().to_string().contains("use 2K"));
        assert!(fields(&sized(SEEDREAM_4_5, "2560x1440")).is_empty());
        assert_eq!(fields(&sized(SEEDREAM_4_5, "2048x1440")), ["size"]);
        assert_eq!(fields(&sized(SEEDREAM_3_0_T2I, "2K")), ["size"]);
        assert!(fields(&sized(SEEDREAM_3_0_T2I, "512x2048")).is_empty());
        assert_eq!(fields(&sized(SEEDREAM_3_0_T2I, "511x1024")), ["size"]);
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
        assert_eq!(
            fields(&GenerateRequest::new(SEEDREAM_4_0, "p").with_response_format(ResponseFormat::Other("png".into()))),
            ["response_format"]
        );
        assert_eq!(fields(&GenerateRequest::new("", " ")), ["model", "prompt"]);
    }

    #[test]
    fn a_long_prompt_is_a_warning_not_an_error() {
        let long = "猫".repeat(301);
        let warnings = GenerateRequest::new(SEEDREAM_4_0, long).validate().unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].field, "prompt");
    }
}
