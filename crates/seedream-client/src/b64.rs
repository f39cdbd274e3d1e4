//! Base64 for `b64_json`: [`decode_b64`] copies, [`decode_b64_owned`] decodes in place in the
//! string's own memory, and `B64Stream` decodes text that arrives in pieces (the streaming outputs).
//! All three accept and refuse the same texts (standard alphabet, padding optional), and an error
//! names the offset of the first bad character.

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
    // Whole blocks of 32 characters with AVX2 where the CPU has it; the rest (and any block with a
    // bad character, to name it) as below.
    let (read, mut written) = simd::decode_prefix(text, out);
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

/// Base64 decoding 32 characters at a time with AVX2 (Wojciech Muła's method: nibble lookups to
/// validate and to map characters to 6-bit values, multiply-adds to pack them).
mod simd {
    /// Decodes the longest run of whole 32-character blocks at the start of `text` that holds only
    /// base64 characters, while `out` has room for a 32-byte store; returns the characters read
    /// and the bytes written. Each store writes 8 bytes past its 24 decoded ones: they lie where the
    /// next bytes go, in room the caller gave for output (never past `out`).
    pub(super) fn decode_prefix(text: &[u8], out: &mut [u8]) -> (usize, usize) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { avx2::decode_prefix(text, out) };
        }
        let _ = (text, out);
        (0, 0)
    }

    #[cfg(target_arch = "x86_64")]
    mod avx2 {
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx2")]
        pub(super) fn decode_prefix(text: &[u8], out: &mut [u8]) -> (usize, usize) {
            let (mut read, mut written) = (0, 0);
            let shift_lut = _mm256_setr_epi8(
                0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, //
                0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
            );
            // For each low nibble, the high nibbles that make a base64 character, as bits.
            let mask_lut = _mm256_setr_epi8(
                0xa8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf0u8 as i8,
                0x54,
                0x50,
                0x50,
                0x50,
                0x54, //
                0xa8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf8u8 as i8,
                0xf0u8 as i8,
                0x54,
                0x50,
                0x50,
                0x50,
                0x54,
            );
            let bit_lut = _mm256_setr_epi8(
                0x01,
                0x02,
                0x04,
                0x08,
                0x10,
                0x20,
                0x40,
                0x80u8 as i8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0, //
                0x01,
                0x02,
                0x04,
                0x08,
                0x10,
                0x20,
                0x40,
                0x80u8 as i8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            );
            let pack = _mm256_setr_epi8(
                2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, //
                2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
            );
            let lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
            while text.len() - read >= 32 && out.len() - written >= 32 {
                // SAFETY: 32 bytes from `read` are inside `text` (checked by the loop).
                let input = unsafe { _mm256_loadu_si256(text.as_ptr().add(read).cast()) };
                let high = _mm256_and_si256(_mm256_srli_epi32::<4>(input), _mm256_set1_epi8(0x0f));
                let low = _mm256_and_si256(input, _mm256_set1_epi8(0x0f));
                let allowed = _mm256_shuffle_epi8(mask_lut, low);
                let bit = _mm256_shuffle_epi8(bit_lut, high);
                let invalid = _mm256_cmpeq_epi8(_mm256_and_si256(allowed, bit), _mm256_setzero_si256());
                if _mm256_movemask_epi8(invalid) != 0 {
                    break; // the scalar decoder names the character
                }
                let slash = _mm256_cmpeq_epi8(input, _mm256_set1_epi8(b'/' as i8));
                let shift = _mm256_blendv_epi8(_mm256_shuffle_epi8(shift_lut, high), _mm256_set1_epi8(16), slash);
                let values = _mm256_add_epi8(input, shift);
                let pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x0140_0140));
                let quads = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x0001_1000));
                let bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(quads, pack), lanes);
                // SAFETY: 32 bytes from `written` are inside `out` (checked by the loop).
                unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(written).cast(), bytes) };
                read += 32;
                written += 24;
            }
            (read, written)
        }
    }
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
