//! One captured response, decoded by its API's rules, in one shape for printing and counting.

use devfault_core::{Entry, Finding, HttpStatus, RetryAfter, Severity};
use serde_json::{Value, json};

use crate::apis::{Api, Lang};
use crate::render;

/// What a response says, whichever API sent it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A success body.
    Success,
    /// An error body.
    Error,
    /// No body.
    Bare,
    /// A body that is not the API's protocol body.
    Unreadable,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Success => "success",
            Kind::Error => "error",
            Kind::Bare => "bare",
            Kind::Unreadable => "unreadable",
        }
    }
}

/// A decoded response.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    /// The API whose rules decoded it.
    pub api: Api,
    /// Why that API was chosen.
    pub api_reason: String,
    /// The HTTP status.
    pub status: u16,
    /// What the body says.
    pub kind: Kind,
    /// The error code as written on the wire, for error bodies.
    pub code: Option<String>,
    /// The error message, for error bodies.
    pub message: Option<String>,
    /// The registry row the response stands for.
    pub entry: Option<&'static Entry>,
    /// For unreadable bodies: why, and the start of the body.
    pub unreadable: Option<(String, String)>,
    /// Rules broken and variants tolerated.
    pub findings: Vec<Finding>,
    /// The Retry-After header, when readable.
    pub retry_after: Option<RetryAfter>,
}

impl Diagnosis {
    /// True when some finding is a violation.
    pub fn has_violation(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Violation)
    }

    /// True when the response reports a failure: an error body, or an error status.
    pub fn is_failure(&self) -> bool {
        self.kind == Kind::Error || self.status >= 400 || self.status < 200
    }

    /// One line: `bravia 40801 "Volume Out of Range" — malformed_request, retry never`.
    pub fn summary(&self) -> String {
        let status =
            HttpStatus::new(self.status).map_or(self.status.to_string(), |s| s.to_string());
        let what = match (self.kind, &self.code, &self.message) {
            (Kind::Error, Some(code), Some(message)) => {
                format!("{} {code} {message:?}", self.api.id())
            }
            (Kind::Error, Some(code), None) => format!("{} {code}", self.api.id()),
            (Kind::Error, None, _) => format!("{} error without a code", self.api.id()),
            (Kind::Success, ..) => format!("{} success", self.api.id()),
            (Kind::Bare, ..) => "no body".to_owned(),
            (Kind::Unreadable, ..) => "a body that is not a protocol body".to_owned(),
        };
        let mut line = format!("HTTP {status}, {what}");
        if let Some(entry) = self.entry {
            line.push_str(&format!(" — {}, retry {}", entry.class, entry.retry));
        }
        line
    }

    /// The JSON form; `full_entry` includes the whole registry row (`decode`), otherwise only
    /// its reason and advice (`check`, where thousands of rows are printed).
    pub fn to_json(&self, lang: Lang, full_entry: bool) -> Value {
        let registry = self.api.registry();
        let entry = match (self.entry, full_entry) {
            (Some(e), true) => render::entry_json(registry, e, lang),
            (Some(e), false) => json!({"reason": e.reason, "advice": e.advice, "source": e.source}),
            (None, _) => Value::Null,
        };
        json!({
            "api": self.api.id(),
            "status": self.status,
            "outcome": self.kind.as_str(),
            "code": self.code,
            "message": self.message,
            "entry": entry,
            "class": self.entry.map(|e| e.class.as_str()),
            "retry": self.entry.map(|e| e.retry.as_str()),
            "retry_after_seconds": self.retry_after.map(|r| r.wait_from(std::time::SystemTime::now()).as_secs()),
            "unreadable": self.unreadable.as_ref().map(|(reason, excerpt)| json!({"reason": reason, "excerpt": excerpt})),
            "conforming": !self.has_violation(),
            "findings": self.findings.iter().map(|f| json!({"severity": f.severity.as_str(), "rule": f.rule, "detail": f.detail})).collect::<Vec<_>>(),
        })
    }
}

/// Decodes a response by the rules of `api`.
pub fn diagnose(
    api: Api,
    api_reason: String,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    request_message_id: Option<&str>,
) -> Diagnosis {
    let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    // Each vendor's outcome is read into the same (kind, code, message, unreadable) shape; the
    // rest of the diagnosis is built once below.
    let (said, entry, findings, retry_after) = match api {
        Api::Bravia => {
            use devfault_bravia::wire::{Outcome, decode_response};
            let response = decode_response(status, pairs, body);
            let said = match &response.outcome {
                Outcome::Success { .. } => Said::Success,
                Outcome::Error(reply) => Said::Error(Some(reply.code.to_string()), &reply.message),
                Outcome::Bare => Said::Bare,
                Outcome::Unreadable { reason, excerpt } => Said::Unreadable(reason, excerpt),
                _ => Said::Unknown,
            }
            .parts();
            (said, response.entry(), response.findings, response.retry_after)
        }
        Api::Thinq => {
            use devfault_thinq::wire::{Outcome, decode_response};
            let response = decode_response(status, pairs, body, request_message_id);
            let said = match &response.outcome {
                Outcome::Success { .. } => Said::Success,
                Outcome::Error(reply) => {
                    let code = Some(reply.code.to_string()).filter(|c| !c.is_empty());
                    Said::Error(code, &reply.message)
                }
                Outcome::Bare => Said::Bare,
                Outcome::Unreadable { reason, excerpt } => Said::Unreadable(reason, excerpt),
                _ => Said::Unknown,
            }
            .parts();
            (said, response.entry(), response.findings, response.retry_after)
        }
    };
    let (kind, code, message, unreadable) = said;
    Diagnosis {
        api,
        api_reason,
        status,
        kind,
        code,
        message,
        entry,
        unreadable,
        findings,
        retry_after,
    }
}

/// A vendor outcome, borrowed, in the shape both vendors share.
enum Said<'a> {
    Success,
    Error(Option<String>, &'a str),
    Bare,
    Unreadable(&'a str, &'a str),
    /// A variant added to a vendor's `#[non_exhaustive]` outcome after this was written.
    Unknown,
}

type Parts = (Kind, Option<String>, Option<String>, Option<(String, String)>);

impl Said<'_> {
    fn parts(self) -> Parts {
        match self {
            Said::Success => (Kind::Success, None, None, None),
            Said::Error(code, message) => (Kind::Error, code, Some(message.to_owned()), None),
            Said::Bare => (Kind::Bare, None, None, None),
            Said::Unreadable(reason, excerpt) => {
                (Kind::Unreadable, None, None, Some((reason.to_owned(), excerpt.to_owned())))
            }
            Said::Unknown => (
                Kind::Unreadable,
                None,
                None,
                Some(("an outcome this devfault does not know".to_owned(), String::new())),
            ),
        }
    }
}

/// Which API an exchange belongs to, and why: the request's URL and headers first, then the
/// shape of the response body. `None` when nothing tells.
pub fn detect(
    url: &str,
    request_headers: &[(String, String)],
    body: &[u8],
) -> Option<(Api, String)> {
    let path =
        url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .unwrap_or_default();
    let names = || request_headers.iter().map(|(name, _)| name.as_str());
    // The clues in order of strength; each vendor crate says what its own traffic looks like.
    None.or_else(|| devfault_bravia::detect::by_path(path).map(|why| (Api::Bravia, why)))
        .or_else(|| devfault_thinq::detect::by_host(host).map(|why| (Api::Thinq, why)))
        .or_else(|| devfault_thinq::detect::by_headers(names()).map(|why| (Api::Thinq, why)))
        .or_else(|| devfault_bravia::detect::by_headers(names()).map(|why| (Api::Bravia, why)))
        .or_else(|| devfault_thinq::detect::by_path(path).map(|why| (Api::Thinq, why)))
        .or_else(|| detect_body(body))
}

/// Which API a body's shape belongs to.
pub fn detect_body(body: &[u8]) -> Option<(Api, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let code = || object.get("error").and_then(|e| e.get("code"));
    None.or_else(|| devfault_thinq::detect::by_body(object).map(|why| (Api::Thinq, why)))
        .or_else(|| devfault_bravia::detect::by_body(object).map(|why| (Api::Bravia, why)))
        .or_else(|| devfault_thinq::detect::by_error_code(code()?).map(|why| (Api::Thinq, why)))
        .or_else(|| devfault_bravia::detect::by_error_code(code()?).map(|why| (Api::Bravia, why)))
}
