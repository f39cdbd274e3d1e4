//! The identity of a result: a request key, hashed from the request as sent (defaults applied, local
//! images as the data URLs of their bytes, never their paths) and the service it goes to. Batch resume
//! skips the keys that have a complete result, so moving lines around regenerates nothing, editing a
//! line regenerates that line, and another service regenerates everything.

use ring::digest::{Context, SHA256};
use serde_json::Value;

/// The service label of the embedded emulator (also what the manifest says).
pub const EMBEDDED: &str = "embedded emulator";

/// What a key names as the service: `scheme://host[:port]` of the base URL, lower case, without
/// userinfo, path or query; [`EMBEDDED`] for the embedded emulator.
pub fn service_id(base_url: Option<&str>) -> String {
    let Some(url) = base_url else { return EMBEDDED.to_owned() };
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if scheme.is_empty() { host.to_ascii_lowercase() } else { format!("{}://{}", scheme, host).to_ascii_lowercase() }
}

/// The key of `sent` (the request body as it goes out) on `service`. `occurrence` tells apart identical
/// requests in one batch file (0 for the first, 1 for the second copy, …), so two copies of a line still
/// make two results. SHA-256, cut to 128 bits, as 32 hex digits.
pub fn request_key(sent: &Value, service: &str, occurrence: usize) -> String {
    let mut context = Context::new(&SHA256);
    context.update(b"seedream request v1\n");
    context.update(service.as_bytes());
    context.update(b"\n");
    canonical(sent, &mut context);
    if occurrence > 0 {
        context.update(format!("\n#{occurrence}").as_bytes());
    }
    hex(&context.finish().as_ref()[..16])
}

/// The key of a line that is not a request (not JSON, invalid, missing image): its text on `service`.
/// It never has a complete result; it names the line's failure in the manifest.
pub fn text_key(text: &str, service: &str, occurrence: usize) -> String {
    request_key(&Value::String(format!("unusable line: {}", text.trim())), service, occurrence)
}

/// JSON with object keys sorted, no spaces: the same request always hashes the same, whatever the
/// order or spacing of its line. Fed to the hash piece by piece (data URLs are not copied).
fn canonical(value: &Value, context: &mut Context) {
    match value {
        Value::Object(object) => {
            let mut keys: Vec<&String> = object.keys().collect();
            keys.sort();
            context.update(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    context.update(b",");
                }
                context.update(Value::String(key.clone()).to_string().as_bytes());
                context.update(b":");
                canonical(&object[key], context);
            }
            context.update(b"}");
        }
        Value::Array(items) => {
            context.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    context.update(b",");
                }
                canonical(item, context);
            }
            context.update(b"]");
        }
        Value::String(text) if text.len() > 256 => {
            // Long strings (data URLs) as their length and bytes: no escaped copy of megabytes.
            context.update(format!("s{}:", text.len()).as_bytes());
            context.update(text.as_bytes());
        }
        other => context.update(other.to_string().as_bytes()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_ignore_key_order_and_spacing_but_not_values() {
        let a: Value = serde_json::from_str(r#"{"prompt": "x", "model": "m", "size": "2K"}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"size":"2K","model":"m","prompt":"x"}"#).unwrap();
        assert_eq!(request_key(&a, EMBEDDED, 0), request_key(&b, EMBEDDED, 0));
        assert_eq!(request_key(&a, EMBEDDED, 0).len(), 32);
        assert_ne!(
            request_key(&a, EMBEDDED, 0),
            request_key(&json!({"prompt": "y", "model": "m", "size": "2K"}), EMBEDDED, 0)
        );
        assert_ne!(request_key(&a, EMBEDDED, 0), request_key(&a, "https://ark.cn-beijing.volces.com", 0));
        assert_ne!(request_key(&a, EMBEDDED, 0), request_key(&a, EMBEDDED, 1));
    }

    #[test]
    fn keys_are_stable_across_versions() {
        // A changed hash input would make every finished batch run again: this value must not move.
        let key = request_key(&json!({"model": "m", "prompt": "p"}), EMBEDDED, 0);
        assert_eq!(key, request_key(&json!({"prompt": "p", "model": "m"}), EMBEDDED, 0));
        assert_eq!(key, "bc473eb29d1ccc595395977dc63c0379");
    }

    #[test]
    fn the_service_is_the_origin_without_userinfo() {
        assert_eq!(service_id(None), "embedded emulator");
        assert_eq!(service_id(Some("https://ark.cn-beijing.volces.com/api/v3")), "https://ark.cn-beijing.volces.com");
        assert_eq!(service_id(Some("HTTPS://user:pw@Relay.example:8443/v1?x=1")), "https://relay.example:8443");
        assert_eq!(service_id(Some("http://127.0.0.1:8787/v1")), "http://127.0.0.1:8787");
    }
}
