//! Every limit of every catalog row, checked at its edges: the value on the limit is accepted, the
//! next one out is refused, and refused for that reason only. The rows drive the tests, so a new
//! family is covered by its row; a few facts of the spec are also written out by hand, so that a
//! wrong edit of a row is caught rather than followed.

use seedream_types::catalog::{self, ModelFamily, Span};
use seedream_types::image::encode_data_url;
use seedream_types::{
    Dimensions, GenerateRequest, ImageFormat, ImageInput, SEEDEDIT_3_0_I2I, SEEDREAM_4_5, SEEDREAM_5_0_LITE,
    SEEDREAM_5_0_PRO, Size, Violation,
};

/// The bytes of a PNG signature and IHDR chunk: enough for validation, which reads headers only.
fn png_bytes(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), compression, filter, interlace, then a CRC.
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

fn png(width: u32, height: u32) -> String {
    encode_data_url(ImageFormat::Png, &png_bytes(width, height))
}

/// The violations of a request (empty when valid).
fn violations(request: &GenerateRequest) -> Vec<Violation> {
    match request.validate() {
        Ok(_) => Vec::new(),
        Err(error) => error.violations,
    }
}

fn fields(request: &GenerateRequest) -> Vec<String> {
    violations(request).into_iter().map(|v| v.field).collect()
}

/// Asserts the request is accepted.
#[track_caller]
fn accepted(request: &GenerateRequest, what: &str) {
    let found = violations(request);
    assert!(found.is_empty(), "{what}: {} should be accepted, got {found:?}", request.model);
}

/// Asserts the request is refused with exactly one violation of `field` whose message mentions `why`.
#[track_caller]
fn refused(request: &GenerateRequest, field: &str, why: &str, what: &str) {
    let found = violations(request);
    assert!(
        found.len() == 1 && found[0].field == field && found[0].message.contains(why),
        "{what}: {} should be refused for {field} ({why}), got {found:?}",
        request.model
    );
}

fn sized(model: &str, dims: Dimensions) -> GenerateRequest {
    GenerateRequest::new(model, "a lighthouse at dawn").with_size(Size::pixels(dims.width, dims.height))
}

/// A shape of exactly `area` pixels whose ratio `family` takes, as near square as there is.
fn shape_of_area(area: u64, family: &ModelFamily) -> Option<Dimensions> {
    let root = (area as f64).sqrt() as u64;
    (1..=root)
        .rev()
        .filter(|w| area.is_multiple_of(*w))
        .map(|h| Dimensions::new((area / h) as u32, h as u32))
        .find(|dims| family.size.ratio.is_none_or(|ratio| ratio.contains(*dims)))
}

/// The shape nearest `area` on the side away from the range (`step` −1 below, +1 above), with at
/// most a few pixels' slack for areas no shape of a taken ratio has.
fn shape_just_outside(area: u64, step: i64, family: &ModelFamily) -> Dimensions {
    (0..64)
        .map(|k| area.checked_add_signed(step * k).unwrap())
        .find_map(|a| shape_of_area(a, family))
        .unwrap_or_else(|| panic!("{}: no shape near {area}", &family.name))
}

#[test]
fn every_family_takes_its_area_ends_and_refuses_one_pixel_beyond() {
    for family in catalog::families() {
        let Some(Span { min, max }) = family.size.area else {
            // No WxH at all: any pixel size is refused.
            let request =
                with_references(&family.model_id, family.references.min, true).with_size(Size::pixels(1024, 1024));
            refused(&request, "size", "takes", &family.name);
            continue;
        };
        for (area, end) in [(min, "min"), (max, "max")] {
            let dims = shape_of_area(area, family).unwrap_or_else(|| panic!("{}: no shape of {area}", &family.name));
            accepted(&sized(&family.model_id, dims), &format!("{} area {end} {dims}", &family.name));
        }
        for (dims, end) in
            [(shape_just_outside(min - 1, -1, family), "min - 1"), (shape_just_outside(max + 1, 1, family), "max + 1")]
        {
            assert!(!(min..=max).contains(&dims.area()));
            refused(&sized(&family.model_id, dims), "size", "pixels", &format!("{} area {end} {dims}", &family.name));
        }
    }
}

#[test]
fn every_family_with_a_ratio_range_takes_its_ends_exactly_and_refuses_beyond() {
    for family in catalog::families() {
        let (Some(ratio), Some(Span { min, max })) = (family.size.ratio, family.size.area) else { continue };
        let limit = (ratio.max.round() as u32, (1.0 / ratio.min).round() as u32);
        assert_eq!(limit, (16, 16), "{}: the spec has every ratio range at 1/16 to 16", &family.name);
        // The smallest short side whose 16:1 shape, and that shape one pixel wider, fit the area.
        let short = (1u32..)
            .find(|&h| u64::from(16 * h) * u64::from(h) >= min)
            .filter(|&h| u64::from(16 * h + 1) * u64::from(h) <= max)
            .unwrap_or_else(|| panic!("{}: no 16:1 shape in the area range", &family.name));
        let what = |dims: Dimensions| format!("{} ratio {dims}", &family.name);
        for dims in [Dimensions::new(16 * short, short), Dimensions::new(short, 16 * short)] {
            accepted(&sized(&family.model_id, dims), &what(dims));
        }
        for dims in [Dimensions::new(16 * short + 1, short), Dimensions::new(short, 16 * short + 1)] {
            assert!((min..=max).contains(&dims.area()), "{}: only the ratio is outside", what(dims));
            refused(&sized(&family.model_id, dims), "size", "ratio", &what(dims));
        }
    }
}

/// A reference image every family's input rule takes.
fn reference() -> String {
    png(640, 640)
}

fn with_references(model: &str, count: usize, single_string: bool) -> GenerateRequest {
    let request = GenerateRequest::new(model, "p");
    match count {
        0 => request,
        1 if single_string => request.with_image(reference()),
        _ => {
            let mut request = request;
            request.image = Some(ImageInput::Many(vec![reference(); count]));
            request
        }
    }
}

#[test]
fn every_family_takes_its_most_references_and_refuses_one_more() {
    for family in catalog::families() {
        let refs = family.references;
        let what = |n: usize| format!("{} with {n} references", &family.name);
        accepted(&with_references(&family.model_id, refs.max, refs.single_string), &what(refs.max));
        refused(&with_references(&family.model_id, refs.max + 1, false), "image", "", &what(refs.max + 1));
        if refs.min > 0 {
            refused(&with_references(&family.model_id, refs.min - 1, false), "image", "required", &what(refs.min - 1));
        }
    }
}

#[test]
fn every_family_takes_its_presets_in_lower_and_upper_case() {
    for family in catalog::families() {
        for preset in &family.size.presets {
            for written in [preset.as_str().to_ascii_lowercase(), preset.as_str().to_ascii_uppercase()] {
                let request =
                    with_references(&family.model_id, family.references.min, true).with_size(Size::from_wire(&written));
                accepted(&request, &format!("{} size {written:?}", &family.name));
                // Sent as the user wrote it.
                assert_eq!(serde_json::to_value(&request).unwrap()["size"], written.as_str());
            }
        }
    }
}

/// A real PNG header padded with zeros to `len` bytes, as a data URL.
fn padded_png(len: usize) -> String {
    let mut bytes = png_bytes(640, 640);
    bytes.resize(len, 0);
    encode_data_url(ImageFormat::Png, &bytes)
}

#[test]
fn a_29_mb_input_is_taken_by_4x_and_5x_and_refused_by_the_10_mb_families() {
    const MB: usize = 1024 * 1024;
    let big = padded_png(29 * MB);
    let mut checked = 0;
    for family in catalog::families().iter().filter(|f| f.references.max > 0) {
        let request = GenerateRequest::new(&family.model_id, "p").with_image(big.clone());
        let what = format!("{} with a 29 MB PNG", &family.name);
        if family.input.max_bytes >= 29 * MB {
            accepted(&request, &what);
        } else {
            refused(&request, "image", "limit is 10 MB", &what);
        }
        checked += 1;
    }
    assert!(checked >= 6, "4.0, 4.5, 5.0 lite/pro/flash and SeedEdit take images");
    // Hand-written: 30 MB for 4.x and 5.x since 2026, 10 MB for SeedEdit (spec, input images).
    for model in [SEEDREAM_4_5, SEEDREAM_5_0_PRO, SEEDREAM_5_0_LITE] {
        accepted(&GenerateRequest::new(model, "p").with_image(big.clone()), model);
    }
    refused(&GenerateRequest::new(SEEDEDIT_3_0_I2I, "p").with_image(big.clone()), "image", "10 MB", "SeedEdit");
    let over = padded_png(30 * MB + 1);
    refused(&GenerateRequest::new(SEEDREAM_5_0_PRO, "p").with_image(over), "image", "30 MB", "pro over 30 MB");
}

/// A request each family's rules refuse in several ways at once: a tiny size, too many
/// references, and every family-only field the family lacks.
fn refused_by_family(model: &str, family: &ModelFamily) -> GenerateRequest {
    let mut request = with_references(model, family.references.max + 1, false).with_size(Size::pixels(64, 64));
    if !family.stream {
        request.stream = Some(true);
    }
    request
}

#[test]
fn unknown_ids_and_endpoints_accept_what_family_rules_refuse_and_every_spelling_gets_the_rules() {
    for family in catalog::families() {
        let strict = refused_by_family(&family.model_id, family);
        let refusals = fields(&strict);
        assert!(!refusals.is_empty(), "{} refuses its own limits", family.name);
        for model in ["ep-20261101-abcde", "doubao-seedream-9-9-991231", "dola-seedream-9-9-991231"] {
            let lenient = refused_by_family(model, family);
            accepted(&lenient, &format!("{model} (common rules only; {} would refuse)", family.name));
        }
        // Aliases and every provider's id get the family's rules.
        let spellings = family.aliases.iter().chain(family.ids.iter().map(|entry| &entry.id));
        for model in spellings {
            assert_eq!(fields(&refused_by_family(model, family)), refusals, "{model} is {}", family.name);
        }
    }
    // The lite alias the service serves gets lite's rules.
    assert_eq!(
        catalog::family_of("doubao-seedream-5-0-lite-260128").map(|f| f.key.as_str()),
        Some("seedream-5.0-lite")
    );
    refused(&sized("doubao-seedream-5-0-lite-260128", Dimensions::new(100, 100)), "size", "pixels", "lite alias");
}

#[test]
fn spec_facts_hold_whatever_the_rows_say() {
    // Pro refuses 11 references (live 400, "cannot exceed 10") and takes 10.
    refused(&with_references(SEEDREAM_5_0_PRO, 11, false), "image", "at most 10", "pro, 11 references");
    accepted(&with_references(SEEDREAM_5_0_PRO, 10, false), "pro, 10 references");
    refused(&with_references("doubao-seedream-5-0-flash-260915", 11, false), "image", "", "flash, 11 references");
    // Lite refuses 15 (live) and takes 14.
    refused(&with_references(SEEDREAM_5_0_LITE, 15, false), "image", "", "lite, 15 references");
    accepted(&with_references(SEEDREAM_5_0_LITE, 14, false), "lite, 14 references");
    // 4.5 refuses 1K (400 from the service) and takes 2k in any case.
    let preset = |model: &str, size: &str| GenerateRequest::new(model, "p").with_size(Size::from_wire(size));
    assert_eq!(fields(&preset(SEEDREAM_4_5, "1K")), ["size"]);
    assert_eq!(fields(&preset(SEEDREAM_4_5, "1k")), ["size"]);
    accepted(&preset(SEEDREAM_4_5, "2k"), "4.5 2k");
    // Lite takes 3K; pro takes 1.5K and refuses 4K; 4.0 takes its own 21:9 4K size.
    accepted(&preset(SEEDREAM_5_0_LITE, "3K"), "lite 3K");
    accepted(&preset(SEEDREAM_5_0_LITE, "3k"), "lite 3k");
    accepted(&preset(SEEDREAM_5_0_PRO, "1.5k"), "pro 1.5k");
    assert_eq!(fields(&preset(SEEDREAM_5_0_PRO, "4K")), ["size"]);
    accepted(&sized("doubao-seedream-4-0-250828", Dimensions::new(6240, 2656)), "4.0 6240x2656");
    // The live relay's 400: 4.5 and lite take nothing under 3 686 400 pixels.
    refused(&sized(SEEDREAM_4_5, Dimensions::new(1920, 1919)), "size", "pixels", "4.5 under 3686400");
    accepted(&sized(SEEDREAM_4_5, Dimensions::new(1920, 1920)), "4.5 at 3686400");
    // Pro's area tops out at 4 624 220 (doc).
    let pro = catalog::family_of(SEEDREAM_5_0_PRO).unwrap();
    assert_eq!(pro.size.area, Some(Span::new(921_600, 4_624_220)));
    // Pro and flash make no groups and no streams; lite does both.
    let stream = |model: &str| {
        let mut request = GenerateRequest::new(model, "p");
        request.stream = Some(true);
        request
    };
    assert_eq!(fields(&stream(SEEDREAM_5_0_PRO)), ["stream"]);
    accepted(&stream(SEEDREAM_5_0_LITE), "lite stream");
    assert_eq!(
        fields(&GenerateRequest::new(SEEDREAM_5_0_PRO, "p").with_max_images(3)),
        ["sequential_image_generation"]
    );
}
