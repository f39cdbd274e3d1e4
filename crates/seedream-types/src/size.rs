//! The `size` field: presets, `adaptive`, explicit `WxH`, and the pixel tables behind presets.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dimensions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Dimensions {
    /// Dimensions of `width` × `height` pixels.
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    /// Number of pixels.
    pub fn area(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Width divided by height (0 when the height is 0).
    pub fn ratio(self) -> f64 {
        if self.height == 0 { 0.0 } else { f64::from(self.width) / f64::from(self.height) }
    }
}

impl fmt::Display for Dimensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// A resolution preset: the model picks the shape, the preset fixes the pixel budget. Which family
/// takes which preset is in its [`catalog`](crate::catalog) row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SizePreset {
    /// About 1 megapixel.
    OneK,
    /// About 2.4 megapixels.
    OneAndHalfK,
    /// About 4 megapixels.
    TwoK,
    /// About 9.4 megapixels.
    ThreeK,
    /// About 16 megapixels.
    FourK,
}

impl SizePreset {
    /// Every preset with its wire string, smallest first.
    pub const ALL: [(SizePreset, &'static str); 5] = [
        (SizePreset::OneK, "1K"),
        (SizePreset::OneAndHalfK, "1.5K"),
        (SizePreset::TwoK, "2K"),
        (SizePreset::ThreeK, "3K"),
        (SizePreset::FourK, "4K"),
    ];

    /// The wire string in the provider's spelling (`1K`, `1.5K`, `2K`, `3K`, `4K`).
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(p, _)| *p == self).map_or("2K", |(_, s)| *s)
    }

    /// Parses a preset in any case (`2k` is `2K`: the service takes either).
    pub fn from_text(text: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, s)| s.eq_ignore_ascii_case(text)).map(|(p, _)| *p)
    }

    fn from_wire(wire: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, s)| *s == wire).map(|(p, _)| *p)
    }

    /// The output size the service uses for this preset at the aspect ratio (width / height)
    /// closest to `ratio`, from the provider's recommended-size tables.
    pub fn dimensions_for_ratio(self, ratio: f64) -> Dimensions {
        let table: &[(u32, u32)] = match self {
            SizePreset::OneK => &ONE_K,
            SizePreset::OneAndHalfK => &ONE_AND_HALF_K,
            SizePreset::TwoK => &TWO_K,
            SizePreset::ThreeK => &THREE_K,
            SizePreset::FourK => &FOUR_K,
        };
        closest_ratio(table, ratio)
    }
}

// Ratios in the order the provider's tables list them: 1:1, 4:3, 3:4, 16:9, 9:16, 3:2, 2:3, 21:9.
const ONE_K: [(u32, u32); 8] =
    [(1024, 1024), (1152, 864), (864, 1152), (1280, 720), (720, 1280), (1248, 832), (832, 1248), (1512, 648)];
// 1.5K and 3K: the 2K table scaled by 3/4 and 3/2.
const ONE_AND_HALF_K: [(u32, u32); 8] =
    [(1536, 1536), (1728, 1296), (1296, 1728), (1920, 1080), (1080, 1920), (1872, 1248), (1248, 1872), (2268, 972)];
const THREE_K: [(u32, u32); 8] =
    [(3072, 3072), (3456, 2592), (2592, 3456), (3840, 2160), (2160, 3840), (3744, 2496), (2496, 3744), (4536, 1944)];
const TWO_K: [(u32, u32); 8] =
    [(2048, 2048), (2304, 1728), (1728, 2304), (2560, 1440), (1440, 2560), (2496, 1664), (1664, 2496), (3024, 1296)];
const FOUR_K: [(u32, u32); 8] =
    [(4096, 4096), (4704, 3520), (3520, 4704), (5504, 3040), (3040, 5504), (4992, 3328), (3328, 4992), (6240, 2656)];

/// SeedEdit's `adaptive` output sizes: the first entry whose ratio is closest to the input's.
pub fn adaptive_dimensions(input: Dimensions) -> Dimensions {
    closest_ratio(&ONE_K, input.ratio())
}

fn closest_ratio(table: &[(u32, u32)], ratio: f64) -> Dimensions {
    let ratio = if ratio.is_finite() && ratio > 0.0 { ratio } else { 1.0 };
    let mut best = table[0];
    let mut best_distance = f64::INFINITY;
    for &(w, h) in table {
        let distance = (f64::from(w) / f64::from(h) - ratio).abs();
        // Strictly smaller: the first of equally close entries wins, as the service does.
        if distance < best_distance {
            best = (w, h);
            best_distance = distance;
        }
    }
    Dimensions::new(best.0, best.1)
}

/// The `size` field of a request.
///
/// Serializes back to exactly the text it was parsed from: `2048x2048` stays `2048x2048`, `2k` stays
/// `2k`. Text in the provider's own spelling parses to a typed variant; anything else (other case,
/// unknown words) is kept as [`Size::Other`], and [`Size::form`] reads it case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Size {
    /// `1K`, `1.5K`, `2K`, `3K` or `4K`.
    Preset(SizePreset),
    /// `adaptive`: the output follows the input image's aspect ratio (SeedEdit 3.0 only).
    Adaptive,
    /// `auto`: the service picks (layer decomposition).
    Auto,
    /// `WxH` in pixels, such as `2048x2048`.
    Pixels(Dimensions),
    /// Any other text, kept verbatim.
    Other(String),
}

impl Size {
    /// `WxH` pixels.
    pub const fn pixels(width: u32, height: u32) -> Self {
        Size::Pixels(Dimensions::new(width, height))
    }

    /// The wire text.
    pub fn to_wire(&self) -> Cow<'_, str> {
        match self {
            Size::Preset(preset) => Cow::Borrowed(preset.as_str()),
            Size::Adaptive => Cow::Borrowed("adaptive"),
            Size::Auto => Cow::Borrowed("auto"),
            Size::Pixels(dims) => Cow::Owned(dims.to_string()),
            Size::Other(text) => Cow::Borrowed(text),
        }
    }

    /// Parses wire text; never fails (unknown text becomes [`Size::Other`]).
    pub fn from_wire(text: &str) -> Self {
        if let Some(preset) = SizePreset::from_wire(text) {
            return Size::Preset(preset);
        }
        match text {
            "adaptive" => Size::Adaptive,
            "auto" => Size::Auto,
            _ => parse_pixels(text).map_or_else(|| Size::Other(text.to_owned()), Size::Pixels),
        }
    }

    /// What the text means to the service, whatever its case: `2k` is [`SizeForm::Preset`].
    pub fn form(&self) -> SizeForm {
        match self {
            Size::Preset(preset) => SizeForm::Preset(*preset),
            Size::Adaptive => SizeForm::Adaptive,
            Size::Auto => SizeForm::Auto,
            Size::Pixels(dims) => SizeForm::Pixels(*dims),
            Size::Other(text) => {
                if let Some(preset) = SizePreset::from_text(text) {
                    SizeForm::Preset(preset)
                } else if text.eq_ignore_ascii_case("adaptive") {
                    SizeForm::Adaptive
                } else if text.eq_ignore_ascii_case("auto") {
                    SizeForm::Auto
                } else {
                    SizeForm::Unknown
                }
            }
        }
    }
}

/// The meaning of a [`Size`], independent of how it was spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SizeForm {
    /// A resolution preset.
    Preset(SizePreset),
    /// `adaptive`.
    Adaptive,
    /// `auto`.
    Auto,
    /// `WxH`.
    Pixels(Dimensions),
    /// Text the service does not define.
    Unknown,
}

/// Canonical `WxH` only (no sign, no leading zero, lower-case `x`), so that the text round-trips.
fn parse_pixels(text: &str) -> Option<Dimensions> {
    let (w, h) = text.split_once('x')?;
    let side = |s: &str| -> Option<u32> {
        let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
        if canonical { s.parse().ok() } else { None }
    };
    Some(Dimensions::new(side(w)?, side(h)?))
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl FromStr for Size {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Size::from_wire(text))
    }
}

impl From<SizePreset> for Size {
    fn from(preset: SizePreset) -> Self {
        Size::Preset(preset)
    }
}

impl From<Dimensions> for Size {
    fn from(dims: Dimensions) -> Self {
        Size::Pixels(dims)
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Size::from_wire(&text))
    }
}

impl schemars::JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A preset in any case (`1K`, `1.5K`, `2K`, `3K`, `4K`: which ones a model takes is in its catalog row), `adaptive` (SeedEdit 3.0), `auto` (layer decomposition), or `WxH` in pixels.",
            "examples": ["2K", "2048x2048", "adaptive"]
        })
    }
}

/// A preset is written as its wire string (`1K`, `1.5K`, …) in catalog files; any case is read.
impl Serialize for SizePreset {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SizePreset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        SizePreset::from_text(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown size preset {text:?}: use 1K, 1.5K, 2K, 3K or 4K"))
        })
    }
}

impl schemars::JsonSchema for SizePreset {
    fn schema_name() -> Cow<'static, str> {
        "SizePreset".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "enum": ["1K", "1.5K", "2K", "3K", "4K"]})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_form_and_round_trips_text() {
        for text in [
            "1K",
            "1.5K",
            "3K",
            "2K",
            "4K",
            "adaptive",
            "auto",
            "2048x2048",
            "1280x720",
            "2k",
            "1.5k",
            "02048x2048",
            "big",
            "10x",
            "",
        ] {
            assert_eq!(Size::from_wire(text).to_wire(), text);
        }
        assert_eq!(Size::from_wire("2K"), Size::Preset(SizePreset::TwoK));
        assert_eq!(Size::from_wire("1280x720"), Size::pixels(1280, 720));
        assert!(matches!(Size::from_wire("2k"), Size::Other(_)));
        assert_eq!(Size::from_wire("2k").form(), SizeForm::Preset(SizePreset::TwoK));
        assert_eq!(Size::from_wire("1.5k").form(), SizeForm::Preset(SizePreset::OneAndHalfK));
        assert_eq!(Size::from_wire("ADAPTIVE").form(), SizeForm::Adaptive);
        assert_eq!(Size::from_wire("5K").form(), SizeForm::Unknown);
        assert!(matches!(Size::from_wire("99999999999x2"), Size::Other(_)));
    }

    #[test]
    fn presets_pick_the_closest_table_ratio() {
        assert_eq!(SizePreset::TwoK.dimensions_for_ratio(1.0), Dimensions::new(2048, 2048));
        assert_eq!(SizePreset::TwoK.dimensions_for_ratio(16.0 / 9.0), Dimensions::new(2560, 1440));
        assert_eq!(SizePreset::FourK.dimensions_for_ratio(0.75), Dimensions::new(3520, 4704));
        assert_eq!(adaptive_dimensions(Dimensions::new(800, 600)), Dimensions::new(1152, 864));
    }
}
