//! Calendar arithmetic on the proleptic Gregorian calendar in UTC, and the two date formats the
//! APIs speak: RFC 3339 (journal times, BRAVIA's `getCurrentTime`, ThinQ's `timestamp`) and
//! IMF-fixdate (`Retry-After`). One copy, so every date devfault writes or reads agrees.
//!
//! The day-count conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`: exact
//! for every year an `i64` day count reaches, with no table and no loop.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds in a day (UTC has no leap seconds in Unix time).
pub const SECONDS_PER_DAY: i64 = 86_400;

/// True for a leap year of the Gregorian calendar.
pub const fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days of `month` (1–12) in `year`; 0 for a month outside 1–12.
pub const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a date (negative before it). `month` is 1–12 and `day` 1–31;
/// the caller checks them (a day past the month's end counts on into the next month).
///
/// ```
/// use devfault_core::calendar::days_from_civil;
/// assert_eq!(days_from_civil(1970, 1, 1), 0);
/// assert_eq!(days_from_civil(2000, 3, 1), 11_017);
/// assert_eq!(days_from_civil(1969, 12, 31), -1);
/// ```
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = (month as i64 + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month 1–12, day 1–31) of a count of days since 1970-01-01.
///
/// ```
/// use devfault_core::calendar::civil_from_days;
/// assert_eq!(civil_from_days(0), (1970, 1, 1));
/// assert_eq!(civil_from_days(11_016), (2000, 2, 29));
/// assert_eq!(civil_from_days(-1), (1969, 12, 31));
/// ```
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = year_of_era + era * 400 + (month <= 2) as i64;
    (year, month, day)
}

/// A moment split into its UTC calendar fields, to the second.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UtcTime {
    /// The year (proleptic Gregorian; may be below 1 or above 9999).
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
    /// 0–59.
    pub second: u32,
}

impl UtcTime {
    /// The fields of `seconds` since 1970-01-01T00:00:00Z (negative before it).
    pub const fn from_unix_seconds(seconds: i64) -> UtcTime {
        let (year, month, day) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
        let of_day = seconds.rem_euclid(SECONDS_PER_DAY);
        UtcTime {
            year,
            month,
            day,
            hour: (of_day / 3_600) as u32,
            minute: (of_day / 60 % 60) as u32,
            second: (of_day % 60) as u32,
        }
    }

    /// `YYYY-MM-DDThh:mm:ss`, RFC 3339's date-time without fraction or offset.
    ///
    /// ```
    /// use devfault_core::calendar::UtcTime;
    /// assert_eq!(UtcTime::from_unix_seconds(951_782_400).date_time(), "2000-02-29T00:00:00");
    /// ```
    pub fn date_time(&self) -> String {
        let UtcTime { year, month, day, hour, minute, second } = *self;
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
    }
}

/// RFC 3339 UTC with milliseconds (`2025-01-31T12:00:00.123Z`); the epoch for a moment before
/// it, which no clock devfault reads gives.
///
/// ```
/// use devfault_core::calendar::rfc3339_millis;
/// use std::time::{Duration, UNIX_EPOCH};
/// assert_eq!(rfc3339_millis(UNIX_EPOCH + Duration::from_millis(951_782_400_005)), "2000-02-29T00:00:00.005Z");
/// ```
pub fn rfc3339_millis(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = i64::try_from(since.as_secs()).unwrap_or(i64::MAX / 2);
    format!("{}.{:03}Z", UtcTime::from_unix_seconds(seconds).date_time(), since.subsec_millis())
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7); `None` for any
/// other text, a date before 1970, or a field out of range. Only the fixed form is read: the
/// obsolete RFC 850 and asctime forms are not what `Retry-After` senders write today.
///
/// ```
/// use devfault_core::calendar::parse_imf_fixdate;
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(t, Some(UNIX_EPOCH + Duration::from_secs(784_111_777)));
/// assert_eq!(parse_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
/// ```
pub fn parse_imf_fixdate(value: &str) -> Option<SystemTime> {
    let bytes = value.as_bytes();
    // Both forms are ASCII; checking first also makes the byte slicing below char-safe.
    if !value.is_ascii() || bytes.len() != 29 || &value[3..5] != ", " || &value[25..] != " GMT" {
        return None;
    }
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    DAYS.iter().position(|d| *d == &value[..3])?;
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let text = value.get(range)?;
        text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok()).flatten()
    };
    let separators = [(7, b' '), (11, b' '), (16, b' '), (19, b':'), (22, b':')];
    if separators.iter().any(|&(i, c)| bytes[i] != c) {
        return None;
    }
    let day = number(5..7)?;
    let month = MONTHS.iter().position(|m| *m == &value[8..11])? as u32 + 1;
    let year = number(12..16)?;
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    // `year >= 1970` and the fields are bounded, so the count is non-negative.
    let seconds = u64::try_from(days).ok()? * 86_400
        + u64::from(hour) * 3_600
        + u64::from(minute) * 60
        + u64::from(second);
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_counts_round_trip_across_eras_and_leap_days() {
        for days in (-800_000..800_000).step_by(97).chain([-719_468, -1, 0, 59, 60, 11_016]) {
            let (year, month, day) = civil_from_days(days);
            assert!((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month));
            assert_eq!(days_from_civil(year, month, day), days, "{year}-{month}-{day}");
        }
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert!(is_leap(2000) && is_leap(2024) && !is_leap(1900) && !is_leap(2023));
        assert_eq!(
            (days_in_month(2023, 2), days_in_month(2024, 2), days_in_month(2024, 13)),
            (28, 29, 0)
        );
    }

    #[test]
    fn times_split_into_fields_before_and_after_the_epoch() {
        let t = UtcTime::from_unix_seconds(1_767_225_599);
        assert_eq!(t.date_time(), "2025-12-31T23:59:59");
        assert_eq!(UtcTime::from_unix_seconds(-1).date_time(), "1969-12-31T23:59:59");
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(UNIX_EPOCH - Duration::from_secs(5)), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn imf_fixdates_parse_only_in_the_fixed_form() {
        let secs = |s| {
            parse_imf_fixdate(s)
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
        };
        assert_eq!(secs("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(secs("Sat, 29 Feb 2020 12:00:00 GMT"), Some(1_582_977_600));
        assert_eq!(secs("Wed, 31 Dec 1969 23:59:59 GMT"), None);
        assert_eq!(secs("Sat, 29 Feb 2020 12:00:00 UTC"), None);
        assert_eq!(secs("Moé 06 Nov 1994 08:49:37 GMT"), None);
    }
}
