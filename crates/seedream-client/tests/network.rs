//! The client against hostile or unusual networks, on loopback: HTTP proxies (CONNECT tunnels and
//! absolute-form), slow servers and deadlines, bodies announced too large, servers echoing secrets
//! or sending redirects, and the bound on parallel downloads. Every test is bounded in time; proxy
//! settings come from builder options here (the environment is tested in `proxy_env.rs`).

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{ProxyMode, TestProxy, respond, server};
use futures_util::StreamExt as _;
use seedream_client::{CallPhase, Client, ClientBuilder, Error, Proxy, RetryPolicy, TimeoutPhase, TransportErrorKind};
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use seedream_types::{GenerateRequest, ResponseFormat, SEEDREAM_4_0};
use tokio::io::AsyncWriteExt as _;

const KEY: &str = "sk-network-SECRET-7c2e";
const BOUND: Duration = Duration::from_secs(60);

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, test).await.expect("the test took too long")
}

async fn emulator(tls: bool) -> EmulatorHandle {
    Emulator::start(EmulatorConfig { tls, api_keys: vec![KEY.into()], ..Default::default() }).await.unwrap()
}

fn client_for(base: &str) -> ClientBuilder {
    Client::builder().api_key(KEY).base_url(base).retry(RetryPolicy::none())
}

fn request() -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn").with_size(seedream_types::SizePreset::OneK)
}

// ---- proxies ----

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_and_verifies_the_origin() {
    bounded(async {
        let emulator = emulator(true).await;
        let proxy = TestProxy::start(ProxyMode::Forward).await;
        let pem = emulator.certificate_pem().unwrap();
        let client = client_for(&emulator.base_url()).trust_certificate_pem(pem).proxy(proxy.url()).build().unwrap();
        let response = client.generate(&request()).await.unwrap();
        let image = response.images().next().unwrap().clone();
        client.into_image_bytes(image).await.unwrap();
        assert!(proxy.connections() >= 1);
        let lines = proxy.request_lines.lock().unwrap().clone();
        let origin = emulator.base_url().trim_start_matches("https://").split('/').next().unwrap().to_owned();
        assert!(lines.iter().all(|line| *line == format!("CONNECT {origin}")), "{lines:?}");

        // TLS runs to the origin inside the tunnel: without the origin's certificate it fails.
        let untrusting = client_for(&emulator.base_url()).proxy(proxy.url()).build().unwrap();
        let error = untrusting.generate(&request()).await.unwrap_err();
        assert!(matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect), "{error:?}");
        // The cause is in the error's chain, not its own message.
        let chain = seedream_client::text::with_causes(&error);
        assert!(chain.contains("certificate"), "{chain}");
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn http_goes_to_the_proxy_in_absolute_form_with_basic_credentials() {
    bounded(async {
        let emulator = emulator(false).await;
        let proxy = TestProxy::start(ProxyMode::Forward).await;
        let with_credentials = format!("http://alice:pa%3Ass-PROXYSECRET@{}", proxy.addr);
        let client = client_for(&emulator.base_url()).proxy(&with_credentials).build().unwrap();
        assert!(!format!("{client:?}").contains("PROXYSECRET"));
        client.generate(&request()).await.unwrap();
        let lines = proxy.request_lines.lock().unwrap().clone();
        assert_eq!(lines, [format!("POST {}/images/generations", emulator.base_url())], "absolute-form");
        let expected = base64::engine::general_purpose::STANDARD.encode("alice:pa:ss-PROXYSECRET");
        assert_eq!(*proxy.authorizations.lock().unwrap(), [format!("Basic {expected}")]);
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn no_proxy_lists_and_no_proxy_bypass_the_proxy() {
    bounded(async {
        let emulator = emulator(false).await;
        let proxy = TestProxy::start(ProxyMode::Forward).await;
        let excepted = Proxy::all(proxy.url()).with_no_proxy("example.com, 127.0.0.1");
        let client = client_for(&emulator.base_url()).proxy_settings(excepted).build().unwrap();
        client.generate(&request()).await.unwrap();
        let direct = client_for(&emulator.base_url()).no_proxy().build().unwrap();
        direct.generate(&request()).await.unwrap();
        assert_eq!(proxy.connections(), 0);
        // Loopback is proxied when nothing excepts it (curl's rule).
        let proxied = client_for(&emulator.base_url()).proxy(proxy.url()).build().unwrap();
        proxied.generate(&request()).await.unwrap();
        assert_eq!(proxy.connections(), 1);
        emulator.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn unreachable_refusing_and_challenging_proxies_are_typed_errors_naming_them() {
    bounded(async {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_addr = closed.local_addr().unwrap();
        drop(closed);
        let refusing = TestProxy::start(ProxyMode::Refuse).await;
        let challenging = TestProxy::start(ProxyMode::AskCredentials).await;
        for (addr, base, says) in [
            (closed_addr, "https://api.example.test/v1", "cannot connect"),
            (closed_addr, "http://127.0.0.1:9/v1", "cannot connect"),
            (refusing.addr, "https://api.example.test/v1", "refused the CONNECT tunnel"),
            (challenging.addr, "https://api.example.test/v1", "asks for credentials"),
        ] {
            let client = client_for(base).proxy(format!("http://bob:PROXYSECRET@{addr}")).build().unwrap();
            let error = client.generate(&request()).await.unwrap_err();
            let Error::Transport(transport) = &error else { panic!("{base} via {addr}: {error:?}") };
            assert_eq!(transport.kind(), TransportErrorKind::Proxy, "{error}");
            assert_eq!(transport.proxy(), Some(format!("http://{addr}").as_str()));
            let text = format!("{error} {error:?}");
            assert!(text.contains(&format!("http://{addr}")) && text.contains(says), "{text}");
            assert!(!text.contains("PROXYSECRET") && !text.contains("bob"), "{text}");
        }
        // A plain-http request through a refusing proxy is the proxy's 403, as an API error.
        let client = client_for("http://127.0.0.1:9/v1").proxy(refusing.url()).build().unwrap();
        assert_eq!(client.generate(&request()).await.unwrap_err().api().map(|api| api.status), Some(403));
    })
    .await;
}

#[test]
fn unsupported_proxy_urls_are_configuration_errors_without_credentials() {
    for url in ["socks5://carol:PROXYSECRET@127.0.0.1:1080", "https://carol:PROXYSECRET@127.0.0.1:1", "http://"] {
        let error = client_for("https://api.example.test/v1").proxy(url).build().unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{url}: {error:?}");
        assert!(!error.to_string().contains("PROXYSECRET"), "{error}");
    }
}

// ---- deadlines ----

fn json_headers(len: usize) -> String {
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n")
}

/// A server that answers every request with headers at once, then `chunk` every `every`, forever.
async fn trickling(content_type: &'static str, chunk: &'static [u8], every: Duration) -> String {
    let addr = server(move |_head, mut stream| async move {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        loop {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
            if stream.write_all(&framed).await.is_err() {
                return None;
            }
            tokio::time::sleep(every).await;
        }
    })
    .await;
    format!("http://{addr}/v1")
}

fn with_overall(base: &str, overall: Duration) -> Client {
    let timeouts = seedream_client::Timeouts::default().with_idle(Duration::from_secs(30)).with_overall(overall);
    client_for(base).timeouts(timeouts).build().unwrap()
}

#[tokio::test]
async fn a_body_trickling_one_byte_at_a_time_ends_at_the_deadline_naming_the_body() {
    bounded(async {
        let base = trickling("application/json", b" ", Duration::from_millis(100)).await;
        let started = Instant::now();
        let error = with_overall(&base, Duration::from_millis(800)).generate(&request()).await.unwrap_err();
        assert!(
            matches!(error, Error::Timeout { phase: TimeoutPhase::Overall, during: CallPhase::Body, .. }),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(error.to_string(), "the overall deadline passed while reading the answer");
    })
    .await;
}

#[tokio::test]
async fn stream_keep_alives_forever_end_at_the_deadline_naming_the_stream() {
    bounded(async {
        let base = trickling("text/event-stream", b": keep-alive\n\n", Duration::from_millis(50)).await;
        let client = with_overall(&base, Duration::from_millis(800));
        let mut stream = client.generate(&request()).stream().await.unwrap();
        let started = Instant::now();
        let error = stream.next().await.unwrap().unwrap_err();
        assert!(
            matches!(error, Error::Timeout { phase: TimeoutPhase::Overall, during: CallPhase::Stream, .. }),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    })
    .await;
}

#[tokio::test]
async fn one_deadline_covers_a_call_and_its_downloads() {
    bounded(async {
        // The API answers at once with a link to a download that trickles forever.
        let slow = trickling("image/jpeg", b"\xff", Duration::from_millis(100)).await;
        let link = format!("{slow}/image.jpeg");
        let api = server(move |_head, mut stream| {
            let body = serde_json::json!({"data": [{"url": link}]}).to_string();
            async move {
                respond(&mut stream, "200 OK", &[("Content-Type", "application/json")], body.as_bytes()).await;
                Some(stream)
            }
        })
        .await;
        let client = client_for(&format!("http://{api}/v1")).build().unwrap();
        let job = client.with_deadline(Duration::from_millis(800));
        let response = job.generate(&request()).await.unwrap();
        let image = response.images().next().unwrap().clone();
        let started = Instant::now();
        let error = job.into_image_bytes(image).await.unwrap_err();
        assert!(
            matches!(error, Error::Timeout { phase: TimeoutPhase::Overall, during: CallPhase::Download, .. }),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(error.to_string().contains("downloading an image"), "{error}");
    })
    .await;
}

// ---- limits ----

#[tokio::test]
async fn a_json_body_announced_over_the_limit_is_refused_before_it_is_read() {
    bounded(async {
        // Announces 10 GB and sends nothing: only the announcement can end the call in time.
        let addr = server(|_head, mut stream| async move {
            let _ = stream.write_all(json_headers(10_000_000_000).as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Some(stream)
        })
        .await;
        let client = client_for(&format!("http://{addr}/v1")).max_response_bytes(1 << 20).build().unwrap();
        let started = Instant::now();
        let error = client.generate(&request()).await.unwrap_err();
        assert!(matches!(error, Error::BodyTooLarge { limit } if limit == 1 << 20), "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "refused at once, not after a timeout");
    })
    .await;
}

#[tokio::test]
async fn downloads_run_at_most_max_parallel_at_once() {
    bounded(async {
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (r, m) = (running.clone(), most.clone());
        let files = server(move |_head, mut stream| {
            let (running, most) = (r.clone(), m.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                respond(&mut stream, "200 OK", &[("Content-Type", "image/jpeg")], b"\xff\xd8\xff\xe0").await;
                Some(stream)
            }
        })
        .await;
        for (max, expected) in [(None, seedream_client::DEFAULT_MAX_PARALLEL_DOWNLOADS), (Some(2), 2)] {
            most.store(0, Ordering::SeqCst);
            let mut builder = client_for("https://api.example.test/v1");
            if let Some(max) = max {
                builder = builder.max_parallel_downloads(max);
            }
            let client = builder.build().unwrap();
            let downloads = (0..40).map(|i| {
                let client = client.clone();
                let url = format!("http://{files}/{i}.jpeg");
                tokio::spawn(async move { client.download(&url).await })
            });
            for download in futures_util::future::join_all(downloads).await {
                download.unwrap().unwrap();
            }
            assert_eq!(most.load(Ordering::SeqCst), expected);
        }
    })
    .await;
}

#[tokio::test]
async fn downloads_survive_a_server_that_closes_kept_alive_connections_silently() {
    bounded(async {
        let emulator = Emulator::start(EmulatorConfig {
            api_keys: vec![KEY.into()],
            stale_keep_alive: true,
            ..Default::default()
        })
        .await
        .unwrap();
        // Even without retries: a stale pooled connection is the pool's fault, not the server failing.
        for retry in [RetryPolicy::none(), RetryPolicy::default().with_base_delay(Duration::from_millis(10))] {
            let client = client_for(&emulator.base_url()).retry(retry).build().unwrap();
            let mut links = Vec::new();
            for i in 0..10 {
                let request = GenerateRequest::new(SEEDREAM_4_0, format!("lighthouse {i}"))
                    .with_size(seedream_types::SizePreset::OneK)
                    .with_response_format(ResponseFormat::Url);
                let response = client.generate(&request).await.unwrap();
                links.extend(response.data.iter().filter_map(|item| item.image()?.url.clone()));
            }
            // 40 downloads, 4 at a time over the connections the calls above left in the pool.
            let downloads = links.iter().cycle().take(40).map(|url| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move { client.download(&url).await })
            });
            let lost: Vec<String> = futures_util::future::join_all(downloads)
                .await
                .into_iter()
                .filter_map(|done| done.unwrap().err().map(|e| e.to_string()))
                .collect();
            assert!(lost.is_empty(), "{} of 40 downloads lost: {:?}", lost.len(), lost.first());
        }
        assert!(emulator.stats().stale_closes > 0, "the server never closed a kept-alive connection");
        emulator.shutdown().await;
    })
    .await;
}

// ---- output hygiene ----

#[tokio::test]
async fn servers_echoing_the_key_or_proxy_credentials_get_them_redacted() {
    bounded(async {
        let proxy = TestProxy::start(ProxyMode::Forward).await;
        let api = server(|head, mut stream| async move {
            let key = head.header("authorization").unwrap_or("").trim_start_matches("Bearer ").to_owned();
            let proxy = head.header("proxy-authorization").unwrap_or("").to_owned();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(proxy.trim_start_matches("Basic "))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let message = format!("bad key {key} (proxy {decoded})\u{1b}]0;pwned\u{7}");
            let body = serde_json::json!({"error": {"code": "AuthenticationError", "message": message}}).to_string();
            respond(&mut stream, "401 Unauthorized", &[("Content-Type", "application/json")], body.as_bytes()).await;
            Some(stream)
        })
        .await;
        let client = client_for(&format!("http://{api}/v1"))
            .proxy(format!("http://dave:PROXYSECRET@{}", proxy.addr))
            .build()
            .unwrap();
        let error = client.generate(&request()).await.unwrap_err();
        let api = error.api().unwrap();
        assert_eq!(api.message, "bad key <redacted> (proxy <redacted>:<redacted>)\u{1b}]0;pwned\u{7}");
        let text = format!("{error} {error:?}");
        assert!(!text.contains(KEY) && !text.contains("PROXYSECRET"), "{text}");
        // The message keeps its control characters: escaping them for a terminal is the front end's
        // job (the CLI's, checked by its tests/hygiene.rs).
    })
    .await;
}

#[tokio::test]
async fn a_redirect_from_the_api_is_reported_with_its_location() {
    bounded(async {
        let api = server(|_head, mut stream| async move {
            respond(&mut stream, "301 Moved Permanently", &[("Location", "https://new.example.test/v1")], b"").await;
            Some(stream)
        })
        .await;
        let error = client_for(&format!("http://{api}/v1")).build().unwrap().generate(&request()).await.unwrap_err();
        let api = error.api().unwrap();
        assert_eq!((api.status, api.location.as_deref()), (301, Some("https://new.example.test/v1")));
        assert!(error.to_string().contains("redirected to https://new.example.test/v1"), "{error}");
    })
    .await;
}

#[tokio::test]
async fn b64_answers_need_no_download_slot() {
    // The download bound must not throttle images that come inline.
    bounded(async {
        let emulator = emulator(false).await;
        let client = client_for(&emulator.base_url()).max_parallel_downloads(1).build().unwrap();
        let response =
            client.generate(&request().with_response_format(ResponseFormat::B64Json).with_max_images(3)).await;
        let images: Vec<_> = response.unwrap().images().cloned().collect();
        let all = futures_util::future::join_all(images.into_iter().map(|i| client.into_image_bytes(i))).await;
        assert!(all.iter().all(Result::is_ok));
        emulator.shutdown().await;
    })
    .await;
}

// ---- who answered ----

#[tokio::test]
async fn meta_says_synthetic_for_the_emulator_and_not_for_another_server() {
    bounded(async {
        let emulator = emulator(false).await;
        let client = client_for(&emulator.base_url()).build().unwrap();
        let (_, meta) = client.generate(&request()).await.unwrap().into_parts();
        assert!(meta.synthetic, "the emulator sends x-emulator-synthetic: {meta:?}");

        // A server answering the same shape without the emulator's header is taken as the service.
        let body = serde_json::json!({"model": SEEDREAM_4_0, "created": 1_700_000_000,
            "data": [{"url": "http://127.0.0.1:9/x.jpeg", "size": "1024x1024"}]})
        .to_string();
        let plain = server(move |_head, mut stream| {
            let body = body.clone();
            async move {
                respond(
                    &mut stream,
                    "200 OK",
                    &[("Content-Type", "application/json"), ("x-request-id", "r1")],
                    body.as_bytes(),
                )
                .await;
                Some(stream)
            }
        })
        .await;
        let client = client_for(&format!("http://{plain}/v1")).build().unwrap();
        let (_, meta) = client.generate(&request()).await.unwrap().into_parts();
        assert_eq!(meta.request_id.as_deref(), Some("r1"));
        assert!(!meta.synthetic, "{meta:?}");
        emulator.shutdown().await;
    })
    .await;
}
