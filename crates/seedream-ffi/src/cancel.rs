//! `seedream_cancel`: a token that stops long calls from another thread.

use std::sync::Arc;

use tokio::sync::watch;

use crate::ffi::{ffi_fn, free_c, into_c, try_ref};

/// A cancellation token. Pass it to `seedream_client_generate`, `_generate_stream` or `_edit`, and
/// call `seedream_cancel_cancel` from any thread to make those calls return
/// `SEEDREAM_RESULT_CANCELLED` promptly (the connection is closed). Once cancelled it stays
/// cancelled: later calls given it return `SEEDREAM_RESULT_CANCELLED` at once. One token may serve
/// several calls at the same time. Thread-safe. Owned by the caller, freed with
/// `seedream_cancel_free` once no thread uses it any more.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone)]
pub struct seedream_cancel {
    sender: Arc<watch::Sender<bool>>,
}

impl seedream_cancel {
    fn new() -> Self {
        Self { sender: Arc::new(watch::Sender::new(false)) }
    }

    /// Whether the token was cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        *self.sender.borrow()
    }

    /// Completes once the token is cancelled (at once if it already is).
    pub(crate) async fn cancelled(&self) {
        let mut receiver = self.sender.subscribe();
        // Only fails when the sender is gone, and this token holds it.
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }
}

/// A new token, not cancelled. Never NULL. Free it with `seedream_cancel_free`.
///
/// The caller owns the token: valid until freed with `seedream_cancel_free`.
#[ffi_fn]
#[unsafe(no_mangle)]
pub extern "C" fn seedream_cancel_new() -> *mut seedream_cancel {
    into_c(seedream_cancel::new())
}

/// Cancels every call that uses the token, now and later. Safe from any thread, also while those
/// calls run; calling it again does nothing. NULL is a no-op.
///
/// `cancel` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_cancel_cancel(cancel: *const seedream_cancel) {
    try_ref!(cancel).sender.send_replace(true);
}

/// Whether the token was cancelled. False when `cancel` is NULL.
///
/// `cancel` is borrowed for the call only.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_cancel_is_cancelled(cancel: *const seedream_cancel) -> bool {
    try_ref!(cancel).is_cancelled()
}

/// Frees a token. NULL is a no-op. No call may use the token any more, and no thread may cancel it.
///
/// Consumes `cancel`: it and everything borrowed from it are invalid afterwards.
#[ffi_fn]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seedream_cancel_free(cancel: *mut seedream_cancel) {
    // SAFETY: the caller passes NULL or a token from this library, once.
    unsafe { free_c(cancel) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_token_wakes_its_waiters() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let token = seedream_cancel_new();
        let shared = unsafe { &*token }.clone();
        let waiter = std::thread::spawn(move || {
            runtime
                .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(5), shared.cancelled()).await })
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        unsafe {
            assert!(!seedream_cancel_is_cancelled(token));
            seedream_cancel_cancel(token);
            assert!(seedream_cancel_is_cancelled(token));
        }
        assert!(waiter.join().unwrap().is_ok(), "the waiter was not woken");
        unsafe { seedream_cancel_free(token) };
    }
}
