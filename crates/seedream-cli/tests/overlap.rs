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

fn batch(dir: &Scratch, base: &str) -> Running {
    let args = ["batch", "jobs.jsonl", "--out", "out", "-c", "8", "--json", "--base-url", base, "--api-key", "k"];
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
    let (first, second) = (batch(&dir, &base), batch(&dir, &base));
    let outcomes = [first.finish(common::RUN_LIMIT), second.finish(common::RUN_LIMIT)];
    let purchases = emulator.handle().stats().images_generated;
    let mut succeeded = 0;
    let mut elsewhere = 0;
    for outcome in &outcomes {
        assert_eq!(outcome.code(), 0, "{outcome}");
        let summary = outcome.json();
        succeeded += summary["succeeded"].as_u64().unwrap();
        elsewhere += summary["elsewhere"].as_array().unwrap().len() as u64;
    }
    assert_eq!(purchases, LINES as u64, "lines bought twice\n{}\n{}", outcomes[0], outcomes[1]);
    assert_eq!(succeeded, LINES as u64);
    assert_eq!(images_in(&dir.join("out")).len(), LINES);
    // Each line either ran here, was done before this run started, or was left to the other run.
    let skipped: u64 = outcomes.iter().map(|o| o.json()["skipped"].as_u64().unwrap()).sum();
    assert_eq!(succeeded + elsewhere + skipped, 2 * LINES as u64, "{}\n{}", outcomes[0], outcomes[1]);
    if elsewhere > 0 {
        let said = outcomes.iter().any(|o| o.stderr.contains("another seedream run"));
        assert!(said, "{}\n{}", outcomes[0], outcomes[1]);
    }
}

#[test]
fn a_batch_loses_no_image_to_a_server_closing_kept_alive_connections() {
    const LINES: usize = 40;
    let dir = Scratch::new("stale");
    jobs(&dir, LINES, "url");
    let emulator = Standalone::start(EmulatorConfig { stale_keep_alive: true, ..EmulatorConfig::default() });
    let outcome = batch(&dir, &emulator.handle().base_url()).finish(common::RUN_LIMIT);
    let summary = outcome.json();
    assert!(emulator.handle().stats().stale_closes > 0, "the server never dropped a connection");
    assert_eq!(summary["succeeded"].as_u64(), Some(LINES as u64), "{outcome}");
    assert_eq!(images_in(&dir.join("out")).len(), LINES);
}
