//! `seedream usage`: what the runs recorded in output folders bought, folded from their journals: runs,
//! images generated and failed, tokens, web searches and input images, per model and in all, with an
//! estimated cost where this run's catalog states a price. Synthetic results (the emulator's) are
//! counted apart and never priced. Reads only: nothing is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use seedream_types::catalog::Price;
use serde::Serialize;
use serde_json::{Value, json};

use crate::failure::{Exit, Failure};
use crate::journal::{self, Folded, Record};
use crate::manifest::{Manifest, Outcome, Status};
use crate::output::Output;

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream usage
  seedream usage run1 run2 --since 2026-12-01 --json

Reads each folder's journal.jsonl (written by generate, edit and batch; nothing is sent or written).
Every call counts, a batch line run twice twice. The estimated cost uses the price per generated image
in the model's catalog row (a catalog file, --catalog, may state one); a model without a price says
\"no price\". Synthetic images (made by the emulator) are counted apart and never priced.";

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

/// Counts of one model, or of all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Generate and edit runs, and batch lines, that were sent.
    pub runs: u64,
    /// Images the service made (its `usage` count, else the images that came back).
    pub generated_images: u64,
    /// Images the service or the download failed.
    pub failed_images: u64,
    /// Tokens billed (`usage.total_tokens`, else `output_tokens`).
    pub tokens: u64,
    /// Web searches billed (`usage.tool_usage.web_search`).
    pub web_searches: u64,
    /// Reference images sent (`usage.input_images`, else the request's `image` count).
    pub input_images: u64,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.runs += other.runs;
        self.generated_images += other.generated_images;
        self.failed_images += other.failed_images;
        self.tokens += other.tokens;
        self.web_searches += other.web_searches;
        self.input_images += other.input_images;
    }

    /// One call's counts.
    fn of(outcome: &Outcome, request: &Value) -> Totals {
        let usage = outcome.usage.as_ref();
        let answered = (outcome.images.len() + outcome.failed_images.len()) as u64;
        let failed_downloads = outcome.failed_images.iter().filter(|f| f.code == "DownloadFailed").count() as u64;
        let sent_images = match request.get("image") {
            Some(Value::Array(items)) => items.len() as u64,
            Some(Value::String(_)) => 1,
            _ => 0,
        };
        Totals {
            runs: 1,
            // A failed download was made (and paid for) all the same.
            generated_images: usage
                .and_then(|u| u.generated_images)
                .unwrap_or(answered - outcome.failed_images.len() as u64 + failed_downloads),
            failed_images: outcome.failed_images.len() as u64,
            tokens: usage.and_then(|u| u.total_tokens.or(u.output_tokens)).unwrap_or(0),
            web_searches: usage.and_then(|u| u.tool_usage.as_ref()).and_then(|t| t.web_search).unwrap_or(0),
            input_images: usage.and_then(|u| u.input_images).unwrap_or(sent_images),
        }
    }
}

/// The counts of one model id, real or synthetic.
#[derive(Debug, Clone, Default)]
struct ModelUsage {
    totals: Totals,
}

/// Every call found, by (synthetic, model id).
#[derive(Debug, Default)]
struct Ledger {
    by_model: BTreeMap<(bool, String), ModelUsage>,
}

impl Ledger {
    fn count(&mut self, synthetic: bool, outcome: &Outcome, request: &Value, since: Option<&str>, at: &str) {
        // Lines left out by a budget, and runs stopped before anything was sent, bought nothing.
        if outcome.status == Status::NotRun || since.is_some_and(|since| at < since) {
            return;
        }
        let model = outcome
            .model
            .clone()
            .or_else(|| request.get("model").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "(unknown)".to_owned());
        let totals = Totals::of(outcome, request);
        self.by_model.entry((synthetic, model)).or_default().totals.add(&totals);
    }

    /// Folds one output folder: its runs, and every batch line result ever journaled (a line run
    /// twice was bought twice).
    fn read(&mut self, dir: &Path, since: Option<&str>) -> Result<(), Failure> {
        let (records, _) = journal::read(dir)?;
        let records = if records.is_empty() {
            // A folder written before the journal existed: its manifest is the record.
            match Manifest::load(dir)? {
                manifest if manifest.runs.is_empty() && manifest.batch.is_none() => return Ok(()),
                manifest => vec![Record::Import { manifest: Box::new(manifest) }],
            }
        } else {
            records
        };
        for record in &records {
            match record {
                Record::Line { record, .. } => {
                    self.count(record.synthetic, &record.outcome, &record.request, since, &record.finished_at);
                }
                Record::Import { manifest } => {
                    for line in manifest.earlier_batches.iter().chain(&manifest.batch).flat_map(|b| b.lines.values()) {
                        self.count(line.synthetic, &line.outcome, &line.request, since, &line.finished_at);
                    }
                }
                _ => {}
            }
        }
        for run in Folded::of(records).runs {
            self.count(run.synthetic, &run.outcome, &run.request, since, &run.started_at);
        }
        Ok(())
    }
}

/// Reads `--since`: `YYYY-MM-DD` or a UTC time `YYYY-MM-DDTHH:MM:SSZ` (as the journal records them).
fn parse_since(text: &str) -> Result<String, Failure> {
    let text = text.trim();
    let shape_ok = |pattern: &str| {
        text.len() == pattern.len()
            && text.chars().zip(pattern.chars()).all(|(c, p)| if p == '9' { c.is_ascii_digit() } else { c == p })
    };
    if shape_ok("9999-99-99") || shape_ok("9999-99-99T99:99:99Z") {
        let month: u32 = text[5..7].parse().unwrap_or(0);
        let day: u32 = text[8..10].parse().unwrap_or(0);
        if (1..=12).contains(&month) && (1..=31).contains(&day) {
            return Ok(text.to_owned());
        }
    }
    Err(Failure::usage(format!("--since: {text:?} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"))
        .with_kind("usage"))
}

/// An estimate: the amount and the price it came from.
fn cost(images: u64, price: &Price) -> Value {
    json!({
        "amount": round_cents(images as f64 * price.amount),
        "currency": price.currency,
        "as_of": price.as_of,
        "price_per_image": price.amount,
    })
}

/// Amounts to 1/10000 of a unit: enough for per-image prices, without float noise in the output.
fn round_cents(amount: f64) -> f64 {
    (amount * 10_000.0).round() / 10_000.0
}

/// Runs `seedream usage`.
pub fn run(args: &UsageArgs, out: &Output) -> Exit {
    match report(args, out) {
        Ok(exit) => exit,
        Err(failure) => failure.report(out),
    }
}

fn report(args: &UsageArgs, out: &Output) -> Result<Exit, Failure> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let dirs: Vec<PathBuf> =
        if args.dirs.is_empty() { vec![PathBuf::from(crate::args::DEFAULT_OUT_DIR)] } else { args.dirs.clone() };
    let mut ledger = Ledger::default();
    for dir in &dirs {
        if !dir.is_dir() {
            return Err(Failure::local(format!("{}: no such output folder", dir.display()))
                .with_hint("name folders that generate, edit or batch wrote to (--out)"));
        }
        ledger.read(dir, since.as_deref())?;
    }
    let catalog = &crate::catalog::current().catalog;
    let mut real = Totals::default();
    let mut synthetic = Totals::default();
    // Per currency: the estimate of the images whose model has a price.
    let mut estimated: BTreeMap<String, f64> = BTreeMap::new();
    let mut unpriced_images = 0;
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for ((is_synthetic, model), usage) in &ledger.by_model {
        let totals = &usage.totals;
        let family = catalog.family_of(model);
        // The emulator's images cost nothing: never priced.
        let price = family.and_then(|f| f.price.as_ref()).filter(|_| !is_synthetic);
        let mut row = serde_json::to_value(totals).unwrap_or_default();
        if let Some(object) = row.as_object_mut() {
            object.insert("model".into(), json!(model));
            object.insert("family".into(), json!(family.map(|f| f.key.as_str())));
            object.insert("synthetic".into(), json!(is_synthetic));
            object.insert("estimated_cost".into(), price.map(|p| cost(totals.generated_images, p)).into());
        }
        rows.push(row);
        let cost_text = match (is_synthetic, price) {
            (true, _) => "synthetic, not priced".to_owned(),
            (false, Some(price)) => {
                *estimated.entry(price.currency.clone()).or_default() += totals.generated_images as f64 * price.amount;
                format!(
                    "≈ {:.2} {} ({} per image as of {})",
                    round_cents(totals.generated_images as f64 * price.amount),
                    price.currency,
                    price.amount,
                    price.as_of
                )
            }
            (false, None) => {
                unpriced_images += totals.generated_images;
                "no price".to_owned()
            }
        };
        if *is_synthetic {
            synthetic.add(totals);
        } else {
            real.add(totals);
        }
        lines.push(format!(
            "{}{}: {}; {cost_text}",
            model,
            if *is_synthetic { " (synthetic)" } else { "" },
            words(totals)
        ));
    }
    let estimates: Vec<Value> = estimated
        .iter()
        .map(|(currency, amount)| json!({"amount": round_cents(*amount), "currency": currency}))
        .collect();
    if out.json {
        let mut result = serde_json::to_value(&real).unwrap_or_default();
        if let Some(object) = result.as_object_mut() {
            object.insert("status".into(), json!("succeeded"));
            object.insert("exit_code".into(), json!(0));
            object.insert("dirs".into(), json!(dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>()));
            object.insert("since".into(), json!(since));
            object.insert("estimated_cost".into(), json!(estimates));
            object.insert("unpriced_images".into(), json!(unpriced_images));
            object.insert("synthetic".into(), serde_json::to_value(&synthetic).unwrap_or_default());
            object.insert("by_model".into(), json!(rows));
        }
        out.json_line(&result);
        return Ok(Exit::Success);
    }
    if lines.is_empty() {
        out.line("no runs recorded");
        return Ok(Exit::Success);
    }
    for line in &lines {
        out.line(line);
    }
    // Only the emulator answered: its line below is the whole story.
    if real.runs == 0 && synthetic.runs > 0 {
        out.line(&format!("synthetic (emulator, not priced): {}", words(&synthetic)));
        return Ok(Exit::Success);
    }
    let mut all = format!("in all: {}", words(&real));
    let costs: Vec<String> = estimates
        .iter()
        .map(|e| format!("≈ {:.2} {}", e["amount"].as_f64().unwrap_or(0.0), e["currency"].as_str().unwrap_or("")))
        .collect();
    if !costs.is_empty() {
        all.push_str(&format!("; estimated {}", costs.join(" + ")));
    }
    if unpriced_images > 0 {
        all.push_str(&format!("; {unpriced_images} images with no price"));
    }
    out.line(&all);
    if synthetic.runs > 0 {
        out.line(&format!("synthetic (emulator, not priced): {}", words(&synthetic)));
    }
    Ok(Exit::Success)
}

fn words(totals: &Totals) -> String {
    use crate::output::count;
    format!(
        "{}, {} generated, {} failed, {}, {}, {}",
        count(totals.runs, "run"),
        count(totals.generated_images, "image"),
        totals.failed_images,
        count(totals.tokens, "token"),
        match totals.web_searches {
            1 => "1 web search".to_owned(),
            n => format!("{n} web searches"),
        },
        count(totals.input_images, "input image")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_date_or_a_utc_time_and_names_itself_otherwise() {
        assert_eq!(parse_since("2026-12-01").unwrap(), "2026-12-01");
        assert_eq!(parse_since("2026-12-01T10:00:00Z").unwrap(), "2026-12-01T10:00:00Z");
        for bad in ["yesterday", "2026-13-01", "2026-1-1", "01/12/2026"] {
            let failure = parse_since(bad).unwrap_err();
            assert!(failure.message.starts_with("--since:"), "{failure}");
            assert_eq!(failure.exit, Exit::Invalid);
        }
    }

    #[test]
    fn a_call_counts_the_services_usage_else_what_came_back() {
        let mut outcome = Outcome::empty();
        outcome.images.push(crate::manifest::SavedImage::default());
        outcome.failed_images.push(crate::manifest::FailedImageRecord {
            index: 1,
            code: "DownloadFailed".into(),
            message: String::new(),
            url: None,
            moderation: None,
        });
        outcome.failed_images.push(crate::manifest::FailedImageRecord {
            index: 2,
            code: "OutputImageSensitiveContentDetected".into(),
            message: String::new(),
            url: None,
            moderation: None,
        });
        let request = json!({"image": ["a.png", "b.png"]});
        let totals = Totals::of(&outcome, &request);
        assert_eq!((totals.generated_images, totals.failed_images, totals.input_images), (2, 2, 2));
        outcome.usage = Some(seedream_types::Usage {
            generated_images: Some(5),
            total_tokens: Some(80),
            input_images: Some(1),
            tool_usage: Some(seedream_types::ToolUsage { web_search: Some(3), ..Default::default() }),
            ..Default::default()
        });
        let totals = Totals::of(&outcome, &request);
        assert_eq!(
            totals,
            Totals { runs: 1, generated_images: 5, failed_images: 2, tokens: 80, web_searches: 3, input_images: 1 }
        );
    }
}
