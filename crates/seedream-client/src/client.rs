//! [`Client`]: validation, request building, retries, time limits and response decoding on top of a
//! [`Transport`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use seedream_types::{
    ApiErrorBody, EditRequest, ErrorClass, ErrorEnvelope, GenerateRequest, GeneratedImage, ImageFormat, ImagesResponse,
};
use tokio::time::Instant;

use crate::body::BodyReader;
use crate::decode::{ImagesDecoder, decode_b64, decode_b64_owned};
use crate::error::{ApiError, CallPhase, Error, TimeoutPhase};
use crate::image::{ImageBytes, format_of_media_type};
use crate::multipart;
use crate::retry::{RetryPolicy, retry_after};
use crate::stream::ImageStream;
use crate::text::Redactor;
use crate::transport::hyper::check_scheme;
use crate::transport::{
    DEFAULT_POOL_MAX_IDLE_PER_HOST, HyperTransport, Proxy, RequestBody, Transport, TransportErrorKind,
};

/// Ark's base URL, used when neither the builder nor `SEEDREAM_BASE_URL` gives one.
pub const ARK_BASE_URL: &str = "https://ark.cn-beijing.volces.com/api/v3";
/// The `User-Agent` sent unless another is set.
pub const DEFAULT_USER_AGENT: &str = concat!("seedream-rs/", env!("CARGO_PKG_VERSION"));
/// Largest response body accepted by default: 256 MiB (15 4K images as `b64_json` are about 100 MB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// How many image downloads a client runs at once unless told otherwise.
pub const DEFAULT_MAX_PARALLEL_DOWNLOADS: usize = 4;
/// How much of an error body is kept for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Time limits. `connect`, `headers` and `idle` are per phase, so a 4K group that takes minutes
/// still works; `overall` bounds a whole call whatever the server does (a server sending one byte a
/// second, or stream keep-alives forever, resets the idle timer each time). A limit that runs out
/// is [`Error::Timeout`] naming the limit and what the call was doing.
///
/// For one deadline across a call *and* the downloads of its images, use
/// [`Client::with_deadline`]: every call made through the handle it returns ends by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening a connection (TCP and TLS). Default 10 s. Applies to the built-in transport.
    pub connect: Duration,
    /// From sending a request to its response headers. Without `stream` the service sends them only
    /// when every image is done (4–6 minutes for a 4K group), hence the default of 15 minutes.
    pub headers: Duration,
    /// Longest wait for the next piece of a body, such as the next image of a stream. Default 5 minutes.
    pub idle: Duration,
    /// A deadline for each whole call (a generate, an edit, a stream to its end, one download),
    /// retries and reading the body included. Default none.
    pub overall: Option<Duration>,
}

impl Timeouts {
    /// The same limits with `connect` set.
    pub fn with_connect(self, connect: Duration) -> Self {
        Self { connect, ..self }
    }

    /// The same limits with `headers` set.
    pub fn with_headers(self, headers: Duration) -> Self {
        Self { headers, ..self }
    }

    /// The same limits with `idle` set.
    pub fn with_idle(self, idle: Duration) -> Self {
        Self { idle, ..self }
    }

    /// The same limits with `overall` set (`None`: no deadline).
    pub fn with_overall(self, overall: impl Into<Option<Duration>>) -> Self {
        Self { overall: overall.into(), ..self }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            headers: Duration::from_secs(15 * 60),
            idle: Duration::from_secs(5 * 60),
            overall: None,
        }
    }
}

/// How [`Client::edit`] reaches the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EditMode {
    /// Generations with data URLs when the base URL is Ark's (its path ends with `/api/v3`),
    /// multipart `/images/edits` otherwise (relays). The default.
    #[default]
    Auto,
    /// Always multipart `POST {base}/images/edits`.
    Multipart,
    /// Always `POST {base}/images/generations` with the images as data URLs.
    Generations,
}

/// What came with a response besides its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    /// `x-request-id`, when the service sent one.
    pub request_id: Option<String>,
    /// The HTTP status of the last attempt.
    pub status: u16,
    /// How many attempts the call took (1 = no retry).
    pub attempts: u32,
}

/// The Seedream / SeedEdit API client. Cheap to clone (shared state behind an `Arc`), `Send + Sync`.
///
/// ```no_run
/// # async fn run() -> Result<(), seedream_client::Error> {
/// use seedream_client::Client;
/// use seedream_types::{GenerateRequest, SEEDREAM_4_0};
///
/// let client = Client::from_env()?;
/// let response = client.generate(&GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn")).await?;
/// for (index, image) in response.data.into_iter().filter_map(|item| item.image().cloned()).enumerate() {
///     // JPEG or PNG (5.0 with `output_format: png`): the file gets the extension of the bytes.
///     let bytes = client.into_image_bytes(image).await?;
///     client.save_image(".".as_ref(), &format!("lighthouse-{index}"), &bytes)?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// Set by [`Client::with_deadline`]: every call through this handle ends by then.
    deadline: Option<Instant>,
}

struct Inner {
    base_url: String,
    /// `scheme://authority` of the base URL: only requests there get the API key.
    origin: (String, String),
    generations: Uri,
    edits: Uri,
    auth: HeaderValue,
    transport: Arc<dyn Transport>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    user_agent: HeaderValue,
    headers: HeaderMap,
    validate: bool,
    edit_mode: EditMode,
    max_response_bytes: u64,
    /// One permit per download running at once.
    downloads: Arc<tokio::sync::Semaphore>,
    max_parallel_downloads: usize,
    /// The key, proxy credentials and extra header values, removed from server texts.
    redactor: Redactor,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base_url)
            .field("api_key", &"<redacted>")
            .field("transport", &inner.transport)
            .field("timeouts", &inner.timeouts)
            .field("retry", &inner.retry)
            .field("user_agent", &inner.user_agent)
            .field("extra_headers", &inner.headers.keys().collect::<Vec<_>>())
            .field("validate_requests", &inner.validate)
            .field("edit_mode", &inner.edit_mode)
            .field("max_response_bytes", &inner.max_response_bytes)
            .field("max_parallel_downloads", &inner.max_parallel_downloads)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Builds a [`Client`]; see each method for its default.
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: Option<String>,
    transport: Option<Arc<dyn Transport>>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    user_agent: Option<String>,
    headers: Vec<(String, String)>,
    validate: bool,
    edit_mode: EditMode,
    max_response_bytes: u64,
    trusted_pems: Vec<String>,
    allow_insecure_http: bool,
    proxy: Option<Proxy>,
    max_parallel_downloads: usize,
    pool_max_idle_per_host: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("transport", &self.transport)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("extra_headers", &self.headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("validate_requests", &self.validate)
            .field("edit_mode", &self.edit_mode)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("trusted_certificates", &self.trusted_pems.len())
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("proxy", &self.proxy)
            .field("max_parallel_downloads", &self.max_parallel_downloads)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            transport: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            user_agent: None,
            headers: Vec::new(),
            validate: true,
            edit_mode: EditMode::Auto,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            trusted_pems: Vec::new(),
            allow_insecure_http: false,
            proxy: None,
            max_parallel_downloads: DEFAULT_MAX_PARALLEL_DOWNLOADS,
            pool_max_idle_per_host: DEFAULT_POOL_MAX_IDLE_PER_HOST,
        }
    }
}

impl ClientBuilder {
    /// The API base, such as Ark's [`ARK_BASE_URL`] (the default) or a relay's `https://host/v1`.
    /// Requests go to `{base_url}/images/generations` and `{base_url}/images/edits`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`. Required. Never shown by `Debug` or errors.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The transport (default: a [`HyperTransport`] built from the time limits and certificates here).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Time limits; see [`Timeouts`] for the defaults.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Retry policy; see [`RetryPolicy`] for the defaults (3 attempts).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header. Default [`DEFAULT_USER_AGENT`].
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// A header sent with every API request (not with image downloads to other hosts). Replaces a
    /// header of the same name set by the client, except `Authorization` and `Content-Type`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether requests are validated before sending (default true). A request that fails returns
    /// [`Error::Validation`] without any network traffic.
    pub fn validate_requests(mut self, validate: bool) -> Self {
        self.validate = validate;
        self
    }

    /// How edits are sent; default [`EditMode::Auto`].
    pub fn edit_mode(mut self, mode: EditMode) -> Self {
        self.edit_mode = mode;
        self
    }

    /// Largest response body (and image download) accepted, in bytes. Default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Also trusts this PEM certificate (such as a local emulator's). Only for the built-in transport.
    pub fn trust_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.trusted_pems.push(pem.into());
        self
    }

    /// Allows a plain `http://` base URL to a non-loopback host (default false: the key would travel
    /// in clear). Only for the built-in transport.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Sends every request (API calls and downloads) through the HTTP proxy at `url`
    /// (`http://[user:password@]host:port`), whatever the environment says. Credentials in the URL
    /// go as `Proxy-Authorization: Basic` and are never shown. `https` goes through a `CONNECT`
    /// tunnel with TLS to the server inside it (the server's certificate is the one checked). Only
    /// for the built-in transport; checked by [`build`](Self::build).
    ///
    /// Without this or [`no_proxy`](Self::no_proxy), the built-in transport follows
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` as curl does (see [`Proxy`]).
    pub fn proxy(self, url: impl Into<String>) -> Self {
        self.proxy_settings(Proxy::all(url))
    }

    /// Connects straight to every server, ignoring the proxy variables of the environment.
    pub fn no_proxy(self) -> Self {
        self.proxy_settings(Proxy::none())
    }

    /// Proxy settings in full (a proxy with `NO_PROXY`-style exceptions, or an environment
    /// snapshot from [`Proxy::from_vars`]).
    pub fn proxy_settings(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// How many image downloads run at once across the client (each waits for a free slot; the
    /// wait counts toward its deadline). Bounds the connections and the memory that downloads in
    /// progress take. Default [`DEFAULT_MAX_PARALLEL_DOWNLOADS`]; 0 counts as 1.
    pub fn max_parallel_downloads(mut self, max: usize) -> Self {
        self.max_parallel_downloads = max.max(1);
        self
    }

    /// Most idle connections the built-in transport keeps per host. Default
    /// [`DEFAULT_POOL_MAX_IDLE_PER_HOST`].
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Builds the client. [`Error::Config`] for a missing key, a bad base URL or header, a bad
    /// certificate or proxy URL, or built-in transport options given together with a custom transport.
    pub fn build(self) -> Result<Client, Error> {
        let api_key = self.api_key.filter(|key| !key.trim().is_empty()).ok_or_else(|| {
            Error::Config("an API key is required (set SEEDREAM_API_KEY or ARK_API_KEY, or use api_key)".into())
        })?;
        let mut auth = HeaderValue::try_from(format!("Bearer {}", api_key.trim()))
            .map_err(|_| Error::Config("the API key holds characters that cannot be sent in a header".into()))?;
        auth.set_sensitive(true);

        let base_url = self.base_url.unwrap_or_else(|| ARK_BASE_URL.to_owned()).trim().trim_end_matches('/').to_owned();
        let base: Uri = base_url.parse().map_err(|e| Error::Config(format!("bad base URL {base_url:?}: {e}")))?;
        let (Some(scheme), Some(authority)) = (base.scheme_str(), base.authority()) else {
            return Err(Error::Config(format!("the base URL must be absolute (https://host/...): {base_url:?}")));
        };
        if base.query().is_some() {
            return Err(Error::Config(format!("the base URL must not have a query: {base_url:?}")));
        }
        let origin = (scheme.to_ascii_lowercase(), authority.as_str().to_ascii_lowercase());
        let endpoint = |path: &str| -> Result<Uri, Error> {
            format!("{base_url}{path}").parse().map_err(|e| Error::Config(format!("bad base URL {base_url:?}: {e}")))
        };
        let generations = endpoint("/images/generations")?;
        let edits = endpoint("/images/edits")?;

        // Read once here, so the secrets redacted are those of the proxy actually used.
        let proxy = match (&self.proxy, &self.transport) {
            (Some(proxy), _) => proxy.clone(),
            (None, None) => Proxy::from_env(),
            (None, Some(_)) => Proxy::none(),
        };
        let transport: Arc<dyn Transport> = match self.transport {
            Some(transport) => {
                if !self.trusted_pems.is_empty() || self.allow_insecure_http || self.proxy.is_some() {
                    return Err(Error::Config(
                        "trust_certificate_pem, allow_insecure_http and the proxy options configure the built-in \
                         transport; set them on your own transport instead"
                            .into(),
                    ));
                }
                transport
            }
            None => {
                check_scheme(&base, self.allow_insecure_http).map_err(|e| Error::Config(e.message().to_owned()))?;
                let mut builder = HyperTransport::builder()
                    .connect_timeout(self.timeouts.connect)
                    .allow_insecure_http(self.allow_insecure_http)
                    .pool_max_idle_per_host(self.pool_max_idle_per_host)
                    .proxy(proxy.clone());
                for pem in &self.trusted_pems {
                    builder = builder.trust_pem(pem);
                }
                Arc::new(builder.build()?)
            }
        };

        let mut secrets = vec![api_key.trim().to_owned()];
        secrets.extend(proxy.secrets());
        secrets.extend(self.headers.iter().map(|(_, value)| value.clone()));

        let user_agent = HeaderValue::try_from(self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT))
            .map_err(|_| Error::Config("the user agent holds characters that cannot be sent in a header".into()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers {
            let header =
                HeaderName::try_from(name.as_str()).map_err(|_| Error::Config(format!("bad header name {name:?}")))?;
            if header == AUTHORIZATION || header == CONTENT_TYPE || header == CONTENT_LENGTH {
                return Err(Error::Config(format!("the {header} header is set by the client")));
            }
            let mut value = HeaderValue::try_from(value.as_str())
                .map_err(|_| Error::Config(format!("bad value for header {name:?}")))?;
            value.set_sensitive(true); // extra headers may carry credentials too
            headers.append(header, value);
        }

        let edit_mode = match self.edit_mode {
            EditMode::Auto if is_ark_base(base.path()) => EditMode::Generations,
            EditMode::Auto => EditMode::Multipart,
            mode => mode,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                origin,
                generations,
                edits,
                auth,
                transport,
                timeouts: self.timeouts,
                retry: RetryPolicy { max_attempts: self.retry.max_attempts.max(1), ..self.retry },
                user_agent,
                headers,
                validate: self.validate,
                edit_mode,
                max_response_bytes: self.max_response_bytes,
                downloads: Arc::new(tokio::sync::Semaphore::new(self.max_parallel_downloads)),
                max_parallel_downloads: self.max_parallel_downloads,
                redactor: Redactor::new(secrets),
            }),
            deadline: None,
        })
    }
}

/// Ark serves `/api/v3` and has no edits endpoint.
fn is_ark_base(path: &str) -> bool {
    path.trim_end_matches('/').ends_with("/api/v3")
}

/// A request to send, rebuilt for each attempt.
struct Call<'a> {
    method: Method,
    uri: &'a Uri,
    content_type: Option<&'a str>,
    accept: &'static str,
    body: RequestBody,
    /// Send the key and the extra headers (API calls, and downloads from the API's own host).
    authorized: bool,
    /// An image download rather than an API call (names the phase of a timeout).
    download: bool,
}

/// A successful response, its body not yet read.
struct Answer {
    headers: HeaderMap,
    reader: BodyReader,
    meta: ResponseMeta,
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: the key from `SEEDREAM_API_KEY`, else `ARK_API_KEY`;
    /// the base URL from `SEEDREAM_BASE_URL`, else [`ARK_BASE_URL`]. Everything else at its default.
    pub fn from_env() -> Result<Client, Error> {
        Self::builder_from_env().build()
    }

    /// A builder preset from the environment as [`from_env`](Self::from_env) does, to change more.
    pub fn builder_from_env() -> ClientBuilder {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let mut builder = Self::builder();
        if let Some(key) = var("SEEDREAM_API_KEY").or_else(|| var("ARK_API_KEY")) {
            builder = builder.api_key(key);
        }
        if let Some(base_url) = var("SEEDREAM_BASE_URL") {
            builder = builder.base_url(base_url);
        }
        builder
    }

    /// A handle to the same client (same connections, same settings) whose every call — generate,
    /// edit, stream, download — ends by `now + within`, retries and waiting included; with the
    /// client's own [`Timeouts::overall`] the earlier of the two holds. Take one per job to give a
    /// call and the downloads of its images one deadline together:
    ///
    /// ```no_run
    /// # async fn run(client: seedream_client::Client, request: seedream_types::GenerateRequest) -> Result<(), seedream_client::Error> {
    /// let job = client.with_deadline(std::time::Duration::from_secs(20 * 60));
    /// let response = job.generate(&request).await?;
    /// for image in response.data.into_iter().filter_map(|item| item.image().cloned()) {
    ///     let bytes = job.into_image_bytes(image).await?; // same deadline
    /// #   let _ = bytes;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_deadline(&self, within: Duration) -> Client {
        let at = Instant::now() + within;
        Client { inner: self.inner.clone(), deadline: Some(self.deadline.map_or(at, |earlier| earlier.min(at))) }
    }

    /// The deadline of one call starting now: the handle's and the client's overall limit, the earlier.
    fn call_deadline(&self) -> Option<Instant> {
        let overall = self.inner.timeouts.overall.map(|overall| Instant::now() + overall);
        match (self.deadline, overall) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// How edits are sent (never [`EditMode::Auto`]: the choice made from the base URL).
    pub fn edit_mode(&self) -> EditMode {
        self.inner.edit_mode
    }

    /// Generates images: validates (unless turned off), sends, parses. A request with `stream: true`
    /// is read as a stream and gathered into one response.
    pub async fn generate(&self, request: &GenerateRequest) -> Result<ImagesResponse, Error> {
        self.generate_with_meta(request).await.map(|(response, _)| response)
    }

    /// [`generate`](Self::generate), also returning the request id, status and attempts.
    pub async fn generate_with_meta(&self, request: &GenerateRequest) -> Result<(ImagesResponse, ResponseMeta), Error> {
        if self.inner.validate {
            request.validate()?;
        }
        let accept = if request.is_stream() { "text/event-stream" } else { "application/json" };
        self.within_deadline(CallPhase::Body, |deadline| async move {
            let body =
                serde_json::to_vec(request).map_err(|e| Error::Config(format!("cannot encode the request: {e}")))?;
            let call = self.json_call(&self.inner.generations, body, accept);
            let answer = self.execute(&call, deadline).await?;
            self.images_response(answer).await
        })
        .await
    }

    /// Generates with `stream: true` (set on a copy when the request lacks it) and returns the events
    /// as they come; see [`ImageStream`]. Retries apply until the stream has started.
    pub async fn generate_stream(&self, request: &GenerateRequest) -> Result<ImageStream, Error> {
        let streamed;
        let request = if request.is_stream() {
            request
        } else {
            streamed = request.clone().with_stream(true);
            &streamed
        };
        if self.inner.validate {
            request.validate()?;
        }
        let body = serde_json::to_vec(request).map_err(|e| Error::Config(format!("cannot encode the request: {e}")))?;
        let deadline = self.call_deadline();
        let call = self.json_call(&self.inner.generations, body, "text/event-stream");
        let redactor = &self.inner.redactor;
        let answer = match deadline {
            Some(at) => tokio::time::timeout_at(at, self.execute(&call, deadline))
                .await
                .map_err(|_| Error::timeout(TimeoutPhase::Overall, CallPhase::Headers))
                .and_then(|answer| answer),
            None => self.execute(&call, deadline).await,
        }
        .map_err(|e| redactor.error(e))?;
        if is_event_stream(&answer.headers) {
            Ok(ImageStream::sse(answer.reader, answer.meta, redactor.clone()))
        } else {
            let meta = answer.meta.clone();
            let (response, _) = self.images_response(answer).await.map_err(|e| redactor.error(e))?;
            Ok(ImageStream::from_response(response, meta, redactor.clone()))
        }
    }

    /// Edits images: multipart `POST /images/edits` for relays; for Ark (no edits endpoint) the same
    /// job as a generations call with the images as data URLs. See [`EditMode`].
    pub async fn edit(&self, request: &EditRequest) -> Result<ImagesResponse, Error> {
        self.edit_with_meta(request).await.map(|(response, _)| response)
    }

    /// [`edit`](Self::edit), also returning the request id, status and attempts.
    pub async fn edit_with_meta(&self, request: &EditRequest) -> Result<(ImagesResponse, ResponseMeta), Error> {
        if self.inner.validate {
            request.validate()?;
        }
        match self.inner.edit_mode {
            EditMode::Generations => {
                let generate = request.to_generate_request();
                let accept = if generate.is_stream() { "text/event-stream" } else { "application/json" };
                self.within_deadline(CallPhase::Body, |deadline| async move {
                    let body = serde_json::to_vec(&generate)
                        .map_err(|e| Error::Config(format!("cannot encode the request: {e}")))?;
                    let call = self.json_call(&self.inner.generations, body, accept);
                    let answer = self.execute(&call, deadline).await?;
                    self.images_response(answer).await
                })
                .await
            }
            EditMode::Multipart | EditMode::Auto => {
                let form = multipart::encode(request);
                self.within_deadline(CallPhase::Body, |deadline| async move {
                    let call = Call {
                        method: Method::POST,
                        uri: &self.inner.edits,
                        content_type: Some(&form.content_type),
                        accept: "application/json",
                        body: form.body.clone().into(),
                        authorized: true,
                        download: false,
                    };
                    let answer = self.execute(&call, deadline).await?;
                    self.images_response(answer).await
                })
                .await
            }
        }
    }

    /// The bytes of an image, `b64_json` decoded or `url` downloaded (see [`download`](Self::download)),
    /// with their format: sniffed from the bytes, else the item's `output_format`, else (downloads)
    /// the `Content-Type` header.
    pub async fn image_bytes(&self, image: &GeneratedImage) -> Result<ImageBytes, Error> {
        if let Some(text) = &image.b64_json {
            let bytes =
                decode_b64(text).map_err(|e| Error::Decode { reason: e.to_string(), body_start: start_of(text) })?;
            return Ok(ImageBytes::of(image, bytes));
        }
        match &image.url {
            Some(url) => {
                let (bytes, header_format) = self.fetch(url).await?;
                Ok(ImageBytes::new(bytes, image.stated_format().or(header_format)))
            }
            None => Err(Error::Decode {
                reason: "the image has neither b64_json nor url".into(),
                body_start: String::new(),
            }),
        }
    }

    /// Like [`image_bytes`](Self::image_bytes), consuming the image: `b64_json` is decoded in place in
    /// the string's own memory, so a large group needs no second buffer.
    pub async fn into_image_bytes(&self, image: GeneratedImage) -> Result<ImageBytes, Error> {
        let stated = image.stated_format();
        match image {
            GeneratedImage { b64_json: Some(text), .. } => {
                let start = start_of(&text);
                let bytes =
                    decode_b64_owned(text).map_err(|e| Error::Decode { reason: e.to_string(), body_start: start })?;
                Ok(ImageBytes::new(bytes, stated))
            }
            image => self.image_bytes(&image).await,
        }
    }

    /// Downloads `url` (an image link) through the client's transport, with its retries and time
    /// limits, refusing bodies over the response limit. The API key is sent only when the URL is on
    /// the API's own host. The format is sniffed from the bytes, else taken from `Content-Type`.
    /// At most [`ClientBuilder::max_parallel_downloads`] downloads run at once; the others wait.
    pub async fn download(&self, url: &str) -> Result<ImageBytes, Error> {
        let (bytes, header_format) = self.fetch(url).await?;
        Ok(ImageBytes::new(bytes, header_format))
    }

    /// Downloads `url`: the body and the image format its `Content-Type` names.
    async fn fetch(&self, url: &str) -> Result<(Bytes, Option<ImageFormat>), Error> {
        let uri: Uri = url.parse().map_err(|e| Error::Config(format!("bad image URL: {e}")))?;
        let authorized = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => {
                self.inner.origin.0.eq_ignore_ascii_case(scheme)
                    && self.inner.origin.1.eq_ignore_ascii_case(authority.as_str())
            }
            _ => return Err(Error::Config(format!("not an absolute URL: {url:?}"))),
        };
        self.within_deadline(CallPhase::Download, |deadline| async move {
            let _slot =
                self.inner.downloads.acquire().await.map_err(|_| Error::Config("the client is closed".into()))?;
            let call = Call {
                method: Method::GET,
                uri: &uri,
                content_type: None,
                accept: "*/*",
                body: RequestBody::empty(),
                authorized,
                download: true,
            };
            let answer = self.execute(&call, deadline).await?;
            let format = header_text(&answer.headers, CONTENT_TYPE.as_str()).and_then(|v| format_of_media_type(&v));
            let bytes = answer.reader.read_all().await?;
            Ok(((bytes, format), answer.meta))
        })
        .await
        .map(|(fetched, _)| fetched)
    }

    /// Saves image bytes atomically; see [`save_atomically`](crate::save_atomically).
    pub fn save(&self, dir: &Path, file_name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
        crate::save::save_atomically(dir, file_name, bytes)
    }

    /// Saves an image atomically as `dir/<stem>.<extension>`, the extension that of its format
    /// (`png`, `jpg`, ...; see [`ImageBytes::file_name`]). Returns the final path.
    pub fn save_image(&self, dir: &Path, stem: &str, image: &ImageBytes) -> Result<PathBuf, Error> {
        crate::save::save_image(dir, stem, image)
    }

    /// Saves an image as [`save_image`](Self::save_image) does, with metadata on or off as `options`
    /// say (see [`SaveOptions`](crate::SaveOptions)).
    pub fn save_image_with(
        &self,
        dir: &Path,
        stem: &str,
        image: &ImageBytes,
        options: &crate::SaveOptions,
    ) -> Result<PathBuf, Error> {
        crate::save::save_image_with(dir, stem, image, options)
    }

    fn json_call<'a>(&'a self, uri: &'a Uri, body: Vec<u8>, accept: &'static str) -> Call<'a> {
        Call {
            method: Method::POST,
            uri,
            content_type: Some("application/json"),
            accept,
            body: RequestBody::from(body),
            authorized: true,
            download: false,
        }
    }

    /// Runs `job` under the call's deadline, when there is one, and redacts the secrets from the
    /// server texts of its error. Each wait inside `job` (sending, reading) watches the deadline
    /// itself and names its phase; `during` names it for anything else.
    async fn within_deadline<'a, T, F, Fut>(&'a self, during: CallPhase, job: F) -> Result<(T, ResponseMeta), Error>
    where
        F: FnOnce(Option<Instant>) -> Fut,
        Fut: Future<Output = Result<(T, ResponseMeta), Error>> + 'a,
    {
        let result = match self.call_deadline() {
            Some(deadline) => tokio::time::timeout_at(deadline, job(Some(deadline)))
                .await
                .unwrap_or(Err(Error::timeout(TimeoutPhase::Overall, during))),
            None => job(None).await,
        };
        result.map_err(|e| self.inner.redactor.error(e))
    }

    /// Sends `call`, retrying as the policy allows, until a `2xx` answer or an error that stays.
    async fn execute(&self, call: &Call<'_>, deadline: Option<Instant>) -> Result<Answer, Error> {
        let policy = &self.inner.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (error, wait_hint) = match self.attempt(call, deadline, attempt).await {
                Ok(answer) => return Ok(answer),
                Err(error) => {
                    let hint = error.api().and_then(|api| api.retry_after);
                    (error, hint)
                }
            };
            if attempt >= policy.max_attempts || !error.is_retryable() {
                return Err(error);
            }
            let delay = policy.delay(attempt, wait_hint);
            if deadline.is_some_and(|at| Instant::now() + delay >= at) {
                return Err(error); // waiting would only run into the deadline
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, call: &Call<'_>, deadline: Option<Instant>, attempt: u32) -> Result<Answer, Error> {
        let inner = &self.inner;
        let mut request = http::Request::new(call.body.clone());
        *request.method_mut() = call.method.clone();
        *request.uri_mut() = call.uri.clone();
        let headers = request.headers_mut();
        headers.insert(USER_AGENT, inner.user_agent.clone());
        headers.insert(ACCEPT, HeaderValue::from_static(call.accept));
        if call.authorized {
            for name in inner.headers.keys() {
                headers.remove(name); // the caller's value replaces the client's
            }
            for (name, value) in &inner.headers {
                headers.append(name, value.clone());
            }
            headers.insert(AUTHORIZATION, inner.auth.clone());
        }
        if let Some(content_type) = call.content_type {
            let value = HeaderValue::try_from(content_type).map_err(|_| Error::Config("bad content type".into()))?;
            headers.insert(CONTENT_TYPE, value);
            headers.insert(CONTENT_LENGTH, HeaderValue::from(call.body.len()));
        }

        let waiting = if call.download { CallPhase::Download } else { CallPhase::Headers };
        let sending = tokio::time::timeout(inner.timeouts.headers, inner.transport.send(request));
        let sent = match deadline {
            Some(at) => tokio::time::timeout_at(at, sending)
                .await
                .map_err(|_| Error::timeout(TimeoutPhase::Overall, waiting))?,
            None => sending.await,
        };
        let response = match sent {
            Err(_) => return Err(Error::timeout(TimeoutPhase::Headers, waiting)),
            Ok(Err(error)) if error.kind() == TransportErrorKind::ConnectTimeout => {
                return Err(Error::timeout(TimeoutPhase::Connect, CallPhase::Connect));
            }
            Ok(Err(error)) => return Err(Error::Transport(error)),
            Ok(Ok(response)) => response,
        };
        let (parts, body) = response.into_parts();
        let meta = ResponseMeta {
            request_id: header_text(&parts.headers, "x-request-id"),
            status: parts.status.as_u16(),
            attempts: attempt,
        };
        let reading = if call.download { CallPhase::Download } else { CallPhase::Body };
        let reader = BodyReader::new(body, Some(inner.timeouts.idle), deadline, inner.max_response_bytes, reading);
        if parts.status.is_success() {
            return Ok(Answer { headers: parts.headers, reader, meta });
        }
        let body = reader.read_prefix(ERROR_BODY_LIMIT).await;
        Err(api_error(parts.status, &parts.headers, &body).into())
    }

    /// Reads a `2xx` answer as images: JSON (decoded as it arrives) or, for a stream, its events.
    async fn images_response(&self, answer: Answer) -> Result<(ImagesResponse, ResponseMeta), Error> {
        if is_event_stream(&answer.headers) {
            let stream = ImageStream::sse(answer.reader, answer.meta.clone(), self.inner.redactor.clone());
            return Ok((stream.into_response().await?, answer.meta));
        }
        // A body in one chunk (the usual URL answer) is decoded without copying it; chunked bodies go
        // through the decoder that moves image strings out as they arrive.
        let mut reader = answer.reader;
        let mut decoder: Option<ImagesDecoder> = None;
        let mut first: Option<Bytes> = None;
        while let Some(chunk) = reader.next_chunk().await {
            let chunk = chunk?;
            match (&mut decoder, first.take()) {
                (Some(decoder), _) => decoder.feed(&chunk),
                (None, None) => first = Some(chunk),
                (None, Some(previous)) => {
                    let mut started = ImagesDecoder::new();
                    started.feed(&previous);
                    started.feed(&chunk);
                    decoder = Some(started);
                }
            }
        }
        let mut response = match (decoder, first) {
            (Some(decoder), _) => decoder.finish(),
            (None, Some(body)) => ImagesDecoder::decode(&body),
            (None, None) => ImagesDecoder::decode(b""),
        }
        .map_err(Error::decode)?;
        self.inner.redactor.response(&mut response);
        Ok((response, answer.meta))
    }
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    const EVENT_STREAM: &[u8] = b"text/event-stream";
    headers.get(CONTENT_TYPE).is_some_and(|value| {
        let value = value.as_bytes().trim_ascii_start();
        value.len() >= EVENT_STREAM.len() && value[..EVENT_STREAM.len()].eq_ignore_ascii_case(EVENT_STREAM)
    })
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn start_of(text: &str) -> String {
    text.chars().take(64).collect()
}

/// The id the service appends to its messages (`… Request id: 0217…`).
pub(crate) fn request_id_in(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.rfind("request id:")?;
    let id: String = message[at + "request id:".len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!id.is_empty()).then_some(id)
}

/// An error answer as an [`ApiError`]: the JSON envelope when there is one, else the body's text
/// (an HTML page from a proxy becomes readable text).
pub(crate) fn api_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
    let parsed: Option<ApiErrorBody> =
        serde_json::from_slice::<ErrorEnvelope>(body).ok().map(|e| e.error).or_else(|| {
            // Relays' variants: `{"error": "text"}`, `{"message": …}`, or a bare error object.
            let value: serde_json::Value = serde_json::from_slice(body).ok()?;
            let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
            match value.get("error") {
                Some(serde_json::Value::String(message)) => Some(ApiErrorBody::new("", message.clone())),
                _ => {
                    let code = value.get("code").and_then(text).unwrap_or_default();
                    let message = value.get("message").and_then(text)?;
                    Some(ApiErrorBody::new(code, message))
                }
            }
        });
    let (code, message, param) = match parsed {
        Some(error) => (error.code, error.message, error.param.filter(|p| !p.is_empty())),
        None => (String::new(), body_text(status, body), None),
    };
    let request_id = header_text(headers, "x-request-id").or_else(|| request_id_in(&message));
    // The client follows no redirect (the key must not travel to another host): say where it led.
    let location = if status.is_redirection() { header_text(headers, LOCATION.as_str()) } else { None };
    ApiError {
        status: status.as_u16(),
        class: ErrorClass::classify(Some(status.as_u16()), &code),
        code,
        message,
        param,
        request_id,
        retry_after: retry_after(headers),
        location,
    }
}

/// The readable text of a non-JSON body: tags dropped, whitespace collapsed, at most 512 characters.
fn body_text(status: StatusCode, body: &[u8]) -> String {
    let raw = String::from_utf8_lossy(body);
    let mut text = String::with_capacity(raw.len().min(1024));
    let mut in_tag = false;
    let mut space = false;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                space = true;
            }
            _ if in_tag => {}
            c if c.is_whitespace() => space = true,
            c => {
                if space && !text.is_empty() {
                    text.push(' ');
                }
                space = false;
                text.push(c);
            }
        }
        if text.len() >= 512 {
            break;
        }
    }
    if text.is_empty() { format!("HTTP {status} with no readable body") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_error_pages_become_text() {
        let body = b"<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502   Bad Gateway</h1></body></html>";
        let error = api_error(StatusCode::BAD_GATEWAY, &HeaderMap::new(), body);
        assert_eq!(error.message, "502 Bad Gateway 502 Bad Gateway");
        assert_eq!(error.code, "");
        assert!(error.is_retryable());
        assert_eq!(error.class, ErrorClass::ServerError);
    }

    #[test]
    fn json_errors_keep_code_param_and_request_id() {
        let body = br#"{"error":{"code":"InvalidParameter","message":"bad size. Request id: 0217abc-1","param":"size","type":"BadRequest"}}"#;
        let error = api_error(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(error.code, "InvalidParameter");
        assert_eq!(error.param.as_deref(), Some("size"));
        assert_eq!(error.request_id.as_deref(), Some("0217abc-1"));
        assert_eq!(error.class, ErrorClass::InvalidRequest);
        assert!(!error.is_retryable());
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "hdr-1".parse().unwrap());
        headers.insert("retry-after", "2".parse().unwrap());
        let quota =
            api_error(StatusCode::TOO_MANY_REQUESTS, &headers, br#"{"error":{"code":"QuotaExceeded","message":"no"}}"#);
        assert_eq!(quota.request_id.as_deref(), Some("hdr-1"));
        assert_eq!(quota.retry_after, Some(Duration::from_secs(2)));
        assert!(!quota.is_retryable());
        let relay = api_error(StatusCode::UNAUTHORIZED, &HeaderMap::new(), br#"{"error":"invalid token"}"#);
        assert_eq!(relay.message, "invalid token");
        assert_eq!(relay.class, ErrorClass::Authentication);
    }

    #[test]
    fn ark_bases_edit_through_generations() {
        assert!(is_ark_base("/api/v3"));
        assert!(is_ark_base("/api/v3/"));
        assert!(!is_ark_base("/v1"));
    }
}
