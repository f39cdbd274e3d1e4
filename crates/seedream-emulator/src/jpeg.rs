//! Synthetic JPEGs that cost almost nothing to encode.
//!
//! A general encoder spends its time on the forward DCT of every 8×8 block: about 1.3 s for a 2K image
//! and 3.5 s for a 4K one in a debug build (`jpeg-encoder`), which would dominate every test run. The
//! emulator's pictures are instead built from flat 8×8 blocks (a smooth mosaic: gradient, discs, a
//! watermark patch: see `canvas`). A flat block's DCT is its DC coefficient alone, so the encoder only writes DC
//! differences and an end-of-block code per block: a baseline, Huffman-coded, 4:2:0 JFIF file with the
//! standard (Annex K) tables that any decoder reads.

use std::fmt;

use crate::canvas::Canvas;

/// Why an image cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DimensionsError {
    /// The requested width.
    pub width: u32,
    /// The requested height.
    pub height: u32,
}

impl fmt::Display for DimensionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot make a {}x{} JPEG: each side must be from 1 to {MAX_SIDE}", self.width, self.height)
    }
}

impl std::error::Error for DimensionsError {}

/// Longest side the emulator draws (JPEG allows 65 535; the API's largest sizes stay far below).
pub const MAX_SIDE: u32 = 16_384;

/// A synthetic JPEG of `width` × `height` pixels whose content is derived from `seed` alone: the same
/// arguments always give the same bytes. With `watermark`, a light patch marks the bottom-right corner
/// (where the service writes "AI生成").
///
/// Cost is linear in the number of 8×8 blocks and small: see the crate's bench for figures.
pub fn synthetic_jpeg(width: u32, height: u32, seed: u64, watermark: bool) -> Result<Vec<u8>, DimensionsError> {
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(DimensionsError { width, height });
    }
    let picture = Picture::new(width, height, seed, watermark);
    Ok(encode(&picture))
}

/// The picture in YCbCr, one colour per 8×8 luma block (chroma is averaged per 16×16 MCU when
/// encoding).
struct Picture {
    width: u32,
    height: u32,
    blocks_x: usize,
    blocks_y: usize,
    ycc: Vec<[u8; 3]>,
}

impl Picture {
    fn new(width: u32, height: u32, seed: u64, watermark: bool) -> Self {
        let canvas = Canvas::new(width, height, seed, watermark);
        let ycc = canvas.rgb.iter().map(|&rgb| to_ycbcr(rgb)).collect();
        Self { width, height, blocks_x: canvas.blocks_x, blocks_y: canvas.blocks_y, ycc }
    }
}

fn to_ycbcr([r, g, b]: [f32; 3]) -> [u8; 3] {
    let y = 0.299 * r + 0.587 * g + 0.114 * b;
    let cb = 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
    let cr = 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
    [y, cb, cr].map(|v| v.round().clamp(0.0, 255.0) as u8)
}

// Annex K.3 typical Huffman tables: code lengths (count per length 1..=16) and symbols.
const LUMA_DC_LENGTHS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const CHROMA_DC_LENGTHS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const LUMA_AC_LENGTHS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D];
const LUMA_AC_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14,
    0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09,
    0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A,
    0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65,
    0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
    0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9,
    0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA,
    0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA,
    0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
];
const CHROMA_AC_LENGTHS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const CHROMA_AC_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32,
    0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0, 0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16,
    0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39,
    0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86,
    0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
    0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8,
    0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9,
    0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA,
];

/// Quantisation table: a DC step of 8 makes a flat block's quantised DC exactly its level-shifted
/// value; the AC steps never matter (every AC coefficient is zero) and are the usual mid-quality ones.
const QUANT: [u8; 64] = {
    let mut table = [16u8; 64];
    table[0] = 8;
    table
};

/// A canonical Huffman code: (code, length) per symbol.
struct HuffmanCode {
    codes: [(u16, u8); 256],
}

impl HuffmanCode {
    fn new(lengths: &[u8; 16], values: &[u8]) -> Self {
        let mut codes = [(0u16, 0u8); 256];
        let mut code = 0u16;
        let mut k = 0;
        for (i, &count) in lengths.iter().enumerate() {
            for _ in 0..count {
                codes[usize::from(values[k])] = (code, i as u8 + 1);
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        Self { codes }
    }

    fn code(&self, symbol: u8) -> (u16, u8) {
        self.codes[usize::from(symbol)]
    }
}

/// Entropy-coded segment writer: MSB-first bits with 0xFF byte stuffing.
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, len: u8) {
        if len == 0 {
            return;
        }
        self.acc = (self.acc << len) | u64::from(value & ((1u32 << len) - 1));
        self.bits += u32::from(len);
        while self.bits >= 8 {
            self.bits -= 8;
            let byte = (self.acc >> self.bits) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
        self.acc &= (1u64 << self.bits) - 1;
    }

    /// Pads the last byte with 1 bits, as the standard asks.
    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            let pad = 8 - self.bits as u8;
            self.put((1u32 << pad) - 1, pad);
        }
        self.out
    }
}

struct Component {
    dc: HuffmanCode,
    eob: (u16, u8),
    previous: i32,
}

impl Component {
    fn new(dc_lengths: &[u8; 16], ac_lengths: &[u8; 16], ac_values: &[u8]) -> Self {
        Self {
            dc: HuffmanCode::new(dc_lengths, &DC_VALUES),
            eob: HuffmanCode::new(ac_lengths, ac_values).code(0),
            previous: 0,
        }
    }

    /// One flat block: the DC difference (category code + extra bits), then end-of-block.
    fn block(&mut self, writer: &mut BitWriter, sample: u8) {
        let dc = i32::from(sample) - 128; // quantised DC with a step of 8
        let diff = dc - self.previous;
        self.previous = dc;
        let category = 32 - diff.unsigned_abs().leading_zeros();
        let (code, len) = self.dc.code(category as u8);
        writer.put(u32::from(code), len);
        if category > 0 {
            let bits = if diff < 0 { diff - 1 } else { diff };
            writer.put(bits as u32, category as u8);
        }
        writer.put(u32::from(self.eob.0), self.eob.1);
    }
}

fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn encode(picture: &Picture) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024 + picture.blocks_x * picture.blocks_y);
    out.extend_from_slice(&[0xFF, 0xD8]);
    segment(&mut out, 0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    let mut dqt = Vec::with_capacity(130);
    for id in 0..2u8 {
        dqt.push(id);
        dqt.extend_from_slice(&QUANT);
    }
    segment(&mut out, 0xDB, &dqt);
    let [h1, h0] = (picture.height as u16).to_be_bytes();
    let [w1, w0] = (picture.width as u16).to_be_bytes();
    segment(&mut out, 0xC0, &[8, h1, h0, w1, w0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    let mut dht = Vec::with_capacity(432);
    for (class_id, lengths, values) in [
        (0x00u8, &LUMA_DC_LENGTHS, &DC_VALUES[..]),
        (0x10, &LUMA_AC_LENGTHS, &LUMA_AC_VALUES[..]),
        (0x01, &CHROMA_DC_LENGTHS, &DC_VALUES[..]),
        (0x11, &CHROMA_AC_LENGTHS, &CHROMA_AC_VALUES[..]),
    ] {
        dht.push(class_id);
        dht.extend_from_slice(lengths);
        dht.extend_from_slice(values);
    }
    segment(&mut out, 0xC4, &dht);
    segment(&mut out, 0xDA, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);

    let mut writer = BitWriter { out, acc: 0, bits: 0 };
    let mut luma = Component::new(&LUMA_DC_LENGTHS, &LUMA_AC_LENGTHS, &LUMA_AC_VALUES);
    let mut cb = Component::new(&CHROMA_DC_LENGTHS, &CHROMA_AC_LENGTHS, &CHROMA_AC_VALUES);
    let mut cr = Component::new(&CHROMA_DC_LENGTHS, &CHROMA_AC_LENGTHS, &CHROMA_AC_VALUES);
    let stride = picture.blocks_x;
    for my in (0..picture.blocks_y).step_by(2) {
        for mx in (0..picture.blocks_x).step_by(2) {
            let quad = [my * stride + mx, my * stride + mx + 1, (my + 1) * stride + mx, (my + 1) * stride + mx + 1];
            let (mut sum_cb, mut sum_cr) = (0u32, 0u32);
            for &i in &quad {
                let [y, b, r] = picture.ycc[i];
                luma.block(&mut writer, y);
                sum_cb += u32::from(b);
                sum_cr += u32::from(r);
            }
            cb.block(&mut writer, ((sum_cb + 2) / 4) as u8);
            cr.block(&mut writer, ((sum_cr + 2) / 4) as u8);
        }
    }
    let mut out = writer.finish();
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_carries_the_dimensions_and_the_file_is_deterministic() {
        let a = synthetic_jpeg(1760, 2368, 7, true).unwrap();
        let (format, dims) = seedream_types::image::read_dimensions(&a).unwrap();
        assert_eq!(format, seedream_types::ImageFormat::Jpeg);
        assert_eq!((dims.width, dims.height), (1760, 2368));
        assert_eq!(a, synthetic_jpeg(1760, 2368, 7, true).unwrap());
        assert_ne!(a, synthetic_jpeg(1760, 2368, 8, true).unwrap());
        assert_ne!(a, synthetic_jpeg(1760, 2368, 7, false).unwrap());
        assert_eq!(&a[a.len() - 2..], &[0xFF, 0xD9]);
    }

    #[test]
    fn odd_sizes_and_limits() {
        assert!(synthetic_jpeg(1, 1, 0, false).is_ok());
        assert!(synthetic_jpeg(1512, 648, 0, true).is_ok());
        assert!(synthetic_jpeg(0, 10, 0, false).is_err());
        assert!(synthetic_jpeg(MAX_SIDE + 1, 10, 0, false).is_err());
    }

    #[test]
    fn standard_codes_come_out_of_the_tables() {
        // Annex K: luma EOB is 1010, chroma EOB is 00, luma DC category 0 is 00.
        assert_eq!(HuffmanCode::new(&LUMA_AC_LENGTHS, &LUMA_AC_VALUES).code(0), (0b1010, 4));
        assert_eq!(HuffmanCode::new(&CHROMA_AC_LENGTHS, &CHROMA_AC_VALUES).code(0), (0b00, 2));
        assert_eq!(HuffmanCode::new(&LUMA_DC_LENGTHS, &DC_VALUES).code(0), (0b00, 2));
        assert_eq!(HuffmanCode::new(&LUMA_DC_LENGTHS, &DC_VALUES).code(11), (0b1_1111_1110, 9));
    }
}
