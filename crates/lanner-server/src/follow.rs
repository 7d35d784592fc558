//! Following an audit log that the API server's log backend writes
//! (`--audit-log-path`), across its rotation: `lanner run --follow FILE`.
//!
//! The reader polls. At the end of the data it checks, in this order:
//!
//! * **rename-and-create** (what the API server's own rotation and
//!   `logrotate`'s default do): the path now names another inode. The old
//!   file is read to its end first (the writer may have added lines after
//!   our last read), then the new file is read from its start.
//! * **copytruncate**: our file is now shorter than what we read, or its
//!   first bytes changed (it was truncated and has grown past our position
//!   since the last poll). Reading starts again at offset 0.
//!
//! Lines are returned whole: a line still being written stays buffered
//! until its newline arrives, so none is split or repeated. What the reader
//! cannot prevent is a loss inside `copytruncate` itself (lines written
//! between the copy and the truncation are in neither file), which is why
//! rename-and-create is the recommended rotation.
//!
//! Blocking and single-threaded on purpose: `lanner run` is a plain loop
//! ([`FollowReader::poll_line`] lets it flush its output while it waits).

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use lanner_audit::{LineError, MAX_LINE_LEN};

/// Where to start in the file that exists when following begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Read what is already there, then follow (`tail -n +1 -F`).
    Beginning,
    /// Skip what is already there (`tail -n 0 -F`).
    End,
}

/// Reads lines from a file as it grows, through rotations; never ends.
pub struct FollowReader {
    path: PathBuf,
    file: File,
    inode: (u64, u64),
    /// Bytes of the file consumed into `buf`.
    pos: u64,
    /// The first bytes of the file, to notice a truncate-and-regrow.
    head: Vec<u8>,
    buf: Vec<u8>,
    /// Start of unreturned data in `buf`.
    start: usize,
    /// Discarding an over-long line until its end.
    skipping: bool,
    line: u64,
    poll: Duration,
    max_len: usize,
}

/// How many first bytes identify a file's content (an audit event's
/// `auditID` is within its first 200 bytes).
const HEAD: usize = 256;

impl FollowReader {
    /// Opens `path` (which must exist) and starts at `start`.
    pub fn open(path: &Path, start: Start) -> io::Result<FollowReader> {
        let mut file = File::open(path)?;
        let meta = file.metadata()?;
        let (pos, mid_line) = match start {
            Start::Beginning => (0, false),
            Start::End => {
                let end = file.seek(SeekFrom::End(0))?;
                // Started inside a line being written: its rest is no line of its own.
                let mut last = [0u8; 1];
                let mid_line = end > 0 && file.read_at(&mut last, end - 1)? == 1 && last != [b'\n'];
                (end, mid_line)
            }
        };
        let mut reader = FollowReader {
            path: path.to_owned(),
            file,
            inode: (meta.dev(), meta.ino()),
            pos,
            head: Vec::new(),
            buf: Vec::with_capacity(1 << 16),
            start: 0,
            skipping: mid_line,
            line: 0,
            poll: Duration::from_millis(200),
            max_len: MAX_LINE_LEN,
        };
        reader.head = reader.read_head();
        Ok(reader)
    }

    /// The byte offset in the file up to which it has been read (at the start: where
    /// following began).
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// Polls every `poll` when there is nothing new (default 200 ms).
    #[must_use]
    pub fn with_poll_interval(mut self, poll: Duration) -> FollowReader {
        self.poll = poll;
        self
    }

    /// Use another line length limit (tests use small ones).
    #[must_use]
    pub fn with_max_line_len(mut self, max_len: usize) -> FollowReader {
        self.max_len = max_len;
        self
    }

    /// The next line, waiting for one if need be.
    pub fn next_line_blocking(&mut self) -> Result<(u64, &[u8]), LineError> {
        loop {
            if self.ready()? {
                return Ok(self.take_line());
            }
            self.wait();
        }
    }

    /// The next non-empty line and its number (from 1) if one is complete
    /// now, else `None` (then [`FollowReader::wait`] and ask again). A
    /// [`LineError::Io`] means the file can no longer be read.
    pub fn poll_line(&mut self) -> Option<Result<(u64, &[u8]), LineError>> {
        match self.ready() {
            Ok(true) => Some(Ok(self.take_line())),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// Sleeps for the poll interval.
    pub fn wait(&self) {
        std::thread::sleep(self.poll);
    }

    /// Whether a complete line is ready in `buf` (reading and handling
    /// rotation as needed); `false` means none yet.
    fn ready(&mut self) -> Result<bool, LineError> {
        loop {
            if self.find_line()? {
                return Ok(true);
            }
            if self.read_more().map_err(|e| self.io_error(e))? > 0 {
                continue;
            }
            if !self.check_rotation().map_err(|e| self.io_error(e))? {
                return Ok(false);
            }
        }
    }

    /// Whether a non-empty line is complete in `buf`, skipping empty lines
    /// and the rest of an over-long one.
    fn find_line(&mut self) -> Result<bool, LineError> {
        loop {
            let pending = &self.buf[self.start..];
            match memchr_newline(pending) {
                Some(at) if self.skipping => {
                    self.skipping = false;
                    self.start += at + 1;
                }
                Some(at) if pending[..at].iter().all(|&b| b == b'\r') => {
                    self.line += 1;
                    self.start += at + 1;
                }
                Some(at) if at > self.max_len => {
                    self.line += 1;
                    self.start += at + 1;
                    return Err(LineError::TooLong {
                        line: self.line,
                        len: at as u64,
                        max: self.max_len,
                    });
                }
                Some(_) => return Ok(true),
                None if pending.len() > self.max_len && !self.skipping => {
                    self.line += 1;
                    let len = pending.len() as u64;
                    self.skipping = true;
                    self.start = self.buf.len();
                    return Err(LineError::TooLong {
                        line: self.line,
                        len,
                        max: self.max_len,
                    });
                }
                None => {
                    if self.skipping {
                        self.start = self.buf.len();
                    }
                    return Ok(false);
                }
            }
        }
    }

    /// Returns the line found by `find_line` and moves past it.
    fn take_line(&mut self) -> (u64, &[u8]) {
        let pending = &self.buf[self.start..];
        let at = memchr_newline(pending).expect("find_line saw a newline");
        let begin = self.start;
        self.start += at + 1;
        self.line += 1;
        let mut line = &self.buf[begin..begin + at];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        (self.line, line)
    }

    fn read_more(&mut self) -> io::Result<usize> {
        // Make sure new data is not a truncated file that has grown past our
        // position since the last read (one stat and a 256-byte pread).
        self.check_truncated()?;
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + (1 << 16), 0);
        let read = loop {
            match self.file.read(&mut self.buf[len..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        let read = read.inspect_err(|_| self.buf.truncate(len))?;
        self.buf.truncate(len + read);
        self.pos += read as u64;
        if self.head.len() < HEAD && read > 0 {
            self.head = self.read_head();
        }
        Ok(read)
    }

    /// Handles a rotation if there was one; `true` if reading should go on.
    fn check_rotation(&mut self) -> io::Result<bool> {
        match std::fs::metadata(&self.path) {
            Ok(meta) if (meta.dev(), meta.ino()) != self.inode => {
                // Renamed and re-created: finish the old file, then switch.
                if self.read_more()? > 0 {
                    return Ok(true);
                }
                let file = File::open(&self.path)?;
                let meta = file.metadata()?;
                self.finish_partial("rotated (renamed)");
                self.file = file;
                self.inode = (meta.dev(), meta.ino());
                self.pos = 0;
                self.head = self.read_head();
                tracing::info!(path = %self.path.display(), "log rotated (new file); reading it from the start");
                Ok(true)
            }
            Ok(_) => self.check_truncated(),
            // Renamed and not yet re-created: keep the old file.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Starts again at offset 0 if the file was truncated (it is shorter
    /// than what we read, or its first bytes changed); `true` if it was.
    fn check_truncated(&mut self) -> io::Result<bool> {
        let len = self.file.metadata()?.len();
        let head_changed =
            !self.head.is_empty() && self.read_head_of_len(self.head.len()) != self.head;
        if len >= self.pos && !head_changed {
            return Ok(false);
        }
        self.file.seek(SeekFrom::Start(0))?;
        self.finish_partial("truncated");
        self.pos = 0;
        self.head = self.read_head();
        tracing::info!(path = %self.path.display(), "log truncated (copytruncate); reading it from the start");
        Ok(true)
    }

    /// Drops a line left without its newline by a rotation.
    fn finish_partial(&mut self, why: &str) {
        let partial = self.buf.len() - self.start;
        if partial > 0 && !self.skipping {
            tracing::warn!(
                bytes = partial,
                "log {why} in the middle of a line; the partial line is dropped"
            );
        }
        self.buf.clear();
        self.start = 0;
        self.skipping = false;
    }

    fn read_head(&self) -> Vec<u8> {
        self.read_head_of_len(HEAD)
    }

    fn read_head_of_len(&self, len: usize) -> Vec<u8> {
        let mut head = vec![0; len];
        let mut got = 0;
        while got < len {
            match self.file.read_at(&mut head[got..], got as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        head.truncate(got);
        head
    }

    fn io_error(&self, source: io::Error) -> LineError {
        LineError::Io {
            line: self.line + 1,
            source,
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn append(path: &Path, lines: &[&str]) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
    }

    fn read_n(reader: &mut FollowReader, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| String::from_utf8(reader.next_line_blocking().unwrap().1.to_vec()).unwrap())
            .collect()
    }

    fn ready(reader: &mut FollowReader) -> bool {
        reader.ready().unwrap()
    }

    #[test]
    fn lines_appended_later_are_read_and_partial_lines_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        append(&path, &["a", "", "b"]);
        let mut reader = FollowReader::open(&path, Start::Beginning)
            .unwrap()
            .with_poll_interval(Duration::from_millis(5));
        assert_eq!(read_n(&mut reader, 2), ["a", "b"]);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"par").unwrap();
        assert!(!ready(&mut reader));
        file.write_all(b"tial\"}\n").unwrap();
        assert_eq!(read_n(&mut reader, 1), ["{\"partial\"}"]);
    }

    #[test]
    fn rename_and_create_reads_the_rest_of_the_old_file_then_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        append(&path, &["one-1", "one-2"]);
        let mut reader = FollowReader::open(&path, Start::Beginning)
            .unwrap()
            .with_poll_interval(Duration::from_millis(5));
        assert_eq!(read_n(&mut reader, 1), ["one-1"]);
        let old = dir.path().join("audit.log.1");
        std::fs::rename(&path, &old).unwrap();
        append(&old, &["one-3"]); // the writer still had the old file open
        assert!(ready(&mut reader));
        append(&path, &["two-1", "two-2"]);
        assert_eq!(read_n(&mut reader, 4), ["one-2", "one-3", "two-1", "two-2"]);
        assert!(!ready(&mut reader));
    }

    #[test]
    fn copytruncate_starts_again_at_the_beginning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        append(
            &path,
            &["first-1 with some length", "first-2 with some length"],
        );
        let mut reader = FollowReader::open(&path, Start::Beginning)
            .unwrap()
            .with_poll_interval(Duration::from_millis(5));
        assert_eq!(
            read_n(&mut reader, 2),
            ["first-1 with some length", "first-2 with some length"]
        );
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&path, &["second-1"]);
        assert_eq!(read_n(&mut reader, 1), ["second-1"]);
        assert!(!ready(&mut reader));
    }

    #[test]
    fn truncation_followed_by_more_data_than_before_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        append(&path, &["{\"auditID\":\"1\"}"]);
        let mut reader = FollowReader::open(&path, Start::Beginning)
            .unwrap()
            .with_poll_interval(Duration::from_millis(5));
        assert_eq!(read_n(&mut reader, 1), ["{\"auditID\":\"1\"}"]);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&path, &["{\"auditID\":\"2\"}", "{\"auditID\":\"3\"}"]);
        assert_eq!(
            read_n(&mut reader, 2),
            ["{\"auditID\":\"2\"}", "{\"auditID\":\"3\"}"]
        );
    }

    #[test]
    fn start_at_end_skips_existing_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        append(&path, &["old"]);
        let mut reader = FollowReader::open(&path, Start::End)
            .unwrap()
            .with_poll_interval(Duration::from_millis(5));
        append(&path, &["new"]);
        assert_eq!(read_n(&mut reader, 1), ["new"]);
    }

    #[test]
    fn start_at_end_in_the_middle_of_a_line_skips_its_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        append(&path, &["old"]);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"auditID\":\"half").unwrap();
        let mut reader = FollowReader::open(&path, Start::End)
            .unwrap()
            .with_poll_interval(Duration::from_millis(5));
        assert!(reader.offset() > 0);
        file.write_all(b"way\"}\n").unwrap();
        append(&path, &["new"]);
        assert_eq!(read_n(&mut reader, 1), ["new"]);
    }

    #[test]
    fn an_over_long_line_is_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        append(&path, &[&"x".repeat(100), "ok"]);
        let mut reader = FollowReader::open(&path, Start::Beginning)
            .unwrap()
            .with_poll_interval(Duration::from_millis(5))
            .with_max_line_len(10);
        assert!(matches!(
            reader.next_line_blocking(),
            Err(LineError::TooLong { .. })
        ));
        assert_eq!(read_n(&mut reader, 1), ["ok"]);
    }
}
