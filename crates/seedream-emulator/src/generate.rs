//! From a valid request to the answer: output size, format and count (or a base image and its
//! layers), the images (as links or base64), the JSON body or the server-sent events, usage as the
//! family's row says to report it, and the faults that act on the answer itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use seedream_types::image::read_dimensions;
use seedream_types::size::adaptive_dimensions;
use seedream_types::stream::DONE_MARKER;
use seedream_types::{
    ApiErrorBody, Background, DataUrl, Dimensions, FailedImage, GenerateRequest, GeneratedImage, ImageItem,
    ImagesResponse, ModelFamily, OutputFormat, PartialFailed, PartialSucceeded, ResponseFormat, Size, SizeForm,
    StreamEvent, Tool, ToolType, ToolUsage, Usage,
};
use serde_json::{Map, json};
use tokio::sync::watch;

use crate::SharedState;
use crate::body::{self, Body, BoxError, Step};
use crate::canvas::{Alpha, Encoding};
use crate::error::{ApiError, json_response};
use crate::fault::{FaultKind, FaultSpec};
use crate::jpeg::MAX_SIDE;
use crate::layers::{self, LayerPlan};
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

/// One item of the answer: the image's recipe and, with layer decomposition, its place in the stack.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub recipe: Recipe,
    /// `None` for an ordinary image; with layer decomposition, the base image has `z_index` 0 and no
    /// layer plan, each layer its plan.
    pub layer: Option<Option<LayerPlan>>,
}

/// What to generate for one request.
#[derive(Debug)]
pub(crate) struct Job {
    pub model: String,
    pub created: i64,
    pub style: Style,
    pub b64: bool,
    pub stream: bool,
    /// Whether items carry `size` (the family's row says; unknown models too).
    pub show_size: bool,
    /// Whether items carry `output_format` and usage `input_images` (the family's row says).
    pub show_format: bool,
    /// Whether items state their `background` (the family's row says: 5.5).
    pub show_background: bool,
    /// The reference images the request carried.
    pub input_images: u64,
    /// The request's `tools`, echoed at the top of the answer; web searches are billed for them.
    pub tools: Option<Vec<Tool>>,
    pub items: Vec<Planned>,
    /// Whether the items are a base image and its layers (one failure fails them all).
    pub layered: bool,
    /// Indices that fail moderation.
    pub moderated: Vec<usize>,
    pub request_id: String,
}

impl Job {
    /// Plans a validated request.
    pub fn plan(request: &GenerateRequest, style: Style, request_id: &str) -> Self {
        let family = seedream_types::catalog::family_of(&request.model);
        let dims = output_dimensions(request, family);
        let seed = request.seed.unwrap_or(-1);
        let watermark = request.watermark.unwrap_or(true);
        let encoding = output_encoding(request, family);
        // 5.0 keeps the input image's transparency; 5.5 draws it from the prompt alone. `auto` comes out
        // opaque here: the emulator's model always decides so.
        let alpha = if request.background == Some(Background::Transparent) { Alpha::Subject } else { Alpha::Opaque };
        let alpha = if encoding == Encoding::Png { alpha } else { Alpha::Opaque };
        let recipe = |index| Recipe {
            width: dims.width,
            height: dims.height,
            key: Recipe::key(&request.prompt, seed, index),
            watermark,
            encoding,
            alpha,
        };
        let layer_rule = family.and_then(|f| f.layers.as_ref()).filter(|_| request.is_layer_decomposition());
        let items = match layer_rule {
            Some(rule) => {
                let base = recipe(0);
                let layers = layers::plan(base.key, dims, rule.default_layers()).into_iter().map(|layer| Planned {
                    // Layers are RGBA PNGs the size of the base image, without the watermark.
                    recipe: Recipe {
                        watermark: false,
                        encoding: Encoding::Png,
                        alpha: Alpha::Layer { bbox: layer.bbox, ellipse: layer.ellipse },
                        ..base
                    },
                    layer: Some(Some(layer)),
                });
                std::iter::once(Planned { recipe: base, layer: Some(None) }).chain(layers).collect()
            }
            None => {
                (0..request.max_output_images()).map(|index| Planned { recipe: recipe(index), layer: None }).collect()
            }
        };
        Self {
            model: answered_model(&request.model, family),
            created: unix_now(),
            style,
            b64: request.response_format_or_default() == ResponseFormat::B64Json,
            stream: request.is_stream(),
            show_size: family.is_none_or(|f| f.reports_size),
            show_format: family.is_some_and(|f| f.reports_formats),
            show_background: family.and_then(|f| f.background.as_ref()).is_some_and(|rule| rule.reported),
            input_images: request.images().len() as u64,
            tools: request.tools.clone().filter(|tools| !tools.is_empty()),
            items,
            layered: layer_rule.is_some(),
            moderated: Vec::new(),
            request_id: request_id.to_owned(),
        }
    }

    /// The answer's top level for `images` successful images of `pixels` pixels, `data` left empty. A
    /// stream's `completed` event is made from it as well, so the two carry the same (`tools` too).
    fn summary(&self, style: Style, images: u64, pixels: u64) -> ImagesResponse {
        ImagesResponse {
            model: Some(self.model.clone()),
            created: Some(self.created),
            data: Vec::new(),
            usage: Some(self.usage(style, images, pixels / 256)),
            tools: self.tools.clone(),
            extra: Map::new(),
        }
    }

    /// The answer's `usage` for `images` successful images of `tokens` tokens, in `style`.
    fn usage(&self, style: Style, images: u64, tokens: u64) -> Usage {
        let mut usage = Usage {
            input_images: self.show_format.then_some(self.input_images),
            generated_images: Some(images),
            output_tokens: Some(tokens),
            total_tokens: Some(tokens),
            ..Usage::default()
        };
        // One search per request that enables it (the service searches once, then draws).
        let searches = self.tools.iter().flatten().any(|tool| tool.kind == ToolType::WebSearch);
        if searches {
            usage.tool_usage = Some(ToolUsage { web_search: Some(1), ..ToolUsage::default() });
        }
        if style == Style::Relay {
            usage.prompt_tokens = Some(0);
            usage.completion_tokens = Some(0);
            usage.prompt_tokens_details = Some(json!({"cached_tokens_details": {}}));
            usage.completion_tokens_details = Some(json!({}));
        }
        usage
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The output size, following the spec: a preset takes the table size for the first input image's
/// ratio (square without a readable one), `WxH` is exact, `adaptive` takes the closest SeedEdit size to
/// the input image (1024x1024 when the input is a link the emulator cannot fetch), `auto` (and no
/// `size` with layer decomposition) the input image's own size. Without `size`: the family's default
/// (2048x2048 for unknown models).
fn output_dimensions(request: &GenerateRequest, family: Option<&ModelFamily>) -> Dimensions {
    let fallback = Dimensions::new(2048, 2048);
    let input = input_dimensions(request);
    let layers = request.is_layer_decomposition() && family.is_some_and(|f| f.layers.is_some());
    let dims = match (request.size.as_ref().map(Size::form), family) {
        (Some(SizeForm::Preset(preset)), _) => preset.dimensions_for_ratio(input.map_or(1.0, Dimensions::ratio)),
        (Some(SizeForm::Pixels(dims)), _) => dims,
        (Some(SizeForm::Adaptive), _) => adaptive_dimensions(input.unwrap_or(Dimensions::new(1024, 1024))),
        (Some(SizeForm::Auto), Some(family)) | (None, Some(family)) if layers => {
            input.unwrap_or_else(|| family.default_dimensions(None))
        }
        (Some(SizeForm::Auto), _) => input.unwrap_or(fallback),
        (None, Some(family)) => family.default_dimensions(input),
        _ => fallback,
    };
    // Unknown models skip the size rules: never draw something absurd.
    let drawable = (1..=MAX_SIDE).contains(&dims.width) && (1..=MAX_SIDE).contains(&dims.height);
    if drawable && dims.area() <= 36_000_000 { dims } else { fallback }
}

/// PNG when asked for (or with a transparent background), JPEG when asked for, else the family's
/// default: the first of its row's `output_formats` (JPEG for unknown models).
fn output_encoding(request: &GenerateRequest, family: Option<&ModelFamily>) -> Encoding {
    let word = |format: &str| if format == "png" { Encoding::Png } else { Encoding::Jpeg };
    if request.background == Some(Background::Transparent) {
        return Encoding::Png;
    }
    match &request.output_format {
        Some(OutputFormat::Png) => Encoding::Png,
        Some(OutputFormat::Jpeg) => Encoding::Jpeg,
        _ => family.and_then(|f| f.output_formats.first()).map_or(Encoding::Jpeg, |format| word(format)),
    }
}

fn input_dimensions(request: &GenerateRequest) -> Option<Dimensions> {
    let first = request.images().first()?;
    let data_url = DataUrl::parse(first)?.ok()?;
    let bytes = data_url.decode().ok()?;
    read_dimensions(&bytes).map(|(_, dims)| dims)
}

/// The file of `recipe`, from the cache or freshly encoded off the async threads.
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

/// The `model` of the answer: an id of the family's main stem as it was asked for (each provider's
/// spelling), an alias (the lite alias's `-lite-` stem too) as its family's current id, as the service does.
fn answered_model(model: &str, family: Option<&ModelFamily>) -> String {
    use seedream_types::catalog::{Provider, has_stem, without_vendor};
    let Some(family) = family else { return model.to_owned() };
    if family.prefixes.first().is_some_and(|stem| has_stem(without_vendor(model), stem)) {
        return model.to_owned();
    }
    family.current_id(Provider::of_id(model).unwrap_or(Provider::Volcengine)).to_owned()
}

/// One image: a link or base64, with the fields the family states (size, format) and, for layer
/// decomposition, its place in the stack.
async fn success(state: &SharedState, job: &Job, item: &Planned) -> GeneratedImage {
    let recipe = item.recipe;
    let (url, b64_json) = if job.b64 {
        (None, Some(STANDARD.encode(image_bytes(state, recipe).await)))
    } else {
        (Some(state.link_for(recipe)), None)
    };
    let size = job.show_size.then(|| format!("{}x{}", recipe.width, recipe.height));
    let output_format = job.show_format.then_some(match recipe.encoding {
        Encoding::Jpeg => OutputFormat::Jpeg,
        Encoding::Png => OutputFormat::Png,
    });
    let background = job.show_background.then_some(match recipe.alpha {
        Alpha::Opaque => Background::Opaque,
        _ => Background::Transparent,
    });
    let mut image = GeneratedImage { url, b64_json, size, output_format, background, ..GeneratedImage::default() };
    match &item.layer {
        None => {}
        Some(None) => image.z_index = Some(0),
        Some(Some(layer)) => {
            image.z_index = Some(layer.z_index);
            image.bounding_box = Some(layer.bounding_box(Dimensions::new(recipe.width, recipe.height)));
            image.name = Some(layer.name.clone());
            image.description = Some(layer.description.clone());
        }
    }
    image
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
    // A decomposition is all or nothing: one failed layer fails the request.
    if job.layered && job.moderated.iter().any(|&index| index < job.items.len()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "OutputImageSensitiveContentDetected",
            "The generated image may contain sensitive content.",
        ));
    }
    let mut shutdown = state.shutdown_signal();
    let mut data = Vec::with_capacity(job.items.len());
    let (mut images, mut pixels) = (0u64, 0u64);
    for (index, item) in job.items.iter().enumerate() {
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
            data.push(ImageItem::Image(success(state, &job, item).await));
            // Every item of a decomposition (base image and layers) is an image made and billed.
            images += 1;
            pixels += tokens(&item.recipe);
        }
    }
    state.count_images(images);
    let response = ImagesResponse { data, ..job.summary(job.style, images, pixels) };
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

/// One event: `event: <type>` and `data: {"type":"<type>",…}` (the model writes `type` first, as the
/// spec shows it).
fn sse(event: &StreamEvent) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("event: {}\ndata: {data}\n\n", event.event_type()))
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
                self.phase = if index + 1 < self.job.items.len() { Phase::Image(index + 1) } else { Phase::Completed };
                if index == 0 {
                    return Some(self.after_first(chunk).await);
                }
                Some(Ok(chunk))
            }
            Phase::Completed => {
                self.phase = Phase::Done;
                self.state.count_images(self.images);
                // Without items, the answer's only event is its `completed`, its top level whole.
                let summary = self.job.summary(Style::Ark, self.images, self.pixels);
                Some(Ok(summary.into_events().last().map_or_else(Bytes::new, |event| sse(&event))))
            }
            Phase::Done => {
                self.phase = Phase::End;
                Some(Ok(Bytes::from(format!("data: {DONE_MARKER}\n\n"))))
            }
            Phase::End => None,
        }
    }

    async fn image_event(&mut self, index: usize) -> Bytes {
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
            let item = &self.job.items[index];
            let image = success(&self.state, &self.job, item).await;
            self.images += 1;
            self.pixels += tokens(&item.recipe);
            // The event carries every field the item has in a plain answer's `data[]`.
            StreamEvent::PartialSucceeded(PartialSucceeded::from_image(image, model, created, image_index))
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
