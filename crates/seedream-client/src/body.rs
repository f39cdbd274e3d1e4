//! Reading a response body under the client's limits: idle time between reads, the overall
//! deadline, and the largest body accepted (a `Content-Length` over it is refused before reading).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::time::{Instant, Sleep};

use crate::error::{CallPhase, Error, TimeoutPhase};
use crate::transport::ResponseBody;

/// A [`ResponseBody`] whose reads fail with [`Error::Timeout`] when the body stalls for longer than
/// `idle` or the call's deadline passes, and with [`Error::BodyTooLarge`] past `limit` bytes.
pub(crate) struct BodyReader {
    body: ResponseBody,
    idle: Option<Duration>,
    /// Armed only while waiting, so a body that is already there costs no timer.
    idle_timer: Option<Pin<Box<Sleep>>>,
    /// A chunk arrived since the idle timer was armed.
    progressed: bool,
    deadline: Option<Pin<Box<Sleep>>>,
    limit: u64,
    read: u64,
    done: bool,
    /// What reading this body is, for the timeouts' `during`.
    phase: CallPhase,
}

impl BodyReader {
    pub(crate) fn new(
        body: ResponseBody,
        idle: Option<Duration>,
        deadline: Option<Instant>,
        limit: u64,
        phase: CallPhase,
    ) -> Self {
        Self {
            body,
            idle,
            idle_timer: None,
            progressed: false,
            deadline: deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
            limit,
            read: 0,
            done: false,
            phase,
        }
    }

    /// Names what reading this body is (a stream's events rather than a JSON body).
    pub(crate) fn set_phase(&mut self, phase: CallPhase) {
        self.phase = phase;
    }

    /// The length announced by the transport, when it is known.
    pub(crate) fn size_hint(&self) -> Option<u64> {
        self.body.size_hint()
    }

    /// The next chunk; `None` at the end. After an error, `None`.
    pub(crate) fn next_chunk(&mut self) -> impl Future<Output = Option<Result<Bytes, Error>>> + '_ {
        std::future::poll_fn(move |cx| self.poll_chunk(cx))
    }

    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.read == 0 && self.size_hint().is_some_and(|len| len > self.limit) {
            // The announced length is over the limit: refused before a byte is read.
            return self.fail(Error::BodyTooLarge { limit: self.limit });
        }
        match Pin::new(&mut self.body).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.progressed = true;
                self.read += chunk.len() as u64;
                if self.read > self.limit {
                    return self.fail(Error::BodyTooLarge { limit: self.limit });
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => self.fail(error.into()),
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if let Some(deadline) = &mut self.deadline
                    && deadline.as_mut().poll(cx).is_ready()
                {
                    return self.fail(Error::timeout(TimeoutPhase::Overall, self.phase));
                }
                if let Some(idle) = self.idle {
                    let timer = match &mut self.idle_timer {
                        Some(timer) => {
                            if std::mem::take(&mut self.progressed) {
                                timer.as_mut().reset(Instant::now() + idle);
                            }
                            timer
                        }
                        None => {
                            self.progressed = false;
                            self.idle_timer.insert(Box::pin(tokio::time::sleep(idle)))
                        }
                    };
                    ready!(timer.as_mut().poll(cx));
                    return self.fail(Error::timeout(TimeoutPhase::Idle, self.phase));
                }
                Poll::Pending
            }
        }
    }

    fn fail(&mut self, error: Error) -> Poll<Option<Result<Bytes, Error>>> {
        self.done = true;
        Poll::Ready(Some(Err(error)))
    }

    /// Reads the rest of the body into one buffer (sized from `Content-Length` when known).
    pub(crate) async fn read_all(mut self) -> Result<Bytes, Error> {
        if self.size_hint().is_some_and(|len| len > self.limit) {
            return Err(Error::BodyTooLarge { limit: self.limit });
        }
        let first = match self.next_chunk().await {
            None => return Ok(Bytes::new()),
            Some(chunk) => chunk?,
        };
        // A body that arrives in one chunk needs no copy.
        let second = match self.next_chunk().await {
            None => return Ok(first),
            Some(chunk) => chunk?,
        };
        let capacity = self.size_hint().map_or(first.len() + second.len(), |len| len as usize);
        let mut buf = BytesMut::with_capacity(capacity);
        buf.extend_from_slice(&first);
        buf.extend_from_slice(&second);
        while let Some(chunk) = self.next_chunk().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }

    /// Reads up to `max` bytes for an error message; the rest is dropped. A body that fails or stalls
    /// midway gives what arrived: the status already says what went wrong.
    pub(crate) async fn read_prefix(mut self, max: usize) -> Bytes {
        let mut buf = BytesMut::new();
        while let Some(Ok(chunk)) = self.next_chunk().await {
            let room = max.saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if buf.len() >= max {
                break;
            }
        }
        buf.freeze()
    }
}

impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyReader").field("read", &self.read).field("limit", &self.limit).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportError;

    fn stalling(first: &'static [u8]) -> ResponseBody {
        let chunks = futures_util::stream::iter([Ok::<_, TransportError>(Bytes::from_static(first))])
            .chain(futures_util::stream::pending());
        ResponseBody::from_stream(chunks)
    }

    use futures_util::StreamExt as _;

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_an_idle_timeout() {
        let mut reader = BodyReader::new(stalling(b"abc"), Some(Duration::from_secs(5)), None, 100, CallPhase::Body);
        assert_eq!(reader.next_chunk().await.unwrap().unwrap(), "abc");
        let start = Instant::now();
        let error = reader.next_chunk().await.unwrap().unwrap_err();
        assert!(
            matches!(error, Error::Timeout { phase: TimeoutPhase::Idle, during: CallPhase::Body, .. }),
            "{error:?}"
        );
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        assert!(reader.next_chunk().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_beats_a_longer_idle_limit() {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut reader =
            BodyReader::new(stalling(b"abc"), Some(Duration::from_secs(60)), Some(deadline), 100, CallPhase::Download);
        reader.next_chunk().await.unwrap().unwrap();
        let error = reader.next_chunk().await.unwrap().unwrap_err();
        assert!(
            matches!(error, Error::Timeout { phase: TimeoutPhase::Overall, during: CallPhase::Download, .. }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn an_announced_length_over_the_limit_is_refused_before_reading() {
        // The body never comes: only the announced length can end the read.
        let body = ResponseBody::from_stream(futures_util::stream::pending()).with_size_hint(Some(1 << 40));
        let mut reader = BodyReader::new(body, None, None, 1024, CallPhase::Body);
        let error = tokio::time::timeout(Duration::from_secs(5), reader.next_chunk()).await.expect("not read");
        assert!(matches!(error, Some(Err(Error::BodyTooLarge { limit: 1024 }))), "{error:?}");
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let body = ResponseBody::from_chunks([Bytes::from_static(b"12345"), Bytes::from_static(b"678")]);
        let error = BodyReader::new(body, None, None, 7, CallPhase::Body).read_all().await.unwrap_err();
        assert!(matches!(error, Error::BodyTooLarge { limit: 7 }), "{error:?}");
        let announced = ResponseBody::from_bytes(&b"123456789"[..]);
        let error = BodyReader::new(announced, None, None, 7, CallPhase::Body).read_all().await.unwrap_err();
        assert!(matches!(error, Error::BodyTooLarge { limit: 7 }));
        let body = ResponseBody::from_chunks([Bytes::from_static(b"12"), Bytes::from_static(b"3"), Bytes::new()]);
        assert_eq!(BodyReader::new(body, None, None, 7, CallPhase::Body).read_all().await.unwrap(), "123");
    }
}
