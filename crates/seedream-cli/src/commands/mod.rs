//! The commands, one module each (their options and a short `run`), and [`run`], which hands a parsed
//! command line to the one it names. The options several commands share are in [`crate::args`].

pub mod batch;
pub mod completions;
pub mod edit;
pub mod emulator;
pub mod generate;
pub mod inspect;
pub mod manpage;
pub mod models;
pub mod schema;
pub mod usage;
pub mod validate;

use std::future::Future;

use clap::{Parser, Subcommand};

use crate::args::{CallArgs, GlobalArgs};
use crate::failure::{Exit, Failure};
use crate::interrupt::Interrupt;
use crate::output::Output;

const MAIN_EXAMPLES: &str = "\
Examples:
  seedream generate --prompt \"a lighthouse at dawn\" --max-images 3
  seedream edit --image photo.png --prompt \"make it winter\"
  seedream batch prompts.jsonl --concurrency 8
  seedream validate request.json
  seedream models
  ARK_API_KEY=... seedream generate --prompt \"a lighthouse at dawn\" --size 2K

Without --base-url or an API key (flags, SEEDREAM_BASE_URL, SEEDREAM_API_KEY, ARK_API_KEY) the
commands that call the service run an embedded emulator: synthetic images, no account needed.

An API key or base URL that is set but empty (--api-key \"\", ARK_API_KEY=) is a usage error, not
the emulator.

Exit status: 0 success; 1 a local file could not be read or written; 2 bad usage or an invalid
request; 3 the service refused the request; 4 the service or the network failed, or --timeout ran
out; 5 partly done (some images or batch lines failed, see the manifest); 130 interrupted.";

/// The `seedream` command.
#[derive(Debug, Parser)]
#[command(
    name = "seedream",
    version,
    about = "Generate and edit images with Seedream / SeedEdit, from a terminal.",
    after_help = MAIN_EXAMPLES
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate images from a prompt (and optional reference images).
    #[command(after_help = generate::after_help())]
    Generate(generate::GenerateArgs),
    /// Edit images: change one or more input images as the prompt says.
    #[command(after_help = edit::after_help())]
    Edit(edit::EditArgs),
    /// Run many generation requests from a JSONL file, concurrently, resumably.
    #[command(after_help = batch::AFTER_HELP)]
    Batch(batch::BatchArgs),
    /// Check generations request files against the model's rules, without any network.
    #[command(after_help = validate::AFTER_HELP)]
    Validate(validate::ValidateArgs),
    /// Show what image files carry: format, size, and the provenance seedream wrote into them.
    #[command(after_help = inspect::AFTER_HELP)]
    Inspect(inspect::InspectArgs),
    /// Print the JSON Schema of a wire type.
    #[command(after_help = schema::AFTER_HELP)]
    Schema(schema::SchemaArgs),
    /// List the model families and what each takes: sizes, references, groups, streams, PNG, layers.
    #[command(after_help = models::AFTER_HELP)]
    Models(models::ModelsArgs),
    /// Serve the emulator (a local stand-in for the service) until interrupted.
    #[command(after_help = emulator::AFTER_HELP)]
    Emulator(emulator::EmulatorArgs),
    /// Sum what output folders' runs bought: runs, images, tokens, web searches, per model and in all.
    #[command(after_help = usage::AFTER_HELP)]
    Usage(usage::UsageArgs),
    /// Print a shell completion script (bash, zsh, fish or powershell) on stdout.
    #[command(after_help = completions::AFTER_HELP)]
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff) on stdout.
    #[command(after_help = manpage::AFTER_HELP)]
    Manpage,
}

impl Command {
    /// The call options of a command that calls the service (generate, edit, batch).
    fn call_args(&self) -> Option<&CallArgs> {
        match self {
            Command::Generate(args) => Some(&args.call),
            Command::Edit(args) => Some(&args.call),
            Command::Batch(args) => Some(&args.call),
            _ => None,
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    let out = Output::new(cli.global.json);
    let out = match cli.command.call_args() {
        Some(call) => out.with_level(call.quiet, call.verbose),
        None => out,
    };
    if let Err(failure) = crate::catalog::load(&cli.global) {
        return failure.report(&out);
    }
    let global = &cli.global;
    let out = &out;
    match &cli.command {
        Command::Generate(args) => {
            in_runtime(out, |interrupt| async move { generate::run(args, global, out, &interrupt).await })
        }
        Command::Edit(args) => {
            in_runtime(out, |interrupt| async move { edit::run(args, global, out, &interrupt).await })
        }
        Command::Batch(args) => {
            in_runtime(out, |interrupt| async move { batch::run(args, global, out, &interrupt).await })
        }
        Command::Emulator(args) => {
            in_runtime(out, |interrupt| async move { emulator::run(args, out, &interrupt).await })
        }
        Command::Models(args) if args.remote => in_runtime(out, |_| models::run_remote(args, global, out)),
        Command::Models(args) => models::run(args, out),
        Command::Validate(args) => validate::run(args, out),
        Command::Schema(args) => schema::run(args, out),
        Command::Inspect(args) => inspect::run(args, out),
        Command::Usage(args) => usage::run(args, out),
        Command::Completions(args) => completions::run(args),
        Command::Manpage => manpage::run(),
    }
}

/// Runs a command that waits on the network or on Ctrl-C, on a Tokio runtime made for it.
fn in_runtime<F: Future<Output = Exit>>(out: &Output, work: impl FnOnce(Interrupt) -> F) -> Exit {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            let failure = Failure::local(format!("cannot start the async runtime: {error}"));
            out.error(&failure.to_string());
            return failure.exit;
        }
    };
    let exit = runtime.block_on(async { work(Interrupt::install()).await });
    // Everything is recorded by now. Blocking work a deadline or Ctrl-C left behind (stamping or
    // composing an image) is not waited for past a short grace, in which temporary files are removed.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    exit
}

/// How long the end of a command waits for blocking work it no longer needs.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use clap::CommandFactory;

    use crate::args::DEFAULT_OUT_DIR;
    use crate::generation_args::Format;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example_in_its_help() {
        let mut command = Cli::command();
        for sub in command.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(help.contains("Examples:\n  seedream "), "{} has no example", sub.get_name());
        }
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let cli = Cli::try_parse_from(["seedream", "--json", "schema", "error"]).unwrap();
        assert!(cli.global.json);
        let cli = Cli::try_parse_from(["seedream", "validate", "--json", "a.json"]).unwrap();
        assert!(cli.global.json);
        let Command::Validate(args) = cli.command else { panic!("not validate") };
        assert_eq!(args.files, ["a.json"]);
    }

    #[test]
    fn the_api_key_is_redacted_in_debug() {
        let cli = Cli::try_parse_from(["seedream", "generate", "-p", "x", "--api-key", "sk-very-secret"]).unwrap();
        assert!(!format!("{cli:?}").contains("sk-very-secret"));
        let Command::Generate(args) = cli.command else { panic!("not generate") };
        assert_eq!(args.network.api_key.unwrap().expose(), "sk-very-secret");
    }

    #[test]
    fn generate_defaults_and_formats() {
        let cli =
            Cli::try_parse_from(["seedream", "generate", "-p", "x", "--format", "b64_json", "--seed", "-1"]).unwrap();
        let Command::Generate(args) = cli.command else { panic!("not generate") };
        assert_eq!(args.generation.model, None, "the default comes from the catalog when the command runs");
        assert_eq!(args.generation.format, Some(Format::B64Json));
        assert_eq!(args.generation.seed, Some(-1));
        assert_eq!(args.generation.out, PathBuf::from(DEFAULT_OUT_DIR));
        assert!(Cli::try_parse_from(["seedream", "batch", "f.jsonl", "--concurrency", "0"]).is_err());
    }
}
