//! Error answers read into [`ApiError`]s: the JSON envelope (Ark's and relays' variants), an HTML or
//! text page from a proxy, and error events inside a stream.

use http::header::LOCATION;
use http::{HeaderMap, StatusCode};
use seedream_types::{ApiErrorBody, ErrorClass, ErrorEnvelope};

use crate::error::ApiError;
use crate::meta::{REQUEST_ID, ResponseMeta, header_text};
use crate::retry::retry_after;

/// An error answer as an [`ApiError`]: the JSON envelope when there is one, else the body's text
/// (an HTML page from a proxy becomes readable text).
pub(crate) fn from_answer(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
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
    let request_id = header_text(headers, REQUEST_ID).or_else(|| request_id_in(&message));
    // The client follows no redirect (the key must not travel to another host): say where it led.
    let location = if status.is_redirection() { header_text(headers, LOCATION) } else { None };
    ApiError::new(status.as_u16(), code, message)
        .with_param(param)
        .with_request_id(request_id)
        .with_retry_after(retry_after(headers))
        .with_location(location)
}

/// An error event inside a stream (`data: {"error": …}`): the stream's status, classified by its code.
pub(crate) fn from_stream_event(body: ApiErrorBody, meta: &ResponseMeta) -> ApiError {
    let class = ErrorClass::classify(None, &body.code);
    let request_id = meta.request_id.clone().or_else(|| request_id_in(&body.message));
    ApiError::new(meta.status, body.code, body.message)
        .with_class(class)
        .with_param(body.param)
        .with_request_id(request_id)
}

/// The id the service appends to its messages (`… Request id: 0217…`).
fn request_id_in(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.rfind("request id:")?;
    let id: String = message[at + "request id:".len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!id.is_empty()).then_some(id)
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
    use std::time::Duration;

    use super::*;

    #[test]
    fn html_error_pages_become_text() {
        let body = b"<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502   Bad Gateway</h1></body></html>";
        let error = from_answer(StatusCode::BAD_GATEWAY, &HeaderMap::new(), body);
        assert_eq!(error.message, "502 Bad Gateway 502 Bad Gateway");
        assert_eq!(error.code, "");
        assert!(error.is_retryable());
        assert_eq!(error.class, ErrorClass::ServerError);
    }

    #[test]
    fn json_errors_keep_code_param_and_request_id() {
        let body = br#"{"error":{"code":"InvalidParameter","message":"bad size. Request id: 0217abc-1","param":"size","type":"BadRequest"}}"#;
        let error = from_answer(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert_eq!(error.code, "InvalidParameter");
        assert_eq!(error.param.as_deref(), Some("size"));
        assert_eq!(error.request_id.as_deref(), Some("0217abc-1"));
        assert_eq!(error.class, ErrorClass::InvalidRequest);
        assert!(!error.is_retryable());
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "hdr-1".parse().unwrap());
        headers.insert("retry-after", "2".parse().unwrap());
        let quota = from_answer(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"error":{"code":"QuotaExceeded","message":"no"}}"#,
        );
        assert_eq!(quota.request_id.as_deref(), Some("hdr-1"));
        assert_eq!(quota.retry_after, Some(Duration::from_secs(2)));
        assert!(!quota.is_retryable());
        let relay = from_answer(StatusCode::UNAUTHORIZED, &HeaderMap::new(), br#"{"error":"invalid token"}"#);
        assert_eq!(relay.message, "invalid token");
        assert_eq!(relay.class, ErrorClass::Authentication);
    }

    #[test]
    fn stream_error_events_take_the_request_id_from_the_message() {
        let body = ApiErrorBody::new("InternalServiceError", "boom. Request id: 02ab");
        let error = from_stream_event(body, &ResponseMeta::new(200));
        assert_eq!(error.status, 200);
        assert_eq!(error.request_id.as_deref(), Some("02ab"));
        assert_eq!(error.class, ErrorClass::classify(None, "InternalServiceError"));
    }
}
