//! The seam between the [`Client`](crate::Client) and the network: one object-safe trait that sends
//! an `http::Request` and returns an `http::Response` whose body arrives as a stream of chunks.
//!
//! [`HyperTransport`] is the real one; tests and hosts can plug in their own (see the `testing`
//! feature's recording transport).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;

pub(crate) mod hyper;
pub(crate) mod proxy;
mod scheme;

pub use self::hyper::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_POOL_MAX_IDLE_PER_HOST, HyperTransport,
    HyperTransportBuilder,
};
pub use self::proxy::{Proxy, strip_userinfo};
pub(crate) use self::scheme::check_scheme;

/// Sends one HTTP request and returns the response with its body still streaming.
///
/// Implementations must not retry on their own accord after the request may have reached the
/// server (the client decides about retries) and must not log header values (the `Authorization`
/// header carries the API key and is marked sensitive). A request comes without `Content-Length`:
/// write it from the body's exact size ([`RequestBody`]'s `size_hint`), as hyper does.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request`; returns once the response headers have arrived.
    async fn send(&self, request: http::Request<RequestBody>) -> Result<http::Response<ResponseBody>, TransportError>;
}

/// A request extension asking the transport for a new connection rather than a pooled one: set on
/// the retry of a download whose pooled connection the server had closed without saying so (a
/// stale keep-alive connection), so that the retry cannot land on another one. Transports without
/// a pool ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FreshConnection;

/// A request body held in full: cheap to clone, so each retry attempt rebuilds the request from it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequestBody {
    bytes: Bytes,
}

impl RequestBody {
    /// An empty body (for `GET`).
    pub fn empty() -> Self {
        Self::default()
    }

    /// The body's bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The body's bytes, by value.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl From<Bytes> for RequestBody {
    fn from(bytes: Bytes) -> Self {
        Self { bytes }
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        Self { bytes: bytes.into() }
    }
}

impl From<String> for RequestBody {
    fn from(text: String) -> Self {
        Self { bytes: text.into() }
    }
}

impl From<&'static str> for RequestBody {
    fn from(text: &'static str) -> Self {
        Self { bytes: Bytes::from_static(text.as_bytes()) }
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestBody({} bytes)", self.bytes.len())
    }
}

/// One data frame, then the end: lets hyper send the body with an exact `Content-Length`.
impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.bytes.is_empty() {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(http_body::Frame::data(std::mem::take(&mut this.bytes)))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.bytes.len() as u64)
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// A response body: a stream of byte chunks, ended by `None` or by an error.
///
/// Dropping it before the end closes the connection instead of returning it to the pool.
pub struct ResponseBody {
    inner: Chunks,
    size_hint: Option<u64>,
}

/// Where a body's chunks come from.
enum Chunks {
    /// hyper's body, the built-in transport's every answer: polled in place, no allocation.
    Incoming(BodyChunks<::hyper::body::Incoming>),
    /// Any other source, boxed.
    Stream(ChunkStream),
}

impl ResponseBody {
    /// A body from any stream of chunks.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        Self { inner: Chunks::Stream(Box::pin(stream)), size_hint: None }
    }

    /// A body held in memory, sent as one chunk.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let len = bytes.len() as u64;
        let chunk = if bytes.is_empty() { None } else { Some(Ok(bytes)) };
        Self { inner: Chunks::Stream(Box::pin(futures_util::stream::iter(chunk))), size_hint: Some(len) }
    }

    /// A body sent as the given chunks, in order (for tests of chunk boundaries).
    pub fn from_chunks<I>(chunks: I) -> Self
    where
        I: IntoIterator<Item = Bytes>,
        I::IntoIter: Send + 'static,
    {
        Self::from_stream(futures_util::stream::iter(chunks.into_iter().map(Ok)))
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::from_bytes(Bytes::new())
    }

    /// A body from an `http_body::Body` whose errors convert to [`TransportError`] (hyper's `Incoming`).
    pub fn from_body<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<TransportError>,
    {
        let size_hint = body.size_hint().exact();
        Self { inner: Chunks::Stream(Box::pin(BodyChunks { body })), size_hint }
    }

    /// hyper's body, held without a box (see [`from_body`](Self::from_body)).
    pub(crate) fn from_incoming(body: ::hyper::body::Incoming) -> Self {
        use http_body::Body as _;
        let size_hint = body.size_hint().exact();
        Self { inner: Chunks::Incoming(BodyChunks { body }), size_hint }
    }

    /// The body's length when the transport knows it in advance (`Content-Length`).
    pub fn size_hint(&self) -> Option<u64> {
        self.size_hint
    }

    /// Sets the known length (a transport that knows `Content-Length`).
    pub fn with_size_hint(mut self, len: Option<u64>) -> Self {
        self.size_hint = len;
        self
    }
}

impl Stream for ResponseBody {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.inner {
            Chunks::Incoming(chunks) => Pin::new(chunks).poll_next(cx),
            Chunks::Stream(stream) => stream.as_mut().poll_next(cx),
        }
    }
}

pin_project_lite::pin_project! {
    /// The data frames of an `http_body::Body` as a stream of non-empty chunks (trailers skipped):
    /// polled directly, in the one allocation of the [`ResponseBody`].
    struct BodyChunks<B> {
        #[pin]
        body: B,
    }
}

impl<B> Stream for BodyChunks<B>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<TransportError>,
{
    type Item = Result<Bytes, TransportError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut body = self.project().body;
        loop {
            match std::task::ready!(body.as_mut().poll_frame(cx)) {
                None => return Poll::Ready(None),
                Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => return Poll::Ready(Some(Ok(data))),
                    _ => continue, // an empty frame or trailers
                },
            }
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody").field("size_hint", &self.size_hint).finish_non_exhaustive()
    }
}

/// What kind of failure a [`TransportError`] is; decides whether a retry is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be opened (refused, DNS, TLS handshake): the request was not sent,
    /// so retrying is safe.
    Connect,
    /// Opening the connection took longer than the connect time limit (not sent; safe to retry).
    ConnectTimeout,
    /// The request cannot be sent as given (bad URL, plain `http://` to a non-loopback host).
    InvalidRequest,
    /// The connection failed after the request may have been sent (reset, protocol error, a body
    /// cut short): the service may have acted on it.
    Io,
    /// The proxy could not be reached, refused the tunnel or asked for credentials: the request did
    /// not reach the server. [`TransportError::proxy`] names the proxy (without credentials).
    Proxy,
    /// The transport's own settings are unusable (a PEM without a certificate, a proxy URL that is
    /// not `http://`): building it failed, nothing was sent.
    Config,
}

/// A failure below HTTP: connecting, TLS, a reset connection, a malformed response.
///
/// Its `Display` says what failed (`could not connect`, `connection failed: …`); what caused it (the
/// io error, the TLS alert) is its [`source`](std::error::Error::source) only, so that printing an
/// error chain names each cause once (`text::with_causes` prints it so).
#[derive(Debug, thiserror::Error)]
#[error("{}", self.text())]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    proxy: Option<String>,
    client_request_id: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// An error of `kind` with a message.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), proxy: None, client_request_id: None, source: None }
    }

    /// An error of `kind` caused by `source`, which stays the error's [`source`](std::error::Error::source)
    /// and not part of its message.
    pub fn with_source(kind: TransportErrorKind, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { kind, message: String::new(), proxy: None, client_request_id: None, source: Some(source.into()) }
    }

    /// The same error, naming the proxy it happened at (`http://host:port`, no credentials).
    pub fn with_proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxy = Some(proxy.into());
        self
    }

    /// The proxy the connection went to, for [`TransportErrorKind::Proxy`] errors.
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
    }

    /// The `X-Client-Request-Id` of the call that failed (set by the client, not the transport).
    pub fn client_request_id(&self) -> Option<&str> {
        self.client_request_id.as_deref()
    }

    pub(crate) fn set_client_request_id(&mut self, id: String) {
        self.client_request_id = Some(id);
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the request never left (connect failure, connect timeout, a proxy that could not be
    /// reached or refused the tunnel): safe to retry.
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::ConnectTimeout | TransportErrorKind::Proxy
        )
    }

    /// The error's own text, without the kind (empty for an error made by
    /// [`with_source`](Self::with_source): then all is in the cause).
    pub fn message(&self) -> &str {
        &self.message
    }

    fn text(&self) -> String {
        match self.message.as_str() {
            "" => self.kind_text().to_owned(),
            message => format!("{}: {message}", self.kind_text()),
        }
    }

    fn kind_text(&self) -> &'static str {
        match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::ConnectTimeout => "connect timed out",
            TransportErrorKind::InvalidRequest => "invalid request",
            TransportErrorKind::Io => "connection failed",
            TransportErrorKind::Proxy => "proxy failed",
            TransportErrorKind::Config => "invalid transport settings",
        }
    }
}

impl From<std::io::Error> for TransportError {
    fn from(error: std::io::Error) -> Self {
        TransportError::with_source(TransportErrorKind::Io, error)
    }
}

impl From<::hyper::Error> for TransportError {
    fn from(error: ::hyper::Error) -> Self {
        TransportError::with_source(TransportErrorKind::Io, error)
    }
}
