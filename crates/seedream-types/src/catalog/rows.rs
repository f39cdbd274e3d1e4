//! The built-in rows: one per family, from the API reference's family tables (2026-12 revision).

use super::*;

/// Seedream 5.5 (BytePlus early access since 2026-11-12): `background` auto/transparent/opaque from
/// text alone, layers up to 99, PNG by default.
pub const SEEDREAM_5_5: &str = "dola-seedream-5-5-261028";
/// Seedream 5.0 pro, the current dated id: PNG, transparent backgrounds, layer decomposition.
pub const SEEDREAM_5_0_PRO: &str = "doubao-seedream-5-0-pro-260628";
/// Seedream 5.0 flash, the current dated id: as pro, faster.
pub const SEEDREAM_5_0_FLASH: &str = "doubao-seedream-5-0-flash-260915";
/// Seedream 5.0 lite (retired 2026-11-24; old endpoints still answer): groups, streams, web search.
pub const SEEDREAM_5_0_LITE: &str = "doubao-seedream-5-0-260128";
/// Seedream 4.5 (retired on Volcengine 2026-11-24; BytePlus still lists it).
pub const SEEDREAM_4_5: &str = "doubao-seedream-4-5-251128";
/// Seedream 4.0, the current build (`-250828` was retired on Volcengine on 2026-11-24).
pub const SEEDREAM_4_0: &str = "doubao-seedream-4-0-20260415";
/// SeedEdit 3.0 image-to-image (legacy): exactly one input image, `adaptive` size.
pub const SEEDEDIT_3_0_I2I: &str = "doubao-seededit-3-0-i2i-250628";
/// Seedream 3.0 text-to-image (legacy): `WxH` sizes, no input image.
pub const SEEDREAM_3_0_T2I: &str = "doubao-seedream-3-0-t2i-250415";

/// The date of Volcengine's 10th retirement batch (4.0 `-250828`, 4.5, 5.0 lite).
const RETIREMENT_10: &str = "2026-11-24";

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

fn id(id: &str, provider: Provider, status: Lifecycle) -> ModelId {
    ModelId { id: id.to_owned(), provider, status, date: None, successor: None }
}

fn ending(id: &str, provider: Provider, status: Lifecycle, date: Option<&str>, successor: Option<&str>) -> ModelId {
    ModelId {
        id: id.to_owned(),
        provider,
        status,
        date: date.map(str::to_owned),
        successor: successor.map(str::to_owned),
    }
}

fn formats_4_5() -> Vec<ImageFormat> {
    use ImageFormat::*;
    vec![Jpeg, Png, Webp, Bmp, Tiff, Gif, Heic, Heif]
}

fn input_4_5() -> InputRule {
    InputRule {
        formats: formats_4_5(),
        max_bytes: 30 * 1024 * 1024,
        min_side_exclusive: 14,
        ratio: RatioRange::SIXTEEN,
        pixels: Some(Span::new(196, 36_000_000)),
    }
}

fn input_3_0() -> InputRule {
    InputRule {
        formats: vec![ImageFormat::Jpeg, ImageFormat::Png],
        max_bytes: 10 * 1024 * 1024,
        min_side_exclusive: 14,
        ratio: RatioRange { min: 1.0 / 3.0, max: 3.0, inclusive: false },
        pixels: None,
    }
}

/// Layer decomposition's one input: six formats (the 2026-11 "PNG or JPEG only" was too strict).
fn layers(max_layers: usize, default_images: Option<usize>) -> Option<LayerRule> {
    use ImageFormat::*;
    Some(LayerRule {
        input_formats: vec![Png, Jpeg, Webp, Bmp, Tiff, Gif],
        input_pixels: Span::new(262_144, 36_000_000),
        max_layers,
        default_images,
    })
}

/// 5.0 pro and flash share their sizes and references (doc).
fn size_5_0_pro_flash() -> SizeRule {
    use SizePreset::*;
    SizeRule {
        presets: vec![OneK, OneAndHalfK, TwoK],
        adaptive: false,
        area: Some(Span::new(921_600, 4_624_220)),
        ratio: Some(RatioRange::SIXTEEN),
        default: DefaultSize::Preset(TwoK),
    }
}

/// 5.0 pro and flash: opaque by default; transparent from one input image with alpha; `auto` is
/// UNCONFIRMED, so accepted.
fn background_5_0() -> Option<BackgroundRule> {
    Some(BackgroundRule {
        values: strings(&["opaque", "transparent", "auto"]),
        transparent_needs_image: true,
        with_layers: true,
        reported: false,
    })
}

const REFERENCES_10: References = References { min: 0, max: 10, single_string: false };
const REFERENCES_4_X: References = References { min: 0, max: 14, single_string: false };

/// Every built-in family, current ones first. No row has a `price`: the API reference states none,
/// and a price is never guessed (a catalog file may add one).
pub(super) fn builtin() -> Vec<ModelFamily> {
    use Lifecycle::*;
    use Provider::*;
    vec![
        ModelFamily {
            key: "seedream-5.0-pro".into(),
            name: "Seedream 5.0 pro".into(),
            model_id: SEEDREAM_5_0_PRO.into(),
            prefixes: strings(&["seedream-5-0-pro"]),
            aliases: strings(&["doubao-seedream-5.0-pro"]),
            status: Status::Current,
            recommended: true,
            ids: vec![id(SEEDREAM_5_0_PRO, Volcengine, Current), id("dola-seedream-5-0-pro-260628", Byteplus, Current)],
            size: size_5_0_pro_flash(),
            references: REFERENCES_10,
            input: input_4_5(),
            group: None,
            stream: false,
            output_formats: strings(&["jpeg", "png"]),
            tools: vec![],
            layers: layers(16, None),
            background: background_5_0(),
            optimize_prompt_modes: strings(&["standard", "fast"]),
            seed: None,
            guidance_scale: None,
            reports_size: true,
            reports_formats: true,
            price: None,
        },
        ModelFamily {
            key: "seedream-5.0-flash".into(),
            name: "Seedream 5.0 flash".into(),
            model_id: SEEDREAM_5_0_FLASH.into(),
            prefixes: strings(&["seedream-5-0-flash"]),
            aliases: strings(&["doubao-seedream-5.0-flash"]),
            status: Status::Current,
            recommended: false,
            ids: vec![
                id(SEEDREAM_5_0_FLASH, Volcengine, Current),
                id("dola-seedream-5-0-flash-260915", Byteplus, Current),
            ],
            size: size_5_0_pro_flash(),
            references: REFERENCES_10,
            input: input_4_5(),
            group: None,
            stream: false,
            output_formats: strings(&["jpeg", "png"]),
            tools: vec![],
            layers: layers(16, None),
            background: background_5_0(),
            optimize_prompt_modes: strings(&["standard"]),
            seed: None,
            guidance_scale: None,
            reports_size: true,
            reports_formats: true,
            price: None,
        },
        ModelFamily {
            key: "seedream-5.5".into(),
            name: "Seedream 5.5".into(),
            model_id: SEEDREAM_5_5.into(),
            prefixes: strings(&["seedream-5-5"]),
            aliases: vec![],
            status: Status::EarlyAccess,
            recommended: false,
            // No Volcengine id is known; relays also serve the unprefixed spelling.
            ids: vec![ModelId { date: Some("2026-11-12".into()), ..id(SEEDREAM_5_5, Byteplus, EarlyAccess) }],
            size: SizeRule {
                // 3K and an area up to 3K's are UNCONFIRMED (one source): accepted, the service decides.
                presets: vec![SizePreset::OneK, SizePreset::OneAndHalfK, SizePreset::TwoK, SizePreset::ThreeK],
                adaptive: false,
                area: Some(Span::new(921_600, 9_437_184)),
                // One source says [1/3, 3] (UNCONFIRMED): the wider 4.x/5.0 range holds.
                ratio: Some(RatioRange::SIXTEEN),
                default: DefaultSize::Preset(SizePreset::TwoK),
            },
            references: REFERENCES_10,
            // Other input limits as 5.0 pro (UNCONFIRMED).
            input: input_4_5(),
            group: None,
            stream: false,
            output_formats: strings(&["png", "jpeg"]),
            tools: vec![],
            // Up to 99 layers (doc); 30 images, the base included, unless the request sets a cap whose
            // field is not documented yet.
            layers: layers(99, Some(30)),
            background: Some(BackgroundRule {
                values: strings(&["auto", "transparent", "opaque"]),
                transparent_needs_image: false,
                with_layers: false,
                reported: true,
            }),
            optimize_prompt_modes: strings(&["standard"]),
            seed: None,
            guidance_scale: None,
            reports_size: true,
            reports_formats: true,
            price: None,
        },
        ModelFamily {
            key: "seedream-4.0".into(),
            name: "Seedream 4.0".into(),
            model_id: SEEDREAM_4_0.into(),
            prefixes: strings(&["seedream-4-0"]),
            aliases: strings(&["doubao-seedream-4.0"]),
            status: Status::Current,
            recommended: false,
            ids: vec![
                id(SEEDREAM_4_0, Volcengine, Current),
                id("seedream-4-0-20260415", Byteplus, Current),
                ending("doubao-seedream-4-0-250828", Volcengine, Retired, Some(RETIREMENT_10), Some(SEEDREAM_4_0)),
                // BytePlus still lists the old build (medium).
                id("seedream-4-0-250828", Byteplus, Current),
            ],
            size: SizeRule {
                presets: vec![SizePreset::OneK, SizePreset::TwoK, SizePreset::FourK],
                adaptive: false,
                area: Some(Span::new(921_600, 16_777_216)),
                ratio: Some(RatioRange::SIXTEEN),
                default: DefaultSize::Preset(SizePreset::TwoK),
            },
            references: REFERENCES_4_X,
            input: input_4_5(),
            group: Some(COMMON_GROUP),
            stream: true,
            output_formats: strings(&["jpeg"]),
            tools: vec![],
            layers: None,
            background: None,
            optimize_prompt_modes: strings(&["standard", "fast"]),
            seed: None,
            guidance_scale: None,
            reports_size: true,
            reports_formats: false,
            price: None,
        },
        ModelFamily {
            key: "seedream-4.5".into(),
            name: "Seedream 4.5".into(),
            model_id: SEEDREAM_4_5.into(),
            prefixes: strings(&["seedream-4-5"]),
            aliases: strings(&["doubao-seedream-4.5"]),
            // Retired on Volcengine with no successor build; BytePlus still lists it (medium).
            status: Status::Current,
            recommended: false,
            ids: vec![
                ending(SEEDREAM_4_5, Volcengine, Retired, Some(RETIREMENT_10), Some(SEEDREAM_5_0_PRO)),
                id("seedream-4-5-251128", Byteplus, Current),
            ],
            size: SizeRule {
                presets: vec![SizePreset::TwoK, SizePreset::FourK],
                adaptive: false,
                area: Some(Span::new(3_686_400, 16_777_216)),
                ratio: Some(RatioRange::SIXTEEN),
                default: DefaultSize::Preset(SizePreset::TwoK),
            },
            references: REFERENCES_4_X,
            input: input_4_5(),
            group: Some(COMMON_GROUP),
            stream: true,
            output_formats: strings(&["jpeg"]),
            tools: vec![],
            layers: None,
            background: None,
            optimize_prompt_modes: strings(&["standard"]),
            seed: None,
            guidance_scale: None,
            reports_size: true,
            reports_formats: false,
            price: None,
        },
        ModelFamily {
            key: "seedream-5.0-lite".into(),
            name: "Seedream 5.0 lite".into(),
            model_id: SEEDREAM_5_0_LITE.into(),
            // The lite alias (`…-5-0-lite-260128`) is a stem of its own: it gets the family's rules.
            prefixes: strings(&["seedream-5-0", "seedream-5-0-lite"]),
            aliases: strings(&["doubao-seedream-5-0-lite-260128", "doubao-seedream-5.0-lite"]),
            status: Status::Retired,
            recommended: false,
            ids: vec![
                ending(SEEDREAM_5_0_LITE, Volcengine, Retired, Some(RETIREMENT_10), Some(SEEDREAM_5_0_PRO)),
                ending(
                    "doubao-seedream-5-0-lite-260128",
                    Volcengine,
                    Retired,
                    Some(RETIREMENT_10),
                    Some(SEEDREAM_5_0_PRO),
                ),
                ending(
                    "seedream-5-0-260128",
                    Byteplus,
                    Retiring,
                    Some("2026-09-10"),
                    Some("dola-seedream-5-0-pro-260628"),
                ),
            ],
            size: SizeRule {
                presets: vec![SizePreset::TwoK, SizePreset::ThreeK, SizePreset::FourK],
                adaptive: false,
                // The largest area is UNCONFIRMED (16 777 216 or 10 404 496): the larger one holds here.
                area: Some(Span::new(3_686_400, 16_777_216)),
                ratio: Some(RatioRange::SIXTEEN),
                default: DefaultSize::Preset(SizePreset::TwoK),
            },
            references: REFERENCES_4_X,
            input: input_4_5(),
            group: Some(COMMON_GROUP),
            stream: true,
            output_formats: strings(&["jpeg", "png"]),
            tools: strings(&["web_search"]),
            layers: None,
            background: None,
            optimize_prompt_modes: strings(&["standard"]),
            seed: None,
            guidance_scale: None,
            reports_size: true,
            reports_formats: false,
            price: None,
        },
        ModelFamily {
            key: "seededit-3.0".into(),
            name: "SeedEdit 3.0".into(),
            model_id: SEEDEDIT_3_0_I2I.into(),
            prefixes: strings(&["seededit-3-0-i2i"]),
            aliases: vec![],
            status: Status::Legacy,
            recommended: false,
            ids: vec![
                id(SEEDEDIT_3_0_I2I, Volcengine, Current),
                ending("seededit-3-0-i2i-250628", Byteplus, Retired, None, Some("dola-seedream-5-0-pro-260628")),
            ],
            size: SizeRule { presets: vec![], adaptive: true, area: None, ratio: None, default: DefaultSize::Adaptive },
            references: References { min: 1, max: 1, single_string: true },
            input: input_3_0(),
            group: None,
            stream: false,
            output_formats: strings(&["jpeg"]),
            tools: vec![],
            layers: None,
            background: None,
            optimize_prompt_modes: vec![],
            seed: Some(Range { min: -1, max: 2_147_483_647, default: -1 }),
            guidance_scale: Some(Range { min: 1.0, max: 10.0, default: 5.5 }),
            reports_size: false,
            reports_formats: false,
            price: None,
        },
        ModelFamily {
            key: "seedream-3.0-t2i".into(),
            name: "Seedream 3.0 t2i".into(),
            model_id: SEEDREAM_3_0_T2I.into(),
            prefixes: strings(&["seedream-3-0-t2i"]),
            aliases: vec![],
            status: Status::Legacy,
            recommended: false,
            ids: vec![
                id(SEEDREAM_3_0_T2I, Volcengine, Current),
                ending("seedream-3-0-t2i-250415", Byteplus, Retiring, None, Some("dola-seedream-5-0-pro-260628")),
            ],
            size: SizeRule {
                presets: vec![],
                adaptive: false,
                // Each side 512–2048 or that much area: UNCONFIRMED which, so the area (the wider rule).
                area: Some(Span::new(512 * 512, 2048 * 2048)),
                ratio: None,
                default: DefaultSize::Pixels(Dimensions::new(1024, 1024)),
            },
            references: References { min: 0, max: 0, single_string: false },
            input: input_3_0(),
            group: None,
            stream: false,
            output_formats: strings(&["jpeg"]),
            tools: vec![],
            layers: None,
            background: None,
            optimize_prompt_modes: vec![],
            seed: Some(Range { min: -1, max: 2_147_483_647, default: -1 }),
            guidance_scale: Some(Range { min: 1.0, max: 10.0, default: 2.5 }),
            reports_size: false,
            reports_formats: false,
            price: None,
        },
    ]
}
