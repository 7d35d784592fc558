//! The `getopt(args, optstring)` transformer: a command line parsed as POSIX `getopt` does,
//! with the choices of Falco's implementation (libs 0.25,
//! `sinsp_filtercheck_multivalue_transformer.cpp`):
//!
//! * the option string lists option characters (any byte but `:`); `x:` takes an argument,
//!   a second `:` or a leading `:` changes nothing;
//! * parsing stops at `--`, at `-`, at an empty argument and at the first argument that is
//!   not an option (no reordering); `--long` options are skipped;
//! * `-abc` is three options; an option that takes an argument takes the rest of its word
//!   (`-p8080`) or else the next argument, whatever it is;
//! * an unknown option gives `?` and never takes an argument; a missing argument gives an
//!   empty text in place of the option.
//!
//! Without a selected option the result is the list of option characters, each followed by
//! its argument if it takes one (possibly empty: that is still a value). With `[c]`, the
//! argument of the last `-c` (`c` itself if it takes none); not available if there is none.

use std::borrow::Cow;

use lanner_audit::Value;

/// What the option string says of one byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unknown,
    Flag,
    WithArgument,
}

/// Parses `args` with `optstring`; see the module documentation.
pub(crate) fn getopt<'e>(
    args: &[String],
    optstring: &[u8],
    select: Option<u8>,
) -> Option<Value<'e>> {
    let mut kinds = [Kind::Unknown; 256];
    let mut i = usize::from(optstring.first() == Some(&b':'));
    while let Some(&c) = optstring.get(i) {
        if c == b':' {
            i += 1;
            continue;
        }
        let with_argument = optstring.get(i + 1) == Some(&b':');
        kinds[usize::from(c)] = if with_argument {
            Kind::WithArgument
        } else {
            Kind::Flag
        };
        i += if with_argument { 2 } else { 1 };
    }

    let mut list: Vec<Cow<'e, str>> = Vec::new();
    let mut selected: Option<String> = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let bytes = word.as_bytes();
        if bytes == b"--" {
            break;
        }
        if bytes.len() > 2 && bytes.starts_with(b"--") {
            continue;
        }
        if bytes.len() < 2 || bytes[0] != b'-' {
            break;
        }
        for (j, &c) in bytes.iter().enumerate().skip(1) {
            match kinds[usize::from(c)] {
                Kind::Unknown => {
                    if select.is_none() {
                        list.push(Cow::Borrowed("?"));
                    }
                }
                Kind::Flag => {
                    let option = text(&[c]);
                    if select == Some(c) {
                        selected = Some(option.clone());
                    }
                    if select.is_none() {
                        list.push(Cow::Owned(option));
                    }
                }
                Kind::WithArgument => {
                    let rest = bytes.get(j + 1..).unwrap_or_default();
                    let argument = if rest.is_empty() {
                        words.next().map(String::as_bytes)
                    } else {
                        Some(rest)
                    };
                    let value = argument.map(text);
                    if select == Some(c) {
                        selected = Some(value.clone().unwrap_or_default());
                    }
                    if select.is_none() {
                        match value {
                            Some(value) => {
                                list.push(Cow::Owned(text(&[c])));
                                list.push(Cow::Owned(value));
                            }
                            None => list.push(Cow::Borrowed("")),
                        }
                    }
                    // The argument ends the word.
                    break;
                }
            }
        }
    }
    match select {
        Some(_) => selected.map(|s| Value::Str(Cow::Owned(s))),
        None => Some(Value::List(list)),
    }
}

/// Bytes of an argument as text (an option character may be one byte of a longer UTF-8
/// sequence).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(args: &[&str], optstring: &str) -> Vec<String> {
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        match getopt(&args, optstring.as_bytes(), None) {
            Some(Value::List(items)) => items.into_iter().map(Cow::into_owned).collect(),
            other => panic!("expected a list, got {other:?}"),
        }
    }

    fn select(args: &[&str], optstring: &str, c: u8) -> Option<String> {
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        getopt(&args, optstring.as_bytes(), Some(c)).map(|v| match v {
            Value::Str(s) => s.into_owned(),
            other => panic!("expected a string, got {other:?}"),
        })
    }

    /// The cases of libs' `filter_transformer.ut.cpp` (getopt), one per line.
    #[test]
    fn parses_as_falco_does() {
        let cases: &[(&[&str], &str, &[&str])] = &[
            (&["-nt", "hello"], "nt:", &["n", "t", "hello"]),
            (&["-lpe", "/bin/sh"], "lp:e:", &["l", "p", "e"]),
            (&["-lpe", "/bin/sh"], "lpe:", &["l", "p", "e", "/bin/sh"]),
            (&["-n", "--", "-t"], "nt:", &["n"]),
            (&["-x", "-n"], "n", &["?", "n"]),
            (&["-nx"], "n", &["n", "?"]),
            (&["-t"], "t:", &[""]),
            (&["-t"], ":t:", &[""]),
            (&["--exec", "-n"], "n", &["n"]),
            (&["--exec"], "e:", &[]),
            (&["--", "-n"], "n", &[]),
            (&["arg1", "-n", "arg2"], "n", &[]),
            (&["-"], "n", &[]),
            (&[""], "n", &[]),
            (&["-", "-n"], "n", &[]),
            (&["-n", "file", "-t"], "nt", &["n"]),
            (
                &["-f", "another_file", "regular_file"],
                "f:",
                &["f", "another_file"],
            ),
            (&["-t", ""], "t:", &["t", ""]),
            (&["-t", "-123"], "t:", &["t", "-123"]),
            (&["-p8080"], "p:", &["p", "8080"]),
            (&["-a1b2c3"], "a1b2c3", &["a", "1", "b", "2", "c", "3"]),
            (
                &["-xzf", "file.tar.gz"],
                "xzf:",
                &["x", "z", "f", "file.tar.gz"],
            ),
            (&["-@", "-+"], "@+", &["@", "+"]),
            (&["-n", "-t"], "", &["?", "?"]),
            (&["-t", "v1", "-t", "v2"], "t:", &["t", "v1", "t", "v2"]),
            (&["-a::"], "a::", &["a", "::"]),
        ];
        for (args, optstring, expected) in cases {
            assert_eq!(
                list(args, optstring),
                *expected,
                "{args:?} with {optstring:?}"
            );
        }
    }

    #[test]
    fn a_selected_option_gives_its_last_argument() {
        let args = ["-n", "-t", "hello"];
        assert_eq!(select(&args, "nt:", b't').as_deref(), Some("hello"));
        assert_eq!(select(&args, "nt:", b'n').as_deref(), Some("n"));
        assert_eq!(
            select(&["-t", "v1", "-t", "v2"], "t:", b't').as_deref(),
            Some("v2")
        );
        assert_eq!(select(&["-t?"], "t:", b't').as_deref(), Some("?"));
        assert_eq!(select(&["-t:"], ":t:", b't').as_deref(), Some(":"));
        assert_eq!(select(&["-t"], "t:", b't').as_deref(), Some(""));
        assert_eq!(select(&["-t", "v1", "-t"], "t:", b't').as_deref(), Some(""));
        // Absent, unknown, or after the end of the options: not available.
        assert_eq!(select(&["-n"], "nt:", b't'), None);
        assert_eq!(select(&["-x"], "n", b'x'), None);
        assert_eq!(select(&["file", "-n"], "n", b'n'), None);
        assert_eq!(select(&["-n"], "n", b':'), None);
    }

    #[test]
    fn non_ascii_arguments_do_not_panic() {
        let out = list(&["-é", "-p", "ü"], "p:");
        assert_eq!(out, ["?", "?", "p", "ü"]);
        // Option characters are bytes (Falco's are too); a byte of a longer UTF-8
        // sequence shows as U+FFFD.
        let out = list(&["-é"], "\u{e9}");
        assert_eq!(out, ["\u{fffd}", "\u{fffd}"]);
        // `é:` is the flag 0xC3 and the option 0xA9 with an argument.
        let out = list(&["-éx"], "\u{e9}:");
        assert_eq!(out, ["\u{fffd}", "\u{fffd}", "x"]);
    }
}
