//! Reaching the service: the client from flags and environment, or the embedded emulator when neither
//! a base URL nor a key is given; and client errors told as [`Failure`]s with hints.

use seedream_client::{Client, ClientBuilder, Error, RetryPolicy, TimeoutPhase, Timeouts, TransportErrorKind};
use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use seedream_types::{ErrorClass, Violation, catalog};

use seedream_types::catalog::Provider;

use crate::args::{CallArgs, NetworkArgs};
use crate::failure::{ApiInfo, Exit, Failure};
use crate::identity::{self, EMBEDDED};
use crate::output::Output;

/// The key the client sends to the embedded emulator (which checks none).
const EMBEDDED_KEY: &str = "embedded-emulator";

/// The variables that configure the service, in the order they are looked up.
const KEY_VARIABLES: [&str; 2] = ["SEEDREAM_API_KEY", "ARK_API_KEY"];
const BASE_URL_VARIABLE: &str = "SEEDREAM_BASE_URL";

/// Where requests go, decided before anything starts: the embedded emulator only when nothing at all
/// is configured (no flag, no variable, not even an empty one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup {
    /// The embedded emulator.
    Embedded,
    /// A real service (or a separate emulator).
    Remote {
        /// `--base-url`, else `SEEDREAM_BASE_URL`, else `None` for Ark's default.
        base_url: Option<String>,
        /// Where the key comes from, for `--verbose` (never the key): `--api-key` or a variable name.
        key_from: Option<&'static str>,
    },
}

impl Setup {
    /// Reads flags and variables. A key or base URL that is set but empty is a usage error naming it
    /// (an empty `ARK_API_KEY` must not quietly mean "use the emulator").
    pub fn resolve(network: &NetworkArgs, provider: Option<Provider>) -> Result<Self, Failure> {
        let empty = |what: &str| {
            Failure::usage(format!("{what} is set but empty")).with_kind("config").with_hint(
                "give it a value, or unset it (with no key and no base URL at all, the embedded emulator answers)",
            )
        };
        if network.api_key.as_ref().is_some_and(|key| key.expose().trim().is_empty()) {
            return Err(empty("--api-key"));
        }
        if network.base_url.as_deref().is_some_and(|url| url.trim().is_empty()) {
            return Err(empty("--base-url"));
        }
        for name in KEY_VARIABLES.iter().chain([&BASE_URL_VARIABLE]) {
            if std::env::var_os(name).is_some_and(|value| value.to_string_lossy().trim().is_empty()) {
                return Err(empty(&format!("the variable {name}")));
            }
        }
        let key_from = if network.api_key.is_some() {
            Some("--api-key")
        } else {
            KEY_VARIABLES.into_iter().find(|name| std::env::var_os(name).is_some())
        };
        let base_url = network.base_url.clone().or_else(|| std::env::var(BASE_URL_VARIABLE).ok());
        // A key without a base URL goes to the provider's service (Volcengine Ark unless told).
        let base_url = base_url.or_else(|| provider.filter(|_| key_from.is_some()).map(|p| p.base_url().to_owned()));
        Ok(match (&base_url, key_from) {
            (None, None) => Setup::Embedded,
            _ => Setup::Remote { base_url: base_url.map(|url| url.trim().to_owned()), key_from },
        })
    }

    /// The service as request keys name it: the base URL's origin, or `embedded emulator`.
    pub fn service_id(&self) -> String {
        match self {
            Setup::Embedded => EMBEDDED.to_owned(),
            Setup::Remote { base_url, .. } => {
                identity::service_id(Some(base_url.as_deref().unwrap_or(seedream_client::ARK_BASE_URL)))
            }
        }
    }

    /// The base URL requests would go to, for `--dry-run`: the embedded emulator's is chosen at start.
    pub fn base_url(&self) -> &str {
        match self {
            Setup::Embedded => "the embedded emulator (http://127.0.0.1:<port>/v1)",
            Setup::Remote { base_url, .. } => base_url.as_deref().unwrap_or(seedream_client::ARK_BASE_URL),
        }
    }

    /// The base URL requests would go to (the embedded emulator's is relay-style, `…/v1`).
    pub fn is_ark(&self) -> bool {
        match self {
            Setup::Embedded => false,
            Setup::Remote { base_url, .. } => {
                base_url.as_deref().unwrap_or(seedream_client::ARK_BASE_URL).trim_end_matches('/').ends_with("/api/v3")
            }
        }
    }
}

/// A client, and the embedded emulator it talks to when there is one.
#[derive(Debug)]
pub struct Service {
    /// The client.
    pub client: Client,
    /// What it talks to, for messages and the manifest: the base URL, or `embedded emulator`.
    pub label: String,
    /// The service part of request keys: the base URL's origin, or `embedded emulator`.
    pub id: String,
    emulator: Option<EmulatorHandle>,
}

impl Service {
    /// Builds the client from `--base-url` / `SEEDREAM_BASE_URL` and `--api-key` / `SEEDREAM_API_KEY` /
    /// `ARK_API_KEY` (the lookup is the `ClientBuilder::from_env`; flags override it). With none of
    /// them, starts the embedded emulator and says so on stderr. `validate` false (`--no-validate`)
    /// sends requests as they are, for the service to judge. `call` gives the time limits and retries.
    pub async fn connect(
        network: &NetworkArgs,
        provider: Option<Provider>,
        call: &CallArgs,
        out: &Output,
        validate: bool,
    ) -> Result<Self, Failure> {
        let setup = Setup::resolve(network, provider)?;
        let timeouts = Timeouts::default().with_idle(call.idle_timeout);
        let retry = RetryPolicy::default().with_max_attempts(call.retries.saturating_add(1));
        let mut builder = ClientBuilder::from_env().validate_requests(validate).timeouts(timeouts).retry(retry);
        for header in &network.headers {
            let Some((name, value)) = header.split_once(':') else {
                return Err(Failure::usage(format!("--header {header:?} is not \"Name: value\"")));
            };
            builder = builder.header(name.trim(), value.trim());
        }
        if network.no_proxy {
            builder = builder.no_proxy();
        } else if let Some(proxy) = &network.proxy {
            builder = builder.proxy(proxy.expose().trim());
        }
        if let Some(path) = &network.ca_cert {
            let pem = std::fs::read_to_string(path).map_err(|e| Failure::read("certificate", path, &e))?;
            builder = builder.trust_certificate_pem(pem);
        }
        let id = setup.service_id();
        let (builder, emulator) = match setup {
            Setup::Embedded => {
                let emulator = Emulator::start(EmulatorConfig::default())
                    .await
                    .map_err(|e| Failure::local(format!("cannot start the embedded emulator: {e}")))?;
                let base = emulator.base_url();
                out.note(&format!(
                    "no API key or base URL given: using the embedded emulator at {base} (synthetic images; \
                     set ARK_API_KEY to use the real service)"
                ));
                // In this process, on loopback: never through a proxy of the environment.
                (builder.base_url(base).api_key(EMBEDDED_KEY).no_proxy(), Some(emulator))
            }
            Setup::Remote { base_url, key_from: None } => {
                let base = base_url.unwrap_or_default();
                let hint = if is_loopback(&base) {
                    "a local emulator takes any key unless started with one: pass --api-key any"
                } else {
                    "set ARK_API_KEY (or SEEDREAM_API_KEY, or pass --api-key) to your API key"
                };
                return Err(Failure::usage(format!("no API key for {base}")).with_kind("config").with_hint(hint));
            }
            Setup::Remote { base_url, key_from: Some(from) } => {
                let mut builder = builder;
                if let Some(base) = &network.base_url {
                    builder = builder.base_url(base.trim());
                } else if let Some(base) = base_url {
                    builder = builder.base_url(base);
                }
                if let Some(key) = &network.api_key {
                    builder = builder.api_key(key.expose().trim());
                }
                out.detail(&format!("the API key comes from {from} (not shown)"));
                (builder, None)
            }
        };
        let label_of =
            // Recorded as the manifest's `service`: a base URL's `user:password@` stays out of it.
            |client: &Client| {
                if emulator.is_some() {
                    EMBEDDED.to_owned()
                } else {
                    seedream_client::text::without_userinfo(client.base_url())
                }
            };
        let client = builder.build().map_err(|e| describe(&e, None, &id))?;
        let label = label_of(&client);
        out.detail(&format!(
            "service: {label}; deadline {} per call, idle limit {}, up to {} retries",
            crate::args::duration_text(call.timeout),
            crate::args::duration_text(call.idle_timeout),
            call.retries
        ));
        Ok(Self { client, label, id, emulator })
    }

    /// Whether the images come from the embedded emulator (synthetic).
    pub fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// Stops the embedded emulator, if any.
    pub async fn close(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

/// The base URL a redirect target belongs to: the target without the endpoint path it names
/// (`https://host/v1/images/generations` → `https://host/v1`).
fn base_url_of(target: &str) -> &str {
    let target = target.split(['?', '#']).next().unwrap_or(target);
    let cut = ["/images/", "/models"].iter().filter_map(|endpoint| target.find(endpoint)).min();
    cut.map_or(target, |at| &target[..at]).trim_end_matches('/')
}

/// The 404 codes about the model or endpoint, not the route.
fn is_model_code(code: &str) -> bool {
    ["InvalidEndpointOrModel", "ModelNotOpen", "UnsupportedModel"].iter().any(|prefix| code.starts_with(prefix))
}

fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.starts_with("127.") || rest.starts_with("localhost") || rest.starts_with("[::1]")
}

/// A client error as a failure paragraph with a hint. `model` helps the hints for invalid requests.
pub fn describe(error: &Error, model: Option<&str>, service: &str) -> Failure {
    describe_kind(error, model, service).with_client_request_id(error.client_request_id().map(str::to_owned))
}

fn describe_kind(error: &Error, model: Option<&str>, service: &str) -> Failure {
    match error {
        Error::Validation(invalid) => {
            let mut failure = Failure::usage("the request is invalid (nothing was sent)").with_kind("invalid");
            failure.details = invalid.violations.iter().map(ToString::to_string).collect();
            failure.hint = model.and_then(|model| validation_hint(model, &invalid.violations));
            failure
        }
        Error::Api(api) => {
            let refused = matches!(
                api.class,
                ErrorClass::InvalidRequest
                    | ErrorClass::SensitiveContent
                    | ErrorClass::Authentication
                    | ErrorClass::Forbidden
                    | ErrorClass::NotFound
                    | ErrorClass::QuotaExhausted
            ) || (api.class == ErrorClass::Other && (400..500).contains(&api.status));
            let (exit, what) = if refused {
                (Exit::Refused, "the service refused the request")
            } else {
                (Exit::Unavailable, "the service failed")
            };
            let code = if api.code.is_empty() { String::new() } else { format!(" {}", api.code) };
            let message = if api.message.is_empty() { String::new() } else { format!(": {}", one_line(&api.message)) };
            let mut failure = Failure::new(exit, format!("{what} (HTTP {}{code}){message}", api.status));
            failure.api = Some(Box::new(ApiInfo {
                status: api.status,
                code: api.code.clone(),
                request_id: api.request_id.clone(),
                moderation: None,
            }));
            failure.hint = api_hint(api.class, api.status);
            if let Some(moderation) = &api.moderation {
                let record = crate::failure::ModerationRecord::of(moderation);
                failure.message =
                    format!("moderation refused {} (HTTP {}{code}){message}", record.subject(), api.status);
                failure.hint = Some(record.hint());
                if let Some(info) = failure.api.as_mut() {
                    info.moderation = Some(record);
                }
            }
            // A 404 for an id the catalog knows: name its successor (a retired id's, or the current one).
            if api.class == ErrorClass::NotFound
                && let Some(hint) = model.and_then(|m| crate::catalog::current().successor_hint(m))
            {
                failure.hint = Some(hint);
            }
            if api.code.starts_with("ModelNotOpen") {
                let model = model.map_or_else(|| "this model".to_owned(), |m| format!("the model {m}"));
                failure.hint = Some(format!(
                    "the account has not activated {model}: activate it in the Ark console (Model activation), then \
                     run again"
                ));
            } else if api.status == 404 && !is_model_code(&api.code) {
                failure.message = format!("{service} has no such route (HTTP 404{code}){message}");
                failure.hint = Some(
                    "the base URL must end in /v1 for a relay (https://host/v1) or /api/v3 for Ark \
                     (https://ark.cn-beijing.volces.com/api/v3): check --base-url or SEEDREAM_BASE_URL"
                        .into(),
                );
            } else if (300..400).contains(&api.status) {
                let target = api.location.as_deref().unwrap_or("");
                failure.message = if target.is_empty() {
                    format!("{service} answered with a redirect (HTTP {}) without saying where to", api.status)
                } else {
                    format!("{service} answered with a redirect (HTTP {}) to {target}", api.status)
                };
                failure.hint = Some(if target.is_empty() {
                    "redirects are not followed (the API key would go along): check --base-url".into()
                } else {
                    let base = base_url_of(target);
                    format!(
                        "redirects are not followed (the API key would go along): if the API moved there, pass \
                         --base-url {base}"
                    )
                });
            }
            failure
        }
        Error::Timeout { phase, .. } => {
            let hint = match phase {
                TimeoutPhase::Connect => format!("cannot reach {service}: check --base-url and the network"),
                TimeoutPhase::Headers => {
                    "big groups can take minutes; --stream receives the images one by one as they finish".into()
                }
                TimeoutPhase::Idle => {
                    "the service stopped sending for longer than --idle-timeout; try again, or give it longer with \
                     --idle-timeout"
                        .into()
                }
                _ => "the service stopped sending; try again".into(),
            };
            Failure::new(Exit::Unavailable, format!("no answer from {service}: {error}"))
                .with_kind("timeout")
                .with_hint(hint)
        }
        Error::Transport(transport) => {
            // The transport error says what failed; its causes (refused, a TLS alert) are its sources.
            let text = seedream_client::text::with_causes(transport);
            let failure = Failure::new(Exit::Unavailable, format!("the connection to {service} failed: {text}"))
                .with_kind("transport");
            if text.contains("UnknownIssuer") || text.contains("unknown issuer") {
                failure.with_hint(
                    "the server's certificate is signed by an authority this machine does not trust: if it is \
                     yours (a company proxy, `seedream emulator --tls`), pass its PEM certificate with --ca-cert",
                )
            } else if transport.kind() == TransportErrorKind::Proxy {
                failure.with_hint(
                    "the proxy could not be reached or refused the connection: check --proxy (or HTTPS_PROXY, \
                     HTTP_PROXY, ALL_PROXY), or pass --no-proxy to connect straight",
                )
            } else if transport.is_connect() {
                failure.with_hint("check --base-url (or SEEDREAM_BASE_URL) and the network")
            } else {
                failure
            }
        }
        Error::Decode { reason, body_start } => Failure::new(
            Exit::Unavailable,
            format!("the answer from {service} could not be read ({reason}); it starts with: {:?}", short(body_start)),
        )
        .with_kind("decode")
        .with_hint("check that the base URL is the API's: Ark ends with /api/v3, relays usually with /v1"),
        Error::BodyTooLarge { .. } => Failure::new(Exit::Unavailable, error.to_string()).with_kind("decode"),
        Error::Config(message) => {
            let failure = Failure::usage(format!("cannot set up the client: {message}")).with_kind("config");
            if message.contains("API key") {
                failure.with_hint("set ARK_API_KEY (or SEEDREAM_API_KEY, or pass --api-key) to your API key")
            } else {
                failure
            }
        }
        Error::Io(io) => Failure::local(format!("a local file operation failed: {}", crate::failure::io_reason(io)))
            .with_kind("output"),
        other => Failure::new(Exit::Unavailable, other.to_string()).with_kind("other"),
    }
}

/// `{families}: pass --model {id}`: who takes a feature, and the id of the first current one. When
/// only families no longer offered take it, says so: the user would otherwise pick a dead end.
fn takers_with_model(takes: impl Fn(&catalog::ModelFamily) -> bool + Copy) -> String {
    let names = catalog::names_where(takes);
    let takers: Vec<&catalog::ModelFamily> = catalog::families().iter().filter(|f| takes(f)).collect();
    let Some(pick) = takers.iter().min_by_key(|f| f.status != catalog::Status::Current) else {
        return names;
    };
    if pick.status.is_offered() {
        format!("{names}: pass --model {}", pick.key)
    } else {
        format!(
            "only {names}, which is {} (no offered model takes it): --model {} works only on an endpoint made \
             before then",
            pick.status, pick.key
        )
    }
}

/// Hints for the common rule breaks, worded from the model's catalog row. Every flag they name is
/// one `seedream generate` has (a unit test checks).
pub fn validation_hint(model: &str, violations: &[Violation]) -> Option<String> {
    let family = catalog::family_of(model)?;
    let name = &family.name;
    let on = |field: &str| {
        violations.iter().any(|v| {
            v.field == field || v.field.starts_with(&format!("{field}[")) || v.field.starts_with(&format!("{field}."))
        })
    };
    let says =
        |field: &str, word: &str| violations.iter().any(|v| v.field.starts_with(field) && v.message.contains(word));
    if on("layer_decomposition") {
        return Some(format!("--layers is for {}", takers_with_model(|f| f.layers.is_some())));
    }
    if on("background") {
        return Some(format!("--background transparent is for {}", takers_with_model(|f| f.takes_transparent())));
    }
    if on("tools") {
        return Some(format!("--web-search is for {}", takers_with_model(|f| f.takes_tool("web_search"))));
    }
    if on("output_format") {
        if !family.takes_output_format("png") {
            let png = takers_with_model(|f| f.takes_output_format("png"));
            return Some(format!(
                "{name} makes {} only; --output-format png is for {png}",
                family.output_formats.join(", ")
            ));
        }
        return Some(
            "--background transparent makes PNG: leave out --output-format, or pass --output-format png".into(),
        );
    }
    if on("stream") {
        return Some(format!("--stream is for {}", takers_with_model(|f| f.stream)));
    }
    if on("sequential_image_generation") && !family.takes_group() {
        return Some(format!(
            "{name} makes one image per request; --max-images is for {}",
            takers_with_model(|f| f.takes_group())
        ));
    }
    if let Some(rule) = family.layers.as_ref().filter(|_| says("image", "layer_decomposition")) {
        let formats: Vec<&str> = rule.input_formats.iter().map(|f| f.as_str()).collect();
        let (min, max) = (rule.input_pixels.min, rule.input_pixels.max);
        return Some(format!("--layers takes exactly one --image, {} of {min} to {max} pixels", formats.join(" or ")));
    }
    if says("image", "background") || says("image", "alpha") {
        return Some(
            "--background transparent takes exactly one --image with an alpha channel (a PNG with transparency)".into(),
        );
    }
    if on("size") {
        return Some(format!("{name} takes --size {}", family.describe_sizes()));
    }
    if (on("seed") && family.seed.is_none()) || (on("guidance_scale") && family.guidance_scale.is_none()) {
        let takers = catalog::names_where(|f| f.seed.is_some());
        return Some(format!("{name} takes neither --seed nor --guidance-scale (they are for {takers})"));
    }
    if says("image", "pixels") {
        return Some(format!(
            "resize the --image to fit {name}'s limits on pixels: `seedream models --json` lists them"
        ));
    }
    if on("image") {
        let refs = family.references;
        return Some(match (refs.min, refs.max) {
            (_, 0) => format!("{name} takes no input image: choose a model that does (see `seedream models`)"),
            (1, 1) => format!("{name} takes exactly one --image"),
            (_, max) => format!("{name} takes up to {max} --image references"),
        });
    }
    None
}

fn api_hint(class: ErrorClass, status: u16) -> Option<String> {
    Some(
        match class {
            ErrorClass::Authentication => "check the API key: set ARK_API_KEY (or SEEDREAM_API_KEY, or pass --api-key)",
            ErrorClass::Forbidden => "the account may not use this model (not activated, or overdue): see the Ark console",
            ErrorClass::NotFound => {
                "check --model: a current id (`seedream models`; a family key such as seedream-5.0-pro picks one), or an Ark endpoint id (ep-…) activated for the account"
            }
            ErrorClass::QuotaExhausted => "the account's quota or spending limit is used up; retrying will not help",
            ErrorClass::RateLimited => {
                "the service allows 500 images per minute per account and model; wait a minute (batch: lower --images-per-minute)"
            }
            ErrorClass::SensitiveContent => "moderation refused the prompt or an image: rephrase the prompt or use another image",
            ErrorClass::ServerError => "the service failed even after retries; try again later",
            ErrorClass::InvalidRequest => {
                "the message above names the parameter the service refused; `seedream models` lists what each model takes"
            }
            ErrorClass::Other if status >= 500 => "the service or a proxy in front of it failed; try again later",
            _ => return None,
        }
        .to_owned(),
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn short(text: &str) -> String {
    let line = one_line(text);
    if line.chars().count() > 200 { format!("{}…", line.chars().take(200).collect::<String>()) } else { line }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedream_client::ApiError;

    #[test]
    fn the_default_timeout_is_the_deadline_the_c_abi_uses_too() {
        let parsed = crate::args::parse_duration(crate::args::DEFAULT_TIMEOUT).unwrap();
        assert_eq!(parsed, seedream_client::DEFAULT_CALL_DEADLINE);
    }

    #[test]
    fn a_redirect_target_is_cut_to_its_base_url() {
        assert_eq!(base_url_of("https://h.example/v1/images/generations"), "https://h.example/v1");
        assert_eq!(base_url_of("https://h.example/api/v3/images/edits?x=1"), "https://h.example/api/v3");
        assert_eq!(base_url_of("https://h.example/v1/models"), "https://h.example/v1");
        assert_eq!(base_url_of("https://h.example/v2/"), "https://h.example/v2");
    }

    #[test]
    fn api_errors_map_to_refused_or_unavailable_with_hints() {
        let api = |status, code: &str| {
            Error::from(ApiError::new(status, code, "Something. Request id: abc").with_request_id("abc".to_owned()))
        };
        let auth = describe(&api(401, "AuthenticationError"), None, "x");
        assert_eq!(auth.exit, Exit::Refused);
        assert!(auth.hint.unwrap().contains("ARK_API_KEY"));
        assert_eq!(auth.api.unwrap().request_id.as_deref(), Some("abc"));
        assert_eq!(describe(&api(500, "InternalServiceError"), None, "x").exit, Exit::Unavailable);
        assert_eq!(describe(&api(429, "QuotaExceeded"), None, "x").exit, Exit::Refused);
        assert_eq!(describe(&api(502, ""), None, "x").exit, Exit::Unavailable);
    }

    #[test]
    fn hints_name_only_flags_that_generate_has() {
        use clap::CommandFactory as _;
        let cli = crate::commands::Cli::command();
        let generate = cli.find_subcommand("generate").unwrap();
        let flags: Vec<String> = generate
            .get_arguments()
            .chain(cli.get_arguments())
            .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
            .collect();
        let fields = [
            "size",
            "seed",
            "guidance_scale",
            "image",
            "image[0]",
            "output_format",
            "background",
            "layer_decomposition",
            "tools[0].type",
            "stream",
            "sequential_image_generation",
        ];
        let messages = ["", "layer_decomposition takes 262144 pixels", "has no alpha channel; background: transparent"];
        let mut hints = 0;
        for family in catalog::families() {
            for field in fields {
                for message in messages {
                    let violation = Violation { field: field.into(), code: "x", message: message.into() };
                    let Some(hint) = validation_hint(&family.model_id, &[violation]) else { continue };
                    hints += 1;
                    for word in hint.split(|c: char| c.is_whitespace() || c == ',' || c == ':' || c == ';') {
                        let word = word.trim_end_matches(['`', ')', '.']);
                        if word.starts_with("--") {
                            assert!(flags.iter().any(|f| f == word), "{word} in the hint {hint:?}");
                        }
                    }
                }
            }
        }
        assert!(hints > 50, "{hints}");
    }

    /// Every `--flag` in the hints of service errors is a flag of a command that calls the service.
    #[test]
    fn error_hints_name_only_flags_that_parse() {
        use clap::CommandFactory as _;
        use seedream_client::transport::{TransportError, TransportErrorKind};
        let cli = crate::commands::Cli::command();
        let mut flags: Vec<String> =
            cli.get_arguments().filter_map(|a| a.get_long().map(|l| format!("--{l}"))).collect();
        for name in ["generate", "edit", "batch", "emulator"] {
            let sub = cli.find_subcommand(name).unwrap();
            flags.extend(sub.get_arguments().filter_map(|a| a.get_long().map(|l| format!("--{l}"))));
        }
        let api = |status: u16, code: &str, location: Option<&str>| {
            Error::from(ApiError::new(status, code, "m").with_location(location.map(str::to_owned)))
        };
        let mut errors = vec![
            api(404, "ModelNotOpen", None),
            api(404, "NotFound", None),
            api(404, "InvalidEndpointOrModel.NotFound", None),
            api(301, "", Some("https://elsewhere/v1")),
            api(302, "", None),
            api(401, "AuthenticationError", None),
            api(403, "AccessDenied", None),
            api(429, "QuotaExceeded", None),
            api(429, "ModelAccountIpmRateLimitExceeded", None),
            api(400, "InputTextSensitiveContentDetected", None),
            api(400, "InvalidParameter", None),
            api(500, "InternalServiceError", None),
            api(502, "", None),
            Error::Transport(TransportError::new(
                TransportErrorKind::Connect,
                "invalid peer certificate: UnknownIssuer",
            )),
            Error::Transport(TransportError::new(TransportErrorKind::Connect, "connection refused")),
            Error::Io(std::io::Error::from_raw_os_error(28)),
            Error::Config("an API key is required".into()),
        ];
        for phase in [TimeoutPhase::Connect, TimeoutPhase::Headers, TimeoutPhase::Idle, TimeoutPhase::Overall] {
            errors.push(Error::Timeout { phase, during: seedream_client::CallPhase::Headers, client_request_id: None });
        }
        let mut hints = 0;
        for error in &errors {
            let failure = describe(error, Some(seedream_types::SEEDREAM_4_0), "https://host/v1");
            let text = format!("{} {}", failure.message, failure.hint.unwrap_or_default());
            hints += 1;
            for word in text.split(|c: char| c.is_whitespace() || ",:;()`".contains(c)) {
                if word.starts_with("--") {
                    assert!(flags.iter().any(|f| f == word), "{word} in {text:?}");
                }
            }
        }
        assert!(hints >= 20);
        let timeout = crate::run::timed_out(
            &crate::args::CallArgs {
                timeout: std::time::Duration::from_secs(30),
                idle_timeout: std::time::Duration::from_secs(30),
                retries: 2,
                quiet: false,
                verbose: false,
                dry_run: false,
                image_budget: None,
            },
            "downloading",
        );
        for word in timeout.hint.unwrap_or_default().split_whitespace().chain(timeout.message.split_whitespace()) {
            let word = word.trim_matches(|c: char| "(),;".contains(c));
            if word.starts_with("--") {
                assert!(flags.iter().any(|f| f == word), "{word}");
            }
        }
    }

    #[test]
    fn a_1k_size_on_4_5_hints_at_2k() {
        let request = seedream_types::GenerateRequest::new(seedream_types::SEEDREAM_4_5, "p")
            .with_size(seedream_types::SizePreset::OneK);
        let error = Error::from(request.validate().unwrap_err());
        let failure = describe(&error, Some(seedream_types::SEEDREAM_4_5), "x");
        assert_eq!(failure.exit, Exit::Invalid);
        assert!(failure.details[0].starts_with("size: "), "{:?}", failure.details);
        assert!(failure.hint.unwrap().contains("--size 2K"));
    }
}
