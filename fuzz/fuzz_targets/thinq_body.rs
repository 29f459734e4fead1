//! ThinQ response decoding (and the message id and timestamp checks) on arbitrary bytes,
//! statuses and request ids: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, id_len, body) = match data {
        [a, b, n, rest @ ..] => (u16::from_le_bytes([*a, *b]) % 700, usize::from(*n % 30), rest),
        _ => (200, 0, data),
    };
    let split = id_len.min(body.len());
    let request_id = String::from_utf8_lossy(&body[..split]).into_owned();
    let body = &body[split..];
    let _ = devfault_thinq::wire::check_message_id(&request_id);
    let _ = devfault_thinq::wire::check_timestamp(&request_id);
    let response = devfault_thinq::wire::decode_response(
        status,
        [("content-type", "application/json; charset=utf-8")],
        body,
        Some(&request_id),
    );
    let _ = response.entry();
    let _ = response.is_conforming();
});
