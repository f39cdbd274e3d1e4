//! `seedream validate`: checks request files with the seedream-types rules, without any network.

use std::io::Read as _;
use std::path::Path;

use seedream_types::Violation;
use serde::Serialize;

use crate::cli::ValidateArgs;
use crate::failure::{Exit, io_reason};
use crate::output::Output;
use crate::request::{RequestError, check_text};

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
        check_file(file, &mut reports);
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
        for report in &reports {
            print_report(out, report);
        }
    }
    exit
}

fn check_file(file: &str, reports: &mut Vec<Report>) {
    let text = match read(file) {
        Ok(text) => text,
        Err(reason) => {
            reports.push(Report::error(file, None, reason));
            return;
        }
    };
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        let mut any = false;
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            any = true;
            reports.push(Report::of(file, Some(index + 1), check_text(line, None)));
        }
        if !any {
            reports.push(Report::error(file, None, "holds no request (every line is blank)".into()));
        }
    } else {
        reports.push(Report::of(file, None, check_text(&text, None)));
    }
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
    fn error(file: &str, line: Option<usize>, error: String) -> Self {
        Self {
            file: file.to_owned(),
            line,
            status: "error",
            violations: Vec::new(),
            warnings: Vec::new(),
            error: Some(error),
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
            },
            Err(RequestError::NotJson(reason)) => Self::error(file, line, format!("is not JSON: {reason}")),
            Err(RequestError::Invalid(error)) => Self {
                file: file.to_owned(),
                line,
                status: "invalid",
                violations: error.violations.into_iter().map(Into::into).collect(),
                warnings: error.warnings.into_iter().map(Into::into).collect(),
                error: None,
            },
        }
    }
}

fn print_report(out: &Output, report: &Report) {
    let file = if report.file == "-" { "(stdin)" } else { report.file.as_str() };
    let name = match report.line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    };
    match report.status {
        "valid" => out.line(&format!("{name}: valid")),
        "invalid" => {
            let count = report.violations.len();
            out.line(&format!("{name}: invalid ({count} violation{})", if count == 1 { "" } else { "s" }));
            for v in &report.violations {
                out.line(&format!("  {}: {}", v.field, v.message));
            }
        }
        _ => out.line(&format!("{name}: error: {}", report.error.as_deref().unwrap_or("unreadable"))),
    }
    for w in &report.warnings {
        out.line(&format!("  warning: {}: {}", w.field, w.message));
    }
}
