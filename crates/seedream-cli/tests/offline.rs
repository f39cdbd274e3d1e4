//! The commands that need no service: `validate`, `schema`, `--help`, usage errors.

mod common;

use common::{Scratch, run, run_with_stdin};

const GOOD: &str = r#"{"model": "doubao-seedream-4-0-250828", "prompt": "a lighthouse at dawn", "size": "2K"}"#;
const BAD: &str = r#"{"model": "doubao-seedream-4-5-251128", "prompt": "", "size": "1K", "seed": "x"}"#;

#[test]
fn validate_accepts_good_files_with_exit_0() {
    let dir = Scratch::new("validate-good");
    dir.write("good.json", GOOD);
    dir.write("good.jsonl", format!("{GOOD}\n\n{GOOD}\n"));
    let out = run(&dir.path, &["validate", "good.json", "good.jsonl"]);
    assert_eq!(out.code(), 0, "{out}");
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), ["good.json: valid", "good.jsonl: 2 lines, all valid"]);
}

#[test]
fn validate_lists_every_violation_by_field_path_with_exit_2() {
    let dir = Scratch::new("validate-bad");
    dir.write("good.json", GOOD);
    dir.write("bad.json", BAD);
    let out = run(&dir.path, &["validate", "good.json", "bad.json"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stdout.contains("good.json: valid"), "{out}");
    assert!(out.stdout.contains("bad.json: invalid (3 violations)"), "{out}");
    for field in ["prompt: ", "size: ", "seed: "] {
        assert!(out.stdout.lines().any(|l| l.trim_start().starts_with(field)), "no {field} line\n{out}");
    }
}

#[test]
fn validate_exits_1_for_unreadable_or_non_json_files() {
    let dir = Scratch::new("validate-unreadable");
    dir.write("bad.json", BAD);
    dir.write("broken.json", "{\"model\": ");
    let out = run(&dir.path, &["validate", "bad.json", "broken.json", "missing.json"]);
    assert_eq!(out.code(), 1, "an unreadable file outranks an invalid one\n{out}");
    assert!(out.stdout.contains("broken.json: error: is not JSON"), "{out}");
    assert!(out.stdout.contains("missing.json: error: cannot read the file: no such file or directory"), "{out}");
}

#[test]
fn validate_json_output_is_one_machine_readable_document() {
    let dir = Scratch::new("validate-json");
    dir.write("bad.json", BAD);
    let out = run(&dir.path, &["validate", "--json", "bad.json"]);
    assert_eq!(out.code(), 2, "{out}");
    let report = out.json();
    assert_eq!(report["valid"], false);
    assert_eq!(report["exit_code"], 2);
    let fields: Vec<&str> =
        report["results"][0]["violations"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["seed", "prompt", "size"]);
    assert!(out.stderr.is_empty(), "{out}");
}

#[test]
fn validate_reads_standard_input() {
    let dir = Scratch::new("validate-stdin");
    let out = run_with_stdin(&dir.path, &["validate"], GOOD);
    assert_eq!(out.code(), 0, "{out}");
    assert_eq!(out.stdout.trim(), "(stdin): valid");
    let out = run_with_stdin(&dir.path, &["validate", "-"], BAD);
    assert_eq!(out.code(), 2, "{out}");
}

#[test]
fn schema_prints_a_json_schema_for_each_name() {
    let dir = Scratch::new("schema");
    for name in ["request", "response", "stream-event", "error"] {
        let out = run(&dir.path, &["schema", name]);
        assert_eq!(out.code(), 0, "{out}");
        let schema = out.json();
        assert!(schema["$schema"].as_str().unwrap().contains("json-schema.org"), "{name}: {out}");
    }
    let request = run(&dir.path, &["schema"]).json();
    assert!(request["properties"]["prompt"].is_object());
    let out = run(&dir.path, &["schema", "nope"]);
    assert_eq!(out.code(), 2, "{out}");
}

#[test]
fn every_command_has_help_with_an_example() {
    let dir = Scratch::new("help");
    for command in ["generate", "edit", "batch", "validate", "schema", "emulator"] {
        let out = run(&dir.path, &[command, "--help"]);
        assert_eq!(out.code(), 0, "{out}");
        assert!(out.stdout.contains("Examples:\n  seedream "), "{command}\n{out}");
    }
    let out = run(&dir.path, &["--help"]);
    assert!(out.stdout.contains("Exit status: 0 success; 1 "), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = Scratch::new("usage");
    let out = run(&dir.path, &["generate"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stderr.contains("--prompt"), "{out}");
    let out = run(&dir.path, &["batch", "x.jsonl", "--concurrency", "0"]);
    assert_eq!(out.code(), 2, "{out}");
}
