//! End to end against the loopback emulator, over HTTP and HTTPS: every seed request, edits both
//! ways, streams with a failed image, downloads, and each injected fault's outcome within bounded time.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use seedream_client::{Client, ClientBuilder, Error, RetryPolicy, TimeoutPhase, Timeouts};
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use seedream_types::{
    EditRequest, ErrorClass, GenerateRequest, ImageFile, ImageItem, ModeratedInput, OutputFormat, ResponseFormat,
    SEEDREAM_4_0, SEEDREAM_5_0_LITE, SEEDREAM_5_0_PRO, SizePreset, StreamEvent, Tool,
};

const KEY: &str = "emu-key-SECRET-77";
/// Every test finishes well within this, or fails.
const BOUND: Duration = Duration::from_secs(30);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, test).await.expect("the test took too long")
}

async fn emulator(tls: bool) -> EmulatorHandle {
    emulator_with(EmulatorConfig { tls, api_keys: vec![KEY.into()], ..Default::default() }).await
}

async fn emulator_with(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("the emulator starts")
}

/// Short limits and waits so faults resolve quickly.
fn client_for(emulator: &EmulatorHandle, base: &str) -> ClientBuilder {
    let mut builder = Client::builder()
        .api_key(KEY)
        .base_url(base)
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(2))
                .with_headers(Duration::from_secs(5))
                .with_idle(Duration::from_secs(2)),
        )
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_base_delay(Duration::from_millis(10))
                .with_max_delay(Duration::from_millis(50))
                .with_max_retry_after(Duration::from_millis(200)),
        );
    if let Some(pem) = emulator.certificate_pem() {
        builder = builder.trust_certificate_pem(pem);
    }
    builder
}

fn with_fault(emulator: &EmulatorHandle, fault: &str) -> ClientBuilder {
    client_for(emulator, &emulator.base_url()).header("x-emulator-fault", fault)
}

fn fixtures(kind: &str) -> Vec<(String, GenerateRequest)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap())
        })
        .collect()
}

fn jpeg(side: u32) -> Bytes {
    Bytes::from(seedream_emulator::synthetic_jpeg(side, side, 7, false).unwrap())
}

fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8]) && bytes.ends_with(&[0xFF, 0xD9])
}

fn small_request() -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn").with_size(SizePreset::OneK)
}

async fn check_seed_requests(tls: bool) {
    let emulator = emulator(tls).await;
    for base in [emulator.base_url(), emulator.ark_base_url()] {
        let client = client_for(&emulator, &base).build().unwrap();
        for (name, request) in fixtures("requests") {
            let (response, meta) =
                client.generate(&request).await.unwrap_or_else(|e| panic!("{name} at {base}: {e}")).into_parts();
            assert_eq!(response.data.len(), request.max_output_images(), "{name}");
            assert!(meta.request_id.is_some(), "{name}");
            let first = response.images().next().unwrap_or_else(|| panic!("{name}: no image"));
            let bytes = client.image_bytes(first).await.unwrap_or_else(|e| panic!("{name}: download: {e}"));
            assert!(is_jpeg(&bytes), "{name}: not a JPEG");

            if request.is_stream() {
                let events: Vec<_> = client.generate(&request).stream().await.unwrap().collect().await;
                assert_eq!(events.len(), request.max_output_images() + 1, "{name}: images then completed");
                assert!(matches!(events.last(), Some(Ok(StreamEvent::Completed(_)))), "{name}: {events:?}");
            }
        }
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn every_seed_request_works_over_http() {
    bounded(check_seed_requests(false)).await;
}

#[tokio::test]
async fn every_seed_request_works_over_https() {
    bounded(check_seed_requests(true)).await;
}

#[tokio::test]
async fn https_needs_the_emulators_certificate() {
    bounded(async {
        let emulator = emulator(true).await;
        let client = Client::builder().api_key(KEY).base_url(emulator.base_url()).build().unwrap();
        let error = client.generate(&small_request()).await.unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{error:?}");
        assert!(!format!("{error:?}").contains("SECRET"));
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_seed_edit_form_works_both_ways() {
    bounded(async {
        let emulator = emulator(true).await;
        let seed: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/edits/seed000-form.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let text = |field: &str| seed[field].as_str().unwrap().to_owned();
        let mut edit = EditRequest::new(text("model"), text("prompt"), ImageFile::new("otter.jpeg", jpeg(64)));
        edit.n = Some(seedream_types::ImageCount::Text(text("n")));
        edit.size = Some(seedream_types::Size::from_wire(&text("size")));
        edit.response_format = Some(ResponseFormat::Url);

        // As written, the page's form is invalid (1024x1024 is below 4.5's minimum): caught locally...
        let relay = client_for(&emulator, &emulator.base_url()).build().unwrap();
        let Err(Error::Validation(error)) = relay.edit(&edit).await else { panic!("expected a validation error") };
        assert_eq!(error.fields(), ["size"]);
        // ...and by the service when validation is off.
        let unchecked = client_for(&emulator, &emulator.base_url()).validate_requests(false).build().unwrap();
        let error = unchecked.edit(&edit).await.unwrap_err();
        assert_eq!(error.api().unwrap().class, ErrorClass::InvalidRequest, "{error}");

        edit.size = Some(SizePreset::TwoK.into());
        for base in [emulator.base_url(), emulator.ark_base_url()] {
            let client = client_for(&emulator, &base).build().unwrap();
            let response = client.edit(&edit).await.unwrap_or_else(|e| panic!("{base}: {e}"));
            assert_eq!(response.images().count(), 1, "{base}");
            assert!(is_jpeg(&client.image_bytes(response.images().next().unwrap()).await.unwrap()));
        }
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn edits_send_the_generations_fields_both_ways() {
    bounded(async {
        let emulator = emulator(false).await;
        for base in [emulator.base_url(), emulator.ark_base_url()] {
            let client = client_for(&emulator, &base).build().unwrap();
            // 5.0 pro asked for PNG makes PNG.
            let png = EditRequest::new(SEEDREAM_5_0_PRO, "a poster", ImageFile::new("in.jpeg", jpeg(64)))
                .with_size(SizePreset::OneK)
                .with_output_format(OutputFormat::Png)
                .with_response_format(ResponseFormat::B64Json);
            let response = client.edit(&png).await.unwrap_or_else(|e| panic!("{base}: {e}"));
            let image = response.images().next().unwrap();
            assert_eq!(image.output_format, Some(OutputFormat::Png), "{base}");
            let bytes = client.image_bytes(image).await.unwrap();
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{base}: not a PNG");
            // 5.0 lite streams a group with web search, gathered into one answer that keeps `tools`.
            let streamed = EditRequest::new(SEEDREAM_5_0_LITE, "today in Paris", ImageFile::new("in.jpeg", jpeg(64)))
                .with_n(2)
                .with_size(SizePreset::TwoK)
                .with_stream(true)
                .with_tool(Tool::web_search());
            let response = client.edit(&streamed).await.unwrap_or_else(|e| panic!("{base}: {e}"));
            assert_eq!(response.images().count(), 2, "{base}");
            assert_eq!(response.tools, Some(vec![Tool::web_search()]), "{base}");
            let usage = response.usage.as_ref().unwrap();
            assert_eq!(usage.tool_usage.as_ref().and_then(|t| t.web_search), Some(1), "{base}");
            // Refused locally exactly where generations would be: 4.0 makes JPEG only.
            let jpeg_only = EditRequest::new(SEEDREAM_4_0, "p", ImageFile::new("in.jpeg", jpeg(64)))
                .with_output_format(OutputFormat::Png);
            let Err(Error::Validation(error)) = client.edit(&jpeg_only).await else { panic!("expected a refusal") };
            assert_eq!(error.fields(), ["output_format"]);
        }
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn b64_images_decode_to_jpegs() {
    bounded(async {
        let emulator = emulator(false).await;
        let client = client_for(&emulator, &emulator.ark_base_url()).build().unwrap();
        let request = small_request().with_max_images(2).with_response_format(ResponseFormat::B64Json);
        let response = client.generate(&request).await.unwrap();
        assert_eq!(response.images().count(), 2);
        for image in response.images() {
            assert!(image.b64_json.is_some() && image.url.is_none());
            let copied = client.image_bytes(image).await.unwrap();
            assert!(is_jpeg(&copied));
            assert_eq!(copied.format(), Some(seedream_types::ImageFormat::Jpeg));
            assert_eq!(client.into_image_bytes(image.clone()).await.unwrap(), copied);
        }
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn wrong_keys_are_authentication_errors_without_retry() {
    bounded(async {
        let emulator = emulator(false).await;
        let client = client_for(&emulator, &emulator.base_url()).api_key("wrong-SECRET").build().unwrap();
        let error = client.generate(&small_request()).await.unwrap_err();
        let api = error.api().unwrap();
        assert_eq!((api.status, api.class), (401, ErrorClass::Authentication));
        assert!(api.request_id.is_some());
        assert_eq!(emulator.stats().requests, 1);
        assert!(!format!("{error:?} {error} {client:?}").contains("SECRET"));
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_stream_with_a_moderated_image_goes_on() {
    bounded(async {
        let emulator = emulator(false).await;
        let client = with_fault(&emulator, "moderate;images=1").build().unwrap();
        let mut stream = client.generate(&small_request().with_max_images(3)).stream().await.unwrap();
        assert!(stream.request_id().is_some());
        let mut seen = Vec::new();
        while let Some(event) = stream.next().await {
            seen.push(match event.unwrap() {
                StreamEvent::PartialSucceeded(e) => format!("ok{}", e.image_index),
                StreamEvent::PartialFailed(e) => format!("failed{}:{}", e.image_index, e.error.code),
                StreamEvent::Completed(e) => format!("completed:{:?}", e.usage.and_then(|u| u.generated_images)),
                other => panic!("unexpected {other:?}"),
            });
        }
        assert_eq!(seen, ["ok0", "failed1:OutputImageSensitiveContentDetected", "ok2", "completed:Some(2)"]);

        // Without a stream, the same group comes back with a per-image error.
        let response = client.generate(&small_request().with_max_images(3)).await.unwrap();
        assert!(matches!(&response.data[1], ImageItem::Failed(_)));
        assert_eq!(response.images().count(), 2);
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn moderation_refusals_name_the_input_and_are_never_retried() {
    bounded(async {
        let emulator = emulator(false).await;
        let two = small_request().with_images(["https://example.invalid/a.png", "https://example.invalid/b.png"]);
        let one = small_request().with_image("https://example.invalid/a.png");
        let cases: [(&str, &GenerateRequest, ModeratedInput, Option<&str>); 5] = [
            ("moderate-prompt", &two, ModeratedInput::Prompt, None),
            ("prompt-risk", &two, ModeratedInput::Prompt, None),
            (
                "moderate-input;images=1;reason=PrivacyInformation",
                &two,
                ModeratedInput::InputImage { index: Some(1) },
                Some("PrivacyInformation"),
            ),
            // One image: the answer names none (param `image`), the client knows which.
            (
                "moderate-input;reason=PolicyViolation",
                &one,
                ModeratedInput::InputImage { index: Some(0) },
                Some("PolicyViolation"),
            ),
            ("moderate-input", &two, ModeratedInput::InputImage { index: Some(0) }, None),
        ];
        for (fault, request, input, reason) in cases {
            let before = emulator.stats().requests;
            let error = with_fault(&emulator, fault).build().unwrap().generate(request).await.unwrap_err();
            let moderation = error.moderation().unwrap_or_else(|| panic!("{fault}: {error:?}"));
            assert_eq!((moderation.input, moderation.reason.as_deref()), (input, reason), "{fault}");
            assert_eq!(error.api().unwrap().class, ErrorClass::SensitiveContent, "{fault}");
            assert!(!error.is_retryable(), "{fault}");
            assert_eq!(emulator.stats().requests, before + 1, "{fault} is not retried");
        }
        // Edits know their images too.
        let edit = EditRequest::new(SEEDREAM_4_0, "x", ImageFile::new("a.jpg", jpeg(64).to_vec()));
        let error = with_fault(&emulator, "moderate-input").build().unwrap().edit(&edit).await.unwrap_err();
        assert_eq!(error.moderation().unwrap().input, ModeratedInput::InputImage { index: Some(0) });
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn retryable_faults_are_retried_then_succeed() {
    bounded(async {
        let emulator = emulator(false).await;
        for (fault, attempts) in [
            ("rate-limit;times=1;id=a;retry_after=0", 2),
            ("server-error;times=2;id=b", 3),
            ("bad-gateway;times=1;id=c", 2),
        ] {
            let client = with_fault(&emulator, fault).build().unwrap();
            let (response, meta) =
                client.generate(&small_request()).await.unwrap_or_else(|e| panic!("{fault}: {e}")).into_parts();
            assert_eq!(response.images().count(), 1, "{fault}");
            assert_eq!(meta.attempts, attempts, "{fault}");
        }
        // Retry-After: 5 s asked, 200 ms cap.
        let client = with_fault(&emulator, "rate-limit;times=1;id=d;retry_after=5").build().unwrap();
        let start = Instant::now();
        client.generate(&small_request()).await.unwrap();
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(3), "{waited:?}");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn persistent_and_final_faults_give_typed_errors() {
    bounded(async {
        let emulator = emulator(false).await;
        let request = small_request();

        let error = with_fault(&emulator, "quota").build().unwrap().generate(&request).await.unwrap_err();
        let api = error.api().unwrap();
        assert_eq!((api.status, api.code.as_str(), api.class), (429, "QuotaExceeded", ErrorClass::QuotaExhausted));
        assert_eq!(emulator.stats().requests, 1, "quota is not retried");

        let error = with_fault(&emulator, "server-error").build().unwrap().generate(&request).await.unwrap_err();
        assert_eq!(error.api().unwrap().status, 500);
        assert_eq!(emulator.stats().requests, 4, "three attempts");

        let client = with_fault(&emulator, "bad-gateway").retry(RetryPolicy::none()).build().unwrap();
        let error = client.generate(&request).await.unwrap_err();
        let api = error.api().unwrap();
        assert_eq!(api.status, 502);
        assert!(api.message.contains("Bad Gateway"), "the HTML page's text: {}", api.message);

        let error = with_fault(&emulator, "reset").build().unwrap().generate(&request).await.unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{error:?}");
        let before = emulator.stats().requests;
        let error = with_fault(&emulator, "invalid-json").build().unwrap().generate(&request).await.unwrap_err();
        assert!(matches!(&error, Error::Decode { body_start, .. } if !body_start.is_empty()), "{error:?}");
        assert_eq!(emulator.stats().requests, before + 1, "a decode error is not retried");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn stalls_become_timeouts_naming_the_phase() {
    bounded(async {
        let emulator = emulator(false).await;
        let limits = Timeouts::default()
            .with_connect(Duration::from_secs(2))
            .with_headers(Duration::from_millis(300))
            .with_idle(Duration::from_millis(300));
        let request = small_request();

        let client = with_fault(&emulator, "slow-headers;ms=5000").timeouts(limits).build().unwrap();
        let start = Instant::now();
        let error = client.generate(&request).await.unwrap_err();
        assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Headers, .. }), "{error:?}");
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());

        let client = with_fault(&emulator, "slow-headers;ms=50").build().unwrap();
        client.generate(&request).await.unwrap();

        let client = with_fault(&emulator, "stall;ms=5000").timeouts(limits).build().unwrap();
        let start = Instant::now();
        let error = client.generate(&request).await.unwrap_err();
        assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Idle, .. }), "{error:?}");
        let mut stream = client.generate(&request.clone().with_max_images(2)).stream().await.unwrap();
        assert!(stream.next().await.unwrap().is_ok(), "the first event comes before the stall");
        let error = stream.next().await.unwrap().unwrap_err();
        assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Idle, .. }), "{error:?}");
        assert!(stream.next().await.is_none());
        assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());

        let overall = limits.with_overall(Duration::from_millis(400)).with_headers(Duration::from_secs(5));
        let client = with_fault(&emulator, "slow-headers;ms=5000").timeouts(overall).build().unwrap();
        let error = client.generate(&request).await.unwrap_err();
        assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Overall, .. }), "{error:?}");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn broken_streams_end_with_an_error_item() {
    bounded(async {
        let emulator = emulator(false).await;
        let request = small_request().with_max_images(3);

        let events: Vec<_> = with_fault(&emulator, "stream-cut")
            .build()
            .unwrap()
            .generate(&request)
            .stream()
            .await
            .unwrap()
            .collect()
            .await;
        assert!(matches!(events[..], [Ok(StreamEvent::PartialSucceeded(_)), Err(Error::Transport(_))]), "{events:?}");

        let events: Vec<_> = with_fault(&emulator, "stream-error")
            .build()
            .unwrap()
            .generate(&request)
            .stream()
            .await
            .unwrap()
            .collect()
            .await;
        let [Ok(StreamEvent::PartialSucceeded(_)), Err(error)] = &events[..] else { panic!("{events:?}") };
        assert_eq!(error.api().unwrap().code, "InternalServiceError");

        let events: Vec<_> = with_fault(&emulator, "invalid-json")
            .build()
            .unwrap()
            .generate(&request)
            .stream()
            .await
            .unwrap()
            .collect()
            .await;
        assert!(matches!(events.last(), Some(Err(Error::Decode { .. }))), "{events:?}");

        // Gathered by `generate`, a cut stream is an error too, not a short answer.
        let error =
            with_fault(&emulator, "stream-cut").build().unwrap().generate(&request.clone().with_stream(true)).await;
        assert!(matches!(error, Err(Error::Transport(_))), "{error:?}");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn dropping_a_stream_closes_its_connection() {
    bounded(async {
        let emulator = emulator_with(EmulatorConfig {
            api_keys: vec![KEY.into()],
            image_delay: Duration::from_millis(200),
            ..Default::default()
        })
        .await;
        let client = client_for(&emulator, &emulator.base_url()).build().unwrap();
        let mut stream = client.generate(&small_request().with_max_images(10)).stream().await.unwrap();
        stream.next().await.unwrap().unwrap();
        assert_eq!(emulator.stats().open_connections, 1);
        drop(stream);
        let start = Instant::now();
        while emulator.stats().open_connections > 0 {
            assert!(start.elapsed() < Duration::from_secs(5), "the connection stays open");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn downloads_respect_the_size_limit_and_expiry() {
    bounded(async {
        let emulator = emulator_with(EmulatorConfig {
            api_keys: vec![KEY.into()],
            url_ttl: Duration::from_millis(300),
            ..Default::default()
        })
        .await;
        let client = client_for(&emulator, &emulator.base_url()).build().unwrap();
        let response = client.generate(&small_request()).await.unwrap();
        let image = response.images().next().unwrap();
        let bytes = client.image_bytes(image).await.unwrap();
        assert!(is_jpeg(&bytes));

        let small =
            client_for(&emulator, &emulator.base_url()).max_response_bytes(bytes.len() as u64 - 1).build().unwrap();
        assert!(matches!(small.image_bytes(image).await, Err(Error::BodyTooLarge { .. })));

        tokio::time::sleep(Duration::from_millis(400)).await;
        let error = client.image_bytes(image).await.unwrap_err();
        assert_eq!(error.api().unwrap().status, 403, "{error}");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported() {
    bounded(async {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = Client::builder()
            .api_key(KEY)
            .base_url(format!("http://127.0.0.1:{port}/v1"))
            .retry(
                RetryPolicy::default()
                    .with_base_delay(Duration::from_millis(1))
                    .with_max_delay(Duration::from_millis(5)),
            )
            .build()
            .unwrap();
        let error = client.generate(&small_request()).await.unwrap_err();
        let Error::Transport(transport) = &error else { panic!("{error:?}") };
        assert!(transport.is_connect() && error.is_retryable());
        assert!(!format!("{error:?} {error}").contains("SECRET"));
    })
    .await;
}

#[tokio::test]
async fn https_negotiates_http2_and_plain_http_stays_http1() {
    use seedream_client::{HyperTransport, RequestBody, Transport};
    bounded(async {
        for (tls, version) in [(true, http::Version::HTTP_2), (false, http::Version::HTTP_11)] {
            let emulator = emulator(tls).await;
            let mut builder = HyperTransport::builder();
            if let Some(pem) = emulator.certificate_pem() {
                builder = builder.trust_pem(pem);
            }
            let transport = builder.build().unwrap();
            let request = http::Request::get(format!("{}/files/none.jpeg", emulator.origin()))
                .body(RequestBody::empty())
                .unwrap();
            let response = transport.send(request).await.unwrap();
            assert_eq!((response.status().as_u16(), response.version()), (404, version), "tls {tls}");
            emulator.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_tls_handshake_that_never_finishes_is_a_connect_timeout() {
    bounded(async {
        // Accepts TCP, then says nothing: the TLS handshake never completes.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let client = Client::builder()
            .api_key(KEY)
            .base_url(format!("https://127.0.0.1:{port}/v1"))
            .timeouts(Timeouts::default().with_connect(Duration::from_millis(200)))
            .retry(RetryPolicy::default().with_max_attempts(2).with_base_delay(Duration::from_millis(1)))
            .build()
            .unwrap();
        let start = Instant::now();
        let error = client.generate(&small_request()).await.unwrap_err();
        assert!(matches!(error, Error::Timeout { phase: TimeoutPhase::Connect, .. }), "{error:?}");
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        server.abort();
    })
    .await;
}

#[tokio::test]
async fn the_images_per_minute_limit_is_a_rate_limit_with_retry_after() {
    bounded(async {
        let emulator = emulator_with(EmulatorConfig {
            api_keys: vec![KEY.into()],
            images_per_minute: Some(2),
            ..Default::default()
        })
        .await;
        let client = client_for(&emulator, &emulator.base_url()).build().unwrap();
        client.generate(&small_request().with_max_images(2)).await.unwrap();
        let start = Instant::now();
        let error = client.generate(&small_request()).await.unwrap_err();
        let api = error.api().unwrap();
        assert_eq!((api.status, api.class), (429, ErrorClass::RateLimited), "{error}");
        assert!(api.retry_after.is_some_and(|wait| wait > Duration::ZERO), "{api:?}");
        assert!(error.is_retryable());
        assert_eq!(emulator.stats().requests, 4, "retried twice (waits capped at 200 ms)");
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        emulator.shutdown().await;
    })
    .await;
}
