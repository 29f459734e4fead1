//! One decoded response in the shape every API shares: what the body says, the code and message
//! as written on the wire, the registry row it stands for, the findings and the `Retry-After`.
//!
//! Each vendor's wire module produces a [`Reading`] from its own decoded response, and every
//! consumer (the CLI's diagnosis, the emulator's journal and codecs) reads that one value, so
//! no two of them can convert a vendor's response differently.

use crate::{Entry, Finding, RetryAfter, Severity};

/// What a response body says, whichever API sent it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ReadingKind {
    /// A success body.
    Success,
    /// An error body (or an error status the API reads as one).
    Error,
    /// No body at all.
    Bare,
    /// A body that is not the API's protocol body.
    Unreadable {
        /// Why the body is not a protocol body.
        reason: String,
        /// The start of the body, lossily decoded as UTF-8.
        excerpt: String,
    },
}

impl ReadingKind {
    /// `success`, `error`, `bare` or `unreadable`: the names JSON output uses.
    pub const fn as_str(&self) -> &'static str {
        match self {
            ReadingKind::Success => "success",
            ReadingKind::Error => "error",
            ReadingKind::Bare => "bare",
            ReadingKind::Unreadable { .. } => "unreadable",
        }
    }
}

/// A decoded response, vendor-neutral.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reading {
    /// The HTTP status, as received (even outside 100–599).
    pub status: u16,
    /// What the body says.
    pub kind: ReadingKind,
    /// The error code as written on the wire, without JSON quotes (`40801`, `1222`); `None`
    /// when the body wrote none.
    pub code: Option<String>,
    /// The error message as sent, for error bodies.
    pub message: Option<String>,
    /// The registry row the response stands for, as the vendor's wire module decides it: the
    /// error's row, or, for an API whose HTTP errors are rows of its table, the row of a bare
    /// or unreadable error status.
    pub entry: Option<&'static Entry>,
    /// Rules broken and variants tolerated, in the order they were noticed.
    pub findings: Vec<Finding>,
    /// The `Retry-After` header, when present and readable.
    pub retry_after: Option<RetryAfter>,
}

impl Reading {
    /// True when some finding is a violation.
    pub fn has_violation(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Violation)
    }

    /// The ids of the rules broken, in the order noticed.
    pub fn violations(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.findings.iter().filter(|f| f.severity == Severity::Violation).map(|f| f.rule)
    }

    /// True when the response reports a failure: an error body, or a status outside 200–399.
    pub fn is_failure(&self) -> bool {
        self.kind == ReadingKind::Error || self.status >= 400 || self.status < 200
    }

    /// The code the response stands for, with its row: the code written on the wire, else the
    /// code of [`Reading::entry`] (an empty 401 that stands for row 401 gives `401`). A row's
    /// code is written as a plain integer; only the wire's text keeps a space's leading zeros.
    pub fn code_or_entry(&self) -> Option<(String, Option<&'static Entry>)> {
        match (&self.code, self.entry) {
            (Some(code), entry) => Some((code.clone(), entry)),
            (None, Some(entry)) => Some((entry.code.to_string(), Some(entry))),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(kind: ReadingKind, status: u16, findings: Vec<Finding>) -> Reading {
        Reading {
            status,
            kind,
            code: None,
            message: None,
            entry: None,
            findings,
            retry_after: None,
        }
    }

    #[test]
    fn failures_are_error_bodies_or_error_statuses() {
        assert!(!reading(ReadingKind::Success, 200, vec![]).is_failure());
        assert!(reading(ReadingKind::Error, 200, vec![]).is_failure());
        assert!(reading(ReadingKind::Bare, 401, vec![]).is_failure());
        assert!(reading(ReadingKind::Success, 101, vec![]).is_failure());
        let unreadable = ReadingKind::Unreadable { reason: "x".into(), excerpt: String::new() };
        assert_eq!(unreadable.as_str(), "unreadable");
        assert!(!reading(unreadable, 302, vec![]).is_failure());
    }

    #[test]
    fn violations_name_only_broken_rules() {
        let findings = vec![
            Finding::tolerated("a.tolerated", "accepted"),
            Finding::violation("a.broken", "refused"),
        ];
        let reading = reading(ReadingKind::Success, 200, findings);
        assert!(reading.has_violation());
        assert_eq!(reading.violations().collect::<Vec<_>>(), ["a.broken"]);
        let clean = super::Reading { findings: vec![], ..reading };
        assert!(!clean.has_violation() && clean.violations().next().is_none());
    }

    #[test]
    fn the_code_falls_back_to_the_row_only_when_none_was_written() {
        let bare = reading(ReadingKind::Bare, 401, vec![]);
        assert_eq!(bare.code_or_entry(), None);
        let written = Reading { code: Some("9999".into()), ..bare };
        assert_eq!(written.code_or_entry(), Some(("9999".to_owned(), None)));
    }
}
