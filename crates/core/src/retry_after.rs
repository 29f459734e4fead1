//! The `Retry-After` header of RFC 9110 §10.2.3: a delay in seconds or an HTTP-date.

use std::time::{Duration, SystemTime};

/// A parsed `Retry-After` value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RetryAfter {
    /// `delay-seconds`: wait this long after the response was received.
    Delay(Duration),
    /// `HTTP-date` (IMF-fixdate): wait until this moment.
    At(SystemTime),
}

impl RetryAfter {
    /// Parses a header value; `None` for anything RFC 9110 does not allow (the header must then
    /// be ignored, not guessed at).
    ///
    /// ```
    /// use devfault_core::RetryAfter;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// assert_eq!(RetryAfter::parse("120"), Some(RetryAfter::Delay(Duration::from_secs(120))));
    /// assert_eq!(
    ///     RetryAfter::parse("Sun, 06 Nov 1994 08:49:37 GMT"),
    ///     Some(RetryAfter::At(UNIX_EPOCH + Duration::from_secs(784111777)))
    /// );
    /// assert_eq!(RetryAfter::parse("soon"), None);
    /// ```
    pub fn parse(value: &str) -> Option<RetryAfter> {
        let value = value.trim();
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            // An absurdly long number is still "a long time", not an error.
            let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
            return Some(RetryAfter::Delay(Duration::from_secs(seconds)));
        }
        crate::calendar::parse_imf_fixdate(value).map(RetryAfter::At)
    }

    /// How long to wait from `now`; zero for a moment already past.
    pub fn wait_from(self, now: SystemTime) -> Duration {
        match self {
            RetryAfter::Delay(delay) => delay,
            RetryAfter::At(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn dates_and_delays() {
        let at = |s| match RetryAfter::parse(s) {
            Some(RetryAfter::At(t)) => t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs()),
            _ => None,
        };
        assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(at("Sat, 29 Feb 2020 12:00:00 GMT"), Some(1_582_977_600));
        assert_eq!(at("Sat, 29 Feb 2020 12:00:00 UTC"), None);
        assert_eq!(at("Sat, 29 Xyz 2020 12:00:00 GMT"), None);
        assert_eq!(at("Sat, 29 Feb 2020 25:00:00 GMT"), None);
        assert_eq!(RetryAfter::parse(" 0 "), Some(RetryAfter::Delay(Duration::ZERO)));
        assert_eq!(RetryAfter::parse("-5"), None);
        assert_eq!(RetryAfter::parse(""), None);
        assert_eq!(RetryAfter::parse("é, 06 Nov 1994 08:49:37 GMT"), None);
        // 29 bytes with a multi-byte character across a slicing boundary (found by proptest).
        assert_eq!(RetryAfter::parse("Moé 06 Nov 1994 08:49:37 GMT"), None);
        let huge = RetryAfter::parse("99999999999999999999999");
        assert_eq!(huge, Some(RetryAfter::Delay(Duration::from_secs(u64::MAX))));
    }

    #[test]
    fn wait_is_never_negative() {
        let past = RetryAfter::At(UNIX_EPOCH);
        assert_eq!(past.wait_from(SystemTime::now()), Duration::ZERO);
    }
}
