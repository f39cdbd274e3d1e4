//! Text made safe for a terminal: what a server sent (an error message, a model name) is printed
//! with its control characters escaped, so it cannot drive the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_terminals() {
        assert_eq!(for_terminal("\x1b[2J\x1b]0;owned\x07 ok"), "\\x1b[2J\\x1b]0;owned\\x07 ok");
        assert_eq!(for_terminal("\x1b]52;c;ZXZpbA==\x1b\\"), "\\x1b]52;c;ZXZpbA==\\x1b\\");
        assert_eq!(for_terminal("a\rb\u{9b}c\u{202e}d\x7f"), "a\\x0db\\x9bc\\u{202e}d\\x7f");
        assert!(matches!(for_terminal("line one\n\tline two, déjà vu"), Cow::Borrowed(_)));
    }
}
