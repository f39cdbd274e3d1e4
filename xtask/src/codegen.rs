//! Generated files: the JSON schemas of seedream-types and the C header of seedream-ffi.
//!
//! Each generator has a check mode: `cargo xtask codegen --check` fails when a committed file differs
//! from what would be generated, and the same check runs as a test.

use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;

/// Write the files, or only compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

/// Every generated file with its expected contents.
pub fn generated_files(root: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let schema_dir = root.join("crates/seedream-types").join(seedream_types::schema::SCHEMA_DIR);
    let mut files: Vec<(PathBuf, String)> = seedream_types::schema::all()
        .into_iter()
        .map(|(name, schema)| (schema_dir.join(format!("{name}.json")), seedream_types::schema::render(&schema)))
        .collect();
    files.push((root.join("include/seedream.h"), c_header(root)?));
    Ok(files)
}

fn c_header(root: &Path) -> Result<String, String> {
    let crate_dir = root.join("crates/seedream-ffi");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .map_err(|e| format!("crates/seedream-ffi/cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen could not generate include/seedream.h: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Writes every generated file, or (in check mode) reports the stale ones.
pub fn run(mode: Mode) -> Result<(), String> {
    let root = project_root();
    let mut stale = Vec::new();
    for (path, contents) in generated_files(&root)? {
        let current = fs::read_to_string(&path).unwrap_or_default();
        if same_text(&current, &contents) {
            continue;
        }
        let shown = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
        match mode {
            Mode::Check => stale.push(shown),
            Mode::Write => {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                fs::write(&path, contents).map_err(|e| format!("{shown}: {e}"))?;
                eprintln!("wrote {shown}");
            }
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!("{} is not up to date, run `cargo xtask codegen` and commit", stale.join(", ")))
    }
}

/// Equal but for line endings: a checkout with CRLF endings (Git on Windows) is not stale.
pub fn same_text(committed: &str, generated: &str) -> bool {
    committed.replace("\r\n", "\n") == generated.replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_endings_do_not_make_a_file_stale() {
        assert!(super::same_text("a\r\nb\r\n", "a\nb\n"));
        assert!(!super::same_text("a\nc\n", "a\nb\n"));
    }

    #[test]
    fn generated_files_are_current() {
        if let Err(message) = super::run(super::Mode::Check) {
            panic!("{message}");
        }
    }
}
