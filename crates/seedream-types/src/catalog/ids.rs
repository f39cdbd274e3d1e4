//! Model ids as providers spell them, and each id's place in its family's lifecycle.
//!
//! An id is `[doubao-|dola-]<stem>[-<date>]`: Volcengine Ark writes `doubao-`, BytePlus ModelArk `dola-`
//! (5.x pro, flash, 5.5) or nothing (older families), and the date has 6 or 8 digits. A family is named
//! by its stem alone, so every provider's spelling of an id finds the same rules.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The vendor prefixes an id may start with, longest first.
pub const VENDOR_PREFIXES: [&str; 2] = ["doubao-", "dola-"];

/// A provider of the API: who spells the ids and where the service lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Volcengine Ark (China): ids `doubao-…`.
    Volcengine,
    /// BytePlus ModelArk (international): ids `dola-…` for 5.x pro, flash and 5.5, unprefixed for the rest.
    Byteplus,
}

impl Provider {
    /// Both providers, Volcengine first.
    pub const ALL: [Provider; 2] = [Provider::Volcengine, Provider::Byteplus];

    /// `volcengine` or `byteplus`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Volcengine => "volcengine",
            Provider::Byteplus => "byteplus",
        }
    }

    /// Parses `volcengine` or `byteplus` in any case.
    pub fn from_name(name: &str) -> Option<Provider> {
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(name))
    }

    /// The provider's API base URL (the official SDKs' presets).
    pub fn base_url(self) -> &'static str {
        match self {
            Provider::Volcengine => "https://ark.cn-beijing.volces.com/api/v3",
            Provider::Byteplus => "https://ark.ap-southeast.bytepluses.com/api/v3",
        }
    }

    /// The provider whose spelling `model` uses: `dola-` is BytePlus, `doubao-` Volcengine, and an
    /// unprefixed id BytePlus too; `None` for an endpoint id (`ep-…`).
    pub fn of_id(model: &str) -> Option<Provider> {
        if model.starts_with("doubao-") {
            Some(Provider::Volcengine)
        } else if model.starts_with("ep-") {
            None
        } else {
            Some(Provider::Byteplus)
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one id stands: sold, on its way out, or gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Offered to some accounts before general release.
    EarlyAccess,
    /// Offered today.
    Current,
    /// Still answers; the provider has announced its end (`Retiring` in `GET /models`).
    Retiring,
    /// No longer offered by this provider (`Shutdown`): calls may fail.
    Retired,
}

impl Lifecycle {
    /// `early_access`, `current`, `retiring` or `retired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::EarlyAccess => "early_access",
            Lifecycle::Current => "current",
            Lifecycle::Retiring => "retiring",
            Lifecycle::Retired => "retired",
        }
    }

    /// Whether a user naming the id should hear of its successor.
    pub fn is_ending(self) -> bool {
        matches!(self, Lifecycle::Retiring | Lifecycle::Retired)
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dated id of a family, as one provider serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelId {
    /// The id exactly as the provider spells it, such as `dola-seedream-5-0-pro-260628`.
    pub id: String,
    /// Who serves it under this spelling.
    pub provider: Provider,
    /// Where it stands.
    pub status: Lifecycle,
    /// When it took that status (`YYYY-MM-DD`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The id to use instead, when it is ending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
}

/// `model` without its vendor prefix: `seedream-4-0-250828` for `doubao-seedream-4-0-250828`.
pub fn without_vendor(model: &str) -> &str {
    VENDOR_PREFIXES.iter().find_map(|prefix| model.strip_prefix(prefix)).unwrap_or(model)
}

/// Whether `model` (vendor prefix already removed) is `stem` alone or `stem` followed by `-<digit>…`
/// (a date of any length). Compared as bytes: it runs on every request.
pub fn has_stem(model: &str, stem: &str) -> bool {
    // Stems differ mostly in their last bytes (`seedream-4-0`, `seedream-4-5`): one byte first
    // settles most before a whole comparison.
    if let Some(&last) = stem.as_bytes().last()
        && model.as_bytes().get(stem.len() - 1) != Some(&last)
    {
        return false;
    }
    match model.as_bytes().strip_prefix(stem.as_bytes()) {
        Some([]) => true,
        Some([b'-', digit, ..]) => digit.is_ascii_digit(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_prefixes_are_removed_and_dates_of_any_length_follow_a_stem() {
        assert_eq!(without_vendor("doubao-seedream-4-0-250828"), "seedream-4-0-250828");
        assert_eq!(without_vendor("dola-seedream-5-5-261028"), "seedream-5-5-261028");
        assert_eq!(without_vendor("seedream-4-5-251128"), "seedream-4-5-251128");
        assert!(has_stem("seedream-4-0-20260415", "seedream-4-0"));
        assert!(has_stem("seedream-4-0-250828", "seedream-4-0"));
        assert!(has_stem("seedream-4-0", "seedream-4-0"));
        assert!(!has_stem("seedream-5-0-pro-260628", "seedream-5-0"), "pro is not lite");
        assert!(!has_stem("seedream-4-05", "seedream-4-0"));
    }

    #[test]
    fn providers_are_named_by_their_spelling() {
        assert_eq!(Provider::of_id("doubao-seedream-4-0-250828"), Some(Provider::Volcengine));
        assert_eq!(Provider::of_id("dola-seedream-5-5-261028"), Some(Provider::Byteplus));
        assert_eq!(Provider::of_id("seedream-4-5-251128"), Some(Provider::Byteplus));
        assert_eq!(Provider::of_id("ep-20260101-x"), None);
        assert_eq!(Provider::from_name("BytePlus"), Some(Provider::Byteplus));
        assert_eq!(Provider::from_name("aws"), None);
    }
}
