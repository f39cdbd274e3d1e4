//! The rows of the table: the request fixtures of the seed pages (`tests/fixtures/requests`), the
//! Seedream 5.0 and 2026-12 systems of the spec, and the edit form of seed 000.

use std::fs;
use std::path::Path;

use seedream_types::{
    Background, EditRequest, GenerateRequest, ImageCount, ImageFile, OutputFormat, SEEDREAM_5_0_FLASH,
    SEEDREAM_5_0_LITE, SEEDREAM_5_0_PRO, SEEDREAM_5_5, Size, SizePreset, Tool,
};

use super::{Job, System};

/// The labels of the known fixtures; each must be present.
pub(super) const KNOWN: [(&str, &str); 7] = [
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

pub(super) fn systems(root: &Path) -> Vec<System> {
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
