//! A recording / replaying [`Transport`] for tests without a server (feature `testing`).
//!
//! Queue the replies the "service" should give, run your code against a [`Client`](crate::Client)
//! built with the transport, then inspect the exact requests it sent.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use std::sync::Arc;
//! use seedream_client::Client;
//! use seedream_client::testing::{RecordingTransport, Reply};
//! use seedream_types::{GenerateRequest, SEEDREAM_4_0};
//!
//! let transport = Arc::new(RecordingTransport::new());
//! transport.push(Reply::json(200, &serde_json::json!({"data": [{"url": "https://x/0.jpeg"}]})));
//! let client = Client::builder().api_key("k").transport(transport.clone()).build().unwrap();
//! let response = client.generate(&GenerateRequest::new(SEEDREAM_4_0, "a cat")).await.unwrap();
//! assert_eq!(response.data.len(), 1);
//! assert_eq!(transport.requests()[0].uri.path(), "/api/v3/images/generations");
//! # }
//! ```

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};

use crate::transport::{RequestBody, ResponseBody, Transport, TransportError, TransportErrorKind};

/// One request as the transport received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The full URI.
    pub uri: Uri,
    /// Every header (the `Authorization` value is marked sensitive and hidden by `Debug`).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// What the transport answers to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    outcome: Outcome,
    delay: Duration,
}

#[derive(Debug, Clone)]
enum Outcome {
    Response { status: StatusCode, headers: HeaderMap, chunks: Vec<Bytes>, stall_after_body: bool },
    Error(TransportErrorKind, String),
    Stall,
}

impl Reply {
    /// A response with this status and no body.
    pub fn status(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self {
            outcome: Outcome::Response {
                status,
                headers: HeaderMap::new(),
                chunks: Vec::new(),
                stall_after_body: false,
            },
            delay: Duration::ZERO,
        }
    }

    /// A JSON response (`Content-Type: application/json`).
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::status(status).header("content-type", "application/json").body(body.to_string())
    }

    /// A `text/event-stream` response whose body arrives as the given chunks.
    pub fn event_stream<I: IntoIterator<Item = S>, S: Into<Bytes>>(chunks: I) -> Self {
        Self::status(200).header("content-type", "text/event-stream").chunks(chunks)
    }

    /// A transport failure instead of a response.
    pub fn error(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self { outcome: Outcome::Error(kind, message.into()), delay: Duration::ZERO }
    }

    /// Never answers (to test the time-to-headers limit).
    pub fn stall() -> Self {
        Self { outcome: Outcome::Stall, delay: Duration::ZERO }
    }

    /// Adds a response header (ignored for errors and stalls; an invalid header is skipped).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Outcome::Response { headers, .. } = &mut self.outcome
            && let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value))
        {
            headers.append(name, value);
        }
        self
    }

    /// Sets the body, sent as one chunk.
    pub fn body(self, body: impl Into<Bytes>) -> Self {
        self.chunks([body.into()])
    }

    /// Sets the body, sent as these chunks.
    pub fn chunks<I: IntoIterator<Item = S>, S: Into<Bytes>>(mut self, new: I) -> Self {
        if let Outcome::Response { chunks, .. } = &mut self.outcome {
            *chunks = new.into_iter().map(Into::into).collect();
        }
        self
    }

    /// After the body, the connection stays open and silent instead of ending (a stalled body).
    pub fn then_stall(mut self) -> Self {
        if let Outcome::Response { stall_after_body, .. } = &mut self.outcome {
            *stall_after_body = true;
        }
        self
    }

    /// Waits this long before answering.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// Records every request and answers each with the next queued [`Reply`]; with none left it fails
/// with a [`TransportErrorKind::InvalidRequest`] error.
#[derive(Debug, Default)]
pub struct RecordingTransport {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

impl RecordingTransport {
    /// A transport with no replies queued.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a reply.
    pub fn push(&self, reply: Reply) -> &Self {
        lock(&self.replies).push_back(reply);
        self
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// How many replies are still queued.
    pub fn pending_replies(&self) -> usize {
        lock(&self.replies).len()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait::async_trait]
impl Transport for RecordingTransport {
    async fn send(&self, request: http::Request<RequestBody>) -> Result<http::Response<ResponseBody>, TransportError> {
        let (parts, body) = request.into_parts();
        lock(&self.requests).push(RecordedRequest {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body: body.into_bytes(),
        });
        let reply = lock(&self.replies).pop_front();
        let Some(reply) = reply else {
            return Err(TransportError::new(TransportErrorKind::InvalidRequest, "no reply queued"));
        };
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        match reply.outcome {
            Outcome::Error(kind, message) => Err(TransportError::new(kind, message)),
            Outcome::Stall => std::future::pending().await,
            Outcome::Response { status, headers, chunks, stall_after_body } => {
                let len: u64 = chunks.iter().map(|c| c.len() as u64).sum();
                let body = if stall_after_body {
                    let stream = futures_util::StreamExt::chain(
                        futures_util::stream::iter(chunks.into_iter().map(Ok)),
                        futures_util::stream::pending(),
                    );
                    ResponseBody::from_stream(stream)
                } else {
                    ResponseBody::from_chunks(chunks).with_size_hint(Some(len))
                };
                let mut response = http::Response::new(body);
                *response.status_mut() = status;
                *response.headers_mut() = headers;
                Ok(response)
            }
        }
    }
}
