//! "C examples build": the C examples of `include/README.md` and `tests/c/validate.c` compile with
//! gcc (`-std=c11 -Wall -Wextra -Wpedantic -Werror`) against `include/` and link against the
//! `libseedream.a` cargo built next to this program, with the link flags the README documents (as
//! `crates/seedream-ffi/tests/c_hosts.rs` does through pkg-config); `validate` then runs (it needs
//! no network). A block without `main` is a fragment: it is compiled (not linked) as the body of a
//! function given what fragments about one response image use, `response` and `i`
//! ([`FRAGMENT_BEFORE`]). Skipped, with a note, when gcc is missing.

use seedream_tests::{installed, run_bounded};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::project_root;

/// Longest a compiler or program run may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(180);

/// What a fragment (a ```c block without `main`) is compiled inside: the headers and a function
/// whose parameters are the names fragments use.
pub const FRAGMENT_BEFORE: &str = "#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n#include \"seedream.h\"\n\
     void readme_fragment(const seedream_response *response, size_t i);\n\
     void readme_fragment(const seedream_response *response, size_t i) {\n\
     (void)response; (void)i;\n";
/// What closes a fragment's function.
pub const FRAGMENT_AFTER: &str = "}\n";

/// Whether a block is a whole program.
fn is_program(block: &str) -> bool {
    block.contains("int main(")
}

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Built {
    /// Every example compiled and linked (and `validate` ran).
    Linked,
    /// Not built, and why (gcc missing).
    Skipped(String),
}

/// Runs `command` to completion within `timeout`; its output goes to `log`.
fn run_command(command: &mut Command, timeout: Duration, log: &Path) -> Result<(), String> {
    let finished = run_bounded(command, timeout, log)?;
    if finished.success() { Ok(()) } else { Err(format!("{command:?}: {}", finished.describe(timeout))) }
}

/// The ```c blocks of a Markdown text.
pub fn c_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```c") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The `libseedream.a` cargo built with this program: `target/<profile>/deps` (a dependency's static
/// library stays there), else `target/<profile>`.
fn static_library() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("deps"), dir.to_path_buf(), dir.parent()?.to_path_buf()]
        .into_iter()
        .map(|d| d.join("libseedream.a"))
        .find(|path| path.is_file())
}

/// The `-l` flags after `-lseedream` on the README's link line.
fn native_libs(readme: &str) -> Result<Vec<String>, String> {
    let line = readme
        .lines()
        .find(|line| line.contains("-lseedream -l"))
        .ok_or("include/README.md has no link line with -lseedream")?;
    Ok(line
        .split_whitespace()
        .skip_while(|flag| *flag != "-lseedream")
        .skip(1)
        .filter(|flag| flag.starts_with("-l"))
        .map(str::to_owned)
        .collect())
}

/// Builds the examples.
pub fn run() -> Result<Built, String> {
    if !installed("gcc") {
        return Ok(Built::Skipped("gcc is not installed (CI installs it; see .ci/run)".into()));
    }
    let root = project_root();
    let library = static_library().ok_or("no libseedream.a next to the xtask binary (cargo builds it with xtask)")?;
    let readme = fs::read_to_string(root.join("include/README.md")).map_err(|e| format!("include/README.md: {e}"))?;
    let libs = native_libs(&readme)?;
    let blocks = c_blocks(&readme);
    if blocks.is_empty() {
        return Err("include/README.md has no ```c example".into());
    }
    let scratch = std::env::temp_dir().join(format!("seedream-xtask-c-{}", std::process::id()));
    fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    // (name, source, whether it is a program to link)
    let mut sources: Vec<(String, PathBuf, bool)> = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let path = scratch.join(format!("readme_example_{index}.c"));
        let program = is_program(block);
        let text = if program { block.clone() } else { format!("{FRAGMENT_BEFORE}{block}{FRAGMENT_AFTER}") };
        fs::write(&path, text).map_err(|e| e.to_string())?;
        sources.push((format!("readme_example_{index}"), path, program));
    }
    sources.push(("validate".into(), root.join("tests/c/validate.c"), true));
    let result = (|| {
        for (name, source, program) in &sources {
            let mut gcc = Command::new("gcc");
            gcc.args(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
                .arg("-I")
                .arg(root.join("include"))
                .arg("-I")
                .arg(root.join("tests/c"))
                .arg(source);
            if *program {
                gcc.arg("-o")
                    .arg(scratch.join(name))
                    // A debug libseedream.a is large: drop unused sections and debug info.
                    .args(["-Wl,--gc-sections", "-Wl,-S"])
                    .arg(&library)
                    .args(&libs);
            } else {
                gcc.arg("-c").arg("-o").arg(scratch.join(format!("{name}.o")));
            }
            run_command(&mut gcc, STEP_TIMEOUT, &scratch.join(format!("{name}.gcc.log")))?;
        }
        // validate.c checks version, names, validation and NULL handling without any network.
        run_command(&mut Command::new(scratch.join("validate")), STEP_TIMEOUT, &scratch.join("validate.run.log"))
    })();
    let _ = fs::remove_dir_all(&scratch);
    result.map(|()| Built::Linked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_c_blocks_and_link_flags() {
        let text = "a\n```c\nint main(void) { return 0; }\n```\n```sh\ncc app.c -lseedream -lm -ldl\n```\n";
        assert_eq!(c_blocks(text), ["int main(void) { return 0; }\n"]);
        assert_eq!(native_libs(text).unwrap(), ["-lm", "-ldl"]);
        let readme = fs::read_to_string(project_root().join("include/README.md")).unwrap();
        assert!(!c_blocks(&readme).is_empty());
        assert!(native_libs(&readme).unwrap().contains(&"-lpthread".to_owned()));
        assert!(c_blocks(&readme).iter().any(|block| is_program(block)), "the README has a whole C program");
    }
}
