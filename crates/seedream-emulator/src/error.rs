//! Error answers in the service's documented shape:
//! `{"error":{"code","message":"… Request id: <id>","param","type"}}`, with the status's `type` word.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use seedream_types::{ApiErrorBody, ErrorEnvelope, ValidationError};
use serde_json::Map;

use crate::body::{Body, full};

/// An error answer before it is given its request id.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    /// Text without the trailing ` Request id: …`, which is added when the answer is built.
    pub message: String,
    /// The request field at fault, or empty.
    pub param: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into(), param: String::new(), retry_after: None }
    }

    /// 400 `InvalidParameter` about `param`.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameter", message).with_param(param)
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = param.into();
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A 400 for a request that breaks validation rules. Violations of a `required` rule come first,
    /// so `param` names a missing field when there is one (code `MissingParameter`); otherwise the
    /// first violation's field with `InvalidParameter`. The message lists every violation.
    pub fn from_validation(error: &ValidationError) -> Self {
        let mut violations: Vec<_> = error.violations.iter().collect();
        violations.sort_by_key(|v| v.code != "required");
        let missing = violations.first().is_some_and(|v| v.code == "required");
        let text: Vec<String> = violations.iter().map(|v| format!("{}: {}", v.field, v.message)).collect();
        let code = if missing { "MissingParameter" } else { "InvalidParameter" };
        let param = violations.first().map(|v| v.field.clone()).unwrap_or_default();
        let message = if missing {
            format!("The request failed because it is missing one or more required parameters: {}.", text.join("; "))
        } else {
            format!("One or more parameters specified in the request are not valid: {}.", text.join("; "))
        };
        Self::new(StatusCode::BAD_REQUEST, code, message).with_param(param)
    }

    /// The body object, with the request id appended to the message.
    pub fn body(&self, request_id: &str) -> ApiErrorBody {
        ApiErrorBody {
            code: self.code.clone(),
            message: format!("{} Request id: {request_id}", self.message),
            param: Some(self.param.clone()),
            kind: Some(type_word(self.status).to_owned()),
            extra: Map::new(),
        }
    }

    /// The JSON answer.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let envelope = ErrorEnvelope { error: self.body(request_id) };
        let json = serde_json::to_vec(&envelope).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = json_response(self.status, Bytes::from(json));
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The `type` word the service puts next to each status.
pub(crate) fn type_word(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        413 => "RequestEntityTooLarge",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        _ => "Error",
    }
}

pub(crate) fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}
