//! The documented shape of an answer (spec, "Responses"): how many images a request yields, of what
//! size and format (JPEG; PNG for `output_format: png`, transparent backgrounds and layers), the
//! layer fields of a decomposition, what `usage` holds in Ark's and in a relay's shape (with 5.0's
//! `input_images` and `tool_usage`), and that image bytes are a whole JPEG or PNG of the stated size.
//! Shared by the conformance run, the fault matrix and the soak.

use std::collections::BTreeSet;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Mutex, PoisonError};

use seedream_types::image::{has_alpha, read_dimensions};
use seedream_types::size::adaptive_dimensions;
use seedream_types::{
    Background, DataUrl, Dimensions, GenerateRequest, GeneratedImage, ImageFormat, ImagesResponse, OutputFormat, Size,
    SizeForm, ToolType, Usage,
};

/// Which shape `usage` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageShape {
    /// Ark (`/api/v3`, and every stream's `completed` event): `generated_images`, `output_tokens`,
    /// `total_tokens`.
    Ark,
    /// Relays (`/v1`, seeds 000 and 003): also `prompt_tokens` and `completion_tokens`.
    Relay,
}

/// What a valid request must yield.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// `data.len()`: the request's image count (`max_images` / `n` for groups, else 1).
    pub count: usize,
    /// Each image's pixel size.
    pub dims: Dimensions,
    /// Whether items carry `size` (Seedream 4.x and 5.x).
    pub has_size: bool,
    /// The format of each image (of the base image with layers): PNG for `output_format: png` or a
    /// transparent background, else JPEG.
    pub format: ImageFormat,
    /// Whether each item states its `output_format` (5.0 pro and flash).
    pub states_format: bool,
    /// Layer decomposition: the most layers besides the base image. `count` is then the least
    /// number of items (a base and one layer).
    pub max_layers: Option<usize>,
    /// Whether every image must have an alpha channel (a transparent background).
    pub alpha: bool,
    /// Whether each item states its `background` (5.5).
    pub states_background: bool,
    /// `usage.input_images` as the family reports it (5.0 pro and flash): the reference count.
    pub input_images: Option<u64>,
    /// Whether `usage.tool_usage.web_search` and the top-level `tools` must be there.
    pub web_search: bool,
}

impl Expected {
    /// The images and size a request yields.
    ///
    /// Sizes follow the spec: `WxH` is exact; a preset takes its table size for the first input
    /// image's ratio; `adaptive` the SeedEdit size closest to the input. An input given as a link
    /// cannot be read without fetching it, so its ratio counts as square (1024x1024 for `adaptive`),
    /// which is also what the emulator assumes. No `size`: 2048x2048 (4.x), 1024x1024 (3.0 t2i),
    /// adaptive (SeedEdit). Layers (`size` absent or `auto`) keep the input image's size.
    pub fn of(request: &GenerateRequest) -> Self {
        let family = seedream_types::catalog::family_of(&request.model);
        let input = request.images().first().and_then(|first| {
            let bytes = DataUrl::parse(first)?.ok()?.decode().ok()?;
            read_dimensions(&bytes).map(|(_, dims)| dims)
        });
        let square = Dimensions::new(1024, 1024);
        let layers = family.and_then(|f| f.layers.as_ref()).filter(|_| request.is_layer_decomposition());
        let dims = match (request.size.as_ref().map(Size::form), family) {
            (None | Some(SizeForm::Auto), _) if layers.is_some() => input.unwrap_or(square),
            (Some(SizeForm::Pixels(dims)), _) => dims,
            (Some(SizeForm::Preset(preset)), _) => preset.dimensions_for_ratio(input.map_or(1.0, Dimensions::ratio)),
            (Some(SizeForm::Adaptive), _) => adaptive_dimensions(input.unwrap_or(square)),
            (None, Some(family)) => family.default_dimensions(input),
            _ => Dimensions::new(2048, 2048),
        };
        let transparent = request.background == Some(Background::Transparent);
        let png_by_default = family.is_some_and(|f| f.default_output_format() == "png");
        let png = match &request.output_format {
            Some(format) => *format == OutputFormat::Png,
            None => png_by_default,
        } || transparent;
        let states_format = family.is_some_and(|f| f.reports_formats);
        Self {
            count: if layers.is_some() { 2 } else { request.max_output_images() },
            dims,
            has_size: family.is_none_or(|f| f.reports_size),
            format: if png { ImageFormat::Png } else { ImageFormat::Jpeg },
            states_format,
            max_layers: layers.map(|rule| rule.default_layers()),
            states_background: family.and_then(|f| f.background.as_ref()).is_some_and(|rule| rule.reported),
            alpha: transparent,
            input_images: states_format.then_some(request.images().len() as u64),
            web_search: request.tools.iter().flatten().any(|tool| tool.kind == ToolType::WebSearch),
        }
    }

    /// The format of item `index`: layers (z-index above 0) are PNG whatever the base is.
    pub fn format_of(&self, index: usize) -> ImageFormat {
        if self.max_layers.is_some() && index > 0 { ImageFormat::Png } else { self.format }
    }

    /// Whether `n` items is the right number.
    fn count_fits(&self, n: usize) -> bool {
        match self.max_layers {
            Some(max) => (self.count..=max + 1).contains(&n),
            None => n == self.count,
        }
    }

    /// The item count check alone, for the C view's accessor count.
    pub fn check_count(&self, n: usize) -> Result<(), String> {
        match self.max_layers {
            _ if self.count_fits(n) => Ok(()),
            Some(max) => Err(format!("{n} images, expected a base image and 1 to {max} layers")),
            None => Err(format!("{n} images, expected {}", self.count)),
        }
    }

    /// Layer fields of item `index` (spec, "Layer decomposition"): the base image has z-index 0 and
    /// no box; layer `i` has z-index `i`, a box inside the base image in pixels and on the 0–1000
    /// scale, a name and a description. Without layers, items carry none of these.
    pub fn check_layer_fields(&self, index: usize, image: &GeneratedImage) -> Result<(), String> {
        let has_any = image.z_index.is_some()
            || image.bounding_box.is_some()
            || image.name.is_some()
            || image.description.is_some();
        if self.max_layers.is_none() {
            return if has_any { Err(format!("image {index} has layer fields without layers")) } else { Ok(()) };
        }
        if image.z_index != Some(index as i64) {
            return Err(format!("image {index} has z_index {:?}", image.z_index));
        }
        if index == 0 {
            return match image.bounding_box {
                Some(_) => Err("the base image has a bounding box".into()),
                None => Ok(()),
            };
        }
        if image.name.as_deref().is_none_or(str::is_empty) || image.description.as_deref().is_none_or(str::is_empty) {
            return Err(format!("layer {index} lacks a name or a description"));
        }
        let bounding_box = image.bounding_box.as_ref().ok_or(format!("layer {index} has no bounding_box"))?;
        let (w, h) = (f64::from(self.dims.width), f64::from(self.dims.height));
        let inside = |[x1, y1, x2, y2]: [f64; 4], (w, h): (f64, f64)| {
            0.0 <= x1 && x1 < x2 && x2 <= w && 0.0 <= y1 && y1 < y2 && y2 <= h
        };
        match (bounding_box.absolute_corners(), bounding_box.normalized_corners()) {
            (Some(absolute), Some(normalized)) if inside(absolute, (w, h)) && inside(normalized, (1000.0, 1000.0)) => {
                Ok(())
            }
            _ => Err(format!("layer {index} has the box {bounding_box:?} on a {} base image", self.dims)),
        }
    }

    /// Checks a parsed response: count, each item a success of the right size, usage.
    pub fn check_response(&self, response: &ImagesResponse, shape: UsageShape) -> Result<(), String> {
        self.check_count(response.data.len())?;
        for (index, item) in response.data.iter().enumerate() {
            match item.image() {
                Some(image) => {
                    self.check_layer_fields(index, image)?;
                    let stated = image.stated_format();
                    if self.states_format && stated != Some(self.format_of(index)) {
                        return Err(format!(
                            "image {index} states output_format {:?}, expected {}",
                            image.output_format,
                            self.format_of(index).as_str()
                        ));
                    }
                    if self.states_background && image.background.is_none() {
                        return Err(format!("image {index} states no background"));
                    }
                    if image.url.is_none() == image.b64_json.is_none() {
                        return Err(format!("image {index} has not exactly one of url and b64_json"));
                    }
                    match (self.has_size, image.dimensions()) {
                        (true, Some(dims)) if dims != self.dims => {
                            return Err(format!("image {index} has size {dims}, expected {}", self.dims));
                        }
                        (true, None) => return Err(format!("image {index} has no size")),
                        _ => {}
                    }
                }
                None => return Err(format!("image {index} failed: {:?}", item.error())),
            }
        }
        let usage = response.usage.as_ref().ok_or("no usage")?;
        self.check_usage_of(usage, shape, response.data.len())?;
        if self.web_search && !response.tools.iter().flatten().any(|tool| tool.kind == ToolType::WebSearch) {
            return Err(format!("web search asked, but the response's tools are {:?}", response.tools));
        }
        Ok(())
    }

    /// Checks `usage`: the shape's fields are present, `generated_images` counts the images and
    /// `output_tokens` ≈ Σ W·H / 256 over them.
    pub fn check_usage(&self, usage: &Usage, shape: UsageShape) -> Result<(), String> {
        self.check_usage_of(usage, shape, self.count)
    }

    /// As [`check_usage`](Self::check_usage) for `count` images (a decomposition's own count), with
    /// 5.0's `input_images` and `tool_usage.web_search` where expected.
    fn check_usage_of(&self, usage: &Usage, shape: UsageShape, count: usize) -> Result<(), String> {
        if self.input_images.is_some() && usage.input_images != self.input_images {
            return Err(format!("usage.input_images is {:?}, expected {:?}", usage.input_images, self.input_images));
        }
        if self.web_search && usage.tool_usage.as_ref().and_then(|t| t.web_search).is_none() {
            return Err(format!("web search asked, but usage.tool_usage is {:?}", usage.tool_usage));
        }
        let successes = count as u64;
        let tokens = successes * self.dims.area() / 256;
        let output = usage.output_tokens.ok_or("usage has no output_tokens")?;
        if output.abs_diff(tokens) > successes {
            return Err(format!("usage.output_tokens is {output}, expected about {tokens}"));
        }
        if usage.total_tokens.is_none() {
            return Err("usage has no total_tokens".into());
        }
        match shape {
            UsageShape::Ark => {
                if usage.generated_images != Some(successes) {
                    return Err(format!(
                        "usage.generated_images is {:?}, expected {successes}",
                        usage.generated_images
                    ));
                }
            }
            UsageShape::Relay => {
                if usage.prompt_tokens.is_none() || usage.completion_tokens.is_none() {
                    return Err("relay usage lacks prompt_tokens / completion_tokens".into());
                }
                if usage.generated_images.is_some_and(|n| n != successes) {
                    return Err(format!(
                        "usage.generated_images is {:?}, expected {successes}",
                        usage.generated_images
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Checks the bytes of item `index` against its expected format and size, fully decoded or (for
/// speed, with `full` false) by header and end marker.
pub fn check_image(bytes: &[u8], expected: &Expected, index: usize, full: bool) -> Result<(), String> {
    match expected.format_of(index) {
        ImageFormat::Png => check_png(bytes, expected.dims, expected.alpha, full),
        _ if full => check_jpeg(bytes, expected.dims),
        _ => check_jpeg_header(bytes, expected.dims),
    }
}

/// Checks that `bytes` are a whole PNG of `dims` (with an alpha channel when `alpha`): the
/// signature, the header's size, the closing `IEND` chunk and, with `full`, a decode by the `png`
/// crate.
pub fn check_png(bytes: &[u8], dims: Dimensions, alpha: bool, full: bool) -> Result<(), String> {
    const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
    match read_dimensions(bytes) {
        Some((ImageFormat::Png, found)) if found != dims => return Err(format!("a PNG of {found}, expected {dims}")),
        Some((ImageFormat::Png, _)) if bytes.ends_with(&IEND) => {}
        found => return Err(format!("{} bytes that are not a whole PNG ({found:?})", bytes.len())),
    }
    if alpha && has_alpha(bytes) != Some(true) {
        return Err("a PNG without an alpha channel, for a transparent background".into());
    }
    if !full {
        return Ok(());
    }
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .map_err(|e| format!("the PNG does not decode: {e}"))?;
    let mut pixels = vec![0; reader.output_buffer_size().ok_or("the PNG is too large to decode")?];
    let frame = reader.next_frame(&mut pixels).map_err(|e| format!("the PNG does not decode: {e}"))?;
    if (frame.width, frame.height) != (dims.width, dims.height) {
        return Err(format!("decoded {}x{}", frame.width, frame.height));
    }
    if alpha && !matches!(frame.color_type, png::ColorType::Rgba | png::ColorType::GrayscaleAlpha) {
        return Err(format!("decoded as {:?}, without alpha", frame.color_type));
    }
    Ok(())
}

/// Checks that `bytes` are a whole JPEG of `dims`: the markers, the header's size, and a full decode
/// by an independent decoder. Identical bytes are decoded once per process (the paths of one system
/// receive the very same image, and a debug-built decoder takes most of a second for 2K).
pub fn check_jpeg(bytes: &[u8], dims: Dimensions) -> Result<(), String> {
    static DECODED: Mutex<BTreeSet<(u64, usize, u32, u32)>> = Mutex::new(BTreeSet::new());
    check_jpeg_header(bytes, dims)?;
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let key = (hasher.finish(), bytes.len(), dims.width, dims.height);
    let decoded = || DECODED.lock().unwrap_or_else(PoisonError::into_inner);
    if decoded().contains(&key) {
        return Ok(());
    }
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().map_err(|e| format!("the JPEG does not decode: {e}"))?;
    let info = decoder.info().ok_or("the JPEG decoded without a header")?;
    let expected = usize::from(info.width) * usize::from(info.height) * info.pixel_format.pixel_bytes();
    if (u32::from(info.width), u32::from(info.height)) != (dims.width, dims.height) || pixels.len() != expected {
        return Err(format!("decoded {}x{} ({} bytes)", info.width, info.height, pixels.len()));
    }
    decoded().insert(key);
    Ok(())
}

/// Checks the header and markers only (for the soak and the fault matrix, where thousands of images
/// go by).
pub fn check_jpeg_header(bytes: &[u8], dims: Dimensions) -> Result<(), String> {
    match read_dimensions(bytes) {
        Some((ImageFormat::Jpeg, found)) if found == dims && bytes.ends_with(&[0xFF, 0xD9]) => Ok(()),
        Some((ImageFormat::Jpeg, found)) if found != dims => Err(format!("a JPEG of {found}, expected {dims}")),
        found => Err(format!("{} bytes that are not a whole JPEG ({found:?})", bytes.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedream_types::{SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I, SEEDREAM_4_0, SizePreset};

    #[test]
    fn expected_sizes_follow_the_spec() {
        let base = GenerateRequest::new(SEEDREAM_4_0, "p");
        assert_eq!(Expected::of(&base).dims, Dimensions::new(2048, 2048));
        assert_eq!(Expected::of(&base.clone().with_size(Size::pixels(1280, 720))).dims, Dimensions::new(1280, 720));
        let jpeg = seedream_emulator::synthetic_jpeg(1600, 900, 1, false).unwrap();
        let wide = base.clone().with_image(seedream_types::image::encode_data_url(ImageFormat::Jpeg, &jpeg));
        assert_eq!(Expected::of(&wide.with_size(SizePreset::TwoK)).dims, Dimensions::new(2560, 1440));
        assert_eq!(Expected::of(&GenerateRequest::new(SEEDREAM_3_0_T2I, "p")).dims, Dimensions::new(1024, 1024));
        let edit = GenerateRequest::new(SEEDEDIT_3_0_I2I, "p").with_image("https://a/b.png");
        assert_eq!(Expected::of(&edit).dims, Dimensions::new(1024, 1024));
        assert!(!Expected::of(&edit).has_size);
        assert_eq!(Expected::of(&base.with_max_images(3)).count, 3);
    }

    fn png_file(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let channels = if alpha { 4 } else { 3 };
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(if alpha { png::ColorType::Rgba } else { png::ColorType::Rgb });
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&vec![7; (width * height) as usize * channels]).unwrap();
        writer.finish().unwrap();
        bytes
    }

    #[test]
    fn png_checks_catch_wrong_sizes_cut_files_and_missing_alpha() {
        let rgba = png_file(40, 30, true);
        let rgb = png_file(40, 30, false);
        for full in [false, true] {
            check_png(&rgba, Dimensions::new(40, 30), true, full).unwrap();
            check_png(&rgb, Dimensions::new(40, 30), false, full).unwrap();
            assert!(check_png(&rgb, Dimensions::new(40, 30), true, full).is_err(), "no alpha");
            assert!(check_png(&rgba, Dimensions::new(30, 40), false, full).is_err());
            assert!(check_png(&rgba[..rgba.len() - 4], Dimensions::new(40, 30), false, full).is_err());
        }
        let jpeg = seedream_emulator::synthetic_jpeg(40, 30, 1, false).unwrap();
        assert!(check_png(&jpeg, Dimensions::new(40, 30), false, false).is_err());
    }

    #[test]
    fn five_zero_expectations_follow_the_request() {
        use seedream_types::{BoundingBox, SEEDREAM_5_0_FLASH, SEEDREAM_5_0_LITE, SEEDREAM_5_0_PRO, SizePreset, Tool};
        let url = |w, h, alpha| seedream_types::image::encode_data_url(ImageFormat::Png, &png_file(w, h, alpha));
        let pro = GenerateRequest::new(SEEDREAM_5_0_PRO, "p").with_size(SizePreset::OneK);
        let plain = Expected::of(&pro);
        assert_eq!((plain.format, plain.states_format, plain.input_images), (ImageFormat::Jpeg, true, Some(0)));
        let png = Expected::of(&pro.clone().with_output_format(OutputFormat::Png));
        assert_eq!((png.format, png.alpha, png.dims), (ImageFormat::Png, false, Dimensions::new(1024, 1024)));
        let clear = Expected::of(&pro.clone().with_image(url(512, 512, true)).with_background(Background::Transparent));
        assert_eq!((clear.format, clear.alpha, clear.input_images), (ImageFormat::Png, true, Some(1)));
        let layered = GenerateRequest::new(SEEDREAM_5_0_FLASH, "").with_image(url(640, 512, false));
        let layers = Expected::of(&layered.with_layer_decomposition(true));
        assert_eq!((layers.dims, layers.max_layers), (Dimensions::new(640, 512), Some(16)));
        assert_eq!((layers.format_of(0), layers.format_of(3)), (ImageFormat::Jpeg, ImageFormat::Png));
        assert!(layers.check_count(1).is_err() && layers.check_count(17).is_ok() && layers.check_count(18).is_err());
        let lite = Expected::of(&GenerateRequest::new(SEEDREAM_5_0_LITE, "p").with_tool(Tool::web_search()));
        assert!(lite.web_search && !lite.states_format && lite.input_images.is_none());

        let image = |z: Option<i64>, bounding_box: Option<BoundingBox>, name: Option<&str>| GeneratedImage {
            z_index: z,
            bounding_box,
            name: name.map(str::to_owned),
            description: name.map(str::to_owned),
            ..Default::default()
        };
        let inside = BoundingBox::new([10, 10, 200, 100], [15, 19, 312, 195]);
        layers.check_layer_fields(0, &image(Some(0), None, None)).unwrap();
        layers.check_layer_fields(1, &image(Some(1), Some(inside.clone()), Some("sky"))).unwrap();
        assert!(layers.check_layer_fields(1, &image(Some(2), Some(inside.clone()), Some("sky"))).is_err());
        assert!(layers.check_layer_fields(1, &image(Some(1), Some(inside.clone()), None)).is_err());
        assert!(layers.check_layer_fields(0, &image(Some(0), Some(inside.clone()), None)).is_err());
        let outside = BoundingBox::new([10, 10, 700, 100], [15, 19, 1093, 195]);
        assert!(layers.check_layer_fields(1, &image(Some(1), Some(outside), Some("sky"))).is_err());
        assert!(plain.check_layer_fields(0, &image(Some(0), None, None)).is_err(), "layer fields without layers");
    }

    #[test]
    fn jpeg_checks_catch_wrong_sizes_and_cut_files() {
        let jpeg = seedream_emulator::synthetic_jpeg(64, 48, 1, false).unwrap();
        check_jpeg(&jpeg, Dimensions::new(64, 48)).unwrap();
        check_jpeg_header(&jpeg, Dimensions::new(64, 48)).unwrap();
        assert!(check_jpeg(&jpeg, Dimensions::new(48, 64)).is_err());
        assert!(check_jpeg(&jpeg[..jpeg.len() / 2], Dimensions::new(64, 48)).is_err());
        assert!(check_jpeg_header(&jpeg[..jpeg.len() - 1], Dimensions::new(64, 48)).is_err());
        assert!(check_jpeg(b"\x89PNG....", Dimensions::new(64, 48)).is_err());
    }
}
