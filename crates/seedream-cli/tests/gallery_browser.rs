//! The gallery page in a real browser: headless Chromium (Debian's `chromium`, which CI installs)
//! opens `index.html` of a run with a moderated image and a prompt holding `<script>`, from `file://`.
//!
//! No driver: a copy of the page gets a small inline probe script (its Content-Security-Policy
//! widened for that script only, so the images are loaded under the page's real rules) that writes
//! what it counts into the DOM, and `chromium --dump-dom` prints it. A screenshot of the real page is
//! kept in `target/gallery-screenshot.png`. Skipped, with a message, only where Chromium is missing
//! (and never in CI, which sets `SEEDREAM_BROWSER_TESTS=required`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Scratch, manifest, run};
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The longest one Chromium run may take before it is killed and the test fails.
const BROWSER_LIMIT: Duration = Duration::from_secs(90);
const PROMPT: &str = "<script>alert(1)</script> a lighthouse & \"friends\"";

const PROBE: &str = r#"<pre id="probe-result"></pre>
<script id="probe">
(function () {
  // Every image is asked for now, not only those in the first screen (the page lazy-loads).
  var images = Array.prototype.slice.call(document.images);
  images.forEach(function (image) { image.loading = "eager"; });
  var tries = 0;
  function report() {
    var done = images.every(function (image) { return image.complete; });
    if (!done && tries++ < 200) { setTimeout(report, 25); return; }
    var prompts = Array.prototype.slice.call(document.querySelectorAll(".prompt"));
    var result = {
      images: images.length,
      loaded: images.filter(function (image) { return image.complete && image.naturalWidth > 0; }).length,
      error_cards: document.querySelectorAll(".card.error").length,
      scripts: document.querySelectorAll("script").length,
      prompt_as_text: prompts.some(function (p) { return p.textContent.indexOf(PROMPT_TEXT) >= 0; }),
      columns: getComputedStyle(document.querySelector("main")).gridTemplateColumns.split(" ").length
    };
    document.getElementById("probe-result").textContent = "PROBE " + JSON.stringify(result);
  }
  report();
})();
</script>
"#;

/// Runs Chromium headless with `args`, killed after [`BROWSER_LIMIT`]; returns stdout.
fn chromium(profile: &Path, args: &[&str]) -> String {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let deadline = Instant::now() + BROWSER_LIMIT;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium ran longer than {BROWSER_LIMIT:?} and was killed: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// `text` as a JavaScript string literal that cannot end the inline `<script>` it sits in.
fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap().replace('<', "\\u003c").replace('>', "\\u003e")
}

/// `target/`, from this test binary's path (`target/debug/deps/gallery_browser-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).expect("the test runs from target/<profile>/deps").to_path_buf()
}

fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for byte in path.to_str().unwrap().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[test]
fn the_gallery_shows_every_image_and_error_card_in_chromium_and_a_script_prompt_stays_text() {
    if !Path::new(CHROMIUM).exists() {
        // CI (.ci/run) installs Chromium and says the test must run.
        assert_ne!(
            std::env::var("SEEDREAM_BROWSER_TESTS").as_deref(),
            Ok("required"),
            "{CHROMIUM} is missing but SEEDREAM_BROWSER_TESTS=required"
        );
        eprintln!("SKIPPED: {CHROMIUM} is missing (apt-get install -y chromium); CI always has it");
        return;
    }
    let dir = Scratch::new("gallery-browser");
    let out = run(
        &dir.path,
        &[
            "generate",
            "-p",
            PROMPT,
            "--model",
            "seedream-4.0",
            "--size",
            "1K",
            "--max-images",
            "3",
            "-H",
            "x-emulator-fault: moderate;images=1",
        ],
    );
    assert_eq!(out.code(), 5, "two images saved, one moderated\n{out}");
    let saved = dir.join("seedream-out");
    let record = &manifest(&saved)["runs"][0];
    assert_eq!(record["images"].as_array().unwrap().len(), 2);
    let page = std::fs::read_to_string(saved.join("index.html")).expect("the gallery is written");

    // The probe page sits beside the real one, so the images resolve the same way.
    let csp = "default-src 'none';";
    assert!(page.contains(csp), "the page forbids scripts and remote loads");
    let probe = page.replacen(csp, "default-src 'none'; script-src 'unsafe-inline';", 1).replacen(
        "</body>",
        &format!("{}</body>", PROBE.replace("PROMPT_TEXT", &js_string(PROMPT))),
        1,
    );
    let probe_path = saved.join("probe.html");
    std::fs::write(&probe_path, probe).unwrap();

    let profile = dir.join("chromium-profile");
    let dom = chromium(
        &profile,
        &["--virtual-time-budget=5000", "--window-size=1280,900", "--dump-dom", &file_url(&probe_path)],
    );
    let line = dom
        .split_once("<pre id=\"probe-result\">PROBE ")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .map(|(text, _)| text.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
        .unwrap_or_else(|| panic!("the probe wrote no result; the DOM was:\n{dom}"));
    let result: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(result["images"], 2, "{result}");
    assert_eq!(result["loaded"], 2, "every image loads from file:// (naturalWidth > 0): {result}");
    assert_eq!(result["error_cards"], 1, "{result}");
    assert_eq!(result["scripts"], 1, "no <script> but the probe's: the prompt's stayed text: {result}");
    assert_eq!(result["prompt_as_text"], true, "{result}");
    assert!(result["columns"].as_u64().unwrap() >= 3, "a grid of several columns at 1280 px: {result}");

    // The real page, as a person would see it: kept for CI as an artifact.
    let screenshot = target_dir().join("gallery-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    chromium(
        &profile,
        &[
            "--virtual-time-budget=5000",
            "--window-size=1280,900",
            &format!("--screenshot={}", screenshot.display()),
            &file_url(&saved.join("index.html")),
        ],
    );
    let png = std::fs::read(&screenshot).expect("chromium wrote the screenshot");
    let reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().expect("the screenshot is a PNG");
    assert_eq!((reader.info().width, reader.info().height), (1280, 900));
    eprintln!("screenshot: {}", screenshot.display());
}
