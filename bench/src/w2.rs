//! W2: one large answer (15 random ≈ 5 MB images as `b64_json`, ≈ 100 MB of JSON) decoded to image
//! bytes. Each measurement is a fresh child process (`seedream-bench w2-child NAME BASE`), so its peak
//! resident set (`VmHWM`) is that contender's alone; it prints one JSON line.
//!
//! To add a contender: a name below, an entry in [`names`] and an arm in [`measure`] that returns the
//! images in memory or the files it saved.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use seedream_types::{GenerateRequest, ImageItem, ImagesResponse, ResponseFormat, SEEDREAM_4_0};
use serde_json::{Value, json};

use crate::server::{Ready, W2_IMAGES};
use crate::sys::{checksum, status_bytes};
use crate::w1::KEY;

pub const CLIENT: &str = "seedream-client";
pub const FLOOR: &str = "hyper+serde_json+base64";
pub const STREAM_SAVE: &str = "seedream-client save_to";
pub const IN_MEMORY: &str = "seedream-client bytes";
/// The physical limits ([`crate::limit`]): what the in-memory paths and the saves are judged against.
pub const LIMIT_IN_MEMORY: &str = "limit_in_memory";
pub const LIMIT_DURABLE_SAVE: &str = "limit_durable_save";
/// The same answer to an edit, saved (a multipart `POST /images/edits`, as relays take it).
pub const EDIT_SAVE: &str = "seedream-client edit save_to";
/// The C ABI's save (`seedream_client_generate_save`), called as a C host calls it.
pub const C_SAVE: &str = "seedream-ffi generate_save";

/// The contenders this build measures.
pub fn names() -> Vec<&'static str> {
    vec![CLIENT, FLOOR, IN_MEMORY, LIMIT_IN_MEMORY, LIMIT_DURABLE_SAVE, STREAM_SAVE, EDIT_SAVE, C_SAVE]
}

pub fn request() -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn")
        .with_max_images(W2_IMAGES as i64)
        .with_response_format(ResponseFormat::B64Json)
}

/// What a contender leaves: the images in memory, or the files it saved (read back after the peak
/// resident set is taken, so reading them is not counted).
enum Output {
    Memory(Vec<Bytes>),
    Files(Vec<PathBuf>),
}

/// One request through the contender `name` against `base`; files go to `dir`.
async fn measure(name: &str, base: &str, dir: &Path) -> Result<Output, String> {
    Ok(match name {
        CLIENT => Output::Memory(through_client(base).await?),
        IN_MEMORY => Output::Memory(in_memory(base).await?),
        FLOOR => Output::Memory(floor(base).await?),
        // Blocking on purpose: a limit needs no runtime (the child builds one for every contender
        // alike, so the start RSS compares).
        LIMIT_IN_MEMORY => Output::Memory(crate::limit::in_memory(base)?),
        LIMIT_DURABLE_SAVE => Output::Files(crate::limit::durable_save(base, dir)?),
        STREAM_SAVE => Output::Files(stream_save(base, dir).await?),
        EDIT_SAVE => Output::Files(edit_save(base, dir).await?),
        // Blocking, from a thread of its own as a C host calls it: the library runs its own runtime
        // and refuses a call from inside another's.
        C_SAVE => Output::Files(std::thread::scope(|scope| {
            let host = scope.spawn(|| crate::c_save::generate_save(base, &request(), dir));
            host.join().map_err(|_| "the C host thread panicked".to_owned())?
        })?),
        other => return Err(format!("unknown W2 contender {other:?}")),
    })
}

/// The child: one request through `name` against `base` (`http://127.0.0.1:N/big/v1`); prints
/// `{"wall_ms", "peak_rss_bytes", "start_rss_bytes", "decoded_bytes", "checksum"}`.
pub fn child(name: &str, base: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("seedream-bench-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let start_rss = status_bytes("VmRSS");
    let start = Instant::now();
    let output = runtime.block_on(measure(name, base, &dir));
    let elapsed = start.elapsed();
    let peak = status_bytes("VmHWM");
    let images = match output {
        Ok(Output::Memory(images)) => Ok(images),
        Ok(Output::Files(paths)) if name == C_SAVE => read_saved_with_records(&paths),
        Ok(Output::Files(paths)) => read_saved(&paths),
        Err(error) => Err(error),
    };
    let _ = std::fs::remove_dir_all(&dir);
    let images = images?;
    let decoded: usize = images.iter().map(|image| image.len()).sum();
    let line = json!({
        "wall_ms": elapsed.as_secs_f64() * 1e3,
        "peak_rss_bytes": peak,
        "start_rss_bytes": start_rss,
        "decoded_bytes": decoded,
        "checksum": checksum(images.iter().map(|image| &image[..])),
    });
    println!("{line}");
    Ok(())
}

/// The documented path: `Client::generate`, then `Client::into_image_bytes` for each image (decoded in
/// the string's own memory).
async fn through_client(base: &str) -> Result<Vec<Bytes>, String> {
    let client = seedream_client::Client::builder().api_key(KEY).base_url(base).build().map_err(|e| e.to_string())?;
    let response = client.generate(&request()).await.map_err(|e| e.to_string())?;
    let mut images = Vec::with_capacity(response.data.len());
    for item in response.into_inner().data {
        if let ImageItem::Image(image) = item {
            images.push(client.into_image_bytes(image).await.map_err(|e| e.to_string())?.into_bytes());
        }
    }
    Ok(images)
}

/// `generate(…).bytes()`: each image decoded from the body as it arrives, the text never held.
async fn in_memory(base: &str) -> Result<Vec<Bytes>, String> {
    let client = seedream_client::Client::builder().api_key(KEY).base_url(base).build().map_err(|e| e.to_string())?;
    let generated = client.generate(&request()).bytes().await.map_err(|e| e.to_string())?;
    Ok(generated.images.into_iter().map(|(_, image)| image.into_bytes()).collect())
}

/// The floor: bare hyper, the body collected whole, `serde_json::from_slice`, then each `b64_json`
/// decoded with the base64 crate (each string dropped once decoded).
async fn floor(base: &str) -> Result<Vec<Bytes>, String> {
    let response = fetch_json(base).await?;
    let mut images = Vec::with_capacity(response.data.len());
    for item in response.data {
        if let ImageItem::Image(image) = item {
            let text = image.b64_json.ok_or("an image without b64_json")?;
            let bytes = base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).map_err(|e| e.to_string())?;
            images.push(Bytes::from(bytes));
        }
    }
    Ok(images)
}

async fn fetch_json(base: &str) -> Result<ImagesResponse, String> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: LegacyClient<_, Full<Bytes>> = LegacyClient::builder(TokioExecutor::new()).build(connector);
    let uri: http::Uri =
        format!("{base}/images/generations").parse().map_err(|e: http::uri::InvalidUri| e.to_string())?;
    crate::w1::floor_generate(&client, uri, &request()).await
}

/// `generate(…).save_to(dir, stem)`: the answer streamed to files without holding it whole.
/// Returns the files in `data` order.
async fn stream_save(base: &str, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let client = seedream_client::Client::builder().api_key(KEY).base_url(base).build().map_err(|e| e.to_string())?;
    let saved = client.generate(&request()).save_to(dir, "w2").await.map_err(|e| e.to_string())?;
    Ok(saved.paths())
}

/// `edit(…).save_to(dir, stem)`: the same answer to a multipart edit of a small JPEG.
async fn edit_save(base: &str, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let client = seedream_client::Client::builder().api_key(KEY).base_url(base).build().map_err(|e| e.to_string())?;
    let input = seedream_types::ImageFile::new("in.jpg", crate::c_save::SMALL_JPEG.to_vec());
    let edit = seedream_types::EditRequest::new(SEEDREAM_4_0, "a lighthouse at dusk", input)
        .with_n(4)
        .with_response_format(ResponseFormat::B64Json);
    let saved = client.edit(&edit).save_to(dir, "w2e").await.map_err(|e| e.to_string())?;
    Ok(saved.paths())
}

/// The image files a save wrote, in `data` order (read after the peak was taken).
fn read_saved(paths: &[PathBuf]) -> Result<Vec<Bytes>, String> {
    paths.iter().map(|path| std::fs::read(path).map(Bytes::from).map_err(|e| e.to_string())).collect()
}

/// The files of a save that writes provenance (the C ABI's), each checked to hold a record and read
/// without it: the segment after JFIF's APP0, where the record goes.
fn read_saved_with_records(paths: &[PathBuf]) -> Result<Vec<Bytes>, String> {
    const AFTER_APP0: usize = 20;
    let strip = |path: &PathBuf, bytes: Vec<u8>| -> Result<Bytes, String> {
        match seedream_types::provenance::read(&bytes) {
            Ok(Some(_)) => {}
            other => return Err(format!("{}: no provenance record ({other:?})", path.display())),
        }
        let len = bytes
            .get(AFTER_APP0 + 2..AFTER_APP0 + 4)
            .map(|len| usize::from(u16::from_be_bytes([len[0], len[1]])))
            .ok_or_else(|| format!("{}: cut short", path.display()))?;
        let mut image = bytes;
        image.drain(AFTER_APP0..AFTER_APP0 + 2 + len);
        Ok(Bytes::from(image))
    };
    paths.iter().map(|path| strip(path, std::fs::read(path).map_err(|e| e.to_string())?)).collect()
}

/// The parent: `rounds` rounds, one fresh child per contender per round, in rotating order. Returns
/// `{"rounds": [{name: {"wall_ms", "decoded_gbps", "peak_rss_bytes", "peak_rss_per_decoded_byte"}}]}`.
pub fn run(exe: &Path, base: &str, rounds: usize, ready: &Ready) -> Result<Value, String> {
    let names = names();
    let mut measured = Vec::new();
    for round in 0..rounds {
        let mut row = serde_json::Map::new();
        for i in 0..names.len() {
            let name = names[(round + i) % names.len()];
            let output = Command::new(exe)
                .args(["w2-child", name, base])
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| format!("starting the W2 child: {e}"))?;
            let text = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                return Err(format!("W2 {name}: child failed ({}): {text}", output.status));
            }
            let line: Value = serde_json::from_str(text.trim()).map_err(|e| format!("W2 {name}: {e}: {text}"))?;
            let field = |key: &str| line[key].as_f64().unwrap_or_default();
            if line["checksum"].as_u64() != Some(ready.checksum)
                || line["decoded_bytes"].as_u64() != Some(ready.decoded_bytes)
            {
                return Err(format!("W2 {name}: the decoded images differ from the served ones: {line}"));
            }
            let decoded = ready.decoded_bytes as f64;
            row.insert(
                name.to_owned(),
                json!({
                    "wall_ms": field("wall_ms"),
                    "decoded_gbps": decoded / (field("wall_ms") / 1e3) / 1e9,
                    "peak_rss_bytes": field("peak_rss_bytes"),
                    "start_rss_bytes": field("start_rss_bytes"),
                    "peak_rss_per_decoded_byte": field("peak_rss_bytes") / decoded,
                    // What the call added to the process it ran in (the runtime and the binary left out).
                    "added_rss_per_decoded_byte": (field("peak_rss_bytes") - field("start_rss_bytes")) / decoded,
                }),
            );
        }
        eprintln!(
            "  W2 round {}/{rounds}: {}",
            round + 1,
            names
                .iter()
                .map(|name| format!(
                    "{name} {:.0} ms peak {:.0} MiB",
                    row[*name]["wall_ms"].as_f64().unwrap_or_default(),
                    row[*name]["peak_rss_bytes"].as_f64().unwrap_or_default() / 1048576.0
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        measured.push(Value::Object(row));
    }
    Ok(json!({ "rounds": measured }))
}
