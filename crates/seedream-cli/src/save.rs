//! Saving a response's images under the output directory: `b64_json` decoded, links downloaded at once
//! (they expire after 24 hours), each file written atomically, each result recorded in an [`Outcome`].

use std::path::Path;

use seedream_client::Client;
use seedream_types::image::sniff_format;
use seedream_types::{ApiErrorBody, GeneratedImage, ImageFormat, ImageItem, ImagesResponse};

use crate::failure::Failure;
use crate::manifest::{FailedImageRecord, Outcome, SavedImage, save_file};
use crate::service::describe;

/// Where and under which names images are saved: `{dir}/{stem}-{index}.{ext}`.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The output directory.
    pub dir: &'a Path,
    /// The start of every file name.
    pub stem: &'a str,
    /// The service label, for error messages.
    pub service: &'a str,
}

/// What happened to one image, for progress lines.
#[derive(Debug)]
pub enum Saved<'a> {
    /// Saved as this file.
    Image(&'a SavedImage),
    /// Not saved, for this reason.
    Failed(&'a FailedImageRecord),
}

/// Saves every image of `response` and records the per-image errors. A download that fails is a
/// per-image failure (with its link, to fetch by hand); a file that cannot be written stops everything.
pub async fn save_response(
    client: &Client,
    target: Target<'_>,
    response: ImagesResponse,
    outcome: &mut Outcome,
    mut report: impl FnMut(Saved<'_>),
) -> Result<(), Failure> {
    outcome.model = response.model.or(outcome.model.take());
    outcome.usage = response.usage.or(outcome.usage.take());
    for (index, item) in response.data.into_iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        match item {
            ImageItem::Image(image) => save_image(client, target, index, image, outcome, &mut report).await?,
            ImageItem::Failed(failed) => record_failed(index, &failed.error, outcome, &mut report),
        }
    }
    Ok(())
}

/// Saves one image (for streams, as each arrives).
pub async fn save_image(
    client: &Client,
    target: Target<'_>,
    index: u32,
    image: GeneratedImage,
    outcome: &mut Outcome,
    report: &mut impl FnMut(Saved<'_>),
) -> Result<(), Failure> {
    let size = image.size.clone();
    let url = image.url.clone();
    let bytes = match client.into_image_bytes(image).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let failure = describe(&error, None, target.service);
            outcome.failed_images.push(FailedImageRecord {
                index,
                code: "DownloadFailed".into(),
                message: failure.message,
                url,
            });
            if let Some(failed) = outcome.failed_images.last() {
                report(Saved::Failed(failed));
            }
            return Ok(());
        }
    };
    // The service sends JPEG; a relay may send another format, which keeps its own extension.
    let extension = sniff_format(&bytes).unwrap_or(ImageFormat::Jpeg).extension();
    let file = format!("{}-{index}.{extension}", target.stem);
    save_file(target.dir, &file, &bytes)?;
    outcome.images.push(SavedImage { index, file, size, bytes: bytes.len() as u64 });
    if let Some(saved) = outcome.images.last() {
        report(Saved::Image(saved));
    }
    Ok(())
}

/// Records an image the service failed.
pub fn record_failed(index: u32, error: &ApiErrorBody, outcome: &mut Outcome, report: &mut impl FnMut(Saved<'_>)) {
    outcome.failed_images.push(FailedImageRecord {
        index,
        code: error.code.clone(),
        message: error.message.clone(),
        url: None,
    });
    if let Some(failed) = outcome.failed_images.last() {
        report(Saved::Failed(failed));
    }
}

/// A file-name stem from a prompt: its first ASCII words, lower case, joined by `-` (`image` when none).
pub fn slug(prompt: &str) -> String {
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = String::new();
    for word in words {
        if slug.len() + word.len() + 1 > 40 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() { "image".into() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_ascii_words() {
        assert_eq!(slug("A lighthouse at dawn!"), "a-lighthouse-at-dawn");
        assert_eq!(slug("一只猫"), "image");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert!(slug(&"word ".repeat(50)).len() <= 40);
    }
}
