//! `seedream generate` and `seedream edit`: build the request, check it, call the service (with a
//! spinner, or a line per image with `--stream`) under the `--timeout` deadline, save the images,
//! journal each one before it is reported, and journal the run when it ends (then rebuild the manifest).

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures_util::StreamExt as _;
use seedream_client::{Error, ResponseMeta, StagedResponse};
use seedream_types::{
    Background, EditRequest, GenerateRequest, ImageCount, ImageFormat, ImageItem, OutputFormat, ResponseFormat, Size,
    StreamGatherer, Tool, ValidationError, Violation,
};
use serde_json::{Value, json};

use crate::args::{CallArgs, GlobalArgs, NetworkArgs, duration_text};
use crate::commands::edit::EditArgs;
use crate::commands::generate::GenerateArgs;
use crate::failure::{Exit, Failure};
use crate::files::prepare_out_dir;
use crate::identity::request_key;
use crate::image_args::Format;
use crate::input;
use crate::interrupt::Interrupt;
use crate::journal::{self, Record};
use crate::manifest::{Outcome, RunRecord, Status, abbreviate_data_urls, now_compact, now_rfc3339, redact};
use crate::output::{Output, count};
use crate::save::{Saved, Target, no_images, record_failed, requested_format, save_image, save_response, slug, stamp};
use crate::service::{Service, Setup, describe, validation_hint};

/// What a run sends.
enum Job {
    Generate(GenerateRequest),
    Edit(EditRequest),
}

impl Job {
    fn model(&self) -> &str {
        match self {
            Job::Generate(request) => &request.model,
            Job::Edit(request) => &request.model,
        }
    }

    fn prompt(&self) -> &str {
        match self {
            Job::Generate(request) => &request.prompt,
            Job::Edit(request) => &request.prompt,
        }
    }

    /// What the run asks for, in words: `up to 3 images`, `a base image and up to 16 layers`.
    fn wanted(&self) -> String {
        let number = match self {
            Job::Generate(request) if request.is_layer_decomposition() => {
                let layers = crate::catalog::family_of(&request.model)
                    .and_then(|f| f.layers.as_ref())
                    .map(|l| l.default_layers());
                return match layers {
                    Some(max) => format!("a base image and up to {max} layers"),
                    None => "a base image and its layers".into(),
                };
            }
            Job::Generate(request) => request.max_output_images(),
            Job::Edit(request) => request.n.as_ref().and_then(ImageCount::value).unwrap_or(1).clamp(1, 15) as usize,
        };
        format!("up to {}", count(number as u64, "image"))
    }

    fn validate(&self) -> Result<Vec<Violation>, ValidationError> {
        match self {
            Job::Generate(request) => request.validate_for(crate::catalog::family_of(&request.model)),
            Job::Edit(request) => request.validate_for(crate::catalog::family_of(&request.model)),
        }
    }

    /// The file format asked for: the extension of bytes that neither show nor state theirs.
    /// Whether the request asks for layer decomposition (an edit only through an extra field).
    fn asks_layers(&self) -> bool {
        match self {
            Job::Generate(request) => request.is_layer_decomposition(),
            Job::Edit(request) => request.extra.get("layer_decomposition") == Some(&Value::Bool(true)),
        }
    }

    fn requested_format(&self) -> ImageFormat {
        match self {
            Job::Generate(request) => requested_format(request.output_format.as_ref()),
            Job::Edit(request) => requested_format(request.output_format.as_ref()),
        }
    }

    /// What goes out, as JSON: the generations body, or an edit's form fields (files as data URLs) —
    /// or, on Ark (no edits endpoint), the generations body the client turns the edit into.
    fn sent(&self, ark: bool) -> (&'static str, Value) {
        match self {
            Job::Generate(request) => ("images/generations", serde_json::to_value(request).unwrap_or(Value::Null)),
            Job::Edit(request) if ark => {
                ("images/generations", serde_json::to_value(request.to_generate_request()).unwrap_or(Value::Null))
            }
            Job::Edit(request) => {
                let mut form = serde_json::Map::new();
                for part in request.form_parts() {
                    let value = match part.value {
                        seedream_types::edit::PartValue::Text(text) => Value::String(text),
                        seedream_types::edit::PartValue::File(file) => Value::String(file.to_data_url()),
                    };
                    match form.get_mut(part.name) {
                        Some(Value::Array(items)) => items.push(value),
                        Some(first) => *first = Value::Array(vec![first.take(), value]),
                        None => {
                            form.insert(part.name.to_owned(), value);
                        }
                    }
                }
                ("images/edits (multipart/form-data)", Value::Object(form))
            }
        }
    }

    fn seed(&self) -> Option<i64> {
        match self {
            Job::Generate(request) => request.seed,
            Job::Edit(request) => request.seed,
        }
    }
}

/// How `execute` runs: the command's name and switches.
#[derive(Debug, Clone, Copy)]
struct Mode<'a> {
    command: &'a str,
    stream: bool,
    /// Check the request locally before sending (off with --no-validate).
    validate: bool,
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
    /// The images are synthetic: the embedded emulator runs, or the answer came from an emulator
    /// (`x-emulator-synthetic`, a `seedream emulator` reached by `--base-url`).
    synthetic: AtomicBool,
    /// The first journal write that failed: the run stops reporting images as saved.
    error: Mutex<Option<Failure>>,
}

impl Journaling<'_> {
    /// Journals a saved image (durably) and reports it; reports a failed image.
    fn report(&self, out: &Output, phase: &Phase, saved: Saved<'_>) {
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
            phase.set(format!("saving the images (image {} saved)", image.index));
        }
        report_image(out, self.dir, saved);
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

/// Runs `generate`.
pub async fn generate(args: &GenerateArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let built = build_generate(args);
    let (job, recorded) = match built {
        Ok(built) => built,
        Err(failure) => return fail(out, &failure),
    };
    let mode = Mode { command: "generate", stream: args.stream, validate: !args.no_validate };
    execute(mode, job, recorded, &args.out, &args.call, (&args.network, global), out, interrupt).await
}

/// Runs `edit`.
pub async fn edit(args: &EditArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let (job, recorded) = match build_edit(args) {
        Ok(built) => built,
        Err(failure) => return fail(out, &failure),
    };
    let mode = Mode { command: "edit", stream: args.stream, validate: !args.no_validate };
    execute(mode, job, recorded, &args.out, &args.call, (&args.network, global), out, interrupt).await
}

fn format_of(format: Option<Format>) -> Option<ResponseFormat> {
    format.map(|f| match f {
        Format::Url => ResponseFormat::Url,
        Format::B64Json => ResponseFormat::B64Json,
    })
}

/// `--n N` is how relays spell the group size; the flag here is --max-images.
fn refuse_relay_n(n: Option<&str>) -> Result<(), Failure> {
    match n {
        Some(n) => Err(Failure::usage("there is no --n option")
            .with_hint(format!("the number of images is --max-images (or -n): pass --max-images {n}"))),
        None => Ok(()),
    }
}

/// The request, and what the manifest records of it (local images by path, not by content).
fn build_generate(args: &GenerateArgs) -> Result<(Job, Value), Failure> {
    refuse_relay_n(args.relay_n.as_deref())?;
    // With --layers the prompt may be left out: the Go SDK sends "" then, and so do we.
    let model = crate::catalog::current().model(args.model.as_deref());
    let mut request = GenerateRequest::new(model, args.prompt.clone().unwrap_or_default());
    for image in &args.images {
        request = request.with_image(input::image_value(image, None)?);
    }
    if let Some(size) = &args.size {
        request = request.with_size(Size::from_wire(size));
    }
    if let Some(n) = args.max_images {
        request = request.with_max_images(n);
    }
    request.seed = args.seed;
    request.guidance_scale = args.guidance_scale;
    request.response_format = format_of(args.format);
    if args.no_watermark {
        request = request.with_watermark(false);
    }
    if args.stream {
        request = request.with_stream(true);
    }
    request.output_format =
        output_format(&request.model, args.output_format.as_ref(), args.background.as_ref(), args.layers);
    request.background = args.background.clone();
    if args.layers {
        request = request.with_layer_decomposition(true);
    }
    if args.web_search {
        request = request.with_tool(Tool::web_search());
    }
    let mut recorded = serde_json::to_value(&request).unwrap_or(Value::Null);
    if let Some(object) = recorded.as_object_mut()
        && !args.images.is_empty()
    {
        let named: Vec<Value> = args.images.iter().map(|i| Value::from(i.as_str())).collect();
        object.insert("image".into(), if named.len() == 1 { named[0].clone() } else { Value::Array(named) });
    }
    Ok((Job::Generate(request), redact(&recorded)))
}

/// `--output-format`, or PNG for what comes back as PNG. Layers and transparency come back as PNG (the
/// service says so for transparency; for layers it is the only format that carries them), so they ask
/// for PNG unless told otherwise, from models that make PNG (a model that does not is refused for the
/// feature itself, not for PNG).
fn output_format(
    model: &str,
    asked: Option<&OutputFormat>,
    background: Option<&Background>,
    layers: bool,
) -> Option<OutputFormat> {
    let makes_png = crate::catalog::family_of(model).is_none_or(|f| f.takes_output_format("png"));
    let wants_png = makes_png && (layers || background == Some(&Background::Transparent));
    match (asked, wants_png) {
        (Some(asked), _) => Some(asked.clone()),
        (None, true) => Some(OutputFormat::Png),
        (None, false) => None,
    }
}

fn build_edit(args: &EditArgs) -> Result<(Job, Value), Failure> {
    refuse_relay_n(args.relay_n.as_deref())?;
    let mut files = Vec::with_capacity(args.images.len());
    for path in &args.images {
        files.push(input::image_file(path)?);
    }
    let mut files = files.into_iter();
    let Some(first) = files.next() else {
        return Err(Failure::usage("edit needs at least one --image"));
    };
    let model = crate::catalog::current().model(args.model.as_deref());
    let mut request = EditRequest::new(model, args.prompt.clone(), first);
    request.images.extend(files);
    if let Some(mask) = &args.mask {
        request.mask = Some(input::image_file(mask)?);
    }
    request.n = args.max_images.map(ImageCount::Number);
    request.size = args.size.as_deref().map(Size::from_wire);
    request.response_format = format_of(args.format);
    if args.no_watermark {
        request.watermark = Some(false);
    }
    request.seed = args.seed;
    request.guidance_scale = args.guidance_scale;
    request.output_format = output_format(&request.model, args.output_format.as_ref(), args.background.as_ref(), false);
    request.background = args.background.clone();
    if args.web_search {
        request = request.with_tool(Tool::web_search());
    }
    // Images saved one by one as their events arrive come from a generations stream: with --stream
    // the edit goes out as the generations request it is equivalent to (images as data URLs).
    let job = if args.stream {
        Job::Generate(request.clone().with_stream(true).to_generate_request())
    } else {
        Job::Edit(request.clone())
    };
    let path = |p: &Path| Value::from(p.display().to_string());
    let images: Vec<Value> = args.images.iter().map(|p| path(p)).collect();
    let mut recorded = json!({ "model": request.model, "prompt": request.prompt, "image": images });
    if let Some(object) = recorded.as_object_mut() {
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                object.insert(name.into(), value);
            }
        };
        put("mask", args.mask.as_deref().map(path));
        put("n", args.max_images.map(Value::from));
        put("size", args.size.clone().map(Value::from));
        put("response_format", request.response_format.as_ref().map(|f| Value::from(f.as_str())));
        put("watermark", request.watermark.map(Value::from));
        put("seed", args.seed.map(Value::from));
        put("guidance_scale", args.guidance_scale.map(Value::from));
        put("output_format", request.output_format.as_ref().map(|f| Value::from(f.as_str())));
        put("background", request.background.as_ref().map(|b| Value::from(b.as_str())));
        put("tools", request.tools.as_ref().and_then(|tools| serde_json::to_value(tools).ok()));
        put("stream", args.stream.then_some(Value::Bool(true)));
    }
    Ok((job, recorded))
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

#[allow(clippy::too_many_arguments)] // the parts of one command line, passed through once
async fn execute(
    mode: Mode<'_>,
    job: Job,
    recorded: Value,
    dir: &Path,
    call_args: &CallArgs,
    (network, global): (&NetworkArgs, &GlobalArgs),
    out: &Output,
    interrupt: &Interrupt,
) -> Exit {
    let Mode { command, stream, validate } = mode;
    // Check everything local before anything is paid for (unless told not to: the service decides).
    let checked = if validate { job.validate() } else { Ok(Vec::new()) };
    match checked {
        Ok(warnings) => {
            for warning in warnings {
                out.note(&format!("warning: {warning}"));
            }
        }
        Err(invalid) => {
            let mut failure = describe(&Error::Validation(invalid.clone()), Some(job.model()), "");
            failure.hint = validation_hint(job.model(), &invalid.violations).or(failure.hint);
            return fail(out, &failure);
        }
    }
    if let Some(budget) = call_args.image_budget
        && let Err(failure) = within_budget(&job, budget)
    {
        return fail(out, &failure);
    }
    if let Some(note) = crate::catalog::current().lifecycle_note(job.model()) {
        out.note(&note);
    }
    if let Some(note) = crate::catalog::current().model_typo_note(job.model()) {
        out.note(&format!("warning: {note}"));
    }
    let setup = match Setup::resolve(network, global.provider) {
        Ok(setup) => setup,
        Err(failure) => return fail(out, &failure),
    };
    if call_args.dry_run {
        return dry_run(out, &job, &setup);
    }
    if let Err(failure) = prepare_out_dir(dir).and_then(|()| journal::open(dir)) {
        return fail(out, &failure);
    }
    let service = match Service::connect(network, global.provider, call_args, out, validate).await {
        Ok(service) => service,
        Err(failure) => return fail(out, &failure),
    };
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
    let journaling = Journaling {
        dir,
        run: &id,
        command,
        started_at: &started_at,
        service: &service.label,
        key: &key,
        synthetic: AtomicBool::new(service.is_emulator()),
        error: Mutex::new(None),
    };
    let what = format!("{command}: {} with {} on {}", job.wanted(), job.model(), service.label);
    let spinner = out.spinner(&what);
    if !out.animate {
        out.note(&format!("{what}…"));
    }

    let mut outcome = Outcome::empty();
    let phase = Phase::new();
    let clock = Instant::now();
    let finished = {
        let work = call(&service, &job, stream, target, &mut outcome, out, &phase, &journaling);
        let work = tokio::time::timeout(call_args.timeout, work);
        tokio::select! {
            result = work => Some(result.unwrap_or_else(|_| Err(timed_out(call_args, &phase.get())))),
            () = interrupt.wait() => None,
        }
    };
    spinner.finish_and_clear();
    out.finish();
    let finished = match (finished, journaling.take_error()) {
        (Some(Ok(())), Some(failure)) => Some(Err(failure)),
        (finished, _) => finished,
    };
    let failure = match finished {
        None => {
            outcome.settle();
            outcome.status = Status::Interrupted;
            None
        }
        Some(Ok(())) => {
            outcome.settle();
            None
        }
        Some(Err(failure)) => {
            let mut failure = failure.naming_inputs(&recorded);
            // --timeout drops the call unanswered: the id it sent is what names it to support.
            if failure.kind == "timeout" && failure.client_request_id.is_none() {
                failure.client_request_id = outcome.client_request_id.as_deref().map(Box::from);
            }
            outcome.error = Some(failure.record());
            outcome.settle();
            Some(failure)
        }
    };
    out.detail(&format!(
        "{command}: request id {}, client request id {}, {}, {:.1} s",
        // A refused call has no answer to read it from, but its error names it.
        outcome
            .request_id
            .as_deref()
            .or(outcome.error.as_ref().and_then(|e| e.request_id.as_deref()))
            .unwrap_or("(none)"),
        outcome.client_request_id.as_deref().unwrap_or("(none)"),
        attempts_text(outcome.attempts, call_args.retries),
        clock.elapsed().as_secs_f64()
    ));

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
    let record_value = serde_json::to_value(&record).unwrap_or(Value::Null);
    let images = record.outcome.images.len();
    let status = record.outcome.status;
    let saved = journal::append(dir, &Record::Run(Box::new(record.clone())))
        .and_then(|()| journal::rebuild(dir).map(|_| ()))
        .and_then(|()| crate::gallery::refresh(dir));
    if status != Status::Interrupted {
        service.close().await;
    }

    let exit = exit_of(&record.outcome, failure.as_ref());
    let manifest_path = dir.join(crate::manifest::MANIFEST_FILE);
    if let Err(failure) = saved {
        let failure = failure.with_detail(format!("{} saved in {}", count(images as u64, "image"), dir.display()));
        if out.json {
            out.json_line(&json!({ "status": "failed", "exit_code": failure.exit.code(), "error": failure.record() }));
        }
        out.error(&failure.to_string());
        return failure.exit;
    }
    if out.json {
        let mut value = record_value;
        if let Some(object) = value.as_object_mut() {
            object.insert("out_dir".into(), Value::from(dir.display().to_string()));
            object.insert("manifest".into(), Value::from(manifest_path.display().to_string()));
            object.insert("exit_code".into(), Value::from(exit.code()));
        }
        out.json_line(&value);
    }
    if let Some(failure) = &failure {
        out.error(&failure.to_string());
    }
    summarize(out, &record.outcome, dir, &manifest_path);
    exit
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
#[allow(clippy::too_many_arguments)]
async fn call(
    service: &Service,
    job: &Job,
    stream: bool,
    target: Target<'_>,
    outcome: &mut Outcome,
    out: &Output,
    phase: &Phase,
    journaling: &Journaling<'_>,
) -> Result<(), Failure> {
    let model = Some(job.model());
    // Chosen and recorded before sending: a call cut by --timeout or Ctrl-C can still be named.
    let id = seedream_client::new_client_request_id();
    let client = &service.client.with_client_request_id(&id).map_err(|e| describe(&e, model, target.service))?;
    outcome.client_request_id = Some(id);
    let mut report = |saved: Saved<'_>| journaling.report(out, phase, saved);
    phase.set(if stream { "waiting for the stream to start" } else { "waiting for the answer" });
    match job {
        Job::Generate(request) if stream => {
            let mut events = client.generate_stream(request).await.map_err(|e| describe(&e, model, target.service))?;
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
                    Some((index, ImageItem::Failed(failed))) => {
                        record_failed(index, &failed.error, outcome, &mut report)
                    }
                    None => outcome.usage = gatherer.usage().cloned(),
                }
            }
            if outcome.images.is_empty() && outcome.failed_images.is_empty() {
                return Err(no_images(target.service));
            }
            Ok(())
        }
        Job::Generate(request) => {
            // `b64_json` images are decoded into temporary files in the output folder as the answer
            // arrives (a few MiB however large it is), then stamped and saved one at a time.
            let staged =
                client.generate_staged(request, target.dir).await.map_err(|e| describe(&e, model, target.service))?;
            let StagedResponse { response, images, meta, .. } = staged;
            journaling.note_meta(&meta);
            outcome.request_id = meta.request_id;
            outcome.attempts = Some(meta.attempts);
            phase.set(format!("downloading and saving {}", count(response.data.len() as u64, "image")));
            save_response(client, target, response, images, outcome, report).await
        }
        Job::Edit(request) => {
            let (response, meta) =
                client.edit_with_meta(request).await.map_err(|e| describe(&e, model, target.service))?;
            journaling.note_meta(&meta);
            outcome.request_id = meta.request_id;
            outcome.attempts = Some(meta.attempts);
            phase.set(format!("downloading and saving {}", count(response.data.len() as u64, "image")));
            save_response(client, target, response, Vec::new(), outcome, report).await
        }
    }
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

fn fail(out: &Output, failure: &Failure) -> Exit {
    failure.report(out)
}
