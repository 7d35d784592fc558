//! A per-event index of the event object's top-level members, built once at decode time.
//!
//! Every `ka.*` field first checks `auditID` (the plugin's gate) and then starts its path at
//! a top-level member (`requestObject`, `objectRef`, `user`...). An event object has 15-20
//! members, so a linear scan per lookup cost about 15% of `lanner run` in a profile
//! (`NodeRef::get`). One pass over the members when the event is decoded records where the
//! keys that fields read are; lookups of those keys are then a `match` and an array read.
//! Keys not listed fall back to the scan, so the answer is always the scan's (first member
//! of that name wins, escaped keys match their unescaped form).
//!
//! Measured (docs/performance.md, Falco's rules, benign corpus): `NodeRef::get` went from
//! 15.2% to 1.5% of the profile, for 4.3% spent here; criterion `evaluate/benign` went from
//! 182-200k to 226-248k events/s.

use crate::tape::NodeRef;

/// "No such member", in a slot.
const ABSENT: u32 = u32::MAX;

/// How many keys are indexed (see [`position`]).
const KEYS: usize = 16;

/// The slot of a top-level key fields read, if it is indexed.
fn position(key: &str) -> Option<usize> {
    Some(match key {
        "auditID" => 0,
        "kind" => 1,
        "stageTimestamp" => 2,
        "verb" => 3,
        "user" => 4,
        "impersonatedUser" => 5,
        "objectRef" => 6,
        "requestURI" => 7,
        "sourceIPs" => 8,
        "userAgent" => 9,
        "responseStatus" => 10,
        "requestObject" => 11,
        "responseObject" => 12,
        "annotations" => 13,
        "stage" => 14,
        "items" => 15,
        _ => return None,
    })
}

/// Where the indexed members of one object are (tape indexes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TopKeys([u32; KEYS]);

impl TopKeys {
    /// The index of an object without members.
    pub(crate) const EMPTY: TopKeys = TopKeys([ABSENT; KEYS]);

    /// Index the members of `object` (nothing for other kinds: every lookup then falls
    /// through to [`NodeRef::get`], which gives the same answers).
    pub(crate) fn new(object: NodeRef<'_>) -> TopKeys {
        let TopKeys(mut slots) = TopKeys::EMPTY;
        for (key, value) in object.members() {
            let Some(key) = key.as_str() else { continue };
            if let Some(slot) = position(&key).and_then(|at| slots.get_mut(at)) {
                if *slot == ABSENT {
                    *slot = value.index();
                }
            }
        }
        TopKeys(slots)
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
        }
        let array = parse(r#"[{"auditID":"a"}]"#.to_owned()).unwrap();
        let root = array.node(0).unwrap();
        let top = TopKeys::new(root);
        assert!(top.get(root, "auditID").is_none());
        assert_eq!(top.get(root, "0").map(NodeRef::index), Some(1));
    }
}
