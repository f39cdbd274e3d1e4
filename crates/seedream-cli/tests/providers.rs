//! The service of December 2026 from the command line: both providers' ids, family keys, the default
//! model, lifecycle notes, open values, catalog files, `models --remote`, Seedream 5.5 and `--layers`
//! with BytePlus ids. End to end against the embedded emulator, or with `--dry-run` (nothing sent).

mod common;

use common::{Scratch, images_in, manifest, run};
use serde_json::{Value, json};

fn dry_run(dir: &Scratch, args: &[&str]) -> Value {
    let mut all = vec!["generate", "--dry-run", "--json"];
    all.extend_from_slice(args);
    let outcome = run(&dir.path, &all);
    assert_eq!(outcome.code(), 0, "{outcome}");
    serde_json::from_str(outcome.stdout.trim()).unwrap()
}

#[test]
fn the_default_model_and_family_keys_follow_the_provider_and_the_base_url_is_shown() {
    let dir = Scratch::new("providers-default");
    let volcengine = dry_run(&dir, &["-p", "x"]);
    assert_eq!(volcengine["request"]["model"], "doubao-seedream-5-0-pro-260628", "the recommended current id");
    let byteplus = dry_run(&dir, &["-p", "x", "--provider", "byteplus", "--api-key", "k"]);
    assert_eq!(byteplus["request"]["model"], "dola-seedream-5-0-pro-260628");
    assert_eq!(byteplus["base_url"], "https://ark.ap-southeast.bytepluses.com/api/v3");
    let four = dry_run(&dir, &["-p", "x", "--provider", "BytePlus", "--api-key", "k", "--model", "seedream-4.0"]);
    assert_eq!(four["request"]["model"], "seedream-4-0-20260415");
    let ark = dry_run(&dir, &["-p", "x", "--api-key", "k", "--model", "seedream-4.0"]);
    assert_eq!(ark["request"]["model"], "doubao-seedream-4-0-20260415");
    assert_eq!(ark["base_url"], "https://ark.cn-beijing.volces.com/api/v3");
    let refused = run(&dir.path, &["generate", "-p", "x", "--provider", "aws", "--dry-run"]);
    assert_eq!(refused.code(), 2, "{refused}");
    assert!(refused.stderr.contains("volcengine or byteplus"), "{refused}");
}

#[test]
fn a_retired_id_names_its_successor_in_one_line_and_is_still_sent() {
    let dir = Scratch::new("providers-retired");
    let outcome = run(&dir.path, &["generate", "-p", "a lighthouse", "-m", "doubao-seedream-4-0-250828", "-s", "1K"]);
    assert_eq!(outcome.code(), 0, "{outcome}");
    let notes: Vec<&str> = outcome.stderr.lines().filter(|line| line.contains("successor")).collect();
    assert_eq!(notes.len(), 1, "{outcome}");
    assert!(notes[0].contains("doubao-seedream-4-0-20260415") && notes[0].contains("2026-11-24"), "{}", notes[0]);
    assert_eq!(images_in(&dir.join("seedream-out")).len(), 1);
    let current = run(&dir.path, &["generate", "-p", "x", "-m", "seedream-4.0", "-s", "1K", "--dry-run"]);
    assert!(!current.stderr.contains("successor"), "{current}");
}

#[test]
fn values_this_version_does_not_know_are_sent_as_written_for_unknown_models() {
    let dir = Scratch::new("providers-open");
    let sent =
        dry_run(&dir, &["-p", "x", "-m", "ep-20261201-abcde", "--background", "auto", "--output-format", "webp"]);
    assert_eq!(sent["request"]["background"], "auto");
    assert_eq!(sent["request"]["output_format"], "webp");
    let pro = dry_run(&dir, &["-p", "x", "-m", "dola-seedream-5-0-pro-260628", "--background", "auto"]);
    assert_eq!(pro["request"]["background"], "auto");
    // A known row still refuses what it does not list.
    let refused =
        run(&dir.path, &["generate", "-p", "x", "-m", "seedream-4.0", "--output-format", "webp", "--dry-run"]);
    assert_eq!(refused.code(), 2, "{refused}");
    assert!(refused.stderr.contains("output_format"), "{refused}");
}

#[test]
fn byteplus_ids_get_their_familys_rules_and_layers() {
    let dir = Scratch::new("providers-byteplus");
    let small = run(&dir.path, &["generate", "-p", "x", "-m", "seedream-4-5-251128", "-s", "10x10"]);
    assert_eq!(small.code(), 2, "4.5's area rule applies to BytePlus's spelling: {small}");
    assert!(small.stderr.contains("size"), "{small}");
    let four = run(&dir.path, &["generate", "-p", "x", "-m", "seedream-4.0", "-n", "2", "-s", "1K"]);
    assert_eq!(four.code(), 0, "{four}");
    // --layers on a family without layers exits 2 before sending.
    let no_layers = run(&dir.path, &["generate", "-m", "seedream-4-5-251128", "--layers", "-i", "https://a/b.png"]);
    assert_eq!(no_layers.code(), 2, "{no_layers}");
    assert!(no_layers.stderr.contains("layer_decomposition"), "{no_layers}");
}

#[test]
fn seedream_5_5_makes_a_transparent_png_from_the_prompt_alone() {
    let dir = Scratch::new("providers-5-5");
    let outcome = run(
        &dir.path,
        &["generate", "-p", "a red apple", "-m", "seedream-5.5", "--background", "transparent", "--json"],
    );
    assert_eq!(outcome.code(), 0, "{outcome}");
    let images = images_in(&dir.join("seedream-out"));
    assert_eq!(images.len(), 1, "{images:?}");
    let bytes = std::fs::read(dir.join("seedream-out").join(&images[0])).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    let alphas: Vec<u8> = pixels[..info.buffer_size()].chunks(4).map(|p| p[3]).collect();
    assert!(alphas.contains(&0) && alphas.contains(&255), "transparent and opaque pixels");
    let refused = run(&dir.path, &["generate", "-p", "x", "-m", "seedream-5.5", "-n", "2"]);
    assert_eq!(refused.code(), 2, "no groups on 5.5: {refused}");
    assert!(manifest(&dir.join("seedream-out"))["runs"].as_array().is_some_and(|runs| !runs.is_empty()));
}

#[test]
fn a_catalog_file_adds_a_family_and_a_bad_one_names_the_row_and_the_field() {
    let dir = Scratch::new("providers-catalog");
    let listed = run(&dir.path, &["models", "--json"]);
    assert_eq!(listed.code(), 0, "{listed}");
    let mut file: Value = serde_json::from_str(listed.stdout.trim()).unwrap();
    let families = file["families"].as_array_mut().unwrap();
    let mut six = families.iter().find(|row| row["key"] == "seedream-5.0-pro").unwrap().clone();
    six["key"] = json!("seedream-6.0");
    six["name"] = json!("Seedream 6.0");
    six["model_id"] = json!("dola-seedream-6-0-270101");
    six["prefixes"] = json!(["seedream-6-0"]);
    six["aliases"] = json!([]);
    six["ids"] = json!([]);
    six["recommended"] = json!(false);
    six["references"]["max"] = json!(1);
    families.push(six);
    let path = dir.write("catalog.json", file.to_string());
    let catalog = path.to_str().unwrap();
    let two = ["-i", "https://a/1.png", "-i", "https://a/2.png"];
    let mut args = vec!["generate", "-p", "x", "-m", "seedream-6-0-270101", "--dry-run", "--catalog", catalog];
    args.extend_from_slice(&two);
    let refused = run(&dir.path, &args);
    assert_eq!(refused.code(), 2, "the file's row applies: {refused}");
    assert!(refused.stderr.contains("at most 1"), "{refused}");
    let without = run(&dir.path, &args[..6].iter().chain(&two).copied().collect::<Vec<_>>());
    assert_eq!(without.code(), 0, "without the file the id is unknown, common rules only: {without}");
    let models = common::seedream(&dir.path).args(["models"]).env("SEEDREAM_CATALOG", catalog).output().unwrap();
    assert!(String::from_utf8_lossy(&models.stdout).contains("Seedream 6.0"));

    let mut bad = file.clone();
    bad["families"][1].as_object_mut().unwrap().remove("stream");
    let bad_path = dir.write("bad.json", bad.to_string());
    let outcome = run(&dir.path, &["models", "--catalog", bad_path.to_str().unwrap()]);
    assert_eq!(outcome.code(), 2, "{outcome}");
    assert!(outcome.stderr.contains("families[1]") && outcome.stderr.contains("stream"), "{outcome}");
}

#[test]
fn models_remote_merges_the_services_list_with_the_catalog() {
    let dir = Scratch::new("providers-remote");
    let outcome = run(&dir.path, &["models", "--remote", "--json"]);
    assert_eq!(outcome.code(), 0, "{outcome}");
    let value: Value = serde_json::from_str(outcome.stdout.trim()).unwrap();
    let models = value["models"].as_array().unwrap();
    let find = |id: &str| models.iter().find(|m| m["id"] == id).unwrap_or_else(|| panic!("{id}: {value}"));
    let retired = find("doubao-seedream-4-0-250828");
    assert_eq!(retired["status"], "Shutdown");
    assert_eq!(retired["family"], "seedream-4.0");
    assert_eq!(retired["successor"], "doubao-seedream-4-0-20260415");
    assert_eq!(find("dola-seedream-5-5-261028")["status"], "running");
    assert!(models.iter().all(|m| m["known"] == true), "the emulator lists the catalog's own ids");
    let text = run(&dir.path, &["models", "--remote"]);
    assert_eq!(text.code(), 0, "{text}");
    assert!(text.stdout.starts_with("ID") && text.stdout.contains("seedream-4.0"), "{text}");
}
