//! `seedream_log_callback`: the client's tracing events (each call's request id, retries, time
//! limits, connections, downloads) handed to a C host's own log, one line per event.

use std::collections::HashMap;
use std::ffi::{CString, c_char, c_void};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The level of a log line, most severe first. Trace-level events (which carry the prompt) are never
/// passed to C.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum seedream_log_level {
    /// A call failed in a way the library could not handle.
    Error = 1,
    /// Something a host should look at.
    Warn = 2,
    /// Noteworthy progress.
    Info = 3,
    /// Each call's outcome (request id, status, attempts, bytes, time), retries, time limits,
    /// connections and downloads.
    Debug = 4,
}

/// Receives one log line: its level, the text (NUL-terminated UTF-8, valid only during the call:
/// copy what you keep) and the `user_data` given to `seedream_client_builder_set_log_callback`.
/// Called on the thread that made the call or on one of the client's worker threads, possibly from
/// several threads at once: it must be thread-safe, must not unwind (no C++ exceptions, no
/// `longjmp` out of it) and must not make blocking calls on any `seedream_client`.
#[allow(non_camel_case_types)]
pub type seedream_log_callback =
    Option<unsafe extern "C" fn(level: seedream_log_level, message: *const c_char, user_data: *mut c_void)>;

/// A host's callback and its data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogSink {
    callback: unsafe extern "C" fn(seedream_log_level, *const c_char, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the host promises (in the callback's documentation) that the callback and its data may be
// used from any thread.
unsafe impl Send for LogSink {}
// SAFETY: as above.
unsafe impl Sync for LogSink {}

impl LogSink {
    /// The sink of `callback`, or `None` for NULL (no logging).
    pub(crate) fn new(callback: seedream_log_callback, user_data: *mut c_void) -> Option<Self> {
        callback.map(|callback| Self { callback, user_data })
    }

    /// A dispatcher passing the client's events to this sink.
    pub(crate) fn dispatch(self) -> tracing::Dispatch {
        tracing::Dispatch::new(CallbackSubscriber { sink: self, spans: Mutex::default(), next: AtomicU64::new(1) })
    }
}

/// A span's text (`seedream.call{model="…" …}`) and how many handles to it are alive.
#[derive(Debug)]
struct SpanText {
    text: String,
    handles: usize,
}

/// Formats each event as `span{fields}: target: message fields` and calls the sink.
struct CallbackSubscriber {
    sink: LogSink,
    spans: Mutex<HashMap<u64, SpanText>>,
    next: AtomicU64,
}

impl CallbackSubscriber {
    fn spans(&self) -> std::sync::MutexGuard<'_, HashMap<u64, SpanText>> {
        self.spans.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Appends ` name=value` per field, the message first and bare.
struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = if field.name() == "message" {
            write!(self.0, " {value}")
        } else {
            write!(self.0, " {}={value:?}", field.name())
        };
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = if field.name() == "message" {
            write!(self.0, " {value:?}")
        } else {
            write!(self.0, " {}={value:?}", field.name())
        };
    }
}

impl Subscriber for CallbackSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::DEBUG
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut text = format!("{}{{", span.metadata().name());
        span.record(&mut Fields(&mut text));
        text.push('}');
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.spans().insert(id, SpanText { text: text.replacen("{ ", "{", 1), handles: 1 });
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let level = match *event.metadata().level() {
            Level::ERROR => seedream_log_level::Error,
            Level::WARN => seedream_log_level::Warn,
            Level::INFO => seedream_log_level::Info,
            _ => seedream_log_level::Debug,
        };
        let mut line = String::new();
        if let Some(parent) = event.parent()
            && let Some(span) = self.spans().get(&parent.into_u64())
        {
            line.push_str(&span.text);
            line.push_str(": ");
        }
        line.push_str(event.metadata().target());
        line.push(':');
        event.record(&mut Fields(&mut line));
        // A NUL inside a field would end the C string early: drop it.
        let Ok(message) = CString::new(line.replace('\0', "")) else { return };
        // SAFETY: the host gave this callback for this use; the message lives through the call.
        unsafe { (self.sink.callback)(level, message.as_ptr(), self.sink.user_data) };
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}

    fn clone_span(&self, id: &Id) -> Id {
        if let Some(span) = self.spans().get_mut(&id.into_u64()) {
            span.handles += 1;
        }
        id.clone()
    }

    fn try_close(&self, id: Id) -> bool {
        let mut spans = self.spans();
        let Some(span) = spans.get_mut(&id.into_u64()) else { return false };
        span.handles -= 1;
        if span.handles == 0 {
            spans.remove(&id.into_u64());
            return true;
        }
        false
    }
}
