//! Injected faults: the `x-emulator-fault` header (or [`EmulatorConfig::fault`](crate::EmulatorConfig)),
//! its `times`/`id` bookkeeping, and random faults for soak tests.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// The request header that asks for a fault.
pub const FAULT_HEADER: &str = "x-emulator-fault";

/// What goes wrong. Each variant's wire name is the text used in a fault spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// `rate-limit`: 429 `ModelAccountRpmRateLimitExceeded` with `Retry-After` (`retry_after`, default 1).
    RateLimit,
    /// `quota`: 429 `QuotaExceeded`, no `Retry-After`.
    Quota,
    /// `server-error`: 500 `InternalServiceError`.
    ServerError,
    /// `bad-gateway`: 502 with an HTML page (`text/html`).
    BadGateway,
    /// `reset`: headers and part of the body, then the connection is broken off.
    Reset,
    /// `slow-headers`: wait `ms` (default 3000) before the headers, then answer normally.
    SlowHeaders,
    /// `stall`: headers (and for streams the first event), then nothing for `ms` (default 60000), then
    /// the rest.
    Stall,
    /// `stream-cut`: streams end cleanly right after the first image event, without `completed` or
    /// `[DONE]`. No effect on other requests.
    StreamCut,
    /// `stream-error`: streams send `data: {"error":{…InternalServiceError…}}` after the first image
    /// event, then end. No effect on other requests.
    StreamError,
    /// `invalid-json`: 200 with a body that is not valid JSON (streams: a `data:` line that is not).
    InvalidJson,
    /// `moderate`: the images at the `images` indices (default 0) fail with
    /// `OutputImageSensitiveContentDetected`; usage counts only the others.
    Moderate,
    /// `moderate-prompt`: 400 `InputTextSensitiveContentDetected` (param `prompt`).
    ModeratePrompt,
    /// `prompt-risk`: 400 `InputTextRiskDetection` (param `prompt`).
    PromptRisk,
    /// `moderate-input`: 400 `InputImageSensitiveContentDetected`, with the suffix of `reason`
    /// (`PrivacyInformation`, `PolicyViolation`), about reference image `images` (default 0): param
    /// `image[I]` when the request has several images, `image` when it has one.
    ModerateInput,
}

impl FaultKind {
    /// Every kind, in the order of the table above.
    pub const ALL: [FaultKind; 14] = [
        FaultKind::RateLimit,
        FaultKind::Quota,
        FaultKind::ServerError,
        FaultKind::BadGateway,
        FaultKind::Reset,
        FaultKind::SlowHeaders,
        FaultKind::Stall,
        FaultKind::StreamCut,
        FaultKind::StreamError,
        FaultKind::InvalidJson,
        FaultKind::Moderate,
        FaultKind::ModeratePrompt,
        FaultKind::PromptRisk,
        FaultKind::ModerateInput,
    ];

    /// The kinds [`EmulatorConfig::random_faults`](crate::EmulatorConfig) draws from: the ones that
    /// answer with a typed error a client can classify (retryable or not).
    pub const RANDOM: [FaultKind; 4] =
        [FaultKind::RateLimit, FaultKind::ServerError, FaultKind::BadGateway, FaultKind::Quota];

    /// The name used in fault specs, such as `rate-limit`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::RateLimit => "rate-limit",
            FaultKind::Quota => "quota",
            FaultKind::ServerError => "server-error",
            FaultKind::BadGateway => "bad-gateway",
            FaultKind::Reset => "reset",
            FaultKind::SlowHeaders => "slow-headers",
            FaultKind::Stall => "stall",
            FaultKind::StreamCut => "stream-cut",
            FaultKind::StreamError => "stream-error",
            FaultKind::InvalidJson => "invalid-json",
            FaultKind::Moderate => "moderate",
            FaultKind::ModeratePrompt => "moderate-prompt",
            FaultKind::PromptRisk => "prompt-risk",
            FaultKind::ModerateInput => "moderate-input",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed fault spec: `<name>[;times=N][;id=KEY][;ms=MILLIS][;images=I,J][;retry_after=S][;reason=R]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    /// What goes wrong.
    pub kind: FaultKind,
    /// Only the first `times` requests with the same [`id`](Self::id) get the fault; `None`: all.
    pub times: Option<u32>,
    /// Groups requests for `times`; defaults to the whole spec text.
    pub id: String,
    /// Duration for `slow-headers` (default 3000 ms) and `stall` (default 60000 ms).
    pub ms: Option<u64>,
    /// Image indices for `moderate` (default `[0]`).
    pub images: Vec<usize>,
    /// `Retry-After` seconds for `rate-limit` (default 1).
    pub retry_after: Option<u64>,
    /// The code's suffix for `moderate-input` (`PrivacyInformation`, `PolicyViolation`; default none).
    pub reason: Option<String>,
}

impl FaultSpec {
    /// Parses a spec; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let kind = FaultKind::from_name(name).ok_or_else(|| {
            let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown fault {name:?}; known faults: {}", names.join(", "))
        })?;
        let mut spec = FaultSpec {
            kind,
            times: None,
            id: text.trim().to_owned(),
            ms: None,
            images: Vec::new(),
            retry_after: None,
            reason: None,
        };
        for part in parts.filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("{part:?} is not key=value"))?;
            let number =
                |value: &str| value.trim().parse::<u64>().map_err(|_| format!("{key}={value:?} is not a number"));
            match key.trim() {
                "times" => {
                    spec.times = Some(u32::try_from(number(value)?).map_err(|_| "times is too large".to_owned())?)
                }
                "id" => spec.id = value.trim().to_owned(),
                "ms" => spec.ms = Some(number(value)?),
                "retry_after" => spec.retry_after = Some(number(value)?),
                "reason" => spec.reason = Some(value.trim().to_owned()).filter(|r| !r.is_empty()),
                "images" => {
                    spec.images = value
                        .split(',')
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| number(v).map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
                        .collect::<Result<_, _>>()?;
                }
                other => {
                    return Err(format!("unknown fault option {other:?} (times, id, ms, images, retry_after, reason)"));
                }
            }
        }
        Ok(spec)
    }

    /// A spec of `kind` with every option at its default.
    pub fn of(kind: FaultKind) -> Self {
        FaultSpec {
            kind,
            times: None,
            id: kind.name().to_owned(),
            ms: None,
            images: Vec::new(),
            retry_after: None,
            reason: None,
        }
    }

    /// The pause of `slow-headers` / `stall`.
    pub fn duration(&self) -> Duration {
        let default = if self.kind == FaultKind::SlowHeaders { 3_000 } else { 60_000 };
        Duration::from_millis(self.ms.unwrap_or(default))
    }

    /// The images `moderate` fails.
    pub fn moderated(&self) -> &[usize] {
        if self.images.is_empty() { &[0] } else { &self.images }
    }
}

/// Counts requests per fault id (for `times`) and draws random faults.
#[derive(Debug)]
pub(crate) struct FaultBook {
    seen: Mutex<HashMap<String, u32>>,
    random: Option<(f64, Mutex<fastrand::Rng>)>,
}

impl FaultBook {
    pub fn new(random: Option<(f64, u64)>) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            random: random.map(|(probability, seed)| (probability, Mutex::new(fastrand::Rng::with_seed(seed)))),
        }
    }

    /// Whether `spec` applies to this request (counting it against `times`).
    pub fn fires(&self, spec: &FaultSpec) -> bool {
        let Some(times) = spec.times else { return true };
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = seen.entry(spec.id.clone()).or_insert(0);
        *count = count.saturating_add(1);
        *count <= times
    }

    /// A random fault for this request, if the dice say so. Random rate limits ask for no wait
    /// (`Retry-After: 0`), so soak tests stay fast.
    pub fn draw(&self) -> Option<FaultSpec> {
        let (probability, rng) = self.random.as_ref()?;
        let mut rng = rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if rng.f64() >= *probability {
            return None;
        }
        let kind = FaultKind::RANDOM[rng.usize(..FaultKind::RANDOM.len())];
        Some(FaultSpec { retry_after: Some(0), ..FaultSpec::of(kind) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_options() {
        let spec = FaultSpec::parse("moderate; images=1,2 ;times=3;id=x").unwrap();
        assert_eq!(spec.kind, FaultKind::Moderate);
        assert_eq!(spec.images, [1, 2]);
        assert_eq!((spec.times, spec.id.as_str()), (Some(3), "x"));
        let spec = FaultSpec::parse("stall;ms=10").unwrap();
        assert_eq!(spec.duration(), Duration::from_millis(10));
        assert_eq!(FaultSpec::parse("rate-limit").unwrap().id, "rate-limit");
        assert_eq!(FaultSpec::parse("slow-headers").unwrap().duration(), Duration::from_secs(3));
        let spec = FaultSpec::parse("moderate-input;images=1;reason=PrivacyInformation").unwrap();
        assert_eq!((spec.kind, spec.images.as_slice()), (FaultKind::ModerateInput, &[1][..]));
        assert_eq!(spec.reason.as_deref(), Some("PrivacyInformation"));
        assert_eq!(FaultSpec::parse("prompt-risk").unwrap().kind, FaultKind::PromptRisk);
        assert_eq!(FaultSpec::parse("moderate-prompt").unwrap().kind, FaultKind::ModeratePrompt);
        assert!(FaultSpec::parse("explode").is_err());
        assert!(FaultSpec::parse("stall;ms=soon").is_err());
        assert!(FaultSpec::parse("stall;color=red").is_err());
        for kind in FaultKind::ALL {
            assert_eq!(FaultKind::from_name(kind.name()), Some(kind));
        }
    }

    #[test]
    fn times_counts_per_id() {
        let book = FaultBook::new(None);
        let spec = FaultSpec::parse("server-error;times=2;id=a").unwrap();
        let other = FaultSpec::parse("server-error;times=2;id=b").unwrap();
        assert!(book.fires(&spec));
        assert!(book.fires(&other));
        assert!(book.fires(&spec));
        assert!(!book.fires(&spec));
        assert!(book.fires(&FaultSpec::parse("quota").unwrap()));
    }

    #[test]
    fn random_faults_follow_the_seed_and_probability() {
        let draws = |seed| {
            let book = FaultBook::new(Some((0.5, seed)));
            (0..200).map(|_| book.draw().map(|s| s.kind)).collect::<Vec<_>>()
        };
        let first = draws(7);
        assert_eq!(first, draws(7));
        let hits = first.iter().filter(|d| d.is_some()).count();
        assert!((60..140).contains(&hits), "{hits}");
        assert!(FaultBook::new(Some((0.0, 1))).draw().is_none());
    }
}
