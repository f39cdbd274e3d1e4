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

#[tokio::test]
async fn every_answer_says_it_is_synthetic() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.base_url());
    let request = json!({"model": "doubao-seedream-4-0-250828", "prompt": "a cat", "response_format": "url"});
    let answer = post_json(&client, &url, &request, &[]).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.header(seedream_emulator::SYNTHETIC_HEADER), Some("true"));
    let link = answer.json()["data"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(get(&client, &link).await.header("x-emulator-synthetic"), Some("true"));
    let refused = post_json(&client, &url, &json!({"prompt": "no model"}), &[]).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("x-emulator-synthetic"), Some("true"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_client_request_id_is_echoed_on_answers_and_errors() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.base_url());
    let named = [("X-Client-Request-Id", "20261203141502a8Xk2P0qLm4ZbT7cW1nRy")];
    let request = json!({"model": "doubao-seedream-4-0-250828", "prompt": "a cat"});
    let answer = post_json(&client, &url, &request, &named).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.header(seedream_emulator::CLIENT_REQUEST_ID_HEADER), Some(named[0].1));
    let refused = post_json(&client, &url, &json!({"prompt": "no model"}), &named).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("x-client-request-id"), Some(named[0].1));
    let unnamed = post_json(&client, &url, &request, &[]).await;
    assert_eq!(unnamed.header("x-client-request-id"), None, "nothing to echo");
    emulator.shutdown().await;
}
