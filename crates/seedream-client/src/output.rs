//! [`Output`]: what a call gave — its value (a parsed response, a model listing) and the call's
//! [`ResponseMeta`] — so that the request id travels with the result, as in the AWS SDK's outputs.

use std::ops::{Deref, DerefMut};

use crate::meta::ResponseMeta;

/// A call's value with its meta. Derefs to the value, so `output.data` and `output.images()` read the
/// response as before; [`into_inner`](Self::into_inner) takes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Output<T> {
    /// What the call returned.
    pub value: T,
    /// Request id, client request id, status, attempts and whether the emulator answered.
    pub meta: ResponseMeta,
}

impl<T> Output<T> {
    /// `value` with the meta of the call that returned it.
    pub fn new(value: T, meta: ResponseMeta) -> Self {
        Output { value, meta }
    }

    /// The service's request id (`x-request-id`), when it sent one: what support asks for.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }

    /// The value, without the meta.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value and the meta.
    pub fn into_parts(self) -> (T, ResponseMeta) {
        (self.value, self.meta)
    }
}

impl<T> Deref for Output<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Output<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}
