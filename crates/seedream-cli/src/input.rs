//! Local image files: read, checked to be an image the service reads, and turned into data URLs
//! (generations) or form files (edits).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use seedream_types::catalog::families;
use seedream_types::image::{encode_data_url, sniff_format};
use seedream_types::{ImageFile, ImageFormat};

use crate::failure::Failure;
use crate::files::{Links, open_regular, read_at_most};

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
    let bytes = read_local_image("image", path)?;
    match sniff_format(&bytes) {
        Some(format) => Ok((format, bytes)),
        None => Err(Failure::local(format!("cannot use image {}: it is not {}", path.display(), formats_taken()))
            .with_hint("pass an image file, or an http(s) URL of one")),
    }
}

/// The largest image file read: the largest input image any model takes (each catalog row's
/// `input.max_bytes`, a limit on the decoded image, which is the file). The model's own, smaller
/// limit is checked with the rest of its rules.
pub fn largest_image_bytes() -> u64 {
    families().iter().map(|family| family.input.max_bytes as u64).max().unwrap_or_default()
}

/// Reads a local image file (`what`: how messages name it); see [`read_image_file`].
pub fn read_local_image(what: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    read_image_file(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::FileTooLarge => Failure::local(format!("cannot use {what} {}: {error}", path.display()))
            .with_hint("`seedream models --json` has each model's limit; make the image smaller"),
        _ => Failure::read(what, path, &error),
    })
}

/// Reads an image file, refusing what is not a regular file (a FIFO would hang, `/dev/zero` never
/// ends) and what is larger than [`largest_image_bytes`] ([`std::io::ErrorKind::FileTooLarge`]),
/// checked before reading and again while reading (the file may grow).
pub fn read_image_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let limit = largest_image_bytes();
    let too_large = || {
        let text = format!("it is larger than {} MB, the largest image any model takes", limit / (1024 * 1024));
        std::io::Error::new(std::io::ErrorKind::FileTooLarge, text)
    };
    let file = open_regular(path, OpenOptions::new().read(true), Links::Follow)?;
    if file.metadata()?.len() > limit {
        return Err(too_large());
    }
    read_at_most(file, limit)
        .map_err(|error| if error.kind() == std::io::ErrorKind::FileTooLarge { too_large() } else { error })
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
