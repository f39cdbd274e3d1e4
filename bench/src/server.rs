//! The loopback server (`seedream-bench serve`): fixed answers, built once, so that serving costs the
//! same whichever client asks. It runs in its own process, so the client's CPU time is the bench
//! process's own.
//!
//! `POST …/v1/images/generations` answers the small W1 body (one `url` item, like the service's);
//! `POST …/big/v1/images/generations` answers the W2 body (15 random ≈ 5 MB images as `b64_json`).

use std::convert::Infallible;
use std::io::{BufRead as _, Write as _};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// One answer as the service gives it for a single `url` image (the link's length is a real one's).
pub const SMALL_BODY: &str = concat!(
    r#"{"model":"doubao-seedream-4-0-250828","created":1757469561,"data":[{"url":"#,
    r#""https://ark-content-generation-v2-cn-beijing.tos-cn-beijing.volces.com/doubao-seedream-4-0/"#,
    r#"0217574695610003e2b1c6a5d9f4c7e8a1b2c3d4e5f60718293a4b5c6d7e8f9_0.jpeg"#,
    r#"?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Credential=AKLTYjVhNzY5ZGM3NGFmNDQ3ZGJhMWQ4NjQ0ZWJkNzA5ZTc"#,
    r#"%2F20250910%2Fcn-beijing%2Ftos%2Frequest&X-Tos-Date=20250910T021921Z&X-Tos-Expires=86400"#,
    r#"&X-Tos-Signature=4f2d8e1c9b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"#,
    r#"&X-Tos-SignedHeaders=host","size":"2048x2048"}],"#,
    r#""usage":{"generated_images":1,"output_tokens":16384,"total_tokens":16384}}"#
);

/// Images in the W2 answer, and the size of each (a 4K JPEG from the service is about 5 MB).
pub const W2_IMAGES: usize = 15;
pub const W2_IMAGE_BYTES: usize = 5_000_000;

/// The head of every W2 image: SOI, a JFIF APP0 and the start of a scan, so that its header parses
/// as a service JPEG's does (a save that writes provenance writes it, as for a real image).
const W2_JPEG_HEAD: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00,
];

/// The W2 images: random bytes (incompressible, like JPEG data) behind a JPEG header, always the same
/// ones (fixed seed).
pub fn w2_images() -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(0x5eed_d12e);
    (0..W2_IMAGES)
        .map(|_| {
            let mut image = vec![0u8; W2_IMAGE_BYTES];
            rng.fill(&mut image);
            image[..W2_JPEG_HEAD.len()].copy_from_slice(W2_JPEG_HEAD);
            image
        })
        .collect()
}

/// The W2 answer carrying `images` as `b64_json`.
pub fn w2_body(images: &[Vec<u8>]) -> Bytes {
    let mut body = String::from(r#"{"model":"doubao-seedream-4-0-250828","created":1757469561,"data":["#);
    for (i, image) in images.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(r#"{"b64_json":""#);
        base64::engine::general_purpose::STANDARD.encode_string(image, &mut body);
        body.push_str(r#"","size":"4096x4096"}"#);
    }
    body.push_str(&format!(
        r#"],"usage":{{"generated_images":{},"output_tokens":{},"total_tokens":{}}}}}"#,
        images.len(),
        images.len() * 65_536,
        images.len() * 65_536
    ));
    Bytes::from(body)
}

/// What the server tells its parent on its first stdout line.
#[derive(Debug, Clone, Copy)]
pub struct Ready {
    pub port: u16,
    pub decoded_bytes: u64,
    pub body_bytes: u64,
    pub checksum: u64,
}

impl Ready {
    pub fn line(&self) -> String {
        format!("ready {} {} {} {}", self.port, self.decoded_bytes, self.body_bytes, self.checksum)
    }

    pub fn parse(line: &str) -> Option<Ready> {
        let mut words = line.strip_prefix("ready ")?.split_whitespace().map(str::parse::<u64>);
        let mut next = || words.next()?.ok();
        Some(Ready {
            port: u16::try_from(next()?).ok()?,
            decoded_bytes: next()?,
            body_bytes: next()?,
            checksum: next()?,
        })
    }
}

/// Serves until standard input closes (the parent exits or drops the pipe).
pub fn serve() -> Result<(), String> {
    let images = w2_images();
    let ready_facts = (
        images.iter().map(|image| image.len() as u64).sum::<u64>(),
        crate::sys::checksum(images.iter().map(Vec::as_slice)),
    );
    let big = w2_body(&images);
    drop(images);
    let small = Bytes::from_static(SMALL_BODY.as_bytes());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let ready = Ready { port, decoded_bytes: ready_facts.0, body_bytes: big.len() as u64, checksum: ready_facts.1 };
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{}", ready.line()).and_then(|()| stdout.flush()).map_err(|e| e.to_string())?;
        // The parent closes our stdin when it is done (or dies): then stop.
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin().lock().read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        tokio::pin!(stdin_closed);
        loop {
            tokio::select! {
                _ = &mut stdin_closed => return Ok(()),
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let (small, big) = (small.clone(), big.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let (small, big) = (small.clone(), big.clone());
                            async move {
                                let body = if request.uri().path().starts_with("/big/") { big } else { small };
                                // Read the request to its end, as a real server would.
                                let _ = request.into_body().collect().await;
                                let response = hyper::Response::builder()
                                    .header(http::header::CONTENT_TYPE, "application/json")
                                    .header("x-request-id", "021757469561000bench")
                                    .body(Full::new(body))
                                    .unwrap_or_default();
                                Ok::<_, Infallible>(response)
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    })
}
