//! `cargo xtask python-sdks`: the official Ark Python SDK (`volcengine-ark-runtime`) and the OpenAI
//! Python SDK against the emulator, as an outside check that the emulator answers like the service.
//!
//! Makes (once) a venv under `target/python-sdks/venv`, installs `tests/python/requirements.txt` into
//! it (again only when that file changes), starts an emulator in-process, runs
//! `tests/python/sdk_checks.py` with the emulator's address and key in the environment, and stops the
//! emulator. Every step has a time limit; a step over it is killed and reported.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use seedream_emulator::EmulatorConfig;

use crate::project_root;

/// The key the emulator is started with (the checks also try a wrong one).
const KEY: &str = "python-sdk-key";
/// Creating the venv.
const VENV_LIMIT: Duration = Duration::from_secs(120);
/// Installing the pinned packages from PyPI.
const INSTALL_LIMIT: Duration = Duration::from_secs(300);
/// The checks themselves (they take well under a minute on two cores).
const CHECKS_LIMIT: Duration = Duration::from_secs(240);

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only the checks whose name contains this (`-k NAME`).
    pub only: Option<String>,
    /// The Python that makes the venv (`--python PATH`, default `python3`).
    pub python: Option<String>,
}

impl Options {
    /// Parses `[-k NAME] [--python PATH]`.
    pub fn parse(args: &[&str]) -> Result<Self, String> {
        crate::only_flags(args, &["-k", "--python"])?;
        let only: String = crate::flag(args, "-k", String::new())?;
        let python: String = crate::flag(args, "--python", String::new())?;
        Ok(Self { only: Some(only).filter(|s| !s.is_empty()), python: Some(python).filter(|s| !s.is_empty()) })
    }
}

/// Waits for `child` up to `limit`; kills it past that.
fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> Result<(), String> {
    let started = Instant::now();
    loop {
        match child.try_wait().map_err(|e| format!("{what}: {e}"))? {
            Some(status) if status.success() => return Ok(()),
            Some(status) => return Err(format!("{what} failed ({status})")),
            None if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} took longer than {limit:?} and was stopped"));
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn run_bounded(command: &mut Command, limit: Duration, what: &str) -> Result<(), String> {
    let child = command.stdin(Stdio::null()).spawn().map_err(|e| format!("{what}: cannot start: {e}"))?;
    wait_bounded(child, limit, what)
}

/// The venv's Python, made (and its packages installed) when missing or stale.
fn venv_python(root: &Path, options: &Options) -> Result<PathBuf, String> {
    let venv = root.join("target/python-sdks/venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let base = options.python.as_deref().unwrap_or("python3");
        run_bounded(Command::new(base).arg("-m").arg("venv").arg(&venv), VENV_LIMIT, "python3 -m venv")
            .map_err(|e| format!("{e}\n(on Debian and Ubuntu `python3 -m venv` needs the python3-venv package)"))?;
    }
    let requirements = root.join("tests/python/requirements.txt");
    let wanted = fs::read_to_string(&requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let stamp = venv.join("installed-requirements.txt");
    if fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        eprintln!("installing {} into {}", requirements.display(), venv.display());
        run_bounded(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(&requirements),
            INSTALL_LIMIT,
            "pip install",
        )?;
        fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    Ok(python)
}

/// Runs the Python SDK checks against an in-process emulator.
pub fn run(options: Options) -> Result<(), String> {
    let started = Instant::now();
    let root = project_root();
    let python = venv_python(&root, &options)?;
    let prepared = started.elapsed();
    let runtime = crate::harness::runtime()?;
    let emulator =
        crate::harness::start_emulator(&runtime, EmulatorConfig { api_keys: vec![KEY.into()], ..Default::default() })?;
    let mut command = Command::new(&python);
    command
        .arg(root.join("tests/python/sdk_checks.py"))
        .env("SEEDREAM_EMULATOR_URL", emulator.origin())
        .env("ARK_API_KEY", KEY)
        // Both SDKs take proxies from the environment (httpx); the emulator is on loopback.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(only) = &options.only {
        command.args(["-k", only]);
    }
    let checked = run_bounded(&mut command, CHECKS_LIMIT, "tests/python/sdk_checks.py");
    let stopped = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), emulator.shutdown()).await })
        .map_err(|_| "the emulator did not shut down within 10 s".to_owned());
    eprintln!(
        "python-sdks took {:.1} s ({:.1} s preparing the venv)",
        started.elapsed().as_secs_f64(),
        prepared.as_secs_f64()
    );
    checked.and(stopped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_a_filter_and_a_python() {
        let options = Options::parse(&["-k", "layer", "--python", "/usr/bin/python3.11"]).unwrap();
        assert_eq!(options.only.as_deref(), Some("layer"));
        assert_eq!(options.python.as_deref(), Some("/usr/bin/python3.11"));
        assert!(Options::parse(&[]).unwrap().only.is_none());
        assert!(Options::parse(&["--bogus", "1"]).is_err());
    }

    #[test]
    fn a_step_over_its_limit_is_stopped() {
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let started = Instant::now();
        let error = wait_bounded(child, Duration::from_millis(200), "sleep").unwrap_err();
        assert!(error.contains("longer than"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(run_bounded(&mut Command::new("false"), Duration::from_secs(10), "false").is_err());
        run_bounded(&mut Command::new("true"), Duration::from_secs(10), "true").unwrap();
    }
}
