//! Start and shutdown in a loop leave no task, thread-pool work or socket behind. Alone in its test
//! binary, so the process's open descriptors are this test's own.

mod common;

use common::*;
use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

const V40: &str = "doubao-seedream-4-0-250828";

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|dir| dir.count()).unwrap_or(0)
}

#[tokio::test]
async fn start_and_shutdown_in_a_loop_leaks_no_task_or_socket() {
    let runtime = tokio::runtime::Handle::current();
    // Warm up (lazily created runtime resources are not leaks).
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.shutdown().await;
    let tasks_before = runtime.metrics().num_alive_tasks();
    let fds_before = open_fds();
    for round in 0..20 {
        let config = EmulatorConfig { tls: round % 4 == 0, ..EmulatorConfig::default() };
        let emulator = Emulator::start(config).await.unwrap();
        if round % 4 != 0 {
            let body = json!({"model": V40, "prompt": "p", "size": "1K"});
            let (answer, _) = raw(emulator.addr(), &raw_post("/v1/images/generations", &body, ""), TIMEOUT).await;
            assert!(answer.starts_with(b"HTTP/1.1 200"));
        }
        tokio::time::timeout(TIMEOUT, emulator.shutdown()).await.expect("shutdown hung");
        // Checked at once: shutdown returns only after every task has ended.
        assert_eq!(runtime.metrics().num_alive_tasks(), tasks_before, "round {round}: tasks left running");
    }
    assert_eq!(runtime.metrics().num_alive_tasks(), tasks_before, "tasks left running");
    assert!(open_fds() <= fds_before, "sockets left open: {} > {fds_before}", open_fds());
}
