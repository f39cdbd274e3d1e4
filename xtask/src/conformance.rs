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

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use seedream::seedream_image_format;
use seedream_client::{Client, Error, RetryPolicy, Timeouts};
use seedream_emulator::EmulatorConfig;
use seedream_types::{
    Background, EditRequest, GenerateRequest, ImageCount, ImageFile, ImageFormat, ImagesResponse, OutputFormat,
    ResponseFormat, SEEDREAM_5_0_FLASH, SEEDREAM_5_0_LITE, SEEDREAM_5_0_PRO, SEEDREAM_5_5, Size, SizePreset,
    StreamEvent, Tool,
};

use crate::cabi::{self, Bounded, CClient, CClientConfig, CResponse};
use crate::checks::{Expected, UsageShape, check_image};
use crate::table::Table;
use crate::{c_build, codegen, project_root};

/// The API key the emulator is started with.
const KEY: &str = "conformance-key";
/// Longest one cell may take (a 2K group, fully decoded by a debug build, takes a few seconds).
const CELL_BOUND: Duration = Duration::from_secs(60);
/// README markers.
const START: &str = "<!-- conformance:start -->";
const END: &str = "<!-- conformance:end -->";

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

/// The labels of the known fixtures; each must be present.
const KNOWN: [(&str, &str); 7] = [
    ("spec-seedream40-text-to-image", "Seedream 4.0 text-to-image (spec)"),
    ("seed001-seedream40-multi-reference", "Seedream 4.0 multi-reference image-to-image, group of 3 (seed 001)"),
    ("seed000-seedream45-group-stream", "Seedream 4.5 group generation, 2 references + 3 images (seed 000)"),
    ("seed003-seedream45-single", "Seedream 4.5 single image in, single image out (seed 003)"),
    ("seed002-seededit30-i2i", "SeedEdit 3.0 image-to-image (seed 002)"),
    ("seed004-seededit30-i2i", "SeedEdit 3.0 image-to-image (seed 004)"),
    ("spec-seedream30-t2i", "Seedream 3.0 text-to-image (spec)"),
];

/// The input image of the edits: 16:9, so the output's shape shows that the size follows it.
fn edit_image() -> Result<ImageFile, String> {
    let jpeg = seedream_emulator::synthetic_jpeg(1600, 900, 11, false).map_err(|e| e.to_string())?;
    Ok(ImageFile::new("otter.jpeg", jpeg))
}

/// The Seedream 5.0 systems of the spec (no seed page has them): PNG output, transparent
/// backgrounds, layers, groups, streams and web search, and the live service's 400s.
fn spec_5_0_systems() -> Vec<System> {
    let prompt = "a lighthouse at dawn";
    let pro = || GenerateRequest::new(SEEDREAM_5_0_PRO, prompt);
    let lite = || GenerateRequest::new(SEEDREAM_5_0_LITE, prompt).with_size(SizePreset::TwoK);
    let system = |label: &str, job: Result<Job, String>| System { label: label.to_owned(), job };
    let png = |w, h, alpha| Ok::<_, String>(seedream_tests::png_data_url(w, h, alpha));
    let generate = |request: GenerateRequest| Ok(Job::Generate(request));
    vec![
        system(
            "Seedream 5.0 pro text-to-image, 1K PNG (spec)",
            generate(pro().with_size(SizePreset::OneK).with_output_format(OutputFormat::Png)),
        ),
        system(
            "Seedream 5.0 pro transparent background, one RGBA reference, RGBA PNG out (spec)",
            png(512, 512, true).map(|image| {
                Job::Generate(
                    pro().with_image(image).with_size(SizePreset::OneK).with_background(Background::Transparent),
                )
            }),
        ),
        system(
            "Seedream 5.0 pro layer decomposition: base + PNG layers, z-index, boxes, names (spec)",
            png(640, 512, false).map(|image| {
                let mut request = pro().with_image(image).with_layer_decomposition(true);
                request.prompt = String::new();
                Job::Generate(request.with_output_format(OutputFormat::Png))
            }),
        ),
        system(
            "Seedream 5.0 flash 1.5K, JPEG by default with output_format stated (spec)",
            generate(GenerateRequest::new(SEEDREAM_5_0_FLASH, prompt).with_size(SizePreset::OneAndHalfK)),
        ),
        system(
            "Seedream 5.0 flash, 2 references, PNG (spec)",
            png(640, 480, false).map(|image| {
                Job::Generate(
                    GenerateRequest::new(SEEDREAM_5_0_FLASH, prompt)
                        .with_images([image.clone(), image])
                        .with_size(SizePreset::OneK)
                        .with_output_format(OutputFormat::Png),
                )
            }),
        ),
        system("Seedream 5.0 lite group of 2, 2K (spec)", generate(lite().with_max_images(2))),
        system(
            "Seedream 5.0 lite streaming, group of 2, event by event (spec)",
            Ok(Job::Stream(lite().with_max_images(2).with_stream(true))),
        ),
        system(
            "Seedream 5.0 lite web search, tool_usage and tools (spec)",
            generate(lite().with_tool(Tool::web_search())),
        ),
        system(
            "Seedream 5.0 pro stream: refused, naming `stream`; 400 InvalidParameter (live)",
            Ok(Job::Refused(pro().with_size(SizePreset::OneK).with_stream(true), "stream")),
        ),
        system(
            "Seedream 5.0 pro, 11 references: refused, naming `image`; 400 InvalidParameter (live)",
            png(64, 64, false)
                .map(|image| Job::Refused(pro().with_size(SizePreset::OneK).with_images(vec![image; 11]), "image")),
        ),
    ]
}

/// The service of December 2026 (spec, 2026-12 revision): Seedream 5.5 and BytePlus ModelArk's ids,
/// which behave as their families.
fn spec_2026_12_systems() -> Vec<System> {
    let prompt = "a lighthouse at dawn";
    let v55 = || GenerateRequest::new(SEEDREAM_5_5, prompt).with_size(SizePreset::OneK);
    let system = |label: &str, job: Result<Job, String>| System { label: label.to_owned(), job };
    vec![
        system("Seedream 5.5 text-to-image, PNG by default, items state background (spec)", Ok(Job::Generate(v55()))),
        system(
            "Seedream 5.5 transparent background from text alone, RGBA PNG (spec)",
            Ok(Job::Generate(v55().with_background(Background::Transparent))),
        ),
        system("Seedream 5.5 background auto (spec)", Ok(Job::Generate(v55().with_background(Background::Auto)))),
        system(
            "Seedream 5.5 layer decomposition, up to the row's default cap (spec)",
            Ok(Job::Generate(
                GenerateRequest::new(SEEDREAM_5_5, "")
                    .with_image(seedream_tests::png_data_url(640, 512, false))
                    .with_layer_decomposition(true),
            )),
        ),
        system(
            "Seedream 5.5 group: refused, naming `sequential_image_generation`; 400 (live)",
            Ok(Job::Refused(v55().with_max_images(2), "sequential_image_generation")),
        ),
        system(
            "BytePlus dola-seedream-5-0-pro-260628, 1K PNG (spec)",
            Ok(Job::Generate(
                GenerateRequest::new("dola-seedream-5-0-pro-260628", prompt)
                    .with_size(SizePreset::OneK)
                    .with_output_format(OutputFormat::Png),
            )),
        ),
        system(
            "BytePlus seedream-4-0-20260415, group of 2 (spec)",
            Ok(Job::Generate(GenerateRequest::new("seedream-4-0-20260415", prompt).with_max_images(2))),
        ),
        system(
            "BytePlus seedream-4-5-251128, size 10x10: refused, naming `size`; 400 (live)",
            Ok(Job::Refused(
                GenerateRequest::new("seedream-4-5-251128", prompt).with_size(Size::pixels(10, 10)),
                "size",
            )),
        ),
    ]
}

fn systems(root: &Path) -> Vec<System> {
    let dir = root.join("tests/fixtures/requests");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|e| e == "json"));
    // The known systems in the order of the table, then any other fixture by name.
    let stem_of =
        |path: &std::path::PathBuf| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    files.sort_by_key(|path| {
        let stem = stem_of(path);
        (KNOWN.iter().position(|(known, _)| *known == stem).unwrap_or(KNOWN.len()), stem)
    });
    let mut systems = Vec::new();
    for (stem, label) in KNOWN {
        if !files.iter().any(|f| f.file_stem().is_some_and(|s| s == stem)) {
            systems.push(System { label: label.to_owned(), job: Err(format!("fixture {stem}.json is missing")) });
        }
    }
    for file in files {
        let stem = stem_of(&file);
        let label =
            KNOWN.iter().find(|(known, _)| *known == stem).map_or(stem.clone(), |(_, label)| (*label).to_owned());
        let request = fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice::<GenerateRequest>(&bytes).map_err(|e| e.to_string()))
            .map_err(|e| format!("{}: {e}", file.display()));
        let streamed = request.as_ref().is_ok_and(GenerateRequest::is_stream);
        systems.push(System { label: label.clone(), job: request.clone().map(Job::Generate) });
        if streamed {
            let label = label.replace("group generation", "streaming");
            systems.push(System { label: format!("{label}, event by event"), job: request.map(Job::Stream) });
        }
    }
    systems.extend(spec_5_0_systems());
    systems.extend(spec_2026_12_systems());
    let form = root.join("tests/fixtures/edits/seed000-form.json");
    let edit = edit_form(&form).map_err(|e| format!("{}: {e}", form.display()));
    systems.push(System {
        label: "multipart edit, the page's form (seed 000): refused, naming `size`".into(),
        job: edit.clone().map(Job::EditRefused),
    });
    systems.push(System {
        label: "multipart edit, the page's form with size 2K (seed 000)".into(),
        job: edit.map(|mut edit| {
            edit.size = Some(Size::from_wire("2K"));
            Job::Edit(edit)
        }),
    });
    systems
}

/// The edit form of seed 000 (field → value; the image is a file we supply).
fn edit_form(path: &Path) -> Result<EditRequest, String> {
    let form: serde_json::Value =
        serde_json::from_slice(&fs::read(path).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let field = |name: &str| form.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
    let mut edit =
        EditRequest::new(field("model").ok_or("no model")?, field("prompt").ok_or("no prompt")?, edit_image()?);
    edit.n = field("n").map(ImageCount::Text);
    edit.size = field("size").map(|s| Size::from_wire(&s));
    edit.response_format = form
        .get("response_format")
        .map(|f| serde_json::from_value(f.clone()))
        .transpose()
        .map_err(|e| e.to_string())?;
    let expected: Vec<&str> = form
        .get("expected_invalid_fields")
        .and_then(serde_json::Value::as_array)
        .map(|fields| fields.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if expected != ["size"] {
        return Err(format!("expected_invalid_fields is {expected:?}, the page's form is refused for `size`"));
    }
    Ok(edit)
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

fn rust_client(base: &str, validate: bool) -> Result<Client, String> {
    Client::builder()
        .api_key(KEY)
        .base_url(base)
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(5))
                .with_headers(Duration::from_secs(30))
                .with_idle(Duration::from_secs(30))
                .with_overall(CELL_BOUND),
        )
        // A conforming exchange takes one attempt; a retry would hide a failure.
        .retry(RetryPolicy::none())
        .validate_requests(validate)
        .build()
        .map_err(|e| e.to_string())
}

fn c_config(base: &str) -> CClientConfig {
    CClientConfig {
        base_url: base.to_owned(),
        api_key: KEY.to_owned(),
        timeouts: Some([Duration::from_secs(5), Duration::from_secs(30), Duration::from_secs(30), CELL_BOUND]),
        max_attempts: Some(1),
        worker_threads: Some(1),
        ..Default::default()
    }
}

fn c_client(base: &str) -> Result<CClient, String> {
    CClient::build(&c_config(base)).map_err(|e| format!("building the C client: {e}"))
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

async fn rust_images(client: &Client, response: &ImagesResponse, expected: &Expected, full: bool) -> Cell {
    for (index, image) in response.data.iter().enumerate().filter_map(|(i, item)| Some((i, item.image()?))) {
        let bytes = client.image_bytes(image).await.map_err(|e| format!("fetching an image: {e}"))?;
        check_image(&bytes, expected, index, full)?;
        if bytes.format() != Some(expected.format_of(index)) {
            return Err(format!("image {index}: ImageBytes::format is {:?}", bytes.format()));
        }
    }
    Ok(())
}

async fn rust_cell(job: &Job, route: Route, bases: &Bases, full: bool) -> Cell {
    let base = bases.of(route);
    match job {
        Job::Generate(request) => {
            let request = as_sent(request, route);
            request.validate().map_err(|e| e.to_string())?;
            let client = rust_client(base, true)?;
            let (response, meta) = client.generate(&request).await.map_err(|e| e.to_string())?.into_parts();
            if meta.request_id.is_none() || meta.attempts != 1 {
                return Err(format!("request id {:?}, {} attempts", meta.request_id, meta.attempts));
            }
            let expected = Expected::of(&request);
            expected.check_response(&response, shape(route, request.is_stream()))?;
            check_format(&response, route.b64())?;
            rust_images(&client, &response, &expected, full).await
        }
        Job::Stream(request) => {
            let request = as_sent(request, route);
            request.validate().map_err(|e| e.to_string())?;
            let client = rust_client(base, true)?;
            let expected = Expected::of(&request);
            let mut stream = client.generate(&request).stream().await.map_err(|e| e.to_string())?;
            let mut seen = vec![false; expected.count];
            let mut completed = false;
            // Bounded: the emulator sends count + 1 events; more is a failure.
            for _ in 0..=expected.count + 1 {
                let Some(event) = stream.next().await else { break };
                match event.map_err(|e| e.to_string())? {
                    _ if completed => return Err("an event after image_generation.completed".into()),
                    StreamEvent::PartialSucceeded(event) => {
                        let index = event.image_index as usize;
                        if seen.get(index).copied() != Some(false) {
                            return Err(format!("image_index {index} repeated or out of range"));
                        }
                        seen[index] = true;
                        let image = event.into_image();
                        if image.dimensions() != Some(expected.dims) {
                            return Err(format!("event size {:?}, expected {}", image.size, expected.dims));
                        }
                        if route.b64() != image.b64_json.is_some() {
                            return Err("an event in the wrong response_format".into());
                        }
                        let bytes = client.image_bytes(&image).await.map_err(|e| format!("fetching an image: {e}"))?;
                        check_image(&bytes, &expected, index, full)?;
                    }
                    StreamEvent::Completed(done) => {
                        let usage = done.usage.ok_or("completed carries no usage")?;
                        expected.check_usage(&usage, UsageShape::Ark)?;
                        completed = true;
                    }
                    other => return Err(format!("unexpected event {:?}", other.event_type())),
                }
            }
            if !completed || seen.contains(&false) {
                return Err(format!("images seen {seen:?}, completed {completed}"));
            }
            match stream.next().await {
                None => Ok(()),
                Some(extra) => Err(format!("the stream did not end after completed: {extra:?}")),
            }
        }
        Job::EditRefused(edit) => {
            let edit = edit_as_sent(edit, route);
            match edit.validate() {
                Err(error) if error.fields() == ["size"] => {}
                other => return Err(format!("local validation: {other:?}, expected exactly `size`")),
            }
            match rust_client(base, true)?.edit(&edit).await {
                Err(Error::Validation(error)) if error.fields() == ["size"] => {}
                other => return Err(format!("the client: {other:?}, expected a validation error naming `size`")),
            }
            // Sent anyway, the service refuses it too, naming the same field.
            match rust_client(base, false)?.edit(&edit).await {
                Err(Error::Api(api)) if api.status == 400 && api.param.as_deref() == Some("size") => Ok(()),
                other => Err(format!("the service: {other:?}, expected 400 with param `size`")),
            }
        }
        Job::Edit(edit) => {
            let edit = edit_as_sent(edit, route);
            edit.validate().map_err(|e| e.to_string())?;
            let client = rust_client(base, true)?;
            let (response, meta) = client.edit(&edit).await.map_err(|e| e.to_string())?.into_parts();
            if meta.request_id.is_none() {
                return Err("no request id".into());
            }
            let expected = Expected::of(&edit.to_generate_request());
            expected.check_response(&response, shape(route, false))?;
            check_format(&response, route.b64())?;
            rust_images(&client, &response, &expected, full).await
        }
        Job::Refused(request, field) => {
            let request = as_sent(request, route);
            match request.validate() {
                Err(error) if error.fields() == [*field] => {}
                other => return Err(format!("local validation: {other:?}, expected exactly `{field}`")),
            }
            match rust_client(base, true)?.generate(&request).await {
                Err(Error::Validation(error)) if error.fields() == [*field] => {}
                other => return Err(format!("the client: {other:?}, expected a validation error naming `{field}`")),
            }
            // Sent anyway, the service refuses it as the live service does.
            match rust_client(base, false)?.generate(&request).await {
                Err(Error::Api(api))
                    if api.status == 400 && api.code == "InvalidParameter" && api.param.as_deref() == Some(*field) =>
                {
                    Ok(())
                }
                other => Err(format!("the service: {other:?}, expected 400 InvalidParameter with param `{field}`")),
            }
        }
    }
}

/// The C ABI's name for a format.
fn c_format(format: ImageFormat) -> seedream_image_format {
    match format {
        ImageFormat::Png => seedream_image_format::Png,
        ImageFormat::Jpeg => seedream_image_format::Jpeg,
        _ => seedream_image_format::Unknown,
    }
}

/// The C view of a response against the expectations: the JSON it hands out parses to the
/// documented shape, and the accessors agree with it (bytes, sizes, usage).
fn check_c_response(response: &CResponse, expected: &Expected, route: Route, streamed: bool, full: bool) -> Cell {
    let parsed = ImagesResponse::from_slice(response.json.as_bytes()).map_err(|e| e.to_string())?;
    expected.check_response(&parsed, shape(route, streamed))?;
    check_format(&parsed, route.b64())?;
    if response.images.len() != parsed.data.len() || response.request_id.is_empty() || response.attempts != 1 {
        return Err(format!(
            "{} images, request id {:?}, {} attempts",
            response.images.len(),
            response.request_id,
            response.attempts
        ));
    }
    for (index, image) in response.images.iter().enumerate() {
        let size = (expected.dims.width, expected.dims.height);
        if !image.succeeded || image.size != size || route.b64() != image.url.is_empty() {
            return Err(format!("image {index}: {image:?}"));
        }
        let bytes =
            image.bytes.as_ref().map_err(|code| format!("image {index} bytes: {}", cabi::result_name(*code)))?;
        check_image(bytes, expected, index, full)?;
        if image.format != c_format(expected.format_of(index)) {
            return Err(format!("image {index}: seedream_response_image_format is {:?}", image.format));
        }
        check_c_layer(image, index, expected)?;
    }
    let usage = response.usage.ok_or("seedream_response_usage: not available")?;
    let successes = parsed.data.len() as u64;
    if usage.generated_images != successes || usage.output_tokens == 0 || usage.total_tokens == 0 {
        return Err(format!("seedream_usage {usage:?}"));
    }
    if expected.input_images.is_some() && response.input_images != expected.input_images {
        return Err(format!("seedream_response_usage_input_images: {:?}", response.input_images));
    }
    if expected.web_search && response.web_searches.is_none() {
        return Err("seedream_response_usage_web_searches: not available".into());
    }
    Ok(())
}

/// The layer accessors of image `index` agree with the decomposition: z-index, box (inside the base
/// image), name and description for layers; z-index 0 and no box for the base image; nothing
/// without layers.
fn check_c_layer(image: &cabi::CImage, index: usize, expected: &Expected) -> Cell {
    let fail = || Err(format!("image {index}: layer accessors {image:?}"));
    if expected.max_layers.is_none() {
        let none = image.z_index.is_none() && image.bounding_box.is_none();
        return if none && image.name.is_empty() && image.description.is_empty() { Ok(()) } else { fail() };
    }
    if image.z_index != Some(index as i64) {
        return fail();
    }
    if index == 0 {
        return if image.bounding_box.is_none() { Ok(()) } else { fail() };
    }
    let Some(bounding_box) = image.bounding_box else { return fail() };
    let [x1, y1, x2, y2] = bounding_box.absolute;
    let (w, h) = (f64::from(expected.dims.width), f64::from(expected.dims.height));
    let inside = bounding_box.has_absolute
        && bounding_box.has_normalized
        && (0.0 <= x1 && x1 < x2 && x2 <= w)
        && (0.0 <= y1 && y1 < y2 && y2 <= h);
    if !inside || image.name.is_empty() || image.description.is_empty() {
        return fail();
    }
    Ok(())
}

/// The fields of an edit as `seedream_client_edit` takes them.
fn edit_params(edit: &EditRequest) -> String {
    let mut params = serde_json::json!({"model": edit.model, "prompt": edit.prompt});
    if let Some(n) = &edit.n {
        params["n"] = serde_json::to_value(n).unwrap_or_default();
    }
    if let Some(size) = &edit.size {
        params["size"] = size.to_wire().into_owned().into();
    }
    if let Some(format) = &edit.response_format {
        params["response_format"] = format.as_str().into();
    }
    params.to_string()
}

fn c_cell(job: &Job, route: Route, bases: &Bases, full: bool) -> Cell {
    let base = bases.of(route).to_owned();
    let job = job.clone();
    let call = cabi::spawn_bounded(move |cancel| -> Cell {
        let client = c_client(&base)?;
        match &job {
            Job::Generate(request) => {
                let request = as_sent(request, route);
                let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
                let violations = cabi::validate(&json).map_err(|e| e.to_string())?;
                if !violations.is_empty() {
                    return Err(format!("seedream_request_validate: {violations:?}"));
                }
                let response = client.generate(&json, Some(cancel)).map_err(|e| e.to_string())?;
                check_c_response(&response, &Expected::of(&request), route, request.is_stream(), full)
            }
            Job::Stream(request) => {
                let request = as_sent(request, route);
                let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
                let violations = cabi::validate(&json).map_err(|e| e.to_string())?;
                if !violations.is_empty() {
                    return Err(format!("seedream_request_validate: {violations:?}"));
                }
                let expected = Expected::of(&request);
                let mut events = Vec::new();
                client
                    .generate_stream(&json, Some(cancel), &mut |event| {
                        events.push(event);
                        events.len() <= expected.count + 1
                    })
                    .map_err(|e| e.to_string())?;
                c_stream_events(&events, &expected, route, full)
            }
            Job::EditRefused(edit) => {
                let edit = edit_as_sent(edit, route);
                let image = edit.images[0].bytes.clone();
                match client.edit(&edit_params(&edit), &[&image], Some(cancel)) {
                    Err(error)
                        if error.code == seedream::seedream_result::InvalidRequest
                            && error.violations.iter().map(|(field, _)| field.as_str()).eq(["size"]) =>
                    {
                        Ok(())
                    }
                    other => Err(format!("{other:?}, expected SEEDREAM_RESULT_INVALID_REQUEST naming `size`")),
                }
            }
            Job::Edit(edit) => {
                let edit = edit_as_sent(edit, route);
                let image = edit.images[0].bytes.clone();
                let response = client.edit(&edit_params(&edit), &[&image], Some(cancel)).map_err(|e| e.to_string())?;
                check_c_response(&response, &Expected::of(&edit.to_generate_request()), route, false, full)
            }
            Job::Refused(request, field) => {
                let request = as_sent(request, route);
                let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
                let violations = cabi::validate(&json).map_err(|e| e.to_string())?;
                if violations != [*field] {
                    return Err(format!("seedream_request_validate: {violations:?}, expected exactly `{field}`"));
                }
                match client.generate(&json, Some(cancel)) {
                    Err(error)
                        if error.code == seedream::seedream_result::InvalidRequest
                            && error.violations.iter().map(|(f, _)| f.as_str()).eq([*field]) => {}
                    other => {
                        return Err(format!("{other:?}, expected SEEDREAM_RESULT_INVALID_REQUEST naming `{field}`"));
                    }
                }
                // With validation off, the service's 400 comes back through the error accessors.
                let unvalidated = CClient::build(&CClientConfig { validate_requests: Some(false), ..c_config(&base) })
                    .map_err(|e| format!("building the C client: {e}"))?;
                match unvalidated.generate(&json, Some(cancel)) {
                    Err(error)
                        if error.http_status == 400
                            && error.api_code == "InvalidParameter"
                            && error.param == *field =>
                    {
                        Ok(())
                    }
                    other => Err(format!("{other:?}, expected HTTP 400 InvalidParameter with param `{field}`")),
                }
            }
        }
    });
    match call.wait(CELL_BOUND, Duration::from_secs(10)) {
        Bounded::Done(cell) => cell,
        Bounded::Overran(_) => Err(format!("took longer than {CELL_BOUND:?}")),
        Bounded::Hung => Err(format!("hung: no return {CELL_BOUND:?} + 10 s after the start, even cancelled")),
        Bounded::Panicked(message) => Err(format!("panicked: {message}")),
    }
}

fn c_stream_events(events: &[cabi::CEvent], expected: &Expected, route: Route, full: bool) -> Cell {
    use seedream::seedream_event_type as Kind;
    let (last, images) = events.split_last().ok_or("no events")?;
    if last.kind != Kind::Completed || images.len() != expected.count {
        return Err(format!("{} events, the last {:?}", events.len(), last.kind));
    }
    let usage = last.usage.ok_or("completed without usage")?;
    if usage.generated_images != expected.count as u64 || usage.output_tokens == 0 {
        return Err(format!("completed usage {usage:?}"));
    }
    let mut seen = vec![false; expected.count];
    for event in images {
        let index = event.image_index as usize;
        if event.kind != Kind::PartialSucceeded || seen.get(index).copied() != Some(false) {
            return Err(format!("event {:?} for image {index}", event.kind));
        }
        seen[index] = true;
        if event.size != (expected.dims.width, expected.dims.height) {
            return Err(format!("event size {:?}, expected {}", event.size, expected.dims));
        }
        let parsed = StreamEvent::from_json(&event.json).map_err(|e| e.to_string())?;
        let StreamEvent::PartialSucceeded(parsed) = parsed else { return Err("event JSON of another kind".into()) };
        if route.b64() != parsed.b64_json.is_some() {
            return Err("an event in the wrong response_format".into());
        }
        let bytes = event.bytes.as_ref().map_err(|code| format!("event bytes: {}", cabi::result_name(*code)))?;
        check_image(bytes, expected, index, full)?;
        if event.format != c_format(expected.format_of(index)) {
            return Err(format!("event {index}: seedream_stream_event_image_format is {:?}", event.format));
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

/// Replaces what lies between the markers in README.md (adding a "Conformance" section with the
/// markers at the end when they are missing).
fn write_into_readme(readme: &Path, table: &str) -> Result<(), String> {
    let text = fs::read_to_string(readme).map_err(|e| format!("{}: {e}", readme.display()))?;
    let body = format!(
        "{START}\n\
         Generated by `cargo xtask conformance --write-readme`. Each seed page's request (`tests/fixtures/`) is\n\
         validated, sent through the Rust client and through the C ABI to the emulator at the relay base (`/v1`)\n\
         and the Ark base (`/api/v3`) as the page has it, and at `/v1` with `response_format: b64_json`; the answer\n\
         must have the documented shape (image count, `size`, `usage` in the base's shape) and every image must\n\
         download or decode to a JPEG, or a PNG where asked, of the stated size. The Seedream 5.0 rows come from\n\
         the spec (no seed page has them) and also check each item's `output_format`, alpha for transparent\n\
         backgrounds, the layers' z-index, box, name and description, `usage.input_images` and\n\
         `usage.tool_usage`, through the C accessors as well; their refusal rows send the live service's 400\n\
         cases. `cargo xtask python-sdks` runs the official Ark Python SDK and the OpenAI SDK against the emulator.\n\n{table}\n\
         Under faults: `cargo xtask faults` sends every emulator fault (rate limits, quota, 500, HTML 502, resets,\n\
         slow headers, stalls, cut and failing streams, bad JSON, moderated images, and retried-then-ok variants)\n\
         through both clients, 8 calls at once, and checks each outcome, the attempts, the time against the limits,\n\
         and that no half-written file is left; `cargo xtask soak` sends 10 000 requests, 64 at once, with 5% random\n\
         faults through each client and checks for untyped errors, hangs, leaked connections and memory growth.\n\
         {END}"
    );
    let updated = match (text.find(START), text.find(END)) {
        (Some(start), Some(end)) if start < end => format!("{}{body}{}", &text[..start], &text[end + END.len()..]),
        (None, None) => format!("{}\n## Conformance\n\n{body}\n", text.trim_end_matches('\n').to_owned() + "\n"),
        _ => return Err("README.md has one conformance marker without the other, or them out of order".into()),
    };
    fs::write(readme, updated).map_err(|e| format!("{}: {e}", readme.display()))
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn readme_markers_are_added_once_then_replaced() {
        let dir = std::env::temp_dir().join(format!("xtask-readme-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let readme = dir.join("README.md");
        fs::write(&readme, "# title\n\ntext\n").unwrap();
        write_into_readme(&readme, "| a |\n").unwrap();
        write_into_readme(&readme, "| b |\n").unwrap();
        let text = fs::read_to_string(&readme).unwrap();
        assert!(text.starts_with("# title\n\ntext\n\n## Conformance\n\n<!-- conformance:start -->"), "{text}");
        assert_eq!(text.matches(START).count(), 1);
        assert!(text.contains("| b |\n") && text.ends_with("<!-- conformance:end -->\n"), "{text}");
        assert!(!text.contains("| a |"), "{text}");
        fs::write(&readme, format!("x\n{END}\n{START}\n")).unwrap();
        assert!(write_into_readme(&readme, "t").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
