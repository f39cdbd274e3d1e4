//! What the client traces, seen by a subscriber that keeps every span and event as text: each call's
//! span and closing event name the request id, retries and downloads are events, and neither the key
//! nor a header value ever appears; the prompt only at `trace`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seedream_client::{Client, RetryPolicy};
use seedream_emulator::{Emulator, EmulatorConfig};
use seedream_types::{GenerateRequest, ResponseFormat, SEEDREAM_4_0, SizePreset};
use std::future::IntoFuture as _;
use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber as _;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

const KEY: &str = "emu-key-SECRET-77";
const PROMPT: &str = "a lighthouse painted by PROMPT-WORDS";

/// Every span and event up to `max`, one line each: `LEVEL name: field=value …`.
#[derive(Clone)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next: Arc<AtomicU64>,
    max: Level,
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = Line(format!("{} span {}:", span.metadata().level(), span.metadata().name()));
        span.record(&mut line);
        self.lines.lock().unwrap().push(line.0);
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = Line("record:".into());
        values.record(&mut line);
        self.lines.lock().unwrap().push(line.0);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("{} {}:", event.metadata().level(), event.metadata().target()));
        event.record(&mut line);
        self.lines.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Capture {
    fn new(max: Level) -> Self {
        Self { lines: Arc::default(), next: Arc::default(), max }
    }
    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }
}

async fn traced_call(max: Level) -> (String, String) {
    let emulator = Emulator::start(EmulatorConfig { api_keys: vec![KEY.into()], ..Default::default() }).await.unwrap();
    let client = Client::builder()
        .api_key(KEY)
        .base_url(emulator.base_url())
        .header("x-emulator-fault", "rate-limit;times=1;retry_after=0")
        .header("x-custom-token", "HEADER-VALUE-SECRET")
        .retry(RetryPolicy::default().with_base_delay(Duration::from_millis(5)))
        .build()
        .unwrap();
    let request = GenerateRequest::new(SEEDREAM_4_0, PROMPT)
        .with_size(SizePreset::OneK)
        .with_response_format(ResponseFormat::Url);
    let capture = Capture::new(max);
    let (response, meta) =
        client.generate(&request).into_future().with_subscriber(capture.clone()).await.unwrap().into_parts();
    let image = response.images().next().unwrap().clone();
    client.image_bytes(&image).with_subscriber(capture.clone()).await.unwrap();
    emulator.shutdown().await;
    (capture.text(), meta.request_id.unwrap())
}

#[tokio::test]
async fn each_call_names_its_request_id_and_never_the_key() {
    let (text, request_id) = tokio::time::timeout(Duration::from_secs(30), traced_call(Level::DEBUG)).await.unwrap();
    assert!(text.contains("span seedream.call:"), "{text}");
    assert!(text.contains("model=\"doubao-seedream-4-0"), "the span names the model: {text}");
    assert!(text.contains("endpoint=\"/v1/images/generations\""), "{text}");
    assert!(text.contains("client_request_id=\""), "{text}");
    let answered = text.lines().find(|l| l.contains("message=answered")).unwrap_or_else(|| panic!("{text}"));
    assert!(answered.contains(&format!("request_id=\"{request_id}\"")), "{answered}");
    assert!(answered.contains("attempts=2") && answered.contains("status=200"), "{answered}");
    assert!(text.lines().any(|l| l.contains("retrying") && l.contains("attempt=1")), "{text}");
    assert!(text.contains("span seedream.download:") && text.contains("downloaded"), "{text}");
    assert!(text.lines().any(|l| l.contains("connecting") && l.contains("proxy=\"direct\"")), "{text}");
    for secret in ["SECRET", "Bearer", "HEADER-VALUE"] {
        assert!(!text.contains(secret), "{secret} traced: {text}");
    }
    assert!(!text.contains("PROMPT-WORDS"), "the prompt is for trace only: {text}");
    // The links' query (a pre-signed link's signature) is not traced either.
    let link = text.lines().find(|l| l.contains("span seedream.download:")).unwrap();
    assert!(!link.contains('?'), "{link}");
}

#[tokio::test]
async fn the_prompt_shows_at_trace_level_only() {
    let (text, _) = tokio::time::timeout(Duration::from_secs(30), traced_call(Level::TRACE)).await.unwrap();
    let prompt = text.lines().find(|l| l.contains("PROMPT-WORDS")).unwrap_or_else(|| panic!("{text}"));
    assert!(prompt.starts_with("TRACE"), "{prompt}");
    assert!(!text.contains("SECRET"), "{text}");
}
