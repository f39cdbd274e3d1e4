//! Text that came from a server, made safe to show: secrets it echoes replaced by `<redacted>`
//! ([`redact`]; the client does this to every server text it returns), and control characters
//! escaped before it reaches a terminal ([`for_terminal`]; for front ends that print), and an error
//! with its causes as one line ([`with_causes`]).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use seedream_types::{ImageItem, ImagesResponse, StreamEvent};

use crate::error::Error;

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

/// `text` made safe to print on a terminal: control characters (C0 but newline and tab, DEL, C1)
/// and the bidirectional-override characters are written as `\x1b`, `\u{202e}`, ... so a server's
/// message cannot clear the screen, set the window title, write the clipboard (OSC 52) or reorder
/// what is shown. Everything else is unchanged.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
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

/// The secrets of one client (its API key, proxy credentials, extra header values), applied to
/// everything a server sends back before the client returns it.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Arc<[String]>,
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
        Self { secrets: secrets.into() }
    }

    pub(crate) fn text(&self, text: &str) -> Option<String> {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        match redact(text, &secrets) {
            Cow::Borrowed(_) => None,
            Cow::Owned(text) => Some(text),
        }
    }

    fn in_place(&self, text: &mut String) {
        if let Some(clean) = self.text(text) {
            *text = clean;
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
            }
            Error::Decode { reason, body_start } => {
                self.in_place(reason);
                self.in_place(body_start);
            }
            _ => {}
        }
        error
    }

    /// The per-image error texts of a response, redacted.
    pub(crate) fn response(&self, response: &mut ImagesResponse) {
        if self.secrets.is_empty() {
            return;
        }
        for item in &mut response.data {
            if let ImageItem::Failed(failed) = item {
                self.in_place(&mut failed.error.message);
                self.in_place(&mut failed.error.code);
            }
        }
    }

    /// A stream event's error texts, redacted.
    pub(crate) fn event(&self, event: &mut StreamEvent) {
        if self.secrets.is_empty() {
            return;
        }
        match event {
            StreamEvent::PartialFailed(failed) => {
                self.in_place(&mut failed.error.message);
                self.in_place(&mut failed.error.code);
            }
            StreamEvent::Error(body) => {
                self.in_place(&mut body.message);
                self.in_place(&mut body.code);
            }
            _ => {}
        }
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

    #[test]
    fn links_lose_their_query_and_urls_their_userinfo() {
        assert_eq!(link_without_query("https://b.test/i.jpeg?X-Tos-Signature=s&e=1#f"), "https://b.test/i.jpeg");
        assert_eq!(link_without_query("https://b.test/i.jpeg"), "https://b.test/i.jpeg");
        assert_eq!(without_userinfo("http://user:pass@relay.test/v1"), "http://relay.test/v1");
    }

    #[test]
    fn control_characters_are_escaped_for_terminals() {
        assert_eq!(for_terminal("\x1b[2J\x1b]0;owned\x07 ok"), "\\x1b[2J\\x1b]0;owned\\x07 ok");
        assert_eq!(for_terminal("\x1b]52;c;ZXZpbA==\x1b\\"), "\\x1b]52;c;ZXZpbA==\\x1b\\");
        assert_eq!(for_terminal("a\rb\u{9b}c\u{202e}d\x7f"), "a\\x0db\\x9bc\\u{202e}d\\x7f");
        assert!(matches!(for_terminal("line one\n\tline two, déjà vu"), Cow::Borrowed(_)));
    }
}
