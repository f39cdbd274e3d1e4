//! End-to-end: answers that are odd but paid for. A repeated `z_index` or stream `image_index` gives
//! each image its own file (and its own OpenRaster entry), a layer whose `bounding_box` is not a box
//! costs that field, not the answer; each is warned on stderr and recorded in the run's `warnings`.
//! The answers come from a canned server on 127.0.0.1; every run is bounded (common::RUN_LIMIT).

mod common;

use std::io::Read as _;

use common::{Scratch, canned, images_in, manifest, run};
use serde_json::{Value, json};

/// A solid `width` × `height` RGBA PNG.
fn png(width: u32, height: u32, rgba: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&rgba.repeat((width * height) as usize)).unwrap();
    writer.finish().unwrap();
    out
}

/// `bytes` as `b64_json` text.
fn b64(bytes: &[u8]) -> String {
    let url = seedream_types::image::encode_data_url(seedream_types::ImageFormat::Png, bytes);
    url.split_once(',').unwrap().1.to_owned()
}

fn zip_entries(path: &std::path::Path) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len()).map(|i| archive.by_index(i).unwrap().name().to_owned()).collect()
}

#[test]
fn a_repeated_z_index_and_a_malformed_box_keep_every_layer_in_its_own_file() {
    let dir = Scratch::new("odd-layers");
    let layer = |z: i64, name: &str, color: [u8; 4], bounding_box: Value| {
        json!({"b64_json": b64(&png(40, 30, color)), "size": "40x30", "output_format": "png", "z_index": z,
               "name": name, "bounding_box": bounding_box})
    };
    let full_box = json!({"absolute": [0, 0, 40, 30], "normalized": [0, 0, 1000, 1000]});
    let body = json!({
        "model": "doubao-seedream-5-0-pro-260628", "created": 1,
        "data": [
            {"b64_json": b64(&png(40, 30, [255, 255, 255, 255])), "size": "40x30", "output_format": "png", "z_index": 0},
            layer(1, "sky", [0, 0, 255, 255], full_box.clone()),
            layer(1, "sky", [0, 255, 0, 255], full_box),
            layer(2, "boat", [255, 0, 0, 255], json!([10, 10, 20, 20])),
        ],
        "usage": {"generated_images": 4, "output_tokens": 20, "total_tokens": 20}
    });
    let url = canned("HTTP/1.1 200 OK\r\nContent-Type: application/json", &body.to_string());
    let out = run(&dir.path, &["generate", "-p", "x", "--base-url", &url, "--api-key", "k", "--retries", "0"]);
    assert_eq!(out.code(), 0, "{out}");
    let run = &manifest(&dir.join("seedream-out"))["runs"][0];
    let files: Vec<&str> = run["images"].as_array().unwrap().iter().map(|i| i["file"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 4, "{run}");
    assert!(files[1].ends_with("-01-sky.png") && files[2].ends_with("-01-sky-2.png"), "{files:?}");
    let on_disk = images_in(&dir.join("seedream-out"));
    for file in &files {
        assert!(on_disk.iter().any(|name| name == file), "{file} is saved: {on_disk:?}");
    }
    // Each file holds its own layer: the second sky did not overwrite the first.
    let first = std::fs::read(dir.join("seedream-out").join(files[1])).unwrap();
    let second = std::fs::read(dir.join("seedream-out").join(files[2])).unwrap();
    assert_ne!(first, second);
    assert_eq!(run["images"][3]["name"], "boat");
    assert!(run["images"][3].get("bounding_box").is_none(), "{run}");
    let warnings: Vec<&str> = run["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("repeats z_index 1") && warnings[0].contains(files[2]), "{warnings:?}");
    assert!(warnings[1].contains("layer 2 (image 3)") && warnings[1].contains("bounding_box [10,10,20,20]"));
    assert!(out.stderr.contains("warning: the answer repeats z_index 1"), "{out}");
    let ora = run["openraster"].as_str().expect("the OpenRaster file is made");
    let entries = zip_entries(&dir.join("seedream-out").join(ora));
    for entry in ["data/01-sky.png", "data/01-sky-2.png", "data/02-boat.png"] {
        assert!(entries.iter().any(|name| name == entry), "{entry} in {entries:?}");
    }
}

#[test]
fn a_repeated_stream_image_index_saves_both_images() {
    let dir = Scratch::new("odd-stream");
    let event = |color: [u8; 4]| {
        json!({"type": "image_generation.partial_succeeded", "model": "doubao-seedream-4-0-250828", "created": 1,
               "image_index": 0, "b64_json": b64(&png(16, 16, color)), "size": "16x16"})
    };
    let done = json!({"type": "image_generation.completed", "model": "doubao-seedream-4-0-250828", "created": 1,
                      "usage": {"generated_images": 2, "output_tokens": 2, "total_tokens": 2}});
    let mut body = String::new();
    for (name, data) in [
        ("image_generation.partial_succeeded", event([255, 0, 0, 255])),
        ("image_generation.partial_succeeded", event([0, 0, 255, 255])),
        ("image_generation.completed", done),
    ] {
        body.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    let url = canned("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream", &body);
    let out = run(
        &dir.path,
        &[
            "generate",
            "-p",
            "x",
            "-m",
            "seedream-4.0",
            "--stream",
            "--max-images",
            "2",
            "--base-url",
            &url,
            "--api-key",
            "k",
            "--retries",
            "0",
        ],
    );
    assert_eq!(out.code(), 0, "{out}");
    let run = &manifest(&dir.join("seedream-out"))["runs"][0];
    let files: Vec<&str> = run["images"].as_array().unwrap().iter().map(|i| i["file"].as_str().unwrap()).collect();
    assert!(files.len() == 2 && files[0].ends_with("-0.png") && files[1].ends_with("-0-2.png"), "{files:?}");
    let mut bytes = [Vec::new(), Vec::new()];
    for (file, into) in files.iter().zip(&mut bytes) {
        std::fs::File::open(dir.join("seedream-out").join(file)).unwrap().read_to_end(into).unwrap();
    }
    assert_ne!(bytes[0], bytes[1], "the second image did not overwrite the first");
    assert!(run["warnings"][0].as_str().unwrap().contains("repeats image_index 0"), "{run}");
    assert!(out.stderr.contains("warning: the answer repeats image_index 0"), "{out}");
}

#[test]
fn an_answer_without_layers_after_layers_is_reported_not_passed_off_as_done() {
    let dir = Scratch::new("odd-no-layers");
    dir.write("poster.png", png(640, 512, [0, 0, 255, 255]));
    // A relay that drops `layer_decomposition` answers with one plain image.
    let body = json!({
        "model": "dola-seedream-5-0-pro-260628", "created": 1,
        "data": [{"b64_json": b64(&png(40, 30, [255, 255, 255, 255])), "size": "40x30", "output_format": "png"}],
        "usage": {"generated_images": 1, "output_tokens": 20, "total_tokens": 20}
    });
    let url = canned("HTTP/1.1 200 OK\r\nContent-Type: application/json", &body.to_string());
    let args = ["generate", "-i", "poster.png", "--layers", "-m", "dola-seedream-5-0-pro-260628", "--base-url", &url];
    let out = run(&dir.path, &[&args[..], &["--api-key", "k", "--retries", "0"]].concat());
    assert_eq!(out.code(), 5, "partial: the image is kept, the layers are missing\n{out}");
    assert!(out.stderr.contains("the answer has no layers"), "{out}");
    let run = &manifest(&dir.join("seedream-out"))["runs"][0];
    assert_eq!(run["status"], "partial", "{run}");
    assert!(run["openraster_error"].as_str().unwrap().contains("layer_decomposition"), "{run}");
    assert_eq!(images_in(&dir.join("seedream-out")).len(), 1, "the paid image is saved");
}
