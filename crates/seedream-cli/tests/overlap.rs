//! Runs that overlap or meet a hostile network, against one emulator in this test process (its
//! counters cover every `seedream` process): two batches on one folder at once buy each line once,
//! and a server that closes kept-alive connections silently loses no image of a batch.

mod common;

use common::{Running, Scratch, images_in, seedream};
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use std::time::Duration;

struct Standalone {
    runtime: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
}

impl Standalone {
    fn start(config: EmulatorConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let handle = runtime.block_on(Emulator::start(config)).unwrap();
        Self { runtime, handle: Some(handle) }
    }

    fn handle(&self) -> &EmulatorHandle {
        self.handle.as_ref().unwrap()
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime.block_on(handle.shutdown());
        }
    }
}

fn jobs(dir: &Scratch, lines: usize, format: &str) {
    let text: Vec<String> = (1..=lines)
        .map(|i| format!(r#"{{"prompt": "overlap {i}", "size": "1K", "response_format": "{format}"}}"#))
        .collect();
    dir.write("jobs.jsonl", text.join("\n"));
}

fn batch(dir: &Scratch, base: &str, json: bool) -> Running {
    let mut args = vec!["batch", "jobs.jsonl", "--out", "out", "-c", "8", "--base-url", base, "--api-key", "k"];
    if json {
        args.push("--json");
    }
    Running::start(seedream(&dir.path).args(args), None)
}

#[test]
fn two_batches_on_one_folder_at_once_buy_each_line_once() {
    const LINES: usize = 40;
    let dir = Scratch::new("overlap");
    jobs(&dir, LINES, "b64_json");
    // Slow enough that the two runs overlap for most of their lines.
    let emulator =
        Standalone::start(EmulatorConfig { image_delay: Duration::from_millis(60), ..EmulatorConfig::default() });
    let base = emulator.handle().base_url();
    // One run speaks JSON, the other text: both say which lines they left to the other.
    let (first, second) = (batch(&dir, &base, true), batch(&dir, &base, false));
    let (first, second) = (first.finish(common::RUN_LIMIT), second.finish(common::RUN_LIMIT));
    let purchases = emulator.handle().stats().images_generated;
    assert_eq!((first.code(), second.code()), (0, 0), "{first}\n{second}");
    assert_eq!(purchases, LINES as u64, "lines bought twice\n{first}\n{second}");
    assert_eq!(images_in(&dir.join("out")).len(), LINES);
    let summary = first.json();
    let left: Vec<&serde_json::Value> = summary["elsewhere"].as_array().unwrap().iter().collect();
    assert!(left.iter().all(|entry| entry["line"].as_u64().is_some()), "{summary}");
    // The runs overlapped (60 ms an image, 40 lines): one of them left lines to the other, and said so.
    let said_in_text = second.stderr.contains("skipped: another seedream run");
    assert!(!left.is_empty() || said_in_text, "no line was left to the other run\n{first}\n{second}");
    if said_in_text {
        assert!(second.stderr.contains("left to another run on this folder"), "{second}");
    }
}

#[test]
fn a_batch_loses_no_image_to_a_server_closing_kept_alive_connections() {
    const LINES: usize = 40;
    let dir = Scratch::new("stale");
    jobs(&dir, LINES, "url");
    let emulator = Standalone::start(EmulatorConfig { stale_keep_alive: true, ..EmulatorConfig::default() });
    let outcome = batch(&dir, &emulator.handle().base_url(), true).finish(common::RUN_LIMIT);
    let summary = outcome.json();
    assert!(emulator.handle().stats().stale_closes > 0, "the server never dropped a connection");
    assert_eq!(summary["succeeded"].as_u64(), Some(LINES as u64), "{outcome}");
    assert_eq!(images_in(&dir.join("out")).len(), LINES);
}
