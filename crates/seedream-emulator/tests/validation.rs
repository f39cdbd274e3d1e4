//! Each rule family of the seedream-types validation gets its 400 with the right code and `param`;
//! malformed bodies, wrong content types, oversized bodies, auth and unknown routes get the documented
//! error shape, never a dropped connection.

mod common;

use common::*;
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use serde_json::{Value, json};

const V40: &str = "doubao-seedream-4-0-250828";
const V45: &str = "doubao-seedream-4-5-251128";
const EDIT: &str = "doubao-seededit-3-0-i2i-250628";
const T2I: &str = "doubao-seedream-3-0-t2i-250415";

async fn expect_400(emulator: &EmulatorHandle, client: &HttpClient, body: Value, code: &str, param: &str) -> String {
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let answer = post_json(client, &url, &body, &[]).await;
    assert_eq!(answer.status, 400, "{body}: {}", String::from_utf8_lossy(&answer.body));
    let (got_code, got_param, kind) = answer.error();
    assert_eq!((got_code.as_str(), got_param.as_str(), kind.as_str()), (code, param, "BadRequest"), "{body}");
    answer.json()["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_rule_family_gets_its_400_with_the_field_in_param() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let c = &client;
    let e = &emulator;
    // Required fields.
    expect_400(e, c, json!({"prompt": "p"}), "MissingParameter", "model").await;
    expect_400(e, c, json!({"model": V40}), "MissingParameter", "prompt").await;
    expect_400(e, c, json!({"model": V40, "prompt": "  "}), "MissingParameter", "prompt").await;
    expect_400(e, c, json!({"model": EDIT, "prompt": "p", "size": "adaptive"}), "MissingParameter", "image").await;
    // A missing field is named first, in the service's sentence; the others are listed after it.
    let message = expect_400(e, c, json!({"model": V45, "size": "1K"}), "MissingParameter", "prompt").await;
    assert!(message.starts_with("The parameter `prompt` specified in the request is not valid: "), "{message}");
    assert!(message.contains("Also not valid: size:"), "{message}");
    // Size per family.
    expect_400(e, c, json!({"model": V45, "prompt": "p", "size": "1K"}), "InvalidParameter", "size").await;
    expect_400(e, c, json!({"model": V40, "prompt": "p", "size": "100x100"}), "InvalidParameter", "size").await;
    expect_400(e, c, json!({"model": V40, "prompt": "p", "size": "big"}), "InvalidParameter", "size").await;
    expect_400(e, c, json!({"model": T2I, "prompt": "p", "size": "2K"}), "InvalidParameter", "size").await;
    // Input images: form, format word, decodability, dimensions, count.
    expect_400(e, c, json!({"model": V40, "prompt": "p", "image": "ftp://x"}), "InvalidParameter", "image").await;
    let upper = "data:image/PNG;base64,AAAA";
    expect_400(e, c, json!({"model": V40, "prompt": "p", "image": upper}), "InvalidParameter", "image").await;
    let thin = jpeg_data_url(10, 100);
    let images = json!(["https://a/1.png", thin]);
    expect_400(e, c, json!({"model": V40, "prompt": "p", "image": images}), "InvalidParameter", "image[1]").await;
    let wide = jpeg_data_url(400, 100);
    expect_400(e, c, json!({"model": EDIT, "prompt": "p", "image": wide}), "InvalidParameter", "image").await;
    let fifteen: Vec<String> = (0..15).map(|i| format!("https://a/{i}.png")).collect();
    expect_400(e, c, json!({"model": V40, "prompt": "p", "image": fifteen}), "InvalidParameter", "image").await;
    expect_400(e, c, json!({"model": T2I, "prompt": "p", "image": "https://a/b.png"}), "InvalidParameter", "image")
        .await;
    // Group counts.
    let refs: Vec<String> = (0..5).map(|i| format!("https://a/{i}.png")).collect();
    let group = json!({"model": V40, "prompt": "p", "image": refs, "sequential_image_generation": "auto",
                       "sequential_image_generation_options": {"max_images": 11}});
    expect_400(e, c, group, "InvalidParameter", "sequential_image_generation_options.max_images").await;
    let zero = json!({"model": V40, "prompt": "p", "sequential_image_generation_options": {"max_images": 0}});
    expect_400(e, c, zero, "InvalidParameter", "sequential_image_generation_options.max_images").await;
    expect_400(e, c, json!({"model": V40, "prompt": "p", "n": "three"}), "InvalidParameter", "n").await;
    let mode = json!({"model": V40, "prompt": "p", "sequential_image_generation": "sometimes"});
    expect_400(e, c, mode, "InvalidParameter", "sequential_image_generation").await;
    // Family-only fields and enumerations.
    expect_400(e, c, json!({"model": V40, "prompt": "p", "seed": 1}), "InvalidParameter", "seed").await;
    expect_400(e, c, json!({"model": T2I, "prompt": "p", "seed": -2}), "InvalidParameter", "seed").await;
    expect_400(
        e,
        c,
        json!({"model": T2I, "prompt": "p", "guidance_scale": 10.5}),
        "InvalidParameter",
        "guidance_scale",
    )
    .await;
    expect_400(e, c, json!({"model": T2I, "prompt": "p", "stream": true}), "InvalidParameter", "stream").await;
    let fast = json!({"model": V45, "prompt": "p", "optimize_prompt_options": {"mode": "fast"}});
    expect_400(e, c, fast, "InvalidParameter", "optimize_prompt_options.mode").await;
    expect_400(
        e,
        c,
        json!({"model": V40, "prompt": "p", "response_format": "png"}),
        "InvalidParameter",
        "response_format",
    )
    .await;
    // Wrong JSON types name their field.
    expect_400(e, c, json!({"model": V40, "prompt": "p", "stream": "yes"}), "InvalidParameter", "stream").await;
    expect_400(e, c, json!({"model": 4, "prompt": "p"}), "InvalidParameter", "model").await;
    expect_400(e, c, json!([1, 2]), "InvalidParameter", "").await;
    // Unknown models get only the common rules; unknown fields are accepted.
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let lenient = json!({"model": "ep-20250101-x", "prompt": "p", "size": "whatever", "output_format": "png"});
    assert_eq!(post_json(c, &url, &lenient, &[]).await.status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_and_content_types_get_the_error_shape() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.base_url());
    for body in [&b"{\"model\": "[..], b"", b"\xff\xfe", b"null", b"\"text\""] {
        let answer = send(&client, post(&url, body.to_vec(), &[])).await;
        assert_eq!(answer.status, 400, "{body:?}");
        assert_eq!(answer.error().0, "InvalidParameter");
    }
    let form = http::Request::post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"model=x&prompt=y")))
        .unwrap();
    let answer = send(&client, form).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error().1, "Content-Type");
    // Edits want multipart.
    let edit_url = format!("{}/images/edits", emulator.base_url());
    let answer = post_json(&client, &edit_url, &json!({"model": V40, "prompt": "p"}), &[]).await;
    assert_eq!((answer.status.as_u16(), answer.error().1.as_str()), (400, "Content-Type"));
    let broken = http::Request::post(&edit_url)
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"--xyz\r\nnot a header\r\n\r\n")))
        .unwrap();
    assert_eq!(send(&client, broken).await.status, 400);
    // An edit without its image, and one whose image is not an image.
    let (content_type, body) = multipart(&[("model", V40), ("prompt", "p")], &[]);
    let answer = send(&client, multipart_request(&edit_url, content_type, body)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.error().0, "MissingParameter");
    assert_eq!(answer.error().1, "image");
    let (content_type, body) = multipart(&[("model", V40), ("prompt", "p")], &[("image", "a.png", b"not an image")]);
    let answer = send(&client, multipart_request(&edit_url, content_type, body)).await;
    assert_eq!((answer.status.as_u16(), answer.error().1.as_str()), (400, "image"));
    let (content_type, body) = multipart(&[("model", V40), ("prompt", "p"), ("watermark", "maybe")], &[]);
    let answer = send(&client, multipart_request(&edit_url, content_type, body)).await;
    assert_eq!((answer.status.as_u16(), answer.error().1.as_str()), (400, "watermark"));
    emulator.shutdown().await;
}

fn multipart_request(
    url: &str,
    content_type: String,
    body: Vec<u8>,
) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    http::Request::post(url)
        .header("content-type", content_type)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap()
}

#[tokio::test]
async fn oversized_bodies_get_413_with_the_error_json() {
    let config = EmulatorConfig { max_body_bytes: 1000, ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.base_url());
    let big = json!({"model": V40, "prompt": "x".repeat(2000)});
    let answer = post_json(&client, &url, &big, &[]).await;
    assert_eq!(answer.status, 413);
    let (code, _, kind) = answer.error();
    assert_eq!((code.as_str(), kind.as_str()), ("InvalidParameter", "RequestEntityTooLarge"));
    // Without a content-length (chunked), the limit still holds.
    let chunks = futures_util::stream::iter(
        (0..20).map(|_| Ok::<_, std::convert::Infallible>(http_body::Frame::data(bytes::Bytes::from(vec![b' '; 100])))),
    );
    let streamed = http::Request::post(&url)
        .header("content-type", "application/json")
        .body(http_body_util::StreamBody::new(chunks))
        .unwrap();
    let client2 = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(TIMEOUT, client2.request(streamed)).await.unwrap().unwrap();
    assert_eq!(response.status(), 413);
    emulator.shutdown().await;
}

#[tokio::test]
async fn auth_requires_a_configured_bearer_key_and_never_shows_it() {
    let config = EmulatorConfig { api_keys: vec!["sk-secret-1".into()], ..EmulatorConfig::default() };
    assert!(!format!("{config:?}").contains("sk-secret-1"));
    let emulator = Emulator::start(config).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let body = json!({"model": V40, "prompt": "p"});
    for headers in [&[][..], &[("authorization", "Bearer wrong")][..], &[("authorization", "sk-secret-1")][..]] {
        let answer = post_json(&client, &url, &body, headers).await;
        assert_eq!(answer.status, 401, "{headers:?}");
        let (code, _, kind) = answer.error();
        assert_eq!((code.as_str(), kind.as_str()), ("AuthenticationError", "Unauthorized"));
        assert!(!String::from_utf8_lossy(&answer.body).contains("sk-secret-1"));
    }
    let answer = post_json(&client, &url, &body, &[("authorization", "Bearer sk-secret-1")]).await;
    assert_eq!(answer.status, 200);
    assert!(!format!("{emulator:?}").contains("sk-secret-1"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let answer = get(&client, &format!("{}/v1/embeddings", emulator.origin())).await;
    assert_eq!((answer.status.as_u16(), answer.error().2.as_str()), (404, "NotFound"));
    // The models listing is served (see models_listing), but only to GET.
    assert_eq!(get(&client, &format!("{}/v1/models", emulator.origin())).await.status, 200);
    let answer = post_json(&client, &format!("{}/api/v3/models", emulator.origin()), &json!({}), &[]).await;
    assert_eq!(answer.status, 405);
    let answer = get(&client, &format!("{}/images/generations", emulator.base_url())).await;
    assert_eq!((answer.status.as_u16(), answer.error().2.as_str()), (405, "MethodNotAllowed"));
    let answer = post_json(&client, &format!("{}/api/v3/images/edits", emulator.origin()), &json!({}), &[]).await;
    assert_eq!(answer.status, 404);
    emulator.shutdown().await;
}
