//! Captures cut into batches of whole items (NDJSON lines, HAR entries) so that several threads
//! can read the items while one reader keeps the input's order. A batch holds its items' bytes
//! back to back; an item over its cap is not kept, only its position, and reading goes on.

use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;

use super::limits::{Bytes, Limits};
use super::{CaptureError, Position};

/// Items are gathered into a batch until it holds this many bytes...
const BATCH_BYTES: usize = 256 * 1024;
/// ...or this many items.
const BATCH_ITEMS: usize = 4096;

/// One item of a batch.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Slot {
    /// Where the item stands in the capture.
    pub position: Position,
    /// Its bytes, or why they were not kept.
    pub kind: SlotKind,
}

/// What a batch holds for one item.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SlotKind {
    /// The item's bytes: `batch.data[range]`.
    Data(Range<usize>),
    /// The item is longer than its cap (`cap` bytes, named by `flag`); it was skipped.
    Oversize {
        /// The cap, in bytes.
        cap: usize,
        /// The command-line flag that sets it.
        flag: &'static str,
    },
}

impl SlotKind {
    /// The message for an oversize item.
    pub fn oversize_message(cap: usize, flag: &str) -> String {
        format!("longer than the {} cap ({flag}); skipped", Bytes(cap as u64))
    }
}

/// Whole items, in input order.
#[derive(Clone, Default, Debug)]
pub struct Batch {
    /// The items' bytes, back to back.
    pub data: Vec<u8>,
    /// The items.
    pub slots: Vec<Slot>,
}

impl Batch {
    /// True when the batch holds no item.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn full(&self) -> bool {
        self.data.len() >= BATCH_BYTES || self.slots.len() >= BATCH_ITEMS
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.data.clear();
        self.slots.clear();
    }
}

/// What filling a batch ended with; the batch may hold items in every case.
#[derive(Debug)]
pub enum Step {
    /// More items may follow.
    More,
    /// The input has ended.
    End,
    /// The input cannot be read any further.
    Fatal(CaptureError),
}

/// Cuts an NDJSON capture into batches of lines.
#[derive(Debug)]
pub struct NdjsonBatches<R> {
    reader: BufReader<R>,
    limits: Limits,
    line: usize,
    /// Bytes of the current line are being skipped (it went over the cap).
    skipping: bool,
    /// The current line has started and is still open (its bytes are the batch's tail).
    open: Option<usize>,
}

impl<R: Read> NdjsonBatches<R> {
    /// Reads from `reader` with `limits`.
    pub fn new(reader: BufReader<R>, limits: Limits) -> Self {
        NdjsonBatches { reader, limits, line: 0, skipping: false, open: None }
    }

    /// Fills `batch` (cleared first) with the next lines. A batch is handed back early when
    /// the input has no more bytes ready, so a live log's lines are audited as they come.
    pub fn next_batch(&mut self, batch: &mut Batch) -> Step {
        batch.clear();
        loop {
            if batch.full() && self.open.is_none() {
                return Step::More;
            }
            if self.reader.buffer().is_empty() && !batch.is_empty() && self.open.is_none() {
                // Whatever is ready goes now; the next read may block (a pipe, a followed log).
                return Step::More;
            }
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.drop_open(batch);
                    return Step::Fatal(CaptureError::Io(e));
                }
            };
            if buf.is_empty() {
                // The last line has no line end.
                if let Some(start) = self.open.take() {
                    self.close_line(batch, start);
                }
                self.skipping = false;
                return Step::End;
            }
            let newline = memchr::memchr(b'\n', buf);
            let take = newline.map_or(buf.len(), |i| i + 1);
            if self.open.is_none() && !self.skipping {
                self.line += 1;
                self.open = Some(batch.data.len());
            }
            if let Some(start) = self.open {
                let have = batch.data.len() - start;
                if have + take > self.limits.line.saturating_add(2) {
                    batch.data.truncate(start);
                    self.open = None;
                    self.skipping = true;
                    batch.slots.push(Slot {
                        position: Position::Line(self.line),
                        kind: SlotKind::Oversize { cap: self.limits.line, flag: "--max-line" },
                    });
                } else {
                    batch.data.extend_from_slice(&buf[..take]);
                }
            }
            self.reader.consume(take);
            if newline.is_some() {
                if let Some(start) = self.open.take() {
                    self.close_line(batch, start);
                }
                self.skipping = false;
            } else if self.skipping
                && batch.slots.last().is_some_and(|s| matches!(s.kind, SlotKind::Oversize { .. }))
            {
                // Report an endless line as soon as it crosses the cap.
                return Step::More;
            }
        }
    }

    fn drop_open(&mut self, batch: &mut Batch) {
        if let Some(start) = self.open.take() {
            batch.data.truncate(start);
        }
    }

    /// Turns the bytes from `start` into a slot, unless the line is blank.
    fn close_line(&mut self, batch: &mut Batch, start: usize) {
        let bytes = &batch.data[start..];
        if is_blank(bytes) {
            batch.data.truncate(start);
            return;
        }
        let mut end = batch.data.len();
        if batch.data[..end].ends_with(b"\n") {
            end -= 1;
        }
        if batch.data[..end].ends_with(b"\r") {
            end -= 1;
        }
        if end - start > self.limits.line {
            batch.data.truncate(start);
            batch.slots.push(Slot {
                position: Position::Line(self.line),
                kind: SlotKind::Oversize { cap: self.limits.line, flag: "--max-line" },
            });
            return;
        }
        batch
            .slots
            .push(Slot { position: Position::Line(self.line), kind: SlotKind::Data(start..end) });
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Cuts a HAR document into batches of `log.entries` elements, each element's JSON text kept
/// whole (up to [`Limits::entry`]). The rest of the document is scanned, not kept: members other
/// than `log.entries` are skipped, so memory does not depend on them either.
#[derive(Debug)]
pub struct HarBatches<R> {
    scan: Scanner<R>,
    limits: Limits,
    state: HarState,
    index: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HarState {
    /// Before the document.
    Start,
    /// Inside `log.entries`, before the first element.
    First,
    /// Inside `log.entries`, after an element.
    Next,
    /// After `log.entries`.
    Done,
}

impl<R: BufRead> HarBatches<R> {
    /// Reads from `reader` with `limits`.
    pub fn new(reader: R, limits: Limits) -> Self {
        HarBatches { scan: Scanner::new(reader), limits, state: HarState::Start, index: 0 }
    }

    /// Fills `batch` (cleared first) with the next entries.
    pub fn next_batch(&mut self, batch: &mut Batch) -> Step {
        batch.clear();
        match self.fill(batch) {
            Ok(step) => step,
            Err(e) => Step::Fatal(self.scan.error(e)),
        }
    }

    fn fill(&mut self, batch: &mut Batch) -> Result<Step, Scan> {
        if self.state == HarState::Start {
            self.scan.ws()?;
            self.scan.expect(b'{', "a HAR document: an object with a \"log\" member")?;
            if !self.find_member(b"log")? {
                return Err(Scan::Msg("no log.entries array".to_owned()));
            }
            self.scan.ws()?;
            self.scan.expect(b'{', "the HAR \"log\" object")?;
            if !self.find_member(b"entries")? {
                return Err(Scan::Msg("no log.entries array".to_owned()));
            }
            self.scan.ws()?;
            self.scan.expect(b'[', "the HAR \"log.entries\" array")?;
            self.state = HarState::First;
        }
        while matches!(self.state, HarState::First | HarState::Next) {
            if batch.full() {
                return Ok(Step::More);
            }
            self.scan.ws()?;
            if self.scan.peek()? == Some(b']') {
                self.scan.bump();
                self.state = HarState::Done;
                break;
            }
            if self.state == HarState::Next {
                self.scan.expect(b',', "',' or ']' after an entry of log.entries")?;
                self.scan.ws()?;
            }
            let position = Position::Entry(self.index);
            self.index += 1;
            self.state = HarState::Next;
            let start = batch.data.len();
            match self.scan.value(Some(&mut batch.data), self.limits.entry) {
                Ok(()) => batch
                    .slots
                    .push(Slot { position, kind: SlotKind::Data(start..batch.data.len()) }),
                Err(Scan::TooLong) => {
                    batch.data.truncate(start);
                    batch.slots.push(Slot {
                        position,
                        kind: SlotKind::Oversize { cap: self.limits.entry, flag: "--max-entry" },
                    });
                }
                Err(e) => {
                    batch.data.truncate(start);
                    return Err(e);
                }
            }
        }
        // The rest of `log`, then of the document.
        self.rest_of_object()?;
        self.rest_of_object()?;
        self.scan.ws()?;
        if self.scan.peek()?.is_some() {
            return Err(Scan::Msg("trailing characters after the HAR document".to_owned()));
        }
        Ok(Step::End)
    }

    /// Reads members of the current object until `key`, skipping the others; true when found
    /// (positioned before its value), false at the object's end.
    fn find_member(&mut self, key: &[u8]) -> Result<bool, Scan> {
        let mut first = true;
        loop {
            self.scan.ws()?;
            if self.scan.peek()? == Some(b'}') {
                self.scan.bump();
                return Ok(false);
            }
            if !first {
                self.scan.expect(b',', "',' or '}' in an object")?;
                self.scan.ws()?;
            }
            first = false;
            let name = self.scan.key()?;
            self.scan.ws()?;
            self.scan.expect(b':', "':' after a member name")?;
            if name == key {
                return Ok(true);
            }
            self.scan.ws()?;
            self.scan.value(None, usize::MAX)?;
        }
    }

    /// Skips the remaining members of an object whose member value was just read.
    fn rest_of_object(&mut self) -> Result<(), Scan> {
        loop {
            self.scan.ws()?;
            match self.scan.peek()? {
                Some(b'}') => {
                    self.scan.bump();
                    return Ok(());
                }
                _ => {
                    self.scan.expect(b',', "',' or '}' in an object")?;
                    self.scan.ws()?;
                    self.scan.key()?;
                    self.scan.ws()?;
                    self.scan.expect(b':', "':' after a member name")?;
                    self.scan.ws()?;
                    self.scan.value(None, usize::MAX)?;
                }
            }
        }
    }
}

/// Why scanning stopped.
#[derive(Debug)]
enum Scan {
    Io(io::Error),
    Msg(String),
    Eof,
    TooLong,
}

/// A byte scanner over a `BufRead` that knows its line and column.
#[derive(Debug)]
struct Scanner<R> {
    reader: R,
    line: usize,
    column: usize,
}

impl<R: BufRead> Scanner<R> {
    fn new(reader: R) -> Self {
        Scanner { reader, line: 1, column: 1 }
    }

    fn error(&self, e: Scan) -> CaptureError {
        match e {
            Scan::Io(e) => CaptureError::Io(e),
            Scan::Msg(message) => {
                CaptureError::Har { message, line: self.line, column: self.column }
            }
            Scan::Eof => CaptureError::Har {
                message: "the document ends early (EOF inside the JSON)".to_owned(),
                line: self.line,
                column: self.column,
            },
            Scan::TooLong => CaptureError::Har {
                message: "a member name is too long".to_owned(),
                line: self.line,
                column: self.column,
            },
        }
    }

    fn buf(&mut self) -> Result<&[u8], Scan> {
        loop {
            match self.reader.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Scan::Io(e)),
            }
        }
        self.reader.fill_buf().map_err(Scan::Io)
    }

    fn peek(&mut self) -> Result<Option<u8>, Scan> {
        Ok(self.buf()?.first().copied())
    }

    /// Consumes `n` buffered bytes, keeping the line and column.
    fn advance(&mut self, n: usize) {
        if let Ok(buf) = self.reader.fill_buf() {
            let part = &buf[..n.min(buf.len())];
            match memchr::memrchr(b'\n', part) {
                Some(last) => {
                    self.line += memchr::memchr_iter(b'\n', part).count();
                    self.column = part.len() - last;
                }
                None => self.column += part.len(),
            }
        }
        self.reader.consume(n);
    }

    fn bump(&mut self) {
        self.advance(1);
    }

    fn ws(&mut self) -> Result<(), Scan> {
        loop {
            let buf = self.buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            let n = buf.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
            let all = n == buf.len();
            self.advance(n);
            if !all {
                return Ok(());
            }
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Scan> {
        match self.peek()? {
            Some(b) if b == byte => {
                self.bump();
                Ok(())
            }
            Some(b) => Err(Scan::Msg(format!("expected {what}, found {:?}", char::from(b)))),
            None => Err(Scan::Eof),
        }
    }

    /// A member name's raw bytes (escapes kept), at most 256 of them.
    fn key(&mut self) -> Result<Vec<u8>, Scan> {
        if self.peek()? != Some(b'"') {
            return match self.peek()? {
                None => Err(Scan::Eof),
                Some(b) => {
                    Err(Scan::Msg(format!("expected a member name, found {:?}", char::from(b))))
                }
            };
        }
        let mut name = Vec::new();
        self.value(Some(&mut name), 258)?;
        Ok(name[1..name.len() - 1].to_vec())
    }

    /// Scans one JSON value, appending its bytes to `sink` when given. Over `cap` bytes the
    /// value is still scanned to its end, but `TooLong` is returned and the sink holds a prefix.
    /// The value's syntax is only checked as far as finding its end; its reader checks the rest.
    fn value(&mut self, mut sink: Option<&mut Vec<u8>>, cap: usize) -> Result<(), Scan> {
        let start_len = sink.as_ref().map_or(0, |s| s.len());
        let mut len = 0usize;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut started = false;
        let mut too_long = false;
        loop {
            let buf = self.buf()?;
            if buf.is_empty() {
                return Err(Scan::Eof);
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if depth == 0 {
                            if !started {
                                return Err(Scan::Msg(format!(
                                    "expected a value, found {:?}",
                                    char::from(b)
                                )));
                            }
                            end = Some(i);
                            break;
                        }
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => {
                        if !started {
                            return Err(Scan::Msg(format!(
                                "expected a value, found {:?}",
                                char::from(b)
                            )));
                        }
                        end = Some(i);
                        break;
                    }
                    b'-' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'.' | b'+' => {}
                    b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' => {}
                    other => {
                        return Err(Scan::Msg(format!(
                            "unexpected {:?} in a value",
                            char::from(other)
                        )));
                    }
                }
                started = true;
            }
            let take = end.unwrap_or(buf.len());
            if let Some(sink) = sink.as_deref_mut() {
                if !too_long && len + take <= cap {
                    sink.extend_from_slice(&buf[..take]);
                } else {
                    too_long = true;
                    sink.truncate(start_len);
                }
            }
            len += take;
            self.advance(take);
            if end.is_some() {
                return if too_long { Err(Scan::TooLong) } else { Ok(()) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches_ndjson(text: &[u8], limits: Limits, capacity: usize) -> Vec<Slot> {
        let reader = io::BufReader::with_capacity(capacity, text);
        let mut batches = NdjsonBatches::new(reader, limits);
        let mut batch = Batch::default();
        let mut slots = Vec::new();
        loop {
            let step = batches.next_batch(&mut batch);
            for slot in &batch.slots {
                if let SlotKind::Data(range) = &slot.kind {
                    assert!(!batch.data[range.clone()].contains(&b'\n'));
                }
                slots.push(slot.clone());
            }
            match step {
                Step::More => {}
                Step::End => return slots,
                Step::Fatal(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn ndjson_lines_are_cut_whole_over_any_buffer_size() {
        let text = b"{\"a\":1}\n\n  \n{\"b\":22}\r\n{\"c\":333}";
        for capacity in [1, 2, 3, 7, 64] {
            let slots = batches_ndjson(text, Limits::DEFAULT, capacity);
            let positions: Vec<_> = slots.iter().map(|s| s.position).collect();
            assert_eq!(
                positions,
                [Position::Line(1), Position::Line(4), Position::Line(5)],
                "{capacity}"
            );
        }
    }

    #[test]
    fn an_oversize_line_is_reported_and_the_next_one_read() {
        let mut text = vec![b'x'; 100];
        text.extend_from_slice(b"\n{}\n");
        let limits = Limits { line: 10, ..Limits::DEFAULT };
        for capacity in [3, 8, 1000] {
            let slots = batches_ndjson(&text, limits, capacity);
            assert_eq!(slots.len(), 2, "{capacity}: {slots:?}");
            assert!(matches!(slots[0].kind, SlotKind::Oversize { cap: 10, flag: "--max-line" }));
            assert_eq!(slots[1].position, Position::Line(2));
        }
    }

    fn har_slots(text: &str, limits: Limits) -> (Vec<(Slot, Vec<u8>)>, Option<CaptureError>) {
        let mut batches = HarBatches::new(io::BufReader::with_capacity(5, text.as_bytes()), limits);
        let mut batch = Batch::default();
        let mut out = Vec::new();
        loop {
            let step = batches.next_batch(&mut batch);
            for slot in &batch.slots {
                let bytes = match &slot.kind {
                    SlotKind::Data(r) => batch.data[r.clone()].to_vec(),
                    SlotKind::Oversize { .. } => Vec::new(),
                };
                out.push((slot.clone(), bytes));
            }
            match step {
                Step::More => {}
                Step::End => return (out, None),
                Step::Fatal(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn har_entries_are_cut_whole_and_other_members_skipped() {
        let text = "{\"x\": [1, {\"y\": \"]}\\\"\"}], \"log\": {\"version\": \"1.2\", \"entries\": [ {\"a\": \"}\"} ,\n{\"b\": [1,2]}, 7 ], \"z\": {}}}\n";
        let (slots, error) = har_slots(text, Limits::DEFAULT);
        assert!(error.is_none(), "{error:?}");
        let texts: Vec<_> =
            slots.iter().map(|(_, b)| String::from_utf8_lossy(b).into_owned()).collect();
        assert_eq!(texts, ["{\"a\": \"}\"}", "{\"b\": [1,2]}", "7"]);
        let limits = Limits { entry: 8, ..Limits::DEFAULT };
        let (slots, error) = har_slots(text, limits);
        assert!(error.is_none(), "{error:?}");
        assert!(matches!(slots[0].0.kind, SlotKind::Oversize { .. }));
        assert!(matches!(slots[2].0.kind, SlotKind::Data(_)));
    }

    #[test]
    fn a_broken_har_says_where() {
        for (text, line) in [
            ("{\"log\": {\"entries\": [{}, {\n", 2),
            ("[1, 2]", 1),
            ("{\"log\": {}}", 1),
            ("{\"log\": {\"entries\": []}} x", 1),
            ("{\"log\": {\"entries\": [{} {}]}}", 1),
        ] {
            let (_, error) = har_slots(text, Limits::DEFAULT);
            match error {
                Some(CaptureError::Har { line: l, .. }) => assert_eq!(l, line, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
