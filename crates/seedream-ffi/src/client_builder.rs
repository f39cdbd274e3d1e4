//! `seedream_client_builder`: the settings of a client (base URL, API key, time limits, retries,
//! extra trusted certificates, headers, proxy, parallel downloads), gathered before
//! `seedream_client_builder_build`.

use std::ffi::c_char;
use std::fmt;
use std::time::Duration;

use ::seedream_client::{
    Client, ClientBuilder, DEFAULT_CALL_DEADLINE, DEFAULT_MAX_PARALLEL_DOWNLOADS, RetryPolicy, Timeouts,
};

use crate::client::{CallSettings, seedream_client};
use crate::error::seedream_error;
use crate::ffi::{arg_bytes, arg_mut, arg_out, arg_ref, arg_str, ffi_fn, free_c, into_c};
use crate::log::{LogSink, seedream_log_callback};
use crate::result::seedream_result;

/// Worker threads of a client's runtime unless set otherwise.
pub const SEEDREAM_DEFAULT_WORKER_THREADS: usize = 2;

/// Settings for a new client. Every setting has a default; only the API key is required.
/// Not thread-safe: configure it from one thread. Owned by the caller, freed with
/// `seedream_client_builder_free` (building does not consume it: one builder can build several
/// clients).
#[allow(non_camel_case_types)]
pub struct seedream_client_builder {
    /// The Rust client's settings: every setter that is one of them updates it.
    client: ClientBuilder,
    /// What the C side does around calls (downloads, the deadline over a call and its downloads).
    calls: CallSettings,
    worker_threads: usize,
    /// `Some(url)`: every request through this proxy; `None`: the proxy variables of the environment.
    /// Kept apart, with `no_proxy`, because `set_no_proxy(true)` wins over `set_proxy` whatever their
    /// order, and `set_no_proxy(false)` brings the proxy back.
    proxy: Option<String>,
    no_proxy: bool,
    /// Where the client's events go (`seedream_client_builder_set_log_callback`).
    log: Option<LogSink>,
}

impl fmt::Debug for seedream_client_builder {
    // The client builder shows only whether a key is set; the proxy is shown without credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("seedream_client_builder")
            .field("client", &self.client)
            .field("calls", &self.calls)
            .field("worker_threads", &self.worker_threads)
            .field("proxy", &self.proxy.as_deref().map(::seedream_client::transport::strip_userinfo))
            .field("no_proxy", &self.no_proxy)
            .field("log", &self.log.is_some())
            .finish()
    }
}

impl Default for seedream_client_builder {
    fn default() -> Self {
        Self {
            client: Client::builder(),
            calls: CallSettings {
                download_images: true,
                max_parallel_downloads: DEFAULT_MAX_PARALLEL_DOWNLOADS,
                // As the CLI's --timeout: a call whose server hangs must not block its thread forever.
                overall: Some(DEFAULT_CALL_DEADLINE),
            },
            worker_threads: SEEDREAM_DEFAULT_WORKER_THREADS,
            proxy: None,
            no_proxy: false,
            log: None,
        }
    }
}

impl seedream_client_builder {
    /// Changes the Rust client's settings.
    fn update(&mut self, change: impl FnOnce(ClientBuilder) -> ClientBuilder) {
        self.client = change(std::mem::take(&mut self.client));
    }

    /// The Rust client's settings with the proxy choice applied.
    fn client_builder(&self) -> ClientBuilder {
        let builder = self.client.clone();
        match (&self.proxy, self.no_proxy) {
            (_, true) => builder.no_proxy(),
            (Some(proxy), false) => builder.proxy(proxy.as_str()),
            (None, false) => builder,
        }
    }
}

/// A builder with every setting at its default: Ark's base URL
/// (`https://ark.cn-beijing.volces.com/api/v3`), no API key, connect 10 s / headers 15 min /
/// idle 5 min / overall 15 min (the CLI's `--timeout` default), 3 attempts, the system's and Mozilla's root certificates,
/// URL images downloaded (4 at a time), requests validated before sending, 2 worker threads, the
/// proxy of the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`). Never NULL.
///
/// The caller owns the builder: valid until freed with `seedream_client_builder_free`.
#[ffi_fn]
#[unsafe(no_mangle)]
pub extern "C" fn seedream_client_builder_new() -> *mut seedream_client_builder {
    into_c(seedream_client_builder::default())
}

/// Sets the API base URL, such as a relay's `https://host/v1` (NUL-terminated UTF-8). Requests go to
/// `{base_url}/images/generations` and `{base_url}/images/edits`. Checked by `_build`.
///
/// `builder` is borrowed for the call only. `base_url` is copied: it may be freed once the call returns.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_base_url(
    builder: *mut seedream_client_builder,
    base_url: *const c_char,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (builder, base_url) = unsafe { (arg_mut(builder, "builder")?, arg_str(base_url, "base_url")?) };
    builder.update(|client| client.base_url(base_url));
    Ok(())
}

/// Sets the API key (NUL-terminated UTF-8), sent as `Authorization: Bearer <key>`. Required. The
/// key is copied; it never appears in messages or errors.
///
/// `builder` is borrowed for the call only. `api_key` is copied: it may be freed once the call returns.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_api_key(
    builder: *mut seedream_client_builder,
    api_key: *const c_char,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (builder, api_key) = unsafe { (arg_mut(builder, "builder")?, arg_str(api_key, "api_key")?) };
    builder.update(|client| client.api_key(api_key));
    Ok(())
}

/// Sets the time limits, in milliseconds; 0 keeps a limit's default.
/// - `connect_ms`: opening a connection, TCP and TLS (default 10 s);
/// - `headers_ms`: from sending a request to its response headers (default 15 min: without
///   streaming the service answers only once every image is done);
/// - `idle_ms`: longest wait for the next piece of a body, such as the next stream event (default 5 min);
/// - `overall_ms`: deadline for a whole call, retries and downloads of its images included (a
///   server sending one byte a second, or stream keep-alives forever, ends there with
///   `SEEDREAM_RESULT_TIMEOUT` and a message naming the phase: connecting, waiting for the answer,
///   reading the answer or the stream, downloading an image). Default 15 min, as the CLI's
///   `--timeout`; `UINT64_MAX`: no deadline.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_timeouts(
    builder: *mut seedream_client_builder,
    connect_ms: u64,
    headers_ms: u64,
    idle_ms: u64,
    overall_ms: u64,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    let builder = unsafe { arg_mut(builder, "builder") }?;
    let or = |ms: u64, default: Duration| if ms == 0 { default } else { Duration::from_millis(ms) };
    let defaults = Timeouts::default();
    let overall = match overall_ms {
        0 => Some(DEFAULT_CALL_DEADLINE),
        u64::MAX => None,
        ms => Some(Duration::from_millis(ms)),
    };
    let timeouts = defaults
        .with_connect(or(connect_ms, defaults.connect))
        .with_headers(or(headers_ms, defaults.headers))
        .with_idle(or(idle_ms, defaults.idle))
        .with_overall(overall);
    builder.calls.overall = overall;
    builder.update(|client| client.timeouts(timeouts));
    Ok(())
}

/// Sets how many attempts a call may take in all, the first included (default 3; 1 = no retries).
/// Only failures a retry can help are retried: rate limits (not quota), 5xx, refused connections.
/// 0 is `SEEDREAM_RESULT_INVALID_ARGUMENT`.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_max_attempts(
    builder: *mut seedream_client_builder,
    max_attempts: u32,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    let builder = unsafe { arg_mut(builder, "builder") }?;
    if max_attempts == 0 {
        return Err(seedream_error::invalid_argument("max_attempts must be at least 1"));
    }
    builder.update(|client| client.retry(RetryPolicy::default().with_max_attempts(max_attempts)));
    Ok(())
}

/// Also trusts the certificate(s) in a PEM buffer of `pem_len` bytes (such as a local server's
/// self-signed certificate), besides the usual roots. Checked by `_build`.
///
/// `builder` is borrowed for the call only. `pem` is copied: it may be freed once the call returns.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_add_trusted_certificate(
    builder: *mut seedream_client_builder,
    pem: *const u8,
    pem_len: usize,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers; `pem` holds `pem_len` bytes.
    let (builder, pem) = unsafe { (arg_mut(builder, "builder")?, arg_bytes(pem, pem_len, "pem")?) };
    let pem =
        std::str::from_utf8(pem).map_err(|_| seedream_error::invalid_argument("the certificate is not PEM text"))?;
    builder.update(|client| client.trust_certificate_pem(pem));
    Ok(())
}

/// Extends the model catalog requests are validated by with a catalog file's text (`json_len` bytes of
/// UTF-8 JSON, `{"families": [...]}`, the format `seedream models --json` prints): each row replaces
/// the built-in row with its `key`, or is added, so a new model gets its rules without a release.
/// A malformed file returns `SEEDREAM_RESULT_INVALID_ARGUMENT` and an error whose message names the row and the field
/// (`families[1] (seedream-4.0): stream: missing field ...`), and leaves the builder as it was.
///
/// `builder` is borrowed for the call only. `json` is copied: it may be freed once the call returns.
/// `*error_out` (when `error_out` is not NULL) is the caller's, freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_catalog_json(
    builder: *mut seedream_client_builder,
    json: *const u8,
    json_len: usize,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers; `json` holds `json_len` bytes.
    let (builder, json) = unsafe { (arg_mut(builder, "builder")?, arg_bytes(json, json_len, "json")?) };
    let text = std::str::from_utf8(json).map_err(|_| seedream_error::invalid_argument("the catalog is not UTF-8"))?;
    let catalog = ::seedream_types::catalog::Catalog::with_file(text)
        .map_err(|error| seedream_error::invalid_argument(error.to_string()))?;
    builder.update(|client| client.catalog(catalog));
    Ok(())
}

/// Adds a header sent with every API request (not with image downloads from other hosts), such as a
/// relay's routing header. `Authorization`, `Content-Type` and `Content-Length` are refused by
/// `_build`. Values are treated as secrets: never shown in messages.
///
/// `builder` is borrowed for the call only. `name` and `value` are copied: they may be freed once the call
/// returns.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_add_header(
    builder: *mut seedream_client_builder,
    name: *const c_char,
    value: *const c_char,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (builder, name, value) =
        unsafe { (arg_mut(builder, "builder")?, arg_str(name, "name")?, arg_str(value, "value")?) };
    builder.update(|client| client.header(name, value));
    Ok(())
}

/// Whether a plain `http://` base URL to a host other than loopback is allowed (default false: the
/// key would travel in clear). Loopback (`127.0.0.1`, `localhost`) is always allowed.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_allow_insecure_http(
    builder: *mut seedream_client_builder,
    allow: bool,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    unsafe { arg_mut(builder, "builder") }?.update(|client| client.allow_insecure_http(allow));
    Ok(())
}

/// Whether generate and edit calls also download the images of `url` responses, so that
/// `seedream_response_image_bytes` has them (default true). `b64_json` images are always available.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_download_images(
    builder: *mut seedream_client_builder,
    download: bool,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    unsafe { arg_mut(builder, "builder") }?.calls.download_images = download;
    Ok(())
}

/// Whether generate, stream and edit calls check each request against its model's rules before
/// sending it (default true): a request that breaks one fails with `SEEDREAM_RESULT_INVALID_REQUEST`
/// without any network traffic. Turn it off to let the service decide, for example when it accepts
/// something this version's rules do not know yet. The JSON must still parse as a request
/// (`SEEDREAM_RESULT_INVALID_JSON`); `seedream_request_validate` still checks on demand.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_validate_requests(
    builder: *mut seedream_client_builder,
    validate: bool,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    unsafe { arg_mut(builder, "builder") }?.update(|client| client.validate_requests(validate));
    Ok(())
}

/// Sends every request (API calls and image downloads) through the HTTP proxy at `url`
/// (NUL-terminated UTF-8, `http://[user:password@]host:port`; copied), instead of the one the
/// environment names. Credentials in the URL are sent as `Proxy-Authorization: Basic` and never
/// appear in messages. `https` goes through a `CONNECT` tunnel with TLS to the server inside it (the
/// server's certificate is the one checked). `https://` and SOCKS proxies are refused by `_build`
/// (`SEEDREAM_RESULT_CONFIG`). A proxy that cannot be reached or refuses fails a call with
/// `SEEDREAM_RESULT_TRANSPORT`, the message naming the proxy (without credentials). Loopback hosts
/// (`127.0.0.0/8`, `::1`, `localhost`) go through it only when the proxy is on loopback too.
///
/// Without this call the client follows `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (upper
/// or lower case) as curl does, except that loopback hosts always go direct (as in Go).
///
/// `builder` is borrowed for the call only. `url` is copied: it may be freed once the call returns.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_proxy(
    builder: *mut seedream_client_builder,
    url: *const c_char,
) -> seedream_result {
    // SAFETY: the caller passes NULL or valid pointers.
    let (builder, url) = unsafe { (arg_mut(builder, "builder")?, arg_str(url, "url")?) };
    builder.proxy = Some(url.to_owned());
    Ok(())
}

/// Whether the client connects straight to every server (default false): when true, neither the
/// proxy variables of the environment nor `seedream_client_builder_set_proxy` are used.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_no_proxy(
    builder: *mut seedream_client_builder,
    no_proxy: bool,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    unsafe { arg_mut(builder, "builder") }?.no_proxy = no_proxy;
    Ok(())
}

/// Sets how many image downloads run at once (default 4), for the downloads a generate or edit
/// call makes and for `seedream_client_download_image`, across all calls on the client. Bounds the
/// connections and memory of downloads in progress: a response with 1 500 links opens a handful of
/// connections, not 1 500. 0 is `SEEDREAM_RESULT_INVALID_ARGUMENT`.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_max_parallel_downloads(
    builder: *mut seedream_client_builder,
    max: usize,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    let builder = unsafe { arg_mut(builder, "builder") }?;
    if max == 0 {
        return Err(seedream_error::invalid_argument("max must be at least 1"));
    }
    builder.calls.max_parallel_downloads = max;
    builder.update(|client| client.max_parallel_downloads(max));
    Ok(())
}

/// Sets the number of worker threads of the client's own async runtime (default 2). They carry the
/// network I/O of every call; the calls themselves block the threads that make them. 0 is
/// `SEEDREAM_RESULT_INVALID_ARGUMENT`.
///
/// `builder` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_worker_threads(
    builder: *mut seedream_client_builder,
    threads: usize,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    let builder = unsafe { arg_mut(builder, "builder") }?;
    if threads == 0 {
        return Err(seedream_error::invalid_argument("threads must be at least 1"));
    }
    builder.worker_threads = threads;
    Ok(())
}

/// Hands the client's log events to `callback` (NULL: no logging, the default): one line per event,
/// with its level. Each call logs its outcome at `SEEDREAM_LOG_LEVEL_DEBUG` as
/// `seedream.call{model="…" endpoint="…" client_request_id="…" request_bytes=N}: seedream_client::send:
/// answered request_id="…" status=200 attempts=1 response_bytes=N elapsed_ms=N` (or `failed … error=…`),
/// and retries, time limits, connections and downloads as they happen. Lines never hold the API key
/// or a header value, nor the prompt. See `seedream_log_callback` for the threads it is called on.
///
/// `builder` is borrowed for the call only. `user_data` is borrowed by every client built from the
/// builder afterwards (passed to `callback` as it is): it, and `callback`, must stay valid until those
/// clients are freed.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_set_log_callback(
    builder: *mut seedream_client_builder,
    callback: seedream_log_callback,
    user_data: *mut std::ffi::c_void,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    let builder = unsafe { arg_mut(builder, "builder") }?;
    builder.log = LogSink::new(callback, user_data);
    Ok(())
}

/// Builds a client from the settings: starts its runtime and checks the settings (key present,
/// base URL absolute, certificates readable, headers valid). On success writes the new client to
/// `*client_out`; the caller frees it with `seedream_client_free`. On failure (typically
/// `SEEDREAM_RESULT_CONFIG`) writes an error to `*error_out` when `error_out` is not NULL.
/// The builder is left as it was.
///
/// `builder` is borrowed for the call only. `*error_out` is the caller's, freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_build(
    builder: *const seedream_client_builder,
    client_out: *mut *mut seedream_client,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid builder.
    let builder = unsafe { arg_ref(builder, "builder") }?;
    let client_out = arg_out(client_out, "client_out")?;
    let log = builder.log.map(LogSink::dispatch);
    let client = seedream_client::start(builder.client_builder(), builder.worker_threads, builder.calls, log)?;
    client_out.write(into_c(client));
    Ok(())
}

/// Frees a builder. NULL is a no-op. Clients built from it are not affected.
///
/// Consumes `builder`: it and everything borrowed from it are invalid afterwards.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_client_builder_free(builder: *mut seedream_client_builder) {
    // SAFETY: the caller passes NULL or a builder from this library, once.
    unsafe { free_c(builder) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_have_the_clis_deadline_unless_told_otherwise() {
        let builder = seedream_client_builder_new();
        // SAFETY: a builder made above, freed once at the end.
        unsafe {
            assert_eq!((*builder).calls.overall, Some(Duration::from_secs(15 * 60)));
            assert_eq!(seedream_client_builder_set_timeouts(builder, 0, 0, 0, 2_000), seedream_result::Ok);
            assert_eq!((*builder).calls.overall, Some(Duration::from_secs(2)));
            assert_eq!(seedream_client_builder_set_timeouts(builder, 0, 0, 0, 0), seedream_result::Ok);
            assert_eq!((*builder).calls.overall, Some(DEFAULT_CALL_DEADLINE), "0 keeps the default");
            assert_eq!(seedream_client_builder_set_timeouts(builder, 0, 0, 0, u64::MAX), seedream_result::Ok);
            assert_eq!((*builder).calls.overall, None);
            seedream_client_builder_free(builder);
        }
    }
}
