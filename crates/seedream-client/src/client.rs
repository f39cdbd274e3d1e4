//! [`Client`]: its handles (deadline, client request id), the calls it starts (generate and edit as
//! [`ImagesCall`]s, the model listing), and image bytes and downloads, each under the call's deadline.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::Either;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Uri};
use seedream_types::catalog::{Catalog, ModelFamily};
use seedream_types::{EditRequest, GenerateRequest, GeneratedImage, ImageFormat, ImagesResponse, ModelList};
use tokio::time::Instant;

use crate::body::BodyReader;
use crate::call::{Held, ImagesCall, Job};
use crate::config::EditMode;
use crate::deadline::{Deadline, overall_timeout};
use crate::decode::{ImagesDecoder, decode_b64, decode_b64_owned};
use crate::error::{CallPhase, Error};
use crate::image::{ImageBytes, format_of_media_type};
use crate::meta::{ResponseMeta, header_text};
use crate::output::Output;
use crate::send::{Answer, Call, Sender};
use crate::stream::ImageStream;
use crate::text::Redactor;
use crate::transport::RequestBody;

/// The Seedream / SeedEdit API client. Cheap to clone (shared state behind an `Arc`), `Send + Sync`.
///
/// ```no_run
/// # async fn run() -> Result<(), seedream_client::Error> {
/// use seedream_client::Client;
/// use seedream_types::{GenerateRequest, SEEDREAM_4_0};
///
/// let client = Client::from_env()?;
/// let request = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn");
/// // The parsed response, with its request id.
/// let response = client.generate(&request).await?;
/// println!("{} images, request id {:?}", response.images().count(), response.request_id());
/// // ./lighthouse-0.jpg (or .png: the extension of the bytes), `b64_json` decoded into the file as
/// // the answer arrives.
/// let saved = client.generate(&request).save_to(".", "lighthouse").await?;
/// # let _ = saved;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// Set by [`Client::with_deadline`]: every call through this handle ends by then.
    deadline: Option<Instant>,
    /// Set by [`Client::with_client_request_id`]: the `X-Client-Request-Id` of every call through
    /// this handle.
    client_request_id: Option<HeaderValue>,
}

/// What the handles of one client share.
pub(crate) struct Inner {
    pub(crate) base_url: String,
    /// `scheme://authority` of the base URL: only requests there get the API key.
    pub(crate) origin: (String, String),
    pub(crate) generations: Uri,
    pub(crate) edits: Uri,
    pub(crate) models: Uri,
    pub(crate) sender: Sender,
    pub(crate) validate: bool,
    /// The rows requests are validated by, when not the built-in ones.
    pub(crate) catalog: Option<Arc<Catalog>>,
    pub(crate) edit_mode: EditMode,
    /// One permit per download running at once.
    pub(crate) downloads: Arc<tokio::sync::Semaphore>,
    pub(crate) max_parallel_downloads: usize,
    /// The key, proxy credentials and extra header values, removed from server texts.
    pub(crate) redactor: Redactor,
    /// The first model id this client validated and the index of its family's row: a client
    /// mostly sends one model, and finding a family walks the stems of every row. Set once, so a call
    /// reads it without writing anything the other threads' calls share.
    pub(crate) first_family: OnceLock<(String, Option<usize>)>,
}

impl Inner {
    /// The catalog requests are validated by.
    pub(crate) fn catalog(&self) -> &Catalog {
        self.catalog.as_deref().unwrap_or(Catalog::builtin())
    }

    /// The family whose rules apply to `model` ([`Catalog::family_of`] of this client's catalog),
    /// remembered for the first model the client sends.
    pub(crate) fn family_of(&self, model: &str) -> Option<&ModelFamily> {
        let catalog = self.catalog();
        let (first, index) = self.first_family.get_or_init(|| {
            let family = catalog.family_of(model);
            let index = family.and_then(|family| catalog.families().iter().position(|row| std::ptr::eq(row, family)));
            (model.to_owned(), index)
        });
        if first == model { index.and_then(|index| catalog.families().get(index)) } else { catalog.family_of(model) }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let sender = &inner.sender;
        f.debug_struct("Client")
            .field("base_url", &inner.base_url)
            .field("api_key", &"<redacted>")
            .field("transport", &sender.transport)
            .field("timeouts", &sender.timeouts)
            .field("retry", &sender.retry)
            .field("user_agent", &sender.user_agent)
            .field("extra_headers", &sender.headers.keys().collect::<Vec<_>>())
            .field("validate_requests", &inner.validate)
            .field("edit_mode", &inner.edit_mode)
            .field("max_response_bytes", &sender.max_response_bytes)
            .field("max_parallel_downloads", &inner.max_parallel_downloads)
            .field("deadline", &self.deadline)
            .field("client_request_id", &self.client_request_id)
            .finish()
    }
}

impl Client {
    /// A client around what the builder checked.
    pub(crate) fn new(inner: Inner) -> Self {
        Client { inner: Arc::new(inner), deadline: None, client_request_id: None }
    }

    /// A handle to the same client (same connections, same settings) whose every call — generate,
    /// edit, stream, download — ends by `now + within`, retries and waiting included; with the
    /// client's own [`Timeouts::overall`](crate::Timeouts::overall) the earlier of the two holds. Take one per job to give a
    /// call and the downloads of its images one deadline together:
    ///
    /// ```no_run
    /// # async fn run(client: seedream_client::Client, request: seedream_types::GenerateRequest) -> Result<(), seedream_client::Error> {
    /// let job = client.with_deadline(std::time::Duration::from_secs(20 * 60));
    /// let response = job.generate(&request).await?;
    /// for image in response.into_inner().data.into_iter().filter_map(|item| item.image().cloned()) {
    ///     let bytes = job.into_image_bytes(image).await?; // same deadline
    /// #   let _ = bytes;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_deadline(&self, within: Duration) -> Client {
        let at = Instant::now() + within;
        Client {
            inner: self.inner.clone(),
            deadline: Some(self.deadline.map_or(at, |earlier| earlier.min(at))),
            client_request_id: self.client_request_id.clone(),
        }
    }

    /// A handle to the same client whose calls send `id` as their `X-Client-Request-Id` (instead of
    /// a new one per call): for a caller that records the id before the call, so that a call it
    /// abandons (its own time limit, a crash) can still be named to support. Take one per call; see
    /// [`new_client_request_id`](crate::new_client_request_id) for an id in the official SDKs' form.
    /// Fails when `id` cannot be sent in a header.
    pub fn with_client_request_id(&self, id: &str) -> Result<Client, Error> {
        let value = HeaderValue::try_from(id)
            .map_err(|_| Error::Config(format!("the client request id {id:?} cannot be sent in a header")))?;
        Ok(Client { inner: self.inner.clone(), deadline: self.deadline, client_request_id: Some(value) })
    }

    /// The `X-Client-Request-Id` of a call starting now: the handle's, the caller's extra header, or new.
    pub(crate) fn client_request_id(&self) -> HeaderValue {
        self.client_request_id.clone().unwrap_or_else(|| self.inner.sender.client_request_id())
    }

    /// The deadline of one call starting now: the handle's and the client's overall limit, the earlier.
    pub(crate) fn call_deadline(&self) -> Option<Instant> {
        let overall = self.inner.sender.timeouts.overall.map(|overall| Instant::now() + overall);
        match (self.deadline, overall) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// How edits are sent (never [`EditMode::Auto`]: the choice made from the base URL).
    pub fn edit_mode(&self) -> EditMode {
        self.inner.edit_mode
    }

    /// A generate call for `request`: await it for the parsed response, or pick another output
    /// (`.bytes()`, `.save_to(dir, stem)`, `.stage_in(dir)`, `.stream()`); see [`ImagesCall`].
    /// The request is validated (unless turned off) when the call is sent.
    pub fn generate<'a>(&'a self, request: &'a GenerateRequest) -> ImagesCall<'a> {
        ImagesCall::new(self, Job::Generate(Held::Borrowed(request)))
    }

    /// An edit call for `request`, with the same outputs as [`generate`](Self::generate): multipart
    /// `POST /images/edits` for relays; for Ark (no edits endpoint) the same job as a generations call
    /// with the images as data URLs. See [`EditMode`].
    pub fn edit<'a>(&'a self, request: &'a EditRequest) -> ImagesCall<'a> {
        ImagesCall::new(self, Job::Edit(Held::Borrowed(request)))
    }

    /// The models the service lists (`GET {base}/models`), each with its lifecycle `status` when it is
    /// not running normally: the live source of which ids are retiring or shut down. The listing
    /// includes models the key may not call and undated aliases that generations refuses. Retried as
    /// other calls are.
    pub async fn list_models(&self) -> Result<Output<ModelList>, Error> {
        let id = self.client_request_id();
        self.within_deadline(CallPhase::Body, Some(id.clone()), |deadline| async move {
            let call = Call {
                method: Method::GET,
                uri: &self.inner.models,
                content_type: None,
                accept: Some("application/json"),
                body: RequestBody::empty(),
                authorized: true,
                download: false,
                client_request_id: Some(id),
                model: "",
            };
            let answer = self.inner.sender.execute(&call, deadline).await?;
            let body = answer.reader.read_all().await?;
            let list = serde_json::from_slice::<ModelList>(&body).map_err(|e| Error::Decode {
                reason: format!("not a model listing: {e}"),
                body_start: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
            })?;
            Ok((list, answer.meta))
        })
        .await
        .map(|(list, meta)| Output::new(list, meta))
    }

    /// The bytes of an image, `b64_json` decoded or `url` downloaded (see [`download`](Self::download)),
    /// with their format: sniffed from the bytes, else the item's `output_format`, else (downloads)
    /// the `Content-Type` header.
    pub async fn image_bytes(&self, image: &GeneratedImage) -> Result<ImageBytes, Error> {
        if let Some(text) = &image.b64_json {
            let bytes =
                decode_b64(text).map_err(|e| Error::Decode { reason: e.to_string(), body_start: start_of(text) })?;
            return Ok(ImageBytes::of(image, bytes));
        }
        match &image.url {
            Some(url) => {
                let (bytes, header_format) = self.fetch(url).await?;
                Ok(ImageBytes::new(bytes, image.stated_format().or(header_format)))
            }
            None => Err(Error::Decode {
                reason: "the image has neither b64_json nor url".into(),
                body_start: String::new(),
            }),
        }
    }

    /// Like [`image_bytes`](Self::image_bytes), consuming the image: `b64_json` is decoded in place in
    /// the string's own memory, so a large group needs no second buffer.
    pub async fn into_image_bytes(&self, image: GeneratedImage) -> Result<ImageBytes, Error> {
        let stated = image.stated_format();
        match image {
            GeneratedImage { b64_json: Some(text), .. } => {
                let start = start_of(&text);
                let bytes =
                    decode_b64_owned(text).map_err(|e| Error::Decode { reason: e.to_string(), body_start: start })?;
                Ok(ImageBytes::new(bytes, stated))
            }
            image => self.image_bytes(&image).await,
        }
    }

    /// Downloads `url` (an image link) through the client's transport, with its retries and time
    /// limits (a `GET` is safe to repeat, so a connection that breaks mid-way is retried too, the
    /// first time at once on a new connection: a pooled keep-alive connection the server had closed), refusing bodies over the response limit. The API key is sent only when the URL is on
    /// the API's own host. The format is sniffed from the bytes, else taken from `Content-Type`.
    /// At most [`ClientBuilder::max_parallel_downloads`](crate::ClientBuilder::max_parallel_downloads) downloads run at once; the others wait.
    pub async fn download(&self, url: &str) -> Result<ImageBytes, Error> {
        let (bytes, header_format) = self.fetch(url).await?;
        Ok(ImageBytes::new(bytes, header_format))
    }

    /// Downloads `url`: the body and the image format its `Content-Type` names.
    async fn fetch(&self, url: &str) -> Result<(Bytes, Option<ImageFormat>), Error> {
        let uri: Uri = url.parse().map_err(|e| Error::Config(format!("bad image URL: {e}")))?;
        let authorized = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => {
                self.inner.origin.0.eq_ignore_ascii_case(scheme)
                    && self.inner.origin.1.eq_ignore_ascii_case(authority.as_str())
            }
            _ => return Err(Error::Config(format!("not an absolute URL: {url:?}"))),
        };
        self.within_deadline(CallPhase::Download, None, |deadline| async move {
            let _slot =
                self.inner.downloads.acquire().await.map_err(|_| Error::Config("the client is closed".into()))?;
            let call = Call {
                method: Method::GET,
                uri: &uri,
                content_type: None,
                accept: Some("*/*"),
                body: RequestBody::empty(),
                authorized,
                download: true,
                client_request_id: None,
                model: "",
            };
            let (headers, bytes, meta) = self.inner.sender.download(&call, deadline).await?;
            let format = header_text(&headers, CONTENT_TYPE).and_then(|v| format_of_media_type(&v));
            Ok(((bytes, format), meta))
        })
        .await
        .map(|(fetched, _)| fetched)
    }

    /// Runs `job` under the call's deadline, when there is one, and redacts the secrets from the
    /// server texts of its error, which names the call's `client_request_id`. Each wait inside `job`
    /// (sending, reading) watches the deadline itself and names its phase; `during` names it for
    /// anything else.
    pub(crate) async fn within_deadline<'a, T, F, Fut>(
        &'a self,
        during: CallPhase,
        client_request_id: Option<HeaderValue>,
        job: F,
    ) -> Result<(T, ResponseMeta), Error>
    where
        F: FnOnce(Option<Instant>) -> Fut,
        Fut: Future<Output = Result<(T, ResponseMeta), Error>> + 'a,
    {
        let deadline = self.call_deadline();
        let result = Deadline::new(job(deadline), deadline).await.unwrap_or_else(|| Err(overall_timeout(during)));
        let id = client_request_id.as_ref().and_then(|id| id.to_str().ok());
        result.map_err(|e| self.inner.redactor.error(e.with_client_request_id(id)))
    }

    /// Reads a `2xx` answer as images: JSON (decoded as it arrives) or, for a stream, its events.
    pub(crate) fn images_response(
        &self,
        answer: Answer,
    ) -> impl Future<Output = Result<(ImagesResponse, ResponseMeta), Error>> + Send + '_ {
        if answer.is_event_stream() {
            let stream = ImageStream::sse(answer.reader, answer.meta.clone(), self.inner.redactor.clone());
            let meta = answer.meta;
            // Boxed: the gathering of a stream would otherwise swell every JSON call's future.
            return Either::Left(Box::pin(async move { Ok((stream.into_response().await?, meta)) }));
        }
        // The reader and meta alone: the answer's headers are not kept for the read.
        Either::Right(self.json_response(answer.reader, answer.meta))
    }

    /// Reads a JSON answer's images.
    async fn json_response(
        &self,
        mut reader: BodyReader,
        meta: ResponseMeta,
    ) -> Result<(ImagesResponse, ResponseMeta), Error> {
        let mut decoder: Option<ImagesDecoder> = None;
        let mut first: Option<Bytes> = None;
        while let Some(chunk) = reader.next_chunk().await {
            let chunk = chunk?;
            match (&mut decoder, first.take()) {
                (Some(decoder), _) => decoder.feed(&chunk),
                (None, None) => first = Some(chunk),
                (None, Some(previous)) => {
                    let mut started = ImagesDecoder::new();
                    started.feed(&previous);
                    started.feed(&chunk);
                    decoder = Some(started);
                }
            }
        }
        let redactor = &self.inner.redactor;
        let (response, may_hold_secret) = match (decoder, first) {
            (Some(decoder), _) => (decoder.finish(), true),
            (None, Some(body)) => (ImagesDecoder::decode(&body), redactor.may_hold_secret(&body)),
            (None, None) => (ImagesDecoder::decode(b""), false),
        };
        let mut response = response.map_err(Error::decode)?;
        if may_hold_secret {
            redactor.response(&mut response);
        }
        Ok((response, meta))
    }
}

fn start_of(text: &str) -> String {
    text.chars().take(64).collect()
}
