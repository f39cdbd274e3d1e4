//! What runs cost and how to cap it, end to end: `seedream usage` over output folders (totals per model,
//! `--since`, synthetic results apart and never priced, a price from a catalog file), `--image-budget`
//! on batch (never more than the budget bought, also at `-c 4`; lines left out recorded and resumed) and
//! on generate (refused before sending), and the shell completions and manual page.

mod common;

use common::{Scratch, Standalone, images_in, run};
use seedream_emulator::EmulatorConfig;
use serde_json::{Value, json};
use std::time::Duration;

/// A batch file of `lines` lines, each asking for a group of up to `group` images of Seedream 4.5.
fn group_jobs(dir: &Scratch, name: &str, lines: usize, group: u32) {
    let text: Vec<String> = (1..=lines)
        .map(|i| {
            json!({
                "prompt": format!("budget {i}"),
                "model": "seedream-4.5",
                "size": "2K",
                "sequential_image_generation": "auto",
                "sequential_image_generation_options": {"max_images": group},
            })
            .to_string()
        })
        .collect();
    dir.write(name, text.join("\n"));
}

/// Replaces every `from` with `to` in a folder's journal: how a test makes a folder look as if the
/// service (not the emulator) answered, or as if it ran long ago.
fn rewrite_journal(dir: &std::path::Path, from: &str, to: &str) {
    let path = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "the journal holds {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

fn model_row<'a>(report: &'a Value, model: &str) -> &'a Value {
    report["by_model"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["model"].as_str().is_some_and(|m| m.contains(model)))
        .unwrap_or_else(|| panic!("no row for {model} in {report}"))
}

/// Runs two generates (4 images of Seedream 4.5: a group of 3, then 1) into `one` and a batch of two 2-image lines into `two`,
/// all against the embedded emulator.
fn three_runs(dir: &Scratch) {
    let group = run(&dir.path, &["generate", "-p", "a cat", "-m", "seedream-4.5", "--max-images", "3", "--out", "one"]);
    assert_eq!(group.code(), 0, "{group}");
    let single = run(&dir.path, &["generate", "-p", "a dog", "-m", "seedream-4.5", "--out", "one"]);
    assert_eq!(single.code(), 0, "{single}");
    group_jobs(dir, "jobs.jsonl", 2, 2);
    let batch = run(&dir.path, &["batch", "jobs.jsonl", "--out", "two"]);
    assert_eq!(batch.code(), 0, "{batch}");
}

#[test]
fn usage_totals_runs_and_images_per_model_and_keeps_synthetic_results_apart() {
    let dir = Scratch::new("usage-totals");
    three_runs(&dir);
    let report = run(&dir.path, &["usage", "one", "two", "--json"]);
    assert_eq!(report.code(), 0, "{report}");
    let report = report.json();
    // Only the emulator answered: the real totals are empty, the synthetic ones hold everything.
    assert_eq!(report["generated_images"], 0, "{report}");
    assert_eq!(report["runs"], 0, "{report}");
    assert_eq!(report["synthetic"]["generated_images"], 8, "{report}");
    assert_eq!(report["synthetic"]["runs"], 4, "two generates and two batch lines: {report}");
    // The batch lines name the family key (`seedream-4.5`): sent, and so counted, as the same id.
    let row = model_row(&report, "doubao-seedream-4-5");
    assert_eq!((row["generated_images"].as_u64(), row["runs"].as_u64()), (Some(8), Some(4)), "{report}");
    assert_eq!(report["by_model"].as_array().unwrap().len(), 1, "one row per id: {report}");
    assert_eq!(row["synthetic"], true);
    assert!(row["tokens"].as_u64().unwrap() > 0, "the emulator reports tokens: {report}");
    assert_eq!(row["estimated_cost"], Value::Null, "synthetic images are never priced");
    for field in ["failed_images", "web_searches", "input_images", "family"] {
        assert!(row.get(field).is_some(), "by_model rows carry {field}: {row}");
    }

    let text = run(&dir.path, &["usage", "one", "two"]);
    assert_eq!(text.code(), 0, "{text}");
    assert!(text.stdout.contains("(synthetic): 4 runs, 8 images generated"), "{text}");
    assert!(text.stdout.contains("synthetic (emulator, not priced): 4 runs, 8 images generated"), "{text}");
    assert!(text.stdout.contains("synthetic, not priced"), "{text}");

    // One folder alone.
    let one = run(&dir.path, &["usage", "one", "--json"]).json();
    assert_eq!(one["synthetic"]["generated_images"], 4, "{one}");
    let missing = run(&dir.path, &["usage", "nowhere"]);
    assert_eq!(missing.code(), 1, "{missing}");
    assert!(missing.stderr.contains("nowhere: no such output folder"), "{missing}");
}

#[test]
fn usage_since_counts_only_what_ran_on_or_after_the_date() {
    let dir = Scratch::new("usage-since");
    three_runs(&dir);
    // Folder `one` looks as if it ran in 2020.
    let journal = std::fs::read_to_string(dir.join("one").join("journal.jsonl")).unwrap();
    let today = &journal[journal.find("\"started_at\":\"").unwrap() + 14..][..10];
    rewrite_journal(&dir.join("one"), &format!("\"{today}T"), "\"2020-01-01T");
    let recent = run(&dir.path, &["usage", "one", "two", "--since", "2021-06-01", "--json"]).json();
    assert_eq!(recent["synthetic"]["generated_images"], 4, "only the batch: {recent}");
    assert_eq!(recent["since"], "2021-06-01");
    let all = run(&dir.path, &["usage", "one", "two", "--since", "2020-01-01", "--json"]).json();
    assert_eq!(all["synthetic"]["generated_images"], 8, "a date includes its own day: {all}");
    let none = run(&dir.path, &["usage", "one", "two", "--since", "2999-01-01"]);
    assert_eq!((none.code(), none.stdout.trim()), (0, "no runs recorded"), "{none}");
    let bad = run(&dir.path, &["usage", "one", "--since", "last week"]);
    assert_eq!(bad.code(), 2, "{bad}");
    assert!(bad.stderr.contains("--since"), "{bad}");
}

#[test]
fn usage_prices_real_images_from_a_catalog_file_and_says_no_price_without_one() {
    let dir = Scratch::new("usage-price");
    three_runs(&dir);
    // Folder `one` looks as if the service answered; `two` stays synthetic.
    rewrite_journal(&dir.join("one"), "\"synthetic\":true", "\"synthetic\":false");
    let unpriced = run(&dir.path, &["usage", "one", "two", "--json"]).json();
    assert_eq!(unpriced["generated_images"], 4, "{unpriced}");
    assert_eq!(unpriced["unpriced_images"], 4, "{unpriced}");
    assert_eq!(unpriced["estimated_cost"], json!([]), "no price is guessed: {unpriced}");
    let text = run(&dir.path, &["usage", "one", "two"]);
    assert!(text.stdout.contains("no price"), "{text}");

    // A catalog file gives Seedream 4.5 a price.
    let listed = run(&dir.path, &["models", "--json"]);
    let mut file: Value = serde_json::from_str(listed.stdout.trim()).unwrap();
    let row = file["families"].as_array_mut().unwrap().iter_mut().find(|row| row["key"] == "seedream-4.5").unwrap();
    row["price"] = json!({"amount": 0.25, "currency": "CNY", "as_of": "2026-12-01"});
    let catalog = dir.write("catalog.json", file.to_string());
    let catalog = catalog.to_str().unwrap();
    let priced = run(&dir.path, &["usage", "one", "two", "--catalog", catalog, "--json"]).json();
    assert_eq!(priced["estimated_cost"], json!([{"amount": 1.0, "currency": "CNY"}]), "4 × 0.25: {priced}");
    assert_eq!(priced["unpriced_images"], 0, "{priced}");
    let real = priced["by_model"].as_array().unwrap().iter().find(|r| r["synthetic"] == false).unwrap();
    assert_eq!(real["estimated_cost"]["as_of"], "2026-12-01", "{priced}");
    assert_eq!(real["estimated_cost"]["price_per_image"], 0.25, "{priced}");
    let synthetic = priced["by_model"].as_array().unwrap().iter().find(|r| r["synthetic"] == true).unwrap();
    assert_eq!(synthetic["estimated_cost"], Value::Null, "synthetic stays unpriced with a price: {priced}");
    let text = run(&dir.path, &["usage", "one", "two", "--catalog", catalog]);
    assert!(text.stdout.contains("≈ 1.00 CNY (0.25 per image as of 2026-12-01)"), "{text}");
    assert!(text.stdout.contains("estimated ≈ 1.00 CNY"), "{text}");
}

#[test]
fn a_batch_with_an_image_budget_never_buys_more_at_concurrency_4_and_a_later_run_resumes_the_rest() {
    const LINES: usize = 12;
    const BUDGET: u64 = 7;
    let dir = Scratch::new("budget-batch");
    group_jobs(&dir, "jobs.jsonl", LINES, 2);
    let emulator =
        Standalone::start(EmulatorConfig { image_delay: Duration::from_millis(40), ..EmulatorConfig::default() });
    let base = emulator.base_url();
    let args = ["batch", "jobs.jsonl", "--out", "out", "-c", "4", "--base-url", &base, "--api-key", "k", "--json"];
    let mut budgeted = args.to_vec();
    budgeted.extend(["--image-budget", "7"]);
    let first = run(&dir.path, &budgeted);
    let bought = emulator.handle().stats().images_generated;
    assert_eq!(first.code(), 5, "lines left out: a partial run\n{first}");
    assert!(bought <= BUDGET, "{bought} images bought with a budget of {BUDGET}\n{first}");
    // Each line makes 2: three lines fit in 7, the fourth's 2 do not fit in the 1 left.
    assert_eq!(bought, 6, "{first}");
    assert_eq!(images_in(&dir.join("out")).len() as u64, bought, "nothing bought is lost");
    let summary = first.json();
    assert_eq!(summary["status"], "budget_reached", "{summary}");
    assert_eq!(summary["image_budget"], json!({"images": 7, "left": 1}), "{summary}");
    assert_eq!((summary["succeeded"].as_u64(), summary["not_run"].as_u64()), (Some(3), Some(9)), "{summary}");
    let left_out = summary["not_run_lines"].as_array().unwrap();
    assert_eq!(left_out.len(), 9, "{summary}");
    assert!(
        left_out.iter().all(|l| l["line"].as_u64().is_some()
            && l["reason"].as_str().unwrap().contains("--image-budget: the line may make up to 2 images")),
        "{summary}"
    );
    let manifest = common::manifest(&dir.join("out"));
    let statuses: Vec<&str> =
        manifest["batch"]["lines"].as_object().unwrap().values().map(|l| l["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "not_run").count(), 9, "{manifest}");

    // Without a budget the next run buys only the lines left out.
    let second = run(&dir.path, &args);
    assert_eq!(second.code(), 0, "{second}");
    let summary = second.json();
    assert_eq!((summary["succeeded"].as_u64(), summary["skipped"].as_u64()), (Some(9), Some(3)), "{summary}");
    assert_eq!(emulator.handle().stats().images_generated, 2 * LINES as u64, "each line bought once");
    assert_eq!(images_in(&dir.join("out")).len(), 2 * LINES);
}

#[test]
fn a_budget_too_small_for_one_line_buys_nothing_and_says_why_in_text() {
    let dir = Scratch::new("budget-small");
    group_jobs(&dir, "jobs.jsonl", 3, 4);
    let emulator = Standalone::start(EmulatorConfig::default());
    let base = emulator.base_url();
    let args = ["batch", "jobs.jsonl", "--out", "out", "-c", "4", "--base-url", &base, "--api-key", "k"];
    let mut budgeted = args.to_vec();
    budgeted.extend(["--image-budget", "3"]);
    let outcome = run(&dir.path, &budgeted);
    assert_eq!(outcome.code(), 5, "{outcome}");
    assert_eq!(emulator.requests(), 0, "nothing sent: {outcome}");
    assert!(outcome.stderr.contains("3 not run"), "{outcome}");
    assert!(outcome.stderr.contains("not run: --image-budget"), "{outcome}");
}

#[test]
fn generate_with_a_budget_below_its_max_images_is_refused_before_sending() {
    let dir = Scratch::new("budget-generate");
    let emulator = Standalone::start(EmulatorConfig::default());
    let base = emulator.base_url();
    let common_args = ["generate", "-p", "x", "-m", "seedream-4.5", "--base-url", &base, "--api-key", "k"];
    let mut over = common_args.to_vec();
    over.extend(["--max-images", "4", "--image-budget", "3", "--out", "out"]);
    let refused = run(&dir.path, &over);
    assert_eq!(refused.code(), 2, "{refused}");
    assert!(refused.stderr.contains("--image-budget: the request may make up to 4 images"), "{refused}");
    assert!(refused.stderr.contains("lower --max-images"), "{refused}");
    assert_eq!(emulator.requests(), 0, "nothing sent");
    assert!(images_in(&dir.join("out")).is_empty());

    let mut within = common_args.to_vec();
    within.extend(["--max-images", "3", "--image-budget", "3", "--out", "out"]);
    let sent = run(&dir.path, &within);
    assert_eq!(sent.code(), 0, "{sent}");
    assert_eq!(emulator.handle().stats().images_generated, 3);
}

#[test]
fn completions_name_the_subcommands_in_every_shell() {
    let dir = Scratch::new("completions");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef seedream"),
        ("fish", "complete -c seedream"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = run(&dir.path, &["completions", shell]);
        assert_eq!(script.code(), 0, "{script}");
        assert!(script.stdout.contains(marker), "{shell}: {}", &script.stdout[..script.stdout.len().min(400)]);
        for command in ["generate", "batch", "usage", "completions", "manpage"] {
            assert!(script.stdout.contains(command), "{shell} script names {command}");
        }
        assert!(script.stdout.contains("image-budget"), "{shell} script names --image-budget");
    }
    let unknown = run(&dir.path, &["completions", "tcsh"]);
    assert_eq!(unknown.code(), 2, "{unknown}");
}

#[test]
fn the_manpage_is_roff_with_a_section_per_command() {
    let dir = Scratch::new("manpage");
    let page = run(&dir.path, &["manpage"]);
    assert_eq!(page.code(), 0, "{page}");
    assert!(page.stdout.starts_with(".ie") || page.stdout.contains(".TH seedream"), "{}", &page.stdout[..200]);
    assert!(page.stdout.contains(".TH seedream"), "roff title");
    for section in ["SEEDREAM GENERATE", "SEEDREAM BATCH", "SEEDREAM USAGE"] {
        assert!(page.stdout.contains(section), "no {section} section");
    }
    assert!(page.stdout.contains("image\\-budget"), "options are listed (roff escapes the dash)");
}

#[test]
fn rust_log_shows_each_calls_request_id_on_stderr_and_never_the_key() {
    let dir = Scratch::new("rust-log");
    let emulator =
        Standalone::start(EmulatorConfig { api_keys: vec!["key-SECRET-42".into()], ..EmulatorConfig::default() });
    let base = emulator.base_url();
    let args = ["generate", "-p", "x", "--base-url", &base, "--api-key", "key-SECRET-42", "--out", "out", "--json"];
    let traced =
        common::Running::start(common::seedream(&dir.path).args(args).env("RUST_LOG", "seedream_client=debug"), None)
            .finish(common::RUN_LIMIT);
    assert_eq!(traced.code(), 0, "{traced}");
    let request_id = traced.json()["request_id"].as_str().unwrap().to_owned();
    let answered = traced.stderr.lines().find(|l| l.contains(" answered ")).unwrap_or_else(|| panic!("{traced}"));
    assert!(answered.contains(&format!("request_id=\"{request_id}\"")), "{answered}");
    assert!(answered.contains("seedream.call{model="), "{answered}");
    assert!(traced.stderr.contains("downloaded"), "{traced}");
    assert!(!traced.stderr.contains("SECRET"), "{traced}");

    let quiet = common::Running::start(common::seedream(&dir.path).args(args).env_remove("RUST_LOG"), None)
        .finish(common::RUN_LIMIT);
    assert_eq!(quiet.code(), 0, "{quiet}");
    assert!(!quiet.stderr.contains("seedream.call"), "no subscriber without RUST_LOG: {quiet}");
}
