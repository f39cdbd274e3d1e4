//! From JSON to a checked request, with every problem as a field-path violation: wrong JSON types
//! included, which plain deserialization would report one at a time and without a path.
//!
//! The command line, the C ABI and Rust callers all read request JSON through here, so the same
//! text gets the same violations everywhere (`{"model": "…", "prompt": 5}` → `prompt: must be a
//! string, not a number`).

use serde_json::{Map, Value};

use crate::request::GenerateRequest;
use crate::validate::{ValidationError, Violation};

/// Why a request text is not a valid request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckError {
    /// The text is not JSON at all (the parser's message).
    #[error("the request is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not a valid request: every violation (and the warnings).
    #[error(transparent)]
    Invalid(ValidationError),
}

/// A request that passed validation, with its warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The request.
    pub request: GenerateRequest,
    /// Advice that does not make it invalid.
    pub warnings: Vec<Violation>,
}

/// Parses and validates a request. `default_model` fills in a missing `model` (batch lines may
/// leave it out).
pub fn check_text(text: &str, default_model: Option<&str>) -> Result<Checked, CheckError> {
    let value = serde_json::from_str(text).map_err(|e| CheckError::NotJson(e.to_string()))?;
    check_value(value, default_model)
}

/// Turns JSON into a request and validates it against its model's catalog row. Fields of the wrong
/// JSON type are violations under their own names (`seed: has the wrong type …`), listed with the
/// rule breaks of the other fields.
pub fn check_value(value: Value, default_model: Option<&str>) -> Result<Checked, CheckError> {
    check_value_with(value, default_model, crate::catalog::Catalog::builtin())
}

/// [`check_value`] by the rows of `catalog` (one extended by a catalog file).
pub fn check_value_with(
    value: Value,
    default_model: Option<&str>,
    catalog: &crate::catalog::Catalog,
) -> Result<Checked, CheckError> {
    let typos = misspelt_fields(&value);
    let (request, mut typed) = parse_value(value, default_model)?;
    let typed_fields: Vec<String> = typed.iter().map(|v| v.field.clone()).collect();
    let with_typos = |mut warnings: Vec<Violation>| {
        warnings.extend(typos.iter().cloned());
        warnings
    };
    match request.validate_for(catalog.family_of(&request.model)) {
        Ok(warnings) if typed.is_empty() => Ok(Checked { request, warnings: with_typos(warnings) }),
        Ok(warnings) => Err(invalid(typed, with_typos(warnings))),
        Err(error) => {
            // A field already reported for its type is not reported again for its placeholder.
            typed.extend(error.violations.into_iter().filter(|v| !typed_fields.contains(&v.field)));
            Err(invalid(typed, with_typos(error.warnings)))
        }
    }
}

/// The request fields this version knows, from the request's own schema (one wire model).
pub fn request_fields() -> &'static [String] {
    static FIELDS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let schema = serde_json::to_value(schemars::schema_for!(GenerateRequest)).unwrap_or_default();
        schema.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default()
    });
    &FIELDS
}

/// A warning for each unknown top-level field one or two edits from a known one (`promt`). Unknown
/// fields are still sent as written: the service may know a field this version does not.
fn misspelt_fields(value: &Value) -> Vec<Violation> {
    let Value::Object(object) = value else { return Vec::new() };
    let known = request_fields();
    object
        .keys()
        .filter(|name| !known.contains(name))
        .filter_map(|name| {
            let near = crate::suggest::closest(name, known.iter().map(String::as_str))?;
            let message = format!("is not a request field: did you mean `{near}`? (sent as written)");
            Some(violation(name, "unknown_field", message))
        })
        .collect()
}

/// Turns JSON into a request without validating it (for `--no-validate`): only wrong JSON types,
/// which cannot be represented, are violations.
pub fn parse_unchecked(value: Value, default_model: Option<&str>) -> Result<GenerateRequest, CheckError> {
    match parse_value(value, default_model)? {
        (request, typed) if typed.is_empty() => Ok(request),
        (_, typed) => Err(invalid(typed, Vec::new())),
    }
}

/// The request, with the wrongly typed fields left out (or set to placeholders), and a violation
/// for each of them.
fn parse_value(value: Value, default_model: Option<&str>) -> Result<(GenerateRequest, Vec<Violation>), CheckError> {
    let Value::Object(mut object) = value else {
        let violation = violation("(request)", "type", format!("must be a JSON object, not {}", kind_of(&value)));
        return Err(invalid(vec![violation], Vec::new()));
    };
    if let (Some(model), None) = (default_model, object.get("model")) {
        object.insert("model".into(), Value::from(model));
    }
    let mut typed = Vec::new();
    // `model` and `prompt` are strings; a missing or empty one is reported by validation.
    for name in ["model", "prompt"] {
        match object.get(name) {
            None => {
                object.insert(name.into(), Value::from(""));
            }
            Some(Value::String(_)) => {}
            Some(other) => {
                typed.push(violation(name, "type", format!("must be a string, not {}", kind_of(other))));
                object.insert(name.into(), Value::from("placeholder"));
            }
        }
    }
    // Every other field on its own, so one wrong type does not hide the others.
    let names: Vec<String> = object.keys().filter(|k| *k != "model" && *k != "prompt").cloned().collect();
    for name in names {
        let Some(field) = object.get(&name) else { continue };
        let mut probe = Map::new();
        probe.insert("model".into(), Value::from("m"));
        probe.insert(name.clone(), field.clone());
        if let Err(error) = serde_json::from_value::<GenerateRequest>(Value::Object(probe)) {
            typed.push(violation(&name, "type", format!("has the wrong type ({error})")));
            object.remove(&name);
        }
    }
    match serde_json::from_value(Value::Object(object)) {
        Ok(request) => Ok((request, typed)),
        Err(error) => {
            typed.push(violation("(request)", "type", error.to_string()));
            Err(invalid(typed, Vec::new()))
        }
    }
}

fn invalid(violations: Vec<Violation>, warnings: Vec<Violation>) -> CheckError {
    CheckError::Invalid(ValidationError { violations, warnings })
}

fn violation(field: &str, code: &'static str, message: String) -> Violation {
    Violation { field: field.to_owned(), code, message }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{SEEDREAM_4_0, SEEDREAM_5_0_PRO};

    fn fields(result: Result<Checked, CheckError>) -> Vec<String> {
        match result {
            Err(CheckError::Invalid(error)) => error.violations.into_iter().map(|v| v.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_passes_with_its_warnings() {
        let long = "word ".repeat(700);
        let text = format!(r#"{{"model": "{SEEDREAM_4_0}", "prompt": "{long}", "size": "2K"}}"#);
        let checked = check_text(&text, None).unwrap();
        assert_eq!(checked.warnings.len(), 1);
        assert_eq!(checked.request.size.unwrap().to_wire(), "2K");
    }

    #[test]
    fn wrong_types_and_rule_breaks_are_all_listed_by_field() {
        let text = r#"{"model": "doubao-seedream-4-5-251128", "prompt": 3, "size": "1K", "seed": "x", "stream": 1}"#;
        assert_eq!(fields(check_text(text, None)), ["prompt", "seed", "stream", "size"]);
        let text = r#"{"model": "doubao-seedream-4-0-250828", "prompt": 5}"#;
        let Err(CheckError::Invalid(error)) = check_text(text, None) else { panic!("not invalid") };
        assert_eq!(error.violations[0].to_string(), "prompt: must be a string, not a number");
    }

    #[test]
    fn missing_fields_and_non_objects_are_violations_not_parse_errors() {
        assert_eq!(fields(check_text("{}", None)), ["model", "prompt"]);
        assert_eq!(fields(check_text("[1]", None)), ["(request)"]);
        assert!(matches!(check_text("{nope", None), Err(CheckError::NotJson(_))));
    }

    #[test]
    fn a_prompt_may_be_left_out_for_layer_decomposition() {
        let text =
            format!(r#"{{"model": "{SEEDREAM_5_0_PRO}", "layer_decomposition": true, "image": "https://a/b.png"}}"#);
        assert!(check_text(&text, None).is_ok());
    }

    #[test]
    fn a_default_model_fills_a_missing_one() {
        let checked = check_text(r#"{"prompt": "p"}"#, Some(SEEDREAM_4_0)).unwrap();
        assert_eq!(checked.request.model, SEEDREAM_4_0);
    }

    #[test]
    fn a_misspelt_field_is_a_warning_naming_the_field_it_is_near() {
        let Err(CheckError::Invalid(error)) = check_text(r#"{"promt": "x"}"#, Some(SEEDREAM_4_0)) else {
            panic!("a missing prompt is invalid")
        };
        assert_eq!(error.violations[0].field, "prompt");
        assert_eq!(error.warnings.len(), 1, "{:?}", error.warnings);
        assert_eq!(error.warnings[0].field, "promt");
        assert!(error.warnings[0].message.contains("did you mean `prompt`?"), "{}", error.warnings[0]);
        let checked = check_text(r#"{"prompt": "x", "sise": "2K", "brand_new_field": 1}"#, Some(SEEDREAM_4_0)).unwrap();
        let warned: Vec<&str> = checked.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(warned, ["sise"]);
        assert_eq!(checked.request.extra.get("sise"), Some(&serde_json::json!("2K")), "still sent");
    }

    #[test]
    fn unchecked_parsing_keeps_rule_breaks_but_not_wrong_types() {
        let request = parse_unchecked(serde_json::json!({"model": SEEDREAM_4_0, "prompt": "p", "size": "9K"}), None);
        assert_eq!(request.unwrap().size.unwrap().to_wire(), "9K");
        assert!(parse_unchecked(serde_json::json!({"model": SEEDREAM_4_0, "seed": "x"}), None).is_err());
    }
}
