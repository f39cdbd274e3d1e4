//! Loopback requests per second, the client against a bare hyper client doing the same POSTs to the
//! same emulator, at concurrency 1 and 32. Small responses (one image as a URL).
//!
//! `cargo bench -p seedream-client --bench loopback` prints the figures; without `--bench` (as under
//! `cargo test --all-targets`) it runs for a moment as a smoke test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as BareClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use seedream_client::{Client, HyperTransport, RequestBody, Transport as _};
use seedream_emulator::{Emulator, EmulatorConfig};
use seedream_types::{GenerateRequest, ImagesResponse, SEEDREAM_4_0, SizePreset};

const KEY: &str = "bench-key";

#[derive(Clone)]
enum Contender {
    Sdk(Client, Arc<GenerateRequest>),
    /// The client's transport alone: where the client's overhead is, if any.
    Transport(Box<HyperTransport>, http::Uri, Bytes),
    Bare(Box<BareClient<HttpConnector, Full<Bytes>>>, http::Uri, Bytes),
    /// The bare client that also parses the answer with serde, as any caller must: the same work.
    BareParsing(Box<BareClient<HttpConnector, Full<Bytes>>>, http::Uri, Bytes),
}

impl Contender {
    async fn one(&self) {
        match self {
            Contender::Sdk(client, request) => {
                let response = client.generate(request).await.expect("generate");
                assert_eq!(response.data.len(), 1);
            }
            Contender::Transport(transport, uri, body) => {
                let request = http::Request::post(uri.clone())
                    .header(http::header::AUTHORIZATION, format!("Bearer {KEY}"))
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .header(http::header::ACCEPT, "application/json")
                    .header(http::header::USER_AGENT, "transport")
                    .body(RequestBody::from(body.clone()))
                    .expect("request");
                let response = transport.send(request).await.expect("transport request");
                assert!(response.status().is_success());
                let mut body = response.into_body();
                let mut len = 0;
                while let Some(chunk) = body.next().await {
                    len += chunk.expect("chunk").len();
                }
                assert!(len > 0);
            }
            Contender::Bare(client, uri, body) | Contender::BareParsing(client, uri, body) => {
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
                if matches!(self, Contender::BareParsing(..)) {
                    let parsed: ImagesResponse = serde_json::from_slice(&body).expect("parse");
                    assert_eq!(parsed.data.len(), 1);
                }
            }
        }
    }
}

/// CPU time this process has used (user + system), from `/proc/self/stat`; zero where unavailable.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10) // 100 ticks per second on Linux
}

/// A measurement: requests per second, and CPU time per request (client and emulator together).
#[derive(Clone, Copy)]
struct Rate {
    per_second: f64,
    cpu_per_request: Duration,
}

/// Runs `concurrency` tasks looping for `time`.
async fn rate(contender: &Contender, concurrency: usize, time: Duration) -> Rate {
    let done = Arc::new(AtomicU64::new(0));
    let cpu = cpu_time();
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
    let requests = done.load(Ordering::Relaxed).max(1);
    Rate {
        per_second: requests as f64 / start.elapsed().as_secs_f64(),
        cpu_per_request: (cpu_time() - cpu) / u32::try_from(requests).unwrap_or(u32::MAX),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    // Short rounds, alternating, compared pairwise: the machine may be busy with other work, and
    // neighbouring measurements see the same load.
    let (time, rounds) = if full { (Duration::from_millis(500), 15) } else { (Duration::from_millis(100), 1) };
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
        let uri: http::Uri = format!("{}/images/generations", emulator.base_url()).parse().expect("uri");
        let transport = Contender::Transport(Box::new(HyperTransport::new().expect("transport")), uri.clone(), body.clone());
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let bare_client = Box::new(BareClient::builder(TokioExecutor::new()).build(connector));
        let bare_parsing = Contender::BareParsing(bare_client.clone(), uri.clone(), body.clone());
        let bare = Contender::Bare(bare_client, uri, body);
        // `LOOPBACK_ONLY=sdk|transport|parsing|bare` runs one contender at concurrency 32 (for profiling).
        if let Ok(only) = std::env::var("LOOPBACK_ONLY") {
            let contender = match only.as_str() {
                "sdk" => &sdk,
                "transport" => &transport,
                "parsing" => &bare_parsing,
                _ => &bare,
            };
            println!("{only}: {:.0} req/s", rate(contender, 32, time * 10).await.per_second);
            return;
        }
        // Warm up the pools.
        for contender in [&sdk, &transport, &bare, &bare_parsing] {
            rate(contender, 32, time / 4).await;
        }
        println!(
            "loopback POST /v1/images/generations, {rounds} alternating rounds of {time:?}; medians (req/s ratio: median \
             of the rounds' ratios; CPU: whole process, emulator included)"
        );
        for concurrency in [1, 32] {
            let mut runs: Vec<[Rate; 4]> = Vec::new();
            for _ in 0..rounds {
                let bare = rate(&bare, concurrency, time).await;
                let sdk = rate(&sdk, concurrency, time).await;
                let transport = rate(&transport, concurrency, time).await;
                let parsing = rate(&bare_parsing, concurrency, time).await;
                runs.push([sdk, transport, parsing, bare]);
            }
            let of = |i: usize, f: &dyn Fn(&Rate) -> f64| median(runs.iter().map(|r| f(&r[i])).collect());
            let ratio = |i: usize| median(runs.iter().map(|r| r[i].per_second / r[3].per_second).collect());
            let cpu = |i: usize| of(i, &|r| r.cpu_per_request.as_secs_f64() * 1e6);
            println!("  concurrency {concurrency:>2}:");
            let names = ["seedream-client", "HyperTransport alone", "bare hyper + serde", "bare hyper"];
            for (i, name) in names.iter().enumerate() {
                println!(
                    "    {name:<21} {:>7.0} req/s  ratio to bare {:.3}  CPU {:>5.1} µs/request (ratio {:.3})",
                    of(i, &|r| r.per_second),
                    ratio(i),
                    cpu(i),
                    cpu(3) / cpu(i)
                );
            }
        }
        emulator.shutdown().await;
    });
}
