//! A fault rule as written ([`RuleSpec`]: JSON from the admin API or a scenario file), what it
//! matches ([`Match`] against a [`RequestInfo`]), and the rule once checked ([`FaultRule`]),
//! whose action carries its parameters parsed.

use std::collections::BTreeMap;
use std::fmt;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::ResolvedCode;

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
    pub(crate) fn fields(self) -> &'static [&'static str] {
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
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> RuleError {
        RuleError { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for RuleError {}

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
    /// Its id, unique for the life of the [`Faults`](super::Faults) (ids are not reused after a removal).
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
    pub(crate) action: Action,
}

impl FaultRule {
    /// The probability it fires with, 1 when not given.
    pub fn probability(&self) -> f64 {
        self.spec.probability.unwrap_or(1.0)
    }
}

/// A rule's action with its parameters checked.
#[derive(Clone, Debug)]
pub(crate) enum Action {
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
pub(crate) struct Canned {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
    pub(crate) content_type: Option<HeaderValue>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
}

impl Canned {
    pub(crate) fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        if let Some(content_type) = &self.content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, content_type.clone());
        }
        add_headers(&mut response, &self.headers);
        response
    }
}

/// Headers a rule may not set: they frame the message or belong to the connection, so a
/// wrong value would corrupt the wire (a short Content-Length left the rest of the body to be
/// read as the next response) rather than fake a device's answer.
pub const FORBIDDEN_HEADERS: [&str; 7] =
    ["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"];

pub(crate) fn parse_headers(
    headers: &BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, RuleError> {
    headers
        .iter()
        .map(|(name, value)| {
            let field = format!("headers.{name}");
            if FORBIDDEN_HEADERS.iter().any(|forbidden| name.eq_ignore_ascii_case(forbidden)) {
                return Err(RuleError::new(
                    &field,
                    format!(
                        "{name} frames the HTTP message or belongs to the connection, so a rule may not set it (refused: {})",
                        FORBIDDEN_HEADERS.join(", ")
                    ),
                ));
            }
            let parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                RuleError::new(&field, format!("{name:?} is not a valid header name"))
            })?;
            Ok((parsed, header_value(&field, value)?))
        })
        .collect()
}

pub(crate) fn header_value(field: &str, value: &str) -> Result<HeaderValue, RuleError> {
    HeaderValue::from_str(value).map_err(|_| {
        RuleError::new(field, format!("{value:?} is not a valid header value (visible ASCII)"))
    })
}

pub(crate) fn status_code(status: u16) -> Result<StatusCode, RuleError> {
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

pub(crate) fn html_page(status: StatusCode) -> String {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
    format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><hr><address>nginx</address></body></html>\n"
    )
}

pub(crate) fn add_headers(response: &mut Response, headers: &[(HeaderName, HeaderValue)]) {
    for (name, value) in headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
}
