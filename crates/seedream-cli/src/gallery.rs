//! `index.html` in every output folder: a page of the saved images (newest first, each with its prompt,
//! model, size and time) and of the failed ones as error cards, built from the same records as
//! `manifest.json` and rewritten atomically whenever the manifest is.
//!
//! The page opens from `file://` offline: no external asset, no script (a Content-Security-Policy
//! forbids them, so even a mistake in escaping could not run one), only inline CSS and the image
//! files beside it. Every text that came from a prompt or the service is HTML-escaped.

use std::cmp::Reverse;
use std::fmt::Write as _;
use std::path::Path;

pub use seedream_types::markup::escape;
use serde_json::Value;

use crate::failure::Failure;
use crate::files::save_file;
use crate::manifest::{MANIFEST_FILE, Manifest, Outcome, Status};

/// The gallery's file name inside the output directory.
pub const GALLERY_FILE: &str = "index.html";

/// One tile of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// When the run or batch line finished (RFC 3339, UTC): the page is sorted on it.
    pub time: String,
    /// The prompt, as sent.
    pub prompt: String,
    /// The model that answered, else the one asked for.
    pub model: String,
    /// `WxH`, when known.
    pub size: Option<String>,
    /// The batch line the card comes from (none for a run of generate or edit).
    pub line: Option<u64>,
    /// Set when the record did not end by itself: `interrupted` (Ctrl-C, or a run that was killed).
    pub interrupted: bool,
    /// A saved image, a layered result, or an error.
    pub kind: CardKind,
}

/// What a card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardKind {
    /// A saved image: its file name in the folder, and its layer name for a decomposition.
    Image { file: String, layer: Option<String> },
    /// A layer decomposition, as one card: the base image, its layers (file and name, bottom up) and
    /// the OpenRaster file holding them all, when it was made.
    Layers { base: Option<String>, layers: Vec<(String, String)>, openraster: Option<String> },
    /// An image (or a whole request) that failed: the service's code (or the error's kind), message,
    /// and the rules it broke (for a request that was invalid).
    Error { code: String, message: String, violations: Vec<String> },
}

impl CardKind {
    /// The image files the card shows.
    fn images(&self) -> usize {
        match self {
            CardKind::Image { .. } => 1,
            CardKind::Layers { base, layers, .. } => usize::from(base.is_some()) + layers.len(),
            CardKind::Error { .. } => 0,
        }
    }
}

/// Rounds of [`refresh`] before it stops chasing a manifest that keeps changing.
const REFRESH_ROUNDS: usize = 20;

/// Rewrites `dir/index.html` from `dir/manifest.json` as it is on disk now. Called after every write
/// of the manifest, by whichever process wrote it; several processes may do so at once. After
/// renaming, a refresh checks that the manifest is still the one it read and goes again if not, so
/// the page left last is built from the last manifest (an older page never lands over a newer one
/// for long). No lock needed, like the manifest's own rebuilds.
pub fn refresh(dir: &Path) -> Result<(), Failure> {
    let path = dir.join(MANIFEST_FILE);
    for _ in 0..REFRESH_ROUNDS {
        let before = std::fs::read(&path).ok();
        let manifest = Manifest::load(dir)?;
        save_file(dir, GALLERY_FILE, render(&cards(&manifest)).as_bytes())?;
        if std::fs::read(&path).ok() == before {
            break;
        }
    }
    Ok(())
}

/// The cards of a manifest, newest record first; within a record, images by index, then failures.
pub fn cards(manifest: &Manifest) -> Vec<Card> {
    // (time, order in the manifest, cards): equal times keep the later record first.
    let mut groups: Vec<(String, usize, Vec<Card>)> = Vec::new();
    for run in &manifest.runs {
        let time = if run.finished_at.is_empty() { &run.started_at } else { &run.finished_at };
        groups.push((time.clone(), groups.len(), record_cards(time, None, &run.request, &run.outcome)));
    }
    for batch in manifest.earlier_batches.iter().chain(&manifest.batch) {
        for (number, line) in &batch.lines {
            groups.push((
                line.finished_at.clone(),
                groups.len(),
                record_cards(&line.finished_at, Some(*number), &line.request, &line.outcome),
            ));
        }
    }
    groups.sort_by(|a, b| (Reverse(&a.0), Reverse(a.1)).cmp(&(Reverse(&b.0), Reverse(b.1))));
    groups.into_iter().flat_map(|(_, _, cards)| cards).collect()
}

fn record_cards(time: &str, line: Option<u64>, request: &Value, outcome: &Outcome) -> Vec<Card> {
    let text = |name: &str| request.get(name).and_then(Value::as_str).map(str::to_owned);
    let prompt = text("prompt").unwrap_or_default();
    let model = outcome.model.clone().or_else(|| text("model")).unwrap_or_default();
    let card = |size: Option<String>, kind: CardKind| Card {
        time: time.to_owned(),
        prompt: prompt.clone(),
        model: model.clone(),
        size,
        line,
        interrupted: outcome.status == Status::Interrupted,
        kind,
    };
    let mut cards = Vec::new();
    let mut images: Vec<_> = outcome.images.iter().collect();
    images.sort_by_key(|image| (image.z_index, image.index));
    if images.iter().any(|image| image.z_index.is_some()) {
        // A decomposition is one result: the base (z_index 0) with its layers above it.
        let (base, layers): (Vec<_>, Vec<_>) = images.into_iter().partition(|image| image.z_index == Some(0));
        let size = base.first().and_then(|image| image.size.clone());
        let layers = layers
            .into_iter()
            .map(|image| (image.file.clone(), image.name.clone().unwrap_or_else(|| format!("layer {}", image.index))))
            .collect();
        let base = base.first().map(|image| image.file.clone());
        cards.push(card(size, CardKind::Layers { base, layers, openraster: outcome.openraster.clone() }));
    } else {
        for image in images {
            let size = image.size.clone().or_else(|| text("size"));
            cards.push(card(size, CardKind::Image { file: image.file.clone(), layer: image.name.clone() }));
        }
    }
    for failed in &outcome.failed_images {
        let kind =
            CardKind::Error { code: failed.code.clone(), message: failed.message.clone(), violations: Vec::new() };
        cards.push(card(None, kind));
    }
    if let Some(error) = &outcome.error {
        let code = error.code.clone().unwrap_or_else(|| error.kind.clone());
        let kind = CardKind::Error { code, message: error.message.clone(), violations: error.violations.clone() };
        cards.push(card(None, kind));
    }
    cards
}

const STYLE: &str = "\
:root{color-scheme:light dark;--bg:#f6f6f4;--card:#fff;--text:#1d1d1f;--muted:#6b6b70;--line:#deded9;--bad:#b3261e;--bad-bg:#fdecea}
@media (prefers-color-scheme:dark){:root{--bg:#141416;--card:#1f1f23;--text:#ececf0;--muted:#9a9aa3;--line:#34343a;--bad:#ff8a80;--bad-bg:#3a1d1b}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;background:var(--bg);color:var(--text)}
header{padding:20px clamp(12px,3vw,32px) 4px}
h1{margin:0;font-size:1.3rem}
header p{margin:4px 0 0;color:var(--muted)}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,260px),1fr));gap:16px;padding:16px clamp(12px,3vw,32px) 32px}
.card{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;display:flex;flex-direction:column}
.card>a{display:block;background:repeating-conic-gradient(#8881 0 25%,transparent 0 50%) 0 0/16px 16px}
.card img{display:block;width:100%;height:auto}
figcaption{padding:10px 12px 12px;display:flex;flex-direction:column;gap:6px}
.prompt{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.meta{margin:0;color:var(--muted);font-size:.82rem;display:flex;flex-wrap:wrap;gap:2px 10px;overflow-wrap:anywhere}
.error .failure{padding:14px 12px;background:var(--bad-bg);color:var(--bad);border-bottom:1px solid var(--line)}
.code{margin:0 0 4px;font-weight:600;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.message{margin:0;overflow-wrap:anywhere}
.violations{margin:6px 0 0;padding-left:18px;overflow-wrap:anywhere}
.interrupted{font-weight:600;color:var(--bad)}
.layer-list{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:6px}
.layer-list li{display:flex;flex-direction:column;align-items:center;gap:2px;font-size:.78rem;color:var(--muted);max-width:72px;overflow-wrap:anywhere}
.layer-list img{width:64px;height:64px;object-fit:contain;background:repeating-conic-gradient(#8881 0 25%,transparent 0 50%) 0 0/8px 8px;border:1px solid var(--line);border-radius:4px}
.empty{color:var(--muted)}";

/// The page for `cards`, in their order. Pure: the same cards always give the same text.
pub fn render(cards: &[Card]) -> String {
    let images = cards.iter().map(|c| c.kind.images()).sum();
    let failed = cards.iter().filter(|c| matches!(c.kind, CardKind::Error { .. })).count();
    let plural = |n: usize, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    let mut summary = plural(images, "image");
    if failed > 0 {
        summary.push_str(&format!(", {failed} failed"));
    }
    let mut html = String::with_capacity(2048 + cards.len() * 512);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No script, no remote anything: only the images beside the page and the inline style.
    html.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         img-src 'self' file: data:; style-src 'unsafe-inline'\">\n",
    );
    let _ = writeln!(html, "<meta name=\"generator\" content=\"seedream {}\">", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(html, "<title>Seedream images: {}</title>", escape(&summary));
    let _ = writeln!(html, "<style>\n{STYLE}\n</style>\n</head>\n<body>");
    let _ = writeln!(
        html,
        "<header><h1>Seedream images</h1><p>{}, newest first. The records are in \
         <a href=\"manifest.json\">manifest.json</a>.</p></header>",
        escape(&summary)
    );
    html.push_str("<main>\n");
    if cards.is_empty() {
        html.push_str("<p class=\"empty\">No images yet.</p>\n");
    }
    for card in cards {
        card_html(&mut html, card);
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

fn card_html(html: &mut String, card: &Card) {
    let prompt = if card.prompt.is_empty() { "(no prompt)" } else { &card.prompt };
    match &card.kind {
        CardKind::Image { file, .. } => {
            let src = escape(&percent_encode(file));
            let dims = size_attributes(card.size.as_deref());
            let _ = writeln!(
                html,
                "<figure class=\"card image\">\n<a href=\"{src}\"><img src=\"{src}\" loading=\"lazy\" \
                 decoding=\"async\" alt=\"{}\"{dims}></a>",
                escape(prompt)
            );
        }
        CardKind::Layers { base, .. } => {
            html.push_str("<figure class=\"card image layers\">\n");
            if let Some(base) = base {
                let src = escape(&percent_encode(base));
                let _ = writeln!(
                    html,
                    "<a href=\"{src}\"><img src=\"{src}\" loading=\"lazy\" decoding=\"async\" alt=\"base image: {}\"{}></a>",
                    escape(prompt),
                    size_attributes(card.size.as_deref())
                );
            }
        }
        CardKind::Error { code, message, violations } => {
            let _ = write!(
                html,
                "<figure class=\"card error\">\n<div class=\"failure\"><p class=\"code\">{}</p>\
                 <p class=\"message\">{}</p>",
                escape(code),
                escape(message)
            );
            if !violations.is_empty() {
                html.push_str("<ul class=\"violations\">");
                for violation in violations {
                    let _ = write!(html, "<li>{}</li>", escape(violation));
                }
                html.push_str("</ul>");
            }
            html.push_str("</div>\n");
        }
    }
    html.push_str("<figcaption>\n");
    let _ = writeln!(html, "<p class=\"prompt\">{}</p>", escape(prompt));
    if let CardKind::Layers { base, layers, openraster } = &card.kind {
        layers_html(html, base.as_deref(), layers, openraster.as_deref());
    }
    html.push_str("<p class=\"meta\">");
    if card.interrupted {
        html.push_str("<span class=\"interrupted\">interrupted</span>");
    }
    if let Some(line) = card.line {
        let _ = write!(html, "<span class=\"line\">batch line {line}</span>");
    }
    if let CardKind::Image { file, layer } = &card.kind {
        if let Some(layer) = layer {
            let _ = write!(html, "<span class=\"layer\">layer: {}</span>", escape(layer));
        }
        let _ = write!(html, "<span class=\"file\">{}</span>", escape(file));
    }
    if !card.model.is_empty() {
        let _ = write!(html, "<span class=\"model\">{}</span>", escape(&card.model));
    }
    if let Some(size) = &card.size {
        let _ = write!(html, "<span class=\"size\">{}</span>", escape(size));
    }
    if !card.time.is_empty() {
        let time = escape(&card.time);
        let _ = write!(html, "<time datetime=\"{time}\">{time}</time>");
    }
    html.push_str("</p>\n</figcaption>\n</figure>\n");
}

/// ` width="W" height="H"` for an image of a known size, so the page does not jump as it loads.
fn size_attributes(size: Option<&str>) -> String {
    size.and_then(parse_size).map(|(w, h)| format!(" width=\"{w}\" height=\"{h}\"")).unwrap_or_default()
}

/// The parts of a layered result under its base image: the layers bottom up, each a small tile with
/// its name, and the OpenRaster file that holds them all.
fn layers_html(html: &mut String, base: Option<&str>, layers: &[(String, String)], openraster: Option<&str>) {
    html.push_str("<ol class=\"layer-list\">");
    if let Some(base) = base {
        let src = escape(&percent_encode(base));
        let _ = write!(html, "<li><a href=\"{src}\"><img src=\"{src}\" loading=\"lazy\" alt=\"base\"></a>base</li>");
    }
    for (file, name) in layers {
        let src = escape(&percent_encode(file));
        let name = escape(name);
        let _ =
            write!(html, "<li><a href=\"{src}\"><img src=\"{src}\" loading=\"lazy\" alt=\"{name}\"></a>{name}</li>");
    }
    html.push_str("</ol>\n");
    if let Some(ora) = openraster {
        let _ = writeln!(
            html,
            "<p class=\"openraster\">All layers in one file: <a href=\"{}\">{}</a> (OpenRaster: GIMP, Krita)</p>",
            escape(&percent_encode(ora)),
            escape(ora)
        );
    }
}

/// `2048x2048` as numbers (a preset such as `2K` gives none).
fn parse_size(size: &str) -> Option<(u32, u32)> {
    let (w, h) = size.split_once(['x', 'X', '×'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

/// A file name as a relative URL: everything but unreserved characters percent-encoded, so `#`, `?`,
/// `:` or spaces in a name cannot turn it into another URL.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::ErrorRecord;
    use crate::manifest::{FailedImageRecord, LineRecord, RunRecord, SavedImage};
    use serde_json::json;

    fn image(file: &str, time: &str, prompt: &str) -> Card {
        Card {
            time: time.into(),
            prompt: prompt.into(),
            model: "doubao-seedream-4-0-250828".into(),
            size: Some("64x48".into()),
            line: None,
            interrupted: false,
            kind: CardKind::Image { file: file.into(), layer: None },
        }
    }

    #[test]
    fn prompts_and_service_text_are_escaped_everywhere() {
        let mut evil = image("a\"b<c>.jpg", "2026-01-01T00:00:00Z", "<script>alert(1)</script> & 'x'");
        evil.model = "<b>m</b>".into();
        let error = Card {
            kind: CardKind::Error {
                code: "<i>Code</i>".into(),
                message: "bad <img src=x onerror=alert(1)>".into(),
                violations: vec!["size: <u>9K</u>".into()],
            },
            ..evil.clone()
        };
        let html = render(&[evil, error]);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<b>m</b>") && !html.contains("<i>Code</i>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39;"));
        assert!(html.contains("src=\"a%22b%3Cc%3E.jpg\""), "file names are URL-encoded: {html}");
        assert!(html.contains("&lt;i&gt;Code&lt;/i&gt;") && html.contains("size: &lt;u&gt;9K&lt;/u&gt;"));
    }

    #[test]
    fn images_are_lazy_sized_tiles_and_failures_are_error_cards() {
        let failed = Card {
            size: None,
            kind: CardKind::Error {
                code: "OutputImageSensitiveContentDetected".into(),
                message: "The generated image may contain sensitive content.".into(),
                violations: Vec::new(),
            },
            ..image("", "2026-01-01T00:00:00Z", "p")
        };
        let html = render(&[image("run-0.jpg", "2026-01-01T00:00:00Z", "a lighthouse"), failed]);
        assert_eq!(html.matches("<img ").count(), 1);
        assert!(html.contains("<img src=\"run-0.jpg\" loading=\"lazy\" decoding=\"async\" alt=\"a lighthouse\" width=\"64\" height=\"48\">"));
        assert_eq!(html.matches("class=\"card error\"").count(), 1);
        assert!(html.contains("<p class=\"code\">OutputImageSensitiveContentDetected</p>"));
        assert!(html.contains("1 image, 1 failed"));
        assert!(html.contains("<time datetime=\"2026-01-01T00:00:00Z\">"));
        assert!(html.contains("grid-template-columns:repeat(auto-fill"), "a responsive grid");
    }

    #[test]
    fn the_page_needs_nothing_from_outside_and_runs_no_script() {
        let html = render(&[image("a.png", "t", "p")]);
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"), "no external asset");
        assert!(html.contains("default-src 'none'"));
        assert_eq!(render(&[image("a.png", "t", "p")]), html, "pure: same cards, same page");
        assert!(render(&[]).contains("No images yet."));
    }

    #[test]
    fn cards_come_newest_first_from_runs_and_batch_lines() {
        let mut manifest = Manifest::default();
        let mut older = RunRecord {
            id: "old".into(),
            finished_at: "2026-01-01T00:00:00Z".into(),
            request: json!({"prompt": "old one", "model": "asked", "size": "2K"}),
            ..RunRecord::default()
        };
        older.outcome.images.push(SavedImage { index: 1, file: "old-1.jpg".into(), ..SavedImage::default() });
        older.outcome.images.push(SavedImage {
            index: 0,
            file: "old-0.jpg".into(),
            size: Some("64x64".into()),
            ..SavedImage::default()
        });
        older.outcome.failed_images.push(FailedImageRecord {
            index: 2,
            code: "OutputImageSensitiveContentDetected".into(),
            message: "moderated".into(),
            url: None,
            moderation: None,
        });
        let mut newer = RunRecord {
            id: "new".into(),
            finished_at: "2026-01-03T00:00:00Z".into(),
            request: json!({"prompt": "refused"}),
            ..RunRecord::default()
        };
        newer.outcome.error = Some(ErrorRecord {
            kind: "api".into(),
            exit_code: 3,
            message: "quota".into(),
            status: Some(429),
            ..ErrorRecord::default()
        });
        manifest.runs = vec![older, newer];
        let mut line = LineRecord {
            finished_at: "2026-01-02T00:00:00Z".into(),
            request: json!({"prompt": "a line"}),
            ..LineRecord::default()
        };
        line.outcome.model = Some("answered".into());
        line.outcome.images.push(SavedImage { index: 0, file: "line1-0.png".into(), ..SavedImage::default() });
        manifest.batch.get_or_insert_with(Default::default).lines.insert(1, line);

        let cards = cards(&manifest);
        let order: Vec<_> = cards
            .iter()
            .map(|c| match &c.kind {
                CardKind::Image { file, .. } => file.clone(),
                CardKind::Layers { base, .. } => base.clone().unwrap_or_default(),
                CardKind::Error { code, .. } => code.clone(),
            })
            .collect();
        assert_eq!(order, ["api", "line1-0.png", "old-0.jpg", "old-1.jpg", "OutputImageSensitiveContentDetected"]);
        assert_eq!(cards[1].model, "answered", "the model that answered wins");
        assert_eq!(cards[2].model, "asked");
        assert_eq!(cards[2].size.as_deref(), Some("64x64"));
        assert_eq!(cards[3].size.as_deref(), Some("2K"), "else the size asked for");
    }

    #[test]
    fn an_invalid_batch_line_shows_its_number_and_the_rules_it_broke() {
        let mut manifest = Manifest::default();
        let mut line = LineRecord {
            finished_at: "2026-01-02T00:00:00Z".into(),
            request: json!({"prompt": "b", "size": "9K"}),
            ..LineRecord::default()
        };
        line.outcome.error = Some(ErrorRecord {
            kind: "invalid".into(),
            exit_code: 2,
            message: "the request is invalid (nothing was sent)".into(),
            violations: vec!["size: Seedream 4.0 takes 1K, 2K or 4K, not \"9K\"".into()],
            ..ErrorRecord::default()
        });
        manifest.batch.get_or_insert_with(Default::default).lines.insert(2, line);
        let html = render(&cards(&manifest));
        assert!(html.contains("<span class=\"line\">batch line 2</span>"), "{html}");
        assert!(html.contains("<li>size: Seedream 4.0 takes 1K, 2K or 4K, not &quot;9K&quot;</li>"), "{html}");
    }

    #[test]
    fn an_interrupted_run_is_marked() {
        let mut manifest = Manifest::default();
        let mut run = RunRecord { id: "r".into(), request: json!({"prompt": "p"}), ..RunRecord::default() };
        run.outcome.status = Status::Interrupted;
        run.outcome.images.push(SavedImage { index: 0, file: "r-0.jpg".into(), ..SavedImage::default() });
        manifest.runs = vec![run.clone()];
        assert!(render(&cards(&manifest)).contains("<span class=\"interrupted\">interrupted</span>"));
        run.outcome.status = Status::Succeeded;
        manifest.runs = vec![run];
        assert!(!render(&cards(&manifest)).contains("class=\"interrupted\""));
    }

    #[test]
    fn a_layered_run_is_one_card_with_its_base_layers_and_openraster_file() {
        let mut manifest = Manifest::default();
        let mut run = RunRecord { id: "l".into(), request: json!({"prompt": "logo"}), ..RunRecord::default() };
        let layer = |index: u32, z: i64, file: &str, name: Option<&str>| SavedImage {
            index,
            file: file.into(),
            size: Some("640x512".into()),
            z_index: Some(z),
            name: name.map(Into::into),
            ..SavedImage::default()
        };
        run.outcome.images = vec![
            layer(2, 2, "l-02-text.png", Some("text")),
            layer(0, 0, "l-00-base.png", None),
            layer(1, 1, "l-01-sky.png", Some("sky")),
        ];
        run.outcome.openraster = Some("l.ora".into());
        manifest.runs = vec![run];
        let cards = cards(&manifest);
        assert_eq!(cards.len(), 1, "one card for the whole decomposition: {cards:?}");
        let CardKind::Layers { base, layers, openraster } = &cards[0].kind else { panic!("{cards:?}") };
        assert_eq!(base.as_deref(), Some("l-00-base.png"));
        assert_eq!(layers, &[("l-01-sky.png".into(), "sky".into()), ("l-02-text.png".into(), "text".into())]);
        assert_eq!(openraster.as_deref(), Some("l.ora"));
        let html = render(&cards);
        assert!(html.contains("alt=\"base\"></a>base</li>") && html.contains("alt=\"sky\"></a>sky</li>"), "{html}");
        assert!(html.contains("<a href=\"l.ora\">l.ora</a>"), "{html}");
        assert!(html.contains("3 images"), "{html}");
        assert!(html.find("sky").unwrap() < html.find("text</li>").unwrap(), "bottom up");
    }
}
