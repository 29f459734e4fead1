//! The capture reader of `check` end to end on arbitrary bytes: compression told by magic
//! bytes (gzip, zstd or plain; decompressed output capped at 1 MiB per input so a bomb costs
//! time, not the fuzzer's memory), then cut into NDJSON lines or HAR entries within small caps,
//! each read borrowed. No input may panic; positions count up; no kept item exceeds its cap.
#![no_main]

use std::io::{BufReader, Cursor, Read};

use devfault_core::capture::source::decompress;
use devfault_core::capture::{
    Batch, HarBatches, Limits, NdjsonBatches, Position, Scratch, SlotKind, Step, parse_har_view,
    parse_ndjson_view,
};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits { line: 2048, entry: 2048, body: 512, decoded_body: 512 };

fuzz_target!(|data: &[u8]| {
    let Some((&choice, data)) = data.split_first() else { return };
    let raw: Box<dyn Read + Send> = Box::new(Cursor::new(data.to_vec()));
    let Ok((_, reader)) = decompress(BufReader::with_capacity(64 + usize::from(choice), raw)) else {
        return;
    };
    let capped: Box<dyn Read + Send> = Box::new(reader.take(1 << 20));
    let reader = BufReader::with_capacity(16 + usize::from(choice >> 1), capped);
    let mut batch = Batch::default();
    let mut scratch = Scratch::default();
    let mut last = None;
    if choice & 1 == 0 {
        let mut batches = NdjsonBatches::new(reader, LIMITS);
        loop {
            let step = batches.next_batch(&mut batch);
            for slot in &batch.slots {
                let Position::Line(n) = slot.position else { panic!("{:?}", slot.position) };
                assert!(last.is_none_or(|l| n > l), "lines count up");
                last = Some(n);
                if let SlotKind::Data(range) = &slot.kind {
                    assert!(range.len() <= LIMITS.line);
                    if let Ok(view) = parse_ndjson_view(&batch.data[range.clone()], slot.position, &LIMITS, &mut scratch) {
                        assert!(view.response_body.len() <= LIMITS.body.max(LIMITS.decoded_body));
                    }
                }
            }
            if !matches!(step, Step::More) {
                return;
            }
        }
    } else {
        let mut batches = HarBatches::new(reader, LIMITS);
        loop {
            let step = batches.next_batch(&mut batch);
            for slot in &batch.slots {
                let Position::Entry(n) = slot.position else { panic!("{:?}", slot.position) };
                assert_eq!(n, last.map_or(0, |l| l + 1), "entries count up from 0");
                last = Some(n);
                if let SlotKind::Data(range) = &slot.kind {
                    assert!(range.len() <= LIMITS.entry);
                    let _ = parse_har_view(&batch.data[range.clone()], slot.position, &LIMITS, &mut scratch);
                }
            }
            if !matches!(step, Step::More) {
                return;
            }
        }
    }
});
