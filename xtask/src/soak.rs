//! `cargo xtask soak`: many requests at once against an emulator that injects random faults
//! (`EmulatorConfig::random_faults`: rate limits with `Retry-After: 0`, 500s, HTML 502s, quota).
//!
//! Counts successes and typed errors by kind; any other error (transport, timeout, decode) is
//! "untyped" here — the random faults all answer with a classifiable status, so such an error is a
//! client or emulator bug. Every call has a timeout; one that runs past it is a hang. Also measured:
//! the process's resident memory (VmRSS: before, after a warm-up, at the end) and the emulator's open
//! connections while the client idles and after it is dropped (must reach 0: no leaked connection).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use seedream::seedream_result;
use seedream_client::{Client, Error, HyperTransport, RetryPolicy, Timeouts, Transport};
use seedream_emulator::{EmulatorConfig, EmulatorHandle};
use seedream_types::{Dimensions, GenerateRequest, ResponseFormat, SEEDREAM_3_0_T2I, Size};
use tokio::runtime::Runtime;

use crate::cabi::{self, Bounded, CCancel, CClient, CClientConfig};
use crate::checks::check_jpeg_header;
use crate::{flag, only_flags};

const KEY: &str = "soak-key";
/// Small images (Seedream 3.0 takes 512x512): the soak is about the client, not about base64.
const DIMS: Dimensions = Dimensions::new(512, 512);
/// Every call's overall deadline; past it plus [`MARGIN`] a call counts as a hang.
const OVERALL: Duration = Duration::from_secs(20);
const MARGIN: Duration = Duration::from_secs(5);
/// Growth of resident memory from after the warm-up to the end that fails the soak.
const MAX_GROWTH_KIB: u64 = 64 * 1024;

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests in all.
    pub requests: usize,
    /// Requests at once.
    pub concurrency: usize,
    /// Probability that a request gets a random fault.
    pub fault_rate: f64,
    /// Seed of the emulator's fault dice.
    pub seed: u64,
    /// The clients to soak, in turn.
    pub via: Vec<Via>,
    /// Whether memory growth fails the soak (true from the command line; a test sharing its process
    /// with other tests cannot attribute memory to itself).
    pub check_memory: bool,
}

impl Options {
    /// Parses `[--requests N] [--concurrency N] [--fault-rate F] [--seed S] [--via rust|c|both]`.
    pub fn parse(args: &[&str]) -> Result<Self, String> {
        only_flags(args, &["--requests", "--concurrency", "--fault-rate", "--seed", "--via"])?;
        let via = match flag(args, "--via", "both".to_owned())?.as_str() {
            "rust" => vec![Via::Rust],
            "c" => vec![Via::C],
            "both" => vec![Via::Rust, Via::C],
            other => return Err(format!("--via {other}: rust, c or both")),
        };
        let options = Self {
            requests: flag(args, "--requests", 10_000usize)?,
            concurrency: flag(args, "--concurrency", 64usize)?,
            fault_rate: flag(args, "--fault-rate", 0.05f64)?,
            seed: flag(args, "--seed", 7u64)?,
            via,
            check_memory: true,
        };
        if options.requests == 0 || !(1..=1024).contains(&options.concurrency) {
            return Err("--requests must be at least 1 and --concurrency from 1 to 1024".into());
        }
        if !(0.0..=1.0).contains(&options.fault_rate) {
            return Err("--fault-rate must be from 0 to 1".into());
        }
        Ok(options)
    }
}

/// Resident memory of this process, in KiB (`VmRSS` of /proc/self/status); 0 where unavailable.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Ok,
    /// A typed API error: status and code.
    Typed(String),
    /// Anything else, with its description.
    Untyped(String),
    Hang,
    Panic,
}

/// Counts of every outcome, with the latencies of the calls.
#[derive(Debug, Default)]
struct Tally {
    outcomes: BTreeMap<Outcome, usize>,
    latencies: Vec<Duration>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome, took: Duration) {
        *self.outcomes.entry(outcome).or_default() += 1;
        self.latencies.push(took);
    }

    fn merge(&mut self, other: Tally) {
        for (outcome, count) in other.outcomes {
            *self.outcomes.entry(outcome).or_default() += count;
        }
        self.latencies.extend(other.latencies);
    }

    fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(o, _)| pick(o)).map(|(_, n)| n).sum()
    }

    fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort();
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(index).copied().unwrap_or_default()
    }
}

/// Request `index`: a few prompts in turn, so the emulator's image cache serves repeats.
fn request(index: usize) -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_3_0_T2I, format!("soak prompt {}", index % 16))
        .with_size(Size::Pixels(DIMS))
        .with_response_format(ResponseFormat::B64Json)
}

async fn one(client: &Client, index: usize) -> Outcome {
    match client.generate(&request(index)).await {
        Ok(response) => {
            let Some(image) = response.into_inner().data.into_iter().next().and_then(|item| item.image().cloned())
            else {
                return Outcome::Untyped("a response without an image".into());
            };
            match client.into_image_bytes(image).await {
                Ok(bytes) => match check_jpeg_header(&bytes, DIMS) {
                    Ok(()) => Outcome::Ok,
                    Err(message) => Outcome::Untyped(message),
                },
                Err(error) => Outcome::Untyped(format!("image bytes: {error}")),
            }
        }
        Err(Error::Api(api)) if !api.code.is_empty() || api.status >= 500 => {
            let code = if api.code.is_empty() { "(HTML page)" } else { api.code.as_str() };
            Outcome::Typed(format!("{} {code}", api.status))
        }
        Err(error) => Outcome::Untyped(error.to_string()),
    }
}

/// Sends requests `from..to` with `concurrency` workers.
async fn batch(client: &Client, from: usize, to: usize, concurrency: usize) -> Tally {
    let next = Arc::new(AtomicUsize::new(from));
    let mut workers = Vec::new();
    for _ in 0..concurrency.min(to - from) {
        let (client, next) = (client.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= to {
                    break tally;
                }
                let started = Instant::now();
                let outcome =
                    tokio::time::timeout(OVERALL + MARGIN, one(&client, index)).await.unwrap_or(Outcome::Hang);
                tally.add(outcome, started.elapsed());
            }
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        match worker.await {
            Ok(tally) => total.merge(tally),
            // A panicking worker loses its tally; count it once.
            Err(_) => total.add(Outcome::Panic, Duration::ZERO),
        }
    }
    total
}

/// One C call: a fresh token bounds it.
fn c_one(client: &CClient, index: usize, cancel: &CCancel) -> Outcome {
    let json = serde_json::to_string(&request(index)).unwrap_or_default();
    match client.generate(&json, Some(cancel)) {
        Ok(response) => match response.images.first().map(|image| &image.bytes) {
            Some(Ok(bytes)) => match check_jpeg_header(bytes, DIMS) {
                Ok(()) => Outcome::Ok,
                Err(message) => Outcome::Untyped(message),
            },
            Some(Err(code)) => Outcome::Untyped(format!("image bytes: {}", cabi::result_name(*code))),
            None => Outcome::Untyped("a response without an image".into()),
        },
        Err(error)
            if matches!(
                error.code,
                seedream_result::RateLimited | seedream_result::QuotaExhausted | seedream_result::ServerError
            ) && error.http_status != 0 =>
        {
            let code = if error.api_code.is_empty() { "(HTML page)" } else { error.api_code.as_str() };
            Outcome::Typed(format!("{} {code}", error.http_status))
        }
        Err(error) if error.code == seedream_result::Panic => Outcome::Panic,
        Err(error) => Outcome::Untyped(error.to_string()),
    }
}

/// Sends requests `from..to` through the C ABI from `concurrency` threads sharing one client (the C
/// API makes clients thread-safe); each call runs on a thread of its own so that it can be bounded.
fn c_batch(client: &Arc<CClient>, from: usize, to: usize, concurrency: usize) -> Tally {
    let next = AtomicUsize::new(from);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency.min(to - from))
            .map(|_| {
                scope.spawn(|| {
                    let mut tally = Tally::default();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= to {
                            break tally;
                        }
                        let started = Instant::now();
                        let client = client.clone();
                        let call = cabi::spawn_bounded(move |cancel| c_one(&client, index, cancel));
                        let outcome = match call.wait(OVERALL + MARGIN, Duration::from_secs(2)) {
                            Bounded::Done(outcome) => outcome,
                            Bounded::Overran(_) | Bounded::Hung => Outcome::Hang,
                            Bounded::Panicked(_) => Outcome::Panic,
                        };
                        tally.add(outcome, started.elapsed());
                    }
                })
            })
            .collect();
        let mut total = Tally::default();
        for worker in workers {
            match worker.join() {
                Ok(tally) => total.merge(tally),
                Err(_) => total.add(Outcome::Panic, Duration::ZERO),
            }
        }
        total
    })
}

/// Waits (bounded) until the emulator's open connections drop to `at_most`.
async fn settle(emulator: &EmulatorHandle, at_most: u64, within: Duration) -> u64 {
    let deadline = Instant::now() + within;
    loop {
        let open = emulator.stats().open_connections;
        if open <= at_most || Instant::now() > deadline {
            return open;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Which client the requests go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `seedream_client::Client`, `concurrency` tasks sharing one client.
    Rust,
    /// The C ABI, `concurrency` threads sharing one `seedream_client`.
    C,
}

/// What one client's run measured while its client was alive.
#[derive(Debug, Default)]
struct Phase {
    tally: Tally,
    rss_warm: u64,
    rss_mid: u64,
    rss_end: u64,
    main_took: Duration,
    open_idle: u64,
}

fn rust_client(emulator: &EmulatorHandle, concurrency: usize) -> Result<Client, String> {
    let transport: Arc<dyn Transport> =
        Arc::new(HyperTransport::builder().pool_max_idle_per_host(concurrency).build().map_err(|e| e.to_string())?);
    Client::builder()
        .api_key(KEY)
        .base_url(emulator.base_url())
        .transport(transport)
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(5))
                .with_headers(Duration::from_secs(10))
                .with_idle(Duration::from_secs(10))
                .with_overall(OVERALL),
        )
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_base_delay(Duration::from_millis(10))
                .with_max_delay(Duration::from_millis(100))
                .with_max_retry_after(Duration::from_millis(100)),
        )
        .build()
        .map_err(|e| e.to_string())
}

/// Requests sent before memory is first measured.
fn warmup(requests: usize) -> usize {
    (requests / 10).clamp(1, 1000)
}

/// Sends requests `0..end` with `send(from, to)`: the warm-up, then two halves, reading the resident
/// memory after each (growth that keeps pace with the requests is a leak; a plateau is not).
fn measure(end: usize, mut send: impl FnMut(usize, usize) -> Tally) -> Phase {
    let warmup = warmup(end);
    let mid = warmup + (end - warmup) / 2;
    let mut phase = Phase { tally: send(0, warmup), rss_warm: rss_kib(), ..Phase::default() };
    let started = Instant::now();
    phase.tally.merge(send(warmup, mid));
    phase.rss_mid = rss_kib();
    phase.tally.merge(send(mid, end));
    phase.main_took = started.elapsed();
    phase.rss_end = rss_kib();
    phase
}

/// Runs the requests through one client, which is dropped before returning.
fn drive(runtime: &Runtime, emulator: &EmulatorHandle, via: Via, options: &Options) -> Result<Phase, String> {
    let concurrency = options.concurrency;
    // Idle but alive: pooled connections may stay open, at most one per concurrent caller.
    let idle = || runtime.block_on(settle(emulator, concurrency as u64, Duration::from_secs(2)));
    match via {
        Via::Rust => {
            let client = {
                let _context = runtime.enter();
                rust_client(emulator, concurrency)?
            };
            let mut phase =
                measure(options.requests, |from, to| runtime.block_on(batch(&client, from, to, concurrency)));
            phase.open_idle = idle();
            Ok(phase)
        }
        Via::C => {
            let client = Arc::new(
                CClient::build(&CClientConfig {
                    base_url: emulator.base_url(),
                    api_key: KEY.into(),
                    headers: Vec::new(),
                    timeouts: Some([Duration::from_secs(5), Duration::from_secs(10), Duration::from_secs(10), OVERALL]),
                    max_attempts: Some(3),
                    worker_threads: Some(2),
                    ..Default::default()
                })
                .map_err(|e| format!("building the C client: {e}"))?,
            );
            let mut phase = measure(options.requests, |from, to| c_batch(&client, from, to, concurrency));
            phase.open_idle = idle();
            // A hung call would still hold a reference: then the client stays, and so do its
            // connections, which the leak check reports.
            drop(client);
            Ok(phase)
        }
    }
}

/// Runs the soak through each client in turn, each against a fresh emulator, and prints its figures.
pub fn run(options: Options) -> Result<(), String> {
    let rss_start = rss_kib();
    let runtime = crate::harness::runtime()?;
    let mut failures = Vec::new();
    println!(
        "soak: {} requests per client, {} at once, fault rate {} (seed {}), overall limit {OVERALL:?}, 3 attempts",
        options.requests, options.concurrency, options.fault_rate, options.seed
    );
    println!("  memory (VmRSS) at start: {}", mib(rss_start));
    for via in options.via.iter().copied() {
        let started = Instant::now();
        let emulator = crate::harness::start_emulator(
            &runtime,
            EmulatorConfig {
                api_keys: vec![KEY.into()],
                random_faults: Some((options.fault_rate, options.seed)),
                ..Default::default()
            },
        )?;
        let tasks_idle = emulator.stats().tasks;
        let rss_before = rss_kib();
        let mut phase = drive(&runtime, &emulator, via, &options)?;
        let stats = emulator.stats();
        let open_after = runtime.block_on(settle(&emulator, 0, Duration::from_secs(5)));
        let tasks_after = runtime.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let tasks = emulator.stats().tasks;
                if tasks <= tasks_idle || Instant::now() > deadline {
                    break tasks;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let _ = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), emulator.shutdown()).await });
        let rss_after = rss_kib();

        let tally = &mut phase.tally;
        let ok = tally.count(|o| *o == Outcome::Ok);
        let typed = tally.count(|o| matches!(o, Outcome::Typed(_)));
        let untyped = tally.count(|o| matches!(o, Outcome::Untyped(_)));
        let hangs = tally.count(|o| *o == Outcome::Hang);
        let panics = tally.count(|o| *o == Outcome::Panic);
        let total = ok + typed + untyped + hangs + panics;
        let warmup = warmup(options.requests);
        let main_requests = options.requests.saturating_sub(warmup);
        let name = match via {
            Via::Rust => "Rust client",
            Via::C => "C ABI",
        };
        println!("{name}:");
        println!(
            "  outcomes: {ok} ok, {typed} typed errors, {untyped} untyped errors, {hangs} hangs, {panics} panics ({total} in all)"
        );
        for (outcome, count) in &tally.outcomes {
            match outcome {
                Outcome::Typed(text) => println!("    typed   {text}: {count}"),
                Outcome::Untyped(text) => println!("    UNTYPED {text}: {count}"),
                _ => {}
            }
        }
        println!(
            "  emulator: {} HTTP requests ({:.2} per call), {} faults injected, {} images, {} connections opened",
            stats.requests,
            stats.requests as f64 / options.requests as f64,
            stats.faults_injected,
            stats.images_generated,
            stats.connections
        );
        println!(
            "  latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.0} requests/s after the warm-up ({main_requests} in {:.1} s)",
            tally.percentile(0.5).as_secs_f64() * 1e3,
            tally.percentile(0.99).as_secs_f64() * 1e3,
            tally.percentile(1.0).as_secs_f64() * 1e3,
            main_requests as f64 / phase.main_took.as_secs_f64().max(1e-9),
            phase.main_took.as_secs_f64()
        );
        println!(
            "  open connections: {} with the client idle, {open_after} after it was dropped; emulator tasks {tasks_after} (idle {tasks_idle})",
            phase.open_idle
        );
        let growth = phase.rss_end.saturating_sub(phase.rss_warm);
        println!(
            "  memory (VmRSS): {} before, {} after {warmup} warm-up requests, {} halfway (+{}), {} at the end \
             (+{} since the warm-up), {} after shutdown",
            mib(rss_before),
            mib(phase.rss_warm),
            mib(phase.rss_mid),
            mib(phase.rss_mid.saturating_sub(phase.rss_warm)),
            mib(phase.rss_end),
            mib(growth),
            mib(rss_after)
        );
        println!("  took {:.1} s", started.elapsed().as_secs_f64());

        let mut fail = |message: String| failures.push(format!("{name}: {message}"));
        if total != options.requests {
            fail(format!("{total} outcomes counted for {} requests", options.requests));
        }
        if untyped + hangs + panics > 0 {
            fail(format!("{untyped} untyped errors, {hangs} hangs, {panics} panics"));
        }
        if open_after != 0 {
            fail(format!("{open_after} connections leaked (still open after the client was dropped)"));
        }
        if tasks_after > tasks_idle {
            fail(format!("{tasks_after} emulator tasks left, {tasks_idle} when idle"));
        }
        if options.check_memory && growth > MAX_GROWTH_KIB {
            fail(format!("memory grew by {} after the warm-up (limit {})", mib(growth), mib(MAX_GROWTH_KIB)));
        }
        if options.fault_rate > 0.0 && options.requests >= 1000 && typed == 0 {
            fail("faults were injected but no typed error came back".into());
        }
    }
    if failures.is_empty() { Ok(()) } else { Err(format!("soak failed:\n  {}", failures.join("\n  "))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_soak_through_both_clients_is_clean() {
        let options = Options {
            requests: 200,
            concurrency: 16,
            fault_rate: 0.1,
            seed: 3,
            via: vec![Via::Rust, Via::C],
            check_memory: false,
        };
        run(options).unwrap();
    }

    #[test]
    fn options_parse_with_defaults_and_refuse_nonsense() {
        let options = Options::parse(&[]).unwrap();
        assert_eq!((options.requests, options.concurrency, options.fault_rate), (10_000, 64, 0.05));
        assert_eq!(options.via, [Via::Rust, Via::C]);
        let options = Options::parse(&["--requests", "5", "--via", "c"]).unwrap();
        assert_eq!((options.requests, options.via.as_slice()), (5, [Via::C].as_slice()));
        for bad in [&["--fault-rate", "2"][..], &["--requests", "0"], &["--via", "go"], &["--requests"], &["-x"]] {
            assert!(Options::parse(bad).is_err(), "{bad:?}");
        }
    }
}
