//! `seedream_stream_event`: one event of a streamed generation, lent to the stream callback.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use seedream_types::image::read_dimensions;
use seedream_types::{GeneratedImage, Size, StreamEvent};

use crate::error::seedream_error;
use crate::ffi::{arg_out, arg_ref, c_string, ffi_fn, try_ref};
use crate::image_format::seedream_image_format;
use crate::response::{ImageBytes, UsageCounts, seedream_usage, write_count};
use crate::result::seedream_result;

/// The kind of a stream event.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum seedream_event_type {
    /// `image_generation.partial_succeeded`: one image is ready (URL and/or bytes, size).
    PartialSucceeded = 1,
    /// `image_generation.partial_failed`: one image failed (error code and message); the stream goes on.
    PartialFailed = 2,
    /// `image_generation.completed`: every image is done; carries the usage. The last event.
    Completed = 3,
    /// An event type this version does not know (read it with `seedream_stream_event_json`).
    Unknown = 4,
}

impl crate::ffi::Sentinel for seedream_event_type {
    fn on_null() -> Self {
        seedream_event_type::Unknown
    }
    fn on_panic() -> Self {
        seedream_event_type::Unknown
    }
}

/// One event of a stream, valid only during the callback it is passed to: copy what you keep.
/// Never freed by the caller.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct seedream_stream_event {
    kind: seedream_event_type,
    image_index: u32,
    url: CString,
    size: (u32, u32),
    bytes: Option<ImageBytes>,
    format: seedream_image_format,
    error_code: CString,
    error_message: CString,
    usage: Option<seedream_usage>,
    usage_counts: UsageCounts,
    /// The event itself, serialized only if `seedream_stream_event_json` is called.
    event: StreamEvent,
    json: OnceLock<CString>,
}

impl seedream_stream_event {
    /// An event with the bytes of its image (decoded or downloaded), when there are any. Keeps the
    /// event as is: its JSON is written only when asked for.
    pub(crate) fn new(event: StreamEvent, bytes: Option<ImageBytes>) -> Self {
        let mut this = Self {
            kind: seedream_event_type::Unknown,
            image_index: 0,
            url: CString::default(),
            size: (0, 0),
            bytes,
            format: seedream_image_format::Unknown,
            error_code: CString::default(),
            error_message: CString::default(),
            usage: None,
            usage_counts: UsageCounts::default(),
            event,
            json: OnceLock::new(),
        };
        match &this.event {
            StreamEvent::PartialSucceeded(image) => {
                this.kind = seedream_event_type::PartialSucceeded;
                this.image_index = image.image_index;
                this.url = c_string(image.url.clone().unwrap_or_default());
                // The bytes' format (the stated one is their fallback), else the stated one.
                this.format = match &this.bytes {
                    Some(Ok(bytes)) if bytes.format().is_some() => bytes.format().into(),
                    _ => {
                        let stated =
                            GeneratedImage { output_format: image.output_format.clone(), ..Default::default() };
                        stated.stated_format().into()
                    }
                };
                this.size = match image.size.as_deref().map(Size::from_wire) {
                    Some(Size::Pixels(d)) => (d.width, d.height),
                    _ => match &this.bytes {
                        Some(Ok(bytes)) => read_dimensions(bytes).map_or((0, 0), |(_, d)| (d.width, d.height)),
                        _ => (0, 0),
                    },
                };
            }
            StreamEvent::PartialFailed(failed) => {
                this.kind = seedream_event_type::PartialFailed;
                this.image_index = failed.image_index;
                this.error_code = c_string(failed.error.code.as_str());
                this.error_message = c_string(failed.error.message.as_str());
            }
            StreamEvent::Completed(completed) => {
                this.kind = seedream_event_type::Completed;
                this.usage = completed.usage.as_ref().map(seedream_usage::from_usage);
                this.usage_counts = completed.usage.as_ref().map(UsageCounts::from_usage).unwrap_or_default();
            }
            StreamEvent::Error(_) | StreamEvent::Unknown(_) => {}
        }
        this
    }
}

/// The kind of the event. `SEEDREAM_EVENT_TYPE_UNKNOWN` when `event` is NULL.
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_type(event: *const seedream_stream_event) -> seedream_event_type {
    try_ref!(event).kind
}

/// The position of the event's image in the group, from 0 (image events only; 0 otherwise).
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_image_index(event: *const seedream_stream_event) -> u32 {
    try_ref!(event).image_index
}

/// The image's download link; "" when the stream sends `b64_json`, or for other events.
///
/// `event` is borrowed for the call only. The string is valid until the callback returns.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_url(event: *const seedream_stream_event) -> *const c_char {
    try_ref!(event).url.as_ptr()
}

/// The image's bytes (JPEG, PNG, ...: see `seedream_stream_event_image_format`): on `SEEDREAM_RESULT_OK` writes a pointer to them to `*data_out` and their
/// number to `*len_out`, valid during the callback only. `SEEDREAM_RESULT_NOT_AVAILABLE` for events
/// without an image (or a `url` image with downloads turned off); the download's failure code when
/// it failed.
///
/// `event` is borrowed for the call only. `*data_out` is valid until the callback returns.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_bytes(
    event: *const seedream_stream_event,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> seedream_result {
    // SAFETY: the caller passes NULL or the event it was given.
    let event = unsafe { arg_ref(event, "event") }?;
    let (data_out, len_out) = (arg_out(data_out, "data_out")?, arg_out(len_out, "len_out")?);
    match &event.bytes {
        Some(Ok(bytes)) => {
            data_out.write(bytes.as_ptr());
            len_out.write(bytes.len());
            Ok(())
        }
        Some(Err(code)) => Err(seedream_error::new(*code, "the image bytes could not be fetched")),
        None => Err(seedream_error::new(seedream_result::NotAvailable, "the event has no image bytes")),
    }
}

/// The file format of the event's image: read from its bytes, else the format the event states
/// (`output_format`). `SEEDREAM_IMAGE_FORMAT_UNKNOWN` for other events and when neither tells (a
/// `url` image with downloads turned off and no stated format).
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_image_format(
    event: *const seedream_stream_event,
) -> seedream_image_format {
    try_ref!(event).format
}

/// The media type of the event's image, such as "image/png"; "" when unknown or for other events.
/// A static string: valid for the life of the program (longer than the event), never free it.
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_image_mime_type(event: *const seedream_stream_event) -> *const c_char {
    try_ref!(event).format.mime_type()
}

/// The usual file extension of the event's image, without a dot ("png", "jpg"); "" when unknown or
/// for other events. A static string: valid for the life of the program, never free it.
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_image_extension(event: *const seedream_stream_event) -> *const c_char {
    try_ref!(event).format.extension()
}

/// The image's width in pixels; 0 when unknown or for other events.
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_width(event: *const seedream_stream_event) -> u32 {
    try_ref!(event).size.0
}

/// The image's height in pixels; 0 when unknown or for other events.
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_height(event: *const seedream_stream_event) -> u32 {
    try_ref!(event).size.1
}

/// For `SEEDREAM_EVENT_TYPE_PARTIAL_FAILED`: the service's error code; "" otherwise.
///
/// `event` is borrowed for the call only. The string is valid until the callback returns.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_error_code(event: *const seedream_stream_event) -> *const c_char {
    try_ref!(event).error_code.as_ptr()
}

/// For `SEEDREAM_EVENT_TYPE_PARTIAL_FAILED`: the service's message; "" otherwise.
///
/// `event` is borrowed for the call only. The string is valid until the callback returns.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_error_message(event: *const seedream_stream_event) -> *const c_char {
    try_ref!(event).error_message.as_ptr()
}

/// For `SEEDREAM_EVENT_TYPE_COMPLETED`: on `SEEDREAM_RESULT_OK` writes the usage to `*usage_out`;
/// `SEEDREAM_RESULT_NOT_AVAILABLE` for other events or when the service sent none.
///
/// `event` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_usage(
    event: *const seedream_stream_event,
    usage_out: *mut seedream_usage,
) -> seedream_result {
    // SAFETY: the caller passes NULL or the event it was given.
    let event = unsafe { arg_ref(event, "event") }?;
    let usage_out = arg_out(usage_out, "usage_out")?;
    let usage = event.usage.ok_or_else(|| seedream_error::new(seedream_result::NotAvailable, "no usage"))?;
    usage_out.write(usage);
    Ok(())
}

/// For `SEEDREAM_EVENT_TYPE_COMPLETED`: the number of web searches billed
/// (`usage.tool_usage.web_search`, Seedream 5.0 lite with `tools`). On `SEEDREAM_RESULT_OK` writes it
/// to `*count_out`; `SEEDREAM_RESULT_NOT_AVAILABLE` for other events or when the service did not
/// report it.
///
/// `event` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_usage_web_searches(
    event: *const seedream_stream_event,
    count_out: *mut u64,
) -> seedream_result {
    // SAFETY: the caller passes NULL or the event it was given.
    let event = unsafe { arg_ref(event, "event") }?;
    write_count(event.usage_counts.web_searches, arg_out(count_out, "count_out")?, "tool_usage.web_search")
}

/// For `SEEDREAM_EVENT_TYPE_COMPLETED`: the number of reference images the request carried
/// (`usage.input_images`). On `SEEDREAM_RESULT_OK` writes it to `*count_out`;
/// `SEEDREAM_RESULT_NOT_AVAILABLE` for other events or when the service did not report it.
///
/// `event` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_usage_input_images(
    event: *const seedream_stream_event,
    count_out: *mut u64,
) -> seedream_result {
    // SAFETY: the caller passes NULL or the event it was given.
    let event = unsafe { arg_ref(event, "event") }?;
    write_count(event.usage_counts.input_images, arg_out(count_out, "count_out")?, "input_images")
}

/// The event's JSON as the service sent it (unknown fields included; key order may differ), written
/// on the first call for the event. Valid until the callback returns.
///
/// `event` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_stream_event_json(event: *const seedream_stream_event) -> *const c_char {
    let event = try_ref!(event);
    event.json.get_or_init(|| c_string(serde_json::to_string(&event.event).unwrap_or_default())).as_ptr()
}
