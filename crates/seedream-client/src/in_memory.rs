//! [`ImagesCall::bytes`](crate::ImagesCall::bytes): a response's images as bytes in memory, each `b64_json` string decoded
//! as it arrives so that the answer's text is never held: a 100 MB answer of 75 MB of images costs
//! about 75 MB, where awaiting the call and then `into_image_bytes` hold the 100 MB of text first.

use futures_util::future::try_join_all;
use seedream_types::{GeneratedImage, ImageItem, ImagesResponse};

use crate::b64::B64Stream;
use crate::body::BodyReader;
use crate::call::Job;
use crate::client::Client;
use crate::decode::{ImageSink, ImagesDecoder};
use crate::error::Error;
use crate::image::ImageBytes;
use crate::meta::ResponseMeta;
use crate::text::Redactor;

/// Base64 characters decoded per step.
const PIECE: usize = 64 * 1024;
/// The most room reserved up front for one image (a service image is well under it).
const MOST_RESERVED: u64 = 128 << 20;

/// What [`ImagesCall::bytes`](crate::ImagesCall::bytes) returns: the response and the bytes of each of its images.
#[derive(Debug)]
#[non_exhaustive]
pub struct GeneratedBytes {
    /// The response as parsed; the images' `b64_json` is `None` (their bytes are in `images`).
    pub response: ImagesResponse,
    /// Each image of `data` with its index there, in order; failed items have none.
    pub images: Vec<(usize, ImageBytes)>,
    /// Request id, status and attempts of the call.
    pub meta: ResponseMeta,
}

impl GeneratedBytes {
    /// The bytes of `data[index]`, when it is an image.
    pub fn image(&self, index: usize) -> Option<&ImageBytes> {
        self.images.iter().find(|(at, _)| *at == index).map(|(_, bytes)| bytes)
    }
}

/// Decodes each `b64_json` string into its own buffer as the body arrives.
#[derive(Default)]
struct MemorySink {
    b64: B64Stream,
    /// Each image's index and buffer, and how much of the buffer is decoded bytes.
    images: Vec<(usize, Vec<u8>, usize)>,
    /// What is left of the body, when its length is known: no image can decode to more than 3/4
    /// of it. Taking that much up front means the buffer never moves while it fills, so no image is
    /// ever resident twice; the pages taken but not written are never resident.
    body_left: Option<u64>,
}

impl MemorySink {
    fn error(&self, error: impl std::fmt::Display) -> Error {
        let index = self.images.last().map_or(0, |(index, _, _)| *index);
        Error::Decode { reason: format!("image {index}: {error}"), body_start: String::new() }
    }

    /// The images (each cut to its decoded bytes when its string ended).
    fn into_images(self) -> Vec<(usize, Vec<u8>)> {
        self.images.into_iter().map(|(index, out, _)| (index, out)).collect()
    }
}

/// The buffer of the image being decoded (the last of `images`), with room for `room` more bytes,
/// and its fill.
fn room(images: &mut [(usize, Vec<u8>, usize)], room: usize) -> Option<(&mut Vec<u8>, &mut usize)> {
    let (_, out, filled) = images.last_mut()?;
    if out.len() - *filled < room {
        // Only when the body's length was not known (or the memory could not be had up front).
        let len = (*filled + room).max(2 * out.len());
        out.resize(len, 0);
    }
    Some((out, filled))
}

/// `len` zeroed bytes, or `None` when the memory cannot be had. A large buffer comes zeroed from
/// the kernel and is not written here, so only the pages the decoder fills become resident.
fn zeroed(len: usize) -> Option<Vec<u8>> {
    let layout = std::alloc::Layout::array::<u8>(len).ok().filter(|layout| layout.size() > 0)?;
    // SAFETY: `layout` has a non-zero size. A non-null result is `len` bytes from the global
    // allocator with that layout, all zero and so initialised: what `Vec::from_raw_parts` needs.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout);
        (!ptr.is_null()).then(|| Vec::from_raw_parts(ptr, len, len))
    }
}

impl ImageSink for MemorySink {
    fn start(&mut self, index: usize) -> Result<(), Error> {
        self.b64 = B64Stream::default();
        let up_front = self.body_left.map_or(0, |left| (left / 4 * 3 + 3).min(MOST_RESERVED) as usize);
        self.images.push((index, zeroed(up_front).unwrap_or_default(), 0));
        Ok(())
    }

    fn write(&mut self, mut text: &[u8]) -> Result<(), Error> {
        while !text.is_empty() {
            let piece = text.len().min(PIECE);
            let Some((out, filled)) = room(&mut self.images, B64Stream::room_for(piece)) else { return Ok(()) };
            let decoded = self.b64.feed(&text[..piece], &mut out[*filled..]);
            match decoded {
                Ok(written) => *filled += written,
                Err(error) => return Err(self.error(error)),
            }
            text = &text[piece..];
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        let Some((out, filled)) = room(&mut self.images, B64Stream::room_for(0)) else { return Ok(()) };
        match self.b64.finish(&mut out[*filled..]) {
            Ok(written) => *filled += written,
            Err(error) => return Err(self.error(error)),
        }
        // What was taken up front and not filled is given back now, not when the body ends.
        out.truncate(*filled);
        out.shrink_to_fit();
        Ok(())
    }
}

/// Reads a JSON answer, decoding its `b64_json` images as they come.
async fn decode_body(
    mut reader: BodyReader,
    redactor: &Redactor,
) -> Result<(ImagesResponse, Vec<(usize, Vec<u8>)>), Error> {
    let mut decoder = ImagesDecoder::new();
    let mut sink = MemorySink::default();
    let length = reader.size_hint();
    while let Some(chunk) = reader.next_chunk().await {
        sink.body_left = length.map(|length| length.saturating_sub(decoder.bytes_fed()));
        decoder.feed_streaming(&chunk?, &mut sink)?;
    }
    let mut response = decoder.finish().map_err(Error::decode)?;
    redactor.response(&mut response);
    Ok((response, sink.into_images()))
}

/// Sends `job` and returns the bytes of every image; see [`ImagesCall::bytes`](crate::ImagesCall::bytes).
/// An event stream (`stream: true`) is gathered as `send` gathers it, then decoded.
pub(crate) async fn read_bytes(client: &Client, job: &Job<'_>) -> Result<GeneratedBytes, Error> {
    let ((mut response, decoded), meta) = client
        .send_reading(job, |answer, redactor| async move {
            if answer.is_event_stream() {
                let (response, meta) = client.images_response(answer).await?;
                return Ok(((response, Vec::new()), meta));
            }
            Ok((decode_body(answer.reader, redactor).await?, answer.meta))
        })
        .await?;
    let mut images = Vec::with_capacity(response.data.len());
    for (index, bytes) in decoded {
        let stated = match response.data.get_mut(index) {
            Some(ImageItem::Image(item)) => {
                item.b64_json = None;
                item.stated_format()
            }
            Some(ImageItem::Failed(failed)) => {
                failed.extra.remove("b64_json");
                continue;
            }
            None => continue,
        };
        images.push((index, ImageBytes::new(bytes, stated)));
    }
    // What was not decoded on the way: links, and every image of an event stream.
    let rest: Vec<(usize, GeneratedImage)> = response
        .data
        .iter_mut()
        .enumerate()
        .filter(|(index, _)| !images.iter().any(|(done, _)| done == index))
        .filter_map(|(index, item)| match item {
            ImageItem::Image(image) if image.b64_json.is_some() || image.url.is_some() => {
                let text = image.b64_json.take();
                Some((index, GeneratedImage { b64_json: text, ..image.clone() }))
            }
            _ => None,
        })
        .collect();
    let fetched = try_join_all(
        rest.into_iter()
            .map(|(index, image)| async move { client.into_image_bytes(image).await.map(|bytes| (index, bytes)) }),
    )
    .await?;
    images.extend(fetched);
    images.sort_by_key(|(index, _)| *index);
    Ok(GeneratedBytes { response, images, meta })
}
