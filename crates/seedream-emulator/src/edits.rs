//! `POST /v1/images/edits`: the multipart form (parsed with `multer`) into a validated
//! [`EditRequest`], then the generations request it stands for. Its generations fields (`seed`,
//! `guidance_scale`, `output_format`, `background`, `stream`, `tools`, `optimize_prompt_options`) are
//! read under the names the client sends them ([`field`]) and checked by the catalog row as the JSON
//! path checks them.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, header};
use seedream_types::edit::field;
use seedream_types::{
    Background, EditRequest, GenerateRequest, ImageCount, ImageFile, OptimizePromptOptions, OutputFormat,
    ResponseFormat, Size, Tool,
};

use crate::error::ApiError;

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
            // Relays take more fields than the emulator models; like them, ignore the rest.
            _ => {}
        }
    }
    // As on the JSON path (`error::validate`), the service knows its aliases: their family's rules apply.
    let family = seedream_types::catalog::family_of(&request.model);
    let generate = request.to_generate_request();
    if let Err(error) = request.validate_for(family) {
        return Err(ApiError::from_validation(&error, family, &generate));
    }
    Ok(generate)
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
