//! `seedream_model_list`: what the service lists at `GET {base}/models` (from
//! `seedream_client_list_models`): each model's id and, when it is not running normally, its status.

use std::ffi::{CString, c_char};

use seedream_types::ModelList;

use crate::ffi::{c_string, ffi_fn, free_c, try_ref};

/// The service's model listing. Owned by the caller, freed with `seedream_model_list_free`. Read-only:
/// it may be read from several threads at once.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct seedream_model_list {
    json: CString,
    ids: Vec<CString>,
    statuses: Vec<Option<CString>>,
}

impl seedream_model_list {
    pub(crate) fn new(list: &ModelList) -> Self {
        Self {
            json: c_string(serde_json::to_string(list).unwrap_or_default()),
            ids: list.data.iter().map(|model| c_string(model.id.as_str())).collect(),
            statuses: list.data.iter().map(|model| model.status.as_ref().map(|s| c_string(s.as_str()))).collect(),
        }
    }
}

/// The listing as the service sent it, as JSON (`{"object": "list", "data": [...]}`, unknown fields kept).
///
/// `list` is borrowed for the call only. The string is valid until `list` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_model_list_json(list: *const seedream_model_list) -> *const c_char {
    try_ref!(list).json.as_ptr()
}

/// How many models the listing holds.
///
/// `list` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_model_list_count(list: *const seedream_model_list) -> usize {
    try_ref!(list).ids.len()
}

/// The id of model `index`; NULL when `index` is out of range.
///
/// `list` is borrowed for the call only. The string is valid until `list` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_model_list_id(list: *const seedream_model_list, index: usize) -> *const c_char {
    try_ref!(list).ids.get(index).map_or(std::ptr::null(), |id| id.as_ptr())
}

/// The lifecycle status of model `index` as the service wrote it (`Retiring`, `Shutdown`, or a newer
/// word); NULL when the model runs normally or `index` is out of range.
///
/// `list` is borrowed for the call only. The string is valid until `list` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_model_list_status(list: *const seedream_model_list, index: usize) -> *const c_char {
    try_ref!(list).statuses.get(index).and_then(Option::as_ref).map_or(std::ptr::null(), |status| status.as_ptr())
}

/// Frees a listing and every string it lent out. NULL is a no-op.
///
/// Consumes `list`: it and everything borrowed from it are invalid afterwards.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_model_list_free(list: *mut seedream_model_list) {
    // SAFETY: the caller passes NULL or a listing from this library, once.
    unsafe { free_c(list) }
}
