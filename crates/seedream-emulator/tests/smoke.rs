//! The basics other crates rely on: start, base URLs, one generation, shutdown.

mod common;

use common::*;
use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

#[tokio::test]
async fn starts_generates_and_shuts_down() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let port = emulator.addr().port();
    assert_eq!(emulator.base_url(), format!("http://127.0.0.1:{port}/v1"));
    assert_eq!(emulator.ark_base_url(), format!("http://127.0.0.1:{port}/api/v3"));
    assert!(emulator.certificate_pem().is_none());
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let answer =
        post_json(&client, &url, &json!({"model": "doubao-seedream-4-0-250828", "prompt": "a cat"}), &[]).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let body = answer.json();
    assert_eq!(body["data"][0]["size"], "2048x2048");
    assert_eq!(body["usage"]["generated_images"], 1);
    assert_eq!(body["usage"]["output_tokens"], 2048 * 2048 / 256);
    drop(client);
    tokio::time::timeout(TIMEOUT, emulator.shutdown()).await.expect("shutdown hung");
}
