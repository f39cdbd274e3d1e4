//! The `200` body of both endpoints: images (or per-image errors) and usage.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use crate::error::ApiErrorBody;
use crate::image::ImageFormat;
use crate::request::{Background, OutputFormat, Tool};
use crate::size::{Dimensions, Size};

/// The response of `POST /images/generations` and `/images/edits`.
///
/// Lenient: every field but `data` may be missing (relays drop `model`), and unknown fields are kept.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ImagesResponse {
    /// The model id that served the request (Ark sends it; relays may not).
    pub model: Option<String>,
    /// Unix time of creation, in seconds.
    pub created: Option<i64>,
    /// One item per image: a success or, inside a group, a per-image error.
    #[serde(default)]
    pub data: Vec<ImageItem>,
    /// Token and image accounting, in Ark's or a relay's shape.
    pub usage: Option<Usage>,
    /// The tools the request enabled (5.0 lite with `tools`).
    pub tools: Option<Vec<Tool>>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `data[]` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ImageItem {
    /// `{"error": {...}}`: this image failed (for example moderation) while others succeeded.
    Failed(FailedImage),
    /// `{"url": ...}` or `{"b64_json": ...}`.
    Image(GeneratedImage),
}

impl ImageItem {
    /// The image, when this item succeeded.
    pub fn image(&self) -> Option<&GeneratedImage> {
        match self {
            ImageItem::Image(image) => Some(image),
            ImageItem::Failed(_) => None,
        }
    }

    /// The image, moved out, when this item succeeded (no copy of a large `b64_json`).
    pub fn into_image(self) -> Option<GeneratedImage> {
        match self {
            ImageItem::Image(image) => Some(image),
            ImageItem::Failed(_) => None,
        }
    }

    /// The error, when this item failed.
    pub fn error(&self) -> Option<&ApiErrorBody> {
        match self {
            ImageItem::Failed(failed) => Some(&failed.error),
            ImageItem::Image(_) => None,
        }
    }
}

/// A failed image inside `data[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailedImage {
    /// Why it failed.
    pub error: ApiErrorBody,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A generated image, or with layer decomposition the base image (`z_index` 0) or one layer.
///
/// Lenient per field: a known field whose value is not what the API describes (a `bounding_box` that
/// is not an object of number lists, a `z_index` in quotes) is kept as sent in `extra`, where
/// [`malformed_fields`](Self::malformed_fields) finds it, rather than failing the whole answer and
/// the images paid for with it.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct GeneratedImage {
    /// Download link (with `response_format: url`), valid for 24 hours.
    pub url: Option<String>,
    /// The image file, base64-encoded (with `response_format: b64_json`). JPEG or PNG: see
    /// [`output_format`](Self::output_format), or sniff the bytes.
    pub b64_json: Option<String>,
    /// Actual `WxH` (4.x and 5.x); a preset request does not fix the shape, this does.
    pub size: Option<String>,
    /// `jpeg` or `png` (5.0 pro and flash state it; 5.0 lite does not, even for PNG).
    pub output_format: Option<OutputFormat>,
    /// Whether this image's background came out `transparent` or `opaque` (5.5 states it).
    pub background: Option<Background>,
    /// Layer decomposition: 0 for the base image, then 1, 2, … from the bottom up.
    pub z_index: Option<i64>,
    /// Layer decomposition: where the layer sits on the base image.
    pub bounding_box: Option<BoundingBox>,
    /// Layer decomposition: the layer's short name.
    pub name: Option<String>,
    /// Layer decomposition: what the layer shows.
    pub description: Option<String>,
    /// The prompt after rewriting (some relays).
    pub revised_prompt: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for GeneratedImage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut extra = Map::<String, Value>::deserialize(deserializer)?;
        // Strings are moved out, not copied (`b64_json` is megabytes).
        let mut text = |key: &str| match extra.remove(key) {
            Some(Value::String(text)) => Some(text),
            Some(Value::Null) | None => None,
            Some(other) => {
                extra.insert(key.to_owned(), other);
                None
            }
        };
        let (url, b64_json, size) = (text("url"), text("b64_json"), text("size"));
        let (name, description, revised_prompt) = (text("name"), text("description"), text("revised_prompt"));
        Ok(Self {
            url,
            b64_json,
            size,
            output_format: take(&mut extra, "output_format"),
            background: take(&mut extra, "background"),
            z_index: take(&mut extra, "z_index"),
            bounding_box: take(&mut extra, "bounding_box"),
            name,
            description,
            revised_prompt,
            extra,
        })
    }
}

/// Moves `key` out of `extra` when it holds a `T` (or `null`); anything else stays where it was.
pub(crate) fn take<T: serde::de::DeserializeOwned>(extra: &mut Map<String, Value>, key: &str) -> Option<T> {
    let value = extra.remove(key)?;
    if value.is_null() {
        return None;
    }
    match T::deserialize(&value) {
        Ok(typed) => Some(typed),
        Err(_) => {
            extra.insert(key.to_owned(), value);
            None
        }
    }
}

/// A layer's place on the base image. Numbers are kept as sent (integers stay integers).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BoundingBox {
    /// `[x1, y1, x2, y2]` in base-image pixels.
    pub absolute: Option<Vec<serde_json::Number>>,
    /// The same on a 0–1000 scale.
    pub normalized: Option<Vec<serde_json::Number>>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BoundingBox {
    /// A box from pixel corners and their 0–1000 equivalents.
    pub fn new(absolute: [u32; 4], normalized: [u32; 4]) -> Self {
        Self {
            absolute: Some(absolute.iter().map(|&v| v.into()).collect()),
            normalized: Some(normalized.iter().map(|&v| v.into()).collect()),
            extra: Map::new(),
        }
    }

    /// `absolute` as `[x1, y1, x2, y2]`, when it has four numbers.
    pub fn absolute_corners(&self) -> Option<[f64; 4]> {
        corners(self.absolute.as_deref()?)
    }

    /// `normalized` as `[x1, y1, x2, y2]` on 0–1000, when it has four numbers.
    pub fn normalized_corners(&self) -> Option<[f64; 4]> {
        corners(self.normalized.as_deref()?)
    }
}

fn corners(numbers: &[serde_json::Number]) -> Option<[f64; 4]> {
    match numbers {
        [a, b, c, d] => Some([a.as_f64()?, b.as_f64()?, c.as_f64()?, d.as_f64()?]),
        _ => None,
    }
}

impl GeneratedImage {
    /// The file format the item states, when it states one the service defines. The bytes are the
    /// final word: [`crate::image::sniff_format`].
    pub fn stated_format(&self) -> Option<ImageFormat> {
        match self.output_format.as_ref()? {
            OutputFormat::Png => Some(ImageFormat::Png),
            OutputFormat::Jpeg => Some(ImageFormat::Jpeg),
            OutputFormat::Other(word) => ImageFormat::from_word(&word.to_ascii_lowercase()),
        }
    }

    /// The known fields whose value is not what the API describes, as sent (kept in `extra`, so that
    /// one odd field costs that field, not the answer).
    pub fn malformed_fields(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        const KNOWN: [&str; 9] = [
            "url",
            "b64_json",
            "size",
            "output_format",
            "z_index",
            "bounding_box",
            "name",
            "description",
            "revised_prompt",
        ];
        KNOWN.into_iter().filter_map(|key| Some((key, self.extra.get(key)?)))
    }

    /// Whether this item is one layer of a decomposition (not the base image).
    pub fn is_layer(&self) -> bool {
        self.z_index.is_some_and(|z| z > 0)
    }

    /// `size` parsed as `WxH`, when it is one.
    pub fn dimensions(&self) -> Option<Dimensions> {
        match Size::from_wire(self.size.as_deref()?) {
            Size::Pixels(dims) => Some(dims),
            _ => None,
        }
    }
}

/// Usage in every shape seen: Ark's (`generated_images`, `output_tokens`, `total_tokens`) and the
/// relays' (`prompt_tokens`, `completion_tokens`, `*_details`). All optional; unknown fields kept.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Usage {
    /// Reference images the request carried (5.0 pro and flash; 0 without references).
    pub input_images: Option<u64>,
    /// Images generated successfully (Ark).
    pub generated_images: Option<u64>,
    /// ≈ Σ W·H / 256 over the successful images.
    pub output_tokens: Option<u64>,
    /// Total tokens billed.
    pub total_tokens: Option<u64>,
    /// Relays: prompt tokens (0 for images).
    pub prompt_tokens: Option<u64>,
    /// Relays: completion tokens.
    pub completion_tokens: Option<u64>,
    /// Relays: details object, kept as sent.
    pub prompt_tokens_details: Option<Value>,
    /// Relays: details object, kept as sent.
    pub completion_tokens_details: Option<Value>,
    /// Tool calls billed, with `tools`.
    pub tool_usage: Option<ToolUsage>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.tool_usage`: how often each tool ran.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolUsage {
    /// Web searches made.
    pub web_search: Option<u64>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A body that is not the JSON it should be; carries the start of the body so an HTML error page
/// from a relay can be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the response is not valid JSON ({reason}); the body starts with: {body_start:?}")]
pub struct ParseError {
    /// What the JSON parser said.
    pub reason: String,
    /// Up to the first 512 bytes of the body, as text.
    pub body_start: String,
}

/// How much of a bad body an error carries.
pub const BODY_START_LEN: usize = 512;

impl ParseError {
    /// An error for `body`, keeping its first [`BODY_START_LEN`] bytes.
    pub fn new(reason: impl Into<String>, body: &[u8]) -> Self {
        let end = body.len().min(BODY_START_LEN);
        Self { reason: reason.into(), body_start: String::from_utf8_lossy(&body[..end]).into_owned() }
    }
}

/// Parses a JSON body into `T`, keeping the body's start in the error.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    // The body checked as UTF-8 once, in one pass, rather than string by string as `from_slice`
    // checks it (a small answer parses in a fifth fewer instructions); bytes that are not UTF-8
    // go to `from_slice`, which names where.
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    parsed.map_err(|e| ParseError::new(e.to_string(), body))
}

impl ImagesResponse {
    /// Parses a response body.
    pub fn from_slice(body: &[u8]) -> Result<Self, ParseError> {
        parse_json(body)
    }

    /// The successful images.
    pub fn images(&self) -> impl Iterator<Item = &GeneratedImage> {
        self.data.iter().filter_map(ImageItem::image)
    }

    /// The per-image errors, with their index in `data`.
    pub fn errors(&self) -> impl Iterator<Item = (usize, &ApiErrorBody)> {
        self.data.iter().enumerate().filter_map(|(i, item)| Some((i, item.error()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_parse_as_serde_json_parses_their_bytes_and_bytes_not_utf8_are_refused_alike() {
        let good = br#"{"model": "m\u00e9", "created": 1, "data": [{"url": "https://x/\u4e2d.png", "size": "1x1"}]}"#;
        let parsed: ImagesResponse = parse_json(good).unwrap();
        assert_eq!(parsed, serde_json::from_slice::<ImagesResponse>(good).unwrap());
        assert_eq!(parsed.model.as_deref(), Some("m\u{e9}"));
        for bad in [&b"{\"model\": \"m\xff\", \"data\": []}"[..], b"{\"data\": [] \xc3}", b"\xef\xbb"] {
            let error = parse_json::<ImagesResponse>(bad).unwrap_err();
            let expected = serde_json::from_slice::<ImagesResponse>(bad).unwrap_err();
            assert_eq!(error.reason, expected.to_string(), "{bad:?}");
        }
    }

    #[test]
    fn mixed_items_and_ark_usage_parse_and_round_trip() {
        let body = json!({
            "model": "doubao-seedream-4-0-250828", "created": 1757469561,
            "data": [{"url": "https://x/0.jpeg", "size": "1760x2368"},
                     {"b64_json": "AAAA", "size": "2048x2048"},
                     {"error": {"code": "OutputImageSensitiveContentDetected", "message": "m"}}],
            "usage": {"generated_images": 2, "output_tokens": 16280, "total_tokens": 16280}
        });
        let resp: ImagesResponse = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(resp.images().count(), 2);
        assert_eq!(
            resp.errors().map(|(i, e)| (i, e.code.as_str())).collect::<Vec<_>>(),
            [(2, "OutputImageSensitiveContentDetected")]
        );
        assert_eq!(resp.images().next().unwrap().dimensions(), Some(Dimensions::new(1760, 2368)));
        assert_eq!(serde_json::to_value(&resp).unwrap(), body);
    }

    #[test]
    fn a_malformed_known_field_costs_that_field_not_the_answer() {
        let body = json!({
            "data": [{"b64_json": "AAAA", "z_index": 0},
                     {"b64_json": "BBBB", "z_index": 1, "bounding_box": "top left", "name": "sky"},
                     {"url": "https://x/2.png", "z_index": "2", "size": 512, "output_format": 1,
                      "bounding_box": {"absolute": [1, "2", 3, 4]}},
                     {"error": {"code": "OutputImageSensitiveContentDetected", "message": "m"}}]
        });
        let response: ImagesResponse = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(response.images().count(), 3);
        assert_eq!(response.errors().count(), 1);
        let images: Vec<&GeneratedImage> = response.images().collect();
        assert_eq!(images[0].malformed_fields().count(), 0);
        let fields = |image: &GeneratedImage| image.malformed_fields().map(|(field, _)| field).collect::<Vec<_>>();
        assert_eq!(fields(images[1]), ["bounding_box"]);
        assert_eq!((images[1].z_index, images[1].name.as_deref()), (Some(1), Some("sky")));
        assert_eq!(fields(images[2]), ["size", "output_format", "z_index", "bounding_box"]);
        assert_eq!(images[2].url.as_deref(), Some("https://x/2.png"));
        assert_eq!(images[1].malformed_fields().next().unwrap().1, &json!("top left"));
        assert_eq!(serde_json::to_value(&response).unwrap(), body, "kept as sent");
        // null is absence, as before.
        let image: GeneratedImage = serde_json::from_value(json!({"url": "u", "size": null})).unwrap();
        assert_eq!((image.size, image.extra.len()), (None, 0));
    }

    #[test]
    fn non_json_is_an_error_carrying_the_body_start() {
        let html = b"<html><body>502 Bad Gateway</body></html>";
        let err = ImagesResponse::from_slice(html).unwrap_err();
        assert!(err.body_start.contains("502 Bad Gateway"));
        assert!(err.to_string().contains("<html>"));
        let long = vec![b'x'; 5000];
        assert_eq!(ImagesResponse::from_slice(&long).unwrap_err().body_start.len(), BODY_START_LEN);
    }
}
