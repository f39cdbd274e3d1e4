//! Saving image bytes so that an interrupted save never leaves a half-written file under the final name,
//! optionally with the image's provenance written into the file.
//!
//! [`Client::save_all`] saves every image of a response; [`Client::generate_and_save`] sends a request
//! and decodes its `b64_json` images straight from the body into their files as the bytes arrive, so
//! a 100 MB (or 1 GB) answer costs a few MiB of memory. Each image goes to a temporary file in the
//! target directory, renamed to `{stem}-{index}.{extension}` once the whole answer has arrived and
//! parsed; on any error, or when the call is dropped, the temporary files are removed.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use seedream_types::image::sniff_format;
use seedream_types::provenance::{self, Provenance};
use seedream_types::{GenerateRequest, GeneratedImage, ImageFormat, ImageItem, ImagesResponse};

use tokio::sync::mpsc;

use crate::body::BodyReader;
use crate::client::Client;
use crate::decode::{B64Stream, ImageSink, ImagesDecoder};
use crate::error::Error;
use crate::image::ImageBytes;
use crate::meta::ResponseMeta;
use crate::text::Redactor;

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
fn check_plain(file_name: &str) -> Result<(), Error> {
    let name = Path::new(file_name);
    let plain = name.file_name().is_some_and(|n| n == name.as_os_str()) && file_name != "." && file_name != "..";
    if !plain || file_name.is_empty() {
        return Err(Error::Config(format!("not a plain file name: {file_name:?}")));
    }
    Ok(())
}

/// What [`Client::generate_and_save`] did: the response, the files written, and the call's meta.
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

/// One image saved by [`Client::generate_and_save`].
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

/// Base64 characters decoded per step, and the buffers that take their bytes on their way to disk.
const PIECE: usize = 64 * 1024;
const WRITE_BUFFER: usize = 256 * 1024;
/// Decoded bytes kept from the start of each image, to sniff its format.
const HEAD: usize = 32;
/// Operations on their way from the body's reader to the writer: with [`WRITE_BUFFER`], a bound on
/// the decoded bytes that wait (8 MiB).
const IN_FLIGHT: usize = 32;

/// An image decoded into a temporary file, not yet under its final name.
#[derive(Debug)]
struct Streamed {
    index: usize,
    temp: PathBuf,
    head: Vec<u8>,
    bytes: u64,
}

/// What the body's reader hands the writer, in order.
#[derive(Debug)]
enum Op {
    Start(usize),
    /// Decoded bytes: the first `len` of the buffer, which goes back to the reader once written.
    Write(Vec<u8>, usize),
    End,
    /// The body has arrived and parsed: the files are wanted.
    Finish,
}

/// The reader's [`ImageSink`]: each `b64_json` string decoded as it arrives, so that no chunk of the
/// body outlives its reading (the transport then reuses its read buffer rather than faulting in
/// fresh pages for every chunk), into buffers that cycle between the reader and the writer.
struct DecodeSink {
    b64: B64Stream,
    /// The image being decoded (for error messages).
    index: usize,
    buf: Vec<u8>,
    filled: usize,
    /// The operations of the chunk being read, sent to the writer after it.
    ops: Vec<Op>,
    /// Buffers the writer is done with.
    written: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl DecodeSink {
    fn new(written: std::sync::mpsc::Receiver<Vec<u8>>) -> Self {
        Self { b64: B64Stream::default(), index: 0, buf: Vec::new(), filled: 0, ops: Vec::new(), written }
    }

    /// Hands the decoded bytes to the writer and takes an empty buffer: one it returned, or a new one.
    fn hand_over(&mut self) {
        let empty = self.written.try_recv().unwrap_or_else(|_| vec![0; WRITE_BUFFER]);
        let full = std::mem::replace(&mut self.buf, empty);
        if self.filled > 0 {
            self.ops.push(Op::Write(full, std::mem::take(&mut self.filled)));
        }
    }

    fn base64_error(&self, error: impl std::fmt::Display) -> Error {
        Error::Decode { reason: format!("image {}: {error}", self.index), body_start: String::new() }
    }
}

impl ImageSink for DecodeSink {
    fn start(&mut self, index: usize) -> Result<(), Error> {
        self.b64 = B64Stream::default();
        self.index = index;
        self.ops.push(Op::Start(index));
        Ok(())
    }

    fn write(&mut self, mut text: &[u8]) -> Result<(), Error> {
        while !text.is_empty() {
            let piece = text.len().min(PIECE);
            if self.buf.len() - self.filled < B64Stream::room_for(piece) {
                self.hand_over();
            }
            match self.b64.feed(&text[..piece], &mut self.buf[self.filled..]) {
                Ok(written) => self.filled += written,
                Err(error) => return Err(self.base64_error(error)),
            }
            text = &text[piece..];
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        if self.buf.len() - self.filled < B64Stream::room_for(0) {
            self.hand_over();
        }
        match self.b64.finish(&mut self.buf[self.filled..]) {
            Ok(written) => self.filled += written,
            Err(error) => return Err(self.base64_error(error)),
        }
        if self.filled > 0 {
            self.hand_over();
        }
        self.ops.push(Op::End);
        Ok(())
    }
}

/// The writer: each image's decoded bytes written into a temporary file in `dir` as they come, each
/// finished file flushed to disk by a second thread while the next is written. Dropped before
/// [`into_pending`](Self::into_pending), it removes its temporary files.
struct FileSink {
    dir: PathBuf,
    stem: String,
    done: Vec<Streamed>,
    open: Option<(Streamed, fs::File)>,
    /// Where written buffers go back to the reader.
    written: std::sync::mpsc::Sender<Vec<u8>>,
    syncer: Option<Syncer>,
}

impl FileSink {
    fn new(dir: PathBuf, stem: String, written: std::sync::mpsc::Sender<Vec<u8>>) -> Self {
        Self { dir, stem, done: Vec::new(), open: None, written, syncer: None }
    }

    /// Runs the writer's side of the pipe until [`Op::Finish`]; without it (the reader failed or was
    /// dropped) the temporary files are removed and the result is an error nobody reads.
    fn run(mut self, mut ops: mpsc::Receiver<Op>) -> Result<Vec<Streamed>, Error> {
        while let Some(op) = ops.blocking_recv() {
            match op {
                Op::Start(index) => self.start(index)?,
                Op::Write(buf, len) => {
                    self.write(&buf[..len])?;
                    // The reader may be gone (it failed): the buffer is then dropped here.
                    let _ = self.written.send(buf);
                }
                Op::End => self.end(),
                Op::Finish => return self.into_pending(),
            }
        }
        Err(Error::Config("the save was abandoned".into()))
    }

    fn start(&mut self, index: usize) -> Result<(), Error> {
        let name = format!(".{}-{index}.{}-{:08x}.tmp", self.stem, std::process::id(), fastrand::u32(..));
        let image = Streamed { index, temp: self.dir.join(name), head: Vec::with_capacity(HEAD), bytes: 0 };
        // `create_new`: when it fails, nothing was created.
        let file = fs::OpenOptions::new().write(true).create_new(true).open(&image.temp)?;
        if let Some((unfinished, _)) = self.open.replace((image, file)) {
            let _ = fs::remove_file(unfinished.temp);
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if let Some((image, file)) = &mut self.open {
            if image.head.len() < HEAD {
                let take = (HEAD - image.head.len()).min(bytes.len());
                image.head.extend_from_slice(&bytes[..take]);
            }
            file.write_all(bytes)?;
            image.bytes += bytes.len() as u64;
        }
        Ok(())
    }

    fn end(&mut self) {
        if let Some((image, file)) = self.open.take() {
            self.done.push(image);
            self.syncer.get_or_insert_with(Syncer::start).sync(file);
        }
    }

    /// The finished images, once every one is on disk (their temporary files now the caller's).
    fn into_pending(mut self) -> Result<Vec<Streamed>, Error> {
        if let Some(syncer) = self.syncer.take() {
            syncer.wait()?;
        }
        Ok(std::mem::take(&mut self.done))
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        for image in self.done.iter().chain(self.open.as_ref().map(|(image, _)| image)) {
            let _ = fs::remove_file(&image.temp);
        }
    }
}

/// Flushes finished files to disk on its own thread, so the next image is decoded meanwhile.
struct Syncer {
    files: std::sync::mpsc::Sender<fs::File>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl Syncer {
    fn start() -> Self {
        let (files, queue) = std::sync::mpsc::channel::<fs::File>();
        let thread = std::thread::spawn(move || {
            let mut result = Ok(());
            for file in queue {
                if result.is_ok() {
                    result = file.sync_all();
                }
            }
            result
        });
        Self { files, thread }
    }

    fn sync(&self, file: fs::File) {
        // A send fails only when the thread is gone; `wait` then reports it.
        let _ = self.files.send(file);
    }

    fn wait(self) -> Result<(), Error> {
        drop(self.files);
        match self.thread.join() {
            Ok(result) => result.map_err(Error::Io),
            Err(_) => Err(Error::Io(std::io::Error::other("the thread flushing saved images panicked"))),
        }
    }
}

/// What [`Client::generate_staged`] returns: the response, and its `b64_json` images already
/// decoded into temporary files, for the caller to name (or read) one at a time.
#[derive(Debug)]
#[non_exhaustive]
pub struct StagedResponse {
    /// The response as parsed; each staged image's `b64_json` is `None` (its bytes are in its file).
    pub response: ImagesResponse,
    /// The staged images, in the order of `data`.
    pub images: Vec<StagedImage>,
    /// Request id, status and attempts of the call.
    pub meta: ResponseMeta,
}

impl StagedResponse {
    /// Takes the staged image of `data[index]`, when there is one.
    pub fn take(&mut self, index: usize) -> Option<StagedImage> {
        let at = self.images.iter().position(|image| image.index == index)?;
        Some(self.images.remove(at))
    }
}

/// One image decoded into a temporary file of the target directory (flushed to disk), not yet under
/// its final name. Dropped without [`persist`](Self::persist), the file is removed.
#[derive(Debug)]
pub struct StagedImage {
    index: usize,
    temp: PathBuf,
    format: Option<ImageFormat>,
    bytes: u64,
    kept: bool,
}

impl StagedImage {
    /// Its index in the response's `data`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The temporary file.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Its format: sniffed from the bytes, else as the response stated it.
    pub fn format(&self) -> Option<ImageFormat> {
        self.format
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Reads the image (this one image, not the answer) into memory.
    pub fn read(&self) -> Result<ImageBytes, Error> {
        Ok(ImageBytes::new(fs::read(&self.temp)?, self.format))
    }

    /// Renames the file to `file_name` in the same directory (replacing a file of that name) and
    /// returns the final path. `file_name` must be a plain name, as for [`save_atomically`].
    pub fn persist(mut self, file_name: &str) -> Result<PathBuf, Error> {
        check_plain(file_name)?;
        let dir = self.temp.parent().map(Path::to_path_buf).unwrap_or_default();
        let path = dir.join(file_name);
        fs::rename(&self.temp, &path)?;
        self.kept = true;
        Ok(path)
    }
}

impl Drop for StagedImage {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Gives each staged image its format (sniffed from `head`, else as `response` states it); `response`
/// loses their `b64_json`.
fn stage(images: Vec<(StagedImage, Vec<u8>)>, response: &mut ImagesResponse) -> Vec<StagedImage> {
    images
        .into_iter()
        .map(|(mut staged, head)| {
            let stated = match response.data.get_mut(staged.index) {
                Some(ImageItem::Image(item)) => {
                    item.b64_json = None;
                    item.stated_format()
                }
                Some(ImageItem::Failed(failed)) => {
                    failed.extra.remove("b64_json");
                    None
                }
                None => None,
            };
            staged.format = sniff_format(&head).or(stated);
            staged
        })
        .collect()
}

/// Reads a JSON answer's body into the scanner, decoding the image strings as they come and handing
/// their bytes to the writer; `Err(None)` when the writer stopped (its own result says why).
async fn feed_body(
    mut reader: BodyReader,
    ops: &mpsc::Sender<Op>,
    mut sink: DecodeSink,
    redactor: &Redactor,
) -> Result<ImagesResponse, Option<Error>> {
    let mut decoder = ImagesDecoder::new();
    while let Some(chunk) = reader.next_chunk().await {
        decoder.feed_streaming(&chunk?, &mut sink)?;
        for op in sink.ops.drain(..) {
            ops.send(op).await.map_err(|_| None)?;
        }
    }
    let mut response = decoder.finish().map_err(Error::decode)?;
    redactor.response(&mut response);
    ops.send(Op::Finish).await.map_err(|_| None)?;
    Ok(response)
}

/// Streams a JSON answer's images into temporary files in `dir`: the body read and decoded here,
/// written on a blocking thread, so the two overlap. Returns the response and the staged images.
async fn stream_to_files(
    reader: BodyReader,
    dir: &Path,
    stem: &str,
    redactor: &Redactor,
) -> Result<(ImagesResponse, Vec<StagedImage>), Error> {
    let (ops, queue) = mpsc::channel(IN_FLIGHT);
    let (written, buffers) = std::sync::mpsc::channel();
    let writer = FileSink::new(dir.to_owned(), stem.to_owned(), written);
    let writer = tokio::task::spawn_blocking(move || writer.run(queue));
    let read = feed_body(reader, &ops, DecodeSink::new(buffers), redactor).await;
    drop(ops);
    // Waited for in every case: when this returns, no temporary file of a failed save is left.
    let written = writer.await.map_err(|e| Error::Io(std::io::Error::other(e)))?.map(|done| {
        // Each temporary file owned by a `StagedImage` from here: removed unless persisted.
        let staged = |image: Streamed| {
            let Streamed { index, temp, head, bytes } = image;
            (StagedImage { index, temp, format: None, bytes, kept: false }, head)
        };
        done.into_iter().map(staged).collect()
    });
    match (read, written) {
        (Ok(mut response), Ok(images)) => {
            let staged = stage(images, &mut response);
            Ok((response, staged))
        }
        (Err(Some(error)), _) | (_, Err(error)) => Err(error),
        (Err(None), Ok(_)) => Err(Error::Config("the writer of the saved images stopped".into())),
    }
}

/// Writes `record` into the image file at `path` (read whole: one image, not the answer); bytes that
/// cannot carry it are left as they are. Returns the file's size.
fn stamp_file(path: &Path, record: &Provenance) -> Result<u64, Error> {
    let bytes = fs::read(path)?;
    let Ok(stamped) = provenance::embed(&bytes, record) else {
        return Ok(bytes.len() as u64);
    };
    drop(bytes);
    let mut file = fs::OpenOptions::new().write(true).truncate(true).open(path)?;
    file.write_all(&stamped)?;
    file.sync_all()?;
    Ok(stamped.len() as u64)
}

impl Client {
    /// Saves an image atomically as `dir/<stem>.<extension>`, the extension that of its format
    /// (`png`, `jpg`, ...; see [`ImageBytes::file_name`]). Returns the final path.
    pub fn save_image(&self, dir: &Path, stem: &str, image: &ImageBytes) -> Result<PathBuf, Error> {
        save_image(dir, stem, image)
    }

    /// Saves an image as [`save_image`](Self::save_image) does, with metadata on or off as `options`
    /// say (see [`SaveOptions`]).
    pub fn save_image_with(
        &self,
        dir: &Path,
        stem: &str,
        image: &ImageBytes,
        options: &SaveOptions,
    ) -> Result<PathBuf, Error> {
        save_image_with(dir, stem, image, options)
    }

    /// Saves every image of `response` into `dir` (created if needed) as `{stem}-{index}.{extension}`,
    /// `index` its place in `data` and the extension that of its real format (see
    /// [`ImageBytes::file_name`]): `b64_json` decoded in place ([`into_image_bytes`](Self::into_image_bytes)),
    /// links downloaded. Each file is written atomically. Failed images are skipped. Returns the paths.
    ///
    /// To save a large `b64_json` answer without holding it whole, send the request with
    /// [`generate_and_save`](Self::generate_and_save) instead.
    pub async fn save_all(
        &self,
        response: ImagesResponse,
        dir: impl AsRef<Path>,
        stem: &str,
    ) -> Result<Vec<PathBuf>, Error> {
        self.save_items(response, dir.as_ref(), stem, &SaveOptions::new())
            .await
            .map(|files| files.into_iter().map(|file| file.path).collect())
    }

    async fn save_items(
        &self,
        response: ImagesResponse,
        dir: &Path,
        stem: &str,
        options: &SaveOptions,
    ) -> Result<Vec<SavedFile>, Error> {
        check_plain(&format!("{stem}-0.bin"))?;
        let mut saved = Vec::new();
        for (index, item) in response.data.into_iter().enumerate() {
            if let ImageItem::Image(image) = item {
                let bytes = self.into_image_bytes(image).await?;
                let path = save_image_with(dir, &format!("{stem}-{index}"), &bytes, options)?;
                let size = fs::metadata(&path).map_or(bytes.len() as u64, |meta| meta.len());
                saved.push(SavedFile { index, path, format: bytes.format(), bytes: size });
            }
        }
        Ok(saved)
    }

    /// Generates, with the answer's `b64_json` images decoded from the body into temporary files of
    /// `dir` (created if needed) as the bytes arrive, for the caller to name ([`StagedImage::persist`])
    /// or read one at a time; links and failed images stay in the response. Memory stays at a few MiB
    /// however large the answer. The base of [`generate_and_save`](Self::generate_and_save), for
    /// callers that name or stamp files their own way. An event stream (`stream: true`) is gathered
    /// as [`generate`](Self::generate) gathers it and stages nothing.
    pub async fn generate_staged(
        &self,
        request: &GenerateRequest,
        dir: impl AsRef<Path>,
    ) -> Result<StagedResponse, Error> {
        self.generate_staged_as(request, dir.as_ref(), "image").await
    }

    async fn generate_staged_as(
        &self,
        request: &GenerateRequest,
        dir: &Path,
        stem: &str,
    ) -> Result<StagedResponse, Error> {
        fs::create_dir_all(dir)?;
        let ((response, images), meta) = self
            .generate_reading(request, |answer, redactor| async move {
                if answer.is_event_stream() {
                    let (response, meta) = self.images_response(answer).await?;
                    return Ok(((response, Vec::new()), meta));
                }
                let staged = stream_to_files(answer.reader, dir, stem, redactor).await?;
                Ok((staged, answer.meta))
            })
            .await?;
        Ok(StagedResponse { response, images, meta })
    }

    /// Generates and saves: sends `request` as [`generate`](Self::generate) does and decodes each
    /// `b64_json` image straight from the response body into its file as the bytes arrive, so memory
    /// stays at a few MiB however large the answer (within
    /// [`max_response_bytes`](crate::ClientBuilder::max_response_bytes)). Images sent as links are
    /// downloaded and saved after. Files are named as [`save_all`](Self::save_all) names them, in `dir`
    /// (created if needed); none appears under its final name before the whole answer has arrived
    /// and parsed, and on any error (or when the call is dropped) no temporary file is left.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), seedream_client::Error> {
    /// use seedream_client::Client;
    /// use seedream_types::{GenerateRequest, ResponseFormat, SEEDREAM_4_0};
    ///
    /// let client = Client::from_env()?;
    /// let request = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn")
    ///     .with_response_format(ResponseFormat::B64Json);
    /// let saved = client.generate_and_save(&request, "out", "lighthouse").await?;
    /// for path in saved.paths() {
    ///     println!("{}", path.display()); // out/lighthouse-0.jpg, ...
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn generate_and_save(
        &self,
        request: &GenerateRequest,
        dir: impl AsRef<Path>,
        stem: &str,
    ) -> Result<SavedResponse, Error> {
        self.generate_and_save_with(request, dir, stem, &SaveOptions::new()).await
    }

    /// [`generate_and_save`](Self::generate_and_save), with the metadata `options` ask for written into
    /// each file (read back and rewritten one image at a time, before it gets its final name).
    pub async fn generate_and_save_with(
        &self,
        request: &GenerateRequest,
        dir: impl AsRef<Path>,
        stem: &str,
        options: &SaveOptions,
    ) -> Result<SavedResponse, Error> {
        let dir = dir.as_ref();
        check_plain(&format!("{stem}-0.bin"))?;
        let StagedResponse { mut response, images, meta } = self.generate_staged_as(request, dir, stem).await?;
        let mut saved = Vec::with_capacity(images.len());
        for image in images {
            let mut bytes = image.len();
            if let Some(record) = &options.provenance {
                bytes = stamp_file(image.path(), record)?;
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
            let bytes = self.into_image_bytes(image).await?;
            let path = save_image_with(dir, &format!("{stem}-{index}"), &bytes, options)?;
            let size = fs::metadata(&path).map_or(bytes.len() as u64, |meta| meta.len());
            saved.push(SavedFile { index, path, format: bytes.format(), bytes: size });
        }
        saved.sort_by_key(|file| file.index);
        Ok(SavedResponse { response, saved, meta })
    }
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
