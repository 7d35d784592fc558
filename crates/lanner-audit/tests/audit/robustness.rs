//! No input makes decoding or extraction panic: every prefix of real events, byte flips,
//! and pseudo-random bytes go through `decode_payload`, and every field is extracted from
//! whatever decodes.

use lanner_audit::{ArgKind, FieldId, decode_payload, extract, fields, parse_arg};

use crate::common::fixture_text;

/// Decode `bytes` and extract every field from every event; nothing may panic.
fn exercise(bytes: &[u8]) {
    let Ok(events) = decode_payload(bytes, 1) else {
        return;
    };
    for event in events.into_iter().flatten() {
        let _ = event.json();
        for (i, f) in fields().iter().enumerate() {
            let id = FieldId(u16::try_from(i).unwrap());
            let raw = match f.arg {
                ArgKind::None => None,
                ArgKind::Index => Some("1"),
                ArgKind::Key => Some("a*"),
                ArgKind::JsonPointer => Some("/requestObject/spec/containers/0"),
            };
            let arg = parse_arg(id, raw).unwrap();
            let _ = extract(&event, id, arg.as_ref());
            let _ = extract(&event, id, None);
        }
    }
}

#[test]
fn every_prefix_of_real_events_is_handled_without_panic() {
    for name in ["pod", "ephemeral", "configmap", "exec"] {
        let text = fixture_text(name).as_bytes();
        for end in 0..=text.len() {
            exercise(&text[..end]);
        }
    }
}

#[test]
fn flipped_bytes_are_handled_without_panic() {
    let text = fixture_text("pod").as_bytes();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..2000 {
        let mut bytes = text.to_vec();
        for _ in 0..3 {
            let at = usize::try_from(next() % bytes.len() as u64).unwrap();
            let pool = b"{}[]\",:\\0 aZ\xff";
            bytes[at] = pool[usize::try_from(next() % pool.len() as u64).unwrap()];
        }
        exercise(&bytes);
    }
    for len in 0..200 {
        let bytes: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
        exercise(&bytes);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(decode_payload(deep.as_bytes(), 1).is_err());
    let ok = format!("{}{}", "[".repeat(299), "]".repeat(299));
    assert_eq!(decode_payload(ok.as_bytes(), 1).unwrap().len(), 0);
}
