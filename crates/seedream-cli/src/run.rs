//! `seedream generate` and `seedream edit`: build the request, check it, call the service (with a
//! spinner, or a line per image with `--stream`), save the images and append the run to the manifest.

use std::path::Path;

use futures_util::StreamExt as _;
use seedream_client::Error;
use seedream_types::{
    Background, EditRequest, GenerateRequest, ImageCount, ImageFormat, OutputFormat, ResponseFormat, Size, StreamEvent,
    Tool, ValidationError, Violation, catalog,
};
use serde_json::{Value, json};

use crate::cli::{BackgroundArg, EditArgs, Format, GenerateArgs, GlobalArgs, OutputFormatArg};
use crate::failure::{Exit, Failure};
use crate::input;
use crate::interrupt::Interrupt;
use crate::manifest::{Manifest, Outcome, RunRecord, Status, now_compact, now_rfc3339, prepare_out_dir, redact};
use crate::output::Output;
use crate::save::{Saved, Target, record_failed, requested_format, save_image, save_response, slug, stamp};
use crate::service::{Service, describe, validation_hint};

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
        let count = match self {
            Job::Generate(request) if request.is_layer_decomposition() => {
                let layers = catalog::family_of(&request.model).and_then(|f| f.layers).map(|l| l.max_layers);
                return match layers {
                    Some(max) => format!("a base image and up to {max} layers"),
                    None => "a base image and its layers".into(),
                };
            }
            Job::Generate(request) => request.max_output_images(),
            Job::Edit(request) => request.n.as_ref().and_then(ImageCount::value).unwrap_or(1).clamp(1, 15) as usize,
        };
        if count == 1 { "up to 1 image".into() } else { format!("up to {count} images") }
    }

    fn validate(&self) -> Result<Vec<Violation>, ValidationError> {
        match self {
            Job::Generate(request) => request.validate(),
            Job::Edit(request) => request.validate(),
        }
    }

    /// The file format asked for: the extension of bytes that neither show nor state theirs.
    fn requested_format(&self) -> ImageFormat {
        match self {
            Job::Generate(request) => requested_format(request.output_format.as_ref()),
            Job::Edit(_) => ImageFormat::Jpeg,
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

/// Runs `generate`.
pub async fn generate(args: &GenerateArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let built = build_generate(args);
    let (job, recorded) = match built {
        Ok(built) => built,
        Err(failure) => return fail(out, &failure),
    };
    let mode = Mode { command: "generate", stream: args.stream, validate: !args.no_validate };
    execute(mode, job, recorded, &args.out, global, out, interrupt).await
}

/// Runs `edit`.
pub async fn edit(args: &EditArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let (job, recorded) = match build_edit(args) {
        Ok(built) => built,
        Err(failure) => return fail(out, &failure),
    };
    let mode = Mode { command: "edit", stream: false, validate: !args.no_validate };
    execute(mode, job, recorded, &args.out, global, out, interrupt).await
}

fn format_of(format: Option<Format>) -> Option<ResponseFormat> {
    format.map(|f| match f {
        Format::Url => ResponseFormat::Url,
        Format::B64Json => ResponseFormat::B64Json,
    })
}

/// The request, and what the manifest records of it (local images by path, not by content).
fn build_generate(args: &GenerateArgs) -> Result<(Job, Value), Failure> {
    // With --layers the prompt may be left out: the Go SDK sends "" then, and so do we.
    let mut request = GenerateRequest::new(args.model.clone(), args.prompt.clone().unwrap_or_default());
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
    // Layers and transparency come back as PNG (the service says so for transparency; for layers it
    // is the only format that carries them), so they ask for PNG unless told otherwise, from models
    // that make PNG (a model that does not is refused for the feature itself, not for PNG).
    let makes_png = catalog::family_of(&args.model).is_none_or(|f| f.output_formats.contains(&"png"));
    let wants_png = makes_png && (args.layers || args.background == Some(BackgroundArg::Transparent));
    let output_format = match (args.output_format, wants_png) {
        (Some(OutputFormatArg::Png), _) | (None, true) => Some(OutputFormat::Png),
        (Some(OutputFormatArg::Jpeg), _) => Some(OutputFormat::Jpeg),
        (None, false) => None,
    };
    if let Some(format) = output_format {
        request = request.with_output_format(format);
    }
    if let Some(background) = args.background {
        request = request.with_background(match background {
            BackgroundArg::Transparent => Background::Transparent,
            BackgroundArg::Opaque => Background::Opaque,
        });
    }
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

fn build_edit(args: &EditArgs) -> Result<(Job, Value), Failure> {
    let mut files = Vec::with_capacity(args.images.len());
    for path in &args.images {
        files.push(input::image_file(path)?);
    }
    let mut files = files.into_iter();
    let Some(first) = files.next() else {
        return Err(Failure::usage("edit needs at least one --image"));
    };
    let mut request = EditRequest::new(args.model.clone(), args.prompt.clone(), first);
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
    }
    Ok((Job::Edit(request), recorded))
}

async fn execute(
    mode: Mode<'_>,
    job: Job,
    recorded: Value,
    dir: &Path,
    global: &GlobalArgs,
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
    if let Err(failure) = prepare_out_dir(dir) {
        return fail(out, &failure);
    }
    let mut manifest = match Manifest::load(dir) {
        Ok(manifest) => manifest,
        Err(failure) => return fail(out, &failure),
    };
    let service = match Service::connect(global, out, validate).await {
        Ok(service) => service,
        Err(failure) => return fail(out, &failure),
    };
    let id = unique_id(&manifest, dir, &slug(job.prompt()));
    let started_at = now_rfc3339();
    let seed = match &job {
        Job::Generate(request) => request.seed,
        Job::Edit(_) => None,
    };
    let stamp = stamp(job.prompt(), job.model(), seed, service.is_emulator());
    let target =
        Target { dir, stem: &id, service: &service.label, requested: job.requested_format(), provenance: Some(&stamp) };
    let what = format!("{command}: {} with {} on {}", job.wanted(), job.model(), service.label);
    let spinner = out.spinner(&what);
    if !out.animate {
        out.note(&format!("{what}…"));
    }

    let mut outcome = Outcome::empty();
    let finished = {
        let work = call(&service, &job, stream, target, &mut outcome, out);
        tokio::select! {
            result = work => Some(result),
            () = interrupt.wait() => None,
        }
    };
    spinner.finish_and_clear();
    out.finish();
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
            outcome.error = Some(failure.record());
            outcome.settle();
            Some(failure)
        }
    };

    let record = RunRecord {
        id: id.clone(),
        command: command.to_owned(),
        started_at,
        finished_at: now_rfc3339(),
        service: service.label.clone(),
        request: recorded,
        outcome,
        extra: serde_json::Map::new(),
    };
    let record_value = serde_json::to_value(&record).unwrap_or(Value::Null);
    manifest.runs.push(record.clone());
    let saved = manifest.save(dir).and_then(|()| crate::gallery::refresh(dir));
    if record.outcome.status != Status::Interrupted {
        service.close().await;
    }

    let exit = exit_of(&record.outcome, failure.as_ref());
    let manifest_path = dir.join(crate::manifest::MANIFEST_FILE);
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
    if let Err(failure) = saved {
        let failure =
            failure.with_detail(format!("{} image(s) were saved in {}", record.outcome.images.len(), dir.display()));
        out.error(&failure.to_string());
        return failure.exit;
    }
    summarize(out, &record.outcome, dir, &manifest_path);
    exit
}

/// Sends the request and saves what comes back, recording into `outcome` as it goes (so an interrupt
/// keeps what is saved).
async fn call(
    service: &Service,
    job: &Job,
    stream: bool,
    target: Target<'_>,
    outcome: &mut Outcome,
    out: &Output,
) -> Result<(), Failure> {
    let client = &service.client;
    let model = Some(job.model());
    let mut report = |saved: Saved<'_>| report_image(out, target.dir, saved);
    match job {
        Job::Generate(request) if stream => {
            let mut events = client.generate_stream(request).await.map_err(|e| describe(&e, model, target.service))?;
            outcome.request_id = events.request_id().map(str::to_owned);
            outcome.attempts = Some(events.meta().attempts);
            while let Some(event) = events.next().await {
                match event.map_err(|e| describe(&e, model, target.service))? {
                    StreamEvent::PartialSucceeded(mut event) => {
                        outcome.model = outcome.model.take().or(event.model.take());
                        let index = event.image_index;
                        save_image(client, target, index, event.into_image(), outcome, &mut report).await?;
                    }
                    StreamEvent::PartialFailed(event) => {
                        outcome.model = outcome.model.take().or(event.model.clone());
                        record_failed(event.image_index, &event.error, outcome, &mut report);
                    }
                    StreamEvent::Completed(event) => {
                        outcome.model = outcome.model.take().or(event.model);
                        outcome.usage = event.usage;
                    }
                    StreamEvent::Error(_) | StreamEvent::Unknown(_) => {}
                }
            }
            Ok(())
        }
        Job::Generate(request) => {
            let (response, meta) =
                client.generate_with_meta(request).await.map_err(|e| describe(&e, model, target.service))?;
            outcome.request_id = meta.request_id;
            outcome.attempts = Some(meta.attempts);
            save_response(client, target, response, outcome, report).await
        }
        Job::Edit(request) => {
            let (response, meta) =
                client.edit_with_meta(request).await.map_err(|e| describe(&e, model, target.service))?;
            outcome.request_id = meta.request_id;
            outcome.attempts = Some(meta.attempts);
            save_response(client, target, response, outcome, report).await
        }
    }
}

fn report_image(out: &Output, dir: &Path, saved: Saved<'_>) {
    match saved {
        Saved::Image(image) => {
            let size = image.size.as_deref().map(|s| format!("  {s}")).unwrap_or_default();
            out.line(&format!("{}{size}", dir.join(&image.file).display()));
        }
        Saved::Failed(failed) => {
            out.note(&format!("image {} failed: {}: {}", failed.index, failed.code, failed.message));
        }
    }
}

fn summarize(out: &Output, outcome: &Outcome, dir: &Path, manifest: &Path) {
    if let Some(ora) = &outcome.openraster {
        out.line(&format!("{}  (OpenRaster: the base image and every layer)", dir.join(ora).display()));
    }
    let saved = outcome.images.len();
    let failed = outcome.failed_images.len();
    let images = |n: usize| if n == 1 { "1 image".to_owned() } else { format!("{n} images") };
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
        Status::Failed => match failure {
            Some(failure) => failure.exit,
            // Every image failed: moderation refused them, or every download failed.
            None if outcome.failed_images.iter().all(|f| f.code == "DownloadFailed") => Exit::Unavailable,
            None => Exit::Refused,
        },
    }
}

/// A run id not used yet in this directory: `{slug}-{YYYYMMDD-HHMMSS}`, with a suffix when taken.
/// An id is taken when a run has it or a file starts with it (`{id}-0.png`, `{id}-00-base.png`,
/// `{id}.ora`, whatever the extension).
fn unique_id(manifest: &Manifest, dir: &Path, slug: &str) -> String {
    let base = format!("{slug}-{}", now_compact());
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    let owns = |id: &str, name: &str| name.strip_prefix(id).is_some_and(|rest| rest.starts_with(['-', '.']));
    let taken = |id: &str| manifest.has_run(id) || names.iter().any(|name| owns(id, name));
    if !taken(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}-{n}")).find(|id| !taken(id)).unwrap_or(base)
}

fn fail(out: &Output, failure: &Failure) -> Exit {
    if out.json {
        out.json_line(&json!({ "status": "failed", "exit_code": failure.exit.code(), "error": failure.record() }));
    }
    out.error(&failure.to_string());
    failure.exit
}
