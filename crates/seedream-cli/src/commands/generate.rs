//! `seedream generate`: images from a prompt and optional reference images.

use clap::Args;
use seedream_types::catalog::{self, families};
use seedream_types::{GenerateRequest, SEEDREAM_5_0_PRO};
use serde_json::Value;

use crate::args::{CallArgs, GlobalArgs, NetworkArgs};
use crate::failure::{Exit, Failure};
use crate::generation_args::GenerationArgs;
use crate::input;
use crate::interrupt::Interrupt;
use crate::job::Job;
use crate::manifest::redact;
use crate::output::Output;
use crate::run::Order;

/// Options of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to draw (may be left out with --layers).
    #[arg(long, short = 'p', required_unless_present = "layers")]
    pub prompt: Option<String>,
    /// A reference image: a local file (sent as a data URL) or an http(s) URL (repeatable).
    #[arg(long = "image", short = 'i', value_name = "PATH|URL")]
    pub images: Vec<String>,
    #[arg(long, help = layers_help())]
    pub layers: bool,
    #[command(flatten)]
    pub generation: GenerationArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub call: CallArgs,
}

/// The examples and notes under `seedream generate --help`.
pub fn after_help() -> String {
    format!(
        "\
Examples:
  seedream generate --prompt \"a lighthouse at dawn\" --max-images 3
  seedream generate --prompt \"the same cat, as a watercolour\" --image cat.jpg --size 2K
  seedream generate --prompt \"a comic strip, four panels\" --max-images 4 --stream --out comics
  seedream generate --model {pro} --image logo.png --layers

Images are saved under --out with the extension of their bytes (.jpg or .png), with manifest.json
beside them (the request without secrets, the model, sizes, usage, the request id and any per-image
errors). Links (--format url, the default) expire after 24 hours, so images are downloaded at once.
With --layers the base image and every layer are saved as <name>-00-base.png, <name>-01-<layer>.png,
…, and together as one OpenRaster file <name>.ora (opens as a layered image in GIMP and Krita).
`seedream models` lists what each model takes.",
        pro = SEEDREAM_5_0_PRO
    )
}

fn layers_help() -> String {
    let max = families().iter().filter_map(|f| f.layers.as_ref().map(|l| l.max_layers)).max().unwrap_or(0);
    format!(
        "Layer decomposition: split the one --image into a base image and up to {max} layers, saved as PNG files \
         and one OpenRaster file (.ora); --prompt may be left out. For {}",
        catalog::names_where(|f| f.layers.is_some())
    )
}

/// Runs `generate`: the request from the flags, then the call (`crate::run`).
pub async fn run(args: &GenerateArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let (job, recorded) = match request(args) {
        Ok(built) => built,
        Err(failure) => return failure.report(out),
    };
    let order = Order {
        command: "generate",
        job,
        recorded,
        generation: &args.generation,
        network: &args.network,
        call: &args.call,
        global,
    };
    crate::run::run(order, out, interrupt).await
}

/// The request, and what the manifest records of it (local images by path, not by content).
fn request(args: &GenerateArgs) -> Result<(Job, Value), Failure> {
    let model = args.generation.model();
    let options = args.generation.options(&model, args.layers)?;
    // With --layers the prompt may be left out: the Go SDK sends "" then, and so do we.
    let mut request = GenerateRequest::new(model, args.prompt.clone().unwrap_or_default());
    for image in &args.images {
        request = request.with_image(input::image_value(image, None)?);
    }
    let mut request = request.with_options(options);
    if args.layers {
        request = request.with_layer_decomposition(true);
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
