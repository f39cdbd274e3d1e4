//! The `seedream` command: generate, edit, stream and batch images from a terminal, on the embedded
//! emulator when no key or base URL is given. `main` parses the command line and returns the exit
//! status (see [`failure::Exit`] for the table).

pub mod cli;
pub mod failure;

mod batch;
mod emulator;
mod gallery;
mod input;
mod inspect;
mod interrupt;
mod limiter;
mod manifest;
mod models;
mod openraster;
mod output;
mod request;
mod run;
mod save;
mod service;
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
    let cli = Cli::parse();
    ExitCode::from(run(cli).code())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    let out = Output::new(cli.global.json);
    match &cli.command {
        Command::Validate(args) => return validate::run(args, &out),
        Command::Schema(args) => return schema(args.name, &out),
        Command::Models(_) => return models::run(&out),
        Command::Inspect(args) => return inspect::run(args, &out),
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
    runtime.block_on(async {
        let interrupt = Interrupt::install();
        let global = &cli.global;
        match &cli.command {
            Command::Generate(args) => run::generate(args, global, &out, &interrupt).await,
            Command::Edit(args) => run::edit(args, global, &out, &interrupt).await,
            Command::Batch(args) => batch::run(args, global, &out, &interrupt).await,
            Command::Emulator(args) => emulator::run(args, global, &out, &interrupt).await,
            Command::Validate(_) | Command::Schema(_) | Command::Models(_) | Command::Inspect(_) => Exit::Success,
        }
    })
}

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
