//! Fault rules: make a virtual device answer what real hardware will not answer on demand.
//!
//! A [`RuleSpec`] says which requests it applies to ([`Match`]: API, device, service, RPC
//! method, path prefix, HTTP method) and what happens instead of the device's own answer
//! ([`ActionKind`]): any code of the device's API built by the vendor encoder, any HTTP status
//! with or without a body, a delay, a truncated JSON body, an HTML body, a connection reset,
//! or no answer at all. A rule fires with a probability (seeded, so a run can be replayed) and
//! at most `count` times, then expires.
//!
//! [`with_faults`] wraps a device's router: it reads each request, applies the first rule that
//! matches and fires, otherwise lets the device answer, and records the exchange in the
//! [`Journal`].
//!
//! The JSON form of a rule, as the admin API and scenario files take it:
//!
//! ```
//! use devfault_emulator::faults::{Faults, RuleSpec};
//!
//! let faults = Faults::new(42);
//! let spec: RuleSpec = serde_json::from_str(
//!     r#"{"match": {"service": "system", "method": "getPowerStatus"},
//!         "action": "code", "code": 40000, "count": 1}"#,
//! )
//! .unwrap();
//! let rule = faults.add(spec).unwrap();
//! assert_eq!(rule.resolved.as_ref().map(|c| c.reason.as_str()), Some("Request Retry"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody, to_bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use devfault_bravia::Code as BraviaCode;
use devfault_bravia::wire::{ErrorResponse, decode_response};
use devfault_core::{Entry, Severity};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::device::Device;
use crate::journal::{
    Decoded, DecodedCode, FiredRule, Journal, Outcome, RawEntry, RawRequest, RawResponse,
};

/// How long a `no_answer` rule holds a request by default before closing the connection.
pub const DEFAULT_MAX_HOLD: Duration = Duration::from_secs(60);

/// The longest `delay_ms` a rule may ask for (10 minutes).
pub const MAX_DELAY_MS: u64 = 600_000;

/// The largest device response the layer buffers for the journal (16 MiB).
const RESPONSE_LIMIT: usize = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Rules as written
// ---------------------------------------------------------------------------------------------

/// What a rule does to a request it fires on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Answer with a code of the device's API, encoded as the vendor does (`code`, optional
    /// `message` to pick one of several rows of a code, `headers`).
    Code,
    /// Answer with any final HTTP status, 200–599, with or without a body (`status`, `body`,
    /// `content_type`, `headers`).
    Status,
    /// Wait `delay_ms`, then let the device answer.
    Delay,
    /// Let the device answer, then cut its body in half, keeping a JSON content type
    /// (`status` to change the status, `headers`).
    MalformedBody,
    /// Answer with an HTML page (`status`, default 200; `body`; `content_type`, default
    /// `text/html`; `headers`).
    NonJsonBody,
    /// Close the connection with a TCP reset, without an HTTP response.
    Reset,
    /// Send nothing until the client gives up (bounded by the server's maximum hold, 60 s by
    /// default), then close the connection.
    NoAnswer,
}

impl ActionKind {
    /// Every action, in the order the documentation lists them.
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Code,
        ActionKind::Status,
        ActionKind::Delay,
        ActionKind::MalformedBody,
        ActionKind::NonJsonBody,
        ActionKind::Reset,
        ActionKind::NoAnswer,
    ];

    /// The name in JSON (`malformed_body`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Code => "code",
            ActionKind::Status => "status",
            ActionKind::Delay => "delay",
            ActionKind::MalformedBody => "malformed_body",
            ActionKind::NonJsonBody => "non_json_body",
            ActionKind::Reset => "reset",
            ActionKind::NoAnswer => "no_answer",
        }
    }

    /// The optional members of a rule this action uses (beyond `match`, `probability`,
    /// `count`).
    fn fields(self) -> &'static [&'static str] {
        match self {
            ActionKind::Code => &["code", "message", "headers", "delay_ms"],
            ActionKind::Status => &["status", "body", "content_type", "headers", "delay_ms"],
            ActionKind::Delay => &["delay_ms"],
            ActionKind::MalformedBody => &["status", "headers", "delay_ms"],
            ActionKind::NonJsonBody => &["status", "body", "content_type", "headers", "delay_ms"],
            ActionKind::Reset => &["delay_ms"],
            ActionKind::NoAnswer => &[],
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which requests a rule applies to; every member given must match, an absent one matches
/// anything.
#[derive(Clone, Default, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// The device's API: `bravia` or `thinq`. Set from the code when a `code` rule leaves it
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// The device's id (`bravia-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The service (`system` for `POST /sony/system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The RPC method named in the request body (`getPowerStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A prefix of the request path (`/sony/audio`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The HTTP method (`POST`), case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
}

impl Match {
    /// True when no member is given (the rule matches every request).
    pub fn is_empty(&self) -> bool {
        *self == Match::default()
    }

    /// True when `request` satisfies every member given.
    pub fn matches(&self, request: &RequestInfo) -> bool {
        fn same(want: &Option<String>, have: &str) -> bool {
            want.as_deref().is_none_or(|want| want == have)
        }
        fn same_opt(want: &Option<String>, have: &Option<String>) -> bool {
            want.as_deref().is_none_or(|want| have.as_deref() == Some(want))
        }
        same(&self.api, &request.api)
            && same(&self.device, &request.device)
            && same_opt(&self.service, &request.service)
            && same_opt(&self.method, &request.method)
            && self.path.as_deref().is_none_or(|prefix| request.path.starts_with(prefix))
            && self
                .http_method
                .as_deref()
                .is_none_or(|method| method.eq_ignore_ascii_case(&request.http_method))
    }
}

/// A fault rule as written in JSON (admin API body, scenario file), before it is checked.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Which requests it applies to.
    #[serde(rename = "match", default, skip_serializing_if = "Match::is_empty")]
    pub matcher: Match,
    /// What it does.
    pub action: ActionKind,
    /// For `code`: the code, as the API writes it (`40000` for BRAVIA, `"1101"` for ThinQ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
    /// For `code`: which row's message, when the registry has several for the code
    /// (`[7, "not power-on"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For `status`, `malformed_body`, `non_json_body`: the HTTP status, 200–599 (a 1xx
    /// status is interim, never a final answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For `status`, `non_json_body`: the body, sent as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// For `status`, `non_json_body`: the Content-Type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Extra response headers (`{"Retry-After": "5"}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The chance the rule fires on a matching request, 0 to 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// How many more times it fires before it expires (no limit when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Milliseconds to wait before acting (for `delay`: before the device answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

impl RuleSpec {
    /// A rule with this action, matching every request, no parameters.
    pub fn new(action: ActionKind) -> RuleSpec {
        RuleSpec {
            matcher: Match::default(),
            action,
            code: None,
            message: None,
            status: None,
            body: None,
            content_type: None,
            headers: BTreeMap::new(),
            probability: None,
            count: None,
            delay_ms: None,
        }
    }
}

/// Why a rule was refused: the member at fault and what would be accepted.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RuleError {
    /// The member, as a path in the rule (`code`, `match.api`, `headers.Retry-After`).
    pub field: String,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl RuleError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> RuleError {
        RuleError { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for RuleError {}

// ---------------------------------------------------------------------------------------------
// Vendor codecs
// ---------------------------------------------------------------------------------------------

/// A code of an API, checked against its registry, ready to be sent.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ResolvedCode {
    /// The API (`bravia`).
    pub api: &'static str,
    /// The code as written on the wire (`40000`, `1101`).
    pub code: String,
    /// The registry's reason.
    pub reason: String,
    /// The message the reply carries.
    pub message: String,
    /// The HTTP status the reply travels with.
    pub http_status: u16,
    /// The registry row, when the API's registry is linked in.
    #[serde(skip)]
    pub entry: Option<&'static Entry>,
}

/// The service and RPC method a request addresses, as far as the API can tell.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Classified {
    /// The service (`system`).
    pub service: Option<String>,
    /// The RPC method (`getPowerStatus`).
    pub method: Option<String>,
    /// The device the path names, for an API whose one server fronts many devices (a ThinQ
    /// appliance in `/devices/{id}/state`); rules and the journal then see that device
    /// rather than the server's.
    pub device: Option<String>,
}

/// One vendor API as the fault layer needs it: its codes, its encoder, its decoder.
///
/// BRAVIA's is [`BraviaCodec`]; ThinQ's is [`crate::thinq::ThinqCodec`].
pub trait ApiCodec: Send + Sync + fmt::Debug {
    /// The API id (`bravia`, `thinq`).
    fn api(&self) -> &'static str;

    /// Checks a code written in a rule (and the optional message choosing among rows); the
    /// error says what is accepted and where to find the codes.
    fn resolve(&self, code: &Value, message: Option<&str>) -> Result<ResolvedCode, String>;

    /// The response a device of this API sends for `code`, given the request's body (for ids
    /// to echo).
    fn error_response(&self, code: &ResolvedCode, request_body: &[u8]) -> Response;

    /// [`ApiCodec::error_response`] given the request's headers too, for an API that echoes
    /// one of them (ThinQ's `x-message-id`). The fault layer calls this one.
    fn error_response_to(
        &self,
        code: &ResolvedCode,
        request_headers: &HeaderMap,
        request_body: &[u8],
    ) -> Response {
        let _ = request_headers;
        self.error_response(code, request_body)
    }

    /// The response to a request whose body did not come whole in time.
    fn body_timeout(&self) -> Response {
        json_error(StatusCode::REQUEST_TIMEOUT, "the request body came too slowly")
    }

    /// The service and RPC method of a request.
    fn classify(&self, path: &str, body: &[u8]) -> Classified;

    /// The device a request path names, for an API whose one server fronts many devices (the
    /// [`Classified::device`] of [`ApiCodec::classify`], without reading the body). The
    /// journal files a request under it when no rule needed the request classified.
    fn device_in_path(&self, _path: &str) -> Option<String> {
        None
    }

    /// What the vendor decoder reads in a response: its code (none for a success) and the
    /// rules of the API it breaks.
    fn decode(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Decoded;
}

/// The BRAVIA codec: codes from [`devfault_bravia::registry`], replies from
/// [`devfault_bravia::wire::encode_error`], decoding by
/// [`devfault_bravia::wire::decode_response`].
#[derive(Clone, Copy, Default, Debug)]
pub struct BraviaCodec;

impl ApiCodec for BraviaCodec {
    fn api(&self) -> &'static str {
        devfault_bravia::API
    }

    fn resolve(&self, code: &Value, message: Option<&str>) -> Result<ResolvedCode, String> {
        const HOW: &str = "list the codes with `devfault list --api bravia`";
        let Some(number) = code.as_u64() else {
            return Err(match code {
                Value::String(text) if text.parse::<u64>().is_ok() => {
                    format!("BRAVIA codes are JSON integers: write {text}, not \"{text}\"")
                }
                _ => format!("{code} is not a BRAVIA code (an integer 0-65535); {HOW}"),
            });
        };
        let rows: Vec<&'static Entry> = u32::try_from(number)
            .map(|value| devfault_bravia::registry().rows(value).collect())
            .unwrap_or_default();
        let Some(first) = rows.first().copied() else {
            return Err(format!("{number} is not in the BRAVIA registry; {HOW}"));
        };
        let entry = match message {
            None => first,
            Some(message) => rows
                .iter()
                .copied()
                .find(|e| e.message == message)
                .or_else(|| rows.iter().copied().find(|e| e.message.eq_ignore_ascii_case(message)))
                .ok_or_else(|| {
                    let known: Vec<String> =
                        rows.iter().map(|e| format!("{:?}", e.message)).collect();
                    format!(
                        "BRAVIA code {number} has no row with message {message:?}; its messages: {}",
                        known.join(", ")
                    )
                })?,
        };
        Ok(ResolvedCode {
            api: devfault_bravia::API,
            code: entry.code.to_string(),
            reason: entry.reason.clone(),
            message: entry.message.clone(),
            http_status: entry.http_status.as_u16(),
            entry: Some(entry),
        })
    }

    fn error_response(&self, code: &ResolvedCode, request_body: &[u8]) -> Response {
        let id = serde_json::from_slice::<Value>(request_body)
            .ok()
            .and_then(|body| body.get("id").and_then(Value::as_u64));
        match code.entry {
            Some(entry) => ErrorResponse { entry, id }.into_response(),
            None => json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("BRAVIA code {} has no registry row", code.code),
            ),
        }
    }

    fn body_timeout(&self) -> Response {
        ErrorResponse { entry: BraviaCode::TIMEOUT.entry(), id: None }.into_response()
    }

    fn classify(&self, path: &str, body: &[u8]) -> Classified {
        let service = path
            .strip_prefix("/sony/")
            .and_then(|rest| rest.split('/').next())
            .filter(|service| !service.is_empty())
            .map(str::to_owned);
        /// Only `method`, borrowed; the other members are skipped without being built.
        #[derive(serde::Deserialize)]
        struct MethodOnly<'a> {
            #[serde(borrow)]
            method: Option<std::borrow::Cow<'a, str>>,
        }
        let method = serde_json::from_slice::<MethodOnly<'_>>(body)
            .ok()
            .and_then(|body| body.method.map(std::borrow::Cow::into_owned));
        Classified { service, method, device: None }
    }

    fn decode(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Decoded {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let response = decode_response(status, pairs, body);
        let violations = response
            .findings
            .iter()
            .filter(|finding| finding.severity == Severity::Violation)
            .map(|finding| finding.rule.to_owned())
            .collect();
        let code = match response.error() {
            Some(reply) => Some(DecodedCode {
                code: reply.code.to_string(),
                reason: reply.entry.map(|entry| entry.reason.clone()),
            }),
            None => response.entry().map(|entry| DecodedCode {
                code: entry.code.to_string(),
                reason: Some(entry.reason.clone()),
            }),
        };
        Decoded { code, violations }
    }
}

// ---------------------------------------------------------------------------------------------
// Checked rules and the rule set
// ---------------------------------------------------------------------------------------------

/// What a request looks like to the rule matcher.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct RequestInfo {
    /// The device's API.
    pub api: String,
    /// The device's id.
    pub device: String,
    /// The HTTP method.
    pub http_method: String,
    /// The path, without the query.
    pub path: String,
    /// The service, when the API has services.
    pub service: Option<String>,
    /// The RPC method, when readable.
    pub method: Option<String>,
}

/// A checked rule in the rule set.
#[derive(Clone, Debug, Serialize)]
pub struct FaultRule {
    /// Its id, unique for the life of the [`Faults`] (ids are not reused after a removal).
    pub id: u64,
    /// The rule as given, with `match.api` filled in for a `code` rule that left it out and
    /// `count` counting down.
    #[serde(flatten)]
    pub spec: RuleSpec,
    /// For `code`: what the code is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<ResolvedCode>,
    /// How many times it has fired.
    pub fired: u64,
    #[serde(skip)]
    action: Action,
}

impl FaultRule {
    /// The probability it fires with, 1 when not given.
    pub fn probability(&self) -> f64 {
        self.spec.probability.unwrap_or(1.0)
    }
}

/// A rule's action with its parameters checked.
#[derive(Clone, Debug)]
enum Action {
    Code(ResolvedCode, Vec<(HeaderName, HeaderValue)>),
    Status(Canned),
    Delay,
    MalformedBody(Option<StatusCode>, Vec<(HeaderName, HeaderValue)>),
    NonJsonBody(Canned),
    Reset,
    NoAnswer,
}

/// A response written in the rule.
#[derive(Clone, Debug)]
struct Canned {
    status: StatusCode,
    body: Bytes,
    content_type: Option<HeaderValue>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Canned {
    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        if let Some(content_type) = &self.content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, content_type.clone());
        }
        add_headers(&mut response, &self.headers);
        response
    }
}

/// The fault rules of an emulator, shared by all its devices and the admin API.
#[derive(Debug)]
pub struct Faults {
    codecs: Vec<Arc<dyn ApiCodec>>,
    max_hold: Duration,
    released: watch::Sender<bool>,
    /// How many rules there are, readable without the lock: with none, requests skip
    /// classification and matching.
    rule_count: AtomicUsize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<FaultRule>,
    next_id: u64,
    seed: u64,
    rng: SplitMix64,
}

impl Faults {
    /// An empty rule set whose random decisions follow `seed`, with the BRAVIA codec and the
    /// ThinQ placeholder.
    pub fn new(seed: u64) -> Faults {
        Faults {
            codecs: vec![
                Arc::new(BraviaCodec),
                Arc::new(crate::thinq::ThinqCodec),
                Arc::new(crate::thinq::mqtt::faults::MqttCodec),
            ],
            max_hold: DEFAULT_MAX_HOLD,
            released: watch::Sender::new(false),
            rule_count: AtomicUsize::new(0),
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                next_id: 1,
                seed,
                rng: SplitMix64::new(seed),
            }),
        }
    }

    /// Plugs in (or replaces) the codec of an API.
    pub fn with_codec(mut self, codec: Arc<dyn ApiCodec>) -> Faults {
        self.codecs.retain(|known| known.api() != codec.api());
        self.codecs.push(codec);
        self
    }

    /// Sets how long a `no_answer` rule holds a request at most.
    pub fn with_max_hold(mut self, max: Duration) -> Faults {
        self.max_hold = max;
        self
    }

    /// How long a `no_answer` rule holds a request at most.
    pub fn max_hold(&self) -> Duration {
        self.max_hold
    }

    /// The codec of an API.
    pub fn codec(&self, api: &str) -> Option<&Arc<dyn ApiCodec>> {
        self.codecs.iter().find(|codec| codec.api() == api)
    }

    /// The APIs it has codecs for.
    pub fn apis(&self) -> Vec<&'static str> {
        self.codecs.iter().map(|codec| codec.api()).collect()
    }

    /// Checks a rule without adding it.
    pub fn check(&self, spec: RuleSpec) -> Result<FaultRule, RuleError> {
        let mut spec = spec;
        let matcher = &mut spec.matcher;
        if let Some(api) = &matcher.api
            && self.codec(api).is_none()
        {
            return Err(RuleError::new(
                "match.api",
                format!("unknown API {api:?}; accepted: {}", self.apis().join(", ")),
            ));
        }
        for (field, value) in [
            ("match.device", &matcher.device),
            ("match.service", &matcher.service),
            ("match.method", &matcher.method),
        ] {
            if value.as_deref() == Some("") {
                return Err(RuleError::new(field, "is empty; leave it out to match any"));
            }
        }
        if let Some(path) = &matcher.path
            && !path.starts_with('/')
        {
            return Err(RuleError::new(
                "match.path",
                format!(
                    "{path:?} does not start with '/'; give a path prefix such as \"/sony/audio\""
                ),
            ));
        }
        if let Some(method) = &mut matcher.http_method {
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(RuleError::new(
                    "match.http_method",
                    format!("{method:?} is not an HTTP method; give e.g. \"POST\" or \"GET\""),
                ));
            }
            method.make_ascii_uppercase();
        }
        if let Some(p) = spec.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(RuleError::new(
                "probability",
                format!(
                    "{p} is outside 0 to 1; 1 (the default) fires every time, 0.25 one time in four"
                ),
            ));
        }
        if spec.count == Some(0) {
            return Err(RuleError::new(
                "count",
                "0 would never fire; give 1 or more, or leave count out for no limit",
            ));
        }
        if let Some(delay) = spec.delay_ms
            && delay > MAX_DELAY_MS
        {
            return Err(RuleError::new(
                "delay_ms",
                format!("{delay} is more than the maximum, {MAX_DELAY_MS} (10 minutes)"),
            ));
        }
        let action = spec.action;
        let allowed = action.fields();
        for (field, present) in [
            ("code", spec.code.is_some()),
            ("message", spec.message.is_some()),
            ("status", spec.status.is_some()),
            ("body", spec.body.is_some()),
            ("content_type", spec.content_type.is_some()),
            ("headers", !spec.headers.is_empty()),
            ("delay_ms", spec.delay_ms.is_some()),
        ] {
            if present && !allowed.contains(&field) {
                let takes = if allowed.is_empty() {
                    "no parameters".to_owned()
                } else {
                    allowed.join(", ")
                };
                let hint = if action == ActionKind::NoAnswer && field == "delay_ms" {
                    format!(
                        "; no_answer holds until the client gives up (at most {} s): for a delay then a reset use action reset with delay_ms",
                        self.max_hold.as_secs()
                    )
                } else {
                    String::new()
                };
                return Err(RuleError::new(
                    field,
                    format!("is not used by action {action}; {action} takes {takes}{hint}"),
                ));
            }
        }
        let headers = parse_headers(&spec.headers)?;
        let mut resolved = None;
        let action = match action {
            ActionKind::Code => {
                let Some(code) = spec.code.clone() else {
                    return Err(RuleError::new(
                        "code",
                        "action code needs a code, e.g. \"code\": 40000 (list them with `devfault list --api bravia`)",
                    ));
                };
                let code = self.resolve(&mut spec.matcher, &code, spec.message.as_deref())?;
                resolved = Some(code.clone());
                Action::Code(code, headers)
            }
            ActionKind::Status => {
                let Some(status) = spec.status else {
                    return Err(RuleError::new(
                        "status",
                        "action status needs a status, 200-599, e.g. \"status\": 503",
                    ));
                };
                let body = spec.body.clone().unwrap_or_default();
                let content_type = match &spec.content_type {
                    Some(text) => Some(header_value("content_type", text)?),
                    None if body.is_empty() => None,
                    None if serde_json::from_str::<Value>(&body).is_ok() => {
                        Some(HeaderValue::from_static("application/json"))
                    }
                    None => Some(HeaderValue::from_static("text/plain; charset=utf-8")),
                };
                Action::Status(Canned {
                    status: status_code(status)?,
                    body: Bytes::from(body),
                    content_type,
                    headers,
                })
            }
            ActionKind::Delay => {
                if spec.delay_ms.is_none() {
                    return Err(RuleError::new(
                        "delay_ms",
                        "action delay needs delay_ms, the milliseconds to wait, e.g. \"delay_ms\": 2000",
                    ));
                }
                Action::Delay
            }
            ActionKind::MalformedBody => {
                Action::MalformedBody(spec.status.map(status_code).transpose()?, headers)
            }
            ActionKind::NonJsonBody => {
                let status = status_code(spec.status.unwrap_or(200))?;
                let body = spec.body.clone().unwrap_or_else(|| html_page(status));
                let content_type = header_value(
                    "content_type",
                    spec.content_type.as_deref().unwrap_or("text/html; charset=utf-8"),
                )?;
                Action::NonJsonBody(Canned {
                    status,
                    body: Bytes::from(body),
                    content_type: Some(content_type),
                    headers,
                })
            }
            ActionKind::Reset => Action::Reset,
            ActionKind::NoAnswer => Action::NoAnswer,
        };
        Ok(FaultRule { id: 0, spec, resolved, fired: 0, action })
    }

    /// Finds the codec a `code` rule means: the one `match.api` names, else the only one
    /// whose registry has the code (and `match.api` is set to it).
    fn resolve(
        &self,
        matcher: &mut Match,
        code: &Value,
        message: Option<&str>,
    ) -> Result<ResolvedCode, RuleError> {
        if let Some(api) = &matcher.api {
            let codec = self
                .codec(api)
                .ok_or_else(|| RuleError::new("match.api", format!("unknown API {api:?}")))?;
            return codec.resolve(code, message).map_err(|m| RuleError::new("code", m));
        }
        let mut found = Vec::new();
        let mut refusals = Vec::new();
        for codec in &self.codecs {
            match codec.resolve(code, message) {
                Ok(resolved) => found.push(resolved),
                Err(refusal) => refusals.push(format!("{}: {refusal}", codec.api())),
            }
        }
        match found.len() {
            0 => Err(RuleError::new("code", refusals.join("; "))),
            1 => {
                let resolved = found.remove(0);
                matcher.api = Some(resolved.api.to_owned());
                Ok(resolved)
            }
            _ => {
                let apis: Vec<&str> = found.iter().map(|r| r.api).collect();
                Err(RuleError::new(
                    "code",
                    format!(
                        "{code} is a code of several APIs ({}); say which with match.api",
                        apis.join(", ")
                    ),
                ))
            }
        }
    }

    /// Checks and adds a rule at the end of the list; returns it with its id.
    pub fn add(&self, spec: RuleSpec) -> Result<FaultRule, RuleError> {
        let mut rule = self.check(spec)?;
        let mut inner = self.lock();
        rule.id = inner.next_id;
        inner.next_id += 1;
        inner.rules.push(rule.clone());
        self.count_rules(&inner);
        Ok(rule)
    }

    /// Checks every rule, then adds them all, or none: the error gives the index of the first
    /// refused rule.
    pub fn add_all(&self, specs: Vec<RuleSpec>) -> Result<Vec<FaultRule>, (usize, RuleError)> {
        let mut checked = Vec::with_capacity(specs.len());
        for (index, spec) in specs.into_iter().enumerate() {
            checked.push(self.check(spec).map_err(|error| (index, error))?);
        }
        let mut inner = self.lock();
        for rule in &mut checked {
            rule.id = inner.next_id;
            inner.next_id += 1;
            inner.rules.push(rule.clone());
        }
        self.count_rules(&inner);
        Ok(checked)
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().rules.clone()
    }

    /// Removes one rule; false when there is none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|rule| rule.id != id);
        self.count_rules(&inner);
        inner.rules.len() != before
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut inner = self.lock();
        let count = inner.rules.len();
        inner.rules.clear();
        self.count_rules(&inner);
        count
    }

    /// True when there is at least one rule (read without taking the rules' lock).
    pub fn has_rules(&self) -> bool {
        self.rule_count.load(Ordering::Acquire) > 0
    }

    /// Publishes the rule count; called under the lock after every change of the list.
    fn count_rules(&self, inner: &Inner) {
        self.rule_count.store(inner.rules.len(), Ordering::Release);
    }

    /// The seed of the random decisions.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// Restarts the random decisions from `seed`: the same seed and the same requests give
    /// the same decisions.
    pub fn set_seed(&self, seed: u64) {
        let mut inner = self.lock();
        inner.seed = seed;
        inner.rng = SplitMix64::new(seed);
    }

    /// The rule that fires for `request`, if one does: the first that matches and whose
    /// probability draw succeeds (a draw is made only for probabilities strictly between 0
    /// and 1). Its count goes down by one, and it is removed when the count reaches 0.
    pub fn decide(&self, request: &RequestInfo) -> Option<FaultRule> {
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        let index = rules.iter().position(|rule| {
            if !rule.spec.matcher.matches(request) {
                return false;
            }
            let p = rule.probability();
            if p >= 1.0 {
                true
            } else if p <= 0.0 {
                false
            } else {
                rng.next_f64() < p
            }
        })?;
        let rule = &mut rules[index];
        rule.fired += 1;
        if let Some(count) = &mut rule.spec.count {
            *count = count.saturating_sub(1);
        }
        let fired = rule.clone();
        if fired.spec.count == Some(0) {
            rules.remove(index);
            self.rule_count.store(rules.len(), Ordering::Release);
        }
        Some(fired)
    }

    /// [`Faults::decide`] among the rules that name `request.api` in `match.api` only: for
    /// an event path (ThinQ's MQTT) whose traffic rules written for HTTP must not touch.
    pub fn decide_named(&self, request: &RequestInfo) -> Option<FaultRule> {
        if !self.has_rules() {
            return None;
        }
        let named =
            self.lock().rules.iter().any(|r| r.spec.matcher.api.as_deref() == Some(&request.api));
        if !named {
            return None;
        }
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        let index = rules.iter().position(|rule| {
            if rule.spec.matcher.api.as_deref() != Some(&request.api)
                || !rule.spec.matcher.matches(request)
            {
                return false;
            }
            let p = rule.probability();
            p >= 1.0 || (p > 0.0 && rng.next_f64() < p)
        })?;
        let rule = &mut rules[index];
        rule.fired += 1;
        if let Some(count) = &mut rule.spec.count {
            *count = count.saturating_sub(1);
        }
        let fired = rule.clone();
        if fired.spec.count == Some(0) {
            rules.remove(index);
            self.rule_count.store(rules.len(), Ordering::Release);
        }
        Some(fired)
    }

    /// Ends every delay and `no_answer` hold now (at server shutdown), and every later one at
    /// once.
    pub fn release_holds(&self) {
        self.released.send_replace(true);
    }

    /// Waits `duration`, or less if the holds are released.
    async fn hold(&self, duration: Duration) {
        let mut released = self.released.subscribe();
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            _ = released.wait_for(|released| *released) => {}
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update under the lock leaves the rule list whole, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Faults {
    /// An empty rule set seeded from the clock.
    fn default() -> Faults {
        Faults::new(seed_from_clock())
    }
}

/// A seed taken from the clock, for runs that do not ask for one (the admin API shows it, so
/// a run can still be replayed).
pub fn seed_from_clock() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    // Spread the low-entropy clock value over all 64 bits.
    SplitMix64::new(nanos as u64).next_u64()
}

fn parse_headers(
    headers: &BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, RuleError> {
    headers
        .iter()
        .map(|(name, value)| {
            let field = format!("headers.{name}");
            let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                RuleError::new(&field, format!("{name:?} is not a valid header name"))
            })?;
            Ok((parsed, header_value(&field, value)?))
        })
        .collect()
}

fn header_value(field: &str, value: &str) -> Result<HeaderValue, RuleError> {
    HeaderValue::from_str(value).map_err(|_| {
        RuleError::new(field, format!("{value:?} is not a valid header value (visible ASCII)"))
    })
}

fn status_code(status: u16) -> Result<StatusCode, RuleError> {
    match StatusCode::from_u16(status) {
        Ok(code) if (200..=599).contains(&status) => Ok(code),
        // hyper turns a 1xx final response into a 500 (and 101 into an upgrade), so the rule
        // would not send what it says.
        Ok(_) if (100..=199).contains(&status) => Err(RuleError::new(
            "status",
            format!(
                "{status} is an interim (1xx) status, which the HTTP server cannot send as a final answer; give 200-599"
            ),
        )),
        _ => Err(RuleError::new("status", format!("{status} is outside 200-599"))),
    }
}

fn html_page(status: StatusCode) -> String {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
    format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><hr><address>nginx</address></body></html>\n"
    )
}

fn add_headers(response: &mut Response, headers: &[(HeaderName, HeaderValue)]) {
    for (name, value) in headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
}

/// `{"error": message}` with a status: how the emulator itself (not a vendor API) speaks.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

// ---------------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and every seed gives a full-period
/// sequence, which is all a fault probability needs.
#[derive(Clone, Debug)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

/// A handle on the TCP connection a request came on, which a `reset` or `no_answer` rule uses
/// to end it without a response.
///
/// [`crate::server`] serves devices with a listener that puts one in each request's
/// extensions (as `ConnectInfo<ConnectionControl>`); once [`ConnectionControl::abort`] is
/// called, the connection's next read or write fails, its socket is set to linger 0, and
/// closing it sends a TCP RST.
#[derive(Clone, Default, Debug)]
pub struct ConnectionControl {
    aborted: Arc<AtomicBool>,
}

impl ConnectionControl {
    /// A handle for a new connection.
    pub fn new() -> ConnectionControl {
        ConnectionControl::default()
    }

    /// Asks for the connection to be reset.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
    }

    /// True once [`ConnectionControl::abort`] was called.
    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }
}

/// A TCP listener for devices: each connection it accepts carries a [`ConnectionControl`], so
/// `reset` and `no_answer` rules can end it with a TCP RST.
#[derive(Debug)]
pub struct FaultListener {
    inner: TcpListener,
}

impl FaultListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener) -> FaultListener {
        FaultListener { inner }
    }
}

impl Listener for FaultListener {
    type Io = FaultStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (FaultStream, SocketAddr) {
        let (inner, addr) = Listener::accept(&mut self.inner).await;
        (FaultStream { inner, control: ConnectionControl::new(), lingering: false }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnectionControl {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> ConnectionControl {
        stream.io().control.clone()
    }
}

/// A connection accepted by a [`FaultListener`]: a TCP stream that fails every read and
/// write once its [`ConnectionControl`] is aborted, with linger 0 so that closing it sends a
/// TCP RST instead of a FIN.
#[derive(Debug)]
pub struct FaultStream {
    inner: TcpStream,
    control: ConnectionControl,
    lingering: bool,
}

impl FaultStream {
    /// The handle that `reset` and `no_answer` rules abort this connection with (for a
    /// listener that wraps [`FaultListener`], such as [`crate::tls::TlsListener`]).
    pub fn control(&self) -> &ConnectionControl {
        &self.control
    }

    /// The reset error once aborted (setting linger 0 the first time).
    fn aborted(&mut self) -> Option<io::Error> {
        if !self.control.is_aborted() {
            return None;
        }
        if !self.lingering {
            self.lingering = true;
            // Without linger 0 the close would be a FIN; a reset is what the rule asks for,
            // and a failure here still closes the connection without a response.
            let _ = self.inner.set_zero_linger();
        }
        Some(io::Error::new(io::ErrorKind::ConnectionReset, "reset by a devfault fault rule"))
    }
}

impl AsyncRead for FaultStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.aborted() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves a device's router (wrapped by [`with_faults`]) on a [`FaultListener`] until
/// `shutdown` resolves; connections in a hold end when [`Faults::release_holds`] is called.
pub async fn serve_device(
    listener: FaultListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<ConnectionControl>())
        .with_graceful_shutdown(shutdown)
        .await
}

// ---------------------------------------------------------------------------------------------
// The layer
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
struct LayerState {
    device: Arc<dyn Device>,
    /// The device's id and codec, looked up once rather than per request.
    device_id: Arc<str>,
    codec: Option<Arc<dyn ApiCodec>>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
    limits: BodyLimits,
}

impl LayerState {
    /// The device a request addresses: the one its path names (a ThinQ appliance, from the
    /// classification when there is one, else from the path alone), else the server's own.
    fn device_of(&self, path: &str, classified: Option<&Classified>) -> Arc<str> {
        let named = match classified {
            Some(classified) => classified.device.as_deref().map(Arc::from),
            None => self.codec.as_ref().and_then(|codec| codec.device_in_path(path)).map(Arc::from),
        };
        named.unwrap_or_else(|| Arc::clone(&self.device_id))
    }
}

/// Wraps a device's router with the fault rules and the journal: each request is read
/// (within [`BodyLimits::default`]), matched against the rules, answered by the first rule
/// that fires or else by `router`, and recorded.
pub fn with_faults(
    router: Router,
    device: Arc<dyn Device>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
) -> Router {
    with_faults_and_limits(router, device, faults, journal, BodyLimits::default())
}

/// [`with_faults`] for a device whose body limits are not the defaults.
pub fn with_faults_and_limits(
    router: Router,
    device: Arc<dyn Device>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
    limits: BodyLimits,
) -> Router {
    let device_id = Arc::from(device.id());
    let codec = faults.codec(device.api()).cloned();
    let state = LayerState { device, device_id, codec, faults, journal, limits };
    router.layer(middleware::from_fn_with_state(state, intercept))
}

/// What the journal will say about one exchange, gathered as it goes.
struct Exchange<'a> {
    state: &'a LayerState,
    /// The device the request addresses (see [`Classified::device`]).
    device: Arc<str>,
    time: SystemTime,
    started: Instant,
    /// Taken when the exchange is recorded (once).
    request: Option<RawRequest>,
    fired: Option<FiredRule>,
}

impl Exchange<'_> {
    fn record(&mut self, outcome: Outcome, response: Option<RawResponse>) {
        let Some(request) = self.request.take() else { return };
        self.state.journal.record_raw(RawEntry {
            time: self.time,
            device: Arc::clone(&self.device),
            api: self.state.device.api(),
            codec: self.state.codec.clone(),
            request,
            outcome,
            response,
            fault: self.fired,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }

    /// Reads the response's body, records the exchange and gives the response back.
    async fn answered(mut self, response: Response) -> Response {
        let (mut parts, body) = response.into_parts();
        let body = match to_bytes(body, RESPONSE_LIMIT).await {
            Ok(body) => body,
            Err(error) => {
                parts.status = StatusCode::INTERNAL_SERVER_ERROR;
                parts.headers.clear();
                parts
                    .headers
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                let message = format!("the device's response could not be read: {error}");
                Bytes::from(serde_json::json!({ "error": message }).to_string())
            }
        };
        let recorded = RawResponse::new(
            parts.status.as_u16(),
            &parts.headers,
            &body,
            self.state.codec.as_ref(),
        );
        self.record(Outcome::Answered, Some(recorded));
        Response::from_parts(parts, Body::from(body))
    }

    /// Resets the connection (or, without a connection handle, says why it cannot).
    async fn reset(mut self, connection: Option<ConnectionControl>, outcome: Outcome) -> Response {
        match connection {
            Some(connection) => {
                if outcome == Outcome::Reset {
                    self.record(Outcome::Reset, None);
                }
                connection.abort();
                // Never sent: the aborted connection fails the write of this response.
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
            None => {
                let response = json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "a reset or no_answer fault needs a connection accepted by devfault_emulator::faults::FaultListener (as devfault serve does); this request came another way",
                );
                self.answered(response).await
            }
        }
    }
}

async fn intercept(State(state): State<LayerState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let time = SystemTime::now();
    let connection =
        request.extensions().get::<ConnectInfo<ConnectionControl>>().map(|info| info.0.clone());
    let (parts, body) = request.into_parts();
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    let path = parts.uri.path();
    let codec = state.codec.as_ref();
    let method = &parts.method;

    let (bytes, unread, declared) = match read_body(&parts.headers, body, state.limits).await {
        Read::Whole(bytes) => (bytes, None, None),
        Read::Unread(body, declared) => (Bytes::new(), Some(body), Some(declared)),
        Read::Late(bytes) => {
            // Not classified: the device never saw this request.
            let classified = Some(Classified::default());
            let request =
                RawRequest::new(method, target, path, &parts.headers, &bytes, classified, codec);
            let device = state.device_of(path, None);
            let exchange = Exchange {
                state: &state,
                device,
                time,
                started,
                request: Some(request),
                fired: None,
            };
            let response = match codec {
                Some(codec) => codec.body_timeout(),
                None => json_error(StatusCode::REQUEST_TIMEOUT, "the request body came too slowly"),
            };
            return exchange.answered(response).await;
        }
    };
    // What the device reads: the bytes read here, or the body left unread for it to refuse.
    let device_request = {
        let bytes = bytes.clone();
        move |parts| Request::from_parts(parts, unread.unwrap_or_else(|| Body::from(bytes)))
    };

    // Without rules nothing needs the request classified now: the journal does it when read.
    let (rule, classified, device) = if state.faults.has_rules() {
        let classified = codec.map(|codec| codec.classify(path, &bytes)).unwrap_or_default();
        let device = state.device_of(path, Some(&classified));
        let info = RequestInfo {
            api: state.device.api().to_owned(),
            device: device.as_ref().to_owned(),
            http_method: method.as_str().to_owned(),
            path: path.to_owned(),
            service: classified.service.clone(),
            method: classified.method.clone(),
        };
        (state.faults.decide(&info), Some(classified), device)
    } else {
        (None, None, state.device_of(path, None))
    };
    let mut recorded =
        RawRequest::new(method, target, path, &parts.headers, &bytes, classified, codec);
    if let Some(declared) = declared {
        recorded.set_body_bytes(usize::try_from(declared).unwrap_or(usize::MAX));
    }
    let mut exchange = Exchange {
        state: &state,
        device,
        time,
        started,
        request: Some(recorded),
        fired: rule.as_ref().map(|rule| FiredRule { rule: rule.id, action: rule.spec.action }),
    };
    let Some(rule) = rule else {
        let response = next.run(device_request(parts)).await;
        return exchange.answered(response).await;
    };

    if let Some(delay) = rule.spec.delay_ms {
        state.faults.hold(Duration::from_millis(delay)).await;
    }
    match &rule.action {
        Action::Code(code, headers) => {
            let mut response = match codec {
                Some(codec) => codec.error_response_to(code, &parts.headers, &bytes),
                None => json_error(StatusCode::NOT_IMPLEMENTED, "no codec for this API"),
            };
            add_headers(&mut response, headers);
            exchange.answered(response).await
        }
        Action::Status(canned) | Action::NonJsonBody(canned) => {
            exchange.answered(canned.response()).await
        }
        Action::Delay => {
            let response = next.run(device_request(parts)).await;
            exchange.answered(response).await
        }
        Action::MalformedBody(status, headers) => {
            let response = next.run(device_request(parts)).await;
            let (mut head, inner) = response.into_parts();
            let inner = to_bytes(inner, RESPONSE_LIMIT).await.unwrap_or_default();
            let truncated = truncate_json(&inner);
            head.headers.remove(header::CONTENT_LENGTH);
            head.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Some(status) = status {
                head.status = *status;
            }
            let mut response = Response::from_parts(head, Body::from(truncated));
            add_headers(&mut response, headers);
            exchange.answered(response).await
        }
        Action::Reset => exchange.reset(connection, Outcome::Reset).await,
        Action::NoAnswer => {
            if connection.is_none() {
                return exchange.reset(None, Outcome::NoAnswer).await;
            }
            // Recorded now: a client that gives up drops this future before the hold ends.
            exchange.record(Outcome::NoAnswer, None);
            state.faults.hold(state.faults.max_hold).await;
            exchange.reset(connection, Outcome::NoAnswer).await
        }
    }
}

/// How much of a request body the layer reads, and for how long it waits for it: the
/// device's own limits, so that the device still answers a body over its limit (the layer
/// hands it what it read, or leaves a body declared too large unread) and the layer answers
/// a body that comes too slowly as the device would.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BodyLimits {
    /// The device's largest request body.
    pub max_bytes: usize,
    /// How long the device waits for a request body.
    pub timeout: Duration,
}

impl Default for BodyLimits {
    /// 1 MiB and 10 s, a BRAVIA display's defaults.
    fn default() -> BodyLimits {
        BodyLimits { max_bytes: 1024 * 1024, timeout: Duration::from_secs(10) }
    }
}

/// A request body as the layer read it.
enum Read {
    /// All of it; or, when it broke or passed the limit, what came until then.
    Whole(Bytes),
    /// Declared (Content-Length) larger than the limit: left for the device to refuse.
    Unread(Body, u64),
    /// Not whole by the deadline: what had come.
    Late(Bytes),
}

async fn read_body(headers: &HeaderMap, mut body: Body, limits: BodyLimits) -> Read {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if let Some(declared) = declared
        && declared > limits.max_bytes as u64
    {
        return Read::Unread(body, declared);
    }
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let mut bytes = Vec::new();
    loop {
        let frame = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        match tokio::time::timeout_at(deadline, frame).await {
            Err(_) => return Read::Late(Bytes::from(bytes)),
            Ok(None | Some(Err(_))) => return Read::Whole(Bytes::from(bytes)),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                    if bytes.len() > limits.max_bytes {
                        return Read::Whole(Bytes::from(bytes));
                    }
                }
            }
        }
    }
}

/// The first half of a body, so it is no longer whole JSON; a fixed fragment when the body is
/// too short to cut.
fn truncate_json(body: &[u8]) -> Bytes {
    const FRAGMENT: &[u8] = br#"{"result":[{"status":"#;
    if body.len() < 4 {
        return Bytes::from_static(FRAGMENT);
    }
    let mut cut = body.len() / 2;
    // Cut on a character boundary, so the body is truncated JSON, not invalid UTF-8.
    while cut > 1 && (body[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    Bytes::copy_from_slice(&body[..cut])
}

#[cfg(test)]
#[path = "faults_tests.rs"]
mod tests;
