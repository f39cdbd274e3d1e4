//! `ImagesCall::save_to`, `.stage_in` and `.bytes` against loopback servers: files named by index
//! and real format, no partial file under a final name when the answer breaks off or is bad, and the
//! streaming save's peak memory for a 100 MB and a 1 GB answer (measured in a child process: this
//! test binary run again, reading its own `VmHWM`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use seedream_client::{Client, Error};
use seedream_types::edit::ImageFile;
use seedream_types::{EditRequest, GenerateRequest, ImageFormat, ResponseFormat, SEEDREAM_4_0};
use tokio::io::AsyncWriteExt as _;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR png bytes";
/// The head of a 64x64 PNG: what validation reads of an edit's input.
const EDIT_INPUT: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x40\0\0\0\x40\x08\x02\0\0\0";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF jpeg bytes";

fn request() -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn").with_response_format(ResponseFormat::B64Json)
}

fn client(addr: std::net::SocketAddr) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(format!("http://{addr}/v1"))
        .no_proxy()
        .retry(seedream_client::RetryPolicy::none())
        .build()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    let dir = base.join(format!("seedream-stream-save-{name}-{}-{:x}", std::process::id(), fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A server answering every POST with `body` (cut after `send` bytes, then the connection closed,
/// when `send` is shorter) and `GET /img.png` with a PNG.
async fn serve(body: Vec<u8>, send: usize) -> std::net::SocketAddr {
    let body = Arc::new(body);
    common::server(move |head, mut stream| {
        let body = body.clone();
        async move {
            if head.method == "GET" {
                common::respond(&mut stream, "200 OK", &[("Content-Type", "image/png")], PNG).await;
                return Some(stream);
            }
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).await.ok()?;
            stream.write_all(&body[..send.min(body.len())]).await.ok()?;
            (send >= body.len()).then_some(stream)
        }
    })
    .await
}

/// An answer of two 300 kB `b64_json` images, and the same with a character outside the alphabet in
/// the second.
fn two_images() -> (Vec<u8>, Vec<u8>) {
    let image = STANDARD.encode(vec![7u8; 300_000]);
    let good = answer(&[serde_json::json!({"b64_json": image}), serde_json::json!({"b64_json": image})]);
    let mut bad_base64 = good.clone();
    let at = bad_base64.len() - 1000;
    bad_base64[at] = b'$';
    (good, bad_base64)
}

fn answer(items: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(
        &serde_json::json!({"model": "m", "created": 1, "data": items, "usage": {"generated_images": 2}}),
    )
    .unwrap()
}

#[tokio::test]
async fn generate_and_save_names_files_by_index_and_real_format() {
    let items = [
        serde_json::json!({"b64_json": STANDARD.encode(PNG), "size": "1x1", "output_format": "jpeg"}),
        serde_json::json!({"error": {"code": "OutputImageSensitiveContentDetected", "message": "no"}}),
        serde_json::json!({"b64_json": STANDARD.encode(JPEG), "size": "1x1"}),
        serde_json::json!({"b64_json": STANDARD.encode(b"neither"), "output_format": "png"}),
    ];
    let mut body = answer(&items);
    body.extend_from_slice(b"   ");
    let addr = serve(body, usize::MAX).await;
    let dir = scratch("names");
    let saved = client(addr).generate(&request()).save_to(&dir, "shot").await.unwrap();
    assert_eq!(entries(&dir), ["shot-0.png", "shot-2.jpg", "shot-3.png"]);
    assert_eq!(std::fs::read(dir.join("shot-0.png")).unwrap(), PNG, "the bytes decide over output_format");
    assert_eq!(std::fs::read(dir.join("shot-2.jpg")).unwrap(), JPEG);
    assert_eq!(std::fs::read(dir.join("shot-3.png")).unwrap(), b"neither", "else the stated format");
    let indices: Vec<usize> = saved.saved.iter().map(|file| file.index).collect();
    assert_eq!(indices, [0, 2, 3]);
    assert_eq!(saved.saved[0].format, Some(ImageFormat::Png));
    assert_eq!(saved.saved[1].bytes, JPEG.len() as u64);
    assert_eq!(saved.paths(), [dir.join("shot-0.png"), dir.join("shot-2.jpg"), dir.join("shot-3.png")]);
    assert!(saved.response.images().all(|image| image.b64_json.is_none()), "the text is not kept");
    assert_eq!(saved.response.data.len(), 4);
    assert_eq!(saved.meta.status, 200);

    // Links are downloaded and saved the same way.
    let url = format!("http://{addr}/img.png");
    let linked = serve(answer(&[serde_json::json!({"url": url})]), usize::MAX).await;
    let saved = client(linked).generate(&request()).save_to(&dir, "linked").await.unwrap();
    assert_eq!(saved.paths(), [dir.join("linked-0.png")]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn provenance_fills_the_room_set_aside_as_each_image_streamed_and_a_damaged_one_stays_as_it_came() {
    use seedream_client::SaveOptions;
    use seedream_types::provenance::{self, Provenance};
    // SOI, JFIF's APP0, the start of a scan, and 300 kB of scan data: written in several pieces.
    let mut jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xda\0\x08\x01\x01\0\0\x3f\0".to_vec();
    jpeg.extend((0..300_000u32).map(|i| (i % 251) as u8));
    let damaged = b"\xff\xd8\xff\x12 not a segment".to_vec();
    // Signature, IHDR, 300 kB of IDAT, IEND (CRCs are not what this checks).
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let pixels: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    for (kind, data) in
        [(&b"IHDR"[..], &[0u8, 0, 0, 64, 0, 0, 0, 48, 8, 6, 0, 0, 0][..]), (b"IDAT", &pixels), (b"IEND", b"")]
    {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        png.extend_from_slice(&[0; 4]);
    }
    // The same PNG with a foreign XMP packet after its pixels, past the first 256 KiB a save reads.
    let foreign = b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">AIGC label</x:xmpmeta>";
    let foreign_chunk = [&b"XML:com.adobe.xmp"[..], &[0; 5], foreign].concat();
    let iend = png.len() - 12;
    let mut labelled = png.clone();
    let chunk = [&(foreign_chunk.len() as u32).to_be_bytes()[..], b"iTXt", &foreign_chunk, &[0; 4]].concat();
    labelled.splice(iend..iend, chunk);
    let items = [
        serde_json::json!({"b64_json": STANDARD.encode(&jpeg), "size": "64x48"}),
        serde_json::json!({"b64_json": STANDARD.encode(&damaged), "size": "1x1"}),
        serde_json::json!({"b64_json": STANDARD.encode(&png), "size": "64x48"}),
        serde_json::json!({"b64_json": STANDARD.encode(&labelled), "size": "64x48"}),
    ];
    let addr = serve(answer(&items), usize::MAX).await;
    let dir = scratch("provenance");
    let options = SaveOptions::new().with_provenance(Provenance { tool: "test-tool".into(), ..Provenance::default() });
    let saved = client(addr).generate(&request()).save_options(options).save_to(&dir, "p").await.unwrap();

    let file = std::fs::read(dir.join("p-0.jpg")).unwrap();
    assert_eq!(saved.saved[0].bytes, file.len() as u64);
    let record = provenance::read(&file).unwrap().expect("a record");
    assert_eq!(record.prompt, "a lighthouse at dawn");
    assert_eq!(
        (record.model.as_str(), record.size.as_deref(), record.tool.as_str()),
        ("m", Some("64x48"), "test-tool")
    );
    // The record is one segment after APP0; around it, every byte of the image as it came.
    let at = 20;
    assert_eq!(&file[at..at + 2], &[0xFF, 0xE1]);
    let len = usize::from(u16::from_be_bytes([file[at + 2], file[at + 3]]));
    assert_eq!([&file[..at], &file[at + 2 + len..]].concat(), jpeg);
    // Filled into the room set aside while streaming (XMP padding before the packet's end), not
    // written by a rewrite of the file (which leaves no padding).
    let segment = String::from_utf8_lossy(&file[at + 4..at + 2 + len]);
    assert!(segment.contains("          <?xpacket end"), "{segment}");

    assert_eq!(std::fs::read(dir.join("p-1.jpg")).unwrap(), damaged, "bytes that cannot carry a record");

    // A PNG's room is an iTXt chunk after IHDR, filled the same way.
    let file = std::fs::read(dir.join("p-2.png")).unwrap();
    assert_eq!(provenance::read(&file).unwrap().expect("a record").size.as_deref(), Some("64x48"));
    let at = 33;
    let len = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&file[at + 4..at + 8], b"iTXt");
    assert_eq!([&file[..at], &file[at + 12 + len..]].concat(), png);
    assert!(String::from_utf8_lossy(&file[at + 8..at + 8 + len]).contains("          <?xpacket end"));
    assert!(file[at + 8..].starts_with(b"XML:com.adobe.xmp\0"), "the file's XMP packet");

    // Beside their packet after the pixels, ours is a `seedream` text in the room, theirs the XMP.
    let file = std::fs::read(dir.join("p-3.png")).unwrap();
    assert_eq!(provenance::read(&file).unwrap().expect("a record").size.as_deref(), Some("64x48"));
    let len = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    assert!(file[at + 8..].starts_with(b"seedream\0"), "{:?}", String::from_utf8_lossy(&file[at + 8..at + 30]));
    assert_eq!([&file[..at], &file[at + 12 + len..]].concat(), labelled, "their packet and every byte kept");
    assert_eq!(entries(&dir), ["p-0.jpg", "p-1.jpg", "p-2.png", "p-3.png"], "no temporary file left");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn generate_bytes_gives_each_image_by_index_with_its_real_format() {
    let url = |addr: std::net::SocketAddr| format!("http://{addr}/img.png");
    let links = serve(Vec::new(), 0).await;
    let items = [
        serde_json::json!({"b64_json": STANDARD.encode(PNG), "size": "1x1", "output_format": "jpeg"}),
        serde_json::json!({"error": {"code": "OutputImageSensitiveContentDetected", "message": "no"}}),
        serde_json::json!({"url": url(links)}),
        serde_json::json!({"b64_json": STANDARD.encode(b"neither"), "output_format": "png"}),
        serde_json::json!({"b64_json": STANDARD.encode(JPEG)}),
    ];
    // Sent in pieces of 7 bytes, so every string is cut many times.
    let addr = common::server({
        let body = Arc::new(answer(&items));
        move |_head, mut stream| {
            let body = body.clone();
            async move {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await.ok()?;
                for piece in body.chunks(7) {
                    stream.write_all(piece).await.ok()?;
                    stream.flush().await.ok()?;
                }
                Some(stream)
            }
        }
    })
    .await;
    let generated = client(addr).generate(&request()).bytes().await.unwrap();
    let indices: Vec<usize> = generated.images.iter().map(|(index, _)| *index).collect();
    assert_eq!(indices, [0, 2, 3, 4], "the failed item has none");
    let image = |index| generated.image(index).unwrap();
    assert_eq!((&image(0)[..], image(0).format()), (PNG, Some(ImageFormat::Png)), "the bytes decide");
    assert_eq!((&image(2)[..], image(2).format()), (PNG, Some(ImageFormat::Png)), "the link downloaded");
    assert_eq!((&image(3)[..], image(3).format()), (&b"neither"[..], Some(ImageFormat::Png)), "else as stated");
    assert_eq!((&image(4)[..], image(4).format()), (JPEG, Some(ImageFormat::Jpeg)));
    assert!(generated.image(1).is_none());
    assert!(generated.response.images().all(|image| image.b64_json.is_none()), "the text is not kept");
    assert_eq!(generated.response.data.len(), 5);
    assert_eq!(generated.meta.status, 200);
}

#[tokio::test]
async fn generate_bytes_of_a_broken_answer_is_an_error() {
    let (good, bad_base64) = two_images();
    for (case, body, send, expected) in [
        ("cut off in the second image", good.clone(), good.len() - 5000, "transport"),
        ("bad base64 in the second image", bad_base64.clone(), bad_base64.len(), "image 1"),
    ] {
        let addr = serve(body, send).await;
        let error = client(addr).generate(&request()).bytes().await.unwrap_err();
        let text = error.to_string();
        match expected {
            "image 1" => assert!(matches!(error, Error::Decode { .. }) && text.contains("image 1"), "{case}: {text}"),
            _ => assert!(!matches!(error, Error::Decode { .. }), "{case}: {error:?}"),
        }
    }
}

#[tokio::test]
async fn staged_images_are_read_or_named_by_the_caller_and_removed_when_dropped() {
    let items = [
        serde_json::json!({"b64_json": STANDARD.encode(PNG)}),
        serde_json::json!({"url": "https://example.com/x.jpeg"}),
        serde_json::json!({"b64_json": STANDARD.encode(JPEG)}),
    ];
    let addr = serve(answer(&items), usize::MAX).await;
    let dir = scratch("staged");
    let mut staged = client(addr).generate(&request()).stage_in(&dir).await.unwrap();
    assert_eq!(staged.images.iter().map(|image| image.index()).collect::<Vec<_>>(), [0, 2]);
    assert_eq!(entries(&dir).len(), 2, "two temporary files");
    assert!(entries(&dir).iter().all(|name| name.starts_with('.') && name.ends_with(".tmp")), "{:?}", entries(&dir));
    let first = staged.take(0).unwrap();
    assert_eq!((first.format(), first.len()), (Some(ImageFormat::Png), PNG.len() as u64));
    assert_eq!(&first.read().unwrap()[..], PNG);
    assert_eq!(first.persist("mine.png").unwrap(), dir.join("mine.png"));
    assert!(staged.take(1).is_none(), "links are not staged");
    assert_eq!(staged.response.images().nth(1).unwrap().url.as_deref(), Some("https://example.com/x.jpeg"));
    drop(staged);
    assert_eq!(entries(&dir), ["mine.png"], "what was not persisted is gone");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn save_to_skips_failed_items_and_refuses_a_stem_with_directory_parts() {
    let items = [
        serde_json::json!({"error": {"code": "x", "message": "no"}}),
        serde_json::json!({"b64_json": STANDARD.encode(JPEG)}),
        serde_json::json!({"b64_json": STANDARD.encode(PNG)}),
    ];
    let addr = serve(answer(&items), usize::MAX).await;
    let client = client(addr);
    let dir = scratch("save-all");
    let saved = client.generate(&request()).save_to(&dir, "all").await.unwrap();
    let paths = saved.paths();
    assert_eq!(paths, [dir.join("all-1.jpg"), dir.join("all-2.png")]);
    assert_eq!(std::fs::read(&paths[1]).unwrap(), PNG);
    assert_eq!(entries(&dir), ["all-1.jpg", "all-2.png"]);
    assert!(saved.response.data[0].image().is_none(), "the failed item stays in the response");
    let error = client.generate(&request()).save_to(&dir, "../up").await.unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_broken_answer_leaves_no_file_under_any_name() {
    let (good, bad_base64) = two_images();
    let mut bad_json = good.clone();
    bad_json.extend_from_slice(b"]]");
    let cases: [(&str, Vec<u8>, usize); 3] = [
        ("cut off in the second image", good.clone(), good.len() - 5000),
        ("bad base64 in the second image", bad_base64.clone(), bad_base64.len()),
        ("bad JSON after the images", bad_json.clone(), bad_json.len()),
    ];
    for (case, body, send) in cases {
        let addr = serve(body, send).await;
        let dir = scratch("broken");
        let result = client(addr).generate(&request()).save_to(&dir, "x").await;
        assert!(result.is_err(), "{case}: {result:?}");
        assert_eq!(entries(&dir), Vec::<String>::new(), "{case}: no file, final or temporary");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// 1 MiB of base64 text (no padding: blocks can be joined) and the bytes it decodes to.
fn block() -> (String, Vec<u8>) {
    let mut rng = fastrand::Rng::with_seed(15);
    let bytes: Vec<u8> = (0..768 * 1024).map(|_| rng.u8(..)).collect();
    (STANDARD.encode(&bytes), bytes)
}

/// The child's side: `SEEDREAM_STREAM_SAVE_CHILD=<mode> <base URL> <dir> <images> <mib>`; generates
/// and saves into `dir` (`save`), edits and saves (`edit-save`: a multipart edit, the relay's way), or
/// takes the images in memory and checks them (`bytes`, `edit-bytes`); prints `VmHWM <bytes>`.
#[test]
fn stream_save_child() {
    let Ok(args) = std::env::var("SEEDREAM_STREAM_SAVE_CHILD") else { return };
    let args: Vec<&str> = args.split(' ').collect();
    let [mode, base, dir, images, mib] = args[..] else { panic!("bad child arguments {args:?}") };
    // Multi-threaded, as most hosts run it: the connection's task may then read ahead of the save.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (_, block) = block();
    let start = status_bytes("VmRSS:");
    runtime.block_on(async {
        let client = Client::builder()
            .api_key("test-key")
            .base_url(base)
            .no_proxy()
            .max_response_bytes(2 << 30)
            .build()
            .unwrap();
        let (generate, edit) =
            (request(), EditRequest::new(SEEDREAM_4_0, "at night", ImageFile::new("in.png", EDIT_INPUT)));
        let call = if mode.starts_with("edit") { client.edit(&edit) } else { client.generate(&generate) };
        if mode.ends_with("save") {
            call.save_to(dir, "big").await.unwrap();
            return;
        }
        let generated = call.bytes().await.unwrap();
        let (images, mib): (usize, usize) = (images.parse().unwrap(), mib.parse().unwrap());
        assert_eq!(generated.images.len(), images);
        for (at, (index, image)) in generated.images.iter().enumerate() {
            assert_eq!(*index, at);
            assert_eq!(image.len(), block.len() * mib, "image {index}");
            assert!(image.chunks(block.len()).all(|chunk| chunk == &block[..]), "image {index}");
        }
    });
    println!("VmHWM {} start {start}", status_bytes("VmHWM:"));
}

/// A figure of this process's `/proc/self/status` (`VmHWM:`, `VmRSS:`) in bytes.
fn status_bytes(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with(key)).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Serves `images` images of `mib` MiB of base64 each from a thread of this process, runs the child
/// against it (`mode` `save` or `bytes`), checks every file it saved, and returns its peak resident set
/// and its resident set before the request.
fn stream_save_peak(mode: &str, images: usize, mib: usize) -> (u64, u64) {
    let (text, bytes) = block();
    // The body as pieces: the JSON around the images, and the same block of text repeated.
    let mut pieces: Vec<(Vec<u8>, usize)> = vec![(b"{\"model\":\"m\",\"created\":1,\"data\":[".to_vec(), 1)];
    for i in 0..images {
        let open = if i == 0 { "{\"b64_json\":\"" } else { ",{\"b64_json\":\"" };
        pieces.push((open.as_bytes().to_vec(), 1));
        pieces.push((text.clone().into_bytes(), mib));
        pieces.push((b"\",\"size\":\"1024x768\"}".to_vec(), 1));
    }
    pieces.push((b"],\"usage\":{\"generated_images\":1}}".to_vec(), 1));
    let length: usize = pieces.iter().map(|(piece, times)| piece.len() * times).sum();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let pieces = Arc::new(pieces);
            let addr = common::server(move |_head, mut stream| {
                let pieces = pieces.clone();
                async move {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
                    );
                    stream.write_all(head.as_bytes()).await.ok()?;
                    for (piece, times) in pieces.iter() {
                        for _ in 0..*times {
                            stream.write_all(piece).await.ok()?;
                        }
                    }
                    Some(stream)
                }
            })
            .await;
            ready_tx.send(addr).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let addr = ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let dir = scratch("peak");
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stream_save_child", "--nocapture", "--test-threads=1"])
        .env("SEEDREAM_STREAM_SAVE_CHILD", format!("{mode} http://{addr}/v1 {} {images} {mib}", dir.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let figures: Vec<u64> = stdout
        .lines()
        .find_map(|line| line.split_once("VmHWM ").map(|(_, rest)| rest))
        .map(|rest| rest.split(" start ").filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_default();
    let [peak, start] = figures[..] else { panic!("no VmHWM line: {stdout}") };
    let names = entries(&dir);
    let saved = if mode.ends_with("save") { images } else { 0 };
    assert_eq!(names.len(), saved, "{names:?}");
    for i in 0..saved {
        // Random bytes have no format and the item states none.
        let path = dir.join(format!("big-{i}.bin"));
        let saved = std::fs::read(&path).unwrap();
        assert_eq!(saved.len(), bytes.len() * mib, "{}", path.display());
        assert!(saved.chunks(bytes.len()).all(|chunk| chunk == &bytes[..]), "{}", path.display());
    }
    std::fs::remove_dir_all(dir).unwrap();
    (peak, start)
}

#[test]
fn streaming_save_of_a_100_mb_answer_peaks_under_64_mib() {
    let (peak, _) = stream_save_peak("save", 15, 7);
    eprintln!("peak {} MiB", peak >> 20);
    assert!(peak <= 64 << 20, "peak resident set {} MiB", peak >> 20);
}

#[test]
fn an_edit_saved_to_disk_of_a_100_mb_answer_peaks_under_64_mib() {
    let (peak, _) = stream_save_peak("edit-save", 15, 7);
    eprintln!("peak {} MiB", peak >> 20);
    assert!(peak <= 64 << 20, "peak resident set {} MiB", peak >> 20);
}

#[test]
fn streaming_save_of_a_1_gb_answer_peaks_under_64_mib() {
    let (peak, _) = stream_save_peak("save", 15, 68);
    assert!(peak <= 64 << 20, "peak resident set {} MiB", peak >> 20);
}

/// `.bytes()` holds the images, not the answer's text: for 15 images of 5.25 MiB (7 MiB of base64
/// each, 105 MiB of text) the call adds at most 1.1 times the images to what the process held before
/// it, where holding the text alone would take 1.33 times. Edits the same.
#[test]
fn bytes_of_a_100_mb_answer_peak_near_the_images_size_for_generate_and_edit() {
    let decoded = 15 * 7 * (768 << 10) as u64;
    for mode in ["bytes", "edit-bytes"] {
        let (peak, start) = stream_save_peak(mode, 15, 7);
        let added = peak.saturating_sub(start);
        eprintln!("{mode}: the call added {} MiB for {} MiB of images", added >> 20, decoded >> 20);
        assert!(
            added <= decoded + decoded / 10,
            "{mode}: {} MiB added for {} MiB of images",
            added >> 20,
            decoded >> 20
        );
    }
}
