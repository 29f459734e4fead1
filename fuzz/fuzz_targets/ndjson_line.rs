//! One NDJSON capture line, and a whole NDJSON stream: no input may panic.
#![no_main]

use devfault_core::capture::{Position, parse_ndjson_line, read_ndjson};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_ndjson_line(data, Position::Line(1));
    let _ = read_ndjson(data, |_| {});
});
