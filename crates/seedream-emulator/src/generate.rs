//! From a valid request to the answer: output size and count, the images (as links or base64), the
//! JSON body or the server-sent events, and the faults that act on the answer itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use seedream_types::image::read_dimensions;
use seedream_types::size::adaptive_dimensions;
use seedream_types::stream::DONE_MARKER;
use seedream_types::{
    ApiErrorBody, Completed, DataUrl, Dimensions, FailedImage, GenerateRequest, GeneratedImage, ImageItem,
    ImagesResponse, ModelFamily, PartialFailed, PartialSucceeded, ResponseFormat, Size, SizeForm, StreamEvent, Usage,
};
use serde_json::{Map, json};
use tokio::sync::watch;

use crate::SharedState;
use crate::body::{self, Body, BoxError, Step};
use crate::error::{ApiError, json_response};
use crate::fault::{FaultKind, FaultSpec};
use crate::jpeg::MAX_SIDE;
use crate::store::Recipe;

/// A break-off waits this long after the last chunk, so hyper flushes what was sent before the
/// connection is dropped (an error while data is still buffered would discard it).
const FLUSH: Duration = Duration::from_millis(20);

/// Which base path the request came in on; decides the shape of `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `/v1`: relay usage (`prompt_tokens`, `completion_tokens`, details, `output_tokens`), plus
    /// `generated_images`.
    Relay,
    /// `/api/v3`: Ark usage (`generated_images`, `output_tokens`, `total_tokens`).
    Ark,
}

/// What to generate for one request.
#[derive(Debug)]
pub(crate) struct Job {
    pub model: String,
    pub created: i64,
    pub style: Style,
    pub b64: bool,
    pub stream: bool,
    /// Whether items carry `size` (Seedream 4.x and unknown models).
    pub show_size: bool,
    pub recipes: Vec<Recipe>,
    /// Indices that fail moderation.
    pub moderated: Vec<usize>,
    pub request_id: String,
}

impl Job {
    /// Plans a validated request.
    pub fn plan(request: &GenerateRequest, style: Style, request_id: &str) -> Self {
        let family = seedream_types::catalog::resolve(&request.model).map(|(family, _)| family);
        let dims = output_dimensions(request, family);
        let seed = request.seed.unwrap_or(-1);
        let watermark = request.watermark.unwrap_or(true);
        let recipes = (0..request.max_output_images())
            .map(|index| Recipe {
                width: dims.width,
                height: dims.height,
                key: Recipe::key(&request.prompt, seed, index),
                watermark,
            })
            .collect();
        Self {
            // An alias is answered with the family's dated id, as the service does.
            model: family.map_or(&*request.model, |f| f.model_id).to_owned(),
            created: unix_now(),
            style,
            b64: request.response_format_or_default() == ResponseFormat::B64Json,
            stream: request.is_stream(),
            show_size: family.is_none_or(|f| f.reports_size),
            recipes,
            moderated: Vec::new(),
            request_id: request_id.to_owned(),
        }
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The output size, following the spec: a preset takes the table size for the first input image's
/// ratio (square without a readable one), `WxH` is exact, `adaptive` takes the closest SeedEdit size to
/// the input image (1024x1024 when the input is a link the emulator cannot fetch). Without `size`:
/// 2048x2048 (Seedream 4.x, unknown models), 1024x1024 (Seedream 3.0 t2i), adaptive (SeedEdit).
fn output_dimensions(request: &GenerateRequest, family: Option<&ModelFamily>) -> Dimensions {
    let fallback = Dimensions::new(2048, 2048);
    let input = input_dimensions(request);
    let dims = match (request.size.as_ref().map(Size::form), family) {
        (Some(SizeForm::Preset(preset)), _) => preset.dimensions_for_ratio(input.map_or(1.0, Dimensions::ratio)),
        (Some(SizeForm::Pixels(dims)), _) => dims,
        (Some(SizeForm::Adaptive), _) => adaptive_dimensions(input.unwrap_or(Dimensions::new(1024, 1024))),
        (Some(SizeForm::Auto), _) => input.unwrap_or(fallback),
        (None, Some(family)) => family.default_dimensions(input),
        _ => fallback,
    };
    // Unknown models skip the size rules: never draw something absurd.
    let drawable = (1..=MAX_SIDE).contains(&dims.width) && (1..=MAX_SIDE).contains(&dims.height);
    if drawable && dims.area() <= 36_000_000 { dims } else { fallback }
}

fn input_dimensions(request: &GenerateRequest) -> Option<Dimensions> {
    let first = request.images().first()?;
    let data_url = DataUrl::parse(first)?.ok()?;
    let bytes = data_url.decode().ok()?;
    read_dimensions(&bytes).map(|(_, dims)| dims)
}

/// The JPEG of `recipe`, from the cache or freshly encoded off the async threads.
pub(crate) async fn image_bytes(state: &SharedState, recipe: Recipe) -> Bytes {
    if let Some(image) = state.cache.get(&recipe) {
        return image;
    }
    let image = state.tracker.run_blocking(move || recipe.render()).await.unwrap_or_default();
    state.cache.insert(recipe, image.clone());
    image
}

fn moderation_error(request_id: &str) -> ApiErrorBody {
    ApiErrorBody::new(
        "OutputImageSensitiveContentDetected",
        format!("The generated image may contain sensitive content. Request id: {request_id}"),
    )
}

/// One image: a link or base64, with its size.
async fn success(state: &SharedState, job: &Job, recipe: Recipe) -> GeneratedImage {
    let (url, b64_json) = if job.b64 {
        (None, Some(STANDARD.encode(image_bytes(state, recipe).await)))
    } else {
        (Some(state.link_for(recipe)), None)
    };
    let size = job.show_size.then(|| format!("{}x{}", recipe.width, recipe.height));
    GeneratedImage { url, b64_json, size, ..GeneratedImage::default() }
}

fn usage(style: Style, images: u64, tokens: u64) -> Usage {
    let mut usage = Usage {
        generated_images: Some(images),
        output_tokens: Some(tokens),
        total_tokens: Some(tokens),
        ..Usage::default()
    };
    if style == Style::Relay {
        usage.prompt_tokens = Some(0);
        usage.completion_tokens = Some(0);
        usage.prompt_tokens_details = Some(json!({"cached_tokens_details": {}}));
        usage.completion_tokens_details = Some(json!({}));
    }
    usage
}

fn tokens(recipe: &Recipe) -> u64 {
    u64::from(recipe.width) * u64::from(recipe.height)
}

/// The answer to a planned job, with the answer-level fault (if any) applied.
pub(crate) async fn respond(
    state: &SharedState,
    job: Job,
    fault: Option<FaultSpec>,
) -> Result<Response<Body>, ApiError> {
    if job.stream {
        return Ok(stream_response(state.clone(), job, fault));
    }
    let mut shutdown = state.shutdown_signal();
    let mut data = Vec::with_capacity(job.recipes.len());
    let (mut images, mut pixels) = (0u64, 0u64);
    for (index, recipe) in job.recipes.iter().enumerate() {
        if !body::pause(state.config.image_delay, &mut shutdown).await {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is shutting down.",
            ));
        }
        if job.moderated.contains(&index) {
            data.push(ImageItem::Failed(FailedImage { error: moderation_error(&job.request_id), extra: Map::new() }));
        } else {
            data.push(ImageItem::Image(success(state, &job, *recipe).await));
            images += 1;
            pixels += tokens(recipe);
        }
    }
    state.count_images(images);
    let response = ImagesResponse {
        model: Some(job.model.clone()),
        created: Some(job.created),
        data,
        usage: Some(usage(job.style, images, pixels / 256)),
        tools: None,
        extra: Map::new(),
    };
    let json = Bytes::from(serde_json::to_vec(&response).map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServiceError", format!("serialization failed: {e}"))
    })?);
    let half = json.slice(..json.len() / 2);
    let kind = fault.as_ref().map(|f| f.kind);
    let mut response = match kind {
        Some(FaultKind::InvalidJson) => json_response(StatusCode::OK, half),
        Some(FaultKind::Reset) | Some(FaultKind::Stall) => {
            let length = json.len();
            let steps = if kind == Some(FaultKind::Reset) {
                vec![Step::Chunk(half), Step::Pause(FLUSH), Step::Abort("reset fault")]
            } else {
                vec![Step::Pause(fault.as_ref().map(FaultSpec::duration).unwrap_or_default()), Step::Chunk(json)]
            };
            let mut response = json_response(StatusCode::OK, Bytes::new());
            *response.body_mut() = body::scripted(steps, state.shutdown_signal());
            response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            response
        }
        _ => json_response(StatusCode::OK, json),
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Where a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Image(usize),
    Completed,
    Done,
    End,
}

struct EventStream {
    state: SharedState,
    job: Job,
    fault: Option<FaultSpec>,
    phase: Phase,
    images: u64,
    pixels: u64,
    shutdown: watch::Receiver<bool>,
}

/// One event: `event: <type>` and `data: {"type":"<type>",…}` with `type` first, as the spec shows it
/// (the shared model's serializer goes through a sorted map).
fn sse(event: &StreamEvent) -> Bytes {
    let fields = match event {
        StreamEvent::PartialSucceeded(e) => serde_json::to_string(e),
        StreamEvent::PartialFailed(e) => serde_json::to_string(e),
        StreamEvent::Completed(e) => serde_json::to_string(e),
        StreamEvent::Error(_) | StreamEvent::Unknown(_) => serde_json::to_string(event),
    }
    .unwrap_or_else(|_| "{}".to_owned());
    let kind = event.event_type();
    let rest = fields.strip_prefix('{').unwrap_or("}");
    let separator = if rest == "}" { "" } else { "," };
    Bytes::from(format!("event: {kind}\ndata: {{\"type\":\"{kind}\"{separator}{rest}\n\n"))
}

impl EventStream {
    fn fault(&self) -> Option<FaultKind> {
        self.fault.as_ref().map(|f| f.kind)
    }

    async fn next_chunk(&mut self) -> Option<Result<Bytes, BoxError>> {
        match self.phase {
            Phase::Image(index) => {
                if !body::pause(self.state.config.image_delay, &mut self.shutdown).await {
                    self.phase = Phase::End;
                    return Some(Err(body::aborted("the emulator is shutting down")));
                }
                let chunk = self.image_event(index).await;
                self.phase =
                    if index + 1 < self.job.recipes.len() { Phase::Image(index + 1) } else { Phase::Completed };
                if index == 0 {
                    return Some(self.after_first(chunk).await);
                }
                Some(Ok(chunk))
            }
            Phase::Completed => {
                self.phase = Phase::Done;
                self.state.count_images(self.images);
                let event = StreamEvent::Completed(Completed {
                    model: Some(self.job.model.clone()),
                    created: Some(self.job.created),
                    usage: Some(usage(Style::Ark, self.images, self.pixels / 256)),
                    extra: Map::new(),
                });
                Some(Ok(sse(&event)))
            }
            Phase::Done => {
                self.phase = Phase::End;
                Some(Ok(Bytes::from(format!("data: {DONE_MARKER}\n\n"))))
            }
            Phase::End => None,
        }
    }

    async fn image_event(&mut self, index: usize) -> Bytes {
        let recipe = self.job.recipes[index];
        let (model, created, image_index) = (Some(self.job.model.clone()), Some(self.job.created), index as u32);
        if index == 0 && self.fault() == Some(FaultKind::InvalidJson) {
            return Bytes::from_static(b"event: image_generation.partial_succeeded\ndata: {\"type\":\"image_generation.partial_succeeded\",\"image_index\":0,\"url\":\n\n");
        }
        let event = if self.job.moderated.contains(&index) {
            StreamEvent::PartialFailed(PartialFailed {
                model,
                created,
                image_index,
                error: moderation_error(&self.job.request_id),
                extra: Map::new(),
            })
        } else {
            let image = success(&self.state, &self.job, recipe).await;
            self.images += 1;
            self.pixels += tokens(&recipe);
            StreamEvent::PartialSucceeded(PartialSucceeded {
                model,
                created,
                image_index,
                url: image.url,
                b64_json: image.b64_json,
                size: image.size,
                output_format: image.output_format,
                extra: Map::new(),
            })
        };
        sse(&event)
    }

    /// The first event, followed by what the fault does after it.
    async fn after_first(&mut self, first: Bytes) -> Result<Bytes, BoxError> {
        match self.fault() {
            Some(FaultKind::StreamCut) => {
                self.phase = Phase::End;
                Ok(first)
            }
            Some(FaultKind::StreamError) => {
                self.phase = Phase::End;
                let error = ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServiceError",
                    "The service encountered an unexpected internal error.",
                );
                let line = serde_json::to_string(&StreamEvent::Error(error.body(&self.job.request_id)))
                    .unwrap_or_else(|_| "{}".to_owned());
                let mut chunk = first.to_vec();
                chunk.extend_from_slice(format!("data: {line}\n\n").as_bytes());
                Ok(Bytes::from(chunk))
            }
            _ => Ok(first),
        }
    }
}

fn stream_response(state: SharedState, job: Job, fault: Option<FaultSpec>) -> Response<Body> {
    let shutdown = state.shutdown_signal();
    let stall = fault.as_ref().filter(|f| f.kind == FaultKind::Stall).map(FaultSpec::duration);
    let reset = fault.as_ref().is_some_and(|f| f.kind == FaultKind::Reset);
    let events = EventStream { state, job, fault, phase: Phase::Image(0), images: 0, pixels: 0, shutdown };
    let chunks = futures_util::stream::unfold((events, 0usize), move |(mut events, sent)| async move {
        if sent == 1 {
            if reset {
                body::pause(FLUSH, &mut events.shutdown).await;
                return Some((Err(body::aborted("reset fault")), (events, usize::MAX)));
            }
            if let Some(stall) = stall
                && !body::pause(stall, &mut events.shutdown).await
            {
                return Some((Err(body::aborted("the emulator is shutting down")), (events, usize::MAX)));
            }
        }
        if sent == usize::MAX {
            return None;
        }
        let chunk = events.next_chunk().await?;
        Some((chunk, (events, sent + 1)))
    });
    let mut response = Response::new(body::from_stream(chunks));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedream_types::{SEEDEDIT_3_0_I2I, SEEDREAM_3_0_T2I, SEEDREAM_4_0, SizePreset};

    fn dims(request: &GenerateRequest) -> Dimensions {
        output_dimensions(request, seedream_types::catalog::family_of(&request.model))
    }

    #[test]
    fn sizes_follow_the_request() {
        let png = |w: u32, h: u32| {
            let jpeg = crate::jpeg::synthetic_jpeg(w, h, 1, false).unwrap();
            seedream_types::image::encode_data_url(seedream_types::ImageFormat::Jpeg, &jpeg)
        };
        let base = GenerateRequest::new(SEEDREAM_4_0, "p");
        assert_eq!(dims(&base), Dimensions::new(2048, 2048));
        assert_eq!(dims(&base.clone().with_size(Size::pixels(1760, 2368))), Dimensions::new(1760, 2368));
        assert_eq!(dims(&base.clone().with_size(SizePreset::TwoK)), Dimensions::new(2048, 2048));
        let wide = base.clone().with_image(png(1600, 900)).with_size(SizePreset::FourK);
        assert_eq!(dims(&wide), Dimensions::new(5504, 3040));
        let edit = GenerateRequest::new(SEEDEDIT_3_0_I2I, "p").with_image(png(800, 600)).with_size(Size::Adaptive);
        assert_eq!(dims(&edit), Dimensions::new(1152, 864));
        let linked = GenerateRequest::new(SEEDEDIT_3_0_I2I, "p").with_image("https://a/b.png");
        assert_eq!(dims(&linked), Dimensions::new(1024, 1024));
        assert_eq!(dims(&GenerateRequest::new(SEEDREAM_3_0_T2I, "p")), Dimensions::new(1024, 1024));
        assert_eq!(
            dims(&GenerateRequest::new("ep-1", "p").with_size(Size::pixels(100_000, 1))),
            Dimensions::new(2048, 2048)
        );
    }
}
