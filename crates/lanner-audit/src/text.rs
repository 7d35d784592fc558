//! Turning validated JSON source text into the strings fields return.
//!
//! Three operations, all over text that [`crate::parse`] already accepted: unescape a string
//! body, drop insignificant whitespace (fastjson's `MarshalTo` output keeps string escapes and
//! number spellings, so compacting the source is exactly that), and indent like Go's
//! `json.Indent(data, "", "  ")` (what the json plugin's `jevt.obj` returns).

/// Unescape the body of a JSON string (without its quotes). Lone UTF-16 surrogates become
/// U+FFFD. Malformed escapes cannot reach here (the parser rejects them); if one did, it would
/// be copied through unchanged.
pub(crate) fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(rest.get(..at).unwrap_or(""));
        rest = rest.get(at..).unwrap_or("");
        rest = unescape_one(rest, &mut out);
    }
    out.push_str(rest);
    out
}

/// Decode the escape at the start of `s` (a backslash) into `out`; return what follows.
fn unescape_one<'a>(s: &'a str, out: &mut String) -> &'a str {
    let simple = match s.as_bytes().get(1) {
        Some(b'"') => Some('"'),
        Some(b'\\') => Some('\\'),
        Some(b'/') => Some('/'),
        Some(b'b') => Some('\u{8}'),
        Some(b'f') => Some('\u{c}'),
        Some(b'n') => Some('\n'),
        Some(b'r') => Some('\r'),
        Some(b't') => Some('\t'),
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return s.get(2..).unwrap_or("");
    }
    let Some(first) = hex4(s) else {
        out.push('\\');
        return s.get(1..).unwrap_or("");
    };
    let after = s.get(6..).unwrap_or("");
    if (0xD800..0xDC00).contains(&first) {
        if let Some(second) = hex4(after).filter(|c| (0xDC00..0xE000).contains(c)) {
            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            return after.get(6..).unwrap_or("");
        }
    }
    out.push(char::from_u32(first).unwrap_or('\u{FFFD}'));
    after
}

/// The code unit of a `\uXXXX` escape at the start of `s`.
fn hex4(s: &str) -> Option<u32> {
    let hex = s.strip_prefix("\\u")?.get(..4)?;
    u32::from_str_radix(hex, 16).ok()
}

/// Call `each` with every byte of `json` outside strings that is not whitespace, and with
/// whole string tokens (quotes included) as `Err(token)`.
fn tokens(json: &str, mut each: impl FnMut(Result<u8, &str>)) {
    let bytes = json.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'"' => {
                let end = string_end(bytes, i);
                each(Err(json.get(i..end).unwrap_or("")));
                i = end;
            }
            _ => {
                each(Ok(b));
                i += 1;
            }
        }
    }
}

/// Index one past the closing quote of the string token opening at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `json` without insignificant whitespace.
pub(crate) fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    tokens(json, |t| match t {
        Ok(b) => out.push(char::from(b)),
        Err(s) => out.push_str(s),
    });
    out
}

/// `json` indented with two spaces per level, as Go's `json.Indent(dst, json, "", "  ")`
/// prints a compact document: empty containers stay `{}` / `[]`, `": "` after keys, no
/// trailing newline.
pub(crate) fn indent(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut need_indent = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    tokens(json, |t| {
        let c = t.ok();
        if need_indent && !matches!(c, Some(b']' | b'}')) {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match t {
            Err(s) => out.push_str(s),
            Ok(b @ (b'{' | b'[')) => {
                need_indent = true;
                out.push(char::from(b));
            }
            Ok(b',') => {
                out.push(',');
                newline(&mut out, depth);
            }
            Ok(b':') => out.push_str(": "),
            Ok(b @ (b'}' | b']')) => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(char::from(b));
            }
            Ok(b) => out.push(char::from(b)),
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_handles_every_escape_and_surrogate_pairs() {
        assert_eq!(
            unescape(r#"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"#),
            "a\"b\\c/d\u{8}\u{c}\n\r\té😀"
        );
        assert_eq!(unescape(r"\ud800x"), "\u{FFFD}x");
        assert_eq!(unescape(r"\udc00"), "\u{FFFD}");
    }

    #[test]
    fn compact_keeps_strings_and_drops_whitespace() {
        assert_eq!(
            compact("{ \"a b\" : [ 1 , \"x\\\" y\" ] }"),
            r#"{"a b":[1,"x\" y"]}"#
        );
    }

    #[test]
    fn indent_matches_go_json_indent() {
        assert_eq!(
            indent(r#"{"a":[],"b":{},"c":[1,{"d":"x,y"}]}"#),
            "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    {\n      \"d\": \"x,y\"\n    }\n  ]\n}"
        );
        assert_eq!(indent("5"), "5");
    }
}
