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

/// A resolution preset: the model picks the shape, the preset fixes the pixel budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SizePreset {
    /// About 1 megapixel (Seedream 4.0 only).
    OneK,
    /// About 4 megapixels (Seedream 4.0 and 4.5).
    TwoK,
    /// About 16 megapixels (Seedream 4.0 and 4.5).
    FourK,
}

impl SizePreset {
    const TABLE: [(SizePreset, &'static str); 3] =
        [(SizePreset::OneK, "1K"), (SizePreset::TwoK, "2K"), (SizePreset::FourK, "4K")];

    /// The wire string (`1K`, `2K`, `4K`).
    pub fn as_str(self) -> &'static str {
        Self::TABLE.iter().find(|(p, _)| *p == self).map(|(_, s)| *s).unwrap_or("2K")
    }

    fn from_wire(wire: &str) -> Option<Self> {
        Self::TABLE.iter().find(|(_, s)| *s == wire).map(|(p, _)| *p)
    }

    /// The output size the service uses for this preset at the aspect ratio (width / height)
    /// closest to `ratio`, from the provider's recommended-size tables.
    pub fn dimensions_for_ratio(self, ratio: f64) -> Dimensions {
        let table: &[(u32, u32)] = match self {
            SizePreset::OneK => &ONE_K,
            SizePreset::TwoK => &TWO_K,
            SizePreset::FourK => &FOUR_K,
        };
        closest_ratio(table, ratio)
    }
}

// Ratios in the order the provider's tables list them: 1:1, 4:3, 3:4, 16:9, 9:16, 3:2, 2:3, 21:9.
const ONE_K: [(u32, u32); 8] =
    [(1024, 1024), (1152, 864), (864, 1152), (1280, 720), (720, 1280), (1248, 832), (832, 1248), (1512, 648)];
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
/// Serializes back to exactly the text it was parsed from: `2048x2048` stays `2048x2048`, and text
/// that is neither a preset, `adaptive` nor canonical `WxH` is kept as [`Size::Other`] for
/// validation to reject (or, for unknown models, for the service to judge).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Size {
    /// `1K`, `2K` or `4K`.
    Preset(SizePreset),
    /// `adaptive`: the output follows the input image's aspect ratio (SeedEdit 3.0 only).
    Adaptive,
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
            Size::Pixels(dims) => Cow::Owned(dims.to_string()),
            Size::Other(text) => Cow::Borrowed(text),
        }
    }

    /// Parses wire text; never fails (unknown text becomes [`Size::Other`]).
    pub fn from_wire(text: &str) -> Self {
        if let Some(preset) = SizePreset::from_wire(text) {
            return Size::Preset(preset);
        }
        if text == "adaptive" {
            return Size::Adaptive;
        }
        parse_pixels(text).map_or_else(|| Size::Other(text.to_owned()), Size::Pixels)
    }
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
            "description": "`1K`, `2K`, `4K` (Seedream 4.x; 4.5 takes 2K and 4K), `adaptive` (SeedEdit 3.0), or `WxH` in pixels.",
            "pattern": "^(1K|2K|4K|adaptive|[1-9][0-9]*x[1-9][0-9]*)$",
            "examples": ["2K", "2048x2048", "adaptive"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_form_and_round_trips_text() {
        for text in ["1K", "2K", "4K", "adaptive", "2048x2048", "1280x720", "2k", "02048x2048", "big", "10x", ""] {
            assert_eq!(Size::from_wire(text).to_wire(), text);
        }
        assert_eq!(Size::from_wire("2K"), Size::Preset(SizePreset::TwoK));
        assert_eq!(Size::from_wire("1280x720"), Size::pixels(1280, 720));
        assert!(matches!(Size::from_wire("2k"), Size::Other(_)));
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
