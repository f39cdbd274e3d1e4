//! Loopback requests per second, the client against a bare hyper client doing the same POSTs to the
//! same emulator, at concurrency 1 and 32. Small responses (one image as a URL).
//!
//! `cargo bench -p seedream-client --bench loopback` prints the figures; without `--bench` (as under
//! `cargo test --all-targets`) it runs for a moment as a smoke test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as BareClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use seedream_client::Client;
use seedream_emulator::{Emulator, EmulatorConfig};
use seedream_types::{GenerateRequest, SEEDREAM_4_0, SizePreset};

const KEY: &str = "bench-key";

#[derive(Clone)]
enum Contender {
    Sdk(Client, Arc<GenerateRequest>),
    Bare(Box<BareClient<HttpConnector, Full<Bytes>>>, http::Uri, Bytes),
}

impl Contender {
    async fn one(&self) {
        match self {
            Contender::Sdk(client, request) => {
                let response = client.generate(request).await.expect("generate");
                assert_eq!(response.data.len(), 1);
            }
            Contender::Bare(client, uri, body) => {
                let request = http::Request::post(uri.clone())
                    .header(http::header::AUTHORIZATION, format!("Bearer {KEY}"))
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .header(http::header::ACCEPT, "application/json")
                    .header(http::header::USER_AGENT, "bare-hyper")
                    .body(Full::new(body.clone()))
                    .expect("request");
                let response = client.request(request).await.expect("bare request");
                assert!(response.status().is_success());
                let body = response.into_body().collect().await.expect("body").to_bytes();
                assert!(!body.is_empty());
            }
        }
    }
}

/// Requests per second with `concurrency` tasks looping for `time`.
async fn rate(contender: &Contender, concurrency: usize, time: Duration) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + time;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (contender, done) = (contender.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    contender.one().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let (time, rounds) = if full { (Duration::from_secs(2), 5) } else { (Duration::from_millis(200), 1) };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let emulator =
            Emulator::start(EmulatorConfig { api_keys: vec![KEY.into()], ..Default::default() }).await.expect("emulator");
        let request = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn").with_size(SizePreset::OneK);
        let body = Bytes::from(serde_json::to_vec(&request).expect("json"));
        let sdk = Contender::Sdk(
            Client::builder().api_key(KEY).base_url(emulator.base_url()).build().expect("client"),
            Arc::new(request),
        );
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let bare = Contender::Bare(
            Box::new(BareClient::builder(TokioExecutor::new()).build(connector)),
            format!("{}/images/generations", emulator.base_url()).parse().expect("uri"),
            body,
        );
        // Warm up both pools.
        rate(&sdk, 32, time / 4).await;
        rate(&bare, 32, time / 4).await;
        println!("loopback POST /v1/images/generations, {} rounds of {:?} each, medians:", rounds, time);
        for concurrency in [1, 32] {
            let (mut sdk_rates, mut bare_rates) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                bare_rates.push(rate(&bare, concurrency, time).await);
                sdk_rates.push(rate(&sdk, concurrency, time).await);
            }
            let (sdk_rate, bare_rate) = (median(sdk_rates), median(bare_rates));
            println!(
                "  concurrency {concurrency:>2}: seedream-client {sdk_rate:>8.0} req/s, bare hyper {bare_rate:>8.0} req/s, ratio {:.3}",
                sdk_rate / bare_rate
            );
        }
        emulator.shutdown().await;
    });
}
