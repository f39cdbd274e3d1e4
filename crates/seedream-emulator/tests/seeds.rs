//! Every request example of the seed pages (the shared `tests/fixtures/requests`) is accepted on both base
//! paths with the documented response shape, and its image links serve decodable JPEGs of that size.

mod common;

use common::*;
use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

/// (fixture, images expected, size expected, whether items carry `size`)
const SEEDS: [(&str, usize, (u16, u16), bool); 7] = [
    ("seed000-seedream45-group-stream.json", 3, (2048, 2048), true),
    ("seed001-seedream40-multi-reference.json", 3, (2048, 2048), true),
    ("seed002-seededit30-i2i.json", 1, (1024, 1024), false),
    ("seed003-seedream45-single.json", 1, (2048, 2048), true),
    ("seed004-seededit30-i2i.json", 1, (1024, 1024), false),
    ("spec-seedream30-t2i.json", 1, (1024, 1024), false),
    ("spec-seedream40-text-to-image.json", 1, (2048, 2048), true),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seed_request_gets_the_documented_response_on_both_base_paths() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    for (name, count, (width, height), sized) in SEEDS {
        let request = fixture_json(&format!("requests/{name}"));
        for (base, relay) in [(emulator.base_url(), true), (emulator.ark_base_url(), false)] {
            let answer = post_json(&client, &format!("{base}/images/generations"), &request, &[]).await;
            assert_eq!(answer.status, 200, "{name}: {}", String::from_utf8_lossy(&answer.body));
            assert!(answer.header("x-request-id").is_some_and(|id| id.len() > 10));
            let (items, usage) = if request["stream"] == true {
                assert_eq!(answer.header("content-type"), Some("text/event-stream; charset=utf-8"));
                stream_items(name, &answer.body, &request)
            } else {
                assert!(answer.header("content-type").unwrap().starts_with("application/json"));
                let body = answer.json();
                assert_eq!(body["model"], request["model"], "{name}");
                assert!(body["created"].as_i64().unwrap() > 1_700_000_000);
                if relay {
                    for field in
                        ["prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details"]
                    {
                        assert!(body["usage"].get(field).is_some(), "{name}: relay usage lacks {field}");
                    }
                } else {
                    assert!(body["usage"].get("prompt_tokens").is_none(), "{name}: Ark usage is relay-shaped");
                }
                (body["data"].as_array().unwrap().clone(), body["usage"].clone())
            };
            assert_eq!(items.len(), count, "{name}");
            let tokens = count as u64 * u64::from(width) * u64::from(height) / 256;
            assert_eq!(usage["generated_images"], count as u64, "{name}");
            assert_eq!(usage["output_tokens"], tokens, "{name}");
            assert_eq!(usage["total_tokens"], tokens, "{name}");
            for item in &items {
                let url = item["url"].as_str().unwrap_or_else(|| panic!("{name}: no url in {item}"));
                assert!(url.starts_with(&format!("{}/files/", emulator.origin())), "{url}");
                assert!(url.contains("X-Tos-Signature=") && url.contains("X-Tos-Expires=86400"), "{url}");
                assert_eq!(item.get("size").is_some(), sized, "{name}: {item}");
                if sized {
                    assert_eq!(item["size"], format!("{width}x{height}"));
                }
            }
            // One download per request is enough to prove the links work.
            let image = get(&client, items[0]["url"].as_str().unwrap()).await;
            assert_eq!(image.status, 200);
            assert_eq!(image.header("content-type"), Some("image/jpeg"));
            let (_, dims) = seedream_types::image::read_dimensions(&image.body).unwrap();
            assert_eq!((dims.width, dims.height), (u32::from(width), u32::from(height)), "{name}");
            // A full decode by an independent decoder (slow in debug builds: once per size).
            if relay && matches!(name, "seed002-seededit30-i2i.json" | "seed003-seedream45-single.json") {
                assert_eq!(decode_jpeg(&image.body).0, width);
            }
        }
    }
    emulator.shutdown().await;
}

/// The data of a stream's image events (in order) and the usage of its `completed` event.
fn stream_items(name: &str, body: &[u8], request: &Value) -> (Vec<Value>, Value) {
    let events = parse_sse(body);
    let last = events.last().unwrap();
    assert_eq!((last.event.as_deref(), last.data.as_str()), (None, "[DONE]"), "{name}");
    let completed = &events[events.len() - 2];
    assert_eq!(completed.event.as_deref(), Some("image_generation.completed"));
    let completed: Value = serde_json::from_str(&completed.data).unwrap();
    let mut items = Vec::new();
    for (index, event) in events[..events.len() - 2].iter().enumerate() {
        assert_eq!(event.event.as_deref(), Some("image_generation.partial_succeeded"), "{name}");
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["type"], "image_generation.partial_succeeded");
        assert_eq!(data["image_index"], index as u64);
        assert_eq!(data["model"], request["model"]);
        items.push(data);
    }
    (items, completed["usage"].clone())
}

#[tokio::test]
async fn the_seed_edit_form_is_judged_like_the_service_and_accepted_once_its_size_is_valid() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let form = fixture_json("edits/seed000-form.json");
    let field = |name: &str| form[name].as_str().unwrap().to_owned();
    let image = jpeg_encoder_png_stand_in();
    let send_form = |size: String| {
        let text = [
            ("model", field("model")),
            ("prompt", field("prompt")),
            ("n", field("n")),
            ("size", size),
            ("response_format", field("response_format")),
        ];
        let text: Vec<(&str, &str)> = text.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (content_type, body) = multipart(&text, &[("image", "otter.jpg", &image)]);
        let request = http::Request::post(format!("{}/images/edits", emulator.base_url()))
            .header("content-type", content_type)
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .unwrap();
        send(&client, request)
    };
    let rejected = send_form(field("size")).await;
    assert_eq!(rejected.status, 400);
    let (code, param, kind) = rejected.error();
    assert_eq!((code.as_str(), kind.as_str()), ("InvalidParameter", "BadRequest"));
    assert_eq!(param, form["expected_invalid_fields"][0]);
    let accepted = send_form("2048x2048".into()).await;
    assert_eq!(accepted.status, 200, "{}", String::from_utf8_lossy(&accepted.body));
    let body = accepted.json();
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["size"], "2048x2048");
    emulator.shutdown().await;
}

/// The page's uploaded file stands in as a JPEG from an independent encoder.
fn jpeg_encoder_png_stand_in() -> Vec<u8> {
    let mut out = Vec::new();
    let pixels: Vec<u8> = (0..64 * 48).flat_map(|i| [(i % 256) as u8, 90, 200]).collect();
    jpeg_encoder::Encoder::new(&mut out, 80).encode(&pixels, 64, 48, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}
