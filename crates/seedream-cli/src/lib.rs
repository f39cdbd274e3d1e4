//! The `seedream` command: generate, edit, stream and batch images from a terminal, on the embedded
//! emulator when no key or base URL is given. `main` parses the command line and returns the exit
//! status (see [`failure::Exit`] for the table).

// The doc comments of the argument structs are the command's --help texts (clap reads them), so
// they are written for a terminal: bare URLs, `[;images=I,J]` and `user:password` stay as typed.
#[allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]
pub mod cli;
pub mod failure;

mod batch;
mod budget;
mod catalog;
mod claim;
mod emulator;
mod files;
mod gallery;
mod identity;
mod input;
mod inspect;
mod interrupt;
mod journal;
mod limiter;
mod logging;
mod manifest;
mod models;
mod openraster;
mod output;
mod request;
mod run;
mod save;
mod service;
mod shell;
mod usage;
mod validate;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::failure::{Exit, Failure};
use crate::interrupt::Interrupt;
use crate::output::Output;

/// Runs `seedream` with the process's arguments and returns its exit status.
pub fn main() -> ExitCode {
    // Usage errors exit with 2 (clap's own status), --help and --version with 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return ExitCode::from(usage_error(&error)),
    };
    logging::install_from_env();
    ExitCode::from(run(cli).code())
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

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    let out = Output::new(cli.global.json);
    let out = match &cli.command {
        Command::Generate(args) => out.with_level(args.call.quiet, args.call.verbose),
        Command::Edit(args) => out.with_level(args.call.quiet, args.call.verbose),
        Command::Batch(args) => out.with_level(args.call.quiet, args.call.verbose),
        _ => out,
    };
    if let Err(failure) = catalog::load(&cli.global) {
        return failure.report(&out);
    }
    match &cli.command {
        Command::Validate(args) => return validate::run(args, &out),
        Command::Schema(args) => return schema(args.name, &out),
        Command::Models(args) if !args.remote => {
            if let Some(flag) = args.network.first_given() {
                let failure = Failure::usage(format!("{flag} acts only with --remote")).with_hint(
                    "`seedream models` lists the catalog without any network; add --remote to ask the service",
                );
                return failure.report(&out);
            }
            return models::run(&out);
        }
        Command::Inspect(args) => return inspect::run(args, &out),
        Command::Usage(args) => return usage::run(args, &out),
        Command::Completions(args) => return shell::completions(args.shell),
        Command::Manpage => return shell::manpage(),
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            let failure = Failure::local(format!("cannot start the async runtime: {error}"));
            out.error(&failure.to_string());
            return failure.exit;
        }
    };
    let exit = runtime.block_on(async {
        let interrupt = Interrupt::install();
        let global = &cli.global;
        match &cli.command {
            Command::Generate(args) => run::generate(args, global, &out, &interrupt).await,
            Command::Edit(args) => run::edit(args, global, &out, &interrupt).await,
            Command::Batch(args) => batch::run(args, global, &out, &interrupt).await,
            Command::Emulator(args) => emulator::run(args, &out, &interrupt).await,
            Command::Models(args) => models::run_remote(args, global, &out).await,
            Command::Validate(_)
            | Command::Schema(_)
            | Command::Inspect(_)
            | Command::Usage(_)
            | Command::Completions(_)
            | Command::Manpage => Exit::Success,
        }
    });
    // Everything is recorded by now. Blocking work a deadline or Ctrl-C left behind (stamping or
    // composing an image) is not waited for past a short grace, in which temporary files are removed.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    exit
}

/// How long the end of a command waits for blocking work it no longer needs.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// `seedream schema NAME`: the JSON Schema, pretty-printed.
fn schema(name: cli::SchemaName, out: &Output) -> Exit {
    match seedream_types::schema::by_name(name.as_str()) {
        Some(schema) => {
            // Printed the same with --json: the schema is the machine-readable result.
            out.text(&serde_json::to_string_pretty(&schema).unwrap_or_default());
            Exit::Success
        }
        None => {
            let failure = Failure::usage(format!("no schema called {}", name.as_str()));
            out.error(&failure.to_string());
            failure.exit
        }
    }
}
