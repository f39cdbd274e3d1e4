//! The bodies captured from the live service and the reference's example response (spec, "Responses"
//! and "Bodies captured from the live service", copied verbatim into `tests/fixtures/`) parse, keep
//! every field on the way back, and expose the 5.0 fields typed.

use std::fs;
use std::path::{Path, PathBuf};

use seedream_types::{ErrorClass, ErrorEnvelope, ImageFormat, ImagesResponse, OutputFormat, ToolType};
use serde_json::Value;

fn fixture(path: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(path);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, text)
}

/// Parses a 200 body and checks that it serializes back to the same JSON value.
fn response(path: &str) -> ImagesResponse {
    let (path, text) = fixture(path);
    let original: Value = serde_json::from_str(&text).unwrap();
    let response = ImagesResponse::from_slice(text.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(serde_json::to_value(&response).unwrap(), original, "{}", path.display());
    response
}

/// Parses a 400 body and checks that it serializes back to the same JSON value.
fn error(path: &str) -> ErrorEnvelope {
    let (path, text) = fixture(path);
    let original: Value = serde_json::from_str(&text).unwrap();
    let envelope: ErrorEnvelope = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(serde_json::to_value(&envelope).unwrap(), original, "{}", path.display());
    envelope
}

#[test]
fn live_pro_200_exposes_output_format_and_input_images() {
    let response = response("responses/live-seedream50-pro.json");
    assert_eq!(response.model.as_deref(), Some("doubao-seedream-5-0-pro-260628"));
    assert_eq!(response.created, Some(1_789_641_090));
    assert!(response.extra.is_empty(), "{:?}", response.extra);
    let images: Vec<_> = response.images().collect();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].output_format, Some(OutputFormat::Jpeg));
    assert_eq!(images[0].stated_format(), Some(ImageFormat::Jpeg));
    assert_eq!(images[0].url.as_deref(), Some("https://example.invalid/redacted"));
    assert_eq!(images[0].dimensions().map(|d| (d.width, d.height)), Some((2048, 2048)));
    assert!(!images[0].is_layer());
    let usage = response.usage.unwrap();
    assert_eq!(usage.input_images, Some(1));
    assert_eq!(usage.generated_images, Some(1));
    assert_eq!((usage.output_tokens, usage.total_tokens), (Some(16384), Some(16384)));
    assert!(usage.tool_usage.is_none() && usage.extra.is_empty());
}

#[test]
fn spec_example_response_keeps_every_item_kind_and_the_tool_fields() {
    let response = response("responses/spec-seedream50-pro-mixed.json");
    assert!(response.extra.is_empty(), "{:?}", response.extra);
    assert_eq!(response.data.len(), 3);
    let first = response.data[0].image().unwrap();
    assert_eq!((first.url.as_deref(), first.output_format.as_ref()), (Some("https://..."), Some(&OutputFormat::Jpeg)));
    let second = response.data[1].image().unwrap();
    assert_eq!((second.b64_json.as_deref(), second.output_format.as_ref()), (Some("..."), None));
    let failed = response.data[2].error().unwrap();
    assert_eq!(failed.code, "OutputImageSensitiveContentDetected");
    assert_eq!(response.errors().map(|(index, _)| index).collect::<Vec<_>>(), [2]);
    let usage = response.usage.unwrap();
    assert_eq!((usage.input_images, usage.generated_images), (Some(1), Some(2)));
    assert_eq!(usage.tool_usage.and_then(|t| t.web_search), Some(1));
    let tools = response.tools.unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].kind, ToolType::WebSearch);
}

#[test]
fn live_400_too_many_references_names_image() {
    let envelope = error("errors/live-400-seedream50-pro-eleven-references.json");
    let body = &envelope.error;
    assert_eq!(body.code, "InvalidParameter");
    assert_eq!(body.param.as_deref(), Some("image"));
    assert_eq!(body.kind.as_deref(), Some("BadRequest"));
    assert!(body.message.contains("cannot exceed 10"), "{}", body.message);
    assert!(body.message.ends_with("Request id: 0217896419710973d763aaa7a5e423f9e5323a8c500bc9f4e944c"));
    assert!(body.extra.is_empty());
    assert_eq!(body.class(Some(400)), ErrorClass::InvalidRequest);
    assert!(!body.class(Some(400)).is_retryable());
}

#[test]
fn live_400_through_a_relay_keeps_its_blank_param_and_type() {
    let envelope = error("errors/live-400-size-below-minimum-relay.json");
    let body = &envelope.error;
    assert_eq!(body.code, "InvalidParameter");
    // The relay blanked them: present and empty, and sent back so.
    assert_eq!((body.param.as_deref(), body.kind.as_deref()), (Some(""), Some("")));
    assert!(body.message.contains("at least 3686400 pixels"), "{}", body.message);
    assert!(!body.class(Some(400)).is_retryable());
}

#[test]
fn every_error_fixture_parses_as_an_error_envelope() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/errors");
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let envelope = error(&format!("errors/{name}"));
        assert!(!envelope.error.code.is_empty() && !envelope.error.message.is_empty(), "{name}");
        count += 1;
    }
    assert!(count >= 2, "error fixtures in {}", dir.display());
}
