//! A per-event index of the event object's top-level members, built once at decode time.
//!
//! Every `ka.*` field first checks `auditID` (the plugin's gate) and then starts its path at
//! a top-level member (`requestObject`, `objectRef`, `user`...). An event object has 15-20
//! members, so a linear scan per lookup cost about 15% of `lanner run` in a profile
//! (`NodeRef::get`). Decoding records where the keys that fields read are: while parsing for
//! a payload that is one event ([`TopKeys::record`], the usual case of a log line), in one
//! pass over the members for events inside an `EventList` or an array ([`TopKeys::new`]).
//! Lookups of those keys are then a `match` and an array read.
//! Keys not listed fall back to the scan, so the answer is always the scan's (first member
//! of that name wins, escaped keys match their unescaped form).
//!
//! Measured (docs/performance.md, Falco's rules, benign corpus): `NodeRef::get` went from
//! 15.2% to 1.5% of the profile, for 4.3% spent here; criterion `evaluate/benign` went from
//! 182-200k to 226-248k events/s.

use crate::tape::{Doc, NodeRef};

/// "No such member", in a slot.
const ABSENT: u32 = u32::MAX;

/// How many keys are indexed (see [`position`]).
const KEYS: usize = 16;

/// The slot of `auditID`, which every `ka.*` field checks (the plugin's gate).
pub(crate) const AUDIT_ID: usize = 0;

/// The slot of a top-level key fields read, if it is indexed.
pub(crate) fn position(key: &str) -> Option<usize> {
    position_bytes(key.as_bytes())
}

/// [`position`] over the key's bytes. It runs for every member of every event, so it
/// dispatches on length and first byte, then compares one candidate of known length (which
/// compiles to a few word compares instead of a `memcmp` call). Inlined into
/// [`TopKeys::record`], which runs for every member of the event.
#[inline(always)]
#[allow(
    clippy::inline_always,
    reason = "a call per member of every event: the call cost as much as the match"
)]
fn position_bytes(key: &[u8]) -> Option<usize> {
    fn is<const N: usize>(key: &[u8], name: &[u8; N]) -> bool {
        <[u8; N]>::try_from(key).is_ok_and(|key| key == *name)
    }
    match (key.len(), key.first()) {
        (7, Some(b'a')) => is(key, b"auditID").then_some(0),
        (4, Some(b'k')) => is(key, b"kind").then_some(1),
        (14, Some(b's')) => is(key, b"stageTimestamp").then_some(2),
        (4, Some(b'v')) => is(key, b"verb").then_some(3),
        (4, Some(b'u')) => is(key, b"user").then_some(4),
        (16, Some(b'i')) => is(key, b"impersonatedUser").then_some(5),
        (9, Some(b'o')) => is(key, b"objectRef").then_some(6),
        (10, Some(b'r')) => is(key, b"requestURI").then_some(7),
        (9, Some(b's')) => is(key, b"sourceIPs").then_some(8),
        (9, Some(b'u')) => is(key, b"userAgent").then_some(9),
        (14, Some(b'r')) if key.get(8) == Some(&b'S') => is(key, b"responseStatus").then_some(10),
        (13, Some(b'r')) => is(key, b"requestObject").then_some(11),
        (14, Some(b'r')) => is(key, b"responseObject").then_some(12),
        (11, Some(b'a')) => is(key, b"annotations").then_some(13),
        (5, Some(b's')) => is(key, b"stage").then_some(14),
        (5, Some(b'i')) => is(key, b"items").then_some(15),
        _ => None,
    }
}

/// The slot of an object key given by its text between the quotes, still escaped if
/// `escaped`.
#[inline]
fn key_slot(inner: &[u8], escaped: bool) -> Option<usize> {
    if !escaped {
        return position_bytes(inner);
    }
    escaped_key_slot(inner)
}

/// [`key_slot`] of an escaped key: rare, and out of line so that the common path of
/// [`TopKeys::record`] needs no stack frame.
#[cold]
#[inline(never)]
fn escaped_key_slot(inner: &[u8]) -> Option<usize> {
    let inner = std::str::from_utf8(inner).ok()?;
    position(&crate::text::unescape(inner))
}

/// Where the indexed members of one object are (tape indexes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TopKeys([u32; KEYS]);

impl TopKeys {
    /// The index of an object without members.
    pub(crate) const EMPTY: TopKeys = TopKeys([ABSENT; KEYS]);

    /// Record a member while its object is being parsed: its key's text between the quotes
    /// (`escaped` if it has escapes) and the tape index its value will have. The first
    /// member of a name wins, as in [`TopKeys::new`]. Runs for every member of every event
    /// object, hence inlined into the parser's member loop.
    #[inline(always)]
    #[allow(
        clippy::inline_always,
        reason = "runs for every member of every event; left to itself the compiler stopped inlining it into the parser (-0.4% instructions)"
    )]
    pub(crate) fn record(&mut self, inner: &[u8], escaped: bool, value: u32) {
        if let Some(slot) = key_slot(inner, escaped).and_then(|at| self.0.get_mut(at)) {
            if *slot == ABSENT {
                *slot = value;
            }
        }
    }

    /// Index the members of `object` (nothing for other kinds: every lookup then falls
    /// through to [`NodeRef::get`], which gives the same answers).
    pub(crate) fn new(object: NodeRef<'_>) -> TopKeys {
        let mut top = TopKeys::EMPTY;
        for (key, value) in object.members() {
            match key.unescaped_bytes() {
                Some(bytes) => top.record(bytes, false, value.index()),
                None => top.record(key.text().as_bytes(), false, value.index()),
            }
        }
        top
    }

    /// The member of slot `slot` (from [`position`]) of the object this index was built for,
    /// in `doc`; `None` when the object has no such member.
    pub(crate) fn member<'d>(&self, doc: &'d Doc, slot: usize) -> Option<NodeRef<'d>> {
        match self.0.get(slot) {
            Some(&ABSENT) | None => None,
            Some(&idx) => doc.node(idx),
        }
    }

    /// `object.get(key)`, answered from the index when `key` is indexed.
    pub(crate) fn get<'d>(&self, object: NodeRef<'d>, key: &str) -> Option<NodeRef<'d>> {
        match position(key).and_then(|at| self.0.get(at)) {
            Some(&ABSENT) => None,
            Some(&idx) => object.doc().node(idx),
            None => object.get(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TopKeys;
    use crate::parse::parse;
    use crate::tape::NodeRef;

    #[test]
    fn every_indexed_key_has_its_own_slot() {
        let keys = [
            "auditID",
            "kind",
            "stageTimestamp",
            "verb",
            "user",
            "impersonatedUser",
            "objectRef",
            "requestURI",
            "sourceIPs",
            "userAgent",
            "responseStatus",
            "requestObject",
            "responseObject",
            "annotations",
            "stage",
            "items",
        ];
        for (slot, key) in keys.iter().enumerate() {
            assert_eq!(super::position(key), Some(slot), "{key}");
            // Same length and first byte, one byte off: not indexed.
            let near = format!("{}X", &key[..key.len() - 1]);
            assert_eq!(super::position(&near), None, "{near}");
        }
        assert_eq!(super::position(""), None);
        assert_eq!(super::position("apiVersion"), None);
    }

    #[test]
    fn the_index_answers_what_the_scan_answers() {
        let json = r#"{"verb":"get","v\u0065rb":"x","user":{"username":"a"},"user":1,
            "\u0061uditID":"id","kind":"Event","other":[1]}"#;
        let doc = parse(json.to_owned()).unwrap();
        let root = doc.node(0).unwrap();
        let top = TopKeys::new(root);
        for key in [
            "verb",
            "user",
            "auditID",
            "kind",
            "other",
            "objectRef",
            "nope",
            "0",
        ] {
            let indexed = top.get(root, key).map(NodeRef::index);
            assert_eq!(indexed, root.get(key).map(NodeRef::index), "key {key}");
            // The index the parser builds for the root object answers the same.
            let parsed = doc.top.get(root, key).map(NodeRef::index);
            assert_eq!(parsed, indexed, "key {key}, index built while parsing");
        }
        let array = parse(r#"[{"auditID":"a"}]"#.to_owned()).unwrap();
        let root = array.node(0).unwrap();
        let top = TopKeys::new(root);
        assert!(top.get(root, "auditID").is_none());
        assert_eq!(top.get(root, "0").map(NodeRef::index), Some(1));
    }
}
