//! `POST /v1/images/edits`: the multipart form (parsed with `multer`) into a validated
//! [`EditRequest`], then the generations request it stands for. Its generations fields (`seed`,
//! `guidance_scale`, `output_format`, `background`, `stream`, `tools`, `optimize_prompt_options`) are
//! read under the names the client sends them ([`field`]) and checked by the catalog row as the JSON
//! path checks them. Every other generations field (`layer_decomposition`,
//! `sequential_image_generation(_options)`, `image_guidance_scale`, …) and the bracket form some SDKs
//! send (`tools[0][type]=web_search`, `optimize_prompt_options[mode]=fast`) become fields of the
//! generations JSON object, which is then read and validated as the JSON path reads it.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, header};
use seedream_types::edit::field;
use seedream_types::{
    Background, EditRequest, GenerateRequest, ImageCount, ImageFile, OptimizePromptOptions, OutputFormat,
    ResponseFormat, Size, Tool,
};

use serde_json::{Map, Value};

use crate::error::{self, ApiError};

/// Parses and validates the form; the answer is the equivalent generations request.
pub(crate) async fn parse(headers: &HeaderMap, body: Bytes) -> Result<GenerateRequest, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        ApiError::invalid(
            "Content-Type",
            format!("The Content-Type must be multipart/form-data with a boundary, not {content_type:?}."),
        )
    })?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut request = EditRequest::default();
    // Everything the typed edit does not model, as the generations JSON would hold it.
    let mut json_fields = Map::new();
    let malformed = |e: multer::Error| ApiError::invalid("", format!("The multipart body is malformed: {e}."));
    while let Some(part) = form.next_field().await.map_err(malformed)? {
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part.file_name().unwrap_or("image").to_owned();
        let media_type = part.content_type().map(ToString::to_string);
        let bytes = part.bytes().await.map_err(malformed)?;
        let text = || {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::invalid(name.clone(), format!("The field {name:?} is not UTF-8 text.")))
        };
        match name.as_str() {
            field::MODEL => request.model = text()?,
            field::PROMPT => request.prompt = text()?,
            field::N => request.n = Some(ImageCount::Text(text()?)),
            field::SIZE => request.size = Some(Size::from_wire(text()?.trim())),
            field::RESPONSE_FORMAT => request.response_format = Some(ResponseFormat::from_wire(text()?.trim())),
            field::WATERMARK => {
                request.watermark = Some(match text()?.trim() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(ApiError::invalid(
                            field::WATERMARK,
                            format!("watermark must be true or false, not {other:?}."),
                        ));
                    }
                });
            }
            field::SEED => request.seed = Some(typed(&name, text()?.trim().parse::<i64>())?),
            field::GUIDANCE_SCALE => {
                let scale = text()?.trim().parse::<f64>().map_err(|e| e.to_string());
                let finite = scale.and_then(|s| if s.is_finite() { Ok(s) } else { Err("not a number".into()) });
                request.guidance_scale = Some(typed(&name, finite)?);
            }
            field::STREAM => request.stream = Some(typed(&name, text()?.trim().parse::<bool>())?),
            field::OUTPUT_FORMAT => request.output_format = Some(OutputFormat::from_wire(text()?.trim())),
            field::BACKGROUND => request.background = Some(Background::from_wire(text()?.trim())),
            field::OPTIMIZE_PROMPT_OPTIONS => {
                request.optimize_prompt_options =
                    Some(typed(&name, serde_json::from_str::<OptimizePromptOptions>(&text()?))?);
            }
            field::TOOLS => request.tools = Some(typed(&name, serde_json::from_str::<Vec<Tool>>(&text()?))?),
            field::IMAGE | "image[]" => request.images.push(file(file_name, media_type, bytes)),
            field::MASK => request.mask = Some(file(file_name, media_type, bytes)),
            _ => insert_form_value(&mut json_fields, &name, text()?)?,
        }
    }
    // As on the JSON path (`error::validate`), the service knows its aliases: their family's rules apply.
    let family = seedream_types::catalog::family_of(&request.model);
    let generate = request.to_generate_request();
    if let Err(error) = request.validate_for(family) {
        return Err(ApiError::from_validation(&error, family, &generate));
    }
    if json_fields.is_empty() {
        return Ok(generate);
    }
    // One path: the edit's JSON with the other form fields merged in, read and checked as generations.
    let Ok(Value::Object(mut object)) = serde_json::to_value(&generate) else {
        return Err(ApiError::invalid("", "The edit could not be turned into a generations request."));
    };
    for (name, value) in json_fields {
        merge(object.entry(name).or_insert(Value::Null), value);
    }
    let generate = crate::service::request_from_object(object)?;
    error::validate(&generate)?;
    Ok(generate)
}

/// Puts a form field into `object`: `a[b][0][c]` at that path (digits index arrays), its text as the
/// JSON value it spells (`true`, `3`, `{"max_images":3}`), else as a string.
fn insert_form_value(object: &mut Map<String, Value>, name: &str, text: String) -> Result<(), ApiError> {
    let malformed = || ApiError::invalid(name, format!("The form field name {name:?} is malformed."));
    let (head, mut rest) = name.find('[').map_or((name, ""), |at| name.split_at(at));
    let mut path = Vec::new();
    while let Some(after) = rest.strip_prefix('[') {
        let end = after.find(']').ok_or_else(malformed)?;
        path.push(&after[..end]);
        rest = &after[end + 1..];
    }
    if head.is_empty() || !rest.is_empty() {
        return Err(malformed());
    }
    let mut slot = object.entry(head.to_owned()).or_insert(Value::Null);
    for key in path {
        slot = match key.parse::<usize>() {
            Ok(index) if index < 1000 => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let items = slot.as_array_mut().expect("just made an array");
                if items.len() <= index {
                    items.resize(index + 1, Value::Null);
                }
                &mut items[index]
            }
            _ => {
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                slot.as_object_mut().expect("just made an object").entry(key.to_owned()).or_insert(Value::Null)
            }
        };
    }
    *slot = form_value(text);
    Ok(())
}

/// A form value as JSON: booleans, numbers, objects and arrays as they read, anything else a string.
fn form_value(text: String) -> Value {
    let trimmed = text.trim();
    let spelled = matches!(trimmed, "true" | "false")
        || trimmed.starts_with(['{', '['])
        || (trimmed.parse::<f64>().is_ok_and(f64::is_finite) && !trimmed.starts_with('+'));
    match spelled.then(|| serde_json::from_str::<Value>(trimmed)) {
        Some(Ok(value)) => value,
        _ => Value::String(text),
    }
}

/// `value` into `slot`: objects field by field, anything else replaces.
fn merge(slot: &mut Value, value: Value) {
    match (slot, value) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (slot, value) => *slot = value,
    }
}

/// A form value parsed as its field's type, or the JSON path's wrong-type refusal naming the field.
fn typed<T>(name: &str, parsed: Result<T, impl ToString>) -> Result<T, ApiError> {
    parsed
        .map_err(|e| ApiError::invalid(name, format!("The parameter {name:?} has the wrong type: {}.", e.to_string())))
}

fn file(file_name: String, media_type: Option<String>, bytes: Bytes) -> ImageFile {
    let mut file = ImageFile::new(file_name, bytes);
    if let Some(media_type) = media_type.filter(|_| file.media_type == "application/octet-stream") {
        file.media_type = media_type;
    }
    file
}
