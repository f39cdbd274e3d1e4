//! `cargo xtask conformance`: every system of the seed pages, end to end, as a table.
//!
//! Each request fixture (`tests/fixtures/requests/*.json`, the pages' requests verbatim) and the
//! edit form of seed 000 (`tests/fixtures/edits/seed000-form.json`) is validated, sent through the
//! Rust client and through the C ABI to an in-process emulator — at the relay base `/v1` and the Ark
//! base `/api/v3` as the page has it, and at `/v1` with `response_format: b64_json` — and the answer
//! is checked against the documented shape (see [`checks`](crate::checks)): image count, sizes,
//! usage fields, and every image fetched (link downloaded, base64 decoded) and decoded as a JPEG of
//! the stated size. Two more rows: the generated header and schemas are current, and the C examples
//! build. Any failure makes the command fail; `--write-readme` puts the table into README.md.
//!
//! This module runs the rows and makes the table; [`systems`] lists the rows, [`rust`] and [`c`]
//! fill the cells of each path, [`readme`] writes the table into README.md.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use seedream_emulator::EmulatorConfig;
use seedream_types::{EditRequest, GenerateRequest, ImagesResponse, ResponseFormat};

use crate::checks::UsageShape;
use crate::table::Table;
use crate::{c_build, codegen, project_root};

mod c;
mod readme;
mod rust;
mod systems;

use c::c_cell;
use readme::write_into_readme;
use rust::rust_cell;
use systems::systems;

/// The API key the emulator is started with.
const KEY: &str = "conformance-key";
/// Longest one cell may take (a 2K group, fully decoded by a debug build, takes a few seconds).
const CELL_BOUND: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Also the C ABI paths (and, in [`run`], the rows for generated files and C examples).
    pub c_paths: bool,
    /// Decode every image fully with an independent decoder (false: header and markers only).
    pub full_decode: bool,
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    RustRelay,
    RustArk,
    RustB64,
    CRelay,
    CArk,
    CB64,
}

impl Route {
    const ALL: [Route; 6] = [Route::RustRelay, Route::RustArk, Route::RustB64, Route::CRelay, Route::CArk, Route::CB64];

    fn title(self) -> &'static str {
        match self {
            Route::RustRelay => "Rust /v1",
            Route::RustArk => "Rust /api/v3",
            Route::RustB64 => "Rust b64_json",
            Route::CRelay => "C /v1",
            Route::CArk => "C /api/v3",
            Route::CB64 => "C b64_json",
        }
    }

    fn is_c(self) -> bool {
        matches!(self, Route::CRelay | Route::CArk | Route::CB64)
    }

    fn ark(self) -> bool {
        matches!(self, Route::RustArk | Route::CArk)
    }

    fn b64(self) -> bool {
        matches!(self, Route::RustB64 | Route::CB64)
    }
}

/// What a system sends, and how.
#[derive(Debug, Clone)]
enum Job {
    /// `generate` (a `stream: true` request is gathered into one response).
    Generate(GenerateRequest),
    /// `generate_stream`, checked event by event.
    Stream(GenerateRequest),
    /// A multipart edit exactly as the page gives it: must be refused naming `size`, by validation
    /// and (sent unvalidated) by the service.
    EditRefused(EditRequest),
    /// A multipart edit (Ark: generations with a data URL).
    Edit(EditRequest),
    /// A request the family refuses: validation names `field` alone, and, sent unvalidated, the
    /// service answers 400 `InvalidParameter` with `param` `field`.
    Refused(GenerateRequest, &'static str),
}

/// One row of the table.
#[derive(Debug, Clone)]
struct System {
    label: String,
    job: Result<Job, String>,
}

/// The result of one cell.
type Cell = Result<(), String>;

/// Where the emulator listens.
#[derive(Debug, Clone)]
struct Bases {
    relay: String,
    ark: String,
}

impl Bases {
    fn of(&self, route: Route) -> &str {
        if route.ark() { &self.ark } else { &self.relay }
    }
}
/// The request as a route sends it: `b64_json` for the b64 paths, else verbatim.
fn as_sent(request: &GenerateRequest, route: Route) -> GenerateRequest {
    if route.b64() { request.clone().with_response_format(ResponseFormat::B64Json) } else { request.clone() }
}

fn edit_as_sent(edit: &EditRequest, route: Route) -> EditRequest {
    let mut edit = edit.clone();
    if route.b64() {
        edit.response_format = Some(ResponseFormat::B64Json);
    }
    edit
}

/// `usage`'s shape: streams end with Ark's `completed` usage; otherwise the base decides.
fn shape(route: Route, streamed: bool) -> UsageShape {
    if streamed || route.ark() { UsageShape::Ark } else { UsageShape::Relay }
}

/// Each image is a link (url) or base64 (b64), as asked.
fn check_format(response: &ImagesResponse, b64: bool) -> Cell {
    for image in response.images() {
        if b64 != image.b64_json.is_some() || b64 == image.url.is_some() {
            return Err(format!("asked for {}, got {image:?}", if b64 { "b64_json" } else { "url" }));
        }
    }
    Ok(())
}
/// One row's outcome per route.
#[derive(Debug)]
struct Row {
    label: String,
    cells: Vec<(Route, Cell, Duration)>,
}

/// Runs every system over the chosen paths; returns the rows.
fn run_systems(options: Options) -> Result<Vec<Row>, String> {
    let runtime = crate::harness::runtime()?;
    let emulator =
        crate::harness::start_emulator(&runtime, EmulatorConfig { api_keys: vec![KEY.into()], ..Default::default() })?;
    let bases = Bases { relay: emulator.base_url(), ark: emulator.ark_base_url() };
    let routes: Vec<Route> = Route::ALL.into_iter().filter(|p| options.c_paths || !p.is_c()).collect();
    let mut rows = Vec::new();
    for system in systems(&project_root()) {
        let mut cells = Vec::new();
        for &route in &routes {
            let started = Instant::now();
            let cell = match &system.job {
                Err(message) => Err(message.clone()),
                Ok(job) if route.is_c() => c_cell(job, route, &bases, options.full_decode),
                Ok(job) => runtime.block_on(async {
                    tokio::time::timeout(CELL_BOUND, rust_cell(job, route, &bases, options.full_decode))
                        .await
                        .unwrap_or_else(|_| Err(format!("took longer than {CELL_BOUND:?}")))
                }),
            };
            cells.push((route, cell, started.elapsed()));
        }
        rows.push(Row { label: system.label, cells });
    }
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), emulator.shutdown()).await })
        .map_err(|_| "the emulator did not shut down within 10 s".to_owned())?;
    Ok(rows)
}

fn mark(cell: &Cell) -> &'static str {
    match cell {
        Ok(()) => "pass",
        Err(_) => "FAIL",
    }
}

/// Runs the conformance suite, prints the table (and failures), optionally writes it into README.md.
pub fn run(options: Options, write_readme: bool) -> Result<(), String> {
    let started = Instant::now();
    let rows = run_systems(options)?;
    let routes: Vec<Route> = Route::ALL.into_iter().filter(|p| options.c_paths || !p.is_c()).collect();
    let mut table = Table::new(std::iter::once("system").chain(routes.iter().map(|p| p.title())));
    let mut failures = Vec::new();
    for row in &rows {
        table.row(std::iter::once(row.label.clone()).chain(row.cells.iter().map(|(_, cell, _)| mark(cell).to_owned())));
        for (route, cell, _) in &row.cells {
            if let Err(message) = cell {
                failures.push(format!("{} × {}: {message}", row.label, route.title()));
            }
        }
    }
    let mut timing = String::new();
    for row in &rows {
        let times: Vec<String> =
            row.cells.iter().map(|(route, _, took)| format!("{} {:.2}s", route.title(), took.as_secs_f64())).collect();
        let _ = writeln!(timing, "  {}: {}", row.label, times.join(", "));
    }
    if options.c_paths {
        let generated = codegen::run(codegen::Mode::Check);
        let cells = routes.iter().map(|_| mark(&generated).to_owned());
        table
            .row(std::iter::once("header and schemas current (`cargo xtask codegen --check`)".to_owned()).chain(cells));
        if let Err(message) = generated {
            failures.push(format!("generated files: {message}"));
        }
        let built = c_build::run();
        let c_mark = match &built {
            Ok(c_build::Built::Linked) => "pass",
            Ok(c_build::Built::Skipped(_)) => "skipped",
            Err(_) => "FAIL",
        };
        let cells = routes.iter().map(|p| if p.is_c() { c_mark } else { "—" });
        table.row(
            std::iter::once("C examples build (include/README.md, tests/c/validate.c; gcc -Werror)".to_owned())
                .chain(cells.map(str::to_owned)),
        );
        match built {
            Ok(c_build::Built::Skipped(note)) => eprintln!("note: C examples not built: {note}"),
            Err(message) => failures.push(format!("C examples: {message}")),
            Ok(c_build::Built::Linked) => {}
        }
    }
    let markdown = table.markdown();
    println!("{markdown}");
    eprintln!("time per cell:\n{timing}");
    eprintln!("conformance took {:.1} s", started.elapsed().as_secs_f64());
    if write_readme {
        write_into_readme(&project_root().join("README.md"), &markdown)?;
        eprintln!("wrote the table into README.md");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} conformance failure(s):\n  {}", failures.len(), failures.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::systems::KNOWN;
    use super::*;

    #[test]
    fn every_seed_system_conforms_through_the_rust_client_and_the_c_abi() {
        // Header checks only: a debug-built decoder takes seconds per 2K image (the command decodes).
        let rows = run_systems(Options { c_paths: true, full_decode: false }).unwrap();
        let labels: Vec<&str> = rows.iter().map(|row| row.label.as_str()).collect();
        for (_, label) in KNOWN {
            assert!(labels.contains(&label), "{label} is not in {labels:?}");
        }
        assert!(labels.iter().any(|l| l.contains("streaming")), "{labels:?}");
        for family in ["5.0 pro", "5.0 flash", "5.0 lite"] {
            assert!(labels.iter().any(|l| l.contains(family)), "{family} is not in {labels:?}");
        }
        assert!(labels.iter().any(|l| l.contains("layer decomposition")), "{labels:?}");
        assert!(labels.iter().any(|l| l.contains("refused")), "{labels:?}");
        for row in &rows {
            assert_eq!(row.cells.len(), Route::ALL.len());
            for (route, cell, _) in &row.cells {
                assert!(cell.is_ok(), "{} × {}: {cell:?}", row.label, route.title());
            }
        }
    }
}
