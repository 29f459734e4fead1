//! One captured response, decoded by its API's rules, in one shape for printing and counting.

use devfault_core::{HttpStatus, Reading, ReadingKind};
use serde_json::{Value, json};

use crate::apis::{Api, Lang};
use crate::render;

/// A decoded response: the API whose rules read it, and its vendor-neutral [`Reading`].
#[derive(Clone, Debug)]
pub struct Diagnosis {
    /// The API whose rules decoded it.
    pub api: Api,
    /// Why that API was chosen.
    pub api_reason: String,
    /// What the response says, as the API's wire module reads it: the same value the
    /// emulator's journal records, so the two cannot disagree.
    pub reading: Reading,
}

impl Diagnosis {
    /// One line: `bravia 40801 "Volume Out of Range" — malformed_request, retry never`.
    pub fn summary(&self) -> String {
        let reading = &self.reading;
        let status =
            HttpStatus::new(reading.status).map_or(reading.status.to_string(), |s| s.to_string());
        let what = match (&reading.kind, &reading.code, &reading.message) {
            (ReadingKind::Error, Some(code), Some(message)) => {
                format!("{} {code} {message:?}", self.api.id())
            }
            (ReadingKind::Error, Some(code), None) => format!("{} {code}", self.api.id()),
            (ReadingKind::Error, None, _) => format!("{} error without a code", self.api.id()),
            (ReadingKind::Success, ..) => format!("{} success", self.api.id()),
            (ReadingKind::Bare, ..) => "no body".to_owned(),
            (ReadingKind::Unreadable { .. }, ..) => "a body that is not a protocol body".to_owned(),
        };
        let mut line = format!("HTTP {status}, {what}");
        if let Some(entry) = reading.entry {
            line.push_str(&format!(" — {}, retry {}", entry.class, entry.retry));
        }
        line
    }

    /// The JSON form; `full_entry` includes the whole registry row (`decode`), otherwise only
    /// its reason and advice (`check`, where thousands of rows are printed).
    pub fn to_json(&self, lang: Lang, full_entry: bool) -> Value {
        let registry = self.api.registry();
        let reading = &self.reading;
        let entry = match (reading.entry, full_entry) {
            (Some(e), true) => render::entry_json(registry, e, lang),
            (Some(e), false) => json!({"reason": e.reason, "advice": e.advice, "source": e.source}),
            (None, _) => Value::Null,
        };
        let unreadable = match &reading.kind {
            ReadingKind::Unreadable { reason, excerpt } => {
                json!({"reason": reason, "excerpt": excerpt})
            }
            _ => Value::Null,
        };
        json!({
            "api": self.api.id(),
            "status": reading.status,
            "outcome": reading.kind.as_str(),
            "code": reading.code,
            "message": reading.message,
            "entry": entry,
            "class": reading.entry.map(|e| e.class.as_str()),
            "retry": reading.entry.map(|e| e.retry.as_str()),
            "retry_after_seconds": reading.retry_after.map(|r| r.wait_from(std::time::SystemTime::now()).as_secs()),
            "unreadable": unreadable,
            "conforming": !reading.has_violation(),
            "findings": reading.findings.iter().map(|f| json!({"severity": f.severity.as_str(), "rule": f.rule, "detail": f.detail})).collect::<Vec<_>>(),
        })
    }
}

/// Decodes a response by the rules of `api`: the vendor's wire module reads it into a
/// [`Reading`], and nothing here interprets a vendor's shape.
pub fn diagnose(
    api: Api,
    api_reason: String,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    request_message_id: Option<&str>,
) -> Diagnosis {
    let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let reading = match api {
        Api::Bravia => devfault_bravia::wire::decode_response(status, pairs, body).into_reading(),
        Api::Thinq => {
            devfault_thinq::wire::decode_response(status, pairs, body, request_message_id)
                .into_reading()
        }
    };
    Diagnosis { api, api_reason, reading }
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
