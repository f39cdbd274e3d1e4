//! Decoding a group of 15 4K `b64_json` images (≈ 100 MB of JSON): throughput and peak memory.
//!
//! `cargo bench -p seedream-client --bench decode` prints the figures; without `--bench` (as under
//! `cargo test --all-targets`) it runs a tiny version as a smoke test.
//!
//! Memory is measured with a counting global allocator: the peak of live heap bytes above the level
//! before decoding, with the body itself (which stands for the network) excluded. A `realloc` is counted
//! as holding the old and the new block at once, which overstates what Linux's `mremap` needs.
//!
//! Time includes the kernel's first touch of the new pages the image strings land in: glibc returns
//! large freed blocks to the system, so every response gets fresh pages. To see the decoding work
//! alone (pages reused), run with `MALLOC_MMAP_THRESHOLD_=2000000000 MALLOC_TRIM_THRESHOLD_=4000000000`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use seedream_client::Client;
use seedream_client::decode::{ImagesDecoder, decode_b64_owned};
use seedream_client::testing::{RecordingTransport, Reply};
use seedream_types::{GenerateRequest, ImageItem, ImagesResponse, ResponseFormat, SEEDREAM_4_0};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grow(new_size);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Starts a measurement: returns the live bytes now and resets the peak to it.
fn mark() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

fn peak_since(base: usize) -> usize {
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

const CHUNK: usize = 64 * 1024;

/// `count` images of `size` random bytes each (random, so nothing is compressible, like JPEG), and the
/// response body that carries them as `b64_json`.
fn fixture(count: usize, size: usize) -> (Vec<Vec<u8>>, Bytes) {
    let mut rng = fastrand::Rng::with_seed(4);
    let images: Vec<Vec<u8>> = (0..count)
        .map(|_| {
            let mut image = vec![0u8; size];
            rng.fill(&mut image);
            image[..2].copy_from_slice(&[0xFF, 0xD8]);
            image
        })
        .collect();
    let mut body = String::from(r#"{"model":"doubao-seedream-4-0-250828","created":1757469561,"data":["#);
    for (i, image) in images.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(r#"{"b64_json":""#);
        base64::engine::general_purpose::STANDARD.encode_string(image, &mut body);
        body.push_str(r#"","size":"4096x4096"}"#);
    }
    body.push_str(r#"],"usage":{"generated_images":15,"output_tokens":983040,"total_tokens":983040}}"#);
    (images, Bytes::from(body))
}

fn gbps(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / time.as_secs_f64() / 1e9
}

fn take_images(response: ImagesResponse) -> Vec<String> {
    response
        .data
        .into_iter()
        .filter_map(|item| match item {
            ImageItem::Image(image) => image.b64_json,
            ImageItem::Failed(_) => None,
        })
        .collect()
}

struct Run {
    parse: Duration,
    b64: Duration,
    parse_peak: usize,
    total_peak: usize,
}

/// Body chunks → `ImagesResponse` → image bytes (decoded in place), as the client does it.
fn direct(body: &Bytes, expected: &[Vec<u8>]) -> Run {
    let base = mark();
    let start = Instant::now();
    let mut decoder = ImagesDecoder::new();
    for chunk in body.chunks(CHUNK) {
        decoder.feed(chunk);
    }
    let response = decoder.finish().expect("the body parses");
    let parse = start.elapsed();
    let parse_peak = peak_since(base);
    let start = Instant::now();
    let decoded: Vec<Bytes> =
        take_images(response).into_iter().map(|text| decode_b64_owned(text).expect("valid base64")).collect();
    let b64 = start.elapsed();
    let total_peak = peak_since(base);
    assert!(decoded.iter().zip(expected).all(|(got, want)| got[..] == want[..]));
    Run { parse, b64, parse_peak, total_peak }
}

/// The same through `Client::generate` and `Client::into_image_bytes`, the body served by a replaying
/// transport in 64 KiB slices of one buffer (no copies: it stands for the network).
fn through_client(runtime: &tokio::runtime::Runtime, body: &Bytes, expected: &[Vec<u8>]) -> Run {
    let transport = Arc::new(RecordingTransport::new());
    let client = Client::builder().api_key("k").transport(transport.clone()).build().expect("client");
    let request =
        GenerateRequest::new(SEEDREAM_4_0, "p").with_max_images(15).with_response_format(ResponseFormat::B64Json);
    let chunks: Vec<Bytes> =
        (0..body.len()).step_by(CHUNK).map(|at| body.slice(at..(at + CHUNK).min(body.len()))).collect();
    transport.push(Reply::status(200).header("content-type", "application/json").chunks(chunks));
    runtime.block_on(async {
        let base = mark();
        let start = Instant::now();
        let response = client.generate(&request).await.expect("generate");
        let parse = start.elapsed();
        let parse_peak = peak_since(base);
        let start = Instant::now();
        let mut decoded = Vec::new();
        for item in response.into_inner().data {
            if let ImageItem::Image(image) = item {
                decoded.push(client.into_image_bytes(image).await.expect("image bytes"));
            }
        }
        let b64 = start.elapsed();
        let total_peak = peak_since(base);
        assert!(decoded.iter().zip(expected).all(|(got, want)| got[..] == want[..]));
        Run { parse, b64, parse_peak, total_peak }
    })
}

fn report(name: &str, runs: &[Run], body_len: usize, decoded_len: usize) {
    let best = |f: &dyn Fn(&Run) -> Duration| runs.iter().map(f).min().unwrap_or_default();
    let parse = best(&|r| r.parse);
    let b64 = best(&|r| r.b64);
    let total = best(&|r| r.parse + r.b64);
    let parse_peak = runs.iter().map(|r| r.parse_peak).max().unwrap_or_default();
    let total_peak = runs.iter().map(|r| r.total_peak).max().unwrap_or_default();
    println!("{name}:");
    println!(
        "  JSON → ImagesResponse : {:>7.2} ms  {:>5.2} GB/s of body",
        parse.as_secs_f64() * 1e3,
        gbps(body_len, parse)
    );
    println!(
        "  b64_json → bytes      : {:>7.2} ms  {:>5.2} GB/s of base64",
        b64.as_secs_f64() * 1e3,
        gbps(body_len, b64)
    );
    println!(
        "  end to end            : {:>7.2} ms  {:>5.2} GB/s of body, {:.2} GB/s of decoded images",
        total.as_secs_f64() * 1e3,
        gbps(body_len, total),
        gbps(decoded_len, total)
    );
    println!(
        "  peak heap above start : {:.1} MB parsing ({:.2}× decoded, {:.2}× body), {:.1} MB to image bytes ({:.2}× decoded, {:.2}× body)",
        parse_peak as f64 / 1e6,
        parse_peak as f64 / decoded_len as f64,
        parse_peak as f64 / body_len as f64,
        total_peak as f64 / 1e6,
        total_peak as f64 / decoded_len as f64,
        total_peak as f64 / body_len as f64,
    );
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    // A 4K JPEG from the service is about 5 MB: 15 of them make ≈ 100 MB of base64 JSON.
    let (count, size, rounds) = if full { (15, 5_000_000, 5) } else { (3, 100_000, 1) };
    let (images, body) = fixture(count, size);
    let decoded_len: usize = images.iter().map(Vec::len).sum();
    println!(
        "{count} images, {:.1} MB decoded, response body {:.1} MB, fed in {} KiB chunks",
        decoded_len as f64 / 1e6,
        body.len() as f64 / 1e6,
        CHUNK / 1024
    );
    let runs: Vec<Run> = (0..rounds).map(|_| direct(&body, &images)).collect();
    report("ImagesDecoder + decode_b64_owned", &runs, body.len(), decoded_len);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let runs: Vec<Run> = (0..rounds).map(|_| through_client(&runtime, &body, &images)).collect();
    report("Client::generate + Client::into_image_bytes", &runs, body.len(), decoded_len);

    // For comparison: what plain serde_json on the whole body costs.
    let base = mark();
    let start = Instant::now();
    let response: ImagesResponse = serde_json::from_slice(&body).expect("serde parses");
    let serde_time = start.elapsed();
    println!(
        "baseline serde_json::from_slice: {:.2} ms, {:.2} GB/s, peak {:.1} MB above start ({:.2}× body, plus the body held whole)",
        serde_time.as_secs_f64() * 1e3,
        gbps(body.len(), serde_time),
        peak_since(base) as f64 / 1e6,
        peak_since(base) as f64 / body.len() as f64
    );
    drop(response);
}
