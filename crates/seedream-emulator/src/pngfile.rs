//! Synthetic PNGs, written with the `png` crate: RGB for an opaque picture, RGBA when some pixels are
//! transparent (a transparent background, a layer of a decomposition).
//!
//! The pictures are flat 8×8 blocks, so most rows repeat the one above: the `Up` filter turns them
//! into zeros and the fast (`fdeflate`) compression keeps the cost small even in debug builds.

use std::io::Write as _;

use crate::canvas::{Alpha, Canvas};
use crate::jpeg::MAX_SIDE;

/// A PNG of `width` × `height` pixels drawn from `seed` with `alpha`'s transparency, or `None` when a
/// side is outside 1 to [`MAX_SIDE`].
pub(crate) fn synthetic_png(width: u32, height: u32, seed: u64, watermark: bool, alpha: Alpha) -> Option<Vec<u8>> {
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return None;
    }
    let canvas = Canvas::new(width, height, seed, watermark);
    let (color, channels) = if alpha == Alpha::Opaque { (png::ColorType::Rgb, 3) } else { (png::ColorType::Rgba, 4) };
    let stride = width as usize * channels;
    let mut out = Vec::with_capacity(stride * height as usize / 16 + 1024);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Up);
    let mut writer = encoder.write_header().ok()?;
    // Row by row through one row buffer: the whole picture (12 MiB for 2048×2048 RGB) is never held,
    // so a response does not allocate, fault in and hand back megabytes it only passes through.
    let mut stream = writer.stream_writer().ok()?;
    let mut row = vec![0u8; stride];
    for y in 0..height {
        canvas.write_row(y, alpha, &mut row);
        stream.write_all(&row).ok()?;
    }
    stream.finish().ok()?;
    writer.finish().ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn opaque_pictures_are_rgb_and_the_rest_rgba() {
        let rgb = synthetic_png(300, 200, 5, true, Alpha::Opaque).unwrap();
        let (info, pixels) = decode(&rgb);
        assert_eq!((info.width, info.height, info.color_type), (300, 200, png::ColorType::Rgb));
        assert!(pixels.iter().any(|&p| p != pixels[0]));
        assert_eq!(rgb, synthetic_png(300, 200, 5, true, Alpha::Opaque).unwrap(), "deterministic");
        let (info, pixels) = decode(&synthetic_png(300, 200, 5, true, Alpha::Subject).unwrap());
        assert_eq!(info.color_type, png::ColorType::Rgba);
        let alphas: Vec<u8> = pixels.chunks_exact(4).map(|p| p[3]).collect();
        assert!(alphas.contains(&0) && alphas.contains(&255));
        assert_eq!(
            seedream_types::image::has_alpha(&synthetic_png(20, 20, 1, false, Alpha::Subject).unwrap()),
            Some(true)
        );
        assert!(synthetic_png(0, 1, 0, false, Alpha::Opaque).is_none());
    }
}
