//! What one `generate` or `edit` call sends ([`Job`]), and what follows from it: its model, the images
//! it may make, the model's rules, the body as it goes out.

use seedream_types::{EditRequest, GenerateRequest, ImageCount, ImageFormat, ValidationError, Violation};
use serde_json::Value;

use crate::output::count;
use crate::save::requested_format;

/// What a run sends.
#[derive(Debug)]
pub enum Job {
    /// A generations request (an edit with `--stream` too: see `commands::edit`).
    Generate(GenerateRequest),
    /// An edit, sent as a multipart form (on Ark, as the generations request it stands for).
    Edit(EditRequest),
}

impl Job {
    /// Whether the images come as server-sent events, each saved as it arrives.
    pub fn streams(&self) -> bool {
        match self {
            Job::Generate(request) => request.is_stream(),
            Job::Edit(request) => request.is_stream(),
        }
    }

    /// The model id as sent.
    pub fn model(&self) -> &str {
        match self {
            Job::Generate(request) => &request.model,
            Job::Edit(request) => &request.model,
        }
    }

    /// The prompt as sent.
    pub fn prompt(&self) -> &str {
        match self {
            Job::Generate(request) => &request.prompt,
            Job::Edit(request) => &request.prompt,
        }
    }

    /// What the run asks for, in words: `up to 3 images`, `a base image and up to 16 layers`.
    pub fn wanted(&self) -> String {
        let number = match self {
            Job::Generate(request) if request.is_layer_decomposition() => {
                let layers = crate::catalog::family_of(&request.model)
                    .and_then(|f| f.layers.as_ref())
                    .map(|l| l.default_layers());
                return match layers {
                    Some(max) => format!("a base image and up to {max} layers"),
                    None => "a base image and its layers".into(),
                };
            }
            Job::Generate(request) => request.max_output_images(),
            Job::Edit(request) => request.n.as_ref().and_then(ImageCount::value).unwrap_or(1).clamp(1, 15) as usize,
        };
        format!("up to {}", count(number as u64, "image"))
    }

    /// The model's rules, from this run's catalog: warnings, or what breaks them.
    pub fn validate(&self) -> Result<Vec<Violation>, ValidationError> {
        match self {
            Job::Generate(request) => request.validate_for(crate::catalog::family_of(&request.model)),
            Job::Edit(request) => request.validate_for(crate::catalog::family_of(&request.model)),
        }
    }

    /// Whether the request asks for layer decomposition (an edit only through an extra field).
    pub fn asks_layers(&self) -> bool {
        match self {
            Job::Generate(request) => request.is_layer_decomposition(),
            Job::Edit(request) => request.extra.get("layer_decomposition") == Some(&Value::Bool(true)),
        }
    }

    /// The file format asked for: the extension of bytes that neither show nor state theirs.
    pub fn requested_format(&self) -> ImageFormat {
        match self {
            Job::Generate(request) => requested_format(request.output_format.as_ref()),
            Job::Edit(request) => requested_format(request.output_format.as_ref()),
        }
    }

    /// What goes out, as JSON: the generations body, or an edit's form fields (files as data URLs) —
    /// or, on Ark (no edits endpoint), the generations body the client turns the edit into.
    pub fn sent(&self, ark: bool) -> (&'static str, Value) {
        match self {
            Job::Generate(request) => ("images/generations", serde_json::to_value(request).unwrap_or(Value::Null)),
            Job::Edit(request) if ark => {
                ("images/generations", serde_json::to_value(request.to_generate_request()).unwrap_or(Value::Null))
            }
            Job::Edit(request) => {
                let mut form = serde_json::Map::new();
                for part in request.form_parts() {
                    let value = match part.value {
                        seedream_types::edit::PartValue::Text(text) => Value::String(text),
                        seedream_types::edit::PartValue::File(file) => Value::String(file.to_data_url()),
                    };
                    match form.get_mut(part.name) {
                        Some(Value::Array(items)) => items.push(value),
                        Some(first) => *first = Value::Array(vec![first.take(), value]),
                        None => {
                            form.insert(part.name.to_owned(), value);
                        }
                    }
                }
                ("images/edits (multipart/form-data)", Value::Object(form))
            }
        }
    }

    /// The seed asked for.
    pub fn seed(&self) -> Option<i64> {
        match self {
            Job::Generate(request) => request.seed,
            Job::Edit(request) => request.seed,
        }
    }
}
