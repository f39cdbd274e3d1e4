//! `seedream models`: the model catalog (`seedream_types::catalog`) as a table, or with `--json` as an
//! array of objects, one per family. Everything shown comes from the catalog rows.

use std::time::Duration;

use clap::Args;
use seedream_types::ModelList;
use seedream_types::catalog::{Catalog, ModelFamily, RatioRange};
use serde_json::{Value, json};

use crate::args::{CallArgs, DEFAULT_RETRIES, GlobalArgs, NetworkArgs};
use crate::failure::{Exit, Failure};
use crate::output::Output;
use crate::service::{Service, describe};

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream models
  seedream models --json

The table is the catalog the local checks use. --json prints it as an array of objects, one per
family, with every limit.";

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

/// Prints the catalog; always succeeds. The network options act only with --remote.
pub fn run(args: &ModelsArgs, out: &Output) -> Exit {
    if let Some(flag) = args.network.first_given() {
        let failure = Failure::usage(format!("{flag} acts only with --remote"))
            .with_hint("`seedream models` lists the catalog without any network; add --remote to ask the service");
        return failure.report(out);
    }
    let catalog = &crate::catalog::current().catalog;
    if out.json {
        out.json_line(&catalog_json(catalog));
    } else {
        out.text(table(catalog).trim_end());
    }
    Exit::Success
}

/// `seedream models --remote`: the service's `GET /models` merged with the catalog. The status comes
/// from the service, the rules from the catalog, and an id the catalog does not know is marked so.
pub async fn run_remote(args: &ModelsArgs, global: &GlobalArgs, out: &Output) -> Exit {
    let call = CallArgs {
        timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        retries: DEFAULT_RETRIES,
        quiet: false,
        verbose: false,
        dry_run: false,
        image_budget: None,
    };
    let service = match Service::connect(&args.network, global.provider, &call, out, true).await {
        Ok(service) => service,
        Err(failure) => return failure.report(out),
    };
    let listing = match service.client.list_models().await {
        Ok(listing) => listing.into_inner(),
        Err(error) => return describe(&error, None, &service.label).report(out),
    };
    let rows = merged(&listing, &crate::catalog::current().catalog);
    if out.json {
        out.json_line(&json!({ "service": service.label, "models": rows }));
    } else {
        out.text(remote_table(&rows).trim_end());
        out.note(&format!("{} image models listed by {}", rows.len(), service.label));
    }
    Exit::Success
}

/// One listed image model with what the catalog says of it.
fn merged(listing: &ModelList, catalog: &Catalog) -> Vec<Value> {
    let image_models = listing.data.iter().filter(|item| {
        item.domain.as_ref().is_none_or(|domain| *domain == seedream_types::ModelDomain::ImageGeneration)
    });
    image_models
        .map(|item| {
            let known = catalog.lookup(&item.id);
            let entry = known.and_then(|(_, entry)| entry);
            json!({
                "id": item.id,
                "status": item.status.as_ref().map_or("running", |status| status.as_str()),
                "family": known.map(|(family, _)| family.key.as_str()),
                "known": known.is_some(),
                "catalog_status": entry.map(|entry| entry.status.as_str()),
                "successor": entry.and_then(|entry| entry.successor.as_deref()),
                "task_type": item.task_type,
            })
        })
        .collect()
}

fn remote_table(rows: &[Value]) -> String {
    let mut text = String::new();
    let cell = |row: &Value, key: &str| row[key].as_str().unwrap_or("-").to_owned();
    let lines: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            let family = if row["known"] == true { cell(row, "family") } else { "(not in the catalog)".into() };
            let catalog = match (row["catalog_status"].as_str(), row["successor"].as_str()) {
                (Some(status), Some(successor)) => format!("{status}, successor {successor}"),
                (Some(status), None) => status.to_owned(),
                (None, _) => "-".into(),
            };
            [cell(row, "id"), cell(row, "status"), family, catalog]
        })
        .collect();
    let header = ["ID".to_owned(), "STATUS".to_owned(), "FAMILY".to_owned(), "CATALOG".to_owned()];
    let mut widths = [0usize; 4];
    for line in std::iter::once(&header).chain(&lines) {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for line in std::iter::once(&header).chain(&lines) {
        let padded: Vec<String> = line.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    }
    text
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
    if family.takes_output_format("png") {
        words.push("png");
    }
    if family.layers.is_some() {
        words.push("layers");
    }
    if family.takes_transparent() {
        words.push("transparent");
    }
    if family.takes_tool("web_search") {
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
        (Some(area), Some(ratio)) => format!("{}–{} px, W/H {}", area.min, area.max, ratio_text(&ratio)),
        (Some(area), None) => format!("{}–{} px", area.min, area.max),
        (None, _) => "-".into(),
    }
}

fn references(family: &ModelFamily) -> String {
    let refs = family.references;
    if refs.min == refs.max { refs.min.to_string() } else { format!("{}–{}", refs.min, refs.max) }
}

/// The catalog as an aligned text table with a header row.
pub fn table(catalog: &Catalog) -> String {
    let header = ["FAMILY", "STATUS", "MODEL ID", "ALIASES", "PRESETS", "WxH AREA", "REFS", "TAKES"];
    let rows: Vec<[String; 8]> = catalog
        .families()
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

/// The catalog as a catalog file, `{"families": [...]}`: exactly the format `--catalog` reads.
pub fn catalog_json(catalog: &Catalog) -> Value {
    serde_json::to_value(catalog.to_file()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_row_per_family_from_the_catalog() {
        let catalog = Catalog::builtin();
        let text = table(catalog);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), catalog.families().len() + 1);
        assert!(lines[0].starts_with("FAMILY"));
        for (family, line) in catalog.families().iter().zip(&lines[1..]) {
            assert!(line.starts_with(family.name.as_str()) && line.contains(family.model_id.as_str()), "{line}");
        }
        // Every row's columns start where the header's do.
        let at = lines[0].find("MODEL ID").unwrap();
        assert!(lines[1..].iter().all(|l| l[at..].starts_with("doubao-") || l[at..].starts_with("dola-")), "{text}");
    }

    #[test]
    fn the_json_is_a_catalog_file_that_reads_back_as_the_same_rows() {
        let value = catalog_json(Catalog::builtin());
        let rows = value["families"].as_array().unwrap();
        assert_eq!(rows.len(), Catalog::builtin().families().len());
        let read = Catalog::with_file(&value.to_string()).unwrap();
        assert_eq!(read.families(), Catalog::builtin().families());
    }
}
