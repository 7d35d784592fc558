//! Helpers: run the real binary, find the shared Falco corpus.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/falco`, or `None` (after saying so) when it is absent.
pub fn falco_dir(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/falco");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("{test}: skipped: ../shared/falco is absent");
        None
    }
}

/// Runs `lanner` with `args` and optional stdin.
pub fn lanner(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lanner"))
        .args(args)
        .current_dir(root())
        .env("LANNER_HOSTNAME", "test-host")
        .env("TZ", "UTC")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lanner starts");
    // Stdin is fed from another thread while this one collects stdout and stderr: written
    // first, a large input deadlocks as soon as lanner's output fills its pipe before it
    // has read all of its input (as it does with small batches and several workers).
    std::thread::scope(|scope| {
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            scope.spawn(move || pipe.write_all(input).expect("write stdin"));
        }
        child.wait_with_output().expect("lanner runs")
    })
}

/// Stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
