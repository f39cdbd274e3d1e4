//! `seedream_client`: a client with its own async runtime, and the blocking calls C makes on it —
//! generate, stream (a callback per event), edit from memory buffers, download one image of a
//! response — each cancellable.

use std::ffi::{c_char, c_int, c_void};
use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use ::seedream_client::decode::decode_b64;
use ::seedream_client::{Client, ClientBuilder, ResponseMeta};
use futures_core::Stream;
use seedream_types::edit::field;
use seedream_types::{EditRequest, GeneratedImage, ImageFile, ImagesResponse, PartialSucceeded, StreamEvent};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use tracing::instrument::WithSubscriber as _;

use crate::cancel::seedream_cancel;
use crate::error::{FfiResult, seedream_error};
use crate::ffi::{arg_bytes, arg_out, arg_ref, arg_str, ffi_fn, free_c, into_c};
use crate::model_list::seedream_model_list;
use crate::response::{ImageBytes, seedream_response};
use crate::result::seedream_result;
use crate::stream_event::seedream_stream_event;
use crate::validation::parse_request;

/// What a stream callback returns to receive the next event.
pub const SEEDREAM_STREAM_CONTINUE: c_int = 0;
/// What a stream callback returns to stop the stream (any value other than 0 stops it).
pub const SEEDREAM_STREAM_STOP: c_int = 1;

/// Called once per stream event, on the thread that called `seedream_client_generate_stream`,
/// with the `userdata` given to it. `event` is valid only during the call (copy what you keep).
/// Return `SEEDREAM_STREAM_CONTINUE` (0) for the next event, anything else to stop the stream.
/// Must not unwind (no C++ exceptions, no `longjmp` out of it) and must not make blocking calls on
/// any `seedream_client` (they return `SEEDREAM_RESULT_REENTRANT`).
#[allow(non_camel_case_types)]
pub type seedream_stream_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event: *const seedream_stream_event) -> c_int>;

/// A byte buffer lent to the library for the duration of a call: `len` bytes at `data`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct seedream_buffer {
    /// The first byte; may be NULL only when `len` is 0.
    pub data: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// What the C side does itself around each call, besides what the Rust client does: download the
/// `url` images of a response, how many at a time, and one deadline over a call and its downloads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSettings {
    pub(crate) download_images: bool,
    pub(crate) max_parallel_downloads: usize,
    pub(crate) overall: Option<Duration>,
}

/// A client of the image API with its own async runtime (worker threads for network I/O).
/// Thread-safe: several threads may make calls on one client at the same time, each call
/// blocking only its own thread. Owned by the caller, freed with `seedream_client_free` once no
/// call on it is running.
#[allow(non_camel_case_types)]
pub struct seedream_client {
    client: Client,
    runtime: Option<Runtime>,
    calls: CallSettings,
    /// The host's log callback, as a dispatcher set around each call.
    log: Option<tracing::Dispatch>,
}

impl fmt::Debug for seedream_client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("seedream_client")
            .field("client", &self.client)
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

impl Drop for seedream_client {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                // Freed from inside a callback: a runtime cannot wait for its threads there.
                runtime.shutdown_background();
            } else {
                drop(runtime);
            }
        }
    }
}

impl seedream_client {
    /// Starts a runtime of `worker_threads` threads and builds the Rust client inside it.
    pub(crate) fn start(
        builder: ClientBuilder,
        worker_threads: usize,
        calls: CallSettings,
        log: Option<tracing::Dispatch>,
    ) -> FfiResult<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .thread_name("seedream-io")
            .enable_all()
            .build()
            .map_err(|e| seedream_error::new(seedream_result::Io, format!("cannot start the runtime: {e}")))?;
        let client = {
            let _context = runtime.enter();
            builder.build().map_err(|e| seedream_error::from_client(&e))?
        };
        Ok(Self { client, runtime: Some(runtime), calls, log })
    }

    /// The client for one call: with the overall deadline, when set, over the call and its downloads.
    pub(crate) fn job(&self) -> Client {
        match self.calls.overall {
            Some(overall) => self.client.with_deadline(overall),
            None => self.client.clone(),
        }
    }

    /// Runs `job` on the runtime, blocking the calling thread, until it ends or `cancel` fires.
    pub(crate) fn block_on<T>(
        &self,
        cancel: Option<&seedream_cancel>,
        job: impl Future<Output = FfiResult<T>>,
    ) -> FfiResult<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(seedream_error::new(
                seedream_result::Reentrant,
                "blocking calls cannot be made from inside a stream callback (or an async runtime's thread)",
            ));
        }
        let Some(runtime) = &self.runtime else {
            return Err(seedream_error::new(seedream_result::Other, "the client is shutting down"));
        };
        match &self.log {
            // Set on this thread (which polls the call) and carried by the call's future.
            Some(log) => tracing::dispatcher::with_default(log, || {
                Self::block_on_runtime(runtime, cancel, job.with_subscriber(log.clone()))
            }),
            None => Self::block_on_runtime(runtime, cancel, job),
        }
    }

    fn block_on_runtime<T>(
        runtime: &Runtime,
        cancel: Option<&seedream_cancel>,
        job: impl Future<Output = FfiResult<T>>,
    ) -> FfiResult<T> {
        let cancelled = || seedream_error::new(seedream_result::Cancelled, "the call was cancelled");
        match cancel {
            None => runtime.block_on(job),
            Some(token) if token.is_cancelled() => Err(cancelled()),
            Some(token) => runtime.block_on(async {
                tokio::select! {
                    biased;
                    () = token.cancelled() => Err(cancelled()),
                    result = job => result,
                }
            }),
        }
    }

    /// Fetches the bytes of every `url` image (when the client downloads images), in order, at most
    /// `max_parallel_downloads` at a time: a response with 1 500 links opens a few connections, not
    /// 1 500 (the client's own bound holds across calls too).
    async fn download_all(&self, client: &Client, response: &ImagesResponse) -> Vec<Option<ImageBytes>> {
        let mut slots: Vec<Option<ImageBytes>> = vec![None; response.data.len()];
        if !self.calls.download_images {
            return slots;
        }
        let mut pending = response.data.iter().enumerate().filter_map(|(index, item)| {
            item.image().filter(|image| image.b64_json.is_none() && image.url.is_some()).map(|image| (index, image))
        });
        let mut downloads = JoinSet::new();
        loop {
            while downloads.len() < self.calls.max_parallel_downloads {
                let Some((index, image)) = pending.next() else { break };
                let (client, image) = (client.clone(), image.clone());
                // On a worker thread: the host's log callback (if any) goes along.
                downloads.spawn(async move { (index, client.image_bytes(&image).await) }.with_current_subscriber());
            }
            let Some(joined) = downloads.join_next().await else { break };
            if let Ok((index, fetched)) = joined {
                slots[index] = Some(fetched.map_err(|e| seedream_error::from_client(&e).code()));
            }
        }
        slots
    }

    /// The bytes of one streamed image: `b64_json` decoded (from the event's own text, not a copy of
    /// it), or `url` downloaded when enabled.
    async fn event_bytes(&self, client: &Client, event: &PartialSucceeded) -> Option<ImageBytes> {
        // What the bytes are read against: the link and the stated format, without the base64.
        let image =
            GeneratedImage { url: event.url.clone(), output_format: event.output_format.clone(), ..Default::default() };
        match &event.b64_json {
            Some(text) => Some(
                decode_b64(text)
                    .map(|bytes| ::seedream_client::ImageBytes::of(&image, bytes))
                    .map_err(|_| seedream_result::Decode),
            ),
            None if image.url.is_some() && self.calls.download_images => {
                Some(client.image_bytes(&image).await.map_err(|e| seedream_error::from_client(&e).code()))
            }
            None => None,
        }
    }

    async fn finish(&self, client: &Client, response: ImagesResponse, meta: ResponseMeta) -> seedream_response {
        let downloads = self.download_all(client, &response).await;
        seedream_response::new(response, &meta, downloads)
    }
}

/// The edit of `files` (and `mask`) with the parameters in `json`: read as a generations request is
/// (`parse_request`: a field of the wrong type is a violation under its name), the fields an edit
/// has taken as typed, any other name sent as it is (`extra`), for fields the service takes and this
/// version does not know.
fn edit_request(json: &str, files: Vec<ImageFile>, mask: Option<ImageFile>) -> FfiResult<EditRequest> {
    let params = parse_request(json)?;
    if params.image.is_some() {
        return Err(seedream_error::new(
            seedream_result::InvalidRequest,
            "image: the images to edit are passed as buffers, not in params_json",
        ));
    }
    // What the typed fields below do not take, under the names it was sent with.
    let mut extra = match serde_json::to_value(&params) {
        Ok(serde_json::Value::Object(object)) => object,
        _ => serde_json::Map::new(),
    };
    for name in [
        field::MODEL,
        field::PROMPT,
        field::N,
        field::SIZE,
        field::RESPONSE_FORMAT,
        field::WATERMARK,
        field::SEED,
        field::GUIDANCE_SCALE,
        field::STREAM,
        field::OUTPUT_FORMAT,
        field::BACKGROUND,
        field::OPTIMIZE_PROMPT_OPTIONS,
        field::TOOLS,
    ] {
        extra.remove(name);
    }
    Ok(EditRequest {
        model: params.model,
        prompt: params.prompt,
        images: files,
        mask,
        n: params.n,
        size: params.size,
        response_format: params.response_format,
        watermark: params.watermark,
        seed: params.seed,
        guidance_scale: params.guidance_scale,
        stream: params.stream,
        output_format: params.output_format,
        background: params.background,
        optimize_prompt_options: params.optimize_prompt_options,
        tools: params.tools,
        extra,
    })
}

/// The edit request of `seedream_client_edit`'s and `_edit_save`'s arguments: the parameters and
/// copies of the images and mask.
///
/// # Safety
/// `params_json` is NULL or NUL-terminated; `images` holds `image_count` buffers, each of `len`
/// readable bytes; `mask` holds `mask_len` bytes (or is NULL with 0).
pub(crate) unsafe fn edit_arguments(
    params_json: *const c_char,
    images: *const seedream_buffer,
    image_count: usize,
    mask: *const u8,
    mask_len: usize,
) -> FfiResult<EditRequest> {
    // SAFETY: as the caller promises.
    let (json, buffers, mask) = unsafe {
        (
            arg_str(params_json, "params_json")?,
            arg_slice(images, image_count, "images")?,
            arg_bytes(mask, mask_len, "mask")?,
        )
    };
    let mut files = Vec::with_capacity(buffers.len());
    for (index, buffer) in buffers.iter().enumerate() {
        // SAFETY: the caller passes buffers of `len` readable bytes.
        let bytes = unsafe { arg_bytes(buffer.data, buffer.len, "images[].data") }?;
        files.push(image_file(&format!("image-{index}"), bytes));
    }
    edit_request(json, files, (!mask.is_empty()).then(|| image_file("mask", mask)))
}

fn image_file(name: &str, bytes: &[u8]) -> ImageFile {
    let file = ImageFile::new(name, bytes.to_vec());
    let extension = file.format().map_or("bin", |format| format.extension());
    ImageFile { file_name: format!("{name}.{extension}"), ..file }
}

/// Generates images, blocking until the response (and, unless turned off, the downloads of `url`
/// images) are complete. `request_json` is a `POST /images/generations` body (NUL-terminated UTF-8),
/// validated first; a request with `"stream": true` is read as a stream and gathered.
/// `cancel` may be NULL.
///
/// On success writes a new response to `*response_out` (free it with `seedream_response_free`). On
/// failure writes an error to `*error_out` when that is not NULL: `SEEDREAM_RESULT_INVALID_JSON`,
/// `_INVALID_REQUEST` (every violation listed, nothing sent), API errors with their HTTP status, code
/// and request id, `_TIMEOUT`, `_TRANSPORT`, `_CANCELLED`, ...
///
/// `client`, `request_json` and `cancel` are borrowed for the call only. `*error_out` is the caller's,
/// freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_generate(
    client: *const seedream_client,
    request_json: *const c_char,
    cancel: *const seedream_cancel,
    response_out: *mut *mut seedream_response,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (client, json, cancel) =
        unsafe { (arg_ref(client, "client")?, arg_str(request_json, "request_json")?, cancel.as_ref()) };
    let response_out = arg_out(response_out, "response_out")?;
    let request = parse_request(json)?;
    let response = client.block_on(cancel, async {
        let job = client.job();
        let (response, meta) = job.generate(&request).await.map_err(|e| seedream_error::from_client(&e))?.into_parts();
        Ok(client.finish(&job, response, meta).await)
    })?;
    response_out.write(into_c(response));
    Ok(())
}

/// Lists the models the service offers (`GET {base}/models`): ids, and the lifecycle status of those
/// not running normally (`Retiring`, `Shutdown`). The live source of what the catalog knows; it lists
/// models the account may not have activated. Retried as other calls. `cancel` may be NULL.
///
/// On success writes a new listing to `*list_out` (free it with `seedream_model_list_free`). On
/// failure writes an error to `*error_out` when that is not NULL.
///
/// `client` and `cancel` are borrowed for the call only. `*error_out` is the caller's, freed with
/// `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_list_models(
    client: *const seedream_client,
    cancel: *const seedream_cancel,
    list_out: *mut *mut seedream_model_list,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (client, cancel) = unsafe { (arg_ref(client, "client")?, cancel.as_ref()) };
    let list_out = arg_out(list_out, "list_out")?;
    let list = client.block_on(cancel, async {
        let list = client.job().list_models().await.map_err(|e| seedream_error::from_client(&e))?.into_inner();
        Ok(seedream_model_list::new(&list))
    })?;
    list_out.write(into_c(list));
    Ok(())
}

/// Generates with `"stream": true` (set when the request lacks it) and calls `callback` with
/// `userdata` once per event, on the calling thread, as the events arrive: one per image
/// (`SEEDREAM_EVENT_TYPE_PARTIAL_SUCCEEDED` or `_PARTIAL_FAILED`, the stream goes on after a failed image),
/// then `SEEDREAM_EVENT_TYPE_COMPLETED` with the usage. Returns when the stream ends, when the callback
/// returns non-zero (`SEEDREAM_STREAM_STOP`: the connection is closed, the result is
/// `SEEDREAM_RESULT_OK`), or on an error, including an error event inside the stream and a stream
/// cut short. `cancel` may be NULL.
///
/// `client`, `request_json` and `cancel` are borrowed for the call only. `userdata` is borrowed: passed to
/// `callback` as is, never read or freed. `*error_out` is the caller's, freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_generate_stream(
    client: *const seedream_client,
    request_json: *const c_char,
    callback: seedream_stream_callback,
    userdata: *mut c_void,
    cancel: *const seedream_cancel,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (client, json, cancel) =
        unsafe { (arg_ref(client, "client")?, arg_str(request_json, "request_json")?, cancel.as_ref()) };
    let callback = callback.ok_or_else(|| seedream_error::null_parameter("callback"))?;
    let request = parse_request(json)?;
    client.block_on(cancel, async {
        let job = client.job();
        let mut stream = job.generate(&request).stream().await.map_err(|e| seedream_error::from_client(&e))?;
        while let Some(next) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
            let event = next.map_err(|e| seedream_error::from_client(&e))?;
            let bytes = match &event {
                StreamEvent::PartialSucceeded(image) => client.event_bytes(&job, image).await,
                _ => None,
            };
            let event = seedream_stream_event::new(event, bytes);
            // SAFETY: the host's callback, given the userdata it asked for and an event that
            // lives until it returns.
            let action = unsafe { callback(userdata, &event) };
            if action != SEEDREAM_STREAM_CONTINUE {
                break; // dropping the stream closes the connection
            }
        }
        Ok(())
    })
}

/// Edits images given as bytes in memory (PNG, JPEG, WebP, ...): `images` points to `image_count`
/// buffers (at least one), `mask` to `mask_len` bytes (NULL and 0 for no mask). The bytes are
/// copied; the buffers may be freed once the call returns. `params_json` holds the other fields,
/// named and typed as in a generations request: `{"model": ..., "prompt": ..., "n": ..., "size": ...,
/// "response_format": ..., "watermark": ..., "seed": ..., "guidance_scale": ..., "output_format":
/// "png", "background": "transparent", "optimize_prompt_options": {...}, "tools": [...], "stream": ...}`
/// (`model` and `prompt` required). They are read as a generations request is: text that is not JSON
/// is `SEEDREAM_RESULT_INVALID_JSON`, a field of the wrong type a violation under its name
/// (`SEEDREAM_RESULT_INVALID_REQUEST`), and other names are sent as they are, for fields the service
/// takes and this version does not know. Each is checked by the model's rules as on generations, unless
/// validation is turned off. Relays get a multipart `POST /images/edits` (objects and arrays as JSON
/// text); Ark (a base URL ending in `/api/v3`) gets generations with data URLs. With `"stream": true`
/// the events are gathered into the one response. Otherwise as `seedream_client_generate`.
///
/// `client`, `params_json` and `cancel` are borrowed for the call only. `images` and `mask` are copied:
/// they may be freed once the call returns. `*response_out` is the caller's, freed with
/// `seedream_response_free`. `*error_out` is the caller's, freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_edit(
    client: *const seedream_client,
    params_json: *const c_char,
    images: *const seedream_buffer,
    image_count: usize,
    mask: *const u8,
    mask_len: usize,
    cancel: *const seedream_cancel,
    response_out: *mut *mut seedream_response,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers, each buffer holding its `len` bytes.
    let (client, cancel, request) = unsafe {
        (arg_ref(client, "client")?, cancel.as_ref(), edit_arguments(params_json, images, image_count, mask, mask_len)?)
    };
    let response_out = arg_out(response_out, "response_out")?;
    let response = client.block_on(cancel, async {
        let job = client.job();
        let (response, meta) = job.edit(&request).await.map_err(|e| seedream_error::from_client(&e))?.into_parts();
        Ok(client.finish(&job, response, meta).await)
    })?;
    response_out.write(into_c(response));
    Ok(())
}

/// Downloads image `index` of `response` (a `url` image), blocking until its bytes are there, so
/// that `seedream_response_image_bytes` returns them. For responses from a client with
/// `seedream_client_builder_set_download_images(builder, false)`: memory then holds only the images
/// you ask for, one at a time if you like, instead of every image of a large group. Returns
/// `SEEDREAM_RESULT_OK` at once when the bytes are already there (a `b64_json` image, or one
/// downloaded before); `SEEDREAM_RESULT_NOT_AVAILABLE` for a failed image or one without a link;
/// `SEEDREAM_RESULT_INVALID_ARGUMENT` when `index` is out of range; else the download's failure
/// (`SEEDREAM_RESULT_TIMEOUT`, `_TRANSPORT`, an expired link's `_API`, ...), after which it may be
/// called again. The overall deadline of `seedream_client_builder_set_timeouts` applies to this
/// download alone. Safe to call from several threads for the same response. `cancel` may be NULL.
///
/// `client`, `response` and `cancel` are borrowed for the call only. `*error_out` is the caller's, freed
/// with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_download_image(
    client: *const seedream_client,
    response: *const seedream_response,
    index: usize,
    cancel: *const seedream_cancel,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (client, response, cancel) =
        unsafe { (arg_ref(client, "client")?, arg_ref(response, "response")?, cancel.as_ref()) };
    let image = match response.image_to_download(index)? {
        Some(image) => image,
        None => return Ok(()), // already there
    };
    let fetched = client.block_on(cancel, async {
        client.job().image_bytes(&image).await.map_err(|e| seedream_error::from_client(&e))
    })?;
    response.set_downloaded(index, fetched);
    Ok(())
}

/// Borrows an array of `len` items; NULL only with `len` 0.
///
/// # Safety
/// `ptr` is NULL or points to `len` items that live for the call.
unsafe fn arg_slice<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    if ptr.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(seedream_error::null_parameter(name)) };
    }
    // SAFETY: per this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Frees a client: closes its connections and stops its runtime, waiting for its worker threads.
/// NULL is a no-op. No call on the client may be running, and none may start afterwards.
///
/// Consumes `client`: it and everything borrowed from it are invalid afterwards.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_free(client: *mut seedream_client) {
    // SAFETY: the caller passes NULL or a client from this library, once.
    unsafe { free_c(client) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_parameters_it_does_not_know_go_out_as_they_are() {
        let json = r#"{"model": "m", "prompt": "p", "output_format": "png", "colour": 1, "layer_decomposition": true}"#;
        let request = edit_request(json, Vec::new(), None).unwrap();
        assert_eq!(request.output_format, Some(seedream_types::OutputFormat::Png));
        assert_eq!(request.extra.get("colour"), Some(&serde_json::json!(1)));
        assert_eq!(request.extra.get("layer_decomposition"), Some(&serde_json::json!(true)));
        assert!(request.form_parts().iter().any(|part| part.name == "colour"), "sent in the form");
        assert_eq!(request.to_generate_request().extra.get("colour"), Some(&serde_json::json!(1)), "and as JSON");
        // A known field of the wrong type is refused under its name, as in a generations request.
        let error = edit_request(r#"{"model": "m", "prompt": "p", "seed": "seven"}"#, Vec::new(), None).unwrap_err();
        assert_eq!(error.code, seedream_result::InvalidRequest);
        let message = error.message.to_string_lossy();
        assert!(message.contains("seed: has the wrong type"), "{message}");
        let error = edit_request(r#"{"model": "m", "prompt": "p", "image": "https://x/y.png"}"#, Vec::new(), None);
        assert_eq!(error.unwrap_err().code, seedream_result::InvalidRequest);
    }
}
