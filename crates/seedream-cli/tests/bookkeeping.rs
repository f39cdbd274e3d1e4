//! End-to-end: the output directory's records (journal and manifest) under resume, parallel runs and
//! kill -9; request keys; `validate` on batch files; the call flags; hints naming real options and
//! causes. Every run is bounded (common::RUN_LIMIT), every loop has a fixed number of rounds.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{Running, Scratch, Standalone, canned, images_in, manifest, png_header, run, seedream};
use seedream_emulator::EmulatorConfig;
use serde_json::Value;

fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn line(prompt: &str) -> String {
    format!(r#"{{"prompt": "{prompt}", "size": "1K", "response_format": "b64_json"}}"#)
}

#[test]
fn batch_resume_goes_by_request_key_not_line_number() {
    let dir = Scratch::new("resume-key");
    let lines: Vec<String> = (1..=9).map(|i| line(&format!("p{i}"))).collect();
    // 10 lines in the file (one blank): names are padded to 2 digits.
    dir.write("jobs.jsonl", format!("{}\n\n", lines.join("\n")));
    let first = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json"]);
    assert_eq!(first.code(), 0, "{first}");
    let summary = first.json();
    assert_eq!((summary["succeeded"].as_u64(), summary["skipped"].as_u64()), (Some(9), Some(0)), "{summary}");
    let files = images_in(&dir.join("out"));
    assert_eq!(files.len(), 9, "{files:?}");
    assert!(files[0].starts_with("line01-") && files[8].starts_with("line09-"), "{files:?}");
    let lines_json = manifest(&dir.join("out"))["batch"]["lines"].clone();
    assert_eq!(lines_json["1"]["service"], "embedded emulator");
    assert_eq!(lines_json["1"]["synthetic"], true);
    assert_eq!(lines_json["1"]["key"].as_str().unwrap().len(), 32);

    // A new line on top, two lines swapped, one edited: only the new and the edited line run.
    let mut changed = vec![line("new on top")];
    changed.extend(lines.iter().cloned());
    changed.swap(3, 4);
    changed[6] = line("p6 edited");
    dir.write("jobs.jsonl", changed.join("\n"));
    let second = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json"]);
    assert_eq!(second.code(), 0, "{second}");
    let summary = second.json();
    assert_eq!(
        (summary["succeeded"].as_u64(), summary["skipped"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(8), Some(0)),
        "{summary}"
    );
    assert_eq!(images_in(&dir.join("out")).len(), 11);
    // The view follows the file as it is now: line 1 is the new request.
    let view = manifest(&dir.join("out"))["batch"]["lines"].clone();
    assert_eq!(view.as_object().unwrap().len(), 10);
    assert_eq!(view["1"]["request"]["prompt"], "new on top");
    assert_eq!(view["2"]["request"]["prompt"], "p1");

    // Two copies of one line are two results (a second variant), and stay two on resume.
    let mut twice = changed.clone();
    twice.push(line("p1"));
    dir.write("jobs.jsonl", twice.join("\n"));
    let third = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json"]).json();
    assert_eq!((third["succeeded"].as_u64(), third["skipped"].as_u64()), (Some(1), Some(10)), "{third}");
    let fourth = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json"]).json();
    assert_eq!((fourth["succeeded"].as_u64(), fourth["skipped"].as_u64()), (Some(0), Some(11)), "{fourth}");
}

#[test]
fn another_service_regenerates_and_the_manifest_says_which() {
    let dir = Scratch::new("resume-service");
    dir.write("jobs.jsonl", format!("{}\n{}\n", line("a"), line("b")));
    let embedded = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json"]);
    assert_eq!(embedded.json()["succeeded"], 2, "{embedded}");
    let emulator = Standalone::start(EmulatorConfig::default());
    let base = emulator.base_url();
    let real =
        run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json", "--base-url", &base, "--api-key", "k"]);
    assert_eq!(real.code(), 0, "{real}");
    let summary = real.json();
    assert_eq!((summary["succeeded"].as_u64(), summary["skipped"].as_u64()), (Some(2), Some(0)), "{summary}");
    assert_eq!(emulator.requests(), 2);
    let lines = manifest(&dir.join("out"))["batch"]["lines"].clone();
    assert_eq!(lines["1"]["service"], base.as_str());
    // An emulator reached by URL says so in its answers: its lines are synthetic too.
    assert_eq!(lines["1"]["synthetic"], true, "{lines}");
    // And back on the same service: nothing runs.
    let again =
        run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json", "--base-url", &base, "--api-key", "k"]);
    assert_eq!(again.json()["skipped"], 2, "{again}");
    assert_eq!(emulator.requests(), 2);
}

#[test]
fn local_images_are_keyed_by_content_not_path() {
    let dir = Scratch::new("resume-image");
    dir.write("a.png", png_header(1000, 1000));
    dir.write("b.png", png_header(1000, 1000));
    let with = |name: &str| format!(r#"{{"prompt": "p", "size": "1K", "image": "{name}"}}"#);
    dir.write("jobs.jsonl", with("a.png"));
    assert_eq!(run(&dir.path, &["batch", "jobs.jsonl", "--json"]).json()["succeeded"], 1);
    // Another path to the same bytes: done.
    dir.write("jobs.jsonl", with("b.png"));
    assert_eq!(run(&dir.path, &["batch", "jobs.jsonl", "--json"]).json()["skipped"], 1);
    // The same path with other bytes: runs.
    dir.write("b.png", png_header(1200, 1000));
    assert_eq!(run(&dir.path, &["batch", "jobs.jsonl", "--json"]).json()["succeeded"], 1);
}

#[cfg(unix)]
#[test]
fn parallel_generate_runs_into_one_folder_keep_every_entry() {
    let dir = Scratch::new("parallel");
    let emulator = Standalone::start(EmulatorConfig::default());
    let base = emulator.base_url();
    const RUNS: usize = 6;
    let running: Vec<Running> = (0..RUNS)
        .map(|i| {
            let prompt = if i % 2 == 0 { "same prompt".to_owned() } else { format!("prompt {i}") };
            Running::start(
                seedream(&dir.path).args([
                    "generate",
                    "-p",
                    &prompt,
                    "--size",
                    "1K",
                    "--out",
                    "out",
                    "--base-url",
                    &base,
                    "--api-key",
                    "k",
                ]),
                None,
            )
        })
        .collect();
    for process in running {
        let out = process.finish(common::RUN_LIMIT);
        assert_eq!(out.code(), 0, "{out}");
    }
    let runs = manifest(&dir.join("out"))["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), RUNS, "{runs:?}");
    let ids: BTreeSet<&str> = runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), RUNS);
    assert_eq!(images_in(&dir.join("out")).len(), RUNS);
    assert_eq!(journal(&dir.join("out")).iter().filter(|r| r["type"] == "run").count(), RUNS);
}

/// Kills a batch at random points; after every kill, each line the batch had reported saved is in
/// the journal, and the next round asks the service only for lines without a complete result.
#[cfg(unix)]
#[test]
fn kill_9_loses_nothing_reported_and_redoes_nothing_complete() {
    const LINES: usize = 24;
    const ROUNDS: usize = 6;
    let dir = Scratch::new("kill9");
    let emulator = Standalone::start(EmulatorConfig { image_delay: Duration::from_millis(200), ..Default::default() });
    let base = emulator.base_url();
    let text: Vec<String> = (0..LINES).map(|i| line(&format!("line {i}"))).collect();
    dir.write("jobs.jsonl", text.join("\n"));
    let args = ["batch", "jobs.jsonl", "--out", "out", "--concurrency", "3", "--base-url", &base, "--api-key", "k"];
    let complete = |dir: &Path| -> BTreeSet<u64> {
        journal(dir)
            .iter()
            .filter(|r| r["type"] == "line" && r["record"]["status"] == "succeeded")
            .map(|r| r["line"].as_u64().unwrap())
            .collect()
    };
    let mut rng = fastrand::Rng::with_seed(11);
    for round in 0..ROUNDS {
        let before = complete(&dir.join("out"));
        let requests_before = emulator.requests();
        let process = Running::start(seedream(&dir.path).args(args), None);
        let delay = rng.u64(300..1100);
        std::thread::sleep(Duration::from_millis(delay));
        let _ = std::process::Command::new("kill").args(["-9", &process.pid().to_string()]).status();
        let stderr = process.finish(Duration::from_secs(20)).stderr;
        let reported: BTreeSet<u64> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("seedream: line ")?.split_once(": 1 image saved").map(|(n, _)| n))
            .map(|n| n.parse().unwrap())
            .collect();
        let after = complete(&dir.join("out"));
        assert!(reported.is_subset(&after), "round {round}: reported {reported:?}, journal {after:?}");
        let asked = emulator.requests() - requests_before;
        let pending = (LINES - before.len()) as u64;
        assert!(asked <= pending, "round {round}: {asked} requests for {pending} pending lines");
        eprintln!(
            "kill -9 round {round}: after {delay} ms, {} reported saved, {} complete in the journal, {asked} requests \
             for {pending} pending lines",
            reported.len(),
            after.len()
        );
    }
    let last =
        run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json", "--base-url", &base, "--api-key", "k"]);
    assert_eq!(last.code(), 0, "{last}");
    assert_eq!(complete(&dir.join("out")).len(), LINES);
    let lines = manifest(&dir.join("out"))["batch"]["lines"].clone();
    assert_eq!(lines.as_object().unwrap().len(), LINES);
    assert!(lines.as_object().unwrap().values().all(|l| l["status"] == "succeeded"), "{lines}");
    assert!(!images_in(&dir.join("out")).iter().any(|n| n.ends_with(".tmp")), "temp files are cleaned at start");
}

#[test]
fn stale_temp_files_of_dead_runs_are_removed_at_start() {
    let dir = Scratch::new("stale");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    dir.write("out/.x-0.jpg.4194305-0badcafe.tmp", b"half");
    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "--out", "out"]);
    assert_eq!(out.code(), 0, "{out}");
    let files = images_in(&dir.join("out"));
    assert!(!files.iter().any(|f| f.ends_with(".tmp")), "{files:?}");
}

#[test]
fn validate_reads_batch_files_with_the_batch_defaults() {
    let dir = Scratch::new("validate-batch");
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    dir.write("jobs/ref.png", png_header(1000, 1000));
    dir.write("jobs/notes.txt", "not an image");
    let good =
        format!("{}\n{}\n", r#"{"prompt": "no model given", "size": "2K"}"#, r#"{"prompt": "p", "image": "ref.png"}"#);
    dir.write("jobs/good.jsonl", &good);
    let out = run(&dir.path, &["validate", "jobs/good.jsonl"]);
    assert_eq!(out.code(), 0, "{out}");
    assert_eq!(out.stdout.trim(), "jobs/good.jsonl: 2 lines, all valid");

    let bad = format!(
        "{good}{}\n{}\n{}\n",
        r#"{"prompt": "p", "image": "missing.png"}"#,
        r#"{"prompt": "p", "image": "notes.txt"}"#,
        r#"{"prompt": "p", "size": "1x1"}"#
    );
    dir.write("jobs/bad.txt", &bad);
    let out = run(&dir.path, &["validate", "--batch", "jobs/bad.txt"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stdout.contains("jobs/bad.txt: line 3: image: cannot read image"), "{out}");
    assert!(out.stdout.contains("jobs/bad.txt: line 4: image: cannot use image"), "{out}");
    assert!(out.stdout.contains("jobs/bad.txt: line 5: size: "), "{out}");
    assert!(out.stdout.contains("5 lines, 3 invalid"), "{out}");
    let json = run(&dir.path, &["validate", "--batch", "jobs/bad.txt", "--json"]);
    assert_eq!(json.code(), 2);
    assert_eq!(json.json()["results"][2]["violations"][0]["field"], "image");
    assert!(json.stderr.is_empty(), "{json}");
}

#[test]
fn dry_run_prints_the_body_sends_nothing_and_writes_nothing() {
    let dir = Scratch::new("dry-run");
    dir.write("ref.png", png_header(1000, 1000));
    let out = run(&dir.path, &["generate", "-p", "x", "--image", "ref.png", "--size", "2K", "--dry-run"]);
    assert_eq!(out.code(), 0, "{out}");
    let body: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(body["prompt"], "x");
    assert_eq!(body["model"], common::default_model());
    assert!(body["image"].as_str().unwrap().starts_with("data:image/png;base64,… ("), "{body}");
    assert!(!dir.join("seedream-out").exists());
    assert!(!out.stderr.contains("embedded emulator at"), "nothing started: {out}");
    let invalid = run(&dir.path, &["generate", "-p", "x", "--size", "1x1", "--dry-run", "--json"]);
    assert_eq!(invalid.code(), 2, "{invalid}");
    assert_eq!(invalid.json()["exit_code"], 2);

    dir.write("jobs.jsonl", format!("{}\n{{oops\n", line("a")));
    let batch = run(&dir.path, &["batch", "jobs.jsonl", "--dry-run", "--json"]);
    assert_eq!(batch.code(), 2, "{batch}");
    let summary = batch.json();
    assert_eq!(summary["lines"][0]["request"]["prompt"], "a");
    assert_eq!(summary["lines"][1]["error"]["kind"], "not-json");
    assert!(!dir.join("seedream-out").exists());
}

#[test]
fn json_mode_prints_one_object_even_for_usage_errors() {
    let dir = Scratch::new("json-usage");
    let out = run(&dir.path, &["generate", "--json", "--size", "1K"]);
    assert_eq!(out.code(), 2, "{out}");
    let value = out.json();
    assert_eq!(value["status"], "failed");
    assert_eq!(value["error"]["kind"], "usage");
    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "--json", "--timeout", "soon"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.json()["error"]["message"].as_str().unwrap().contains("--timeout"), "{out}");
    // A success prints nothing on stderr.
    let ok = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "--json"]);
    assert_eq!(ok.code(), 0, "{ok}");
    assert!(ok.stderr.is_empty(), "{ok}");
    assert_eq!(ok.json()["synthetic"], true);
}

#[test]
fn an_empty_key_or_base_url_is_a_usage_error_naming_it() {
    let dir = Scratch::new("empty-key");
    let out = seedream(&dir.path).args(["generate", "-p", "x", "--json"]).env("ARK_API_KEY", "").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(value["error"]["message"].as_str().unwrap().contains("ARK_API_KEY is set but empty"), "{value}");
    let out = run(&dir.path, &["generate", "-p", "x", "--api-key", ""]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stderr.contains("--api-key is set but empty"), "{out}");
    dir.write("x.jsonl", line("a"));
    let out = seedream(&dir.path).args(["batch", "x.jsonl"]).env("SEEDREAM_BASE_URL", " ").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("SEEDREAM_BASE_URL is set but empty"));
    assert!(!dir.join("seedream-out").exists());
}

/// The official SDKs' form: `yyyyMMddHHmmss` and 20 letters and digits.
fn assert_client_request_id_form(id: &str) {
    assert_eq!(id.len(), 34, "{id}");
    assert!(id[..14].bytes().all(|b| b.is_ascii_digit()) && id[14..].bytes().all(|b| b.is_ascii_alphanumeric()));
}

#[test]
fn each_run_records_the_client_request_id_it_sent() {
    let dir = Scratch::new("client-request-id");
    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "--json"]);
    assert_eq!(out.code(), 0, "{out}");
    let first = out.json()["client_request_id"].as_str().expect("--json names it").to_owned();
    assert_client_request_id_form(&first);
    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "-H", "x-emulator-fault: quota"]);
    assert_eq!(out.code(), 3, "{out}");
    let runs = manifest(&dir.join("seedream-out"))["runs"].as_array().unwrap().clone();
    let refused = runs.iter().find(|r| r["status"] == "failed").unwrap();
    let second = refused["client_request_id"].as_str().unwrap();
    assert_ne!(first, second, "one id per call");
    assert!(runs.iter().any(|r| r["client_request_id"] == first.as_str()), "{runs:?}");
    assert!(out.stderr.contains(&format!("client request id: {second}")), "{out}");
}

#[test]
fn timeout_stops_the_call_naming_the_phase() {
    let dir = Scratch::new("timeout");
    let started = std::time::Instant::now();
    let out = run(
        &dir.path,
        &["generate", "-p", "x", "--size", "1K", "--timeout", "1s", "-H", "x-emulator-fault: slow-headers;ms=20000"],
    );
    assert_eq!(out.code(), 4, "{out}");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(out.stderr.contains("timed out after 1s (--timeout) while waiting for the answer"), "{out}");
    let run_record = &manifest(&dir.join("seedream-out"))["runs"][0];
    assert_eq!(run_record["error"]["kind"], "timeout");
    // The call got no answer, yet it is named: the id it sent is in the manifest, the journal and
    // the error text.
    let id = run_record["client_request_id"].as_str().expect("the id sent").to_owned();
    assert_client_request_id_form(&id);
    assert_eq!(run_record["error"]["client_request_id"], id.as_str());
    assert!(out.stderr.contains(&format!("client request id: {id}")), "{out}");
    let journaled = journal(&dir.join("seedream-out"));
    assert!(journaled.iter().any(|r| r["type"] == "run" && r["client_request_id"] == id.as_str()), "{journaled:?}");
    // Batch: per line, the same words.
    dir.write("jobs.jsonl", line("a"));
    let out = run(
        &dir.path,
        &["batch", "jobs.jsonl", "--timeout", "1", "-H", "x-emulator-fault: slow-headers;ms=20000", "--json"],
    );
    assert_eq!(out.code(), 5, "{out}");
    assert!(out.json()["failures"][0]["error"].as_str().unwrap().contains("(--timeout)"), "{out}");
}

#[test]
fn retries_verbose_and_quiet() {
    let dir = Scratch::new("flags");
    let emulator = Standalone::start(EmulatorConfig::default());
    let base = emulator.base_url();
    let common = ["generate", "-p", "x", "--size", "1K", "--base-url", &base, "--api-key", "sk-do-not-print"];
    let fault = ["-H", "x-emulator-fault: server-error;times=1;id=a"];
    let none = run(&dir.path, &[&common[..], &fault, &["--retries", "0", "-v"]].concat());
    assert_eq!(none.code(), 4, "{none}");
    assert!(!none.stderr.contains("request id (none)"), "a refused call is named by its error's id: {none}");
    let fault = ["-H", "x-emulator-fault: server-error;times=1;id=b"];
    let verbose = run(&dir.path, &[&common[..], &fault, &["--retries", "1", "--verbose"]].concat());
    assert_eq!(verbose.code(), 0, "{verbose}");
    assert!(verbose.stderr.contains("2 attempts") && verbose.stderr.contains("request id "), "{verbose}");
    assert!(verbose.stderr.contains("the API key comes from --api-key (not shown)"), "{verbose}");
    assert!(!verbose.stderr.contains("sk-do-not-print") && !verbose.stdout.contains("sk-do-not-print"));
    let quiet = run(&dir.path, &[&common[..], &["--quiet"]].concat());
    assert_eq!(quiet.code(), 0, "{quiet}");
    assert!(quiet.stderr.is_empty(), "{quiet}");
    assert_eq!(quiet.stdout.lines().count(), 1, "the saved file is still listed: {quiet}");
}

#[test]
fn edit_takes_seed_guidance_scale_size_and_stream() {
    let dir = Scratch::new("edit-flags");
    dir.write("photo.png", png_header(800, 600));
    let seededit = "doubao-seededit-3-0-i2i-250628";
    let out = run(
        &dir.path,
        &[
            "edit",
            "-i",
            "photo.png",
            "-p",
            "winter",
            "-m",
            seededit,
            "--seed",
            "7",
            "--guidance-scale",
            "6",
            "--size",
            "adaptive",
            "--json",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    let result = out.json();
    assert_eq!(result["request"]["seed"], 7);
    assert_eq!(result["request"]["guidance_scale"], 6.0);
    let out = run(
        &dir.path,
        &["edit", "-i", "photo.png", "-p", "winter", "-m", "seedream-4.0", "--stream", "-n", "2", "--size", "1K"],
    );
    assert_eq!(out.code(), 0, "{out}");
    assert_eq!(out.stdout.lines().count(), 2, "{out}");
    // The seed is a part of the edit form (text, as every part is), not a reason to leave the form.
    let out = run(&dir.path, &["edit", "-i", "photo.png", "-p", "winter", "-m", seededit, "--seed", "7", "--dry-run"]);
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stdout.contains("\"seed\": \"7\""), "{out}");
    assert!(out.stderr.contains("POST images/edits (multipart/form-data)"), "{out}");
}

#[test]
fn hints_name_real_causes_model_not_open_route_redirect_and_tls() {
    let dir = Scratch::new("hints");
    let not_open = canned(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json",
        r#"{"error":{"code":"ModelNotOpen","message":"Your account has not activated the model."}}"#,
    );
    let out = run(&dir.path, &["generate", "-p", "x", "--base-url", &not_open, "--api-key", "k", "--retries", "0"]);
    assert_eq!(out.code(), 3, "{out}");
    assert!(
        out.stderr.contains(&format!("has not activated the model {}", common::default_model()))
            && out.stderr.contains("Ark console"),
        "{out}"
    );

    let redirect =
        canned("HTTP/1.1 301 Moved Permanently\r\nLocation: https://api.example.test/v1/images/generations", "");
    let out = run(&dir.path, &["generate", "-p", "x", "--base-url", &redirect, "--api-key", "k", "--retries", "0"]);
    assert_eq!(out.code(), 4, "{out}");
    assert!(out.stderr.contains("redirect (HTTP 301) to https://api.example.test/v1/images/generations"), "{out}");
    assert!(out.stderr.contains("redirects are not followed"), "{out}");

    let emulator = Standalone::start(EmulatorConfig { tls: true, ..Default::default() });
    let origin = emulator.handle().origin();
    let out = run(&dir.path, &["generate", "-p", "x", "--size", "1K", "--base-url", &origin, "--api-key", "k"]);
    // The route hint first: no /v1.
    assert_ne!(out.code(), 0, "{out}");
    let https = emulator.base_url();
    let out = run(
        &dir.path,
        &["generate", "-p", "x", "--size", "1K", "--base-url", &https, "--api-key", "k", "--retries", "0"],
    );
    assert_eq!(out.code(), 4, "{out}");
    assert!(out.stderr.contains("--ca-cert"), "{out}");
    let pem = dir.write("emulator.pem", emulator.handle().certificate_pem().unwrap());
    let pem = pem.display().to_string();
    let out = run(
        &dir.path,
        &["generate", "-p", "x", "--size", "1K", "--base-url", &https, "--api-key", "k", "--ca-cert", &pem],
    );
    assert_eq!(out.code(), 0, "{out}");
    let out = run(
        &dir.path,
        &["generate", "-p", "x", "--size", "1K", "--base-url", &origin, "--api-key", "k", "--ca-cert", &pem],
    );
    assert_eq!(out.code(), 3, "{out}");
    assert!(out.stderr.contains("must end in /v1") && out.stderr.contains("/api/v3"), "{out}");
}
