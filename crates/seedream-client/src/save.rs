//! Saving image bytes so that an interrupted save never leaves a half-written file under the final name.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::image::ImageBytes;

/// Saves `image` atomically as `dir/<stem>.<extension>`, the extension that of the image's format
/// (sniffed from its bytes, else as the response stated it; `bin` when unknown). Returns the path.
pub fn save_image(dir: &Path, stem: &str, image: &ImageBytes) -> Result<PathBuf, Error> {
    save_atomically(dir, &image.file_name(stem), image)
}

/// Writes `bytes` to `dir/file_name` atomically: a temporary file in the same directory is written,
/// flushed to disk, and renamed over the final name. Creates `dir` if needed. Returns the final path.
///
/// `file_name` must be a plain name (no directory parts, not `.` or `..`); an existing file of that
/// name is replaced. On any error the temporary file is removed and the final name is untouched.
pub fn save_atomically(dir: &Path, file_name: &str, bytes: &[u8]) -> Result<PathBuf, Error> {
    let name = Path::new(file_name);
    let plain = name.file_name().is_some_and(|n| n == name.as_os_str()) && file_name != "." && file_name != "..";
    if !plain || file_name.is_empty() {
        return Err(Error::Config(format!("not a plain file name: {file_name:?}")));
    }
    fs::create_dir_all(dir)?;
    let target = dir.join(file_name);
    let temp = dir.join(format!(".{file_name}.{:016x}.tmp", fastrand::u64(..)));
    let result = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &target)
    })();
    if let Err(error) = result {
        let _ = fs::remove_file(&temp);
        return Err(Error::Io(error));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("seedream-save-{name}-{:x}", fastrand::u64(..)));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn writes_replaces_and_leaves_no_temp_files() {
        let dir = temp_dir("ok");
        let path = save_atomically(&dir.join("sub"), "a.jpeg", b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        save_atomically(&dir.join("sub"), "a.jpeg", b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(entries(&dir.join("sub")), ["a.jpeg"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_save_keeps_the_old_file_and_cleans_up() {
        let dir = temp_dir("fail");
        save_atomically(&dir, "a.jpeg", b"old").unwrap();
        // A directory under the temp file's would-be target name makes the rename fail.
        fs::create_dir(dir.join("b.jpeg")).unwrap();
        fs::write(dir.join("b.jpeg").join("x"), b"x").unwrap();
        assert!(matches!(save_atomically(&dir, "b.jpeg", b"new"), Err(Error::Io(_))));
        assert_eq!(entries(&dir), ["a.jpeg", "b.jpeg"], "no temp file left behind");
        assert_eq!(fs::read(dir.join("a.jpeg")).unwrap(), b"old");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn images_are_saved_with_the_extension_of_their_bytes() {
        let dir = temp_dir("ext");
        let png = ImageBytes::new(&b"\x89PNG\r\n\x1a\n rest"[..], Some(seedream_types::ImageFormat::Jpeg));
        let path = save_image(&dir, "out-0", &png).unwrap();
        assert_eq!(path, dir.join("out-0.png"));
        assert_eq!(fs::read(&path).unwrap(), &png[..]);
        let jpeg = ImageBytes::new(&[0xFF, 0xD8, 0xFF, 0xE0][..], None);
        assert_eq!(save_image(&dir, "out-1", &jpeg).unwrap(), dir.join("out-1.jpg"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_paths_as_names() {
        let dir = temp_dir("names");
        for bad in ["", ".", "..", "../x", "a/b", "/etc/passwd"] {
            assert!(matches!(save_atomically(&dir, bad, b"x"), Err(Error::Config(_))), "{bad}");
        }
        fs::remove_dir_all(dir).unwrap();
    }
}
