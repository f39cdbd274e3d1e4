//! `seedream batch`: the command line of a batch run; the run itself is `crate::batch`.

use std::path::PathBuf;

use clap::Args;

use crate::args::{CallArgs, DEFAULT_OUT_DIR, GlobalArgs, NO_VALIDATE_HELP, NetworkArgs};
use crate::failure::Exit;
use crate::interrupt::Interrupt;
use crate::output::Output;

/// Batch: requests in flight at once, by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Batch: images started per minute, by default (the service's limit per account and model).
pub const DEFAULT_IMAGES_PER_MINUTE: u32 = 500;

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream batch prompts.jsonl
  seedream batch prompts.jsonl --concurrency 8 --images-per-minute 300 --out run1

Each non-blank line is one generations request, as JSON:
  {\"model\": \"doubao-seedream-4-0-250828\", \"prompt\": \"a lighthouse at dawn\", \"size\": \"2K\"}
(\"model\" may be left out: the default is Seedream 4.0; \"image\" may name local files, relative to
the JSONL file.) Every line's result or error is journaled in --out/journal.jsonl before it is
reported, and shown in --out/manifest.json. Run the same command again to resume: a line whose request
(as sent, local images by content) already has a complete result from the same service is skipped,
wherever it sits in the file; failed and edited lines run again. The exit status is 5 when any line
failed.";

/// Options of `batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The JSONL file: one generations request per line.
    #[arg(value_name = "FILE.jsonl")]
    pub file: PathBuf,
    /// Requests in flight at once (1 to 64).
    #[arg(long, short = 'c', default_value_t = DEFAULT_CONCURRENCY,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub concurrency: usize,
    /// Most images started in any minute (the service allows 500 per account and model).
    #[arg(long, default_value_t = DEFAULT_IMAGES_PER_MINUTE,
          value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=100_000))]
    pub images_per_minute: u32,
    #[arg(long, help = NO_VALIDATE_HELP)]
    pub no_validate: bool,
    /// Directory for the images, manifest.json and journal.jsonl (created if needed; reuse it to resume).
    #[arg(long, short = 'o', value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub call: CallArgs,
}

/// Runs `batch`.
pub async fn run(args: &BatchArgs, global: &GlobalArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    crate::batch::run(args, global, out, interrupt).await
}
