//! Line framing: plain and gzip files (told by magic bytes), line numbers, empty lines,
//! CRLF, and lines over the size limit.

use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use lanner_audit::{LineError, LineReader, MAX_LINE_LEN, decode_payload, open_input};

fn lines(reader: LineReader) -> Vec<Result<(u64, String), String>> {
    reader
        .map(|r| {
            r.map(|(n, l)| (n, String::from_utf8(l).unwrap()))
                .map_err(|e| format!("{}: {e}", e.line()))
        })
        .collect()
}

const TEXT: &str = "{\"a\":1}\n\n{\"b\":2}\r\n\r\n   \n{\"c\":3}";

#[test]
fn non_empty_lines_come_with_their_numbers() {
    let got = lines(LineReader::new(io::Cursor::new(TEXT)).unwrap());
    let want = [
        (1, "{\"a\":1}"),
        (3, "{\"b\":2}"),
        (5, "   "),
        (6, "{\"c\":3}"),
    ];
    assert_eq!(got, want.map(|(n, l)| Ok((n, l.to_owned()))));
}

#[test]
fn gzip_files_are_detected_by_magic_bytes_not_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log"); // no .gz suffix on purpose
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(TEXT.as_bytes()).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let plain = dir.path().join("plain.json.gz"); // a .gz suffix on plain text
    std::fs::write(&plain, TEXT).unwrap();
    let from_gzip = lines(open_input(&path).unwrap());
    let from_plain = lines(open_input(&plain).unwrap());
    assert_eq!(from_gzip.len(), 4);
    assert_eq!(from_gzip, from_plain);
}

#[test]
fn concatenated_gzip_members_are_all_read() {
    let mut data = Vec::new();
    for part in ["{\"a\":1}\n", "{\"b\":2}\n"] {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(part.as_bytes()).unwrap();
        data.extend(gz.finish().unwrap());
    }
    let got = lines(LineReader::new(io::Cursor::new(data)).unwrap());
    assert_eq!(got.len(), 2);
}

#[test]
fn corrupt_gzip_is_an_error_on_the_line_being_read() {
    let data = vec![0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad];
    let got = lines(LineReader::new(io::Cursor::new(data)).unwrap());
    assert_eq!(got.len(), 1);
    assert!(got[0].as_ref().unwrap_err().starts_with("1: "), "{got:?}");
}

#[test]
fn a_line_over_the_limit_is_an_error_and_the_next_line_still_reads() {
    let text = format!("{{\"a\":1}}\n{}\n{{\"b\":2}}\n", "x".repeat(100));
    let got = lines(
        LineReader::new(io::Cursor::new(text))
            .unwrap()
            .with_max_line_len(64),
    );
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[1],
        Err("2: line of 100 bytes is longer than the 64-byte limit".to_owned())
    );
    assert_eq!(got[2], Ok((3, "{\"b\":2}".to_owned())));
    // Exactly at the limit is fine.
    let text = "y".repeat(64);
    let got = lines(
        LineReader::new(io::Cursor::new(text))
            .unwrap()
            .with_max_line_len(64),
    );
    assert_eq!(got, [Ok((1, "y".repeat(64)))]);
}

/// A reader producing `len` bytes of `x`, then a newline and `tail`, without holding them.
struct Huge {
    left: u64,
    tail: io::Cursor<Vec<u8>>,
}

impl Read for Huge {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return self.tail.read(buf);
        }
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..n].fill(b'x');
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn the_default_limit_is_64_mib_and_longer_lines_are_skipped() {
    let len = MAX_LINE_LEN as u64 + 1;
    let tail = br#"
{"kind":"Event","auditID":"after","stageTimestamp":"2024-05-01T12:00:00Z"}
"#
    .to_vec();
    let mut reader = LineReader::new(Huge {
        left: len,
        tail: io::Cursor::new(tail),
    })
    .unwrap();
    let err = reader.next_line().unwrap().unwrap_err();
    assert!(matches!(err, LineError::TooLong { line: 1, len: l, .. } if l == len));
    assert_eq!(
        err.to_string(),
        format!("line of {len} bytes is longer than the 67108864-byte limit")
    );
    let (n, line) = reader.next_line().unwrap().unwrap();
    assert_eq!(n, 2);
    assert_eq!(decode_payload(line, 1).unwrap().len(), 1);
    assert!(reader.next_line().is_none());
}

#[test]
fn missing_files_are_an_open_error() {
    assert!(open_input(std::path::Path::new("/nonexistent/audit.log")).is_err());
}

#[test]
fn lines_appended_into_a_batch_buffer_keep_their_places() {
    let text = "first\r\n\n\r\n0123456789abcdef\nlast";
    let mut reader = LineReader::new(io::Cursor::new(text.as_bytes().to_vec()))
        .unwrap()
        .with_max_line_len(10);
    let mut out = b"kept".to_vec();
    let (n, range) = reader.next_line_into(&mut out).unwrap().unwrap();
    assert_eq!((n, &out[range.clone()]), (1, &b"first"[..]));
    assert_eq!(range, 4..9);
    // The blank lines (one of them only `\r`) are skipped and numbered.
    let err = reader.next_line_into(&mut out).unwrap().unwrap_err();
    assert!(matches!(
        err,
        LineError::TooLong {
            line: 4,
            len: 16,
            ..
        }
    ));
    assert_eq!(out, b"keptfirst", "a refused line leaves nothing behind");
    let (n, range) = reader.next_line_into(&mut out).unwrap().unwrap();
    assert_eq!((n, &out[range]), (5, &b"last"[..]));
    assert!(reader.next_line_into(&mut out).is_none());
    assert_eq!(out, b"keptfirstlast");
}

/// A reader giving at most `step` bytes per read (then an error, if `fail_at` is reached),
/// to split lines, `\r\n` and the too-long check across reads.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
    fail_at: Option<usize>,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.at >= f) {
            return Err(io::Error::other("disk on fire"));
        }
        let end = self
            .data
            .len()
            .min(self.at + self.step)
            .min(self.fail_at.unwrap_or(usize::MAX))
            .min(self.at + buf.len());
        let n = end - self.at;
        buf[..n].copy_from_slice(&self.data[self.at..end]);
        self.at = end;
        Ok(n)
    }
}

/// A line and its number, or an error's line and message.
type Item = Result<(u64, Vec<u8>), String>;
type Got = Vec<Item>;

fn by_line(reader: LineReader) -> Got {
    let mut reader = reader;
    let mut got = Vec::new();
    while let Some(next) = reader.next_line() {
        got.push(
            next.map(|(n, l)| (n, l.to_vec()))
                .map_err(|e| format!("{}: {e}", e.line())),
        );
    }
    got
}

fn by_batch(reader: LineReader, max_lines: usize, max_bytes: usize) -> Got {
    let mut reader = reader;
    let mut got = Vec::new();
    let mut data = b"junk from the last batch".to_vec();
    loop {
        data.clear();
        let (mut lines, mut errors) = (Vec::new(), Vec::new());
        let more = reader.fill(&mut data, &mut lines, &mut errors, max_lines, max_bytes);
        // Interleave by line number, as `lanner run` does.
        let mut all: Vec<(u64, Item)> = lines
            .into_iter()
            .map(|(n, range)| (n, Ok((n, data[range].to_vec()))))
            .collect();
        all.extend(
            errors
                .into_iter()
                .map(|e| (e.line(), Err(format!("{}: {e}", e.line())))),
        );
        all.sort_by_key(|(n, _)| *n);
        got.extend(all.into_iter().map(|(_, r)| r));
        if !more {
            break;
        }
    }
    got
}

/// `fill` (batches read straight into the caller's buffer) gives the lines and errors
/// `next_line` gives, however the input arrives and wherever the batches end.
#[test]
fn batches_hold_the_same_lines_as_line_by_line_reading() {
    let long = "x".repeat(40);
    let texts = [
        TEXT.to_owned(),
        String::new(),
        "\n\n\r\n".to_owned(),
        "no newline at the end".to_owned(),
        format!("short\r\n{long}\n{long}\r\nafter\n\nend\r"),
        long.clone(),
        format!("a\n{long}"),
        "é\r\n\r\nü\n".repeat(50),
    ];
    for text in &texts {
        for step in [1, 2, 3, 7, 64, 1 << 20] {
            let reader = |fail_at| {
                LineReader::new(Trickle {
                    data: text.as_bytes().to_vec(),
                    at: 0,
                    step,
                    fail_at,
                })
                .unwrap()
                .with_max_line_len(30)
            };
            let fail_at = (text.len() > 5).then_some(text.len() / 2);
            for fail in [None, fail_at] {
                let want = by_line(reader(fail));
                for (max_lines, max_bytes) in [
                    (1, 1 << 20),
                    (2, 1 << 20),
                    (100, 1),
                    (100, 8),
                    (256, 1 << 17),
                ] {
                    let got = by_batch(reader(fail), max_lines, max_bytes);
                    assert_eq!(
                        got, want,
                        "{text:?} in reads of {step}, failing at {fail:?}, batches of {max_lines} lines / {max_bytes} bytes"
                    );
                }
            }
        }
    }
}

#[test]
fn batches_read_gzip_too() {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(format!("{TEXT}\n").repeat(1000).as_bytes())
        .unwrap();
    let data = gz.finish().unwrap();
    let want = by_line(LineReader::new(io::Cursor::new(data.clone())).unwrap());
    let got = by_batch(
        LineReader::new(io::Cursor::new(data)).unwrap(),
        256,
        1 << 17,
    );
    assert_eq!(got.len(), 4000);
    assert_eq!(got, want);
}

/// Lines longer than one read of `fill` (32 KiB), kept or skipped as too long, across
/// batch ends.
#[test]
fn batches_carry_and_skip_lines_longer_than_a_read() {
    let mut text = String::new();
    for (i, len) in [10, 50_000, 35_000, 5, 120_000, 0, 39_999, 40_000, 40_001, 7]
        .into_iter()
        .enumerate()
    {
        text.push_str(&char::from(b'a' + i as u8).to_string().repeat(len));
        text.push_str(if i % 2 == 0 { "\n" } else { "\r\n" });
    }
    text.push_str(&"z".repeat(45_000)); // the last line, too long, with no newline
    let reader = || {
        LineReader::new(io::Cursor::new(text.clone().into_bytes()))
            .unwrap()
            .with_max_line_len(40_000)
    };
    let want = by_line(reader());
    assert_eq!(
        want.iter().filter(|r| r.is_err()).count(),
        5,
        "the lines of 50,000, 120,000, 40,001 (+\\r) and 45,000 bytes, and 40,000 + \\r"
    );
    for (max_lines, max_bytes) in [(1, 1 << 20), (3, 1 << 20), (256, 1 << 17), (256, 1)] {
        assert_eq!(by_batch(reader(), max_lines, max_bytes), want);
    }
}
