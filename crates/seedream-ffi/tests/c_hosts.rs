//! The C and C++ host programs of `tests/c`, built and run the way a host would use the library:
//!
//! 1. `crates/seedream-ffi/pkg/install.sh` installs the header(s), `libseedream.a` (the one cargo
//!    just built for this test) and the pkg-config / CMake files into a scratch prefix;
//! 2. `make -C tests/c` builds every program with gcc/g++ (`-std=c11` / `-std=c++17`, `-Wall -Wextra
//!    -Wpedantic -Werror`) linking with exactly `pkg-config --libs seedream`: the documented native
//!    libraries are enough to link;
//! 3. each program runs under `valgrind --leak-check=full` against emulators started here (relay and
//!    Ark paths with an API key, a slow one, one over TLS with a self-signed certificate, plus a closed
//!    port, and a small hostile server: 1 500 links in one answer, an error echoing the key); memcheck
//!    errors and definitely-lost bytes fail it. `network` runs with at most 256 descriptors. `tests/c/valgrind.supp` suppresses
//!    only the known false positives of ring's AES-GCM assembly on the TLS path.
//!
//! Without valgrind the programs still run, with a message saying so (CI installs valgrind).
//! Also checked: the native libraries documented in the pkg-config file, the CMake package and the
//! README are the ones rustc names for a static library, and `find_package(seedream)` works (when
//! cmake is installed).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use seedream_emulator::{Emulator, EmulatorConfig};
use seedream_tests::{installed, run_bounded};

const API_KEY: &str = "test-key-ffi-hosts";
/// Longest any one program may take (under valgrind); every wait here is bounded.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(120);
const BUILD_TIMEOUT: Duration = Duration::from_secs(300);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("seedream-ffi-hosts")
}

/// The directory holding the `libseedream.a` cargo built along with this test. `cargo test` leaves it
/// in `target/<profile>/deps` (only `cargo build` copies it up to `target/<profile>`, where a stale one
/// from an earlier build may sit), so the test's own directory comes first.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/c_hosts-<hash>
    let deps = exe.parent().expect("deps directory").to_path_buf();
    let profile = deps.parent().expect("target profile directory").to_path_buf();
    let dir = [deps, profile].into_iter().find(|dir| dir.join("libseedream.a").is_file());
    dir.unwrap_or_else(|| {
        panic!("no libseedream.a next to {}: build it with `cargo build -p seedream-ffi`", exe.display())
    })
}

/// Runs a command to completion within `timeout` (killed after it), returning its exit success and
/// its status and output in words.
fn run(command: &mut Command, timeout: Duration, log: &Path) -> (bool, String) {
    let finished = run_bounded(command, timeout, log).unwrap_or_else(|e| panic!("{e}"));
    (finished.success(), finished.describe(timeout))
}

/// The scratch install prefix and the directory of the built programs.
struct Hosts {
    prefix: PathBuf,
    programs: PathBuf,
}

/// Installs the library and builds every host program, once per test run.
fn hosts() -> &'static Hosts {
    static HOSTS: OnceLock<Result<Hosts, String>> = OnceLock::new();
    let built = HOSTS.get_or_init(|| {
        for tool in ["gcc", "g++", "make", "pkg-config"] {
            if !installed(tool) {
                return Err(format!("{tool} is needed to build the C hosts (CI installs it; see .ci/run)"));
            }
        }
        let root = repo_root();
        let scratch = scratch();
        let prefix = scratch.join("prefix");
        let programs = scratch.join("bin");
        fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
        let (ok, output) = run(
            Command::new("sh").arg(root.join("crates/seedream-ffi/pkg/install.sh")).arg(&prefix).arg(library_dir()),
            BUILD_TIMEOUT,
            &scratch.join("install.log"),
        );
        if !ok {
            return Err(format!("install.sh failed: {output}"));
        }
        let (ok, output) = run(
            Command::new("make")
                .arg("-C")
                .arg(root.join("tests/c"))
                .arg("-j2")
                .arg(format!("OUT={}", programs.display()))
                .arg(format!("PKG_CONFIG_PATH={}", prefix.join("lib/pkgconfig").display())),
            BUILD_TIMEOUT,
            &scratch.join("make.log"),
        );
        if !ok {
            return Err(format!("building the C hosts failed: {output}"));
        }
        Ok(Hosts { prefix, programs })
    });
    match built {
        Ok(hosts) => hosts,
        Err(message) => panic!("{message}"),
    }
}

/// Where the programs find the service.
struct Emulators {
    /// The hostile server: `/many/v1` answers with 1 500 links to itself, `/echo/v1` with a 401 echoing the key.
    many_url: String,
    echo_url: String,
    base_url: String,
    ark_url: String,
    slow_url: String,
    tls_url: String,
    tls_certificate: String,
    closed_url: String,
}

/// Starts the emulators once, on a runtime in a thread of their own that lives as long as the
/// test process.
fn emulators() -> &'static Emulators {
    static EMULATORS: OnceLock<Emulators> = OnceLock::new();
    EMULATORS.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("emulator runtime");
            runtime.block_on(async move {
                let keys = vec![API_KEY.to_owned()];
                let normal = Emulator::start(EmulatorConfig { api_keys: keys.clone(), ..Default::default() })
                    .await
                    .expect("start the emulator");
                let tls = Emulator::start(EmulatorConfig { api_keys: keys.clone(), tls: true, ..Default::default() })
                    .await
                    .expect("start the TLS emulator");
                // Slow enough that stopping, cancelling and timing out happen mid-call.
                let slow = Emulator::start(EmulatorConfig {
                    api_keys: keys,
                    image_delay: Duration::from_millis(400),
                    ..Default::default()
                })
                .await
                .expect("start the slow emulator");
                let hostile = hostile_server().await;
                let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
                let closed_url = format!("http://{}/v1", closed.local_addr().expect("port"));
                drop(closed);
                let urls = Emulators {
                    many_url: format!("http://{hostile}/many/v1"),
                    echo_url: format!("http://{hostile}/echo/v1"),
                    base_url: normal.base_url(),
                    ark_url: normal.ark_base_url(),
                    slow_url: slow.base_url(),
                    tls_url: tls.base_url(),
                    tls_certificate: tls.certificate_pem().expect("a TLS emulator has a certificate").to_owned(),
                    closed_url,
                };
                sender.send(urls).expect("send the addresses");
                // Serve until the test process ends.
                std::future::pending::<()>().await;
                drop((normal, slow, tls));
            });
        });
        receiver.recv_timeout(Duration::from_secs(30)).expect("the emulators did not start")
    })
}

/// How many links the hostile server's answer holds.
const MANY_LINKS: usize = 1500;

/// A loopback HTTP/1.1 server (keep-alive) for what the emulator will not do: an answer with
/// [`MANY_LINKS`] image links (to itself, each a tiny JPEG) and a 401 whose message echoes the key
/// with terminal escapes.
async fn hostile_server() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the hostile server");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < end + 4 + length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..end + 4 + length);
                    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    let key = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("authorization: Bearer ").or(l.strip_prefix("Authorization: Bearer "))
                        })
                        .unwrap_or("")
                        .to_owned();
                    let (status, content_type, body): (&str, &str, Vec<u8>) = if path.starts_with("/many/") {
                        let links: Vec<_> = (0..MANY_LINKS)
                            .map(|i| serde_json::json!({"url": format!("http://{addr}/img/{i}.jpeg")}))
                            .collect();
                        ("200 OK", "application/json", serde_json::json!({"data": links}).to_string().into_bytes())
                    } else if path.starts_with("/img/") {
                        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
                        jpeg.resize(2048, 0);
                        ("200 OK", "image/jpeg", jpeg)
                    } else {
                        let message = format!("invalid key {key}\u{1b}]0;pwned\u{7}");
                        let body = serde_json::json!({"error": {"code": "AuthenticationError", "message": message}});
                        ("401 Unauthorized", "application/json", body.to_string().into_bytes())
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(&body).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A catalog file (written once): the built-in catalog whose Seedream 4.0 row takes one reference,
/// so a host can see that the file's rules are the ones requests are checked by.
fn catalog_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let mut file = seedream_types::catalog::Catalog::builtin().to_file();
        let row = file.families.iter_mut().find(|family| family.key == "seedream-4.0").expect("a 4.0 row");
        row.references.max = 1;
        let path = scratch().join("catalog.json");
        fs::create_dir_all(scratch()).expect("scratch");
        fs::write(&path, serde_json::to_vec(&file).expect("catalog JSON")).expect("catalog file");
        path
    })
}

/// Builds (once), then runs one host program under valgrind, failing with its output.
fn run_host(name: &str) {
    run_host_with(name, None);
}

/// [`run_host`], with the number of open descriptors limited (`prlimit --nofile`) when given.
fn run_host_with(name: &str, max_descriptors: Option<u32>) {
    let hosts = hosts();
    let emulators = emulators();
    let program = hosts.programs.join(name);
    let mut command = if installed("valgrind") {
        let mut valgrind = match max_descriptors {
            Some(limit) => {
                let mut prlimit = Command::new("prlimit");
                prlimit.arg(format!("--nofile={limit}")).arg("valgrind");
                prlimit
            }
            None => Command::new("valgrind"),
        };
        valgrind.args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
            "--num-callers=40",
        ]);
        // Only ring's assembly false positives, explained in the file.
        valgrind.arg(format!("--suppressions={}", repo_root().join("tests/c/valgrind.supp").display()));
        valgrind.arg(&program);
        valgrind
    } else {
        eprintln!("valgrind is not installed: running {name} WITHOUT the leak checker (CI installs it)");
        match max_descriptors {
            Some(limit) => {
                let mut prlimit = Command::new("prlimit");
                prlimit.arg(format!("--nofile={limit}")).arg(&program);
                prlimit
            }
            None => Command::new(&program),
        }
    };
    command
        .env("SEEDREAM_TEST_MANY_URL", &emulators.many_url)
        .env("SEEDREAM_TEST_ECHO_URL", &emulators.echo_url)
        .env("SEEDREAM_TEST_BASE_URL", &emulators.base_url)
        .env("SEEDREAM_TEST_ARK_URL", &emulators.ark_url)
        .env("SEEDREAM_TEST_SLOW_URL", &emulators.slow_url)
        .env("SEEDREAM_TEST_TLS_URL", &emulators.tls_url)
        .env("SEEDREAM_TEST_TLS_CERT", &emulators.tls_certificate)
        .env("SEEDREAM_TEST_CLOSED_URL", &emulators.closed_url)
        .env("SEEDREAM_TEST_CATALOG", catalog_file())
        .env("SEEDREAM_TEST_API_KEY", API_KEY);
    let started = Instant::now();
    let (ok, output) = run(&mut command, PROGRAM_TIMEOUT, &scratch().join(format!("{name}.log")));
    assert!(ok, "{name} failed:\n{output}");
    if output.contains("ERROR SUMMARY") {
        assert!(output.contains("ERROR SUMMARY: 0 errors"), "{name}: valgrind found errors:\n{output}");
        assert!(!output.contains("definitely lost: ") || output.contains("definitely lost: 0 bytes"), "{output}");
    }
    eprintln!("{name}: passed in {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn validate_version_null_arguments_and_builder_checks() {
    run_host("validate");
}

#[test]
fn generate_url_b64_groups_threads_and_tls() {
    run_host("generate");
}

#[test]
fn stream_with_callback_early_stop_and_errors() {
    run_host("stream");
}

#[test]
fn edit_from_memory_buffers() {
    run_host("edit");
}

#[test]
fn generate_and_edit_save_stream_into_a_folder_with_provenance() {
    run_host("save");
}

#[test]
fn cancel_from_another_thread() {
    run_host("cancel");
}

#[test]
fn errors_null_json_401_429_timeout_refused() {
    run_host("errors");
}

#[test]
fn provider_ids_5_5_the_model_listing_and_catalog_files() {
    run_host("catalog");
}

#[test]
fn png_output_layers_usage_and_the_validation_switch() {
    run_host("formats");
}

#[test]
fn network_1500_links_within_256_descriptors_redaction_and_proxies() {
    run_host_with("network", Some(256));
}

#[test]
fn log_callback_names_request_ids_never_the_key() {
    run_host("log");
}

#[test]
fn cpp_wrapper_raii_and_exceptions() {
    run_host("wrapper");
}

/// The `-l` flags of a `Libs:` line, after `-lseedream`.
fn native_flags(libs: &str) -> Vec<String> {
    libs.split_whitespace().filter(|f| f.starts_with("-l") && *f != "-lseedream").map(str::to_owned).collect()
}

#[test]
fn documented_native_libs_match_rustc_in_every_place() {
    let root = repo_root();
    let pc = fs::read_to_string(root.join("crates/seedream-ffi/pkg/seedream.pc.in")).expect("seedream.pc.in");
    let libs = pc.lines().find_map(|line| line.strip_prefix("Libs:")).expect("a Libs: line");
    let documented = native_flags(libs);
    assert!(!documented.is_empty());

    let cmake =
        fs::read_to_string(root.join("crates/seedream-ffi/pkg/seedreamConfig.cmake.in")).expect("cmake template");
    let cmake_libs: Vec<String> = cmake
        .lines()
        .find_map(|line| line.trim().strip_prefix("set(SEEDREAM_NATIVE_LIBS ")?.strip_suffix(')'))
        .expect("set(SEEDREAM_NATIVE_LIBS ...)")
        .split_whitespace()
        .map(|lib| format!("-l{lib}"))
        .collect();
    assert_eq!(cmake_libs, documented, "the CMake package and seedream.pc disagree");

    let readme = fs::read_to_string(root.join("include/README.md")).expect("include/README.md");
    let line = format!("-lseedream {}", documented.join(" "));
    assert!(readme.contains(&line), "include/README.md does not document `{line}`");

    // What rustc says a static library needs on this platform: std's native libraries (our
    // dependencies add none; if one did, linking the hosts with the documented flags would fail).
    let dir = scratch().join("native-libs");
    fs::create_dir_all(&dir).expect("scratch dir");
    fs::write(dir.join("lib.rs"), "pub fn probe() {}\n").expect("probe crate");
    let output = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--crate-type", "staticlib", "--crate-name", "probe", "--print", "native-static-libs", "-o"])
        .arg(dir.join("libprobe.a"))
        .arg(dir.join("lib.rs"))
        .output()
        .expect("run rustc");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let printed = stderr
        .lines()
        .find_map(|line| line.split("native-static-libs:").nth(1))
        .unwrap_or_else(|| panic!("rustc printed no native-static-libs:\n{stderr}"));
    assert_eq!(native_flags(printed), documented, "rustc needs other native libraries than documented");
}

#[test]
fn cmake_find_package_links_a_program() {
    if !installed("cmake") {
        eprintln!("cmake is not installed: skipping the find_package(seedream) check");
        return;
    }
    let hosts = hosts();
    let build = scratch().join("cmake-build");
    let root = repo_root();
    let (ok, output) = run(
        Command::new("cmake")
            .arg("-S")
            .arg(root.join("tests/c"))
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", hosts.prefix.display()))
            .env("CC", "gcc"),
        BUILD_TIMEOUT,
        &scratch().join("cmake-configure.log"),
    );
    assert!(ok, "cmake configure failed:\n{output}");
    let (ok, output) =
        run(Command::new("cmake").arg("--build").arg(&build), BUILD_TIMEOUT, &scratch().join("cmake-build.log"));
    assert!(ok, "cmake build failed:\n{output}");
    let (ok, output) =
        run(&mut Command::new(build.join("validate_cmake")), PROGRAM_TIMEOUT, &scratch().join("cmake-run.log"));
    assert!(ok, "the program built with CMake failed:\n{output}");
}
