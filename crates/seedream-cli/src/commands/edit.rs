//! `seedream edit`: one or more local images changed as the prompt says.

use std::path::PathBuf;

use clap::Args;
use seedream_types::catalog::families;
use seedream_types::{Background, OutputFormat, SEEDREAM_5_0_PRO};

use crate::args::{CallArgs, DEFAULT_OUT_DIR, GlobalArgs, NO_VALIDATE_HELP, NetworkArgs};
use crate::failure::Exit;
use crate::image_args::{
    Format, background_help, guidance_scale_help, output_format_help, seed_help, size_help, web_search_help,
};
use crate::interrupt::Interrupt;
use crate::output::Output;

/// Options of `edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    #[arg(long = "image", short = 'i', value_name = "PATH", required = true, help = edit_image_help())]
    pub images: Vec<PathBuf>,
    /// What to change.
    #[arg(long, short = 'p')]
    pub prompt: String,
    /// A mask image (relays that support it).
    #[arg(long, value_name = "PATH")]
    pub mask: Option<PathBuf>,
    /// Model id, Ark endpoint id (ep-…), or a family key (seedream-5.0-pro: its current id for
    /// --provider). Default: the catalog's recommended current model (`seedream models`)
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    #[arg(long, short = 's', help = size_help())]
    pub size: Option<String>,
    /// Number of images to make.
    #[arg(long, short = 'n', value_name = "N")]
    pub max_images: Option<i64>,
    #[arg(long, allow_negative_numbers = true, help = seed_help())]
    pub seed: Option<i64>,
    #[arg(long, value_name = "X", help = guidance_scale_help())]
    pub guidance_scale: Option<f64>,
    /// Receive images one by one as they finish. With --stream the edit is sent as a generations
    /// request with the images as data URLs (every service takes that form)
    #[arg(long)]
    pub stream: bool,
    /// How the service returns images (default url).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    #[arg(long, value_name = "FORMAT", help = output_format_help())]
    pub output_format: Option<OutputFormat>,
    #[arg(long, value_name = "BACKGROUND", help = background_help())]
    pub background: Option<Background>,
    #[arg(long, help = web_search_help())]
    pub web_search: bool,
    /// Ask for images without the "AI生成" mark that the service adds bottom right by default (sends
    /// "watermark": false)
    #[arg(long)]
    pub no_watermark: bool,
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

/// Runs `edit`.
pub async fn run(args: &EditArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    crate::run::edit(args, global, out, interrupt).await
}
