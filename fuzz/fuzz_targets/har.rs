//! The streaming HAR reader: no input may panic, and positions count up from 0.
#![no_main]

use devfault_core::capture::{Item, Position, read_har};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut next = 0;
    let _ = read_har(data, |item| {
        let position = match item {
            Item::Exchange(exchange) => exchange.position,
            Item::Broken { position, .. } => position,
        };
        assert_eq!(position, Position::Entry(next));
        next += 1;
    });
});
