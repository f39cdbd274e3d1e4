//! Sending one call: the request rebuilt for each attempt, retries as the policy allows, the
//! per-attempt time limits, and an error answer read into an [`ApiError`](crate::ApiError).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Uri};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::api_error;
use crate::body::BodyReader;
use crate::config::Timeouts;
use crate::error::{CallPhase, Error, TimeoutPhase};
use crate::meta::ResponseMeta;
use crate::request_id::{CLIENT_REQUEST_ID, new_client_request_id_value};
use crate::retry::RetryPolicy;
use crate::text::Redactor;
use crate::transport::{FreshConnection, RequestBody, ResponseBody, Transport, TransportErrorKind};

/// The `Content-Length` of an answer (0 when it states none: a stream, a chunked body).
fn content_length(headers: &HeaderMap) -> u64 {
    headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// How much of an error body is kept for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// What every request of a client carries and how it is sent: the transport, the credentials and
/// headers, the time limits and the retry policy.
pub(crate) struct Sender {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: HeaderValue,
    /// Extra headers for API requests (and downloads from the API's own host).
    pub(crate) headers: HeaderMap,
    pub(crate) max_response_bytes: u64,
    pub(crate) auth: HeaderValue,
    /// Applied to what comes with every answer (its request id) as it arrives.
    pub(crate) redactor: Redactor,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("transport", &self.transport)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("extra_headers", &self.headers.keys().collect::<Vec<_>>())
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// A request to send, rebuilt for each attempt.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) uri: &'a Uri,
    pub(crate) content_type: Option<HeaderValue>,
    /// `Accept`, when the call names what it takes.
    pub(crate) accept: Option<&'static str>,
    pub(crate) body: RequestBody,
    /// Send the key and the extra headers (API calls, and downloads from the API's own host).
    pub(crate) authorized: bool,
    /// An image download rather than an API call (names the phase of a timeout).
    pub(crate) download: bool,
    /// `X-Client-Request-Id`, the same on every attempt (API calls; `None` for downloads).
    pub(crate) client_request_id: Option<HeaderValue>,
    /// The model asked for, for the call's span (empty for downloads and listings).
    pub(crate) model: &'a str,
}

impl Call<'_> {
    /// `error` naming this call's `X-Client-Request-Id`.
    pub(crate) fn name(&self, error: Error) -> Error {
        error.with_client_request_id(self.client_request_id.as_ref().and_then(|id| id.to_str().ok()))
    }
}

/// A successful response, its body not yet read.
pub(crate) struct Answer {
    pub(crate) headers: HeaderMap,
    pub(crate) reader: BodyReader,
    pub(crate) meta: ResponseMeta,
    /// The body is server-sent events.
    event_stream: bool,
}

impl Answer {
    /// Whether the body is server-sent events.
    pub(crate) fn is_event_stream(&self) -> bool {
        self.event_stream
    }
}

impl Sender {
    /// The `X-Client-Request-Id` of a new call: the caller's own when its extra headers set one,
    /// else a new one in the official SDKs' form.
    pub(crate) fn client_request_id(&self) -> HeaderValue {
        // An empty map is still hashed into by `get`: most clients set no extra headers.
        let own = if self.headers.is_empty() { None } else { self.headers.get(CLIENT_REQUEST_ID) };
        own.map_or_else(new_client_request_id_value, HeaderValue::clone)
    }

    /// Sends `call`, retrying as the policy allows, until a `2xx` answer or an error that stays.
    ///
    /// Traced as one `seedream.call` span (model, endpoint, client request id, request bytes) with a
    /// closing event naming the request id, status, attempts, answer bytes and time; never a header
    /// value.
    pub(crate) async fn execute(&self, call: &Call<'_>, deadline: Option<Instant>) -> Result<Answer, Error> {
        let client_request_id = call.client_request_id.as_ref().and_then(|id| id.to_str().ok()).unwrap_or("");
        let span = tracing::debug_span!(
            "seedream.call",
            model = call.model,
            endpoint = call.uri.path(),
            client_request_id,
            request_bytes = call.body.len() as u64,
        );
        if span.is_disabled() {
            return self.attempts(call, deadline).await.0; // no clock reads for a trace nobody takes
        }
        let started = Instant::now();
        // Boxed: a traced call is rare, and the span would widen every call's future.
        let (result, attempts) = Box::pin(self.attempts(call, deadline).instrument(span.clone())).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(answer) => tracing::debug!(
                parent: &span,
                request_id = answer.meta.request_id.as_deref().unwrap_or(""),
                status = answer.meta.status,
                attempts,
                response_bytes = content_length(&answer.headers),
                elapsed_ms,
                "answered"
            ),
            Err(error) => tracing::debug!(
                parent: &span,
                request_id = error.request_id().unwrap_or(""),
                status = error.api().map_or(0, |api| api.status),
                attempts,
                elapsed_ms,
                error = %error,
                "failed"
            ),
        }
        result
    }

    async fn attempts(&self, call: &Call<'_>, deadline: Option<Instant>) -> (Result<Answer, Error>, u32) {
        let policy = &self.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (error, wait_hint) = match self.attempt(call, deadline, attempt, false).await {
                Ok(answer) => return (Ok(answer), attempt),
                Err(error) => {
                    let hint = error.api().and_then(|api| api.retry_after);
                    (error, hint)
                }
            };
            if attempt >= policy.max_attempts || !error.is_retryable() {
                return (Err(call.name(error)), attempt);
            }
            let delay = policy.delay(attempt, wait_hint);
            if deadline.is_some_and(|at| Instant::now() + delay >= at) {
                tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "no retry: the deadline comes first");
                return (Err(call.name(error)), attempt); // waiting would only run into the deadline
            }
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// Downloads `call` (a `GET` of an image link: safe to repeat) in full: the headers and the body.
    ///
    /// Beyond what [`execute`](Self::execute) retries, a connection that failed after the request
    /// went out (reset, closed before the answer, a body cut short) is retried too, within the
    /// policy's attempts and the deadline. The first such failure is retried at once on a new
    /// connection and does not count as an attempt: it is most likely a pooled keep-alive connection
    /// that the server had closed without saying so, and the pool may hold more of them.
    pub(crate) async fn download(
        &self,
        call: &Call<'_>,
        deadline: Option<Instant>,
    ) -> Result<(HeaderMap, Bytes, ResponseMeta), Error> {
        // A pre-signed link's query is its signature, a credential: never traced.
        let span =
            tracing::debug_span!("seedream.download", link = crate::text::link_without_query(&call.uri.to_string()));
        let started = Instant::now();
        let (result, attempts) = self.download_attempts(call, deadline).instrument(span.clone()).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok((_, bytes, meta)) => {
                tracing::debug!(parent: &span, status = meta.status, attempts, bytes = bytes.len() as u64, elapsed_ms, "downloaded")
            }
            Err(error) => tracing::debug!(parent: &span, attempts, elapsed_ms, error = %error, "download failed"),
        }
        result
    }

    async fn download_attempts(
        &self,
        call: &Call<'_>,
        deadline: Option<Instant>,
    ) -> (Result<(HeaderMap, Bytes, ResponseMeta), Error>, u32) {
        let policy = &self.retry;
        let (mut attempt, mut sent) = (0, 0);
        let mut fresh = false;
        loop {
            attempt += 1;
            sent += 1;
            let result = async {
                let answer = self.attempt(call, deadline, sent, fresh).await?;
                let bytes = answer.reader.read_all().await?;
                Ok((answer.headers, bytes, answer.meta))
            };
            let error = match result.await {
                Ok(done) => return (Ok(done), sent),
                Err(error) => error,
            };
            let broken = matches!(&error, Error::Transport(transport) if transport.kind() == TransportErrorKind::Io);
            if broken && !fresh {
                tracing::debug!(error = %error, "the connection broke: retrying at once on a new one");
                attempt -= 1; // a stale pooled connection: not the server failing
                fresh = true;
                continue;
            }
            if attempt >= policy.max_attempts || !(error.is_retryable() || broken) {
                return (Err(error), sent);
            }
            fresh = broken;
            let delay = policy.delay(attempt, error.api().and_then(|api| api.retry_after));
            if deadline.is_some_and(|at| Instant::now() + delay >= at) {
                return (Err(error), sent);
            }
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying the download");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        call: &Call<'_>,
        deadline: Option<Instant>,
        attempt: u32,
        fresh: bool,
    ) -> Result<Answer, Error> {
        // One timer for the wait for the headers: their own limit, or the call's deadline when that
        // comes first.
        let waiting = if call.download { CallPhase::Download } else { CallPhase::Headers };
        let headers_at = Instant::now() + self.timeouts.headers;
        let (limit, phase) = match deadline {
            Some(at) if at <= headers_at => (at, TimeoutPhase::Overall),
            _ => (headers_at, TimeoutPhase::Headers),
        };
        // The request is built by a plain function: a local borrowed in an `async fn` would keep its
        // place in the call's future across every `.await`.
        let sent = tokio::time::timeout_at(limit, self.transport.send(self.request(call, fresh))).await;
        let response = match sent {
            Err(_) => {
                tracing::debug!(limit = %phase, during = %waiting, attempt, "time limit reached");
                return Err(Error::timeout(phase, waiting));
            }
            Ok(Err(error)) if error.kind() == TransportErrorKind::ConnectTimeout => {
                tracing::debug!(limit = %TimeoutPhase::Connect, attempt, "time limit reached");
                return Err(Error::timeout(TimeoutPhase::Connect, CallPhase::Connect));
            }
            Ok(Err(error)) => return Err(Error::Transport(error)),
            Ok(Ok(response)) => response,
        };
        // Boxed, the answer with it: the rare path stays out of every call's future.
        let refused = match self.answer(response, call, deadline, attempt) {
            answer if (200..300).contains(&answer.meta.status) => return Ok(answer),
            refused => refusal(refused),
        };
        Err(refused.await)
    }

    /// The request of one attempt of `call` (on a new connection when `fresh`).
    fn request(&self, call: &Call<'_>, fresh: bool) -> http::Request<RequestBody> {
        let mut request = http::Request::new(call.body.clone());
        if fresh {
            request.extensions_mut().insert(FreshConnection);
        }
        *request.method_mut() = call.method.clone();
        *request.uri_mut() = call.uri.clone();
        let headers = request.headers_mut();
        // No `reserve`: a JSON call's four headers and what hyper adds (`Host`, `Content-Length`) fit
        // the map's first allocation, where room for more would take a larger, slower one.
        headers.insert(USER_AGENT, self.user_agent.clone());
        if let Some(accept) = call.accept {
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
        }
        if call.authorized {
            if !self.headers.is_empty() {
                for name in self.headers.keys() {
                    headers.remove(name); // the caller's value replaces the client's
                }
                for (name, value) in &self.headers {
                    headers.append(name, value.clone());
                }
            }
            headers.insert(AUTHORIZATION, self.auth.clone());
        }
        // After the extra headers: the call's id (a handle's own) wins over theirs.
        if let Some(id) = &call.client_request_id {
            headers.insert(CLIENT_REQUEST_ID, id.clone());
        }
        // `Content-Length` is the transport's to write from the body's exact size (hyper does).
        if let Some(content_type) = &call.content_type {
            headers.insert(CONTENT_TYPE, content_type.clone());
        }
        request
    }

    /// The answer to one attempt: its meta (request id redacted) and its body under the limits.
    fn answer(
        &self,
        response: http::Response<ResponseBody>,
        call: &Call<'_>,
        deadline: Option<Instant>,
        attempt: u32,
    ) -> Answer {
        let (parts, body) = response.into_parts();
        let (mut meta, event_stream) =
            ResponseMeta::of(parts.status, &parts.headers, attempt, call.client_request_id.as_ref());
        self.redactor.meta(&mut meta);
        let reading = if call.download { CallPhase::Download } else { CallPhase::Body };
        let reader = BodyReader::new(body, Some(self.timeouts.idle), deadline, self.max_response_bytes, reading);
        Answer { headers: parts.headers, reader, meta, event_stream }
    }
}

/// The error an answer other than `2xx` stands for, read from (the start of) its body.
fn refusal(answer: Answer) -> Pin<Box<dyn Future<Output = Error> + Send>> {
    Box::pin(async move {
        let body = answer.reader.read_prefix(ERROR_BODY_LIMIT).await;
        let status = http::StatusCode::from_u16(answer.meta.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        api_error::from_answer(status, &answer.headers, &body).into()
    })
}
