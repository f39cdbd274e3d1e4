//! Saving image bytes so that an interrupted save never leaves a half-written file under the final name,
//! optionally with the image's provenance written into the file.
//!
//! [`save_image`] saves one image's bytes; [`ImagesCall::save_to`](crate::ImagesCall::save_to) sends a
//! request and decodes its `b64_json` images straight from the body into their files as the bytes
//! arrive, so a 100 MB (or 1 GB) answer costs a few MiB of memory. Each image goes to a temporary file in the
//! target directory, renamed to `{stem}-{index}.{extension}` once the whole answer has arrived and
//! parsed; on any error, or when the call is dropped, the temporary files are removed.

use std::fs;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use seedream_types::provenance::{self, PngChunkHead, Provenance, Reservation};
use seedream_types::time::UtcTime;
use seedream_types::{GeneratedImage, ImageFormat, ImageItem, ImagesResponse};

use crate::call::Job;
use crate::client::Client;
use crate::error::Error;
use crate::image::ImageBytes;
use crate::meta::ResponseMeta;
use crate::staged::{StagedResponse, stage_in};

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
    /// written into the file; see [`seedream_types::provenance`]. Saved by
    /// [`ImagesCall::save_to`](crate::ImagesCall::save_to), the fields it leaves empty are filled in
    /// from the request and its answer (prompt, seed, model, size, request id, time, synthetic), so
    /// `Provenance { tool: "my-app 1.0".into(), ..Provenance::default() }` is enough.
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
    check_plain(file_name)?;
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

/// Refuses a file name with directory parts, `.` or `..`.
pub(crate) fn check_plain(file_name: &str) -> Result<(), Error> {
    let name = Path::new(file_name);
    let plain = name.file_name().is_some_and(|n| n == name.as_os_str()) && file_name != "." && file_name != "..";
    if !plain || file_name.is_empty() {
        return Err(Error::Config(format!("not a plain file name: {file_name:?}")));
    }
    Ok(())
}

/// What [`ImagesCall::save_to`](crate::ImagesCall::save_to) did: the response, the files written, and the call's meta.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SavedResponse {
    /// The response as parsed; each saved image's `b64_json` is `None` (its bytes are in its file).
    pub response: ImagesResponse,
    /// The files written, in the order of `data` (failed images have none).
    pub saved: Vec<SavedFile>,
    /// Request id, status and attempts of the call.
    pub meta: ResponseMeta,
}

impl SavedResponse {
    /// The paths of the files written, in the order of `data`.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.saved.iter().map(|file| file.path.clone()).collect()
    }
}

/// One image saved by [`ImagesCall::save_to`](crate::ImagesCall::save_to).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedFile {
    /// Its index in the response's `data`.
    pub index: usize,
    /// Where it was saved: `{dir}/{stem}-{index}.{extension}`.
    pub path: PathBuf,
    /// Its format: sniffed from the bytes, else as the response stated it.
    pub format: Option<ImageFormat>,
    /// Its size in bytes, as written.
    pub bytes: u64,
}

/// Writes `record` into the image file at `path` (read whole: one image, not the answer), dropping
/// the `room` set aside in it first when there is one that could not take the record; bytes that
/// cannot carry a record are left as they came. Returns the file's size.
fn stamp_file(path: &Path, record: &Provenance, room: Option<&Reservation>) -> Result<u64, Error> {
    let mut bytes = fs::read(path)?;
    let unused_room = room.filter(|room| room.offset + room.len <= bytes.len());
    if let Some(room) = unused_room {
        bytes.drain(room.offset..room.offset + room.len);
    }
    let stamped = match provenance::embed(&bytes, record) {
        Ok(stamped) => stamped,
        Err(_) if unused_room.is_none() => return Ok(bytes.len() as u64),
        Err(_) => bytes, // the image as it came, without the room
    };
    let mut file = fs::OpenOptions::new().write(true).truncate(true).open(path)?;
    file.write_all(&stamped)?;
    file.sync_all()?;
    Ok(stamped.len() as u64)
}

/// Room for the record's fields that only the answer gives (request id, model, size): with the
/// model and time of the request already in the estimate, more than they take.
const ANSWER_FIELDS_ROOM: usize = 512;

/// The bytes of a file's header read to find the segments around its record's room: the header
/// segments of a JPEG (EXIF, ICC) and the text chunks of a PNG rarely take more; a longer JPEG header
/// is rewritten instead.
const HEADER_READ: u64 = 256 * 1024;

/// Writes `record` into the room set aside for it in the image file at `path`, and flushes it to
/// disk; returns the file's size, or `None` when the room cannot take it (the record is then
/// written in by rewriting the file, [`stamp_file`]).
fn fill_room(path: &Path, room: &Reservation, record: &Provenance) -> Result<Option<u64>, Error> {
    let mut file = fs::OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut head = Vec::new();
    (&mut file).take(HEADER_READ.min(len)).read_to_end(&mut head)?;
    let xmp_after_head = match provenance::png_chunks_after(&head) {
        Some(at) => png_xmp_from(&mut file, at, len)?,
        None => false,
    };
    let Some(segment) = provenance::fill(room, &head, record, xmp_after_head) else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(room.offset as u64))?;
    file.write_all(&segment)?;
    // The record overwrites bytes the file already has (its size and blocks stay): flushing the
    // data is what makes it durable, without a journal commit for the times.
    file.sync_data()?;
    Ok(Some(len))
}

/// Whether a PNG chunk from offset `at` on holds an XMP packet (one after the pixels), walked by the
/// chunks' first bytes through a buffer: an image's chunks are mostly some KiB long, so one read
/// serves many of them.
fn png_xmp_from(file: &mut fs::File, mut at: u64, len: u64) -> Result<bool, Error> {
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    reader.seek(SeekFrom::Start(at))?;
    let mut start = Vec::with_capacity(PngChunkHead::LEN);
    while at < len {
        start.clear();
        (&mut reader).take(PngChunkHead::LEN as u64).read_to_end(&mut start)?;
        // A chunk that does not parse ends the walk: `fill` and the rewrite judge the file as a whole.
        let Some(chunk) = PngChunkHead::of(&start) else { return Ok(false) };
        if chunk.is_xmp || chunk.is_end {
            return Ok(chunk.is_xmp);
        }
        at += chunk.len;
        reader.seek_relative(chunk.len as i64 - start.len() as i64)?;
    }
    Ok(false)
}

/// `base` completed where it leaves a field out: the prompt and seed from the request, the request
/// id and the image's size from the answer, the model that answered, whether the emulator drew it
/// (never un-set), and the time now.
fn completed(
    base: &Provenance,
    job: &Job<'_>,
    meta: &ResponseMeta,
    model: Option<&str>,
    image: Option<&GeneratedImage>,
) -> Provenance {
    let mut record = base.clone();
    if record.prompt.is_empty() {
        record.prompt = job.prompt().to_owned();
    }
    record.seed = record.seed.or_else(|| job.seed());
    record.request_id = record.request_id.or_else(|| meta.request_id.clone());
    record.size = record.size.or_else(|| image.and_then(|image| image.size.clone()));
    if record.model.is_empty() {
        record.model = model.unwrap_or(job.model()).to_owned();
    }
    record.synthetic |= meta.synthetic;
    if record.created.is_empty() {
        record.created = UtcTime::now().to_string();
    }
    record
}

/// Sends `job` and saves its images; see [`ImagesCall::save_to`](crate::ImagesCall::save_to).
pub(crate) async fn save_to(
    client: &Client,
    job: &Job<'_>,
    dir: &Path,
    stem: &str,
    options: &SaveOptions,
) -> Result<SavedResponse, Error> {
    check_plain(&format!("{stem}-0.bin"))?;
    // Room in each file for its record, so that writing it in costs a few KiB, not the image again:
    // the record as far as it is known now, and space for what the answer adds.
    let record_room = options
        .provenance
        .as_ref()
        .map(|base| completed(base, job, &ResponseMeta::new(200), None, None).to_xmp().len() + ANSWER_FIELDS_ROOM);
    let StagedResponse { mut response, images, meta } = stage_in(client, job, dir, stem, record_room).await?;
    // Each image's record, taken before the links below are read out of the response.
    let records: Vec<Option<Provenance>> = (response.data.iter().map(ImageItem::image))
        .map(|item| {
            options.provenance.as_ref().map(|base| completed(base, job, &meta, response.model.as_deref(), item))
        })
        .collect();
    let record_of = |index: usize| records.get(index).cloned().flatten();
    let mut saved = Vec::with_capacity(images.len());
    for image in images {
        let mut bytes = image.len();
        if let Some(record) = record_of(image.index()) {
            let room = image.record_room();
            bytes = match &room {
                Some(room) => fill_room(image.path(), room, &record)?,
                None => None,
            }
            .map_or_else(|| stamp_file(image.path(), &record, room.as_ref()), Ok)?;
        }
        let (index, format) = (image.index(), image.format());
        let extension = format.map_or(crate::UNKNOWN_EXTENSION, ImageFormat::extension);
        let path = image.persist(&format!("{stem}-{index}.{extension}"))?;
        saved.push(SavedFile { index, path, format, bytes });
    }
    // What was not streamed: links, and every image of an event stream.
    for index in 0..response.data.len() {
        if saved.iter().any(|file| file.index == index) {
            continue;
        }
        let Some(ImageItem::Image(item)) = response.data.get_mut(index) else { continue };
        if item.b64_json.is_none() && item.url.is_none() {
            continue;
        }
        let text = item.b64_json.take();
        let image = GeneratedImage { b64_json: text, ..item.clone() };
        let options = SaveOptions { provenance: record_of(index) };
        let bytes = client.into_image_bytes(image).await?;
        let path = save_image_with(dir, &format!("{stem}-{index}"), &bytes, &options)?;
        let size = fs::metadata(&path).map_or(bytes.len() as u64, |meta| meta.len());
        saved.push(SavedFile { index, path, format: bytes.format(), bytes: size });
    }
    saved.sort_by_key(|file| file.index);
    Ok(SavedResponse { response, saved, meta })
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
    fn a_room_too_small_for_its_record_is_dropped_and_the_record_written_by_a_rewrite() {
        let dir = temp_dir("room");
        let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xda\0\x02scan".to_vec();
        let record = Provenance { prompt: "a lighthouse".into(), model: "m".into(), ..Provenance::default() };
        // A room of 16 bytes of packet, as a stream to disk leaves it: too small for any record.
        let (room, placeholder) = provenance::reserve(&jpeg, 16).unwrap();
        let path = dir.join("small.jpg");
        fs::write(&path, [&jpeg[..room.offset], &placeholder, &jpeg[room.offset..]].concat()).unwrap();
        assert_eq!(fill_room(&path, &room, &record).unwrap(), None);
        let len = stamp_file(&path, &record, Some(&room)).unwrap();
        let saved = fs::read(&path).unwrap();
        assert_eq!(saved.len() as u64, len);
        assert_eq!(saved, provenance::embed(&jpeg, &record).unwrap(), "as if no room had been made");

        // A room that fits is filled in place, the file's length unchanged.
        let (room, placeholder) = provenance::reserve(&jpeg, 4096).unwrap();
        let with_room = [&jpeg[..room.offset], &placeholder, &jpeg[room.offset..]].concat();
        fs::write(&path, &with_room).unwrap();
        assert_eq!(fill_room(&path, &room, &record).unwrap(), Some(with_room.len() as u64));
        assert_eq!(provenance::read(&fs::read(&path).unwrap()).unwrap(), Some(record));
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
