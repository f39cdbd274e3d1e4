//! Helpers shared by the integration tests: a small HTTP client with timeouts, raw-socket requests,
//! and test images.
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
