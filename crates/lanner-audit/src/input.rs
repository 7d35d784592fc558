//! Reading audit logs: JSON lines from a file, a gzip file or standard input.
//!
//! Gzip is recognised by its magic bytes (`1f 8b`), never by the file name, so rotated logs
//! (`audit.log.1.gz`) and piped compressed data both work. Lines are read one at a time
//! ([`LineReader::next_line`]) or a batch at a time straight into the caller's buffer
//! ([`LineReader::fill`]); the file is never loaded whole. A line longer than the limit
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

/// How much [`LineReader::fill`] asks of the input at a time.
const CHUNK: usize = 1 << 15;

/// A reader of non-empty lines, each with its line number (from 1).
pub struct LineReader {
    inner: BufReader<Box<dyn Read + Send>>,
    buf: Vec<u8>,
    /// The start of a line that [`LineReader::fill`] read but did not finish: the next
    /// call (of either kind) starts with it. Never holds a `\n`.
    carry: Vec<u8>,
    /// The length so far of a line too long to keep, that `fill` is skipping.
    skipping: Option<u64>,
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
        let inner: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(whole))
        } else {
            Box::new(whole)
        };
        Ok(LineReader {
            inner: BufReader::with_capacity(1 << 16, inner),
            buf: Vec::new(),
            carry: Vec::new(),
            skipping: None,
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
        // A line `fill` began.
        let mut any = !self.carry.is_empty() || self.skipping.is_some();
        let mut len: u64 = self.skipping.take().unwrap_or(0) + self.carry.len() as u64;
        let room = (self.max_len + 1).saturating_sub(out.len() - start);
        out.extend_from_slice(
            self.carry
                .get(..room.min(self.carry.len()))
                .unwrap_or_default(),
        );
        self.carry.clear();
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

    /// Reads whole lines into `data`, straight from the input (no copy from a read buffer),
    /// until there are `max_lines` lines or `max_bytes` bytes of them (soft limits: a read
    /// is split into all the lines it holds), or the input ends. Each non-empty line's
    /// number and place in `data` go to `lines` (without its `\n` or `\r\n`); lines too long
    /// and an I/O error go to `errors`, in order. A line not finished when the batch is full
    /// is kept for the next call. Returns `false` once the input is finished (its end, or an
    /// I/O error, after which nothing more is read).
    pub fn fill(
        &mut self,
        data: &mut Vec<u8>,
        lines: &mut Vec<(u64, Range<usize>)>,
        errors: &mut Vec<LineError>,
        max_lines: usize,
        max_bytes: usize,
    ) -> bool {
        if self.done {
            return false;
        }
        // The start of the line being read.
        let mut start = data.len();
        data.extend_from_slice(&self.carry);
        self.carry.clear();
        // Whatever `next_line` left in the read buffer.
        let buffered = self.inner.buffer().len();
        data.extend_from_slice(self.inner.buffer());
        self.inner.consume(buffered);
        let mut skipped = self.skipping.take();
        let mut scan = start;
        let first_line = lines.len();
        let mut failed = None;
        loop {
            while let Some(at) = memchr::memchr(b'\n', data.get(scan..).unwrap_or_default()) {
                let end = scan + at;
                self.end_line(data, start, end, skipped.take(), lines, errors);
                start = end + 1;
                scan = start;
            }
            scan = data.len();
            // The unfinished line: too long to keep?
            let tail = (data.len() - start) as u64;
            if let Some(len) = &mut skipped {
                *len += tail;
                data.truncate(start);
                scan = start;
            } else if tail > self.max_len as u64 {
                skipped = Some(tail);
                data.truncate(start);
                scan = start;
            }
            if let Some(source) = failed {
                // The lines read before the error are kept; the one it cut is not.
                self.done = true;
                data.truncate(start);
                errors.push(LineError::Io {
                    line: self.line + 1,
                    source,
                });
                return false;
            }
            if lines.len() - first_line >= max_lines || start >= max_bytes {
                break;
            }
            data.reserve(CHUNK);
            match self.inner.get_mut().take(CHUNK as u64).read_to_end(data) {
                Ok(0) => {
                    // The end: a last line without `\n` ends here.
                    self.done = true;
                    if skipped.is_some() || data.len() > start {
                        let end = data.len();
                        self.end_line(data, start, end, skipped, lines, errors);
                    }
                    return false;
                }
                Ok(_) => {}
                Err(source) => failed = Some(source),
            }
        }
        self.carry
            .extend_from_slice(data.get(start..).unwrap_or_default());
        data.truncate(start);
        self.skipping = skipped;
        true
    }

    /// Records the line `data[start..end]` (`skipped`: the length of its start, dropped
    /// for being too long).
    fn end_line(
        &mut self,
        data: &[u8],
        start: usize,
        end: usize,
        skipped: Option<u64>,
        lines: &mut Vec<(u64, Range<usize>)>,
        errors: &mut Vec<LineError>,
    ) {
        self.line += 1;
        let len = skipped.unwrap_or(0) + (end - start) as u64;
        if len > self.max_len as u64 {
            errors.push(LineError::TooLong {
                line: self.line,
                len,
                max: self.max_len,
            });
            return;
        }
        let end = if end > start && data.get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        if end > start {
            lines.push((self.line, start..end));
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
