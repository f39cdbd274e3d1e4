//! OpenRaster (`.ora`) files from a layer decomposition, so that GIMP and Krita open the result as one
//! layered image.
//!
//! Layout (OpenRaster 0.0.6): a zip whose first entry is `mimetype` (`image/openraster`, stored, so
//! that it can be read at a fixed offset), then `stack.xml`, the layers under `data/`,
//! `mergedimage.png` (the base image) and `Thumbnails/thumbnail.png` (at most 256 px a side).
//! The stack lists the layers topmost first; the base image is the bottom layer, hidden, so the
//! visible stack is the decomposition and the original is one click away.
//!
//! Each layer PNG goes in as the service sent it (no re-encoding, so it matches the saved file): a
//! layer as large as the base image sits at x=0, y=0; a smaller one at the top-left corner of its
//! `bounding_box`. A layer that is not PNG (a JPEG answer) is converted, as OpenRaster wants PNG.

use seedream_types::markup::escape;
use std::io::{Cursor, Write as _};

use crate::files::distinct_name;
use seedream_types::ImageFormat;
use seedream_types::image::{read_dimensions, sniff_format};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

/// The `mimetype` entry's content.
pub const MIMETYPE: &str = "image/openraster";
/// Largest side of `Thumbnails/thumbnail.png`.
pub const THUMBNAIL_MAX: u32 = 256;

/// One image of the decomposition, as saved.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    /// 0 for the base image, then 1, 2, … from the bottom up.
    pub z_index: i64,
    /// The layer's name (the service's, or a made-up one).
    pub name: &'a str,
    /// `bounding_box.absolute`: `[x1, y1, x2, y2]` in base-image pixels.
    pub bounding_box: Option<[f64; 4]>,
    /// The image file's bytes (PNG, or JPEG).
    pub bytes: &'a [u8],
}

/// Where a layer lands in `stack.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The layer's name.
    pub name: String,
    /// Its entry in the zip (`data/…png`).
    pub src: String,
    /// Left edge on the canvas.
    pub x: u32,
    /// Top edge on the canvas.
    pub y: u32,
    /// Whether it is shown.
    pub visible: bool,
}

/// Builds the `.ora` file's bytes. `layers` must hold the base image (`z_index` 0); order does not
/// matter. Each image's header is checked against `max_pixels` (the catalog's
/// [`answer_pixel_limit`](seedream_types::catalog::answer_pixel_limit)) before anything is decoded.
pub fn build(layers: &[Layer<'_>], max_pixels: u64) -> Result<Vec<u8>, String> {
    let base = layers.iter().find(|l| l.z_index == 0).ok_or("the answer has no base image (z_index 0)")?;
    for layer in layers {
        check_pixels(layer.bytes, max_pixels).map_err(|e| format!("{} {e}", describe(layer)))?;
    }
    let base_pixels = decode_rgba(base.bytes, max_pixels).map_err(|e| format!("the base image cannot be read: {e}"))?;
    let (width, height) = (base_pixels.width, base_pixels.height);
    let merged = as_png(base.bytes, Some(&base_pixels), max_pixels)?;
    let thumbnail = encode_png(&downscale(&base_pixels, THUMBNAIL_MAX))?;

    let mut sorted: Vec<&Layer<'_>> = layers.iter().collect();
    sorted.sort_by_key(|layer| std::cmp::Reverse(layer.z_index)); // topmost first
    let mut placements = Vec::with_capacity(sorted.len());
    let mut entries: Vec<(String, Vec<u8>)> = Vec::with_capacity(sorted.len());
    for layer in sorted {
        let png = if layer.z_index == 0 { merged.clone() } else { as_png(layer.bytes, None, max_pixels)? };
        let (w, h) = read_dimensions(&png).map(|(_, d)| (d.width, d.height)).unwrap_or((width, height));
        let (x, y) = match layer.bounding_box {
            Some(_) if (w, h) == (width, height) => (0, 0),
            Some([x1, y1, _, _]) => (clamp_coordinate(x1, width), clamp_coordinate(y1, height)),
            None => (0, 0),
        };
        // A repeated z_index and name still gets its own entry (a zip refuses duplicate names).
        let base = format!("data/{:02}-{}", layer.z_index, file_label(layer.name, layer.z_index));
        let src = distinct_name(&base, "png", |name| entries.iter().any(|(taken, _)| taken == name));
        placements.push(Placement { name: layer.name.to_owned(), src: src.clone(), x, y, visible: layer.z_index != 0 });
        entries.push((src, png));
    }

    let stack = stack_xml(width, height, &placements);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut put = |name: &str, options: SimpleFileOptions, bytes: &[u8]| -> Result<(), String> {
        zip.start_file(name, options).map_err(|e| format!("cannot add {name}: {e}"))?;
        zip.write_all(bytes).map_err(|e| format!("cannot add {name}: {e}"))
    };
    // PNGs are compressed already: stored. The mimetype must be stored and first.
    put("mimetype", stored, MIMETYPE.as_bytes())?;
    put("stack.xml", deflated, stack.as_bytes())?;
    for (name, bytes) in &entries {
        put(name, stored, bytes)?;
    }
    put("mergedimage.png", stored, &merged)?;
    put("Thumbnails/thumbnail.png", stored, &thumbnail)?;
    let cursor = zip.finish().map_err(|e| format!("cannot finish the zip: {e}"))?;
    Ok(cursor.into_inner())
}

/// `the base image` or `layer 3 ("Sky")`, for messages.
fn describe(layer: &Layer<'_>) -> String {
    match layer.z_index {
        0 => "the base image".into(),
        z => format!("layer {z} ({:?})", layer.name),
    }
}

/// Checks the dimensions an image's header states against `max_pixels`, without decoding it.
fn check_pixels(bytes: &[u8], max_pixels: u64) -> Result<(), String> {
    let (_, dims) = read_dimensions(bytes).ok_or("states no dimensions that can be read")?;
    let pixels = u64::from(dims.width) * u64::from(dims.height);
    if pixels > max_pixels {
        return Err(format!(
            "is {}x{} ({pixels} pixels), more than the {max_pixels} the model's images can have: not decoded",
            dims.width, dims.height
        ));
    }
    Ok(())
}

fn clamp_coordinate(value: f64, limit: u32) -> u32 {
    if value.is_finite() && value > 0.0 { (value.round() as u32).min(limit.saturating_sub(1)) } else { 0 }
}

/// `stack.xml`: the canvas size and one `<layer>` per image, topmost first.
pub fn stack_xml(width: u32, height: u32, placements: &[Placement]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!("<image version=\"0.0.6\" w=\"{width}\" h=\"{height}\" xres=\"72\" yres=\"72\">\n"));
    xml.push_str("  <stack>\n");
    for p in placements {
        let visibility = if p.visible { "visible" } else { "hidden" };
        xml.push_str(&format!(
            "    <layer name=\"{}\" src=\"{}\" x=\"{}\" y=\"{}\" opacity=\"1.0\" visibility=\"{visibility}\" \
             composite-op=\"svg:src-over\"/>\n",
            escape(&p.name),
            escape(&p.src),
            p.x,
            p.y
        ));
    }
    xml.push_str("  </stack>\n</image>\n");
    xml
}

/// A layer's name as a file-name part: letters and digits (any script) in lower case, other runs as
/// one `-`, at most 32 characters; `base` for the base image and `layer` when nothing is left.
pub fn file_label(name: &str, z_index: i64) -> String {
    if z_index == 0 {
        return "base".into();
    }
    let mut label = String::new();
    for c in name.chars() {
        if label.chars().count() >= 32 {
            break;
        }
        if c.is_alphanumeric() {
            label.extend(c.to_lowercase());
        } else if !label.is_empty() && !label.ends_with('-') {
            label.push('-');
        }
    }
    let label = label.trim_end_matches('-');
    if label.is_empty() { "layer".into() } else { label.to_owned() }
}

/// Decoded pixels, 8-bit RGBA.
#[derive(Debug, Clone)]
pub struct Rgba {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 4` bytes, rows top to bottom.
    pub pixels: Vec<u8>,
}

/// Decodes a PNG or a JPEG to RGBA, refusing (before allocating) an image of more than `max_pixels`
/// whatever its header claimed.
pub fn decode_rgba(bytes: &[u8], max_pixels: u64) -> Result<Rgba, String> {
    match sniff_format(bytes) {
        Some(ImageFormat::Png) => decode_png(bytes, max_pixels),
        Some(ImageFormat::Jpeg) => decode_jpeg(bytes, max_pixels),
        Some(other) => Err(format!("it is {}, not PNG or JPEG", other.as_str())),
        None => Err("it is not an image".into()),
    }
}

/// The decoder's own header, checked before its buffers are allocated.
fn within(width: u32, height: u32, max_pixels: u64) -> Result<(), String> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(format!("it is {width}x{height} ({pixels} pixels), more than {max_pixels}"));
    }
    Ok(())
}

fn decode_png(bytes: &[u8], max_pixels: u64) -> Result<Rgba, String> {
    // The buffers: at most 8 bytes a pixel (16-bit RGBA) before conversion.
    let limits = png::Limits { bytes: usize::try_from(max_pixels.saturating_mul(8)).unwrap_or(usize::MAX) };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    within(reader.info().width, reader.info().height, max_pixels)?;
    let mut buffer = vec![0; reader.output_buffer_size().ok_or("the PNG is too large")?];
    let info = reader.next_frame(&mut buffer).map_err(|e| e.to_string())?;
    buffer.truncate(info.buffer_size());
    let (color, _) = reader.output_color_type();
    let pixels = match color {
        png::ColorType::Rgba => buffer,
        png::ColorType::Rgb => buffer.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        png::ColorType::GrayscaleAlpha => buffer.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
        png::ColorType::Grayscale => buffer.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => return Err("the PNG's palette was not expanded".into()),
    };
    Ok(Rgba { width: info.width, height: info.height, pixels })
}

fn decode_jpeg(bytes: &[u8], max_pixels: u64) -> Result<Rgba, String> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().map_err(|e| e.to_string())?;
    let header = decoder.info().ok_or("the JPEG has no header")?;
    within(u32::from(header.width), u32::from(header.height), max_pixels)?;
    let data = decoder.decode().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("the JPEG has no header")?;
    let pixels = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => data.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        other => return Err(format!("JPEG pixel format {other:?} is not supported")),
    };
    Ok(Rgba { width: u32::from(info.width), height: u32::from(info.height), pixels })
}

/// Encodes RGBA pixels as a PNG.
pub fn encode_png(image: &Rgba) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&image.pixels).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// The bytes as PNG: PNG bytes as they are, anything else decoded (or `decoded` when given) and encoded.
fn as_png(bytes: &[u8], decoded: Option<&Rgba>, max_pixels: u64) -> Result<Vec<u8>, String> {
    if sniff_format(bytes) == Some(ImageFormat::Png) {
        return Ok(bytes.to_vec());
    }
    match decoded {
        Some(image) => encode_png(image),
        None => encode_png(&decode_rgba(bytes, max_pixels).map_err(|e| format!("a layer cannot be read: {e}"))?),
    }
}

/// The image shrunk to fit `max` × `max` (never enlarged), each pixel the alpha-weighted mean of the
/// pixels it covers.
pub fn downscale(image: &Rgba, max: u32) -> Rgba {
    let (w, h) = (image.width.max(1), image.height.max(1));
    let scale = (f64::from(max) / f64::from(w.max(h))).min(1.0);
    let tw = ((f64::from(w) * scale).round() as u32).clamp(1, max);
    let th = ((f64::from(h) * scale).round() as u32).clamp(1, max);
    let mut pixels = Vec::with_capacity(tw as usize * th as usize * 4);
    for ty in 0..th {
        let (y0, y1) = span(ty, th, h);
        for tx in 0..tw {
            let (x0, x1) = span(tx, tw, w);
            let mut sum = [0u64; 4];
            for y in y0..y1 {
                for x in x0..x1 {
                    let at = (y as usize * image.width as usize + x as usize) * 4;
                    let Some(p) = image.pixels.get(at..at + 4) else { continue };
                    let alpha = u64::from(p[3]);
                    for c in 0..3 {
                        sum[c] += u64::from(p[c]) * alpha;
                    }
                    sum[3] += alpha;
                }
            }
            let count = u64::from((x1 - x0) * (y1 - y0)).max(1);
            let color = |c: usize| sum[c].checked_div(sum[3]).unwrap_or(0) as u8;
            pixels.extend([color(0), color(1), color(2), (sum[3] / count) as u8]);
        }
    }
    Rgba { width: tw, height: th, pixels }
}

/// The source rows (or columns) `[start, end)` that target row `index` of `target` covers.
fn span(index: u32, target: u32, source: u32) -> (u32, u32) {
    let start = (u64::from(index) * u64::from(source) / u64::from(target)) as u32;
    let end = (u64::from(index + 1) * u64::from(source) / u64::from(target)) as u32;
    (start, end.max(start + 1).min(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(width: u32, height: u32, rgba: [u8; 4]) -> Rgba {
        Rgba { width, height, pixels: rgba.repeat((width * height) as usize) }
    }

    #[test]
    fn labels_are_safe_file_name_parts() {
        assert_eq!(file_label("Sky & Clouds", 1), "sky-clouds");
        assert_eq!(file_label("../../etc/passwd", 2), "etc-passwd");
        assert_eq!(file_label("背景 层", 3), "背景-层");
        assert_eq!(file_label("***", 4), "layer");
        assert_eq!(file_label("anything", 0), "base");
        assert!(file_label(&"x".repeat(100), 5).chars().count() <= 32);
    }

    #[test]
    fn names_are_escaped_in_stack_xml() {
        let place =
            Placement { name: "a \"b\" <c> & d".into(), src: "data/01-a.png".into(), x: 3, y: 4, visible: true };
        let xml = stack_xml(10, 20, &[place]);
        assert!(xml.contains(r#"name="a &quot;b&quot; &lt;c&gt; &amp; d""#), "{xml}");
        assert!(xml.contains(r#"<image version="0.0.6" w="10" h="20""#), "{xml}");
    }

    #[test]
    fn png_round_trips_and_thumbnails_fit() {
        let image = solid(600, 300, [10, 20, 30, 255]);
        let png = encode_png(&image).unwrap();
        let back = decode_rgba(&png, u64::MAX).unwrap();
        assert_eq!((back.width, back.height), (600, 300));
        assert_eq!(&back.pixels[..4], &[10, 20, 30, 255]);
        let thumb = downscale(&image, THUMBNAIL_MAX);
        assert_eq!((thumb.width, thumb.height), (256, 128));
        assert_eq!(&thumb.pixels[..4], &[10, 20, 30, 255]);
        let small = downscale(&solid(10, 5, [0, 0, 0, 0]), THUMBNAIL_MAX);
        assert_eq!((small.width, small.height), (10, 5), "never enlarged");
    }

    #[test]
    fn layers_sit_at_their_box_unless_full_size() {
        let base = encode_png(&solid(100, 80, [255, 255, 255, 255])).unwrap();
        let full = encode_png(&solid(100, 80, [0, 0, 0, 0])).unwrap();
        let cropped = encode_png(&solid(20, 10, [255, 0, 0, 255])).unwrap();
        let layers = [
            Layer { z_index: 2, name: "Red box", bounding_box: Some([30.0, 40.0, 50.0, 50.0]), bytes: &cropped },
            Layer { z_index: 0, name: "base image", bounding_box: None, bytes: &base },
            Layer { z_index: 1, name: "Background", bounding_box: Some([0.0, 0.0, 100.0, 80.0]), bytes: &full },
        ];
        let ora = build(&layers, 100 * 80).unwrap();
        assert_eq!(&ora[30..38], b"mimetype");
        assert_eq!(&ora[38..38 + MIMETYPE.len()], MIMETYPE.as_bytes());
        let mut archive = zip::ZipArchive::new(Cursor::new(ora)).unwrap();
        let mut stack = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("stack.xml").unwrap(), &mut stack).unwrap();
        let red = stack.find("data/02-red-box.png\" x=\"30\" y=\"40\"").unwrap();
        let background = stack.find("data/01-background.png\" x=\"0\" y=\"0\"").unwrap();
        let hidden = stack.find("visibility=\"hidden\"").unwrap();
        assert!(red < background && background < hidden, "topmost first, base last\n{stack}");
    }

    /// An 18 KB-style JPEG claiming 65535×65535 (4 GiB of RGBA) used to abort the process.
    #[test]
    fn images_over_the_pixel_limit_are_refused_before_decoding() {
        let mut bomb = seedream_emulator::synthetic_jpeg(64, 48, 7, false).unwrap();
        let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bomb[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]); // height, width
        let base = encode_png(&solid(100, 80, [255, 255, 255, 255])).unwrap();
        let layers = [
            Layer { z_index: 0, name: "base image", bounding_box: None, bytes: &base },
            Layer { z_index: 1, name: "Sky", bounding_box: None, bytes: &bomb },
        ];
        let error = build(&layers, 36_000_000).unwrap_err();
        assert!(error.contains("layer 1 (\"Sky\") is 65535x65535") && error.contains("not decoded"), "{error}");
        assert!(decode_rgba(&bomb, 36_000_000).is_err(), "the decoder's own limit holds too");
        assert!(build(&layers[..1], 100 * 80 - 1).unwrap_err().contains("the base image is 100x80"));
    }

    #[test]
    fn a_repeated_z_index_gets_its_own_entry() {
        let base = encode_png(&solid(40, 30, [255, 255, 255, 255])).unwrap();
        let red = encode_png(&solid(40, 30, [255, 0, 0, 255])).unwrap();
        let blue = encode_png(&solid(40, 30, [0, 0, 255, 255])).unwrap();
        let layers = [
            Layer { z_index: 0, name: "base image", bounding_box: None, bytes: &base },
            Layer { z_index: 1, name: "sky", bounding_box: None, bytes: &red },
            Layer { z_index: 1, name: "sky", bounding_box: None, bytes: &blue },
        ];
        let mut archive =
            zip::ZipArchive::new(Cursor::new(build(&layers, seedream_types::catalog::MAX_ANSWER_PIXELS).unwrap()))
                .unwrap();
        let mut stack = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("stack.xml").unwrap(), &mut stack).unwrap();
        assert!(stack.contains("src=\"data/01-sky.png\"") && stack.contains("src=\"data/01-sky-2.png\""), "{stack}");
        for (entry, pixels) in [("data/01-sky.png", &red), ("data/01-sky-2.png", &blue)] {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut archive.by_name(entry).unwrap(), &mut bytes).unwrap();
            assert_eq!(&bytes, pixels, "{entry}");
        }
    }

    #[test]
    fn a_jpeg_base_becomes_a_png_merged_image() {
        let jpeg = seedream_emulator::synthetic_jpeg(64, 48, 7, false).unwrap();
        let ora = build(&[Layer { z_index: 0, name: "base", bounding_box: None, bytes: &jpeg }], 64 * 48).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(ora)).unwrap();
        let mut merged = Vec::new();
        std::io::Read::read_to_end(&mut archive.by_name("mergedimage.png").unwrap(), &mut merged).unwrap();
        let decoded = decode_rgba(&merged, 64 * 48).unwrap();
        assert_eq!((decoded.width, decoded.height), (64, 48));
    }
}
