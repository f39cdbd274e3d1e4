//! `seedream batch`: one generations request per JSONL line, run concurrently under a shared
//! images-per-minute limit; every finished line journaled durably before it is reported; resumable by
//! request key (a line whose request, sent to the same service, already has a complete result is
//! skipped, wherever it sits in the file).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use seedream_client::{Client, Error, StagedResponse};
use seedream_types::{ErrorClass, GenerateRequest};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::args::{CallArgs, GlobalArgs};
use crate::budget::{Budget, bought, most_images};
use crate::claim::{self, Claim, Claimed};
use crate::commands::batch::BatchArgs;
use crate::failure::{Exit, Failure};
use crate::files::prepare_out_dir;
use crate::identity::{request_key, text_key};
use crate::input;
use crate::interrupt::Interrupt;
use crate::journal::{self, Record};
use crate::limiter::Limiter;
use crate::manifest::{LineRecord, Outcome, Status, abbreviate_data_urls, line_hash, now_rfc3339, redact};
use crate::output::{Output, count};
use crate::request::{RequestError, check_value_with, parse_json, parse_unchecked};
use crate::run::timed_out;
use crate::save::{Target, requested_format, save_response, stamp};
use crate::service::{Service, Setup, describe};

/// While lines finish, the manifest is rebuilt from the journal at most this often, and at least
/// this long after a line finished (and at the end).
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// One request line of the file.
#[derive(Debug, Clone)]
struct Line {
    /// 1-based line number in the file.
    number: u64,
    text: String,
    hash: String,
    /// Identical requests before this one in the file (a second copy of a line is a second result).
    occurrence: usize,
    /// The request key (from the request as it will be sent, and the service).
    key: String,
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
struct Context {
    client: Client,
    out_dir: PathBuf,
    /// Relative image paths in lines are relative to the JSONL file.
    base_dir: PathBuf,
    service: String,
    /// The service part of request keys.
    service_id: String,
    limiter: Limiter,
    slots: Arc<Semaphore>,
    /// Set when a line hits an error no other line can avoid (key, quota, disk): nothing new starts.
    stop: Arc<AtomicBool>,
    /// Check each line against the model's rules before sending (off with --no-validate).
    validate: bool,
    /// The embedded emulator answers: the images are synthetic (a line is also synthetic when its
    /// answer says an emulator made it).
    synthetic: bool,
    /// `--timeout` and friends.
    call: CallArgs,
    /// `--image-budget`: what this run may still buy.
    budget: Option<Budget>,
    /// Digits of the file's line count: line numbers in file names are zero-padded to it.
    width: usize,
}

/// A finished line: its record, and whether the error means the batch must stop.
#[derive(Debug)]
struct Finished {
    number: u64,
    record: LineRecord,
    fatal: Option<Failure>,
    /// The line's claim, held until its record is in the journal.
    claim: Option<Claim>,
}

/// What became of a line this run sent to a worker.
#[derive(Debug)]
enum Ended {
    /// Run here.
    Ran(Box<Finished>),
    /// Another run holds its claim (buying it now; its pid when known), or finished it since this
    /// run started: not sent, not recorded.
    Elsewhere { number: u64, pid: Option<u32>, done: bool },
}

/// Runs the command.
pub async fn run(args: &BatchArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    match run_inner(args, global, out, interrupt).await {
        Ok(exit) => exit,
        Err(failure) => {
            if out.json {
                out.json_line(
                    &json!({ "status": "failed", "exit_code": failure.exit.code(), "error": failure.record() }),
                );
            }
            out.error(&failure.to_string());
            failure.exit
        }
    }
}

/// The file's request lines, and its line count (blank lines included, for the padding of names).
fn read_lines(file: &Path) -> Result<(Vec<(u64, String)>, usize), Failure> {
    let bytes = std::fs::read(file).map_err(|e| Failure::read("the batch file", file, &e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::local(format!("cannot use {}: it is not UTF-8 text", file.display())))?;
    let count = text.lines().count();
    let lines: Vec<(u64, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| (index as u64 + 1, line.trim().to_owned()))
        .collect();
    if lines.is_empty() {
        return Err(Failure::local(format!("{} holds no request (every line is blank)", file.display()))
            .with_hint("write one JSON request per line, such as {\"prompt\": \"a lighthouse at dawn\"}"));
    }
    Ok((lines, count))
}

/// Keys every line: prepared as it will be sent (images read, hashed by content, then dropped), so
/// a line's key is known before anything is paid for.
fn key_lines(
    out: &Output,
    raw: Vec<(u64, String)>,
    base: &Path,
    validate: bool,
    service_id: &str,
) -> Vec<(Line, Result<Value, Failure>)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    raw.into_iter()
        .map(|(number, text)| {
            let prepared = prepare(&text, number, base, validate);
            for warning in prepared.iter().flat_map(|prepared| &prepared.warnings) {
                out.note(&format!("line {number}: warning: {warning}"));
            }
            let (base_key, sent) = match &prepared {
                Ok(prepared) => (request_key(&prepared.sent, service_id, 0), Ok(prepared.sent.clone())),
                Err((_, failure)) => (text_key(&text, service_id, 0), Err(failure.clone())),
            };
            let occurrence = {
                let count = seen.entry(base_key.clone()).or_insert(0);
                *count += 1;
                *count - 1
            };
            let key = match (&prepared, occurrence) {
                (_, 0) => base_key,
                (Ok(prepared), n) => request_key(&prepared.sent, service_id, n),
                (Err(_), n) => text_key(&text, service_id, n),
            };
            let hash = line_hash(&text);
            (Line { number, text, hash, occurrence, key }, sent)
        })
        .collect()
}

async fn run_inner(
    args: &BatchArgs,
    global: &GlobalArgs,
    out: &Output,
    interrupt: &Interrupt,
) -> Result<Exit, Failure> {
    let (raw, line_count) = read_lines(&args.file)?;
    let setup = Setup::resolve(&args.network, global.provider)?;
    let service_id = setup.service_id();
    let base_dir = args.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let validate = !args.no_validate;
    let keyed = key_lines(out, raw, &base_dir, validate, &service_id);
    let dir = args.out.as_path();
    if args.call.dry_run {
        return Ok(dry_run(out, &keyed, dir, &service_id));
    }
    prepare_out_dir(dir)?;
    journal::open(dir)?;
    let folded = journal::fold(dir)?;
    let total = keyed.len();
    let mapping: Vec<(u64, String)> = keyed.iter().map(|(line, _)| (line.number, line.key.clone())).collect();
    let (done, pending): (Vec<Line>, Vec<Line>) =
        keyed.into_iter().map(|(line, _)| line).partition(|line| folded.is_done(&line.key, dir));
    drop(folded);
    journal::append(
        dir,
        &Record::Batch { source: args.file.display().to_string(), started_at: now_rfc3339(), lines: mapping },
    )?;
    let skipped = done.len();
    let manifest_path = dir.join(crate::manifest::MANIFEST_FILE);
    let mut tally = Tally { skipped, ..Tally::default() };
    if pending.is_empty() {
        journal::rebuild(dir)?;
        crate::gallery::refresh(dir)?;
        out.note(&format!(
            "all {} are done already (see {}); nothing to run",
            count(total as u64, "line"),
            manifest_path.display()
        ));
        return Ok(finish(out, &tally, &args.file, total, dir, &manifest_path, None, false));
    }
    if skipped > 0 {
        out.note(&format!("resuming: {skipped} of {} are done already and are skipped", count(total as u64, "line")));
    }

    let service = Service::connect(&args.network, global.provider, &args.call, out, validate).await?;
    let context = Context {
        client: service.client.clone(),
        out_dir: dir.to_path_buf(),
        base_dir,
        service: service.label.clone(),
        service_id: service.id.clone(),
        limiter: Limiter::per_minute(args.images_per_minute),
        slots: Arc::new(Semaphore::new(args.concurrency)),
        stop: Arc::new(AtomicBool::new(false)),
        validate,
        synthetic: service.is_emulator(),
        call: args.call.clone(),
        budget: args.call.image_budget.map(Budget::new),
        width: line_count.max(1).to_string().len(),
    };
    let what = format!(
        "batch: {} on {} ({} at once, at most {} images per minute)",
        count(pending.len() as u64, "line"),
        service.label,
        args.concurrency,
        args.images_per_minute
    );
    out.note(&what);
    if let Some(budget) = args.call.image_budget {
        out.note(&format!("at most {budget} images will be bought; lines that do not fit are left for the next run"));
    }
    let bar = out.bar(pending.len() as u64, "lines");

    let (tx, mut rx) = mpsc::unbounded_channel::<Ended>();
    let mut workers = JoinSet::new();
    let pending_count = pending.len();
    for line in pending {
        let context = context.clone();
        let tx = tx.clone();
        workers.spawn(async move {
            let Ok(_slot) = context.slots.clone().acquire_owned().await else { return };
            if context.stop.load(Ordering::SeqCst) {
                return;
            }
            if let Some(finished) = run_line(&context, line).await {
                let _ = tx.send(finished);
            }
        });
    }
    drop(tx);

    let started = Instant::now();
    // When the manifest was last rebuilt (never yet: the first finished line rebuilds it at once), and
    // whether lines finished since. A timer rebuilds it SAVE_EVERY after the last rebuild, so a quiet
    // spell between lines never leaves finished lines out of it.
    let mut last_save: Option<Instant> = None;
    let mut unsaved = false;
    let mut stopped: Option<Failure> = None;
    let mut interrupted = false;
    loop {
        let save_due = last_save.map_or_else(Instant::now, |at| at + SAVE_EVERY);
        let finished = tokio::select! {
            finished = rx.recv() => finished,
            () = interrupt.wait() => { interrupted = true; None }
            () = tokio::time::sleep_until(save_due.into()), if unsaved => {
                journal::rebuild(dir)?;
                crate::gallery::refresh(dir)?;
                (last_save, unsaved) = (Some(Instant::now()), false);
                continue;
            }
        };
        let mut finished = match finished {
            None => break,
            Some(Ended::Ran(finished)) => *finished,
            Some(Ended::Elsewhere { number, pid, done }) => {
                tally.elsewhere += 1;
                bar.inc(1);
                let who =
                    pid.map_or("another seedream run".to_owned(), |pid| format!("another seedream run (pid {pid})"));
                let what = if done { "finished it meanwhile" } else { "is running it now" };
                out.note(&format!("line {number}: skipped: {who} on this folder {what}"));
                tally.elsewhere_lines.push(json!({"line": number, "pid": pid, "done": done}));
                continue;
            }
        };
        // Durable before it is reported: a line said to be saved is never bought again.
        if let Err(failure) =
            journal::append(dir, &Record::Line { line: finished.number, record: Box::new(finished.record.clone()) })
        {
            context.stop.store(true, Ordering::SeqCst);
            stopped.get_or_insert(failure);
            break;
        }
        // Journaled: a run that claims the key from now on finds the line done.
        drop(finished.claim.take());
        tally.count(&finished, out);
        bar.inc(1);
        let minutes = started.elapsed().as_secs_f64() / 60.0;
        let rate = if minutes > 0.0 { tally.images as f64 / minutes } else { 0.0 };
        bar.set_message(format!("{} ({rate:.0}/min) · {} failed", count(tally.images as u64, "image"), tally.failed));
        if let Some(fatal) = finished.fatal
            && stopped.is_none()
        {
            out.note(&format!("stopping: line {} hit an error every other line would hit too", finished.number));
            stopped = Some(fatal);
        }
        if last_save.is_none_or(|at| at.elapsed() >= SAVE_EVERY) {
            journal::rebuild(dir)?;
            crate::gallery::refresh(dir)?;
            (last_save, unsaved) = (Some(Instant::now()), false);
        } else {
            unsaved = true;
        }
    }
    if interrupted || stopped.as_ref().is_some_and(|f| f.kind == "output") {
        workers.abort_all();
    }
    while workers.join_next().await.is_some() {}
    out.finish();
    journal::rebuild(dir)?;
    crate::gallery::refresh(dir)?;
    if !interrupted {
        service.close().await;
    }
    tally.not_run = pending_count - tally.succeeded - tally.failed - tally.elsewhere;
    tally.budget = context.budget.as_ref().zip(args.call.image_budget).map(|(left, given)| (given, left.left()));
    Ok(finish(out, &tally, &args.file, total, dir, &manifest_path, stopped, interrupted))
}

/// `--dry-run`: every line's body as it would be sent (data URLs abbreviated), whether it would run or
/// is done already; nothing is sent or written. Exit status 2 when a line is invalid.
fn dry_run(out: &Output, keyed: &[(Line, Result<Value, Failure>)], dir: &Path, service_id: &str) -> Exit {
    let folded = journal::fold(dir).unwrap_or_default();
    let mut lines = Vec::new();
    let mut invalid = 0;
    for (line, sent) in keyed {
        let done = folded.is_done(&line.key, dir);
        match sent {
            Ok(body) => {
                let body = abbreviate_data_urls(body);
                if !out.json {
                    let what = if done { "done already, would be skipped" } else { "would be sent" };
                    out.note(&format!("line {} ({what}, key {}):", line.number, line.key));
                    out.text(&serde_json::to_string(&body).unwrap_or_default());
                }
                lines.push(json!({"line": line.number, "key": line.key, "done": done, "request": body}));
            }
            Err(failure) => {
                invalid += 1;
                if !out.json {
                    for detail in failure.details.iter().chain(failure.details.is_empty().then_some(&failure.message)) {
                        out.text(&format!("line {}: {detail}", line.number));
                    }
                }
                lines.push(json!({"line": line.number, "key": line.key, "error": failure.record()}));
            }
        }
    }
    let exit = if invalid > 0 { Exit::Invalid } else { Exit::Success };
    if out.json {
        out.json_line(&json!({
            "status": "dry-run",
            "exit_code": exit.code(),
            "service": service_id,
            "invalid": invalid,
            "lines": lines,
        }));
    } else {
        out.note(&format!("dry run on {service_id}: nothing was sent"));
    }
    exit
}

/// Counts of a batch run.
#[derive(Debug, Default)]
struct Tally {
    succeeded: usize,
    failed: usize,
    skipped: usize,
    not_run: usize,
    /// Lines another run on the same folder held (or finished since this one started).
    elsewhere: usize,
    elsewhere_lines: Vec<Value>,
    images: usize,
    failures: Vec<(u64, String)>,
    /// Lines that broke the model's rules (nothing was sent): running again cannot fix them.
    invalid_lines: Vec<u64>,
    /// Lines `--image-budget` left out, with the reason.
    left_out: Vec<(u64, String)>,
    /// `--image-budget`: the budget and what is left of it.
    budget: Option<(u64, u64)>,
}

impl Tally {
    fn count(&mut self, finished: &Finished, out: &Output) {
        let outcome = &finished.record.outcome;
        self.images += outcome.images.len();
        if outcome.status == Status::NotRun {
            let reason = outcome.error.as_ref().map(|e| e.message.clone()).unwrap_or_default();
            out.note(&format!("line {}: not run: {reason}", finished.number));
            self.left_out.push((finished.number, reason));
        } else if outcome.status == Status::Succeeded {
            self.succeeded += 1;
            if !out.animate {
                let n = outcome.images.len();
                out.note(&format!("line {}: {} saved", finished.number, count(n as u64, "image")));
            }
        } else {
            self.failed += 1;
            let reason = match &outcome.error {
                Some(error) if error.violations.is_empty() => error.message.clone(),
                Some(error) => format!("{}: {}", error.message, error.violations.join("; ")),
                None => {
                    let failed: Vec<String> =
                        outcome.failed_images.iter().map(|f| format!("image {}: {}", f.index, f.code)).collect();
                    format!(
                        "{} saved, {} failed ({})",
                        count(outcome.images.len() as u64, "image"),
                        failed.len(),
                        failed.join(", ")
                    )
                }
            };
            out.note(&format!("line {}: failed: {reason}", finished.number));
            if outcome.error.as_ref().is_some_and(|error| error.kind == "invalid") {
                self.invalid_lines.push(finished.number);
            }
            self.failures.push((finished.number, reason));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    out: &Output,
    tally: &Tally,
    file: &Path,
    total: usize,
    dir: &Path,
    manifest: &Path,
    stopped: Option<Failure>,
    interrupted: bool,
) -> Exit {
    let exit = if interrupted {
        Exit::Interrupted
    } else if let Some(failure) = &stopped {
        failure.exit
    } else if tally.failed > 0 || !tally.left_out.is_empty() {
        Exit::Partial
    } else {
        Exit::Success
    };
    let status = match exit {
        Exit::Success => "succeeded",
        Exit::Interrupted => "interrupted",
        _ if stopped.is_some() => "stopped",
        _ if tally.failed == 0 => "budget_reached",
        _ => "failed",
    };
    if out.json {
        let failures: Vec<Value> =
            tally.failures.iter().map(|(line, error)| json!({"line": line, "error": error})).collect();
        let left_out: Vec<Value> =
            tally.left_out.iter().map(|(line, reason)| json!({"line": line, "reason": reason})).collect();
        out.json_line(&json!({
            "status": status,
            "exit_code": exit.code(),
            "lines": total,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "skipped": tally.skipped,
            "not_run": tally.not_run,
            "elsewhere": tally.elsewhere_lines,
            "images": tally.images,
            "out_dir": dir.display().to_string(),
            "manifest": manifest.display().to_string(),
            "failures": failures,
            "not_run_lines": left_out,
            "image_budget": tally.budget.map(|(given, left)| json!({"images": given, "left": left})),
            "error": stopped.as_ref().map(Failure::record),
        }));
    }
    if let Some(failure) = &stopped {
        out.error(&failure.to_string());
    }
    let mut summary = format!(
        "batch{}: {}: {} succeeded, {} failed, {} skipped (done before)",
        if interrupted { " interrupted" } else { "" },
        count(total as u64, "line"),
        tally.succeeded,
        tally.failed,
        tally.skipped
    );
    if tally.not_run > 0 {
        summary.push_str(&format!(", {} not run", tally.not_run));
    }
    if tally.elsewhere > 0 {
        summary.push_str(&format!(", {} left to another run on this folder", tally.elsewhere));
    }
    if let Some((given, left)) = tally.budget {
        summary.push_str(&format!("; {} of the {given}-image budget bought", given - left));
    }
    summary.push_str(&format!(
        "; {} saved in {}; manifest: {}",
        count(tally.images as u64, "image"),
        dir.display(),
        manifest.display()
    ));
    out.note(&summary);
    if !tally.invalid_lines.is_empty() {
        let mut lines = tally.invalid_lines.clone();
        lines.sort_unstable();
        let numbers: Vec<String> = lines.iter().map(u64::to_string).collect();
        out.note(&format!(
            "fix {} as the errors above say, then check the file with `seedream validate {}`",
            numbered("line", &numbers),
            file.display()
        ));
    }
    let retriable = tally.failed - tally.invalid_lines.len();
    if interrupted || retriable > 0 || tally.not_run > 0 {
        out.note("run the same command again to retry the lines not done (saved ones are skipped)");
    }
    exit
}

/// `line 2` or `lines 2, 5`.
fn numbered(word: &str, numbers: &[String]) -> String {
    let plural = if numbers.len() == 1 { "" } else { "s" };
    format!("{word}{plural} {}", numbers.join(", "))
}

/// Runs one line: prepare, claim its key, wait for the limiter, call, save, all under `--timeout`.
/// `None` when the batch was stopped before the line was sent.
async fn run_line(context: &Context, line: Line) -> Option<Ended> {
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
        .generate_staged(request, target.dir)
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
