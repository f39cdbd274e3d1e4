//! `seedream completions SHELL` and `seedream manpage`: generated from the command line's own
//! definition (clap_complete, clap_mangen), so they always name today's commands and options.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::cli::{Cli, Shell};
use crate::failure::{Exit, Failure};

/// Writes the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> Exit {
    let mut command = Cli::command();
    let mut script = Vec::new();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    clap_complete::generate(generator, &mut command, "seedream", &mut script);
    write_stdout(&script)
}

/// Writes the manual page (roff) on stdout: the main page, then a section per command.
pub fn manpage() -> Exit {
    let command = Cli::command();
    let mut page = Vec::new();
    let rendered = clap_mangen::Man::new(command.clone()).render(&mut page).and_then(|()| {
        // clap_mangen lists the commands but not their options: each command gets its own section.
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            let name = sub.get_name();
            writeln!(page, ".SH \"SEEDREAM {}\"", name.to_uppercase())?;
            let sub = sub.clone().bin_name(format!("seedream {name}"));
            let man = clap_mangen::Man::new(sub);
            man.render_synopsis_section(&mut page)?;
            man.render_description_section(&mut page)?;
            man.render_options_section(&mut page)?;
        }
        Ok(())
    });
    if let Err(error) = rendered {
        return Failure::local(format!("cannot render the manual page: {error}")).exit;
    }
    write_stdout(&page)
}

fn write_stdout(bytes: &[u8]) -> Exit {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Exit::Success,
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
        Err(error) => {
            eprintln!("seedream: cannot write to stdout: {error}");
            Exit::Local
        }
    }
}
