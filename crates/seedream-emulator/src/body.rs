//! Response bodies: whole ones, and scripted ones that pause or break off mid-way (for faults and
//! per-image delays). Every pause ends early when the emulator shuts down, so no task outlives it.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use tokio::sync::watch;

/// Error type of response bodies: an error makes hyper abort the connection (HTTP/1) or reset the
/// stream (HTTP/2), which is how the `reset` fault is delivered.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type of every response.
pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A body holding `bytes`.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A body made of the chunks a stream yields; an `Err` aborts the response.
pub(crate) fn from_stream<S>(chunks: S) -> Body
where
    S: Stream<Item = Result<Bytes, BoxError>> + Send + 'static,
{
    StreamBody::new(chunks.map(|chunk| chunk.map(Frame::data))).boxed_unsync()
}

/// One step of a scripted body.
#[derive(Debug)]
pub(crate) enum Step {
    /// Send these bytes.
    Chunk(Bytes),
    /// Send nothing for this long.
    Pause(Duration),
    /// Break the connection off.
    Abort(&'static str),
}

/// A body that plays `steps` in order.
pub(crate) fn scripted(steps: Vec<Step>, shutdown: watch::Receiver<bool>) -> Body {
    let chunks = stream::unfold((steps.into_iter(), shutdown), |(mut steps, mut shutdown)| async move {
        loop {
            match steps.next()? {
                Step::Chunk(bytes) => return Some((Ok(bytes), (steps, shutdown))),
                Step::Pause(duration) => {
                    if !pause(duration, &mut shutdown).await {
                        return Some((Err(aborted("the emulator is shutting down")), (steps, shutdown)));
                    }
                }
                Step::Abort(why) => return Some((Err(aborted(why)), (steps, shutdown))),
            }
        }
    });
    from_stream(chunks)
}

/// The error that breaks a response off.
pub(crate) fn aborted(why: &'static str) -> BoxError {
    Box::new(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, why))
}

/// Sleeps for `duration`; returns false (early) when the emulator shuts down meanwhile.
pub(crate) async fn pause(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if duration.is_zero() {
        return !*shutdown.borrow();
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        _ = shutdown.wait_for(|stopping| *stopping) => false,
    }
}
