//! Decoding a typical error reply into the typed `Response` (registry lookup included) against
//! a generic parse of the same bytes into `serde_json::Value`, which does less work. The typed
//! decode should take at most half the generic parse's time.
//!
//! `cargo bench -p devfault-bravia --bench decode -- --warm-up-time 2 --measurement-time 5`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use devfault_bravia::wire::{ResponseBody, decode_response};

const BODY: &[u8] = br#"{"error":[40801,"Volume Out of Range"],"id":1}"#;
const HEADERS: [(&str, &str); 1] = [("Content-Type", "application/json")];

fn decode(c: &mut Criterion) {
    // The typed path must find the documented row, or the comparison is meaningless.
    let check = decode_response(200, HEADERS, BODY);
    assert!(
        matches!(&check.body, ResponseBody::Error(r) if r.entry.is_some_and(|e| e.code == 40801))
    );
    assert!(check.findings.is_empty());

    let mut group = c.benchmark_group("bravia decode, error body");
    group.bench_function("typed (decode_response)", |b| {
        b.iter(|| decode_response(black_box(200), black_box(HEADERS), black_box(BODY)));
    });
    group.bench_function("generic (serde_json::Value)", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(BODY)));
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
