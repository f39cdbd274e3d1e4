//! The flags `generate` and `edit` share ([`GenerationArgs`], flattened into both), their `--help`
//! texts (built from the catalog rows, so each names the families that take it), and the one mapping
//! from those flags to the request's [`ImageOptions`].

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use seedream_types::catalog::{self, ModelFamily, families};
use seedream_types::{Background, ImageOptions, OutputFormat, ResponseFormat, Size, Tool};

use crate::args::{DEFAULT_OUT_DIR, NO_VALIDATE_HELP};
use crate::failure::Failure;

/// Options of `generate` and `edit` that say what to make and where to save it.
#[derive(Debug, Args)]
pub struct GenerationArgs {
    /// Model id, Ark endpoint id (ep-…), or a family key (seedream-5.0-pro: its current id for
    /// --provider). Default: the catalog's recommended current model (`seedream models`)
    #[arg(long, short = 'm')]
    pub model: Option<String>,
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
}

impl GenerationArgs {
    /// The model to ask for: `--model` (a family key resolved for the provider), or the catalog's
    /// recommended current model.
    pub fn model(&self) -> String {
        crate::catalog::current().model(self.model.as_deref())
    }

    /// The options these flags set, for `model`. `layers`: the request asks for layer decomposition
    /// (which comes back as PNG).
    pub fn options(&self, model: &str, layers: bool) -> Result<ImageOptions, Failure> {
        refuse_relay_n(self.relay_n.as_deref())?;
        let mut options = ImageOptions::new();
        options.size = self.size.as_deref().map(Size::from_wire);
        options.max_images = self.max_images;
        options.seed = self.seed;
        options.guidance_scale = self.guidance_scale;
        options.response_format = self.format.map(|format| match format {
            Format::Url => ResponseFormat::Url,
            Format::B64Json => ResponseFormat::B64Json,
        });
        options.stream = self.stream.then_some(true);
        options.watermark = self.no_watermark.then_some(false);
        options.output_format = output_format(model, self.output_format.as_ref(), self.background.as_ref(), layers);
        options.background = self.background.clone();
        options.tools = self.web_search.then(|| vec![Tool::web_search()]);
        Ok(options)
    }
}

/// `--n N` is how relays spell the group size; the flag here is --max-images.
fn refuse_relay_n(n: Option<&str>) -> Result<(), Failure> {
    match n {
        Some(n) => Err(Failure::usage("there is no --n option")
            .with_hint(format!("the number of images is --max-images (or -n): pass --max-images {n}"))),
        None => Ok(()),
    }
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

/// `response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A download link (expires after 24 hours); the image is downloaded at once.
    Url,
    /// The image bytes in the response, base64-encoded.
    #[value(name = "b64_json")]
    B64Json,
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

fn web_search_help() -> String {
    let takes = |f: &ModelFamily| f.takes_tool("web_search");
    let offered = families().iter().any(|f| takes(f) && f.status.is_offered());
    let note = if offered { "" } else { " (retired: only endpoints made before then take it)" };
    format!("Let the model search the web for what the prompt names (tools: web_search). For {}{note}", takers(takes))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;
    use seedream_types::{Background, ImageOptions, OutputFormat, ResponseFormat, Size, Tool};

    use super::*;
    use crate::commands::{Cli, Command};

    /// Every shared flag that sets a request field.
    const SHARED: [&str; 17] = [
        "--model",
        "seedream-5.0-pro",
        "--size",
        "2K",
        "-n",
        "3",
        "--seed",
        "7",
        "--guidance-scale",
        "5.5",
        "--format",
        "b64_json",
        "--background",
        "transparent",
        "--web-search",
        "--no-watermark",
        "--stream",
    ];

    fn generation_args(words: &[&str]) -> GenerationArgs {
        let words = ["seedream"].iter().chain(words).chain(&SHARED);
        match Cli::try_parse_from(words).unwrap().command {
            Command::Generate(args) => args.generation,
            Command::Edit(args) => args.generation,
            _ => panic!("neither generate nor edit"),
        }
    }

    #[test]
    fn generate_and_edit_read_the_shared_flags_into_the_same_options() {
        let generate = generation_args(&["generate", "-p", "x"]);
        let edit = generation_args(&["edit", "-i", "a.png", "-p", "x"]);
        let model = generate.model();
        assert_eq!(model, edit.model());
        let options = generate.options(&model, false).unwrap();
        assert_eq!(options, edit.options(&model, false).unwrap());
        let mut expected = ImageOptions::new();
        expected.size = Some(Size::from_wire("2K"));
        expected.max_images = Some(3);
        expected.seed = Some(7);
        expected.guidance_scale = Some(5.5);
        expected.response_format = Some(ResponseFormat::B64Json);
        expected.stream = Some(true);
        expected.watermark = Some(false);
        // A transparent background comes back as PNG, so PNG is asked for.
        expected.output_format = Some(OutputFormat::Png);
        expected.background = Some(Background::Transparent);
        expected.tools = Some(vec![Tool::web_search()]);
        assert_eq!(options, expected);
    }

    #[test]
    fn the_relays_n_is_refused_with_a_pointer_to_max_images() {
        let args = generation_args(&["generate", "-p", "x", "--n", "4"]);
        let failure = args.options(&args.model(), false).unwrap_err();
        assert!(failure.hint.as_deref().is_some_and(|hint| hint.contains("--max-images 4")), "{failure:?}");
    }
}
