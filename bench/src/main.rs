//! The project's rerunnable benchmark; `cargo xtask bench [--quick]` builds and runs it (release) and
//! turns what it measures into a table and `target/bench/summary.json`.
//!
//! - W1: one small answer (one `url` item), concurrency 1 and 32: seedream-client, bare hyper +
//!   serde_json (the floor) and reqwest + serde_json; this process's CPU µs per request and req/s,
//!   and (when valgrind is installed) instructions per request counted by callgrind, which repeat
//!   exactly from run to run where CPU time does not.
//! - W2: one ≈ 100 MB answer of 15 random ≈ 5 MB `b64_json` images decoded to bytes: seedream-client's
//!   documented paths (`generate` + `into_image_bytes`, `generate(…).bytes()`, the streaming save) against
//!   serde_json + base64 (the floor) and against the physical limits (`limit_in_memory`,
//!   `limit_durable_save`: socket reads, a memchr scan and `base64-simd`, no JSON), each in a fresh
//!   process; wall time, decoded GB/s, peak RSS.
//! - Base64 alone: the client's hand-written AVX2 decoder against `base64-simd`, 25 MB of text.
//! - W3: the `seedream` command from process start to one saved image, against its emulator.
//!
//! The server for W1 and W2 is this program in another process (`serve`), with fixed answers, so its
//! work is the same for every client and is not counted in the client's CPU time. Rounds interleave
//! the contenders, in rotating order; this program writes every round's figures (`--raw FILE`), and
//! xtask takes the medians and the ratios to the floor of the same round.
//!
//! Commands: `run [--quick] [--seedream PATH] --raw FILE`, the internal `serve` and
//! `w2-child NAME BASE`, and `w1-fixed NAME BASE REQUESTS CONCURRENCY` (a fixed number of W1 requests
//! through one contender, to run under a profiler or `strace -c`; `serve` gives the server).

mod base64_decode;
mod c_save;
mod limit;
mod server;
mod sys;
mod w1;
mod w2;
mod w3;

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// How much of each workload to run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    w1_rounds: usize,
    w1_time: Duration,
    /// W1 requests counted under callgrind (each contender, each concurrency, twice this many).
    w1_counted: usize,
    w2_rounds: usize,
    w3_runs: usize,
}

const FULL: Plan =
    Plan { w1_rounds: 15, w1_time: Duration::from_millis(1000), w1_counted: 3200, w2_rounds: 9, w3_runs: 30 };
const QUICK: Plan =
    Plan { w1_rounds: 9, w1_time: Duration::from_millis(600), w1_counted: 960, w2_rounds: 5, w3_runs: 20 };

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["serve"] => server::serve(),
        ["w2-child", name, base] => w2::child(name, base),
        ["w1-fixed", name, base, requests, concurrency] => w1::fixed(name, base, requests, concurrency),
        ["run", rest @ ..] => run(rest),
        _ => Err("usage: seedream-bench run [--quick] [--seedream PATH] --raw FILE".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("seedream-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The server process; closing its stdin (on drop) stops it.
struct Server {
    child: Child,
    ready: server::Ready,
}

impl Server {
    fn start(exe: &std::path::Path) -> Result<Server, String> {
        let mut child = Command::new(exe)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting the server: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("the server has no stdout")?;
        std::io::BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
        let ready = server::Ready::parse(line.trim());
        match ready {
            Some(ready) => Ok(Server { child, ready }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("the server did not start: {line:?}"))
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        if self.child.wait_timeout(Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `Child::wait` with a limit (std has none): polls `try_wait`.
trait WaitTimeout {
    fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus>;
}

impl WaitTimeout for Child {
    fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

fn run(args: &[&str]) -> Result<(), String> {
    let mut quick = false;
    let mut seedream: Option<PathBuf> = None;
    let mut raw: Option<PathBuf> = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match *arg {
            "--quick" => quick = true,
            "--seedream" => seedream = Some(iter.next().ok_or("--seedream needs a path")?.into()),
            "--raw" => raw = Some(iter.next().ok_or("--raw needs a path")?.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let raw = raw.ok_or("--raw FILE is required")?;
    let plan = if quick { QUICK } else { FULL };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;

    eprintln!("seedream-bench: {} run {plan:?}", if quick { "quick" } else { "full" });
    let server = Server::start(&exe)?;
    let ready = server.ready;
    eprintln!(
        "  server on 127.0.0.1:{}; W2 answer {:.1} MB, {:.1} MB decoded",
        ready.port,
        ready.body_bytes as f64 / 1e6,
        ready.decoded_bytes as f64 / 1e6
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let w1 = runtime.block_on(w1::run(
        &format!("http://127.0.0.1:{}/v1", ready.port),
        &[1, 32],
        plan.w1_rounds,
        plan.w1_time,
    ))?;
    drop(runtime);
    let w1_instructions =
        w1::instructions(&exe, &format!("http://127.0.0.1:{}/v1", ready.port), &[1, 32], plan.w1_counted)?;
    let w2 = w2::run(&exe, &format!("http://127.0.0.1:{}/big/v1", ready.port), plan.w2_rounds, &ready)?;
    drop(server);
    let base64 = base64_decode::run(plan.w2_rounds)?;
    let w3 = match &seedream {
        Some(path) => w3::run(path, plan.w3_runs)?,
        None => Value::Null,
    };

    let mut notes = Vec::new();
    if w1_instructions.is_null() {
        notes.push("W1 instructions not counted: valgrind is not installed");
    }
    if seedream.is_none() {
        notes.push("W3 not measured: no --seedream PATH");
    }
    let out = json!({
        "quick": quick,
        "plan": {
            "w1_rounds": plan.w1_rounds,
            "w1_round_ms": plan.w1_time.as_millis() as u64,
            "w1_counted": plan.w1_counted,
            "w2_rounds": plan.w2_rounds,
            "w3_runs": plan.w3_runs,
        },
        "w1": w1,
        "w1_instructions": w1_instructions,
        "w2": {
            "images": server::W2_IMAGES,
            "decoded_bytes": ready.decoded_bytes,
            "body_bytes": ready.body_bytes,
            "stream_save": true,
            "rounds": w2["rounds"],
        },
        "base64": base64,
        "w3": w3,
        "notes": notes,
    });
    if let Some(dir) = raw.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
    std::fs::write(&raw, text + "\n").map_err(|e| format!("{}: {e}", raw.display()))
}
