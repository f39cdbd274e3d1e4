//! Async client for the Seedream / SeedEdit image API (Volcengine Ark and OpenAI-style relays).
//!
//! - [`Client`]: `generate` and `edit`, each an [`ImagesCall`] whose output is picked — the parsed
//!   response (`.await`), the images' bytes (`.bytes()`), files in a folder (`.save_to(dir, stem)`)
//!   or the events (`.stream()`) — with the call's [`ResponseMeta`] on every output; image bytes and
//!   downloads ([`ImageBytes`]: the bytes with their real format, and [`save_image`] naming files
//!   after it); request validation, retries (backoff with full jitter, `Retry-After`), per-phase time
//!   limits and one error type ([`Error`]) a caller can act on.
//! - [`Transport`]: the swappable HTTP layer; [`HyperTransport`] (hyper + rustls) is the default,
//!   and the `testing` feature adds a recording/replaying one.
//! - [`sse`]: a standalone server-sent-events decoder. Large `b64_json` responses are decoded
//!   as they arrive ([`ImagesCall::bytes`] into memory, [`ImagesCall::save_to`] into files), or each
//!   in its own memory ([`Client::into_image_bytes`]).
//!
//! The models (requests, responses, events, validation) come from [`seedream_types`].

#![warn(missing_docs)]

mod api_error;
mod b64;
mod body;
mod builder;
mod call;
mod client;
mod config;
mod deadline;
mod error;
mod image;
mod in_memory;
mod meta;
mod output;
mod request_id;
mod retry;
mod save;
mod send;
mod staged;
mod stream;

// Public only so that fuzz/ and the benches can reach them; not part of the API.
#[doc(hidden)]
pub mod decode;
#[doc(hidden)]
pub mod multipart;
pub mod sse;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod transport;

pub use builder::{
    ARK_BASE_URL, ClientBuilder, DEFAULT_MAX_PARALLEL_DOWNLOADS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_USER_AGENT,
};
pub use call::ImagesCall;
pub use client::Client;
pub use config::{DEFAULT_CALL_DEADLINE, EditMode, Timeouts};
pub use error::{ApiError, CallPhase, Error, TimeoutPhase};
pub use image::{ImageBytes, UNKNOWN_EXTENSION};
pub use in_memory::GeneratedBytes;
pub use meta::ResponseMeta;
pub use output::Output;
pub use request_id::new_client_request_id;
pub use retry::RetryPolicy;
pub use save::{SaveOptions, SavedFile, SavedResponse, save_atomically, save_image, save_image_with};
pub use staged::{StagedImage, StagedResponse};
pub use stream::ImageStream;
pub use transport::{
    FreshConnection, HyperTransport, HyperTransportBuilder, Proxy, RequestBody, ResponseBody, Transport,
    TransportError, TransportErrorKind,
};

pub use seedream_types;

/// Every ```rust block of the README compiles (and runs, unless marked `no_run`) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    /// What hosts rely on: a client shared across tasks and threads, streams moved into tasks.
    #[test]
    fn public_types_can_cross_threads() {
        fn shared<T: Send + Sync + Clone + 'static>() {}
        fn movable<T: Send + Unpin + 'static>() {}
        shared::<crate::Client>();
        shared::<crate::HyperTransport>();
        movable::<crate::ImageStream>();
        movable::<crate::ResponseBody>();
        movable::<crate::Error>();
        fn error<T: std::error::Error + Send + Sync + 'static>() {}
        error::<crate::Error>();
        error::<crate::TransportError>();
    }
}
