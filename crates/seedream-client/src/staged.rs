//! Staging: an answer's `b64_json` images decoded from the body into temporary files as the bytes
//! arrive, flushed to disk, for the caller to name ([`StagedImage::persist`]) — the base of
//! [`ImagesCall::save_to`](crate::ImagesCall::save_to) and of callers that record what they bought
//! before naming files. The body is read and decoded on the call's task and written on a blocking
//! thread, so the two overlap; one `fsync` per file runs on another thread.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use seedream_types::image::sniff_format;
use seedream_types::provenance::{self, Reservation};
use seedream_types::{ImageFormat, ImageItem, ImagesResponse};
use tokio::sync::mpsc;

use crate::b64::B64Stream;
use crate::body::BodyReader;
use crate::call::Job;
use crate::client::Client;
use crate::decode::{ImageSink, ImagesDecoder};
use crate::error::Error;
use crate::image::ImageBytes;
use crate::meta::ResponseMeta;
use crate::save::check_plain;
use crate::text::Redactor;

/// Base64 characters decoded per step, and the buffers that take their bytes on their way to disk:
/// 1 MiB writes, as the durable-save limit of the bench makes them (256 KiB writes were 0.88 of it).
const PIECE: usize = 64 * 1024;
const WRITE_BUFFER: usize = 1024 * 1024;
/// Decoded bytes kept from the start of each image, to sniff its format.
const HEAD: usize = 32;
/// Operations on their way from the body's reader to the writer: with [`WRITE_BUFFER`], a bound on
/// the decoded bytes that wait (8 MiB).
const IN_FLIGHT: usize = 8;

/// An image decoded into a temporary file, not yet under its final name.
#[derive(Debug)]
struct Streamed {
    index: usize,
    temp: PathBuf,
    head: Vec<u8>,
    bytes: u64,
    /// The room its provenance record will fill, when one was asked for and the format has one.
    room: Option<Reservation>,
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
    /// Bytes of XMP to set room aside for in each image (see [`provenance::reserve`]).
    record_room: Option<usize>,
    done: Vec<Streamed>,
    open: Option<(Streamed, fs::File)>,
    /// Where written buffers go back to the reader.
    written: std::sync::mpsc::Sender<Vec<u8>>,
    syncer: Option<Syncer>,
}

impl FileSink {
    fn new(dir: PathBuf, stem: String, record_room: Option<usize>, written: std::sync::mpsc::Sender<Vec<u8>>) -> Self {
        Self { dir, stem, record_room, done: Vec::new(), open: None, written, syncer: None }
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
        let image = Streamed { index, temp: self.dir.join(name), head: Vec::with_capacity(HEAD), bytes: 0, room: None };
        // `create_new`: when it fails, nothing was created.
        let file = fs::OpenOptions::new().write(true).create_new(true).open(&image.temp)?;
        if let Some((unfinished, _)) = self.open.replace((image, file)) {
            let _ = fs::remove_file(unfinished.temp);
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let record_room = self.record_room;
        if let Some((image, file)) = &mut self.open {
            // The first bytes of an image: room for its record goes in where the format puts one.
            let room = record_room.filter(|_| image.bytes == 0).and_then(|packet| provenance::reserve(bytes, packet));
            if image.head.len() < HEAD {
                let take = (HEAD - image.head.len()).min(bytes.len());
                image.head.extend_from_slice(&bytes[..take]);
            }
            match room {
                Some((room, placeholder)) => {
                    file.write_all(&bytes[..room.offset])?;
                    file.write_all(&placeholder)?;
                    file.write_all(&bytes[room.offset..])?;
                    image.bytes += placeholder.len() as u64;
                    image.room = Some(room);
                }
                None => file.write_all(bytes)?,
            }
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

/// What [`ImagesCall::stage_in`](crate::ImagesCall::stage_in) returns: the response, and its `b64_json` images already
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
    /// The room set aside for its provenance record (only [`save_to`](crate::ImagesCall::save_to) asks).
    room: Option<Reservation>,
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

    /// The room set aside in the file for its provenance record.
    pub(crate) fn record_room(&self) -> Option<Reservation> {
        self.room
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
    /// returns the final path. `file_name` must be a plain name, as for [`save_atomically`](crate::save_atomically).
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
    record_room: Option<usize>,
    redactor: &Redactor,
) -> Result<(ImagesResponse, Vec<StagedImage>), Error> {
    let (ops, queue) = mpsc::channel(IN_FLIGHT);
    let (written, buffers) = std::sync::mpsc::channel();
    let writer = FileSink::new(dir.to_owned(), stem.to_owned(), record_room, written);
    let writer = tokio::task::spawn_blocking(move || writer.run(queue));
    let read = feed_body(reader, &ops, DecodeSink::new(buffers), redactor).await;
    drop(ops);
    // Waited for in every case: when this returns, no temporary file of a failed save is left.
    let written = writer.await.map_err(|e| Error::Io(std::io::Error::other(e)))?.map(|done| {
        // Each temporary file owned by a `StagedImage` from here: removed unless persisted.
        let staged = |image: Streamed| {
            let Streamed { index, temp, head, bytes, room } = image;
            (StagedImage { index, temp, format: None, bytes, room, kept: false }, head)
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

/// Sends `job` with its `b64_json` images staged in `dir` (created if needed) as `.{stem}-….tmp`
/// files, each with room for a record of up to `record_room` bytes of XMP when asked; see
/// [`ImagesCall::stage_in`](crate::ImagesCall::stage_in).
pub(crate) async fn stage_in(
    client: &Client,
    job: &Job<'_>,
    dir: &Path,
    stem: &str,
    record_room: Option<usize>,
) -> Result<StagedResponse, Error> {
    fs::create_dir_all(dir)?;
    let ((response, images), meta) = client
        .send_reading(job, |answer, redactor| async move {
            if answer.is_event_stream() {
                let (response, meta) = client.images_response(answer).await?;
                return Ok(((response, Vec::new()), meta));
            }
            let staged = stream_to_files(answer.reader, dir, stem, record_room, redactor).await?;
            Ok((staged, answer.meta))
        })
        .await?;
    Ok(StagedResponse { response, images, meta })
}
