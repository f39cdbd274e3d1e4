//! The synthetic picture every output format is drawn from: flat 8×8 blocks (a smooth mosaic of a
//! gradient, discs and a watermark patch) whose colours derive from a seed alone, and which pixels of
//! it stay opaque (`Alpha`) in PNG output.

/// The file format of an image the emulator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Encoding {
    Jpeg,
    Png,
}

impl Encoding {
    /// The media type of the file.
    pub fn media_type(self) -> &'static str {
        match self {
            Encoding::Jpeg => "image/jpeg",
            Encoding::Png => "image/png",
        }
    }

    /// The file name extension of links, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Encoding::Jpeg => "jpeg",
            Encoding::Png => "png",
        }
    }
}

/// Which pixels of a picture are opaque. Anything but `Opaque` makes an RGBA PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Alpha {
    /// Every pixel (no alpha channel at all).
    Opaque,
    /// A transparent background: a central disc (the subject) and the watermark patch are opaque, the
    /// rest is fully transparent.
    Subject,
    /// One layer of a decomposition: opaque inside `bbox` (`[x1, y1, x2, y2]`, end exclusive), as the
    /// whole box or the ellipse inscribed in it; fully transparent everywhere else.
    Layer { bbox: [u32; 4], ellipse: bool },
}

/// Radius of the subject disc of [`Alpha::Subject`], as a fraction of the picture's height.
const SUBJECT_RADIUS: f32 = 0.3;

/// Whether (u, v) (0–1 across and down) falls in the watermark patch at the bottom right.
fn in_watermark(u: f32, v: f32) -> bool {
    u > 0.80 && v > 0.93 && u < 0.98 && v < 0.98
}

/// The picture: one RGB colour per 8×8 block, the blocks padded to whole 16×16 JPEG MCUs.
pub(crate) struct Canvas {
    pub width: u32,
    pub height: u32,
    /// Blocks per row and per column, padded to whole MCUs (multiples of 2).
    pub blocks_x: usize,
    pub blocks_y: usize,
    /// Block colours, row by row, each channel 0–255 before rounding.
    pub rgb: Vec<[f32; 3]>,
    watermark: bool,
}

impl Canvas {
    /// The picture of `width` × `height` pixels for `seed` (the sides are checked by the callers).
    pub fn new(width: u32, height: u32, seed: u64, watermark: bool) -> Self {
        let blocks_x = (width as usize).div_ceil(16) * 2;
        let blocks_y = (height as usize).div_ceil(16) * 2;
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut color = || [rng.f32() * 255.0, rng.f32() * 255.0, rng.f32() * 255.0];
        let (from, to, disc_color) = (color(), color(), color());
        let angle = rng.f32() * std::f32::consts::TAU;
        let (dx, dy) = (angle.cos(), angle.sin());
        let discs: Vec<(f32, f32, f32)> =
            (0..1 + rng.usize(..4)).map(|_| (rng.f32(), rng.f32(), 0.05 + rng.f32() * 0.25)).collect();
        let aspect = width as f32 / height as f32;
        // Visible blocks only; padding repeats the last visible row/column.
        let visible_x = (width as usize).div_ceil(8);
        let visible_y = (height as usize).div_ceil(8);
        let mut rgb = vec![[0f32; 3]; blocks_x * blocks_y];
        for by in 0..blocks_y {
            let v = (by.min(visible_y - 1) as f32 + 0.5) * 8.0 / height as f32;
            for bx in 0..blocks_x {
                let u = (bx.min(visible_x - 1) as f32 + 0.5) * 8.0 / width as f32;
                let t = ((u - 0.5) * dx + (v - 0.5) * dy + 0.75).clamp(0.0, 1.5) / 1.5;
                let mut pixel = [0.0f32; 3];
                for c in 0..3 {
                    pixel[c] = from[c] + (to[c] - from[c]) * t;
                }
                for &(cx, cy, r) in &discs {
                    let (ex, ey) = ((u - cx) * aspect, v - cy);
                    if ex * ex + ey * ey < r * r {
                        for c in 0..3 {
                            pixel[c] = (pixel[c] + disc_color[c]) * 0.5;
                        }
                    }
                }
                if watermark && in_watermark(u, v) {
                    for channel in &mut pixel {
                        *channel = *channel * 0.4 + 150.0;
                    }
                }
                rgb[by * blocks_x + bx] = pixel;
            }
        }
        Self { width, height, blocks_x, blocks_y, rgb, watermark }
    }

    /// Writes row `y` of visible pixels into `row` (3 or 4 bytes per pixel, as `alpha` asks).
    pub fn write_row(&self, y: u32, alpha: Alpha, row: &mut [u8]) {
        let channels = if alpha == Alpha::Opaque { 3 } else { 4 };
        let blocks = &self.rgb[(y as usize / 8) * self.blocks_x..];
        for (x, pixel) in row.chunks_exact_mut(channels).enumerate() {
            let [r, g, b] = blocks[x / 8].map(|c| c.round().clamp(0.0, 255.0) as u8);
            pixel[..3].copy_from_slice(&[r, g, b]);
            if channels == 4 {
                pixel[3] = if self.is_opaque(x as u32, y, alpha) { 255 } else { 0 };
            }
        }
    }

    /// Whether pixel (x, y) is opaque under `alpha`.
    fn is_opaque(&self, x: u32, y: u32, alpha: Alpha) -> bool {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        match alpha {
            Alpha::Opaque => true,
            Alpha::Subject => {
                let (u, v) = (px / self.width as f32, py / self.height as f32);
                let (ex, ey) = ((px - self.width as f32 / 2.0) / self.height as f32, v - 0.5);
                ex * ex + ey * ey < SUBJECT_RADIUS * SUBJECT_RADIUS || (self.watermark && in_watermark(u, v))
            }
            Alpha::Layer { bbox: [x1, y1, x2, y2], ellipse } => {
                if !(x1..x2).contains(&x) || !(y1..y2).contains(&y) {
                    return false;
                }
                if !ellipse {
                    return true;
                }
                let (rx, ry) = ((x2 - x1) as f32 / 2.0, (y2 - y1) as f32 / 2.0);
                let (ex, ey) = ((px - x1 as f32 - rx) / rx, (py - y1 as f32 - ry) / ry);
                ex * ex + ey * ey <= 1.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_opaque_only_inside_their_box() {
        let canvas = Canvas::new(64, 48, 1, false);
        let alpha = Alpha::Layer { bbox: [10, 5, 30, 25], ellipse: true };
        let mut row = vec![0u8; 64 * 4];
        let mut opaque = 0;
        for y in 0..48 {
            canvas.write_row(y, alpha, &mut row);
            for (x, pixel) in row.chunks_exact(4).enumerate() {
                if pixel[3] == 255 {
                    assert!((10..30).contains(&x) && (5..25).contains(&y), "({x}, {y})");
                    opaque += 1;
                } else {
                    assert_eq!(pixel[3], 0);
                }
            }
        }
        assert!(opaque > 200, "{opaque}");
    }

    #[test]
    fn a_transparent_background_keeps_the_subject() {
        let canvas = Canvas::new(100, 100, 1, false);
        let mut row = vec![0u8; 100 * 4];
        canvas.write_row(50, Alpha::Subject, &mut row);
        assert_eq!((row[50 * 4 + 3], row[3]), (255, 0));
    }
}
