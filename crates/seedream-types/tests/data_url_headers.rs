//! Validation reads a data URL's image header from the first decoded bytes and checks the base64
//! without decoding it: the results are those of decoding the whole image, and large images are
//! not decoded at all when their header is near the start.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use seedream_types::image::{HEADER_PREFIX_LEN, encode_data_url, read_dimensions};
use seedream_types::{DataUrl, Dimensions, GenerateRequest, ImageFormat, SEEDREAM_4_5, Violation};

const MB: usize = 1024 * 1024;

fn png_file(width: u32, height: u32, len: usize) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes.resize(len.max(bytes.len()), 0x5A);
    bytes
}

/// A JPEG whose APP1 (EXIF) segments, `app1_len` bytes in all, come before the frame header.
fn jpeg_file(width: u16, height: u16, app1_len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8];
    let mut left = app1_len;
    while left > 0 {
        let segment = left.min(0xFFFF);
        bytes.extend_from_slice(&[0xFF, 0xE1]);
        bytes.extend_from_slice(&(segment as u16).to_be_bytes());
        bytes.resize(bytes.len() + segment - 2, 0x11);
        left -= segment;
    }
    bytes.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&[1, 1, 0x11, 0, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
    bytes
}

fn webp_file(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
    bytes.extend_from_slice(&[10, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    bytes.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    bytes.resize(200_000, 0);
    bytes
}

fn gif_file(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(&width.to_le_bytes());
    bytes.extend_from_slice(&height.to_le_bytes());
    bytes.resize(100_000, 0);
    bytes
}

/// A HEIC whose `ispe` box starts `depth` bytes in.
fn heic_file(width: u32, height: u32, depth: usize) -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    bytes.resize(depth, 0);
    bytes.extend_from_slice(b"\0\0\0\x14ispe\0\0\0\0");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.resize(depth + 100_000, 0);
    bytes
}

fn violations(image: String) -> Vec<Violation> {
    match GenerateRequest::new(SEEDREAM_4_5, "p").with_image(image).validate() {
        Ok(_) => Vec::new(),
        Err(error) => error.violations,
    }
}

#[test]
fn header_from_the_prefix_matches_the_whole_image_for_each_format() {
    let files = [
        ("png", ImageFormat::Png, png_file(640, 480, 300_000)),
        ("small png", ImageFormat::Png, png_file(640, 480, 0)),
        ("jpeg, 70 KiB APP1", ImageFormat::Jpeg, jpeg_file(640, 480, 70 * 1024)),
        ("jpeg, 300 KiB APP1", ImageFormat::Jpeg, jpeg_file(640, 480, 300 * 1024)),
        ("jpeg, APP1 ending at the prefix's edge", ImageFormat::Jpeg, jpeg_file(640, 480, HEADER_PREFIX_LEN - 8)),
        ("webp", ImageFormat::Webp, webp_file(640, 480)),
        ("gif", ImageFormat::Gif, gif_file(640, 480)),
        ("heic, ispe near 64 KiB", ImageFormat::Heic, heic_file(4032, 3024, 64 * 1024 - 4)),
        ("heic, ispe past 64 KiB", ImageFormat::Heic, heic_file(4032, 3024, 70 * 1024)),
        ("not an image", ImageFormat::Png, vec![0x42; 200_000]),
    ];
    for (what, format, bytes) in files {
        let url = encode_data_url(format, &bytes);
        let data_url = DataUrl::parse(&url).unwrap().unwrap();
        assert_eq!(data_url.dimensions(), read_dimensions(&bytes), "{what}");
        assert_eq!(data_url.check_base64(), Ok(()), "{what}");
    }
    assert_eq!(read_dimensions(&jpeg_file(640, 480, 300 * 1024)), Some((ImageFormat::Jpeg, Dimensions::new(640, 480))));
}

#[test]
fn a_jpeg_with_a_large_exif_segment_is_validated_by_its_frame_header() {
    let accepted = encode_data_url(ImageFormat::Jpeg, &jpeg_file(640, 480, 300 * 1024));
    assert_eq!(violations(accepted), []);
    let too_small = encode_data_url(ImageFormat::Jpeg, &jpeg_file(10, 480, 300 * 1024));
    let found = violations(too_small);
    assert!(found.len() == 1 && found[0].message.contains("is 10x480"), "{found:?}");
    let unreadable = encode_data_url(ImageFormat::Jpeg, &jpeg_file(640, 480, 300 * 1024)[..200 * 1024]);
    let found = violations(unreadable);
    assert!(found.len() == 1 && found[0].message.contains("not a readable"), "{found:?}");
}

/// The messages validation gives for a data URL: none, or what decoding the whole base64 says.
fn messages_by_full_decode(url: &str) -> Vec<String> {
    let base64 = url.split_once(',').unwrap().1;
    STANDARD.decode(base64).err().map(|e| format!("the base64 data does not decode: {e}")).into_iter().collect()
}

#[test]
fn an_invalid_last_character_of_a_large_data_url_is_refused_as_decoding_would() {
    let good = encode_data_url(ImageFormat::Png, &png_file(640, 480, 5 * MB + 1));
    let mut refused = 0;
    for last in ["!", "\n", "A", "=", "-"] {
        for url in [format!("{}{last}", &good[..good.len() - 1]), format!("{good}{last}")] {
            let expected = messages_by_full_decode(&url);
            refused += expected.len();
            let found: Vec<String> = violations(url).into_iter().map(|v| v.message).collect();
            assert_eq!(found, expected, "last {last:?}");
        }
    }
    assert!(refused >= 8, "only {refused} of the cases were invalid");
    let found = violations(format!("{}!", &good[..good.len() - 1]));
    assert!(found[0].message.contains("Invalid symbol 33, offset"), "{found:?}");
}

#[test]
fn a_5_mb_png_is_sized_from_its_first_bytes_only() {
    let url = encode_data_url(ImageFormat::Png, &png_file(1024, 768, 5 * MB));
    let probe = DataUrl::parse(&url).unwrap().unwrap().probe_dimensions();
    assert_eq!(probe.found, Some((ImageFormat::Png, Dimensions::new(1024, 768))));
    assert!(probe.bytes_decoded <= HEADER_PREFIX_LEN, "decoded {} bytes", probe.bytes_decoded);
    assert!(probe.bytes_decoded <= 64 * 1024 + 32, "about 64 KiB, not the 5 MB");
}

#[test]
fn a_header_past_the_prefix_is_found_by_decoding_the_whole_image() {
    let bytes = jpeg_file(640, 480, 300 * 1024);
    let url = encode_data_url(ImageFormat::Jpeg, &bytes);
    let probe = DataUrl::parse(&url).unwrap().unwrap().probe_dimensions();
    assert_eq!(probe.found, Some((ImageFormat::Jpeg, Dimensions::new(640, 480))));
    assert_eq!(probe.bytes_decoded, bytes.len());
}
