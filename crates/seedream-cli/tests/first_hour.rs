//! What a newcomer trips on in the first hour (issue 23): typos, request files that `validate`
//! read differently from `batch`, hints that gave the wrong advice, and texts that said too little.
//! Every run is against the embedded emulator or a server on 127.0.0.1 the test starts.

mod common;

use common::{Scratch, canned, run};

fn real_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgba);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&vec![200; (width * height * 4) as usize]).unwrap();
    drop(writer);
    bytes
}

// 1. Typos.

#[test]
fn validate_names_a_misspelt_field_beside_the_missing_one() {
    let dir = Scratch::new("typo-field");
    dir.write("request.json", r#"{"promt": "a lighthouse"}"#);
    let out = run(&dir.path, &["validate", "request.json"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stdout.contains("prompt: is required"), "{out}");
    assert!(out.stdout.contains("warning: promt: is not a request field: did you mean `prompt`?"), "{out}");
}

#[test]
fn a_batch_line_with_a_misspelt_field_is_warned_and_still_sent() {
    let dir = Scratch::new("typo-batch");
    dir.write("lines.jsonl", "{\"prompt\": \"a lighthouse\", \"sise\": \"2K\"}\n");
    let out = run(&dir.path, &["batch", "lines.jsonl", "--dry-run"]);
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("line 1: warning: sise: is not a request field: did you mean `size`?"), "{out}");
    assert!(out.stdout.contains("\"sise\":\"2K\""), "sent as written\n{out}");
    let out = run(&dir.path, &["batch", "lines.jsonl", "--out", "o"]);
    assert_eq!(out.code(), 0, "never a refusal\n{out}");
    assert!(out.stderr.contains("did you mean `size`?"), "{out}");
}

#[test]
fn a_model_near_a_family_key_is_warned_and_still_sent() {
    let dir = Scratch::new("typo-model");
    let out = run(&dir.path, &["generate", "-p", "x", "--model", "seedream-4.O", "--dry-run", "--json"]);
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("did you mean `seedream-4.0`?"), "{out}");
    assert_eq!(out.json()["request"]["model"], "seedream-4.O");
    let out = run(&dir.path, &["generate", "-p", "x", "--model", "doubao-seedream-4-0-25082", "--dry-run"]);
    assert!(out.stderr.contains("did you mean `doubao-seedream-4-0-250828`?"), "{out}");
    for model in ["ep-20260101-abcd", "seedream-4.0", "doubao-seedream-4-5-251128"] {
        let out = run(&dir.path, &["generate", "-p", "x", "--model", model, "--dry-run"]);
        assert_eq!(out.code(), 0, "{out}");
        assert!(!out.stderr.contains("did you mean"), "{model}: {out}");
    }
}

#[test]
fn a_model_near_a_row_of_a_catalog_file_is_suggested_from_that_file() {
    let dir = Scratch::new("typo-model-catalog");
    let out = run(&dir.path, &["models", "--json"]);
    let mut file = out.json();
    let rows = file["families"].as_array_mut().unwrap();
    let mut row = rows[0].clone();
    row["key"] = "house-model".into();
    row["name"] = "House model".into();
    row["model_id"] = "house-model-260101".into();
    row["prefixes"] = serde_json::json!(["house-model"]);
    row["aliases"] = serde_json::json!([]);
    row["ids"] = serde_json::json!([]);
    row["recommended"] = false.into();
    *rows = vec![row];
    dir.write("catalog.json", serde_json::to_string(&file).unwrap());
    let args = ["--catalog", "catalog.json", "generate", "-p", "x", "--model", "house-modle", "--dry-run"];
    let out = run(&dir.path, &args);
    assert!(out.stderr.contains("did you mean `house-model`?"), "{out}");
}

// 3. A single request file reads as a batch line does.

#[test]
fn a_request_file_names_local_images_relative_to_itself_and_may_leave_out_the_model() {
    let dir = Scratch::new("validate-local");
    std::fs::create_dir(dir.join("requests")).unwrap();
    dir.write("requests/logo.png", real_png(64, 64));
    dir.write("requests/request.json", r#"{"prompt": "x", "image": "logo.png"}"#);
    let out = run(&dir.path, &["validate", "requests/request.json"]);
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stdout.contains("requests/request.json: valid"), "{out}");
    dir.write("requests/missing.json", r#"{"prompt": "x", "image": "nowhere.png"}"#);
    let out = run(&dir.path, &["validate", "requests/missing.json"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stdout.contains("nowhere.png"), "{out}");
}

#[test]
fn jsonl_in_a_file_without_the_extension_gets_a_hint_to_use_batch() {
    let dir = Scratch::new("validate-jsonl");
    dir.write("prompts.txt", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n");
    let out = run(&dir.path, &["validate", "prompts.txt"]);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stdout.contains("hint:") && out.stdout.contains("--batch"), "{out}");
    let out = run(&dir.path, &["validate", "--batch", "prompts.txt"]);
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stdout.contains("prompts.txt: 2 lines, all valid"), "{out}");
}

// 4. Wrong advice.

#[test]
fn after_invalid_lines_batch_says_to_fix_them_and_run_validate() {
    let dir = Scratch::new("batch-invalid");
    dir.write("lines.jsonl", "{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"size\": \"9K\"}\n");
    let out = run(&dir.path, &["batch", "lines.jsonl", "--out", "o"]);
    assert_eq!(out.code(), 5, "{out}");
    assert!(out.stderr.contains("fix line 2") && out.stderr.contains("seedream validate lines.jsonl"), "{out}");
    assert!(!out.stderr.contains("run the same command again to retry"), "{out}");
}

#[test]
fn a_redirect_hint_names_the_base_url_not_the_endpoint() {
    let dir = Scratch::new("redirect");
    let base =
        canned("HTTP/1.1 301 Moved Permanently\r\nLocation: https://elsewhere.example/v1/images/generations", "");
    let out = run(&dir.path, &["generate", "-p", "x", "--base-url", &base, "--api-key", "k", "--retries", "0"]);
    assert_eq!(out.code(), 3, "{out}");
    let hint = out.stderr.lines().find(|l| l.starts_with("hint:")).unwrap_or_default();
    assert!(hint.contains("--base-url https://elsewhere.example/v1"), "{out}");
    assert!(!hint.contains("images/generations"), "{out}");
}

#[test]
fn an_unreachable_proxy_is_blamed_not_the_base_url() {
    let dir = Scratch::new("proxy");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let proxy = format!("http://{closed}");
    let args =
        ["generate", "-p", "x", "--base-url", "https://api.example.invalid/v1", "--api-key", "k", "--proxy", &proxy];
    let out = run(&dir.path, &[&args[..], &["--retries", "0"]].concat());
    assert_eq!(out.code(), 4, "{out}");
    let hint = out.stderr.lines().find(|l| l.starts_with("hint:")).unwrap_or_default();
    assert!(hint.contains("--proxy") && !hint.contains("--base-url"), "{out}");
}

#[test]
fn a_tiny_image_gets_a_hint_about_its_size_not_the_number_of_references() {
    let dir = Scratch::new("tiny");
    dir.write("tiny.png", real_png(8, 8));
    let out = run(&dir.path, &["generate", "-p", "x", "--image", "tiny.png", "--model", "seedream-4.0"]);
    assert_eq!(out.code(), 2, "{out}");
    let hint = out.stderr.lines().find(|l| l.starts_with("hint:")).unwrap_or_default();
    assert!(hint.contains("pixels") && !hint.contains("references"), "{out}");
}

#[test]
fn a_refused_edit_is_not_told_to_validate_a_request_file() {
    let dir = Scratch::new("edit-refused");
    dir.write("photo.png", real_png(64, 64));
    let args = ["edit", "--image", "photo.png", "-p", "x", "--model", "seedream-4.5", "--size", "1K", "--no-validate"];
    let out = run(&dir.path, &args);
    assert_eq!(out.code(), 3, "{out}");
    let hint = out.stderr.lines().find(|l| l.starts_with("hint:")).unwrap_or_default();
    assert!(!hint.contains("seedream validate") && hint.contains("seedream models"), "{out}");
}

// 6. --json usage errors.

#[test]
fn a_json_usage_error_names_the_missing_argument() {
    let dir = Scratch::new("json-usage");
    let out = run(&dir.path, &["generate", "--json"]);
    assert_eq!(out.code(), 2, "{out}");
    let message = out.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("--prompt"), "{message}");
}

// 9. Text.

#[test]
fn the_web_search_hint_says_only_a_retired_model_takes_it() {
    let dir = Scratch::new("web-search");
    let out = run(&dir.path, &["generate", "-p", "x", "--web-search"]);
    assert_eq!(out.code(), 2, "{out}");
    let hint = out.stderr.lines().find(|l| l.starts_with("hint:")).unwrap_or_default();
    assert!(hint.contains("only") && hint.contains("retired"), "{out}");
    let help = run(&dir.path, &["generate", "--help"]).stdout;
    assert!(help.contains("retired"), "{help}");
}

#[test]
fn the_watermark_is_documented_as_on_by_default() {
    let dir = Scratch::new("watermark");
    for command in ["generate", "edit"] {
        let help = run(&dir.path, &[command, "--help"]).stdout;
        let at = help.find("--no-watermark").unwrap();
        assert!(help[at..at + 300].contains("by default"), "{help}");
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    assert!(readme.contains("--no-watermark"));
}

#[test]
fn dash_dash_n_points_to_max_images() {
    let dir = Scratch::new("dash-n");
    for command in [&["generate", "-p", "x"][..], &["edit", "--image", "a.png", "-p", "x"]] {
        let out = run(&dir.path, &[command, &["--n", "3"]].concat());
        assert_eq!(out.code(), 2, "{out}");
        assert!(out.stderr.contains("--max-images 3"), "{out}");
    }
}

#[test]
fn the_timeout_error_lists_every_unit_it_takes() {
    let dir = Scratch::new("timeout-units");
    let out = run(&dir.path, &["generate", "-p", "x", "--timeout", "5x"]);
    assert_eq!(out.code(), 2, "{out}");
    for unit in ["ms", "min", "5min", "10ms"] {
        assert!(out.stderr.contains(unit), "{unit}: {out}");
    }
    let out = run(&dir.path, &["generate", "-p", "x", "--timeout", "10ms", "--dry-run"]);
    assert_eq!(out.code(), 0, "{out}");
}

#[test]
fn verbose_counts_one_attempt_when_retries_are_off() {
    let dir = Scratch::new("attempts");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let base = format!("http://{closed}/v1");
    let out = run(&dir.path, &["generate", "-p", "x", "--base-url", &base, "--api-key", "k", "--retries", "0", "-v"]);
    assert_eq!(out.code(), 4, "{out}");
    assert!(out.stderr.contains(", 1 attempt,"), "{out}");
    let out = run(&dir.path, &["generate", "-p", "x", "--retries", "0", "-v", "--out", "o"]);
    assert!(out.stderr.contains(", 1 attempt,") && !out.stderr.contains("attempt(s)"), "{out}");
}

#[test]
fn counts_of_one_are_singular() {
    let dir = Scratch::new("plural");
    dir.write("one.jsonl", "{\"prompt\": \"a lighthouse\"}\n");
    let out = run(&dir.path, &["batch", "one.jsonl", "--out", "o"]);
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stderr.contains("batch: 1 line:") && out.stderr.contains("1 image saved"), "{out}");
    assert!(!out.stderr.contains("1 lines") && !out.stderr.contains("1 images"), "{out}");
    let out = run(&dir.path, &["validate", "one.jsonl"]);
    assert!(out.stdout.contains("one.jsonl: 1 line, all valid"), "{out}");
}

#[test]
fn seededit_results_show_the_saved_images_size() {
    let dir = Scratch::new("seededit-size");
    dir.write("photo.png", real_png(640, 480));
    let args = ["edit", "--image", "photo.png", "-p", "x", "--model", "seededit-3.0", "--out", "o"];
    let out = run(&dir.path, &args);
    assert_eq!(out.code(), 0, "{out}");
    let line = out.stdout.lines().next().unwrap_or_default();
    let size = line.rsplit("  ").next().unwrap_or_default();
    let (w, h) = size.split_once('x').unwrap_or_else(|| panic!("no size in {line:?}\n{out}"));
    assert!(w.parse::<u32>().is_ok() && h.parse::<u32>().is_ok(), "{out}");
}

#[test]
fn help_examples_are_not_wrapped_mid_command() {
    let dir = Scratch::new("help-wrap");
    for command in ["generate", "edit", "batch", "validate", "models", "emulator", "inspect", "schema"] {
        let help = run(&dir.path, &[command, "--help"]).stdout;
        for line in help.lines().filter(|l| l.trim_start().starts_with("seedream ")) {
            assert!(line.chars().count() <= 100, "{command}: {line}");
        }
    }
    let help = run(&dir.path, &["edit", "--help"]).stdout;
    assert!(help.lines().any(|l| l.contains("seedream edit") && l.contains("--size adaptive")), "{help}");
}

#[test]
fn validate_help_says_which_example_fails() {
    let dir = Scratch::new("validate-help");
    let help = run(&dir.path, &["validate", "--help"]).stdout;
    let example = help.lines().find(|l| l.contains("| seedream validate -")).unwrap();
    assert!(example.contains("invalid") || example.contains("fails"), "{help}");
}

#[test]
fn network_options_are_listed_only_where_they_act() {
    let dir = Scratch::new("network-options");
    for command in ["models", "schema", "inspect", "validate"] {
        let help = run(&dir.path, &[command, "--help"]).stdout;
        for flag in ["--proxy", "--ca-cert", "--header", "--api-key", "--base-url"] {
            assert!(!help.contains(flag), "{command} --help lists {flag}\n{help}");
        }
    }
    let out = run(&dir.path, &["validate", "--proxy", "http://127.0.0.1:1", "a.json"]);
    assert_eq!(out.code(), 2, "an option that would be ignored is refused\n{out}");
    for command in ["generate", "edit", "batch", "emulator"] {
        let help = run(&dir.path, &[command, "--help"]).stdout;
        assert!(help.contains("--api-key"), "{command}\n{help}");
    }
    let help = run(&dir.path, &["models", "--help"]).stdout;
    assert!(help.contains("--remote"), "{help}");
    let out = run(&dir.path, &["models", "--remote", "--json"]);
    assert_eq!(out.code(), 0, "models --remote runs on the embedded emulator\n{out}");
}
