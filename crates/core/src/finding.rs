//! What a decoder notices about a message besides its content: rules it breaks, and real-world
//! variants it accepted anyway. Decoders never drop these; diagnoses and audits print them.

use std::fmt;

/// One thing a decoder noticed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Finding {
    /// A rule broken, or a variant tolerated.
    pub severity: Severity,
    /// Stable id of the rule (`bravia.status-mismatch`, `thinq.message-id-echo`): what audits
    /// count and programs match on.
    pub rule: &'static str,
    /// What was seen, naming the offending value and, for violations, quoting the rule.
    pub detail: String,
}

/// How serious a finding is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Severity {
    /// Accepted because real devices send it, but not what the document specifies.
    Tolerated,
    /// Breaks a rule of the document: a conforming peer would not send it.
    Violation,
}

impl Severity {
    /// `tolerated` or `violation`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Tolerated => "tolerated",
            Severity::Violation => "violation",
        }
    }
}

impl Finding {
    /// A rule broken.
    pub fn violation(rule: &'static str, detail: impl Into<String>) -> Finding {
        Finding { severity: Severity::Violation, rule, detail: detail.into() }
    }

    /// A real-world variant accepted.
    pub fn tolerated(rule: &'static str, detail: impl Into<String>) -> Finding {
        Finding { severity: Severity::Tolerated, rule, detail: detail.into() }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.severity.as_str(), self.rule, self.detail)
    }
}
