//! End-to-end: the built binary against the emulator (embedded, or `seedream emulator` in a child
//! process). Small sizes (1K) keep them fast; every run is killed after a time limit.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Running, Scratch, images_in, is_jpeg, manifest, png_header, run, seedream};
use serde_json::Value;

#[test]
fn generate_a_group_of_links_saves_jpegs_and_a_manifest() {
    let dir = Scratch::new("gen-url");
    let out = run(
        &dir.path,
        &["generate", "--prompt", "a lighthouse at dawn", "-m", "seedream-4.0", "--max-images", "3", "--size", "1K"],
    );
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("using the embedded emulator"), "{out}");
    let saved = dir.join("seedream-out");
    let files = images_in(&saved);
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        assert!(file.starts_with("a-lighthouse-at-dawn-") && file.ends_with(".jpg"), "{file}");
        assert!(is_jpeg(&saved.join(file)), "{file} is not a JPEG");
        assert!(out.stdout.contains(file.as_str()), "{file} not listed\n{out}");
    }
    let run = &manifest(&saved)["runs"][0];
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["command"], "generate");
    assert_eq!(run["model"], seedream_types::catalog::SEEDREAM_4_0);
    assert_eq!(run["request"]["sequential_image_generation_options"]["max_images"], 3);
    assert_eq!(run["images"].as_array().unwrap().len(), 3);
    assert_eq!(run["images"][0]["size"], "1024x1024");
    assert_eq!(run["usage"]["generated_images"], 3);
    assert!(run["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{run}");
    assert!(!run.to_string().contains("embedded-emulator"), "the key is not recorded");
}

#[test]
fn generate_b64_json_with_a_local_reference_records_its_path_and_prints_json() {
    let dir = Scratch::new("gen-b64");
    dir.write("ref.png", png_header(1600, 900));
    let out = run(
        &dir.path,
        &[
            "generate",
            "-p",
            "the same scene at night",
            "--image",
            "ref.png",
            "--format",
            "b64_json",
            "--size",
            "1K",
            "--out",
            "night",
            "--json",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    let result = out.json();
    assert_eq!(result["status"], "succeeded");
    assert_eq!(result["exit_code"], 0);
    assert_eq!(result["request"]["image"], "ref.png", "the path, not the data URL");
    assert_eq!(result["request"]["response_format"], "b64_json");
    // 1K at the reference's 16:9 ratio.
    assert_eq!(result["images"][0]["size"], "1280x720");
    let file = result["images"][0]["file"].as_str().unwrap();
    assert!(is_jpeg(&dir.join("night").join(file)));
    assert!(!std::fs::read_to_string(dir.join("night/manifest.json")).unwrap().contains("base64,iVBOR"));
}

#[test]
fn generate_stream_prints_a_line_per_image_as_it_arrives() {
    let dir = Scratch::new("gen-stream");
    let out = run(
        &dir.path,
        &["generate", "-p", "four seasons", "-m", "seedream-4.0", "--stream", "--max-images", "4", "--size", "1K"],
    );
    assert_eq!(out.code(), 0, "{out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (index, line) in lines.iter().enumerate() {
        assert!(line.contains(&format!("-{index}.jpg")) && line.ends_with("1024x1024"), "{line}");
    }
    let run = &manifest(&dir.join("seedream-out"))["runs"][0];
    assert_eq!(run["request"]["stream"], true);
    assert_eq!(run["usage"]["generated_images"], 4);
}

#[test]
fn a_moderated_image_in_a_group_is_recorded_and_exits_5() {
    let dir = Scratch::new("gen-moderated");
    let out = run(
        &dir.path,
        &[
            "generate",
            "-p",
            "three cats",
            "-m",
            "seedream-4.0",
            "--max-images",
            "3",
            "--size",
            "1K",
            "-H",
            "x-emulator-fault: moderate;images=1",
        ],
    );
    assert_eq!(out.code(), 5, "{out}");
    assert!(
        out.stderr.contains("generated image 1 refused by moderation (OutputImageSensitiveContentDetected)"),
        "{out}"
    );
    let run = &manifest(&dir.join("seedream-out"))["runs"][0];
    assert_eq!(run["status"], "partial");
    assert_eq!(run["images"].as_array().unwrap().len(), 2);
    assert_eq!(run["failed_images"][0]["index"], 1);
    assert_eq!(run["failed_images"][0]["code"], "OutputImageSensitiveContentDetected");
}

#[test]
fn runs_into_the_same_directory_keep_earlier_images() {
    let dir = Scratch::new("gen-twice");
    for _ in 0..2 {
        let out = run(&dir.path, &["generate", "-p", "same prompt", "--size", "1K"]);
        assert_eq!(out.code(), 0, "{out}");
    }
    assert_eq!(images_in(&dir.join("seedream-out")).len(), 2);
    let runs = manifest(&dir.join("seedream-out"))["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2);
    assert_ne!(runs[0]["id"], runs[1]["id"]);
}

#[test]
fn edit_sends_a_multipart_form_to_the_relay_style_emulator() {
    let dir = Scratch::new("edit");
    dir.write("photo.png", png_header(800, 600));
    dir.write("mask.png", png_header(800, 600));
    let out = run(
        &dir.path,
        &[
            "edit",
            "--image",
            "photo.png",
            "--mask",
            "mask.png",
            "-p",
            "make it winter",
            "-m",
            "seedream-4.0",
            "--size",
            "1K",
            "-n",
            "2",
            "--json",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    let result = out.json();
    assert_eq!(result["command"], "edit");
    assert_eq!(result["request"]["image"], serde_json::json!(["photo.png"]));
    assert_eq!(result["request"]["mask"], "mask.png");
    let images = result["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    // 1K at the input's 4:3 ratio.
    assert_eq!(images[0]["size"], "1152x864");
}

/// `seedream emulator --port 0` in a child process: its base URLs from stdout, stopped with Ctrl-C.
struct ChildEmulator {
    running: Running,
    relay: String,
    ark: String,
}

impl ChildEmulator {
    fn start(dir: &Path, key: &str) -> Self {
        let mut running = Running::start(seedream(dir).args(["emulator", "--port", "0", "--api-key", key]), None);
        let stdout = running.wait_for("Ark style", Duration::from_secs(20));
        let url = |label: &str| {
            let line = stdout.lines().find(|l| l.contains(label)).unwrap();
            line.rsplit(' ').next().unwrap().to_owned()
        };
        Self { relay: url("relay style"), ark: url("Ark style"), running }
    }

    fn stop(self) {
        self.running.interrupt();
        let out = self.running.finish(Duration::from_secs(20));
        assert_eq!(out.code(), 0, "the emulator stops cleanly on Ctrl-C\n{out}");
    }
}

#[cfg(unix)]
#[test]
fn emulator_command_serves_ark_and_relay_urls_and_checks_the_key() {
    let dir = Scratch::new("emulator");
    dir.write("photo.png", png_header(640, 640));
    let emulator = ChildEmulator::start(&dir.path, "test-key");
    assert!(emulator.relay.starts_with("http://127.0.0.1:") && emulator.relay.ends_with("/v1"), "{}", emulator.relay);

    // Ark style: the edit goes as a generations call with a data URL.
    let out = run(
        &dir.path,
        &[
            "edit",
            "-i",
            "photo.png",
            "-p",
            "winter",
            "--size",
            "1K",
            "--base-url",
            &emulator.ark,
            "--api-key",
            "test-key",
            "--json",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    assert!(!out.stderr.contains("embedded emulator"), "{out}");
    assert_eq!(out.json()["service"], emulator.ark.as_str());

    // The key from the environment, as a person would set it.
    let mut command = seedream(&dir.path);
    command.args(["generate", "-p", "x", "--size", "1K", "--base-url", &emulator.relay]).env("ARK_API_KEY", "test-key");
    let out = Running::start(&mut command, None).finish(common::RUN_LIMIT);
    assert_eq!(out.code(), 0, "{out}");

    // A wrong key: refused (3), with the hint to set ARK_API_KEY, and the key never printed.
    let out = run(
        &dir.path,
        &["generate", "-p", "x", "--size", "1K", "--base-url", &emulator.relay, "--api-key", "wrong-key-123"],
    );
    assert_eq!(out.code(), 3, "{out}");
    assert!(out.stderr.contains("AuthenticationError") && out.stderr.contains("ARK_API_KEY"), "{out}");
    assert!(out.stderr.to_lowercase().contains("request id: 0"), "{out}");
    assert!(!out.stderr.contains("wrong-key-123") && !out.stdout.contains("wrong-key-123"), "{out}");

    emulator.stop();
}

#[cfg(unix)]
#[test]
fn results_of_a_separate_emulator_reached_by_base_url_are_marked_synthetic() {
    let dir = Scratch::new("emulator-synthetic");
    let emulator = ChildEmulator::start(&dir.path, "test-key");
    let base = emulator.relay.clone();
    let out = run(
        &dir.path,
        &[
            "generate",
            "-p",
            "x",
            "--size",
            "1K",
            "--out",
            "out",
            "--base-url",
            &base,
            "--api-key",
            "test-key",
            "--json",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    assert!(!out.stderr.contains("embedded emulator"), "{out}");
    assert_eq!(out.json()["synthetic"], true, "{out}");
    let saved = dir.join("out");
    let run = &manifest(&saved)["runs"][0];
    assert_eq!(run["service"], base.as_str());
    assert_eq!(run["synthetic"], true, "{run}");
    // The journal's image lines say so as well.
    let journal = std::fs::read_to_string(saved.join("journal.jsonl")).unwrap();
    let images: Vec<Value> = journal
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| record["type"] == "image")
        .collect();
    assert!(!images.is_empty() && images.iter().all(|record| record["synthetic"] == true), "{journal}");
    emulator.stop();
}

#[test]
fn a_base_url_without_a_key_is_a_usage_error_with_a_hint() {
    let dir = Scratch::new("no-key");
    let out = run(&dir.path, &["generate", "-p", "x", "--base-url", "https://relay.example.invalid/v1"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stderr.contains("no API key") && out.stderr.contains("ARK_API_KEY"), "{out}");
}

#[test]
fn service_failures_exit_3_or_4_with_the_code_and_request_id() {
    let dir = Scratch::new("service-errors");
    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "-H", "x-emulator-fault: quota"]);
    assert_eq!(out.code(), 3, "{out}");
    assert!(out.stderr.contains("HTTP 429 QuotaExceeded") && out.stderr.contains("Request id"), "{out}");
    assert!(out.stderr.contains("hint: "), "{out}");
    let out =
        run(&dir.path, &["generate", "-p", "x", "--size", "1K", "-H", "x-emulator-fault: invalid-json", "--json"]);
    assert_eq!(out.code(), 4, "{out}");
    let run = &manifest(&dir.join("seedream-out"))["runs"][1];
    assert_eq!(run["status"], "failed");
    assert_eq!(run["error"]["kind"], "decode");
    assert_eq!(out.json()["error"]["exit_code"], 4);
}

#[test]
fn an_invalid_request_is_refused_before_sending_with_a_hint() {
    let dir = Scratch::new("invalid");
    let out = run(&dir.path, &["generate", "-p", "x", "--model", "doubao-seedream-4-5-251128", "--size", "1K"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stderr.contains("nothing was sent") && out.stderr.contains("  size: "), "{out}");
    assert!(out.stderr.contains("hint: ") && out.stderr.contains("--size 2K"), "{out}");
    assert!(!dir.join("seedream-out").exists(), "nothing created for an invalid request");
}

#[test]
fn bad_inputs_fail_with_a_clear_message_and_exit_1() {
    let dir = Scratch::new("bad-inputs");
    dir.write("notes.txt", "not an image");
    dir.write("file", "a file where a directory should be");

    let out = run(&dir.path, &["generate", "-p", "x", "--image", "missing.png"]);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("cannot read image missing.png: no such file or directory"), "{out}");

    let out = run(&dir.path, &["edit", "-i", "notes.txt", "-p", "x"]);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("cannot use image notes.txt: it is not a JPEG, PNG"), "{out}");

    std::fs::create_dir_all(dir.join("folder.png")).unwrap();
    let out = run(&dir.path, &["generate", "-p", "x", "--image", "folder.png"]);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("cannot read image folder.png: it is a directory"), "{out}");

    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "--out", "file/sub"]);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("cannot write to file/sub") && out.stderr.contains("--out"), "{out}");

    let out = run(&dir.path, &["batch", "missing.jsonl"]);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("cannot read the batch file missing.jsonl"), "{out}");

    // A manifest that is not one is never overwritten.
    std::fs::create_dir_all(dir.join("kept")).unwrap();
    dir.write("kept/manifest.json", "{ not json");
    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "--out", "kept"]);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("is not a seedream manifest"), "{out}");
    assert_eq!(std::fs::read_to_string(dir.join("kept/manifest.json")).unwrap(), "{ not json");
}

#[test]
fn batch_records_a_failure_in_the_middle_and_a_rerun_resumes() {
    let dir = Scratch::new("batch");
    dir.write("ref.png", png_header(1000, 1000));
    let good = [
        r#"{"prompt": "one", "size": "1K"}"#,
        r#"{"prompt": "two", "size": "1K", "sequential_image_generation": "auto", "sequential_image_generation_options": {"max_images": 2}}"#,
        r#"{"prompt": "three", "size": "1K", "model": "doubao-seedream-4-5-251128"}"#,
        r#"{"prompt": "four", "size": "1K", "image": "ref.png", "response_format": "b64_json"}"#,
    ];
    let invalid = r#"{"prompt": "three", "size": "1K", "model": "doubao-seedream-4-5-251128"}"#;
    let fixed = r#"{"prompt": "three", "size": "2560x1440", "model": "doubao-seedream-4-5-251128"}"#;
    assert_eq!(good[2], invalid);
    let file = format!("{}\n{}\n\n{}\n{{not json\n{}\n", good[0], good[1], invalid, good[3]);
    dir.write("jobs.jsonl", &file);

    let first = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--concurrency", "2", "--json"]);
    assert_eq!(first.code(), 5, "{first}");
    let summary = first.json();
    assert_eq!((summary["succeeded"].as_u64(), summary["failed"].as_u64()), (Some(3), Some(2)), "{summary}");
    assert_eq!(summary["images"], 4);
    let lines = manifest(&dir.join("out"))["batch"]["lines"].clone();
    assert_eq!(lines.as_object().unwrap().keys().collect::<Vec<_>>(), ["1", "2", "4", "5", "6"]);
    assert_eq!(lines["4"]["status"], "failed");
    assert_eq!(lines["4"]["error"]["kind"], "invalid");
    assert!(lines["4"]["error"]["violations"][0].as_str().unwrap().starts_with("size: "), "{}", lines["4"]);
    assert_eq!(lines["5"]["error"]["kind"], "not-json");
    assert_eq!(lines["5"]["request"], "{not json");
    assert_eq!(lines["6"]["request"]["image"], "ref.png");
    assert_eq!(lines["2"]["images"].as_array().unwrap().len(), 2);
    let before: Vec<(String, std::time::SystemTime)> = images_in(&dir.join("out"))
        .into_iter()
        .map(|f| {
            let modified = std::fs::metadata(dir.join("out").join(&f)).unwrap().modified().unwrap();
            (f, modified)
        })
        .collect();
    assert_eq!(before.len(), 4);

    // Fix the two bad lines and run again: only they run.
    dir.write("jobs.jsonl", file.replace(invalid, fixed).replace("{not json", r#"{"prompt": "five", "size": "1K"}"#));
    let second = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json"]);
    assert_eq!(second.code(), 0, "{second}");
    let summary = second.json();
    assert_eq!((summary["skipped"].as_u64(), summary["succeeded"].as_u64()), (Some(3), Some(2)), "{summary}");
    for (file, modified) in &before {
        let now = std::fs::metadata(dir.join("out").join(file)).unwrap().modified().unwrap();
        assert_eq!(&now, modified, "{file} was written again");
    }
    let lines = manifest(&dir.join("out"))["batch"]["lines"].clone();
    assert!(lines.as_object().unwrap().values().all(|l| l["status"] == "succeeded"), "{lines}");
    assert_eq!(lines["4"]["images"][0]["size"], "2560x1440");

    // Everything done: nothing runs, not even the emulator.
    let third = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out"]);
    assert_eq!(third.code(), 0, "{third}");
    assert!(third.stderr.contains("all 5 lines are done already"), "{third}");
    assert!(!third.stderr.contains("embedded emulator"), "{third}");
}

#[test]
fn batch_stops_at_an_error_every_line_would_hit() {
    let dir = Scratch::new("batch-quota");
    let lines: String = (0..5).map(|i| format!("{{\"prompt\": \"p{i}\", \"size\": \"1K\"}}\n")).collect();
    dir.write("jobs.jsonl", lines);
    let out = run(&dir.path, &["batch", "jobs.jsonl", "--concurrency", "1", "-H", "x-emulator-fault: quota", "--json"]);
    assert_eq!(out.code(), 3, "{out}");
    let summary = out.json();
    assert_eq!(summary["status"], "stopped");
    assert_eq!((summary["failed"].as_u64(), summary["not_run"].as_u64()), (Some(1), Some(4)), "{summary}");
    assert_eq!(summary["error"]["code"], "QuotaExceeded");
}

#[cfg(unix)]
#[test]
fn batch_respects_the_images_per_minute_limit() {
    let dir = Scratch::new("batch-limit");
    // 3 images allowed per minute: the two 2-image lines cannot both start within the test's time.
    let lines = r#"{"prompt": "a", "size": "1K", "sequential_image_generation": "auto", "sequential_image_generation_options": {"max_images": 2}}
{"prompt": "b", "size": "1K", "sequential_image_generation": "auto", "sequential_image_generation_options": {"max_images": 2}}
"#;
    dir.write("jobs.jsonl", lines);
    let mut running = Running::start(
        seedream(&dir.path).args(["batch", "jobs.jsonl", "--images-per-minute", "3", "--concurrency", "2"]),
        None,
    );
    running.wait_for("2 images saved", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1500));
    running.interrupt();
    let out = running.finish(Duration::from_secs(20));
    assert_eq!(out.code(), 130, "{out}");
    assert!(out.stderr.contains("1 succeeded") && out.stderr.contains("1 not run"), "{out}");
    let lines = manifest(&dir.join("seedream-out"))["batch"]["lines"].clone();
    assert_eq!(lines.as_object().unwrap().len(), 1, "{lines}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_leaves_only_complete_files_and_records_the_run() {
    let dir = Scratch::new("ctrl-c");
    // The stream stalls after its first image: Ctrl-C comes while waiting for the second.
    let mut running = Running::start(
        seedream(&dir.path).args([
            "generate",
            "-p",
            "slow",
            "-m",
            "seedream-4.0",
            "--stream",
            "--max-images",
            "3",
            "--size",
            "1K",
            "-H",
            "x-emulator-fault: stall;ms=30000",
        ]),
        None,
    );
    running.wait_for("-0.jpg", Duration::from_secs(30));
    running.interrupt();
    let out = running.finish(Duration::from_secs(20));
    assert_eq!(out.code(), 130, "{out}");
    assert!(out.stderr.contains("interrupted: 1 image saved"), "{out}");
    let saved = dir.join("seedream-out");
    let files = images_in(&saved);
    assert_eq!(files.len(), 1, "only the finished image, no temporary file: {files:?}");
    assert!(is_jpeg(&saved.join(&files[0])));
    let run: Value = manifest(&saved)["runs"][0].clone();
    assert_eq!(run["status"], "interrupted");
    assert_eq!(run["images"][0]["file"], files[0].as_str());
}
