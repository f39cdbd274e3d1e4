//! `seedream batch`: one generations request per JSONL line, run concurrently under a shared
//! images-per-minute limit; every line's result or error recorded in the manifest; resumable.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use seedream_client::{Client, Error};
use seedream_types::{ErrorClass, SEEDREAM_4_0};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::cli::{BatchArgs, GlobalArgs};
use crate::failure::{Exit, Failure};
use crate::input;
use crate::interrupt::Interrupt;
use crate::limiter::Limiter;
use crate::manifest::{LineRecord, Manifest, Outcome, Status, line_hash, now_rfc3339, prepare_out_dir, redact};
use crate::output::Output;
use crate::request::{RequestError, check_value, parse_json, parse_unchecked};
use crate::save::{Target, requested_format, save_response, stamp};
use crate::service::{Service, describe};

/// The manifest is rewritten at most this often while lines finish (and always at the end).
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// One request line of the file.
#[derive(Debug, Clone)]
struct Line {
    /// 1-based line number in the file.
    number: u64,
    text: String,
    hash: String,
}

/// What every worker shares.
#[derive(Debug, Clone)]
struct Context {
    client: Client,
    out_dir: PathBuf,
    /// Relative image paths in lines are relative to the JSONL file.
    base_dir: PathBuf,
    service: String,
    limiter: Limiter,
    slots: Arc<Semaphore>,
    /// Set when a line hits an error no other line can avoid (key, quota, disk): nothing new starts.
    stop: Arc<AtomicBool>,
    /// Check each line against the model's rules before sending (off with --no-validate).
    validate: bool,
    /// The embedded emulator answers: the images are synthetic.
    synthetic: bool,
}

/// A finished line: its record, and whether the error means the batch must stop.
#[derive(Debug)]
struct Finished {
    number: u64,
    record: LineRecord,
    fatal: Option<Failure>,
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

fn read_lines(file: &Path) -> Result<Vec<Line>, Failure> {
    let bytes = std::fs::read(file).map_err(|e| Failure::read("the batch file", file, &e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::local(format!("cannot use {}: it is not UTF-8 text", file.display())))?;
    let lines: Vec<Line> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| Line { number: index as u64 + 1, text: line.trim().to_owned(), hash: line_hash(line) })
        .collect();
    if lines.is_empty() {
        return Err(Failure::local(format!("{} holds no request (every line is blank)", file.display()))
            .with_hint("write one JSON request per line, such as {\"prompt\": \"a lighthouse at dawn\"}"));
    }
    Ok(lines)
}

/// Whether a line's results are already saved: same text, succeeded, every file still there.
fn is_done(manifest: &Manifest, line: &Line, dir: &Path) -> bool {
    let Some(record) = manifest.batch.as_ref().and_then(|b| b.lines.get(&line.number)) else { return false };
    record.hash == line.hash
        && record.outcome.status == Status::Succeeded
        && record.outcome.images.iter().all(|image| dir.join(&image.file).is_file())
}

async fn run_inner(
    args: &BatchArgs,
    global: &GlobalArgs,
    out: &Output,
    interrupt: &Interrupt,
) -> Result<Exit, Failure> {
    let lines = read_lines(&args.file)?;
    let dir = args.out.as_path();
    prepare_out_dir(dir)?;
    let mut manifest = Manifest::load(dir)?;
    let total = lines.len();
    let (done, pending): (Vec<Line>, Vec<Line>) = lines.into_iter().partition(|line| is_done(&manifest, line, dir));
    let skipped = done.len();
    let manifest_path = dir.join(crate::manifest::MANIFEST_FILE);
    let mut tally = Tally { skipped, ..Tally::default() };
    if pending.is_empty() {
        out.note(&format!("all {total} lines are done already (see {}); nothing to run", manifest_path.display()));
        return Ok(finish(out, &tally, total, dir, &manifest_path, None, false));
    }
    if skipped > 0 {
        out.note(&format!("resuming: {skipped} of {total} lines are done already and are skipped"));
    }

    let service = Service::connect(global, out, !args.no_validate).await?;
    manifest.batch.get_or_insert_with(Default::default).source = args.file.display().to_string();
    let context = Context {
        client: service.client.clone(),
        out_dir: dir.to_path_buf(),
        base_dir: args.file.parent().map(Path::to_path_buf).unwrap_or_default(),
        service: service.label.clone(),
        limiter: Limiter::per_minute(args.images_per_minute),
        slots: Arc::new(Semaphore::new(args.concurrency)),
        stop: Arc::new(AtomicBool::new(false)),
        validate: !args.no_validate,
        synthetic: service.is_emulator(),
    };
    let what = format!(
        "batch: {} lines on {} ({} at once, at most {} images per minute)",
        pending.len(),
        service.label,
        args.concurrency,
        args.images_per_minute
    );
    out.note(&what);
    let bar = out.bar(pending.len() as u64, "lines");

    let (tx, mut rx) = mpsc::unbounded_channel::<Finished>();
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
    let mut last_save = Instant::now();
    let mut stopped: Option<Failure> = None;
    let mut interrupted = false;
    loop {
        let finished = tokio::select! {
            finished = rx.recv() => finished,
            () = interrupt.wait() => { interrupted = true; None }
        };
        let Some(finished) = finished else { break };
        tally.count(&finished, out);
        bar.inc(1);
        let minutes = started.elapsed().as_secs_f64() / 60.0;
        let rate = if minutes > 0.0 { tally.images as f64 / minutes } else { 0.0 };
        bar.set_message(format!("{} images ({rate:.0}/min) · {} failed", tally.images, tally.failed));
        if let Some(fatal) = finished.fatal
            && stopped.is_none()
        {
            out.note(&format!("stopping: line {} hit an error every other line would hit too", finished.number));
            stopped = Some(fatal);
        }
        manifest.batch.get_or_insert_with(Default::default).lines.insert(finished.number, finished.record);
        if last_save.elapsed() >= SAVE_EVERY {
            manifest.save(dir)?;
            crate::gallery::refresh(dir)?;
            last_save = Instant::now();
        }
    }
    if interrupted {
        workers.abort_all();
    }
    while workers.join_next().await.is_some() {}
    out.finish();
    manifest.save(dir)?;
    crate::gallery::refresh(dir)?;
    if !interrupted {
        service.close().await;
    }
    tally.not_run = pending_count - tally.succeeded - tally.failed;
    Ok(finish(out, &tally, total, dir, &manifest_path, stopped, interrupted))
}

/// Counts of a batch run.
#[derive(Debug, Default)]
struct Tally {
    succeeded: usize,
    failed: usize,
    skipped: usize,
    not_run: usize,
    images: usize,
    failures: Vec<(u64, String)>,
}

impl Tally {
    fn count(&mut self, finished: &Finished, out: &Output) {
        let outcome = &finished.record.outcome;
        self.images += outcome.images.len();
        if outcome.status == Status::Succeeded {
            self.succeeded += 1;
            if !out.animate {
                let n = outcome.images.len();
                out.note(&format!("line {}: {n} image{} saved", finished.number, if n == 1 { "" } else { "s" }));
            }
        } else {
            self.failed += 1;
            let reason = match &outcome.error {
                Some(error) if error.violations.is_empty() => error.message.clone(),
                Some(error) => format!("{}: {}", error.message, error.violations.join("; ")),
                None => {
                    let failed: Vec<String> =
                        outcome.failed_images.iter().map(|f| format!("image {}: {}", f.index, f.code)).collect();
                    format!("{} image(s) saved, {} failed ({})", outcome.images.len(), failed.len(), failed.join(", "))
                }
            };
            out.note(&format!("line {}: failed: {reason}", finished.number));
            self.failures.push((finished.number, reason));
        }
    }
}

fn finish(
    out: &Output,
    tally: &Tally,
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
    } else if tally.failed > 0 {
        Exit::Partial
    } else {
        Exit::Success
    };
    let status = match exit {
        Exit::Success => "succeeded",
        Exit::Interrupted => "interrupted",
        _ if stopped.is_some() => "stopped",
        _ => "failed",
    };
    if out.json {
        let failures: Vec<Value> =
            tally.failures.iter().map(|(line, error)| json!({"line": line, "error": error})).collect();
        out.json_line(&json!({
            "status": status,
            "exit_code": exit.code(),
            "lines": total,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "skipped": tally.skipped,
            "not_run": tally.not_run,
            "images": tally.images,
            "out_dir": dir.display().to_string(),
            "manifest": manifest.display().to_string(),
            "failures": failures,
            "error": stopped.as_ref().map(Failure::record),
        }));
    }
    if let Some(failure) = &stopped {
        out.error(&failure.to_string());
    }
    let mut summary = format!(
        "batch{}: {total} lines: {} succeeded, {} failed, {} skipped (done before)",
        if interrupted { " interrupted" } else { "" },
        tally.succeeded,
        tally.failed,
        tally.skipped
    );
    if tally.not_run > 0 {
        summary.push_str(&format!(", {} not run", tally.not_run));
    }
    summary.push_str(&format!(
        "; {} images saved in {}; manifest: {}",
        tally.images,
        dir.display(),
        manifest.display()
    ));
    out.note(&summary);
    if interrupted || tally.failed > 0 || tally.not_run > 0 {
        out.note("run the same command again to retry the lines not done (saved ones are skipped)");
    }
    exit
}

/// Runs one line: parse, inline local images, validate, wait for the limiter, call, save. `None` when
/// the batch was stopped before the line was sent.
async fn run_line(context: &Context, line: Line) -> Option<Finished> {
    let failed = |request: Value, failure: Failure| -> Finished {
        Finished {
            number: line.number,
            record: LineRecord {
                hash: line.hash.clone(),
                finished_at: now_rfc3339(),
                request,
                outcome: Outcome::failed(failure.record()),
                extra: serde_json::Map::new(),
            },
            fatal: None,
        }
    };
    let value = match parse_json(&line.text) {
        Ok(value) => value,
        Err(error) => {
            let reason = match error {
                RequestError::NotJson(reason) => reason,
                RequestError::Invalid(invalid) => invalid.to_string(),
            };
            let failure = Failure::local(format!("line {} is not JSON: {reason}", line.number)).with_kind("not-json");
            return Some(failed(Value::String(short(&line.text)), failure));
        }
    };
    let recorded = redact(&value);
    let value = match inline_images(value, &context.base_dir) {
        Ok(value) => value,
        Err(failure) => return Some(failed(recorded, failure)),
    };
    let checked = if context.validate {
        check_value(value, Some(SEEDREAM_4_0)).map(|checked| checked.request)
    } else {
        parse_unchecked(value, Some(SEEDREAM_4_0))
    };
    let request = match checked {
        Ok(request) => request,
        Err(RequestError::Invalid(invalid)) => {
            let model = recorded.get("model").and_then(Value::as_str).unwrap_or(SEEDREAM_4_0).to_owned();
            return Some(failed(recorded, describe(&Error::Validation(invalid), Some(&model), &context.service)));
        }
        Err(RequestError::NotJson(reason)) => {
            return Some(failed(recorded, Failure::local(reason).with_kind("not-json")));
        }
    };
    context.limiter.acquire(u32::try_from(request.max_output_images()).unwrap_or(u32::MAX)).await;
    if context.stop.load(Ordering::SeqCst) {
        return None;
    }
    let stem = format!("line{}-{}", line.number, &line.hash[..8]);
    let stamp = stamp(&request.prompt, &request.model, request.seed, context.synthetic);
    let target = Target {
        dir: &context.out_dir,
        stem: &stem,
        service: &context.service,
        requested: requested_format(request.output_format.as_ref()),
        provenance: Some(&stamp),
    };
    let mut outcome = Outcome::empty();
    let mut fatal = None;
    match send(&context.client, &request, target, &mut outcome).await {
        Ok(()) => {}
        Err((failure, class)) => {
            let stops = failure.kind == "output"
                || matches!(
                    class,
                    Some(ErrorClass::Authentication | ErrorClass::Forbidden | ErrorClass::QuotaExhausted)
                );
            outcome.error = Some(failure.record());
            if stops {
                // Set here, before this worker's slot is free, so that no queued line starts.
                context.stop.store(true, Ordering::SeqCst);
                fatal = Some(failure);
            }
        }
    }
    outcome.settle();
    Some(Finished {
        number: line.number,
        record: LineRecord {
            hash: line.hash,
            finished_at: now_rfc3339(),
            request: recorded,
            outcome,
            extra: serde_json::Map::new(),
        },
        fatal,
    })
}

async fn send(
    client: &Client,
    request: &seedream_types::GenerateRequest,
    target: Target<'_>,
    outcome: &mut Outcome,
) -> Result<(), (Failure, Option<ErrorClass>)> {
    let model = Some(request.model.as_str());
    let (response, meta) = client
        .generate_with_meta(request)
        .await
        .map_err(|e| (describe(&e, model, target.service), e.api().map(|api| api.class)))?;
    outcome.request_id = meta.request_id;
    outcome.attempts = Some(meta.attempts);
    save_response(client, target, response, outcome, |_| {}).await.map_err(|failure| (failure, None))
}

/// Replaces local file names in `image` with data URLs (relative to the JSONL file).
fn inline_images(mut value: Value, base: &Path) -> Result<Value, Failure> {
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
