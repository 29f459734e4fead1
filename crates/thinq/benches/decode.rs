//! Decoding a live ThinQ error reply into the typed `Response`, against parsing the same bytes
//! into a generic `serde_json::Value`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use devfault_thinq::wire::decode_response;

/// A live production reply (HTTP 401), as quoted in third-party tests.
const BODY: &[u8] = br#"{"messageId":"0f9aSXah5m5rbFSjzQ7q_g","timestamp":"2026-05-04T16:55:47.326484","error":{"message":"Exceeded User API calls","code":"1314"}}"#;

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.bench_function("typed_response", |b| {
        b.iter(|| {
            decode_response(
                black_box(401),
                [("Content-Type", "application/json")],
                black_box(BODY),
                None,
            )
        })
    });
    group.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(BODY)))
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
