//! `seedream validate`: checks request files with the seedream-types rules, without any network. A
//! request file and each line of a batch file (`.jsonl`, `.ndjson`, or any file with `--batch`) are
//! read as `seedream batch` reads a line: a missing model is the default one, local image paths are
//! relative to the file and must be images.

use std::io::Read as _;
use std::path::Path;

use clap::Args;
use seedream_types::Violation;
use serde::Serialize;

use crate::failure::{Exit, io_reason};
use crate::output::{Output, count};
use crate::request::{RequestError, check_value_with, parse_json};

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream validate request.json
  seedream validate a.json b.json prompts.jsonl --json
  echo '{\"model\": \"doubao-seedream-4-5-251128\", \"prompt\": \"x\", \"size\": \"1K\"}' | seedream validate -
  (the last one is invalid, exit 2: Seedream 4.5 takes no 1K)

Each violation is printed as `field.path: rule`. A request is read as `seedream batch` reads a line:
\"model\" may be left out (the default is Seedream 4.0) and \"image\" may name local files, relative
to the request's file. Batch files (ending in .jsonl or .ndjson, or any file with --batch) are
checked line by line, each problem as `FILE: line N: field: rule`. Exit status: 0 every file
is valid; 2 a file or line is invalid; 1 a file cannot be read (or a single request is not JSON).";

/// Options of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Request files (JSON, or JSONL by extension); `-` or nothing reads standard input.
    #[arg(value_name = "FILE|-")]
    pub files: Vec<String>,
    /// Read every file as a batch file (JSONL) whatever its name, with the batch's defaults: a missing
    /// "model" is Seedream 4.0, local image paths are relative to the file and must be images
    #[arg(long)]
    pub batch: bool,
}

/// The verdict on one request (a file, or one line of a JSONL file).
#[derive(Debug, Serialize)]
struct Report {
    /// The file name (`-` for standard input).
    file: String,
    /// The line, for JSONL files.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    /// `valid`, `invalid` or `error` (cannot read / not JSON).
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    violations: Vec<ViolationJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<ViolationJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// What to do about an error, when something helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

#[derive(Debug, Serialize)]
struct ViolationJson {
    field: String,
    code: &'static str,
    message: String,
}

impl From<Violation> for ViolationJson {
    fn from(v: Violation) -> Self {
        Self { field: v.field, code: v.code, message: v.message }
    }
}

/// Runs the command; returns the exit status: 0 all valid, 2 any invalid, 1 any unreadable or not JSON.
pub fn run(args: &ValidateArgs, out: &Output) -> Exit {
    let files = if args.files.is_empty() { vec!["-".to_owned()] } else { args.files.clone() };
    let mut reports = Vec::new();
    for file in &files {
        check_file(file, args.batch, &mut reports);
    }
    let exit = if reports.iter().any(|r| r.status == "error") {
        Exit::Local
    } else if reports.iter().any(|r| r.status == "invalid") {
        Exit::Invalid
    } else {
        Exit::Success
    };
    if out.json {
        let valid = exit == Exit::Success;
        out.json_line(&serde_json::json!({ "valid": valid, "exit_code": exit.code(), "results": reports }));
    } else {
        for (at, report) in reports.iter().enumerate() {
            print_report(out, report);
            let last_of_file = reports.get(at + 1).is_none_or(|next| next.file != report.file);
            if last_of_file {
                print_batch_summary(out, &report.file, &reports);
            }
        }
    }
    exit
}

fn check_file(file: &str, batch: bool, reports: &mut Vec<Report>) {
    let text = match read(file) {
        Ok(text) => text,
        Err(reason) => {
            reports.push(Report::error(file, None, reason));
            return;
        }
    };
    let lower = file.to_ascii_lowercase();
    if batch || lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        let base = if file == "-" { Path::new("") } else { Path::new(file).parent().unwrap_or(Path::new("")) };
        let mut any = false;
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            any = true;
            reports.push(check_line(file, Some(index + 1), line, base));
        }
        if !any {
            reports.push(Report::error(file, None, "holds no request (every line is blank)".into()));
        }
    } else {
        let base = if file == "-" { Path::new("") } else { Path::new(file).parent().unwrap_or(Path::new("")) };
        let mut report = check_line(file, None, &text, base);
        if report.status == "error" && is_json_lines(&text) {
            report.hint = Some(format!(
                "it holds one request per line: check it as a batch file with `seedream validate --batch {file}`"
            ));
        }
        reports.push(report);
    }
}

/// Whether `text` is two or more lines that are each a JSON object (JSONL without its extension).
fn is_json_lines(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
    lines.len() > 1
        && lines.iter().all(|line| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line).is_ok())
}

/// One request (a file, or a batch line when `number` is given), as `seedream batch` would send it:
/// the default model filled in, local images read (relative to the request's file) and checked to be
/// images, then the model's rules.
fn check_line(file: &str, number: Option<usize>, text: &str, base: &Path) -> Report {
    let value = match parse_json(text) {
        Ok(value) => value,
        Err(error) => return Report::of(file, number, Err(error)),
    };
    let mut value = match crate::batch::inline_images(value, base) {
        Ok(value) => value,
        Err(failure) => {
            let violation = ViolationJson { field: "image".into(), code: "image", message: failure.message };
            return Report::invalid(file, number, vec![violation]);
        }
    };
    let models = crate::catalog::current();
    models.resolve_family_key(&mut value);
    Report::of(file, number, check_value_with(value, Some(&models.line_default()), &models.catalog))
}

fn read(file: &str) -> Result<String, String> {
    let bytes = if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {}", io_reason(&e)))?;
        bytes
    } else {
        std::fs::read(Path::new(file)).map_err(|e| format!("cannot read the file: {}", io_reason(&e)))?
    };
    String::from_utf8(bytes).map_err(|_| "is not JSON: it is not UTF-8 text".to_owned())
}

impl Report {
    fn invalid(file: &str, line: Option<usize>, violations: Vec<ViolationJson>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            status: "invalid",
            violations,
            warnings: Vec::new(),
            error: None,
            hint: None,
        }
    }

    fn error(file: &str, line: Option<usize>, error: String) -> Self {
        Self {
            file: file.to_owned(),
            line,
            status: "error",
            violations: Vec::new(),
            warnings: Vec::new(),
            error: Some(error),
            hint: None,
        }
    }

    fn of(file: &str, line: Option<usize>, result: Result<crate::request::Checked, RequestError>) -> Self {
        match result {
            Ok(checked) => Self {
                file: file.to_owned(),
                line,
                status: "valid",
                violations: Vec::new(),
                warnings: checked.warnings.into_iter().map(Into::into).collect(),
                error: None,
                hint: None,
            },
            // A batch line that is not JSON cannot run: the line is invalid (the file is readable).
            Err(RequestError::NotJson(reason)) if line.is_some() => Self::invalid(
                file,
                line,
                vec![ViolationJson {
                    field: "(line)".into(),
                    code: "not_json",
                    message: format!("is not JSON: {reason}"),
                }],
            ),
            Err(RequestError::NotJson(reason)) => Self::error(file, line, format!("is not JSON: {reason}")),
            Err(RequestError::Invalid(error)) => Self {
                file: file.to_owned(),
                line,
                status: "invalid",
                violations: error.violations.into_iter().map(Into::into).collect(),
                warnings: error.warnings.into_iter().map(Into::into).collect(),
                error: None,
                hint: None,
            },
        }
    }
}

fn print_report(out: &Output, report: &Report) {
    let file = if report.file == "-" { "(stdin)" } else { report.file.as_str() };
    if let Some(line) = report.line {
        // Batch lines: only the problems, each as `file: line N: field: rule`.
        for v in &report.violations {
            out.line(&format!("{file}: line {line}: {}: {}", v.field, v.message));
        }
        for w in &report.warnings {
            out.line(&format!("{file}: line {line}: warning: {}: {}", w.field, w.message));
        }
        if let Some(error) = &report.error {
            out.line(&format!("{file}: line {line}: {error}"));
        }
        return;
    }
    match report.status {
        "valid" => out.line(&format!("{file}: valid")),
        "invalid" => {
            out.line(&format!("{file}: invalid ({})", count(report.violations.len() as u64, "violation")));
            for v in &report.violations {
                out.line(&format!("  {}: {}", v.field, v.message));
            }
        }
        _ => out.line(&format!("{file}: error: {}", report.error.as_deref().unwrap_or("unreadable"))),
    }
    if let Some(hint) = &report.hint {
        out.line(&format!("  hint: {hint}"));
    }
    for w in &report.warnings {
        out.line(&format!("  warning: {}: {}", w.field, w.message));
    }
}

/// `file: N lines, all valid` or `file: N lines, M invalid`, after a batch file's problems.
fn print_batch_summary(out: &Output, file: &str, reports: &[Report]) {
    let lines: Vec<&Report> = reports.iter().filter(|r| r.file == file && r.line.is_some()).collect();
    if lines.is_empty() {
        return;
    }
    let name = if file == "-" { "(stdin)" } else { file };
    let invalid = lines.iter().filter(|r| r.status != "valid").count();
    let lines = count(lines.len() as u64, "line");
    if invalid == 0 {
        out.line(&format!("{name}: {lines}, all valid"));
    } else {
        out.line(&format!("{name}: {lines}, {invalid} invalid"));
    }
}
