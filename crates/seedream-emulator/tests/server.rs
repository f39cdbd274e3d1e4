//! The server itself: HTTPS with the exposed certificate (HTTP/1.1 and HTTP/2), HTTP/2 without TLS,
//! 64 concurrent requests, and a shutdown that ends every connection and task without leaks.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

const V40: &str = "doubao-seedream-4-0-250828";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_works_with_the_exposed_certificate_over_http1_and_http2() {
    let emulator = Emulator::start(EmulatorConfig { tls: true, ..EmulatorConfig::default() }).await.unwrap();
    assert!(emulator.base_url().starts_with("https://127.0.0.1:"));
    let pem = emulator.certificate_pem().expect("a certificate with tls");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    for (h2, version) in [(false, http::Version::HTTP_11), (true, http::Version::HTTP_2)] {
        let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls.clone()).https_only();
        let connector = if h2 { builder.enable_http2().build() } else { builder.enable_http1().build() };
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
        let url = format!("{}/images/generations", emulator.ark_base_url());
        let body = json!({"model": V40, "prompt": "p", "size": "1K"}).to_string();
        let request = post(&url, body, &[]);
        let response = tokio::time::timeout(TIMEOUT, client.request(request)).await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), version);
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let link = json["data"][0]["url"].as_str().unwrap();
        assert!(link.starts_with("https://127.0.0.1:"), "{link}");
        let image = tokio::time::timeout(TIMEOUT, client.get(link.parse().unwrap())).await.unwrap().unwrap();
        assert_eq!(image.status(), 200);
    }
    // A client that does not trust the certificate is refused.
    let untrusted = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        )
        .https_only()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(untrusted);
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let refused = tokio::time::timeout(TIMEOUT, client.request(post(&url, "{}", &[]))).await.unwrap();
    assert!(refused.is_err());
    tokio::time::timeout(TIMEOUT, emulator.shutdown()).await.unwrap();
}

#[tokio::test]
async fn plain_http2_with_prior_knowledge_works() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client: HttpClient = Client::builder(TokioExecutor::new()).http2_only(true).build_http();
    let url = format!("{}/images/generations", emulator.base_url());
    let body = json!({"model": V40, "prompt": "p", "size": "1K", "stream": true});
    let response =
        tokio::time::timeout(TIMEOUT, client.request(post(&url, body.to_string(), &[]))).await.unwrap().unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    assert_eq!(parse_sse(&body).last().unwrap().data, "[DONE]");
    drop(client);
    tokio::time::timeout(TIMEOUT, emulator.shutdown()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_requests_all_succeed() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let format = if i % 2 == 0 { "b64_json" } else { "url" };
                let body = json!({"model": V40, "prompt": format!("prompt {}", i % 8), "size": "1K",
                                  "response_format": format, "stream": i % 4 == 3});
                post_json(&client, &url, &body, &[]).await
            })
        })
        .collect();
    for task in tasks {
        let answer = tokio::time::timeout(TIMEOUT, task).await.unwrap().unwrap();
        assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    }
    let stats = emulator.stats();
    assert_eq!(stats.requests, 64);
    assert_eq!(stats.images_generated, 64);
    drop(client);
    eventually("connections to close", || emulator.stats().open_connections == 0).await;
    tokio::time::timeout(TIMEOUT, emulator.shutdown()).await.unwrap();
}

#[tokio::test]
async fn connections_are_counted_and_shutdown_ends_idle_and_busy_ones() {
    let config = EmulatorConfig { image_delay: Duration::from_secs(30), ..EmulatorConfig::default() };
    let emulator = Emulator::start(config).await.unwrap();
    let quick = Emulator::start(EmulatorConfig::default()).await.unwrap();
    // An idle keep-alive connection held by a pooled client.
    let client = client();
    let url = format!("{}/images/generations", quick.base_url());
    assert_eq!(post_json(&client, &url, &json!({"model": V40, "prompt": "p", "size": "1K"}), &[]).await.status, 200);
    assert_eq!(quick.stats().open_connections, 1);
    assert_eq!(quick.stats().connections, 1);
    drop(client);
    eventually("the dropped client's connection to close", || quick.stats().open_connections == 0).await;
    eventually("only the accept loop to run", || quick.stats().tasks == 1).await;
    quick.shutdown().await;
    // A request in the middle of a 30-second delay, and a stream in the middle of one.
    let addr = emulator.addr();
    let body = json!({"model": V40, "prompt": "p", "size": "1K"});
    let plain = raw_post("/v1/images/generations", &body, "");
    let busy = tokio::spawn(async move { raw(addr, &plain, TIMEOUT).await });
    let mut stream_body = body.clone();
    stream_body["stream"] = json!(true);
    let stream = raw_post("/v1/images/generations", &stream_body, "");
    let streaming = tokio::spawn(async move { raw(addr, &stream, TIMEOUT).await });
    eventually("both requests to arrive", || emulator.stats().requests == 2).await;
    assert_eq!(emulator.stats().open_connections, 2);
    let started = Instant::now();
    tokio::time::timeout(TIMEOUT, emulator.shutdown()).await.expect("shutdown hung");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    for task in [busy, streaming] {
        let (_, end) = tokio::time::timeout(TIMEOUT, task).await.unwrap().unwrap();
        assert_ne!(end, RawEnd::Silent, "the connection must be ended by shutdown");
    }
    // Nothing listens any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
