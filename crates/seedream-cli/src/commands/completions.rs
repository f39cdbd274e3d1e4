//! `seedream completions SHELL`: a completion script generated from the command line's own definition
//! (clap_complete), so it always names today's commands and options.

use clap::{Args, CommandFactory as _, ValueEnum};

use crate::commands::Cli;
use crate::failure::Exit;
use crate::output::write_stdout;

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream completions bash > ~/.local/share/bash-completion/completions/seedream
  seedream completions zsh > ~/.zfunc/_seedream
  seedream completions fish > ~/.config/fish/completions/seedream.fish";

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// PowerShell.
    Powershell,
}

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Which shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for the shell on stdout.
pub fn run(args: &CompletionsArgs) -> Exit {
    let mut command = Cli::command();
    let mut script = Vec::new();
    let generator = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    clap_complete::generate(generator, &mut command, "seedream", &mut script);
    write_stdout(&script)
}
