//! The boundary every exported function goes through: [`ffi_fn`] catches panics (nothing unwinds
//! into C) and turns errors into a result code plus an optional error object; the `arg_*` helpers
//! check pointers for NULL and strings for UTF-8 before any use.

use std::any::Any;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{FfiResult, seedream_error};
use crate::result::seedream_result;

/// The attribute every export carries: `#[ffi_fn]` (an accessor: a panic returns its [`Sentinel`]),
/// `#[ffi_fn(error_out)]` (a fallible call writing an error object to `error_out`) or
/// `#[ffi_fn(result)]` (a fallible call without one). It puts the whole body behind the panic
/// boundary, through [`infallible`] or [`fallible`]; see the `seedream-ffi-macros` crate.
pub(crate) use seedream_ffi_macros::ffi_fn;

/// Inside a `#[ffi_fn]` accessor: borrows `*ptr`, or returns the function's NULL sentinel when `ptr` is NULL.
macro_rules! try_ref {
    ($ptr:expr) => {
        match unsafe { $ptr.as_ref() } {
            Some(value) => value,
            None => return $crate::ffi::Sentinel::on_null(),
        }
    };
}

pub(crate) use try_ref;

/// `#[ffi_fn(result)]`: the `error_out` of fallible functions without an `error_out` parameter
/// (setters and accessors, whose result code says all).
pub(crate) const NO_ERROR_OUT: *mut *mut seedream_error = std::ptr::null_mut();

/// The value an infallible function returns when an argument is NULL or the body panicked.
pub(crate) trait Sentinel {
    /// Returned when a required pointer is NULL.
    fn on_null() -> Self;
    /// Returned after a panic was caught.
    fn on_panic() -> Self;
}

impl Sentinel for seedream_result {
    fn on_null() -> Self {
        seedream_result::NullParameter
    }
    fn on_panic() -> Self {
        seedream_result::Panic
    }
}

impl<T> Sentinel for *const T {
    fn on_null() -> Self {
        std::ptr::null()
    }
    fn on_panic() -> Self {
        std::ptr::null()
    }
}

impl<T> Sentinel for *mut T {
    fn on_null() -> Self {
        std::ptr::null_mut()
    }
    fn on_panic() -> Self {
        std::ptr::null_mut()
    }
}

macro_rules! zero_sentinel {
    ($($ty:ty),*) => {$(
        impl Sentinel for $ty {
            fn on_null() -> Self {
                Default::default()
            }
            fn on_panic() -> Self {
                Default::default()
            }
        }
    )*};
}

zero_sentinel!((), bool, u16, u32, u64, usize);

/// The fallible form of [`ffi_fn`]: runs `body`, turning its error or panic into a result code and,
/// when `error_out` is not NULL, an error object written there.
pub(crate) fn fallible(error_out: *mut *mut seedream_error, body: impl FnOnce() -> FfiResult<()>) -> seedream_result {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(seedream_error::panic(&*payload)));
    match outcome {
        Ok(()) => seedream_result::Ok,
        Err(error) => {
            let code = error.code();
            if !error_out.is_null() {
                // SAFETY: the caller passes NULL or a valid place for one pointer.
                unsafe { error_out.write(Box::into_raw(error)) };
            }
            code
        }
    }
}

/// The infallible form of [`ffi_fn`]: runs `body`, returning its sentinel after a panic.
pub(crate) fn infallible<T: Sentinel>(body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| T::on_panic())
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "a panic without a message"
    }
}

/// Borrows a required object.
///
/// # Safety
/// `ptr` is NULL or points to a live `T`.
pub(crate) unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: per this function's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| seedream_error::null_parameter(name))
}

/// Borrows a required object mutably.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` nobody else uses during the call.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: per this function's contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| seedream_error::null_parameter(name))
}

/// Borrows a required NUL-terminated UTF-8 string.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that lives for the call.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(seedream_error::null_parameter(name));
    }
    // SAFETY: not NULL, and NUL-terminated per this function's contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|e| seedream_error::invalid_argument(format!("{name} is not valid UTF-8: {e}")))
}

/// Borrows a buffer of `len` bytes; NULL is accepted only with `len` 0 (an empty buffer).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that live for the call.
pub(crate) unsafe fn arg_bytes<'a>(ptr: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 { Ok(&[]) } else { Err(seedream_error::null_parameter(name)) };
    }
    // SAFETY: not NULL, `len` readable bytes per this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Checks a required output parameter; write to it only once the call has succeeded.
pub(crate) fn arg_out<T>(ptr: *mut T, name: &str) -> FfiResult<OutPtr<T>> {
    if ptr.is_null() { Err(seedream_error::null_parameter(name)) } else { Ok(OutPtr(ptr)) }
}

/// A checked, non-NULL output parameter.
pub(crate) struct OutPtr<T>(*mut T);

impl<T> OutPtr<T> {
    /// Writes the output (the last step of a successful call).
    pub(crate) fn write(self, value: T) {
        // SAFETY: checked non-NULL in `arg_out`; the caller passes a valid place for one `T`.
        unsafe { self.0.write(value) }
    }
}

/// Hands an object to C: the caller now owns it and frees it with its `_free` function.
pub(crate) fn into_c<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back an object given to C with [`into_c`] and drops it; NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or came from [`into_c`] and was not freed before.
pub(crate) unsafe fn free_c<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: per this function's contract.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// A C string for text that may hold NUL bytes (service messages): those become U+FFFD.
pub(crate) fn c_string(text: impl Into<String>) -> CString {
    let text = text.into();
    CString::new(text).unwrap_or_else(|e| {
        let cleaned = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{FFFD}");
        CString::new(cleaned).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::seedream_error_message;

    fn sample(fail: bool, boom: bool, error_out: *mut *mut seedream_error) -> seedream_result {
        fallible(error_out, move || {
            if boom {
                panic!("boom {}", 42);
            }
            if fail {
                return Err(seedream_error::invalid_argument("bad"));
            }
            Ok(())
        })
    }

    fn accessor(value: *const u32, boom: bool) -> u32 {
        infallible(move || {
            let value = try_ref!(value);
            if boom {
                panic!("boom");
            }
            *value + 1
        })
    }

    #[test]
    fn panics_become_a_result_code_and_an_error_object() {
        let mut error: *mut seedream_error = std::ptr::null_mut();
        assert_eq!(sample(false, false, &mut error), seedream_result::Ok);
        assert!(error.is_null());
        assert_eq!(sample(false, true, std::ptr::null_mut()), seedream_result::Panic);
        assert_eq!(sample(false, true, &mut error), seedream_result::Panic);
        let message = unsafe { CStr::from_ptr(seedream_error_message(error)) }.to_str().unwrap().to_owned();
        assert!(message.contains("boom 42"), "{message}");
        unsafe { crate::error::seedream_error_free(error) };
        assert_eq!(sample(true, false, std::ptr::null_mut()), seedream_result::InvalidArgument);
    }

    #[test]
    fn accessors_return_their_sentinel_for_null_and_panics() {
        let seven = 7u32;
        assert_eq!(accessor(&seven, false), 8);
        assert_eq!(accessor(std::ptr::null(), false), 0);
        assert_eq!(accessor(&seven, true), 0);
    }

    #[test]
    fn nul_bytes_in_text_do_not_truncate_or_fail() {
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a\u{FFFD}b");
        assert_eq!(c_string("plain").to_str().unwrap(), "plain");
    }
}
