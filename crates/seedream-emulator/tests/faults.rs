//! Each fault does what its name says, selected by header or by configuration, with `times`/`id`
//! bookkeeping; random faults follow their seed.

mod common;

use std::time::{Duration, Instant};

use common::*;
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultKind};
use serde_json::{Value, json};

const V40: &str = "doubao-seedream-4-0-250828";

fn small() -> Value {
    json!({"model": V40, "prompt": "p", "size": "1K"})
}

fn group_stream() -> Value {
    json!({"model": V40, "prompt": "p", "size": "1K", "stream": true, "sequential_image_generation": "auto",
           "sequential_image_generation_options": {"max_images": 3}})
}

async fn with_fault(emulator: &EmulatorHandle, client: &HttpClient, body: &Value, fault: &str) -> Answer {
    let url = format!("{}/images/generations", emulator.ark_base_url());
    post_json(client, &url, body, &[("x-emulator-fault", fault)]).await
}

#[tokio::test]
async fn error_faults_answer_like_the_service() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let c = &client;
    let answer = with_fault(&emulator, c, &small(), "rate-limit").await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.error().0, "ModelAccountRpmRateLimitExceeded");
    assert_eq!(answer.error().2, "TooManyRequests");
    assert_eq!(answer.header("retry-after"), Some("1"));
    let answer = with_fault(&emulator, c, &small(), "rate-limit;retry_after=7").await;
    assert_eq!(answer.header("retry-after"), Some("7"));
    let answer = with_fault(&emulator, c, &small(), "quota").await;
    assert_eq!((answer.status.as_u16(), answer.error().0.as_str()), (429, "QuotaExceeded"));
    assert_eq!(answer.header("retry-after"), None);
    let answer = with_fault(&emulator, c, &small(), "server-error").await;
    assert_eq!((answer.status.as_u16(), answer.error().0.as_str()), (500, "InternalServiceError"));
    assert_eq!(answer.error().2, "InternalServerError");
    let answer = with_fault(&emulator, c, &small(), "bad-gateway").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.header("content-type"), Some("text/html"));
    assert!(String::from_utf8_lossy(&answer.body).contains("<h1>502 Bad Gateway</h1>"));
    assert!(answer.header("x-request-id").is_some());
    let answer = with_fault(&emulator, c, &small(), "invalid-json").await;
    assert_eq!(answer.status, 200);
    assert!(serde_json::from_slice::<Value>(&answer.body).is_err());
    assert!(!answer.body.is_empty());
    // A bad spec is the caller's mistake.
    let answer = with_fault(&emulator, c, &small(), "explode").await;
    assert_eq!((answer.status.as_u16(), answer.error().1.as_str()), (400, "x-emulator-fault"));
    assert_eq!(emulator.stats().faults_injected, 6);
    emulator.shutdown().await;
}

#[tokio::test]
async fn times_and_id_make_retried_requests_succeed() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let statuses = |fault: &'static str, n: usize| {
        let client = client.clone();
        let emulator = &emulator;
        async move {
            let mut out = Vec::new();
            for _ in 0..n {
                out.push(with_fault(emulator, &client, &small(), fault).await.status.as_u16());
            }
            out
        }
    };
    assert_eq!(statuses("server-error;times=2", 4).await, [500, 500, 200, 200]);
    // The same id shares the count even when the rest of the spec differs.
    assert_eq!(statuses("rate-limit;times=2;id=job-1", 1).await, [429]);
    assert_eq!(statuses("server-error;times=2;id=job-1", 2).await, [500, 200]);
    assert_eq!(statuses("quota;times=1;id=job-2", 2).await, [429, 200]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn moderate_fails_the_chosen_images_and_usage_counts_the_rest() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let body = json!({"model": V40, "prompt": "p", "size": "1K", "sequential_image_generation": "auto",
                      "sequential_image_generation_options": {"max_images": 4}});
    let answer = with_fault(&emulator, &client, &body, "moderate;images=0,2").await;
    assert_eq!(answer.status, 200);
    let json = answer.json();
    let data = json["data"].as_array().unwrap();
    assert_eq!(data.len(), 4);
    let id = answer.header("x-request-id").unwrap();
    for index in [0, 2] {
        assert_eq!(data[index]["error"]["code"], "OutputImageSensitiveContentDetected");
        assert!(data[index]["error"]["message"].as_str().unwrap().ends_with(&format!("Request id: {id}")));
        assert!(data[index].get("url").is_none());
    }
    assert!(data[1]["url"].is_string() && data[3]["url"].is_string());
    assert_eq!(json["usage"]["generated_images"], 2);
    assert_eq!(json["usage"]["output_tokens"], 2 * 1024 * 1024 / 256);
    let parsed = seedream_types::ImagesResponse::from_slice(&answer.body).unwrap();
    assert_eq!(parsed.errors().map(|(i, _)| i).collect::<Vec<_>>(), [0, 2]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn stream_cut_and_stream_error_end_after_the_first_image() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let cut = with_fault(&emulator, &client, &group_stream(), "stream-cut").await;
    assert_eq!(cut.status, 200);
    let events = parse_sse(&cut.body);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].event.as_deref(), Some("image_generation.partial_succeeded"));
    let failed = with_fault(&emulator, &client, &group_stream(), "stream-error").await;
    let events = parse_sse(&failed.body);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].event.as_deref(), Some("image_generation.partial_succeeded"));
    assert_eq!(events[1].event, None);
    let error: Value = serde_json::from_str(&events[1].data).unwrap();
    assert_eq!(error["error"]["code"], "InternalServiceError");
    assert!(matches!(
        seedream_types::StreamEvent::from_json(&events[1].data).unwrap(),
        seedream_types::StreamEvent::Error(_)
    ));
    // Plain requests are not affected by stream faults.
    assert_eq!(
        with_fault(&emulator, &client, &small(), "stream-cut").await.json()["data"].as_array().unwrap().len(),
        1
    );
    // An invalid data line in a stream.
    let invalid = with_fault(&emulator, &client, &group_stream(), "invalid-json").await;
    let events = parse_sse(&invalid.body);
    assert!(serde_json::from_str::<Value>(&events[0].data).is_err());
    assert_eq!(events.last().unwrap().data, "[DONE]");
    // moderate in a stream: partial_failed and the stream goes on.
    let moderated = with_fault(&emulator, &client, &group_stream(), "moderate;images=2").await;
    let names: Vec<_> = parse_sse(&moderated.body).into_iter().map(|e| e.event).collect();
    assert_eq!(names[2].as_deref(), Some("image_generation.partial_failed"));
    assert_eq!(names.len(), 5);
    emulator.shutdown().await;
}

/// Splits a raw HTTP/1.1 answer into (head, body).
fn split(raw: &[u8]) -> (String, Vec<u8>) {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("complete headers");
    (String::from_utf8_lossy(&raw[..end]).to_lowercase(), raw[end + 4..].to_vec())
}

fn content_length(head: &str) -> usize {
    head.lines().find_map(|l| l.strip_prefix("content-length: ")).expect("content-length").trim().parse().unwrap()
}

#[tokio::test]
async fn reset_sends_part_of_the_body_then_breaks_the_connection() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let request = raw_post("/api/v3/images/generations", &small(), "x-emulator-fault: reset\r\n");
    let (received, end) = raw(emulator.addr(), &request, Duration::from_secs(5)).await;
    assert_ne!(end, RawEnd::Silent, "the connection must end, not hang");
    let (head, body) = split(&received);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let length = content_length(&head);
    assert!(!body.is_empty() && body.len() < length, "{} of {length} bytes", body.len());
    // An HTTP client sees the headers, then an error while reading the body.
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let response = tokio::time::timeout(
        TIMEOUT,
        client.request(post(&url, small().to_string(), &[("x-emulator-fault", "reset")])),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(TIMEOUT, http_body_util::BodyExt::collect(response.into_body())).await.unwrap();
    assert!(body.is_err(), "the body must fail");
    // The stream version: the first event, then the break.
    let request = raw_post("/api/v3/images/generations", &group_stream(), "x-emulator-fault: reset\r\n");
    let (received, end) = raw(emulator.addr(), &request, Duration::from_secs(5)).await;
    assert_ne!(end, RawEnd::Silent);
    let (_, body) = split(&received);
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("partial_succeeded") && !text.contains("[DONE]"), "{text}");
    assert!(!text.ends_with("0\r\n\r\n"), "a reset must not end the chunked body cleanly");
    emulator.shutdown().await;
}

#[tokio::test]
async fn slow_headers_delays_the_whole_answer() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let started = Instant::now();
    let answer = with_fault(&emulator, &client, &small(), "slow-headers;ms=400").await;
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    emulator.shutdown().await;
}

#[tokio::test]
async fn stall_sends_headers_then_nothing_for_the_given_time() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    // Plain: headers at once, the body only after the stall.
    let request = raw_post("/api/v3/images/generations", &small(), "x-emulator-fault: stall;ms=2500\r\n");
    let (raw_head, end) = raw(emulator.addr(), &request, Duration::from_millis(700)).await;
    assert_eq!(end, RawEnd::Silent);
    let (head, body) = split(&raw_head);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(body.is_empty(), "the body came before the stall ended");
    let (raw_all, end) = raw(emulator.addr(), &request, Duration::from_secs(5)).await;
    assert_eq!(end, RawEnd::Closed);
    let (head, body) = split(&raw_all);
    assert_eq!(body.len(), content_length(&head));
    // Stream: the first event, then silence.
    let request = raw_post("/api/v3/images/generations", &group_stream(), "x-emulator-fault: stall;ms=60000\r\n");
    let (received, end) = raw(emulator.addr(), &request, Duration::from_millis(700)).await;
    assert_eq!(end, RawEnd::Silent);
    let text = String::from_utf8_lossy(&received);
    assert_eq!(text.matches("partial_succeeded").count(), 2, "event name and type of one event: {text}");
    // Shutdown does not wait a minute for the stalled stream.
    let started = Instant::now();
    tokio::time::timeout(TIMEOUT, emulator.shutdown()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_configured_fault_applies_to_every_request_unless_the_header_says_otherwise() {
    let config = EmulatorConfig { fault: Some("server-error;times=1".into()), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.base_url());
    assert_eq!(post_json(&client, &url, &small(), &[]).await.status, 500);
    assert_eq!(post_json(&client, &url, &small(), &[]).await.status, 200);
    assert_eq!(with_fault(&emulator, &client, &small(), "quota").await.status, 429);
    emulator.shutdown().await;
    let bad = EmulatorConfig { fault: Some("nope".into()), ..EmulatorConfig::default() };
    assert_eq!(Emulator::start(bad).await.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn random_faults_hit_their_share_of_requests_repeatably() {
    let run = |seed| async move {
        let config = EmulatorConfig { random_faults: Some((0.5, seed)), ..EmulatorConfig::default() };
        let emulator = Emulator::start(config).await.unwrap();
        let client = client();
        let url = format!("{}/images/generations", emulator.ark_base_url());
        let mut statuses = Vec::new();
        for _ in 0..40 {
            let answer = post_json(&client, &url, &small(), &[]).await;
            if answer.status == 429 && answer.error().0 == "ModelAccountRpmRateLimitExceeded" {
                assert_eq!(answer.header("retry-after"), Some("0"));
            }
            statuses.push(answer.status.as_u16());
        }
        let injected = emulator.stats().faults_injected;
        emulator.shutdown().await;
        (statuses, injected)
    };
    let (first, injected) = run(11).await;
    assert_eq!(run(11).await.0, first);
    let failed = first.iter().filter(|&&s| s != 200).count() as u64;
    assert_eq!(failed, injected);
    assert!((8..=32).contains(&failed), "{failed} of 40");
    assert!(first.iter().all(|s| [200, 429, 500, 502].contains(s)));
    assert_eq!(FaultKind::RANDOM.len(), 4);
}
