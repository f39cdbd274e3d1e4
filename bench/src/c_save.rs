//! The C ABI's save (`seedream_client_generate_save`), called through the library's own functions
//! as a C host calls them: a client built from a builder, one blocking call, the paths read back
//! from the response, everything freed.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

use seedream::client::seedream_client_free;
use seedream::client_builder::{
    seedream_client_builder_build, seedream_client_builder_free, seedream_client_builder_new,
    seedream_client_builder_set_api_key, seedream_client_builder_set_base_url,
};
use seedream::response::{seedream_response_free, seedream_response_image_count, seedream_response_image_path};
use seedream::save::seedream_client_generate_save;
use seedream::{seedream_client, seedream_response, seedream_result};
use seedream_types::GenerateRequest;

use crate::w1::KEY;

/// The head of a 64x64 JPEG: what an edit's validation reads of its input.
pub const SMALL_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x40, 0x00, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03,
    0x11, 0x01, 0xFF, 0xD9,
];

fn text(value: &str) -> Result<CString, String> {
    CString::new(value).map_err(|e| e.to_string())
}

/// `request` through `seedream_client_generate_save` into `dir`; the saved files in `data` order.
pub fn generate_save(base: &str, request: &GenerateRequest, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let (base, key) = (text(base)?, text(KEY)?);
    let json = text(&serde_json::to_string(request).map_err(|e| e.to_string())?)?;
    let (dir_text, stem) = (text(dir.to_str().ok_or("the folder is not UTF-8")?)?, text("w2c")?);
    // SAFETY: every pointer is a live C string or an out-pointer to a local; each object is freed once.
    unsafe {
        let builder = seedream_client_builder_new();
        let mut client: *mut seedream_client = ptr::null_mut();
        let mut built = seedream_client_builder_set_base_url(builder, base.as_ptr());
        if built == seedream_result::Ok {
            built = seedream_client_builder_set_api_key(builder, key.as_ptr());
        }
        if built == seedream_result::Ok {
            built = seedream_client_builder_build(builder, &mut client, ptr::null_mut());
        }
        seedream_client_builder_free(builder);
        if built != seedream_result::Ok {
            return Err(format!("building the C client: {built:?}"));
        }
        let mut response: *mut seedream_response = ptr::null_mut();
        let saved = seedream_client_generate_save(
            client,
            json.as_ptr(),
            dir_text.as_ptr(),
            stem.as_ptr(),
            ptr::null(),
            &mut response,
            ptr::null_mut(),
        );
        let mut paths = Vec::new();
        if saved == seedream_result::Ok {
            for index in 0..seedream_response_image_count(response) {
                let path = seedream_response_image_path(response, index);
                if !path.is_null() {
                    paths.push(PathBuf::from(CStr::from_ptr(path).to_string_lossy().into_owned()));
                }
            }
        }
        seedream_response_free(response);
        seedream_client_free(client);
        if saved != seedream_result::Ok {
            return Err(format!("seedream_client_generate_save: {saved:?}"));
        }
        Ok(paths)
    }
}
