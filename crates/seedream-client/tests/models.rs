//! `Client::list_models`: `GET {base}/models` with the key, retried as other calls, read into a
//! `ModelList`; against the recording transport and the emulator.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use seedream_client::testing::{RecordingTransport, Reply};
use seedream_client::{Client, Error, RetryPolicy};
use seedream_types::catalog::families;
use seedream_types::{ModelStatus, SEEDEDIT_3_0_I2I, SEEDREAM_4_0, SEEDREAM_5_0_LITE, TaskType};
use serde_json::json;

fn client(transport: &Arc<RecordingTransport>) -> Client {
    Client::builder()
        .api_key("sk-models")
        .base_url("https://ark.example.test/api/v3")
        .transport(transport.clone())
        .retry(RetryPolicy::default().with_max_attempts(3).with_base_delay(Duration::from_millis(10)))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_listing_is_a_get_with_the_key_retried_and_named() {
    let transport = Arc::new(RecordingTransport::new());
    let body = json!({"object": "list", "data": [
        {"id": "seedream-4-0-20260415", "name": "seedream-4-0", "domain": "ImageGeneration",
         "task_type": ["TextToImage", "ImageToImage"]},
        {"id": "seedream-3-0-t2i-250415", "status": "Retiring", "lifecycle": {"successor": "x"}}]});
    transport
        .push(Reply::json(503, &json!({"error": {"code": "ServerOverloaded", "message": "busy"}})))
        .push(Reply::json(200, &body));
    let (list, meta) = client(&transport).list_models().await.unwrap().into_parts();
    assert_eq!(meta.attempts, 2);
    let sent = transport.requests();
    assert_eq!(sent[0].method, Method::GET);
    assert_eq!(sent[0].uri.to_string(), "https://ark.example.test/api/v3/models");
    assert_eq!(sent[0].header("authorization"), Some("Bearer sk-models"));
    assert!(sent[0].body.is_empty());
    assert_eq!(sent[0].header("x-client-request-id"), sent[1].header("x-client-request-id"));
    assert_eq!(meta.client_request_id.as_deref(), sent[1].header("x-client-request-id"));
    assert_eq!(list.data.len(), 2);
    assert_eq!(list.data[1].status, Some(ModelStatus::Retiring));
    assert_eq!(list.data[1].extra["lifecycle"]["successor"], "x", "unknown fields kept");
}

#[tokio::test]
async fn a_page_that_is_not_a_listing_is_a_decode_error_with_its_text() {
    let transport = Arc::new(RecordingTransport::new());
    transport.push(Reply::status(200).header("content-type", "text/html").body("<html>login</html>"));
    let error = client(&transport).list_models().await.unwrap_err();
    assert!(matches!(&error, Error::Decode { body_start, .. } if body_start.contains("login")), "{error:?}");
    transport.push(Reply::json(401, &json!({"error": {"code": "AuthenticationError", "message": "no"}})));
    let refused = client(&transport).list_models().await.unwrap_err();
    assert_eq!(refused.api().unwrap().status, 401);
    assert!(refused.client_request_id().is_some());
}

#[tokio::test]
async fn the_emulator_lists_every_family_with_its_lifecycle() {
    let test = async {
        let emulator = seedream_emulator::Emulator::start(seedream_emulator::EmulatorConfig {
            api_keys: vec!["k".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        for base in [emulator.base_url(), emulator.ark_base_url()] {
            let client = Client::builder().api_key("k").base_url(&base).allow_insecure_http(true).build().unwrap();
            let (list, meta) = client.list_models().await.unwrap().into_parts();
            assert!(meta.synthetic);
            assert_eq!(list.object.as_deref(), Some("list"));
            assert!(families().iter().all(|family| list.get(&family.model_id).is_some()), "{list:?}");
            let v40 = list.get(SEEDREAM_4_0).unwrap();
            assert_eq!(v40.task_type, [TaskType::TextToImage, TaskType::ImageToImage]);
            assert!(v40.is_running());
            assert_eq!(list.get(SEEDREAM_5_0_LITE).unwrap().status, Some(ModelStatus::Shutdown));
            let seededit = list.get(SEEDEDIT_3_0_I2I).unwrap();
            assert_eq!(seededit.task_type, [TaskType::ImageToImage]);
            assert!(seededit.is_running(), "Volcengine still serves SeedEdit 3.0: {seededit:?}");
            let byteplus = list.get("seededit-3-0-i2i-250628").unwrap();
            assert_eq!(byteplus.status, Some(ModelStatus::Shutdown), "BytePlus shut it down");
        }
        let wrong =
            Client::builder().api_key("wrong").base_url(emulator.base_url()).allow_insecure_http(true).build().unwrap();
        assert_eq!(wrong.list_models().await.unwrap_err().api().unwrap().status, 401);
        emulator.shutdown().await;
    };
    tokio::time::timeout(Duration::from_secs(30), test).await.expect("bounded");
}
