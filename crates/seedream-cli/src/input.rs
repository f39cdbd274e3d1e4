//! Local image files: read, checked to be an image the service reads, and turned into data URLs
//! (generations) or form files (edits).

use std::path::{Path, PathBuf};

use seedream_types::catalog::families;
use seedream_types::image::{encode_data_url, sniff_format};
use seedream_types::{ImageFile, ImageFormat};

use crate::failure::Failure;

/// Files larger than this are refused before reading (far above what any model takes: see the catalog).
const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// Whether an `--image` value is sent as given: an `http(s)` URL or a data URL.
pub fn is_remote(value: &str) -> bool {
    value.starts_with("http://") || value.starts_with("https://") || value.starts_with("data:")
}

/// An `--image` value as the request's `image` entry: URLs as given, local files (relative to
/// `base`, when given) as `data:image/<format>;base64,…`.
pub fn image_value(value: &str, base: Option<&Path>) -> Result<String, Failure> {
    if is_remote(value) {
        return Ok(value.to_owned());
    }
    let path = match base {
        Some(base) if Path::new(value).is_relative() => base.join(value),
        _ => PathBuf::from(value),
    };
    let (format, bytes) = read_image(&path)?;
    Ok(encode_data_url(format, &bytes))
}

/// Reads a local image for an edit's form.
pub fn image_file(path: &Path) -> Result<ImageFile, Failure> {
    let (_, bytes) = read_image(path)?;
    let name = path.file_name().map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok(ImageFile::new(name, bytes))
}

/// Reads `path` and checks that it is an image in a format the service reads.
pub fn read_image(path: &Path) -> Result<(ImageFormat, Vec<u8>), Failure> {
    let too_large = std::fs::metadata(path).map(|m| m.len() > MAX_READ_BYTES).unwrap_or(false);
    if too_large {
        let most = families().iter().map(|f| f.input.max_bytes).max().unwrap_or_default() / (1024 * 1024);
        return Err(Failure::local(format!("cannot use image {}: it is larger than 64 MB", path.display())).with_hint(
            format!("the service takes images up to {most} MB (`seedream models --json` has each model's limit)"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Failure::read("image", path, &e))?;
    match sniff_format(&bytes) {
        Some(format) => Ok((format, bytes)),
        None => Err(Failure::local(format!("cannot use image {}: it is not {}", path.display(), formats_taken()))
            .with_hint("pass an image file, or an http(s) URL of one")),
    }
}

/// The input formats some model takes, in words: `a JPEG, PNG, … or HEIF image`.
fn formats_taken() -> String {
    let mut words: Vec<String> = Vec::new();
    for format in families().iter().flat_map(|f| &f.input.formats) {
        let word = format.as_str().to_ascii_uppercase();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("a {} or {last} image", rest.join(", ")),
        Some((last, _)) => format!("a {last} image"),
        None => "an image".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Exit;

    #[test]
    fn local_files_become_data_urls_and_urls_pass_through() {
        let dir = std::env::temp_dir().join(format!("seedream-input-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.png"), [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).unwrap();
        std::fs::write(dir.join("b.txt"), b"hello").unwrap();
        assert!(image_value("a.png", Some(&dir)).unwrap().starts_with("data:image/png;base64,"));
        assert_eq!(image_value("https://x/y.png", None).unwrap(), "https://x/y.png");
        let not_image = image_value("b.txt", Some(&dir)).unwrap_err();
        assert_eq!(not_image.exit, Exit::Local);
        assert!(not_image.message.contains("not a JPEG, PNG"), "{}", not_image.message);
        let missing = image_value("nope.png", Some(&dir)).unwrap_err();
        assert!(missing.message.contains("no such file"), "{}", missing.message);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
