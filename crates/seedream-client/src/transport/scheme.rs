//! Which URLs a request may go to: `https`, or plain `http` only to this machine unless allowed, so
//! an API key never travels in clear over a network by mistake. The built-in transport checks each
//! request; the client builder checks the base URL up front.

use std::net::IpAddr;

use super::{TransportError, TransportErrorKind};

/// Whether `host` (as in a URI, IPv6 in brackets) is this machine.
pub(super) fn is_loopback_host(host: &str) -> bool {
    if host == "127.0.0.1" || host == "localhost" {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of an authority (`user@host:port`, `[::1]:port`), brackets kept as `Uri::host` keeps
/// them; plain byte loops, as this runs for every request on a string of some twenty bytes (where
/// memchr's vector set-up costs more than the scan).
fn host_of(authority: &str) -> &str {
    let bytes = authority.as_bytes();
    let start = bytes.iter().rposition(|&b| b == b'@').map_or(0, |at| at + 1);
    let rest = &bytes[start..];
    let len = if rest.first() == Some(&b'[') {
        rest.iter().position(|&b| b == b']').map_or(rest.len(), |at| at + 1)
    } else {
        rest.iter().position(|&b| b == b':').unwrap_or(rest.len())
    };
    &authority[start..start + len]
}

/// Checks that `uri` can be sent: `https`, or `http` to loopback (or anywhere when allowed).
pub(crate) fn check_scheme(uri: &http::Uri, allow_insecure_http: bool) -> Result<(), TransportError> {
    let host = uri.authority().map_or("", |authority| host_of(authority.as_str()));
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if !host.is_empty() && (allow_insecure_http || is_loopback_host(host)) => Ok(()),
        Some("http") if !host.is_empty() => Err(TransportError::new(
            TransportErrorKind::InvalidRequest,
            format!("plain http:// to {host} is refused (use https, or allow insecure http explicitly)"),
        )),
        _ => Err(TransportError::new(TransportErrorKind::InvalidRequest, format!("not an http(s) URL: {uri}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_unless_allowed() {
        let ok = ["http://127.0.0.1:8080/v1", "http://localhost/v1", "http://[::1]:1/x", "https://example.com/v1"];
        for uri in ok {
            assert!(check_scheme(&uri.parse().unwrap(), false).is_ok(), "{uri}");
        }
        let refused: http::Uri = "http://example.com/v1".parse().unwrap();
        let error = check_scheme(&refused, false).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::InvalidRequest);
        assert!(check_scheme(&refused, true).is_ok());
        assert!(check_scheme(&"ftp://example.com/".parse().unwrap(), true).is_err());
        assert!(check_scheme(&"http://user:pw@127.0.0.1:9/x".parse().unwrap(), false).is_ok());
        assert!(check_scheme(&"http://127.0.0.1@example.com/x".parse().unwrap(), false).is_err());
    }

    #[test]
    fn the_host_is_read_as_uri_reads_it() {
        for uri in [
            "http://a.example:80/",
            "http://u:p@h:1/",
            "http://[::1]:8/",
            "https://[fe80::1]/",
            "http://h/",
            "http://u@h",
        ] {
            let uri: http::Uri = uri.parse().unwrap();
            assert_eq!(host_of(uri.authority().unwrap().as_str()), uri.host().unwrap(), "{uri}");
        }
    }
}
