//! Base64 for `b64_json`: [`decode_b64`] copies, [`decode_b64_owned`] decodes in place in the
//! string's own memory, and `B64Stream` decodes text that arrives in pieces (the streaming outputs).
//! All three accept and refuse the same texts (standard alphabet, padding optional), and an error
//! names the offset of the first bad character.

use base64_simd::Out;
use bytes::Bytes;

/// Why `b64_json` text is not an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("b64_json is not valid base64: {0}")]
pub struct Base64Error(String);

/// Decodes `b64_json` text (standard alphabet, padding optional) into bytes.
pub fn decode_b64(text: &str) -> Result<Bytes, Base64Error> {
    let mut out = vec![0; decoded_capacity(text.len())];
    let len = decode_into(text.as_bytes(), &mut out, 0)?;
    out.truncate(len);
    Ok(Bytes::from(out))
}

/// Decodes `b64_json` text into bytes in place, reusing the string's memory (no second buffer).
pub fn decode_b64_owned(text: String) -> Result<Bytes, Base64Error> {
    const BLOCK: usize = 8 * 1024; // input bytes per step: a multiple of 8
    let mut buf = text.into_bytes();
    let mut block = [0u8; BLOCK];
    let (mut read, mut written) = (0, 0);
    while read < buf.len() {
        let end = if buf.len() - read > BLOCK { read + BLOCK } else { buf.len() };
        let input = &mut block[..end - read];
        input.copy_from_slice(&buf[read..end]);
        // `written + decoded <= end`: decoded data is shorter than its text, so unread input is never
        // overwritten; only the last block can have padding or a partial group.
        written += decode_into(input, &mut buf[written..], read)?;
        read = end;
    }
    buf.truncate(written);
    buf.shrink_to_fit();
    Ok(Bytes::from(buf))
}

/// Decodes base64 text that arrives in pieces (the streaming save): whole groups of four characters
/// are decoded as they come, up to three wait for the next piece. Accepts and refuses exactly what
/// [`decode_b64`] does for the same text, however it is cut.
#[derive(Debug, Default)]
pub(crate) struct B64Stream {
    carry: [u8; 4],
    carried: usize,
    /// Characters decoded so far (for error offsets).
    offset: usize,
    /// Padding was seen: the text must end here.
    ended: bool,
}

impl B64Stream {
    /// Room `out` needs for a piece of `len` characters.
    pub(crate) fn room_for(len: usize) -> usize {
        decoded_capacity(len + 3)
    }

    /// Decodes the next piece of text into the start of `out` (at least [`room_for`](Self::room_for)
    /// its length); returns the bytes written.
    pub(crate) fn feed(&mut self, mut text: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
        let mut written = 0;
        if self.carried > 0 {
            let take = (4 - self.carried).min(text.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&text[..take]);
            self.carried += take;
            text = &text[take..];
            if self.carried < 4 {
                return Ok(0);
            }
            self.carried = 0;
            let quad = self.carry;
            written += self.decode(&quad, out)?;
        }
        let whole = text.len() / 4 * 4;
        written += self.decode(&text[..whole], &mut out[written..])?;
        let rest = &text[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
        Ok(written)
    }

    /// Decodes what waits at the end of the text into `out` (at least 3 bytes); returns the bytes written.
    pub(crate) fn finish(&mut self, out: &mut [u8]) -> Result<usize, Base64Error> {
        let carried = std::mem::take(&mut self.carried);
        let rest = self.carry;
        self.decode(&rest[..carried], out)
    }

    fn decode(&mut self, text: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
        if text.is_empty() {
            return Ok(0);
        }
        if self.ended {
            // As `decode_b64` sees it: padding inside the text.
            let at = self.offset.saturating_sub(1);
            return Err(Base64Error(format!("invalid character '=' at offset {at}")));
        }
        let written = decode_into(text, out, self.offset)?;
        self.offset += text.len();
        self.ended = text.ends_with(b"=");
        Ok(written)
    }
}

/// Marks a character outside the alphabet in the tables below (above any 24-bit group value).
const BAD: u32 = 1 << 24;

/// For each input byte, its 6-bit value shifted into place within a 24-bit group, or [`BAD`]:
/// four lookups and an `or` decode four characters (the approach of Chromium's modp_b64).
const fn table(shift: u32) -> [u32; 256] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [BAD; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = (i as u32) << shift;
        i += 1;
    }
    table
}

static D0: [u32; 256] = table(18);
static D1: [u32; 256] = table(12);
static D2: [u32; 256] = table(6);
static D3: [u32; 256] = table(0);

fn group(quad: &[u8]) -> u32 {
    D0[quad[0] as usize] | D1[quad[1] as usize] | D2[quad[2] as usize] | D3[quad[3] as usize]
}

/// Room needed to decode `len` characters.
fn decoded_capacity(len: usize) -> usize {
    len.div_ceil(4) * 3
}

/// Decodes `input` into the start of `out`; returns the bytes written. `offset` (where `input` starts
/// in the whole text) only serves error messages. `out` must hold `decoded_capacity(input.len())`
/// bytes, or at least as many as the input decodes to when used in place.
fn decode_into(input: &[u8], out: &mut [u8], offset: usize) -> Result<usize, Base64Error> {
    let text = input.strip_suffix(b"==").or_else(|| input.strip_suffix(b"=")).unwrap_or(input);
    // Whole groups of four with base64-simd (SIMD where the CPU has it); the rest, and any text with a
    // bad character (to name it), as below.
    let quads = text.len() / 4 * 4;
    let simd = base64_simd::STANDARD_NO_PAD.decode(&text[..quads], Out::from_slice(&mut out[..quads / 4 * 3]));
    let (read, mut written) = simd.map_or((0, 0), |decoded| (quads, decoded.len()));
    let (text, out) = (&text[read..], &mut out[written..]);
    let offset = offset + read;
    let whole = text.len() / 8 * 8;
    let mut bad = 0;
    for (chars, bytes) in text[..whole].chunks_exact(8).zip(out.chunks_exact_mut(6)) {
        let (x, y) = (group(&chars[..4]), group(&chars[4..]));
        bad |= x | y;
        let pair = (u64::from(x) << 24) | u64::from(y);
        bytes.copy_from_slice(&pair.to_be_bytes()[2..]);
    }
    let mut at = whole / 8 * 6;
    let mut rest = &text[whole..];
    if rest.len() >= 4 {
        let x = group(&rest[..4]);
        bad |= x;
        out[at..at + 3].copy_from_slice(&x.to_be_bytes()[1..]);
        at += 3;
        rest = &rest[4..];
    }
    match rest.len() {
        0 => {}
        1 => return Err(Base64Error(format!("a lone character at the end (offset {})", offset + text.len() - 1))),
        n => {
            let mut quad = [b'A'; 4];
            quad[..n].copy_from_slice(rest);
            let x = group(&quad);
            bad |= x;
            out[at..at + n - 1].copy_from_slice(&x.to_be_bytes()[1..n]);
            at += n - 1;
        }
    }
    if bad & BAD != 0 {
        let at = text.iter().position(|&c| D0[c as usize] == BAD).unwrap_or_default();
        return Err(Base64Error(format!("invalid character {:?} at offset {}", char::from(text[at]), offset + at)));
    }
    written += at;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose;

    #[test]
    fn base64_decodes_copied_and_in_place() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let text = general_purpose::STANDARD.encode(&bytes);
        assert_eq!(decode_b64(&text).unwrap(), bytes);
        assert_eq!(decode_b64_owned(text.clone()).unwrap(), bytes);
        assert_eq!(decode_b64_owned(text.trim_end_matches('=').to_owned()).unwrap(), bytes);
        assert_eq!(decode_b64_owned(String::new()).unwrap(), Bytes::new());
    }

    #[test]
    fn base64_matches_the_reference_for_every_length() {
        let mut rng = fastrand::Rng::with_seed(9);
        // Lengths around the 8-character groups and the in-place block size.
        for len in (0..100).chain(6100..6200).chain([20_000, 20_001, 20_002]) {
            let bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let padded = general_purpose::STANDARD.encode(&bytes);
            for text in [padded.clone(), padded.trim_end_matches('=').to_owned()] {
                assert_eq!(decode_b64(&text).unwrap(), bytes, "len {len}");
                assert_eq!(decode_b64_owned(text).unwrap(), bytes, "len {len}, in place");
            }
        }
    }

    #[test]
    fn streamed_base64_accepts_and_refuses_what_whole_text_does_however_cut() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut texts: Vec<String> = (0..40usize)
            .map(|len| general_purpose::STANDARD.encode((0..len).map(|_| rng.u8(..)).collect::<Vec<_>>()))
            .collect();
        texts.extend(texts.clone().into_iter().map(|t| t.trim_end_matches('=').to_owned()));
        texts.extend(
            ["QUJD=QUJD", "QUJDQ", "QU=D", "QUJD\n", "Q===", "QU==QUJD", "QUJD=", "AB=", "A"].map(String::from),
        );
        for text in texts {
            let whole = decode_b64(&text);
            for cut in 0..=text.len() {
                for second in cut..=text.len() {
                    let mut stream = B64Stream::default();
                    let mut out = vec![0; decoded_capacity(text.len()) + 16];
                    let mut written = 0;
                    let result = (|| {
                        for piece in
                            [&text.as_bytes()[..cut], &text.as_bytes()[cut..second], &text.as_bytes()[second..]]
                        {
                            written += stream.feed(piece, &mut out[written..])?;
                        }
                        written += stream.finish(&mut out[written..])?;
                        Ok::<_, Base64Error>(())
                    })();
                    match (&whole, result) {
                        (Ok(bytes), Ok(())) => assert_eq!(&out[..written], &bytes[..], "{text} cut {cut}/{second}"),
                        (Err(_), Err(_)) => {}
                        (whole, streamed) => panic!("{text} cut {cut}/{second}: {whole:?} but {streamed:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn every_character_decodes_and_every_other_byte_is_refused_at_any_place_of_a_block() {
        // Every alphabet character at every place of the 32-character blocks the vector path takes.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let text: String = (0..96 * 4).map(|i| char::from(alphabet[(i * 7 + i / 64) % 64])).collect();
        let expected = general_purpose::STANDARD.decode(&text).unwrap();
        assert_eq!(decode_b64(&text).unwrap(), expected);
        assert_eq!(decode_b64_owned(text.clone()).unwrap(), expected);
        for byte in (0..=255u8).filter(|b| !alphabet.contains(b)) {
            for at in [0, 1, 15, 16, 31, 32, 63, 64, 95] {
                let mut bad = text.clone().into_bytes();
                bad[at] = byte;
                // Not UTF-8 for some bytes: go through the bytes path the decoders share.
                let mut out = vec![0; decoded_capacity(bad.len())];
                let error = decode_into(&bad, &mut out, 0).unwrap_err();
                assert!(error.to_string().contains(&format!("offset {at}")), "{byte:#x} at {at}: {error}");
            }
        }
    }

    #[test]
    fn base64_errors_name_the_bad_character() {
        let text = general_purpose::STANDARD.encode([7u8; 9000]);
        for at in [0, 5, 8191, 8192, 8193, text.len() - 1] {
            let mut bad = text.clone().into_bytes();
            bad[at] = b'$';
            let bad = String::from_utf8(bad).unwrap();
            let error = decode_b64(&bad).unwrap_err();
            assert!(error.to_string().contains(&format!("offset {at}")), "{error}");
            let error = decode_b64_owned(bad).unwrap_err();
            assert!(error.to_string().contains(&format!("offset {at}")), "{error}");
        }
        for bad in ["QUJD=QUJD", "QUJDQ", "QU=D", "QUJD\n", "Q==="] {
            assert!(decode_b64(bad).is_err(), "{bad}");
            assert!(decode_b64_owned(bad.to_owned()).is_err(), "{bad}");
        }
    }
}
