//! The command line: commands, options, defaults and the `--help` texts (with an example each).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};
use seedream_types::SEEDREAM_4_0;

/// Where results go unless `--out` says otherwise.
pub const DEFAULT_OUT_DIR: &str = "seedream-out";
/// Batch: requests in flight at once, by default.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Batch: images started per minute, by default (the service's limit per account and model).
pub const DEFAULT_IMAGES_PER_MINUTE: u32 = 500;
/// `seedream emulator`: the port it listens on unless `--port` says otherwise.
pub const DEFAULT_EMULATOR_PORT: u16 = 8787;

const MAIN_EXAMPLES: &str = "\
Examples:
  seedream generate --prompt \"a lighthouse at dawn\" --max-images 3
  seedream edit --image photo.png --prompt \"make it winter\"
  seedream batch prompts.jsonl --concurrency 8
  seedream validate request.json
  ARK_API_KEY=... seedream generate --prompt \"a lighthouse at dawn\" --size 2K

Without --base-url or an API key (flags, SEEDREAM_BASE_URL, SEEDREAM_API_KEY, ARK_API_KEY) the
commands that call the service run an embedded emulator: synthetic images, no account needed.

Exit status: 0 success; 1 a local file could not be read or written; 2 bad usage or an invalid
request; 3 the service refused the request; 4 the service or the network failed; 5 partly done
(some images or batch lines failed, see the manifest); 130 interrupted.";

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
    /// API base URL: Ark's https://ark.cn-beijing.volces.com/api/v3 (the default when a key is given) or a
    /// relay's https://host/v1.
    #[arg(long, global = true, env = "SEEDREAM_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// API key, sent as a bearer token. Also read from SEEDREAM_API_KEY, then ARK_API_KEY. Never printed.
    #[arg(long, global = true, env = "SEEDREAM_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<Secret>,
    /// Also trust this PEM certificate (for example the one `seedream emulator --tls` writes).
    #[arg(long, global = true, value_name = "PEM_FILE")]
    pub ca_cert: Option<PathBuf>,
    /// An extra header for every API request, as "Name: value" (repeatable).
    #[arg(long = "header", short = 'H', global = true, value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Print one machine-readable JSON result on stdout, and no progress.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate images from a prompt (and optional reference images).
    #[command(after_help = "\
Examples:
  seedream generate --prompt \"a lighthouse at dawn\" --max-images 3
  seedream generate --prompt \"the same cat, as a watercolour\" --image cat.jpg --size 2K
  seedream generate --prompt \"a comic strip, four panels\" --max-images 4 --stream --out comics

Images are saved under --out as JPEG files, with manifest.json beside them (the request without
secrets, the model, sizes, usage, the request id and any per-image errors). Links (--format url,
the default) expire after 24 hours, so images are downloaded at once.")]
    Generate(GenerateArgs),
    /// Edit images: change one or more input images as the prompt says.
    #[command(after_help = "\
Examples:
  seedream edit --image photo.png --prompt \"make it winter\"
  seedream edit --image room.jpg --mask mask.png --prompt \"add a window\" --out edits
  seedream edit --image photo.png --prompt \"make it winter\" --model doubao-seededit-3-0-i2i-250628 --size adaptive

Relays get a multipart POST /images/edits; Ark (no edits endpoint) gets the same job as a
generations call with the images as data URLs.")]
    Edit(EditArgs),
    /// Run many generation requests from a JSONL file, concurrently, resumably.
    #[command(after_help = "\
Examples:
  seedream batch prompts.jsonl
  seedream batch prompts.jsonl --concurrency 8 --images-per-minute 300 --out run1

Each non-blank line is one generations request, as JSON:
  {\"model\": \"doubao-seedream-4-0-250828\", \"prompt\": \"a lighthouse at dawn\", \"size\": \"2K\"}
(\"model\" may be left out: the default is Seedream 4.0; \"image\" may name local files, relative to
the JSONL file.) Every line's result or error is recorded in --out/manifest.json. Run the same command
again to resume: lines whose images are saved are skipped, failed lines are tried again. The exit
status is 5 when any line failed.")]
    Batch(BatchArgs),
    /// Check generations request files against the model's rules, without any network.
    #[command(after_help = "\
Examples:
  seedream validate request.json
  seedream validate a.json b.json prompts.jsonl --json
  echo '{\"model\": \"doubao-seedream-4-5-251128\", \"prompt\": \"x\", \"size\": \"1K\"}' | seedream validate -

Each violation is printed as `field.path: rule`. Files ending in .jsonl or .ndjson are checked line
by line. Exit status: 0 every file is valid; 2 a file is invalid; 1 a file cannot be read or is not
JSON.")]
    Validate(ValidateArgs),
    /// Print the JSON Schema of a wire type.
    #[command(after_help = "\
Examples:
  seedream schema
  seedream schema response > response.schema.json")]
    Schema(SchemaArgs),
    /// Serve the emulator (a local stand-in for the service) until interrupted.
    #[command(after_help = "\
Examples:
  seedream emulator
  seedream emulator --port 0 --tls --api-key test-key

Prints the relay-style base URL (…/v1, with /images/edits) and the Ark-style one (…/api/v3); with
--tls also the path of its certificate, to pass to --ca-cert. Then, in another terminal:
  seedream generate --base-url http://127.0.0.1:8787/v1 --api-key any --prompt \"a lighthouse\"")]
    Emulator(EmulatorArgs),
}

/// `response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A download link (expires after 24 hours); the image is downloaded at once.
    Url,
    /// The JPEG bytes in the response.
    #[value(name = "b64_json")]
    B64Json,
}

/// Options of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to draw.
    #[arg(long, short = 'p')]
    pub prompt: String,
    /// Model id or Ark endpoint id (ep-…).
    #[arg(long, short = 'm', default_value = SEEDREAM_4_0)]
    pub model: String,
    /// A reference image: a local file (sent as a data URL) or an http(s) URL (repeatable).
    #[arg(long = "image", short = 'i', value_name = "PATH|URL")]
    pub images: Vec<String>,
    /// Output size: 1K, 2K, 4K (Seedream 4.x; 4.5 takes 2K and 4K), WxH such as 2048x2048, or adaptive
    /// (SeedEdit 3.0).
    #[arg(long, short = 's')]
    pub size: Option<String>,
    /// Generate a group of up to N images (group generation; references + images ≤ 15).
    #[arg(long, short = 'n', value_name = "N")]
    pub max_images: Option<i64>,
    /// Random seed, -1 to 2147483647 (Seedream 3.0 t2i and SeedEdit 3.0).
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<i64>,
    /// Prompt weight, 1 to 10 (Seedream 3.0 t2i and SeedEdit 3.0).
    #[arg(long, value_name = "X")]
    pub guidance_scale: Option<f64>,
    /// How the service returns images (default url).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Ask for images without the "AI生成" mark.
    #[arg(long)]
    pub no_watermark: bool,
    /// Receive images one by one as they finish (server-sent events; Seedream 4.x).
    #[arg(long)]
    pub stream: bool,
    /// Directory for the images and manifest.json (created if needed).
    #[arg(long, short = 'o', value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
}

/// Options of `edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The image to edit, a local file (repeatable: Seedream 4.x takes up to 14).
    #[arg(long = "image", short = 'i', value_name = "PATH", required = true)]
    pub images: Vec<PathBuf>,
    /// What to change.
    #[arg(long, short = 'p')]
    pub prompt: String,
    /// A mask image (relays that support it).
    #[arg(long, value_name = "PATH")]
    pub mask: Option<PathBuf>,
    /// Model id or Ark endpoint id (ep-…).
    #[arg(long, short = 'm', default_value = SEEDREAM_4_0)]
    pub model: String,
    /// Output size, as for generate (SeedEdit 3.0: adaptive).
    #[arg(long, short = 's')]
    pub size: Option<String>,
    /// Number of images to make, 1 to 15.
    #[arg(long, short = 'n', value_name = "N")]
    pub max_images: Option<i64>,
    /// How the service returns images (default url).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Ask for images without the "AI生成" mark.
    #[arg(long)]
    pub no_watermark: bool,
    /// Directory for the images and manifest.json (created if needed).
    #[arg(long, short = 'o', value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
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
    /// Directory for the images and manifest.json (created if needed; reuse it to resume).
    #[arg(long, short = 'o', value_name = "DIR", default_value = DEFAULT_OUT_DIR)]
    pub out: PathBuf,
}

/// Options of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Request files (JSON, or JSONL by extension); `-` or nothing reads standard input.
    #[arg(value_name = "FILE|-")]
    pub files: Vec<String>,
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
    /// Inject a fault into every request, as in the x-emulator-fault header: NAME[;times=N][;images=I,J]
    /// (rate-limit, quota, server-error, bad-gateway, reset, slow-headers, stall, stream-cut,
    /// stream-error, invalid-json, moderate).
    #[arg(long, value_name = "SPEC")]
    pub fault: Option<String>,
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
        let cli = Cli::try_parse_from(["seedream", "--api-key", "sk-very-secret", "schema"]).unwrap();
        assert!(!format!("{cli:?}").contains("sk-very-secret"));
        assert_eq!(cli.global.api_key.unwrap().expose(), "sk-very-secret");
    }

    #[test]
    fn generate_defaults_and_formats() {
        let cli =
            Cli::try_parse_from(["seedream", "generate", "-p", "x", "--format", "b64_json", "--seed", "-1"]).unwrap();
        let Command::Generate(args) = cli.command else { panic!("not generate") };
        assert_eq!(args.model, SEEDREAM_4_0);
        assert_eq!(args.format, Some(Format::B64Json));
        assert_eq!(args.seed, Some(-1));
        assert_eq!(args.out, PathBuf::from(DEFAULT_OUT_DIR));
        assert!(Cli::try_parse_from(["seedream", "batch", "f.jsonl", "--concurrency", "0"]).is_err());
    }
}
