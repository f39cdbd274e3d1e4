//! `GET /models`: every catalog family's id and aliases, with the lifecycle status the listing
//! would give them.

use seedream_types::catalog::{Lifecycle, ModelFamily, families};
use seedream_types::{ModelDomain, ModelInfo, ModelList, ModelStatus, TaskType};

/// The listing the emulator serves: every id of every catalog family as each provider spells it
/// (the emulator answers both), its current id and its undated aliases, image generation, tasks from its
/// reference limits, and each id's lifecycle: `Retiring`, or `Shutdown` for a retired id.
///
/// The one place that turns catalog rows into the listing.
pub fn models_listing() -> ModelList {
    let mut data: Vec<ModelInfo> = Vec::new();
    for family in families() {
        let listed = family.ids.iter().map(|entry| (entry.id.as_str(), status(entry.status)));
        let others = std::iter::once(family.model_id.as_str()).chain(family.aliases.iter().map(String::as_str));
        for (id, status) in listed.chain(others.map(|id| (id, None))) {
            if data.iter().any(|item| item.id == id) {
                continue;
            }
            data.push(ModelInfo {
                id: id.to_owned(),
                name: Some(undated(id).to_owned()),
                domain: Some(ModelDomain::ImageGeneration),
                task_type: task_types(family),
                status,
                ..ModelInfo::default()
            });
        }
    }
    ModelList { object: Some("list".into()), data, ..ModelList::default() }
}

/// What `GET /models` says of an id with this lifecycle: nothing while it runs.
fn status(lifecycle: Lifecycle) -> Option<ModelStatus> {
    match lifecycle {
        Lifecycle::EarlyAccess | Lifecycle::Current => None,
        Lifecycle::Retiring => Some(ModelStatus::Retiring),
        Lifecycle::Retired => Some(ModelStatus::Shutdown),
    }
}

/// Text to image unless references are required; image to image whenever references are taken.
fn task_types(family: &ModelFamily) -> Vec<TaskType> {
    let mut tasks = Vec::new();
    if family.references.min == 0 {
        tasks.push(TaskType::TextToImage);
    }
    if family.references.max > 0 {
        tasks.push(TaskType::ImageToImage);
    }
    tasks
}

/// The id without a trailing date of 6 or 8 digits (`…-250828`, `…-20260415`).
fn undated(id: &str) -> &str {
    match id.rsplit_once('-') {
        Some((stem, date)) if matches!(date.len(), 6 | 8) && date.bytes().all(|b| b.is_ascii_digit()) => stem,
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_listed_with_its_tasks_and_lifecycle() {
        let list = models_listing();
        for family in families() {
            assert!(list.get(&family.model_id).is_some(), "{} listed", family.model_id);
            for alias in &family.aliases {
                assert!(list.get(alias).is_some(), "{alias}");
            }
            for entry in &family.ids {
                let item = list.get(&entry.id).unwrap_or_else(|| panic!("{} listed", entry.id));
                assert_eq!(item.domain, Some(ModelDomain::ImageGeneration));
                let text = item.task_type.contains(&TaskType::TextToImage);
                let image = item.task_type.contains(&TaskType::ImageToImage);
                assert_eq!(text, family.references.min == 0, "{}", entry.id);
                assert_eq!(image, family.references.max > 0, "{}", entry.id);
                assert_eq!(item.is_running(), !entry.status.is_ending(), "{}", entry.id);
            }
        }
        // Volcengine retired the old 4.0 build; BytePlus still lists it.
        assert_eq!(list.get("doubao-seedream-4-0-250828").unwrap().status, Some(ModelStatus::Shutdown));
        assert!(list.get("seedream-4-0-250828").unwrap().is_running());
        assert!(list.get("dola-seedream-5-5-261028").unwrap().is_running());
        assert_eq!(undated("doubao-seedream-4-0-250828"), "doubao-seedream-4-0");
        assert_eq!(undated("seedream-4-0-20260415"), "seedream-4-0");
        assert_eq!(undated("doubao-seedream-4.0"), "doubao-seedream-4.0");
    }
}
