//! JSON text to [`Doc`] tape: one strict, non-recursive-in-data pass over the bytes.
//!
//! The grammar is RFC 8259, with two leniencies kept from Falco's parser (fastjson): raw
//! control characters inside strings are accepted, and nesting is limited to 300 levels
//! (fastjson's `MaxDepth`), which also bounds the recursion of this parser and of every
//! renderer. Strings are validated for escapes here so that unescaping later cannot fail.
//! Offsets in errors are byte offsets into the payload text.

use crate::tape::{Doc, ESCAPED, KEY_ESCAPED, Kind, Node, SPACED};
use crate::top::TopKeys;
use wide::u8x16;

/// Deepest nesting of arrays and objects accepted (fastjson's limit).
pub(crate) const MAX_DEPTH: u32 = 300;

/// Why a payload is not JSON, and where. Kept to 8 bytes so that every `Result` of the
/// parser's hot functions is returned in registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JsonError {
    /// Byte offset of the problem in the payload.
    pub(crate) offset: u32,
    pub(crate) reason: Reason,
}

/// What was wrong at the offset of a [`JsonError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    EndOfInput,
    TrailingCharacters,
    ExpectedValue,
    UnterminatedString,
    InvalidUnicodeEscape,
    InvalidEscape,
    InvalidNumber,
    TooDeep,
    ExpectedCommaOrBrace,
    ExpectedCommaOrBracket,
    ExpectedKey,
    ExpectedColon,
}

impl Reason {
    /// The message for users.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Reason::EndOfInput => "unexpected end of input",
            Reason::TrailingCharacters => "unexpected characters after the JSON value",
            Reason::ExpectedValue => "expected a value",
            Reason::UnterminatedString => "unterminated string",
            Reason::InvalidUnicodeEscape => "invalid \\u escape in string",
            Reason::InvalidEscape => "invalid escape in string",
            Reason::InvalidNumber => "invalid number",
            Reason::TooDeep => "nesting deeper than 300 levels",
            Reason::ExpectedCommaOrBrace => "expected ',' or '}'",
            Reason::ExpectedCommaOrBracket => "expected ',' or ']'",
            Reason::ExpectedKey => "expected a string key",
            Reason::ExpectedColon => "expected ':'",
        }
    }
}

/// Parse `text` (one JSON value, surrounding whitespace allowed) into a tape, with the
/// index of the root object's members (see [`crate::top`]; built here, in the same pass,
/// for the usual payload: one event per line). The text must be shorter than `u32::MAX`
/// bytes (the caller checks).
#[cfg(test)]
pub(crate) fn parse(text: String) -> Result<Doc, JsonError> {
    let mut doc = Doc {
        text,
        nodes: Vec::new(),
        top: TopKeys::EMPTY,
    };
    parse_into(&mut doc)?;
    Ok(doc)
}

/// Parse `doc.text` into `doc`'s tape and index (as `parse` does), reusing the tape's
/// storage: the decoder hands in the document of the previous payload once no event holds
/// it any more.
pub(crate) fn parse_into(doc: &mut Doc) -> Result<(), JsonError> {
    let mut nodes = std::mem::take(&mut doc.nodes);
    nodes.clear();
    // About one node per 17 bytes in audit events. Room for twice that saved no measurable
    // work (14,616 against 14,614 instructions per event) but doubled the tapes' memory,
    // which the server holds for every queued event (peak RSS at saturation 66 -> 86 MiB).
    nodes.reserve(doc.text.len() / 16 + 1);
    let mut parser = Parser {
        bytes: doc.text.as_bytes(),
        nodes,
        top: TopKeys::EMPTY,
        spaces: 0,
    };
    let parsed = parser.document();
    doc.nodes = parser.nodes;
    doc.top = parser.top;
    parsed
}

/// The parser's state between tokens. The position is not part of it: every step takes the
/// offset it starts at and returns the one after what it read, and reads the text through a
/// local copy of `bytes`. Kept in registers that way, the position and the text need not be
/// reloaded after each node is written (pushing through `nodes` may, as far as the compiler
/// knows, change any field of the parser).
struct Parser<'a> {
    bytes: &'a [u8],
    nodes: Vec<Node>,
    /// The index of the root object's members.
    top: TopKeys,
    /// How many runs of whitespace were skipped so far: a container whose text holds
    /// insignificant whitespace is one during which this changed (it cannot wrap around:
    /// runs are separated by other bytes, and payloads are under 4 GiB).
    spaces: u32,
}

/// The error for `reason` at `pos`; at or past the end of the text, always "unexpected end
/// of input".
fn error(bytes: &[u8], pos: usize, reason: Reason) -> JsonError {
    let reason = if pos >= bytes.len() {
        Reason::EndOfInput
    } else {
        reason
    };
    JsonError {
        // The caller checks that payloads are shorter than `u32::MAX` bytes.
        offset: u32::try_from(pos).unwrap_or(u32::MAX),
        reason,
    }
}

impl Parser<'_> {
    /// The whole text: one value between optional whitespace.
    fn document(&mut self) -> Result<(), JsonError> {
        let bytes = self.bytes;
        let pos = self.skip_ws(0);
        // The root object's members are indexed as they are parsed (see [`crate::top`]).
        let pos = if bytes.get(pos) == Some(&b'{') {
            self.container::<true, true>(pos, 0)?
        } else {
            self.value(pos, 0)?
        };
        let pos = self.skip_ws(pos);
        if pos < bytes.len() {
            return Err(error(bytes, pos, Reason::TrailingCharacters));
        }
        Ok(())
    }

    /// The offset after the JSON whitespace at `pos`, counting the run. Audit logs are
    /// compact, so the first byte usually decides.
    #[inline(always)]
    #[allow(
        clippy::inline_always,
        reason = "four calls per object member; three copies of the member loop"
    )]
    fn skip_ws(&mut self, mut pos: usize) -> usize {
        let bytes = self.bytes;
        if !matches!(bytes.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            return pos;
        }
        self.spaces = self.spaces.wrapping_add(1);
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(pos) {
            pos += 1;
        }
        pos
    }

    #[inline(always)]
    #[allow(clippy::inline_always, reason = "one call per value")]
    fn push(&mut self, kind: Kind, start: usize, end: usize, flags: u8) -> usize {
        self.push_keyed(kind, start, end, flags, (0, 0, 0))
    }

    /// [`Parser::push`] for an object member with its key.
    #[inline(always)]
    #[allow(clippy::inline_always, reason = "one call per value")]
    fn push_keyed(
        &mut self,
        kind: Kind,
        start: usize,
        end: usize,
        flags: u8,
        (key_start, key_end, key_flags): MemberKey,
    ) -> usize {
        let idx = self.nodes.len();
        self.nodes.push(Node {
            start: start as u32,
            end: end as u32,
            next: (idx + 1) as u32,
            key_start,
            key_end,
            kind,
            flags: flags | key_flags,
        });
        idx
    }

    /// Parse one value at `pos`; the offset after it.
    fn value(&mut self, pos: usize, depth: u32) -> Result<usize, JsonError> {
        let bytes = self.bytes;
        match bytes.get(pos) {
            Some(b'{') => self.container::<true, false>(pos, depth),
            Some(b'[') => self.container::<false, false>(pos, depth),
            Some(b'"') => self.string(pos),
            Some(b't') => self.literal(pos, "true", Kind::Bool),
            Some(b'f') => self.literal(pos, "false", Kind::Bool),
            Some(b'n') => self.literal(pos, "null", Kind::Null),
            Some(b'-' | b'0'..=b'9') => {
                let end = number(bytes, pos)?;
                self.push(Kind::Number, pos, end, 0);
                Ok(end)
            }
            _ => Err(error(bytes, pos, Reason::ExpectedValue)),
        }
    }

    fn literal(&mut self, pos: usize, word: &'static str, kind: Kind) -> Result<usize, JsonError> {
        let end = pos + word.len();
        if self.bytes.get(pos..end) == Some(word.as_bytes()) {
            self.push(kind, pos, end, 0);
            Ok(end)
        } else {
            Err(error(self.bytes, pos, Reason::ExpectedValue))
        }
    }

    /// Scan the string whose opening quote is at `pos` and push its node; the offset after
    /// its closing quote.
    #[inline(always)]
    #[allow(clippy::inline_always, reason = "as `scan_string`")]
    fn string(&mut self, pos: usize) -> Result<usize, JsonError> {
        let (end, flags) = scan_string(self.bytes, pos)?;
        self.push(Kind::String, pos, end, flags);
        Ok(end)
    }

    /// Parse the object (`OBJECT`) or array whose opening bracket is at `pos`; the offset
    /// after it. `ROOT`: the object is the payload itself, whose members are indexed. One
    /// copy per case, so that the member loop tests neither (the tests cost 2% of the
    /// instructions, and mispredicted often).
    fn container<const OBJECT: bool, const ROOT: bool>(
        &mut self,
        pos: usize,
        depth: u32,
    ) -> Result<usize, JsonError> {
        let bytes = self.bytes;
        if depth >= MAX_DEPTH {
            return Err(error(bytes, pos, Reason::TooDeep));
        }
        let (kind, close, expected) = if OBJECT {
            (Kind::Object, b'}', Reason::ExpectedCommaOrBrace)
        } else {
            (Kind::Array, b']', Reason::ExpectedCommaOrBracket)
        };
        let idx = self.push(kind, pos, pos, 0);
        let runs_before = self.spaces;
        let mut pos = self.skip_ws(pos + 1);
        if bytes.get(pos) == Some(&close) {
            pos += 1;
        } else {
            loop {
                let value = self.nodes.len();
                let key = if OBJECT {
                    let (key, after) = self.key(pos)?;
                    pos = after;
                    if ROOT {
                        self.record_root_member(key, value);
                    }
                    key
                } else {
                    (0, 0, 0)
                };
                // Most values of an audit event are strings: parse those here rather than
                // through `value` (one call less per string), and write their key with them.
                if bytes.get(pos) == Some(&b'"') {
                    let (end, flags) = scan_string(bytes, pos)?;
                    self.push_keyed(Kind::String, pos, end, flags, key);
                    pos = end;
                } else {
                    pos = self.value(pos, depth + 1)?;
                    if OBJECT {
                        if let Some(node) = self.nodes.get_mut(value) {
                            (node.key_start, node.key_end) = (key.0, key.1);
                            node.flags |= key.2;
                        }
                    }
                }
                pos = self.skip_ws(pos);
                match bytes.get(pos) {
                    Some(b',') => pos = self.skip_ws(pos + 1),
                    Some(&c) if c == close => {
                        pos += 1;
                        break;
                    }
                    _ => return Err(error(bytes, pos, expected)),
                }
            }
        }
        let (end, next) = (pos as u32, self.nodes.len() as u32);
        let spaced = self.spaces != runs_before;
        if let Some(node) = self.nodes.get_mut(idx) {
            node.end = end;
            node.next = next;
            if spaced {
                node.flags |= SPACED;
            }
        }
        Ok(pos)
    }

    /// Index a member of the root object: its key and the tape index its value will have.
    fn record_root_member(&mut self, (start, end, escaped): MemberKey, value: usize) {
        let (start, end) = (start as usize + 1, (end as usize).saturating_sub(1));
        let inner = self.bytes.get(start..end.max(start)).unwrap_or_default();
        let value = u32::try_from(value).unwrap_or(u32::MAX);
        self.top.record(inner, escaped != 0, value);
    }

    /// Parse an object key at `pos` and its colon: the key, and the offset after the colon
    /// and any whitespace. Inlined into its one caller, the member loop.
    #[inline(always)]
    #[allow(clippy::inline_always, reason = "one call site, on every member")]
    fn key(&mut self, pos: usize) -> Result<(MemberKey, usize), JsonError> {
        let bytes = self.bytes;
        if bytes.get(pos) != Some(&b'"') {
            return Err(error(bytes, pos, Reason::ExpectedKey));
        }
        let (end, flags) = scan_string(bytes, pos)?;
        let key = (
            pos as u32,
            end as u32,
            if flags == 0 { 0 } else { KEY_ESCAPED },
        );
        let pos = self.skip_ws(end);
        if bytes.get(pos) != Some(&b':') {
            return Err(error(bytes, pos, Reason::ExpectedColon));
        }
        Ok((key, self.skip_ws(pos + 1)))
    }
}

/// An object member's key as the member loop keeps it: the span of the string (quotes
/// included) and [`KEY_ESCAPED`] if it has escapes.
type MemberKey = (u32, u32, u8);

/// Scan the string whose opening quote is at `pos`: the offset after its closing quote, and
/// [`ESCAPED`] if it has escapes (validated). Always inlined: it runs for every key and most
/// values, and the call cost was 7% of the parser's work.
#[inline(always)]
#[allow(
    clippy::inline_always,
    reason = "measured: -2.5% instructions per event"
)]
fn scan_string(bytes: &[u8], pos: usize) -> Result<(usize, u8), JsonError> {
    let mut at = pos + 1;
    let mut flags = 0;
    loop {
        let Some(found) = quote_or_backslash(bytes, at) else {
            return Err(error(bytes, bytes.len(), Reason::UnterminatedString));
        };
        if bytes.get(found) == Some(&b'"') {
            return Ok((found + 1, flags));
        }
        flags |= ESCAPED;
        at = escape(bytes, found)?;
    }
}

/// The offset after the escape sequence whose backslash is at `at`, validated.
fn escape(bytes: &[u8], at: usize) -> Result<usize, JsonError> {
    match bytes.get(at + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 2),
        Some(b'u') => {
            let hex = bytes.get(at + 2..at + 6);
            if hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                Ok(at + 6)
            } else {
                Err(error(bytes, at, Reason::InvalidUnicodeEscape))
            }
        }
        Some(_) => Err(error(bytes, at, Reason::InvalidEscape)),
        None => Err(error(bytes, bytes.len(), Reason::UnterminatedString)),
    }
}

/// The offset after the digits at `pos`.
fn digits(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    pos
}

/// The offset after the number at `pos`, validated.
fn number(bytes: &[u8], mut pos: usize) -> Result<usize, JsonError> {
    if bytes.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match bytes.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits(bytes, pos),
        _ => return Err(error(bytes, pos, Reason::InvalidNumber)),
    }
    if bytes.get(pos) == Some(&b'.') {
        let end = digits(bytes, pos + 1);
        if end == pos + 1 {
            return Err(error(bytes, end, Reason::InvalidNumber));
        }
        pos = end;
    }
    if let Some(b'e' | b'E') = bytes.get(pos) {
        pos += 1;
        if let Some(b'+' | b'-') = bytes.get(pos) {
            pos += 1;
        }
        let end = digits(bytes, pos);
        if end == pos {
            return Err(error(bytes, end, Reason::InvalidNumber));
        }
        pos = end;
    }
    Ok(pos)
}

/// The first `"` or `\\` at or after `from`, sixteen bytes at a time (`wide`: SSE2 on
/// x86-64, NEON on aarch64, plain code elsewhere). Most strings of an audit event are
/// shorter than 16 bytes, so one compare usually finds the end; near the end of the text
/// the last 16 bytes are loaded instead and the bytes before `from` masked off. Strings
/// longer than 64 bytes go on with `memchr2`, which is faster on long runs.
/// (docs/performance.md: 18,364 to 16,689 instructions per event.)
fn quote_or_backslash(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    for _ in 0..4 {
        let Some(block) = block16(bytes, at) else {
            break;
        };
        let mask = special_mask(block);
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    if at + 16 <= bytes.len() {
        return memchr::memchr2(b'"', b'\\', bytes.get(at..)?).map(|i| at + i);
    }
    // Fewer than 16 bytes left: search the text's last 16, ignoring those before `at`.
    let Some(base) = bytes.len().checked_sub(16) else {
        let rest = bytes.get(at..)?;
        return rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\')
            .map(|i| at + i);
    };
    let mask = special_mask(block16(bytes, base)?) >> (at.checked_sub(base)?);
    (mask != 0).then(|| at + mask.trailing_zeros() as usize)
}

/// The 16 bytes at `at`, if there are that many.
#[inline]
fn block16(bytes: &[u8], at: usize) -> Option<[u8; 16]> {
    bytes.get(at..at + 16)?.try_into().ok()
}

/// One bit per byte of `block` (lowest bit first) that is `"` or `\\`.
#[inline]
fn special_mask(block: [u8; 16]) -> u32 {
    let v = u8x16::new(block);
    let found = v.cmp_eq(u8x16::splat(b'"')) | v.cmp_eq(u8x16::splat(b'\\'));
    // 16 bits in a non-negative i32.
    found.move_mask().unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> JsonError {
        parse(text.to_owned()).unwrap_err()
    }

    #[test]
    fn valid_documents_build_a_tape_in_document_order() {
        let doc = parse(r#" {"a": [1, -2.5e+3, true, null], "b": {}} "#.to_owned()).unwrap();
        let kinds: Vec<Kind> = doc.nodes.iter().map(|n| n.kind).collect();
        let expected = [
            Kind::Object,
            Kind::Array,
            Kind::Number,
            Kind::Number,
            Kind::Bool,
            Kind::Null,
            Kind::Object,
        ];
        assert_eq!(kinds, expected);
        let root = doc.node(0).unwrap();
        let keys: Vec<_> = root.members().map(|(k, v)| (k.text(), v.index())).collect();
        assert_eq!(keys, [("a".into(), 1), ("b".into(), 6)]);
        assert_eq!(root.compact(), r#"{"a":[1,-2.5e+3,true,null],"b":{}}"#);
    }

    #[test]
    fn errors_name_the_byte_and_the_reason() {
        assert_eq!(
            err(r#"{"a" 1}"#),
            JsonError {
                offset: 5,
                reason: Reason::ExpectedColon
            }
        );
        assert_eq!(err(r#"{"a":1"#).reason.text(), "unexpected end of input");
        assert_eq!(err(r#"{"a":01}"#).reason.text(), "expected ',' or '}'");
        assert_eq!(err("[1,]").reason.text(), "expected a value");
        assert_eq!(err(r#""\x""#).reason.text(), "invalid escape in string");
        assert_eq!(
            err(r#""\u12""#).reason.text(),
            "invalid \\u escape in string"
        );
        assert_eq!(
            err("1 2").reason.text(),
            "unexpected characters after the JSON value"
        );
        assert_eq!(err("").reason.text(), "unexpected end of input");
        assert_eq!(err("-").reason.text(), "unexpected end of input");
        assert_eq!(err("1.e5").reason.text(), "invalid number");
        assert_eq!(err("tru").reason.text(), "expected a value");
    }

    #[test]
    fn nesting_is_limited_to_300_levels() {
        let ok = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(parse(ok).is_ok());
        let deep = format!("{}{}", "[".repeat(301), "]".repeat(301));
        assert_eq!(
            parse(deep).unwrap_err().reason.text(),
            "nesting deeper than 300 levels"
        );
    }

    #[test]
    fn quote_or_backslash_finds_the_first_one_at_every_position() {
        for len in 0..80 {
            for at in 0..len {
                for special in [b'"', b'\\'] {
                    let mut bytes = vec![b'a'; len];
                    // Bytes next to the searched ones must not be mistaken for them.
                    bytes.iter_mut().enumerate().for_each(|(i, b)| {
                        *b = [b'!', b'#', b'[', b']', 0x80, 0xff, b'a'][i % 7];
                    });
                    bytes[at] = special;
                    if at + 1 < len {
                        bytes[at + 1] = b'"';
                    }
                    for from in 0..=at {
                        assert_eq!(
                            quote_or_backslash(&bytes, from),
                            Some(at),
                            "{len} {at} {from}"
                        );
                    }
                    assert_eq!(
                        quote_or_backslash(&bytes, at + 2),
                        bytes
                            .get(at + 2..)
                            .and_then(|r| r.iter().position(|&b| b == b'"' || b == b'\\'))
                            .map(|p| p + at + 2)
                    );
                }
            }
            let plain = vec![b'x'; len];
            assert_eq!(quote_or_backslash(&plain, 0), None);
        }
    }

    #[test]
    fn raw_control_characters_in_strings_are_accepted_like_fastjson() {
        assert!(parse("\"a\tb\"".to_owned()).is_ok());
    }
}
