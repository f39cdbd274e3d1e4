//! Cross-crate test helpers: bounded child processes for the C host tests and `cargo xtask`, PNG
//! inputs for the emulator's tests and conformance, and the one copy of the shared fixtures
//! (`tests/fixtures/`: seed-page requests, edit forms, responses, live errors, SSE streams).
//!
//! Each crate's own helpers live in its `tests/common/mod.rs`, which re-exports what it takes from here.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How a bounded command ended, with everything it printed.
#[derive(Debug)]
pub struct Finished {
    /// The exit status, or `None` when it was killed at its time limit.
    pub status: Option<ExitStatus>,
    /// Its stdout and stderr, interleaved as written.
    pub output: String,
}

impl Finished {
    /// Whether it exited with success in time.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The status and output in words, for a failure message.
    pub fn describe(&self, timeout: Duration) -> String {
        match self.status {
            Some(status) => format!("{status}\n{}", self.output),
            None => format!("killed after {timeout:?}\n{}", self.output),
        }
    }
}

/// Runs `command` to completion, killing it after `timeout`; stdout and stderr go to `log`.
pub fn run_bounded(command: &mut Command, timeout: Duration, log: &Path) -> Result<Finished, String> {
    let out = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Finished { status, output: fs::read_to_string(log).unwrap_or_default() })
}

/// A PNG of `width` × `height` made with the `png` crate, for inputs: RGBA with a fully transparent
/// left half when `alpha`, else RGB (no alpha channel at all).
pub fn png_bytes(width: u32, height: u32, alpha: bool) -> Vec<u8> {
    let channels = if alpha { 4 } else { 3 };
    let mut pixels = Vec::with_capacity((width * height) as usize * channels);
    for y in 0..height {
        for x in 0..width {
            pixels.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 128]);
            if alpha {
                pixels.push(if x < width / 2 { 0 } else { 255 });
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(if alpha { png::ColorType::Rgba } else { png::ColorType::Rgb });
    encoder.set_depth(png::BitDepth::Eight);
    // Writing into a Vec of a size that fits cannot fail.
    let mut writer = encoder.write_header().expect("PNG header into memory");
    writer.write_image_data(&pixels).expect("PNG data into memory");
    writer.finish().expect("PNG end into memory");
    out
}

/// [`png_bytes`] as a `data:image/png;base64,` URL.
pub fn png_data_url(width: u32, height: u32, alpha: bool) -> String {
    seedream_types::image::encode_data_url(seedream_types::ImageFormat::Png, &png_bytes(width, height, alpha))
}

/// The shared fixtures folder, `tests/fixtures/` at the workspace root.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A shared fixture's bytes, by its path under [`fixtures_dir`] (`"stream/spec-group.sse"`).
pub fn fixture_bytes(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A shared JSON fixture, by its path under [`fixtures_dir`] (`"requests/seed003-seedream45-single.json"`).
pub fn fixture_json(relative: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture_bytes(relative)).unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"))
}

/// Whether `tool --version` runs.
pub fn installed(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_over_its_limit_is_killed_and_output_is_kept() {
        let dir = std::env::temp_dir().join(format!("seedream-tests-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let done = run_bounded(
            Command::new("sh").args(["-c", "echo hi; echo err >&2"]),
            Duration::from_secs(10),
            &dir.join("a.log"),
        )
        .unwrap();
        assert!(done.success());
        assert!(done.output.contains("hi") && done.output.contains("err"));
        let slow = run_bounded(Command::new("sleep").arg("5"), Duration::from_millis(100), &dir.join("b.log")).unwrap();
        assert!(slow.status.is_none() && !slow.success());
        assert!(installed("sh") && !installed("no-such-tool-here"));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn shared_fixtures_are_found_by_their_path_under_the_folder() {
        assert!(fixture_json("requests/seed003-seedream45-single.json")["model"].is_string());
        assert!(fixture_bytes("stream/spec-group.sse").starts_with(b"event: "));
    }
}
