//! Reading a capture, plain or compressed. gzip and zstd are told by
//! their magic bytes (not by the file name) and decompressed as a stream, so a compressed
//! capture needs no more memory than a plain one.

use std::io::{self, BufRead, BufReader, Read};

/// How a capture's bytes are stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (RFC 1952; concatenated members are read one after another, as `zcat` does).
    Gzip,
    /// Zstandard (RFC 8878).
    Zstd,
}

impl Compression {
    /// What the first bytes of a stream say.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Its name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The buffer size of a capture reader: large enough that reading costs few system calls.
pub const BUFFER: usize = 256 * 1024;

/// A buffered capture stream, plain or decompressing.
pub type CaptureReader = BufReader<Box<dyn Read + Send>>;

/// A decompressing reader over `raw` (a buffered plain, gzip or zstd stream), told from its
/// first bytes, buffered again for line reading.
pub fn decompress(mut raw: CaptureReader) -> io::Result<(Compression, CaptureReader)> {
    let head = loop {
        match raw.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    // A magic number split over two reads of a pipe is rare enough to read on: at worst the
    // capture is then read as plain text and reported unreadable item by item.
    let compression = Compression::sniff(head);
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => return Ok((compression, raw)),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(raw)?),
    };
    Ok((compression, BufReader::with_capacity(BUFFER, reader)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(bytes: Vec<u8>) -> (Compression, Vec<u8>) {
        let raw: Box<dyn Read + Send> = Box::new(io::Cursor::new(bytes));
        let (compression, mut reader) = decompress(BufReader::new(raw)).expect("opens");
        let mut out = Vec::new();
        reader.read_to_end(&mut out).expect("reads");
        (compression, out)
    }

    #[test]
    fn gzip_and_zstd_are_told_by_their_bytes() {
        let text = b"{\"response\":{\"status\":200}}\n".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).expect("gz");
        let mut gz = gz.finish().expect("gz");
        // Two members, as `cat a.gz b.gz` makes.
        gz.extend_from_within(..);
        let zst = zstd::encode_all(&text[..], 1).expect("zstd");
        assert_eq!(read_all(gz), (Compression::Gzip, [&text[..], &text[..]].concat()));
        assert_eq!(read_all(zst), (Compression::Zstd, text.clone()));
        assert_eq!(read_all(text.clone()), (Compression::None, text));
    }

    #[test]
    fn a_corrupt_stream_is_an_error_not_a_panic() {
        let raw: Box<dyn Read + Send> = Box::new(io::Cursor::new(vec![0x1f, 0x8b, 8, 0, 1, 2, 3]));
        let (_, mut reader) = decompress(BufReader::new(raw)).expect("opens");
        assert!(reader.read_to_end(&mut Vec::new()).is_err());
    }
}
