//! Small loopback servers for the network tests, written on plain tokio sockets so each can
//! misbehave exactly as a test needs: a scripted HTTP server and an HTTP proxy (CONNECT tunnels and
//! absolute-form forwarding) that counts what goes through it.
//!
//! Every crate keeps its own test helpers in `tests/common/mod.rs`; what several crates share (bounded
//! child processes, PNG inputs, the fixtures in `tests/fixtures/`) is the `seedream-tests` crate.

#![allow(dead_code)] // each test binary uses a part

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The head (and body) of one request.
#[derive(Debug, Clone, Default)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The bytes of the head as received.
    pub raw: Vec<u8>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Reads one request: the head, then `Content-Length` bytes of body. `None` at end of stream.
pub async fn read_request(stream: &mut TcpStream) -> Option<Head> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut head = Head { method, target, headers, body: buf[end..].to_vec(), raw: buf[..end].to_vec() };
    let len: usize = head.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while head.body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        head.body.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

/// Writes a whole response and keeps the connection open.
pub async fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    let _ = stream.write_all(&bytes).await;
}

/// A server on `127.0.0.1` calling `handler` for each request of each connection (keep-alive);
/// the handler writes the response itself, and returns whether to keep the connection.
pub async fn server<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Head, TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<TcpStream>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut stream = stream;
                while let Some(head) = read_request(&mut stream).await {
                    match handler(head, stream).await {
                        Some(kept) => stream = kept,
                        None => return,
                    }
                }
            });
        }
    });
    addr
}

/// How the test proxy answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Tunnels and forwards.
    Forward,
    /// Answers every request with 403.
    Refuse,
    /// Answers every request with 407 (credentials needed).
    AskCredentials,
    /// Forwards every absolute-form request to this server, whatever host it names (a stand-in for a
    /// remote origin that the test cannot reach by name).
    Upstream(SocketAddr),
}

/// An HTTP proxy on `127.0.0.1`: `CONNECT host:port` opens a tunnel; an absolute-form request is
/// forwarded to its host with the rest of the connection. Counts connections and records the first
/// request line and `Proxy-Authorization` of each.
#[derive(Debug, Clone)]
pub struct TestProxy {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    pub request_lines: Arc<Mutex<Vec<String>>>,
    pub authorizations: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    pub async fn start(mode: ProxyMode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = TestProxy {
            addr: listener.local_addr().unwrap(),
            connections: Arc::default(),
            request_lines: Arc::default(),
            authorizations: Arc::default(),
        };
        let state = proxy.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                state.connections.fetch_add(1, Ordering::SeqCst);
                let state = state.clone();
                tokio::spawn(async move {
                    let Some(head) = read_request(&mut client).await else { return };
                    state.request_lines.lock().unwrap().push(format!("{} {}", head.method, head.target));
                    if let Some(auth) = head.header("proxy-authorization") {
                        state.authorizations.lock().unwrap().push(auth.to_owned());
                    }
                    match mode {
                        ProxyMode::Refuse => return respond(&mut client, "403 Forbidden", &[], b"").await,
                        ProxyMode::AskCredentials => {
                            let challenge = [("Proxy-Authenticate", "Basic realm=\"test\"")];
                            return respond(&mut client, "407 Proxy Authentication Required", &challenge, b"").await;
                        }
                        ProxyMode::Forward | ProxyMode::Upstream(_) => {}
                    }
                    if head.method == "CONNECT" {
                        let Ok(mut upstream) = TcpStream::connect(head.target.as_str()).await else {
                            return respond(&mut client, "502 Bad Gateway", &[], b"").await;
                        };
                        let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    } else {
                        let authority = match mode {
                            ProxyMode::Upstream(addr) => addr.to_string(),
                            _ => head.target.trim_start_matches("http://").split('/').next().unwrap_or("").to_owned(),
                        };
                        let Ok(mut upstream) = TcpStream::connect(authority.as_str()).await else {
                            return respond(&mut client, "502 Bad Gateway", &[], b"").await;
                        };
                        let _ = upstream.write_all(&head.raw).await;
                        let _ = upstream.write_all(&head.body).await;
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
