//! `seedream_client_generate_save` and `seedream_client_edit_save`: a call whose images stream into
//! a folder as the answer arrives (the Rust client's `ImagesCall::save_to`), each file flushed to
//! disk under a temporary name and renamed once the whole answer has parsed, with its provenance
//! written in. Memory stays at a few MiB however large the answer.

use std::ffi::c_char;
use std::path::Path;

use ::seedream_client::{ImagesCall, SaveOptions, SavedResponse};
use seedream_types::provenance::Provenance;

use crate::cancel::seedream_cancel;
use crate::client::{edit_arguments, seedream_buffer, seedream_client};
use crate::error::{FfiResult, seedream_error};
use crate::ffi::{OutPtr, arg_out, arg_ref, arg_str, ffi_fn, into_c};
use crate::response::seedream_response;
use crate::result::seedream_result;
use crate::validation::parse_request;

/// What the C ABI writes as the provenance's `tool`.
const TOOL: &str = concat!("seedream-ffi ", env!("CARGO_PKG_VERSION"));

/// Generates images and saves them into `dir` (created if needed) as they arrive:
/// `<dir>/<stem>-<index>.<extension>`, `index` the image's place in the response and the extension
/// that of its real format (`jpg`, `png`, ...). `b64_json` images are decoded from the answer into
/// their files as the bytes come, so memory stays at a few MiB however large the answer; `url`
/// images are downloaded and saved after. Each file carries its provenance (prompt, model, size,
/// seed, request id, time, whether the emulator drew it) as XMP, and is flushed to disk under a
/// temporary name, renamed once the whole answer has arrived and parsed: on any error, or a cancel,
/// no file is left, final or temporary. `dir` and `stem` are NUL-terminated UTF-8; `stem` is a
/// plain name (no `/`, not `..`). `cancel` may be NULL.
///
/// On success writes a new response to `*response_out` (free it with `seedream_response_free`):
/// `seedream_response_image_path` gives each saved file; the saved images' bytes are in their files,
/// not in the response. Failed images (moderation inside a group) have no file. On failure writes
/// an error to `*error_out` when that is not NULL, as `seedream_client_generate` does
/// (`SEEDREAM_RESULT_IO` when a file cannot be written).
///
/// `client`, `request_json`, `dir`, `stem` and `cancel` are borrowed for the call only.
/// `*response_out` is the caller's, freed with `seedream_response_free`. `*error_out` is the caller's,
/// freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_generate_save(
    client: *const seedream_client,
    request_json: *const c_char,
    dir: *const c_char,
    stem: *const c_char,
    cancel: *const seedream_cancel,
    response_out: *mut *mut seedream_response,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (client, json, cancel) =
        unsafe { (arg_ref(client, "client")?, arg_str(request_json, "request_json")?, cancel.as_ref()) };
    // SAFETY: as above.
    let target = unsafe { Target::of(dir, stem, response_out) }?;
    let request = parse_request(json)?;
    let job = client.job();
    target.save(client, cancel, job.generate(&request))
}

/// Edits images as `seedream_client_edit` does (the same `params_json`, `images` and `mask`) and
/// saves the results into `dir` as `seedream_client_generate_save` does: streamed to disk as they
/// arrive, with provenance, under atomic names; `seedream_response_image_path` gives each file.
///
/// `client`, `params_json`, `dir`, `stem` and `cancel` are borrowed for the call only; `images` and
/// `mask` are copied. `*response_out` is the caller's, freed with `seedream_response_free`.
/// `*error_out` is the caller's, freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_edit_save(
    client: *const seedream_client,
    params_json: *const c_char,
    images: *const seedream_buffer,
    image_count: usize,
    mask: *const u8,
    mask_len: usize,
    dir: *const c_char,
    stem: *const c_char,
    cancel: *const seedream_cancel,
    response_out: *mut *mut seedream_response,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers, each buffer holding its `len` bytes.
    let (client, cancel, request) = unsafe {
        (arg_ref(client, "client")?, cancel.as_ref(), edit_arguments(params_json, images, image_count, mask, mask_len)?)
    };
    // SAFETY: as above.
    let target = unsafe { Target::of(dir, stem, response_out) }?;
    let job = client.job();
    target.save(client, cancel, job.edit(&request))
}

/// Where a save call's files and response go.
struct Target<'a> {
    dir: &'a str,
    stem: &'a str,
    response_out: OutPtr<*mut seedream_response>,
}

impl<'a> Target<'a> {
    /// # Safety
    /// `dir` and `stem` are NULL or NUL-terminated; `response_out` is NULL or writable.
    unsafe fn of(
        dir: *const c_char,
        stem: *const c_char,
        response_out: *mut *mut seedream_response,
    ) -> FfiResult<Self> {
        // SAFETY: as the caller promises.
        let (dir, stem) = unsafe { (arg_str(dir, "dir")?, arg_str(stem, "stem")?) };
        if dir.is_empty() {
            return Err(seedream_error::invalid_argument("dir is empty"));
        }
        if stem.is_empty() || stem.contains(['/', '\\']) || stem == "." || stem == ".." {
            return Err(seedream_error::invalid_argument(format!("stem {stem:?} is not a plain file name")));
        }
        Ok(Target { dir, stem, response_out: arg_out(response_out, "response_out")? })
    }

    /// Runs `call` with its images saved here, and writes the response.
    fn save(self, client: &seedream_client, cancel: Option<&seedream_cancel>, call: ImagesCall<'_>) -> FfiResult<()> {
        let options = SaveOptions::new().with_provenance(Provenance { tool: TOOL.into(), ..Provenance::default() });
        let saved: SavedResponse = client.block_on(cancel, async {
            call.save_options(options)
                .save_to(Path::new(self.dir), self.stem)
                .await
                .map_err(|e| seedream_error::from_client(&e))
        })?;
        self.response_out.write(into_c(seedream_response::saved(saved)));
        Ok(())
    }
}
