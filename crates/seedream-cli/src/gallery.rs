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
use crate::manifest::{MANIFEST_FILE, Manifest, Outcome};

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
    /// A saved image, or an error.
    pub kind: CardKind,
}

/// What a card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardKind {
    /// A saved image: its file name in the folder, and its layer name for a decomposition.
    Image { file: String, layer: Option<String> },
    /// An image (or a whole request) that failed: the service's code (or the error's kind) and message.
    Error { code: String, message: String },
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
        groups.push((time.clone(), groups.len(), record_cards(time, &run.request, &run.outcome)));
    }
    for batch in manifest.earlier_batches.iter().chain(&manifest.batch) {
        for line in batch.lines.values() {
            groups.push((
                line.finished_at.clone(),
                groups.len(),
                record_cards(&line.finished_at, &line.request, &line.outcome),
            ));
        }
    }
    groups.sort_by(|a, b| (Reverse(&a.0), Reverse(a.1)).cmp(&(Reverse(&b.0), Reverse(b.1))));
    groups.into_iter().flat_map(|(_, _, cards)| cards).collect()
}

fn record_cards(time: &str, request: &Value, outcome: &Outcome) -> Vec<Card> {
    let text = |name: &str| request.get(name).and_then(Value::as_str).map(str::to_owned);
    let prompt = text("prompt").unwrap_or_default();
    let model = outcome.model.clone().or_else(|| text("model")).unwrap_or_default();
    let card = |size: Option<String>, kind: CardKind| Card {
        time: time.to_owned(),
        prompt: prompt.clone(),
        model: model.clone(),
        size,
        kind,
    };
    let mut cards = Vec::new();
    let mut images: Vec<_> = outcome.images.iter().collect();
    images.sort_by_key(|image| (image.index, image.z_index));
    for image in images {
        let size = image.size.clone().or_else(|| text("size"));
        cards.push(card(size, CardKind::Image { file: image.file.clone(), layer: image.name.clone() }));
    }
    for failed in &outcome.failed_images {
        cards.push(card(None, CardKind::Error { code: failed.code.clone(), message: failed.message.clone() }));
    }
    if let Some(error) = &outcome.error {
        let code = error.code.clone().unwrap_or_else(|| error.kind.clone());
        cards.push(card(None, CardKind::Error { code, message: error.message.clone() }));
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
.empty{color:var(--muted)}";

/// The page for `cards`, in their order. Pure: the same cards always give the same text.
pub fn render(cards: &[Card]) -> String {
    let images = cards.iter().filter(|c| matches!(c.kind, CardKind::Image { .. })).count();
    let failed = cards.len() - images;
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
            let dims = card
                .size
                .as_deref()
                .and_then(parse_size)
                .map(|(w, h)| format!(" width=\"{w}\" height=\"{h}\""))
                .unwrap_or_default();
            let _ = writeln!(
                html,
                "<figure class=\"card image\">\n<a href=\"{src}\"><img src=\"{src}\" loading=\"lazy\" \
                 decoding=\"async\" alt=\"{}\"{dims}></a>",
                escape(prompt)
            );
        }
        CardKind::Error { code, message } => {
            let _ = writeln!(
                html,
                "<figure class=\"card error\">\n<div class=\"failure\"><p class=\"code\">{}</p>\
                 <p class=\"message\">{}</p></div>",
                escape(code),
                escape(message)
            );
        }
    }
    html.push_str("<figcaption>\n");
    let _ = writeln!(html, "<p class=\"prompt\">{}</p>", escape(prompt));
    html.push_str("<p class=\"meta\">");
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
            kind: CardKind::Image { file: file.into(), layer: None },
        }
    }

    #[test]
    fn prompts_and_service_text_are_escaped_everywhere() {
        let mut evil = image("a\"b<c>.jpg", "2026-01-01T00:00:00Z", "<script>alert(1)</script> & 'x'");
        evil.model = "<b>m</b>".into();
        let error = Card {
            kind: CardKind::Error { code: "<i>Code</i>".into(), message: "bad <img src=x onerror=alert(1)>".into() },
            ..evil.clone()
        };
        let html = render(&[evil, error]);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<b>m</b>") && !html.contains("<i>Code</i>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39;"));
        assert!(html.contains("src=\"a%22b%3Cc%3E.jpg\""), "file names are URL-encoded: {html}");
        assert!(html.contains("&lt;i&gt;Code&lt;/i&gt;"));
    }

    #[test]
    fn images_are_lazy_sized_tiles_and_failures_are_error_cards() {
        let failed = Card {
            size: None,
            kind: CardKind::Error {
                code: "OutputImageSensitiveContentDetected".into(),
                message: "The generated image may contain sensitive content.".into(),
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
            code: None,
            request_id: None,
            client_request_id: None,
            violations: Vec::new(),
            hint: None,
            moderation: None,
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
                CardKind::Error { code, .. } => code.clone(),
            })
            .collect();
        assert_eq!(order, ["api", "line1-0.png", "old-0.jpg", "old-1.jpg", "OutputImageSensitiveContentDetected"]);
        assert_eq!(cards[1].model, "answered", "the model that answered wins");
        assert_eq!(cards[2].model, "asked");
        assert_eq!(cards[2].size.as_deref(), Some("64x64"));
        assert_eq!(cards[3].size.as_deref(), Some("2K"), "else the size asked for");
    }
}
