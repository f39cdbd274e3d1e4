//! Every function of `include/seedream.h` says, in its own doc comment, how long what it hands out
//! lives and what it does with what it is given (as rustls-ffi does), so a C user never has to guess:
//!
//! - a function returning a pointer says how long it stays valid ("valid until `x` is freed") or
//!   that it is "static";
//! - a function taking pointers (other than its `*_out` outputs) says whether each is "borrowed" or
//!   "copied" (a `_free` function says it "consumes" its object);
//! - a function writing an object to a `seedream_<type> **` output names the `seedream_<type>_free`
//!   that frees it, and a function writing a pointer into another object's memory (`data_out`)
//!   says until when it is valid.
//!
//! Also: every export in `src/` carries `#[ffi_fn]`, so no body escapes the panic boundary.

use std::fs;
use std::path::Path;

/// One function of the header: its doc comment and its declaration, on one line each.
struct Function {
    name: String,
    doc: String,
    returns: String,
    params: Vec<(String, String)>,
}

fn header() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/seedream.h");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The functions of a cbindgen header: a `/** ... */` comment followed by a declaration `...(...);`.
fn functions(header: &str) -> Vec<Function> {
    let mut found = Vec::new();
    let mut rest = header;
    while let Some(start) = rest.find("/**") {
        let Some(end) = rest[start..].find("*/") else { break };
        let doc = &rest[start + 3..start + end];
        rest = &rest[start + end + 2..];
        let item = rest.trim_start();
        // A declaration ends with `);` before anything else opens; types and constants do not.
        let Some(semicolon) = item.find(';') else { break };
        let declaration = &item[..semicolon];
        if !declaration.ends_with(')') || declaration.contains('{') || declaration.contains("/**") {
            continue;
        }
        let declaration = declaration.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(open) = declaration.find('(') else { continue };
        let head = &declaration[..open];
        let Some(name_at) = head.rfind(|c: char| !(c.is_alphanumeric() || c == '_')) else { continue };
        let name = head[name_at + 1..].to_owned();
        if !name.starts_with("seedream_") {
            continue;
        }
        let params = declaration[open + 1..declaration.len() - 1]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty() && *p != "void")
            .map(|p| {
                let at = p.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
                (p[..at].trim().to_owned(), p[at..].to_owned())
            })
            .collect();
        let doc = doc.lines().map(|l| l.trim().trim_start_matches('*').trim()).collect::<Vec<_>>().join(" ");
        found.push(Function { name, doc: doc.to_lowercase(), returns: head[..=name_at].trim().to_owned(), params });
    }
    found
}

#[test]
fn the_header_has_every_function() {
    let functions = functions(&header());
    assert!(functions.len() > 80, "found only {} functions: is the parser still right?", functions.len());
    for name in ["seedream_error_message", "seedream_client_builder_new", "seedream_response_image_bytes"] {
        assert!(functions.iter().any(|f| f.name == name), "{name} not found");
    }
}

#[test]
fn every_pointer_a_function_returns_says_how_long_it_is_valid() {
    let missing: Vec<_> = functions(&header())
        .into_iter()
        .filter(|f| f.returns.contains('*'))
        .filter(|f| !(f.doc.contains("valid until") || f.doc.contains("static")))
        .map(|f| f.name)
        .collect();
    assert!(missing.is_empty(), "these return a pointer without saying until when it is valid: {missing:?}");
}

#[test]
fn every_pointer_argument_is_said_to_be_borrowed_or_copied() {
    let mut missing = Vec::new();
    for f in functions(&header()) {
        for (ty, name) in &f.params {
            if !ty.contains('*') || name.ends_with("_out") {
                continue;
            }
            let said = if f.name.ends_with("_free") {
                f.doc.contains(&format!("consumes `{name}`"))
            } else {
                f.doc.lines().any(|_| {
                    // The sentence naming the argument says which it is.
                    f.doc.split(". ").any(|sentence| {
                        sentence.contains(&format!("`{name}`"))
                            && (sentence.contains("borrowed") || sentence.contains("copied"))
                    })
                })
            };
            if !said {
                missing.push(format!("{}({name})", f.name));
            }
        }
    }
    assert!(missing.is_empty(), "these pointer arguments are not said to be borrowed or copied: {missing:?}");
}

#[test]
fn every_object_a_function_creates_names_its_free_function() {
    let mut missing = Vec::new();
    for f in functions(&header()) {
        let mut created: Vec<String> = f
            .params
            .iter()
            .filter(|(ty, name)| name.ends_with("_out") && ty.matches('*').count() == 2)
            .filter_map(|(ty, _)| ty.split_whitespace().find(|w| w.starts_with("seedream_")).map(str::to_owned))
            .collect();
        if f.returns.contains('*') && f.returns.contains("struct seedream_") {
            created.extend(f.returns.split_whitespace().find(|w| w.starts_with("seedream_")).map(str::to_owned));
        }
        for object in created {
            if !f.doc.contains(&format!("{object}_free")) {
                missing.push(format!("{} ({object})", f.name));
            }
        }
        for (ty, name) in &f.params {
            let borrowed_out = name.ends_with("_out") && ty.matches('*').count() == 2 && !ty.contains("seedream_");
            if borrowed_out && !f.doc.contains(&format!("`*{name}` is valid until")) {
                missing.push(format!("{} (*{name})", f.name));
            }
        }
    }
    assert!(missing.is_empty(), "these create objects or lend pointers without saying how they end: {missing:?}");
}

#[test]
fn every_export_carries_ffi_fn() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut exports = 0;
    for entry in fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let text = fs::read_to_string(&path).expect("source");
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            if line.contains("no_mangle") {
                exports += 1;
                let above = index.checked_sub(1).map(|i| lines[i].trim()).unwrap_or("");
                assert!(
                    above.starts_with("#[ffi_fn"),
                    "{}:{}: an export without #[ffi_fn] right above it",
                    path.display(),
                    index + 1
                );
            }
        }
    }
    assert_eq!(exports, functions(&header()).len(), "exports in src/ and functions in the header differ");
}
