//! `GET /models`: the models the service lists, each with its domain, tasks and, when it is not
//! running normally, its lifecycle status. The live source of lifecycle facts (the catalog's are
//! a snapshot).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use crate::wire::wire_enum;

/// The body of `GET {base}/models`: `{"object": "list", "data": [...]}`.
///
/// Lenient: every field may be missing and unknown fields are kept, on the list and on each item.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelList {
    /// `list`.
    pub object: Option<String>,
    /// The models. It includes models the key may not call (activation is per account) and
    /// undated aliases that generations refuses.
    #[serde(default)]
    pub data: Vec<ModelInfo>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModelList {
    /// The item with this exact id.
    pub fn get(&self, id: &str) -> Option<&ModelInfo> {
        self.data.iter().find(|model| model.id == id)
    }
}

/// One model of the listing.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelInfo {
    /// The id to send as `model`, such as `seedream-4-0-20260415` (or an undated alias).
    #[serde(default)]
    pub id: String,
    /// The id without its date, such as `seedream-4-0`.
    pub name: Option<String>,
    /// What kind of model: `ImageGeneration`, `VideoGeneration`, `LLM`, `VLM`, `Embedding`.
    pub domain: Option<ModelDomain>,
    /// What it does, such as `["TextToImage", "ImageToImage"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_type: Vec<TaskType>,
    /// `Retiring` or `Shutdown`; missing while the model runs normally.
    pub status: Option<ModelStatus>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModelInfo {
    /// Whether the listing says the model runs normally (no `status`).
    pub fn is_running(&self) -> bool {
        self.status.is_none()
    }
}

wire_enum! {
    /// `domain` of a listed model.
    pub enum ModelDomain {
        /// Images (Seedream, SeedEdit).
        ImageGeneration = "ImageGeneration",
        /// Videos.
        VideoGeneration = "VideoGeneration",
        /// Language models.
        Llm = "LLM",
        /// Vision-language models.
        Vlm = "VLM",
        /// Embeddings.
        Embedding = "Embedding",
    }
}

wire_enum! {
    /// `task_type[]` of a listed model.
    pub enum TaskType {
        /// Images from a prompt alone.
        TextToImage = "TextToImage",
        /// Images from reference images (and a prompt).
        ImageToImage = "ImageToImage",
    }
}

wire_enum! {
    /// `status` of a listed model that is not running normally.
    pub enum ModelStatus {
        /// Still answers, but is being retired: move to its successor.
        Retiring = "Retiring",
        /// No longer answers.
        Shutdown = "Shutdown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the API reference (spec, Endpoints), plus fields this version does not know.
    const EXAMPLE: &str = r#"{"object":"list","data":[
 {"id":"seedream-4-0-20260415","name":"seedream-4-0","domain":"ImageGeneration","task_type":["TextToImage","ImageToImage"]},
 {"id":"seedream-3-0-t2i-250415","name":"seedream-3-0-t2i","domain":"ImageGeneration","task_type":["TextToImage"],"status":"Retiring"}]}"#;

    #[test]
    fn the_reference_example_parses_and_round_trips() {
        let list: ModelList = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(list.object.as_deref(), Some("list"));
        assert_eq!(list.data.len(), 2);
        let current = list.get("seedream-4-0-20260415").unwrap();
        assert_eq!(current.name.as_deref(), Some("seedream-4-0"));
        assert_eq!(current.domain, Some(ModelDomain::ImageGeneration));
        assert_eq!(current.task_type, [TaskType::TextToImage, TaskType::ImageToImage]);
        assert!(current.is_running());
        let retiring = &list.data[1];
        assert_eq!(retiring.status, Some(ModelStatus::Retiring));
        assert!(!retiring.is_running());
        let again: Value = serde_json::to_value(&list).unwrap();
        assert_eq!(again, serde_json::from_str::<Value>(EXAMPLE).unwrap());
    }

    #[test]
    fn unknown_values_and_fields_are_kept() {
        let text = r#"{"object":"list","created":5,"data":[{"id":"m","domain":"AudioGeneration",
            "task_type":["TextToVideo"],"status":"Paused","owned_by":"x"}]}"#;
        let list: ModelList = serde_json::from_str(text).unwrap();
        let model = &list.data[0];
        assert_eq!(model.domain, Some(ModelDomain::Other("AudioGeneration".into())));
        assert_eq!(model.task_type, [TaskType::Other("TextToVideo".into())]);
        assert_eq!(model.status, Some(ModelStatus::Other("Paused".into())));
        assert_eq!(model.extra["owned_by"], "x");
        assert_eq!(list.extra["created"], 5);
        assert_eq!(serde_json::to_value(&list).unwrap(), serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn an_empty_listing_parses() {
        let list: ModelList = serde_json::from_str("{}").unwrap();
        assert!(list.data.is_empty() && list.object.is_none());
        assert_eq!(serde_json::to_string(&ModelList::default()).unwrap(), r#"{"data":[]}"#);
    }
}
