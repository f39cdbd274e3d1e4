//! One request, start to end: routing, body limit, auth, faults, parsing and validation, the
//! images-per-minute limit, then the answer. Every answer gets an `x-request-id`.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use seedream_types::GenerateRequest;
use serde_json::Value;

use crate::body::{Body, full};
use crate::error::{self, ApiError};
use crate::fault::{FAULT_HEADER, FaultKind, FaultSpec};
use crate::generate::{self, Job, Style};
use crate::state::FILES;
use crate::store::{LinkLookup, random_hex};
use crate::{CLIENT_REQUEST_ID_HEADER, SYNTHETIC_HEADER, SharedState, edits};

/// A request id in the service's style: `02`, the time in milliseconds, random hex.
fn request_id() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("02{millis:013}{}", random_hex(25))
}

/// Serves one request.
pub(crate) async fn handle(state: SharedState, request: Request<Incoming>) -> Response<Body> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let id = request_id();
    // The official SDKs name each call with this header; echoing it lets a client check the round trip.
    let client_request_id = request.headers().get(CLIENT_REQUEST_ID_HEADER).cloned();
    let mut response = route(&state, request, &id).await.unwrap_or_else(|error| error.into_response(&id));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if let Some(value) = client_request_id {
        response.headers_mut().insert(CLIENT_REQUEST_ID_HEADER, value);
    }
    // Every answer says it is ours, so a client pointed here by URL can mark its results synthetic.
    response.headers_mut().insert(SYNTHETIC_HEADER, HeaderValue::from_static("true"));
    response
}

/// The API routes.
#[derive(Debug, Clone, Copy)]
enum Api {
    Generations(Style),
    Edits,
}

async fn route(state: &SharedState, request: Request<Incoming>, id: &str) -> Result<Response<Body>, ApiError> {
    let path = request.uri().path();
    let api = match path {
        "/v1/images/generations" => Some(Api::Generations(Style::Relay)),
        "/api/v3/images/generations" => Some(Api::Generations(Style::Ark)),
        "/v1/images/edits" => Some(Api::Edits),
        _ => None,
    };
    let method = request.method().clone();
    if let Some(api) = api {
        if method != Method::POST {
            return Err(not_allowed(&method, path));
        }
        return api_request(state, request, api, id).await;
    }
    if matches!(path, "/v1/models" | "/api/v3/models") {
        if method != Method::GET && method != Method::HEAD {
            return Err(not_allowed(&method, path));
        }
        authorize(state, request.headers())?;
        let body = serde_json::to_vec(&crate::models::models_listing()).unwrap_or_default();
        let mut response = Response::new(full(body));
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Ok(response);
    }
    if let Some(file) = path.strip_prefix(FILES) {
        if method != Method::GET && method != Method::HEAD {
            return Err(not_allowed(&method, path));
        }
        let token = file.strip_suffix(".jpeg").or_else(|| file.strip_suffix(".png")).unwrap_or(file).to_owned();
        return download(state, &request, &token).await;
    }
    Err(ApiError::new(StatusCode::NOT_FOUND, "NotFound", format!("There is no route for {method} {path}.")))
}

fn not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", format!("{method} is not allowed on {path}."))
}

async fn api_request(
    state: &SharedState,
    request: Request<Incoming>,
    api: Api,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let (parts, body) = request.into_parts();
    let body = read_body(state, &parts, body).await?;
    let key = authorize(state, &parts.headers)?;
    let fault = pick_fault(state, &parts.headers)?;
    if let Some(fault) = &fault {
        match fault.kind {
            FaultKind::RateLimit => {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "ModelAccountRpmRateLimitExceeded",
                    "The request has exceeded the RPM rate limit of your account for this model. Please try again later.",
                )
                .with_retry_after(fault.retry_after.unwrap_or(1)));
            }
            FaultKind::Quota => {
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "QuotaExceeded",
                    "Your account has exhausted its quota for this model.",
                ));
            }
            FaultKind::ServerError => {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServiceError",
                    "The service encountered an unexpected internal error.",
                ));
            }
            FaultKind::BadGateway => return Ok(bad_gateway()),
            FaultKind::SlowHeaders => {
                let mut shutdown = state.shutdown_signal();
                if !crate::body::pause(fault.duration(), &mut shutdown).await {
                    return Err(ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailable",
                        "The service is shutting down.",
                    ));
                }
            }
            _ => {}
        }
    }
    let (request, style) = match api {
        Api::Generations(style) => {
            let request = parse_generate(&parts.headers, &body)?;
            error::validate(&request)?;
            (request, style)
        }
        // Validated as an edit, so violations name the form's fields.
        Api::Edits => (edits::parse(&parts.headers, body).await?, Style::Relay),
    };
    if let Some(refusal) = fault.as_ref().and_then(|fault| input_moderation(fault, &request)) {
        return Err(refusal);
    }
    let mut job = Job::plan(&request, style, id);
    if let Some(rate) = &state.rate {
        let images = u32::try_from(job.items.len()).unwrap_or(u32::MAX);
        rate.take(&key, images).map_err(|wait| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "ModelAccountIpmRateLimitExceeded",
                format!(
                    "The request has exceeded the IPM (images per minute) limit of {} for your account and this model. \
                     Please try again later.",
                    state.config.images_per_minute.unwrap_or_default()
                ),
            )
            .with_retry_after(wait)
        })?;
    }
    if let Some(fault) = fault.as_ref().filter(|f| f.kind == FaultKind::Moderate) {
        job.moderated = fault.moderated().to_vec();
    }
    generate::respond(state, job, fault).await
}

/// The 400 of a fault that moderates an input (the prompt or a reference image), or `None` for
/// other faults.
fn input_moderation(fault: &FaultSpec, request: &GenerateRequest) -> Option<ApiError> {
    let bad_request = |code: String, message: &str| ApiError::new(StatusCode::BAD_REQUEST, code, message);
    Some(match fault.kind {
        FaultKind::ModeratePrompt => bad_request(
            "InputTextSensitiveContentDetected".into(),
            "The request failed because the input text may contain sensitive information.",
        )
        .with_param("prompt"),
        FaultKind::PromptRisk => bad_request(
            "InputTextRiskDetection".into(),
            "The request failed because the input text was found to carry a risk.",
        )
        .with_param("prompt"),
        FaultKind::ModerateInput => {
            let index = fault.images.first().copied().unwrap_or(0);
            let code = match &fault.reason {
                Some(reason) => format!("InputImageSensitiveContentDetected.{reason}"),
                None => "InputImageSensitiveContentDetected".into(),
            };
            let param = if request.images().len() > 1 { format!("image[{index}]") } else { "image".into() };
            bad_request(code, "The request failed because the input image may contain sensitive information.")
                .with_param(param)
        }
        _ => return None,
    })
}

async fn read_body(state: &SharedState, parts: &Parts, body: Incoming) -> Result<Bytes, ApiError> {
    let limit = state.config.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "InvalidParameter",
            format!("The request body is larger than the limit of {limit} bytes."),
        )
    };
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(error) => Err(ApiError::invalid("", format!("The request body could not be read: {error}."))),
    }
}

/// Checks the Bearer key; returns the key (empty without auth) for per-key limits.
fn authorize(state: &SharedState, headers: &HeaderMap) -> Result<String, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim().to_owned());
    if state.config.api_keys.is_empty() {
        return Ok(presented.unwrap_or_default());
    }
    match presented {
        Some(key) if state.config.api_keys.contains(&key) => Ok(key),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationError",
            "The API key in the request is missing or invalid.",
        )),
    }
}

/// The fault for this request: the header's, else the configured one, else maybe a random one.
fn pick_fault(state: &SharedState, headers: &HeaderMap) -> Result<Option<FaultSpec>, ApiError> {
    let spec = match headers.get(FAULT_HEADER) {
        Some(value) => {
            let text = value.to_str().map_err(|_| ApiError::invalid(FAULT_HEADER, "The fault header is not text."))?;
            Some(FaultSpec::parse(text).map_err(|e| ApiError::invalid(FAULT_HEADER, format!("Bad fault spec: {e}.")))?)
        }
        None => state.config_fault.clone(),
    };
    let fired = match spec {
        Some(spec) => state.faults.fires(&spec).then_some(spec),
        None => state.faults.draw(),
    };
    if fired.is_some() {
        state.faults_injected.fetch_add(1, Ordering::Relaxed);
    }
    Ok(fired)
}

fn bad_gateway() -> Response<Body> {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n\
                <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let mut response = Response::new(full(page));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// Parses a generations body. Missing `model`/`prompt` become empty so that validation reports them
/// (as `MissingParameter`) together with any other violation.
fn parse_generate(headers: &HeaderMap, body: &[u8]) -> Result<GenerateRequest, ApiError> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let text = content_type.to_str().unwrap_or_default().to_ascii_lowercase();
        let media = text.split(';').next().unwrap_or_default().trim();
        if media != "application/json" && !media.ends_with("+json") {
            return Err(ApiError::invalid(
                "Content-Type",
                format!("The Content-Type must be application/json, not {media:?}."),
            ));
        }
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid("", format!("The request body is not valid JSON: {e}.")))?;
    let Value::Object(object) = value else {
        return Err(ApiError::invalid("", "The request body must be a JSON object."));
    };
    request_from_object(object)
}

/// A generations request from its JSON object (the JSON body, or an edit form turned into one): a
/// field of the wrong type is refused under its name.
pub(crate) fn request_from_object(mut object: serde_json::Map<String, Value>) -> Result<GenerateRequest, ApiError> {
    for required in ["model", "prompt"] {
        if object.get(required).is_none_or(Value::is_null) {
            object.insert(required.to_owned(), Value::from(""));
        }
    }
    serde_json::from_value::<GenerateRequest>(Value::Object(object.clone())).map_err(|error| {
        // serde does not name the field: find it by trying each one alone.
        let field = object
            .iter()
            .find(|(name, value)| {
                let mut probe = serde_json::Map::new();
                probe.insert("model".into(), Value::from("m"));
                probe.insert("prompt".into(), Value::from("p"));
                probe.insert((*name).clone(), (*value).clone());
                serde_json::from_value::<GenerateRequest>(Value::Object(probe)).is_err()
            })
            .map(|(name, _)| name.clone())
            .unwrap_or_default();
        ApiError::invalid(field.clone(), format!("The parameter {field:?} has the wrong type: {error}."))
    })
}

async fn download(state: &SharedState, request: &Request<Incoming>, token: &str) -> Result<Response<Body>, ApiError> {
    let signature =
        request.uri().query().unwrap_or_default().split('&').find_map(|pair| pair.strip_prefix("X-Tos-Signature="));
    let recipe = match state.links.lookup(token, signature) {
        LinkLookup::Found(recipe) => recipe,
        LinkLookup::Expired => {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "AccessDenied", "The link has expired."));
        }
        LinkLookup::BadSignature => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                "The request signature does not match.",
            ));
        }
        LinkLookup::Unknown => {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "NoSuchKey", "The specified image does not exist."));
        }
    };
    let image = generate::image_bytes(state, recipe).await;
    let length = image.len();
    let mut response = Response::new(if request.method() == Method::HEAD { full(Bytes::new()) } else { full(image) });
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(recipe.encoding.media_type()));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_their_field() {
        let headers = HeaderMap::new();
        let error = parse_generate(&headers, br#"{"model":"m","prompt":"p","stream":"yes"}"#).unwrap_err();
        assert_eq!(error.param, "stream");
        let error = parse_generate(&headers, br#"{"model":7,"prompt":"p"}"#).unwrap_err();
        assert_eq!(error.param, "model");
        assert!(parse_generate(&headers, b"[1]").is_err());
        assert!(parse_generate(&headers, b"{").is_err());
        let request = parse_generate(&headers, br#"{"prompt":null}"#).unwrap();
        assert_eq!((request.model.as_str(), request.prompt.as_str()), ("", ""));
    }
}
