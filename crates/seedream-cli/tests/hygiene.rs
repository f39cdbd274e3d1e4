//! What `seedream` shows and records of hostile or careless input: server text with the key and
//! terminal escapes in it, credentials in `--base-url`, signed download links, and proxies
//! (`--proxy`, `--no-proxy`, the proxy variables). Each server is a small loopback one written here.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use serde_json::Value;

const KEY: &str = "sk-cli-hygiene-SECRET";

/// A scratch directory, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("seedream-hygiene-{name}-{:016x}", fastrand::u64(..)));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `seedream args…` in `dir` with the proxy variables given (and no others), within 60 s.
fn run(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seedream"));
    command.current_dir(dir).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for name in ["SEEDREAM_API_KEY", "ARK_API_KEY", "SEEDREAM_BASE_URL", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY"] {
        command.env_remove(name);
    }
    for name in ["https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied());
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("seedream {args:?} ran for more than 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A thread-per-connection HTTP/1.1 server answering each request with `answer(path, headers)`.
fn server(answer: impl Fn(&str, &str) -> Vec<u8> + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || serve(stream, &*answer));
        }
    });
    addr
}

fn serve(mut stream: TcpStream, answer: &dyn Fn(&str, &str) -> Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < end + 4 + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..end + 4 + length);
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        if stream.write_all(&answer(&path, &head)).is_err() {
            return;
        }
    }
}

fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes();
    out.extend_from_slice(body);
    out
}

fn emulator() -> (tokio::runtime::Runtime, EmulatorHandle) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let handle = runtime.block_on(Emulator::start(EmulatorConfig::default())).unwrap();
    (runtime, handle)
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("a manifest")).unwrap()
}

#[test]
fn the_manifest_records_the_base_url_without_its_credentials() {
    let (_runtime, emulator) = emulator();
    let base = emulator.base_url().replace("http://", "http://user:BASESECRET@");
    let dir = Scratch::new("userinfo");
    let output = run(&dir.0, &["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY], &[]);
    assert!(output.status.success(), "{}", text(&output));
    let manifest = manifest(&dir.0);
    assert_eq!(manifest["runs"][0]["service"], Value::from(emulator.base_url()));
    assert!(!manifest.to_string().contains("BASESECRET"));
    assert!(!text(&output).contains("BASESECRET"), "{}", text(&output));
}

#[test]
fn server_text_is_printed_with_the_key_redacted_and_escapes_escaped() {
    let addr = server(|_path, head| {
        let key = head.lines().find_map(|l| l.strip_prefix("authorization: Bearer ")).unwrap_or("").to_owned();
        let message = format!("bad key {key}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}");
        let body = serde_json::json!({"error": {"code": "AuthenticationError", "message": message}});
        response("401 Unauthorized", "application/json", body.to_string().as_bytes())
    });
    let dir = Scratch::new("escapes");
    let base = format!("http://{addr}/v1");
    let output = run(&dir.0, &["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY], &[]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let all = [output.stdout.as_slice(), output.stderr.as_slice()].concat();
    assert!(
        !all.contains(&0x1b) && !all.contains(&0x07),
        "raw control characters reached the terminal:\n{}",
        text(&output)
    );
    let shown = text(&output);
    assert!(shown.contains("<redacted>") && !shown.contains(KEY), "{shown}");
    assert!(shown.contains("\\x1b]0;pwned"), "{shown}");
    if let Ok(manifest) = std::fs::read_to_string(dir.0.join("manifest.json")) {
        assert!(!manifest.contains(KEY), "{manifest}");
    }
}

#[test]
fn a_failed_download_is_recorded_without_the_links_signature() {
    let addr = std::sync::Arc::new(std::sync::OnceLock::<SocketAddr>::new());
    let own = addr.clone();
    let bound = server(move |path, _head| {
        if path.starts_with("/v1/") {
            let link =
                format!("http://{}/img/0.jpeg?X-Tos-Signature=LINKSECRET&X-Tos-Expires=86400", own.get().unwrap());
            let body = serde_json::json!({"data": [{"url": link, "size": "1024x1024"}]});
            response("200 OK", "application/json", body.to_string().as_bytes())
        } else {
            response("403 Forbidden", "application/xml", b"<Error><Code>AccessDenied</Code></Error>")
        }
    });
    addr.set(bound).unwrap();
    let dir = Scratch::new("signature");
    let base = format!("http://{bound}/v1");
    let output = run(
        &dir.0,
        &["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY, "--retries", "0"],
        &[],
    );
    let manifest = manifest(&dir.0);
    let failed = &manifest["runs"][0]["failed_images"][0];
    assert_eq!(failed["url"], Value::from(format!("http://{bound}/img/0.jpeg")), "{}\n{manifest:#}", text(&output));
    assert!(!manifest.to_string().contains("LINKSECRET"));
}

#[test]
fn proxy_flags_and_variables_choose_the_route() {
    let (_runtime, emulator) = emulator();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let with_credentials = proxy.replace("http://", "http://pat:PROXYSECRET@");
    let dir = Scratch::new("proxy");
    let base = emulator.base_url();
    let call = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut args = vec!["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--retries", "0"]);
        run(&dir.0, &args, vars)
    };
    // --proxy to a closed port: the network failed (4), the proxy named, its password not.
    let output = call(&["--proxy", &with_credentials], &[]);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    assert!(text(&output).contains(&proxy) && !text(&output).contains("PROXYSECRET"), "{}", text(&output));
    // The variable never takes a loopback service (as Go has it), whatever NO_PROXY says; --no-proxy
    // ignores it everywhere.
    let output = call(&[], &[("HTTP_PROXY", &with_credentials)]);
    assert!(output.status.success(), "{}", text(&output));
    let output = call(&[], &[("HTTP_PROXY", &with_credentials), ("NO_PROXY", "127.0.0.1")]);
    assert!(output.status.success(), "{}", text(&output));
    let output = call(&["--no-proxy"], &[("HTTP_PROXY", &with_credentials)]);
    assert!(output.status.success(), "{}", text(&output));
    // The embedded emulator is never proxied.
    let output = run(&dir.0, &["generate", "--prompt", "p", "--out", "."], &[("HTTP_PROXY", &with_credentials)]);
    assert!(output.status.success(), "{}", text(&output));
}

#[test]
fn answers_without_images_or_with_a_contradictory_length_say_what_was_wrong() {
    let empty = server(|_path, _head| response("200 OK", "application/json", br#"{"data": []}"#));
    // Both framings: the chunked one is read (RFC 9112 §6.3) and the images are saved.
    let both = server(|path, _head| {
        if path.starts_with("/img/") {
            return response("200 OK", "image/jpeg", b"\xff\xd8\xff\xe0 not really a jpeg");
        }
        let body = br#"{"data":[{"b64_json":"/9j/4AAQ"}]}"#;
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
        out
    });
    // Both, and a body that is not chunked: the framing error is named.
    let contradictory = server(|_path, _head| {
        let body = br#"{"data":[{"url":"http://127.0.0.1:9/x.jpeg"}]}"#;
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Transfer-Encoding: chunked\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    });
    let dir = Scratch::new("wordless");
    let base = format!("http://{both}/v1");
    let output = run(&dir.0, &["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    for (addr, words) in [(empty, "no image"), (contradictory, "chunk")] {
        let base = format!("http://{addr}/v1");
        let args = ["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY, "--retries", "0"];
        let output = run(&dir.0, &args, &[]);
        let shown = text(&output);
        assert_ne!(output.status.code(), Some(0), "{shown}");
        assert!(shown.contains(words), "expected {words:?} in:\n{shown}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.lines().any(|line| line.starts_with("error") && line.len() > 20), "{shown}");
    }
}
/// Every file a run left in `dir` (images, manifest, journal, gallery), as bytes.
fn files_of(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files.into_iter().filter(|p| p.is_file()).map(|p| (p.clone(), std::fs::read(p).unwrap())).collect()
}

fn holds(bytes: &[u8], secret: &str) -> bool {
    bytes.windows(secret.len()).any(|w| w == secret.as_bytes())
}

/// A relay (reached as an HTTP proxy with credentials) that echoes the key, an `-H` value and the
/// proxy's `Basic` credentials in every text field of a `200` answer, a stream's events and the
/// request id: none of them reaches the terminal, `-v`, `--json`, the manifest, the journal, the
/// gallery page, the images' provenance or `seedream inspect`.
#[test]
fn secrets_echoed_in_an_answer_are_redacted_everywhere_they_go() {
    const HVAL: &str = "hval-relay-SECRET";
    let jpeg = seedream_emulator::synthetic_jpeg(64, 48, 7, false).unwrap();
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&jpeg)
    };
    let seen_basic = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = seen_basic.clone();
    let addr = server(move |_path, head| {
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
                .unwrap_or("")
                .to_owned()
        };
        let key = header("authorization").trim_start_matches("Bearer ").to_owned();
        let basic = header("proxy-authorization").trim_start_matches("Basic ").to_owned();
        let hval = header("x-relay-token");
        *seen.lock().unwrap() = basic.clone();
        let all = format!("{key} {hval} {basic}");
        let usage = serde_json::json!({"generated_images": 1, "output_tokens": 12, "total_tokens": 12,
                                       "relay": all, "prompt_tokens_details": {"by": all}});
        let (content_type, body) = if header("accept").contains("event-stream") {
            let succeeded = serde_json::json!({"type": "image_generation.partial_succeeded", "model": key,
                "image_index": 0, "b64_json": b64, "size": format!("64x48 {hval}"), "revised_prompt": all, "echo": all});
            let completed = serde_json::json!({"type": "image_generation.completed", "model": key, "usage": usage});
            let body = format!("data: {succeeded}\n\ndata: {completed}\n\ndata: [DONE]\n\n");
            ("text/event-stream", body)
        } else {
            let body = serde_json::json!({"model": key, "created": 1,
                "data": [{"b64_json": b64, "size": format!("64x48 {hval}"), "revised_prompt": all, "echo": all}],
                "usage": usage, "echo": all});
            ("application/json", body.to_string())
        };
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nx-request-id: req-{all}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    });
    let dir = Scratch::new("echoed");
    let proxy = format!("http://pxuser:PXSECRET@{addr}");
    let vars: [(&str, &str); 0] = [];
    // A closed port: only the proxy (the relay) answers. A loopback origin goes through a proxy only
    // when it is named and on loopback itself (the environment's HTTP_PROXY would be bypassed).
    let base = "http://127.0.0.1:9/api/v3";
    let header = format!("X-Relay-Token: {HVAL}");
    let call = |extra: &[&str]| {
        let mut args = vec!["generate", "--prompt", "p", "--out", ".", "--base-url", base, "--api-key", KEY];
        args.extend_from_slice(&["-H", &header, "--retries", "0", "--proxy", &proxy, "-m", "seedream-4.0"]);
        args.extend_from_slice(extra);
        let output = run(&dir.0, &args, &vars);
        assert!(output.status.success(), "{}", text(&output));
        text(&output)
    };
    let mut shown =
        [call(&["-v"]), call(&["--json"]), call(&["--stream", "-v"]), call(&["--stream", "--json"])].join("\n");
    let images: Vec<PathBuf> = files_of(&dir.0)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|p| p.extension().is_some_and(|e| e == "jpeg" || e == "jpg"))
        .collect();
    assert_eq!(images.len(), 4, "{shown}");
    for json in [false, true] {
        let mut args = vec!["inspect"];
        if json {
            args.push("--json");
        }
        args.extend(images.iter().map(|p| p.to_str().unwrap()));
        let output = run(&dir.0, &args, &[]);
        shown.push_str(&text(&output));
    }
    let basic = seen_basic.lock().unwrap().clone();
    assert!(!basic.is_empty(), "the request went through the proxy with credentials");
    let files = files_of(&dir.0);
    let manifest = std::fs::read_to_string(dir.0.join("manifest.json")).unwrap();
    assert!(manifest.contains("<redacted>"), "the echoes were recorded, redacted: {manifest}");
    assert!(shown.contains("<redacted>"), "{shown}");
    for secret in [KEY, HVAL, "PXSECRET", basic.as_str()] {
        assert!(!shown.contains(secret), "{secret} was shown:\n{shown}");
        for (path, bytes) in &files {
            assert!(!holds(bytes, secret), "{secret} is in {}", path.display());
        }
    }
}

/// A short `-H` value of a header that carries no credential is not hidden in unrelated text:
/// the emulator's quota message still says "account".
#[test]
fn a_short_header_value_is_not_redacted_from_server_text() {
    let (_runtime, emulator) = emulator();
    let dir = Scratch::new("short-header");
    let base = emulator.base_url();
    let args = ["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY, "--retries", "0"];
    let mut args = args.to_vec();
    args.extend(["-H", "X-Trace: account", "-H", "x-emulator-fault: quota"]);
    let output = run(&dir.0, &args, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(text(&output).contains("Your account has exhausted its quota"), "{}", text(&output));
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An 8×8 PNG, with an uncompressed XMP `iTXt` chunk holding `xmp` when given.
fn png_with_xmp(xmp: Option<String>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 8, 8);
    encoder.set_color(png::ColorType::Rgba);
    if let Some(xmp) = xmp {
        encoder.add_itxt_chunk("XML:com.adobe.xmp".into(), xmp).unwrap();
    }
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[200; 8 * 8 * 4]).unwrap();
    writer.finish().unwrap();
    out
}

/// A server answering every generate with `body` (JSON).
fn answering(body: Value) -> String {
    let body = body.to_string();
    let addr = server(move |_path, _head| response("200 OK", "application/json", body.as_bytes()));
    format!("http://{addr}/v1")
}

/// An answer whose image carries 4 MiB of `&` in a packet that looks like ours: reading it back
/// was quadratic (over 90 s past `--timeout 5`, Ctrl-C ignored). Now the packet is past the limit
/// and not read: the run and `seedream inspect` end at once.
#[test]
fn an_image_with_megabytes_of_ampersands_in_its_xmp_is_saved_within_the_timeout() {
    let ns = "https://github.com/seedream-rs/ns/provenance/1.0/";
    let xmp = format!("<x:xmpmeta xmlns:seedream=\"{ns}\" seedream:model=\"{}\"/>", "&".repeat(4 << 20));
    let image = png_with_xmp(Some(xmp));
    let base = answering(serde_json::json!({"data": [{"b64_json": b64(&image), "size": "8x8"}]}));
    let dir = Scratch::new("ampersands");
    let started = Instant::now();
    let args = ["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY, "--timeout", "5"];
    let output = run(&dir.0, &args, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert_eq!(manifest(&dir.0)["runs"][0]["status"], "succeeded");
    let file = dir.0.join("hostile.png");
    std::fs::write(&file, &image).unwrap();
    let started = Instant::now();
    let output = run(&dir.0, &["inspect", "--json", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"none\""), "{}", text(&output));
    assert!(started.elapsed() < Duration::from_secs(20), "inspect took {:?}", started.elapsed());
}

/// A layered answer whose layer is a small JPEG claiming 65535×65535 (4 GiB of pixels) aborted the
/// process before the run was recorded. Now the layer is refused before decoding: the run is
/// recorded as partial, with why there is no `.ora`, and the saved files stay.
#[test]
fn a_pixel_bomb_layer_is_reported_and_the_run_recorded() {
    let mut bomb = seedream_emulator::synthetic_jpeg(64, 48, 7, false).unwrap();
    let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]); // height, width
    let base = answering(serde_json::json!({
        "data": [
            {"b64_json": b64(&png_with_xmp(None)), "size": "8x8", "z_index": 0},
            {"b64_json": b64(&bomb), "z_index": 1, "name": "Sky",
             "bounding_box": {"absolute": [0, 0, 8, 8], "normalized": [0, 0, 1000, 1000]}}
        ],
        "usage": {"generated_images": 2, "output_tokens": 8, "total_tokens": 8}
    }));
    let dir = Scratch::new("pixel-bomb");
    let args = ["generate", "--prompt", "p", "--out", ".", "--base-url", &base, "--api-key", KEY, "--json"];
    let output = run(&dir.0, &args, &[]);
    assert_eq!(output.status.code(), Some(5), "partly done\n{}", text(&output));
    let manifest = manifest(&dir.0);
    let run = &manifest["runs"][0];
    assert_eq!(run["status"], "partial", "{manifest:#}");
    assert_eq!(run["images"].as_array().unwrap().len(), 2, "{manifest:#}");
    let problem = run["openraster_error"].as_str().unwrap_or_default();
    assert!(problem.contains("layer 1 (\"Sky\") is 65535x65535"), "{manifest:#}");
    for image in run["images"].as_array().unwrap() {
        assert!(dir.0.join(image["file"].as_str().unwrap()).is_file(), "{image}");
    }
    assert!(run.get("openraster").is_none());
}
