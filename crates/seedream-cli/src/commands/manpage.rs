//! `seedream manpage`: the manual page, generated from the command line's own definition
//! (clap_mangen), so it always names today's commands and options.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::commands::Cli;
use crate::failure::{Exit, Failure};
use crate::output::write_stdout;

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream manpage > ~/.local/share/man/man1/seedream.1
  seedream manpage | man -l -";

/// Writes the manual page (roff) on stdout: the main page, then a section per command.
pub fn run() -> Exit {
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
