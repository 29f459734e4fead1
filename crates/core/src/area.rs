//! Code spaces and the areas cut out of them.

use std::fmt;

/// A named, inclusive range of codes. Areas nest: an area inside another is its child.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Area {
    /// The name as the document gives it (kept verbatim, trailing period and all).
    pub name: String,
    /// First code of the area.
    pub start: u32,
    /// Last code of the area (inclusive).
    pub end: u32,
}

impl Area {
    /// True when `code` lies in the area.
    pub fn contains(&self, code: u32) -> bool {
        self.start <= code && code <= self.end
    }

    /// True when `other` lies entirely inside this area.
    pub fn encloses(&self, other: &Area) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// True when the two areas share a code.
    pub fn overlaps(&self, other: &Area) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// How a code is written on the wire, and which values exist at all.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CodeSpace {
    /// Decimal integer (BRAVIA) or fixed-width digit string (ThinQ's `"0000"`).
    pub format: CodeFormat,
    /// Smallest code.
    pub min: u32,
    /// Largest code.
    pub max: u32,
}

/// The written form of codes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CodeFormat {
    /// A JSON number such as `40801`.
    Integer,
    /// A string of exactly this many decimal digits, such as `"0000"`.
    Digits(u8),
}

impl CodeSpace {
    /// Integer codes from `min` to `max`.
    pub const fn integer(min: u32, max: u32) -> CodeSpace {
        CodeSpace { format: CodeFormat::Integer, min, max }
    }

    /// Codes written as exactly `width` digits (1–9), from 0 to the largest such number.
    pub const fn digits(width: u8) -> CodeSpace {
        let mut max: u32 = 1;
        let mut i = 0;
        while i < width {
            max *= 10;
            i += 1;
        }
        CodeSpace { format: CodeFormat::Digits(width), min: 0, max: max - 1 }
    }

    /// The code as it is written: `40801` or `0000`.
    pub fn format(&self, code: u32) -> String {
        match self.format {
            CodeFormat::Integer => code.to_string(),
            CodeFormat::Digits(width) => format!("{code:0width$}", width = usize::from(width)),
        }
    }

    /// The code as a JSON value: a number for integer spaces, a string for digit spaces.
    pub fn to_json(&self, code: u32) -> serde_json::Value {
        match self.format {
            CodeFormat::Integer => serde_json::Value::from(code),
            CodeFormat::Digits(_) => serde_json::Value::from(self.format(code)),
        }
    }

    /// Parses a code written in this space's form.
    pub fn parse(&self, text: &str) -> Result<u32, CodeError> {
        let bad = |reason| CodeError { text: text.to_owned(), space: *self, reason };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(CodeErrorReason::NotDigits));
        }
        if let CodeFormat::Digits(width) = self.format
            && text.len() != usize::from(width)
        {
            return Err(bad(CodeErrorReason::Width));
        }
        let value: u64 = text.parse().map_err(|_| bad(CodeErrorReason::OutOfRange))?;
        match u32::try_from(value) {
            Ok(code) if self.min <= code && code <= self.max => Ok(code),
            _ => Err(bad(CodeErrorReason::OutOfRange)),
        }
    }

    /// True when `code` is a value of this space.
    pub fn contains(&self, code: u32) -> bool {
        self.min <= code && code <= self.max
    }
}

impl fmt::Display for CodeSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format {
            CodeFormat::Integer => write!(f, "integers {}–{}", self.min, self.max),
            CodeFormat::Digits(width) => write!(
                f,
                "{width}-digit strings {}–{}",
                self.format(self.min),
                self.format(self.max)
            ),
        }
    }
}

/// A text that is not a code of a code space.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CodeError {
    /// The text given.
    pub text: String,
    /// The space it was checked against.
    pub space: CodeSpace,
    /// What is wrong with it.
    pub reason: CodeErrorReason,
}

/// Why a text is not a code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CodeErrorReason {
    /// Empty, or holds something other than the digits 0–9.
    NotDigits,
    /// Not the fixed number of digits the space requires.
    Width,
    /// Outside the space's range.
    OutOfRange,
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            CodeErrorReason::NotDigits => "not a decimal number",
            CodeErrorReason::Width => "wrong number of digits",
            CodeErrorReason::OutOfRange => "out of range",
        };
        write!(f, "{:?} is not a code ({why}); codes are {}", self.text, self.space)
    }
}

impl std::error::Error for CodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_codes_keep_their_leading_zeros() {
        let space = CodeSpace::digits(4);
        assert_eq!(space.max, 9999);
        assert_eq!(space.format(0), "0000");
        assert_eq!(space.parse("0000"), Ok(0));
        assert_eq!(space.to_json(1101), serde_json::json!("1101"));
        assert_eq!(space.parse("000").unwrap_err().reason, CodeErrorReason::Width);
        assert_eq!(space.parse("12a4").unwrap_err().reason, CodeErrorReason::NotDigits);
    }

    #[test]
    fn integer_codes_are_bounded_by_the_space() {
        let space = CodeSpace::integer(0, 65535);
        assert_eq!(space.parse("40801"), Ok(40801));
        assert_eq!(space.to_json(40801), serde_json::json!(40801));
        let err = space.parse("65536").unwrap_err();
        assert_eq!(err.reason, CodeErrorReason::OutOfRange);
        assert!(err.to_string().contains("integers 0–65535"), "{err}");
        assert_eq!(
            space.parse("99999999999999999999").unwrap_err().reason,
            CodeErrorReason::OutOfRange
        );
        assert_eq!(space.parse("").unwrap_err().reason, CodeErrorReason::NotDigits);
        assert_eq!(space.parse("-1").unwrap_err().reason, CodeErrorReason::NotDigits);
    }

    #[test]
    fn nesting_and_overlap() {
        let outer = Area { name: "user area".into(), start: 32768, end: 65535 };
        let inner = Area { name: "Audio".into(), start: 40800, end: 40999 };
        let across = Area { name: "x".into(), start: 30000, end: 40000 };
        assert!(outer.encloses(&inner) && !inner.encloses(&outer));
        assert!(outer.overlaps(&across) && !outer.encloses(&across) && !across.encloses(&outer));
    }
}
