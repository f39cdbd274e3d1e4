//! The service's error body and what a caller can do about each kind of error.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

/// `{"code", "message", "param", "type"}`: the service's description of one error. Also the shape
/// of a failed image inside `data[]` and of an in-stream error.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiErrorBody {
    /// Machine-readable code, such as `InvalidParameter` or `OutputImageSensitiveContentDetected`
    /// (empty when the body had none; then it is not sent back either).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    /// Human-readable text; the service ends it with `Request id: …` (empty when the body had none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The request field at fault, when there is one.
    pub param: Option<String>,
    /// The error family, such as `BadRequest`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Fields this version does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ApiErrorBody {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into(), param: None, kind: None, extra: Map::new() }
    }

    /// What this error means for a caller, given the HTTP status it came with (if any).
    pub fn class(&self, status: Option<u16>) -> ErrorClass {
        ErrorClass::classify(status, &self.code)
    }
}

/// `{"error": {...}}`: the body of every non-2xx JSON response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ApiErrorBody,
}

/// What an error means for the caller: the classes of the spec's error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// 400 `MissingParameter` / `InvalidParameter`: fix the request.
    InvalidRequest,
    /// 400 `*SensitiveContentDetected`: the input or output failed moderation.
    SensitiveContent,
    /// 401 `AuthenticationError`: the API key is missing or wrong.
    Authentication,
    /// 403 `AccessDenied`, `AccountOverdueError`, `OperationDenied.*`.
    Forbidden,
    /// 404 `InvalidEndpointOrModel.NotFound`, `ModelNotOpen`.
    NotFound,
    /// 429 rate limits and overload: retry later.
    RateLimited,
    /// 429 `QuotaExceeded` / `SetLimitExceeded`: retrying cannot help.
    QuotaExhausted,
    /// 5xx: the service failed; retry.
    ServerError,
    /// Anything else.
    Other,
}

// Code prefixes in the order they are tried; quota codes come before the generic 429 fallback.
const CODE_CLASSES: [(&str, ErrorClass); 20] = [
    ("MissingParameter", ErrorClass::InvalidRequest),
    ("InvalidParameter", ErrorClass::InvalidRequest),
    ("InputTextSensitiveContentDetected", ErrorClass::SensitiveContent),
    ("InputTextRiskDetection", ErrorClass::SensitiveContent),
    ("InputImageSensitiveContentDetected", ErrorClass::SensitiveContent),
    ("OutputImageSensitiveContentDetected", ErrorClass::SensitiveContent),
    ("SensitiveContentDetected", ErrorClass::SensitiveContent),
    ("ContentSecurityDetectionError", ErrorClass::SensitiveContent),
    ("AuthenticationError", ErrorClass::Authentication),
    ("AccessDenied", ErrorClass::Forbidden),
    ("AccountOverdueError", ErrorClass::Forbidden),
    ("OperationDenied", ErrorClass::Forbidden),
    ("InvalidEndpointOrModel", ErrorClass::NotFound),
    ("ModelNotOpen", ErrorClass::NotFound),
    ("QuotaExceeded", ErrorClass::QuotaExhausted),
    ("SetLimitExceeded", ErrorClass::QuotaExhausted),
    ("ModelAccount", ErrorClass::RateLimited), // ModelAccountIpm/RpmRateLimitExceeded
    ("RateLimitExceeded", ErrorClass::RateLimited),
    ("ServerOverloaded", ErrorClass::RateLimited),
    ("RequestBurstTooFast", ErrorClass::RateLimited),
];

impl ErrorClass {
    /// Classifies by the error code's prefix, falling back to the HTTP status.
    pub fn classify(status: Option<u16>, code: &str) -> Self {
        if code == "InternalServiceError" {
            return ErrorClass::ServerError;
        }
        if let Some(&(_, class)) = CODE_CLASSES.iter().find(|(prefix, _)| code.starts_with(prefix)) {
            return class;
        }
        match status {
            Some(400) => ErrorClass::InvalidRequest,
            Some(401) => ErrorClass::Authentication,
            Some(403) => ErrorClass::Forbidden,
            Some(404) => ErrorClass::NotFound,
            Some(429) => ErrorClass::RateLimited,
            Some(500..=599) => ErrorClass::ServerError,
            _ => ErrorClass::Other,
        }
    }

    /// Whether sending the same request again later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::RateLimited | ErrorClass::ServerError)
    }
}

/// What a moderation refusal was about, read from its code (and, for an input image, its `param`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModeratedInput {
    /// The prompt (`InputTextSensitiveContentDetected`, `InputTextRiskDetection`).
    Prompt,
    /// A reference image (`InputImageSensitiveContentDetected`): `index` in the request's `image`
    /// list, when the answer names it (`param` `image[1]`) or the request had one image.
    InputImage {
        /// 0-based index in the request's images.
        index: Option<usize>,
    },
    /// A generated image (`OutputImageSensitiveContentDetected`): `index` in the group, when known
    /// (a failed `data[]` item or stream event; an error for the whole request names none).
    OutputImage {
        /// 0-based index in the answer's images.
        index: Option<usize>,
    },
    /// Moderation without saying what (`SensitiveContentDetected`, `ContentSecurityDetectionError`).
    Unnamed,
}

/// A moderation refusal: what it was about and the reason the code's suffix gives
/// (`PrivacyInformation`: real faces; `PolicyViolation`: copyright).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Moderation {
    /// What was refused.
    pub input: ModeratedInput,
    /// The code's suffix after the first `.`, when it has one.
    pub reason: Option<String>,
}

impl Moderation {
    /// The moderation an error `code` stands for (`None` for other codes). `param` (or, when a relay
    /// blanked it, the parameter the `message` names) gives an input image's index.
    pub fn of(code: &str, param: Option<&str>, message: &str) -> Option<Self> {
        let (base, reason) = match code.split_once('.') {
            Some((base, reason)) => (base, Some(reason.to_owned()).filter(|r| !r.is_empty())),
            None => (code, None),
        };
        let input = match base {
            "InputTextSensitiveContentDetected" | "InputTextRiskDetection" => ModeratedInput::Prompt,
            "InputImageSensitiveContentDetected" => {
                let named = param.filter(|p| !p.is_empty()).or_else(|| parameter_in(message));
                ModeratedInput::InputImage { index: named.and_then(image_index) }
            }
            "OutputImageSensitiveContentDetected" => ModeratedInput::OutputImage { index: None },
            "SensitiveContentDetected" | "ContentSecurityDetectionError" => ModeratedInput::Unnamed,
            _ => return None,
        };
        Some(Self { input, reason })
    }

    /// The same refusal knowing the request sent `images` reference images: with only one, an
    /// unnamed input image is that one.
    pub fn with_input_images(mut self, images: usize) -> Self {
        if let ModeratedInput::InputImage { index: index @ None } = &mut self.input
            && images == 1
        {
            *index = Some(0);
        }
        self
    }

    /// The same refusal about generated image `index`.
    pub fn of_output(index: usize, code: &str) -> Option<Self> {
        let mut moderation = Self::of(code, None, "")?;
        if let ModeratedInput::OutputImage { index: slot } = &mut moderation.input {
            *slot = Some(index);
        }
        Some(moderation)
    }
}

/// `` The parameter `image[1]` specified … ``: the parameter the service's message names.
fn parameter_in(message: &str) -> Option<&str> {
    let rest = &message[message.find("parameter `")? + "parameter `".len()..];
    Some(&rest[..rest.find('`')?])
}

/// The index in `image[1]`, `image.1`, `images/1`; `None` for a bare `image` or another parameter.
fn image_index(param: &str) -> Option<usize> {
    let rest = param.trim().strip_prefix("image")?;
    let rest = rest.strip_prefix('s').unwrap_or(rest);
    let rest = rest.strip_prefix(['[', '.', '/'])?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn moderation_codes_name_the_prompt_or_the_image() {
        let of = |code: &str, param: Option<&str>, message: &str| Moderation::of(code, param, message).unwrap();
        assert_eq!(of("InputTextSensitiveContentDetected", None, "").input, ModeratedInput::Prompt);
        assert_eq!(of("InputTextRiskDetection", None, "").input, ModeratedInput::Prompt);
        let faces = of("InputImageSensitiveContentDetected.PrivacyInformation", Some("image[2]"), "");
        assert_eq!(faces.input, ModeratedInput::InputImage { index: Some(2) });
        assert_eq!(faces.reason.as_deref(), Some("PrivacyInformation"));
        // A relay blanked `param`: the message still names it.
        let blanked = of(
            "InputImageSensitiveContentDetected.PolicyViolation",
            Some(""),
            "The parameter `image.1` specified in the request is not valid: copyright. Request id: 1",
        );
        assert_eq!(blanked.input, ModeratedInput::InputImage { index: Some(1) });
        let unnamed = of("InputImageSensitiveContentDetected", Some("image"), "");
        assert_eq!(unnamed.input, ModeratedInput::InputImage { index: None });
        assert_eq!(unnamed.clone().with_input_images(1).input, ModeratedInput::InputImage { index: Some(0) });
        assert_eq!(unnamed.with_input_images(3).input, ModeratedInput::InputImage { index: None });
        assert_eq!(
            of("OutputImageSensitiveContentDetected", None, "").input,
            ModeratedInput::OutputImage { index: None }
        );
        assert_eq!(
            Moderation::of_output(3, "OutputImageSensitiveContentDetected").unwrap().input,
            ModeratedInput::OutputImage { index: Some(3) }
        );
        assert_eq!(of("SensitiveContentDetected", None, "").input, ModeratedInput::Unnamed);
        assert!(Moderation::of("InvalidParameter", Some("image[1]"), "").is_none());
        for code in ["InputTextRiskDetection", "InputImageSensitiveContentDetected.PolicyViolation"] {
            assert_eq!(ErrorClass::classify(Some(400), code), ErrorClass::SensitiveContent, "{code}");
        }
    }

    use super::*;

    #[test]
    fn classifies_per_the_spec_table() {
        let cases = [
            (400, "InvalidParameter.Size", ErrorClass::InvalidRequest, false),
            (400, "OutputImageSensitiveContentDetected", ErrorClass::SensitiveContent, false),
            (401, "AuthenticationError", ErrorClass::Authentication, false),
            (403, "OperationDenied.ServiceNotOpen", ErrorClass::Forbidden, false),
            (404, "ModelNotOpen", ErrorClass::NotFound, false),
            (429, "ModelAccountIpmRateLimitExceeded", ErrorClass::RateLimited, true),
            (429, "RateLimitExceeded.EndpointRPM", ErrorClass::RateLimited, true),
            (429, "QuotaExceeded", ErrorClass::QuotaExhausted, false),
            (429, "SetLimitExceeded", ErrorClass::QuotaExhausted, false),
            (500, "InternalServiceError", ErrorClass::ServerError, true),
            (502, "", ErrorClass::ServerError, true),
            (418, "Teapot", ErrorClass::Other, false),
        ];
        for (status, code, class, retry) in cases {
            assert_eq!(ErrorClass::classify(Some(status), code), class, "{code}");
            assert_eq!(class.is_retryable(), retry, "{code}");
        }
    }

    #[test]
    fn a_missing_code_or_message_stays_missing() {
        // Found by fuzzing: an error item that first parsed as an image (a duplicate key) came back
        // with an empty "code" added after one more round trip.
        let body = serde_json::json!({"error": {"type": "X"}});
        let env: ErrorEnvelope = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(env.error.code, "");
        assert_eq!(serde_json::to_value(&env).unwrap(), body);
    }

    #[test]
    fn parses_the_documented_body_and_keeps_unknown_fields() {
        let body = r#"{"error":{"code":"InvalidParameter","message":"bad size. Request id: 1","param":"size","type":"BadRequest","x":1}}"#;
        let env: ErrorEnvelope = serde_json::from_str(body).unwrap();
        assert_eq!(env.error.param.as_deref(), Some("size"));
        assert_eq!(env.error.kind.as_deref(), Some("BadRequest"));
        assert_eq!(serde_json::to_value(&env).unwrap(), serde_json::from_str::<Value>(body).unwrap());
    }
}
