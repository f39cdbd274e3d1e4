//! Reading a generations request from JSON text, with every problem as a field-path violation
//! (wrong JSON types included, which plain deserialization would report one at a time, without a path).

use seedream_types::{GenerateRequest, ValidationError, Violation};
use serde_json::{Map, Value};

/// Why a request text is not a valid request.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestError {
    /// The text is not JSON at all (the parser's message).
    NotJson(String),
    /// JSON, but not a valid request: every violation (and the warnings).
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

/// Parses JSON text into a value, or says why it is not JSON.
pub fn parse_json(text: &str) -> Result<Value, RequestError> {
    serde_json::from_str(text).map_err(|e| RequestError::NotJson(e.to_string()))
}

/// Parses and validates a request. `default_model` fills in a missing `model` (batch lines may leave it out).
pub fn check_text(text: &str, default_model: Option<&str>) -> Result<Checked, RequestError> {
    check_value(parse_json(text)?, default_model)
}

/// Turns JSON into a request and validates it with the seedream-types rules. Fields of the wrong JSON
/// type are violations under their own names (`seed: has the wrong type …`), listed with the rest.
pub fn check_value(value: Value, default_model: Option<&str>) -> Result<Checked, RequestError> {
    let Value::Object(mut object) = value else {
        let violation = violation("(request)", "type", format!("must be a JSON object, not {}", kind_of(&value)));
        return Err(invalid(vec![violation], Vec::new()));
    };
    if let (Some(model), None) = (default_model, object.get("model")) {
        object.insert("model".into(), Value::from(model));
    }
    let mut typed = Vec::new();
    // `model` and `prompt` are required strings; an empty one is reported by validation as missing.
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
        probe.insert("prompt".into(), Value::from("p"));
        probe.insert(name.clone(), field.clone());
        if let Err(error) = serde_json::from_value::<GenerateRequest>(Value::Object(probe)) {
            typed.push(violation(&name, "type", format!("has the wrong type ({error})")));
            object.remove(&name);
        }
    }
    let request: GenerateRequest = match serde_json::from_value(Value::Object(object)) {
        Ok(request) => request,
        Err(error) => {
            typed.push(violation("(request)", "type", error.to_string()));
            return Err(invalid(typed, Vec::new()));
        }
    };
    let typed_fields: Vec<String> = typed.iter().map(|v| v.field.clone()).collect();
    match request.validate() {
        Ok(warnings) if typed.is_empty() => Ok(Checked { request, warnings }),
        Ok(warnings) => Err(invalid(typed, warnings)),
        Err(error) => {
            // A field already reported for its type is not reported again for its placeholder.
            let rest = error.violations.into_iter().filter(|v| !typed_fields.contains(&v.field));
            typed.extend(rest);
            Err(invalid(typed, error.warnings))
        }
    }
}

fn invalid(violations: Vec<Violation>, warnings: Vec<Violation>) -> RequestError {
    RequestError::Invalid(ValidationError { violations, warnings })
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
    use seedream_types::SEEDREAM_4_0;

    fn fields(result: Result<Checked, RequestError>) -> Vec<String> {
        match result {
            Err(RequestError::Invalid(error)) => error.violations.into_iter().map(|v| v.field).collect(),
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
    }

    #[test]
    fn missing_fields_and_non_objects_are_violations_not_parse_errors() {
        assert_eq!(fields(check_text("{}", None)), ["model", "prompt"]);
        assert_eq!(fields(check_text("[1]", None)), ["(request)"]);
        assert!(matches!(check_text("{nope", None), Err(RequestError::NotJson(_))));
    }

    #[test]
    fn a_default_model_fills_a_missing_one() {
        let checked = check_text(r#"{"prompt": "p"}"#, Some(SEEDREAM_4_0)).unwrap();
        assert_eq!(checked.request.model, SEEDREAM_4_0);
    }
}
