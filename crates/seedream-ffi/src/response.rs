//! `seedream_response`: the result of a generate or edit call — each image's success or error, URL,
//! JPEG bytes, width and height; usage; the response JSON; the request id.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use ::seedream_client::ResponseMeta;
use ::seedream_client::decode::decode_b64;
use seedream_types::image::read_dimensions;
use seedream_types::{ImageItem, ImagesResponse, Usage};

use crate::client::ImageBytes;
use crate::error::seedream_error;
use crate::ffi::{NO_ERROR_OUT, arg_out, arg_ref, c_string, ffi_fn, free_c, try_ref};
use crate::result::seedream_result;

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

/// One image of the response as C sees it.
struct Image {
    succeeded: bool,
    url: CString,
    size: (u32, u32),
    error_code: CString,
    error_message: CString,
    /// Decoded or downloaded bytes, filled on first use for `b64_json`.
    bytes: OnceLock<ImageBytes>,
}

/// The response of a generate or edit call: one entry per requested image, each a success (URL
/// and/or bytes, size) or, inside a group, a per-image error such as moderation. Owned by the
/// caller, freed with `seedream_response_free`. Safe to read from several threads. Pointers it
/// returns (strings, bytes) live as long as the response.
#[allow(non_camel_case_types)]
pub struct seedream_response {
    response: ImagesResponse,
    images: Vec<Image>,
    usage: Option<seedream_usage>,
    request_id: CString,
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
                        bytes,
                    },
                    ImageItem::Failed(failed) => Image {
                        succeeded: false,
                        url: CString::default(),
                        size: (0, 0),
                        error_code: c_string(failed.error.code.as_str()),
                        error_message: c_string(failed.error.message.as_str()),
                        bytes,
                    },
                }
            })
            .collect();
        Self {
            usage: response.usage.as_ref().map(seedream_usage::from_usage),
            images,
            request_id: c_string(meta.request_id.clone().unwrap_or_default()),
            attempts: meta.attempts,
            response,
            json: OnceLock::new(),
        }
    }

    /// The bytes of image `index`: downloaded, decoded from `b64_json` on first use, or why not.
    fn bytes(&self, index: usize) -> Option<&ImageBytes> {
        let image = self.images.get(index)?;
        Some(image.bytes.get_or_init(|| {
            match self.response.data.get(index).and_then(ImageItem::image).and_then(|i| i.b64_json.as_deref()) {
                Some(text) => decode_b64(text).map_err(|_| seedream_result::Decode),
                None => Err(seedream_result::NotAvailable),
            }
        }))
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
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_count(response: *const seedream_response) -> usize {
    ffi_fn!({ try_ref!(response).images.len() })
}

/// Whether image `index` succeeded. False for a failed image (see `_image_error_code`), and when
/// `index` is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_succeeded(response: *const seedream_response, index: usize) -> bool {
    ffi_fn!({ try_ref!(response).images.get(index).is_some_and(|image| image.succeeded) })
}

/// The download link of image `index` (valid 24 hours); "" when the response holds `b64_json` or
/// the image failed; NULL when `index` is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_url(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    ffi_fn!({ try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.url.as_ptr()) })
}

/// The JPEG bytes of image `index`: on `SEEDREAM_RESULT_OK` writes a pointer to them to `*data_out`
/// and their number to `*len_out`; they live as long as the response. Other results:
/// `SEEDREAM_RESULT_NOT_AVAILABLE` (a failed image, or a `url` image with downloads turned off),
/// `SEEDREAM_RESULT_INVALID_ARGUMENT` (`index` out of range), `SEEDREAM_RESULT_DECODE` (bad base64),
/// or the code of the download's failure (such as `SEEDREAM_RESULT_TIMEOUT`).
/// `b64_json` is decoded on the first call for each image.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_bytes(
    response: *const seedream_response,
    index: usize,
    data_out: *mut *const u8,
    len_out: *mut usize,
) -> seedream_result {
    ffi_fn!(NO_ERROR_OUT => {
        // SAFETY: the caller passes NULL or a valid response.
        let response = unsafe { arg_ref(response, "response") }?;
        let (data_out, len_out) = (arg_out(data_out, "data_out")?, arg_out(len_out, "len_out")?);
        let bytes = response.bytes(index).ok_or_else(|| {
            seedream_error::invalid_argument(format!("index {index} is out of range"))
        })?;
        match bytes {
            Ok(bytes) => {
                data_out.write(bytes.as_ptr());
                len_out.write(bytes.len());
                Ok(())
            }
            Err(code) => Err(seedream_error::new(*code, "the image bytes are not available")),
        }
    })
}

/// The width of image `index` in pixels, from the response's `size` or else the JPEG header;
/// 0 when unknown, failed, or out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_width(response: *const seedream_response, index: usize) -> u32 {
    ffi_fn!({ try_ref!(response).dimensions(index).0 })
}

/// The height of image `index` in pixels; 0 when unknown, failed, or out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_height(response: *const seedream_response, index: usize) -> u32 {
    ffi_fn!({ try_ref!(response).dimensions(index).1 })
}

/// The service's error code of failed image `index`, such as `OutputImageSensitiveContentDetected`;
/// "" for a successful image; NULL when `index` is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_error_code(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    ffi_fn!({ try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.error_code.as_ptr()) })
}

/// The service's message for failed image `index`; "" for a successful image; NULL when `index`
/// is out of range.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_image_error_message(
    response: *const seedream_response,
    index: usize,
) -> *const c_char {
    ffi_fn!({ try_ref!(response).images.get(index).map_or(std::ptr::null(), |image| image.error_message.as_ptr()) })
}

/// The usage: on `SEEDREAM_RESULT_OK` writes it to `*usage_out`; `SEEDREAM_RESULT_NOT_AVAILABLE`
/// when the response has none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_usage(
    response: *const seedream_response,
    usage_out: *mut seedream_usage,
) -> seedream_result {
    ffi_fn!(NO_ERROR_OUT => {
        // SAFETY: the caller passes NULL or a valid response.
        let response = unsafe { arg_ref(response, "response") }?;
        let usage_out = arg_out(usage_out, "usage_out")?;
        let usage = response.usage.ok_or_else(|| seedream_error::new(seedream_result::NotAvailable, "no usage"))?;
        usage_out.write(usage);
        Ok(())
    })
}

/// The response as JSON (NUL-terminated): every field the service sent, unknown ones included
/// (key order may differ from the wire). Built on the first call; lives as long as the response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_json(response: *const seedream_response) -> *const c_char {
    ffi_fn!({
        let response = try_ref!(response);
        response.json.get_or_init(|| c_string(serde_json::to_string(&response.response).unwrap_or_default())).as_ptr()
    })
}

/// The service's request id (`x-request-id`); "" when it sent none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_request_id(response: *const seedream_response) -> *const c_char {
    ffi_fn!({ try_ref!(response).request_id.as_ptr() })
}

/// How many attempts the call took (1 = no retry).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_attempts(response: *const seedream_response) -> u32 {
    ffi_fn!({ try_ref!(response).attempts })
}

/// Frees a response and everything it lent out (strings, bytes). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_response_free(response: *mut seedream_response) {
    // SAFETY: the caller passes NULL or a response from this library, once.
    ffi_fn!({ unsafe { free_c(response) } })
}
