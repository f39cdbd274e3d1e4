//! Model ids and the families whose rules they follow.

/// Seedream 4.0, the current dated id (text-to-image, multi-reference, groups, streaming).
pub const SEEDREAM_4_0: &str = "doubao-seedream-4-0-250828";
/// Seedream 4.5, the current dated id (as 4.0, sizes from 2K up).
pub const SEEDREAM_4_5: &str = "doubao-seedream-4-5-251128";
/// SeedEdit 3.0 image-to-image, the current dated id (exactly one input image, `adaptive` size).
pub const SEEDEDIT_3_0_I2I: &str = "doubao-seededit-3-0-i2i-250628";
/// Seedream 3.0 text-to-image, the current dated id (`WxH` sizes, no input image).
pub const SEEDREAM_3_0_T2I: &str = "doubao-seedream-3-0-t2i-250415";

/// The rule set a model id follows, matched on the family prefix of the dated id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelFamily {
    /// `doubao-seedream-4-0…`
    Seedream40,
    /// `doubao-seedream-4-5…`
    Seedream45,
    /// `doubao-seededit-3-0-i2i…`
    SeedEdit30I2i,
    /// `doubao-seedream-3-0-t2i…`
    Seedream30T2i,
    /// An endpoint id (`ep-…`) or an unknown model: only the rules common to all families apply.
    Other,
}

impl ModelFamily {
    const PREFIXES: [(&'static str, ModelFamily); 4] = [
        ("doubao-seedream-4-0", ModelFamily::Seedream40),
        ("doubao-seedream-4-5", ModelFamily::Seedream45),
        ("doubao-seededit-3-0-i2i", ModelFamily::SeedEdit30I2i),
        ("doubao-seedream-3-0-t2i", ModelFamily::Seedream30T2i),
    ];

    /// The family of a model id (case-sensitive, as the service matches it).
    pub fn of(model: &str) -> Self {
        Self::PREFIXES
            .iter()
            .find(|(prefix, _)| model.starts_with(prefix))
            .map_or(ModelFamily::Other, |&(_, family)| family)
    }

    /// Seedream 4.0 or 4.5: group generation, streaming, multi-image input.
    pub fn is_seedream_4(self) -> bool {
        matches!(self, ModelFamily::Seedream40 | ModelFamily::Seedream45)
    }

    /// A short human name, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            ModelFamily::Seedream40 => "Seedream 4.0",
            ModelFamily::Seedream45 => "Seedream 4.5",
            ModelFamily::SeedEdit30I2i => "SeedEdit 3.0",
            ModelFamily::Seedream30T2i => "Seedream 3.0 t2i",
            ModelFamily::Other => "an unknown model",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_match_on_prefix_and_endpoint_ids_are_other() {
        assert_eq!(ModelFamily::of(SEEDREAM_4_0), ModelFamily::Seedream40);
        assert_eq!(ModelFamily::of("doubao-seedream-4-5-251128"), ModelFamily::Seedream45);
        assert_eq!(ModelFamily::of(SEEDEDIT_3_0_I2I), ModelFamily::SeedEdit30I2i);
        assert_eq!(ModelFamily::of(SEEDREAM_3_0_T2I), ModelFamily::Seedream30T2i);
        assert_eq!(ModelFamily::of("ep-20250101-abcde"), ModelFamily::Other);
        assert_eq!(ModelFamily::of("gpt-image-1"), ModelFamily::Other);
    }
}
