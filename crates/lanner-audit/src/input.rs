//! Reading audit logs: JSON lines from a file, a gzip file or standard input.
//!
//! Gzip is recognised by its magic bytes (`1f 8b`), never by the file name, so rotated logs
//! (`audit.log.1.gz`) and piped compressed data both work. Lines are read one at a time
//! into a reused buffer; the file is never loaded whole. A line longer than the limit
//! (64 MiB) is skipped with an error that gives its length, and reading goes on with the
//! next line. Empty lines (after dropping `\r\n`'s `\r`) are skipped, as Falco does.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;

use flate2::read::MultiGzDecoder;

/// The longest line accepted, in bytes (without its line break).
pub const MAX_LINE_LEN: usize = 64 << 20;

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The line is longer than the limit; it was skipped.
    #[error("line of {len} bytes is longer than the {max}-byte limit")]
    TooLong {
        /// The line number (from 1).
        line: u64,
        /// The line's length in bytes.
        len: u64,
        /// The limit in force.
        max: usize,
    },
    /// Reading failed (including corrupt gzip data); no further line is read.
    #[error("{source}")]
    Io {
        /// The number of the line being read (from 1).
        line: u64,
        /// The underlying error.
        source: io::Error,
    },
}

impl LineError {
    /// The number of the line the error is about (from 1).
    #[must_use]
    pub fn line(&self) -> u64 {
        match self {
            LineError::TooLong { line, .. } | LineError::Io { line, .. } => *line,
        }
    }
}

/// A reader of non-empty lines, each with its line number (from 1).
pub struct LineReader {
    inner: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    line: u64,
    max_len: usize,
    done: bool,
}

/// Open `path` for reading lines; `-` means standard input. Gzip data is decompressed.
pub fn open_input(path: &Path) -> io::Result<LineReader> {
    if path.as_os_str() == "-" {
        LineReader::new(io::stdin())
    } else {
        LineReader::new(File::open(path)?)
    }
}

impl LineReader {
    /// Read lines from `reader`, decompressing it if it starts with the gzip magic bytes.
    /// Reads at most two bytes to decide.
    pub fn new(reader: impl Read + Send + 'static) -> io::Result<Self> {
        let mut reader = reader;
        let mut magic = Vec::with_capacity(2);
        (&mut reader).take(2).read_to_end(&mut magic)?;
        let gzip = magic == [0x1f, 0x8b];
        let whole = io::Cursor::new(magic).chain(reader);
        let inner: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                1 << 16,
                MultiGzDecoder::new(whole),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, whole))
        };
        Ok(LineReader {
            inner,
            buf: Vec::new(),
            line: 0,
            max_len: MAX_LINE_LEN,
            done: false,
        })
    }

    /// Use another line length limit (tests use small ones).
    #[must_use]
    pub fn with_max_line_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// The next non-empty line and its number, borrowed until the next call; `None` at the
    /// end of the input or after an I/O error.
    pub fn next_line(&mut self) -> Option<Result<(u64, &[u8]), LineError>> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let next = self.next_line_into(&mut buf);
        if matches!(next, Some(Err(LineError::TooLong { .. }))) {
            buf.shrink_to(1 << 20);
        }
        self.buf = buf;
        Some(next?.map(|(number, range)| (number, self.buf.get(range).unwrap_or_default())))
    }

    /// Like [`LineReader::next_line`], but the line is appended to `out` (straight from
    /// the read buffer, one copy less when lines are gathered into batches) and its place
    /// there is returned. On errors `out` is left as it was.
    pub fn next_line_into(
        &mut self,
        out: &mut Vec<u8>,
    ) -> Option<Result<(u64, Range<usize>), LineError>> {
        loop {
            if self.done {
                return None;
            }
            self.line += 1;
            let start = out.len();
            let len = match self.read_line(out, start) {
                Ok(Some(len)) => len,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(source) => {
                    out.truncate(start);
                    self.done = true;
                    return Some(Err(LineError::Io {
                        line: self.line,
                        source,
                    }));
                }
            };
            if len > self.max_len as u64 {
                out.truncate(start);
                return Some(Err(LineError::TooLong {
                    line: self.line,
                    len,
                    max: self.max_len,
                }));
            }
            if out.len() > start && out.last() == Some(&b'\r') {
                out.pop();
            }
            if out.len() > start {
                return Some(Ok((self.line, start..out.len())));
            }
        }
    }

    /// Append one line to `out` (without `\n`; the line starts at `start`), keeping at most
    /// `max_len + 1` bytes of it; return its full length, or `None` at the end of the input.
    fn read_line(&mut self, out: &mut Vec<u8>, start: usize) -> io::Result<Option<u64>> {
        let mut len: u64 = 0;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any.then_some(len));
            }
            any = true;
            let (take, newline) = match memchr::memchr(b'\n', chunk) {
                Some(at) => (at, true),
                None => (chunk.len(), false),
            };
            let room = (self.max_len + 1).saturating_sub(out.len() - start);
            out.extend_from_slice(chunk.get(..take.min(room)).unwrap_or_default());
            len += take as u64;
            self.inner.consume(take + usize::from(newline));
            if newline {
                return Ok(Some(len));
            }
        }
    }
}

impl Iterator for LineReader {
    type Item = Result<(u64, Vec<u8>), LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_line()
            .map(|r| r.map(|(n, line)| (n, line.to_vec())))
    }
}
