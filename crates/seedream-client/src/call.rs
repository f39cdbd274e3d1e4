//! [`ImagesCall`]: one generate or edit call, whose output the caller picks — the parsed response
//! (`.await` it, or [`send`](ImagesCall::send)), the images' bytes in memory ([`bytes`](ImagesCall::bytes)),
//! files in a folder ([`save_to`](ImagesCall::save_to), [`stage_in`](ImagesCall::stage_in)) or the
//! events as they come ([`stream`](ImagesCall::stream)). Every output reads the same answer of the same
//! request, so an edit gets each of them as a generation does.

use std::future::{Future, IntoFuture};
use std::path::Path;
use std::pin::Pin;

use http::header::HeaderValue;
use http::{Method, Uri};
use seedream_types::{EditRequest, GenerateRequest, ImagesResponse};

use crate::client::Client;
use crate::config::EditMode;
use crate::deadline::{Deadline, overall_timeout};
use crate::error::{CallPhase, Error};
use crate::in_memory::GeneratedBytes;
use crate::meta::ResponseMeta;
use crate::multipart;
use crate::output::Output;
use crate::save::{SaveOptions, SavedResponse};
use crate::send::{Answer, Call};
use crate::staged::StagedResponse;
use crate::stream::ImageStream;
use crate::text::Redactor;
use crate::transport::RequestBody;

/// A generate ([`Client::generate`]) or edit ([`Client::edit`]) call, not yet sent. Pick its output:
///
/// | call | output | memory |
/// |---|---|---|
/// | `.await` / [`send`](Self::send) | [`Output<ImagesResponse>`] (`b64_json` as text) | the answer's size |
/// | [`bytes`](Self::bytes) | [`GeneratedBytes`]: each image's bytes, decoded as the answer arrives | the images' size |
/// | [`save_to`](Self::save_to) | [`SavedResponse`]: files in a folder, with provenance when asked | a few MiB |
/// | [`stage_in`](Self::stage_in) | [`StagedResponse`]: temporary files for the caller to name | a few MiB |
/// | [`stream`](Self::stream) | [`ImageStream`]: the events as they come | one event |
///
/// Each output carries the call's [`ResponseMeta`] (request id, attempts, client request id,
/// whether the emulator answered).
///
/// ```no_run
/// # async fn run() -> Result<(), seedream_client::Error> {
/// use seedream_client::Client;
/// use seedream_types::{GenerateRequest, SEEDREAM_4_0};
///
/// let client = Client::from_env()?;
/// let request = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse at dawn");
/// let response = client.generate(&request).await?;
/// println!("request id {:?}", response.request_id());
/// let saved = client.generate(&request).save_to("out", "lighthouse").await?; // out/lighthouse-0.jpg
/// # let _ = saved;
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until it is awaited or an output is picked"]
#[derive(Debug)]
pub struct ImagesCall<'a> {
    client: &'a Client,
    job: Job<'a>,
    save: SaveOptions,
}

/// What a call sends.
#[derive(Debug, Clone)]
pub(crate) enum Job<'a> {
    Generate(Held<'a, GenerateRequest>),
    Edit(Held<'a, EditRequest>),
}

/// A request the call borrows, or owns when it sends a changed copy. Boxed when owned: a call and
/// every future that holds it stay small (a request is some hundred bytes, moved at each `.await`).
#[derive(Debug, Clone)]
pub(crate) enum Held<'a, T> {
    Borrowed(&'a T),
    Owned(Box<T>),
}

impl<T> std::ops::Deref for Held<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Held::Borrowed(request) => request,
            Held::Owned(request) => request,
        }
    }
}

impl<T: Clone> Held<'_, T> {
    fn into_owned(self) -> T {
        match self {
            Held::Borrowed(request) => request.clone(),
            Held::Owned(request) => *request,
        }
    }
}

impl<'a> ImagesCall<'a> {
    pub(crate) fn new(client: &'a Client, job: Job<'a>) -> Self {
        ImagesCall { client, job, save: SaveOptions::new() }
    }

    /// How [`save_to`](Self::save_to) writes files: with the images' provenance, or as they came (the
    /// default). See [`SaveOptions`].
    pub fn save_options(mut self, options: SaveOptions) -> Self {
        self.save = options;
        self
    }

    /// Sends the request (validated unless turned off) and parses the answer; a `stream: true`
    /// request is read as a stream and gathered into one response. The same as awaiting the call.
    pub async fn send(self) -> Result<Output<ImagesResponse>, Error> {
        send(self.client, self.job).await
    }

    /// Sends the request and returns the bytes of every image: `b64_json` decoded from the body as it
    /// arrives (the answer's text is never held whole, so memory stays near the images' own size),
    /// links downloaded ([`max_parallel_downloads`](crate::ClientBuilder::max_parallel_downloads) at a
    /// time). Each image's format is sniffed from its bytes, else as the response states it.
    pub async fn bytes(self) -> Result<GeneratedBytes, Error> {
        crate::in_memory::read_bytes(self.client, &self.job).await
    }

    /// Sends the request and saves its images into `dir` (created if needed) as
    /// `{stem}-{index}.{extension}`, `index` the image's place in `data` and the extension that of
    /// its real format: `b64_json` decoded straight from the body into its file as the bytes arrive,
    /// so memory stays at a few MiB however large the answer; links downloaded and saved after. No
    /// file appears under its final name before the whole answer has arrived and parsed, and on any
    /// error (or when the call is dropped) no temporary file is left. Each file is flushed to disk
    /// before it is named.
    pub async fn save_to(self, dir: impl AsRef<Path>, stem: &str) -> Result<SavedResponse, Error> {
        crate::save::save_to(self.client, &self.job, dir.as_ref(), stem, &self.save).await
    }

    /// Sends the request, with the answer's `b64_json` images decoded into temporary files of `dir`
    /// (created if needed) as the bytes arrive, for the caller to name ([`StagedImage::persist`](crate::StagedImage::persist))
    /// or read one at a time; links and failed images stay in the response. For callers that record
    /// what they bought before naming files (the CLI's journal). An event stream is gathered and
    /// stages nothing.
    pub async fn stage_in(self, dir: impl AsRef<Path>) -> Result<StagedResponse, Error> {
        crate::staged::stage_in(self.client, &self.job, dir.as_ref(), "image", None).await
    }

    /// Sends the request with `stream: true` (set on a copy when the request lacks it) and returns the
    /// events as they come; see [`ImageStream`]. Retries apply until the stream has started.
    pub async fn stream(self) -> Result<ImageStream, Error> {
        self.client.open_stream(self.job.streamed()).await
    }
}

impl<'a> IntoFuture for ImagesCall<'a> {
    type Output = Result<Output<ImagesResponse>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(send(self.client, self.job))
    }
}

/// [`ImagesCall::send`], holding only what it needs (the save options stay behind).
async fn send(client: &Client, job: Job<'_>) -> Result<Output<ImagesResponse>, Error> {
    // The reading future itself, not an `async` block around it that would hold the answer twice.
    let (response, meta) = client.send_reading(&job, |answer, _| client.images_response(answer)).await?;
    Ok(Output::new(response, meta))
}

impl Job<'_> {
    pub(crate) fn model(&self) -> &str {
        match self {
            Job::Generate(request) => &request.model,
            Job::Edit(request) => &request.model,
        }
    }

    pub(crate) fn prompt(&self) -> &str {
        match self {
            Job::Generate(request) => &request.prompt,
            Job::Edit(request) => &request.prompt,
        }
    }

    pub(crate) fn seed(&self) -> Option<i64> {
        match self {
            Job::Generate(request) => request.seed,
            Job::Edit(request) => request.seed,
        }
    }

    fn is_stream(&self) -> bool {
        match self {
            Job::Generate(request) => request.is_stream(),
            Job::Edit(request) => request.is_stream(),
        }
    }

    /// The reference images it sends (to name a refused one).
    fn input_images(&self) -> usize {
        match self {
            Job::Generate(request) => request.images().len(),
            Job::Edit(request) => request.images.len(),
        }
    }

    /// The same job with `stream: true`.
    fn streamed(self) -> Self {
        match self {
            Job::Generate(request) if !request.is_stream() => {
                Job::Generate(Held::Owned(Box::new(request.into_owned().with_stream(true))))
            }
            Job::Edit(request) if !request.is_stream() => {
                Job::Edit(Held::Owned(Box::new(request.into_owned().with_stream(true))))
            }
            ready => ready,
        }
    }
}

/// A job encoded for the wire: where it goes and what it carries.
struct Encoded<'c> {
    uri: &'c Uri,
    content_type: HeaderValue,
    body: bytes::Bytes,
}

impl Client {
    /// Validates `job` (unless turned off) and encodes it: JSON for generations (an edit too, where
    /// edits go through generations), a multipart form for the edits endpoint.
    fn encode(&self, job: &Job<'_>) -> Result<Encoded<'_>, Error> {
        let inner = &self.inner;
        // The prompt is the user's content: only at the most detailed level.
        match job {
            Job::Generate(request) => {
                if inner.validate {
                    request.validate_for(inner.family_of(&request.model))?;
                }
                tracing::trace!(model = %request.model, prompt = %request.prompt, "generate");
                Ok(Encoded { uri: &inner.generations, content_type: JSON, body: json(&**request, &request.prompt)? })
            }
            Job::Edit(request) => {
                if inner.validate {
                    request.validate_for(inner.family_of(&request.model))?;
                }
                tracing::trace!(model = %request.model, prompt = %request.prompt, "edit");
                match inner.edit_mode {
                    EditMode::Generations => Ok(Encoded {
                        uri: &inner.generations,
                        content_type: JSON,
                        body: json(&request.to_generate_request(), &request.prompt)?,
                    }),
                    EditMode::Multipart | EditMode::Auto => {
                        let form = multipart::encode(request);
                        let content_type = HeaderValue::try_from(&form.content_type)
                            .map_err(|_| Error::Config(format!("bad content type {:?}", form.content_type)))?;
                        Ok(Encoded { uri: &inner.edits, content_type, body: form.body })
                    }
                }
            }
        }
    }

    /// Sends `job` under the call's deadline and hands its `2xx` answer to `read`, with the redactor
    /// for what it parses; errors come back redacted, naming the call's client request id. The base of
    /// every output but the stream.
    pub(crate) async fn send_reading<'a, T, F, Fut>(
        &'a self,
        job: &'a Job<'_>,
        read: F,
    ) -> Result<(T, ResponseMeta), Error>
    where
        F: FnOnce(Answer, &'a Redactor) -> Fut + 'a,
        Fut: Future<Output = Result<(T, ResponseMeta), Error>> + 'a,
    {
        let call = self.encode(job)?.into_call(job.model(), accept(job.is_stream()), self.client_request_id());
        // One future under the deadline, built here rather than passed down as a closure: what an
        // `async fn` takes stays in its future to the end, and this one is boxed per call.
        let deadline = self.call_deadline();
        let reading = async {
            let answer = self.inner.sender.execute(&call, deadline).await?;
            read(answer, &self.inner.redactor).await
        };
        let result = Deadline::new(reading, deadline).await.unwrap_or_else(|| Err(overall_timeout(CallPhase::Body)));
        result.map_err(|e| self.inner.redactor.error(call.name(e)).with_input_images(job.input_images()))
    }

    /// Sends a `stream: true` job and returns its events once the answer's headers are in: the
    /// deadline holds until then here, and after in the stream's reader.
    async fn open_stream(&self, job: Job<'_>) -> Result<ImageStream, Error> {
        let call = self.encode(&job)?.into_call(job.model(), accept(true), self.client_request_id());
        let deadline = self.call_deadline();
        let sender = &self.inner.sender;
        let redactor = &self.inner.redactor;
        let answer = Deadline::new(sender.execute(&call, deadline), deadline)
            .await
            .unwrap_or_else(|| Err(overall_timeout(CallPhase::Headers)))
            .map_err(|e| redactor.error(call.name(e)).with_input_images(job.input_images()))?;
        if answer.is_event_stream() {
            Ok(ImageStream::sse(answer.reader, answer.meta, redactor.clone()))
        } else {
            let meta = answer.meta.clone();
            let (response, _) = self.images_response(answer).await.map_err(|e| redactor.error(call.name(e)))?;
            Ok(ImageStream::from_response(response, meta, redactor.clone()))
        }
    }
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The `Accept` of a call: events for a stream; none otherwise, as a JSON answer comes anyway and
/// one header fewer keeps a request's header map in its first allocation.
fn accept(stream: bool) -> Option<&'static str> {
    stream.then_some("text/event-stream")
}

/// `request` as JSON, written into one buffer sized for it from the start: the prompt and room for
/// the other fields (grown only for large references).
fn json<T: serde::Serialize>(request: &T, prompt: &str) -> Result<bytes::Bytes, Error> {
    let mut body = Vec::with_capacity(256 + prompt.len());
    serde_json::to_writer(&mut body, request).map_err(|e| Error::Config(format!("cannot encode the request: {e}")))?;
    Ok(body.into())
}

impl<'c> Encoded<'c> {
    /// The `POST` of this body, named by `client_request_id`.
    fn into_call<'m>(self, model: &'m str, accept: Option<&'static str>, client_request_id: HeaderValue) -> Call<'m>
    where
        'c: 'm,
    {
        Call {
            method: Method::POST,
            uri: self.uri,
            content_type: Some(self.content_type),
            accept,
            body: RequestBody::from(self.body),
            authorized: true,
            download: false,
            client_request_id: Some(client_request_id),
            model,
        }
    }
}
