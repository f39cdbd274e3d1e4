//! Exit codes, and failures told as one paragraph: what failed, the service's code and message,
//! the request id, and a hint where one helps.

use std::fmt;
use std::io;
use std::path::Path;

use seedream_types::{ModeratedInput, Moderation};
use serde::{Deserialize, Serialize};

/// Why a request failed as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// `invalid`, `not-json`, `input`, `api`, `timeout`, `transport`, `decode`, `io`, `config`.
    pub kind: String,
    /// The exit status this error alone would give.
    pub exit_code: u8,
    /// What failed.
    pub message: String,
    /// HTTP status, for API errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The service's code, for API errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The service's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The `X-Client-Request-Id` the call sent (also for timeouts and failed connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// Each violated rule, as `field: rule`, for invalid requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<String>,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// For a moderation refusal: what it was about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ModerationRecord>,
}

/// What moderation refused, as the manifest and `--json` record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationRecord {
    /// `prompt`, `input_image`, `output_image`, or `unnamed` when the service did not say.
    pub input: String,
    /// The image's 0-based index: in the request's `image` list (the order of `--image`), or in the
    /// answer's images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The refused input image as it was given (a file name or URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The code's suffix: `PrivacyInformation` (real faces), `PolicyViolation` (copyright).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ModerationRecord {
    /// The record of what the client read from the answer.
    pub fn of(moderation: &Moderation) -> Self {
        let (input, index) = match moderation.input {
            ModeratedInput::Prompt => ("prompt", None),
            ModeratedInput::InputImage { index } => ("input_image", index),
            ModeratedInput::OutputImage { index } => ("output_image", index),
            _ => ("unnamed", None),
        };
        Self { input: input.to_owned(), index, file: None, reason: moderation.reason.clone() }
    }

    /// What was refused, in words: `the prompt`, `input image cat.png (index 1)`, `generated image 2`.
    pub fn subject(&self) -> String {
        match (self.input.as_str(), self.index, &self.file) {
            ("prompt", ..) => "the prompt".into(),
            ("input_image", Some(index), Some(file)) => format!("input image {file} (index {index})"),
            ("input_image", Some(index), None) => format!("input image {index}"),
            ("input_image", None, _) => "an input image".into(),
            ("output_image", Some(index), _) => format!("generated image {index}"),
            ("output_image", None, _) => "the generated images".into(),
            _ => "the request's content".into(),
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        let why = match self.reason.as_deref() {
            Some("PrivacyInformation") => "it shows a real person's face: ",
            Some("PolicyViolation") => "it may infringe copyright: ",
            _ => "",
        };
        let which = match (&self.file, self.index) {
            (Some(file), _) => file.clone(),
            (None, Some(index)) => format!("input image {index}"),
            (None, None) => "the refused image".into(),
        };
        match self.input.as_str() {
            "prompt" => "rephrase the prompt; retrying the same words will not pass".into(),
            "input_image" => format!("{why}use another image in place of {which}"),
            "output_image" => "rephrase the prompt to get other images".into(),
            _ => "rephrase the prompt or use other images".into(),
        }
    }
}

/// The documented exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// 0: everything succeeded.
    Success,
    /// 1: a local file could not be read or written, or is not JSON / not an image.
    Local,
    /// 2: bad usage, or a request that breaks the model's rules (nothing was sent).
    Invalid,
    /// 3: the service refused the request (4xx: key, access, model, parameters, moderation, quota).
    Refused,
    /// 4: the service or the network failed (5xx, rate limit after retries, time-outs, bad answers).
    Unavailable,
    /// 5: partly done: some images of a group or some batch lines failed; the rest is saved.
    Partial,
    /// 130: interrupted with Ctrl-C; every saved file is complete.
    Interrupted,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Local => 1,
            Exit::Invalid => 2,
            Exit::Refused => 3,
            Exit::Unavailable => 4,
            Exit::Partial => 5,
            Exit::Interrupted => 130,
        }
    }
}

/// A failure to report: its exit status and the lines of its paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit status it leads to.
    pub exit: Exit,
    /// Short machine-readable kind: `input`, `output`, `usage`, `invalid`, `not-json`, `api`,
    /// `timeout`, `transport`, `decode`, `config`.
    pub kind: &'static str,
    /// What failed, in one sentence.
    pub message: String,
    /// Further lines (the violations of an invalid request), printed under the message.
    pub details: Vec<String>,
    /// What to do about it, when something helps.
    pub hint: Option<String>,
    /// The service's answer, for API errors (boxed: failures travel in `Result`s).
    pub api: Option<Box<ApiInfo>>,
    /// The `X-Client-Request-Id` of the failed call, when one was sent (boxed: failures stay small).
    pub client_request_id: Option<Box<str>>,
}

/// What the service said, for API errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiInfo {
    /// HTTP status (200 for an error inside a stream).
    pub status: u16,
    /// The service's code, such as `InvalidParameter` (empty for a non-JSON error page).
    pub code: String,
    /// The service's request id.
    pub request_id: Option<String>,
    /// For a moderation refusal: what it was about.
    pub moderation: Option<ModerationRecord>,
}

impl Failure {
    /// A failure with a message and no details.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        let kind = match exit {
            Exit::Local => "input",
            Exit::Invalid => "usage",
            Exit::Refused | Exit::Unavailable => "api",
            Exit::Success | Exit::Partial | Exit::Interrupted => "other",
        };
        Self {
            exit,
            kind,
            message: message.into(),
            details: Vec::new(),
            hint: None,
            api: None,
            client_request_id: None,
        }
    }

    /// Names a refused input image by what the request's `image` held (`recorded`: the request as
    /// the manifest records it, with files as given), and says so in the message and hint.
    pub fn naming_inputs(mut self, recorded: &serde_json::Value) -> Self {
        let Some(moderation) = self.api.as_mut().and_then(|api| api.moderation.as_mut()) else { return self };
        let given: Vec<&str> = match recorded.get("image") {
            Some(serde_json::Value::String(one)) => vec![one.as_str()],
            Some(serde_json::Value::Array(items)) => items.iter().map(|v| v.as_str().unwrap_or("")).collect(),
            _ => Vec::new(),
        };
        let file = moderation
            .index
            .filter(|_| moderation.input == "input_image")
            .and_then(|index| given.get(index))
            // Data URLs (a batch line's inlined bytes) name nothing.
            .filter(|name| !name.is_empty() && !name.starts_with("data:"));
        if let Some(file) = file {
            let before = moderation.subject();
            moderation.file = Some((*file).to_owned());
            self.message = self.message.replacen(&before, &moderation.subject(), 1);
            self.hint = Some(moderation.hint());
        }
        self
    }

    /// Names the call that failed by its `X-Client-Request-Id`.
    pub fn with_client_request_id(mut self, id: Option<String>) -> Self {
        self.client_request_id = id.map(String::into_boxed_str);
        self
    }

    /// Sets the kind.
    pub fn with_kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    /// Prints the failure (and with `--json` its record on stdout) and returns its exit status.
    pub fn report(&self, out: &crate::output::Output) -> Exit {
        if out.json {
            out.json_line(
                &serde_json::json!({ "status": "failed", "exit_code": self.exit.code(), "error": self.record() }),
            );
        }
        out.error(&self.to_string());
        self.exit
    }

    /// The failure as the manifest records it.
    pub fn record(&self) -> ErrorRecord {
        ErrorRecord {
            kind: self.kind.to_owned(),
            exit_code: self.exit.code(),
            message: self.message.clone(),
            status: self.api.as_ref().map(|api| api.status),
            code: self.api.as_ref().map(|api| api.code.clone()).filter(|code| !code.is_empty()),
            request_id: self.api.as_ref().and_then(|api| api.request_id.clone()),
            client_request_id: self.client_request_id.as_deref().map(str::to_owned),
            violations: if self.kind == "invalid" { self.details.clone() } else { Vec::new() },
            hint: self.hint.clone(),
            moderation: self.api.as_ref().and_then(|api| api.moderation.clone()),
        }
    }

    /// Exit 1: a local input or output problem.
    pub fn local(message: impl Into<String>) -> Self {
        Self::new(Exit::Local, message)
    }

    /// Exit 2: bad usage.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Invalid, message)
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a detail line.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.push(detail.into());
        self
    }

    /// A file that could not be read (exit 1).
    pub fn read(what: &str, path: &Path, error: &io::Error) -> Self {
        Self::local(format!("cannot read {what} {}: {}", path.display(), io_reason(error)))
    }

    /// An output directory or file that could not be written (exit 1).
    pub fn write(path: &Path, error: &io::Error) -> Self {
        let hint = if error.kind() == io::ErrorKind::StorageFull {
            "free some space on that disk, or choose a directory on another one with --out"
        } else {
            "choose a writable directory with --out"
        };
        Self::local(format!("cannot write to {}: {}", path.display(), io_reason(error)))
            .with_kind("output")
            .with_hint(hint)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for detail in &self.details {
            write!(f, "\n  {detail}")?;
        }
        if let Some(id) = self.api.as_ref().and_then(|api| api.request_id.as_deref())
            && !self.message.contains(id)
        {
            write!(f, "\n  request id: {id}")?;
        }
        if let Some(id) = &self.client_request_id {
            write!(f, "\n  client request id: {id}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

/// An I/O error in words, without the `(os error N)` tail.
pub fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::IsADirectory => "it is a directory".into(),
        io::ErrorKind::NotADirectory => "a part of the path is not a directory".into(),
        io::ErrorKind::AlreadyExists => "it already exists".into(),
        io::ErrorKind::StorageFull => "the disk is full (no space left on the device)".into(),
        io::ErrorKind::QuotaExceeded => "the disk quota is used up".into(),
        io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_owned(),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_one_paragraph_with_details_and_hint() {
        let failure =
            Failure::usage("the request is invalid").with_detail("size: must be 2K or 4K").with_hint("use --size 2K");
        assert_eq!(failure.to_string(), "error: the request is invalid\n  size: must be 2K or 4K\nhint: use --size 2K");
        assert_eq!(failure.exit.code(), 2);
    }

    #[test]
    fn io_errors_read_as_words() {
        let error = io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&error), "no such file or directory");
        let failure = Failure::read("image", Path::new("x.png"), &error);
        assert_eq!(failure.message, "cannot read image x.png: no such file or directory");
        assert_eq!(failure.exit, Exit::Local);
    }

    #[test]
    fn a_full_disk_says_so() {
        // ENOSPC is 28 on Linux and the BSDs.
        let full = io::Error::from_raw_os_error(28);
        let failure = Failure::write(Path::new("out/a.jpg"), &full);
        assert_eq!(failure.message, "cannot write to out/a.jpg: the disk is full (no space left on the device)");
        assert!(failure.hint.unwrap().contains("free some space"));
    }
}
