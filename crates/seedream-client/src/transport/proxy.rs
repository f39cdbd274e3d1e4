//! HTTP proxies: which requests go through one (hyper-util's curl-compatible [`Matcher`] over
//! `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` or explicit settings) and the connector that
//! takes them there: `https` through a `CONNECT` tunnel (hyper-util's [`Tunnel`]) with TLS to the
//! origin inside it, `http` to the proxy itself with absolute-form requests.
//!
//! Loopback origins (`127.0.0.0/8`, `::1`, `localhost`) never go through a proxy from the
//! environment, as Go's `ProxyFromEnvironment` has it: the proxy would reach *its own* loopback, and
//! the request (the API key with it) would cross the network in clear on the way. An explicit proxy
//! takes them only when it runs on this machine too (a local debugging proxy), where neither holds.
//!
//! Proxy credentials (`http://user:pass@proxy:3128`) are sent as `Proxy-Authorization: Basic` and
//! never shown: [`Proxy`]'s `Debug`, errors and [`Proxy::proxy_for`] name the proxy without them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Uri};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::scheme::is_loopback_host;
use super::{TransportError, TransportErrorKind};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which requests go through an HTTP proxy, and which one.
///
/// - [`Proxy::from_env`] (what a client uses unless told otherwise): `HTTPS_PROXY` for `https`
///   URLs, `HTTP_PROXY` for `http` ones, `ALL_PROXY` for both when the specific one is unset, each
///   in upper or lower case; hosts in `NO_PROXY` go direct, `*` bypasses every host. As Go's
///   `ProxyFromEnvironment` (not curl): loopback hosts (`127.0.0.0/8`, `::1`, `localhost`) always go
///   direct, so a local emulator is never reached through a proxy that would see the key in clear
///   and connect to its own loopback instead.
/// - [`Proxy::all`]: every request through one proxy (the environment is not read); add
///   exceptions with [`with_no_proxy`](Self::with_no_proxy). Loopback hosts go through it only
///   when the proxy is on this machine as well (a local debugging proxy); otherwise they go direct,
///   for the same reasons.
/// - [`Proxy::none`]: always direct.
///
/// Proxies are `http://host:port` (a value without a scheme means `http://`); `https://` and SOCKS
/// proxies are refused by the client builder rather than ignored.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Proxy {
    /// For `http://` requests.
    http: Option<String>,
    /// For `https://` requests.
    https: Option<String>,
    /// The `NO_PROXY` list.
    no_proxy: String,
    /// Where the settings came from, for messages (`HTTPS_PROXY`, `proxy`).
    source: &'static str,
    /// Set by the caller rather than read from the environment: loopback hosts may then go through
    /// a proxy that is itself on loopback.
    explicit: bool,
}

impl Proxy {
    /// The proxy settings in the environment now (see the type's documentation).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The proxy settings of an environment given as a lookup function, for tests and hosts that
    /// keep their own environment. Reads the names `from_env` reads, upper case first. As Go and
    /// curl do (the "httpoxy" rule), `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set (a CGI
    /// program, where a request's `Proxy:` header would arrive as `HTTP_PROXY`).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names.iter().find_map(|name| lookup(name)).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
        };
        let all = first(&["ALL_PROXY", "all_proxy"]);
        let cgi = lookup("REQUEST_METHOD").is_some();
        let http = if cgi { None } else { first(&["HTTP_PROXY", "http_proxy"]) };
        Self {
            http: http.or_else(|| all.clone()),
            https: first(&["HTTPS_PROXY", "https_proxy"]).or(all),
            no_proxy: first(&["NO_PROXY", "no_proxy"]).unwrap_or_default(),
            source: "the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY)",
            explicit: false,
        }
    }

    /// Every request through the proxy at `url` (`http://[user:pass@]host:port`).
    pub fn all(url: impl Into<String>) -> Self {
        let url = url.into().trim().to_owned();
        Self {
            http: Some(url.clone()),
            https: Some(url),
            no_proxy: String::new(),
            source: "the proxy setting",
            explicit: true,
        }
    }

    /// No proxy: every request goes straight to its server.
    pub fn none() -> Self {
        Self { source: "no proxy", ..Self::default() }
    }

    /// Hosts reached directly, as `NO_PROXY` lists them: comma-separated names (matching their
    /// subdomains too), IP addresses or networks (`10.0.0.0/8`), or `*` for all. Replaces the list.
    pub fn with_no_proxy(mut self, list: impl Into<String>) -> Self {
        self.no_proxy = list.into();
        self
    }

    /// Whether no request can go through a proxy (none is set, or `NO_PROXY` is `*`: curl's "every
    /// host", IP addresses included, which hyper-util's matcher applies to names only).
    pub fn is_none(&self) -> bool {
        (self.http.is_none() && self.https.is_none()) || self.no_proxy.split(',').any(|entry| entry.trim() == "*")
    }

    /// The proxy a request to `url` would go through, without credentials (`http://proxy:3128`);
    /// `None` when it goes direct (or `url` is not an absolute http(s) URL).
    pub fn proxy_for(&self, url: &str) -> Option<String> {
        if self.is_none() {
            return None;
        }
        let uri: Uri = url.parse().ok()?;
        self.matcher().ok()?.intercept(&uri).map(|intercept| display_proxy(intercept.uri()))
    }

    /// The credentials in the proxy URLs (user and password, raw and percent-decoded, and the
    /// base64 of `user:password` that `Proxy-Authorization: Basic` carries), so that a server
    /// echoing them can have them redacted.
    pub(crate) fn secrets(&self) -> Vec<String> {
        use base64::Engine as _;
        let mut secrets = Vec::new();
        let mut add = |secret: String| {
            if !secrets.contains(&secret) {
                secrets.push(secret);
            }
        };
        for url in [&self.http, &self.https].into_iter().flatten() {
            let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            let Some((userinfo, _)) = authority.rsplit_once('@') else { continue };
            for part in userinfo.split(':').filter(|p| !p.is_empty()) {
                add(part.to_owned());
                add(percent_decode(part));
            }
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            for pair in [format!("{user}:{password}"), format!("{}:{}", percent_decode(user), percent_decode(password))]
            {
                add(base64::engine::general_purpose::STANDARD.encode(pair));
            }
        }
        secrets
    }

    /// Checks the proxy URLs and builds the routes. [`TransportErrorKind::Config`] for a URL that does
    /// not parse or a proxy kind not supported (`https://`, SOCKS), naming it without credentials.
    pub(crate) fn matcher(&self) -> Result<Routes, TransportError> {
        for url in [&self.http, &self.https].into_iter().flatten() {
            check_proxy_url(url, self.source)?;
        }
        let mut builder = Matcher::builder().no(self.no_proxy.as_str());
        if let Some(http) = &self.http {
            builder = builder.http(http.as_str());
        }
        if let Some(https) = &self.https {
            builder = builder.https(https.as_str());
        }
        Ok(Routes { matcher: builder.build(), explicit: self.explicit })
    }
}

/// Which proxy a request goes through: hyper-util's curl-compatible matcher, with loopback origins
/// kept direct (see the module's comment).
#[derive(Debug)]
pub(crate) struct Routes {
    matcher: Matcher,
    explicit: bool,
}

impl Routes {
    /// The proxy for `uri`, or `None` to connect directly.
    pub(crate) fn intercept(&self, uri: &Uri) -> Option<Intercept> {
        let intercept = self.matcher.intercept(uri)?;
        if !uri.host().is_some_and(is_loopback_host) {
            return Some(intercept);
        }
        // A loopback origin: only through an explicit proxy that shares this machine's loopback.
        let proxy_is_local = intercept.uri().host().is_some_and(is_loopback_host);
        (self.explicit && proxy_is_local).then_some(intercept)
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |url: &Option<String>| url.as_deref().map(strip_userinfo);
        f.debug_struct("Proxy")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// `url` without a `user:pass@` part (the rest unchanged). Works on any URL-like text.
pub fn strip_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    match scheme {
        Some(scheme) => format!("{scheme}://{host}{tail}"),
        None => format!("{host}{tail}"),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn check_proxy_url(url: &str, source: &str) -> Result<(), TransportError> {
    let shown = strip_userinfo(url);
    let with_scheme = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
    let uri: Uri = with_scheme
        .parse()
        .map_err(|_| config_error(format!("the proxy {shown:?} from {source} is not a URL (http://host:port)")))?;
    match uri.scheme_str() {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") => {}
        Some(scheme) => {
            return Err(config_error(format!(
                "the proxy {shown:?} from {source} is a {scheme} proxy; only http:// proxies are supported"
            )));
        }
        None => unreachable!("a scheme was added"),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(config_error(format!("the proxy {shown:?} from {source} has no host")));
    }
    Ok(())
}

fn config_error(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::Config, message)
}

/// `http://host:port` of a proxy (hyper-util's intercept URI holds no credentials).
fn display_proxy(uri: &Uri) -> String {
    match uri.authority() {
        Some(authority) => format!("{}://{}", uri.scheme_str().unwrap_or("http"), authority),
        None => uri.to_string(),
    }
}

/// A failure reaching a destination through a proxy: names the proxy, never its credentials.
#[derive(Debug)]
pub(crate) struct ProxyError {
    /// `http://host:port`.
    pub(crate) proxy: String,
    pub(crate) reason: String,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "through the proxy {}: {}", self.proxy, self.reason)
    }
}

impl std::error::Error for ProxyError {}

/// The TCP part of a connection: straight to the server, tunnelled through a proxy (`https`), or to
/// the proxy itself (`http`, marked proxied so hyper sends absolute-form requests). TLS to the
/// origin is added on top by hyper-rustls, so the origin's certificate is the one verified.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    matcher: Option<Arc<Routes>>,
}

impl ProxyConnector {
    pub(crate) fn new(http: HttpConnector, matcher: Option<Arc<Routes>>) -> Self {
        Self { http, matcher }
    }
}

/// The `Proxy-Authorization` value for a plain-http request to `uri`, when it goes through a proxy
/// with credentials.
pub(crate) fn proxy_authorization(matcher: Option<&Routes>, uri: &Uri) -> Option<HeaderValue> {
    if uri.scheme_str() != Some("http") {
        return None; // https: the CONNECT request carries it; the origin never sees it
    }
    matcher?.intercept(uri)?.basic_auth().cloned()
}

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = ProxiedIo;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxiedIo, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower_service::Service::<Uri>::poll_ready(&mut self.http, cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept: Option<Intercept> = self.matcher.as_ref().and_then(|m| m.intercept(&dst));
        let mut http = self.http.clone();
        Box::pin(async move {
            let host = dst.host().unwrap_or("");
            let Some(intercept) = intercept else {
                tracing::debug!(host, proxy = "direct", "connecting");
                let io = tower_service::Service::call(&mut http, dst).await?;
                return Ok(ProxiedIo { io, proxied: false });
            };
            // `http://host:port` only: the intercept's URI holds no credentials.
            let proxy = display_proxy(intercept.uri());
            tracing::debug!(host, proxy = %proxy, "connecting");
            let failed = |reason: String| -> BoxError { Box::new(ProxyError { proxy: proxy.clone(), reason }) };
            if dst.scheme_str() == Some("https") {
                let mut tunnel = Tunnel::new(intercept.uri().clone(), http);
                if let Some(auth) = intercept.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let io = tower_service::Service::call(&mut tunnel, dst).await.map_err(|e| failed(tunnel_reason(&e)))?;
                Ok(ProxiedIo { io, proxied: false })
            } else {
                let io = tower_service::Service::call(&mut http, intercept.uri().clone())
                    .await
                    .map_err(|e| failed(format!("cannot connect: {}", chain_text(&e))))?;
                Ok(ProxiedIo { io, proxied: true })
            }
        })
    }
}

fn chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// What went wrong opening a tunnel, in words (hyper-util's error keeps the io error as a source).
fn tunnel_reason(error: &(dyn std::error::Error + 'static)) -> String {
    let text = chain_text(error);
    if text.contains("proxy authorization required") {
        "the proxy asks for credentials (407): put them in the proxy URL, http://user:password@host:port".into()
    } else if text.contains("unsuccessful") {
        "the proxy refused the CONNECT tunnel".into()
    } else if text.contains("failed to create underlying connection") {
        format!("cannot connect: {}", text.trim_start_matches("tunnel error: failed to create underlying connection: "))
    } else {
        text
    }
}

/// A TCP connection that may lead to a proxy (hyper then writes absolute-form request targets).
pub(crate) struct ProxiedIo {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for ProxiedIo {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for ProxiedIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for ProxiedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn environment_variables_choose_the_proxy_as_curl_does() {
        let proxy = Proxy::from_vars(env(&[("https_proxy", "http://p1:3128"), ("ALL_PROXY", "p2:8080")]));
        assert_eq!(proxy.proxy_for("https://api.example.com/v1").as_deref(), Some("http://p1:3128"));
        assert_eq!(proxy.proxy_for("http://api.example.com/v1").as_deref(), Some("http://p2:8080"));
        // Loopback goes direct, as Go has it: the proxy would reach its own loopback.
        for local in ["http://127.0.0.1:9/v1", "http://127.3.2.1/", "https://[::1]:9/v1", "http://LocalHost:9/v1"] {
            assert_eq!(proxy.proxy_for(local), None, "{local}");
        }
        assert_eq!(proxy.proxy_for("http://127.0.0.1.example/v1").as_deref(), Some("http://p2:8080"));
        let bypass = Proxy::from_vars(env(&[("HTTP_PROXY", "http://p:1"), ("no_proxy", "localhost, .example.com")]));
        assert_eq!(bypass.proxy_for("http://localhost:9/v1"), None);
        assert_eq!(bypass.proxy_for("http://api.example.com/v1"), None);
        assert_eq!(bypass.proxy_for("http://example.org/v1").as_deref(), Some("http://p:1"));
        let cgi = Proxy::from_vars(env(&[("HTTP_PROXY", "http://p:1"), ("REQUEST_METHOD", "GET")]));
        assert!(cgi.is_none(), "httpoxy: HTTP_PROXY is ignored in CGI programs");
        let star = Proxy::from_vars(env(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", "*")]));
        assert_eq!((star.proxy_for("http://10.1.2.3/"), star.proxy_for("https://a.test/")), (None, None));
        assert!(Proxy::from_vars(env(&[])).is_none());
    }

    #[test]
    fn an_explicit_proxy_takes_loopback_hosts_only_when_it_is_local_too() {
        let remote = Proxy::all("http://proxy.corp.test:3128");
        assert_eq!(remote.proxy_for("http://127.0.0.1:8080/v1"), None);
        assert_eq!(remote.proxy_for("http://[::1]:8080/v1"), None);
        assert_eq!(remote.proxy_for("https://api.example.com/").as_deref(), Some("http://proxy.corp.test:3128"));
        let local = Proxy::all("http://127.0.0.1:8888");
        assert_eq!(local.proxy_for("http://localhost:8080/v1").as_deref(), Some("http://127.0.0.1:8888"));
        // The environment's proxy never does, local or not.
        let env_local = Proxy::from_vars(env(&[("HTTP_PROXY", "http://127.0.0.1:8888")]));
        assert_eq!(env_local.proxy_for("http://127.0.0.1:8080/v1"), None);
    }

    #[test]
    fn credentials_are_never_shown() {
        let proxy = Proxy::all("http://alice:s%40cret@proxy.test:3128");
        assert_eq!(proxy.proxy_for("https://x.test/").as_deref(), Some("http://proxy.test:3128"));
        let debug = format!("{proxy:?}");
        assert!(!debug.contains("cret") && !debug.contains("alice"), "{debug}");
        let secrets = proxy.secrets();
        assert_eq!(secrets[..3], ["alice", "s%40cret", "s@cret"]);
        // What hyper-util actually sends, as a server could echo it.
        let uri: Uri = "http://x.test/".parse().unwrap();
        let matcher = proxy.matcher().unwrap();
        let sent = matcher.intercept(&uri).unwrap().basic_auth().unwrap().to_str().unwrap().to_owned();
        let encoded = sent.strip_prefix("Basic ").unwrap();
        assert!(secrets.iter().any(|s| s == encoded), "{sent} not among {secrets:?}");
        let socks = Proxy::all("socks5://bob:hunter2@proxy.test:1080").matcher().unwrap_err().to_string();
        assert!(socks.contains("socks5") && !socks.contains("hunter2"), "{socks}");
    }

    #[test]
    fn userinfo_is_stripped_from_urls() {
        assert_eq!(strip_userinfo("http://u:p@host:1/v1?x=@"), "http://host:1/v1?x=@");
        assert_eq!(strip_userinfo("https://host/v1"), "https://host/v1");
        assert_eq!(strip_userinfo("u:p@host:1"), "host:1");
    }
}
