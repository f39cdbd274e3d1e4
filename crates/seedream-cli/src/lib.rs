//! The `seedream` command: generate, edit, stream and batch images from a terminal, on the embedded
//! emulator when no key or base URL is given. `main` parses the command line and returns the exit
//! status (see [`failure::Exit`] for the table).

// The doc comments of the argument structs are the command's --help texts (clap reads them), so
// they are written for a terminal: bare URLs, `[;images=I,J]` and `user:password` stay as typed.
#[allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]
pub mod args;
#[allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]
pub mod commands;
pub mod failure;

mod batch;
mod budget;
mod catalog;
mod claim;
mod files;
mod gallery;
#[allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]
mod generation_args;
mod identity;
mod input;
mod interrupt;
mod job;
mod journal;
mod limiter;
mod logging;
mod manifest;
mod openraster;
mod output;
mod request;
mod run;
mod save;
mod service;
mod terminal;

use std::process::ExitCode;

use clap::Parser as _;

use crate::commands::Cli;
use crate::failure::Failure;
use crate::output::Output;

/// Runs `seedream` with the process's arguments and returns its exit status.
pub fn main() -> ExitCode {
    // Usage errors exit with 2 (clap's own status), --help and --version with 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return ExitCode::from(usage_error(&error)),
    };
    logging::install_from_env();
    ExitCode::from(commands::run(cli).code())
}

/// Reports a command line clap refused. With `--json` anywhere on it, the outcome is one JSON object
/// on stdout too (clap's text stays on stderr: it is the fatal text).
fn usage_error(error: &clap::Error) -> u8 {
    use clap::error::ErrorKind;
    let informational = matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand;
    let json = std::env::args_os().skip(1).take_while(|arg| arg != "--").any(|arg| arg == "--json");
    if json && !informational {
        let text = error.kind().as_str().map(str::to_owned).unwrap_or_else(|| error.to_string());
        // The first paragraph: "the following required arguments were not provided:" is followed by
        // the arguments, one per line.
        let rendered = error.to_string();
        let paragraph: Vec<&str> = rendered.lines().take_while(|line| !line.trim().is_empty()).map(str::trim).collect();
        let message = Some(paragraph.join(" ").trim_start_matches("error: ").to_owned())
            .filter(|line| !line.is_empty())
            .unwrap_or(text);
        let failure = Failure::usage(message).with_kind("usage");
        Output::new(true).json_line(&serde_json::json!({
            "status": "failed",
            "exit_code": failure.exit.code(),
            "error": failure.record(),
        }));
    }
    let _ = error.print();
    u8::try_from(error.exit_code()).unwrap_or(2)
}
