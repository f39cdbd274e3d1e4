//! Reading a generations request from JSON text. The check itself (wrong JSON types as field-path
//! violations, then the model's rules) is `seedream_types::check`, shared with the C ABI, so the same
//! text gets the same violations from every front end.

use serde_json::Value;

pub use seedream_types::check::{CheckError as RequestError, Checked, check_value_with, parse_unchecked};

/// Parses JSON text into a value, or says why it is not JSON.
pub fn parse_json(text: &str) -> Result<Value, RequestError> {
    serde_json::from_str(text).map_err(|e| RequestError::NotJson(e.to_string()))
}
