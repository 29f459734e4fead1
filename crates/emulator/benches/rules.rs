//! The cost of the fault rules to a request that none of them matches: `Faults::decide` with
//! no rules, with 10,000 rules filed under other devices, and with 10,000 rules under other
//! path segments, in the same process.
//!
//! `cargo bench -p devfault-emulator --bench rules`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use devfault_emulator::faults::{Faults, MAX_RULES, RequestInfo, RuleSpec};
use serde_json::json;

fn faults(rules: impl Fn(usize) -> serde_json::Value) -> Faults {
    let faults = Faults::new(1).with_codecs(devfault_emulator::server::codecs());
    let specs: Vec<RuleSpec> =
        (0..MAX_RULES).map(|n| serde_json::from_value(rules(n)).expect("a rule")).collect();
    faults.add_all(specs).expect("within the cap");
    faults
}

fn decide(c: &mut Criterion) {
    let request = RequestInfo {
        api: "bravia".to_owned(),
        device: "bravia-0".to_owned(),
        http_method: "POST".to_owned(),
        path: "/sony/system".to_owned(),
        service: Some("system".to_owned()),
        method: Some("getPowerStatus".to_owned()),
    };
    let none = Faults::new(1);
    let by_device = faults(
        |n| json!({"match": {"device": format!("other-{n}")}, "action": "status", "status": 500}),
    );
    let by_path = faults(
        |n| json!({"match": {"path": format!("/other-{n}/")}, "action": "status", "status": 500}),
    );
    let mut group = c.benchmark_group("decide, a request no rule matches");
    group.bench_function("no rules (baseline)", |b| b.iter(|| none.decide(black_box(&request))));
    group.bench_function("10,000 rules for other devices", |b| {
        b.iter(|| by_device.decide(black_box(&request)))
    });
    group.bench_function("10,000 rules for other paths", |b| {
        b.iter(|| by_path.decide(black_box(&request)))
    });
    group.finish();
}

criterion_group!(benches, decide);
criterion_main!(benches);
