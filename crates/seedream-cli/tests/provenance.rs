//! Provenance in every saved image (generate, stream, batch, PNG), read back with independent parsers
//! (jpeg-decoder's XMP, the png crate's iTXt) and with `seedream inspect`; the image data is the
//! service's, byte for byte; the gallery page written beside the images.

mod common;

use std::path::Path;

use common::{Scratch, manifest, run};
use seedream_client::Client;
use seedream_emulator::{Emulator, EmulatorConfig};
use seedream_types::{GenerateRequest, ResponseFormat, SEEDREAM_3_0_T2I, Size};
use serde_json::Value;

const PRO: &str = "doubao-seedream-5-0-pro-260628";

/// The saved files of the last run in `out`, as paths.
fn last_run_files(out: &Path) -> Vec<std::path::PathBuf> {
    let manifest = manifest(out);
    let run = manifest["runs"].as_array().unwrap().last().unwrap().clone();
    run["images"].as_array().unwrap().iter().map(|i| out.join(i["file"].as_str().unwrap())).collect()
}

/// The XMP packet jpeg-decoder finds in a JPEG, and its pixels.
fn jpeg_xmp_and_pixels(bytes: &[u8]) -> (String, Vec<u8>) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().expect("the JPEG decodes");
    let xmp = decoder.xmp_data().expect("jpeg-decoder finds an XMP packet").to_vec();
    (String::from_utf8(xmp).unwrap(), pixels)
}

/// The iTXt texts the png crate reads from a PNG, and its pixels.
fn png_texts_and_pixels(bytes: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("the PNG decodes");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    let texts = reader.info().utf8_text.iter().map(|t| (t.keyword.clone(), t.get_text().unwrap())).collect();
    (texts, pixels)
}

/// Everything from the JPEG's start of scan (SOS) on: the compressed image data.
fn from_sos(jpeg: &[u8]) -> &[u8] {
    let at = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).expect("a JPEG has SOS");
    &jpeg[at..]
}

/// The PNG's IDAT chunks, in order: the compressed image data.
fn idat(png: &[u8]) -> Vec<u8> {
    let (mut at, mut data) = (8, Vec::new());
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        if &png[at + 4..at + 8] == b"IDAT" {
            data.extend_from_slice(&png[at..at + 12 + len]);
        }
        at += 12 + len;
    }
    data
}

fn inspect_json(dir: &Path, files: &[&Path]) -> (i32, Value) {
    let mut args = vec!["inspect", "--json"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = run(dir, &args);
    (out.code(), out.json())
}

/// The emulator's own answer for `request`, unstamped by the command (b64_json, so no link to fetch).
fn emulator_bytes(runtime: &tokio::runtime::Runtime, base_url: &str, request: &GenerateRequest) -> Vec<Vec<u8>> {
    runtime.block_on(async {
        let client = Client::builder().base_url(base_url).api_key("any").build().unwrap();
        let response = client.generate(request).await.unwrap();
        let mut files = Vec::new();
        for item in response.into_inner().data {
            let image = item.image().cloned().expect("no failed image");
            files.push(client.into_image_bytes(image).await.unwrap().to_vec());
        }
        files
    })
}

#[test]
fn generated_jpegs_carry_their_provenance_and_the_service_image_data_byte_for_byte() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    let base = emulator.base_url();
    let dir = Scratch::new("prov-jpeg");
    let prompt = "a lighthouse at dawn, \"quoted\" & <tagged>\nsecond line";
    let out = run(
        &dir.path,
        &[
            "generate",
            "--base-url",
            &base,
            "--api-key",
            "any",
            "--model",
            SEEDREAM_3_0_T2I,
            "-p",
            prompt,
            "--seed",
            "42",
            "--size",
            "1024x768",
            "--format",
            "b64_json",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    let saved = dir.join("seedream-out");
    let record = &manifest(&saved)["runs"][0];
    let request_id = record["request_id"].as_str().expect("a request id").to_owned();

    let mut request = GenerateRequest::new(SEEDREAM_3_0_T2I, prompt).with_size(Size::from_wire("1024x768"));
    request.seed = Some(42);
    request.response_format = Some(ResponseFormat::B64Json);
    let originals = emulator_bytes(&runtime, &base, &request);
    let files = last_run_files(&saved);
    assert_eq!(files.len(), 1);
    for (file, original) in files.iter().zip(&originals) {
        let bytes = std::fs::read(file).unwrap();
        // The image data is the service's, byte for byte, and decodes to the same pixels.
        assert_eq!(from_sos(&bytes), from_sos(original), "{}", file.display());
        let (xmp, pixels) = jpeg_xmp_and_pixels(&bytes);
        let (_, original_pixels) = jpeg_xmp_and_pixels(original);
        assert_eq!(pixels, original_pixels);
        // An independent parser (jpeg-decoder) finds our XMP, escaped as XML wants.
        assert!(xmp.contains("a lighthouse at dawn, &quot;quoted&quot; &amp; &lt;tagged&gt;&#10;second line"), "{xmp}");
        assert!(xmp.contains("seedream:seed=\"42\""), "{xmp}");
        assert!(xmp.contains(&format!("seedream:requestId=\"{request_id}\"")), "{xmp}");
        assert!(xmp.contains("seedream:synthetic=\"True\""), "the emulator's marker is kept: {xmp}");
        assert!(xmp.contains(concat!("xmp:CreatorTool=\"seedream ", env!("CARGO_PKG_VERSION"), "\"")), "{xmp}");
        assert!(xmp.contains("xmp:CreateDate=\"20"), "{xmp}");
        assert_eq!(xmp.matches("<x:xmpmeta").count(), 1, "the emulator's record is replaced, not doubled");
    }

    // `seedream inspect` reads the same.
    let (code, report) = inspect_json(&dir.path, &[&files[0]]);
    assert_eq!(code, 0, "{report}");
    let file = &report["files"][0];
    assert_eq!(file["status"], "provenance");
    assert_eq!(file["format"], "jpeg");
    assert_eq!((&file["width"], &file["height"]), (&Value::from(1024), &Value::from(768)));
    let carried = &file["provenance"];
    assert_eq!(carried["prompt"], prompt);
    assert_eq!(carried["model"], SEEDREAM_3_0_T2I);
    assert_eq!(carried["seed"], 42);
    assert_eq!(carried["size"], "1024x768");
    assert_eq!(carried["request_id"], request_id.as_str());
    assert_eq!(carried["synthetic"], true);
    assert_eq!(carried["created"].as_str().unwrap().len(), 20);
    let text = run(&dir.path, &["inspect", files[0].to_str().unwrap()]);
    assert_eq!(text.code(), 0, "{text}");
    assert!(text.stdout.contains("seedream provenance"), "{text}");
    assert!(text.stdout.contains("  prompt:     a lighthouse at dawn, \"quoted\" & <tagged>"), "{text}");
    assert!(text.stdout.contains("  synthetic:  yes"), "{text}");
    runtime.block_on(emulator.shutdown());
}

#[test]
fn png_layers_carry_their_provenance_in_itxt_and_keep_their_idat() {
    let dir = Scratch::new("prov-png");
    let out = run(&dir.path, &["generate", "--model", PRO, "-p", "a glass sticker", "--output-format", "png"]);
    assert_eq!(out.code(), 0, "{out}");
    let files = last_run_files(&dir.join("seedream-out"));
    let bytes = std::fs::read(&files[0]).unwrap();
    let (texts, pixels) = png_texts_and_pixels(&bytes);
    let xmp = texts
        .iter()
        .find(|(k, _)| k == "XML:com.adobe.xmp")
        .map(|(_, t)| t.clone())
        .expect("the png crate finds iTXt XMP");
    assert!(xmp.contains(">a glass sticker</rdf:li>"), "{xmp}");
    assert!(xmp.contains(&format!("seedream:model=\"{PRO}\"")), "{xmp}");
    assert!(xmp.contains("seedream:synthetic=\"True\""), "embedded emulator: synthetic");
    assert!(!pixels.is_empty());
    // Stripping nothing but our chunk gives the same image data: IDAT is untouched by the stamp.
    let restamped = seedream_types::provenance::embed(&bytes, &Default::default()).unwrap();
    assert_eq!(idat(&restamped), idat(&bytes));
    assert_eq!(png_texts_and_pixels(&restamped).1, pixels);
}

#[test]
fn streamed_and_batch_images_are_stamped_too() {
    let dir = Scratch::new("prov-stream-batch");
    let out = run(
        &dir.path,
        &[
            "generate",
            "--model",
            "doubao-seedream-4-5-251128",
            "-p",
            "four seasons",
            "--stream",
            "--max-images",
            "2",
            "--size",
            "2K",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    let line = format!(
        "{{\"model\": \"{SEEDREAM_3_0_T2I}\", \"prompt\": \"a batch line\", \"size\": \"1024x1024\", \"seed\": 7}}\n"
    );
    dir.write("jobs.jsonl", line);
    let out = run(&dir.path, &["batch", "jobs.jsonl"]);
    assert_eq!(out.code(), 0, "{out}");
    let saved = dir.join("seedream-out");
    let mut files = last_run_files(&saved);
    let batch = manifest(&saved)["batch"]["lines"]["1"]["images"][0]["file"].as_str().unwrap().to_owned();
    files.push(saved.join(&batch));
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, report) = inspect_json(&dir.path, &paths);
    assert_eq!(code, 0, "{report}");
    let carried: Vec<&Value> = report["files"].as_array().unwrap().iter().map(|f| &f["provenance"]).collect();
    assert_eq!(carried.len(), 3);
    assert_eq!(carried[0]["prompt"], "four seasons");
    assert_eq!(carried[1]["model"], "doubao-seedream-4-5-251128");
    assert_eq!(carried[2]["prompt"], "a batch line");
    assert_eq!(carried[2]["seed"], 7);
    assert!(carried.iter().all(|c| c["synthetic"] == true && c["request_id"].is_string()), "{report}");
}

#[test]
fn inspect_says_when_a_file_has_no_provenance_and_reports_damaged_files_without_panicking() {
    let dir = Scratch::new("prov-inspect");
    // A real PNG with no metadata of ours.
    let mut plain = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut plain, 4, 3);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[90; 36]).unwrap();
    }
    let plain = dir.write("plain.png", plain);
    let out = run(&dir.path, &["inspect", plain.to_str().unwrap()]);
    assert_eq!(out.code(), 0, "{out}");
    assert!(out.stdout.contains("plain.png: PNG, 4x3, no seedream provenance"), "{out}");

    let cut = dir.write("cut.jpg", [0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, b'h']);
    let text = dir.write("notes.jpg", "not an image");
    let missing = dir.join("missing.png");
    let bad_png = dir.write("bad.png", b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0");
    let out = run(
        &dir.path,
        &[
            "inspect",
            plain.to_str().unwrap(),
            cut.to_str().unwrap(),
            text.to_str().unwrap(),
            missing.to_str().unwrap(),
            bad_png.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code(), 1, "any unreadable file exits 1\n{out}");
    assert!(out.stdout.contains("no seedream provenance"), "the readable file is still reported\n{out}");
    assert!(out.stderr.contains("cut.jpg: the JPEG file is damaged: a segment length runs past the end"), "{out}");
    assert!(out.stderr.contains("notes.jpg: not a JPEG or PNG image"), "{out}");
    assert!(out.stderr.contains("missing.png: cannot read it: no such file or directory"), "{out}");
    assert!(out.stderr.contains("bad.png: the PNG file is damaged"), "{out}");
    assert!(!out.stderr.contains("panicked"), "{out}");

    let (code, report) = inspect_json(&dir.path, &[&plain, &cut]);
    assert_eq!(code, 1);
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["files"][0]["status"], "none");
    assert_eq!(report["files"][1]["status"], "error");
    assert!(report["files"][1]["error"].as_str().unwrap().contains("damaged"));
}

#[test]
fn every_out_folder_gets_a_gallery_of_runs_and_batch_lines_newest_first() {
    let dir = Scratch::new("gallery-page");
    let out = run(
        &dir.path,
        &[
            "generate",
            "-p",
            "first <b>run</b>",
            "-m",
            "seedream-4.0",
            "--size",
            "1K",
            "--max-images",
            "2",
            "-H",
            "x-emulator-fault: moderate;images=1",
        ],
    );
    assert_eq!(out.code(), 5, "{out}");
    dir.write("jobs.jsonl", "{\"prompt\": \"a batch line\", \"size\": \"1K\"}\n");
    let out = run(&dir.path, &["batch", "jobs.jsonl"]);
    assert_eq!(out.code(), 0, "{out}");
    let saved = dir.join("seedream-out");
    let html = std::fs::read_to_string(saved.join("index.html")).expect("index.html beside the images");
    assert_eq!(html.matches("<img ").count(), 2, "{html}");
    assert_eq!(html.matches("class=\"card error\"").count(), 1);
    assert!(html.contains("OutputImageSensitiveContentDetected"));
    assert!(html.contains("first &lt;b&gt;run&lt;/b&gt;") && !html.contains("<b>run"), "prompts escaped");
    let batch = html.find("a batch line").unwrap();
    let first = html.find("first &lt;b&gt;run").unwrap();
    assert!(batch < first, "newest first");
    for file in manifest(&saved)["runs"][0]["images"].as_array().unwrap() {
        assert!(html.contains(&format!("src=\"{}\" loading=\"lazy\"", file["file"].as_str().unwrap())));
    }
    let names = std::fs::read_dir(&saved).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    assert!(names.into_iter().all(|n| !n.ends_with(".tmp")), "written atomically, no temp file left");
}

#[test]
fn runs_writing_one_folder_at_once_leave_a_gallery_of_the_manifest_they_leave() {
    let dir = Scratch::new("gallery-concurrent");
    let running: Vec<common::Running> = (0..4)
        .map(|n| {
            let prompt = format!("run number {n}");
            common::Running::start(common::seedream(&dir.path).args(["generate", "-p", &prompt, "--size", "1K"]), None)
        })
        .collect();
    for run in running {
        let out = run.finish(common::RUN_LIMIT);
        assert_eq!(out.code(), 0, "{out}");
    }
    let saved = dir.join("seedream-out");
    let html = std::fs::read_to_string(saved.join("index.html")).unwrap();
    let recorded: Vec<String> = manifest(&saved)["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["images"].as_array().unwrap().iter().map(|i| i["file"].as_str().unwrap().to_owned()))
        .collect();
    assert!(!recorded.is_empty());
    assert_eq!(html.matches("<img ").count(), recorded.len(), "the page shows what the manifest holds\n{html}");
    for file in &recorded {
        assert!(html.contains(&format!("src=\"{file}\"")), "{file} is on the page");
    }
}
