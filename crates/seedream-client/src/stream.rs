//! [`ImageStream`]: the events of a `stream: true` generation, decoded from server-sent events.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use seedream_types::stream::DONE_MARKER;
use seedream_types::{ImagesResponse, StreamEvent, StreamGatherer};

use crate::api_error;
use crate::body::BodyReader;
use crate::error::{CallPhase, Error};
use crate::meta::ResponseMeta;
use crate::sse::{SseDecoder, SseEvent};
use crate::text::Redactor;
use crate::transport::{TransportError, TransportErrorKind};

/// A stream of [`StreamEvent`]s, one per image, then `Completed`.
///
/// - ends (`None`) after `data: [DONE]`, or when the body ends after `Completed`;
/// - a `PartialFailed` image is an item, and the stream goes on;
/// - an in-stream error (`data: {"error": …}`) is an `Err(Error::Api)` item, after which the stream ends;
/// - a body that ends before `Completed`/`[DONE]` is an `Err` item, never a silent end;
/// - stalls are `Err(Error::Timeout { phase: Idle, during: Stream })` (or `Overall`: keep-alive
///   comments reset the idle timer, only a deadline ends a stream that sends nothing else);
/// - the client's secrets (API key, proxy credentials) are redacted from every server text.
///
/// After an `Err` item the stream ends. Dropping it closes the connection.
pub struct ImageStream {
    source: Source,
    queue: VecDeque<SseEvent>,
    ended: bool,
    completed: bool,
    meta: ResponseMeta,
    redactor: Redactor,
}

// One per stream, and events are the common source: boxing them would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Source {
    /// Server-sent events from the body.
    Sse { reader: BodyReader, decoder: SseDecoder, eof: bool },
    /// A server that answered a stream request with a plain JSON body: its images as events.
    Ready(VecDeque<StreamEvent>),
}

impl ImageStream {
    pub(crate) fn sse(mut reader: BodyReader, meta: ResponseMeta, redactor: Redactor) -> Self {
        reader.set_phase(CallPhase::Stream);
        let source = Source::Sse { reader, decoder: SseDecoder::new(), eof: false };
        Self { source, queue: VecDeque::new(), ended: false, completed: false, meta, redactor }
    }

    pub(crate) fn from_response(response: ImagesResponse, meta: ResponseMeta, redactor: Redactor) -> Self {
        let source = Source::Ready(response.into_events().collect());
        Self { source, queue: VecDeque::new(), ended: false, completed: true, meta, redactor }
    }

    /// The service's request id (`x-request-id`), when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }

    /// The `X-Client-Request-Id` the request that opened the stream sent.
    pub fn client_request_id(&self) -> Option<&str> {
        self.meta.client_request_id.as_deref()
    }

    /// Status, request ids and attempts of the request that opened the stream.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Reads the whole stream into the response a non-stream call would have given: images in
    /// `image_index` order (failed ones as per-image errors), usage from `Completed`.
    pub async fn into_response(mut self) -> Result<ImagesResponse, Error> {
        let mut gatherer = StreamGatherer::new();
        while let Some(event) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
            gatherer.push(event?);
        }
        Ok(gatherer.finish())
    }

    fn end_with(&mut self, error: Error) -> Poll<Option<Result<StreamEvent, Error>>> {
        self.ended = true;
        self.source = Source::Ready(VecDeque::new()); // drops the body: closes the connection
        let error = error.with_client_request_id(self.meta.client_request_id.as_deref());
        Poll::Ready(Some(Err(self.redactor.error(error))))
    }

    fn handle(&mut self, event: SseEvent) -> Option<Poll<Option<Result<StreamEvent, Error>>>> {
        let data = event.data.trim();
        if data == DONE_MARKER {
            self.ended = true;
            self.source = Source::Ready(VecDeque::new());
            return Some(Poll::Ready(None));
        }
        if data.is_empty() {
            return None; // a keep-alive
        }
        match StreamEvent::from_json(data) {
            Ok(StreamEvent::Error(body)) => Some(self.end_with(api_error::from_stream_event(body, &self.meta).into())),
            Ok(mut event) => {
                if matches!(event, StreamEvent::Completed(_)) {
                    self.completed = true;
                }
                self.redactor.event(&mut event);
                Some(Poll::Ready(Some(Ok(event))))
            }
            Err(error) => Some(self.end_with(Error::Decode {
                reason: format!("bad event data: {error}"),
                body_start: data.chars().take(512).collect(),
            })),
        }
    }
}

impl Stream for ImageStream {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(event) = this.queue.pop_front() {
                match this.handle(event) {
                    Some(poll) => return poll,
                    None => continue,
                }
            }
            match &mut this.source {
                Source::Ready(events) => match events.pop_front() {
                    Some(event) => return Poll::Ready(Some(Ok(event))),
                    None => {
                        this.ended = true;
                        return Poll::Ready(None);
                    }
                },
                Source::Sse { eof: true, .. } => {
                    if this.completed {
                        this.ended = true;
                        return Poll::Ready(None);
                    }
                    return this.end_with(Error::Transport(TransportError::new(
                        TransportErrorKind::Io,
                        "the event stream ended before image_generation.completed or [DONE]",
                    )));
                }
                Source::Sse { reader, decoder, eof } => match reader.poll_chunk(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(chunk))) => {
                        let mut events = Vec::new();
                        decoder.feed_into(&chunk, &mut events);
                        this.queue.extend(events);
                    }
                    Poll::Ready(Some(Err(error))) => return this.end_with(error),
                    Poll::Ready(None) => {
                        *eof = true;
                        this.queue.extend(decoder.finish());
                    }
                },
            }
        }
    }
}

impl fmt::Debug for ImageStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageStream")
            .field("meta", &self.meta)
            .field("ended", &self.ended)
            .field("completed", &self.completed)
            .finish_non_exhaustive()
    }
}
