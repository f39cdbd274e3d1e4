//! `seedream edit`: one or more local images changed as the prompt says.

use std::path::{Path, PathBuf};

use clap::Args;
use seedream_types::catalog::families;
use seedream_types::{EditRequest, SEEDREAM_5_0_PRO};
use serde_json::{Value, json};

use crate::args::{CallArgs, GlobalArgs, NetworkArgs};
use crate::failure::{Exit, Failure};
use crate::generation_args::GenerationArgs;
use crate::input;
use crate::interrupt::Interrupt;
use crate::job::Job;
use crate::output::Output;
use crate::run::Order;

/// Options of `edit`.
#[derive(Debug, Args)]
// Two shared flags act differently on an edit: their help says how.
#[command(
    mut_arg("max_images", |arg| arg.help("Number of images to make")),
    mut_arg("stream", |arg| arg.help(
        "Receive images one by one as they finish. With --stream the edit is sent as a generations request with \
         the images as data URLs (every service takes that form)"
    ))
)]
pub struct EditArgs {
    #[arg(long = "image", short = 'i', value_name = "PATH", required = true, help = edit_image_help())]
    pub images: Vec<PathBuf>,
    /// What to change.
    #[arg(long, short = 'p')]
    pub prompt: String,
    /// A mask image (relays that support it).
    #[arg(long, value_name = "PATH")]
    pub mask: Option<PathBuf>,
    #[command(flatten)]
    pub generation: GenerationArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub call: CallArgs,
}

/// The examples and notes under `seedream edit --help`.
pub fn after_help() -> String {
    format!(
        "\
Examples:
  seedream edit --image photo.png --prompt \"make it winter\"
  seedream edit --image room.jpg --mask mask.png --prompt \"add a window\" --out edits
  seedream edit --image photo.png --prompt \"make it winter\" --model seededit-3.0 --size adaptive
  seedream edit --image logo.png --prompt \"a sticker\" --model {pro} --background transparent

Relays get a multipart POST /images/edits (every field a form part under its JSON name); Ark (no
edits endpoint) gets the same job as a generations call with the images as data URLs. Images are
saved with the extension of their bytes (.jpg or .png); --background transparent asks for PNG unless
--output-format says otherwise.",
        pro = SEEDREAM_5_0_PRO
    )
}

fn edit_image_help() -> String {
    let max = families().iter().map(|f| f.references.max).max().unwrap_or(1);
    format!("The image to edit, a local file (repeatable: up to {max}, by model; see `seedream models`)")
}

/// Runs `edit`: the request from the flags, then the call (`crate::run`).
pub async fn run(args: &EditArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let (job, recorded) = match request(args) {
        Ok(built) => built,
        Err(failure) => return failure.report(out),
    };
    let order = Order {
        command: "edit",
        job,
        recorded,
        generation: &args.generation,
        network: &args.network,
        call: &args.call,
        global,
    };
    crate::run::run(order, out, interrupt).await
}

/// The request, and what the manifest records of it (the files by path, not by content).
fn request(args: &EditArgs) -> Result<(Job, Value), Failure> {
    let model = args.generation.model();
    let options = args.generation.options(&model, false)?;
    let mut files = Vec::with_capacity(args.images.len());
    for path in &args.images {
        files.push(input::image_file(path)?);
    }
    let mut files = files.into_iter();
    let Some(first) = files.next() else {
        return Err(Failure::usage("edit needs at least one --image"));
    };
    let mut request =
        EditRequest::new(model, args.prompt.clone(), first).with_images(files).with_options(options.clone());
    if let Some(mask) = &args.mask {
        request.mask = Some(input::image_file(mask)?);
    }
    let path = |p: &Path| Value::from(p.display().to_string());
    let images: Vec<Value> = args.images.iter().map(|p| path(p)).collect();
    let mut recorded = json!({ "model": request.model, "prompt": request.prompt, "image": images });
    if let Some(object) = recorded.as_object_mut() {
        if let Some(mask) = &args.mask {
            object.insert("mask".into(), path(mask));
        }
        // The options under the edit's names: the number of images is its `n`.
        if let Ok(Value::Object(set)) = serde_json::to_value(&options) {
            object.extend(set.into_iter().map(|(name, value)| match name.as_str() {
                "max_images" => ("n".to_owned(), value),
                _ => (name, value),
            }));
        }
    }
    // Images saved one by one as their events arrive come from a generations stream: with --stream
    // the edit goes out as the generations request it is equivalent to (images as data URLs).
    let job = if request.is_stream() { Job::Generate(request.to_generate_request()) } else { Job::Edit(request) };
    Ok((job, recorded))
}
