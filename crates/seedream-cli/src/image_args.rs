//! The image flags `generate` and `edit` share, with their `--help` texts, built from the catalog
//! rows so that each names the families that take it.

use clap::ValueEnum;
use seedream_types::catalog::{self, ModelFamily, families};

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

pub(crate) fn size_help() -> String {
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

pub(crate) fn max_images_help() -> String {
    let total = families().iter().filter_map(|f| f.group.map(|g| g.max_total)).max().unwrap_or(0);
    format!(
        "Generate a group of up to N images (group generation; references + images ≤ {total}; {})",
        takers(|f| f.takes_group())
    )
}

pub(crate) fn seed_help() -> String {
    match families().iter().find_map(|f| f.seed) {
        Some(range) => format!("Random seed, {} to {} ({})", range.min, range.max, takers(|f| f.seed.is_some())),
        None => "Random seed".into(),
    }
}

pub(crate) fn guidance_scale_help() -> String {
    match families().iter().find_map(|f| f.guidance_scale) {
        Some(range) => {
            format!("Prompt weight, {} to {} ({})", range.min, range.max, takers(|f| f.guidance_scale.is_some()))
        }
        None => "Prompt weight".into(),
    }
}

pub(crate) fn stream_help() -> String {
    format!("Receive images one by one as they finish (server-sent events; {})", takers(|f| f.stream))
}

pub(crate) fn output_format_help() -> String {
    format!(
        "File format the service makes: jpeg or png, or a newer value sent as written (default jpeg, png on \
         Seedream 5.5; --layers and --background transparent: png). png is for {}",
        takers(|f| f.takes_output_format("png"))
    )
}

pub(crate) fn background_help() -> String {
    format!(
        "opaque, transparent or auto (the model decides), or a newer value sent as written. transparent makes \
         a PNG with a transparent background: on 5.0 from the one --image (it must have an alpha channel), on \
         5.5 from the prompt alone. For {}",
        takers(|f| f.takes_transparent())
    )
}

pub(crate) fn layers_help() -> String {
    let max = families().iter().filter_map(|f| f.layers.as_ref().map(|l| l.max_layers)).max().unwrap_or(0);
    format!(
        "Layer decomposition: split the one --image into a base image and up to {max} layers, saved as PNG files \
         and one OpenRaster file (.ora); --prompt may be left out. For {}",
        takers(|f| f.layers.is_some())
    )
}

pub(crate) fn web_search_help() -> String {
    let takes = |f: &ModelFamily| f.takes_tool("web_search");
    let offered = families().iter().any(|f| takes(f) && f.status.is_offered());
    let note = if offered { "" } else { " (retired: only endpoints made before then take it)" };
    format!("Let the model search the web for what the prompt names (tools: web_search). For {}{note}", takers(takes))
}
