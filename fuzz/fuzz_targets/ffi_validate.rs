//! The C ABI's request-JSON entry point, called as a C host would: any bytes (as a NUL-terminated
//! string) give a result code and objects that read and free cleanly, never a panic or unwind.
#![no_main]

use std::ffi::{CStr, CString};
use std::ptr;

use libfuzzer_sys::fuzz_target;
use seedream::error::{seedream_error_code, seedream_error_free, seedream_error_message};
use seedream::validation::{
    seedream_request_validate, seedream_validation_free, seedream_validation_violation_count,
    seedream_validation_violation_field, seedream_validation_violation_message,
};

fuzz_target!(|bytes: &[u8]| {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let json = CString::new(&bytes[..end]).expect("no interior NUL");
    let mut validation = ptr::null_mut();
    let mut error = ptr::null_mut();
    // SAFETY: a valid C string and valid out-pointers, as the header documents.
    unsafe {
        let result = seedream_request_validate(json.as_ptr(), &mut validation, &mut error);
        if validation.is_null() {
            assert!(!error.is_null(), "a failed call reports an error");
            assert_eq!(seedream_error_code(error), result);
            let _ = CStr::from_ptr(seedream_error_message(error)).to_bytes().len();
        } else {
            for i in 0..seedream_validation_violation_count(validation) {
                let _ = CStr::from_ptr(seedream_validation_violation_field(validation, i)).to_bytes();
                let _ = CStr::from_ptr(seedream_validation_violation_message(validation, i)).to_bytes();
            }
            // Out of range reads are refused, not undefined behaviour.
            let past = seedream_validation_violation_count(validation);
            assert!(seedream_validation_violation_field(validation, past).is_null());
        }
        seedream_validation_free(validation);
        seedream_error_free(error);
    }
});
