//! W3: the `seedream` command from process start to one saved image, against an emulator started
//! once (`seedream emulator --port N`): `seedream generate --base-url … --api-key test --prompt x
//! --out DIR`, timed from spawn to exit, one fresh output folder per run.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Ends the emulator when dropped.
struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|addr| addr.port()).map_err(|e| e.to_string())
}

/// `runs` timed runs after one untimed one (which warms the page cache). Returns `{"runs_ms": [...]}`.
pub fn run(seedream: &Path, runs: usize) -> Result<Value, String> {
    let port = free_port()?;
    let child = Command::new(seedream)
        .args(["emulator", "--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {} emulator: {e}", seedream.display()))?;
    let mut emulator = Emulator(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = emulator.0.try_wait() {
            return Err(format!("the emulator exited at once ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!("the emulator did not listen on port {port} within 30 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let base = format!("http://127.0.0.1:{port}/v1");
    let scratch = std::env::temp_dir().join(format!("seedream-bench-w3-{}", std::process::id()));
    let mut times = Vec::new();
    for i in 0..=runs {
        let out = scratch.join(i.to_string());
        let start = Instant::now();
        let output = Command::new(seedream)
            .args(["generate", "--base-url", &base, "--api-key", "test", "--prompt", "x", "--out"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| e.to_string())?;
        let elapsed = start.elapsed();
        if !output.status.success() {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(format!(
                "seedream generate failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let saved = std::fs::read_dir(&out)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "jpg" || ext == "png"))
                    .count()
            })
            .unwrap_or(0);
        let _ = std::fs::remove_dir_all(&out);
        if saved == 0 {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(format!("seedream generate saved no image under {}", out.display()));
        }
        if i > 0 {
            times.push(elapsed.as_secs_f64() * 1e3);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("  W3: {} runs, {:.1}..{:.1} ms", times.len(), min(&times), max(&times));
    Ok(json!({ "runs_ms": times }))
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}
