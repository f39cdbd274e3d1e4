//! An images-per-minute limiter shared by a batch's workers: at most `limit` images are started in any
//! sliding 60-second window (the service counts images per minute per account and model).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// The window the limit applies to.
pub const WINDOW: Duration = Duration::from_secs(60);

/// A sliding-window limiter. Cheap to clone; waiters are served in order (a fair lock).
#[derive(Debug, Clone)]
pub struct Limiter {
    limit: u32,
    /// Reservations in the current window: when, and how many images.
    taken: Arc<Mutex<VecDeque<(Instant, u32)>>>,
}

impl Limiter {
    /// A limiter allowing `limit` images per minute (at least 1).
    pub fn per_minute(limit: u32) -> Self {
        Self { limit: limit.max(1), taken: Arc::new(Mutex::new(VecDeque::new())) }
    }

    /// Waits until `images` more images fit in the window, and reserves them. A request larger than the
    /// whole limit waits for an empty window and then takes all of it.
    pub async fn acquire(&self, images: u32) {
        let images = images.clamp(1, self.limit);
        // Holding the lock while sleeping keeps the order: later callers queue behind.
        let mut taken = self.taken.lock().await;
        loop {
            let now = Instant::now();
            while taken.front().is_some_and(|(at, _)| now.duration_since(*at) >= WINDOW) {
                taken.pop_front();
            }
            let used: u32 = taken.iter().map(|(_, n)| *n).sum();
            if used + images <= self.limit {
                taken.push_back((now, images));
                return;
            }
            // Sleep until the oldest reservations leave the window and make room.
            let mut freed = 0;
            let mut until = now;
            for (at, n) in taken.iter() {
                freed += n;
                until = *at + WINDOW;
                if used - freed + images <= self.limit {
                    break;
                }
            }
            tokio::time::sleep_until(until).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_limit_starts_in_any_minute() {
        let limiter = Limiter::per_minute(10);
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..25 {
            limiter.acquire(2).await;
            starts.push(start.elapsed());
        }
        // 5 requests of 2 images per window: the 6th waits a minute, the 11th two minutes.
        assert!(starts[..5].iter().all(|t| *t < Duration::from_secs(1)));
        assert!(starts[5] >= WINDOW && starts[5] < WINDOW + Duration::from_secs(1));
        assert!(starts[10] >= 2 * WINDOW);
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts.iter().filter(|u| **u <= *t && *t - **u < WINDOW).count();
            assert!(in_window * 2 <= 10, "start {i} at {t:?}: {in_window} requests in a minute");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_over_the_limit_takes_a_whole_window() {
        let limiter = Limiter::per_minute(3);
        limiter.acquire(1).await;
        let start = Instant::now();
        limiter.acquire(15).await;
        assert!(start.elapsed() >= WINDOW - Duration::from_millis(1));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_workers_share_the_limit() {
        let limiter = Limiter::per_minute(4);
        let start = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire(1).await;
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        assert!(times[3] < Duration::from_secs(1));
        assert!(times[4] >= WINDOW);
    }
}
