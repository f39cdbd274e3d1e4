//! The documented shape of an answer (spec, "Responses"): how many images a request yields and of
//! what size, what `usage` holds in Ark's and in a relay's shape, and that image bytes are a JPEG of
//! the stated size. Shared by the conformance run, the fault matrix and the soak.

use std::collections::BTreeSet;
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Mutex, PoisonError};

use seedream_types::image::read_dimensions;
use seedream_types::size::adaptive_dimensions;
use seedream_types::{DataUrl, Dimensions, GenerateRequest, ImageFormat, ImagesResponse, Size, SizeForm, Usage};

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
    /// Whether items carry `size` (Seedream 4.x).
    pub has_size: bool,
}

impl Expected {
    /// The images and size a request yields.
    ///
    /// Sizes follow the spec: `WxH` is exact; a preset takes its table size for the first input
    /// image's ratio; `adaptive` the SeedEdit size closest to the input. An input given as a link
    /// cannot be read without fetching it, so its ratio counts as square (1024x1024 for `adaptive`),
    /// which is also what the emulator assumes. No `size`: 2048x2048 (4.x), 1024x1024 (3.0 t2i),
    /// adaptive (SeedEdit).
    pub fn of(request: &GenerateRequest) -> Self {
        let family = seedream_types::catalog::resolve(&request.model).map(|(family, _)| family);
        let input = request.images().first().and_then(|first| {
            let bytes = DataUrl::parse(first)?.ok()?.decode().ok()?;
            read_dimensions(&bytes).map(|(_, dims)| dims)
        });
        let square = Dimensions::new(1024, 1024);
        let dims = match (request.size.as_ref().map(Size::form), family) {
            (Some(SizeForm::Pixels(dims)), _) => dims,
            (Some(SizeForm::Preset(preset)), _) => preset.dimensions_for_ratio(input.map_or(1.0, Dimensions::ratio)),
            (Some(SizeForm::Adaptive), _) => adaptive_dimensions(input.unwrap_or(square)),
            (None, Some(family)) => family.default_dimensions(input),
            _ => Dimensions::new(2048, 2048),
        };
        Self { count: request.max_output_images(), dims, has_size: family.is_none_or(|f| f.reports_size) }
    }

    /// Checks a parsed response: count, each item a success of the right size, usage.
    pub fn check_response(&self, response: &ImagesResponse, shape: UsageShape) -> Result<(), String> {
        if response.data.len() != self.count {
            return Err(format!("{} images, expected {}", response.data.len(), self.count));
        }
        for (index, item) in response.data.iter().enumerate() {
            match item.image() {
                Some(image) => {
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
        self.check_usage(usage, shape)
    }

    /// Checks `usage`: the shape's fields are present, `generated_images` counts the images and
    /// `output_tokens` ≈ Σ W·H / 256 over them.
    pub fn check_usage(&self, usage: &Usage, shape: UsageShape) -> Result<(), String> {
        let successes = self.count as u64;
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
