//! JSON text for alerts, written directly: the bytes `serde_json` writes (compact, strings
//! escaped the same way), without its byte-at-a-time string escaping, which was the
//! largest cost of a match-heavy run (about 6,700 instructions per alert). Strings are
//! searched sixteen bytes at a time for the bytes that need escaping and copied in runs.

use wide::u8x16;

/// Appends `s` as a JSON string, escaped exactly as `serde_json` escapes it: `"` and `\`
/// with a backslash, `\b \f \n \r \t` by name, other control characters as `\u00xx`, and
/// nothing else (not `/`, not DEL, not non-ASCII).
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut run = 0;
    let mut at = 0;
    while let Some(found) = next_special(bytes, at) {
        out.push_str(s.get(run..found).unwrap_or_default());
        let b = bytes.get(found).copied().unwrap_or_default();
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        at = found + 1;
        run = at;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

/// The first byte at or after `from` that a JSON string must escape (`"`, `\`, or below
/// 0x20). Every such byte is ASCII, so the runs between them are whole UTF-8 sequences.
fn next_special(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(block) = bytes
        .get(at..at + 16)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
    {
        let v = u8x16::new(block);
        // `min(v, 0x1f) == v` marks the bytes up to 0x1f (SSE2 has no unsigned compare).
        let low = v.min(u8x16::splat(0x1f)).cmp_eq(v);
        let mask = (low | v.cmp_eq(u8x16::splat(b'"')) | v.cmp_eq(u8x16::splat(b'\\')))
            .move_mask()
            .unsigned_abs();
        if mask != 0 {
            return Some(at + mask.trailing_zeros() as usize);
        }
        at += 16;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::push_str;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, s);
        out
    }

    #[test]
    fn every_ascii_byte_is_escaped_as_serde_json_does() {
        for b in 0u8..=0x7f {
            let s = String::from(char::from(b));
            assert_eq!(
                escaped(&s),
                serde_json::to_string(&s).unwrap(),
                "byte {b:#x}"
            );
        }
    }

    #[test]
    fn specials_at_every_position_of_long_strings_match_serde_json() {
        for len in 0..70 {
            for at in 0..len {
                for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}"] {
                    let mut s: String = "aé/\u{7f}z".chars().cycle().take(len).collect();
                    let cut = s.char_indices().nth(at).map_or(s.len(), |(i, _)| i);
                    s.insert_str(cut, special);
                    assert_eq!(escaped(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
    }
}
