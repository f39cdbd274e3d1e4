//! W2's physical limits, measured in the same rounds as the client's paths: the least work that gets
//! the answer's images, so a ratio to a limit says how much of the machine a path leaves unused.
//!
//! Both limits send the request on a plain socket, read the answer in 1 MiB reads, find each
//! `b64_json` string with a memchr scan (no JSON parsing, no escapes expected) and decode it with
//! `base64-simd`:
//! - [`in_memory`] decodes each image into its own buffer, allocated before its text arrives and
//!   sized from the served image size (fresh memory, as any in-memory path must touch);
//! - [`durable_save`] decodes into one 1 MiB buffer written to the image's own file, and each file is
//!   fsynced on a background thread as soon as it is complete; the clock stops when the last fsync
//!   has returned. Durability is part of the limit, as it is of the client's save.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use memchr::memmem;

use crate::server::W2_IMAGE_BYTES;
use crate::w1::KEY;

/// The size of every socket read and of every file write.
const IO_SIZE: usize = 1024 * 1024;

/// What opens every image's text in the answer.
const B64_KEY: &[u8] = br#""b64_json":""#;

/// `limit_in_memory`: the images of the answer at `base` (`http://127.0.0.1:N/big/v1`), in memory.
pub fn in_memory(base: &str) -> Result<Vec<Bytes>, String> {
    let mut sink = MemorySink { images: Vec::new(), current: Vec::new(), filled: 0, text: Pieces::default() };
    read_answer(base, &mut sink)?;
    Ok(sink.images.into_iter().map(Bytes::from).collect())
}

/// `limit_durable_save`: the images of the answer at `base`, each in its own file in `dir`, fsynced.
/// Returns the files in answer order.
pub fn durable_save(base: &str, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let (files, queue) = std::sync::mpsc::channel::<File>();
    let syncer = std::thread::spawn(move || queue.into_iter().try_for_each(|file| file.sync_all()));
    let mut sink = FileSink {
        dir: dir.to_path_buf(),
        paths: Vec::new(),
        file: None,
        buffer: vec![0; IO_SIZE],
        filled: 0,
        text: Pieces::default(),
        syncer: files,
        error: None,
    };
    read_answer(base, &mut sink)?;
    if let Some(error) = sink.error.take() {
        return Err(error);
    }
    let FileSink { paths, syncer: files, .. } = sink;
    drop(files);
    syncer.join().map_err(|_| "the fsync thread panicked".to_owned())?.map_err(|e| format!("fsync: {e}"))?;
    Ok(paths)
}

/// Where the scan hands each `b64_json` string, piece by piece.
trait Sink {
    fn start(&mut self);
    fn text(&mut self, piece: &[u8]);
    fn end(&mut self);
}

/// Posts the W2 request to `base`, reads the answer in [`IO_SIZE`] reads and scans its body.
fn read_answer(base: &str, sink: &mut impl Sink) -> Result<(), String> {
    let rest = base.strip_prefix("http://").ok_or_else(|| format!("{base}: not http://"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let body = serde_json::to_vec(&crate::w2::request()).map_err(|e| e.to_string())?;
    let mut stream = TcpStream::connect(host).map_err(|e| format!("{host}: {e}"))?;
    let head = format!(
        "POST /{path}/images/generations HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body)).map_err(|e| e.to_string())?;

    let mut buffer = vec![0u8; IO_SIZE];
    let mut scanner = Scanner::default();
    // The head: read until its blank line (the first read holds it, the answer being small-headed).
    let mut head = Vec::new();
    let body_start = loop {
        let n = stream.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the answer ended inside its head".into());
        }
        head.extend_from_slice(&buffer[..n]);
        if let Some(end) = memmem::find(&head, b"\r\n\r\n") {
            break end + 4;
        }
    };
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(format!("answer: {}", String::from_utf8_lossy(&head[..head.len().min(200)])));
    }
    scanner.feed(&head[body_start..], sink);
    drop(head);
    loop {
        let n = stream.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        scanner.feed(&buffer[..n], sink);
    }
    if scanner.inside {
        return Err("the answer ended inside a b64_json string".into());
    }
    Ok(())
}

/// Finds the `b64_json` strings of a body that arrives in pieces.
#[derive(Default)]
struct Scanner {
    inside: bool,
    /// The last bytes of the previous piece, outside a string: the start of a key cut in two.
    tail: Vec<u8>,
}

impl Scanner {
    fn feed(&mut self, mut chunk: &[u8], sink: &mut impl Sink) {
        while !chunk.is_empty() {
            if self.inside {
                match memchr::memchr(b'"', chunk) {
                    Some(end) => {
                        sink.text(&chunk[..end]);
                        sink.end();
                        self.inside = false;
                        chunk = &chunk[end + 1..];
                    }
                    None => {
                        sink.text(chunk);
                        return;
                    }
                }
                continue;
            }
            if !self.tail.is_empty() {
                let mut joined = std::mem::take(&mut self.tail);
                let tail_len = joined.len();
                joined.extend_from_slice(&chunk[..chunk.len().min(B64_KEY.len() - 1)]);
                if let Some(at) = memmem::find(&joined, B64_KEY) {
                    chunk = &chunk[at + B64_KEY.len() - tail_len..];
                    self.inside = true;
                    sink.start();
                    continue;
                }
                if chunk.len() < B64_KEY.len() - 1 {
                    self.tail = joined[joined.len().saturating_sub(B64_KEY.len() - 1)..].to_vec();
                    return;
                }
            }
            match memmem::find(chunk, B64_KEY) {
                Some(at) => {
                    chunk = &chunk[at + B64_KEY.len()..];
                    self.inside = true;
                    sink.start();
                }
                None => {
                    self.tail = chunk[chunk.len().saturating_sub(B64_KEY.len() - 1)..].to_vec();
                    return;
                }
            }
        }
    }
}

/// Cuts base64 text that arrives in pieces into whole groups of four characters, for `base64-simd`
/// (which decodes whole texts): up to three characters wait for the next piece.
#[derive(Default)]
struct Pieces {
    carry: [u8; 4],
    carried: usize,
}

impl Pieces {
    /// Calls `decode` with each run of whole groups that `piece` completes.
    fn feed(&mut self, mut piece: &[u8], mut decode: impl FnMut(&[u8])) {
        if self.carried > 0 {
            let take = (4 - self.carried).min(piece.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&piece[..take]);
            self.carried += take;
            piece = &piece[take..];
            if self.carried < 4 {
                return;
            }
            self.carried = 0;
            let quad = self.carry;
            decode(&quad);
        }
        let whole = piece.len() / 4 * 4;
        if whole > 0 {
            decode(&piece[..whole]);
        }
        self.carry[..piece.len() - whole].copy_from_slice(&piece[whole..]);
        self.carried = piece.len() - whole;
    }
}

/// Decodes whole groups into the start of `out`; returns the bytes written.
fn decode(text: &[u8], out: &mut [u8]) -> usize {
    match base64_simd::STANDARD.decode(text, base64_simd::Out::from_slice(out)) {
        Ok(decoded) => decoded.len(),
        // The served text is valid; a failure here is a bench bug, and the checksum would say so.
        Err(error) => panic!("base64-simd refused the served text: {error}"),
    }
}

/// Room the decoding of `len` characters needs.
fn room_for(len: usize) -> usize {
    len / 4 * 3
}

struct MemorySink {
    images: Vec<Vec<u8>>,
    current: Vec<u8>,
    filled: usize,
    text: Pieces,
}

impl Sink for MemorySink {
    fn start(&mut self) {
        // Allocated before the text arrives; `vec![0; n]` gets fresh zero pages, touched by the decode.
        self.current = vec![0; W2_IMAGE_BYTES];
        self.filled = 0;
    }

    fn text(&mut self, piece: &[u8]) {
        let (current, filled) = (&mut self.current, &mut self.filled);
        self.text.feed(piece, |groups| {
            if current.len() - *filled < room_for(groups.len()) {
                current.resize(*filled + room_for(groups.len()), 0);
            }
            *filled += decode(groups, &mut current[*filled..]);
        });
    }

    fn end(&mut self) {
        let mut image = std::mem::take(&mut self.current);
        image.truncate(self.filled);
        self.images.push(image);
    }
}

struct FileSink {
    dir: PathBuf,
    paths: Vec<PathBuf>,
    file: Option<File>,
    /// Decoded bytes on their way to the file, written [`IO_SIZE`] at a time.
    buffer: Vec<u8>,
    filled: usize,
    text: Pieces,
    syncer: std::sync::mpsc::Sender<File>,
    error: Option<String>,
}

impl FileSink {
    fn write_out(&mut self) {
        if let Some(file) = &mut self.file
            && let Err(error) = file.write_all(&self.buffer[..self.filled])
        {
            self.error.get_or_insert(error.to_string());
        }
        self.filled = 0;
    }
}

impl Sink for FileSink {
    fn start(&mut self) {
        let path = self.dir.join(format!("limit-{}.jpeg", self.paths.len()));
        match File::create(&path) {
            Ok(file) => self.file = Some(file),
            Err(error) => {
                self.error.get_or_insert(format!("{}: {error}", path.display()));
            }
        }
        self.paths.push(path);
    }

    fn text(&mut self, piece: &[u8]) {
        let mut text = std::mem::take(&mut self.text);
        text.feed(piece, |mut groups| {
            while !groups.is_empty() {
                // As many whole groups as the buffer has room for; a full buffer goes to the file.
                let fits = ((self.buffer.len() - self.filled) / 3 * 4).min(groups.len());
                let filled = self.filled;
                self.filled += decode(&groups[..fits], &mut self.buffer[filled..]);
                groups = &groups[fits..];
                if self.buffer.len() - self.filled < 3 {
                    self.write_out();
                }
            }
        });
        self.text = text;
    }

    fn end(&mut self) {
        self.write_out();
        if let Some(file) = self.file.take() {
            // A send fails only when the thread is gone; its join then says why.
            let _ = self.syncer.send(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<Vec<u8>>);

    impl Sink for Collect {
        fn start(&mut self) {
            self.0.push(Vec::new());
        }
        fn text(&mut self, piece: &[u8]) {
            self.0.last_mut().expect("started").extend_from_slice(piece);
        }
        fn end(&mut self) {}
    }

    #[test]
    fn the_scan_finds_every_string_however_the_body_is_cut() {
        let body = br#"{"data":[{"b64_json":"QUJD","size":"1x1"},{"url":"x"},{"b64_json":"REVGRw==","size":"2x2"}]}"#;
        for cut in 1..body.len() {
            let mut sink = Collect::default();
            let mut scanner = Scanner::default();
            for piece in body.chunks(cut) {
                scanner.feed(piece, &mut sink);
            }
            assert_eq!(sink.0, [b"QUJD".to_vec(), b"REVGRw==".to_vec()], "pieces of {cut}");
            assert!(!scanner.inside);
        }
    }

    #[test]
    fn pieces_decode_to_the_whole_text_however_it_is_cut() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = base64_simd::STANDARD.encode_to_string(&bytes);
        for cut in 1..text.len() {
            let mut pieces = Pieces::default();
            let mut out = vec![0; bytes.len() + 3];
            let mut filled = 0;
            for piece in text.as_bytes().chunks(cut) {
                pieces.feed(piece, |groups| filled += decode(groups, &mut out[filled..]));
            }
            assert_eq!(pieces.carried, 0);
            assert_eq!(&out[..filled], &bytes[..], "pieces of {cut}");
        }
    }
}
