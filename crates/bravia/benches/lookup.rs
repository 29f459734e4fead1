//! Lookup by code in the registry's index against a linear scan of the same rows.
//!
//! `cargo bench -p devfault-bravia --bench lookup`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use devfault_bravia::registry;

fn lookup(c: &mut Criterion) {
    let registry = registry();
    // Every listed code once, plus codes the page does not list (a scan's worst case).
    let mut codes: Vec<u32> = registry.entries().iter().map(|e| e.code).collect();
    codes.extend([41850, 0, 65535, 40802]);
    let mut group = c.benchmark_group("bravia lookup, all codes");
    group.bench_function("index (Registry::get)", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for &code in &codes {
                found += usize::from(registry.get(black_box(code)).is_some());
            }
            found
        });
    });
    group.bench_function("linear scan (baseline)", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for &code in &codes {
                let code = black_box(code);
                found += usize::from(registry.entries().iter().any(|e| e.code == code));
            }
            found
        });
    });
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
