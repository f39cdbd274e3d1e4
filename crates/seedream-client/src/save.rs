//! Saving image bytes so that an interrupted save never leaves a half-written file under the final name,
//! optionally with the image's provenance written into the file.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use seedream_types::provenance::{self, Provenance};

use crate::error::Error;
use crate::image::ImageBytes;

/// How [`save_image_with`] saves: with or without metadata in the file.
///
/// ```
/// use seedream_client::SaveOptions;
/// use seedream_types::provenance::Provenance;
///
/// let on = SaveOptions::new().with_provenance(Provenance {
///     prompt: "a lighthouse at dawn".into(),
///     model: "doubao-seedream-4-0-250828".into(),
///     tool: "my-app 1.0".into(),
///     ..Provenance::default()
/// });
/// let off = SaveOptions::new(); // the bytes as they came (the default)
/// # let _ = (on, off);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SaveOptions {
    /// Written into the file as XMP (JPEG APP1, PNG `iTXt`; the image data untouched) when set.
    pub provenance: Option<Provenance>,
}

impl SaveOptions {
    /// No metadata: the bytes are saved as they came.
    pub fn new() -> Self {
        Self::default()
    }

    /// Metadata on: `provenance` (prompt, model, size, seed, request id, time, synthetic, tool) is
    /// written into the file; see [`seedream_types::provenance`].
    pub fn with_provenance(mut self, provenance: Provenance) -> Self {
        self.provenance = Some(provenance);
        self
    }

    /// Metadata off: the bytes are saved as they came.
    pub fn without_metadata(mut self) -> Self {
        self.provenance = None;
        self
    }
}

/// Saves `image` atomically as `dir/<stem>.<extension>`, the extension that of the image's format
/// (sniffed from its bytes, else as the response stated it; `bin` when unknown). Returns the path.
/// No metadata is added; see [`save_image_with`].
pub fn save_image(dir: &Path, stem: &str, image: &ImageBytes) -> Result<PathBuf, Error> {
    save_atomically(dir, &image.file_name(stem), image)
}

/// Saves `image` as [`save_image`] does, with the metadata `options` ask for. Bytes that cannot carry
/// it (neither JPEG nor PNG, or damaged) are saved as they came rather than refused.
pub fn save_image_with(dir: &Path, stem: &str, image: &ImageBytes, options: &SaveOptions) -> Result<PathBuf, Error> {
    let stamped = options.provenance.as_ref().and_then(|record| provenance::embed(image, record).ok());
    save_atomically(dir, &image.file_name(stem), stamped.as_deref().unwrap_or(image))
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
    fn metadata_is_written_when_asked_and_the_image_data_is_untouched() {
        let dir = temp_dir("meta");
        // A minimal PNG: signature, IHDR, IDAT, IEND (the chunks' CRCs are not checked here).
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in
            [(&b"IHDR"[..], &[0u8, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0][..]), (b"IDAT", b"pixels"), (b"IEND", b"")]
        {
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            png.extend_from_slice(kind);
            png.extend_from_slice(data);
            png.extend_from_slice(&[0; 4]);
        }
        let image = ImageBytes::new(png.clone(), None);
        let record = Provenance { prompt: "a <lighthouse>".into(), model: "m".into(), ..Provenance::default() };
        let on = save_image_with(&dir, "on", &image, &SaveOptions::new().with_provenance(record.clone())).unwrap();
        let saved = fs::read(&on).unwrap();
        assert_eq!(provenance::read(&saved).unwrap(), Some(record.clone()));
        let idat = |bytes: &[u8]| bytes.windows(10).position(|w| w == b"IDATpixels").map(|at| bytes[at..].to_vec());
        assert_eq!(idat(&saved), idat(&png), "IDAT and everything after it byte for byte");
        let off = SaveOptions::new().with_provenance(record).without_metadata();
        assert_eq!(fs::read(save_image_with(&dir, "off", &image, &off).unwrap()).unwrap(), png);
        // Bytes that are no image are saved as they came.
        let other = ImageBytes::new(&b"GIF89a"[..], None);
        let path = save_image_with(&dir, "gif", &other, &SaveOptions::new().with_provenance(Provenance::default()));
        assert_eq!(fs::read(path.unwrap()).unwrap(), b"GIF89a");
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
