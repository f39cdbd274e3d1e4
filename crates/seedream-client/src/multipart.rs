//! `multipart/form-data` encoding of an [`EditRequest`]'s form parts (RFC 7578), into one buffer
//! that each retry attempt reuses.

use bytes::{BufMut, Bytes, BytesMut};
use seedream_types::{EditRequest, PartValue};

/// An encoded form: its body and the `Content-Type` header value naming the boundary.
#[derive(Debug, Clone)]
pub struct Form {
    /// `multipart/form-data; boundary=…`
    pub content_type: String,
    /// The whole body, cheap to clone for each attempt.
    pub body: Bytes,
}

/// Encodes the request's parts (text fields, then files) with a random boundary.
pub fn encode(request: &EditRequest) -> Form {
    let boundary = format!("seedream-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    encode_with_boundary(request, &boundary)
}

/// Encodes with a given boundary (which must not occur in any part's content).
pub fn encode_with_boundary(request: &EditRequest, boundary: &str) -> Form {
    let parts = request.form_parts();
    let size: usize = parts
        .iter()
        .map(|part| {
            256 + boundary.len()
                + match &part.value {
                    PartValue::Text(text) => text.len(),
                    PartValue::File(file) => file.bytes.len() + file.file_name.len() + file.media_type.len(),
                }
        })
        .sum();
    let mut body = BytesMut::with_capacity(size + boundary.len() + 8);
    for part in &parts {
        body.put_slice(b"--");
        body.put_slice(boundary.as_bytes());
        body.put_slice(b"\r\nContent-Disposition: form-data; name=\"");
        body.put_slice(quote(part.name).as_bytes());
        match &part.value {
            PartValue::Text(text) => {
                body.put_slice(b"\"\r\n\r\n");
                body.put_slice(text.as_bytes());
            }
            PartValue::File(file) => {
                body.put_slice(b"\"; filename=\"");
                body.put_slice(quote(&file.file_name).as_bytes());
                body.put_slice(b"\"\r\nContent-Type: ");
                body.put_slice(header_text(&file.media_type).as_bytes());
                body.put_slice(b"\r\n\r\n");
                body.put_slice(&file.bytes);
            }
        }
        body.put_slice(b"\r\n");
    }
    body.put_slice(b"--");
    body.put_slice(boundary.as_bytes());
    body.put_slice(b"--\r\n");
    Form { content_type: format!("multipart/form-data; boundary={boundary}"), body: body.freeze() }
}

/// A name safe inside a quoted header parameter: quotes, backslashes (escapes in a quoted string) and
/// control characters percent-encoded, as browsers do for quotes and line breaks; parsers reject other
/// control bytes.
fn quote(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len());
    for c in name.chars() {
        if c == '"' || c == '\\' || c.is_ascii_control() {
            quoted.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            quoted.push(c);
        }
    }
    quoted
}

/// Header text without line breaks.
fn header_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use seedream_types::{ImageCount, ImageFile};

    #[test]
    fn encodes_each_part_once_with_exact_bytes() {
        let png = ImageFile::new("a\"b\u{4}.png", Bytes::from_static(b"\x89PNG\r\n\x1a\n--x"));
        let mut request = EditRequest::new("m", "make it blue", png);
        request.n = Some(ImageCount::Text("2".into()));
        let form = encode_with_boundary(&request, "BOUND");
        assert_eq!(form.content_type, "multipart/form-data; boundary=BOUND");
        let expected = b"--BOUND\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n\
--BOUND\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nmake it blue\r\n\
--BOUND\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n2\r\n\
--BOUND\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a%22b%04.png\"\r\nContent-Type: image/png\r\n\r\n\
\x89PNG\r\n\x1a\n--x\r\n--BOUND--\r\n";
        assert_eq!(&form.body[..], &expected[..], "{}", String::from_utf8_lossy(&form.body));
    }

    /// Every part of `form` as (name, file name, content), read by `multer` (the emulator's parser).
    async fn read_back(form: &Form) -> Vec<(String, Option<String>, Vec<u8>)> {
        let boundary = multer::parse_boundary(&form.content_type).unwrap();
        let body = form.body.clone();
        let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
        let mut parsed = multer::Multipart::new(stream, boundary);
        let mut parts = Vec::new();
        while let Some(part) = parsed.next_field().await.unwrap() {
            let (name, file) = (part.name().unwrap().to_owned(), part.file_name().map(str::to_owned));
            parts.push((name, file, part.bytes().await.unwrap().to_vec()));
        }
        parts
    }

    #[tokio::test]
    async fn the_generations_fields_and_extra_are_read_back_as_sent() {
        use seedream_types::{Background, OptimizePromptMode, OutputFormat, Tool};
        let png = ImageFile::new("in.png", Bytes::from_static(b"\x89PNG\r\n\x1a\n"));
        let request = EditRequest::new("doubao-seedream-5-0-pro-260628", "make it night", png.clone())
            .with_seed(-1)
            .with_guidance_scale(5.5)
            .with_stream(false)
            .with_output_format(OutputFormat::Png)
            .with_background(Background::Transparent)
            .with_optimize_prompt(OptimizePromptMode::Standard)
            .with_tool(Tool::web_search())
            .with_extra("future_flag", serde_json::Value::Bool(true))
            .with_extra("output_format", serde_json::Value::from("jpeg"))
            .with_mask(png);
        let text = |name: &str, value: &str| (name.to_owned(), None, value.as_bytes().to_vec());
        let file = |name: &str| (name.to_owned(), Some("in.png".to_owned()), b"\x89PNG\r\n\x1a\n".to_vec());
        assert_eq!(
            read_back(&encode(&request)).await,
            [
                text("model", "doubao-seedream-5-0-pro-260628"),
                text("prompt", "make it night"),
                text("seed", "-1"),
                text("guidance_scale", "5.5"),
                text("stream", "false"),
                text("output_format", "png"),
                text("background", "transparent"),
                text("optimize_prompt_options", r#"{"mode":"standard"}"#),
                text("tools", r#"[{"type":"web_search"}]"#),
                text("future_flag", "true"),
                file("image"),
                file("mask"),
            ],
            "each field once, under its JSON name; the typed output_format wins over extra's"
        );
    }

    #[test]
    fn random_boundaries_differ() {
        let request = EditRequest::new("m", "p", ImageFile::new("x.png", Bytes::from_static(b"x")));
        assert_ne!(encode(&request).content_type, encode(&request).content_type);
    }
}
