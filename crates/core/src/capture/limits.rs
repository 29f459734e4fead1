//! Caps on what one item of a capture may hold, so that no input (a 1 GiB line, a base64 body
//! that decodes to 500 MiB, `/dev/zero`) makes a reader hold more than a few MiB at a time.

use std::fmt;

/// The caps a capture reader applies; an item over a cap is reported with its position and
/// reading goes on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Limits {
    /// Bytes of one NDJSON line (without its line end).
    pub line: usize,
    /// Bytes of one HAR entry (its JSON text).
    pub entry: usize,
    /// Bytes of one body after unescaping its JSON string.
    pub body: usize,
    /// Bytes of one base64 body once decoded.
    pub decoded_body: usize,
}

impl Limits {
    /// The defaults: 4 MiB lines and entries, 1 MiB bodies. Real BRAVIA and ThinQ bodies are
    /// a few KiB; the caps only stop hostile or corrupt captures.
    pub const DEFAULT: Limits =
        Limits { line: 4 << 20, entry: 4 << 20, body: 1 << 20, decoded_body: 1 << 20 };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// A byte count for messages: `1 MiB`, `64 KiB`, `100 bytes`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
            write!(f, "{} GiB", n >> 30)
        } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
            write!(f, "{} MiB", n >> 20)
        } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
            write!(f, "{} KiB", n >> 10)
        } else {
            write!(f, "{n} bytes")
        }
    }
}

/// Reads a size given on the command line: a number of bytes with an optional `K`, `M` or `G`
/// suffix (powers of 1024; `KiB`, `MiB`, `GiB` and `B` are accepted too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = trimmed.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{text:?} is not a size: give bytes, or a number with K, M or G")),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size: give bytes, or a number with K, M or G"))?;
    number
        .checked_mul(1 << shift)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{text:?} is not a size between 1 byte and 16 EiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_suffixes_and_print_back() {
        assert_eq!(parse_size("4M"), Ok(4 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").expect_err("no number").contains("\"lots\""));
        assert!(parse_size("5T").is_err());
        assert_eq!(Bytes(4 << 20).to_string(), "4 MiB");
        assert_eq!(Bytes(1000).to_string(), "1000 bytes");
    }
}
