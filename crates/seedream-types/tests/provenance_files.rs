//! Provenance in real JPEG and PNG files, read back by independent decoders: the records are where
//! other software looks for them, and the pixels decode exactly as before.

use seedream_types::provenance::{self, Provenance};

fn record() -> Provenance {
    Provenance {
        prompt: "a lighthouse at dawn, <b>bold</b> & 灯塔".into(),
        model: "doubao-seedream-4-0-250828".into(),
        size: Some("64x48".into()),
        seed: None,
        request_id: Some("req-1".into()),
        created: "2026-11-29T13:40:00Z".into(),
        synthetic: false,
        tool: "seedream 0.1.0".into(),
    }
}

fn pixels(width: u16, height: u16, channels: usize) -> Vec<u8> {
    (0..usize::from(width) * usize::from(height) * channels).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn jpeg_xmp_is_read_by_jpeg_decoder_and_the_pixels_are_unchanged() {
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&pixels(64, 48, 3), 64, 48, jpeg_encoder::ColorType::Rgb).unwrap();
    let with = provenance::embed(&jpeg, &record()).unwrap();

    let mut decoder = jpeg_decoder::Decoder::new(&with[..]);
    let decoded = decoder.decode().unwrap();
    let xmp = String::from_utf8(decoder.xmp_data().expect("an XMP packet").to_vec()).unwrap();
    assert!(
        xmp.contains(
            "<rdf:li xml:lang=\"x-default\">a lighthouse at dawn, &lt;b&gt;bold&lt;/b&gt; &amp; 灯塔</rdf:li>"
        )
    );
    assert!(xmp.contains("xmp:CreatorTool=\"seedream 0.1.0\""));
    assert_eq!(decoded, jpeg_decoder::Decoder::new(&jpeg[..]).decode().unwrap());
    assert_eq!(provenance::read(&with).unwrap(), Some(record()));
}

#[test]
fn png_itxt_is_read_by_the_png_crate_and_the_pixels_are_unchanged() {
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, 64, 48);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header().unwrap().write_image_data(&pixels(64, 48, 4)).unwrap();
    }
    let with = provenance::embed(&png_bytes, &record()).unwrap();

    let decode = |bytes: &[u8]| {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes.to_vec())).read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buffer).unwrap();
        let texts: Vec<(String, String)> =
            reader.info().utf8_text.iter().map(|t| (t.keyword.clone(), t.get_text().unwrap())).collect();
        (buffer, texts)
    };
    let (pixels_with, texts) = decode(&with);
    let (pixels_without, _) = decode(&png_bytes);
    assert_eq!(pixels_with, pixels_without);
    let (keyword, xmp) = &texts[0];
    assert_eq!(keyword, "XML:com.adobe.xmp");
    assert_eq!(Provenance::from_xmp(xmp), Some(record()));
}
