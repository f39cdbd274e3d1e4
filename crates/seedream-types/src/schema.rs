//! JSON Schema of the wire types, as `cargo xtask codegen` writes them to `schema/*.json`.

use crate::{ErrorEnvelope, GenerateRequest, ImagesResponse, StreamEvent};

/// Every schema with the name of its file (without `.json`): `request`, `response`,
/// `stream-event` and `error`.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("request", to_value(schemars::schema_for!(GenerateRequest))),
        ("response", to_value(schemars::schema_for!(ImagesResponse))),
        ("stream-event", to_value(schemars::schema_for!(StreamEvent))),
        ("error", to_value(schemars::schema_for!(ErrorEnvelope))),
    ]
}

/// The schema called `name` (`request`, `response`, `stream-event`, `error`).
pub fn by_name(name: &str) -> Option<serde_json::Value> {
    all().into_iter().find(|(n, _)| *n == name).map(|(_, schema)| schema)
}

fn to_value(schema: schemars::Schema) -> serde_json::Value {
    schema.to_value()
}
