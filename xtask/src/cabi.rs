//! The C ABI driven from Rust: the `extern "C"` functions of `seedream-ffi` (lib `seedream`) called the
//! way a C host calls them — NUL-terminated strings in, opaque pointers out, every object freed once —
//! behind small owning wrappers, so the conformance and fault runs exercise exactly what C programs get.
//!
//! Each call copies what it returns (response images, error details, stream events) into plain Rust
//! values and frees the C objects before returning: nothing outlives its call but the client and the
//! cancellation token, which free themselves on drop.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{self, NonNull};
use std::time::Duration;

use seedream::{
    seedream_bounding_box, seedream_buffer, seedream_cancel, seedream_client, seedream_error, seedream_event_type,
    seedream_image_format, seedream_response, seedream_result, seedream_stream_event, seedream_usage,
};

/// A failed C call: its result code and what its `seedream_error` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CError {
    /// The result code returned.
    pub code: seedream_result,
    /// `seedream_error_message` ("" when the call wrote no error object).
    pub message: String,
    /// `seedream_error_http_status`.
    pub http_status: u16,
    /// `seedream_error_api_code`.
    pub api_code: String,
    /// `seedream_error_param`.
    pub param: String,
    /// `(field, message)` of each violation, for `SEEDREAM_RESULT_INVALID_REQUEST`.
    pub violations: Vec<(String, String)>,
}

impl CError {
    /// `seedream_result_name` of the code, such as "timed out".
    pub fn name(&self) -> String {
        result_name(self.code)
    }
}

impl std::fmt::Display for CError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({}): {}", self.code, self.name(), self.message)?;
        if self.http_status != 0 {
            write!(f, " [HTTP {} {}]", self.http_status, self.api_code)?;
        }
        Ok(())
    }
}

/// `seedream_result_name(code)`.
pub fn result_name(code: seedream_result) -> String {
    // SAFETY: any int is accepted; the result is a static NUL-terminated string.
    unsafe { text(seedream::result::seedream_result_name(code as c_int)) }
}

/// Copies a borrowed C string ("" for NULL).
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for the call.
unsafe fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: per this function's contract.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

fn c_string(value: &str) -> CString {
    // Interior NULs cannot be sent through a C string; the conformance inputs have none.
    CString::new(value.replace('\0', " ")).unwrap_or_default()
}

/// Takes ownership of an error written to an `error_out`, copies it and frees it.
fn take_error(code: seedream_result, error: *mut seedream_error) -> CError {
    let mut out = CError {
        code,
        message: String::new(),
        http_status: 0,
        api_code: String::new(),
        param: String::new(),
        violations: Vec::new(),
    };
    if error.is_null() {
        return out;
    }
    // SAFETY: `error` came from the library's `error_out` and is freed exactly once, below.
    unsafe {
        use seedream::error::*;
        out.message = text(seedream_error_message(error));
        out.http_status = seedream_error_http_status(error);
        out.api_code = text(seedream_error_api_code(error));
        out.param = text(seedream_error_param(error));
        for index in 0..seedream_error_violation_count(error) {
            out.violations.push((
                text(seedream_error_violation_field(error, index)),
                text(seedream_error_violation_message(error, index)),
            ));
        }
        seedream_error_free(error);
    }
    out
}

/// Turns a result code and its error object into a `Result`.
fn check(code: seedream_result, error: *mut seedream_error) -> Result<(), CError> {
    if code == seedream_result::Ok { Ok(()) } else { Err(take_error(code, error)) }
}

/// Settings for [`CClient::build`], each applied with its `seedream_client_builder_set_*` call.
#[derive(Clone, Default)]
pub struct CClientConfig {
    /// `set_base_url`.
    pub base_url: String,
    /// `set_api_key`.
    pub api_key: String,
    /// `add_header`, in order.
    pub headers: Vec<(String, String)>,
    /// `set_timeouts(connect, headers, idle, overall)`; `None` keeps the defaults.
    pub timeouts: Option<[Duration; 4]>,
    /// `set_max_attempts`; `None` keeps the default (3).
    pub max_attempts: Option<u32>,
    /// `set_worker_threads`; `None` keeps the default (2).
    pub worker_threads: Option<usize>,
    /// `set_validate_requests`; `None` keeps the default (on).
    pub validate_requests: Option<bool>,
}

impl std::fmt::Debug for CClientConfig {
    // The key and header values may be secrets: only the header names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("headers", &self.headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("timeouts", &self.timeouts)
            .field("max_attempts", &self.max_attempts)
            .field("worker_threads", &self.worker_threads)
            .field("validate_requests", &self.validate_requests)
            .finish()
    }
}

/// A `seedream_client`, freed on drop. The C API makes it thread-safe (`Send + Sync`).
#[derive(Debug)]
pub struct CClient(NonNull<seedream_client>);

// SAFETY: the C API documents a client as usable from any number of threads at once.
unsafe impl Send for CClient {}
// SAFETY: as above.
unsafe impl Sync for CClient {}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl CClient {
    /// Builds a client through `seedream_client_builder_*`; the builder is freed either way.
    pub fn build(config: &CClientConfig) -> Result<Self, CError> {
        use seedream::client_builder::*;
        let builder: *mut seedream_client_builder = seedream_client_builder_new();
        let base_url = c_string(&config.base_url);
        let api_key = c_string(&config.api_key);
        // SAFETY: `builder` is a fresh builder, freed exactly once below; strings live for each call.
        let built = unsafe {
            let mut result = seedream_client_builder_set_base_url(builder, base_url.as_ptr());
            if result == seedream_result::Ok {
                result = seedream_client_builder_set_api_key(builder, api_key.as_ptr());
            }
            for (name, value) in &config.headers {
                if result == seedream_result::Ok {
                    let (name, value) = (c_string(name), c_string(value));
                    result = seedream_client_builder_add_header(builder, name.as_ptr(), value.as_ptr());
                }
            }
            if let (Some([connect, headers, idle, overall]), seedream_result::Ok) = (config.timeouts, result) {
                result = seedream_client_builder_set_timeouts(
                    builder,
                    millis(connect),
                    millis(headers),
                    millis(idle),
                    millis(overall),
                );
            }
            if let (Some(attempts), seedream_result::Ok) = (config.max_attempts, result) {
                result = seedream_client_builder_set_max_attempts(builder, attempts);
            }
            if let (Some(threads), seedream_result::Ok) = (config.worker_threads, result) {
                result = seedream_client_builder_set_worker_threads(builder, threads);
            }
            if let (Some(validate), seedream_result::Ok) = (config.validate_requests, result) {
                result = seedream_client_builder_set_validate_requests(builder, validate);
            }
            let built = if result == seedream_result::Ok {
                let mut client: *mut seedream_client = ptr::null_mut();
                let mut error: *mut seedream_error = ptr::null_mut();
                let code = seedream_client_builder_build(builder, &mut client, &mut error);
                check(code, error).and_then(|()| {
                    NonNull::new(client).ok_or_else(|| take_error(seedream_result::Other, ptr::null_mut()))
                })
            } else {
                Err(take_error(result, ptr::null_mut()))
            };
            seedream_client_builder_free(builder);
            built
        };
        built.map(CClient)
    }

    fn ptr(&self) -> *const seedream_client {
        self.0.as_ptr()
    }

    /// `seedream_client_generate`: blocks until the response (and the downloads of `url` images).
    pub fn generate(&self, request_json: &str, cancel: Option<&CCancel>) -> Result<CResponse, CError> {
        let json = c_string(request_json);
        let mut response: *mut seedream_response = ptr::null_mut();
        let mut error: *mut seedream_error = ptr::null_mut();
        // SAFETY: a live client, a NUL-terminated string, a live token or NULL, two out-pointers.
        let code = unsafe {
            seedream::client::seedream_client_generate(
                self.ptr(),
                json.as_ptr(),
                cancel.map_or(ptr::null(), CCancel::ptr),
                &mut response,
                &mut error,
            )
        };
        check(code, error)?;
        Ok(CResponse::take(response))
    }

    /// `seedream_client_edit` with images held in memory (no mask).
    pub fn edit(&self, params_json: &str, images: &[&[u8]], cancel: Option<&CCancel>) -> Result<CResponse, CError> {
        let json = c_string(params_json);
        let buffers: Vec<seedream_buffer> =
            images.iter().map(|bytes| seedream_buffer { data: bytes.as_ptr(), len: bytes.len() }).collect();
        let mut response: *mut seedream_response = ptr::null_mut();
        let mut error: *mut seedream_error = ptr::null_mut();
        // SAFETY: as for generate; every buffer points to `len` bytes that outlive the call.
        let code = unsafe {
            seedream::client::seedream_client_edit(
                self.ptr(),
                json.as_ptr(),
                buffers.as_ptr(),
                buffers.len(),
                ptr::null(),
                0,
                cancel.map_or(ptr::null(), CCancel::ptr),
                &mut response,
                &mut error,
            )
        };
        check(code, error)?;
        Ok(CResponse::take(response))
    }

    /// `seedream_client_generate_stream`: `on_event` gets a copy of each event as it comes and returns
    /// whether to go on. A panic in `on_event` stops the stream (it never unwinds through C) and is
    /// reported as a `SEEDREAM_RESULT_PANIC` error.
    pub fn generate_stream(
        &self,
        request_json: &str,
        cancel: Option<&CCancel>,
        on_event: &mut dyn FnMut(CEvent) -> bool,
    ) -> Result<(), CError> {
        struct State<'a> {
            on_event: &'a mut dyn FnMut(CEvent) -> bool,
            panicked: bool,
        }
        unsafe extern "C" fn callback(userdata: *mut c_void, event: *const seedream_stream_event) -> c_int {
            // SAFETY: `userdata` is the `State` below, alive and not aliased during the call.
            let state = unsafe { &mut *userdata.cast::<State<'_>>() };
            // SAFETY: the event is valid during the callback.
            let event = unsafe { CEvent::copy(event) };
            match catch_unwind(AssertUnwindSafe(|| (state.on_event)(event))) {
                Ok(true) => seedream::client::SEEDREAM_STREAM_CONTINUE,
                Ok(false) => seedream::client::SEEDREAM_STREAM_STOP,
                Err(_) => {
                    state.panicked = true;
                    seedream::client::SEEDREAM_STREAM_STOP
                }
            }
        }
        let json = c_string(request_json);
        let mut state = State { on_event, panicked: false };
        let mut error: *mut seedream_error = ptr::null_mut();
        // SAFETY: a live client, a NUL-terminated string, a callback and userdata that live for the
        // call, a live token or NULL, an out-pointer.
        let code = unsafe {
            seedream::client::seedream_client_generate_stream(
                self.ptr(),
                json.as_ptr(),
                Some(callback),
                (&raw mut state).cast(),
                cancel.map_or(ptr::null(), CCancel::ptr),
                &mut error,
            )
        };
        check(code, error)?;
        if state.panicked {
            return Err(CError {
                message: "the stream callback panicked".into(),
                ..take_error(seedream_result::Panic, ptr::null_mut())
            });
        }
        Ok(())
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: a client from `_build`, freed exactly once; no call runs on it (calls borrow it).
        unsafe { seedream::client::seedream_client_free(self.0.as_ptr()) }
    }
}

/// A `seedream_cancel` token, freed on drop; thread-safe.
#[derive(Debug)]
pub struct CCancel(NonNull<seedream_cancel>);

// SAFETY: the C API documents tokens as thread-safe.
unsafe impl Send for CCancel {}
// SAFETY: as above.
unsafe impl Sync for CCancel {}

impl CCancel {
    /// `seedream_cancel_new`.
    pub fn new() -> Self {
        let token = seedream::cancel::seedream_cancel_new();
        // The library documents `_new` as never NULL.
        Self(NonNull::new(token).unwrap_or_else(|| panic!("seedream_cancel_new returned NULL")))
    }

    fn ptr(&self) -> *const seedream_cancel {
        self.0.as_ptr()
    }

    /// `seedream_cancel_cancel`: every call using the token returns `SEEDREAM_RESULT_CANCELLED`.
    pub fn cancel(&self) {
        // SAFETY: a live token.
        unsafe { seedream::cancel::seedream_cancel_cancel(self.ptr()) }
    }
}

impl Default for CCancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for CCancel {
    fn drop(&mut self) {
        // SAFETY: a token from `_new`, freed exactly once; calls using it borrow it, so none runs.
        unsafe { seedream::cancel::seedream_cancel_free(self.0.as_ptr()) }
    }
}

/// `seedream_usage` as Rust values.
pub type CUsage = seedream_usage;

/// One image of a C response, copied out of it.
#[derive(Debug, Clone)]
pub struct CImage {
    /// `seedream_response_image_succeeded`.
    pub succeeded: bool,
    /// `seedream_response_image_url` ("" for `b64_json` and failed images).
    pub url: String,
    /// `seedream_response_image_bytes`: the JPEG, or the result code saying why not.
    pub bytes: Result<Vec<u8>, seedream_result>,
    /// `seedream_response_image_width` / `_height`.
    pub size: (u32, u32),
    /// `seedream_response_image_error_code` ("" for a success).
    pub error_code: String,
    /// `seedream_response_image_format`.
    pub format: seedream_image_format,
    /// `seedream_response_image_z_index`, when available.
    pub z_index: Option<i64>,
    /// `seedream_response_image_bounding_box`, when available.
    pub bounding_box: Option<seedream_bounding_box>,
    /// `seedream_response_image_name` ("" when none).
    pub name: String,
    /// `seedream_response_image_description` ("" when none).
    pub description: String,
}

/// A C response, copied out of its `seedream_response` (which is freed).
#[derive(Debug, Clone)]
pub struct CResponse {
    /// `seedream_response_json`.
    pub json: String,
    /// Every image, in order.
    pub images: Vec<CImage>,
    /// `seedream_response_usage`, when available.
    pub usage: Option<CUsage>,
    /// `seedream_response_usage_input_images`, when available.
    pub input_images: Option<u64>,
    /// `seedream_response_usage_web_searches`, when available.
    pub web_searches: Option<u64>,
    /// `seedream_response_request_id`.
    pub request_id: String,
    /// `seedream_response_attempts`.
    pub attempts: u32,
}

impl CResponse {
    /// Copies and frees a response the library wrote to `response_out`.
    fn take(response: *mut seedream_response) -> Self {
        use seedream::response::*;
        // SAFETY: `response` came from `response_out` on success and is freed exactly once, below;
        // everything borrowed from it is copied before that.
        unsafe {
            let count = seedream_response_image_count(response);
            let images = (0..count)
                .map(|index| {
                    let mut data: *const u8 = ptr::null();
                    let mut len = 0usize;
                    let code = seedream_response_image_bytes(response, index, &mut data, &mut len);
                    let bytes = if code == seedream_result::Ok && (!data.is_null() || len == 0) {
                        Ok(if len == 0 { Vec::new() } else { std::slice::from_raw_parts(data, len).to_vec() })
                    } else {
                        Err(code)
                    };
                    CImage {
                        succeeded: seedream_response_image_succeeded(response, index),
                        url: text(seedream_response_image_url(response, index)),
                        bytes,
                        size: (
                            seedream_response_image_width(response, index),
                            seedream_response_image_height(response, index),
                        ),
                        error_code: text(seedream_response_image_error_code(response, index)),
                        // After `_bytes`: the format is read from the bytes it decoded.
                        format: seedream_response_image_format(response, index),
                        z_index: {
                            let mut z_index = 0i64;
                            (seedream_response_image_z_index(response, index, &mut z_index) == seedream_result::Ok)
                                .then_some(z_index)
                        },
                        bounding_box: {
                            let mut bounding_box = seedream_bounding_box::default();
                            (seedream_response_image_bounding_box(response, index, &mut bounding_box)
                                == seedream_result::Ok)
                                .then_some(bounding_box)
                        },
                        name: text(seedream_response_image_name(response, index)),
                        description: text(seedream_response_image_description(response, index)),
                    }
                })
                .collect();
            let mut usage = seedream_usage::default();
            let usage = (seedream_response_usage(response, &mut usage) == seedream_result::Ok).then_some(usage);
            let mut count = 0u64;
            let input_images =
                (seedream_response_usage_input_images(response, &mut count) == seedream_result::Ok).then_some(count);
            let web_searches =
                (seedream_response_usage_web_searches(response, &mut count) == seedream_result::Ok).then_some(count);
            let out = CResponse {
                json: text(seedream_response_json(response)),
                images,
                usage,
                input_images,
                web_searches,
                request_id: text(seedream_response_request_id(response)),
                attempts: seedream_response_attempts(response),
            };
            seedream_response_free(response);
            out
        }
    }
}

/// A stream event, copied during its callback.
#[derive(Debug, Clone)]
pub struct CEvent {
    /// `seedream_stream_event_type`.
    pub kind: seedream_event_type,
    /// `seedream_stream_event_image_index`.
    pub image_index: u32,
    /// `seedream_stream_event_bytes` for image events.
    pub bytes: Result<Vec<u8>, seedream_result>,
    /// `seedream_stream_event_width` / `_height`.
    pub size: (u32, u32),
    /// `seedream_stream_event_error_code`.
    pub error_code: String,
    /// `seedream_stream_event_usage` for `completed`.
    pub usage: Option<CUsage>,
    /// `seedream_stream_event_image_format` for image events.
    pub format: seedream_image_format,
    /// `seedream_stream_event_json`.
    pub json: String,
}

impl CEvent {
    /// # Safety
    /// `event` is the event passed to a stream callback, during that callback.
    unsafe fn copy(event: *const seedream_stream_event) -> Self {
        use seedream::stream_event::*;
        // SAFETY: per this function's contract; everything borrowed is copied.
        unsafe {
            let mut data: *const u8 = ptr::null();
            let mut len = 0usize;
            let code = seedream_stream_event_bytes(event, &mut data, &mut len);
            let bytes = if code == seedream_result::Ok && !data.is_null() {
                Ok(std::slice::from_raw_parts(data, len).to_vec())
            } else {
                Err(code)
            };
            let mut usage = seedream_usage::default();
            let usage = (seedream_stream_event_usage(event, &mut usage) == seedream_result::Ok).then_some(usage);
            CEvent {
                kind: seedream_stream_event_type(event),
                image_index: seedream_stream_event_image_index(event),
                bytes,
                size: (seedream_stream_event_width(event), seedream_stream_event_height(event)),
                error_code: text(seedream_stream_event_error_code(event)),
                usage,
                format: seedream_stream_event_image_format(event),
                json: text(seedream_stream_event_json(event)),
            }
        }
    }
}

/// `seedream_request_validate`: the field paths of the violations (empty when valid).
pub fn validate(request_json: &str) -> Result<Vec<String>, CError> {
    use seedream::validation::*;
    let json = c_string(request_json);
    let mut validation: *mut seedream::seedream_validation = ptr::null_mut();
    let mut error: *mut seedream_error = ptr::null_mut();
    // SAFETY: a NUL-terminated string and two out-pointers; the validation is freed exactly once.
    unsafe {
        check(seedream_request_validate(json.as_ptr(), &mut validation, &mut error), error)?;
        let fields = (0..seedream_validation_violation_count(validation))
            .map(|i| text(seedream_validation_violation_field(validation, i)))
            .collect();
        seedream_validation_free(validation);
        Ok(fields)
    }
}

/// How a bounded C call ended.
#[derive(Debug)]
pub enum Bounded<T> {
    /// It returned within its bound.
    Done(T),
    /// It overran its bound, was cancelled through its token, and then returned (with this value,
    /// normally `SEEDREAM_RESULT_CANCELLED`).
    Overran(T),
    /// It did not return even after being cancelled; its thread is left behind.
    Hung,
    /// The Rust side of the call panicked (the library itself turns panics into a result code).
    Panicked(String),
}

/// A C call running on a thread of its own with a cancellation token; see [`spawn_bounded`].
#[derive(Debug)]
pub struct BoundedCall<T> {
    answer: std::sync::mpsc::Receiver<std::thread::Result<T>>,
    cancel: std::sync::Arc<CCancel>,
    started: std::time::Instant,
}

/// Starts `job` (blocking C calls given the token) on a new thread. C calls must not be made from
/// an async runtime's threads, and a blocked call can only be stopped through its token, hence a
/// thread per call.
pub fn spawn_bounded<T, F>(job: F) -> BoundedCall<T>
where
    T: Send + 'static,
    F: FnOnce(&CCancel) -> T + Send + 'static,
{
    let cancel = std::sync::Arc::new(CCancel::new());
    let (sender, answer) = std::sync::mpsc::channel();
    let token = cancel.clone();
    std::thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| job(&token)));
        let _ = sender.send(result);
    });
    BoundedCall { answer, cancel, started: std::time::Instant::now() }
}

impl<T> BoundedCall<T> {
    /// Waits until `bound` after the start; then cancels and waits `grace` more.
    pub fn wait(self, bound: Duration, grace: Duration) -> Bounded<T> {
        use std::sync::mpsc::RecvTimeoutError;
        let panicked = |payload: Box<dyn std::any::Any + Send>| {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Bounded::Panicked(text)
        };
        match self.answer.recv_timeout(bound.saturating_sub(self.started.elapsed())) {
            Ok(Ok(value)) => return Bounded::Done(value),
            Ok(Err(payload)) => return panicked(payload),
            Err(RecvTimeoutError::Disconnected) => return Bounded::Panicked("the call's thread vanished".into()),
            Err(RecvTimeoutError::Timeout) => self.cancel.cancel(),
        }
        match self.answer.recv_timeout(grace) {
            Ok(Ok(value)) => Bounded::Overran(value),
            Ok(Err(payload)) => panicked(payload),
            Err(RecvTimeoutError::Disconnected) => Bounded::Panicked("the call's thread vanished".into()),
            Err(RecvTimeoutError::Timeout) => Bounded::Hung,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedream_emulator::{Emulator, EmulatorConfig, FAULT_HEADER};

    #[test]
    fn a_call_past_its_bound_is_cancelled_through_its_token() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
        let config = CClientConfig {
            base_url: emulator.base_url(),
            api_key: "k".into(),
            // The body stalls for 30 s and the idle limit is the default 5 minutes: only the token ends it.
            headers: vec![(FAULT_HEADER.into(), "stall;ms=30000".into())],
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let call = spawn_bounded(move |cancel| {
            let client = CClient::build(&config)?;
            client.generate(r#"{"model":"doubao-seedream-4-0-250828","prompt":"p","size":"1K"}"#, Some(cancel))
        });
        match call.wait(Duration::from_millis(500), Duration::from_secs(10)) {
            Bounded::Overran(Err(error)) => assert_eq!(error.code, seedream_result::Cancelled, "{error}"),
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        runtime.block_on(emulator.shutdown());
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let config = CClientConfig { api_key: "sk-SECRET".into(), ..Default::default() };
        assert!(!format!("{config:?}").contains("SECRET"));
    }

    #[test]
    fn a_panicking_job_is_reported_not_propagated() {
        let call = spawn_bounded(|_| -> u8 { panic!("boom") });
        assert!(matches!(call.wait(Duration::from_secs(10), Duration::ZERO), Bounded::Panicked(m) if m == "boom"));
        let call = spawn_bounded(|_| 7u8);
        assert!(matches!(call.wait(Duration::from_secs(10), Duration::ZERO), Bounded::Done(7)));
    }

    #[test]
    fn errors_come_back_with_their_code_and_details() {
        assert_eq!(validate(r#"{"model":"doubao-seedream-4-5-251128","prompt":"p","size":"1K"}"#).unwrap(), ["size"]);
        assert!(validate(r#"{"model":"doubao-seedream-4-0-250828","prompt":"p"}"#).unwrap().is_empty());
        let error = validate("{").unwrap_err();
        assert_eq!(error.code, seedream_result::InvalidJson);
        assert!(!error.message.is_empty());
        let error = CClient::build(&CClientConfig { base_url: "http://127.0.0.1:1/v1".into(), ..Default::default() })
            .unwrap_err();
        assert_eq!(error.code, seedream_result::Config, "{error}");
        assert_eq!(result_name(seedream_result::Timeout), "timed out");
    }
}
