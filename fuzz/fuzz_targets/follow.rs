//! `check --follow`'s reader on arbitrary sequences of what happens to a live log: appends,
//! rotations by rename (logrotate's default) and truncations in place (copytruncate), with reads
//! in between. Every byte written must be read exactly once, in order (a truncation whose new
//! content is not shorter than what was read is undetectable, as for `tail -f`; such inputs are
//! not checked), and nothing may panic.
#![no_main]

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use devfault_core::capture::follow::Follow;
use libfuzzer_sys::fuzz_target;

fn read_all(follow: &mut Follow) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 97];
    loop {
        match follow.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => panic!("{e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("devfault-fuzz-follow-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("live.log");
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, b"").expect("create");
    // Stop is set from the start: a read ends at the end of what is written instead of waiting.
    let stop = Arc::new(AtomicBool::new(true));
    let mut follow = Follow::open(&path, stop, Duration::ZERO).expect("open");
    let mut offset = 0usize;
    for op in data.chunks(9) {
        let (&kind, bytes) = op.split_first().expect("non-empty chunk");
        match kind % 3 {
            0 => {
                let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("append");
                file.write_all(bytes).expect("write");
                drop(file);
                assert_eq!(read_all(&mut follow), bytes);
                offset += bytes.len();
            }
            1 => {
                std::fs::rename(&path, dir.join("live.log.1")).expect("rename");
                std::fs::write(&path, bytes).expect("recreate");
                assert_eq!(read_all(&mut follow), bytes);
                offset = bytes.len();
            }
            _ => {
                std::fs::write(&path, bytes).expect("truncate");
                let read = read_all(&mut follow);
                if bytes.len() < offset {
                    assert_eq!(read, bytes);
                    offset = bytes.len();
                } else {
                    // Undetectable by size: whatever is past the old offset.
                    offset = offset.max(bytes.len());
                }
            }
        }
    }
});
