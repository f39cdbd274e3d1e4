//! [`ClientBuilder`]: the client's settings, checked and turned into a [`Client`] (the base URL
//! and its endpoints, the key, headers, the built-in transport and the secrets to redact).

use std::fmt;
use std::sync::{Arc, OnceLock};

use seedream_types::catalog::Catalog;

use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::client::{Client, Inner};
use crate::config::{EditMode, Timeouts};
use crate::error::Error;
use crate::request_id::CLIENT_REQUEST_ID;
use crate::retry::RetryPolicy;
use crate::send::Sender;
use crate::text::{Redactor, header_secrets};
use crate::transport::{DEFAULT_POOL_MAX_IDLE_PER_HOST, HyperTransport, Proxy, Transport, check_scheme};

/// Ark's base URL, used when neither the builder nor `SEEDREAM_BASE_URL` gives one.
pub const ARK_BASE_URL: &str = "https://ark.cn-beijing.volces.com/api/v3";
/// The `User-Agent` sent unless another is set.
pub const DEFAULT_USER_AGENT: &str = concat!("seedream-rs/", env!("CARGO_PKG_VERSION"));
/// Largest response body accepted by default: 256 MiB (15 4K images as `b64_json` are about 100 MB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// How many image downloads a client runs at once unless told otherwise.
pub const DEFAULT_MAX_PARALLEL_DOWNLOADS: usize = 4;

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
    catalog: Option<Arc<Catalog>>,
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
            .field("catalog", &self.catalog.as_ref().map(|c| c.families().len()))
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
            catalog: None,
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
    /// Requests go to `{base_url}/images/generations`, `{base_url}/images/edits` and `{base_url}/models`.
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

    /// The model catalog requests are validated by (default: the rows this version was built with).
    /// Give one extended by a catalog file ([`Catalog::with_file`]) to teach the client a model
    /// without a release.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(Arc::new(catalog));
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
    /// for the built-in transport; checked by [`build`](Self::build). Loopback hosts go through it
    /// only when the proxy is on loopback too (a local debugging proxy); else they go direct.
    ///
    /// Without this or [`no_proxy`](Self::no_proxy), the built-in transport follows
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` as curl does, except that loopback
    /// hosts always go direct, as in Go (see [`Proxy`]).
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
        let models = endpoint("/models")?;

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
                check_scheme(&base, self.allow_insecure_http).map_err(settings_error)?;
                let mut builder = HyperTransport::builder()
                    .connect_timeout(self.timeouts.connect)
                    .allow_insecure_http(self.allow_insecure_http)
                    .pool_max_idle_per_host(self.pool_max_idle_per_host)
                    .proxy(proxy.clone());
                for pem in &self.trusted_pems {
                    builder = builder.trust_pem(pem);
                }
                Arc::new(builder.build().map_err(settings_error)?)
            }
        };

        let mut secrets = vec![api_key.trim().to_owned()];
        secrets.extend(proxy.secrets());
        // A caller's own request id is a name to quote, not a credential.
        let is_request_id = |name: &str| name.eq_ignore_ascii_case(CLIENT_REQUEST_ID.as_str());
        secrets.extend(
            self.headers
                .iter()
                .filter(|(name, _)| !is_request_id(name))
                .flat_map(|(name, value)| header_secrets(name, value)),
        );
        let redactor = Redactor::new(secrets);

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
            value.set_sensitive(header != CLIENT_REQUEST_ID); // extra headers may carry credentials too
            headers.append(header, value);
        }

        let edit_mode = match self.edit_mode {
            EditMode::Auto if is_ark_base(base.path()) => EditMode::Generations,
            EditMode::Auto => EditMode::Multipart,
            mode => mode,
        };
        let max_attempts = self.retry.max_attempts.max(1);
        let sender = Sender {
            transport,
            timeouts: self.timeouts,
            retry: self.retry.with_max_attempts(max_attempts),
            user_agent,
            headers,
            auth,
            max_response_bytes: self.max_response_bytes,
            redactor: redactor.clone(),
        };
        Ok(Client::new(Inner {
            base_url,
            origin,
            generations,
            edits,
            models,
            sender,
            validate: self.validate,
            catalog: self.catalog,
            edit_mode,
            downloads: Arc::new(tokio::sync::Semaphore::new(self.max_parallel_downloads)),
            max_parallel_downloads: self.max_parallel_downloads,
            redactor,
            first_family: OnceLock::new(),
        }))
    }
}

/// A transport setting the builder passed on that does not work (a bad PEM or proxy URL, plain
/// `http://` to a remote host): the client's configuration error, in the transport's words.
fn settings_error(error: crate::TransportError) -> Error {
    Error::Config(error.message().to_owned())
}

/// Ark serves `/api/v3` and has no edits endpoint.
fn is_ark_base(path: &str) -> bool {
    path.trim_end_matches('/').ends_with("/api/v3")
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: the key from `SEEDREAM_API_KEY`, else `ARK_API_KEY`;
    /// the base URL from `SEEDREAM_BASE_URL`, else [`ARK_BASE_URL`]. Everything else at its default.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env().build()
    }
}

impl ClientBuilder {
    /// A builder preset from the environment as [`Client::from_env`] does, to change more.
    pub fn from_env() -> ClientBuilder {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let mut builder = ClientBuilder::default();
        if let Some(key) = var("SEEDREAM_API_KEY").or_else(|| var("ARK_API_KEY")) {
            builder = builder.api_key(key);
        }
        if let Some(base_url) = var("SEEDREAM_BASE_URL") {
            builder = builder.base_url(base_url);
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ark_bases_edit_through_generations() {
        assert!(is_ark_base("/api/v3"));
        assert!(is_ark_base("/api/v3/"));
        assert!(!is_ark_base("/v1"));
    }
}
