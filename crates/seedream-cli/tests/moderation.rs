//! Moderation that names the input, end to end against the emulator's faults: a refused prompt, a
//! refused `--image` named by its file (with the reason of the code's suffix), a refused image of a
//! group named by its index; each sent once, recorded in the manifest and in `--json`.

mod common;

use common::{Scratch, Standalone, png_header, run};
use seedream_emulator::EmulatorConfig;
use serde_json::Value;

/// `seedream generate` against `emulator` with `fault` on every request.
fn generate(dir: &Scratch, emulator: &Standalone, fault: &str, extra: &[&str]) -> common::Outcome {
    let base = emulator.base_url();
    let header = format!("x-emulator-fault: {fault}");
    let mut args = vec!["generate", "-p", "a cat", "-m", "seedream-4.5", "--base-url", &base, "--api-key", "k"];
    args.extend(["-H", &header, "--out", "out"]);
    args.extend_from_slice(extra);
    run(&dir.path, &args)
}

fn last_run(dir: &Scratch) -> Value {
    let manifest = common::manifest(&dir.join("out"));
    manifest["runs"].as_array().unwrap().last().unwrap().clone()
}

#[test]
fn a_refused_prompt_is_named_sent_once_and_recorded() {
    let dir = Scratch::new("moderation-prompt");
    let emulator = Standalone::start(EmulatorConfig::default());
    for (fault, code) in
        [("moderate-prompt", "InputTextSensitiveContentDetected"), ("prompt-risk", "InputTextRiskDetection")]
    {
        let before = emulator.requests();
        let outcome = generate(&dir, &emulator, fault, &[]);
        assert_eq!(outcome.code(), 3, "{outcome}");
        assert_eq!(emulator.requests(), before + 1, "{fault}: never retried\n{outcome}");
        assert!(outcome.stderr.contains(&format!("moderation refused the prompt (HTTP 400 {code})")), "{outcome}");
        assert!(outcome.stderr.contains("hint: rephrase the prompt"), "{outcome}");
        let error = &last_run(&dir)["error"];
        assert_eq!(error["code"], code);
        assert_eq!(error["moderation"]["input"], "prompt", "{error}");
    }
}

#[test]
fn a_refused_image_is_named_by_its_file_and_reason() {
    let dir = Scratch::new("moderation-image");
    dir.write("cat.png", png_header(64, 64));
    dir.write("dog.png", png_header(64, 64));
    let emulator = Standalone::start(EmulatorConfig::default());
    let two = ["-i", "cat.png", "-i", "dog.png", "--no-validate"];
    let outcome = generate(&dir, &emulator, "moderate-input;images=1;reason=PrivacyInformation", &two);
    assert_eq!(outcome.code(), 3, "{outcome}");
    assert_eq!(emulator.requests(), 1, "never retried");
    assert!(
        outcome.stderr.contains(
            "moderation refused input image dog.png (index 1) (HTTP 400 InputImageSensitiveContentDetected.PrivacyInformation)"
        ),
        "{outcome}"
    );
    assert!(
        outcome.stderr.contains("hint: it shows a real person's face: use another image in place of dog.png"),
        "{outcome}"
    );
    let error = &last_run(&dir)["error"];
    assert_eq!(error["moderation"]["input"], "input_image", "{error}");
    assert_eq!(error["moderation"]["index"], 1, "{error}");
    assert_eq!(error["moderation"]["file"], "dog.png", "{error}");
    assert_eq!(error["moderation"]["reason"], "PrivacyInformation", "{error}");

    // One image: the answer names no index, the command still names the file; --json carries it.
    let one = ["-i", "cat.png", "--no-validate", "--json"];
    let outcome = generate(&dir, &emulator, "moderate-input;reason=PolicyViolation", &one);
    assert_eq!(outcome.code(), 3, "{outcome}");
    let json = outcome.json();
    assert_eq!(json["error"]["moderation"]["file"], "cat.png", "{json}");
    assert_eq!(json["error"]["moderation"]["reason"], "PolicyViolation", "{json}");
    assert!(json["error"]["hint"].as_str().unwrap().contains("copyright"), "{json}");
}

#[test]
fn a_batch_line_names_its_refused_image_file() {
    let dir = Scratch::new("moderation-batch");
    dir.write("cat.png", png_header(64, 64));
    dir.write("dog.png", png_header(64, 64));
    dir.write(
        "jobs.jsonl",
        r#"{"prompt": "two", "model": "seedream-4.5", "image": ["cat.png", "dog.png"]}"#.to_owned() + "\n",
    );
    let emulator = Standalone::start(EmulatorConfig {
        fault: Some("moderate-input;images=0".into()),
        ..EmulatorConfig::default()
    });
    let base = emulator.base_url();
    let args =
        ["batch", "jobs.jsonl", "--out", "out", "--base-url", &base, "--api-key", "k", "--no-validate", "--json"];
    let outcome = run(&dir.path, &args);
    assert_eq!(emulator.requests(), 1, "never retried\n{outcome}");
    let manifest = common::manifest(&dir.join("out"));
    let line = &manifest["batch"]["lines"]["1"];
    assert_eq!(line["status"], "failed", "{manifest}");
    assert_eq!(line["error"]["moderation"]["file"], "cat.png", "{manifest}");
    assert_eq!(line["error"]["moderation"]["index"], 0, "{manifest}");
}

#[test]
fn a_refused_image_of_a_group_is_named_by_its_index() {
    let dir = Scratch::new("moderation-output");
    let emulator = Standalone::start(EmulatorConfig::default());
    let outcome = generate(&dir, &emulator, "moderate;images=1", &["--max-images", "3"]);
    assert_eq!(outcome.code(), 5, "two of three saved: {outcome}");
    assert!(
        outcome.stderr.contains("generated image 1 refused by moderation (OutputImageSensitiveContentDetected)"),
        "{outcome}"
    );
    let run = last_run(&dir);
    let failed = &run["failed_images"][0];
    assert_eq!(failed["index"], 1, "{run}");
    assert_eq!(failed["moderation"]["input"], "output_image", "{run}");
    assert_eq!(failed["moderation"]["index"], 1, "{run}");
    assert_eq!(run["images"].as_array().unwrap().len(), 2, "{run}");
}
