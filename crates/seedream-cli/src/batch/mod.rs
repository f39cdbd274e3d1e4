//! `seedream batch`: one generations request per JSONL line, run concurrently under a shared
//! images-per-minute limit; every finished line journaled durably before it is reported; resumable by
//! request key (a line whose request, sent to the same service, already has a complete result is
//! skipped, wherever it sits in the file).
//!
//! Three steps: [`plan`] reads and keys the lines (nothing sent or written), [`execute`] runs the
//! lines not done yet, [`report`] prints what the batch did and picks the exit status. One line's
//! work is in [`line`].

mod line;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::args::GlobalArgs;
use crate::budget::Budget;
use crate::commands::batch::BatchArgs;
use crate::failure::{Exit, Failure};
use crate::files::prepare_out_dir;
use crate::identity::{request_key, text_key};
use crate::interrupt::Interrupt;
use crate::journal::{self, Record};
use crate::limiter::Limiter;
use crate::manifest::{Status, abbreviate_data_urls, line_hash, now_rfc3339};
use crate::output::{Output, count};
use crate::service::{Service, Setup};
use line::{Context, Ended, Finished, Line, prepare, run_line};

pub use line::inline_images;

/// While lines finish, the manifest is rebuilt from the journal at most this often, and at least
/// this long after a line finished (and at the end).
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// The lines of a batch, keyed before anything is sent or written.
#[derive(Debug)]
struct Plan {
    /// Every request line with its key, and its body as sent (or why it cannot be sent).
    keyed: Vec<(Line, Result<Value, Failure>)>,
    /// Relative image paths in lines are relative to the JSONL file.
    base_dir: PathBuf,
    /// The service part of request keys.
    service_id: String,
    /// The file's line count, blank lines included.
    line_count: usize,
}

/// What a batch run did.
#[derive(Debug)]
struct Ran {
    tally: Tally,
    /// The error that stopped the batch (one every other line would hit too).
    stopped: Option<Failure>,
    interrupted: bool,
}

/// Runs the command: [`plan`], then (unless `--dry-run`) [`execute`], then [`report`].
pub async fn run(args: &BatchArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let ran = match plan(args, global, out) {
        Ok(plan) if args.call.dry_run => return dry_run(out, &plan.keyed, &args.out, &plan.service_id),
        Ok(plan) => execute(plan, args, global, out, interrupt).await,
        Err(failure) => Err(failure),
    };
    match ran {
        Ok(ran) => report(out, args, &ran),
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

/// Reads the file and keys every line as it will be sent (checked unless `--no-validate`), for the
/// service the flags and environment name. Nothing is sent or written.
fn plan(args: &BatchArgs, global: &GlobalArgs, out: &Output) -> Result<Plan, Failure> {
    let (raw, line_count) = read_lines(&args.file)?;
    let setup = Setup::resolve(&args.network, global.provider)?;
    let service_id = setup.service_id();
    let base_dir = args.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let keyed = key_lines(out, raw, &base_dir, !args.no_validate, &service_id);
    Ok(Plan { keyed, base_dir, service_id, line_count })
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

/// Runs the lines not done yet, `--concurrency` at once under the images-per-minute limit, journaling
/// each as it finishes (before it is reported) and rebuilding the manifest as they go, until every
/// line ended, one hit an error every other line would hit too, or Ctrl-C.
async fn execute(
    plan: Plan,
    args: &BatchArgs,
    global: &GlobalArgs,
    out: &Output,
    interrupt: &Interrupt,
) -> Result<Ran, Failure> {
    let Plan { keyed, base_dir, line_count, .. } = plan;
    let validate = !args.no_validate;
    let dir = args.out.as_path();
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
    let mut tally = Tally { total, skipped, ..Tally::default() };
    if pending.is_empty() {
        journal::rebuild(dir)?;
        crate::gallery::refresh(dir)?;
        out.note(&format!(
            "all {} are done already (see {}); nothing to run",
            count(total as u64, "line"),
            dir.join(crate::manifest::MANIFEST_FILE).display()
        ));
        return Ok(Ran { tally, stopped: None, interrupted: false });
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
    Ok(Ran { tally, stopped, interrupted })
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
    /// Request lines in the file (blank ones not counted).
    total: usize,
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

/// Prints what the batch did (one JSON object with `--json`, a summary otherwise) and what to do
/// next, and returns the exit status.
fn report(out: &Output, args: &BatchArgs, ran: &Ran) -> Exit {
    let Ran { tally, stopped, interrupted } = ran;
    let (interrupted, total, file, dir) = (*interrupted, tally.total, &args.file, &args.out);
    let manifest = &dir.join(crate::manifest::MANIFEST_FILE);
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
