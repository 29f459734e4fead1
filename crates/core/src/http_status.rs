//! HTTP status codes as a type that cannot hold an invalid value.

use std::fmt;

/// An HTTP status code, always within 100–599 (RFC 9110 §15).
///
/// Registry entries carry one, so an entry with status 700 cannot be built: the constructor
/// refuses it, and in a `const` table the refusal is a compile error.
///
/// ```
/// use devfault_core::HttpStatus;
/// assert_eq!(HttpStatus::new(404).map(HttpStatus::as_u16), Some(404));
/// assert!(HttpStatus::new(700).is_none());
/// assert_eq!(HttpStatus::from_static(416).to_string(), "416 Range Not Satisfiable");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct HttpStatus(u16);

impl HttpStatus {
    /// 200 OK: the status every BRAVIA JSON-RPC-level error travels with.
    pub const OK: HttpStatus = HttpStatus(200);

    /// The status `code`, or `None` when it is outside 100–599.
    pub const fn new(code: u16) -> Option<HttpStatus> {
        if code >= 100 && code <= 599 { Some(HttpStatus(code)) } else { None }
    }

    /// The status `code` for tables known at compile time; a value outside 100–599 fails the
    /// build when used in a `const` or `static`:
    ///
    /// ```compile_fail
    /// const TEAPOT_TYPO: devfault_core::HttpStatus = devfault_core::HttpStatus::from_static(4180);
    /// ```
    pub const fn from_static(code: u16) -> HttpStatus {
        match HttpStatus::new(code) {
            Some(status) => status,
            None => panic!("HTTP status outside 100..=599"),
        }
    }

    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// True for 2xx.
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 <= 299
    }

    /// The reason phrase RFC 9110 (or the IANA registry) gives this status, if it has one.
    pub fn canonical_reason(self) -> Option<&'static str> {
        REASONS.iter().find(|(code, _)| *code == self.0).map(|(_, reason)| *reason)
    }
}

impl fmt::Display for HttpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.canonical_reason() {
            Some(reason) => write!(f, "{} {reason}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// IANA HTTP status code registry, the assigned codes.
const REASONS: &[(u16, &str)] = &[
    (100, "Continue"),
    (101, "Switching Protocols"),
    (102, "Processing"),
    (103, "Early Hints"),
    (200, "OK"),
    (201, "Created"),
    (202, "Accepted"),
    (203, "Non-Authoritative Information"),
    (204, "No Content"),
    (205, "Reset Content"),
    (206, "Partial Content"),
    (207, "Multi-Status"),
    (208, "Already Reported"),
    (226, "IM Used"),
    (300, "Multiple Choices"),
    (301, "Moved Permanently"),
    (302, "Found"),
    (303, "See Other"),
    (304, "Not Modified"),
    (305, "Use Proxy"),
    (307, "Temporary Redirect"),
    (308, "Permanent Redirect"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (402, "Payment Required"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (406, "Not Acceptable"),
    (407, "Proxy Authentication Required"),
    (408, "Request Timeout"),
    (409, "Conflict"),
    (410, "Gone"),
    (411, "Length Required"),
    (412, "Precondition Failed"),
    (413, "Content Too Large"),
    (414, "URI Too Long"),
    (415, "Unsupported Media Type"),
    (416, "Range Not Satisfiable"),
    (417, "Expectation Failed"),
    (421, "Misdirected Request"),
    (422, "Unprocessable Content"),
    (423, "Locked"),
    (424, "Failed Dependency"),
    (425, "Too Early"),
    (426, "Upgrade Required"),
    (428, "Precondition Required"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (451, "Unavailable For Legal Reasons"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (502, "Bad Gateway"),
    (503, "Service Unavailable"),
    (504, "Gateway Timeout"),
    (505, "HTTP Version Not Supported"),
    (506, "Variant Also Negotiates"),
    (507, "Insufficient Storage"),
    (508, "Loop Detected"),
    (511, "Network Authentication Required"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_range_round_trips_and_nothing_else_exists() {
        for code in 0..=u16::MAX {
            let status = HttpStatus::new(code);
            assert_eq!(status.is_some(), (100..=599).contains(&code), "{code}");
            if let Some(status) = status {
                assert_eq!(status.as_u16(), code);
            }
        }
    }

    #[test]
    fn reasons_are_sorted_unique_and_in_range() {
        for pair in REASONS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{pair:?}");
        }
        assert!(REASONS.iter().all(|(code, _)| HttpStatus::new(*code).is_some()));
    }

    #[test]
    fn display_names_the_reason_when_there_is_one() {
        assert_eq!(HttpStatus::from_static(503).to_string(), "503 Service Unavailable");
        assert_eq!(HttpStatus::from_static(599).to_string(), "599");
    }
}
