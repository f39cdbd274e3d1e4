//! `#[ffi_fn]`: the attribute every function `seedream-ffi` exports carries. It takes the whole
//! definition and puts the whole body behind the panic boundary of `seedream_ffi::ffi`, so an
//! export cannot do work outside it (as hyper's `ffi_fn!` does).
//!
//! An attribute rather than a `macro_rules!` wrapper because cbindgen reads the source without
//! expanding macros: the function stays a plain `#[unsafe(no_mangle)] extern "C" fn` to it, doc
//! comment and all, and the header keeps every export.
//!
//! - `#[ffi_fn]`: an accessor that cannot fail. The body returns the function's type; a panic
//!   returns its `Sentinel::on_panic()` (NULL, 0, false, ...), and `try_ref!` returns `on_null()`.
//! - `#[ffi_fn(error_out)]`: a fallible call with an `error_out` parameter. The body returns
//!   `FfiResult<()>`; the function returns `SEEDREAM_RESULT_OK` or the error's code, writing the
//!   error to `*error_out` when it is not NULL. A panic is `SEEDREAM_RESULT_PANIC`.
//! - `#[ffi_fn(result)]`: the same without an error object (setters and accessors whose result code
//!   says all).
//!
//! The function must be `#[unsafe(no_mangle)]` and `extern "C"`; anything else is a compile error.

use proc_macro::{Delimiter, Group, TokenStream, TokenTree};

#[proc_macro_attribute]
pub fn ffi_fn(attr: TokenStream, item: TokenStream) -> TokenStream {
    match wrap(&attr.to_string(), item) {
        Ok(tokens) => tokens,
        Err(message) => error(&message),
    }
}

fn wrap(mode: &str, item: TokenStream) -> Result<TokenStream, String> {
    // The function called with the body as a closure, and the closure's head.
    let (function, closure) = match mode.trim() {
        "" => ("crate::ffi::infallible", "move ||"),
        "error_out" => ("crate::ffi::fallible", "error_out, move || -> crate::error::FfiResult<()>"),
        "result" => ("crate::ffi::fallible", "crate::ffi::NO_ERROR_OUT, move || -> crate::error::FfiResult<()>"),
        other => {
            return Err(format!("#[ffi_fn({other})]: expected #[ffi_fn], #[ffi_fn(error_out)] or #[ffi_fn(result)]"));
        }
    };
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let text = tokens.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    if !text.contains("no_mangle") || !text.contains("extern \"C\"") {
        return Err("#[ffi_fn] goes on an `#[unsafe(no_mangle)] extern \"C\" fn`".to_owned());
    }
    let body = match tokens.pop() {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => body,
        _ => return Err("#[ffi_fn] goes on a function with a body".to_owned()),
    };
    let parse = |text: &str| text.parse::<TokenStream>().map_err(|e| e.to_string());
    let mut arguments = parse(closure)?;
    arguments.extend([TokenTree::Group(body.clone())]);
    let mut call = parse(function)?;
    call.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, arguments))]);
    let mut wrapped = Group::new(Delimiter::Brace, call);
    wrapped.set_span(body.span());
    tokens.push(TokenTree::Group(wrapped));
    Ok(tokens.into_iter().collect())
}

fn error(message: &str) -> TokenStream {
    format!("compile_error!({message:?});").parse().unwrap_or_default()
}
