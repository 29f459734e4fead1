//! The one shape of a failed call that both clients' error types carry: what kind of failure it
//! was, the registry row it names, the HTTP status, the request id, the server's own words, and
//! whether and when to try again.
//!
//! The existing clients of both APIs lose most of this (pybravia raises exceptions without a
//! message, LG's SDK drops the HTTP status and lets `JSONDecodeError` escape); here every failure,
//! a transport error or a garbage body included, keeps what was seen.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::{Class, Entry, Retry, RetryAfter};

/// Declares [`FailureKind`] with its wire name, description, class and retry advice in one table.
macro_rules! failure_kinds {
    ( $( $(#[$meta:meta])* $variant:ident = $name:literal : $class:ident, $retry:ident, $desc:literal; )+ ) => {
        /// How a call failed, before any registry code is considered: the first thing to
        /// branch on when the code itself does not matter.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        pub enum FailureKind {
            $( $(#[$meta])* $variant, )+
        }

        impl FailureKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [FailureKind] = &[$(FailureKind::$variant),+];

            /// The kind's name in logs and JSON.
            pub const fn as_str(self) -> &'static str {
                match self { $(FailureKind::$variant => $name,)+ }
            }

            /// One line saying what the kind means.
            pub const fn description(self) -> &'static str {
                match self { $(FailureKind::$variant => $desc,)+ }
            }

            /// The class a failure of this kind has when no registry row says otherwise.
            pub const fn default_class(self) -> Class {
                match self { $(FailureKind::$variant => Class::$class,)+ }
            }

            /// The retry advice a failure of this kind has when no registry row says otherwise.
            pub const fn default_retry(self) -> Retry {
                match self { $(FailureKind::$variant => Retry::$retry,)+ }
            }
        }
    };
}

failure_kinds! {
    /// The server answered with an error code of the API (a registry row, or an unlisted code).
    Api = "api": Unknown, Never,
        "the server answered with an error code of the API";
    /// The server answered with an HTTP error status and no protocol body.
    Http = "http": Unknown, Never,
        "the server answered with an HTTP error status and no protocol body";
    /// The body could not be read as the protocol's envelope (not JSON, truncated, HTML).
    Unreadable = "unreadable": Server, BackOff,
        "the reply's body is not the protocol's envelope (garbage, truncated, HTML)";
    /// The reply broke the protocol in a way that makes it untrustworthy (a ThinQ reply that
    /// echoes another request's message id, a success without the expected shape).
    Protocol = "protocol": Server, Never,
        "the reply broke the protocol so that its content cannot be trusted";
    /// No connection could be made, or it broke before a reply arrived (refused, reset).
    Transport = "transport": DeviceUnreachable, BackOff,
        "no connection, or the connection broke before a reply arrived";
    /// No reply within the time allowed.
    Timeout = "timeout": Transient, BackOff,
        "no reply within the time allowed";
    /// The call was refused before anything was sent: a bad argument or configuration.
    Usage = "usage": MalformedRequest, Never,
        "the call was refused before anything was sent (bad argument or configuration)";
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a rate-limit window reopens, and whether the server said so or it is a guess.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reopen {
    /// The moment calls are expected to be accepted again.
    pub at: SystemTime,
    /// True when the server gave no time and this is a conservative estimate (the whole window
    /// from the moment the refusal arrived), so a caller does not mistake it for a promise.
    pub estimated: bool,
}

impl Reopen {
    /// A reopen time from the server's `Retry-After`, or else the whole `window` from `now`,
    /// marked as estimated.
    ///
    /// ```
    /// use devfault_core::{Reopen, RetryAfter};
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let now = UNIX_EPOCH + Duration::from_secs(1_000);
    /// let hour = Duration::from_secs(3600);
    /// let told = Reopen::from_reply(Some(RetryAfter::Delay(Duration::from_secs(60))), now, hour);
    /// assert_eq!((told.at, told.estimated), (now + Duration::from_secs(60), false));
    /// let guessed = Reopen::from_reply(None, now, hour);
    /// assert_eq!((guessed.at, guessed.estimated), (now + hour, true));
    /// ```
    pub fn from_reply(
        retry_after: Option<RetryAfter>,
        now: SystemTime,
        window: Duration,
    ) -> Reopen {
        match retry_after {
            Some(retry_after) => Reopen { at: now + retry_after.wait_from(now), estimated: false },
            None => Reopen { at: now + window, estimated: true },
        }
    }
}

/// A failed call, as both clients report it.
///
/// Built with [`Failure::new`] and the `with_*` methods; read through the public fields. The
/// class and retry advice come from the registry row when there is one, else from the kind.
///
/// ```
/// use devfault_core::{Class, Failure, FailureKind, Retry};
/// let failure = Failure::new("bravia", FailureKind::Timeout, "no reply within 2 s")
///     .with_request_id("7");
/// assert_eq!((failure.class, failure.retry), (Class::Transient, Retry::BackOff));
/// assert_eq!(failure.to_string(), "bravia: timeout (request 7): no reply within 2 s; retry: back_off");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Failure {
    /// The API's short id (`bravia`, `thinq`).
    pub api: &'static str,
    /// How the call failed.
    pub kind: FailureKind,
    /// The registry row the server's code names; `None` for an unlisted code or no code.
    pub entry: Option<&'static Entry>,
    /// The code exactly as sent (`"40801"`, `"1314"`, `"9999"`), when a code was sent.
    pub code: Option<String>,
    /// What kind of failure it is: the row's class, else the kind's default.
    pub class: Class,
    /// Whether and when to retry: the row's advice, else the kind's default.
    pub retry: Retry,
    /// The HTTP status of the reply, when one arrived.
    pub status: Option<u16>,
    /// The request's id (BRAVIA JSON-RPC `id`, ThinQ `x-message-id`).
    pub request_id: Option<String>,
    /// The server's message as sent, or the transport's account of what went wrong.
    pub message: String,
    /// The reply's `Retry-After`, when present and readable.
    pub retry_after: Option<RetryAfter>,
    /// For a rate limit: when the window reopens (server-given or estimated).
    pub reopens: Option<Reopen>,
    /// True when the request may have taken effect although it failed (a timeout or a broken
    /// connection after the request was sent, a garbage reply): repeating a non-idempotent call
    /// is then unsafe.
    pub outcome_unknown: bool,
    /// How many attempts were made, this one included.
    pub attempts: u32,
    /// The lower-level error, when there is one.
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Failure {
    /// A failure of `kind` with `message`, no registry row, one attempt.
    pub fn new(api: &'static str, kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            api,
            kind,
            entry: None,
            code: None,
            class: kind.default_class(),
            retry: kind.default_retry(),
            status: None,
            request_id: None,
            message: message.into(),
            retry_after: None,
            reopens: None,
            outcome_unknown: matches!(
                kind,
                FailureKind::Timeout | FailureKind::Unreadable | FailureKind::Protocol
            ),
            attempts: 1,
            source: None,
        }
    }

    /// Sets the code as sent and its registry row; the class and retry advice follow the row.
    pub fn with_code(mut self, code: impl Into<String>, entry: Option<&'static Entry>) -> Failure {
        self.code = Some(code.into());
        self.entry = entry;
        if let Some(entry) = entry {
            self.class = entry.class;
            self.retry = entry.retry;
        }
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Failure {
        self.status = Some(status);
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Failure {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the `Retry-After` of the reply.
    pub fn with_retry_after(mut self, retry_after: Option<RetryAfter>) -> Failure {
        self.retry_after = retry_after;
        self
    }

    /// Overrides the retry advice (a client that knows better than the kind's default, e.g. a
    /// bare HTTP 503 is worth a back-off).
    pub fn with_retry(mut self, retry: Retry) -> Failure {
        self.retry = retry;
        self
    }

    /// Overrides the class.
    pub fn with_class(mut self, class: Class) -> Failure {
        self.class = class;
        self
    }

    /// Says whether the request may have taken effect.
    pub fn with_outcome_unknown(mut self, unknown: bool) -> Failure {
        self.outcome_unknown = unknown;
        self
    }

    /// Keeps the lower-level error.
    pub fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Failure {
        self.source = Some(Arc::new(source));
        self
    }

    /// For a rate limit ([`Retry::AfterQuotaReset`]): sets [`Failure::reopens`] from the
    /// `Retry-After` already recorded, else to `window` from `now`, marked as estimated.
    pub fn with_reopen_estimate(mut self, now: SystemTime, window: Duration) -> Failure {
        if self.retry == Retry::AfterQuotaReset {
            self.reopens = Some(Reopen::from_reply(self.retry_after, now, window));
        }
        self
    }

    /// True when the retry advice allows some later repetition.
    pub fn is_retryable(&self) -> bool {
        self.retry.is_retryable()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.api)?;
        match (&self.code, self.entry) {
            (Some(code), Some(entry)) => write!(f, "{code} {}", entry.reason)?,
            (Some(code), None) => write!(f, "{code} (not in the registry)")?,
            (None, _) => write!(f, "{}", self.kind)?,
        }
        let mut context = Vec::new();
        if let Some(status) = self.status {
            context.push(format!("HTTP {status}"));
        }
        if let Some(id) = &self.request_id {
            context.push(format!("request {id}"));
        }
        if self.attempts > 1 {
            context.push(format!("{} attempts", self.attempts));
        }
        if !context.is_empty() {
            write!(f, " ({})", context.join(", "))?;
        }
        match self.entry {
            Some(entry) if entry.reason == self.message => {}
            Some(_) => write!(f, ": {:?}", self.message)?,
            None => write!(f, ": {}", self.message)?,
        }
        if self.code.is_some() {
            write!(f, "; {}", self.class)?;
        }
        write!(f, "; retry: {}", self.retry)?;
        if let Some(reopen) = self.reopens {
            let secs =
                reopen.at.duration_since(SystemTime::now()).map(|d| d.as_secs()).unwrap_or(0);
            let how = if reopen.estimated { ", estimated" } else { "" };
            write!(f, " (window reopens in about {secs} s{how})")?;
        }
        if let Some(entry) = self.entry {
            write!(f, " — {}", entry.advice)?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_names_and_sane_defaults() {
        let mut names: Vec<_> = FailureKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FailureKind::ALL.len());
        assert_eq!(FailureKind::Usage.default_retry(), Retry::Never);
        assert_eq!(FailureKind::Transport.default_retry(), Retry::BackOff);
    }

    #[test]
    fn a_transport_failure_before_sending_is_not_of_unknown_outcome() {
        let refused = Failure::new("bravia", FailureKind::Transport, "connection refused");
        assert!(!refused.outcome_unknown);
        let timed_out = Failure::new("bravia", FailureKind::Timeout, "no reply");
        assert!(timed_out.outcome_unknown);
    }

    #[test]
    fn reopen_is_only_set_for_rate_limits() {
        let now = SystemTime::UNIX_EPOCH;
        let hour = Duration::from_secs(3600);
        let plain = Failure::new("thinq", FailureKind::Api, "x").with_reopen_estimate(now, hour);
        assert_eq!(plain.reopens, None);
        let limited = Failure::new("thinq", FailureKind::Api, "Exceeded User API calls")
            .with_retry(Retry::AfterQuotaReset)
            .with_reopen_estimate(now, hour);
        assert_eq!(limited.reopens, Some(Reopen { at: now + hour, estimated: true }));
        let text = limited.to_string();
        assert!(text.contains("retry: after_quota_reset"), "{text}");
    }
}
