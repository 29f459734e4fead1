//! The parser of captured HTTP/1.x responses: no input may panic, and a parsed response has a
//! status from 100 to 599.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = devfault_core::has_status_line(data);
    if let Ok(response) = devfault_core::parse_response(data) {
        assert!((100..=599).contains(&response.status));
    }
});
