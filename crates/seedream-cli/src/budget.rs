//! `--image-budget N`: the most images one run may buy. A call reserves the most images it can make
//! before it starts and gives back what it did not buy when it ends, so that calls running at once
//! never start more than the budget holds together.

use std::sync::{Arc, Mutex};

use seedream_types::catalog::{COMMON_GROUP, ModelFamily};
use seedream_types::{EditRequest, GenerateRequest, ImageCount};
use tokio::sync::Notify;

use crate::manifest::Outcome;

/// The most images a generations request can make: its group size (1 without a group); with layer
/// decomposition the base image and the family's layer cap (the largest cap of this run's catalog for
/// a model it does not know).
pub fn most_images(request: &GenerateRequest) -> u64 {
    if request.is_layer_decomposition() {
        let family = crate::catalog::family_of(&request.model);
        let cap = family.and_then(|f| f.layers.as_ref()).map(|l| l.max_layers).unwrap_or_else(largest_layer_cap);
        return cap as u64 + 1;
    }
    request.max_output_images() as u64
}

/// The most images an edit can make: `n` (1 without it), within the family's group total.
pub fn most_images_of_edit(request: &EditRequest) -> u64 {
    let family: Option<&ModelFamily> = crate::catalog::family_of(&request.model);
    let total = family.and_then(|f| f.group).unwrap_or(COMMON_GROUP).max_total;
    let asked = request.n.as_ref().and_then(ImageCount::value).unwrap_or(1);
    asked.clamp(1, total.max(1)) as u64
}

fn largest_layer_cap() -> usize {
    let families = crate::catalog::current().catalog.families();
    families.iter().filter_map(|f| f.layers.as_ref().map(|l| l.max_layers)).max().unwrap_or(0)
}

/// A run's image budget, shared by its workers.
#[derive(Debug, Clone)]
pub struct Budget {
    state: Arc<Mutex<State>>,
    returned: Arc<Notify>,
}

#[derive(Debug)]
struct State {
    /// Images neither bought nor reserved.
    left: u64,
    /// Images reserved by calls still running (some may come back).
    reserved: u64,
}

/// Images held for one call until it ends.
#[derive(Debug)]
pub struct Reservation {
    budget: Budget,
    images: u64,
}

impl Budget {
    /// A budget of `images`.
    pub fn new(images: u64) -> Self {
        Self { state: Arc::new(Mutex::new(State { left: images, reserved: 0 })), returned: Arc::new(Notify::new()) }
    }

    /// Images neither bought nor reserved.
    pub fn left(&self) -> u64 {
        self.lock().left
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reserves `images` for a call. When they do not fit now but might once running calls give back
    /// what they did not buy, waits for those; `None` when they cannot fit any more.
    pub async fn reserve(&self, images: u64) -> Option<Reservation> {
        loop {
            // Made before the state is read, so a return between the read and the wait is not missed.
            let returned = self.returned.notified();
            {
                let mut state = self.lock();
                if images <= state.left {
                    state.left -= images;
                    state.reserved += images;
                    return Some(Reservation { budget: self.clone(), images });
                }
                if state.left + state.reserved < images {
                    return None;
                }
            }
            returned.await;
        }
    }
}

impl Reservation {
    /// The images held.
    pub fn images(&self) -> u64 {
        self.images
    }

    /// Ends the call: `bought` images stay spent, the rest of the reservation goes back.
    pub fn settle(self, bought: u64) {
        let mut state = self.budget.lock();
        state.reserved -= self.images;
        state.left += self.images - bought.min(self.images);
        drop(state);
        self.budget.returned.notify_waiters();
    }
}

/// The images a finished call bought: the service's count when it sent one, else every image that came
/// back (saved or failed to download or save). A call with no answer bought nothing when it was never
/// sent (an invalid line) or the service answered with an error status, and is taken to have bought
/// all `reserved` otherwise (a timeout or a cut connection may come after the service made the images).
pub fn bought(outcome: &Outcome, reserved: u64) -> u64 {
    if let Some(count) = outcome.usage.as_ref().and_then(|usage| usage.generated_images) {
        return count;
    }
    let answered = (outcome.images.len() + outcome.failed_images.len()) as u64;
    if answered > 0 || outcome.request_id.is_some() {
        return answered;
    }
    match &outcome.error {
        Some(error) if error.status.is_some() || matches!(error.kind.as_str(), "invalid" | "not-json" | "input") => 0,
        Some(_) => reserved,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn reservations_never_exceed_the_budget_and_unbought_images_come_back() {
        let budget = Budget::new(5);
        let first = budget.reserve(3).await.unwrap();
        assert_eq!(budget.left(), 2);
        // 9 can never fit a budget of 5.
        assert!(budget.reserve(9).await.is_none());
        // 4 might fit once the first call ends: it waits for it.
        let waiting = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(4).await.map(|r| r.images) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "4 do not fit in 2 while 3 are reserved");
        first.settle(1);
        let second = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(second, Some(4));
        assert_eq!(budget.left(), 0);
    }

    #[tokio::test]
    async fn a_call_that_does_not_fit_once_nothing_can_come_back_is_refused_at_once() {
        let budget = Budget::new(2);
        budget.reserve(2).await.unwrap().settle(2);
        assert_eq!(budget.left(), 0);
        let refused = tokio::time::timeout(Duration::from_secs(5), budget.reserve(1)).await.unwrap();
        assert!(refused.is_none());
    }

    #[test]
    fn bought_images_come_from_usage_then_the_answer_then_the_error() {
        let mut outcome = Outcome::empty();
        let error = |kind: &str, status: Option<u16>| crate::failure::ErrorRecord {
            kind: kind.into(),
            exit_code: 3,
            status,
            ..Default::default()
        };
        outcome.error = Some(error("api", Some(400)));
        assert_eq!(bought(&outcome, 4), 0, "refused by the service: nothing made");
        outcome.error = Some(error("invalid", None));
        assert_eq!(bought(&outcome, 4), 0, "never sent");
        outcome.error = Some(error("timeout", None));
        assert_eq!(bought(&outcome, 4), 4, "no answer: taken as all made");
        outcome.images.push(crate::manifest::SavedImage::default());
        assert_eq!(bought(&outcome, 4), 1);
        outcome.usage = Some(seedream_types::Usage { generated_images: Some(3), ..Default::default() });
        assert_eq!(bought(&outcome, 4), 3);
    }
}
