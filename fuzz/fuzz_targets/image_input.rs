//! Image headers and data URLs: reading dimensions and parsing `data:` URLs never panic, and a
//! request carrying the bytes as a data URL validates without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seedream_types::image::{DataUrl, ImageFormat, encode_data_url, read_dimensions, sniff_format};
use seedream_types::{GenerateRequest, SEEDEDIT_3_0_I2I, SEEDREAM_4_0};

fuzz_target!(|bytes: &[u8]| {
    let _ = read_dimensions(bytes);
    let format = sniff_format(bytes).unwrap_or(ImageFormat::Png);
    let url = encode_data_url(format, bytes);
    let parsed = DataUrl::parse(&url).expect("encoded URL is a data URL").expect("and well formed");
    assert_eq!(parsed.decoded_len(), bytes.len());
    assert_eq!(parsed.decode().expect("our own base64 decodes"), bytes);
    for model in [SEEDREAM_4_0, SEEDEDIT_3_0_I2I] {
        let _ = GenerateRequest::new(model, "p").with_image(url.clone()).validate();
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Some(Ok(data_url)) = DataUrl::parse(text) {
            let _ = data_url.decoded_len();
            let _ = data_url.decode();
        }
        let _ = GenerateRequest::new(SEEDREAM_4_0, "p").with_image(text).validate();
    }
});
