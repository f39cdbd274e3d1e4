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
        .map(|(name, mut schema)| {
            plain_descriptions(&mut schema);
            (schema_dir.join(format!("{name}.json")), seedream_types::schema::render(&schema))
        })
        .collect();
    files.push((root.join("include/seedream.h"), c_header(root)?));
    Ok(files)
}

/// Rewrites every `"description"` string in `schema`, at any depth, with [`strip_rustdoc_links`]: the
/// descriptions come from doc comments, and a link to a Rust path means nothing to a schema reader.
/// Returns how many descriptions changed.
pub fn plain_descriptions(schema: &mut serde_json::Value) -> usize {
    use serde_json::Value;
    match schema {
        Value::Object(object) => object
            .iter_mut()
            .map(|(key, value)| match value {
                Value::String(text) if key == "description" => {
                    let plain = strip_rustdoc_links(text);
                    let changed = plain != *text;
                    *text = plain;
                    usize::from(changed)
                }
                _ => plain_descriptions(value),
            })
            .sum(),
        Value::Array(items) => items.iter_mut().map(plain_descriptions).sum(),
        _ => 0,
    }
}

/// Turns rustdoc intra-doc links into code spans: `` [`text`](crate::path) `` and `[text](Self::path)`
/// become `` `text` ``, a bare `` [`Name`] `` becomes `` `Name` ``. Links whose target is not a Rust path
/// (`https://…`, `#anchor`) and brackets that are not links are left as they are.
pub fn strip_rustdoc_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match rustdoc_link(after) {
            Some((label, len)) => {
                out.push('`');
                out.push_str(label);
                out.push('`');
                rest = &after[len..];
            }
            None => {
                out.push('[');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The label (without backticks) and byte length of the rustdoc link at the start of `text`, if any.
fn rustdoc_link(text: &str) -> Option<(&str, usize)> {
    let close = text.find(']')?;
    let inner = &text[1..close];
    if inner.is_empty() || inner.contains('[') {
        return None;
    }
    let code = inner.strip_prefix('`').and_then(|s| s.strip_suffix('`'));
    let label = code.unwrap_or(inner);
    let after = &text[close + 1..];
    if let Some(target) = after.strip_prefix('(') {
        let end = target.find(')')?;
        let (mut path, mut consumed) = (&target[..end], end + 1);
        // A `fn()` target holds the first ')': take the parentheses with it.
        if path.ends_with('(') && target[consumed..].starts_with(')') {
            (path, consumed) = (&target[..consumed], consumed + 1);
        }
        if label.is_empty() || !is_rust_path(path) {
            return None;
        }
        return Some((label, close + 2 + consumed));
    }
    // A bare `[`Name`]`; `[Name]` without backticks may be prose ("[0, 1]") and stays.
    match code {
        Some(name) if is_rust_path(name) && !after.starts_with('[') => Some((name, close + 1)),
        _ => None,
    }
}

/// Whether `path` is a Rust path as rustdoc resolves it (`crate::a::B`, `Self::x`, `super::y`, `Name`,
/// `struct@Name`, `name!`), rather than a URL or an anchor.
fn is_rust_path(path: &str) -> bool {
    let path = path.split_once('@').map_or(path, |(kind, rest)| {
        if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase()) { rest } else { path }
    });
    let path = path.strip_suffix('!').unwrap_or(path);
    let path = path.strip_suffix("()").unwrap_or(path);
    !path.is_empty()
        && path.split("::").all(|segment| {
            segment.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && segment.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
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
    use super::strip_rustdoc_links as strip;

    #[test]
    fn rustdoc_links_become_code_spans() {
        assert_eq!(strip("See [`catalog`](crate::catalog)."), "See `catalog`.");
        assert_eq!(strip("Goes to [`extra`](Self::extra)"), "Goes to `extra`");
        assert_eq!(strip("[`SEEDREAM_4_0`](crate::SEEDREAM_4_0) only"), "`SEEDREAM_4_0` only");
        assert_eq!(strip("[`up`](super::up), [`f`](Self::f())"), "`up`, `f`");
        assert_eq!(strip("[`Thing`](Thing) and [`m`](a::b::m!)"), "`Thing` and `m`");
        assert_eq!(strip("the [catalog](crate::catalog) row"), "the `catalog` row");
        assert_eq!(strip("Options: [`OptimizePromptOptions`]."), "Options: `OptimizePromptOptions`.");
        assert_eq!(strip("[`Tool::web_search`] adds it"), "`Tool::web_search` adds it");
    }

    #[test]
    fn web_links_and_plain_brackets_are_left_alone() {
        for text in [
            "See [the docs](https://www.volcengine.com/docs/82379) and [`api`](http://example.com/a_b).",
            "A range of [0, 1], an array [`a`, `b`], a [`ref`][1] and an [anchor](#size).",
            "No closing [bracket",
        ] {
            assert_eq!(strip(text), text);
        }
    }

    #[test]
    fn every_description_at_any_depth_is_rewritten() {
        let mut schema = serde_json::json!({
            "description": "[`A`]",
            "properties": {
                "description": { "description": "[`b`](Self::b)", "title": "[`C`]" },
                "list": { "anyOf": [{ "description": "[`D`](crate::D)" }, { "description": "plain" }] }
            }
        });
        assert_eq!(super::plain_descriptions(&mut schema), 3);
        assert_eq!(
            schema,
            serde_json::json!({
                "description": "`A`",
                "properties": {
                    "description": { "description": "`b`", "title": "[`C`]" },
                    "list": { "anyOf": [{ "description": "`D`" }, { "description": "plain" }] }
                }
            })
        );
    }

    #[test]
    fn committed_schemas_have_no_rustdoc_links() {
        let dir = crate::project_root().join("crates/seedream-types").join(seedream_types::schema::SCHEMA_DIR);
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut schema: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(super::plain_descriptions(&mut schema), 0, "{} has rustdoc link syntax", path.display());
            assert!(!text.contains("](crate::") && !text.contains("](Self::"), "{}", path.display());
            checked += 1;
        }
        assert!(checked >= 4, "expected the schema files in {}", dir.display());
    }

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
