//! The JSON line `check --format json` prints for an exchange, serialized straight from the
//! diagnosis (no `serde_json::Value` map per exchange: building one cost more than reading the
//! exchange). Its members and their order are [`Diagnosis::to_json`]'s (with the entry's
//! reason, advice and source) followed by `position`, `method` and `url`; a test holds the two
//! equal.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use devfault_core::ReadingKind;

use crate::diagnose::Diagnosis;

/// One printed exchange.
pub struct Line<'a> {
    /// The diagnosis.
    pub diagnosis: &'a Diagnosis,
    /// Its position (`line 12`).
    pub position: &'a str,
    /// The request's method.
    pub method: &'a str,
    /// The request's URL.
    pub url: &'a str,
}

struct Entry<'a>(&'a devfault_core::Entry);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("reason", &self.0.reason)?;
        map.serialize_entry("advice", &self.0.advice)?;
        map.serialize_entry("source", &self.0.source)?;
        map.end()
    }
}

struct Unreadable<'a>(&'a str, &'a str);

impl Serialize for Unreadable<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("reason", self.0)?;
        map.serialize_entry("excerpt", self.1)?;
        map.end()
    }
}

struct Findings<'a>(&'a [devfault_core::Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|f| {
            [("severity", f.severity.as_str()), ("rule", f.rule), ("detail", f.detail.as_str())]
                .into_iter()
                .collect::<Pairs<'_>>()
        }))
    }
}

/// A small map of string members in a fixed order.
struct Pairs<'a>(Vec<(&'static str, &'a str)>);

impl<'a> FromIterator<(&'static str, &'a str)> for Pairs<'a> {
    fn from_iter<I: IntoIterator<Item = (&'static str, &'a str)>>(iter: I) -> Self {
        Pairs(iter.into_iter().collect())
    }
}

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.diagnosis;
        let mut map = s.serialize_map(Some(16))?;
        map.serialize_entry("api", d.api.id())?;
        map.serialize_entry("status", &d.reading.status)?;
        map.serialize_entry("outcome", d.reading.kind.as_str())?;
        map.serialize_entry("code", &d.reading.code)?;
        map.serialize_entry("message", &d.reading.message)?;
        map.serialize_entry("entry", &d.reading.entry.map(Entry))?;
        map.serialize_entry("class", &d.reading.entry.map(|e| e.class.as_str()))?;
        map.serialize_entry("retry", &d.reading.entry.map(|e| e.retry.as_str()))?;
        map.serialize_entry(
            "retry_after_seconds",
            &d.reading.retry_after.map(|r| r.wait_from(std::time::SystemTime::now()).as_secs()),
        )?;
        map.serialize_entry(
            "unreadable",
            &match &d.reading.kind {
                ReadingKind::Unreadable { reason, excerpt } => Some(Unreadable(reason, excerpt)),
                _ => None,
            },
        )?;
        map.serialize_entry("conforming", &!d.reading.has_violation())?;
        map.serialize_entry("findings", &Findings(&d.reading.findings))?;
        map.serialize_entry("position", self.position)?;
        map.serialize_entry("method", self.method)?;
        map.serialize_entry("url", self.url)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apis::{Api, Lang};
    use crate::diagnose;

    /// The fast line and `to_json` plus the three members agree, member for member and in
    /// order, on every kind of diagnosis.
    #[test]
    fn the_line_is_to_json_plus_position_method_and_url() {
        /// API, status, headers, body.
        type Case<'a> = (Api, u16, &'a [(&'a str, &'a str)], &'a str);
        let cases: [Case<'_>; 6] = [
            (
                Api::Bravia,
                200,
                &[("Content-Type", "application/json")],
                r#"{"error":[40801,"Volume Out of Range"],"id":1}"#,
            ),
            (
                Api::Bravia,
                200,
                &[("Content-Type", "text/plain"), ("Retry-After", "soon")],
                r#"{"error":[403,"Forbidden"],"id":1}"#,
            ),
            (Api::Bravia, 200, &[], r#"{"result":[],"id":1}"#),
            (
                Api::Thinq,
                416,
                &[("content-type", "application/json")],
                r#"{"messageId":"fNvdZ1brTn-wWKUlWGoSVw","timestamp":"2024-09-01T06:23:20","error":{"message":"Not connected device","code":"1222"}}"#,
            ),
            (Api::Thinq, 502, &[("content-type", "text/html")], "<html>bad gateway</html>"),
            (Api::Thinq, 204, &[], ""),
        ];
        for (api, status, headers, body) in cases {
            let headers: Vec<(String, String)> =
                headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
            let d = diagnose::diagnose(
                api,
                "test".to_owned(),
                status,
                &headers,
                body.as_bytes(),
                Some("W59GLawMm0Xm3v1TVxyFRg"),
            );
            let mut expected = d.to_json(Lang::En, false);
            let map = expected.as_object_mut().expect("object");
            map.insert("position".into(), "line 7".into());
            map.insert("method".into(), "GET".into());
            map.insert("url".into(), "http://h/p".into());
            let line = Line { diagnosis: &d, position: "line 7", method: "GET", url: "http://h/p" };
            let fast = serde_json::to_string(&line).expect("serializes");
            assert_eq!(fast, expected.to_string(), "{body}");
        }
    }
}
