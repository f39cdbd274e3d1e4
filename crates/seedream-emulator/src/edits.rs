//! `POST /v1/images/edits`: the multipart form (parsed with `multer`) into a validated
//! [`EditRequest`], then the generations request it stands for. The form's `output_format` and
//! `background`, which [`EditRequest`] has no fields for, are set on that request and checked as the
//! JSON path checks them.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, header};
use seedream_types::edit::field;
use seedream_types::{
    Background, EditRequest, GenerateRequest, ImageCount, ImageFile, OutputFormat, ResponseFormat, Size,
};

use crate::error::{self, ApiError};

// Fields of the generations request that `seedream_types::edit::field` does not list; relays take
// them under their JSON names.
/// `png` or `jpeg` (text).
const OUTPUT_FORMAT: &str = "output_format";
/// `opaque` or `transparent` (text).
const BACKGROUND: &str = "background";

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
    let mut request = EditRequest {
        model: String::new(),
        prompt: String::new(),
        images: Vec::new(),
        mask: None,
        n: None,
        size: None,
        response_format: None,
        watermark: None,
    };
    let (mut output_format, mut background) = (None, None);
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
            OUTPUT_FORMAT => output_format = Some(OutputFormat::from_wire(text()?.trim())),
            BACKGROUND => background = Some(Background::from_wire(text()?.trim())),
            field::IMAGE | "image[]" => request.images.push(file(file_name, media_type, bytes)),
            field::MASK => request.mask = Some(file(file_name, media_type, bytes)),
            // Relays take more fields than the emulator models; like them, ignore the rest.
            _ => {}
        }
    }
    if let Err(error) = request.validate() {
        let generate = request.to_generate_request();
        let family = seedream_types::catalog::family_of(&generate.model);
        return Err(ApiError::from_validation(&error, family, &generate));
    }
    let mut generate = request.to_generate_request();
    if output_format.is_some() || background.is_some() {
        generate.output_format = output_format;
        generate.background = background;
        // The form's own fields passed above; these get the JSON path's checks against the row.
        error::validate(&generate)?;
    }
    Ok(generate)
}

fn file(file_name: String, media_type: Option<String>, bytes: Bytes) -> ImageFile {
    let mut file = ImageFile::new(file_name, bytes);
    if let Some(media_type) = media_type.filter(|_| file.media_type == "application/octet-stream") {
        file.media_type = media_type;
    }
    file
}
