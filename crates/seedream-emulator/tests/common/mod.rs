//! Helpers shared by the emulator's integration tests: a small HTTP client with timeouts, raw-socket
//! requests, and image decoders. PNG inputs and the shared fixtures (`tests/fixtures/`) come from the
//! `seedream-tests` crate and are re-exported here.
//!
//! What these tests check is the emulator against our own catalog rows: the emulator reads its limits
//! from the same rows, so a wrong row passes here too. What checks reality is the bodies captured from
//! the live service, `tests/fixtures/{responses,errors}/live-*`, parsed by
//! `crates/seedream-types/tests/live_fixtures.rs`: correct a row from those, never from these tests.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every wait in these tests is bounded by this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error body's (code, param, type), asserting the documented shape.
    pub fn error(&self) -> (String, String, String) {
        let json = self.json();
        let error = json["error"].as_object().unwrap_or_else(|| panic!("no error object: {json}"));
        let id = self.header("x-request-id").expect("x-request-id");
        let message = error["message"].as_str().unwrap();
        assert!(message.ends_with(&format!("Request id: {id}")), "{message}");
        let text = |k: &str| error[k].as_str().unwrap_or_else(|| panic!("{k} missing in {json}")).to_owned();
        (text("code"), text("param"), text("type"))
    }
}

pub async fn send(client: &HttpClient, request: Request<Full<Bytes>>) -> Answer {
    let response =
        tokio::time::timeout(TIMEOUT, client.request(request)).await.expect("timed out").expect("request failed");
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(TIMEOUT, body.collect()).await.expect("body timed out").expect("body failed");
    Answer { status: parts.status, headers: parts.headers, body: body.to_bytes() }
}

pub fn post(url: &str, body: impl Into<Bytes>, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut builder = Request::post(url).header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(body.into())).unwrap()
}

pub async fn post_json(client: &HttpClient, url: &str, body: &Value, headers: &[(&str, &str)]) -> Answer {
    send(client, post(url, body.to_string(), headers)).await
}

pub async fn get(client: &HttpClient, url: &str) -> Answer {
    send(client, Request::get(url).body(Full::new(Bytes::new())).unwrap()).await
}

/// Sends a raw HTTP/1.1 request and reads until the server closes or `read_for` passes without data.
/// Returns the bytes read and whether the read ended by an error (reset) rather than a clean close.
pub async fn raw(addr: std::net::SocketAddr, request: &[u8], read_for: Duration) -> (Vec<u8>, RawEnd) {
    let mut stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr)).await.unwrap().unwrap();
    stream.write_all(request).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tokio::time::timeout(read_for, stream.read(&mut buf)).await {
            Err(_) => return (received, RawEnd::Silent),
            Ok(Ok(0)) => return (received, RawEnd::Closed),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => return (received, RawEnd::Error),
        }
    }
}

/// How a raw read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawEnd {
    /// The server closed the connection.
    Closed,
    /// The read failed (connection reset).
    Error,
    /// Nothing arrived for the given time.
    Silent,
}

/// A raw HTTP/1.1 POST of JSON, closing the connection after the answer.
pub fn raw_post(path: &str, json: &Value, extra_headers: &str) -> Vec<u8> {
    let body = json.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A JPEG data URL of the given size.
pub fn jpeg_data_url(width: u32, height: u32) -> String {
    let jpeg = seedream_emulator::synthetic_jpeg(width, height, 42, false).unwrap();
    seedream_types::image::encode_data_url(seedream_types::ImageFormat::Jpeg, &jpeg)
}

/// One server-sent event: its `event:` name (if any) and `data:` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sse {
    pub event: Option<String>,
    pub data: String,
}

/// Splits an event-stream body into events, asserting the framing (`event:`/`data:` lines, a blank
/// line after each event).
pub fn parse_sse(body: &[u8]) -> Vec<Sse> {
    let text = std::str::from_utf8(body).expect("SSE is UTF-8");
    assert!(text.is_empty() || text.ends_with("\n\n"), "stream does not end with a blank line: {text:?}");
    text.split("\n\n")
        .filter(|block| !block.is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = Some(name.to_owned());
                } else if let Some(text) = line.strip_prefix("data: ") {
                    assert!(data.is_none(), "two data lines in one event: {block:?}");
                    data = Some(text.to_owned());
                } else {
                    panic!("unexpected line {line:?}");
                }
            }
            Sse { event, data: data.expect("event without data") }
        })
        .collect()
}

/// A `multipart/form-data` body: (content type, bytes). Parts are (name, file name, bytes).
pub fn multipart(text: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "emulator-test-boundary-7d93";
    let mut body = Vec::new();
    for (name, value) in text {
        body.extend_from_slice(
            format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 content-type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Decodes a JPEG with an independent decoder; returns (width, height, RGB pixels).
pub fn decode_jpeg(bytes: &[u8]) -> (u16, u16, Vec<u8>) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().expect("the JPEG decodes");
    let info = decoder.info().expect("info after decode");
    assert_eq!(pixels.len(), usize::from(info.width) * usize::from(info.height) * 3);
    (info.width, info.height, pixels)
}

/// Polls `check` every 10 ms until it holds; panics after [`TIMEOUT`].
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !check() {
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[allow(unused_imports)] // each test file uses a part
pub use seedream_tests::{fixture_bytes, fixture_json, png_bytes, png_data_url};

/// A decoded PNG.
#[derive(Debug)]
pub struct DecodedPng {
    pub width: u32,
    pub height: u32,
    pub color: png::ColorType,
    /// 8-bit samples, row by row.
    pub pixels: Vec<u8>,
}

impl DecodedPng {
    /// The alpha of pixel (x, y) (255 without an alpha channel).
    pub fn alpha(&self, x: u32, y: u32) -> u8 {
        match self.color {
            png::ColorType::Rgba => self.pixels[((y * self.width + x) * 4 + 3) as usize],
            _ => 255,
        }
    }
}

/// Decodes a PNG with the `png` crate (8-bit samples).
pub fn decode_png(bytes: &[u8]) -> DecodedPng {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let info = reader.next_frame(&mut pixels).expect("the PNG decodes");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    pixels.truncate(info.buffer_size());
    DecodedPng { width: info.width, height: info.height, color: info.color_type, pixels }
}
