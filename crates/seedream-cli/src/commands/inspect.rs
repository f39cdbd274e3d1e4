//! `seedream inspect`: what an image file carries — its format and size, and the provenance the
//! command (or the emulator) wrote into it — read without decoding the pixels.

use std::path::{Path, PathBuf};

use clap::Args;
use seedream_types::image::{read_dimensions, sniff_format};
use seedream_types::provenance::{self, Provenance, ProvenanceError};
use serde::Serialize;
use serde_json::{Value, json};

use crate::failure::{Exit, io_reason};
use crate::output::Output;

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream inspect seedream-out/a-lighthouse-at-dawn-20261129-134000-0.jpg
  seedream inspect seedream-out/*.png --json

Prints each file's prompt, model, size, seed, request id, time, whether it is synthetic (made by
the emulator) and the tool that saved it, or says that the file carries no seedream provenance.
Exit status: 0 every file could be read (with or without provenance); 1 a file is missing,
unreadable, damaged, or not a JPEG or PNG.";

/// Options of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image files (JPEG or PNG).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// What one file carries.
#[derive(Debug, Serialize)]
struct Report {
    file: String,
    /// `provenance` (ours is there), `none` (a JPEG or PNG without it), `error` (unreadable, damaged,
    /// not an image).
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Runs the command; the exit status is 0 when every file could be read (with or without
/// provenance), 1 when any could not (missing, unreadable, damaged, not a JPEG or PNG).
pub fn run(args: &InspectArgs, out: &Output) -> Exit {
    let reports: Vec<Report> = args.files.iter().map(|file| inspect(file)).collect();
    let exit = if reports.iter().any(|r| r.status == "error") { Exit::Local } else { Exit::Success };
    if out.json {
        out.json_line(&json!({ "exit_code": exit.code(), "files": reports }));
        return exit;
    }
    for (at, report) in reports.iter().enumerate() {
        if at > 0 {
            out.line("");
        }
        print(out, report);
    }
    exit
}

fn inspect(path: &Path) -> Report {
    let mut report = Report {
        file: path.display().to_string(),
        status: "error",
        format: None,
        width: None,
        height: None,
        provenance: None,
        error: None,
    };
    // Bounded like any image read: a FIFO or `/dev/zero` given here must not hang or fill memory.
    let bytes = match crate::input::read_image_file(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            report.error = Some(format!("cannot read it: {}", io_reason(&error)));
            return report;
        }
    };
    report.format = sniff_format(&bytes).map(|f| f.as_str());
    if let Some((_, dims)) = read_dimensions(&bytes) {
        (report.width, report.height) = (Some(dims.width), Some(dims.height));
    }
    match provenance::read(&bytes) {
        Ok(Some(record)) => {
            report.status = "provenance";
            report.provenance = Some(record_json(&record));
        }
        Ok(None) => report.status = "none",
        Err(ProvenanceError::UnsupportedFormat) => {
            report.error = Some(match report.format {
                Some(format) => format!("a {format} file: only JPEG and PNG carry seedream provenance"),
                None => "not a JPEG or PNG image".to_owned(),
            });
        }
        Err(error) => report.error = Some(error.to_string()),
    }
    report
}

fn record_json(record: &Provenance) -> Value {
    json!({
        "prompt": record.prompt,
        "model": record.model,
        "size": record.size,
        "seed": record.seed,
        "request_id": record.request_id,
        "created": if record.created.is_empty() { None } else { Some(&record.created) },
        "synthetic": record.synthetic,
        "tool": record.tool,
    })
}

fn print(out: &Output, report: &Report) {
    let shape = match (report.format, report.width, report.height) {
        (Some(format), Some(w), Some(h)) => format!("{}, {w}x{h}", format.to_ascii_uppercase()),
        (Some(format), _, _) => format.to_ascii_uppercase(),
        _ => String::new(),
    };
    match (report.status, &report.provenance) {
        ("provenance", Some(record)) => {
            out.line(&format!("{}: {shape}, seedream provenance", report.file));
            let field = |name: &str| match &record[name] {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            };
            let rows = [
                ("prompt", field("prompt")),
                ("model", field("model").filter(|m| !m.is_empty())),
                ("size", field("size")),
                ("seed", field("seed")),
                ("request id", field("request_id")),
                ("created", field("created")),
                (
                    "synthetic",
                    Some(if record["synthetic"] == true { "yes (not made by the service)" } else { "no" }.into()),
                ),
                ("tool", field("tool")),
            ];
            for (name, value) in rows {
                if let Some(value) = value {
                    // A prompt's line breaks are kept, indented under the label.
                    out.line(&format!("  {:<11} {}", format!("{name}:"), value.replace('\n', "\n              ")));
                }
            }
        }
        ("none", _) => out.line(&format!("{}: {shape}, no seedream provenance", report.file)),
        _ => out.error(&format!(
            "seedream: {}: {}",
            report.file,
            report.error.as_deref().unwrap_or("cannot be inspected")
        )),
    }
}
