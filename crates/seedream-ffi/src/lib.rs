//! The C ABI of the Seedream client: `libseedream.a` / `libseedream.so` and the header
//! `include/seedream.h`, generated from this crate by cbindgen (`cargo xtask codegen`).
//!
//! One module per C type, each named `seedream_<type>`, functions `seedream_<type>_<verb>`.
//! Conventions (also in `include/README.md`):
//! - every exported function carries `#[ffi_fn]`, which puts its whole body behind the panic
//!   boundary: panics are caught and become
//!   `SEEDREAM_RESULT_PANIC` (or a NULL / zero sentinel for accessors), NULL pointers are checked;
//! - fallible functions return a `seedream_result`, take their outputs last, write them only on
//!   success, and on failure write a `seedream_error` to the optional `error_out`;
//! - every object the library returns is freed exactly once with its `_free`; freeing NULL is a no-op;
//! - strings are NUL-terminated UTF-8, borrowed by the library only for the call; strings the library
//!   returns live as long as the object they came from.
//!
//! Safety: the exported functions are `unsafe` because they take raw pointers. Their one contract
//! is the list above: each pointer is NULL (where allowed) or valid for what its type says.
// The contract above applies to every function alike; a `# Safety` section per function would
// repeat it ~70 times in the C header.
#![allow(clippy::missing_safety_doc)]

mod ffi;

pub mod cancel;
pub mod client;
pub mod client_builder;
pub mod error;
pub mod image_format;
pub mod log;
pub mod model_list;
pub mod response;
pub mod result;
pub mod save;
pub mod stream_event;
pub mod validation;
mod violation;

use std::ffi::c_char;

use crate::ffi::ffi_fn;

pub use cancel::seedream_cancel;
pub use client::{seedream_buffer, seedream_client, seedream_stream_callback};
pub use client_builder::seedream_client_builder;
pub use error::seedream_error;
pub use image_format::seedream_image_format;
pub use log::{seedream_log_callback, seedream_log_level};
pub use model_list::seedream_model_list;
pub use response::{seedream_bounding_box, seedream_response, seedream_usage};
pub use result::seedream_result;
pub use stream_event::{seedream_event_type, seedream_stream_event};
pub use validation::seedream_validation;

/// The library version, such as "0.1.0" (static string: never free it).
#[ffi_fn]
#[unsafe(no_mangle)]
pub extern "C" fn seedream_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
