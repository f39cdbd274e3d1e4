//! Server-sent events of `stream: true`: one JSON object per `data:` line, then `data: [DONE]`.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use crate::error::{ApiErrorBody, ErrorEnvelope};
use crate::request::{OutputFormat, Tool};
use crate::response::{FailedImage, GeneratedImage, ImageItem, ImagesResponse, Usage, take};

/// The text of the `data:` line that ends a stream.
pub const DONE_MARKER: &str = "[DONE]";

/// `image_generation.partial_succeeded`: one image is ready.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PartialSucceeded {
    /// Model id.
    pub model: Option<String>,
    /// Unix time in seconds.
    pub created: Option<i64>,
    /// Position of the image in the group, from 0.
    #[serde(default)]
    pub image_index: u32,
    /// Download link (`response_format: url`).
    pub url: Option<String>,
    /// Base64 JPEG (`response_format: b64_json`).
    pub b64_json: Option<String>,
    /// Actual `WxH`.
    pub size: Option<String>,
    /// `jpeg` or `png`, when stated.
    pub output_format: Option<OutputFormat>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PartialSucceeded {
    /// The event that carries `image`, the strings moved. Item fields the event does not model
    /// (layer fields) travel in `extra`.
    pub fn from_image(image: GeneratedImage, model: Option<String>, created: Option<i64>, image_index: u32) -> Self {
        let GeneratedImage {
            url,
            b64_json,
            size,
            output_format,
            background,
            z_index,
            bounding_box,
            name,
            description,
            revised_prompt,
            mut extra,
        } = image;
        let mut keep = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                extra.insert(key.to_owned(), value);
            }
        };
        keep("background", background.map(|b| Value::from(b.as_str())));
        keep("z_index", z_index.map(Value::from));
        keep("bounding_box", bounding_box.and_then(|b| serde_json::to_value(b).ok()));
        keep("name", name.map(Value::from));
        keep("description", description.map(Value::from));
        keep("revised_prompt", revised_prompt.map(Value::from));
        Self { model, created, image_index, url, b64_json, size, output_format, extra }
    }

    /// The image this event carries, as it would stand in a non-streamed response's `data[]`
    /// (the strings are moved, not copied: a `b64_json` image is megabytes).
    pub fn into_image(self) -> GeneratedImage {
        let mut extra = self.extra;
        GeneratedImage {
            url: self.url,
            b64_json: self.b64_json,
            size: self.size,
            output_format: self.output_format,
            background: take(&mut extra, "background"),
            z_index: take(&mut extra, "z_index"),
            bounding_box: take(&mut extra, "bounding_box"),
            name: take(&mut extra, "name"),
            description: take(&mut extra, "description"),
            revised_prompt: take(&mut extra, "revised_prompt"),
            extra,
        }
    }
}

/// `image_generation.partial_failed`: one image failed; the stream goes on.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PartialFailed {
    /// Model id.
    pub model: Option<String>,
    /// Unix time in seconds.
    pub created: Option<i64>,
    /// Position of the image in the group, from 0.
    #[serde(default)]
    pub image_index: u32,
    /// Why it failed.
    pub error: ApiErrorBody,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `image_generation.completed`: every image is done; usage for the whole request.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Completed {
    /// Model id.
    pub model: Option<String>,
    /// Unix time in seconds.
    pub created: Option<i64>,
    /// Usage for the request.
    pub usage: Option<Usage>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One event of an image stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// An image is ready.
    PartialSucceeded(PartialSucceeded),
    /// An image failed (the stream goes on).
    PartialFailed(PartialFailed),
    /// The last event before `[DONE]`.
    Completed(Completed),
    /// `data: {"error": {...}}`: the request failed mid-stream.
    Error(ApiErrorBody),
    /// An event type this version does not know, kept whole.
    Unknown(Value),
}

const PARTIAL_SUCCEEDED: &str = "image_generation.partial_succeeded";
const PARTIAL_FAILED: &str = "image_generation.partial_failed";
const COMPLETED: &str = "image_generation.completed";

impl StreamEvent {
    /// The event's `type` string (also the SSE `event:` name); `error` for in-stream errors.
    pub fn event_type(&self) -> Cow<'_, str> {
        match self {
            StreamEvent::PartialSucceeded(_) => PARTIAL_SUCCEEDED.into(),
            StreamEvent::PartialFailed(_) => PARTIAL_FAILED.into(),
            StreamEvent::Completed(_) => COMPLETED.into(),
            StreamEvent::Error(_) => "error".into(),
            StreamEvent::Unknown(value) => {
                value.get("type").and_then(Value::as_str).map_or(Cow::Borrowed("unknown"), |t| Cow::Owned(t.to_owned()))
            }
        }
    }

    /// Parses the text of one `data:` line (not `[DONE]`).
    pub fn from_json(data: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(data)
    }

    fn from_value(mut value: Value) -> Result<Self, serde_json::Error> {
        let kind = value.get("type").and_then(Value::as_str).unwrap_or_default();
        // The tag names the variant; left in, it would land in the event's `extra` (and from there in
        // the images a stream is gathered into).
        let known = [PARTIAL_SUCCEEDED, PARTIAL_FAILED, COMPLETED].into_iter().find(|k| *k == kind);
        if let (Some(_), Some(fields)) = (known, value.as_object_mut()) {
            fields.remove("type");
        }
        Ok(match known {
            Some(PARTIAL_SUCCEEDED) => StreamEvent::PartialSucceeded(serde_json::from_value(value)?),
            Some(PARTIAL_FAILED) => StreamEvent::PartialFailed(serde_json::from_value(value)?),
            Some(COMPLETED) => StreamEvent::Completed(serde_json::from_value(value)?),
            _ if value.get("error").is_some_and(Value::is_object) => {
                StreamEvent::Error(serde_json::from_value::<ErrorEnvelope>(value)?.error)
            }
            _ => StreamEvent::Unknown(value),
        })
    }
}

/// An event's body with its `type` written first, serialized straight from the borrowed event (a
/// `b64_json` image is megabytes: no intermediate copy).
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// `{"error": {...}}`, borrowed.
#[derive(Serialize)]
struct ErrorRef<'a> {
    error: &'a ApiErrorBody,
}

impl Serialize for StreamEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            StreamEvent::PartialSucceeded(body) => Tagged { kind: PARTIAL_SUCCEEDED, body }.serialize(serializer),
            StreamEvent::PartialFailed(body) => Tagged { kind: PARTIAL_FAILED, body }.serialize(serializer),
            StreamEvent::Completed(body) => Tagged { kind: COMPLETED, body }.serialize(serializer),
            StreamEvent::Error(error) => ErrorRef { error }.serialize(serializer),
            StreamEvent::Unknown(value) => value.serialize(serializer),
        }
    }
}

impl ImagesResponse {
    /// The response as the events a stream would have sent: one per `data[]` item (its index as
    /// `image_index`), then `completed` with the usage. Moves the images, never copies them.
    pub fn into_events(self) -> impl Iterator<Item = StreamEvent> {
        let ImagesResponse { model, created, data, usage, tools, mut extra } = self;
        if let Some(tools) = tools.and_then(|t| serde_json::to_value(t).ok()) {
            extra.insert("tools".into(), tools);
        }
        let per_item_model = model.clone();
        let items = data.into_iter().enumerate().map(move |(index, item)| {
            let image_index = u32::try_from(index).unwrap_or(u32::MAX);
            let model = per_item_model.clone();
            match item {
                ImageItem::Image(image) => {
                    StreamEvent::PartialSucceeded(PartialSucceeded::from_image(image, model, created, image_index))
                }
                ImageItem::Failed(failed) => StreamEvent::PartialFailed(PartialFailed {
                    model,
                    created,
                    image_index,
                    error: failed.error,
                    extra: failed.extra,
                }),
            }
        });
        items.chain(std::iter::once(StreamEvent::Completed(Completed { model, created, usage, extra })))
    }
}

impl<'de> Deserialize<'de> for StreamEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        StreamEvent::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for StreamEvent {
    fn schema_name() -> Cow<'static, str> {
        "StreamEvent".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let typed = |kind: &str, body: schemars::Schema| {
            schemars::json_schema!({
                "allOf": [
                    { "type": "object", "properties": { "type": { "const": kind } }, "required": ["type"] },
                    body
                ]
            })
        };
        schemars::json_schema!({
            "description": "One `data:` line of an image stream. Unknown event types are accepted and kept.",
            "anyOf": [
                typed(PARTIAL_SUCCEEDED, generator.subschema_for::<PartialSucceeded>()),
                typed(PARTIAL_FAILED, generator.subschema_for::<PartialFailed>()),
                typed(COMPLETED, generator.subschema_for::<Completed>()),
                generator.subschema_for::<ErrorEnvelope>(),
                { "type": "object" }
            ]
        })
    }
}

/// Gathers stream events into the response a non-stream call would have given: `model` and
/// `created` from the first event that has them, usage, `tools` and the other top-level fields from
/// `completed`, images in `image_index` order (failed ones as per-image errors). The one place a stream becomes a response; callers that
/// act on each image as it arrives use [`note`](Self::note) and keep the items themselves.
#[derive(Debug, Clone, Default)]
pub struct StreamGatherer {
    model: Option<String>,
    created: Option<i64>,
    usage: Option<Usage>,
    tools: Option<Vec<Tool>>,
    /// `completed`'s fields this version does not model: the response's own (see
    /// [`ImagesResponse::into_events`]).
    extra: Map<String, Value>,
    items: Vec<(u32, ImageItem)>,
}

impl StreamGatherer {
    /// An empty gatherer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes what `event` says of the whole response and hands back the image item it carries (a
    /// success or a per-image error) with its `image_index`, without keeping it.
    pub fn note(&mut self, event: StreamEvent) -> Option<(u32, ImageItem)> {
        let (model, created) = match &event {
            StreamEvent::PartialSucceeded(e) => (&e.model, e.created),
            StreamEvent::PartialFailed(e) => (&e.model, e.created),
            StreamEvent::Completed(e) => (&e.model, e.created),
            StreamEvent::Error(_) | StreamEvent::Unknown(_) => return None,
        };
        if self.model.is_none() {
            self.model.clone_from(model);
        }
        self.created = self.created.or(created);
        match event {
            StreamEvent::PartialSucceeded(e) => Some((e.image_index, ImageItem::Image(e.into_image()))),
            StreamEvent::PartialFailed(e) => {
                Some((e.image_index, ImageItem::Failed(FailedImage { error: e.error, extra: e.extra })))
            }
            StreamEvent::Completed(mut e) => {
                self.usage = e.usage;
                self.tools = take(&mut e.extra, "tools");
                self.extra = e.extra;
                None
            }
            StreamEvent::Error(_) | StreamEvent::Unknown(_) => None,
        }
    }

    /// Notes `event` and keeps its image item for [`finish`](Self::finish).
    pub fn push(&mut self, event: StreamEvent) {
        if let Some(item) = self.note(event) {
            self.items.push(item);
        }
    }

    /// The model named so far.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The usage from `completed`, once it has arrived.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The gathered response, images in `image_index` order.
    pub fn finish(mut self) -> ImagesResponse {
        self.items.sort_by_key(|(index, _)| *index);
        ImagesResponse {
            model: self.model,
            created: self.created,
            data: self.items.into_iter().map(|(_, item)| item).collect(),
            usage: self.usage,
            tools: self.tools,
            extra: self.extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_documented_event_parses_and_round_trips() {
        let lines = [
            json!({"type": PARTIAL_SUCCEEDED, "model": "m", "created": 1, "image_index": 0, "url": "u", "size": "2048x2048"}),
            json!({"type": PARTIAL_FAILED, "model": "m", "created": 1, "image_index": 1,
                   "error": {"code": "OutputImageSensitiveContentDetected", "message": "x"}}),
            json!({"type": COMPLETED, "model": "m", "created": 1,
                   "usage": {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384}}),
            json!({"error": {"code": "InternalServiceError", "message": "boom"}}),
            json!({"type": "image_generation.something_new", "x": 1}),
        ];
        let kinds = ["partial_succeeded", "partial_failed", "completed", "error", "something_new"];
        for (line, kind) in lines.iter().zip(kinds) {
            let event = StreamEvent::from_json(&line.to_string()).unwrap();
            assert!(event.event_type().ends_with(kind), "{event:?}");
            assert_eq!(&serde_json::to_value(&event).unwrap(), line);
        }
    }

    #[test]
    fn gathered_events_become_the_response_they_stand_for() {
        let response: ImagesResponse = serde_json::from_value(json!({
            "model": "m", "created": 7,
            "data": [{"url": "a", "size": "1x1"},
                     {"error": {"code": "OutputImageSensitiveContentDetected", "message": "x"}},
                     {"b64_json": "AAAA", "output_format": "png"}],
            "usage": {"generated_images": 2}
        }))
        .unwrap();
        let mut events: Vec<StreamEvent> = response.clone().into_events().collect();
        events.swap(0, 2); // images may arrive out of order
        let mut gatherer = StreamGatherer::new();
        for event in events {
            gatherer.push(event);
        }
        assert_eq!(gatherer.model(), Some("m"));
        assert_eq!(gatherer.finish(), response);
    }

    #[test]
    fn gathering_keeps_the_tools_and_top_level_fields_of_completed() {
        // As the wire carries it: `tools` (and a field this version does not know) on `completed`.
        let lines = [
            json!({"type": PARTIAL_SUCCEEDED, "model": "m", "created": 7, "image_index": 0, "url": "u"}),
            json!({"type": COMPLETED, "model": "m", "created": 7, "usage": {"generated_images": 1,
                   "tool_usage": {"web_search": 1}}, "tools": [{"type": "web_search"}], "trace": "t1"}),
        ];
        let mut gatherer = StreamGatherer::new();
        for line in &lines {
            gatherer.push(StreamEvent::from_json(&line.to_string()).unwrap());
        }
        let response = gatherer.finish();
        assert_eq!(response.tools, Some(vec![Tool::web_search()]));
        assert_eq!(response.extra.get("trace"), Some(&json!("t1")));
        assert!(!response.extra.contains_key("tools"), "tools is typed, not left in extra");
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"model": "m", "created": 7, "data": [{"url": "u"}],
                   "usage": {"generated_images": 1, "tool_usage": {"web_search": 1}},
                   "tools": [{"type": "web_search"}], "trace": "t1"})
        );
        // And a response with tools survives the trip through events and back.
        let mut gatherer = StreamGatherer::new();
        response.clone().into_events().for_each(|event| gatherer.push(event));
        assert_eq!(gatherer.finish(), response);
    }

    #[test]
    fn events_serialize_with_their_type_first() {
        let event =
            StreamEvent::from_json(r#"{"image_index":0,"url":"u","type":"image_generation.partial_succeeded"}"#)
                .unwrap();
        let text = serde_json::to_string(&event).unwrap();
        assert!(text.starts_with(r#"{"type":"image_generation.partial_succeeded","#), "{text}");
    }

    #[test]
    fn a_response_becomes_the_events_a_stream_would_send() {
        let response: ImagesResponse = serde_json::from_value(json!({
            "model": "m", "created": 7,
            "data": [{"url": "u", "size": "1x1", "z_index": 1, "name": "sky"},
                     {"error": {"code": "OutputImageSensitiveContentDetected", "message": "x"}}],
            "usage": {"generated_images": 1}
        }))
        .unwrap();
        let events: Vec<StreamEvent> = response.clone().into_events().collect();
        let StreamEvent::PartialSucceeded(first) = events[0].clone() else { panic!("not an image") };
        assert_eq!(Some(&first.into_image()), response.images().next(), "layer fields come back typed");
        let events: Vec<Value> = events.into_iter().map(|e| serde_json::to_value(e).unwrap()).collect();
        assert_eq!(
            events,
            [
                json!({"type": PARTIAL_SUCCEEDED, "model": "m", "created": 7, "image_index": 0, "url": "u",
                       "size": "1x1", "z_index": 1, "name": "sky"}),
                json!({"type": PARTIAL_FAILED, "model": "m", "created": 7, "image_index": 1,
                       "error": {"code": "OutputImageSensitiveContentDetected", "message": "x"}}),
                json!({"type": COMPLETED, "model": "m", "created": 7, "usage": {"generated_images": 1}}),
            ]
        );
    }

    #[test]
    fn a_streamed_image_becomes_the_response_item_it_stands_for() {
        let line =
            json!({"type": PARTIAL_SUCCEEDED, "image_index": 2, "b64_json": "AAAA", "size": "2048x2048", "x": 1});
        let StreamEvent::PartialSucceeded(event) = StreamEvent::from_json(&line.to_string()).unwrap() else {
            panic!("not a partial_succeeded event")
        };
        let image = event.into_image();
        assert_eq!(serde_json::to_value(&image).unwrap(), json!({"b64_json": "AAAA", "size": "2048x2048", "x": 1}));
    }
}
