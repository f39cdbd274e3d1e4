//! Project automation: `cargo xtask codegen [--check]`, `conformance`, `faults`, `soak` and `python-sdks`.

mod bench;
mod c_build;
mod cabi;
mod checks;
mod codegen;
mod conformance;
mod faults;
mod harness;
mod python_sdks;
mod soak;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  codegen [--check]   write (or check) the JSON schemas and the C header
  conformance [--write-readme]
                      run every seed system end to end (Rust client and C ABI against the emulator)
                      and print the table; --write-readme also puts it into README.md
  faults [--concurrency N]
                      drive every emulator fault through the Rust client and the C ABI, N calls at
                      once (default 8), and print the fault matrix
  soak [--requests N] [--concurrency N] [--fault-rate F] [--seed S] [--via rust|c|both]
                      N requests (default 10000), N at once (default 64), a fraction F of them hit by
                      a random fault (default 0.05), through the Rust client and/or the C ABI (default
                      both, in turn); counts outcomes, leaked connections, memory growth
  python-sdks [-k NAME] [--python PATH]
                      run tests/python/sdk_checks.py (the official Ark Python SDK and the OpenAI SDK)
                      against an in-process emulator, in a venv under target/python-sdks made with
                      PATH (default python3) from tests/python/requirements.txt; -k runs only the
                      checks whose name contains NAME
  bench [--quick] [--strict]
                      build (release) and run the bench/ crate: seedream-client against bare hyper and
                      reqwest (loopback), a 100 MB b64_json answer, the CLI's cold start; prints a
                      table with each goal met or MISSED and writes target/bench/summary.json; --quick
                      takes fewer rounds; --strict fails when a goal is missed";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["codegen"] => codegen::run(codegen::Mode::Write),
        ["codegen", "--check"] => codegen::run(codegen::Mode::Check),
        ["conformance", rest @ ..] if rest.iter().all(|a| *a == "--write-readme") => conformance::run(
            conformance::Options { c_paths: true, full_decode: true },
            rest.contains(&"--write-readme"),
        ),
        ["faults", rest @ ..] => faults::Options::parse(rest).and_then(faults::run),
        ["soak", rest @ ..] => soak::Options::parse(rest).and_then(soak::run),
        ["python-sdks", rest @ ..] => python_sdks::Options::parse(rest).and_then(python_sdks::run),
        ["bench", rest @ ..] if rest.iter().all(|a| ["--quick", "--strict"].contains(a)) => {
            bench::run(rest.contains(&"--quick"), rest.contains(&"--strict"))
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// Parses `--name value` pairs: each known name once, each value through `parse`.
pub fn flag<T: std::str::FromStr>(args: &[&str], name: &str, default: T) -> Result<T, String> {
    let mut found = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if *arg == name {
            let value = iter.next().ok_or_else(|| format!("{name} needs a value"))?;
            let parsed = value.parse().map_err(|_| format!("{name} {value}: not a valid value"))?;
            if found.replace(parsed).is_some() {
                return Err(format!("{name} given twice"));
            }
        }
    }
    Ok(found.unwrap_or(default))
}

/// Fails on arguments that are not one of `names` followed by a value.
pub fn only_flags(args: &[&str], names: &[&str]) -> Result<(), String> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if !names.contains(arg) {
            return Err(format!("unknown argument {arg:?}\n\n{USAGE}"));
        }
        iter.next();
    }
    Ok(())
}
