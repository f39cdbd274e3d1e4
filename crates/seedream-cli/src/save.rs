//! Saving a response's images under the output directory: `b64_json` decoded, links downloaded at once
//! (they expire after 24 hours), each file written atomically with the extension of its bytes, each
//! result recorded in an [`Outcome`] and stamped with its provenance (XMP: prompt, model, size, seed,
//! request id, time, synthetic, tool; the image data untouched). A layer decomposition is also saved as
//! one OpenRaster file.

use std::path::Path;

use seedream_client::{Client, ImageBytes, StagedImage};
use seedream_types::provenance::{self, Provenance};
use seedream_types::time::UtcTime;
use seedream_types::{ApiErrorBody, GeneratedImage, ImageFormat, ImageItem, ImagesResponse, Moderation, OutputFormat};

use crate::failure::{Failure, ModerationRecord};
use crate::files::{distinct_name, save_file};
use crate::manifest::{FailedImageRecord, Outcome, SavedImage};
use crate::openraster;
use crate::service::describe;

/// Where and under which names images are saved: `{dir}/{stem}-{index}.{ext}`, or for layers
/// `{dir}/{stem}-{z_index:02}-{name}.{ext}` and `{dir}/{stem}.ora`.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The output directory.
    pub dir: &'a Path,
    /// The start of every file name.
    pub stem: &'a str,
    /// The service label, for error messages.
    pub service: &'a str,
    /// The format the request asked for (`output_format`, default JPEG): the extension of bytes
    /// that neither show nor state their format.
    pub requested: ImageFormat,
    /// What every image of the request is stamped with (see [`stamp`]); `None` writes the bytes as
    /// they came.
    pub provenance: Option<&'a Provenance>,
    /// The model the request named: its catalog row bounds the pixels decoded for the OpenRaster file.
    pub model: &'a str,
    /// Whether the request asked for layer decomposition: an answer without layers is then reported.
    pub layers: bool,
}

/// The part of an image's provenance that a request decides; the rest (size, request id, time) is
/// added as each image is saved.
pub fn stamp(prompt: &str, model: &str, seed: Option<i64>, synthetic: bool) -> Provenance {
    Provenance {
        prompt: prompt.to_owned(),
        model: model.to_owned(),
        seed,
        synthetic,
        tool: concat!("seedream ", env!("CARGO_PKG_VERSION")).to_owned(),
        ..Provenance::default()
    }
}

/// `bytes` with the image's provenance written in, or as they came when they cannot carry it (neither
/// JPEG nor PNG, or damaged), not refused. Reading and writing the XMP of a large image is work for a
/// blocking thread: there the call's deadline (and Ctrl-C) can leave it behind.
async fn stamped(base: &Provenance, bytes: ImageBytes, size: Option<String>, outcome: &Outcome) -> ImageBytes {
    let base = Provenance {
        model: outcome.model.clone().unwrap_or_else(|| base.model.clone()),
        request_id: outcome.request_id.clone(),
        ..base.clone()
    };
    let original = bytes.clone();
    let stamping = tokio::task::spawn_blocking(move || with_provenance(base, &bytes, size));
    match stamping.await {
        Ok(Some(stamped)) => ImageBytes::new(stamped, original.format()),
        _ => original,
    }
}

/// `bytes` with `base` (its size and time filled in) written in; `None` when they cannot carry it.
fn with_provenance(base: Provenance, bytes: &[u8], size: Option<String>) -> Option<Vec<u8>> {
    // An emulator marks its images synthetic in their own metadata; that is kept.
    let marked = provenance::read(bytes).ok().flatten().is_some_and(|own| own.synthetic);
    let size = size
        .or_else(|| seedream_types::image::read_dimensions(bytes).map(|(_, d)| format!("{}x{}", d.width, d.height)));
    let record = Provenance { size, created: UtcTime::now().to_string(), synthetic: base.synthetic || marked, ..base };
    provenance::embed(bytes, &record).ok()
}

/// The format a request's `output_format` asks for (JPEG when absent, the service's default).
pub fn requested_format(output_format: Option<&OutputFormat>) -> ImageFormat {
    match output_format {
        Some(OutputFormat::Png) => ImageFormat::Png,
        Some(OutputFormat::Other(word)) => {
            ImageFormat::from_word(&word.to_ascii_lowercase()).unwrap_or(ImageFormat::Jpeg)
        }
        _ => ImageFormat::Jpeg,
    }
}

/// What happened to one image, for progress lines.
#[derive(Debug)]
pub enum Saved<'a> {
    /// Saved as this file.
    Image(&'a SavedImage),
    /// Not saved, for this reason.
    Failed(&'a FailedImageRecord),
    /// Something odd in the answer, recorded in the outcome's `warnings`; nothing was lost.
    Warning(&'a str),
}

/// Saves every image of `response` and records the per-image errors. A download that fails is a
/// per-image failure (with its link, to fetch by hand); a file that cannot be written stops everything.
/// `staged` holds the images the client already decoded into temporary files as the answer arrived
/// (`ImagesCall::stage_in`): each is read from there, one at a time, rather than from `b64_json`.
pub async fn save_response(
    client: &Client,
    target: Target<'_>,
    response: ImagesResponse,
    mut staged: Vec<StagedImage>,
    outcome: &mut Outcome,
    mut report: impl FnMut(Saved<'_>),
) -> Result<(), Failure> {
    outcome.model = response.model.or(outcome.model.take());
    outcome.usage = response.usage.or(outcome.usage.take());
    if response.data.is_empty() {
        return Err(no_images(target.service));
    }
    // The images of a decomposition, kept for the OpenRaster file (at most 17, shared, not copied).
    let mut layers: Vec<(usize, ImageBytes)> = Vec::new();
    for (index, item) in response.data.into_iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        match item {
            ImageItem::Image(image) => {
                let layered = image.z_index.is_some();
                let file = staged.iter().position(|file| file.index() == index as usize).map(|at| staged.remove(at));
                let saved = save_image(client, target, index, image, file, outcome, &mut report).await?;
                if let (true, Some(bytes)) = (layered, saved) {
                    layers.push((outcome.images.len() - 1, bytes));
                }
            }
            ImageItem::Failed(failed) => record_failed(index, &failed.error, outcome, &mut report),
        }
    }
    // A decomposition with a missing image (a failed download) is left as its files: the stack would
    // be wrong.
    if !layers.is_empty() && outcome.failed_images.is_empty() {
        save_openraster(target, layers, outcome).await?;
    } else if target.layers && layers.is_empty() && !outcome.images.is_empty() {
        // Paid for and kept, but not what was asked: a relay may have dropped `layer_decomposition`.
        outcome.openraster_error = Some(
            "layer decomposition was asked for, but the answer has no layers (no item states a z_index): \
             the images are saved as they came; the service or a relay in between may have dropped \
             layer_decomposition"
                .into(),
        );
    }
    Ok(())
}

/// Writes `{stem}.ora` from the saved base image and layers, and records it. One that cannot be
/// made (a layer over the model's pixel limit, an image that does not decode) is recorded in
/// `openraster_error`, the saved files kept; only a file that cannot be written stops the run.
async fn save_openraster(
    target: Target<'_>,
    layers: Vec<(usize, ImageBytes)>,
    outcome: &mut Outcome,
) -> Result<(), Failure> {
    let parts: Vec<(i64, String, Option<[f64; 4]>, ImageBytes)> = layers
        .into_iter()
        .map(|(at, bytes)| {
            let image = &outcome.images[at];
            let name = match (&image.name, image.z_index) {
                (Some(name), _) if !name.trim().is_empty() => name.clone(),
                (_, Some(0)) => "base image".to_owned(),
                (_, z) => format!("layer {}", z.unwrap_or_default()),
            };
            let corners = image.bounding_box.as_ref().and_then(|b| b.absolute_corners());
            (image.z_index.unwrap_or_default(), name, corners, bytes)
        })
        .collect();
    let max_pixels = seedream_types::catalog::answer_pixel_limit(crate::catalog::family_of(target.model));
    // Decoding and encoding megapixels: on a blocking thread, so the deadline still holds.
    let composing = tokio::task::spawn_blocking(move || {
        let layers: Vec<openraster::Layer<'_>> = parts
            .iter()
            .map(|(z_index, name, bounding_box, bytes)| openraster::Layer {
                z_index: *z_index,
                name,
                bounding_box: *bounding_box,
                bytes,
            })
            .collect();
        openraster::build(&layers, max_pixels)
    });
    let built = composing.await.unwrap_or_else(|e| Err(format!("composing stopped: {e}")));
    match built {
        Ok(ora) => {
            let file = format!("{}.ora", target.stem);
            save_file(target.dir, &file, &ora)?;
            outcome.openraster = Some(file);
        }
        Err(reason) => {
            outcome.openraster_error =
                Some(format!("the layers are saved, but the OpenRaster file could not be made: {reason}"));
        }
    }
    Ok(())
}

/// Saves one image (for streams, as each arrives), its bytes read from `staged` when the client
/// staged it, else decoded or downloaded. Returns the bytes of a layer decomposition's images (those
/// with a `z_index`), for the OpenRaster file.
pub async fn save_image(
    client: &Client,
    target: Target<'_>,
    index: u32,
    mut image: GeneratedImage,
    staged: Option<StagedImage>,
    outcome: &mut Outcome,
    report: &mut impl FnMut(Saved<'_>),
) -> Result<Option<ImageBytes>, Failure> {
    // Fields not as the API describes them are kept as sent; the image is saved without them.
    let malformed: Vec<String> =
        image.malformed_fields().map(|(field, value)| format!("{field} {}", sent_value(value))).collect();
    // Taken out before the bytes are decoded in place (`b64_json` is not copied).
    let url = image.url.clone();
    let (size, z_index) = (image.size.take(), image.z_index);
    let (bounding_box, name, description) = (image.bounding_box.take(), image.name.take(), image.description.take());
    let read = match staged {
        // The temporary file goes once read: the final file is written (stamped) below.
        Some(staged) => staged.read(),
        None => client.into_image_bytes(image).await,
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(error) => {
            let failure = describe(&error, None, target.service);
            outcome.failed_images.push(FailedImageRecord {
                index,
                code: "DownloadFailed".into(),
                message: failure.message,
                // The query of a pre-signed link is its signature: a credential, not recorded.
                url: url.as_deref().map(|url| seedream_client::text::link_without_query(url).to_owned()),
                moderation: None,
            });
            if let Some(failed) = outcome.failed_images.last() {
                report(Saved::Failed(failed));
            }
            return Ok(None);
        }
    };
    // An answer without sizes (SeedEdit 3.0 states none) gets the image's own, from its header.
    let size = size.or_else(|| {
        seedream_types::image::read_dimensions(bytes.as_ref()).map(|(_, dimensions)| dimensions.to_string())
    });
    // The bytes decide (5.0 lite states no format even for PNG), then what the item states (the
    // client's `ImageBytes::format`), then what the request asked for.
    let extension = bytes.format().unwrap_or(target.requested).extension();
    let base = match z_index {
        Some(z) => format!("{}-{z:02}-{}", target.stem, openraster::file_label(name.as_deref().unwrap_or(""), z)),
        None => format!("{}-{index}", target.stem),
    };
    let file = distinct_name(&base, extension, |name| outcome.images.iter().any(|saved| saved.file == name));
    let repeated = match z_index {
        Some(z) => outcome.images.iter().any(|saved| saved.z_index == Some(z)).then(|| format!("z_index {z}")),
        None => outcome.images.iter().any(|saved| saved.index == index).then(|| format!("image_index {index}")),
    };
    // The stamped bytes are the file, and the layer of the OpenRaster file too (the same bytes).
    let bytes = match target.provenance {
        Some(base) => stamped(base, bytes, size.clone(), outcome).await,
        None => bytes,
    };
    save_file(target.dir, &file, &bytes)?;
    let length = bytes.len() as u64;
    let kept = z_index.map(|_| bytes.clone());
    let mut warnings = Vec::new();
    if let Some(repeated) = repeated {
        warnings.push(format!("the answer repeats {repeated}: this image is saved as {file}, beside the other"));
    }
    if !malformed.is_empty() {
        let which = z_index.map_or_else(|| format!("image {index}"), |z| format!("layer {z} (image {index})"));
        warnings.push(format!(
            "{which} is saved as {file}, but the answer's {} is not as the API describes it and is left out",
            malformed.join(", ")
        ));
    }
    outcome.images.push(SavedImage { index, file, size, bytes: length, z_index, bounding_box, name, description });
    if let Some(saved) = outcome.images.last() {
        report(Saved::Image(saved));
    }
    for warning in warnings {
        report(Saved::Warning(&warning));
        outcome.warnings.push(warning);
    }
    Ok(kept)
}

/// A value as the answer sent it, in short: compact JSON, at most 80 characters.
fn sent_value(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

/// A successful answer that holds neither an image nor an image's error (`"data": []`): said in
/// words, not left to an exit status.
pub fn no_images(service: &str) -> Failure {
    Failure::new(
        crate::failure::Exit::Unavailable,
        format!("the answer from {service} holds no image and no error (\"data\": []): nothing was saved"),
    )
    .with_kind("decode")
    .with_hint(
        "try again; if it keeps happening, the service (or a relay in front of it) is not answering as documented",
    )
}

/// Records an image the service failed.
pub fn record_failed(index: u32, error: &ApiErrorBody, outcome: &mut Outcome, report: &mut impl FnMut(Saved<'_>)) {
    outcome.failed_images.push(FailedImageRecord {
        index,
        code: error.code.clone(),
        message: error.message.clone(),
        url: None,
        moderation: Moderation::of_output(index as usize, &error.code).map(|m| ModerationRecord::of(&m)),
    });
    if let Some(failed) = outcome.failed_images.last() {
        report(Saved::Failed(failed));
    }
}

/// The longest slug, in characters and in bytes: file systems count the bytes of a name (255 at
/// most), and the slug is followed by a date, a run id and an index.
const SLUG_CHARS: usize = 40;
const SLUG_BYTES: usize = 120;

/// A file-name stem from a prompt: its first words of Unicode letters and digits (NFC, lower case),
/// joined by `-`, at most [`SLUG_CHARS`] characters (`image` when there is none). Nothing else is
/// kept, so the name is safe on every system: no separators, dots, spaces, controls or marks.
pub fn slug(prompt: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let normalized: String = prompt.nfc().collect();
    let mut slug = String::new();
    for word in normalized.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(6) {
        let word: String = word.chars().flat_map(char::to_lowercase).collect();
        let separator = usize::from(!slug.is_empty());
        let room_chars = SLUG_CHARS.saturating_sub(slug.chars().count() + separator);
        let room_bytes = SLUG_BYTES.saturating_sub(slug.len() + separator);
        if word.chars().count() <= room_chars && word.len() <= room_bytes {
            if separator == 1 {
                slug.push('-');
            }
            slug.push_str(&word);
            continue;
        }
        // Whole words only, except a first word longer than the room (a prompt in Chinese has no spaces).
        if slug.is_empty() {
            let mut bytes = 0;
            slug.extend(word.chars().take(room_chars).take_while(|c| {
                bytes += c.len_utf8();
                bytes <= room_bytes
            }));
        }
        break;
    }
    if slug.is_empty() { "image".into() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_words_of_letters_and_digits() {
        assert_eq!(slug("A lighthouse at dawn!"), "a-lighthouse-at-dawn");
        assert_eq!(slug("一只猫在月光下"), "一只猫在月光下");
        assert_eq!(slug("Café, ÉTÉ 2026"), "café-été-2026");
        // A decomposed é (e + U+0301) is composed: the same prompt gives the same name.
        assert_eq!(slug("cafe\u{301}"), slug("café"));
        assert_eq!(slug("a\u{202e}b/c\\d:e*f?.g"), "a-b-c-d-e-f");
        assert_eq!(slug("!!!"), "image");
        assert_eq!(slug(&"猫".repeat(100)).chars().count(), SLUG_CHARS);
        assert!(slug(&"𝔸".repeat(100)).len() <= SLUG_BYTES);
        assert!(slug(&"word ".repeat(50)).len() <= SLUG_CHARS);
        assert_eq!(slug("a lighthouse at dawn over the northern sea"), "a-lighthouse-at-dawn-over-the", "whole words");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert!(slug(&"word ".repeat(50)).len() <= 40);
    }
}
