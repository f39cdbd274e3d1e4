//! End to end on the embedded emulator: Seedream 5.0's PNG output, transparent backgrounds, layer
//! decomposition (files, manifest and the OpenRaster file), web search, `--no-validate`, and
//! `seedream models`.

mod common;

use std::collections::BTreeSet;
use std::io::{Cursor, Read as _};
use std::path::Path;

use common::{Scratch, images_in, manifest, run};
use seedream_emulator::{Emulator, EmulatorConfig};

const PRO: &str = "doubao-seedream-5-0-pro-260628";
const LITE: &str = "doubao-seedream-5-0-260128";
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A real RGBA PNG, `width` × `height`, with a transparent border (for layers and transparency).
fn rgba_png(width: u32, height: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let inside = x > width / 8 && x < width * 7 / 8 && y > height / 8 && y < height * 7 / 8;
            pixels.extend([(x % 256) as u8, (y % 256) as u8, 160, if inside { 255 } else { 0 }]);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// A decoded PNG: its size, color type and 8-bit pixels.
struct Decoded {
    width: u32,
    height: u32,
    color: png::ColorType,
    pixels: Vec<u8>,
}

fn decode_png(bytes: &[u8]) -> Decoded {
    assert!(bytes.starts_with(PNG_SIGNATURE), "not a PNG");
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a readable PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).expect("PNG pixels decode");
    pixels.truncate(info.buffer_size());
    Decoded { width: info.width, height: info.height, color: reader.output_color_type().0, pixels }
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.starts_with(PNG_SIGNATURE))
}

#[test]
fn png_output_is_saved_as_png_files_with_png_bytes() {
    let dir = Scratch::new("png");
    for format in ["url", "b64_json"] {
        let out = run(
            &dir.path,
            &[
                "generate",
                "-m",
                PRO,
                "-p",
                "a lighthouse",
                "--output-format",
                "png",
                "--size",
                "1K",
                "--format",
                format,
            ],
        );
        assert_eq!(out.code(), 0, "{out}");
    }
    let saved = dir.join("seedream-out");
    let files = images_in(&saved);
    assert_eq!(files.len(), 2, "{files:?}");
    for file in &files {
        assert!(file.ends_with(".png"), "{file}");
        let decoded = decode_png(&std::fs::read(saved.join(file)).unwrap());
        assert!(decoded.width > 0 && decoded.height > 0);
    }
    let runs = manifest(&saved)["runs"].clone();
    assert_eq!(runs[0]["request"]["output_format"], "png");
    assert!(runs[0]["images"][0]["file"].as_str().unwrap().ends_with("-0.png"), "{runs}");
}

#[test]
fn jpeg_stays_the_default_and_keeps_its_extension() {
    let dir = Scratch::new("jpeg-default");
    let out = run(&dir.path, &["generate", "-m", PRO, "-p", "a lighthouse", "--size", "1K"]);
    assert_eq!(out.code(), 0, "{out}");
    let files = images_in(&dir.join("seedream-out"));
    assert!(files.len() == 1 && files[0].ends_with(".jpg"), "{files:?}");
    assert!(common::is_jpeg(&dir.join("seedream-out").join(&files[0])));
}

#[test]
fn a_transparent_background_gives_a_png_with_transparent_pixels() {
    let dir = Scratch::new("transparent");
    dir.write("logo.png", rgba_png(640, 512));
    let out = run(
        &dir.path,
        &[
            "generate",
            "-m",
            PRO,
            "-p",
            "a sticker",
            "--image",
            "logo.png",
            "--background",
            "transparent",
            "--size",
            "1K",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    saved_one_transparent_png(&dir.join("seedream-out"));
}

#[test]
fn edit_with_png_output_saves_png_files_on_relays_and_on_ark() {
    // The embedded emulator (a relay: the multipart form) and an Ark base (generations with data URLs).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    let ark = emulator.ark_base_url();
    let dir = Scratch::new("edit-png");
    dir.write("photo.png", rgba_png(640, 512));
    let edit = ["edit", "-m", PRO, "-i", "photo.png", "-p", "a poster", "--output-format", "png", "--size", "1K"];
    let on_ark = ["--base-url", ark.as_str(), "--api-key", "any"];
    for extra in [&["--format", "url"][..], &["--format", "b64_json"][..], &on_ark[..]] {
        let out = run(&dir.path, &[&edit[..], extra].concat());
        assert_eq!(out.code(), 0, "{extra:?}: {out}");
    }
    let saved = dir.join("seedream-out");
    let files = images_in(&saved);
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        assert!(file.ends_with(".png"), "{file}");
        assert!(decode_png(&std::fs::read(saved.join(file)).unwrap()).width > 0);
    }
    for run in manifest(&saved)["runs"].as_array().unwrap() {
        assert_eq!(run["request"]["output_format"], "png", "{run}");
    }
    // --dry-run shows the form part the relay gets.
    let out = run(&dir.path, &[&edit[..], &["--dry-run"][..]].concat());
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stdout.contains("\"output_format\": \"png\""), "{out}");
    runtime.block_on(emulator.shutdown());
}

#[test]
fn edit_with_a_transparent_background_saves_a_png_with_transparent_pixels() {
    let dir = Scratch::new("edit-transparent");
    dir.write("logo.png", rgba_png(640, 512));
    let args =
        ["edit", "-m", PRO, "-i", "logo.png", "-p", "the logo alone", "--background", "transparent", "--size", "1K"];
    let out = run(&dir.path, &args);
    assert_eq!(out.code(), 0, "{out}");
    saved_one_transparent_png(&dir.join("seedream-out"));
}

#[test]
fn edit_output_format_and_background_are_refused_where_generate_refuses_them() {
    let dir = Scratch::new("edit-refused");
    dir.write("photo.png", rgba_png(640, 512));
    for (flag, value, field) in
        [("--output-format", "png", "output_format: "), ("--background", "transparent", "background: ")]
    {
        let edit =
            run(&dir.path, &["edit", "-i", "photo.png", "-p", "x", "-m", "doubao-seedream-4-5-251128", flag, value]);
        assert_eq!(edit.code(), 2, "{edit}");
        assert!(edit.stderr.contains(field), "{edit}");
        let generate = run(
            &dir.path,
            &["generate", "-i", "photo.png", "-p", "x", "-m", "doubao-seedream-4-5-251128", flag, value],
        );
        assert_eq!(generate.code(), 2, "{generate}");
        assert!(generate.stderr.contains(field), "{generate}");
    }
    assert!(images_in(&dir.join("seedream-out")).is_empty());
}

/// Reads one zip entry.
fn entry(archive: &mut zip::ZipArchive<Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut file = archive.by_name(name).unwrap_or_else(|_| panic!("{name} is in the .ora"));
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

#[test]
fn layers_are_saved_as_pngs_with_their_fields_and_one_openraster_file() {
    let dir = Scratch::new("layers");
    dir.write("poster.png", rgba_png(640, 512));
    // No prompt: layer decomposition takes none.
    let out = run(&dir.path, &["generate", "-m", PRO, "--image", "poster.png", "--layers", "--out", "split"]);
    assert_eq!(out.code(), 0, "{out}");
    let saved = dir.join("split");
    let run = &manifest(&saved)["runs"][0];
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["request"]["layer_decomposition"], true);
    assert_eq!(run["request"]["output_format"], "png");
    let id = run["id"].as_str().unwrap();
    let images = run["images"].as_array().unwrap();
    assert!((3..=17).contains(&images.len()), "a base image and 2 to 16 layers: {}", images.len());

    // Files by z-order and name, every one a PNG; the base first.
    let mut zs = Vec::new();
    for image in images {
        let file = image["file"].as_str().unwrap();
        let z = image["z_index"].as_i64().expect("every image has its z_index");
        assert!(file.starts_with(&format!("{id}-{z:02}-")) && file.ends_with(".png"), "{file}");
        assert!(is_png(&saved.join(file)), "{file}");
        assert!(file.chars().all(|c| c != '/' && c != '\\' && c != ' '), "{file}");
        if z == 0 {
            assert_eq!(file, format!("{id}-00-base.png"));
        } else {
            let corners = image["bounding_box"]["absolute"].as_array().expect("a layer has its box");
            assert_eq!(corners.len(), 4);
            assert!(image["name"].as_str().is_some_and(|n| !n.is_empty()), "{image}");
            assert!(image["description"].as_str().is_some_and(|d| !d.is_empty()), "{image}");
        }
        zs.push(z);
    }
    assert_eq!(zs.iter().filter(|&&z| z == 0).count(), 1, "one base image");
    assert_eq!(zs.iter().collect::<BTreeSet<_>>().len(), zs.len(), "z_index values are distinct");

    // The OpenRaster file: mimetype first and stored, then stack.xml and every PNG.
    let ora_name = run["openraster"].as_str().expect("the manifest names the .ora");
    assert_eq!(ora_name, format!("{id}.ora"));
    assert!(out.stdout.contains(ora_name), "{out}");
    let ora = std::fs::read(saved.join(ora_name)).unwrap();
    assert_eq!(&ora[..4], b"PK\x03\x04");
    assert_eq!(&ora[30..38], b"mimetype", "the first entry is mimetype, with no extra field before its data");
    assert_eq!(&ora[38..38 + 16], b"image/openraster");
    let mut archive = zip::ZipArchive::new(Cursor::new(ora)).unwrap();
    {
        let first = archive.by_index(0).unwrap();
        assert_eq!(first.name(), "mimetype");
        assert_eq!(first.compression(), zip::CompressionMethod::Stored);
    }
    assert_eq!(entry(&mut archive, "mimetype"), b"image/openraster");
    let base_bytes = std::fs::read(saved.join(format!("{id}-00-base.png"))).unwrap();
    let base = decode_png(&base_bytes);
    assert_eq!(entry(&mut archive, "mergedimage.png"), base_bytes, "the merged image is the base image");
    let thumbnail = decode_png(&entry(&mut archive, "Thumbnails/thumbnail.png"));
    assert!(thumbnail.width <= 256 && thumbnail.height <= 256, "{}x{}", thumbnail.width, thumbnail.height);
    assert!(
        thumbnail.width == 256
            || thumbnail.height == 256
            || (thumbnail.width, thumbnail.height) == (base.width, base.height)
    );

    let stack_text = String::from_utf8(entry(&mut archive, "stack.xml")).unwrap();
    let stack = roxmltree::Document::parse(&stack_text).expect("stack.xml is XML");
    let root = stack.root_element();
    assert_eq!(root.tag_name().name(), "image");
    assert_eq!(root.attribute("w"), Some(base.width.to_string().as_str()));
    assert_eq!(root.attribute("h"), Some(base.height.to_string().as_str()));
    let layers: Vec<roxmltree::Node<'_, '_>> = root.descendants().filter(|n| n.has_tag_name("layer")).collect();
    assert_eq!(layers.len(), images.len(), "every image is a layer of the stack\n{stack_text}");
    let mut previous_z = i64::MAX;
    for layer in &layers {
        let src = layer.attribute("src").unwrap();
        assert!(src.starts_with("data/") && src.ends_with(".png"), "{src}");
        let z: i64 = src[5..7].parse().unwrap(); // data/NN-….png
        assert!(z < previous_z, "topmost first\n{stack_text}");
        previous_z = z;
        let image = images.iter().find(|i| i["z_index"] == z).unwrap();
        let bytes = entry(&mut archive, src);
        assert_eq!(bytes, std::fs::read(saved.join(image["file"].as_str().unwrap())).unwrap(), "{src}");
        let decoded = decode_png(&bytes);
        let x: u32 = layer.attribute("x").unwrap().parse().unwrap();
        let y: u32 = layer.attribute("y").unwrap().parse().unwrap();
        assert!(x + decoded.width <= base.width && y + decoded.height <= base.height, "{src} fits the canvas");
        if z == 0 {
            assert_eq!(layer.attribute("visibility"), Some("hidden"), "the base image is kept, hidden");
        } else {
            assert_eq!(layer.attribute("name"), image["name"].as_str(), "{src}");
            if (decoded.width, decoded.height) != (base.width, base.height) {
                let corners = image["bounding_box"]["absolute"].as_array().unwrap();
                assert_eq!((u64::from(x), u64::from(y)), (corners[0].as_u64().unwrap(), corners[1].as_u64().unwrap()));
            }
        }
    }
    assert_eq!(previous_z, 0, "the base image is the bottom layer");
}

#[test]
fn layers_on_a_model_without_them_are_refused_with_a_model_that_has_them() {
    let dir = Scratch::new("layers-refused");
    dir.write("poster.png", rgba_png(640, 512));
    let out = run(&dir.path, &["generate", "--image", "poster.png", "-m", "seedream-4.0", "--layers"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stderr.contains("layer_decomposition: "), "{out}");
    assert!(!out.stderr.contains("output_format"), "no noise about the implied PNG\n{out}");
    assert!(
        out.stderr.contains(&format!(
            "hint: --layers is for {}: pass --model seedream-5.0-pro",
            seedream_types::catalog::names_where(|family| family.layers.is_some())
        )),
        "{out}"
    );
}

#[test]
fn web_search_on_lite_is_sent_and_its_usage_recorded() {
    let dir = Scratch::new("web-search");
    let out = run(&dir.path, &["generate", "-m", LITE, "-p", "the tallest lighthouse today", "--web-search", "--json"]);
    assert_eq!(out.code(), 0, "{out}");
    let result = out.json();
    assert_eq!(result["request"]["tools"], serde_json::json!([{"type": "web_search"}]));
    assert!(result["usage"]["tool_usage"]["web_search"].as_u64().is_some(), "{result}");
    let out = run(&dir.path, &["generate", "-m", PRO, "-p", "x", "--web-search"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stderr.contains("hint: --web-search is for only Seedream 5.0 lite, which is retired"), "{out}");
    // An edit takes it the same way, on the relay's form and on Ark's generations.
    dir.write("photo.png", rgba_png(640, 512));
    let edit = ["edit", "-m", LITE, "-i", "photo.png", "-p", "today's weather on it", "--web-search", "--json"];
    let out = run(&dir.path, &edit);
    assert_eq!(out.code(), 0, "{out}");
    let result = out.json();
    assert_eq!(result["request"]["tools"], serde_json::json!([{"type": "web_search"}]), "{result}");
    assert!(result["usage"]["tool_usage"]["web_search"].as_u64().is_some(), "{result}");
    let out = run(&dir.path, &["edit", "-m", PRO, "-i", "photo.png", "-p", "x", "--web-search"]);
    assert_eq!(out.code(), 2, "{out}");
    assert!(out.stderr.contains("hint: --web-search is for only Seedream 5.0 lite, which is retired"), "{out}");
}

#[test]
fn no_validate_sends_what_the_catalog_refuses_and_reports_the_service_error() {
    let dir = Scratch::new("no-validate");
    let args = ["generate", "-m", "doubao-seedream-4-5-251128", "-p", "x", "--size", "1K"];
    let refused = run(&dir.path, &args);
    assert_eq!(refused.code(), 2, "{refused}");
    assert!(refused.stderr.contains("nothing was sent"), "{refused}");

    let sent = run(&dir.path, &[&args[..], &["--no-validate"][..]].concat());
    assert_eq!(sent.code(), 3, "the service's refusal\n{sent}");
    assert!(sent.stderr.contains("the service refused the request (HTTP 400 InvalidParameter)"), "{sent}");
    assert!(sent.stderr.contains("Request id: "), "{sent}");
    let recorded = &manifest(&dir.join("seedream-out"))["runs"][0];
    assert_eq!(recorded["error"]["status"], 400);
    assert_eq!(recorded["error"]["code"], "InvalidParameter");

    // Edit too (a multipart form to the relay-style emulator).
    dir.write("photo.png", rgba_png(640, 512));
    let edit_args = ["edit", "--image", "photo.png", "-p", "x", "-m", "doubao-seedream-4-5-251128", "--size", "1K"];
    assert_eq!(run(&dir.path, &edit_args).code(), 2);
    let edited = run(&dir.path, &[&edit_args[..], &["--no-validate"][..]].concat());
    assert_eq!(edited.code(), 3, "{edited}");
    assert!(edited.stderr.contains("(HTTP 400 InvalidParameter)"), "{edited}");

    // Batch too: the line is sent and fails with the service's answer.
    dir.write("lines.jsonl", "{\"model\": \"doubao-seedream-4-5-251128\", \"prompt\": \"x\", \"size\": \"1K\"}\n");
    let batch = run(&dir.path, &["batch", "lines.jsonl", "--no-validate", "--out", "b"]);
    assert_eq!(batch.code(), 5, "{batch}");
    let line = &manifest(&dir.join("b"))["batch"]["lines"]["1"];
    assert_eq!(line["error"]["code"], "InvalidParameter", "{line}");
}

#[test]
fn models_prints_the_catalog_as_a_table_and_as_json() {
    let dir = Scratch::new("models");
    let out = run(&dir.path, &["models"]);
    assert_eq!(out.code(), 0, "{out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("FAMILY") && lines[0].contains("TAKES"), "{out}");
    let pro = lines.iter().find(|l| l.starts_with("Seedream 5.0 pro")).expect("a pro row");
    assert!(pro.contains(PRO) && pro.contains("1K 1.5K 2K") && pro.contains("layers") && pro.contains("transparent"));
    let lite = lines.iter().find(|l| l.starts_with("Seedream 5.0 lite")).expect("a lite row");
    assert!(
        lite.contains("retired") && lite.contains("web search") && lite.contains("doubao-seedream-5-0-lite-260128")
    );

    let out = run(&dir.path, &["models", "--json"]);
    assert_eq!(out.code(), 0, "{out}");
    let catalog = out.json();
    let rows = catalog["families"].as_array().expect("a catalog file: {\"families\": [...]}");
    assert_eq!(rows.len(), lines.len() - 1, "as many objects as table rows");
    let pro = rows.iter().find(|r| r["model_id"] == PRO).unwrap();
    assert_eq!(pro["status"], "current");
    assert_eq!(pro["stream"], false);
    assert_eq!(pro["references"]["max"], 10);
    assert_eq!(pro["size"]["presets"], serde_json::json!(["1K", "1.5K", "2K"]));
    assert!(pro["layers"]["max_layers"].as_u64().is_some());
    for row in rows {
        for key in ["name", "key", "model_id", "aliases", "status", "size", "references", "output_formats", "ids"] {
            assert!(row.get(key).is_some_and(|v| !v.is_null()), "{key} in {row}");
        }
    }
}

/// The long options a `--help` page defines (lines starting with `-x, --name` or `--name`).
fn defined_flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split([' ', ',', '=']).find(|w| w.starts_with("--")).map(str::to_owned))
        .collect()
}

/// Every `--name` a text mentions.
fn mentioned_flags(text: &str) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        let tail = &rest[at + 2..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(tail.len());
        let name = &tail[..end];
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            flags.insert(format!("--{}", name.trim_end_matches('-')));
        }
        rest = &tail[end..];
    }
    flags
}

#[test]
fn help_texts_mention_only_flags_that_exist() {
    let dir = Scratch::new("help-flags");
    let mut all = BTreeSet::new();
    let mut pages = Vec::new();
    for command in
        ["generate", "edit", "batch", "validate", "schema", "models", "emulator", "inspect", "usage", "completions"]
    {
        let out = run(&dir.path, &[command, "--help"]);
        assert_eq!(out.code(), 0, "{out}");
        let defined = defined_flags(&out.stdout);
        // What a page names is an option of its own command, or (examples that run another) of any.
        all.extend(defined.iter().cloned());
        pages.push((command, defined, out.stdout));
    }
    for (command, defined, text) in &pages {
        for flag in mentioned_flags(text) {
            assert!(defined.contains(&flag) || all.contains(&flag), "`seedream {command} --help` names {flag}");
        }
    }
    let generate = &pages[0].1;
    for flag in ["--output-format", "--background", "--layers", "--web-search", "--no-validate"] {
        assert!(generate.contains(flag), "generate has {flag}");
    }
    for (command, defined, _) in &pages[1..3] {
        assert!(defined.contains("--no-validate"), "{command} has --no-validate");
    }
    let main = run(&dir.path, &["--help"]);
    all.extend(defined_flags(&main.stdout));
    for flag in mentioned_flags(&main.stdout) {
        assert!(all.contains(&flag), "`seedream --help` names {flag}");
    }
    // The README's section on the command too.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let start = readme.find("## The `seedream` command").expect("the README has the command's section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    assert!(section.contains("seedream models") && section.contains("--no-validate"));
    for flag in mentioned_flags(section) {
        assert!(all.contains(&flag), "README's command section names {flag}");
    }
}

#[test]
fn a_batch_line_with_layers_gets_its_files_and_openraster_file() {
    let dir = Scratch::new("batch-layers");
    dir.write("poster.png", rgba_png(640, 512));
    dir.write("lines.jsonl", format!("{{\"model\": \"{PRO}\", \"image\": \"poster.png\", \"layer_decomposition\": true, \"output_format\": \"png\"}}\n"));
    let out = run(&dir.path, &["batch", "lines.jsonl", "--out", "b"]);
    assert_eq!(out.code(), 0, "{out}");
    let line = &manifest(&dir.join("b"))["batch"]["lines"]["1"];
    let ora = line["openraster"].as_str().expect("the line records its .ora");
    assert!(ora.starts_with("line1-") && ora.ends_with(".ora"), "{ora}");
    assert!(dir.join("b").join(ora).is_file());
    let images = line["images"].as_array().unwrap();
    assert!(images.iter().all(|i| i["z_index"].is_i64() && i["file"].as_str().unwrap().ends_with(".png")), "{line}");
}

/// `saved` holds one PNG with an alpha channel and transparent pixels, and its run asked for a
/// transparent background as PNG.
fn saved_one_transparent_png(saved: &std::path::Path) {
    let files = images_in(saved);
    assert!(files.len() == 1 && files[0].ends_with(".png"), "{files:?}");
    let decoded = decode_png(&std::fs::read(saved.join(&files[0])).unwrap());
    assert_eq!(decoded.color, png::ColorType::Rgba, "an alpha channel");
    assert!(decoded.pixels.chunks_exact(4).any(|p| p[3] < 255), "some pixel is transparent");
    let run = &manifest(saved)["runs"][0];
    assert_eq!(run["request"]["background"], "transparent");
    assert_eq!(run["request"]["output_format"], "png", "transparency asks for PNG");
}
