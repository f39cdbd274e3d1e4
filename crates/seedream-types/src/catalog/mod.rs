//! The model catalog: one data row per model family, holding everything the family decides.
//!
//! Validation, the emulator, the command line's help and the C ABI all read these rows; no other
//! file names a family's limit. Adding a family or changing a limit is one edited row in
//! [`rows`](self) (plus, for new behaviour, the emulator's drawing of it) — or, without a release, a
//! row in a catalog file ([`Catalog::with_file`]) in the format `seedream models --json` prints.
//!
//! Rules the reference marks UNCONFIRMED are entered at their most lenient reading: a request the
//! service would accept is never refused locally.
//!
//! ```
//! use seedream_types::catalog::{self, Provider};
//!
//! for family in catalog::families() {
//!     println!("{} ({}): {}", family.name, family.status, family.model_id);
//! }
//! // Every provider's spelling finds the same family.
//! let pro = catalog::family_of("dola-seedream-5-0-pro-260628").unwrap();
//! assert!(pro.layers.is_some() && !pro.stream);
//! assert_eq!(catalog::Catalog::builtin().default_model(Provider::Byteplus), "dola-seedream-5-0-pro-260628");
//! ```

mod file;
mod ids;
mod rows;

use std::fmt;
use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use file::{CatalogError, CatalogFile};
pub use ids::{Lifecycle, ModelId, Provider, VENDOR_PREFIXES, has_stem, without_vendor};
pub use rows::{
    SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I, SEEDREAM_4_0, SEEDREAM_4_5, SEEDREAM_5_0_FLASH, SEEDREAM_5_0_LITE,
    SEEDREAM_5_0_PRO, SEEDREAM_5_5,
};

use crate::image::ImageFormat;
use crate::size::{Dimensions, SizePreset};

/// Whether a family is offered at all (each id's own standing is in [`ModelFamily::ids`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Offered today.
    Current,
    /// Offered to some accounts before general release.
    EarlyAccess,
    /// No longer sold; endpoints made before the retirement still answer.
    Retired,
    /// Dropped from the current reference; kept for old endpoints.
    Legacy,
}

impl Status {
    /// `current`, `early_access`, `retired` or `legacy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::EarlyAccess => "early_access",
            Status::Retired => "retired",
            Status::Legacy => "legacy",
        }
    }

    /// Whether new work should use the family.
    pub fn is_offered(self) -> bool {
        matches!(self, Status::Current | Status::EarlyAccess)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inclusive range with the value the service uses when the field is absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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

/// An inclusive span of counts, such as a pixel area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// Smallest accepted value.
    pub min: u64,
    /// Largest accepted value.
    pub max: u64,
}

impl Span {
    /// `min..=max`.
    pub const fn new(min: u64, max: u64) -> Span {
        Span { min, max }
    }

    /// Whether `value` is within `min..=max`.
    pub fn contains(&self, value: u64) -> bool {
        self.min <= value && value <= self.max
    }
}

/// A width/height ratio range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeRule {
    /// The presets the family takes (matched in any case).
    pub presets: Vec<SizePreset>,
    /// Whether `adaptive` (follow the input image's shape) is taken.
    pub adaptive: bool,
    /// `WxH` pixel area the family takes, or `null` when it takes no `WxH`. No side limit.
    pub area: Option<Span>,
    /// `WxH` width/height ratio, when the family limits it.
    pub ratio: Option<RatioRange>,
    /// The output size without a `size` field: a preset (`2K`, shaped like the first input image),
    /// exact pixels (`1024x1024`) or `adaptive` (the input image's shape).
    pub default: DefaultSize,
}

/// The output size a family uses when the request has no `size`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "String")]
pub enum DefaultSize {
    /// This preset, shaped like the first input image.
    Preset(SizePreset),
    /// Exactly these pixels.
    Pixels(Dimensions),
    /// The input image's shape (`adaptive`).
    Adaptive,
}

impl TryFrom<String> for DefaultSize {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        use crate::size::{Size, SizeForm};
        match Size::from_wire(&text).form() {
            SizeForm::Preset(preset) => Ok(DefaultSize::Preset(preset)),
            SizeForm::Pixels(dims) => Ok(DefaultSize::Pixels(dims)),
            SizeForm::Adaptive => Ok(DefaultSize::Adaptive),
            _ => Err(format!("{text:?} is not a default size: use a preset (2K), WxH (1024x1024) or adaptive")),
        }
    }
}

impl From<DefaultSize> for String {
    fn from(size: DefaultSize) -> String {
        match size {
            DefaultSize::Preset(preset) => preset.as_str().to_owned(),
            DefaultSize::Pixels(dims) => dims.to_string(),
            DefaultSize::Adaptive => "adaptive".to_owned(),
        }
    }
}

/// What a family accepts of each input image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputRule {
    /// Image formats, by the `data:image/<format>` word and the bytes.
    pub formats: Vec<ImageFormat>,
    /// Largest decoded size of one image, in bytes.
    pub max_bytes: usize,
    /// Every side must be more than this many pixels.
    pub min_side_exclusive: u32,
    /// Width/height ratio.
    pub ratio: RatioRange,
    /// Pixel count range, when the family limits it.
    pub pixels: Option<Span>,
}

/// How many reference images (`image`) a family takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct References {
    /// Fewest (1: `image` is required).
    pub min: usize,
    /// Most.
    pub max: usize,
    /// Whether `image` must be a single string rather than an array.
    pub single_string: bool,
}

/// Group generation limits (`sequential_image_generation: auto`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRule {
    /// `sequential_image_generation_options.max_images` range and default.
    pub max_images: Range<i64>,
    /// References plus generated images may not exceed this.
    pub max_total: i64,
}

/// What layer decomposition (`layer_decomposition: true`) takes and gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerRule {
    /// Formats of the one input image.
    pub input_formats: Vec<ImageFormat>,
    /// Pixel count range of the input image.
    pub input_pixels: Span,
    /// Most layers besides the base image.
    pub max_layers: usize,
    /// Most images (the base included) an answer holds when the request sets no cap: 5.5 can make
    /// 99 layers but answers at most 30 images by default. Absent: the base and `max_layers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_images: Option<usize>,
}

impl LayerRule {
    /// Most layers besides the base image in an answer to a request that sets no cap.
    pub fn default_layers(&self) -> usize {
        self.default_images.map_or(self.max_layers, |images| images.saturating_sub(1).min(self.max_layers))
    }
}

/// What `background` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackgroundRule {
    /// The values taken; the first is the default.
    pub values: Vec<String>,
    /// Whether `transparent` needs exactly one input image with an alpha channel (5.0); otherwise the
    /// model makes it from the prompt alone (5.5).
    pub transparent_needs_image: bool,
    /// Whether `background` may go with `layer_decomposition`.
    pub with_layers: bool,
    /// Whether each answered image states its `background`.
    pub reported: bool,
}

/// One model family: every rule that depends on the model, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelFamily {
    /// Short stable key, such as `seedream-5.0-pro` (command line, JSON output, catalog files).
    pub key: String,
    /// Human name, such as `Seedream 5.0 pro`.
    pub name: String,
    /// The current dated id in Volcengine's spelling where there is one; the service answers aliases with it.
    pub model_id: String,
    /// Id stems, without vendor prefix or date: an id is of this family when it is
    /// `[doubao-|dola-]<stem>` or that followed by `-<date>` (`doubao-seedream-4-0-250828`,
    /// `seedream-4-0-20260415`). The longest matching stem of all rows wins.
    pub prefixes: Vec<String>,
    /// Other names the service takes for this family (matched whole, vendor prefix aside); they get the
    /// family's rules.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Whether the family is offered at all.
    pub status: Status,
    /// Whether this is the family to use when nobody says (the command line's default model).
    #[serde(default)]
    pub recommended: bool,
    /// Each dated id as each provider serves it, with its lifecycle and successor.
    #[serde(default)]
    pub ids: Vec<ModelId>,
    /// What `size` may be.
    pub size: SizeRule,
    /// How many input images.
    pub references: References,
    /// What each input image may be.
    pub input: InputRule,
    /// Group generation, when the family makes groups.
    #[serde(default)]
    pub group: Option<GroupRule>,
    /// Whether `stream: true` is taken.
    pub stream: bool,
    /// `output_format` values (the first is the default).
    pub output_formats: Vec<String>,
    /// `tools[].type` values.
    pub tools: Vec<String>,
    /// Layer decomposition, when the family offers it.
    #[serde(default)]
    pub layers: Option<LayerRule>,
    /// `background`, when the family takes it.
    #[serde(default)]
    pub background: Option<BackgroundRule>,
    /// `optimize_prompt_options.mode` values; empty when the field is not taken.
    pub optimize_prompt_modes: Vec<String>,
    /// `seed` range and default, when taken.
    #[serde(default)]
    pub seed: Option<Range<i64>>,
    /// `guidance_scale` range and default, when taken.
    #[serde(default)]
    pub guidance_scale: Option<Range<f64>>,
    /// Whether each answered image states its `size`.
    pub reports_size: bool,
    /// Whether each answered image states its `output_format` and `usage` counts `input_images`.
    pub reports_formats: bool,
    /// What one generated image costs, when a source states it (`seedream usage` estimates a cost
    /// from it; without it the cost is reported as unknown, never guessed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
}

/// The price of one generated image, as a source stated it on a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// The amount per generated image, such as `0.25`; zero or more.
    pub amount: f64,
    /// The currency's code, such as `CNY` or `USD`.
    pub currency: String,
    /// The date the price was read (`YYYY-MM-DD`): prices change, and an estimate says how old its price is.
    pub as_of: String,
}

/// The group rule of every family that makes groups, and the one applied to unknown models.
pub const COMMON_GROUP: GroupRule = GroupRule { max_images: Range { min: 1, max: 15, default: 15 }, max_total: 15 };

/// A set of family rows: the built-in ones, or those extended by a catalog file.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    families: Vec<ModelFamily>,
}

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| Catalog { families: rows::builtin() });

impl Catalog {
    /// The rows this version was built with.
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    /// A catalog of exactly these rows (checked as a catalog file's rows are).
    pub fn new(families: Vec<ModelFamily>) -> Result<Catalog, CatalogError> {
        file::check_rows(&families)?;
        Ok(Catalog { families })
    }

    /// The built-in rows extended by a catalog file's text (`{"families": [...]}`, as `seedream models
    /// --json` prints): each of its rows replaces the built-in row with the same `key`, or is added.
    pub fn with_file(text: &str) -> Result<Catalog, CatalogError> {
        Ok(Catalog::builtin().extended(CatalogFile::parse(text)?))
    }

    /// These rows, each of `file`'s replacing the row with its `key` or added after the others.
    pub fn extended(&self, file: CatalogFile) -> Catalog {
        let mut families = self.families.clone();
        for row in file.families {
            match families.iter_mut().find(|family| family.key == row.key) {
                Some(slot) => *slot = row,
                None => families.push(row),
            }
        }
        Catalog { families }
    }

    /// Every row, current ones first.
    pub fn families(&self) -> &[ModelFamily] {
        &self.families
    }

    /// The catalog as a catalog file: `{"families": [...]}`.
    pub fn to_file(&self) -> CatalogFile {
        CatalogFile { families: self.families.clone() }
    }

    /// The family whose rules apply to `model`, by the longest stem after any vendor prefix
    /// (case-sensitive, as the service matches) or by alias; a later row wins a tie, so a file's row
    /// can take over a stem. `None` for endpoint ids (`ep-…`) and unknown ids, which get only the rules
    /// common to all models.
    pub fn family_of(&self, model: &str) -> Option<&ModelFamily> {
        // Checked on every request the client sends: one pass, no iterator adapters.
        let bare = without_vendor(model);
        let mut best: Option<(&ModelFamily, usize)> = None;
        for family in &self.families {
            for stem in &family.prefixes {
                if has_stem(bare, stem) && best.is_none_or(|(_, len)| stem.len() >= len) {
                    best = Some((family, stem.len()));
                }
            }
        }
        if let Some((family, _)) = best {
            return Some(family);
        }
        self.families.iter().find(|family| family.aliases.iter().any(|alias| without_vendor(alias) == bare))
    }

    /// The family with this [`key`](ModelFamily::key).
    pub fn by_key(&self, key: &str) -> Option<&ModelFamily> {
        self.families.iter().find(|family| family.key == key)
    }

    /// The family of `model` and, when the catalog lists this exact id, its lifecycle entry.
    pub fn lookup(&self, model: &str) -> Option<(&ModelFamily, Option<&ModelId>)> {
        let family = self.family_of(model)?;
        Some((family, family.ids.iter().find(|entry| entry.id == model)))
    }

    /// The recommended family: the row marked `recommended`, else the first offered one.
    pub fn recommended(&self) -> Option<&ModelFamily> {
        let offered = |f: &&ModelFamily| f.status == Status::Current;
        self.families.iter().filter(offered).find(|f| f.recommended).or_else(|| self.families.iter().find(offered))
    }

    /// The model to use when nobody names one: the recommended family's current id for `provider`.
    pub fn default_model(&self, provider: Provider) -> &str {
        match self.recommended() {
            Some(family) => family.current_id(provider),
            None => SEEDREAM_5_0_PRO,
        }
    }

    /// What `name` means as a `--model`: a family key (`seedream-5.0-pro`) becomes that family's current
    /// id for `provider`; anything else is an id and is sent as written.
    pub fn resolve_model<'a>(&'a self, name: &'a str, provider: Provider) -> &'a str {
        match self.by_key(name) {
            Some(family) => family.current_id(provider),
            None => name,
        }
    }
}

/// Every built-in family, current ones first.
pub fn families() -> &'static [ModelFamily] {
    Catalog::builtin().families()
}

/// The built-in family whose rules apply to `model` (see [`Catalog::family_of`]).
pub fn family_of(model: &str) -> Option<&'static ModelFamily> {
    Catalog::builtin().family_of(model)
}

/// The built-in family with this [`key`](ModelFamily::key).
pub fn by_key(key: &str) -> Option<&'static ModelFamily> {
    Catalog::builtin().by_key(key)
}

/// The built-in families that take a feature, by name, for help texts: `Seedream 5.0 pro, Seedream 5.0 flash`.
pub fn names_where(takes: impl Fn(&ModelFamily) -> bool) -> String {
    let names: Vec<_> = families().iter().filter(|family| takes(family)).map(|family| family.name.as_str()).collect();
    names.join(", ")
}

/// The most pixels an answered image of a model the catalog does not know may have before it is
/// decoded (as many as the largest input any family takes): a header claiming 65535×65535 would
/// otherwise cost gigabytes.
pub const MAX_ANSWER_PIXELS: u64 = 36_000_000;

/// The most pixels an answered image of a model of `family` may have before it is decoded (see
/// [`ModelFamily::answer_pixel_limit`]); [`MAX_ANSWER_PIXELS`] for models the catalog does not know.
pub fn answer_pixel_limit(family: Option<&ModelFamily>) -> u64 {
    family.map_or(MAX_ANSWER_PIXELS, ModelFamily::answer_pixel_limit)
}

impl ModelFamily {
    /// The most pixels an answered image may have before it is decoded: the largest `WxH` area or,
    /// with layer decomposition, the largest input (the layers have the input's size);
    /// [`MAX_ANSWER_PIXELS`] for families without a pixel rule.
    pub fn answer_pixel_limit(&self) -> u64 {
        let area = self.size.area.map_or(0, |span| span.max);
        let layers = self.layers.as_ref().map_or(0, |rule| rule.input_pixels.max);
        match area.max(layers) {
            0 => MAX_ANSWER_PIXELS,
            limit => limit,
        }
    }

    /// Whether the family takes `preset`.
    pub fn takes_preset(&self, preset: SizePreset) -> bool {
        self.size.presets.contains(&preset)
    }

    /// Whether the family makes groups (`sequential_image_generation: auto`).
    pub fn takes_group(&self) -> bool {
        self.group.is_some()
    }

    /// Whether the family takes `output_format: <format>`.
    pub fn takes_output_format(&self, format: &str) -> bool {
        self.output_formats.iter().any(|f| f == format)
    }

    /// The `output_format` used when the request has none.
    pub fn default_output_format(&self) -> &str {
        self.output_formats.first().map_or("jpeg", String::as_str)
    }

    /// Whether the family takes `background: <value>`.
    pub fn takes_background(&self, value: &str) -> bool {
        self.background.as_ref().is_some_and(|rule| rule.values.iter().any(|v| v == value))
    }

    /// Whether the family makes transparent backgrounds.
    pub fn takes_transparent(&self) -> bool {
        self.takes_background("transparent")
    }

    /// Whether the family takes the tool `kind` (`web_search`).
    pub fn takes_tool(&self, kind: &str) -> bool {
        self.tools.iter().any(|t| t == kind)
    }

    /// The family's current id for `provider`: its own current (or early-access) entry for that provider,
    /// else its `model_id` in the provider's spelling.
    pub fn current_id(&self, provider: Provider) -> &str {
        let offered = |entry: &&ModelId| {
            entry.provider == provider && matches!(entry.status, Lifecycle::Current | Lifecycle::EarlyAccess)
        };
        match self.ids.iter().find(offered) {
            Some(entry) => &entry.id,
            None => &self.model_id,
        }
    }

    /// The `size` values the family takes, in words: `1K, 2K, 4K or WxH with W·H from 921600 to 16777216`.
    pub fn describe_sizes(&self) -> String {
        let mut forms: Vec<String> = self.size.presets.iter().map(|p| p.as_str().to_owned()).collect();
        if self.size.adaptive {
            forms.push("adaptive".into());
        }
        if let Some(area) = self.size.area {
            let ratio = self.size.ratio.map(|r| format!(" and W/H {}", r.describe())).unwrap_or_default();
            forms.push(format!("WxH with W·H from {} to {}{ratio}", area.min, area.max));
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
    fn every_provider_spelling_matches_its_family_and_the_longest_stem_wins() {
        let key = |model: &str| family_of(model).map(|f| f.key.as_str());
        for (model, family) in [
            ("doubao-seedream-4-0-250828", "seedream-4.0"),
            ("doubao-seedream-4-0-20260415", "seedream-4.0"),
            ("seedream-4-0-20260415", "seedream-4.0"),
            ("doubao-seedream-4-5-251128", "seedream-4.5"),
            ("seedream-4-5-251128", "seedream-4.5"),
            ("doubao-seedream-5-0-260128", "seedream-5.0-lite"),
            ("seedream-5-0-260128", "seedream-5.0-lite"),
            ("doubao-seedream-5-0-lite-260128", "seedream-5.0-lite"),
            ("doubao-seedream-5-0-pro-260628", "seedream-5.0-pro"),
            ("dola-seedream-5-0-pro-260628", "seedream-5.0-pro"),
            ("dola-seedream-5-0-flash-260915", "seedream-5.0-flash"),
            ("dola-seedream-5-5-261028", "seedream-5.5"),
            ("seedream-5-5-261028", "seedream-5.5"),
            ("doubao-seededit-3-0-i2i-250628", "seededit-3.0"),
            ("seededit-3-0-i2i-250628", "seededit-3.0"),
            ("doubao-seedream-3-0-t2i-250415", "seedream-3.0-t2i"),
            ("doubao-seedream-4-0", "seedream-4.0"),
            ("doubao-seedream-5.0-pro", "seedream-5.0-pro"),
        ] {
            assert_eq!(key(model), Some(family), "{model}");
        }
    }

    #[test]
    fn endpoints_and_unknown_ids_get_no_family_rules() {
        for model in ["ep-20250101-abcde", "gpt-image-1", "doubao-seedream-9-9-991231", "dola-seedream-4-05"] {
            assert_eq!(family_of(model), None, "{model}");
        }
    }

    #[test]
    fn answer_pixel_limits_come_from_the_row() {
        assert_eq!(answer_pixel_limit(family_of(SEEDREAM_5_0_PRO)), 36_000_000, "layers: the largest input");
        assert_eq!(answer_pixel_limit(family_of(SEEDREAM_4_0)), 16_777_216);
        assert_eq!(answer_pixel_limit(family_of(SEEDEDIT_3_0_I2I)), MAX_ANSWER_PIXELS, "adaptive: no area rule");
        assert_eq!(answer_pixel_limit(family_of("ep-20250101-abcde")), MAX_ANSWER_PIXELS);
    }

    #[test]
    fn every_row_is_consistent() {
        Catalog::new(families().to_vec()).expect("the built-in rows pass the catalog file's checks");
        for family in families() {
            assert_eq!(family_of(&family.model_id), Some(family), "{} id", family.name);
            assert_eq!(by_key(&family.key), Some(family));
            for alias in &family.aliases {
                assert_eq!(family_of(alias), Some(family), "{alias}");
            }
            for entry in &family.ids {
                assert_eq!(family_of(&entry.id), Some(family), "{}", entry.id);
                assert_eq!(Provider::of_id(&entry.id), Some(entry.provider), "{} is spelled as its provider", entry.id);
            }
        }
    }

    #[test]
    fn the_default_model_is_the_recommended_current_id_of_each_provider() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.default_model(Provider::Volcengine), SEEDREAM_5_0_PRO);
        assert_eq!(catalog.default_model(Provider::Byteplus), "dola-seedream-5-0-pro-260628");
        for provider in Provider::ALL {
            let (_, entry) = catalog.lookup(catalog.default_model(provider)).unwrap();
            assert_eq!(entry.map(|e| e.status), Some(Lifecycle::Current), "{provider}");
        }
        assert_eq!(catalog.resolve_model("seedream-4.0", Provider::Volcengine), SEEDREAM_4_0);
        assert_eq!(catalog.resolve_model("seedream-4.0", Provider::Byteplus), "seedream-4-0-20260415");
        assert_eq!(catalog.resolve_model("seedream-5.5", Provider::Byteplus), SEEDREAM_5_5);
        assert_eq!(catalog.resolve_model("ep-1", Provider::Byteplus), "ep-1");
    }

    #[test]
    fn a_layer_answer_is_capped_by_the_row_default() {
        let v55 = by_key("seedream-5.5").unwrap().layers.clone().unwrap();
        assert_eq!((v55.max_layers, v55.default_layers()), (99, 29), "30 images, the base included");
        let pro = family_of(SEEDREAM_5_0_PRO).unwrap().layers.clone().unwrap();
        assert_eq!(pro.default_layers(), pro.max_layers, "no default cap: every layer");
    }

    #[test]
    fn retired_ids_name_their_successor() {
        let (_, entry) = Catalog::builtin().lookup("doubao-seedream-4-0-250828").unwrap();
        let entry = entry.unwrap();
        assert_eq!((entry.status, entry.successor.as_deref()), (Lifecycle::Retired, Some(SEEDREAM_4_0)));
        assert_eq!(entry.date.as_deref(), Some("2026-11-24"));
    }

    #[test]
    fn sizes_are_described_from_the_row() {
        let pro = family_of(SEEDREAM_5_0_PRO).unwrap();
        assert_eq!(pro.describe_sizes(), "1K, 1.5K, 2K or WxH with W·H from 921600 to 4624220 and W/H from 1/16 to 16");
        let edit = family_of(SEEDEDIT_3_0_I2I).unwrap();
        assert_eq!(edit.describe_sizes(), "adaptive");
        assert_eq!(names_where(|f| !f.tools.is_empty()), "Seedream 5.0 lite");
    }
}
