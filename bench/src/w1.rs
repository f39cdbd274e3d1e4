//! W1: many small answers. Each contender posts the same request and parses the same one-`url`
//! answer into `seedream_types::ImagesResponse`; measured: requests per second and this process's
//! CPU time per request (the server runs in another process).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use seedream_types::{GenerateRequest, ImagesResponse, SEEDREAM_4_0, SizePreset};
use serde_json::{Value, json};

use crate::sys::process_cpu;

pub const KEY: &str = "bench-key";

/// The W1 contenders, in the order of the report. The floor (bare hyper) comes second so rounds
/// that rotate the order do not always start with the same one.
pub const NAMES: [&str; 3] = ["seedream-client", "hyper+serde_json", "reqwest+serde_json"];

/// One contender, ready to send.
#[derive(Clone)]
pub enum Contender {
    /// `Client::generate`, the documented call (validation and serialization included).
    Sdk(seedream_client::Client, Arc<GenerateRequest>),
    /// hyper-util's legacy pooled client: serialize, POST, collect, `serde_json::from_slice`.
    Hyper(Box<LegacyClient<HttpConnector, Full<Bytes>>>, http::Uri, Arc<GenerateRequest>),
    /// reqwest without default features (plain http/1): the same steps.
    Reqwest(reqwest::Client, String, Arc<GenerateRequest>),
}

/// The request every contender sends.
pub fn request() -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn").with_size(SizePreset::TwoK)
}

/// The three contenders for a server at `base` (`http://127.0.0.1:N/v1`).
pub fn contenders(base: &str) -> Result<Vec<Contender>, String> {
    let request = Arc::new(request());
    let sdk = seedream_client::Client::builder().api_key(KEY).base_url(base).build().map_err(|e| e.to_string())?;
    let url = format!("{base}/images/generations");
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let hyper = Box::new(LegacyClient::builder(TokioExecutor::new()).build(connector));
    let reqwest = reqwest::Client::builder().no_proxy().tcp_nodelay(true).build().map_err(|e| e.to_string())?;
    Ok(vec![
        Contender::Sdk(sdk, request.clone()),
        Contender::Hyper(hyper, uri, request.clone()),
        Contender::Reqwest(reqwest, url, request),
    ])
}

/// The floor: one generations call with bare hyper-util, the answer parsed by serde_json (W1 and W2).
pub async fn floor_generate(
    client: &LegacyClient<HttpConnector, Full<Bytes>>,
    uri: http::Uri,
    request: &GenerateRequest,
) -> Result<ImagesResponse, String> {
    let body = serde_json::to_vec(request).map_err(|e| e.to_string())?;
    let request = http::Request::post(uri)
        .header(http::header::AUTHORIZATION, format!("Bearer {KEY}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

impl Contender {
    /// One request, answer parsed.
    pub async fn one(&self) -> Result<ImagesResponse, String> {
        match self {
            Contender::Sdk(client, request) => {
                client.generate(request).await.map(|output| output.into_inner()).map_err(|e| e.to_string())
            }
            Contender::Hyper(client, uri, request) => floor_generate(client, uri.clone(), request).await,
            Contender::Reqwest(client, url, request) => {
                let body = serde_json::to_vec(&**request).map_err(|e| e.to_string())?;
                let response = client
                    .post(url)
                    .bearer_auth(KEY)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| e.to_string())?;
                let body = response.bytes().await.map_err(|e| e.to_string())?;
                serde_json::from_slice(&body).map_err(|e| e.to_string())
            }
        }
    }
}

/// One measurement.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub requests_per_second: f64,
    pub cpu_us_per_request: f64,
}

/// `concurrency` tasks, each sending requests one after another until `time` has passed.
pub async fn rate(contender: &Contender, concurrency: usize, time: Duration) -> Result<Rate, String> {
    let done = Arc::new(AtomicU64::new(0));
    let cpu = process_cpu();
    let start = Instant::now();
    let deadline = start + time;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (contender, done) = (contender.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let response = contender.one().await?;
                    if response.data.len() != 1 {
                        return Err(format!("{} items in the answer, not 1", response.data.len()));
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let (elapsed, cpu) = (start.elapsed(), process_cpu() - cpu);
    let requests = done.load(Ordering::Relaxed).max(1) as f64;
    Ok(Rate {
        requests_per_second: requests / elapsed.as_secs_f64(),
        cpu_us_per_request: cpu.as_secs_f64() * 1e6 / requests,
    })
}

/// Warms every contender's pool, then `rounds` rounds at each concurrency, the contenders' order
/// rotating from round to round. Returns `[{"concurrency": c, "rounds": [{name: {metric: x}}]}]`.
pub async fn run(base: &str, concurrencies: &[usize], rounds: usize, time: Duration) -> Result<Value, String> {
    let contenders = contenders(base)?;
    let mut out = Vec::new();
    for &concurrency in concurrencies {
        for contender in &contenders {
            rate(contender, concurrency, time / 2).await?;
        }
        let mut measured = Vec::new();
        for round in 0..rounds {
            let mut row = serde_json::Map::new();
            for i in 0..contenders.len() {
                let at = (round + i) % contenders.len();
                let rate = rate(&contenders[at], concurrency, time).await?;
                row.insert(
                    NAMES[at].to_owned(),
                    json!({
                        "requests_per_second": rate.requests_per_second,
                        "cpu_us_per_request": rate.cpu_us_per_request,
                    }),
                );
            }
            eprintln!(
                "  W1 c{concurrency} round {}/{rounds}: {}",
                round + 1,
                NAMES
                    .iter()
                    .map(|name| format!(
                        "{name} {:.0} req/s {:.1} µs",
                        row[*name]["requests_per_second"].as_f64().unwrap_or_default(),
                        row[*name]["cpu_us_per_request"].as_f64().unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            measured.push(Value::Object(row));
        }
        out.push(json!({ "concurrency": concurrency, "rounds": measured }));
    }
    Ok(Value::Array(out))
}

/// `w1-fixed`: exactly `requests` W1 requests through the contender `name`, `concurrency` at a time,
/// then this process's CPU µs per request on stdout. The same work every run, so instruction counts
/// (callgrind) and system calls (`strace -c`) compare contenders exactly where CPU time is noisy.
pub fn fixed(name: &str, base: &str, requests: &str, concurrency: &str) -> Result<(), String> {
    let requests: usize = requests.parse().map_err(|e| format!("REQUESTS {requests:?}: {e}"))?;
    let concurrency: usize = concurrency.parse().map_err(|e| format!("CONCURRENCY {concurrency:?}: {e}"))?;
    let at = NAMES.iter().position(|known| *known == name).ok_or_else(|| format!("no W1 contender {name:?}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let contender = contenders(base)?.swap_remove(at);
        let cpu = process_cpu();
        let per_task = requests.div_ceil(concurrency.max(1));
        let tasks: Vec<_> = (0..concurrency.max(1))
            .map(|_| {
                let contender = contender.clone();
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        contender.one().await?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.map_err(|e| e.to_string())??;
        }
        let cpu = process_cpu() - cpu;
        println!("{name}: {:.1} µs CPU per request", cpu.as_secs_f64() * 1e6 / (per_task * concurrency.max(1)) as f64);
        Ok(())
    })
}

/// Instructions per W1 request of each contender at each concurrency, counted by valgrind's
/// callgrind: repeatable where CPU time is noisy (the same binary and inputs give the same count,
/// whatever else the machine does). Each count is the difference of a run of `2 * requests` and one
/// of `requests`, so start-up and connecting are left out. `Null` when valgrind is not installed.
pub fn instructions(
    exe: &std::path::Path,
    base: &str,
    concurrencies: &[usize],
    requests: usize,
) -> Result<Value, String> {
    if std::process::Command::new("valgrind").arg("--version").output().is_err() {
        return Ok(Value::Null);
    }
    let count = |name: &str, requests: usize, concurrency: usize| -> Result<f64, String> {
        let output = std::process::Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(exe)
            .args(["w1-fixed", name, base, &requests.to_string(), &concurrency.to_string()])
            .output()
            .map_err(|e| format!("running valgrind: {e}"))?;
        let text = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(format!("callgrind {name} c{concurrency}: {}", text.trim()));
        }
        // `==PID== Collected : 123456789`
        text.lines()
            .find_map(|line| line.split_once("Collected :").and_then(|(_, n)| n.trim().replace(',', "").parse().ok()))
            .ok_or_else(|| format!("callgrind {name} c{concurrency}: no instruction count in {text:?}"))
    };
    let mut out = serde_json::Map::new();
    out.insert("requests".into(), json!(requests));
    for &concurrency in concurrencies {
        // Whole rounds of `concurrency` tasks, so both runs send exactly what they say.
        let requests = requests.div_ceil(concurrency) * concurrency;
        let mut row = serde_json::Map::new();
        for name in NAMES {
            let (once, twice) = (count(name, requests, concurrency)?, count(name, 2 * requests, concurrency)?);
            row.insert(name.to_owned(), json!((twice - once) / requests as f64));
        }
        eprintln!(
            "  W1 instructions c{concurrency}: {}",
            NAMES
                .iter()
                .map(|name| format!("{name} {:.0}", row[*name].as_f64().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.insert(format!("w1_c{concurrency}"), Value::Object(row));
    }
    Ok(Value::Object(out))
}
