//! Text made safe inside XML and HTML (element content and quoted attributes): one escaper for the
//! provenance packets, the OpenRaster `stack.xml` and the gallery page.

/// `text` with `& < > " '` escaped, line breaks and tabs as character references (kept through
/// attribute normalisation), and other control characters, which XML 1.0 cannot carry even
/// escaped, replaced by U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The longest entity [`unescape`] decodes, between `&` and `;` (`#x10FFFF`, `#1114111`).
const MAX_ENTITY_LEN: usize = 8;

/// The text of escaped markup: the five named entities and numeric references; anything else
/// is kept as written. Linear in the text's length, whatever it holds.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // An entity is short (`&#x10FFFF;` is the longest we decode): looking further for its `;`
        // would make a run of `&` without one quadratic.
        let window = &rest.as_bytes()[..rest.len().min(MAX_ENTITY_LEN + 2)];
        let decoded = window.iter().position(|&b| b == b';').and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            Some((c?, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_nothing_markup_survives() {
        for text in ["plain", "a&b<c>\"d\"'e'", "tab\tnew\nline\r", "&amp; literal", "emoji 🎨 and 中文", "<script>"]
        {
            let escaped = escape(text);
            assert!(!escaped.contains(['<', '>', '"', '\'']), "{escaped}");
            assert_eq!(unescape(&escaped), text);
        }
        assert_eq!(escape("bell\u{7}"), "bell\u{fffd}");
        assert_eq!(unescape("&unknown; & &#x41;&#66;"), "&unknown; & AB");
        assert_eq!(unescape("&#x10FFFF;&#1114111;&#x0000041;"), "\u{10ffff}\u{10ffff}&#x0000041;");
        assert_eq!(unescape("&amp"), "&amp", "cut short");
    }

    /// A run of `&` with no `;` used to search to the end for each one: 4 MiB took hours. On a
    /// thread, so that a regression fails after the bound instead of hanging the test run.
    #[test]
    fn unescaping_megabytes_of_ampersands_is_linear() {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let text = "&".repeat(4 << 20) + ";";
            let _ = sender.send(unescape(&text) == text);
        });
        let same = receiver.recv_timeout(std::time::Duration::from_secs(30)).expect("4 MiB of & took over 30 s");
        assert!(same);
    }
}
