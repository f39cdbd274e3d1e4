//! Client behaviour against the recording transport: exact requests, retry rules, time limits,
//! streaming, error shapes and secrecy of the key. No sockets; time is virtual where it matters.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use seedream_client::testing::{RecordingTransport, Reply};
use seedream_client::{
    Client, ClientBuilder, DEFAULT_USER_AGENT, EditMode, Error, RetryPolicy, TimeoutPhase, Timeouts, TransportErrorKind,
};
use seedream_types::{
    EditRequest, ErrorClass, GenerateRequest, ImageFile, ImageFormat, ImageItem, OutputFormat, ResponseFormat,
    SEEDREAM_3_0_T2I, SEEDREAM_4_0, SEEDREAM_5_0_PRO, SEEDREAM_5_5, StreamEvent,
};
use serde_json::{Value, json};
use tokio::time::Instant;

const KEY: &str = "sk-test-SECRET-4f1d";
const ARK: &str = "https://ark.example.test/api/v3";
const RELAY: &str = "https://relay.example.test/v1";

fn builder(transport: &Arc<RecordingTransport>) -> ClientBuilder {
    Client::builder().api_key(KEY).base_url(ARK).transport(transport.clone()).retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(1))
            .with_max_retry_after(Duration::from_secs(10)),
    )
}

fn setup() -> (Arc<RecordingTransport>, Client) {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).build().unwrap();
    (transport, client)
}

fn ok_body() -> Value {
    json!({"model": SEEDREAM_4_0, "created": 1, "data": [{"url": "https://files.example.test/0.jpeg", "size": "2048x2048"}],
           "usage": {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384}})
}

fn error_reply(status: u16, code: &str) -> Reply {
    Reply::json(status, &json!({"error": {"code": code, "message": format!("{code}. Request id: rid-{status}")}}))
}

fn request() -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn").with_size(seedream_types::SizePreset::TwoK)
}

/// A 16x16 PNG header is enough for validation to read the dimensions.
fn png() -> Bytes {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    bytes.extend_from_slice(&64u32.to_be_bytes());
    bytes.extend_from_slice(&64u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    Bytes::from(bytes)
}

#[tokio::test]
async fn generate_sends_the_exact_request() {
    let (transport, client) = setup();
    transport.push(Reply::json(200, &ok_body()).header("x-request-id", "req-42"));
    let (response, meta) = client.generate(&request()).await.unwrap().into_parts();
    assert_eq!(response.images().count(), 1);
    assert_eq!(meta.request_id.as_deref(), Some("req-42"));
    assert_eq!((meta.status, meta.attempts), (200, 1));

    let sent = &transport.requests()[0];
    assert_eq!(sent.method, http::Method::POST);
    assert_eq!(sent.uri.to_string(), "https://ark.example.test/api/v3/images/generations");
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(sent.headers["authorization"].is_sensitive());
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("accept"), None, "a JSON answer comes without asking");
    // Four: with what hyper adds (Host, Content-Length) they fit a header map's first allocation.
    assert_eq!(sent.headers.len(), 4, "{:?}", sent.headers.keys().collect::<Vec<_>>());
    assert_eq!(sent.header("user-agent"), Some(DEFAULT_USER_AGENT));
    assert_eq!(sent.header("content-length"), None, "the transport's to write from the body");
    assert_eq!(sent.body, serde_json::to_vec(&request()).unwrap());
    assert_eq!(sent.json().unwrap(), json!({"model": SEEDREAM_4_0, "prompt": "a lighthouse at dawn", "size": "2K"}));
}

#[tokio::test]
async fn user_agent_and_extra_headers_are_sent() {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).user_agent("my-app/1.0").header("x-trace", "t1").build().unwrap();
    transport.push(Reply::json(200, &ok_body()));
    client.generate(&request()).await.unwrap();
    let sent = &transport.requests()[0];
    assert_eq!(sent.header("user-agent"), Some("my-app/1.0"));
    assert_eq!(sent.header("x-trace"), Some("t1"));
    let overriding = builder(&transport).header("user-agent", "via-header").build().unwrap();
    transport.push(Reply::json(200, &ok_body()));
    overriding.generate(&request()).await.unwrap();
    let sent = &transport.requests()[1];
    assert_eq!(sent.headers.get_all("user-agent").iter().collect::<Vec<_>>(), ["via-header"]);
    let refused = builder(&transport).header("authorization", "Bearer other").build().unwrap_err();
    assert!(matches!(refused, Error::Config(_)), "{refused:?}");
}

#[tokio::test]
async fn invalid_requests_fail_before_any_traffic() {
    let (transport, client) = setup();
    let bad =
        GenerateRequest::new(SEEDREAM_4_0, "").with_size(seedream_types::Size::from_wire("10x10")).with_max_images(40);
    let Err(Error::Validation(error)) = client.generate(&bad).await else { panic!("expected a validation error") };
    assert!(error.fields().contains(&"prompt") && error.fields().contains(&"size"), "{error}");
    assert!(client.generate(&bad).stream().await.is_err());
    assert!(transport.requests().is_empty());

    let unchecked = builder(&transport).validate_requests(false).build().unwrap();
    transport.push(error_reply(400, "InvalidParameter"));
    let error = unchecked.generate(&bad).await.unwrap_err();
    assert_eq!(error.api().unwrap().class, ErrorClass::InvalidRequest);
    assert_eq!(transport.requests().len(), 1);
}

#[tokio::test]
async fn each_request_is_validated_by_its_own_models_rules_whatever_came_before() {
    // The client remembers the family of the first model it validated: a run that switches models
    // must still decide each request as the catalog does.
    let (transport, client) = setup();
    let models = [SEEDREAM_4_0, SEEDREAM_5_0_PRO, "ep-20260101-abcd", SEEDREAM_5_5, "", SEEDREAM_4_0, SEEDREAM_3_0_T2I];
    let sizes = ["1K", "2K", "3K", "4K", "512x512", "1024x1024", "4096x4096"];
    let mut decided = 0;
    for round in 0..2 {
        for (i, model) in models.iter().enumerate() {
            let size = sizes[(i + round) % sizes.len()];
            let request = GenerateRequest::new(*model, "a lighthouse").with_size(seedream_types::Size::from_wire(size));
            let expected_refused = request.validate().is_err();
            transport.push(Reply::json(200, &ok_body()));
            let result = client.generate(&request).await;
            assert_eq!(matches!(result, Err(Error::Validation(_))), expected_refused, "{model:?} {size}: {result:?}");
            decided += usize::from(expected_refused);
        }
    }
    assert!(decided > 0 && decided < 2 * models.len(), "both outcomes were tried ({decided} refused)");
}

#[tokio::test]
async fn relay_edits_are_multipart_and_ark_edits_are_generations() {
    let transport = Arc::new(RecordingTransport::new());
    let mut edit = EditRequest::new(SEEDREAM_4_0, "make it blue", ImageFile::new("in.png", png()));
    edit.response_format = Some(ResponseFormat::B64Json);

    let relay = builder(&transport).base_url(RELAY).build().unwrap();
    assert_eq!(relay.edit_mode(), EditMode::Multipart);
    transport.push(Reply::json(200, &ok_body()));
    relay.edit(&edit).await.unwrap();
    let sent = &transport.requests()[0];
    assert_eq!(sent.uri.path(), "/v1/images/edits");
    let content_type = sent.header("content-type").unwrap();
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=").unwrap();
    let body = String::from_utf8_lossy(&sent.body);
    assert!(body.starts_with(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n{SEEDREAM_4_0}\r\n"
    )));
    assert!(body.contains("name=\"response_format\"\r\n\r\nb64_json\r\n"));
    assert!(body.contains("name=\"image\"; filename=\"in.png\"\r\nContent-Type: image/png\r\n\r\n"));
    assert!(body.ends_with(&format!("\r\n--{boundary}--\r\n")));

    let ark = builder(&transport).build().unwrap();
    assert_eq!(ark.edit_mode(), EditMode::Generations);
    transport.push(Reply::json(200, &ok_body()));
    ark.edit(&edit).await.unwrap();
    let sent = &transport.requests()[1];
    assert_eq!(sent.uri.path(), "/api/v3/images/generations");
    let json = sent.json().unwrap();
    assert!(json["image"].as_str().unwrap().starts_with("data:image/png;base64,"), "{json}");

    let forced = builder(&transport).base_url(RELAY).edit_mode(EditMode::Generations).build().unwrap();
    transport.push(Reply::json(200, &ok_body()));
    forced.edit(&edit).await.unwrap();
    assert_eq!(transport.requests()[2].uri.path(), "/v1/images/generations");
}

#[tokio::test]
async fn multipart_edits_are_rebuilt_for_each_attempt() {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).base_url(RELAY).build().unwrap();
    transport.push(error_reply(500, "InternalServiceError")).push(Reply::json(200, &ok_body()));
    let (_, meta) =
        client.edit(&EditRequest::new(SEEDREAM_4_0, "p", ImageFile::new("a.png", png()))).await.unwrap().into_parts();
    assert_eq!(meta.attempts, 2);
    let sent = transport.requests();
    assert_eq!(sent[0].body, sent[1].body);
    assert_eq!(sent[0].header("content-type"), sent[1].header("content-type"));
}

#[tokio::test(start_paused = true)]
async fn retryable_errors_are_retried_then_succeed() {
    for status in [429, 500, 502, 503, 504] {
        let (transport, client) = setup();
        let code = if status == 429 { "ModelAccountRpmRateLimitExceeded" } else { "" };
        transport.push(error_reply(status, code)).push(Reply::json(200, &ok_body()));
        let (_, meta) = client.generate(&request()).await.unwrap().into_parts();
        assert_eq!(meta.attempts, 2, "status {status}");
    }
    let (transport, client) = setup();
    transport.push(Reply::error(TransportErrorKind::Connect, "refused")).push(Reply::json(200, &ok_body()));
    assert_eq!(client.generate(&request()).await.unwrap().into_parts().1.attempts, 2);
}

#[tokio::test(start_paused = true)]
async fn final_errors_are_never_retried() {
    let cases = [
        (400, "InvalidParameter", ErrorClass::InvalidRequest),
        (401, "AuthenticationError", ErrorClass::Authentication),
        (403, "AccessDenied", ErrorClass::Forbidden),
        (404, "InvalidEndpointOrModel.NotFound", ErrorClass::NotFound),
        (429, "QuotaExceeded", ErrorClass::QuotaExhausted),
        (429, "SetLimitExceeded", ErrorClass::QuotaExhausted),
    ];
    for (status, code, class) in cases {
        let (transport, client) = setup();
        transport.push(error_reply(status, code)).push(Reply::json(200, &ok_body()));
        let error = client.generate(&request()).await.unwrap_err();
        let api = error.api().unwrap_or_else(|| panic!("{error:?}"));
        assert_eq!((api.status, api.code.as_str(), api.class), (status, code, class));
        assert_eq!(api.request_id.as_deref(), Some(format!("rid-{status}").as_str()));
        assert!(!error.is_retryable());
        assert_eq!(transport.requests().len(), 1, "{code} must not be retried");
    }
    // A connection that broke after the request was sent: the service may have acted on it.
    let (transport, client) = setup();
    transport.push(Reply::error(TransportErrorKind::Io, "reset")).push(Reply::json(200, &ok_body()));
    assert!(matches!(client.generate(&request()).await, Err(Error::Transport(_))));
    assert_eq!(transport.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn attempts_are_limited_and_the_last_error_returned() {
    let (transport, client) = setup();
    for _ in 0..5 {
        transport.push(error_reply(503, "ServerOverloaded"));
    }
    let error = client.generate(&request()).await.unwrap_err();
    assert_eq!(error.api().unwrap().status, 503);
    assert_eq!(transport.requests().len(), 3);

    let transport = Arc::new(RecordingTransport::new());
    let once = builder(&transport).retry(RetryPolicy::none()).build().unwrap();
    transport.push(error_reply(500, "InternalServiceError")).push(Reply::json(200, &ok_body()));
    assert!(once.generate(&request()).await.is_err());
    assert_eq!(transport.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_capped() {
    let (transport, client) = setup();
    transport
        .push(error_reply(429, "ModelAccountIpmRateLimitExceeded").header("retry-after", "3"))
        .push(Reply::json(200, &ok_body()));
    let start = Instant::now();
    client.generate(&request()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(3));

    // 3600 s asked, 10 s cap.
    let (transport, client) = setup();
    transport
        .push(error_reply(429, "RateLimitExceeded.EndpointRPM").header("retry-after", "3600"))
        .push(Reply::json(200, &ok_body()));
    let start = Instant::now();
    client.generate(&request()).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn backoff_waits_stay_under_the_exponential_ceiling() {
    // Without Retry-After: attempt 1 waits ≤ 100 ms, attempt 2 ≤ 200 ms (full jitter may be ~0).
    for _ in 0..20 {
        let (transport, client) = setup();
        transport.push(error_reply(500, "")).push(error_reply(500, "")).push(Reply::json(200, &ok_body()));
        let start = Instant::now();
        client.generate(&request()).await.unwrap();
        assert!(start.elapsed() <= Duration::from_millis(300), "{:?}", start.elapsed());
    }
}

#[tokio::test(start_paused = true)]
async fn time_limits_name_their_phase() {
    let timeouts = Timeouts::default()
        .with_connect(Duration::from_secs(1))
        .with_headers(Duration::from_secs(2))
        .with_idle(Duration::from_secs(3))
        .with_overall(None);
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).timeouts(timeouts).build().unwrap();

    transport.push(Reply::stall()).push(Reply::json(200, &ok_body()));
    let start = Instant::now();
    let error = client.generate(&request()).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Headers, .. }), "{error:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(transport.pending_replies(), 1, "a headers timeout is not retried");

    let (transport, client) = {
        let transport = Arc::new(RecordingTransport::new());
        (transport.clone(), builder(&transport).timeouts(timeouts).build().unwrap())
    };
    transport.push(Reply::status(200).header("content-type", "application/json").body("{\"data\":[").then_stall());
    let error = client.generate(&request()).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Idle, .. }), "{error:?}");

    transport.push(Reply::error(TransportErrorKind::ConnectTimeout, "slow")).push(Reply::json(200, &ok_body()));
    assert_eq!(client.generate(&request()).await.unwrap().into_parts().1.attempts, 2, "connect timeouts are retried");

    let overall = timeouts.with_overall(Duration::from_secs(5)).with_headers(Duration::from_secs(60));
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).timeouts(overall).build().unwrap();
    transport.push(Reply::stall());
    let start = Instant::now();
    let error = client.generate(&request()).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Overall, .. }), "{error:?}");
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test]
async fn bad_bodies_are_typed_errors() {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).retry(RetryPolicy::none()).build().unwrap();
    transport
        .push(Reply::status(502).header("content-type", "text/html").body("<html><h1>502 Bad Gateway</h1></html>"));
    let error = client.generate(&request()).await.unwrap_err();
    let api = error.api().unwrap();
    assert_eq!((api.status, api.message.as_str(), api.class), (502, "502 Bad Gateway", ErrorClass::ServerError));

    transport.push(Reply::status(200).header("content-type", "application/json").body("{\"data\": [oops"));
    let Err(Error::Decode { body_start, .. }) = client.generate(&request()).await else { panic!("expected Decode") };
    assert!(body_start.starts_with("{\"data\": [oops"));

    let small = Client::builder()
        .api_key(KEY)
        .base_url(ARK)
        .transport(transport.clone())
        .max_response_bytes(100)
        .build()
        .unwrap();
    transport.push(Reply::json(200, &json!({"data": [{"b64_json": "A".repeat(200)}]})));
    assert!(matches!(small.generate(&request()).await, Err(Error::BodyTooLarge { limit: 100 })));
}

fn sse(events: &[Value]) -> String {
    let mut text = String::from(": stream start\r\n\r\n");
    for event in events {
        let kind = event["type"].as_str().unwrap_or("error");
        text.push_str(&format!("event: {kind}\r\ndata: {event}\r\n\r\n"));
    }
    text
}

fn group_events() -> Vec<Value> {
    vec![
        json!({"type": "image_generation.partial_succeeded", "model": SEEDREAM_4_0, "created": 1, "image_index": 0,
               "url": "https://files.example.test/0.jpeg", "size": "2048x2048"}),
        json!({"type": "image_generation.partial_failed", "model": SEEDREAM_4_0, "created": 1, "image_index": 1,
               "error": {"code": "OutputImageSensitiveContentDetected", "message": "moderated"}}),
        json!({"type": "image_generation.partial_succeeded", "model": SEEDREAM_4_0, "created": 1, "image_index": 2,
               "b64_json": "QUJD", "size": "2048x2048"}),
        json!({"type": "image_generation.completed", "model": SEEDREAM_4_0, "created": 1,
               "usage": {"generated_images": 2, "output_tokens": 32768, "total_tokens": 32768}}),
    ]
}

/// The text cut into chunks of 7 bytes, so lines, CRLFs and UTF-8 are split everywhere.
fn in_pieces(text: &str) -> Vec<Bytes> {
    text.as_bytes().chunks(7).map(Bytes::copy_from_slice).collect()
}

#[tokio::test]
async fn streams_yield_failed_images_as_items_and_end_at_done() {
    let (transport, client) = setup();
    let text = sse(&group_events()) + "data: [DONE]\r\n\r\n";
    transport.push(Reply::event_stream(in_pieces(&text)).header("x-request-id", "stream-1"));
    let mut stream = client.generate(&request().with_max_images(3)).stream().await.unwrap();
    assert_eq!(stream.request_id(), Some("stream-1"));
    let mut kinds = Vec::new();
    while let Some(event) = stream.next().await {
        kinds.push(event.unwrap().event_type().into_owned());
    }
    assert_eq!(kinds.len(), 4);
    assert!(kinds[1].ends_with("partial_failed") && kinds[3].ends_with("completed"), "{kinds:?}");
    let sent = transport.requests()[0].json().unwrap();
    assert_eq!(sent["stream"], json!(true), "generate_stream asks for a stream");
    assert_eq!(transport.requests()[0].header("accept"), Some("text/event-stream"));
}

#[tokio::test]
async fn a_stream_request_through_generate_is_gathered() {
    let (transport, client) = setup();
    transport.push(Reply::event_stream(in_pieces(&(sse(&group_events()) + "data: [DONE]\n\n"))));
    let response = client.generate(&request().with_max_images(3).with_stream(true)).await.unwrap();
    assert_eq!(response.data.len(), 3);
    assert!(matches!(&response.data[1], ImageItem::Failed(f) if f.error.code == "OutputImageSensitiveContentDetected"));
    assert_eq!(response.data[2].image().unwrap().b64_json.as_deref(), Some("QUJD"));
    assert_eq!(response.usage.as_ref().unwrap().generated_images, Some(2));
}

#[tokio::test]
async fn cut_and_failed_streams_are_errors() {
    let (transport, client) = setup();
    let events = group_events();
    transport.push(Reply::event_stream(in_pieces(&sse(&events[..2]))));
    let items: Vec<_> = client.generate(&request()).stream().await.unwrap().collect().await;
    assert_eq!(items.len(), 3, "two events, then the error");
    assert!(matches!(items[2], Err(Error::Transport(_))), "{:?}", items[2]);

    let error = json!({"error": {"code": "InternalServiceError", "message": "boom. Request id: in-stream-1"}});
    transport.push(Reply::event_stream(in_pieces(&(sse(&[events[0].clone(), error]) + "data: [DONE]\n\n"))));
    let items: Vec<_> = client.generate(&request()).stream().await.unwrap().collect().await;
    assert_eq!(items.len(), 2, "the error ends the stream");
    let api = items[1].as_ref().unwrap_err().api().unwrap();
    assert_eq!((api.code.as_str(), api.request_id.as_deref()), ("InternalServiceError", Some("in-stream-1")));

    // `completed` without `[DONE]` is a clean end.
    transport.push(Reply::event_stream(in_pieces(&sse(&events))));
    let items: Vec<_> = client.generate(&request()).stream().await.unwrap().collect().await;
    assert!(items.iter().all(Result::is_ok) && items.len() == 4);

    transport.push(Reply::event_stream(["data: {not json}\n\n"]));
    let items: Vec<_> = client.generate(&request()).stream().await.unwrap().collect().await;
    assert!(matches!(items[..], [Err(Error::Decode { .. })]), "{items:?}");
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_becomes_events() {
    let (transport, client) = setup();
    transport.push(Reply::json(200, &ok_body()));
    let items: Vec<_> = client.generate(&request()).stream().await.unwrap().collect().await;
    assert!(matches!(items[..], [Ok(StreamEvent::PartialSucceeded(_)), Ok(StreamEvent::Completed(_))]), "{items:?}");
}

#[tokio::test]
async fn image_bytes_decode_or_download_without_leaking_the_key() {
    let (transport, client) = setup();
    let response: seedream_types::ImagesResponse = serde_json::from_value(json!({"data": [
        {"b64_json": "QUJD"}, {"url": "https://files.example.test/0.jpeg"}, {"url": "https://ark.example.test/own/1.jpeg"}]}))
    .unwrap();
    let images: Vec<_> = response.images().cloned().collect();
    assert_eq!(&client.image_bytes(&images[0]).await.unwrap()[..], b"ABC");
    assert_eq!(&client.into_image_bytes(images[0].clone()).await.unwrap()[..], b"ABC");

    transport.push(Reply::status(200).header("content-type", "image/jpeg").body("JPEG"));
    let downloaded = client.image_bytes(&images[1]).await.unwrap();
    assert_eq!(&downloaded[..], b"JPEG");
    assert_eq!(downloaded.format(), Some(ImageFormat::Jpeg), "from the content type when the bytes say nothing");
    let sent = &transport.requests()[0];
    assert_eq!((sent.method.as_str(), sent.uri.to_string().as_str()), ("GET", "https://files.example.test/0.jpeg"));
    assert_eq!(sent.header("authorization"), None, "the key stays with the API host");

    transport.push(Reply::status(200).body("JPEG"));
    client.image_bytes(&images[2]).await.unwrap();
    assert!(transport.requests()[1].header("authorization").is_some());

    transport.push(
        Reply::status(403).body("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"),
    );
    let error = client.image_bytes(&images[1]).await.unwrap_err();
    assert_eq!(error.api().unwrap().status, 403);

    let small = builder(&transport).max_response_bytes(3).build().unwrap();
    transport.push(Reply::status(200).body("JPEG"));
    assert!(matches!(small.download("https://files.example.test/0.jpeg").await, Err(Error::BodyTooLarge { limit: 3 })));
}

#[tokio::test]
async fn image_bytes_carry_the_format_of_their_bytes_and_save_under_its_extension() {
    use base64::Engine as _;
    let (transport, client) = setup();
    let png = png();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    // 5.0 pro states png; 5.0 lite states nothing; a wrong statement loses to the bytes.
    let response: seedream_types::ImagesResponse = serde_json::from_value(json!({"data": [
        {"b64_json": b64, "output_format": "png"}, {"b64_json": b64}, {"b64_json": b64, "output_format": "jpeg"},
        {"b64_json": "QUJD", "output_format": "png"}, {"url": "https://files.example.test/0.png"}]}))
    .unwrap();
    let images: Vec<_> = response.images().cloned().collect();
    for image in &images[..3] {
        let copied = client.image_bytes(image).await.unwrap();
        assert_eq!((&copied[..], copied.format()), (&png[..], Some(ImageFormat::Png)));
        assert_eq!((copied.extension(), copied.media_type().as_deref()), ("png", Some("image/png")));
        assert_eq!(client.into_image_bytes(image.clone()).await.unwrap(), copied);
    }
    assert_eq!(images[0].output_format, Some(OutputFormat::Png));
    let stated = client.into_image_bytes(images[3].clone()).await.unwrap();
    assert_eq!(stated.format(), Some(ImageFormat::Png), "unknown bytes: the item's output_format");

    // A download labelled JPEG that is a PNG: the bytes win.
    transport.push(Reply::status(200).header("content-type", "image/jpeg").body(png.clone()));
    let downloaded = client.image_bytes(&images[4]).await.unwrap();
    assert_eq!(downloaded.format(), Some(ImageFormat::Png));
    transport.push(Reply::status(200).header("content-type", "image/png").body("????"));
    let unknown = client.download("https://files.example.test/1").await.unwrap();
    assert_eq!(unknown.format(), Some(ImageFormat::Png), "the content type when the bytes say nothing");

    let dir = std::env::temp_dir().join(format!("seedream-png-{:x}", std::process::id()));
    let path = seedream_client::save_image(&dir, "layer-0", &downloaded).unwrap();
    assert_eq!(path.file_name().unwrap(), "layer-0.png");
    assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_key_never_shows_in_debug_output() {
    let (transport, client) = setup();
    let builder_text = format!("{:?}", builder(&transport));
    let client_text = format!("{client:?}");
    transport.push(error_reply(401, "AuthenticationError"));
    let api_error = client.generate(&request()).await.unwrap_err();
    transport.push(Reply::error(TransportErrorKind::Connect, "refused"));
    let transport_error = builder(&transport).retry(RetryPolicy::none()).build().unwrap().generate(&request()).await;
    let bad_key = Client::builder().api_key(format!("{KEY}\n")).transport(transport.clone()).build();
    let bad_key2 = Client::builder().api_key(format!("{KEY}\u{7f}")).transport(transport.clone()).build().unwrap_err();
    let recorded = format!("{:?}", transport.requests());
    for text in [
        builder_text,
        client_text,
        format!("{api_error:?} {api_error}"),
        format!("{transport_error:?}"),
        format!("{bad_key:?}"),
        format!("{bad_key2:?} {bad_key2}"),
        recorded,
    ] {
        assert!(!text.contains("SECRET"), "the key leaked: {text}");
    }
}

#[tokio::test]
async fn builder_rejects_bad_configuration() {
    let transport = Arc::new(RecordingTransport::new());
    let missing = Client::builder().transport(transport.clone()).build().unwrap_err();
    assert!(matches!(missing, Error::Config(_)));
    for base in ["not a url", "/relative/v1", "https://host/v1?x=1"] {
        let error = Client::builder().api_key(KEY).base_url(base).transport(transport.clone()).build().unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{base}: {error:?}");
    }
    let insecure = Client::builder().api_key(KEY).base_url("http://example.com/v1").build().unwrap_err();
    assert!(matches!(insecure, Error::Config(_)), "{insecure:?}");
    Client::builder().api_key(KEY).base_url("http://127.0.0.1:9/v1").build().unwrap();
    Client::builder().api_key(KEY).base_url("http://example.com/v1").allow_insecure_http(true).build().unwrap();
    let mixed = Client::builder().api_key(KEY).transport(transport).trust_certificate_pem("x").build().unwrap_err();
    assert!(matches!(mixed, Error::Config(_)));
    let client = Client::builder().api_key(KEY).base_url("https://relay.test/v1/").build().unwrap();
    assert_eq!(client.base_url(), "https://relay.test/v1");
}

#[tokio::test]
async fn the_key_echoed_in_failed_images_and_stream_errors_is_redacted() {
    let (transport, client) = setup();
    let echo = format!("moderated; your key {KEY} was logged");
    transport.push(Reply::json(
        200,
        &json!({"data": [{"error": {"code": "OutputImageSensitiveContentDetected", "message": echo}}]}),
    ));
    let response = client.generate(&request()).await.unwrap();
    let ImageItem::Failed(failed) = &response.data[0] else { panic!("{response:?}") };
    assert_eq!(failed.error.message, "moderated; your key <redacted> was logged");

    let event = json!({"error": {"code": "InternalServiceError", "message": echo}}).to_string();
    transport.push(Reply::event_stream([format!("data: {event}\n\n")]).header("content-type", "text/event-stream"));
    let mut stream = client.generate(&request()).stream().await.unwrap();
    let error = stream.next().await.unwrap().unwrap_err();
    assert!(!error.to_string().contains(KEY) && error.to_string().contains("<redacted>"), "{error}");
}
