//! The `Retry-After` header of RFC 9110 §10.2.3: a delay in seconds or an HTTP-date.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
        imf_fixdate(value).map(RetryAfter::At)
    }

    /// How long to wait from `now`; zero for a moment already past.
    pub fn wait_from(self, now: SystemTime) -> Duration {
        match self {
            RetryAfter::Delay(delay) => delay,
            RetryAfter::At(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn imf_fixdate(value: &str) -> Option<SystemTime> {
    let bytes = value.as_bytes();
    // Both forms are ASCII; checking first also makes the byte slicing below char-safe.
    if !value.is_ascii() || bytes.len() != 29 || &value[3..5] != ", " || &value[25..] != " GMT" {
        return None;
    }
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    DAYS.iter().position(|d| *d == &value[..3])?;
    let number = |range: std::ops::Range<usize>| -> Option<u64> {
        let text = value.get(range)?;
        text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok()).flatten()
    };
    let separators = [(7, b' '), (11, b' '), (16, b' '), (19, b':'), (22, b':')];
    if separators.iter().any(|&(i, c)| bytes[i] != c) {
        return None;
    }
    let day = number(5..7)?;
    let month = MONTHS.iter().position(|m| *m == &value[8..11])? as u64 + 1;
    let year = number(12..16)?;
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

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
