//! The violations (or warnings) of a request as C strings, lent out by both `seedream_error` and
//! `seedream_validation`.

use std::ffi::{CString, c_char};

use seedream_types::Violation;

use crate::ffi::c_string;

/// One violation (or warning) as C strings.
#[derive(Debug)]
pub(crate) struct CViolation {
    pub(crate) field: CString,
    pub(crate) code: CString,
    pub(crate) message: CString,
}

/// A list of violations, kept as C strings so accessors can lend them out.
#[derive(Debug, Default)]
pub(crate) struct Violations(Vec<CViolation>);

impl Violations {
    pub(crate) fn new(list: &[Violation]) -> Self {
        Self(
            list.iter()
                .map(|v| CViolation {
                    field: c_string(v.field.as_str()),
                    code: c_string(v.code),
                    message: c_string(v.message.as_str()),
                })
                .collect(),
        )
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// One field of violation `index`, or NULL when out of range.
pub(crate) fn violation_field(list: &Violations, index: usize, field: fn(&CViolation) -> &CString) -> *const c_char {
    list.0.get(index).map_or(std::ptr::null(), |v| field(v).as_ptr())
}
