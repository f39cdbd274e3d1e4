//! `cargo xtask faults`: the fault matrix. Every emulator fault (and `times=N` variants that fail a
//! few attempts, then answer) is sent `--concurrency` times at once through the Rust client and
//! through the C ABI, as a plain and as a streamed group of three images, under tight time limits.
//!
//! For each cell the table shows the outcome (ok — possibly with per-image failures — or the typed
//! error), the attempts the emulator saw per call, and the slowest call's time. A cell fails when any
//! call's outcome differs from the expected one, when a call exceeds the overall bound plus a margin
//! (a hang: enforced by a timeout, C calls are cancelled through their token), or panics. Every image
//! received is saved with the client's atomic save; afterwards no temporary or partial file may be
//! left, and each saved file must be a whole JPEG. At the end the emulator must see no open
//! connection once the clients are gone.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use seedream_client::{Client, Error, HyperTransport, RetryPolicy, TimeoutPhase, Timeouts, Transport};
use seedream_emulator::{EmulatorConfig, EmulatorHandle, FAULT_HEADER};
use seedream_types::{
    Dimensions, ErrorClass, GenerateRequest, ImageItem, ResponseFormat, SEEDREAM_4_0, Size, StreamGatherer,
};

use crate::cabi::{self, Bounded, CClient, CClientConfig, CError};
use crate::checks::check_jpeg_header;
use crate::table::Table;
use crate::{flag, only_flags};

const KEY: &str = "fault-matrix-key";
const CONNECT: Duration = Duration::from_secs(1);
const HEADERS: Duration = Duration::from_secs(1);
const IDLE: Duration = Duration::from_millis(500);
/// The overall deadline of every call: the bound each call is held to.
const OVERALL: Duration = Duration::from_secs(4);
/// A call still running at `OVERALL + MARGIN` is a hang.
const MARGIN: Duration = Duration::from_secs(1);
/// The size of the images: small, so the matrix is about faults, not encoding.
const DIMS: Dimensions = Dimensions::new(1280, 720);
const GROUP: usize = 3;
/// The per-image error of the `moderate` fault.
const MODERATED: &str = "OutputImageSensitiveContentDetected";

/// Command-line options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Calls at once per cell.
    pub concurrency: usize,
}

impl Options {
    /// Parses `[--concurrency N]`.
    pub fn parse(args: &[&str]) -> Result<Self, String> {
        only_flags(args, &["--concurrency"])?;
        let concurrency = flag(args, "--concurrency", 8usize)?;
        if !(1..=256).contains(&concurrency) {
            return Err("--concurrency must be from 1 to 256".into());
        }
        Ok(Self { concurrency })
    }
}

/// Failure kinds both paths map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    RateLimited,
    Quota,
    ServerError,
    Transport,
    Timeout(TimeoutPhase),
    Decode,
    /// A moderation refusal (`*SensitiveContentDetected`, `InputTextRiskDetection`).
    Moderation,
    Other,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::RateLimited => "RateLimited",
            Kind::Quota => "QuotaExhausted",
            Kind::ServerError => "ServerError",
            Kind::Transport => "Transport",
            Kind::Timeout(TimeoutPhase::Connect) => "Timeout(connect)",
            Kind::Timeout(TimeoutPhase::Headers) => "Timeout(headers)",
            Kind::Timeout(TimeoutPhase::Idle) => "Timeout(idle)",
            Kind::Timeout(TimeoutPhase::Overall) => "Timeout(overall)",
            Kind::Decode => "Decode",
            Kind::Moderation => "Moderation",
            Kind::Other => "other",
        }
    }

    fn of_rust(error: &Error) -> (Kind, String) {
        let kind = match error {
            Error::Api(api) => match api.class {
                ErrorClass::RateLimited => Kind::RateLimited,
                ErrorClass::QuotaExhausted => Kind::Quota,
                ErrorClass::ServerError => Kind::ServerError,
                ErrorClass::SensitiveContent => Kind::Moderation,
                _ => Kind::Other,
            },
            Error::Timeout { phase, .. } => Kind::Timeout(*phase),
            Error::Transport(_) => Kind::Transport,
            Error::Decode { .. } => Kind::Decode,
            _ => Kind::Other,
        };
        let status = error.api().map_or(String::new(), |api| format!(" {}", api.status));
        (kind, format!("{}{status}", kind.name()))
    }

    fn of_c(error: &CError) -> (Kind, String) {
        use seedream::seedream_result as R;
        let kind = match error.code {
            R::RateLimited => Kind::RateLimited,
            R::QuotaExhausted => Kind::Quota,
            R::ServerError => Kind::ServerError,
            R::Transport => Kind::Transport,
            R::Decode => Kind::Decode,
            R::ContentRejected => Kind::Moderation,
            // The result code says "timeout"; the message names the phase, as the Rust error does.
            R::Timeout => Kind::Timeout(match error.message.as_str() {
                m if m.contains("response headers") => TimeoutPhase::Headers,
                m if m.contains("more of the response body") => TimeoutPhase::Idle,
                m if m.contains("connection") => TimeoutPhase::Connect,
                _ => TimeoutPhase::Overall,
            }),
            _ => Kind::Other,
        };
        let status = if error.http_status == 0 { String::new() } else { format!(" {}", error.http_status) };
        (kind, format!("{}{status}", kind.name()))
    }
}

/// How one call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Images received (and saved), and images that failed inside the group.
    Ok { images: usize, failed: usize },
    /// A typed error (`text` adds the HTTP status), after `images` streamed images.
    Err { kind: Kind, text: String, images: usize },
    /// Still running at the bound plus the margin.
    Hang,
    /// A panic (Rust task, or `SEEDREAM_RESULT_PANIC`).
    Panic(String),
    /// Something else that should not happen: a bad image, a client that cannot be built, ...
    Wrong(String),
}

/// What a cell must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    /// `Ok((images, failed))` or the error kind.
    result: Result<(usize, usize), Kind>,
    /// Requests the emulator sees per call.
    attempts: u64,
}

impl Expect {
    const fn ok(attempts: u64) -> Self {
        Self { result: Ok((GROUP, 0)), attempts }
    }

    const fn err(kind: Kind, attempts: u64) -> Self {
        Self { result: Err(kind), attempts }
    }

    fn matches(&self, outcome: &Outcome) -> bool {
        match (self.result, outcome) {
            (Ok((images, failed)), Outcome::Ok { images: i, failed: f }) => (images, failed) == (*i, *f),
            (Err(kind), Outcome::Err { kind: k, .. }) => kind == *k,
            _ => false,
        }
    }

    fn describe(&self) -> String {
        let tries = match self.attempts {
            1 => "1 attempt".to_owned(),
            n => format!("{n} attempts"),
        };
        match self.result {
            Ok((images, 0)) => format!("ok, {images} images, {tries}"),
            Ok((images, failed)) => format!("ok, {images} images + {failed} failed, {tries}"),
            Err(kind) => format!("{}, {tries}", kind.name()),
        }
    }
}

/// One row: a fault spec and what it must do to a plain and to a streamed call.
#[derive(Debug, Clone, Copy)]
struct Case {
    spec: &'static str,
    plain: Expect,
    stream: Expect,
    /// The slowest call takes at least this long (Retry-After honoured).
    at_least: Duration,
}

const fn case(spec: &'static str, plain: Expect, stream: Expect) -> Case {
    Case { spec, plain, stream, at_least: Duration::ZERO }
}

/// The matrix. Retryable failures (rate limits, 500, 502) are retried up to 3 attempts; quota,
/// timeouts after sending, resets and bad bodies are not (the service may have acted on them).
fn cases() -> Vec<Case> {
    use Kind::*;
    let both = |spec, expect| case(spec, expect, expect);
    vec![
        Case { at_least: Duration::from_secs(2), ..both("rate-limit", Expect::err(RateLimited, 3)) },
        both("quota", Expect::err(Quota, 1)),
        both("server-error", Expect::err(ServerError, 3)),
        both("bad-gateway", Expect::err(ServerError, 3)),
        both("reset", Expect::err(Transport, 1)),
        both("slow-headers", Expect::err(Timeout(TimeoutPhase::Headers), 1)),
        both("slow-headers;ms=100", Expect::ok(1)),
        both("stall;ms=3000", Expect::err(Timeout(TimeoutPhase::Idle), 1)),
        case("stream-cut", Expect::ok(1), Expect::err(Transport, 1)),
        case("stream-error", Expect::ok(1), Expect::err(ServerError, 1)),
        both("invalid-json", Expect::err(Decode, 1)),
        both("moderate;images=1", Expect { result: Ok((GROUP - 1, 1)), attempts: 1 }),
        // Moderation refusals of the request: typed, never retried.
        both("moderate-prompt", Expect::err(Moderation, 1)),
        both("prompt-risk", Expect::err(Moderation, 1)),
        both("moderate-input;reason=PrivacyInformation", Expect::err(Moderation, 1)),
        both("rate-limit;times=2;retry_after=0", Expect::ok(3)),
        both("server-error;times=2", Expect::ok(3)),
        both("bad-gateway;times=1", Expect::ok(2)),
        both("quota;times=1", Expect::err(Quota, 1)),
        both("reset;times=1", Expect::err(Transport, 1)),
        both("invalid-json;times=1", Expect::err(Decode, 1)),
    ]
}

/// Which client and call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    RustPlain,
    RustStream,
    CPlain,
    CStream,
}

impl Column {
    const ALL: [Column; 4] = [Column::RustPlain, Column::RustStream, Column::CPlain, Column::CStream];

    fn title(self) -> &'static str {
        match self {
            Column::RustPlain => "Rust generate",
            Column::RustStream => "Rust stream",
            Column::CPlain => "C generate",
            Column::CStream => "C generate_stream",
        }
    }

    fn stream(self) -> bool {
        matches!(self, Column::RustStream | Column::CStream)
    }
}

fn request(stream: bool) -> GenerateRequest {
    GenerateRequest::new(SEEDREAM_4_0, "a lighthouse in a storm, fault matrix")
        .with_size(Size::Pixels(DIMS))
        .with_max_images(GROUP as i64)
        .with_response_format(ResponseFormat::B64Json)
        .with_stream(stream)
}

fn retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_base_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_millis(200))
        .with_max_retry_after(Duration::from_secs(2))
}

/// Saves one received image atomically after checking it.
fn save(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    check_jpeg_header(bytes, DIMS)?;
    seedream_client::save_atomically(dir, name, bytes).map(|_| ()).map_err(|e| e.to_string())
}

/// One call through the Rust client.
async fn rust_call(client: Client, stream: bool, dir: PathBuf, name: String) -> Outcome {
    let request = request(stream);
    let mut images = 0;
    let mut failed = 0;
    let error = if stream {
        match client.generate(&request).stream().await {
            Err(error) => Some(error),
            Ok(mut events) => {
                let mut error = None;
                let mut gatherer = StreamGatherer::new();
                // Bounded: three images and `completed`; anything more ends the loop.
                for _ in 0..=GROUP + 1 {
                    let event = match events.next().await {
                        None => break,
                        Some(Ok(event)) => event,
                        Some(Err(e)) => {
                            error = Some(e);
                            break;
                        }
                    };
                    match gatherer.note(event) {
                        Some((index, ImageItem::Image(image))) => match client.into_image_bytes(image).await {
                            Ok(bytes) => {
                                if let Err(message) = save(&dir, &format!("{name}-{index}.jpeg"), &bytes) {
                                    return Outcome::Wrong(format!("bad image: {message}"));
                                }
                                images += 1;
                            }
                            Err(e) => return Outcome::Wrong(format!("image bytes: {e}")),
                        },
                        Some((_, ImageItem::Failed(item))) if item.error.code == MODERATED => failed += 1,
                        Some((_, ImageItem::Failed(item))) => {
                            return Outcome::Wrong(format!("image failed with {}", item.error.code));
                        }
                        None => {}
                    }
                }
                error
            }
        }
    } else {
        match client.generate(&request).await {
            Err(error) => Some(error),
            Ok(response) => {
                failed = response.errors().filter(|(_, error)| error.code == MODERATED).count();
                if failed != response.errors().count() {
                    return Outcome::Wrong(format!("images failed other than by moderation: {:?}", response.data));
                }
                for (index, item) in response.into_inner().data.into_iter().enumerate() {
                    let Some(image) = item.image().cloned() else { continue };
                    match client.into_image_bytes(image).await {
                        Ok(bytes) => {
                            if let Err(message) = save(&dir, &format!("{name}-{index}.jpeg"), &bytes) {
                                return Outcome::Wrong(format!("bad image: {message}"));
                            }
                            images += 1;
                        }
                        Err(e) => return Outcome::Wrong(format!("image bytes: {e}")),
                    }
                }
                None
            }
        }
    };
    match error {
        None => Outcome::Ok { images, failed },
        Some(error) => {
            let (kind, text) = Kind::of_rust(&error);
            Outcome::Err { kind, text, images }
        }
    }
}

/// One call through the C ABI, on the calling thread (never a runtime's).
fn c_call(client: &CClient, stream: bool, cancel: &cabi::CCancel, dir: &Path, name: &str) -> Outcome {
    use seedream::seedream_event_type as Event;
    let json = serde_json::to_string(&request(stream)).unwrap_or_default();
    let mut images = 0;
    let mut failed = 0;
    let mut bad = None;
    let result = if stream {
        client.generate_stream(&json, Some(cancel), &mut |event| {
            match event.kind {
                Event::PartialSucceeded => match &event.bytes {
                    Ok(bytes) => match save(dir, &format!("{name}-{}.jpeg", event.image_index), bytes) {
                        Ok(()) => images += 1,
                        Err(message) => bad = Some(format!("bad image: {message}")),
                    },
                    Err(code) => bad = Some(format!("event bytes: {}", cabi::result_name(*code))),
                },
                Event::PartialFailed if event.error_code == MODERATED => failed += 1,
                Event::PartialFailed => bad = Some(format!("image failed with {:?}", event.error_code)),
                _ => {}
            }
            bad.is_none()
        })
    } else {
        client.generate(&json, Some(cancel)).map(|response| {
            for (index, image) in response.images.iter().enumerate() {
                match (&image.bytes, image.succeeded) {
                    (Ok(bytes), true) => match save(dir, &format!("{name}-{index}.jpeg"), bytes) {
                        Ok(()) => images += 1,
                        Err(message) => bad = Some(format!("bad image: {message}")),
                    },
                    (_, false) if image.error_code == MODERATED => failed += 1,
                    (_, false) => bad = Some(format!("image {index} failed with {:?}", image.error_code)),
                    (Err(code), true) => bad = Some(format!("image bytes: {}", cabi::result_name(*code))),
                }
            }
        })
    };
    if let Some(message) = bad {
        return Outcome::Wrong(message);
    }
    match result {
        Ok(()) => Outcome::Ok { images, failed },
        Err(error) if error.code == seedream::seedream_result::Panic => Outcome::Panic(error.to_string()),
        Err(error) => {
            let (kind, text) = Kind::of_c(&error);
            Outcome::Err { kind, text, images }
        }
    }
}

/// The result of one cell: every call's outcome and time, and the requests the emulator saw.
#[derive(Debug)]
struct CellRun {
    outcomes: Vec<(Outcome, Duration)>,
    requests: u64,
}

/// What every cell of one matrix shares.
struct Rig {
    runtime: tokio::runtime::Runtime,
    emulator: EmulatorHandle,
    /// One connection pool for every Rust client.
    transport: Arc<dyn Transport>,
    concurrency: usize,
    /// Where received images are saved.
    dir: PathBuf,
}

/// Runs one cell: `concurrency` calls at once.
fn run_cell(rig: &Rig, row: usize, case: &Case, column: Column) -> CellRun {
    let Rig { runtime, emulator, transport, concurrency, dir } = rig;
    let concurrency = *concurrency;
    let before = emulator.stats().requests;
    let base = emulator.base_url();
    // A fresh id per call and cell, so `times=N` counts each call's own attempts.
    let spec = |i: usize| format!("{};id=r{row}-{column:?}-{i}", case.spec);
    let name = |i: usize| format!("r{row}-{column:?}-{i}");
    let outcomes = match column {
        Column::RustPlain | Column::RustStream => runtime.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..concurrency {
                let client = Client::builder()
                    .api_key(KEY)
                    .base_url(&base)
                    .transport(transport.clone())
                    .timeouts(
                        Timeouts::default()
                            .with_connect(CONNECT)
                            .with_headers(HEADERS)
                            .with_idle(IDLE)
                            .with_overall(OVERALL),
                    )
                    .retry(retry())
                    .header(FAULT_HEADER, spec(i))
                    .build();
                let (dir, name) = (dir.to_path_buf(), name(i));
                tasks.push(tokio::spawn(async move {
                    let started = Instant::now();
                    let outcome = match client {
                        Err(e) => Outcome::Wrong(format!("client: {e}")),
                        Ok(client) => {
                            tokio::time::timeout(OVERALL + MARGIN, rust_call(client, column.stream(), dir, name))
                                .await
                                .unwrap_or(Outcome::Hang)
                        }
                    };
                    (outcome, started.elapsed())
                }));
            }
            let mut outcomes = Vec::new();
            for task in tasks {
                outcomes.push(match task.await {
                    Ok(done) => done,
                    Err(error) => (Outcome::Panic(error.to_string()), Duration::ZERO),
                });
            }
            outcomes
        }),
        Column::CPlain | Column::CStream => {
            let calls: Vec<_> = (0..concurrency)
                .map(|i| {
                    let config = CClientConfig {
                        base_url: base.clone(),
                        api_key: KEY.into(),
                        headers: vec![(FAULT_HEADER.into(), spec(i))],
                        timeouts: Some([CONNECT, HEADERS, IDLE, OVERALL]),
                        max_attempts: Some(retry().max_attempts),
                        worker_threads: Some(1),
                        ..Default::default()
                    };
                    let (dir, name) = (dir.to_path_buf(), name(i));
                    let started = Instant::now();
                    let call = cabi::spawn_bounded(move |cancel| match CClient::build(&config) {
                        Err(e) => Outcome::Wrong(format!("client: {e}")),
                        Ok(client) => c_call(&client, column.stream(), cancel, &dir, &name),
                    });
                    (call, started)
                })
                .collect();
            calls
                .into_iter()
                .map(|(call, started)| {
                    let outcome = match call.wait(OVERALL + MARGIN, Duration::from_secs(2)) {
                        Bounded::Done(outcome) => outcome,
                        Bounded::Overran(_) | Bounded::Hung => Outcome::Hang,
                        Bounded::Panicked(message) => Outcome::Panic(message),
                    };
                    (outcome, started.elapsed())
                })
                .collect()
        }
    };
    CellRun { outcomes, requests: emulator.stats().requests - before }
}

/// Counts over the whole matrix.
#[derive(Debug, Default)]
struct Totals {
    calls: usize,
    unexpected_cells: usize,
    hangs: usize,
    panics: usize,
}

/// Renders a cell and says whether it is as expected.
fn judge(run: &CellRun, expect: &Expect, case: &Case, concurrency: usize, totals: &mut Totals) -> (String, bool) {
    let slowest = run.outcomes.iter().map(|(_, took)| *took).max().unwrap_or_default();
    let hangs = run.outcomes.iter().filter(|(o, _)| *o == Outcome::Hang).count();
    let panics = run.outcomes.iter().filter(|(o, _)| matches!(o, Outcome::Panic(_))).count();
    totals.calls += run.outcomes.len();
    totals.hangs += hangs;
    totals.panics += panics;
    let attempts_ok = run.requests == expect.attempts * concurrency as u64;
    let all_match = run.outcomes.iter().all(|(o, _)| expect.matches(o));
    let slow_enough = slowest >= case.at_least;
    let ok = all_match && attempts_ok && slow_enough && slowest <= OVERALL + MARGIN;
    // The distinct outcomes, most frequent first.
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for (outcome, _) in &run.outcomes {
        let text = match outcome {
            Outcome::Ok { images, failed: 0 } => format!("ok {images} img"),
            Outcome::Ok { images, failed } => format!("ok {images} img + {failed} failed"),
            Outcome::Err { text, images: 0, .. } => text.clone(),
            Outcome::Err { text, images, .. } => format!("{text} after {images} img"),
            Outcome::Hang => "HANG".into(),
            Outcome::Panic(message) => format!("PANIC {message}"),
            Outcome::Wrong(message) => format!("WRONG {message}"),
        };
        match kinds.iter_mut().find(|(k, _)| *k == text) {
            Some((_, count)) => *count += 1,
            None => kinds.push((text, 1)),
        }
    }
    kinds.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let outcomes: Vec<String> = kinds.iter().map(|(text, count)| format!("{text} ×{count}")).collect();
    let per_call = run.requests as f64 / concurrency as f64;
    let cell = format!(
        "{} {} · {per_call:.0} att · {:.2} s",
        if ok { "✓" } else { "✗" },
        outcomes.join(", "),
        slowest.as_secs_f64()
    );
    if !ok {
        totals.unexpected_cells += 1;
    }
    (cell, ok)
}

/// Files left in the save directory: (saved JPEGs, temporary or partial files, bad JPEGs).
fn inspect(dir: &Path) -> (usize, Vec<String>, Vec<String>) {
    let mut saved = 0;
    let mut partial = Vec::new();
    let mut bad = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".tmp") || !name.ends_with(".jpeg") {
            partial.push(name);
            continue;
        }
        match fs::read(entry.path()) {
            Ok(bytes) if check_jpeg_header(&bytes, DIMS).is_ok() => saved += 1,
            _ => bad.push(name),
        }
    }
    (saved, partial, bad)
}

/// What a matrix run found.
#[derive(Debug)]
struct Matrix {
    table: Table,
    /// The summary line.
    summary: String,
    /// Everything not as expected.
    failures: Vec<String>,
}

/// Runs `cases` over every column, `concurrency` calls at once per cell; `progress` prints each cell
/// as it completes.
fn run_matrix(cases: &[Case], concurrency: usize, progress: bool) -> Result<Matrix, String> {
    let started = Instant::now();
    let runtime = crate::harness::runtime()?;
    let emulator =
        crate::harness::start_emulator(&runtime, EmulatorConfig { api_keys: vec![KEY.into()], ..Default::default() })?;
    let dir = std::env::temp_dir().join(format!("seedream-faults-{}-{:x}", std::process::id(), unique_suffix()));
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let transport: Arc<dyn Transport> = {
        let _context = runtime.enter();
        Arc::new(HyperTransport::builder().connect_timeout(CONNECT).build().map_err(|e| e.to_string())?)
    };
    let rig = Rig { runtime, emulator, transport, concurrency, dir };

    let mut table =
        Table::new(["fault", "expected (generate / stream)"].into_iter().chain(Column::ALL.map(Column::title)));
    let mut totals = Totals::default();
    let mut received = 0usize;
    let mut failures = Vec::new();
    for (row, case) in cases.iter().enumerate() {
        let expected = if case.plain == case.stream {
            case.plain.describe()
        } else {
            format!("{} / {}", case.plain.describe(), case.stream.describe())
        };
        let mut cells = vec![format!("`{}`", case.spec), expected];
        for column in Column::ALL {
            let run = run_cell(&rig, row, case, column);
            let expect = if column.stream() { &case.stream } else { &case.plain };
            received += run
                .outcomes
                .iter()
                .map(|(o, _)| match o {
                    Outcome::Ok { images, .. } | Outcome::Err { images, .. } => *images,
                    _ => 0,
                })
                .sum::<usize>();
            let (cell, ok) = judge(&run, expect, case, concurrency, &mut totals);
            if !ok {
                failures.push(format!("{} × {}: {cell}; expected {}", case.spec, column.title(), expect.describe()));
            }
            if progress {
                eprintln!("{:<36} {:<18} {cell}", case.spec, column.title());
            }
            cells.push(cell);
        }
        table.row(cells);
    }

    // Every client is gone: the emulator must see its connections closed.
    let Rig { runtime, emulator, transport, dir, .. } = rig;
    drop(transport);
    let open = runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let open = emulator.stats().open_connections;
            if open == 0 || Instant::now() > deadline {
                break open;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let (saved, partial, bad) = inspect(&dir);
    let _ = fs::remove_dir_all(&dir);
    let _ = runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), emulator.shutdown()).await });

    let summary = format!(
        "calls: {} · cells not as expected: {} · hangs: {} · panics: {} · images saved: {saved} of {received} \
         · temporary/partial files left: {} · bad files: {} · open connections after: {open} · took {:.1} s",
        totals.calls,
        totals.unexpected_cells,
        totals.hangs,
        totals.panics,
        partial.len(),
        bad.len(),
        started.elapsed().as_secs_f64()
    );
    if saved != received {
        failures.push(format!("{saved} images on disk, {received} received"));
    }
    if !partial.is_empty() || !bad.is_empty() {
        failures.push(format!("half-written files: {partial:?}, bad files: {bad:?}"));
    }
    if open != 0 {
        failures.push(format!("{open} connections still open after every client was dropped"));
    }
    Ok(Matrix { table, summary, failures })
}

/// A per-run suffix for the scratch directory (tests run several matrices at once).
fn unique_suffix() -> u64 {
    use std::hash::{BuildHasher as _, RandomState};
    RandomState::new().hash_one(Instant::now())
}

/// Runs the matrix and prints it.
pub fn run(options: Options) -> Result<(), String> {
    let matrix = run_matrix(&cases(), options.concurrency, true)?;
    println!(
        "limits: connect {CONNECT:?}, headers {HEADERS:?}, idle {IDLE:?}, overall {OVERALL:?} (the bound); \
         a call still running at {:?} is a hang; {} calls at once per cell; `att` = requests the emulator saw per call\n",
        OVERALL + MARGIN,
        options.concurrency
    );
    println!("{}", matrix.table.markdown());
    println!("{}", matrix.summary);
    if matrix.failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} fault-matrix failure(s):\n  {}", matrix.failures.len(), matrix.failures.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_faults_meet_their_expectations_on_every_path() {
        let picked: Vec<Case> = cases()
            .into_iter()
            .filter(|c| ["quota", "bad-gateway;times=1", "moderate;images=1", "stream-cut", "reset"].contains(&c.spec))
            .collect();
        assert_eq!(picked.len(), 5);
        let matrix = run_matrix(&picked, 2, false).unwrap();
        assert!(matrix.failures.is_empty(), "{:?}\n{}", matrix.failures, matrix.table.markdown());
        assert!(
            matrix.summary.starts_with("calls: 40 · cells not as expected: 0 · hangs: 0 · panics: 0"),
            "{}",
            matrix.summary
        );
    }

    #[test]
    fn a_wrong_expectation_fails_its_cell() {
        // `quota` is not retried: expecting a retried success must fail, with the outcome shown.
        let wrong = case("quota", Expect::ok(3), Expect::err(Kind::RateLimited, 1));
        let matrix = run_matrix(&[wrong], 1, false).unwrap();
        assert_eq!(matrix.failures.len(), 4, "{:?}", matrix.failures);
        assert!(matrix.failures[0].contains("✗ QuotaExhausted 429 ×1 · 1 att"), "{:?}", matrix.failures);
    }
}
