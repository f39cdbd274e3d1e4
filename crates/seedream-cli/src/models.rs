//! `seedream models`: the model catalog (`seedream_types::catalog`) as a table, or with `--json` as an
//! array of objects, one per family. Everything shown comes from the catalog rows.

use seedream_types::catalog::{DefaultSize, FAMILIES, ModelFamily, RatioRange};
use serde_json::{Value, json};

use crate::failure::Exit;
use crate::output::Output;

/// Prints the catalog; always succeeds.
pub fn run(out: &Output) -> Exit {
    if out.json {
        out.json_line(&catalog_json());
    } else {
        out.text(table().trim_end());
    }
    Exit::Success
}

/// What a family takes besides a prompt and a size, as short words for the table.
pub fn takes(family: &ModelFamily) -> Vec<&'static str> {
    let mut words = Vec::new();
    if family.takes_group() {
        words.push("group");
    }
    if family.stream {
        words.push("stream");
    }
    if family.output_formats.contains(&"png") {
        words.push("png");
    }
    if family.layers.is_some() {
        words.push("layers");
    }
    if family.transparent_background {
        words.push("transparent");
    }
    if family.tools.contains(&"web_search") {
        words.push("web search");
    }
    if family.seed.is_some() {
        words.push("seed");
    }
    if family.guidance_scale.is_some() {
        words.push("guidance scale");
    }
    words
}

fn presets(family: &ModelFamily) -> String {
    let mut words: Vec<&str> = family.size.presets.iter().map(|p| p.as_str()).collect();
    if family.size.adaptive {
        words.push("adaptive");
    }
    if family.layers.is_some() {
        words.push("auto (layers)");
    }
    if words.is_empty() { "-".into() } else { words.join(" ") }
}

fn ratio_text(ratio: &RatioRange) -> String {
    let fraction = |v: f64| if v < 1.0 { format!("1/{}", (1.0 / v).round()) } else { format!("{v}") };
    let (open, close) = if ratio.inclusive { ("", "") } else { ("(", ")") };
    format!("{open}{}–{}{close}", fraction(ratio.min), fraction(ratio.max))
}

fn area(family: &ModelFamily) -> String {
    match (family.size.area, family.size.ratio) {
        (Some((min, max)), Some(ratio)) => format!("{min}–{max} px, W/H {}", ratio_text(&ratio)),
        (Some((min, max)), None) => format!("{min}–{max} px"),
        (None, _) => "-".into(),
    }
}

fn references(family: &ModelFamily) -> String {
    let refs = family.references;
    if refs.min == refs.max { refs.min.to_string() } else { format!("{}–{}", refs.min, refs.max) }
}

/// The catalog as an aligned text table with a header row.
pub fn table() -> String {
    let header = ["FAMILY", "STATUS", "MODEL ID", "ALIASES", "PRESETS", "WxH AREA", "REFS", "TAKES"];
    let rows: Vec<[String; 8]> = FAMILIES
        .iter()
        .map(|family| {
            [
                family.name.to_owned(),
                family.status.to_string(),
                family.model_id.to_owned(),
                if family.aliases.is_empty() { "-".into() } else { family.aliases.join(", ") },
                presets(family),
                area(family),
                references(family),
                takes(family).join(", "),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, width))| if i + 1 == cells.len() { (*cell).to_owned() } else { format!("{cell:<width$}") })
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(&header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        text.push_str(&line(&cells));
    }
    text
}

fn range<T: serde::Serialize>(min: T, max: T) -> Value {
    json!({ "min": min, "max": max })
}

/// The catalog as JSON: one object per family, every limit of its row.
pub fn catalog_json() -> Value {
    Value::Array(FAMILIES.iter().map(family_json).collect())
}

fn family_json(family: &ModelFamily) -> Value {
    let size = &family.size;
    let default_size = match size.default {
        DefaultSize::Preset(preset) => Value::from(preset.as_str()),
        DefaultSize::Pixels(dims) => Value::from(dims.to_string()),
        DefaultSize::Adaptive => Value::from("adaptive"),
    };
    let ratio = |r: &RatioRange| json!({ "min": r.min, "max": r.max, "inclusive": r.inclusive });
    let input = &family.input;
    json!({
        "name": family.name,
        "key": family.key,
        "model_id": family.model_id,
        "prefixes": family.prefixes,
        "aliases": family.aliases,
        "status": family.status.as_str(),
        "sizes": family.describe_sizes(),
        "size": {
            "presets": size.presets.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "adaptive": size.adaptive,
            "area": size.area.map(|(min, max)| range(min, max)),
            "ratio": size.ratio.as_ref().map(ratio),
            "default": default_size,
        },
        "references": range(family.references.min, family.references.max),
        "input": {
            "formats": input.formats.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "max_bytes": input.max_bytes,
            "min_side_exclusive": input.min_side_exclusive,
            "ratio": ratio(&input.ratio),
            "pixels": input.pixels.map(|(min, max)| range(min, max)),
        },
        "group": family.group.map(|g| json!({
            "max_images": { "min": g.max_images.0, "max": g.max_images.1, "default": g.max_images.2 },
            "max_total": g.max_total,
        })),
        "stream": family.stream,
        "output_formats": family.output_formats,
        "tools": family.tools,
        "layers": family.layers.map(|l| json!({
            "input_formats": l.input_formats.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "input_pixels": range(l.input_pixels.0, l.input_pixels.1),
            "max_layers": l.max_layers,
        })),
        "transparent_background": family.transparent_background,
        "optimize_prompt_modes": family.optimize_prompt_modes,
        "seed": family.seed.map(|r| json!({ "min": r.min, "max": r.max, "default": r.default })),
        "guidance_scale": family.guidance_scale.map(|r| json!({ "min": r.min, "max": r.max, "default": r.default })),
        "takes": takes(family),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_row_per_family_from_the_catalog() {
        let text = table();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), FAMILIES.len() + 1);
        assert!(lines[0].starts_with("FAMILY"));
        for (family, line) in FAMILIES.iter().zip(&lines[1..]) {
            assert!(line.starts_with(family.name) && line.contains(family.model_id), "{line}");
        }
        // Every row's columns start where the header's do.
        let at = lines[0].find("MODEL ID").unwrap();
        assert!(lines[1..].iter().all(|l| l[at..].starts_with("doubao-")), "{text}");
    }

    #[test]
    fn the_json_holds_every_row_with_its_limits() {
        let value = catalog_json();
        let rows = value.as_array().unwrap();
        assert_eq!(rows.len(), FAMILIES.len());
        let pro = rows.iter().find(|r| r["model_id"] == seedream_types::SEEDREAM_5_0_PRO).unwrap();
        let row = seedream_types::catalog::family_of(seedream_types::SEEDREAM_5_0_PRO).unwrap();
        assert_eq!(pro["layers"]["max_layers"], row.layers.unwrap().max_layers);
        assert_eq!(pro["stream"], false);
        assert!(pro["takes"].as_array().unwrap().iter().any(|t| t == "layers"));
    }
}
