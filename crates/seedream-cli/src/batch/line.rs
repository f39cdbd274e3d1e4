//! One line of a batch: read and checked ([`prepare`]), claimed, held to the limiter and the budget,
//! sent and saved under `--timeout` ([`run_line`]), and what became of it ([`Ended`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use seedream_client::{Client, Error, StagedResponse};
use seedream_types::{ErrorClass, GenerateRequest};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::args::CallArgs;
use crate::budget::{Budget, bought, most_images};
use crate::claim::{self, Claim, Claimed};
use crate::failure::Failure;
use crate::identity::request_key;
use crate::input;
use crate::journal;
use crate::limiter::Limiter;
use crate::manifest::{LineRecord, Outcome, Status, now_rfc3339, redact};
use crate::request::{RequestError, check_value_with, parse_json, parse_unchecked};
use crate::run::timed_out;
use crate::save::{Target, requested_format, save_response, stamp};
use crate::service::describe;

/// One request line of the file.
#[derive(Debug, Clone)]
pub struct Line {
    /// 1-based line number in the file.
    pub number: u64,
    pub text: String,
    pub hash: String,
    /// Identical requests before this one in the file (a second copy of a line is a second result).
    pub occurrence: usize,
    /// The request key (from the request as it will be sent, and the service).
    pub key: String,
}

/// A line made ready to send.
#[derive(Debug)]
pub struct Prepared {
    /// The request, defaults applied, local images inlined as data URLs.
    pub request: GenerateRequest,
    /// What the manifest records: the line's JSON without secrets or bulk (local images by path).
    pub recorded: Value,
    /// The body as sent.
    pub sent: Value,
    /// Advice that does not stop the line (a field one typo from a known one), shown once per run.
    pub warnings: Vec<String>,
}

/// Reads one line: JSON, local images (relative to `base`) inlined, the default model filled in,
/// checked against the model's rules unless `validate` is false. The error carries what to record.
#[allow(clippy::result_large_err)] // one per line, moved once: boxing would buy nothing
pub fn prepare(text: &str, number: u64, base: &Path, validate: bool) -> Result<Prepared, (Value, Failure)> {
    let value = match parse_json(text) {
        Ok(value) => value,
        Err(error) => {
            let reason = match error {
                RequestError::NotJson(reason) => reason,
                RequestError::Invalid(invalid) => invalid.to_string(),
            };
            let failure = Failure::usage(format!("line {number} is not JSON: {reason}")).with_kind("not-json");
            return Err((Value::String(short(text)), failure));
        }
    };
    let recorded = redact(&value);
    let mut value = match inline_images(value, base) {
        Ok(value) => value,
        Err(failure) => return Err((recorded, failure)),
    };
    crate::catalog::current().resolve_family_key(&mut value);
    let default_model = crate::catalog::current().line_default();
    let checked = if validate {
        check_value_with(value, Some(&default_model), &crate::catalog::current().catalog)
            .map(|checked| (checked.request, checked.warnings.iter().map(ToString::to_string).collect()))
    } else {
        parse_unchecked(value, Some(&default_model)).map(|request| (request, Vec::new()))
    };
    match checked {
        Ok((request, mut warnings)) => {
            let sent = serde_json::to_value(&request).unwrap_or(Value::Null);
            warnings.extend(crate::catalog::current().model_typo_note(&request.model));
            Ok(Prepared { request, recorded, sent, warnings })
        }
        Err(RequestError::Invalid(invalid)) => {
            let model = recorded.get("model").and_then(Value::as_str).unwrap_or(&default_model).to_owned();
            let failure = describe(&Error::Validation(invalid), Some(&model), "");
            Err((recorded, failure))
        }
        Err(RequestError::NotJson(reason)) => Err((recorded, Failure::usage(reason).with_kind("not-json"))),
    }
}

/// What every worker shares.
#[derive(Debug, Clone)]
pub struct Context {
    pub client: Client,
    pub out_dir: PathBuf,
    /// Relative image paths in lines are relative to the JSONL file.
    pub base_dir: PathBuf,
    pub service: String,
    /// The service part of request keys.
    pub service_id: String,
    pub limiter: Limiter,
    pub slots: Arc<Semaphore>,
    /// Set when a line hits an error no other line can avoid (key, quota, disk): nothing new starts.
    pub stop: Arc<AtomicBool>,
    /// Check each line against the model's rules before sending (off with --no-validate).
    pub validate: bool,
    /// The embedded emulator answers: the images are synthetic (a line is also synthetic when its
    /// answer says an emulator made it).
    pub synthetic: bool,
    /// `--timeout` and friends.
    pub call: CallArgs,
    /// `--image-budget`: what this run may still buy.
    pub budget: Option<Budget>,
    /// Digits of the file's line count: line numbers in file names are zero-padded to it.
    pub width: usize,
}

/// A finished line: its record, and whether the error means the batch must stop.
#[derive(Debug)]
pub struct Finished {
    pub number: u64,
    pub record: LineRecord,
    pub fatal: Option<Failure>,
    /// The line's claim, held until its record is in the journal.
    pub claim: Option<Claim>,
}

/// What became of a line this run sent to a worker.
#[derive(Debug)]
pub enum Ended {
    /// Run here.
    Ran(Box<Finished>),
    /// Another run holds its claim (buying it now; its pid when known), or finished it since this
    /// run started: not sent, not recorded.
    Elsewhere { number: u64, pid: Option<u32>, done: bool },
}

/// Runs one line: prepare, claim its key, wait for the limiter, call, save, all under `--timeout`.
/// `None` when the batch was stopped before the line was sent.
pub async fn run_line(context: &Context, line: Line) -> Option<Ended> {
    let record = |request: Value, key: String, outcome: Outcome, synthetic: bool| LineRecord {
        hash: line.hash.clone(),
        key,
        service: context.service.clone(),
        synthetic,
        finished_at: now_rfc3339(),
        request,
        outcome,
        extra: serde_json::Map::new(),
    };
    let Prepared { request, recorded, sent, .. } =
        match prepare(&line.text, line.number, &context.base_dir, context.validate) {
            Ok(prepared) => prepared,
            Err((recorded, failure)) => {
                let outcome = Outcome::failed(failure.record());
                return Some(Ended::Ran(Box::new(Finished {
                    number: line.number,
                    record: record(recorded, line.key.clone(), outcome, context.synthetic),
                    fatal: None,
                    claim: None,
                })));
            }
        };
    // The key of what is sent now (the same as computed at start unless an image file changed since).
    let key = request_key(&sent, &context.service_id, line.occurrence);
    drop(sent);
    // Ours alone from here until the result is journaled: a second run on this folder skips it.
    let claim = match claim::try_claim(&context.out_dir, &key) {
        Ok(Claimed::Ours(claim)) => claim,
        Ok(Claimed::Elsewhere(pid)) => return Some(Ended::Elsewhere { number: line.number, pid, done: false }),
        Err(failure) => {
            context.stop.store(true, Ordering::SeqCst);
            let outcome = Outcome::failed(failure.record());
            let record = record(recorded, key, outcome, context.synthetic);
            return Some(Ended::Ran(Box::new(Finished {
                number: line.number,
                record,
                fatal: Some(failure),
                claim: None,
            })));
        }
    };
    // A run that held the claim may have finished the line since this run read the journal.
    if journal::fold(&context.out_dir).is_ok_and(|folded| folded.is_done(&key, &context.out_dir)) {
        return Some(Ended::Elsewhere { number: line.number, pid: None, done: true });
    }
    // Held before anything is sent, so that lines running at once never start more than the budget.
    let reservation = match &context.budget {
        None => None,
        Some(budget) => {
            let most = most_images(&request);
            match budget.reserve(most).await {
                Some(reservation) => Some(reservation),
                None => {
                    let message = format!(
                        "--image-budget: the line may make up to {} and the budget has {} left",
                        crate::output::count(most, "image"),
                        budget.left()
                    );
                    let mut outcome = Outcome::empty();
                    outcome.error = Some(
                        Failure::usage(message)
                            .with_kind("budget")
                            .with_hint("run the batch again (with a new --image-budget) to run it")
                            .record(),
                    );
                    outcome.status = Status::NotRun;
                    let record = record(recorded, key, outcome, context.synthetic);
                    return Some(Ended::Ran(Box::new(Finished {
                        number: line.number,
                        record,
                        fatal: None,
                        claim: Some(claim),
                    })));
                }
            }
        }
    };
    context.limiter.acquire(u32::try_from(request.max_output_images()).unwrap_or(u32::MAX)).await;
    if context.stop.load(Ordering::SeqCst) {
        if let Some(reservation) = reservation {
            reservation.settle(0);
        }
        return None;
    }
    let stem = stem_for(&context.out_dir, line.number, context.width, &key);
    let stamp = stamp(&request.prompt, &request.model, request.seed, context.synthetic);
    let target = Target {
        dir: &context.out_dir,
        stem: &stem,
        service: &context.service,
        requested: requested_format(request.output_format.as_ref()),
        provenance: Some(&stamp),
        model: &request.model,
        layers: request.is_layer_decomposition(),
    };
    let mut outcome = Outcome::empty();
    let mut fatal = None;
    let mut synthetic = context.synthetic;
    let sending = send(&context.client, &request, target, &mut outcome, &mut synthetic);
    let sent = tokio::time::timeout(context.call.timeout, sending).await;
    let result = match sent {
        Ok(result) => result,
        Err(_) => {
            let phase = if outcome.request_id.is_some() {
                "downloading and saving the images"
            } else {
                "waiting for the answer"
            };
            Err((timed_out(&context.call, phase).with_client_request_id(outcome.client_request_id.clone()), None))
        }
    };
    if let Err((failure, class)) = result {
        let failure = failure.naming_inputs(&recorded);
        let stops = failure.kind == "output"
            || matches!(class, Some(ErrorClass::Authentication | ErrorClass::Forbidden | ErrorClass::QuotaExhausted));
        outcome.error = Some(failure.record());
        if stops {
            // Set here, before this worker's slot is free, so that no queued line starts.
            context.stop.store(true, Ordering::SeqCst);
            fatal = Some(failure);
        }
    }
    outcome.settle();
    if let Some(reservation) = reservation {
        let spent = bought(&outcome, reservation.images());
        reservation.settle(spent);
    }
    let record = record(recorded, key, outcome, synthetic);
    Some(Ended::Ran(Box::new(Finished { number: line.number, record, fatal, claim: Some(claim) })))
}

/// File names of a line: `line{N}-{key}-{tag}`, N zero-padded to the file's line count (names sort by
/// line), the key's first 8 digits, and 4 random hex digits so that a rerun of the same request never
/// overwrites an earlier run's files.
fn stem_for(dir: &Path, number: u64, width: usize, key: &str) -> String {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let key = &key[..key.len().min(8)];
    loop {
        let stem = format!("line{number:0width$}-{key}-{:04x}", fastrand::u16(..));
        if !names.iter().any(|name| name.starts_with(&format!("{stem}-")) || name.starts_with(&format!("{stem}."))) {
            return stem;
        }
    }
}

async fn send(
    client: &Client,
    request: &GenerateRequest,
    target: Target<'_>,
    outcome: &mut Outcome,
    synthetic: &mut bool,
) -> Result<(), (Failure, Option<ErrorClass>)> {
    let model = Some(request.model.as_str());
    // Chosen and recorded before sending, as `run::call` does.
    let id = seedream_client::new_client_request_id();
    let client = &client.with_client_request_id(&id).map_err(|e| (describe(&e, model, target.service), None))?;
    outcome.client_request_id = Some(id);
    // `b64_json` images go into temporary files as the answer arrives (see `run::call`).
    let staged = client
        .generate(request)
        .stage_in(target.dir)
        .await
        .map_err(|e| (describe(&e, model, target.service), e.api().map(|api| api.class)))?;
    let StagedResponse { response, images, meta, .. } = staged;
    // An emulator reached by `--base-url` says so in its answer.
    *synthetic |= meta.synthetic;
    outcome.request_id = meta.request_id;
    outcome.attempts = Some(meta.attempts);
    save_response(client, target, response, images, outcome, |_| {}).await.map_err(|failure| (failure, None))
}

/// Replaces local file names in `image` with data URLs (relative to the JSONL file).
pub fn inline_images(mut value: Value, base: &Path) -> Result<Value, Failure> {
    let Some(image) = value.get_mut("image") else { return Ok(value) };
    match image {
        Value::String(text) => *text = input::image_value(text, Some(base))?,
        Value::Array(items) => {
            for item in items {
                if let Value::String(text) = item {
                    *text = input::image_value(text, Some(base))?;
                }
            }
        }
        _ => {}
    }
    Ok(value)
}

fn short(text: &str) -> String {
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text.to_owned()
    }
}
