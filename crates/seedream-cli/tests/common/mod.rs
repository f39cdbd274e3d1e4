//! Running the built `seedream` binary in a scratch directory, with a time limit on every wait.
//!
//! Every crate keeps its own test helpers in `tests/common/mod.rs`; what several crates share (bounded
//! child processes, PNG inputs, the fixtures in `tests/fixtures/`) is the `seedream-tests` crate.

#![allow(dead_code)] // each test file uses a part

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// The longest any single run may take before it is killed and the test fails.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// The model the CLI sends when none is named: the catalog's recommended current id.
pub fn default_model() -> &'static str {
    use seedream_types::catalog::{Catalog, Provider};
    Catalog::builtin().default_model(Provider::Volcengine)
}

/// A directory removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("seedream-cli-{name}-{:016x}", fastrand::u64(..)));
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// What a finished run printed, and its exit status.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// The exit status; fails the test (with the output) when the process died of a signal.
    pub fn code(&self) -> i32 {
        self.code.unwrap_or_else(|| panic!("killed by a signal\n{self}"))
    }

    /// stdout as one JSON value.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// A `seedream` command in `dir`, with no key or base URL from the environment (so the embedded
/// emulator serves it unless the test says otherwise).
pub fn seedream(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seedream"));
    command
        .current_dir(dir)
        .env_remove("SEEDREAM_API_KEY")
        .env_remove("ARK_API_KEY")
        .env_remove("SEEDREAM_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `seedream args…` in `dir` to the end (at most [`RUN_LIMIT`]).
pub fn run(dir: &Path, args: &[&str]) -> Outcome {
    Running::start(seedream(dir).args(args), None).finish(RUN_LIMIT)
}

/// Runs `seedream args…` in `dir` with `input` on stdin.
pub fn run_with_stdin(dir: &Path, args: &[&str], input: &str) -> Outcome {
    Running::start(seedream(dir).args(args).stdin(Stdio::piped()), Some(input)).finish(RUN_LIMIT)
}

/// A running process whose output is collected as it comes.
pub struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn start(command: &mut Command, input: Option<&str>) -> Self {
        let mut child = command.spawn().expect("the seedream binary starts");
        if let Some(input) = input {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).unwrap();
        }
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), stdout.clone()),
            collect(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Self { child, stdout, stderr, readers }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until stdout or stderr contains `text`; panics (after killing) when it does not in time.
    pub fn wait_for(&mut self, text: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let out = self.stdout.lock().unwrap().clone();
            let err = self.stderr.lock().unwrap().clone();
            if out.contains(text) || err.contains(text) {
                return out;
            }
            if Instant::now() > deadline || self.child.try_wait().unwrap().is_some() {
                let _ = self.child.kill();
                panic!("never printed {text:?}\n--- stdout\n{out}\n--- stderr\n{err}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        let status = Command::new("kill").args(["-INT", &self.pid().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the end (killing the process after `limit`, which fails the test).
    pub fn finish(mut self, limit: Duration) -> Outcome {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                for reader in self.readers.drain(..) {
                    let _ = reader.join();
                }
                panic!(
                    "seedream ran longer than {limit:?} and was killed\n--- stdout\n{}\n--- stderr\n{}",
                    self.stdout.lock().unwrap(),
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        Outcome { code: status.code(), stdout, stderr }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that panicked midway leaves no process behind.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect(mut pipe: impl std::io::Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n])),
            }
        }
    })
}

/// A PNG of `width` × `height` as far as header readers go (signature and IHDR).
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

/// The manifest in `dir`.
pub fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json exists");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// The files in `dir`, sorted, without the manifest, the journal and the gallery page.
pub fn images_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    // `.claims` holds the batch lines' claim files (see the CLI's claim.rs), not results.
    names.retain(|n| n != "manifest.json" && n != "journal.jsonl" && n != "index.html" && n != ".claims");
    names.sort();
    names
}

/// Whether `path` holds a JPEG (by its first bytes).
pub fn is_jpeg(path: &Path) -> bool {
    let mut start = [0u8; 3];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut start)).is_ok() && start == [0xFF, 0xD8, 0xFF]
}

/// An emulator in this test process, so its request counter covers every `seedream` process.
pub struct Standalone {
    runtime: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
}

impl Standalone {
    pub fn start(config: EmulatorConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let handle = runtime.block_on(Emulator::start(config)).unwrap();
        Self { runtime, handle: Some(handle) }
    }

    pub fn handle(&self) -> &EmulatorHandle {
        self.handle.as_ref().unwrap()
    }

    pub fn base_url(&self) -> String {
        self.handle().base_url()
    }

    pub fn requests(&self) -> u64 {
        self.handle().stats().requests
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime.block_on(handle.shutdown());
        }
    }
}

/// A server answering every connection with `response`, once per connection, on a thread.
pub fn canned(head: &str, body: &str) -> String {
    let response = format!("{head}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buffer = [0u8; 65536];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.flush();
        }
    });
    format!("http://{addr}/v1")
}
