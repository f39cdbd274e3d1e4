//! `seedream_response`: the result of a generate or edit call — each image's success or error, URL,
//! bytes and their format (JPEG, PNG), width and height, layer fields (z-index, bounding box, name,
//! description); usage; the response JSON; the request id.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use ::seedream_client::decode::decode_b64;
use ::seedream_client::{ResponseMeta, SavedResponse};
use seedream_types::image::read_dimensions;
use seedream_types::{BoundingBox, GeneratedImage, ImageItem, ImagesResponse, Usage};

use crate::error::{FfiResult, seedream_error};
use crate::ffi::{OutPtr, arg_out, arg_ref, c_string, ffi_fn, free_c, try_ref};
use crate::image_format::seedream_image_format;
use crate::result::seedream_result;

/// The bytes of an image with their format, or why they are not there.
pub(crate) type ImageBytes = Result<::seedream_client::ImageBytes, seedream_result>;

/// Usage as the service reports it; a count the service did not report is 0.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct seedream_usage {
    /// Images generated successfully.
    pub generated_images: u64,
    /// Output tokens (about the sum of width x height / 256 over the successful images).
    pub output_tokens: u64,
    /// Tokens billed in all.
    pub total_tokens: u64,
}

impl seedream_usage {
    pub(crate) fn from_usage(usage: &Usage) -> Self {
        Self {
            generated_images: usage.generated_images.unwrap_or(0),
            output_tokens: usage.output_tokens.or(usage.completion_tokens).unwrap_or(0),
            total_tokens: usage.total_tokens.unwrap_or(0),
        }
    }
}

/// The counts of the usage that only some models report (so absent is not 0), read by their own
/// accessors: the `seedream_usage` struct keeps its layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct UsageCounts {
    /// `usage.input_images` (5.0 pro and flash).
    pub(crate) input_images: Option<u64>,
    /// `usage.tool_usage.web_search` (5.0 lite with `tools`).
    pub(crate) web_searches: Option<u64>,
}

impl UsageCounts {
    pub(crate) fn from_usage(usage: &Usage) -> Self {
        Self {
            input_images: usage.input_images,
            web_searches: usage.tool_usage.as_ref().and_then(|tools| tools.web_search),
        }
    }
}

/// Writes a count the service may not have reported: `SEEDREAM_RESULT_NOT_AVAILABLE` when it did not.
pub(crate) fn write_count(count: Option<u64>, out: OutPtr<u64>, what: &str) -> FfiResult<()> {
    let count =
        count.ok_or_else(|| seedream_error::new(seedream_result::NotAvailable, format!("the usage has no {what}")))?;
    out.write(count);
    Ok(())
}

/// Where a layer sits on the base image (layer decomposition, Seedream 5.0 pro and flash). Each
/// array is `{x1, y1, x2, y2}`, filled only when its `has_` flag is true (the service sent four
/// numbers for it); the others are 0.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct seedream_bounding_box {
    /// Whether `absolute` holds the corners.
    pub has_absolute: bool,
    /// The corners in pixels of the base image (the image with z-index 0).
    pub absolute: [f64; 4],
    /// Whether `normalized` holds the corners.
    pub has_normalized: bool,
    /// The same corners on a 0 to 1000 scale of the base image's width and height.
    pub normalized: [f64; 4],
}

impl seedream_bounding_box {
    /// The box C sees, when `bounding_box` has four numbers in `absolute` or in `normalized`.
    fn from_box(bounding_box: &BoundingBox) -> Option<Self> {
        let (absolute, normalized) = (bounding_box.absolute_corners(), bounding_box.normalized_corners());
        (absolute.is_some() || normalized.is_some()).then(|| Self {
            has_absolute: absolute.is_some(),
            absolute: absolute.unwrap_or_default(),
            has_normalized: normalized.is_some(),
            normalized: normalized.unwrap_or_default(),
        })
    }
}

/// One image of the response as C sees it.
struct Image {
    succeeded: bool,
    url: CString,
    size: (u32, u32),
    error_code: CString,
    error_message: CString,
    /// The format the item states (`output_format`), for when the bytes cannot tell.
    stated_format: seedream_image_format,
    z_index: Option<i64>,
    bounding_box: Option<seedream_bounding_box>,
    name: CString,
    description: CString,
    /// Decoded or downloaded bytes, filled on first use for `b64_json`.
    bytes: OnceLock<ImageBytes>,
    /// Bytes downloaded later by `seedream_client_download_image`.
    fetched: OnceLock<ImageBytes>,
    /// The file it was saved to (`seedream_client_generate_save`, `_edit_save`).
    path: Option<CString>,
}

/// What `bytes` gives for a `url` image that was not downloaded (it stays undecided, so that
/// `seedream_client_download_image` can still fill it).
static NOT_DOWNLOADED: ImageBytes = Err(seedream_result::NotAvailable);

/// The response of a generate or edit call: one entry per requested image, each a success (URL
/// and/or bytes, size) or, inside a group, a per-image error such as moderation. Owned by the
/// caller, freed with `seedream_response_free`. Safe to read from several threads. Pointers it
/// returns (strings, bytes) live as long as the response.
#[allow(non_camel_case_types)]
pub struct seedream_response {
    response: ImagesResponse,
    images: Vec<Image>,
    usage: Option<seedream_usage>,
    usage_counts: UsageCounts,
    request_id: CString,
    client_request_id: CString,
    attempts: u32,
    json: OnceLock<CString>,
}

impl std::fmt::Debug for seedream_response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("seedream_response")
            .field("images", &self.images.len())
            .field("usage", &self.usage)
            .field("request_id", &self.request_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl seedream_response {
    /// Wraps a response; `downloads[i]` holds the fetched bytes of `url` image `i`, when fetched.
    pub(crate) fn new(response: ImagesResponse, meta: &ResponseMeta, downloads: Vec<Option<ImageBytes>>) -> Self {
        let mut downloads = downloads.into_iter();
        let images = response
            .data
            .iter()
            .map(|item| {
                let bytes = OnceLock::new();
                if let Some(fetched) = downloads.next().flatten() {
                    let _ = bytes.set(fetched);
                }
                match item {
                    ImageItem::Image(image) => Image {
                        succeeded: true,
                        url: c_string(image.url.clone().unwrap_or_default()),
                        size: image.dimensions().map_or((0, 0), |d| (d.width, d.height)),
                        error_code: CString::default(),
                        error_message: CString::default(),
                        stated_format: image.stated_format().into(),
                        z_index: image.z_index,
                        bounding_box: image.bounding_box.as_ref().and_then(seedream_bounding_box::from_box),
                        name: c_string(image.name.clone().unwrap_or_default()),
                        description: c_string(image.description.clone().unwrap_or_default()),
                        bytes,
                        fetched: OnceLock::new(),
                        path: None,
                    },
                    ImageItem::Failed(failed) => Image {
                        succeeded: false,
                        url: CString::default(),
                        size: (0, 0),
                        error_code: c_string(failed.error.code.as_str()),
                        error_message: c_string(failed.error.message.as_str()),
                        stated_format: seedream_image_format::Unknown,
                        z_index: None,
                        bounding_box: None,
                        name: CString::default(),
                        description: CString::default(),
                        bytes,
                        fetched: OnceLock::new(),
                        path: None,
                    },
                }
            })
            .collect();
        Self {
            usage: response.usage.as_ref().map(seedream_usage::from_usage),
            usage_counts: response.usage.as_ref().map(UsageCounts::from_usage).unwrap_or_default(),
            images,
            request_id: c_string(meta.request_id.clone().unwrap_or_default()),
            client_request_id: c_string(meta.client_request_id.clone().unwrap_or_default()),
            attempts: meta.attempts,
            response,
            json: OnceLock::new(),
        }
    }

    /// Wraps the response of a save call: each saved image names its file, and its format is the
    /// file's (sniffed from its bytes); its bytes are in the file, not here.
    pub(crate) fn saved(saved: SavedResponse) -> Self {
        let SavedResponse { response, saved, meta, .. } = saved;
        let mut this = Self::new(response, &meta, Vec::new());
        for file in saved {
            if let Some(image) = this.images.get_mut(file.index) {
                image.path = Some(c_string(file.path.to_string_lossy().into_owned()));
                if file.format.is_some() {
                    image.stated_format = file.format.into();
                }
            }
        }
        this
    }

    /// The bytes of image `index`: downloaded, decoded from `b64_json` on first use, or why not.
    fn bytes(&self, index: usize) -> Option<&ImageBytes> {
        let image = self.images.get(index)?;
        if let Some(fetched) = image.fetched.get() {
            return Some(fetched);
        }
        if let Some(bytes) = image.bytes.get() {
            return Some(bytes);
        }
        let item = self.response.data.get(index).and_then(ImageItem::image);
        match item.and_then(|item| Some((item, item.b64_json.as_deref()?))) {
            Some((item, text)) => Some(image.bytes.get_or_init(|| {
                decode_b64(text)
                    .map(|bytes| ::seedream_client::ImageBytes::of(item, bytes))
                    .map_err(|_| seedream_result::Decode)
            })),
            None => Some(&NOT_DOWNLOADED),
        }
    }

    /// The image `seedream_client_download_image` should fetch for `index`; `None` when its bytes
    /// are already there.
    pub(crate) fn image_to_download(&self, index: usize) -> FfiResult<Option<GeneratedImage>> {
        let image = self.image(index)?;
        if matches!(self.bytes(index), Some(Ok(_))) {
            return Ok(None);
        }
        let item = self.response.data.get(index).and_then(ImageItem::image);
        match item.filter(|item| image.succeeded && item.url.is_some()) {
            Some(item) => Ok(Some(item.clone())),
            None => Err(seedream_error::new(seedream_result::NotAvailable, format!("image {index} has no link"))),
        }
    }

    /// Keeps the bytes `seedream_client_download_image` fetched for `index` (the first ones, when
    /// two threads fetched the same image).
    pub(crate) fn set_downloaded(&self, index: usize, bytes: ::seedream_client::ImageBytes) {
        if let Some(image) = self.images.get(index) {
            let _ = image.fetched.set(Ok(bytes));
        }
    }

    /// The format of image `index`: its bytes' (decoded or downloaded), else the one it states.
    fn format(&self, index: usize) -> Option<seedream_image_format> {
        let image = self.images.get(index)?;
        if !image.succeeded {
            return Some(seedream_image_format::Unknown);
        }
        Some(match self.bytes(index) {
            Some(Ok(bytes)) if bytes.format().is_some() => bytes.format().into(),
            _ => image.stated_format,
        })
    }

    /// Successful image `index`, or `SEEDREAM_RESULT_INVALID_ARGUMENT` when out of range.
    fn image(&self, index: usize) -> FfiResult<&Image> {
        self.images.get(index).ok_or_else(|| seedream_error::invalid_argument(format!("index {index} is out of range")))
    }

    /// Width and height of image `index`: from the response's `size`, else from the JPEG's header.
    fn dimensions(&self, index: usize) -> (u32, u32) {
        match self.images.get(index) {
            Some(image) if image.size != (0, 0) => image.size,
            Some(image) if image.succeeded => match self.bytes(index) {
                Some(Ok(bytes)) => read_dimensions(bytes).map_or((0, 0), |(_, d)| (d.width, d.height)),
                _ => (0, 0),
            },
            _ => (0, 0),
        }
    }
}

/// The number of images in the response, failed ones included (the length of `data`).
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_count(response: *const seedream_response) -> usize {
    try_ref!(response).images.len()
}

/// Whether image `index` succeeded. False for a failed image (see `_image_error_code`), and when
/// `index` is out of range.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_succeeded(response: *const seedream_response, index: usize) -> bool {
    try_ref!(response).images.get(index).is_some_and(|image| image.succeeded)
}

/// The download link of image `index` (valid 24 hours); "" when the response holds `b64_json` or
/// the image failed; NULL when `index` is out of range.
///
/// `response` is borrowed for the call only. The string is valid until `response` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_url(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.url.as_ptr())
}

/// The file image `index` was saved to by `seedream_client_generate_save` or `_edit_save`
/// (`<dir>/<stem>-<index>.<extension>`, NUL-terminated UTF-8); NULL when the image was not saved (a
/// failed image, a response of another call) or `index` is out of range.
///
/// `response` is borrowed for the call only. The string is valid until `response` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_path(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    let image = try_ref!(response).images.get(index);
    image.and_then(|image| image.path.as_ref()).map_or(std::ptr::null(), |path| path.as_ptr())
}

/// The bytes of image `index` (JPEG, PNG, ...: see `seedream_response_image_format`): on `SEEDREAM_RESULT_OK` writes a pointer to them to `*data_out`
/// and their number to `*len_out`; they live as long as the response. Other results:
/// `SEEDREAM_RESULT_NOT_AVAILABLE` (a failed image, or a `url` image with downloads turned off),
/// `SEEDREAM_RESULT_INVALID_ARGUMENT` (`index` out of range), `SEEDREAM_RESULT_DECODE` (bad base64),
/// or the code of the download's failure (such as `SEEDREAM_RESULT_TIMEOUT`).
/// `b64_json` is decoded on the first call for each image.
///
/// `response` is borrowed for the call only. `*data_out` is valid until `response` is freed.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_bytes(
    response: *const seedream_response,
    index: usize,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid response.
    let response = unsafe { arg_ref(response, "response") }?;
    let (data_out, len_out) = (arg_out(data_out, "data_out")?, arg_out(len_out, "len_out")?);
    let bytes = response
        .bytes(index)
        .ok_or_else(|| seedream_error::invalid_argument(format!("index {index} is out of range")))?;
    match bytes {
        Ok(bytes) => {
            data_out.write(bytes.as_ptr());
            len_out.write(bytes.len());
            Ok(())
        }
        Err(code) => Err(seedream_error::new(*code, "the image bytes are not available")),
    }
}

/// The width of image `index` in pixels, from the response's `size` or else the image's header;
/// 0 when unknown, failed, or out of range.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_width(response: *const seedream_response, index: usize) -> u32 {
    try_ref!(response).dimensions(index).0
}

/// The height of image `index` in pixels; 0 when unknown, failed, or out of range.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_height(response: *const seedream_response, index: usize) -> u32 {
    try_ref!(response).dimensions(index).1
}

/// The service's error code of failed image `index`, such as `OutputImageSensitiveContentDetected`;
/// "" for a successful image; NULL when `index` is out of range.
///
/// `response` is borrowed for the call only. The string is valid until `response` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_error_code(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.error_code.as_ptr())
}

/// The service's message for failed image `index`; "" for a successful image; NULL when `index`
/// is out of range.
///
/// `response` is borrowed for the call only. The string is valid until `response` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_error_message(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.error_message.as_ptr())
}

/// The file format of image `index`: read from its bytes (decoding `b64_json` on the first call, as
/// `seedream_response_image_bytes` does; a downloaded image's are already there), else the format
/// the response states for it (`output_format`, sent by Seedream 5.0 pro and flash).
/// `SEEDREAM_IMAGE_FORMAT_UNKNOWN` when neither tells (a `url` image with downloads turned off and
/// no stated format), for a failed image, and when `index` is out of range.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_format(
    response: *const seedream_response,
    index: usize,
) -> seedream_image_format {
    try_ref!(response).format(index).unwrap_or(seedream_image_format::Unknown)
}

/// The media type of image `index` (see `seedream_response_image_format`), such as "image/png" or
/// "image/jpeg"; "" when the format is unknown; NULL when `index` is out of range. A static string:
/// valid for the life of the program (longer than `response`), never free it.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_mime_type(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    try_ref!(response).format(index).map_or(std::ptr::null(), seedream_image_format::mime_type)
}

/// The usual file extension of image `index`, without a dot: "png", "jpg", ...; "" when the format
/// is unknown; NULL when `index` is out of range. Name saved files with it: the service sends PNG
/// for `"output_format": "png"`, transparent backgrounds and layers. A static string: valid for the
/// life of the program (longer than `response`), never free it.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_extension(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    try_ref!(response).format(index).map_or(std::ptr::null(), seedream_image_format::extension)
}

/// Layer decomposition (`"layer_decomposition": true`, Seedream 5.0 pro and flash): the z-index of
/// image `index`, 0 for the base image, then 1, 2, ... from the bottom layer up. On
/// `SEEDREAM_RESULT_OK` writes it to `*z_index_out`. `SEEDREAM_RESULT_NOT_AVAILABLE` when the image
/// has none (a response without layers, a failed image); `SEEDREAM_RESULT_INVALID_ARGUMENT` when
/// `index` is out of range.
///
/// `response` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_z_index(
    response: *const seedream_response,
    index: usize,
    z_index_out: *mut i64,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid response.
    let response = unsafe { arg_ref(response, "response") }?;
    let z_index_out = arg_out(z_index_out, "z_index_out")?;
    let z_index = response
        .image(index)?
        .z_index
        .ok_or_else(|| seedream_error::new(seedream_result::NotAvailable, format!("image {index} has no z_index")))?;
    z_index_out.write(z_index);
    Ok(())
}

/// Layer decomposition: where layer `index` sits on the base image. On `SEEDREAM_RESULT_OK` writes
/// the box to `*bounding_box_out` (check its `has_absolute` and `has_normalized`).
/// `SEEDREAM_RESULT_NOT_AVAILABLE` when the image has no bounding box with four numbers (the base
/// image, a response without layers, a failed image); `SEEDREAM_RESULT_INVALID_ARGUMENT` when
/// `index` is out of range. `*bounding_box_out` is caller-owned memory, written only on success.
///
/// `response` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_bounding_box(
    response: *const seedream_response,
    index: usize,
    bounding_box_out: *mut seedream_bounding_box,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid response.
    let response = unsafe { arg_ref(response, "response") }?;
    let bounding_box_out = arg_out(bounding_box_out, "bounding_box_out")?;
    let bounding_box = response.image(index)?.bounding_box.ok_or_else(|| {
        seedream_error::new(seedream_result::NotAvailable, format!("image {index} has no bounding box"))
    })?;
    bounding_box_out.write(bounding_box);
    Ok(())
}

/// Layer decomposition: the short name the service gave layer `index`, such as "sky"; "" when it
/// has none; NULL when `index` is out of range. Valid until `response` is freed.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_name(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.name.as_ptr())
}

/// Layer decomposition: what layer `index` shows, in the service's words; "" when it has no
/// description; NULL when `index` is out of range. Valid until `response` is freed.
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_description(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.description.as_ptr())
}

/// The usage: on `SEEDREAM_RESULT_OK` writes it to `*usage_out`; `SEEDREAM_RESULT_NOT_AVAILABLE`
/// when the response has none. See also `seedream_response_usage_input_images` and
/// `seedream_response_usage_web_searches` for the counts only some models report.
///
/// `response` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_usage(
    response: *const seedream_response,
    usage_out: *mut seedream_usage,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid response.
    let response = unsafe { arg_ref(response, "response") }?;
    let usage_out = arg_out(usage_out, "usage_out")?;
    let usage = response.usage.ok_or_else(|| seedream_error::new(seedream_result::NotAvailable, "no usage"))?;
    usage_out.write(usage);
    Ok(())
}

/// The number of reference images the request carried, as the service counted them
/// (`usage.input_images`, reported by Seedream 5.0 pro and flash; 0 without references). On
/// `SEEDREAM_RESULT_OK` writes it to `*count_out`; `SEEDREAM_RESULT_NOT_AVAILABLE` when the service
/// did not report it (other models, relays).
///
/// `response` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_usage_input_images(
    response: *const seedream_response,
    count_out: *mut u64,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid response.
    let response = unsafe { arg_ref(response, "response") }?;
    write_count(response.usage_counts.input_images, arg_out(count_out, "count_out")?, "input_images")
}

/// The number of web searches billed (`usage.tool_usage.web_search`, Seedream 5.0 lite with
/// `"tools": [{"type": "web_search"}]`). On `SEEDREAM_RESULT_OK` writes it to `*count_out`;
/// `SEEDREAM_RESULT_NOT_AVAILABLE` when the service did not report it.
///
/// `response` is borrowed for the call only.
#[ffi_fn(result)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_usage_web_searches(
    response: *const seedream_response,
    count_out: *mut u64,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a valid response.
    let response = unsafe { arg_ref(response, "response") }?;
    write_count(response.usage_counts.web_searches, arg_out(count_out, "count_out")?, "tool_usage.web_search")
}

/// The response as JSON (NUL-terminated): every field the service sent, unknown ones included
/// (key order may differ from the wire). Built on the first call; lives as long as the response.
///
/// `response` is borrowed for the call only. The string is valid until `response` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_json(response: *const seedream_response) -> *const c_char {
    let response = try_ref!(response);
    response.json.get_or_init(|| c_string(serde_json::to_string(&response.response).unwrap_or_default())).as_ptr()
}

/// The service's request id (`x-request-id`); "" when it sent none.
///
/// `response` is borrowed for the call only. The string is valid until `response` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_request_id(response: *const seedream_response) -> *const c_char {
    try_ref!(response).request_id.as_ptr()
}

/// The `X-Client-Request-Id` the call sent (the same on each of its retries); "" when none was sent.
///
/// `response` is borrowed for the call only. The string is valid until `response` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_client_request_id(response: *const seedream_response) -> *const c_char {
    try_ref!(response).client_request_id.as_ptr()
}

/// How many attempts the call took (1 = no retry).
///
/// `response` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_attempts(response: *const seedream_response) -> u32 {
    try_ref!(response).attempts
}

/// Frees a response and everything it lent out (strings, bytes). NULL is a no-op.
///
/// Consumes `response`: it and everything borrowed from it are invalid afterwards.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_free(response: *mut seedream_response) {
    // SAFETY: the caller passes NULL or a response from this library, once.
    unsafe { free_c(response) }
}
