//! Every request and response example of the seed pages parses, validates as the service would, and
//! serializes back to an equal JSON value.

use std::fs;
use std::path::{Path, PathBuf};

use seedream_types::{EditRequest, GenerateRequest, ImageCount, ImageFile, ImagesResponse, Size, StreamEvent};
use serde_json::Value;

fn fixtures(kind: &str) -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(kind);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files.into_iter().map(|path| (path.clone(), fs::read_to_string(&path).unwrap())).collect()
}

#[test]
fn seed_requests_parse_validate_and_round_trip() {
    for (path, text) in fixtures("requests") {
        let original: Value = serde_json::from_str(&text).unwrap();
        let request: GenerateRequest = serde_json::from_str(&text).unwrap();
        assert!(request.extra.is_empty(), "{}: unmodelled fields {:?}", path.display(), request.extra.keys());
        if let Err(error) = request.validate() {
            panic!("{} should be valid: {error}", path.display());
        }
        assert_eq!(serde_json::to_value(&request).unwrap(), original, "{}", path.display());
    }
}

#[test]
fn seed_responses_parse_and_round_trip() {
    for (path, text) in fixtures("responses") {
        let original: Value = serde_json::from_str(&text).unwrap();
        let response = ImagesResponse::from_slice(text.as_bytes()).unwrap();
        assert!(!response.data.is_empty(), "{}", path.display());
        assert!(response.extra.is_empty(), "{}: unmodelled fields {:?}", path.display(), response.extra.keys());
        assert_eq!(serde_json::to_value(&response).unwrap(), original, "{}", path.display());
    }
}

#[test]
fn seed_edit_form_validates_as_the_service_would() {
    for (path, text) in fixtures("edits") {
        let form: Value = serde_json::from_str(&text).unwrap();
        let field = |name: &str| form[name].as_str().unwrap_or_default().to_owned();
        // A 64x64 PNG header stands in for the page's uploaded file.
        let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&64u32.to_be_bytes());
        png.extend_from_slice(&64u32.to_be_bytes());
        let mut edit = EditRequest::new(field("model"), field("prompt"), ImageFile::new("otter.png", png));
        edit.n = Some(ImageCount::Text(field("n")));
        edit.size = Some(Size::from_wire(&field("size")));
        let expected: Vec<String> = serde_json::from_value(form["expected_invalid_fields"].clone()).unwrap();
        let got: Vec<String> = match edit.validate() {
            Ok(_) => vec![],
            Err(e) => e.violations.into_iter().map(|v| v.field).collect(),
        };
        assert_eq!(got, expected, "{}", path.display());
        edit.size = Some(Size::from_wire("2K"));
        assert!(edit.validate().is_ok(), "{} with 2K", path.display());
    }
}

#[test]
fn spec_stream_lines_parse_into_their_events() {
    for (path, text) in fixtures("stream") {
        let events: Vec<StreamEvent> = text
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter(|data| *data != seedream_types::stream::DONE_MARKER)
            .map(|data| StreamEvent::from_json(data).unwrap())
            .collect();
        assert!(matches!(events[0], StreamEvent::PartialSucceeded(_)), "{}", path.display());
        assert!(matches!(events[1], StreamEvent::PartialFailed(_)), "{}", path.display());
        assert!(matches!(events[2], StreamEvent::Completed(_)), "{}", path.display());
    }
}

#[test]
fn response_shapes_beyond_the_seeds_parse() {
    let relay_only_tokens = r#"{"created":1,"data":[{"b64_json":"AAAA"}],"usage":{"total_tokens":5,"input_tokens_details":{"x":1}},"id":"abc"}"#;
    let response = ImagesResponse::from_slice(relay_only_tokens.as_bytes()).unwrap();
    assert_eq!(response.extra["id"], "abc");
    assert_eq!(response.usage.unwrap().extra["input_tokens_details"]["x"], 1);
    let empty = ImagesResponse::from_slice(b"{}").unwrap();
    assert!(empty.data.is_empty());
    assert!(ImagesResponse::from_slice(b"").unwrap_err().to_string().contains("not valid JSON"));
}
