//! One `generate` or `edit` call, in three steps: [`plan`] checks the request and resolves where it
//! goes (nothing sent or written); [`execute`] sends it under the `--timeout` deadline (with a spinner,
//! or a line per image with `--stream`), saves the images, journals each one before it is reported and
//! journals the run when it ends (then rebuilds the manifest); [`report`] prints the result and picks
//! the exit status. The commands build the request ([`Job`]) from their flags.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use seedream_client::{Error, ResponseMeta, StagedResponse};
use seedream_types::{ImageItem, StreamGatherer};
use serde_json::{Value, json};

use crate::args::{CallArgs, GlobalArgs, NetworkArgs, duration_text};
use crate::failure::{Exit, Failure};
use crate::files::prepare_out_dir;
use crate::generation_args::GenerationArgs;
use crate::identity::request_key;
use crate::interrupt::Interrupt;
use crate::job::Job;
use crate::journal::{self, Record};
use crate::manifest::{Outcome, RunRecord, Status, abbreviate_data_urls, now_compact, now_rfc3339};
use crate::output::{Output, count};
use crate::save::{Saved, Target, no_images, record_failed, save_image, save_response, slug, stamp};
use crate::service::{Service, Setup, describe, validation_hint};

/// A command line's request, and the options the call runs with.
#[derive(Debug)]
pub struct Order<'a> {
    /// `generate` or `edit`.
    pub command: &'static str,
    /// What is sent.
    pub job: Job,
    /// What the manifest records of the request (local images by path, not by content).
    pub recorded: Value,
    /// `--out`, `--no-validate` and the other flags generate and edit share.
    pub generation: &'a GenerationArgs,
    /// Where the service is.
    pub network: &'a NetworkArgs,
    /// `--timeout`, `--retries`, `--dry-run`, `--image-budget`…
    pub call: &'a CallArgs,
    /// `--provider` and the other global options.
    pub global: &'a GlobalArgs,
}

/// What a call will do, decided before anything is sent or written.
#[derive(Debug)]
pub struct Plan<'a> {
    order: Order<'a>,
    /// The service the flags and environment name.
    setup: Setup,
}

/// What a call did: the run as journaled, and how it ended.
#[derive(Debug)]
pub struct Ran<'a> {
    dir: &'a Path,
    record: RunRecord,
    /// The failure that ended the call, if one did.
    failure: Option<Failure>,
    /// Writing the run's record, the manifest and the gallery.
    saved: Result<(), Failure>,
    elapsed: Duration,
    retries: u32,
}

/// Runs one call: [`plan`], then (unless `--dry-run`) [`execute`], then [`report`].
pub async fn run(order: Order<'_>, out: &Output, interrupt: &Interrupt) -> Exit {
    let plan = match plan(order, out) {
        Ok(plan) => plan,
        Err(failure) => return failure.report(out),
    };
    if plan.order.call.dry_run {
        return dry_run(out, &plan.order.job, &plan.setup);
    }
    match execute(plan, out, interrupt).await {
        Ok(ran) => report(&ran, out),
        Err(failure) => failure.report(out),
    }
}

/// Checks everything local before anything is paid for: the model's rules (unless `--no-validate`:
/// the service decides), `--image-budget`, what the catalog says of the model; then resolves where the
/// call goes.
pub fn plan<'a>(order: Order<'a>, out: &Output) -> Result<Plan<'a>, Failure> {
    let job = &order.job;
    let checked = if order.generation.no_validate { Ok(Vec::new()) } else { job.validate() };
    match checked {
        Ok(warnings) => {
            for warning in warnings {
                out.note(&format!("warning: {warning}"));
            }
        }
        Err(invalid) => {
            let mut failure = describe(&Error::Validation(invalid.clone()), Some(job.model()), "");
            failure.hint = validation_hint(job.model(), &invalid.violations).or(failure.hint);
            return Err(failure);
        }
    }
    if let Some(budget) = order.call.image_budget {
        within_budget(job, budget)?;
    }
    if let Some(note) = crate::catalog::current().lifecycle_note(job.model()) {
        out.note(&note);
    }
    if let Some(note) = crate::catalog::current().model_typo_note(job.model()) {
        out.note(&format!("warning: {note}"));
    }
    let setup = Setup::resolve(order.network, order.global.provider)?;
    Ok(Plan { order, setup })
}

/// Sends the planned call and saves what comes back, journaling each image before it is reported,
/// until it ends, `--timeout` runs out or Ctrl-C; then journals the run and rebuilds the manifest.
/// An error is one from before anything was sent (the output folder, the service's setup).
pub async fn execute<'a>(plan: Plan<'a>, out: &Output, interrupt: &Interrupt) -> Result<Ran<'a>, Failure> {
    let Plan { order, setup } = plan;
    let Order { command, job, recorded, generation, network, call, global } = order;
    let dir = generation.out.as_path();
    prepare_out_dir(dir).and_then(|()| journal::open(dir))?;
    let service = Service::connect(network, global.provider, call, out, !generation.no_validate).await?;
    let key = request_key(&job.sent(setup.is_ark()).1, &service.id, 0);
    let id = unique_id(dir, &slug(job.prompt()));
    let started_at = now_rfc3339();
    let stamp = stamp(job.prompt(), job.model(), job.seed(), service.is_emulator());
    let target = Target {
        dir,
        stem: &id,
        service: &service.label,
        requested: job.requested_format(),
        provenance: Some(&stamp),
        model: job.model(),
        layers: job.asks_layers(),
    };
    let phase = Phase::new();
    let journaling = Journaling {
        dir,
        run: &id,
        command,
        started_at: &started_at,
        service: &service.label,
        key: &key,
        out,
        phase: &phase,
        synthetic: AtomicBool::new(service.is_emulator()),
        error: Mutex::new(None),
    };
    let what = format!("{command}: {} with {} on {}", job.wanted(), job.model(), service.label);
    let spinner = out.spinner(&what);
    if !out.animate {
        out.note(&format!("{what}…"));
    }

    let mut outcome = Outcome::empty();
    let clock = Instant::now();
    let finished = {
        let work = send(&service, &job, target, &mut outcome, &journaling);
        let work = tokio::time::timeout(call.timeout, work);
        tokio::select! {
            result = work => Some(result.unwrap_or_else(|_| Err(timed_out(call, &phase.get())))),
            () = interrupt.wait() => None,
        }
    };
    spinner.finish_and_clear();
    out.finish();
    let finished = match (finished, journaling.take_error()) {
        (Some(Ok(())), Some(failure)) => Some(Err(failure)),
        (finished, _) => finished,
    };
    let failure = settle(finished, &mut outcome, &recorded);
    let record = RunRecord {
        id: id.clone(),
        command: command.to_owned(),
        started_at: started_at.clone(),
        finished_at: now_rfc3339(),
        service: service.label.clone(),
        key: key.clone(),
        synthetic: journaling.synthetic(),
        request: recorded,
        outcome,
        extra: serde_json::Map::new(),
    };
    let saved = journal::append(dir, &Record::Run(Box::new(record.clone())))
        .and_then(|()| journal::rebuild(dir).map(|_| ()))
        .and_then(|()| crate::gallery::refresh(dir));
    if record.outcome.status != Status::Interrupted {
        service.close().await;
    }
    Ok(Ran { dir, record, failure, saved, elapsed: clock.elapsed(), retries: call.retries })
}

/// Settles the outcome of a call that ended (`None`: interrupted), and returns the failure that
/// ended it, naming the inputs it was about.
fn settle(finished: Option<Result<(), Failure>>, outcome: &mut Outcome, recorded: &Value) -> Option<Failure> {
    let failure = match finished {
        None => {
            outcome.settle();
            outcome.status = Status::Interrupted;
            return None;
        }
        Some(Ok(())) => None,
        Some(Err(failure)) => {
            let mut failure = failure.naming_inputs(recorded);
            // --timeout drops the call unanswered: the id it sent is what names it to support.
            if failure.kind == "timeout" && failure.client_request_id.is_none() {
                failure.client_request_id = outcome.client_request_id.as_deref().map(Box::from);
            }
            outcome.error = Some(failure.record());
            Some(failure)
        }
    };
    outcome.settle();
    failure
}

/// Prints what the call did (the JSON result with `--json`, the summary otherwise; with `--verbose`
/// its ids and timing) and returns the exit status.
pub fn report(ran: &Ran<'_>, out: &Output) -> Exit {
    let Ran { dir, record, failure, saved, elapsed, retries } = ran;
    let outcome = &record.outcome;
    out.detail(&format!(
        "{}: request id {}, client request id {}, {}, {:.1} s",
        record.command,
        // A refused call has no answer to read it from, but its error names it.
        outcome
            .request_id
            .as_deref()
            .or(outcome.error.as_ref().and_then(|e| e.request_id.as_deref()))
            .unwrap_or("(none)"),
        outcome.client_request_id.as_deref().unwrap_or("(none)"),
        attempts_text(outcome.attempts, *retries),
        elapsed.as_secs_f64()
    ));
    let exit = exit_of(outcome, failure.as_ref());
    let manifest_path = dir.join(crate::manifest::MANIFEST_FILE);
    if let Err(failure) = saved {
        let saved_images = count(outcome.images.len() as u64, "image");
        let failure = failure.clone().with_detail(format!("{saved_images} saved in {}", dir.display()));
        if out.json {
            out.json_line(&json!({ "status": "failed", "exit_code": failure.exit.code(), "error": failure.record() }));
        }
        out.error(&failure.to_string());
        return failure.exit;
    }
    if out.json {
        let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert("out_dir".into(), Value::from(dir.display().to_string()));
            object.insert("manifest".into(), Value::from(manifest_path.display().to_string()));
            object.insert("exit_code".into(), Value::from(exit.code()));
        }
        out.json_line(&value);
    }
    if let Some(failure) = failure {
        out.error(&failure.to_string());
    }
    summarize(out, outcome, dir, &manifest_path);
    exit
}

/// What the run is doing now, for the message when `--timeout` runs out.
#[derive(Debug)]
struct Phase(Mutex<String>);

impl Phase {
    fn new() -> Self {
        Self(Mutex::new("sending the request".into()))
    }

    fn set(&self, text: impl Into<String>) {
        if let Ok(mut phase) = self.0.lock() {
            *phase = text.into();
        }
    }

    fn get(&self) -> String {
        self.0.lock().map(|phase| phase.clone()).unwrap_or_default()
    }
}

/// Who a run's images are journaled under, before each is reported.
struct Journaling<'a> {
    dir: &'a Path,
    run: &'a str,
    command: &'a str,
    started_at: &'a str,
    service: &'a str,
    key: &'a str,
    /// Where saved images are reported.
    out: &'a Output,
    /// What the run is doing, updated as images are saved.
    phase: &'a Phase,
    /// The images are synthetic: the embedded emulator runs, or the answer came from an emulator
    /// (`x-emulator-synthetic`, a `seedream emulator` reached by `--base-url`).
    synthetic: AtomicBool,
    /// The first journal write that failed: the run stops reporting images as saved.
    error: Mutex<Option<Failure>>,
}

impl Journaling<'_> {
    /// Journals a saved image (durably) and reports it; reports a failed image.
    fn report(&self, saved: Saved<'_>) {
        if let Saved::Image(image) = &saved {
            let record = Record::Image {
                run: self.run.to_owned(),
                command: self.command.to_owned(),
                started_at: self.started_at.to_owned(),
                service: self.service.to_owned(),
                key: self.key.to_owned(),
                synthetic: self.synthetic(),
                image: Box::new((*image).clone()),
            };
            if let Err(failure) = journal::append(self.dir, &record) {
                if let Ok(mut error) = self.error.lock() {
                    error.get_or_insert(failure);
                }
                return;
            }
            self.phase.set(format!("saving the images (image {} saved)", image.index));
        }
        report_image(self.out, self.dir, saved);
    }

    /// Notes what the answer's meta says of who made it (an emulator marks itself).
    fn note_meta(&self, meta: &ResponseMeta) {
        if meta.synthetic {
            self.synthetic.store(true, Ordering::Relaxed);
        }
    }

    fn synthetic(&self) -> bool {
        self.synthetic.load(Ordering::Relaxed)
    }

    fn take_error(&self) -> Option<Failure> {
        self.error.lock().ok().and_then(|mut error| error.take())
    }
}

/// `--image-budget`: a run is one call, sent only when the most images it can make fit the budget.
fn within_budget(job: &Job, budget: u64) -> Result<(), Failure> {
    let most = match job {
        Job::Generate(request) => crate::budget::most_images(request),
        Job::Edit(request) => crate::budget::most_images_of_edit(request),
    };
    if most <= budget {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "--image-budget: the request may make {}, more than the budget of {budget}",
        job.wanted()
    ))
    .with_kind("budget")
    .with_hint("lower --max-images, or raise --image-budget"))
}

/// How many attempts a call took, for `--verbose`: the answer says, but a failed call does not,
/// and then `--retries` bounds it (`--retries 0`: exactly one).
fn attempts_text(attempts: Option<u32>, retries: u32) -> String {
    match attempts {
        Some(attempts) => count(attempts, "attempt"),
        None if retries == 0 => count(1u32, "attempt"),
        None => format!("up to {}", count(retries.saturating_add(1), "attempt")),
    }
}

/// The failure when `--timeout` runs out, naming what the run was doing.
pub fn timed_out(call: &CallArgs, phase: &str) -> Failure {
    Failure::new(
        Exit::Unavailable,
        format!("timed out after {} (--timeout) while {phase}", duration_text(call.timeout)),
    )
    .with_kind("timeout")
    .with_hint(format!(
        "give it longer with --timeout (the default is {}); a 4K group can take 4–6 minutes",
        crate::args::DEFAULT_TIMEOUT
    ))
}

/// `--dry-run`: the body that would be sent, data URLs abbreviated; nothing is sent or written.
fn dry_run(out: &Output, job: &Job, setup: &Setup) -> Exit {
    let (endpoint, body) = job.sent(setup.is_ark());
    let body = abbreviate_data_urls(&body);
    if out.json {
        out.json_line(&json!({
            "status": "dry-run",
            "exit_code": 0,
            "endpoint": endpoint,
            "base_url": setup.base_url(),
            "service": setup.service_id(),
            "request": body,
        }));
    } else {
        out.text(&serde_json::to_string_pretty(&body).unwrap_or_default());
        out.note(&format!("dry run: POST {endpoint} on {} would send the above; nothing was sent", setup.base_url()));
    }
    Exit::Success
}

/// Sends the request and saves what comes back, recording into `outcome` as it goes (so an interrupt
/// keeps what is saved).
async fn send(
    service: &Service,
    job: &Job,
    target: Target<'_>,
    outcome: &mut Outcome,
    journaling: &Journaling<'_>,
) -> Result<(), Failure> {
    let model = Some(job.model());
    let (stream, phase) = (job.streams(), journaling.phase);
    // Chosen and recorded before sending: a call cut by --timeout or Ctrl-C can still be named.
    let id = seedream_client::new_client_request_id();
    let client = &service.client.with_client_request_id(&id).map_err(|e| describe(&e, model, target.service))?;
    outcome.client_request_id = Some(id);
    let mut report = |saved: Saved<'_>| journaling.report(saved);
    phase.set(if stream { "waiting for the stream to start" } else { "waiting for the answer" });
    let call = match job {
        Job::Generate(request) => client.generate(request),
        Job::Edit(request) => client.edit(request),
    };
    if stream {
        let mut events = call.stream().await.map_err(|e| describe(&e, model, target.service))?;
        outcome.request_id = events.request_id().map(str::to_owned);
        outcome.attempts = Some(events.meta().attempts);
        journaling.note_meta(events.meta());
        phase.set("receiving the stream");
        // Each image is saved as it arrives; the gatherer keeps what the events say of the whole.
        let mut gatherer = StreamGatherer::new();
        while let Some(event) = events.next().await {
            let item = gatherer.note(event.map_err(|e| describe(&e, model, target.service))?);
            if outcome.model.is_none() {
                outcome.model = gatherer.model().map(str::to_owned);
            }
            match item {
                Some((index, ImageItem::Image(image))) => {
                    save_image(client, target, index, image, None, outcome, &mut report).await?;
                }
                Some((index, ImageItem::Failed(failed))) => record_failed(index, &failed.error, outcome, &mut report),
                None => outcome.usage = gatherer.usage().cloned(),
            }
        }
        if outcome.images.is_empty() && outcome.failed_images.is_empty() {
            return Err(no_images(target.service));
        }
        return Ok(());
    }
    // `b64_json` images are decoded into temporary files in the output folder as the answer arrives
    // (a few MiB however large it is), then stamped and saved one at a time.
    let staged = call.stage_in(target.dir).await.map_err(|e| describe(&e, model, target.service))?;
    let StagedResponse { response, images, meta, .. } = staged;
    journaling.note_meta(&meta);
    outcome.request_id = meta.request_id;
    outcome.attempts = Some(meta.attempts);
    phase.set(format!("downloading and saving {}", count(response.data.len() as u64, "image")));
    save_response(client, target, response, images, outcome, report).await
}

fn report_image(out: &Output, dir: &Path, saved: Saved<'_>) {
    match saved {
        Saved::Image(image) => {
            let size = image.size.as_deref().map(|s| format!("  {s}")).unwrap_or_default();
            out.line(&format!("{}{size}", dir.join(&image.file).display()));
        }
        Saved::Failed(failed) => match &failed.moderation {
            Some(moderation) => out.note(&format!(
                "{} refused by moderation ({}): {}",
                moderation.subject(),
                failed.code,
                failed.message
            )),
            None => out.note(&format!("image {} failed: {}: {}", failed.index, failed.code, failed.message)),
        },
        Saved::Warning(text) => out.note(&format!("warning: {text}")),
    }
}

fn summarize(out: &Output, outcome: &Outcome, dir: &Path, manifest: &Path) {
    if let Some(ora) = &outcome.openraster {
        out.line(&format!("{}  (OpenRaster: the base image and every layer)", dir.join(ora).display()));
    }
    if let Some(problem) = &outcome.openraster_error {
        out.note(&format!("warning: {problem}"));
    }
    let saved = outcome.images.len();
    let failed = outcome.failed_images.len();
    let images = |n: usize| count(n as u64, "image");
    match outcome.status {
        Status::Interrupted => out.note(&format!(
            "interrupted: {} saved in {} (every saved file is complete); see {}",
            images(saved),
            dir.display(),
            manifest.display()
        )),
        _ if saved > 0 || failed > 0 => {
            let failed_text = if failed > 0 { format!(", {} failed", images(failed)) } else { String::new() };
            out.note(&format!(
                "{} saved in {}{failed_text}; manifest: {}",
                images(saved),
                dir.display(),
                manifest.display()
            ));
            if failed > 0 && outcome.failed_images.iter().any(|f| f.code.contains("SensitiveContent")) {
                out.note("hint: moderation refused some images: rephrase the prompt to get them");
            }
        }
        _ => {}
    }
}

/// The exit status of a run.
fn exit_of(outcome: &Outcome, failure: Option<&Failure>) -> Exit {
    match outcome.status {
        Status::Succeeded => Exit::Success,
        Status::Partial => Exit::Partial,
        Status::Interrupted => Exit::Interrupted,
        // Only batch lines are left out; a run that was not sent is refused before it starts.
        Status::NotRun => Exit::Partial,
        Status::Failed => match failure {
            Some(failure) => failure.exit,
            // Every image failed: moderation refused them, or every download failed.
            None if outcome.failed_images.iter().all(|f| f.code == "DownloadFailed") => Exit::Unavailable,
            None => Exit::Refused,
        },
    }
}

/// A run id no other run has: `{slug}-{YYYYMMDD-HHMMSS}-{6 random hex digits}` (sortable by time; runs
/// started together in one directory still differ), drawn again in the unlikely case a file already
/// starts with it (`{id}-0.png`, `{id}-00-base.png`, `{id}.ora`, whatever the extension).
fn unique_id(dir: &Path, slug: &str) -> String {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let owns = |id: &str, name: &str| name.strip_prefix(id).is_some_and(|rest| rest.starts_with(['-', '.']));
    let stamp = now_compact();
    loop {
        let id = format!("{slug}-{stamp}-{:06x}", fastrand::u32(..0x100_0000));
        if !names.iter().any(|name| owns(&id, name)) {
            return id;
        }
    }
}
