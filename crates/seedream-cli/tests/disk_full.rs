//! A full disk, for real: the output folder is a 16 KiB tmpfs mounted in a private user and mount
//! namespace (`unshare -rm`, gone when the process ends), too small for the image.

mod common;

use std::process::Command;

use common::{RUN_LIMIT, Running, Scratch};

/// Whether this machine lets an unprivileged process mount a tmpfs in its own namespaces.
fn namespaces_available() -> bool {
    Command::new("unshare").args(["-rm", "true"]).status().is_ok_and(|s| s.success())
}

#[test]
fn a_full_disk_is_named_as_such_and_exits_1() {
    if !namespaces_available() {
        eprintln!("skipped: `unshare -rm` is not available here (CI has it)");
        if std::env::var_os("CI").is_some() {
            panic!("CI must run this test");
        }
        return;
    }
    let scratch = Scratch::new("disk-full");
    let out = scratch.join("small");
    std::fs::create_dir_all(&out).unwrap();
    let mut command = Command::new("unshare");
    command
        .args(["-rm", "sh", "-c", r#"mount -t tmpfs -o size=16k tmpfs "$1" && shift && exec "$@""#, "sh"])
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_seedream"))
        .args(["generate", "--prompt", "a lighthouse at dawn", "--json", "--out"])
        .arg(&out)
        .env_remove("SEEDREAM_API_KEY")
        .env_remove("ARK_API_KEY")
        .env_remove("SEEDREAM_BASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let outcome = Running::start(&mut command, None).finish(RUN_LIMIT);
    assert_eq!(outcome.code(), 1, "{outcome}");
    let report = outcome.json();
    let error = &report["error"];
    assert!(error["message"].as_str().unwrap().contains("the disk is full"), "{outcome}");
    assert!(error["hint"].as_str().unwrap().contains("free some space"), "{outcome}");
    assert_eq!(report["status"], "failed");
}
