//! One NDJSON capture line, and a whole NDJSON stream: no input may panic.
#![no_main]

use devfault_core::capture::{Limits, Position, Scratch, parse_ndjson_line, parse_ndjson_view, read_ndjson};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_ndjson_line(data, Position::Line(1));
    let _ = parse_ndjson_view(data, Position::Line(1), &Limits::DEFAULT, &mut Scratch::default());
    let _ = read_ndjson(data, |_| {});
});
