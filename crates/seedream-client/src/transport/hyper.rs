//! The real transport: hyper-util's pooled client over hyper-rustls (rustls with the `ring`
//! provider, no OpenSSL), HTTP/1.1 and HTTP/2 chosen by ALPN, through an HTTP proxy when the
//! environment or the builder names one (see [`Proxy`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::proxy::{Proxy, ProxyConnector, ProxyError, Routes, proxy_authorization};
use super::scheme::check_scheme;
use super::{FreshConnection, RequestBody, ResponseBody, Transport, TransportError, TransportErrorKind};

/// Default limit for opening a connection (TCP and TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time an idle pooled connection is kept.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Default number of idle connections kept per host: enough for 64 calls at once (a busy batch, the
/// soak) to reuse theirs instead of reconnecting (8 cost W1 at concurrency 32 a fifth more CPU), and
/// still a bound on the descriptors a burst of calls leaves open.
pub const DEFAULT_POOL_MAX_IDLE_PER_HOST: usize = 64;

/// hyper + rustls transport with a connection pool. Cheap to clone (the pool is shared).
///
/// Trusts the system's root certificates (the bundled webpki roots when the system has none), plus
/// any certificate given to [`HyperTransportBuilder::trust_pem`]. Plain `http://` is refused except
/// to loopback hosts unless [`HyperTransportBuilder::allow_insecure_http`] is set.
#[derive(Clone)]
pub struct HyperTransport {
    client: PooledClient<TimedConnector<HttpsConnector<ProxyConnector>>, RequestBody>,
    /// The same connector without idle connections: requests marked [`FreshConnection`] open one.
    fresh: PooledClient<TimedConnector<HttpsConnector<ProxyConnector>>, RequestBody>,
    allow_insecure_http: bool,
    connect_timeout: Option<Duration>,
    extra_roots: usize,
    /// Which requests go through a proxy; `None` when none can.
    proxies: Option<Arc<Routes>>,
    proxy: Proxy,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("connect_timeout", &self.connect_timeout)
            .field("extra_roots", &self.extra_roots)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

/// Builds a [`HyperTransport`].
#[derive(Debug, Clone)]
pub struct HyperTransportBuilder {
    connect_timeout: Option<Duration>,
    trusted_pems: Vec<String>,
    allow_insecure_http: bool,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    proxy: Option<Proxy>,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            trusted_pems: Vec::new(),
            allow_insecure_http: false,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle_per_host: DEFAULT_POOL_MAX_IDLE_PER_HOST,
            proxy: None,
        }
    }
}

impl HyperTransport {
    /// A builder with the defaults: connect timeout [`DEFAULT_CONNECT_TIMEOUT`], system roots,
    /// `http://` to loopback only.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// A transport with the defaults.
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }
}

impl HyperTransportBuilder {
    /// Time limit for opening a connection, TCP and TLS handshake together (`None`: no limit).
    /// Default 10 s.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Also trusts the certificate(s) in `pem` (for example the emulator's self-signed one).
    /// A bad PEM makes [`build`](Self::build) fail.
    pub fn trust_pem(mut self, pem: &str) -> Self {
        self.trusted_pems.push(pem.to_owned());
        self
    }

    /// Allows plain `http://` to any host (default: loopback hosts only, so an API key is never
    /// sent in clear over a network by mistake).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// How long an idle pooled connection is kept. Default 90 s.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Most idle connections kept per host. Default [`DEFAULT_POOL_MAX_IDLE_PER_HOST`].
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Which requests go through an HTTP proxy. Default [`Proxy::from_env`], read when the
    /// transport is built.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// No proxy, whatever the environment says.
    pub fn no_proxy(self) -> Self {
        self.proxy(Proxy::none())
    }

    /// Builds the transport. Fails ([`TransportErrorKind::Config`]) on a PEM without a usable certificate or a
    /// proxy URL that is not an `http://` URL.
    pub fn build(self) -> Result<HyperTransport, TransportError> {
        let proxy = self.proxy.clone().unwrap_or_else(Proxy::from_env);
        let proxies = if proxy.is_none() { None } else { Some(Arc::new(proxy.matcher()?)) };
        // The certificates given are checked now; the system's roots are read on the first https
        // connection (see `LazyRoots`): a client that only speaks http:// never parses them.
        let mut extra = RootCertStore::empty();
        let mut extra_roots = 0;
        for pem in &self.trusted_pems {
            let mut found = 0;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| config_error(format!("bad PEM certificate: {e}")))?;
                extra.add(cert).map_err(|e| config_error(format!("unusable certificate: {e}")))?;
                found += 1;
            }
            if found == 0 {
                return Err(config_error("the PEM text holds no certificate".into()));
            }
            extra_roots += found;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(LazyRoots { extra, provider: provider.clone(), verifier: OnceLock::new() });
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error(format!("TLS setup failed: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(self.connect_timeout);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(ProxyConnector::new(http, proxies.clone()));
        let connector = TimedConnector { inner: Arc::new(connector), timeout: self.connect_timeout };
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector.clone());
        let fresh = PooledClient::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(connector);
        Ok(HyperTransport {
            client,
            fresh,
            allow_insecure_http: self.allow_insecure_http,
            connect_timeout: self.connect_timeout,
            extra_roots,
            proxies,
            proxy,
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connector whose whole connect (TCP and the TLS handshake) has a time limit: hyper-util's own
/// limit covers only TCP, and a server that accepts but never finishes the handshake must not hang
/// a call until the time-to-headers limit.
///
/// The connector stack (TLS config, proxy matcher, TCP settings) sits behind one `Arc`: the pooled
/// client clones its connector for every request, even one that reuses a pooled connection, and only
/// a real connect needs a copy of its own.
struct TimedConnector<C> {
    inner: Arc<C>,
    timeout: Option<Duration>,
}

impl<C> Clone for TimedConnector<C> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), timeout: self.timeout }
    }
}

impl<C> tower_service::Service<http::Uri> for TimedConnector<C>
where
    C: tower_service::Service<http::Uri> + Clone + Send + 'static,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness is asked of the copy that connects, in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let mut inner = C::clone(&self.inner);
        let timeout = self.timeout;
        Box::pin(async move {
            let connecting = async move {
                std::future::poll_fn(|cx| inner.poll_ready(cx)).await.map_err(Into::into)?;
                inner.call(uri).await.map_err(Into::into)
            };
            match timeout {
                None => connecting.await,
                Some(limit) => match tokio::time::timeout(limit, connecting).await {
                    Ok(result) => result,
                    Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out").into()),
                },
            }
        })
    }
}

/// rustls's own WebPKI verifier over the system's roots and the certificates given, built on the
/// first certificate to check: reading and parsing the ~150 system CA files is most of a short
/// command's start-up, and plain `http://` never needs them. Signatures need no roots and are
/// checked as the WebPKI verifier checks them.
struct LazyRoots {
    extra: RootCertStore,
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Arc<WebPkiServerVerifier>, rustls::Error>>,
}

impl fmt::Debug for LazyRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyRoots")
            .field("extra_roots", &self.extra.len())
            .field("loaded", &self.verifier.get().is_some())
            .finish()
    }
}

impl LazyRoots {
    fn verifier(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                let mut roots = (*base_roots()).clone();
                roots.roots.extend(self.extra.roots.iter().cloned());
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| rustls::Error::General(format!("no usable root certificates: {e}")))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The system's roots, loaded once; the bundled webpki roots when the system has none.
fn base_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            Arc::new(roots)
        })
        .clone()
}

fn config_error(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Config, message)
}

fn classify(error: hyper_util::client::legacy::Error) -> TransportError {
    let causes = || std::iter::successors(std::error::Error::source(&error), |e| e.source());
    if let Some(proxy) = causes().find_map(|e| e.downcast_ref::<ProxyError>()) {
        return TransportError::new(TransportErrorKind::Proxy, proxy.to_string()).with_proxy(&proxy.proxy);
    }
    if error.is_connect() {
        let timed_out = std::iter::successors(std::error::Error::source(&error), |e| e.source())
            .filter_map(|e| e.downcast_ref::<std::io::Error>())
            .any(|e| e.kind() == std::io::ErrorKind::TimedOut);
        let kind = if timed_out { TransportErrorKind::ConnectTimeout } else { TransportErrorKind::Connect };
        return TransportError::with_source(kind, error);
    }
    TransportError::with_source(TransportErrorKind::Io, error)
}

type Sending<'a> = Pin<Box<dyn Future<Output = Result<http::Response<ResponseBody>, TransportError>> + Send + 'a>>;

#[async_trait::async_trait]
impl Transport for HyperTransport {
    // Written out rather than `async fn`: the request is handed to hyper before the future is
    // boxed, so the box holds hyper's response future alone, not the request besides it.
    fn send<'s, 'f>(&'s self, request: http::Request<RequestBody>) -> Sending<'f>
    where
        's: 'f,
        Self: 'f,
    {
        if let Err(error) = check_scheme(request.uri(), self.allow_insecure_http) {
            return Box::pin(std::future::ready(Err(error)));
        }
        let mut request = request;
        if let Some(auth) = proxy_authorization(self.proxies.as_deref(), request.uri()) {
            request.headers_mut().insert(http::header::PROXY_AUTHORIZATION, auth);
        }
        let client = if request.extensions().get::<FreshConnection>().is_some() { &self.fresh } else { &self.client };
        let response = client.request(request);
        Box::pin(async move { Ok(response.await.map_err(classify)?.map(ResponseBody::from_incoming)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_read_on_the_first_certificate_to_check() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let lazy = LazyRoots { extra: RootCertStore::empty(), provider, verifier: OnceLock::new() };
        assert!(!lazy.supported_verify_schemes().is_empty());
        assert!(lazy.verifier.get().is_none(), "nothing read for building or negotiating");
        assert!(lazy.verifier().is_ok());
        assert!(lazy.verifier.get().is_some());
        // An unknown issuer is still refused, as rustls's own verifier refuses it.
        let cert = CertificateDer::from(&b"not a certificate"[..]);
        let name = ServerName::try_from("example.com").unwrap();
        assert!(lazy.verify_server_cert(&cert, &[], &name, &[], UnixTime::now()).is_err());
    }

    #[test]
    fn a_pem_without_certificates_is_a_config_error() {
        let error = HyperTransport::builder().trust_pem("not a pem").build().unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Config, "{error:?}");
    }
}
