//! One request, start to end: routing, body limit, auth, faults, parsing and validation, the
//! images-per-minute limit, then the answer. Every answer gets an `x-request-id`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use seedream_types::GenerateRequest;
use serde_json::Value;
use tokio::sync::watch;

use crate::body::{Body, full};
use crate::error::ApiError;
use crate::fault::{FAULT_HEADER, FaultBook, FaultKind, FaultSpec};
use crate::generate::{self, Job, Style};
use crate::server::{OpenConnection, Tracker};
use crate::store::{ImageCache, ImageRate, LinkLookup, LinkTable, Recipe, random_hex};
use crate::{EmulatorConfig, EmulatorStats, SharedState, edits};

/// Path prefix of image links.
const FILES: &str = "/files/";

/// Everything one emulator shares between its tasks.
#[derive(Debug)]
pub(crate) struct State {
    pub config: EmulatorConfig,
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` or `https://…`.
    pub origin: String,
    pub tracker: Tracker,
    pub cache: ImageCache,
    links: LinkTable,
    shutdown: watch::Sender<bool>,
    config_fault: Option<FaultSpec>,
    faults: FaultBook,
    rate: Option<ImageRate>,
    requests: AtomicU64,
    connections: AtomicU64,
    open: Arc<AtomicU64>,
    faults_injected: AtomicU64,
    images: AtomicU64,
}

impl State {
    pub fn new(config: EmulatorConfig, addr: SocketAddr) -> io::Result<Self> {
        let config_fault = config
            .fault
            .as_deref()
            .map(FaultSpec::parse)
            .transpose()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("EmulatorConfig::fault: {e}")))?;
        if let Some((probability, _)) = config.random_faults
            && !(0.0..=1.0).contains(&probability)
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "random_faults probability must be in [0, 1]"));
        }
        let scheme = if config.tls { "https" } else { "http" };
        Ok(Self {
            origin: format!("{scheme}://{addr}"),
            addr,
            tracker: Tracker::default(),
            cache: ImageCache::new(config.image_cache_bytes),
            links: LinkTable::default(),
            shutdown: watch::Sender::new(false),
            faults: FaultBook::new(config.random_faults),
            rate: config.images_per_minute.map(ImageRate::new),
            config_fault,
            config,
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            open: Arc::new(AtomicU64::new(0)),
            faults_injected: AtomicU64::new(0),
            images: AtomicU64::new(0),
        })
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn open_connection(&self) -> OpenConnection {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_add(1, Ordering::AcqRel);
        OpenConnection(self.open.clone())
    }

    pub fn count_images(&self, images: u64) {
        self.images.fetch_add(images, Ordering::Relaxed);
    }

    pub fn stats(&self) -> EmulatorStats {
        EmulatorStats {
            requests: self.requests.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            open_connections: self.open.load(Ordering::Acquire),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
            images_generated: self.images.load(Ordering::Relaxed),
            tasks: self.tracker.live(),
        }
    }

    /// A signed-looking download link for `recipe`, valid for `url_ttl`.
    pub fn link_for(&self, recipe: Recipe) -> String {
        let ttl = self.config.url_ttl;
        let (token, signature) = self.links.add(recipe, ttl);
        format!(
            "{}{FILES}{token}.{}?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={}&X-Tos-Expires={}\
             &X-Tos-Signature={signature}&X-Tos-SignedHeaders=host",
            self.origin,
            recipe.encoding.extension(),
            tos_date(generate::unix_now()),
            ttl.as_secs()
        )
    }
}

/// `20250910T015921Z` for a Unix time.
fn tos_date(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", seconds / 3600, seconds % 3600 / 60, seconds % 60)
}

/// A request id in the service's style: `02`, the time in milliseconds, random hex.
fn request_id() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("02{millis:013}{}", random_hex(25))
}

/// Serves one request.
pub(crate) async fn handle(state: SharedState, request: Request<Incoming>) -> Response<Body> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let id = request_id();
    let mut response = route(&state, request, &id).await.unwrap_or_else(|error| error.into_response(&id));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
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
            // The service knows its aliases: it applies the family's rules to them too.
            let family = seedream_types::catalog::resolve(&request.model).map(|(family, _)| family);
            if let Err(error) = request.validate_for(family) {
                return Err(ApiError::from_validation(&error, family, &request));
            }
            (request, style)
        }
        // Validated as an edit, so violations name the form's fields.
        Api::Edits => (edits::parse(&parts.headers, body).await?, Style::Relay),
    };
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
    let Value::Object(mut object) = value else {
        return Err(ApiError::invalid("", "The request body must be a JSON object."));
    };
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
    fn tos_dates_are_civil_utc() {
        assert_eq!(tos_date(0), "19700101T000000Z");
        assert_eq!(tos_date(1_757_469_561), "20250910T015921Z");
        assert_eq!(tos_date(951_782_400), "20000229T000000Z");
    }

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
