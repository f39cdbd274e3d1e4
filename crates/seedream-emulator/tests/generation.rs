//! Generated images: real JPEGs of the requested size, deterministic, the same bytes by link and by
//! base64; group counts; links that expire; streams in the spec's exact shape; the per-key
//! images-per-minute limit; per-image delays.

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

const V40: &str = "doubao-seedream-4-0-250828";

fn b64_image(item: &Value) -> Vec<u8> {
    STANDARD.decode(item["b64_json"].as_str().expect("b64_json")).unwrap()
}

#[tokio::test]
async fn images_are_real_deterministic_jpegs_and_links_serve_the_b64_bytes() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let request = json!({"model": V40, "prompt": "a red fox", "size": "1280x720", "response_format": "b64_json"});
    let first = post_json(&client, &url, &request, &[]).await.json();
    let second = post_json(&client, &url, &request, &[]).await.json();
    let bytes = b64_image(&first["data"][0]);
    assert_eq!(bytes, b64_image(&second["data"][0]), "same request, same bytes");
    assert_eq!(first["data"][0]["size"], "1280x720");
    let (width, height, pixels) = decode_jpeg(&bytes);
    assert_eq!((width, height), (1280, 720));
    assert!(pixels.iter().any(|&p| p != pixels[0]), "not a blank image");
    // Another prompt, another picture.
    let other = post_json(
        &client,
        &url,
        &json!({"model": V40, "prompt": "a blue fox", "size": "1280x720",
                                                  "response_format": "b64_json"}),
        &[],
    )
    .await
    .json();
    assert_ne!(b64_image(&other["data"][0]), bytes);
    // The link of the same request serves the same bytes.
    let linked = post_json(&client, &url, &json!({"model": V40, "prompt": "a red fox", "size": "1280x720"}), &[]).await;
    let link = linked.json()["data"][0]["url"].as_str().unwrap().to_owned();
    let download = get(&client, &link).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, bytes);
    // Tampered and unknown links.
    let tampered = link.replace("X-Tos-Signature=", "X-Tos-Signature=0");
    let answer = get(&client, &tampered).await;
    assert_eq!((answer.status.as_u16(), answer.error().2.as_str()), (403, "Forbidden"));
    let answer = get(&client, &format!("{}/files/0123.jpeg?X-Tos-Signature=1", emulator.origin())).await;
    assert_eq!((answer.status.as_u16(), answer.error().2.as_str()), (404, "NotFound"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn links_expire_after_the_configured_time() {
    let config = EmulatorConfig { url_ttl: Duration::from_millis(1000), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.base_url());
    let answer = post_json(&client, &url, &json!({"model": V40, "prompt": "p", "size": "1K"}), &[]).await;
    let link = answer.json()["data"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(get(&client, &link).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = get(&client, &link).await;
    assert_eq!(expired.status, 403);
    assert_eq!(expired.error().0, "AccessDenied");
    emulator.shutdown().await;
}

#[tokio::test]
async fn groups_make_min_of_asked_and_fifteen_minus_references() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let count = |body: Value| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let answer = post_json(&client, &url, &body, &[]).await;
            assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
            answer.json()["data"].as_array().unwrap().len()
        }
    };
    let auto = |extra: Value| {
        let mut body = json!({"model": V40, "prompt": "p", "size": "1K", "sequential_image_generation": "auto"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    assert_eq!(count(auto(json!({"sequential_image_generation_options": {"max_images": 4}}))).await, 4);
    assert_eq!(count(auto(json!({}))).await, 15);
    let refs: Vec<String> = (0..12).map(|i| format!("https://a/{i}.png")).collect();
    assert_eq!(count(auto(json!({"image": refs}))).await, 3);
    assert_eq!(count(auto(json!({"n": "2"}))).await, 2);
    assert_eq!(count(json!({"model": V40, "prompt": "p", "size": "1K", "n": 3})).await, 3);
    assert_eq!(count(json!({"model": V40, "prompt": "p", "size": "1K"})).await, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn presets_and_adaptive_follow_the_input_image() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let size_of = |body: Value| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let answer = post_json(&client, &url, &body, &[]).await;
            assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
            let json = answer.json();
            let item = &json["data"][0];
            match item.get("size") {
                Some(size) => size.as_str().unwrap().to_owned(),
                None => {
                    let link = item["url"].as_str().unwrap().to_owned();
                    let image = get(&client, &link).await.body;
                    let (_, dims) = seedream_types::image::read_dimensions(&image).unwrap();
                    dims.to_string()
                }
            }
        }
    };
    let wide = jpeg_data_url(160, 90);
    assert_eq!(size_of(json!({"model": V40, "prompt": "p", "image": wide, "size": "2K"})).await, "2560x1440");
    let tall = jpeg_data_url(600, 800);
    let edit = json!({"model": "doubao-seededit-3-0-i2i-250628", "prompt": "p", "image": tall, "size": "adaptive"});
    assert_eq!(size_of(edit).await, "864x1152");
    emulator.shutdown().await;
}

#[tokio::test]
async fn edits_generate_like_generations_with_their_images() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let image = seedream_emulator::synthetic_jpeg(400, 300, 3, false).unwrap();
    let (content_type, body) = multipart(
        &[("model", V40), ("prompt", "make it night"), ("n", "2"), ("size", "2K"), ("response_format", "b64_json")],
        &[("image", "a.jpg", &image), ("image", "b.jpg", &image)],
    );
    let request = http::Request::post(format!("{}/images/edits", emulator.base_url()))
        .header("content-type", content_type)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let answer = send(&client, request).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let json = answer.json();
    let data = json["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    // 2K for a 4:3 input is the table's 4:3 size.
    assert_eq!(data[0]["size"], "2304x1728");
    assert_eq!(seedream_types::image::read_dimensions(&b64_image(&data[1])).unwrap().1.to_string(), "2304x1728");
    assert_eq!(json["usage"]["generated_images"], 2);
    emulator.shutdown().await;
}

/// Posts an edit form of 4.0 with one image; the answer.
async fn edit_form(emulator: &seedream_emulator::EmulatorHandle, text: &[(&str, &str)]) -> Answer {
    let image = seedream_emulator::synthetic_jpeg(400, 300, 3, false).unwrap();
    let (content_type, body) = multipart(text, &[("image", "a.jpg", &image)]);
    let request = http::Request::post(format!("{}/images/edits", emulator.base_url()))
        .header("content-type", content_type)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    send(&client(), request).await
}

#[tokio::test]
async fn edit_forms_make_groups_from_json_text_and_from_brackets() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let base = [("model", V40), ("prompt", "a comic strip"), ("size", "1K")];
    let forms: [&[(&str, &str)]; 2] = [
        &[("sequential_image_generation", "auto"), ("sequential_image_generation_options", r#"{"max_images":3}"#)],
        &[
            ("sequential_image_generation", "auto"),
            ("sequential_image_generation_options[max_images]", "3"),
            ("optimize_prompt_options[mode]", "fast"),
        ],
    ];
    for form in forms {
        let answer = edit_form(&emulator, &[&base[..], form].concat()).await;
        assert_eq!(answer.status, 200, "{form:?}: {}", String::from_utf8_lossy(&answer.body));
        let json = answer.json();
        assert_eq!(json["data"].as_array().unwrap().len(), 3, "{form:?}: a group of 3, as generations makes");
        assert_eq!(json["usage"]["generated_images"], 3);
    }
    // Wrong types are refused under the field's name, as the JSON path refuses them.
    for (form, field) in [
        (&[("sequential_image_generation_options[max_images]", "many")][..], "sequential_image_generation_options"),
        (
            &[("sequential_image_generation_options", "{\"max_images\":\"x\"}")][..],
            "sequential_image_generation_options",
        ),
        (&[("layer_decomposition", "maybe")][..], "layer_decomposition"),
        (&[("tools[0]", "web_search")][..], "tools"),
        (
            &[("sequential_image_generation_options[max_images]", "40"), ("sequential_image_generation", "auto")][..],
            "sequential_image_generation_options.max_images",
        ),
    ] {
        let answer = edit_form(&emulator, &[&base[..], form].concat()).await;
        assert_eq!(answer.status, 400, "{form:?}");
        let (_, param, _) = answer.error();
        assert!(param.starts_with(field), "{form:?}: param {param:?}: {}", String::from_utf8_lossy(&answer.body));
    }
    let malformed = edit_form(&emulator, &[&base[..], &[("tools[0", "x")]].concat()).await;
    assert_eq!(malformed.status, 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn streams_have_the_spec_shape_and_one_event_per_image() {
    let config = EmulatorConfig { image_delay: Duration::from_millis(100), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let body = json!({"model": V40, "prompt": "p", "size": "1K", "stream": true, "sequential_image_generation": "auto",
                      "sequential_image_generation_options": {"max_images": 3}, "response_format": "b64_json"});
    let started = Instant::now();
    let answer = post_json(&client, &url, &body, &[("x-emulator-fault", "moderate;images=1")]).await;
    assert!(started.elapsed() >= Duration::from_millis(300), "a delay per image");
    assert_eq!(answer.status, 200);
    let events = parse_sse(&answer.body);
    let names: Vec<_> = events.iter().map(|e| e.event.as_deref()).collect();
    assert_eq!(
        names,
        [
            Some("image_generation.partial_succeeded"),
            Some("image_generation.partial_failed"),
            Some("image_generation.partial_succeeded"),
            Some("image_generation.completed"),
            None
        ]
    );
    assert_eq!(events[4].data, "[DONE]");
    // Field order and content as the spec shows them.
    let first: Value = serde_json::from_str(&events[0].data).unwrap();
    let keys: Vec<_> = first.as_object().unwrap().keys().cloned().collect();
    let mut sorted = ["type", "model", "created", "image_index", "b64_json", "size"].map(String::from).to_vec();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        events[0].data.starts_with(r#"{"type":"image_generation.partial_succeeded","model":"#),
        "{}",
        events[0].data
    );
    let failed: Value = serde_json::from_str(&events[1].data).unwrap();
    assert_eq!(failed["image_index"], 1);
    assert_eq!(failed["error"]["code"], "OutputImageSensitiveContentDetected");
    let completed: Value = serde_json::from_str(&events[3].data).unwrap();
    assert_eq!(
        completed["usage"],
        json!({"generated_images": 2, "output_tokens": 2 * 1024 * 1024 / 256,
                                           "total_tokens": 2 * 1024 * 1024 / 256})
    );
    // Every data line parses with the shared stream model.
    for event in &events[..4] {
        let parsed = seedream_types::StreamEvent::from_json(&event.data).unwrap();
        assert_eq!(Some(parsed.event_type().as_ref()), event.event.as_deref());
    }
    // The spec's own example has the same framing.
    let spec = fixture_bytes("stream/spec-group.sse");
    let spec_names: Vec<_> = parse_sse(&spec).into_iter().map(|e| e.event).collect();
    assert_eq!(spec_names.len(), 4);
    emulator.shutdown().await;
}

#[tokio::test]
async fn images_per_minute_are_limited_per_key() {
    let config = EmulatorConfig {
        images_per_minute: Some(4),
        api_keys: vec!["k1".into(), "k2".into()],
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let body = json!({"model": V40, "prompt": "p", "size": "1K", "n": 3});
    let k1 = [("authorization", "Bearer k1")];
    assert_eq!(post_json(&client, &url, &body, &k1).await.status, 200);
    let limited = post_json(&client, &url, &body, &k1).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.error().0, "ModelAccountIpmRateLimitExceeded");
    assert_eq!(limited.error().2, "TooManyRequests");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(post_json(&client, &url, &body, &[("authorization", "Bearer k2")]).await.status, 200);
    let one = json!({"model": V40, "prompt": "p", "size": "1K"});
    assert_eq!(post_json(&client, &url, &one, &k1).await.status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn plain_requests_wait_the_image_delay_per_image() {
    let config = EmulatorConfig { image_delay: Duration::from_millis(150), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.base_url());
    let started = Instant::now();
    let answer = post_json(&client, &url, &json!({"model": V40, "prompt": "p", "size": "1K", "n": 2}), &[]).await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(emulator.stats().images_generated, 2);
    emulator.shutdown().await;
}
