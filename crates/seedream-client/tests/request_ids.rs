//! `X-Client-Request-Id`: one per call, the same on each of its retries, in the official SDKs' form,
//! the caller's own when set, and named by the answer's meta and by every error of the call
//! (timeouts and transport failures included). Recording transport, virtual time.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use seedream_client::testing::{RecordingTransport, Reply};
use seedream_client::{Client, ClientBuilder, EditMode, RetryPolicy, Timeouts, TransportErrorKind};
use seedream_types::{EditRequest, GenerateRequest, ImageFile, SEEDREAM_4_0};
use serde_json::{Value, json};

const HEADER: &str = "x-client-request-id";

fn builder(transport: &Arc<RecordingTransport>) -> ClientBuilder {
    Client::builder()
        .api_key("sk-test-ids")
        .base_url("https://ark.example.test/api/v3")
        .transport(transport.clone())
        .retry(RetryPolicy::default().with_max_attempts(3).with_base_delay(Duration::from_millis(10)))
}

fn ok_body() -> Value {
    json!({"model": SEEDREAM_4_0, "created": 1, "data": [{"url": "https://files.example.test/0.jpeg"}]})
}

fn server_error() -> Reply {
    Reply::json(500, &json!({"error": {"code": "InternalServiceError", "message": "boom"}}))
}

fn request() -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn")
}

/// `yyyyMMddHHmmss` (a plausible UTC time) and 20 letters and digits.
fn assert_sdk_form(id: &str) {
    assert_eq!(id.len(), 34, "{id}");
    assert!(id[..14].bytes().all(|b| b.is_ascii_digit()), "{id}");
    let (month, day, hour) = (&id[4..6], &id[6..8], &id[8..10]);
    assert!(("01"..="12").contains(&month) && ("01"..="31").contains(&day) && hour <= "23", "{id}");
    assert!(id[14..].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
}

#[tokio::test(start_paused = true)]
async fn every_call_sends_one_id_kept_across_its_retries() {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).build().unwrap();
    transport.push(server_error()).push(server_error()).push(Reply::json(200, &ok_body()));
    let (_, meta) = client.generate(&request()).await.unwrap().into_parts();
    transport.push(Reply::json(200, &ok_body()));
    let (_, second) = client.generate(&request()).await.unwrap().into_parts();

    let sent: Vec<String> = transport.requests().iter().map(|r| r.header(HEADER).unwrap().to_owned()).collect();
    assert_eq!(meta.attempts, 3);
    assert_sdk_form(&sent[0]);
    assert!(sent[0] == sent[1] && sent[1] == sent[2], "retries keep the id: {sent:?}");
    assert_ne!(sent[2], sent[3], "each call has its own id");
    assert_eq!(meta.client_request_id.as_deref(), Some(sent[0].as_str()));
    assert_eq!(second.client_request_id.as_deref(), Some(sent[3].as_str()));
}

#[tokio::test(start_paused = true)]
async fn edits_and_streams_send_it_too() {
    let transport = Arc::new(RecordingTransport::new());
    let relay = builder(&transport).base_url("https://relay.example.test/v1").validate_requests(false).build().unwrap();
    assert_eq!(relay.edit_mode(), EditMode::Multipart);
    transport.push(server_error()).push(Reply::json(200, &ok_body()));
    let edit = EditRequest::new(SEEDREAM_4_0, "p", ImageFile::new("a.jpg", vec![0xFF, 0xD8, 0xFF]));
    let (_, meta) = relay.edit(&edit).await.unwrap().into_parts();
    let sent = transport.requests();
    assert_eq!(sent[0].header(HEADER), sent[1].header(HEADER));
    assert_eq!(meta.client_request_id.as_deref(), sent[1].header(HEADER));

    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).build().unwrap();
    transport
        .push(Reply::event_stream(["data: {\"error\":{\"code\":\"InternalServiceError\",\"message\":\"x\"}}\n\n"]));
    let mut stream = client.generate(&request()).stream().await.unwrap();
    let sent = transport.requests()[0].header(HEADER).unwrap().to_owned();
    assert_eq!(stream.client_request_id(), Some(sent.as_str()));
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.client_request_id(), Some(sent.as_str()), "an in-stream error names the call");
}

#[tokio::test(start_paused = true)]
async fn errors_name_the_call_even_without_an_answer() {
    let timeouts = Timeouts::default().with_headers(Duration::from_secs(2)).with_overall(None);
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).timeouts(timeouts).retry(RetryPolicy::none()).build().unwrap();

    transport.push(Reply::stall());
    let timeout = client.generate(&request()).await.unwrap_err();
    transport.push(Reply::error(TransportErrorKind::Io, "connection reset"));
    let reset = client.generate(&request()).await.unwrap_err();
    transport.push(Reply::json(400, &json!({"error": {"code": "InvalidParameter", "message": "no"}})));
    let refused = client.generate(&request()).await.unwrap_err();
    transport.push(Reply::status(200).header("content-type", "application/json").body("{\"data\":[").then_stall());
    let stalled_body = client.generate(&request()).await.unwrap_err();

    let sent: Vec<String> = transport.requests().iter().map(|r| r.header(HEADER).unwrap().to_owned()).collect();
    for (error, id) in [(&timeout, &sent[0]), (&reset, &sent[1]), (&refused, &sent[2]), (&stalled_body, &sent[3])] {
        assert_eq!(error.client_request_id(), Some(id.as_str()), "{error:?}");
    }
    assert!(matches!(timeout, seedream_client::Error::Timeout { .. }));
    assert!(matches!(reset, seedream_client::Error::Transport(_)));
    assert_eq!(refused.api().unwrap().client_request_id.as_deref(), Some(sent[2].as_str()));

    // The client's overall deadline, cut by the client around the whole call.
    let overall = Timeouts::default().with_overall(Duration::from_secs(3)).with_headers(Duration::from_secs(60));
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).timeouts(overall).build().unwrap();
    transport.push(Reply::stall());
    let error = client.generate(&request()).await.unwrap_err();
    assert_eq!(error.client_request_id(), transport.requests()[0].header(HEADER));
}

#[tokio::test(start_paused = true)]
async fn a_callers_own_id_is_sent_instead() {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).header("X-Client-Request-Id", "my-own-id-0001").build().unwrap();
    transport.push(server_error()).push(Reply::json(200, &ok_body()));
    let (_, meta) = client.generate(&request()).await.unwrap().into_parts();
    for sent in transport.requests() {
        assert_eq!(sent.headers.get_all(HEADER).iter().count(), 1);
        assert_eq!(sent.header(HEADER), Some("my-own-id-0001"));
    }
    assert_eq!(meta.client_request_id.as_deref(), Some("my-own-id-0001"));
    // A name to quote, not a secret: errors keep it.
    transport.push(Reply::json(400, &json!({"error": {"code": "InvalidParameter", "message": "id my-own-id-0001"}})));
    let error = client.generate(&request()).await.unwrap_err();
    assert!(error.to_string().contains("my-own-id-0001"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn downloads_send_none() {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).build().unwrap();
    transport.push(Reply::status(200).body(vec![0xFF, 0xD8, 0xFF]));
    client.download("https://files.example.test/0.jpeg").await.unwrap();
    assert_eq!(transport.requests()[0].header(HEADER), None);
}

#[tokio::test(start_paused = true)]
async fn a_handle_can_carry_an_id_chosen_before_the_call() {
    let transport = Arc::new(RecordingTransport::new());
    let client = builder(&transport).header("X-Client-Request-Id", "from-the-builder").build().unwrap();
    let id = seedream_client::new_client_request_id();
    assert_sdk_form(&id);
    let handle = client.with_client_request_id(&id).unwrap();
    transport.push(server_error()).push(Reply::json(200, &ok_body()));
    let (_, meta) = handle.generate(&request()).await.unwrap().into_parts();
    for sent in transport.requests() {
        assert_eq!(sent.headers.get_all(HEADER).iter().collect::<Vec<_>>(), [id.as_str()]);
    }
    assert_eq!(meta.client_request_id.as_deref(), Some(id.as_str()));
    assert!(client.with_client_request_id("bad\nid").is_err());
}

/// The real transport, noting each attempt's sent and echoed id.
#[derive(Debug)]
struct Noting {
    inner: seedream_client::HyperTransport,
    seen: std::sync::Mutex<Vec<(Option<String>, Option<String>)>>,
}

#[async_trait::async_trait]
impl seedream_client::Transport for Noting {
    async fn send(
        &self,
        request: http::Request<seedream_client::RequestBody>,
    ) -> Result<http::Response<seedream_client::ResponseBody>, seedream_client::TransportError> {
        let text = |headers: &http::HeaderMap| headers.get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let sent = text(request.headers());
        let response = self.inner.send(request).await?;
        self.seen.lock().unwrap().push((sent, text(response.headers())));
        Ok(response)
    }
}

/// Through the emulator's injected rate limit: the retried call keeps its id and the emulator echoes it.
#[tokio::test]
async fn the_emulator_echoes_the_id_of_a_retried_call() {
    let test = async {
        let emulator = seedream_emulator::Emulator::start(Default::default()).await.unwrap();
        let noting = Arc::new(Noting {
            inner: seedream_client::HyperTransport::builder().allow_insecure_http(true).no_proxy().build().unwrap(),
            seen: Default::default(),
        });
        let client = Client::builder()
            .api_key("k")
            .base_url(emulator.base_url())
            .transport(noting.clone())
            .header("x-emulator-fault", "rate-limit;times=1;retry_after=0")
            .retry(RetryPolicy::default().with_max_attempts(3).with_base_delay(Duration::from_millis(5)))
            .build()
            .unwrap();
        let (_, meta) = client.generate(&request()).await.unwrap().into_parts();
        assert_eq!(meta.attempts, 2);
        let id = meta.client_request_id.clone().unwrap();
        assert_sdk_form(&id);
        let seen = noting.seen.lock().unwrap().clone();
        assert_eq!(seen, vec![(Some(id.clone()), Some(id.clone())); 2], "sent and echoed, both attempts");
        emulator.shutdown().await;
    };
    tokio::time::timeout(Duration::from_secs(30), test).await.expect("bounded");
}
