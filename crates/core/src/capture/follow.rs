//! Following a live log as `tail -f` does: a reader that waits for appended bytes instead of
//! ending, reopens the file when it is rotated (renamed and recreated, or truncated in place),
//! and ends only when told to stop.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A reader over a growing file.
#[derive(Debug)]
pub struct Follow {
    path: PathBuf,
    file: File,
    identity: Option<(u64, u64)>,
    offset: u64,
    stop: Arc<AtomicBool>,
    poll: Duration,
    /// Bytes read since the file was last (re)opened: a rotation is noticed by this count.
    rotations: u64,
}

impl Follow {
    /// Opens `path` from its start; reads end (`Ok(0)`) once `stop` is set and everything
    /// written so far has been read. `poll` is how long to wait between looks at an idle file.
    pub fn open(path: &Path, stop: Arc<AtomicBool>, poll: Duration) -> io::Result<Follow> {
        let file = File::open(path)?;
        let identity = identity(&file.metadata()?);
        Ok(Follow { path: path.to_owned(), file, identity, offset: 0, stop, poll, rotations: 0 })
    }

    /// How many times the file was found rotated.
    pub fn rotations(&self) -> u64 {
        self.rotations
    }

    /// Whether the file at `path` is now another file, or this one truncated; if so, reopens
    /// it from its start.
    fn check_rotation(&mut self) -> io::Result<bool> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            // Renamed away and not yet recreated: keep waiting.
            return Ok(false);
        };
        if identity(&meta) != self.identity {
            match File::open(&self.path) {
                Ok(file) => {
                    self.identity = identity(&file.metadata()?);
                    self.file = file;
                    self.offset = 0;
                    self.rotations += 1;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        if meta.len() < self.offset {
            self.file.seek(SeekFrom::Start(0))?;
            self.offset = 0;
            self.rotations += 1;
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.offset += n as u64;
                return Ok(n);
            }
            // At the end of what is written: the file may have been rotated...
            if self.check_rotation()? {
                continue;
            }
            // ...or we wait, unless told to stop (looked at after the last read, so every
            // byte written before the stop is read).
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            std::thread::sleep(self.poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("devfault-follow-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir.join("live.ndjson")
    }

    #[test]
    fn appended_renamed_and_truncated_bytes_are_all_read() {
        let path = scratch("rotate");
        std::fs::write(&path, b"one\n").expect("write");
        let stop = Arc::new(AtomicBool::new(false));
        let mut follow =
            Follow::open(&path, Arc::clone(&stop), Duration::from_millis(1)).expect("open");
        let next = |follow: &mut Follow| {
            let mut buf = [0u8; 64];
            let n = follow.read(&mut buf).expect("read");
            buf[..n].to_vec()
        };
        assert_eq!(next(&mut follow), b"one\n");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append")
            .write_all(b"two\n")
            .expect("w");
        assert_eq!(next(&mut follow), b"two\n");
        // logrotate's default: rename, then a new file.
        std::fs::rename(&path, path.with_extension("1")).expect("rename");
        std::fs::write(&path, b"three\n").expect("write");
        assert_eq!(next(&mut follow), b"three\n");
        // copytruncate: the same file, emptied.
        std::fs::write(&path, b"4\n").expect("truncate");
        assert_eq!(next(&mut follow), b"4\n");
        assert_eq!(follow.rotations(), 2);
        stop.store(true, Ordering::Relaxed);
        assert_eq!(next(&mut follow), b"");
    }
}
