//! Error answers in the service's documented shape:
//! `{"error":{"code","message":"… Request id: <id>","param","type"}}`, with the status's `type` word,
//! and validation failures worded as the live service words them.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use seedream_types::catalog::Span;
use seedream_types::{
    ApiErrorBody, ErrorEnvelope, GenerateRequest, ModelFamily, Size, SizeForm, ValidationError, Violation,
};
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

    /// A 400 for a request that breaks validation rules, worded as the live service words it:
    /// ``The parameter `X` specified in the request is not valid: <rule>.`` with `param` = `X`.
    /// Violations of a `required` rule come first (code `MissingParameter`); otherwise the first
    /// violation is named (code `InvalidParameter`). The service names one problem; the emulator
    /// lists the others after it (`Also not valid: field: rule; …`), which keeps the pattern.
    ///
    /// Where the spec holds a captured body, the rule text follows it, with the numbers read from the
    /// family's catalog row: a field the family does not take is "not supported by the current
    /// model", too many references "number of reference images cannot exceed N", a `WxH` outside the
    /// area "image size must be at least N pixels" (or "at most").
    pub fn from_validation(error: &ValidationError, family: Option<&ModelFamily>, request: &GenerateRequest) -> Self {
        let mut violations: Vec<_> = error.violations.iter().collect();
        violations.sort_by_key(|v| v.code != "required");
        let Some(first) = violations.first() else {
            return Self::invalid("", "The request is not valid.");
        };
        let code = if first.code == "required" { "MissingParameter" } else { "InvalidParameter" };
        let (rule, plural) = live_rule(first, family, request);
        // The captured reference-count body says "are not valid"; the others "is".
        let verb = if plural { "are" } else { "is" };
        let mut message = format!("The parameter `{}` specified in the request {verb} not valid: {rule}.", first.field);
        if violations.len() > 1 {
            let others: Vec<String> =
                violations[1..].iter().map(|v| format!("{}: {}", v.field, live_rule(v, family, request).0)).collect();
            message.push_str(&format!(" Also not valid: {}.", others.join("; ")));
        }
        Self::new(StatusCode::BAD_REQUEST, code, message).with_param(first.field.clone())
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

/// Checks a generations request as the service does: by the rules of its family's catalog row (an
/// alias gets its family's rules too), a refusal worded by [`ApiError::from_validation`]. The JSON
/// path and the edit form both pass through here.
pub(crate) fn validate(request: &GenerateRequest) -> Result<(), ApiError> {
    let family = seedream_types::catalog::family_of(&request.model);
    // The live service knows its models: an id of no family (and not an endpoint) is not found. An
    // empty model is a missing parameter, reported by validation.
    let model = request.model.trim();
    if family.is_none() && !model.is_empty() && !model.starts_with("ep-") {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "InvalidEndpointOrModel.NotFound",
            format!("The model or endpoint {model} does not exist or you do not have access to it."),
        ));
    }
    match request.validate_for(family) {
        // The service knows its own values: one the SDK would send as written (a warning) is refused
        // here for a known family, as the live service refuses it.
        Ok(warnings) if family.is_some() && warnings.iter().any(|w| w.code == "value") => {
            let (violations, warnings) = warnings.into_iter().partition(|w| w.code == "value");
            Err(ApiError::from_validation(&ValidationError { violations, warnings }, family, request))
        }
        Ok(_warnings) => Ok(()),
        Err(error) => Err(ApiError::from_validation(&error, family, request)),
    }
}

/// The rule a violation breaks, in the service's words where they are known, and whether the
/// service's sentence says "are" (the reference-count body does).
fn live_rule(violation: &Violation, family: Option<&ModelFamily>, request: &GenerateRequest) -> (String, bool) {
    let field = violation.field.as_str();
    match (violation.code, family) {
        ("unsupported", _) => {
            // `tools[0].type` names the tool rather than the path.
            let tool = field
                .strip_prefix("tools[")
                .and_then(|rest| rest.split(']').next()?.parse::<usize>().ok())
                .and_then(|index| request.tools.as_ref()?.get(index));
            let what = tool.map_or(field, |tool| tool.kind.as_str());
            (format!("{what} is not supported by the current model"), false)
        }
        ("count", Some(family)) if field == "image" && request.images().len() > family.references.max => {
            (format!("number of reference images cannot exceed {}", family.references.max), true)
        }
        ("size", Some(family)) => {
            let area = family.size.area;
            match (request.size.as_ref().map(Size::form), area) {
                (Some(SizeForm::Pixels(dims)), Some(Span { min, .. })) if dims.area() < min => {
                    (format!("image size must be at least {min} pixels"), false)
                }
                (Some(SizeForm::Pixels(dims)), Some(Span { max, .. })) if dims.area() > max => {
                    (format!("image size must be at most {max} pixels"), false)
                }
                _ => (violation.message.clone(), false),
            }
        }
        _ => {
            // Sentences without a subject ("is required…", "must be…") get the field as one.
            let message = &violation.message;
            let subjectless = ["is ", "must ", "has "].iter().any(|start| message.starts_with(start));
            (if subjectless { format!("{field} {message}") } else { message.clone() }, false)
        }
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
