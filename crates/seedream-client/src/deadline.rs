//! [`Deadline`]: a future ended at an optional instant, one future type whether or not a call has a
//! deadline (two `.await`s, one per case, would each keep a copy of the call's state).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

use crate::error::{CallPhase, Error, TimeoutPhase};

/// The error of a call whose deadline passed (a [`Deadline`] that ended with `None`) while it was
/// `during` something.
pub(crate) fn overall_timeout(during: CallPhase) -> Error {
    tracing::debug!(limit = %TimeoutPhase::Overall, during = %during, "time limit reached");
    Error::timeout(TimeoutPhase::Overall, during)
}

pin_project_lite::pin_project! {
    /// `future`, or `None` once `at` has passed first.
    pub(crate) struct Deadline<F> {
        #[pin]
        future: F,
        // Boxed: most calls have no deadline, and theirs stays small.
        timer: Option<Pin<Box<Sleep>>>,
    }
}

impl<F: Future> Deadline<F> {
    pub(crate) fn new(future: F, at: Option<Instant>) -> Self {
        Self { future, timer: at.map(|at| Box::pin(tokio::time::sleep_until(at))) }
    }
}

impl<F: Future> Future for Deadline<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Some(output));
        }
        match this.timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn ends_a_future_at_its_deadline_and_not_before() {
        let late =
            Deadline::new(tokio::time::sleep(Duration::from_secs(5)), Some(Instant::now() + Duration::from_secs(1)));
        assert_eq!(late.await, None);
        let early = Deadline::new(async { 7 }, Some(Instant::now() + Duration::from_secs(1)));
        assert_eq!(early.await, Some(7));
        let unbounded = Deadline::new(tokio::time::sleep(Duration::from_secs(3600)), None);
        assert_eq!(unbounded.await, Some(()));
    }
}
