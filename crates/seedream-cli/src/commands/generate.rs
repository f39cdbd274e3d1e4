//! `seedream generate`: images from a prompt and optional reference images.

use std::path::PathBuf;

use clap::Args;
use seedream_types::{Background, OutputFormat, SEEDREAM_5_0_PRO};

use crate::args::{CallArgs, DEFAULT_OUT_DIR, GlobalArgs, NO_VALIDATE_HELP, NetworkArgs};
use crate::failure::Exit;
use crate::image_args::{
    Format, background_help, guidance_scale_help, layers_help, max_images_help, output_format_help, seed_help,
    size_help, stream_help, web_search_help,
};
use crate::interrupt::Interrupt;
use crate::output::Output;

/// Options of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to draw (may be left out with --layers).
    #[arg(long, short = 'p', required_unless_present = "layers")]
    pub prompt: Option<String>,
    /// Model id, Ark endpoint id (ep-…), or a family key (seedream-5.0-pro: its current id for
    /// --provider). Default: the catalog's recommended current model (`seedream models`)
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// A reference image: a local file (sent as a data URL) or an http(s) URL (repeatable).
    #[arg(long = "image", short = 'i', value_name = "PATH|URL")]
    pub images: Vec<String>,
    // Help texts naming families are built from the catalog rows.
    #[arg(long, short = 's', help = size_help())]
    pub size: Option<String>,
    #[arg(long, short = 'n', value_name = "N", help = max_images_help())]
    pub max_images: Option<i64>,
    #[arg(long, allow_negative_numbers = true, help = seed_help())]
    pub seed: Option<i64>,
    #[arg(long, value_name = "X", help = guidance_scale_help())]
    pub guidance_scale: Option<f64>,
    /// How the service returns images (default url).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    #[arg(long, value_name = "FORMAT", help = output_format_help())]
    pub output_format: Option<OutputFormat>,
    #[arg(long, value_name = "BACKGROUND", help = background_help())]
    pub background: Option<Background>,
    #[arg(long, help = layers_help())]
    pub layers: bool,
    #[arg(long, help = web_search_help())]
    pub web_search: bool,
    /// Ask for images without the "AI生成" mark that the service adds bottom right by default (sends
    /// "watermark": false)
    #[arg(long)]
    pub no_watermark: bool,
    #[arg(long, help = stream_help())]
    pub stream: bool,
    #[arg(long, help = NO_VALIDATE_HELP)]
    pub no_validate: bool,
    /// `--n N`, the relays' spelling: refused with a pointer to --max-images, not guessed at.
    #[arg(long = "n", value_name = "N", hide = true)]
    pub relay_n: Option<String>,
    /// Directory for the images, manifest.json and journal.jsonl (created if needed).
    #[arg(long, short = 'o', value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
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

/// Runs `generate`.
pub async fn run(args: &GenerateArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    crate::run::generate(args, global, out, interrupt).await
}
