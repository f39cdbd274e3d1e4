//! Catalog files: rows users add or replace without a release, in the format `seedream models --json`
//! prints. A bad file is refused whole, naming the row and the field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ModelFamily;

/// A catalog file: `{"families": [...]}`, each row with the catalog's own field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// The rows; each replaces the built-in row with its `key`, or is added.
    pub families: Vec<ModelFamily>,
}

/// Why a catalog file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Not JSON, or not an object with a `families` array.
    #[error("the catalog file is not {{\"families\": [...]}}: {0}")]
    Shape(String),
    /// One row is malformed or breaks a rule; `row` is its index, `key` its key when it has one.
    #[error("families[{row}]{}: {field}: {message}", key.as_deref().map(|k| format!(" ({k})")).unwrap_or_default())]
    Row {
        /// Index of the row in `families`.
        row: usize,
        /// The row's `key`, when it has a readable one.
        key: Option<String>,
        /// The field at fault, such as `references.max`, or `row` for the row as a whole.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl CatalogFile {
    /// Reads a catalog file's text, each row on its own so an error names the row.
    pub fn parse(text: &str) -> Result<CatalogFile, CatalogError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            families: Vec<serde_json::Value>,
        }
        let raw: Raw = serde_json::from_str(text).map_err(|e| CatalogError::Shape(e.to_string()))?;
        let mut families = Vec::with_capacity(raw.families.len());
        for (row, value) in raw.families.into_iter().enumerate() {
            let key = value.get("key").and_then(|k| k.as_str()).map(str::to_owned);
            let family: ModelFamily = read_row(value).map_err(|(field, message)| CatalogError::Row {
                row,
                key: key.clone(),
                field,
                message,
            })?;
            families.push(family);
        }
        check_rows(&families)?;
        Ok(CatalogFile { families })
    }
}

/// Deserializes a row; on failure, the field named by serde's message (or `row`) and the message.
fn read_row(value: serde_json::Value) -> Result<ModelFamily, (String, String)> {
    // serde_json names the field of `missing field`/`unknown field` errors but not the path of a wrong
    // type: try each top-level field alone to find which one is at fault.
    match serde_json::from_value::<ModelFamily>(value.clone()) {
        Ok(family) => Ok(family),
        Err(error) => {
            let message = error.to_string();
            let named = ["missing field `", "unknown field `", "duplicate field `"]
                .iter()
                .find_map(|start| message.split_once(start).and_then(|(_, rest)| rest.split_once('`')))
                .map(|(field, _)| field.to_owned());
            let field = named.or_else(|| field_at_fault(&value)).unwrap_or_else(|| "row".to_owned());
            Err((field, message))
        }
    }
}

/// The first top-level field whose value alone fails to read, by swapping it into a known-good row.
fn field_at_fault(value: &serde_json::Value) -> Option<String> {
    let good = serde_json::to_value(super::families().first()?).ok()?;
    let object = value.as_object()?;
    object.iter().find_map(|(name, field_value)| {
        let mut probe = good.clone();
        probe.as_object_mut()?.insert(name.clone(), field_value.clone());
        serde_json::from_value::<ModelFamily>(probe).is_err().then(|| name.clone())
    })
}

/// The rules a row must keep whatever its values: ranges in order, ids of its own family.
pub(super) fn check_rows(families: &[ModelFamily]) -> Result<(), CatalogError> {
    for (row, family) in families.iter().enumerate() {
        let fail = |field: &str, message: String| CatalogError::Row {
            row,
            key: Some(family.key.clone()),
            field: field.to_owned(),
            message,
        };
        if family.key.trim().is_empty() {
            return Err(fail("key", "must not be empty".into()));
        }
        if let Some(earlier) = families[..row].iter().position(|f| f.key == family.key) {
            return Err(fail("key", format!("repeats the key of families[{earlier}]")));
        }
        if family.prefixes.is_empty() || family.prefixes.iter().any(|p| p.trim().is_empty()) {
            return Err(fail("prefixes", "needs at least one non-empty id stem, such as seedream-4-0".into()));
        }
        if let Some(stem) = family.prefixes.iter().find(|p| super::VENDOR_PREFIXES.iter().any(|v| p.starts_with(v))) {
            return Err(fail("prefixes", format!("{stem:?} starts with a vendor prefix; write the stem alone")));
        }
        if family.references.min > family.references.max {
            return Err(fail("references.min", "must not exceed references.max".into()));
        }
        if family.output_formats.is_empty() {
            return Err(fail("output_formats", "must list at least the default format".into()));
        }
        if let Some(area) = family.size.area.filter(|a| a.min > a.max) {
            return Err(fail("size.area", format!("min {} exceeds max {}", area.min, area.max)));
        }
        if let Some(group) = family.group.filter(|g| !g.max_images.contains(g.max_images.default)) {
            return Err(fail(
                "group.max_images",
                format!("the default {} is outside its range", group.max_images.default),
            ));
        }
        if let Some(layers) = family.layers.as_ref().filter(|l| l.input_pixels.min > l.input_pixels.max) {
            return Err(fail("layers.input_pixels", format!("min {} exceeds max", layers.input_pixels.min)));
        }
        if let Some(images) = family.layers.as_ref().and_then(|l| l.default_images).filter(|&n| n < 2) {
            return Err(fail("layers.default_images", format!("{images} leaves no room for a layer besides the base")));
        }
        if family.background.as_ref().is_some_and(|b| b.values.is_empty()) {
            return Err(fail("background.values", "must list at least the default value".into()));
        }
        if let super::DefaultSize::Preset(preset) = family.size.default
            && !family.takes_preset(preset)
        {
            return Err(fail("size.default", format!("{} is not among the row's presets", preset.as_str())));
        }
        if let Some(price) = &family.price {
            if !(price.amount.is_finite() && price.amount >= 0.0) {
                return Err(fail("price.amount", format!("{} must be a finite number, zero or more", price.amount)));
            }
            if price.currency.trim().is_empty() {
                return Err(fail("price.currency", "must name the currency, such as CNY or USD".into()));
            }
        }
        if family.model_id.trim().is_empty() {
            return Err(fail("model_id", "must not be empty".into()));
        }
        let own = |model: &str| {
            let bare = super::without_vendor(model);
            family.prefixes.iter().any(|stem| super::has_stem(bare, stem))
                || family.aliases.iter().any(|alias| super::without_vendor(alias) == bare)
        };
        if !own(&family.model_id) {
            return Err(fail("model_id", format!("{:?} does not match the row's prefixes", family.model_id)));
        }
        if let Some((index, entry)) = family.ids.iter().enumerate().find(|(_, entry)| !own(&entry.id)) {
            return Err(fail(&format!("ids[{index}].id"), format!("{:?} does not match the row's prefixes", entry.id)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Catalog, families, family_of};
    use super::*;

    fn file_with(rows: Vec<serde_json::Value>) -> String {
        serde_json::json!({ "families": rows }).to_string()
    }

    fn builtin_row(key: &str) -> serde_json::Value {
        serde_json::to_value(families().iter().find(|f| f.key == key).unwrap()).unwrap()
    }

    #[test]
    fn the_builtin_catalog_round_trips_through_its_own_file_format() {
        let text = serde_json::to_string(&Catalog::builtin().to_file()).unwrap();
        assert_eq!(CatalogFile::parse(&text).unwrap().families, families());
    }

    #[test]
    fn a_file_row_replaces_the_row_with_its_key_and_a_new_row_is_added() {
        let mut pro = builtin_row("seedream-5.0-pro");
        pro["references"]["max"] = 12.into();
        let mut six = builtin_row("seedream-5.0-pro");
        six["key"] = "seedream-6.0".into();
        six["name"] = "Seedream 6.0".into();
        six["model_id"] = "dola-seedream-6-0-270101".into();
        six["prefixes"] = serde_json::json!(["seedream-6-0"]);
        six["aliases"] = serde_json::json!([]);
        six["ids"] = serde_json::json!([]);
        six["recommended"] = false.into();
        let catalog = Catalog::with_file(&file_with(vec![pro, six])).unwrap();
        assert_eq!(catalog.families().len(), families().len() + 1);
        assert_eq!(catalog.family_of("dola-seedream-5-0-pro-260628").unwrap().references.max, 12);
        assert_eq!(catalog.family_of("seedream-6-0-270101").unwrap().name, "Seedream 6.0");
        assert!(family_of("seedream-6-0-270101").is_none(), "the built-in catalog is unchanged");
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_row_and_the_field() {
        let refused = |rows: Vec<serde_json::Value>| Catalog::with_file(&file_with(rows)).unwrap_err().to_string();
        let mut missing = builtin_row("seedream-4.0");
        missing.as_object_mut().unwrap().remove("stream");
        assert_eq!(
            refused(vec![builtin_row("seedream-4.5"), missing]),
            "families[1] (seedream-4.0): stream: missing field `stream`"
        );
        let mut wrong_type = builtin_row("seedream-4.0");
        wrong_type["references"] = serde_json::json!({"min": 0, "max": "fourteen", "single_string": false});
        assert!(refused(vec![wrong_type]).starts_with("families[0] (seedream-4.0): references: invalid type"));
        let mut typo = builtin_row("seedream-4.0");
        typo["streem"] = true.into();
        assert!(refused(vec![typo]).starts_with("families[0] (seedream-4.0): streem: unknown field `streem`"));
        let mut backwards = builtin_row("seedream-4.0");
        backwards["references"]["min"] = 20.into();
        assert_eq!(
            refused(vec![backwards]),
            "families[0] (seedream-4.0): references.min: must not exceed references.max"
        );
        let mut foreign = builtin_row("seedream-4.0");
        foreign["ids"][0]["id"] = "dola-seedream-5-0-pro-260628".into();
        assert!(refused(vec![foreign]).starts_with("families[0] (seedream-4.0): ids[0].id:"));
        assert!(Catalog::with_file("[1, 2]").unwrap_err().to_string().starts_with("the catalog file is not"));
    }

    #[test]
    fn a_file_row_may_state_a_price_and_a_bad_price_is_refused_by_field() {
        assert!(families().iter().all(|f| f.price.is_none()), "the API reference states no prices");
        let mut priced = builtin_row("seedream-4.0");
        priced["price"] = serde_json::json!({"amount": 0.2, "currency": "CNY", "as_of": "2026-12-01"});
        let catalog = Catalog::with_file(&file_with(vec![priced.clone()])).unwrap();
        let price = catalog.by_key("seedream-4.0").unwrap().price.clone().unwrap();
        assert_eq!((price.amount, price.currency.as_str(), price.as_of.as_str()), (0.2, "CNY", "2026-12-01"));
        let text = serde_json::to_string(&catalog.to_file()).unwrap();
        assert_eq!(CatalogFile::parse(&text).unwrap().families, catalog.families());
        let refused = |row: serde_json::Value| Catalog::with_file(&file_with(vec![row])).unwrap_err().to_string();
        let mut negative = priced.clone();
        negative["price"]["amount"] = (-1.0).into();
        assert!(refused(negative).starts_with("families[0] (seedream-4.0): price.amount:"));
        let mut nameless = priced.clone();
        nameless["price"]["currency"] = " ".into();
        assert!(refused(nameless).starts_with("families[0] (seedream-4.0): price.currency:"));
        let mut incomplete = priced;
        incomplete["price"].as_object_mut().unwrap().remove("as_of");
        assert!(refused(incomplete).contains("missing field `as_of`"));
    }
}
