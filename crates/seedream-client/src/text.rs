//! Text that came from a server, made safe to show: secrets it echoes replaced by `<redacted>`
//! ([`redact`]; the client does this to every server text it returns), links and URLs stripped of
//! what must not be recorded ([`link_without_query`], [`without_userinfo`]), and an error with its
//! causes as one line ([`with_causes`]). Escaping for a terminal is the front end's job (the CLI's
//! `terminal` module).

use std::borrow::Cow;
use std::sync::Arc;

use memchr::memmem::Finder;
use seedream_types::{ImageItem, ImagesResponse, StreamEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::meta::ResponseMeta;

/// An error's message followed by those of its causes, `: `-separated (`connection failed: error
/// trying to connect: tcp connect error: Connection refused (os error 111)`). A cause whose text
/// the line already ends with is not repeated ([`Error::Io`] and some other crates' errors show
/// their cause in their own message too).
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let part = inner.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not searched for: replacing every `a` of a message would make it
/// unreadable and hide nothing.
const MIN_SECRET_LEN: usize = 4;

/// `text` with every occurrence of each secret replaced by [`REDACTED`] (longest secrets first, so
/// a secret that contains another is replaced whole). Secrets shorter than 4 characters are left.
pub fn redact<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| s.len() >= MIN_SECRET_LEN).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = Cow::Borrowed(text);
    for secret in secrets {
        if out.contains(secret) {
            out = Cow::Owned(out.replace(secret, REDACTED));
        }
    }
    out
}

/// A link without its query and fragment: what may be recorded of a pre-signed download link
/// (`https://bucket/img.jpeg?X-Tos-Signature=…` → `https://bucket/img.jpeg`), whose query is a
/// credential for as long as the link is valid.
pub fn link_without_query(url: &str) -> &str {
    url.find(['?', '#']).map_or(url, |at| &url[..at])
}

/// `url` without a `user:password@` part, for recording or showing a base URL.
pub fn without_userinfo(url: &str) -> String {
    crate::transport::strip_userinfo(url)
}

/// Extra headers whose name says they carry a credential (`Authorization`, `Proxy-Authorization`,
/// `Cookie`, `*-Key`, `*-Token`, `*-Secret`, `*-Password`): their values are redacted whatever their
/// length.
fn is_credential_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    name.ends_with("authorization")
        || name.ends_with("cookie")
        || ["key", "token", "secret", "password"].iter().any(|end| name.ends_with(end))
}

/// A value of another header this long is taken for a secret too: long enough to be a token,
/// longer than the words a message holds (`-H "X-Trace: account"` must not hide "account").
pub const SECRET_VALUE_LEN: usize = 16;

/// What of an extra header's value is a secret to redact: for a credential header its value, the
/// credential after an auth scheme (`Bearer abc` → `abc`) and each cookie's value; for another
/// header its value when at least [`SECRET_VALUE_LEN`] bytes long; nothing else.
pub(crate) fn header_secrets(name: &str, value: &str) -> Vec<String> {
    let value = value.trim();
    if !is_credential_header(name) {
        return if value.len() >= SECRET_VALUE_LEN { vec![value.to_owned()] } else { Vec::new() };
    }
    let mut secrets = vec![value.to_owned()];
    let name = name.trim().to_ascii_lowercase();
    if name.ends_with("authorization") {
        if let Some((_scheme, credential)) = value.split_once(' ') {
            secrets.push(credential.trim().to_owned());
        }
    } else if name.ends_with("cookie") {
        let values = value.split(';').filter_map(|cookie| Some(cookie.split_once('=')?.1.trim().to_owned()));
        secrets.extend(values);
    }
    secrets
}

/// Texts up to this long are searched without [`Finder`]s.
const SHORT_TEXT: usize = 64;

/// The secrets of one client (its API key, proxy credentials, credential-like extra header values),
/// applied to everything a server sends back before the client returns it: error texts, every text
/// of an answer (model, size, usage, unknown fields…), stream events and the request id. Image data
/// and download links are left as sent (bytes to decode, links to follow).
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Arc<[String]>,
    /// A searcher for each secret, built once: a search then costs a scan, not a searcher's setup.
    finders: Arc<[Finder<'static>]>,
    /// The same for each secret as it reads inside a JSON string, to look for it in a body or a
    /// serialized answer first.
    json_finders: Arc<[Finder<'static>]>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub(crate) fn new(secrets: Vec<String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= MIN_SECRET_LEN).collect();
        secrets.sort();
        secrets.dedup();
        let in_json: Vec<String> = secrets
            .iter()
            .filter_map(|s| serde_json::to_string(s).ok())
            .map(|quoted| quoted[1..quoted.len() - 1].to_owned())
            .collect();
        let finders = secrets.iter().map(|s| Finder::new(s.as_bytes()).into_owned()).collect();
        let json_finders = in_json.iter().map(|s| Finder::new(s.as_bytes()).into_owned()).collect();
        Self { secrets: secrets.into(), finders, json_finders }
    }

    pub(crate) fn text(&self, text: &str) -> Option<String> {
        // Nearly always: none is there, and nothing is allocated.
        if !self.holds_secret(text.as_bytes()) {
            return None;
        }
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        match redact(text, &secrets) {
            Cow::Borrowed(_) => None,
            Cow::Owned(text) => Some(text),
        }
    }

    /// Whether `text` holds one of the secrets. A short text (a request id) is scanned byte by byte,
    /// where a vector searcher's set-up would cost more than the scan.
    fn holds_secret(&self, text: &[u8]) -> bool {
        if text.len() > SHORT_TEXT {
            return self.finders.iter().any(|finder| finder.find(text).is_some());
        }
        self.secrets.iter().any(|secret| {
            let (secret, first) = (secret.as_bytes(), secret.as_bytes()[0]);
            text.len() >= secret.len()
                && (0..=text.len() - secret.len()).any(|at| text[at] == first && &text[at..at + secret.len()] == secret)
        })
    }

    fn in_place(&self, text: &mut String) {
        if let Some(clean) = self.text(text) {
            *text = clean;
        }
    }

    /// Redacts every string (and object key) of a JSON tree; whether anything changed.
    fn tree(&self, value: &mut Value) -> bool {
        match value {
            Value::String(text) => self.text(text).map(|clean| *text = clean).is_some(),
            Value::Array(items) => items.iter_mut().fold(false, |changed, item| self.tree(item) | changed),
            Value::Object(fields) => {
                let mut changed = false;
                if fields.keys().any(|key| self.text(key).is_some()) {
                    *fields = std::mem::take(fields)
                        .into_iter()
                        .map(|(key, value)| (self.text(&key).unwrap_or(key), value))
                        .collect();
                    changed = true;
                }
                fields.values_mut().fold(changed, |changed, field| self.tree(field) | changed)
            }
            _ => false,
        }
    }

    /// Redacts every text of a wire type, whatever fields it has (known ones and `extra`): looked
    /// for in its JSON first (cheap, and nearly always absent), then redacted through a JSON tree.
    fn wire<T: Serialize + DeserializeOwned>(&self, item: &mut T) {
        let Ok(json) = serde_json::to_string(&*item) else { return };
        if !self.json_finders.iter().any(|finder| finder.find(json.as_bytes()).is_some()) {
            return;
        }
        let Ok(mut tree) = serde_json::from_str::<Value>(&json) else { return };
        if self.tree(&mut tree)
            && let Ok(clean) = serde_json::from_value(tree)
        {
            *item = clean;
        }
    }

    /// The error with server texts (API error fields, a body's start) redacted.
    pub(crate) fn error(&self, mut error: Error) -> Error {
        if self.secrets.is_empty() {
            return error;
        }
        match &mut error {
            Error::Api(api) => {
                self.in_place(&mut api.message);
                self.in_place(&mut api.code);
                for text in [&mut api.param, &mut api.request_id, &mut api.location].into_iter().flatten() {
                    self.in_place(text);
                }
                if let Some(reason) = api.moderation.as_mut().and_then(|m| m.reason.as_mut()) {
                    self.in_place(reason);
                }
            }
            Error::Decode { reason, body_start } => {
                self.in_place(reason);
                self.in_place(body_start);
            }
            _ => {}
        }
        error
    }

    /// What came with an answer: its request id.
    pub(crate) fn meta(&self, meta: &mut ResponseMeta) {
        if let Some(id) = &mut meta.request_id {
            self.in_place(id);
        }
    }

    /// Whether a body, once parsed, can hold a secret: it holds one as JSON text, or an escape that
    /// could spell one. When not, [`response`](Self::response) has nothing to do (the common case,
    /// decided by a scan of the bytes instead of a walk of the parsed answer).
    pub(crate) fn may_hold_secret(&self, body: &[u8]) -> bool {
        !self.secrets.is_empty()
            && (memchr::memchr(b'\\', body).is_some()
                || self.json_finders.iter().any(|finder| finder.find(body).is_some()))
    }

    /// Every text of a response (not its images' data or links), redacted.
    pub(crate) fn response(&self, response: &mut ImagesResponse) {
        if self.secrets.is_empty() {
            return;
        }
        let set_aside: Vec<_> = response.data.iter_mut().map(set_aside).collect();
        self.wire(response);
        // `data` keeps its items in order through the round trip: each gets its own back.
        for (item, (b64_json, url)) in response.data.iter_mut().zip(set_aside) {
            if let ImageItem::Image(image) = item {
                (image.b64_json, image.url) = (b64_json, url);
            }
        }
    }

    /// Every text of a stream event (not its image's data or link), redacted.
    pub(crate) fn event(&self, event: &mut StreamEvent) {
        if self.secrets.is_empty() {
            return;
        }
        match event {
            StreamEvent::PartialSucceeded(image) => {
                let (b64_json, url) = (image.b64_json.take(), image.url.take());
                self.wire(image);
                (image.b64_json, image.url) = (b64_json, url);
            }
            StreamEvent::PartialFailed(failed) => self.wire(failed),
            StreamEvent::Completed(completed) => self.wire(completed),
            StreamEvent::Error(body) => self.wire(body),
            StreamEvent::Unknown(value) => {
                self.tree(value);
            }
        }
    }
}

/// An image item's data and link, taken out of it (the item keeps its texts).
fn set_aside(item: &mut ImageItem) -> (Option<String>, Option<String>) {
    match item {
        ImageItem::Image(image) => (image.b64_json.take(), image.url.take()),
        ImageItem::Failed(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_error_names_its_cause_once_in_a_chain() {
        use crate::transport::{TransportError, TransportErrorKind};
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let error = Error::Transport(TransportError::with_source(TransportErrorKind::Connect, cause));
        assert_eq!(error.to_string(), "could not connect");
        assert_eq!(with_causes(&error), "could not connect: Connection refused");
        let io = Error::Io(std::io::Error::other("disk full"));
        assert_eq!(with_causes(&io), "I/O error: disk full");
    }

    #[test]
    fn secrets_are_replaced_longest_first() {
        assert_eq!(redact("key sk-123456 and sk-1234", &["sk-1234", "sk-123456"]), "key <redacted> and <redacted>");
        assert!(matches!(redact("nothing here", &["sk-123456"]), Cow::Borrowed(_)));
        assert_eq!(redact("a b c", &["a"]), "a b c", "too short to redact");
    }

    const KEY: &str = "sk-echoed-SECRET-1";

    fn redactor() -> Redactor {
        Redactor::new(vec![KEY.into(), "hval-SECRET".into()])
    }

    #[test]
    fn short_and_long_texts_find_a_secret_wherever_it_is() {
        let redactor = redactor();
        for filler in [0, 10, SHORT_TEXT, 3 * SHORT_TEXT] {
            let pad = "x".repeat(filler);
            for text in [format!("{KEY}{pad}"), format!("{pad}{KEY}"), format!("{pad}sk{KEY}{pad}"), KEY.to_owned()] {
                assert!(redactor.holds_secret(text.as_bytes()), "{text}");
                assert_eq!(redactor.text(&text).unwrap().matches("<redacted>").count(), 1, "{text}");
            }
            let near = format!("{pad}{}{pad}", &KEY[..KEY.len() - 1]);
            assert!(!redactor.holds_secret(near.as_bytes()), "{near}");
            assert_eq!(redactor.text(&near), None);
        }
        assert!(!redactor.holds_secret(b"sk-"), "shorter than every secret");
        assert!(!redactor.holds_secret(b""));
    }

    #[test]
    fn every_text_of_an_answer_is_redacted_but_image_data_and_links() {
        let b64 = "c2stZWNob2VkLVNFQ1JFVC0x"; // image data is not text: never touched
        let link = format!("https://b.test/{KEY}.png");
        let body = serde_json::json!({
            "model": KEY, "created": 1,
            "data": [
                {"b64_json": b64, "size": format!("1024x1024 {KEY}"), "revised_prompt": "a hval-SECRET cat",
                 "name": KEY, "description": KEY, "output_format": KEY, "note": {"deep": [KEY]}},
                {"url": link, "z_index": 1, "bounding_box": {"absolute": [0, 0, 1, 1], "why": KEY}},
                {"error": {"code": KEY, "message": format!("no {KEY}")}, "trace": KEY}
            ],
            "usage": {"generated_images": 2, "prompt_tokens_details": {"k": KEY}, "relay": KEY,
                      "tool_usage": {"web_search": 1, "by": KEY}},
            "tools": [{"type": KEY}],
            "echo": {KEY: KEY}
        });
        let mut response: ImagesResponse = serde_json::from_value(body).unwrap();
        redactor().response(&mut response);
        let mut shown = serde_json::to_value(&response).unwrap();
        let image = shown["data"][0].as_object_mut().unwrap().remove("b64_json");
        let url = shown["data"][1].as_object_mut().unwrap().remove("url");
        assert_eq!((image, url), (Some(Value::from(b64)), Some(Value::from(link))));
        let text = shown.to_string();
        assert!(!text.contains("SECRET"), "{shown:#}");
        assert_eq!(shown["data"][0]["size"], "1024x1024 <redacted>");
        assert_eq!(shown["data"][0]["revised_prompt"], "a <redacted> cat");
        assert_eq!(shown["echo"]["<redacted>"], "<redacted>");
        assert_eq!(shown["usage"]["generated_images"], 2);
        assert_eq!(response.data[1].image().unwrap().z_index, Some(1), "items keep their kind and order");
    }

    #[test]
    fn every_text_of_a_stream_event_is_redacted_and_the_request_id() {
        let events = [
            serde_json::json!({"type": "image_generation.partial_succeeded", "model": KEY, "image_index": 0,
                               "b64_json": "AAAA", "size": KEY, "revised_prompt": KEY}),
            serde_json::json!({"type": "image_generation.partial_failed", "image_index": 1,
                               "error": {"code": "c", "message": KEY}, "x": KEY}),
            serde_json::json!({"type": "image_generation.completed", "usage": {"relay": KEY}, "model": KEY}),
            serde_json::json!({"error": {"code": KEY, "message": KEY, "param": KEY}}),
            serde_json::json!({"type": "image_generation.new", "what": [KEY]}),
        ];
        for event in events {
            let mut event = StreamEvent::from_json(&event.to_string()).unwrap();
            redactor().event(&mut event);
            let text = serde_json::to_string(&event).unwrap();
            assert!(!text.contains("SECRET") && text.contains(REDACTED), "{text}");
        }
        let mut meta = ResponseMeta::new(200).with_request_id(format!("req-{KEY}"));
        redactor().meta(&mut meta);
        assert_eq!(meta.request_id.as_deref(), Some("req-<redacted>"));
    }

    #[test]
    fn credential_headers_are_secrets_and_short_values_of_others_are_not() {
        assert!(header_secrets("X-Trace", "account").is_empty(), "a word of every message");
        assert!(header_secrets("X-Region", "cn-beijing").is_empty());
        assert_eq!(header_secrets("X-Relay-Id", "0123456789abcdef"), ["0123456789abcdef"], "long enough");
        assert_eq!(header_secrets("X-Api-Key", "k123"), ["k123"]);
        assert_eq!(header_secrets("x-relay-token", " t0k "), ["t0k"]);
        assert_eq!(header_secrets("X-Client-Secret", "s3cr"), ["s3cr"]);
        assert_eq!(header_secrets("Proxy-Authorization", "Basic YTpi"), ["Basic YTpi", "YTpi"]);
        assert_eq!(header_secrets("Cookie", "a=sess-1; b=two"), ["a=sess-1; b=two", "sess-1", "two"]);
        // And what they give is what is redacted, in both directions.
        let mut secrets = header_secrets("X-Trace", "account");
        secrets.extend(header_secrets("X-Api-Key", "k123"));
        let redactor = Redactor::new(secrets);
        assert_eq!(redactor.text("Your account has exhausted its quota"), None);
        assert_eq!(redactor.text("key k123 refused").as_deref(), Some("key <redacted> refused"));
    }

    #[test]
    fn links_lose_their_query_and_urls_their_userinfo() {
        assert_eq!(link_without_query("https://b.test/i.jpeg?X-Tos-Signature=s&e=1#f"), "https://b.test/i.jpeg");
        assert_eq!(link_without_query("https://b.test/i.jpeg"), "https://b.test/i.jpeg");
        assert_eq!(without_userinfo("http://user:pass@relay.test/v1"), "http://relay.test/v1");
    }
}
