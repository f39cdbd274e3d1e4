//! The command line: commands, options, defaults and the `--help` texts (with an example each).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use seedream_types::catalog::{self, ModelFamily, Provider, families};
use seedream_types::{Background, OutputFormat, SEEDREAM_5_0_PRO};

/// Where results go unless `--out` says otherwise.
pub const DEFAULT_OUT_DIR: &str = "seedream-out";
/// Batch: requests in flight at once, by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Batch: images started per minute, by default (the service's limit per account and model).
pub const DEFAULT_IMAGES_PER_MINUTE: u32 = 500;
/// `seedream emulator`: the port it listens on unless `--port` says otherwise.
pub const DEFAULT_EMULATOR_PORT: u16 = 8787;
/// `--timeout`: the deadline of one call (sending, waiting, downloading, saving), by default. A 4K group
/// of 6–9 images takes 4–6 minutes; nothing legitimate takes 15.
pub const DEFAULT_TIMEOUT: &str = "15m";
/// `--idle-timeout`: the longest wait for the next piece of an answer, by default (the client's).
pub const DEFAULT_IDLE_TIMEOUT: &str = "5m";
/// `--retries`: retries after a failure that may pass, by default (the client's 3 attempts).
pub const DEFAULT_RETRIES: u32 = 2;

const MAIN_EXAMPLES: &str = "\
Examples:
  seedream generate --prompt \"a lighthouse at dawn\" --max-images 3
  seedream edit --image photo.png --prompt \"make it winter\"
  seedream batch prompts.jsonl --concurrency 8
  seedream validate request.json
  seedream models
  ARK_API_KEY=... seedream generate --prompt \"a lighthouse at dawn\" --size 2K

Without --base-url or an API key (flags, SEEDREAM_BASE_URL, SEEDREAM_API_KEY, ARK_API_KEY) the
commands that call the service run an embedded emulator: synthetic images, no account needed.

An API key or base URL that is set but empty (--api-key \"\", ARK_API_KEY=) is a usage error, not
the emulator.

Exit status: 0 success; 1 a local file could not be read or written; 2 bad usage or an invalid
request; 3 the service refused the request; 4 the service or the network failed, or --timeout ran
out; 5 partly done (some images or batch lines failed, see the manifest); 130 interrupted.";

/// The `seedream` command.
#[derive(Debug, Parser)]
#[command(
    name = "seedream",
    version,
    about = "Generate and edit images with Seedream / SeedEdit, from a terminal.",
    after_help = MAIN_EXAMPLES
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A secret string (the API key): its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

/// Options every command takes (they may come before or after the command's name).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Print one machine-readable JSON result on stdout, and no progress.
    #[arg(long, global = true)]
    pub json: bool,
    /// Whose service and model ids: volcengine (Ark, ids doubao-…; the default) or byteplus (ModelArk,
    /// https://ark.ap-southeast.bytepluses.com/api/v3, ids dola-… or unprefixed). Sets the base URL
    /// when none is given. Also read from SEEDREAM_PROVIDER.
    #[arg(long, global = true, value_name = "PROVIDER", value_parser = parse_provider, env = "SEEDREAM_PROVIDER")]
    pub provider: Option<Provider>,
    /// A catalog file adding or replacing model families (the format `seedream models --json` prints).
    /// Also read from SEEDREAM_CATALOG.
    #[arg(long, global = true, value_name = "FILE", env = "SEEDREAM_CATALOG")]
    pub catalog: Option<PathBuf>,
}

/// Where and how to reach the service: listed only by the commands that call it (generate, edit,
/// batch, models --remote) or serve it (emulator: --api-key only is read), so no command takes an
/// option it would ignore.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Network options")]
pub struct NetworkArgs {
    /// API base URL: Ark's https://ark.cn-beijing.volces.com/api/v3 (the default when a key is given) or a
    /// relay's https://host/v1. Also read from SEEDREAM_BASE_URL.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// API key, sent as a bearer token. Also read from SEEDREAM_API_KEY, then ARK_API_KEY. Never printed.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<Secret>,
    /// Also trust this PEM certificate (a company proxy's root, or the one `seedream emulator --tls`
    /// writes).
    #[arg(long, value_name = "PEM_FILE")]
    pub ca_cert: Option<PathBuf>,
    /// An extra header for every API request, as "Name: value" (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Send every request through this HTTP proxy, http://[user:password@]host:port (credentials are
    /// sent as Basic auth, never printed). Without it HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY
    /// apply, as for curl.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<Secret>,
    /// Connect straight to the service, ignoring the proxy variables of the environment.
    #[arg(long)]
    pub no_proxy: bool,
}

impl NetworkArgs {
    /// The first option given, as typed on the command line (for commands where none acts).
    pub fn first_given(&self) -> Option<&'static str> {
        [
            (self.base_url.is_some(), "--base-url"),
            (self.api_key.is_some(), "--api-key"),
            (self.ca_cert.is_some(), "--ca-cert"),
            (!self.headers.is_empty(), "--header"),
            (self.proxy.is_some(), "--proxy"),
            (self.no_proxy, "--no-proxy"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// Reads `volcengine` or `byteplus`, in any case.
fn parse_provider(text: &str) -> Result<Provider, String> {
    Provider::from_name(text.trim()).ok_or_else(|| format!("{text:?} is not a provider: use volcengine or byteplus"))
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate images from a prompt (and optional reference images).
    #[command(after_help = generate_after_help())]
    Generate(GenerateArgs),
    /// Edit images: change one or more input images as the prompt says.
    #[command(after_help = edit_after_help())]
    Edit(EditArgs),
    /// Run many generation requests from a JSONL file, concurrently, resumably.
    #[command(after_help = "\
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
failed.")]
    Batch(BatchArgs),
    /// Check generations request files against the model's rules, without any network.
    #[command(after_help = "\
Examples:
  seedream validate request.json
  seedream validate a.json b.json prompts.jsonl --json
  echo '{\"model\": \"doubao-seedream-4-5-251128\", \"prompt\": \"x\", \"size\": \"1K\"}' | seedream validate -
  (the last one is invalid, exit 2: Seedream 4.5 takes no 1K)

Each violation is printed as `field.path: rule`. A request is read as `seedream batch` reads a line:
\"model\" may be left out (the default is Seedream 4.0) and \"image\" may name local files, relative
to the request's file. Batch files (ending in .jsonl or .ndjson, or any file with --batch) are
checked line by line, each problem as `FILE: line N: field: rule`. Exit status: 0 every file
is valid; 2 a file or line is invalid; 1 a file cannot be read (or a single request is not JSON).")]
    Validate(ValidateArgs),
    /// Show what image files carry: format, size, and the provenance seedream wrote into them.
    #[command(after_help = "\
Examples:
  seedream inspect seedream-out/a-lighthouse-at-dawn-20261129-134000-0.jpg
  seedream inspect seedream-out/*.png --json

Prints each file's prompt, model, size, seed, request id, time, whether it is synthetic (made by
the emulator) and the tool that saved it, or says that the file carries no seedream provenance.
Exit status: 0 every file could be read (with or without provenance); 1 a file is missing,
unreadable, damaged, or not a JPEG or PNG.")]
    Inspect(InspectArgs),
    /// Print the JSON Schema of a wire type.
    #[command(after_help = "\
Examples:
  seedream schema
  seedream schema response > response.schema.json")]
    Schema(SchemaArgs),
    /// List the model families and what each takes: sizes, references, groups, streams, PNG, layers.
    #[command(after_help = "\
Examples:
  seedream models
  seedream models --json

The table is the catalog the local checks use. --json prints it as an array of objects, one per
family, with every limit.")]
    Models(ModelsArgs),
    /// Serve the emulator (a local stand-in for the service) until interrupted.
    #[command(after_help = "\
Examples:
  seedream emulator
  seedream emulator --port 0 --tls --api-key test-key

Prints the relay-style base URL (…/v1, with /images/edits) and the Ark-style one (…/api/v3); with
--tls also the path of its certificate, to pass to --ca-cert. Then, in another terminal:
  seedream generate --base-url http://127.0.0.1:8787/v1 --api-key any --prompt \"a lighthouse\"")]
    Emulator(EmulatorArgs),
    /// Sum what output folders' runs bought: runs, images, tokens, web searches, per model and in all.
    #[command(after_help = "\
Examples:
  seedream usage
  seedream usage run1 run2 --since 2026-12-01 --json

Reads each folder's journal.jsonl (written by generate, edit and batch; nothing is sent or written).
Every call counts, a batch line run twice twice. The estimated cost uses the price per generated image
in the model's catalog row (a catalog file, --catalog, may state one); a model without a price says
\"no price\". Synthetic images (made by the emulator) are counted apart and never priced.")]
    Usage(UsageArgs),
    /// Print a shell completion script (bash, zsh, fish or powershell) on stdout.
    #[command(after_help = "\
Examples:
  seedream completions bash > ~/.local/share/bash-completion/completions/seedream
  seedream completions zsh > ~/.zfunc/_seedream
  seedream completions fish > ~/.config/fish/completions/seedream.fish")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout.
    #[command(after_help = "\
Examples:
  seedream manpage > ~/.local/share/man/man1/seedream.1
  seedream manpage | man -l -")]
    Manpage,
}

/// `response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A download link (expires after 24 hours); the image is downloaded at once.
    Url,
    /// The image bytes in the response, base64-encoded.
    #[value(name = "b64_json")]
    B64Json,
}

/// The examples and notes under `seedream generate --help`.
fn generate_after_help() -> String {
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

/// The examples and notes under `seedream edit --help`.
fn edit_after_help() -> String {
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

/// `Seedream 5.0 pro, Seedream 5.0 flash`: the families that take something, from the catalog.
fn takers(takes: impl Fn(&ModelFamily) -> bool) -> String {
    catalog::names_where(takes)
}

fn size_help() -> String {
    let presets: Vec<String> = families()
        .iter()
        .filter(|f| !f.size.presets.is_empty())
        .map(|f| {
            let words: Vec<&str> = f.size.presets.iter().map(|p| p.as_str()).collect();
            format!("{} {}", f.name, words.join(" "))
        })
        .collect();
    format!(
        "Output size: a preset (any case; {}), WxH such as 2048x2048 (limits: `seedream models`), adaptive \
         ({}) or auto (with --layers)",
        presets.join("; "),
        takers(|f| f.size.adaptive)
    )
}

fn max_images_help() -> String {
    let total = families().iter().filter_map(|f| f.group.map(|g| g.max_total)).max().unwrap_or(0);
    format!(
        "Generate a group of up to N images (group generation; references + images ≤ {total}; {})",
        takers(|f| f.takes_group())
    )
}

fn seed_help() -> String {
    match families().iter().find_map(|f| f.seed) {
        Some(range) => format!("Random seed, {} to {} ({})", range.min, range.max, takers(|f| f.seed.is_some())),
        None => "Random seed".into(),
    }
}

fn guidance_scale_help() -> String {
    match families().iter().find_map(|f| f.guidance_scale) {
        Some(range) => {
            format!("Prompt weight, {} to {} ({})", range.min, range.max, takers(|f| f.guidance_scale.is_some()))
        }
        None => "Prompt weight".into(),
    }
}

fn stream_help() -> String {
    format!("Receive images one by one as they finish (server-sent events; {})", takers(|f| f.stream))
}

fn output_format_help() -> String {
    format!(
        "File format the service makes: jpeg or png, or a newer value sent as written (default jpeg, png on \
         Seedream 5.5; --layers and --background transparent: png). png is for {}",
        takers(|f| f.takes_output_format("png"))
    )
}

fn background_help() -> String {
    format!(
        "opaque, transparent or auto (the model decides), or a newer value sent as written. transparent makes \
         a PNG with a transparent background: on 5.0 from the one --image (it must have an alpha channel), on \
         5.5 from the prompt alone. For {}",
        takers(|f| f.takes_transparent())
    )
}

fn layers_help() -> String {
    let max = families().iter().filter_map(|f| f.layers.as_ref().map(|l| l.max_layers)).max().unwrap_or(0);
    format!(
        "Layer decomposition: split the one --image into a base image and up to {max} layers, saved as PNG files \
         and one OpenRaster file (.ora); --prompt may be left out. For {}",
        takers(|f| f.layers.is_some())
    )
}

fn web_search_help() -> String {
    let takes = |f: &ModelFamily| f.takes_tool("web_search");
    let offered = families().iter().any(|f| takes(f) && f.status.is_offered());
    let note = if offered { "" } else { " (retired: only endpoints made before then take it)" };
    format!("Let the model search the web for what the prompt names (tools: web_search). For {}{note}", takers(takes))
}

fn edit_image_help() -> String {
    let max = families().iter().map(|f| f.references.max).max().unwrap_or(1);
    format!("The image to edit, a local file (repeatable: up to {max}, by model; see `seedream models`)")
}

/// Options of the commands that call the service (generate, edit, batch).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Call options")]
pub struct CallArgs {
    /// Deadline for the whole call, downloads and saving included (batch: per line): 30, 30s, 500ms,
    /// 5m (or 5min), 1h.
    /// When it runs out the command stops with exit status 4, naming what it was doing
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = DEFAULT_TIMEOUT)]
    pub timeout: Duration,
    /// Longest wait for the next piece of an answer, such as the next image of a stream: 30, 30s, 500ms,
    /// 5m (or 5min)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = DEFAULT_IDLE_TIMEOUT)]
    pub idle_timeout: Duration,
    /// Retries after a failure that may pass: rate limits, 5xx, a connection that could not be opened
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RETRIES,
          value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=20))]
    pub retries: u32,
    /// Print only results and errors (no notes, no progress)
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print attempts, request ids and timings (never the API key)
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Check the request and print the exact JSON that would be sent (data URLs abbreviated); send
    /// nothing, write nothing. Exit status 0, or 2 when invalid
    #[arg(long)]
    pub dry_run: bool,
    /// The most images this run may buy. A call starts only when the most images it can make (its
    /// max images, or 1; with layers the base and the layer cap) fit in what is left; batch lines left
    /// out are recorded as not_run and run on the next run
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=1_000_000))]
    pub image_budget: Option<u64>,
}

/// Reads a duration: `30` (seconds), `30s`, `500ms`, `5m` (`5min`), `1h`; more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration such as 30, 30s, 500ms, 5m (5min) or 1h"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s, m (or min) or h (30, 30s, 500ms, 10ms, 5m, 5min, 1h)"
            ));
        }
    };
    if !(seconds > 0.0 && seconds <= 7.0 * 24.0 * 3600.0) {
        return Err(format!("{text:?} must be more than zero and at most a week"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A duration as the flags take it: `30s`, `5m`, `1h`, `1.5s`.
pub fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds >= 3600.0 && seconds % 3600.0 == 0.0 {
        format!("{}h", seconds / 3600.0)
    } else if seconds >= 60.0 && seconds % 60.0 == 0.0 {
        format!("{}m", seconds / 60.0)
    } else {
        format!("{seconds}s")
    }
}

const NO_VALIDATE_HELP: &str =
    "Skip the local checks of the model's rules and send the request as it is (the service decides)";

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

/// Options of `models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Ask the service (`GET {base}/models`) which models it lists, merged with the catalog: the
    /// status from the service, the rules from the catalog, and ids the catalog does not know marked so
    #[arg(long)]
    pub remote: bool,
    /// How to reach the service, with --remote.
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Options of `usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Output folders (default: seedream-out).
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Count only what started (runs) or ended (batch lines) on or after this UTC date or time:
    /// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
}

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// PowerShell.
    Powershell,
}

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Which shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Options of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image files (JPEG or PNG).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// Options of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Request files (JSON, or JSONL by extension); `-` or nothing reads standard input.
    #[arg(value_name = "FILE|-")]
    pub files: Vec<String>,
    /// Read every file as a batch file (JSONL) whatever its name, with the batch's defaults: a missing
    /// "model" is Seedream 4.0, local image paths are relative to the file and must be images
    #[arg(long)]
    pub batch: bool,
}

/// The schemas `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaName {
    /// The generations request body.
    Request,
    /// The response body of both endpoints.
    Response,
    /// One server-sent event of a stream.
    StreamEvent,
    /// The error body.
    Error,
}

impl SchemaName {
    /// The name `seedream_types::schema::by_name` knows it by.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaName::Request => "request",
            SchemaName::Response => "response",
            SchemaName::StreamEvent => "stream-event",
            SchemaName::Error => "error",
        }
    }
}

/// Options of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, default_value = "request")]
    pub name: SchemaName,
}

/// Options of `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = DEFAULT_EMULATOR_PORT)]
    pub port: u16,
    /// Serve HTTPS with a fresh self-signed certificate (written to --cert-out).
    #[arg(long)]
    pub tls: bool,
    /// Where to write the certificate with --tls (default: a file in the temporary directory).
    #[arg(long, value_name = "PATH", requires = "tls")]
    pub cert_out: Option<PathBuf>,
    /// Inject a fault into every request, as in the x-emulator-fault header:
    /// NAME[;times=N][;images=I,J][;reason=R] (rate-limit, quota, server-error, bad-gateway, reset,
    /// slow-headers, stall, stream-cut, stream-error, invalid-json, moderate, moderate-prompt,
    /// prompt-risk, moderate-input).
    #[arg(long, value_name = "SPEC")]
    pub fault: Option<String>,
    /// The key clients must send (default: any key is taken).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example_in_its_help() {
        let mut command = Cli::command();
        for sub in command.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(help.contains("Examples:\n  seedream "), "{} has no example", sub.get_name());
        }
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let cli = Cli::try_parse_from(["seedream", "--json", "schema", "error"]).unwrap();
        assert!(cli.global.json);
        let cli = Cli::try_parse_from(["seedream", "validate", "--json", "a.json"]).unwrap();
        assert!(cli.global.json);
        let Command::Validate(args) = cli.command else { panic!("not validate") };
        assert_eq!(args.files, ["a.json"]);
    }

    #[test]
    fn the_api_key_is_redacted_in_debug() {
        let cli = Cli::try_parse_from(["seedream", "generate", "-p", "x", "--api-key", "sk-very-secret"]).unwrap();
        assert!(!format!("{cli:?}").contains("sk-very-secret"));
        let Command::Generate(args) = cli.command else { panic!("not generate") };
        assert_eq!(args.network.api_key.unwrap().expose(), "sk-very-secret");
    }

    #[test]
    fn generate_defaults_and_formats() {
        let cli =
            Cli::try_parse_from(["seedream", "generate", "-p", "x", "--format", "b64_json", "--seed", "-1"]).unwrap();
        let Command::Generate(args) = cli.command else { panic!("not generate") };
        assert_eq!(args.model, None, "the default comes from the catalog when the command runs");
        assert_eq!(args.format, Some(Format::B64Json));
        assert_eq!(args.seed, Some(-1));
        assert_eq!(args.out, PathBuf::from(DEFAULT_OUT_DIR));
        assert!(Cli::try_parse_from(["seedream", "batch", "f.jsonl", "--concurrency", "0"]).is_err());
    }
}
