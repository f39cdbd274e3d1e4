//! `manifest.json`: what each run produced, beside the images: generate and edit runs in `runs`, batch
//! lines in `batch.lines` by line number. It is a view, rebuilt from the append-only journal
//! (`journal.rs`) and always written atomically (never half a manifest); the journal is what resume
//! and concurrent runs rely on.

use std::collections::BTreeMap;
use std::path::Path;

use seedream_types::time::UtcTime;
use seedream_types::{BoundingBox, Usage};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::failure::ErrorRecord;
use crate::failure::Failure;
use crate::files::save_file;

/// The manifest's file name inside the output directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The whole manifest. Unknown fields (from newer versions) are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The program that wrote it last.
    #[serde(default)]
    pub generator: String,
    /// Generate and edit runs, oldest first.
    #[serde(default)]
    pub runs: Vec<RunRecord>,
    /// Batch results, when `seedream batch` wrote to this directory: the batch file run last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchSection>,
    /// The results of the other batch files run into this directory, the one run longest ago first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_batches: Vec<BatchSection>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self { generator: generator(), runs: Vec::new(), batch: None, earlier_batches: Vec::new(), extra: Map::new() }
    }
}

fn generator() -> String {
    concat!("seedream ", env!("CARGO_PKG_VERSION")).to_owned()
}

/// Batch results.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchSection {
    /// The JSONL file the lines came from (as given on the command line, last run).
    #[serde(default)]
    pub source: String,
    /// One record per line number (1-based), the latest result of that line.
    #[serde(default)]
    pub lines: BTreeMap<u64, LineRecord>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How a run or a line ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every image saved, no per-image error.
    Succeeded,
    /// Some images saved, some failed.
    Partial,
    /// Nothing saved: the request failed (see `error`) or every image failed.
    #[default]
    Failed,
    /// Stopped by Ctrl-C; the images listed are complete.
    Interrupted,
    /// Batch: not started, for the reason in `error` (`--image-budget` had no room for it); the next
    /// run of the batch runs it.
    #[serde(rename = "not_run")]
    NotRun,
}

/// The result of one request: what was saved and what failed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// How it ended.
    #[serde(default)]
    pub status: Status,
    /// The model that answered (from the response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The service's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The `X-Client-Request-Id` the call sent: names the call to support even when no answer came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// Attempts the call took (1: no retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Usage as the service reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The saved images.
    #[serde(default)]
    pub images: Vec<SavedImage>,
    /// Images the service (or the download) failed, each with its error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_images: Vec<FailedImageRecord>,
    /// Layer decomposition: the OpenRaster file holding the base image and every layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openraster: Option<String>,
    /// Layer decomposition: why the OpenRaster file could not be made (the images are saved); the
    /// run is then `partial`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openraster_error: Option<String>,
    /// Why the whole request failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorRecord>,
    /// What was odd in the answer but cost nothing (a repeated index, a layer field not as the API
    /// describes it), one sentence each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Outcome {
    /// An outcome with nothing yet (status `failed` until something is saved).
    pub fn empty() -> Self {
        Self {
            status: Status::Failed,
            model: None,
            request_id: None,
            client_request_id: None,
            attempts: None,
            usage: None,
            images: Vec::new(),
            failed_images: Vec::new(),
            openraster: None,
            openraster_error: None,
            error: None,
            warnings: Vec::new(),
        }
    }

    /// A request that failed as a whole.
    pub fn failed(error: ErrorRecord) -> Self {
        Self { error: Some(error), ..Self::empty() }
    }

    /// Sets `status` from what was saved and what failed.
    pub fn settle(&mut self) {
        let whole = self.failed_images.is_empty() && self.error.is_none() && self.openraster_error.is_none();
        self.status = match (self.images.is_empty(), whole) {
            (false, true) => Status::Succeeded,
            (false, false) => Status::Partial,
            (true, _) => Status::Failed,
        };
    }
}

/// One saved image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedImage {
    /// Its position in the response (`image_index`), from 0.
    pub index: u32,
    /// The file name, inside the output directory.
    pub file: String,
    /// `WxH` as the service reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// The file's length.
    pub bytes: u64,
    /// Layer decomposition: 0 for the base image, then 1, 2, … from the bottom up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_index: Option<i64>,
    /// Layer decomposition: where the layer sits on the base image (`absolute` in pixels,
    /// `normalized` on 0–1000), as the service sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_box: Option<BoundingBox>,
    /// Layer decomposition: the layer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Layer decomposition: what the layer shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One image that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedImageRecord {
    /// Its position in the response, from 0.
    pub index: u32,
    /// The service's code (`OutputImageSensitiveContentDetected`), or `DownloadFailed`.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// For a failed download: the link without its query (the query of a pre-signed link is its
    /// signature, a credential), to tell which image it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For an image moderation refused (`OutputImageSensitiveContentDetected`): which of the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<crate::failure::ModerationRecord>,
}

/// One generate or edit run. Every field may be missing when read back (older or hand-edited manifests).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RunRecord {
    /// Unique within the manifest; also the start of the image file names.
    pub id: String,
    /// `generate` or `edit`.
    pub command: String,
    /// When it started (UTC, RFC 3339).
    pub started_at: String,
    /// When it ended (UTC, RFC 3339).
    pub finished_at: String,
    /// The base URL used (without credentials), or `embedded emulator`; request keys use its origin.
    pub service: String,
    /// The request key: a hash of the request as sent and the service's origin (see `identity.rs`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// The images are synthetic: the embedded emulator made them, or an emulator reached by URL (its
    /// answer carried `x-emulator-synthetic`).
    #[serde(skip_serializing_if = "is_false")]
    pub synthetic: bool,
    /// The request as sent, without secrets: local images are named by path, data URLs shortened,
    /// link queries (signatures) removed.
    pub request: Value,
    /// The result.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl Default for RunRecord {
    fn default() -> Self {
        Self {
            id: String::new(),
            command: String::new(),
            started_at: String::new(),
            finished_at: String::new(),
            service: String::new(),
            key: String::new(),
            synthetic: false,
            request: Value::Null,
            outcome: Outcome::empty(),
            extra: Map::new(),
        }
    }
}

/// The latest result of one batch line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LineRecord {
    /// Hash of the line's text (FNV-1a 64, hex), for reference; resume goes by `key`.
    pub hash: String,
    /// The request key: a hash of the request as sent (defaults applied, local images by content)
    /// and the service's origin. A line whose key has a complete result is skipped on resume.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// The base URL the line went to (without credentials), or `embedded emulator`; the key uses its
    /// origin.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service: String,
    /// The images are synthetic: the embedded emulator made them, or an emulator reached by URL (its
    /// answer carried `x-emulator-synthetic`).
    #[serde(skip_serializing_if = "is_false")]
    pub synthetic: bool,
    /// When it ended (UTC, RFC 3339).
    pub finished_at: String,
    /// The request, as for runs; the raw text when the line is not JSON.
    pub request: Value,
    /// The result.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for LineRecord {
    fn default() -> Self {
        Self {
            hash: String::new(),
            key: String::new(),
            service: String::new(),
            synthetic: false,
            finished_at: String::new(),
            request: Value::Null,
            outcome: Outcome::empty(),
            extra: Map::new(),
        }
    }
}

impl Manifest {
    /// Reads `dir/manifest.json`, or an empty manifest when there is none. A file that is not a
    /// manifest is an error, not overwritten (its records would be lost).
    pub fn load(dir: &Path) -> Result<Self, Failure> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(error) => return Err(Failure::read("the manifest", &path, &error)),
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::local(format!("{} is not a seedream manifest ({e})", path.display()))
                .with_hint("move it away, or choose another directory with --out")
        })
    }

    /// Writes `dir/manifest.json` atomically.
    pub fn save(&mut self, dir: &Path) -> Result<(), Failure> {
        self.generator = generator();
        let mut text =
            serde_json::to_vec_pretty(self).map_err(|e| Failure::local(format!("cannot encode the manifest: {e}")))?;
        text.push(b'\n');
        save_file(dir, MANIFEST_FILE, &text)
    }
}

/// Hash of a batch line (FNV-1a 64 over its trimmed text), as 16 hex digits. Stable across versions.
pub fn line_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.trim().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The current time as UTC RFC 3339 (`2025-11-23T17:40:12Z`).
pub fn now_rfc3339() -> String {
    UtcTime::now().to_string()
}

/// The current time as `YYYYMMDD-HHMMSS` (UTC), for file names.
pub fn now_compact() -> String {
    UtcTime::now().compact()
}

/// A request as JSON without secrets or bulk: data URLs shortened to their format and size, and link
/// queries (which carry signatures) cut.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(redact_text(text)),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::Object(object) => Value::Object(object.iter().map(|(k, v)| (k.clone(), redact(v))).collect()),
        other => other.clone(),
    }
}

/// A request body with its data URLs abbreviated and nothing else changed (`--dry-run`).
pub fn abbreviate_data_urls(value: &Value) -> Value {
    match value {
        Value::String(text) if text.starts_with("data:") => Value::String(redact_text(text)),
        Value::Array(items) => Value::Array(items.iter().map(abbreviate_data_urls).collect()),
        Value::Object(object) => {
            Value::Object(object.iter().map(|(k, v)| (k.clone(), abbreviate_data_urls(v))).collect())
        }
        other => other.clone(),
    }
}

fn redact_text(text: &str) -> String {
    if let Some(Ok(data)) = seedream_types::DataUrl::parse(text) {
        return format!("data:image/{};base64,… ({} bytes)", data.format, data.decoded_len());
    }
    if text.starts_with("data:") && text.len() > 64 {
        return format!("{}… ({} characters)", text.chars().take(48).collect::<String>(), text.len());
    }
    if (text.starts_with("http://") || text.starts_with("https://"))
        && let Some(at) = text.find('?')
    {
        return format!("{}?…", &text[..at]);
    }
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::prepare_out_dir;
    use serde_json::json;

    #[test]
    fn times_have_their_shapes() {
        assert_eq!(now_rfc3339().len(), 20);
        assert_eq!(now_compact().len(), 15);
    }

    #[test]
    fn line_hashes_ignore_surrounding_space_only() {
        assert_eq!(line_hash(" {\"a\":1}\r"), line_hash("{\"a\":1}"));
        assert_ne!(line_hash("{\"a\":1}"), line_hash("{\"a\":2}"));
        assert_eq!(line_hash(""), "cbf29ce484222325");
    }

    #[test]
    fn redaction_shortens_data_urls_and_cuts_signatures() {
        let url = seedream_types::image::encode_data_url(seedream_types::ImageFormat::Png, &[1, 2, 3]);
        let value = json!({"image": [url, "https://x/y.png?X-Tos-Signature=secret"], "prompt": "p"});
        assert_eq!(
            redact(&value),
            json!({"image": ["data:image/png;base64,… (3 bytes)", "https://x/y.png?…"], "prompt": "p"})
        );
    }

    #[test]
    fn manifests_round_trip_and_keep_unknown_fields() {
        let dir = std::env::temp_dir().join(format!("seedream-manifest-{:x}", fastrand::u64(..)));
        prepare_out_dir(&dir).unwrap();
        assert!(Manifest::load(&dir).unwrap().runs.is_empty());
        let mut manifest = Manifest::default();
        manifest.extra.insert("future".into(), json!(1));
        let mut run = RunRecord { id: "r".into(), ..RunRecord::default() };
        run.extra.insert("later".into(), json!("kept"));
        manifest.runs.push(run);
        let mut outcome = Outcome::empty();
        outcome.images.push(SavedImage { index: 0, file: "a-0.jpeg".into(), bytes: 3, ..SavedImage::default() });
        outcome.settle();
        assert_eq!(outcome.status, Status::Succeeded);
        let line = LineRecord { hash: line_hash("x"), request: json!("x"), outcome, ..LineRecord::default() };
        manifest.batch.get_or_insert_with(Default::default).lines.insert(3, line);
        manifest.save(&dir).unwrap();
        let again = Manifest::load(&dir).unwrap();
        assert_eq!(again.extra["future"], json!(1));
        assert_eq!(again.runs[0].extra["later"], json!("kept"));
        assert_eq!(again.runs[0].id, "r");
        assert_eq!(again.batch.unwrap().lines[&3].outcome.images[0].file, "a-0.jpeg");
        std::fs::write(dir.join(MANIFEST_FILE), b"{oops").unwrap();
        assert!(Manifest::load(&dir).unwrap_err().message.contains("not a seedream manifest"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
