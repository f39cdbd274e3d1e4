//! Multipart form building: any edit request encodes into a body that a maintained multipart parser
//! (multer, as the emulator uses) reads back to exactly the same fields, files and bytes.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use seedream_client::multipart::encode;
use seedream_types::{EditRequest, FormPart, ImageCount, ImageFile, PartValue};

#[derive(Debug, arbitrary::Arbitrary)]
struct Input {
    model: String,
    prompt: String,
    files: Vec<(String, Vec<u8>)>,
    mask: Option<Vec<u8>>,
    n: Option<String>,
}

fuzz_target!(|input: Input| {
    let mut files = input.files.into_iter().take(4).map(|(name, bytes)| ImageFile::new(name, bytes));
    let Some(first) = files.next() else { return };
    let mut request = EditRequest::new(input.model, input.prompt, first);
    request.images.extend(files);
    request.mask = input.mask.map(|bytes| ImageFile::new("mask.png", bytes));
    request.n = input.n.map(ImageCount::Text);

    let form = encode(&request);
    let boundary = form.content_type.strip_prefix("multipart/form-data; boundary=").expect("boundary").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let parsed: Vec<(String, Option<String>, Bytes)> = runtime.block_on(async {
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(form.body.clone())]);
        let mut multipart = multer::Multipart::new(body, boundary);
        let mut fields = Vec::new();
        while let Some(field) = multipart.next_field().await.expect("our own form parses") {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            fields.push((name, file_name, field.bytes().await.expect("field bytes")));
        }
        fields
    });

    let parts: Vec<FormPart<'_>> = request.form_parts();
    assert_eq!(parsed.len(), parts.len());
    for (part, (name, file_name, bytes)) in parts.iter().zip(&parsed) {
        assert_eq!(part.name, name);
        match &part.value {
            PartValue::Text(text) => assert_eq!(text.as_bytes(), &bytes[..]),
            PartValue::File(file) => {
                assert_eq!(&file.bytes[..], &bytes[..]);
                // Quotes and control characters in names are percent-encoded, so only plain names compare.
                if !file.file_name.contains(|c: char| c == '"' || c == '%' || c == '\\' || c.is_ascii_control()) {
                    assert_eq!(file_name.as_deref(), Some(file.file_name.as_str()));
                }
            }
        }
    }
});
