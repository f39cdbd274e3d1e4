//! The model catalog: one data row per model family, holding everything the family decides.
//!
//! Validation, the emulator, the command line's help and the C ABI all read these rows; no other
//! file names a family's limit. Adding a family or changing a limit is one edited row here (plus,
//! for new behaviour, the emulator's drawing of it).
//!
//! Rules the reference marks UNCONFIRMED are not in the rows, or are entered at their most lenient
//! reading: a request the service would accept is never refused locally.
//!
//! ```
//! use seedream_types::catalog;
//!
//! for family in catalog::FAMILIES {
//!     println!("{} ({}): {}", family.name, family.status, family.model_id);
//! }
//! let pro = catalog::family_of("doubao-seedream-5-0-pro-260628").unwrap();
//! assert!(pro.layers.is_some() && !pro.stream);
//! ```

use std::fmt;

use crate::image::ImageFormat;
use crate::size::{Dimensions, SizePreset};

/// Seedream 5.0 pro, the current dated id: PNG, transparent backgrounds, layer decomposition.
pub const SEEDREAM_5_0_PRO: &str = "doubao-seedream-5-0-pro-260628";
/// Seedream 5.0 flash, the current dated id: as pro, faster.
pub const SEEDREAM_5_0_FLASH: &str = "doubao-seedream-5-0-flash-260915";
/// Seedream 5.0 lite (retired 2026-11-24; old endpoints still answer): groups, streams, web search.
pub const SEEDREAM_5_0_LITE: &str = "doubao-seedream-5-0-260128";
/// Seedream 4.5, the current dated id.
pub const SEEDREAM_4_5: &str = "doubao-seedream-4-5-251128";
/// Seedream 4.0, the current dated id.
pub const SEEDREAM_4_0: &str = "doubao-seedream-4-0-250828";
/// SeedEdit 3.0 image-to-image (legacy): exactly one input image, `adaptive` size.
pub const SEEDEDIT_3_0_I2I: &str = "doubao-seededit-3-0-i2i-250628";
/// Seedream 3.0 text-to-image (legacy): `WxH` sizes, no input image.
pub const SEEDREAM_3_0_T2I: &str = "doubao-seedream-3-0-t2i-250415";

/// Whether the provider still sells a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Offered today.
    Current,
    /// No longer sold; endpoints made before the retirement still answer.
    Retired,
    /// Dropped from the current reference; kept for old endpoints.
    Legacy,
}

impl Status {
    /// `current`, `retired` or `legacy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::Retired => "retired",
            Status::Legacy => "legacy",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inclusive range with the value the service uses when the field is absent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range<T> {
    /// Smallest accepted value.
    pub min: T,
    /// Largest accepted value.
    pub max: T,
    /// The service's default.
    pub default: T,
}

impl<T: PartialOrd + Copy> Range<T> {
    /// Whether `value` is within `min..=max`.
    pub fn contains(&self, value: T) -> bool {
        self.min <= value && value <= self.max
    }
}

/// A width/height ratio range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioRange {
    /// Smallest width/height.
    pub min: f64,
    /// Largest width/height.
    pub max: f64,
    /// Whether `min` and `max` themselves are accepted.
    pub inclusive: bool,
}

impl RatioRange {
    /// 1/16 to 16, ends included: every 4.x and 5.x family.
    pub const SIXTEEN: RatioRange = RatioRange { min: 1.0 / 16.0, max: 16.0, inclusive: true };

    /// Whether `dims` has a ratio in this range.
    pub fn contains(&self, dims: Dimensions) -> bool {
        let ratio = dims.ratio();
        if self.inclusive { self.min <= ratio && ratio <= self.max } else { self.min < ratio && ratio < self.max }
    }

    /// The range in words, such as `from 1/16 to 16`.
    pub fn describe(&self) -> String {
        let fraction = |v: f64| if v < 1.0 { format!("1/{}", (1.0 / v).round()) } else { format!("{v}") };
        if self.inclusive {
            format!("from {} to {}", fraction(self.min), fraction(self.max))
        } else {
            format!("strictly between {} and {}", fraction(self.min), fraction(self.max))
        }
    }
}

/// What `size` may be for a family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeRule {
    /// The presets the family takes (matched in any case).
    pub presets: &'static [SizePreset],
    /// Whether `adaptive` (follow the input image's shape) is taken.
    pub adaptive: bool,
    /// `WxH` pixel area the family takes, or `None` when it takes no `WxH`. No side limit.
    pub area: Option<(u64, u64)>,
    /// `WxH` width/height ratio, when the family limits it.
    pub ratio: Option<RatioRange>,
    /// The output size without a `size` field.
    pub default: DefaultSize,
}

/// The output size a family uses when the request has no `size`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultSize {
    /// This preset, shaped like the first input image.
    Preset(SizePreset),
    /// Exactly these pixels.
    Pixels(Dimensions),
    /// The input image's shape (`adaptive`).
    Adaptive,
}

/// What a family accepts of each input image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputRule {
    /// Image formats, by the `data:image/<format>` word and the bytes.
    pub formats: &'static [ImageFormat],
    /// Largest decoded size of one image, in bytes.
    pub max_bytes: usize,
    /// Every side must be more than this many pixels.
    pub min_side_exclusive: u32,
    /// Width/height ratio.
    pub ratio: RatioRange,
    /// Pixel count range, when the family limits it.
    pub pixels: Option<(u64, u64)>,
}

/// How many reference images (`image`) a family takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct References {
    /// Fewest (1: `image` is required).
    pub min: usize,
    /// Most.
    pub max: usize,
    /// Whether `image` must be a single string rather than an array.
    pub single_string: bool,
}

/// Group generation limits (`sequential_image_generation: auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupRule {
    /// `sequential_image_generation_options.max_images` range and default.
    pub max_images: (i64, i64, i64),
    /// References plus generated images may not exceed this.
    pub max_total: i64,
}

/// What layer decomposition (`layer_decomposition: true`) takes and gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerRule {
    /// Formats of the one input image.
    pub input_formats: &'static [ImageFormat],
    /// Pixel count range of the input image.
    pub input_pixels: (u64, u64),
    /// Most layers besides the base image.
    pub max_layers: usize,
}

/// One model family: every rule that depends on the model, as data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelFamily {
    /// Human name, such as `Seedream 5.0 pro`.
    pub name: &'static str,
    /// Short stable key, such as `seedream-5.0-pro` (command line, JSON output).
    pub key: &'static str,
    /// The current dated model id; the service answers aliases with it.
    pub model_id: &'static str,
    /// Family prefixes: an id is of this family when it is a prefix, or a prefix followed by
    /// `-<digit>` (the date), as `doubao-seedream-4-0-250828`.
    pub prefixes: &'static [&'static str],
    /// Other names the service takes for this family (validated with the common rules only).
    pub aliases: &'static [&'static str],
    /// Sold today, retired or legacy.
    pub status: Status,
    /// What `size` may be.
    pub size: SizeRule,
    /// How many input images.
    pub references: References,
    /// What each input image may be.
    pub input: InputRule,
    /// Group generation, when the family makes groups.
    pub group: Option<GroupRule>,
    /// Whether `stream: true` is taken.
    pub stream: bool,
    /// `output_format` values (the first is the default).
    pub output_formats: &'static [&'static str],
    /// `tools[].type` values.
    pub tools: &'static [&'static str],
    /// Layer decomposition, when the family offers it.
    pub layers: Option<LayerRule>,
    /// Whether `background: transparent` is taken.
    pub transparent_background: bool,
    /// `optimize_prompt_options.mode` values; empty when the field is not taken.
    pub optimize_prompt_modes: &'static [&'static str],
    /// `seed` range and default, when taken.
    pub seed: Option<Range<i64>>,
    /// `guidance_scale` range and default, when taken.
    pub guidance_scale: Option<Range<f64>>,
    /// Whether each answered image states its `size`.
    pub reports_size: bool,
    /// Whether each answered image states its `output_format` and `usage` counts `input_images`.
    pub reports_formats: bool,
}

const FORMATS_4_5: &[ImageFormat] = &[
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::Webp,
    ImageFormat::Bmp,
    ImageFormat::Tiff,
    ImageFormat::Gif,
    ImageFormat::Heic,
    ImageFormat::Heif,
];
const INPUT_4_5: InputRule = InputRule {
    formats: FORMATS_4_5,
    max_bytes: 30 * 1024 * 1024,
    min_side_exclusive: 14,
    ratio: RatioRange::SIXTEEN,
    pixels: Some((196, 36_000_000)),
};
const INPUT_3_0: InputRule = InputRule {
    formats: &[ImageFormat::Jpeg, ImageFormat::Png],
    max_bytes: 10 * 1024 * 1024,
    min_side_exclusive: 14,
    ratio: RatioRange { min: 1.0 / 3.0, max: 3.0, inclusive: false },
    pixels: None,
};
/// The group rule of every family that makes groups, and the one applied to unknown models.
pub const COMMON_GROUP: GroupRule = GroupRule { max_images: (1, 15, 15), max_total: 15 };
const GROUP: Option<GroupRule> = Some(COMMON_GROUP);
const LAYERS: Option<LayerRule> = Some(LayerRule {
    input_formats: &[ImageFormat::Png, ImageFormat::Jpeg],
    input_pixels: (262_144, 36_000_000),
    max_layers: 16,
});
/// 5.0 pro and flash share their sizes and references (doc).
const SIZE_5_0_PRO_FLASH: SizeRule = SizeRule {
    presets: &[SizePreset::OneK, SizePreset::OneAndHalfK, SizePreset::TwoK],
    adaptive: false,
    area: Some((921_600, 4_624_220)),
    ratio: Some(RatioRange::SIXTEEN),
    default: SQUARE_2K,
};
const REFERENCES_5_0_PRO_FLASH: References = References { min: 0, max: 10, single_string: false };
const REFERENCES_4_X: References = References { min: 0, max: 14, single_string: false };
const JPEG_ONLY: &[&str] = &["jpeg"];
const PNG_JPEG: &[&str] = &["jpeg", "png"];
const SQUARE_2K: DefaultSize = DefaultSize::Preset(SizePreset::TwoK);

/// Every family, current ones first.
pub const FAMILIES: &[ModelFamily] = &[
    ModelFamily {
        name: "Seedream 5.0 pro",
        key: "seedream-5.0-pro",
        model_id: SEEDREAM_5_0_PRO,
        prefixes: &["doubao-seedream-5-0-pro"],
        aliases: &["doubao-seedream-5.0-pro"],
        status: Status::Current,
        size: SIZE_5_0_PRO_FLASH,
        references: REFERENCES_5_0_PRO_FLASH,
        input: INPUT_4_5,
        group: None,
        stream: false,
        output_formats: PNG_JPEG,
        tools: &[],
        layers: LAYERS,
        transparent_background: true,
        optimize_prompt_modes: &["standard", "fast"],
        seed: None,
        guidance_scale: None,
        reports_size: true,
        reports_formats: true,
    },
    ModelFamily {
        name: "Seedream 5.0 flash",
        key: "seedream-5.0-flash",
        model_id: SEEDREAM_5_0_FLASH,
        prefixes: &["doubao-seedream-5-0-flash"],
        aliases: &["doubao-seedream-5.0-flash"],
        status: Status::Current,
        size: SIZE_5_0_PRO_FLASH,
        references: REFERENCES_5_0_PRO_FLASH,
        input: INPUT_4_5,
        group: None,
        stream: false,
        output_formats: PNG_JPEG,
        tools: &[],
        layers: LAYERS,
        transparent_background: true,
        optimize_prompt_modes: &["standard"],
        seed: None,
        guidance_scale: None,
        reports_size: true,
        reports_formats: true,
    },
    ModelFamily {
        name: "Seedream 4.5",
        key: "seedream-4.5",
        model_id: SEEDREAM_4_5,
        prefixes: &["doubao-seedream-4-5"],
        aliases: &["doubao-seedream-4.5"],
        status: Status::Current,
        size: SizeRule {
            presets: &[SizePreset::TwoK, SizePreset::FourK],
            adaptive: false,
            area: Some((3_686_400, 16_777_216)),
            ratio: Some(RatioRange::SIXTEEN),
            default: SQUARE_2K,
        },
        references: REFERENCES_4_X,
        input: INPUT_4_5,
        group: GROUP,
        stream: true,
        output_formats: JPEG_ONLY,
        tools: &[],
        layers: None,
        transparent_background: false,
        optimize_prompt_modes: &["standard"],
        seed: None,
        guidance_scale: None,
        reports_size: true,
        reports_formats: false,
    },
    ModelFamily {
        name: "Seedream 4.0",
        key: "seedream-4.0",
        model_id: SEEDREAM_4_0,
        prefixes: &["doubao-seedream-4-0"],
        aliases: &["doubao-seedream-4.0"],
        status: Status::Current,
        size: SizeRule {
            presets: &[SizePreset::OneK, SizePreset::TwoK, SizePreset::FourK],
            adaptive: false,
            area: Some((921_600, 16_777_216)),
            ratio: Some(RatioRange::SIXTEEN),
            default: SQUARE_2K,
        },
        references: REFERENCES_4_X,
        input: INPUT_4_5,
        group: GROUP,
        stream: true,
        output_formats: JPEG_ONLY,
        tools: &[],
        layers: None,
        transparent_background: false,
        optimize_prompt_modes: &["standard", "fast"],
        seed: None,
        guidance_scale: None,
        reports_size: true,
        reports_formats: false,
    },
    ModelFamily {
        name: "Seedream 5.0 lite",
        key: "seedream-5.0-lite",
        model_id: SEEDREAM_5_0_LITE,
        prefixes: &["doubao-seedream-5-0"],
        aliases: &["doubao-seedream-5-0-lite-260128", "doubao-seedream-5.0-lite"],
        status: Status::Retired,
        size: SizeRule {
            presets: &[SizePreset::TwoK, SizePreset::ThreeK, SizePreset::FourK],
            adaptive: false,
            // The largest area is UNCONFIRMED (16 777 216 or 10 404 496): the larger one holds here.
            area: Some((3_686_400, 16_777_216)),
            ratio: Some(RatioRange::SIXTEEN),
            default: SQUARE_2K,
        },
        references: REFERENCES_4_X,
        input: INPUT_4_5,
        group: GROUP,
        stream: true,
        output_formats: PNG_JPEG,
        tools: &["web_search"],
        layers: None,
        transparent_background: false,
        optimize_prompt_modes: &["standard"],
        seed: None,
        guidance_scale: None,
        reports_size: true,
        reports_formats: false,
    },
    ModelFamily {
        name: "SeedEdit 3.0",
        key: "seededit-3.0",
        model_id: SEEDEDIT_3_0_I2I,
        prefixes: &["doubao-seededit-3-0-i2i"],
        aliases: &[],
        status: Status::Legacy,
        size: SizeRule { presets: &[], adaptive: true, area: None, ratio: None, default: DefaultSize::Adaptive },
        references: References { min: 1, max: 1, single_string: true },
        input: INPUT_3_0,
        group: None,
        stream: false,
        output_formats: JPEG_ONLY,
        tools: &[],
        layers: None,
        transparent_background: false,
        optimize_prompt_modes: &[],
        seed: Some(Range { min: -1, max: 2_147_483_647, default: -1 }),
        guidance_scale: Some(Range { min: 1.0, max: 10.0, default: 5.5 }),
        reports_size: false,
        reports_formats: false,
    },
    ModelFamily {
        name: "Seedream 3.0 t2i",
        key: "seedream-3.0-t2i",
        model_id: SEEDREAM_3_0_T2I,
        prefixes: &["doubao-seedream-3-0-t2i"],
        aliases: &[],
        status: Status::Legacy,
        size: SizeRule {
            presets: &[],
            adaptive: false,
            // Each side 512–2048 or that much area: UNCONFIRMED which, so the area (the wider rule).
            area: Some((512 * 512, 2048 * 2048)),
            ratio: None,
            default: DefaultSize::Pixels(Dimensions::new(1024, 1024)),
        },
        references: References { min: 0, max: 0, single_string: false },
        input: INPUT_3_0,
        group: None,
        stream: false,
        output_formats: JPEG_ONLY,
        tools: &[],
        layers: None,
        transparent_background: false,
        optimize_prompt_modes: &[],
        seed: Some(Range { min: -1, max: 2_147_483_647, default: -1 }),
        guidance_scale: Some(Range { min: 1.0, max: 10.0, default: 2.5 }),
        reports_size: false,
        reports_formats: false,
    },
];

/// How a model id was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recognised {
    /// By the family's dated-id prefix: the family's rules apply.
    Id,
    /// By one of the family's aliases: the service serves it, validation applies the common rules.
    Alias,
}

/// The family whose rules apply to `model`: matched on the family prefix of a dated id
/// (case-sensitive, as the service matches). `None` for endpoint ids (`ep-…`), aliases and unknown
/// ids, which get only the rules common to all models.
pub fn family_of(model: &str) -> Option<&'static ModelFamily> {
    // Checked on every request the client sends: one pass, no iterator adapters.
    let mut best: Option<(&'static ModelFamily, usize)> = None;
    for family in FAMILIES {
        for prefix in family.prefixes {
            if is_prefix_of(prefix, model) && best.is_none_or(|(_, len)| prefix.len() > len) {
                best = Some((family, prefix.len()));
            }
        }
    }
    best.map(|(family, _)| family)
}

/// The family that serves `model`, by dated id or alias, and how it was recognised.
pub fn resolve(model: &str) -> Option<(&'static ModelFamily, Recognised)> {
    if let Some(family) = family_of(model) {
        return Some((family, Recognised::Id));
    }
    FAMILIES.iter().find(|family| family.aliases.contains(&model)).map(|family| (family, Recognised::Alias))
}

/// The family with this [`key`](ModelFamily::key).
pub fn by_key(key: &str) -> Option<&'static ModelFamily> {
    FAMILIES.iter().find(|family| family.key == key)
}

/// The families that take a feature, by name, for help texts: `Seedream 5.0 pro, Seedream 5.0 flash`.
pub fn names_where(takes: impl Fn(&ModelFamily) -> bool) -> String {
    let names: Vec<_> = FAMILIES.iter().filter(|family| takes(family)).map(|family| family.name).collect();
    names.join(", ")
}

/// The most pixels an answered image of a model the catalog does not know may have before it is
/// decoded (as many as the largest input any family takes): a header claiming 65535×65535 would
/// otherwise cost gigabytes.
pub const MAX_ANSWER_PIXELS: u64 = 36_000_000;

/// The most pixels an answered image of `model` may have before it is decoded: its family's largest
/// `WxH` area or, with layer decomposition, its largest input (the layers have the input's size);
/// [`MAX_ANSWER_PIXELS`] for unknown models and families without a pixel rule.
pub fn answer_pixel_limit(model: &str) -> u64 {
    let Some((family, _)) = resolve(model) else { return MAX_ANSWER_PIXELS };
    let area = family.size.area.map_or(0, |(_, max)| max);
    let layers = family.layers.map_or(0, |rule| rule.input_pixels.1);
    match area.max(layers) {
        0 => MAX_ANSWER_PIXELS,
        limit => limit,
    }
}

fn is_prefix_of(prefix: &str, model: &str) -> bool {
    let (model, prefix) = (model.as_bytes(), prefix.as_bytes());
    match model.strip_prefix(prefix) {
        Some([]) => true,
        Some([b'-', digit, ..]) => digit.is_ascii_digit(),
        _ => false,
    }
}

impl ModelFamily {
    /// Whether the family takes `preset`.
    pub fn takes_preset(&self, preset: SizePreset) -> bool {
        self.size.presets.contains(&preset)
    }

    /// Whether the family makes groups (`sequential_image_generation: auto`).
    pub fn takes_group(&self) -> bool {
        self.group.is_some()
    }

    /// The `size` values the family takes, in words: `1K, 2K, 4K or WxH with W·H from 921600 to 16777216`.
    pub fn describe_sizes(&self) -> String {
        let mut forms: Vec<String> = self.size.presets.iter().map(|p| p.as_str().to_owned()).collect();
        if self.size.adaptive {
            forms.push("adaptive".into());
        }
        if let Some((min, max)) = self.size.area {
            let ratio = self.size.ratio.map(|r| format!(" and W/H {}", r.describe())).unwrap_or_default();
            forms.push(format!("WxH with W·H from {min} to {max}{ratio}"));
        }
        match forms.split_last() {
            None => "no size".into(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// The output size for a request without `size`, given the first input image's dimensions.
    pub fn default_dimensions(&self, input: Option<Dimensions>) -> Dimensions {
        match self.size.default {
            DefaultSize::Preset(preset) => preset.dimensions_for_ratio(input.map_or(1.0, Dimensions::ratio)),
            DefaultSize::Pixels(dims) => dims,
            DefaultSize::Adaptive => crate::size::adaptive_dimensions(input.unwrap_or(Dimensions::new(1024, 1024))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_ids_match_their_family_and_the_longest_prefix_wins() {
        let key = |model: &str| family_of(model).map(|f| f.key);
        assert_eq!(key("doubao-seedream-4-0-250828"), Some("seedream-4.0"));
        assert_eq!(key("doubao-seedream-4-5-251128"), Some("seedream-4.5"));
        assert_eq!(key("doubao-seedream-5-0-260128"), Some("seedream-5.0-lite"));
        assert_eq!(key("doubao-seedream-5-0-pro-260628"), Some("seedream-5.0-pro"));
        assert_eq!(key("doubao-seedream-5-0-flash-260915"), Some("seedream-5.0-flash"));
        assert_eq!(key("doubao-seededit-3-0-i2i-250628"), Some("seededit-3.0"));
        assert_eq!(key("doubao-seedream-3-0-t2i-250415"), Some("seedream-3.0-t2i"));
        assert_eq!(key("doubao-seedream-4-0"), Some("seedream-4.0"));
    }

    #[test]
    fn endpoints_aliases_and_unknown_ids_get_no_family_rules() {
        for model in ["ep-20250101-abcde", "gpt-image-1", "doubao-seedream-5-0-lite-260128", "doubao-seedream-4.5"] {
            assert_eq!(family_of(model), None, "{model}");
        }
        let (lite, how) = resolve("doubao-seedream-5-0-lite-260128").unwrap();
        assert_eq!((lite.model_id, how), ("doubao-seedream-5-0-260128", Recognised::Alias));
        assert_eq!(resolve("doubao-seedream-5.0-pro").unwrap().0.key, "seedream-5.0-pro");
        assert_eq!(resolve("ep-1"), None);
    }

    #[test]
    fn every_row_is_consistent() {
        for family in FAMILIES {
            assert_eq!(family_of(family.model_id), Some(family), "{} id", family.name);
            assert_eq!(by_key(family.key), Some(family));
            for alias in family.aliases {
                assert_eq!(resolve(alias).map(|r| r.0), Some(family), "{alias}");
            }
            assert!(family.references.min <= family.references.max);
            assert!(!family.output_formats.is_empty());
            if let Some((min, max)) = family.size.area {
                assert!(min < max);
            }
            // The default size of a family is one the family takes.
            if let DefaultSize::Preset(preset) = family.size.default {
                assert!(family.takes_preset(preset), "{}", family.name);
            }
        }
    }

    #[test]
    fn answer_pixel_limits_come_from_the_row() {
        assert_eq!(answer_pixel_limit(SEEDREAM_5_0_PRO), 36_000_000, "layers: the largest input");
        assert_eq!(answer_pixel_limit(SEEDREAM_4_0), 16_777_216);
        assert_eq!(answer_pixel_limit(SEEDEDIT_3_0_I2I), MAX_ANSWER_PIXELS, "adaptive: no area rule");
        assert_eq!(answer_pixel_limit("ep-20250101-abcde"), MAX_ANSWER_PIXELS);
    }

    #[test]
    fn sizes_are_described_from_the_row() {
        let pro = family_of("doubao-seedream-5-0-pro-260628").unwrap();
        assert_eq!(pro.describe_sizes(), "1K, 1.5K, 2K or WxH with W·H from 921600 to 4624220 and W/H from 1/16 to 16");
        let edit = family_of("doubao-seededit-3-0-i2i-250628").unwrap();
        assert_eq!(edit.describe_sizes(), "adaptive");
        assert_eq!(names_where(|f| !f.tools.is_empty()), "Seedream 5.0 lite");
    }
}
