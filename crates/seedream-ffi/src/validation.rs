//! `seedream_validation`: checking a generations request JSON against its model's rules, without
//! any network, and reading each violation's field path and message.

use std::ffi::c_char;

use seedream_types::GenerateRequest;
use seedream_types::check::{self, CheckError};

use crate::error::{FfiResult, seedream_error};
use crate::ffi::{arg_out, arg_str, ffi_fn, free_c, into_c, try_ref};
use crate::result::seedream_result;
use crate::violation::{Violations, violation_field};

/// Parses a generations request body without applying the model's rules (the client does, unless
/// told not to): text that is not JSON is `INVALID_JSON`; fields of the wrong JSON type are
/// `INVALID_REQUEST` with one violation each, as `seedream_request_validate` and the command line
/// report them (one checker, `seedream_types::check`).
pub(crate) fn parse_request(json: &str) -> FfiResult<GenerateRequest> {
    let value = serde_json::from_str(json).map_err(|e| not_json(&e.to_string()))?;
    check::parse_unchecked(value, None).map_err(|error| match error {
        CheckError::NotJson(reason) => not_json(&reason),
        CheckError::Invalid(invalid) => seedream_error::validation(&invalid),
    })
}

fn not_json(reason: &str) -> Box<seedream_error> {
    seedream_error::new(seedream_result::InvalidJson, format!("the request is not JSON: {reason}"))
}

/// The outcome of validating a request: every violated rule (none when the request is valid) and
/// every warning (advice, such as a prompt longer than advised). Owned by the caller, freed with
/// `seedream_validation_free`. Immutable: safe to read from several threads. Strings it returns
/// live as long as it does.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct seedream_validation {
    violations: Violations,
    warnings: Violations,
}

/// Validates a `POST /images/generations` request body (JSON, NUL-terminated UTF-8) against the
/// rules of its model family, without any network: sizes, image counts and formats (data URLs are
/// decoded and their headers read), group limits, fields each model takes.
///
/// Returns `SEEDREAM_RESULT_OK` when the JSON is a request (valid or not) and writes a new
/// `seedream_validation` to `*validation_out`; check it with `seedream_validation_is_valid`.
/// Returns `SEEDREAM_RESULT_INVALID_JSON` when the text is not JSON. JSON that is not a request
/// (not an object, fields of the wrong type, `model` missing) is reported as violations, with the
/// same field paths the command line gives (`prompt: must be a string, not a number`).
/// On failure, writes an error to `*error_out` when `error_out` is not NULL.
///
/// `request_json` is borrowed for the call only. `*validation_out` is the caller's, freed with
/// `seedream_validation_free`. `*error_out` is the caller's, freed with `seedream_error_free`.
#[ffi_fn(error_out)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_request_validate(
    request_json: *const c_char,
    validation_out: *mut *mut seedream_validation,
    error_out: *mut *mut seedream_error,
) -> seedream_result {
    // SAFETY: the caller passes NULL or a NUL-terminated string.
    let json = unsafe { arg_str(request_json, "request_json") }?;
    let validation_out = arg_out(validation_out, "validation_out")?;
    let validation = match check::check_text(json, None) {
        Ok(checked) => {
            seedream_validation { violations: Violations::default(), warnings: Violations::new(&checked.warnings) }
        }
        Err(CheckError::Invalid(error)) => seedream_validation {
            violations: Violations::new(&error.violations),
            warnings: Violations::new(&error.warnings),
        },
        Err(CheckError::NotJson(reason)) => return Err(not_json(&reason)),
    };
    validation_out.write(into_c(validation));
    Ok(())
}

/// Whether the request breaks no rule (warnings do not count). False when `validation` is NULL.
///
/// `validation` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_is_valid(validation: *const seedream_validation) -> bool {
    try_ref!(validation).violations.len() == 0
}

/// How many rules the request breaks.
///
/// `validation` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_violation_count(validation: *const seedream_validation) -> usize {
    try_ref!(validation).violations.len()
}

/// The field path of violation `index`, such as `size`, `image[3]` or
/// `sequential_image_generation_options.max_images`; NULL when `index` is out of range.
///
/// `validation` is borrowed for the call only. The string is valid until `validation` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_violation_field(
    validation: *const seedream_validation,
    index: usize,
) -> *const c_char {
    violation_field(&try_ref!(validation).violations, index, |v| &v.field)
}

/// The rule violation `index` breaks, as a short word: `required`, `range`, `value`, `unsupported`,
/// `size`, `count`, `image` or `length`; NULL when `index` is out of range.
///
/// `validation` is borrowed for the call only. The string is valid until `validation` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_violation_code(
    validation: *const seedream_validation,
    index: usize,
) -> *const c_char {
    violation_field(&try_ref!(validation).violations, index, |v| &v.code)
}

/// The message of violation `index`: the rule and the accepted values, in English; NULL when
/// `index` is out of range.
///
/// `validation` is borrowed for the call only. The string is valid until `validation` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_violation_message(
    validation: *const seedream_validation,
    index: usize,
) -> *const c_char {
    violation_field(&try_ref!(validation).violations, index, |v| &v.message)
}

/// How many warnings (advice that does not make the request invalid).
///
/// `validation` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_warning_count(validation: *const seedream_validation) -> usize {
    try_ref!(validation).warnings.len()
}

/// The field path of warning `index`; NULL when `index` is out of range.
///
/// `validation` is borrowed for the call only. The string is valid until `validation` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_warning_field(
    validation: *const seedream_validation,
    index: usize,
) -> *const c_char {
    violation_field(&try_ref!(validation).warnings, index, |v| &v.field)
}

/// The message of warning `index`; NULL when `index` is out of range.
///
/// `validation` is borrowed for the call only. The string is valid until `validation` is freed.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_warning_message(
    validation: *const seedream_validation,
    index: usize,
) -> *const c_char {
    violation_field(&try_ref!(validation).warnings, index, |v| &v.message)
}

/// Frees a validation result. NULL is a no-op.
///
/// Consumes `validation`: it and everything borrowed from it are invalid afterwards.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_validation_free(validation: *mut seedream_validation) {
    // SAFETY: the caller passes NULL or a validation from this library, once.
    unsafe { free_c(validation) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr::{null, null_mut};

    fn text(ptr: *const c_char) -> String {
        unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn reports_every_violation_with_its_field_path() {
        let json = c"{\"model\":\"doubao-seedream-4-5-251128\",\"prompt\":\"p\",\"size\":\"1K\",\"seed\":3}";
        let mut validation = null_mut();
        let code = unsafe { seedream_request_validate(json.as_ptr(), &mut validation, null_mut()) };
        assert_eq!(code, seedream_result::Ok);
        unsafe {
            assert!(!seedream_validation_is_valid(validation));
            assert_eq!(seedream_validation_violation_count(validation), 2);
            let fields: Vec<_> = (0..2).map(|i| text(seedream_validation_violation_field(validation, i))).collect();
            assert_eq!(fields, ["size", "seed"]);
            assert_eq!(text(seedream_validation_violation_code(validation, 0)), "size");
            assert!(text(seedream_validation_violation_message(validation, 0)).contains("2K"));
            assert!(seedream_validation_violation_field(validation, 2).is_null());
            seedream_validation_free(validation);
        }
    }

    #[test]
    fn invalid_json_is_an_error_and_leaves_the_output_alone() {
        let mut validation = null_mut();
        let mut error = null_mut();
        let code = unsafe { seedream_request_validate(c"{\"model\":".as_ptr(), &mut validation, &mut error) };
        assert_eq!(code, seedream_result::InvalidJson);
        assert!(validation.is_null());
        unsafe {
            assert_eq!(crate::error::seedream_error_code(error), seedream_result::InvalidJson);
            assert!(text(crate::error::seedream_error_message(error)).contains("EOF"));
            crate::error::seedream_error_free(error);
        }
        assert_eq!(
            unsafe { seedream_request_validate(null(), &mut validation, null_mut()) },
            seedream_result::NullParameter
        );
        assert_eq!(unsafe { seedream_validation_violation_count(null()) }, 0);
    }
}
