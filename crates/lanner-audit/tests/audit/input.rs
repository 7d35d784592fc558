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
