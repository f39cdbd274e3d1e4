//! What the person sees: result lines on stdout, notes on stderr, and a spinner or progress bar that
//! is drawn only when both stdout and stderr are terminals (and `--json` is off).

use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::terminal::for_terminal;

/// Where output goes and how.
#[derive(Debug)]
pub struct Output {
    /// `--json`: one machine-readable result on stdout, nothing else there.
    pub json: bool,
    /// Whether spinners and bars are drawn.
    pub animate: bool,
    /// `--quiet`: no notes, only results and errors.
    pub quiet: bool,
    /// `--verbose`: also details (attempts, request ids, timings; never the key).
    pub verbose: bool,
    /// The spinner or bar on screen, so that lines printed meanwhile do not tear it.
    active: Mutex<Option<ProgressBar>>,
}

impl Output {
    /// Output for this process: animated only when stdout and stderr are terminals and `json` is off.
    pub fn new(json: bool) -> Self {
        let animate = !json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        Self { json, animate, quiet: false, verbose: false, active: Mutex::new(None) }
    }

    /// Output with `--quiet` / `--verbose` applied (with `--json` neither prints anything on stderr).
    pub fn with_level(mut self, quiet: bool, verbose: bool) -> Self {
        self.quiet = quiet;
        self.verbose = verbose && !quiet;
        self.animate = self.animate && !quiet;
        self
    }

    /// A result line on stdout (not in `--json` mode). A closed stdout (`| head`) is not an error.
    /// Control characters (a server's text may hold escapes) are shown escaped, as in every
    /// human-readable line here.
    pub fn line(&self, text: &str) {
        if self.json {
            return;
        }
        let text = for_terminal(text);
        self.around_bar(|| {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{text}");
        });
    }

    /// Text on stdout, in every mode (for results that are machine-readable already).
    pub fn text(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    /// The one JSON result on stdout.
    pub fn json_line<T: Serialize>(&self, value: &T) {
        let text = serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\": \"cannot encode: {e}\"}}"));
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    /// A note on stderr, prefixed with `seedream: `. Not with `--json` (stderr then carries only fatal
    /// text) or `--quiet`.
    pub fn note(&self, text: &str) {
        if self.json || self.quiet {
            return;
        }
        let text = for_terminal(text);
        self.around_bar(|| {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "seedream: {text}");
        });
    }

    /// A detail on stderr, with `--verbose` only: attempts, request ids, timings. Never a secret.
    pub fn detail(&self, text: &str) {
        if self.json || !self.verbose {
            return;
        }
        let text = for_terminal(text);
        self.around_bar(|| {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "seedream: {text}");
        });
    }

    /// A failure paragraph on stderr.
    pub fn error(&self, text: &str) {
        let text = for_terminal(text);
        self.around_bar(|| {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{text}");
        });
    }

    /// A spinner with the elapsed time and `message`, until [`finish`](Self::finish). Hidden unless animated.
    pub fn spinner(&self, message: &str) -> ProgressBar {
        let bar = if self.animate {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(message.to_owned());
        self.set_active(bar.clone());
        bar
    }

    /// A progress bar over `len` items with counts and ETA (the message adds rates). Hidden unless animated.
    pub fn bar(&self, len: u64, unit: &str) -> ProgressBar {
        let bar = if self.animate {
            let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            let template = format!("{{bar:30}} {{pos}}/{{len}} {unit} · ETA {{eta}} [{{elapsed}}] {{wide_msg}}");
            bar.set_style(ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        self.set_active(bar.clone());
        bar
    }

    /// Clears the spinner or bar from the screen.
    pub fn finish(&self) {
        if let Some(bar) = self.active.lock().ok().and_then(|mut active| active.take()) {
            bar.finish_and_clear();
        }
    }

    fn set_active(&self, bar: ProgressBar) {
        if let Ok(mut active) = self.active.lock()
            && let Some(old) = active.replace(bar)
        {
            old.finish_and_clear();
        }
    }

    fn around_bar(&self, print: impl FnOnce()) {
        let bar = self.active.lock().ok().and_then(|active| active.clone());
        match bar {
            Some(bar) if self.animate => bar.suspend(print),
            _ => print(),
        }
    }
}

/// A count with its noun, singular for one: `1 line`, `3 lines`, `0 images`. Every noun the command
/// counts takes a plain `s`.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// Writes generated text (a completion script, the manual page) on stdout. A closed pipe (`| head`)
/// is the reader's choice, not a failure.
pub fn write_stdout(bytes: &[u8]) -> crate::failure::Exit {
    use crate::failure::Exit;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Exit::Success,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(error) => {
            eprintln!("seedream: cannot write to stdout: {error}");
            Exit::Local
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(super::count(1u32, "line"), "1 line");
        assert_eq!(super::count(0u32, "image"), "0 images");
        assert_eq!(super::count(3u64, "attempt"), "3 attempts");
    }
}
