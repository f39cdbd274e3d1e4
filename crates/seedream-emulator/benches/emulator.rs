//! What the emulator costs: JPEG synthesis per size (against a general-purpose encoder), and
//! requests per second at concurrency 16 for 1K `b64_json` answers, with the image cache warm and cold.
//!
//! `cargo bench -p seedream-emulator` (criterion prints the time per image and, for the request
//! benches, `thrpt` in requests per second).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use seedream_emulator::{Emulator, EmulatorConfig, synthetic_jpeg};

const CONCURRENCY: usize = 16;

fn jpeg(c: &mut Criterion) {
    let mut group = c.benchmark_group("jpeg");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (name, width, height) in [("1K", 1024, 1024), ("2K", 2048, 2048), ("4K", 4096, 4096)] {
        let mut seed = 0u64;
        group.bench_function(BenchmarkId::new("synthetic", name), |b| {
            b.iter(|| {
                seed += 1;
                synthetic_jpeg(width, height, seed, true).map(|jpeg| jpeg.len())
            })
        });
    }
    // The general encoder on an image of the same kind, for comparison.
    for (name, side) in [("2K", 2048usize), ("4K", 4096)] {
        let pixels: Vec<u8> = (0..side * side).flat_map(|i| [(i % side / 8) as u8, (i / side / 8) as u8, 90]).collect();
        group.bench_function(BenchmarkId::new("jpeg-encoder-q75", name), |b| {
            b.iter(|| {
                let mut out = Vec::new();
                let encoder = jpeg_encoder::Encoder::new(&mut out, 75);
                encoder.encode(&pixels, side as u16, side as u16, jpeg_encoder::ColorType::Rgb).map(|()| out.len())
            })
        });
    }
    group.finish();
}

fn requests(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let emulator = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    let url = format!("{}/images/generations", emulator.ark_base_url());
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let unique = AtomicU64::new(0);
    let mut group = c.benchmark_group("requests");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(CONCURRENCY as u64));
    for cached in [true, false] {
        let name = if cached { "b64_json-1K-c16-cache-warm" } else { "b64_json-1K-c16-cache-cold" };
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let batch: Vec<_> = (0..CONCURRENCY)
                        .map(|i| {
                            // Warm: 16 prompts that repeat; cold: a new prompt (a new image) every time.
                            let prompt = if cached { i as u64 } else { 1_000 + unique.fetch_add(1, Ordering::Relaxed) };
                            let body = format!(
                                r#"{{"model":"doubao-seedream-4-0-250828","prompt":"bench {prompt}","size":"1K","response_format":"b64_json"}}"#
                            );
                            let request = http::Request::post(&url)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap();
                            let client = client.clone();
                            tokio::spawn(async move {
                                let response = client.request(request).await.unwrap();
                                assert_eq!(response.status(), 200);
                                response.into_body().collect().await.unwrap().to_bytes().len()
                            })
                        })
                        .collect();
                    let mut bytes = 0;
                    for task in batch {
                        bytes += task.await.unwrap();
                    }
                    bytes
                })
            })
        });
    }
    group.finish();
    drop(client);
    runtime.block_on(emulator.shutdown());
}

criterion_group!(benches, jpeg, requests);
criterion_main!(benches);
