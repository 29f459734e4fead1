//! BRAVIA request validation and response decoding on arbitrary bytes and statuses: no input
//! may panic, and an error reply must keep its code and message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_le_bytes([*a, *b]) % 700, rest),
        _ => (200, data),
    };
    let _ = devfault_bravia::wire::validate_request(body);
    let response = devfault_bravia::wire::decode_response(
        status,
        [("Content-Type", "application/json"), ("Retry-After", "5")],
        body,
    );
    let _ = response.entry();
    let _ = response.is_conforming();
});
