//! `GET /models`: every catalog family's id and aliases, with the lifecycle status the listing
//! would give them.

use seedream_types::catalog::{FAMILIES, ModelFamily, Status};
use seedream_types::{ModelDomain, ModelInfo, ModelList, ModelStatus, TaskType};

/// The listing the emulator serves: for each catalog family its model id and aliases, image
/// generation, tasks from its reference limits, and `Shutdown` (retired) or `Retiring` (legacy)
/// for families that are not current.
///
/// The one place that turns catalog rows into the listing, so that per-id lifecycle data (provider,
/// date, successor) can replace the per-family status here alone.
pub fn models_listing() -> ModelList {
    let data = FAMILIES
        .iter()
        .flat_map(|family| {
            std::iter::once(family.model_id).chain(family.aliases.iter().copied()).map(move |id| (family, id))
        })
        .map(|(family, id)| ModelInfo {
            id: id.to_owned(),
            name: Some(undated(id).to_owned()),
            domain: Some(ModelDomain::ImageGeneration),
            task_type: task_types(family),
            status: match family.status {
                Status::Current => None,
                Status::Retired => Some(ModelStatus::Shutdown),
                Status::Legacy => Some(ModelStatus::Retiring),
            },
            ..ModelInfo::default()
        })
        .collect();
    ModelList { object: Some("list".into()), data, ..ModelList::default() }
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
    fn every_family_is_listed_with_its_tasks_and_status() {
        let list = models_listing();
        for family in FAMILIES {
            let item = list.get(family.model_id).unwrap_or_else(|| panic!("{} listed", family.model_id));
            for alias in family.aliases {
                assert!(list.get(alias).is_some(), "{alias}");
            }
            assert_eq!(item.domain, Some(ModelDomain::ImageGeneration));
            let text = item.task_type.contains(&TaskType::TextToImage);
            let image = item.task_type.contains(&TaskType::ImageToImage);
            assert_eq!(text, family.references.min == 0, "{}", family.model_id);
            assert_eq!(image, family.references.max > 0, "{}", family.model_id);
            assert_eq!(item.is_running(), family.status == Status::Current, "{}", family.model_id);
        }
        assert_eq!(undated("doubao-seedream-4-0-250828"), "doubao-seedream-4-0");
        assert_eq!(undated("seedream-4-0-20260415"), "seedream-4-0");
        assert_eq!(undated("doubao-seedream-4.0"), "doubao-seedream-4.0");
    }
}
