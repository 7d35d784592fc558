//! The parsed form of one payload: a flat tape of JSON nodes pointing into the text.
//!
//! Why a tape and not a general JSON DOM (`sonic_rs::Value`, `serde_json::Value`): Falco's
//! extractor (fastjson) hands out the *source text* of non-string values. Numbers keep their
//! spelling (`1.50`, `1e3`), strings inside objects keep their escapes (`"\u00e9"`), keys keep
//! their order. A tape of byte spans reproduces that exactly, and lets extraction borrow: a
//! string without escapes is a slice of the text, and so is an object or array written without
//! whitespace (the usual case for audit logs, which kube-apiserver writes compact). A DOM
//! would re-serialise and allocate for every non-string value. Nothing was measured yet; the
//! tape is also the natural place to make parsing lazy later (parse `requestObject` only when
//! a field reads it), behind the same `NodeRef` API.
//!
//! This module only navigates; [`crate::parse`] builds the tape and [`crate::text`] renders.

use std::borrow::Cow;

use crate::text;
use crate::util::same_bytes;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// The string node contains backslash escapes (its content must be unescaped).
pub(crate) const ESCAPED: u8 = 1;
/// The container node contains whitespace between tokens (its compact form must be rebuilt).
pub(crate) const SPACED: u8 = 2;
/// The node is an object member whose key contains backslash escapes.
pub(crate) const KEY_ESCAPED: u8 = 4;

/// One value of the document, in document order (a container precedes its children). An
/// object member's key is not a node of its own: its span is kept in the value's node, so
/// parsing writes one node per member and a lookup reads one node per member (11,477 ->
/// 11,058 instructions per event; docs/performance.md).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    /// Byte offset of the first byte (the quote for strings).
    pub(crate) start: u32,
    /// Byte offset one past the last byte.
    pub(crate) end: u32,
    /// Index of the first node after this node's subtree.
    pub(crate) next: u32,
    /// For an object member: the byte offset of its key's opening quote (else 0).
    pub(crate) key_start: u32,
    /// For an object member: one past its key's closing quote (else 0).
    pub(crate) key_end: u32,
    pub(crate) kind: Kind,
    pub(crate) flags: u8,
}

/// A parsed payload: its text and its tape. Never empty once built by [`crate::parse`].
/// `Clone` only for `Arc::make_mut`, which the decoder calls on a document it holds alone.
#[derive(Clone, Debug)]
pub(crate) struct Doc {
    pub(crate) text: String,
    pub(crate) nodes: Vec<Node>,
    /// The index of the root's members when the root is an object (built while parsing).
    pub(crate) top: crate::top::TopKeys,
}

impl Default for Doc {
    fn default() -> Doc {
        Doc {
            text: String::new(),
            nodes: Vec::new(),
            top: crate::top::TopKeys::EMPTY,
        }
    }
}

impl Doc {
    /// The node at `idx`, if any.
    pub(crate) fn node(&self, idx: u32) -> Option<NodeRef<'_>> {
        let node = self.nodes.get(idx as usize)?;
        Some(NodeRef {
            doc: self,
            idx,
            node,
        })
    }
}

/// A borrowed handle on one node.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NodeRef<'d> {
    doc: &'d Doc,
    idx: u32,
    node: &'d Node,
}

impl<'d> NodeRef<'d> {
    /// The tape index of this node.
    pub(crate) fn index(self) -> u32 {
        self.idx
    }

    /// The document the node belongs to.
    pub(crate) fn doc(self) -> &'d Doc {
        self.doc
    }

    pub(crate) fn kind(self) -> Kind {
        self.node.kind
    }

    fn has(self, flag: u8) -> bool {
        self.node.flags & flag != 0
    }

    /// The node's source text, exactly as written.
    pub(crate) fn raw(self) -> &'d str {
        self.doc
            .text
            .get(self.node.start as usize..self.node.end as usize)
            .unwrap_or("")
    }

    /// A string node's content between the quotes, still escaped. Sliced from the text in
    /// one step (not through [`NodeRef::raw`]): this is the text of most extracted values.
    fn inner(self) -> &'d str {
        let start = self.node.start as usize + 1;
        let end = (self.node.end as usize).saturating_sub(1).max(start);
        self.doc.text.get(start..end).unwrap_or("")
    }

    /// A string node's content as bytes, when it has no escapes (so it is its value).
    pub(crate) fn unescaped_bytes(self) -> Option<&'d [u8]> {
        if self.kind() != Kind::String || self.has(ESCAPED) {
            return None;
        }
        let (start, end) = (self.node.start as usize, self.node.end as usize);
        self.doc
            .text
            .as_bytes()
            .get(start + 1..end.saturating_sub(1).max(start + 1))
    }

    /// The unescaped content of a string node.
    #[inline]
    pub(crate) fn as_str(self) -> Option<Cow<'d, str>> {
        if self.kind() != Kind::String {
            return None;
        }
        if self.has(ESCAPED) {
            Some(Cow::Owned(text::unescape(self.inner())))
        } else {
            Some(Cow::Borrowed(self.inner()))
        }
    }

    /// The value of a boolean node.
    pub(crate) fn as_bool(self) -> Option<bool> {
        (self.kind() == Kind::Bool).then(|| self.raw() == "true")
    }

    /// Falco's string conversion (`jsonValueAsString`): a string's content, anything else
    /// as compact JSON text.
    #[inline]
    pub(crate) fn text(self) -> Cow<'d, str> {
        self.as_str().unwrap_or_else(|| self.compact())
    }

    /// The node as compact JSON: the source text without insignificant whitespace.
    pub(crate) fn compact(self) -> Cow<'d, str> {
        if self.has(SPACED) {
            Cow::Owned(text::compact(self.raw()))
        } else {
            Cow::Borrowed(self.raw())
        }
    }

    /// The node pretty-printed like Go's `json.Indent(data, "", "  ")`.
    pub(crate) fn pretty(self) -> String {
        text::indent(self.raw())
    }

    /// The direct children of a container (for objects, the members' values).
    fn children(self) -> Children<'d> {
        let end = match self.kind() {
            Kind::Array | Kind::Object => self.node.next,
            _ => self.idx.saturating_add(1),
        };
        Children {
            doc: self.doc,
            at: self.idx.saturating_add(1),
            end,
        }
    }

    /// The elements of an array (nothing for other kinds).
    pub(crate) fn elements(self) -> Children<'d> {
        if self.kind() == Kind::Array {
            self.children()
        } else {
            Children {
                doc: self.doc,
                at: 0,
                end: 0,
            }
        }
    }

    /// The `(key, value)` members of an object, in source order (nothing for other kinds).
    pub(crate) fn members(self) -> impl Iterator<Item = (Key<'d>, NodeRef<'d>)> + 'd {
        let children = if self.kind() == Kind::Object {
            self.children()
        } else {
            Children {
                doc: self.doc,
                at: 0,
                end: 0,
            }
        };
        children.map(|value| (value.key(), value))
    }

    /// The key of this node, an object member (an empty key for other nodes).
    fn key(self) -> Key<'d> {
        Key {
            doc: self.doc,
            start: self.node.key_start,
            end: self.node.key_end,
            escaped: self.has(KEY_ESCAPED),
        }
    }

    /// The value of the first member named `key` of an object. Walks the tape directly
    /// (key node, value node, the value's `next`): this runs for every path step of every
    /// field, and comparing raw key bytes first leaves escaped keys as the only slow case.
    #[inline]
    pub(crate) fn field(self, key: &str) -> Option<NodeRef<'d>> {
        if self.kind() != Kind::Object {
            return None;
        }
        let nodes = &self.doc.nodes;
        let bytes = self.doc.text.as_bytes();
        let mut at = self.idx.saturating_add(1);
        while at < self.node.next {
            let value = nodes.get(at as usize)?;
            let hit = if value.flags & KEY_ESCAPED == 0 {
                // The span of an unescaped key is its text plus two quotes: most keys are
                // told apart by that length alone, without slicing the text.
                value.key_end.wrapping_sub(value.key_start) as usize == key.len().wrapping_add(2)
                    && bytes
                        .get(
                            value.key_start as usize + 1
                                ..(value.key_end as usize).saturating_sub(1),
                        )
                        .is_some_and(|name| same_bytes(name, key.as_bytes()))
            } else {
                self.doc.node(at).is_some_and(|v| v.key().str_eq(key))
            };
            if hit {
                return self.doc.node(at);
            }
            // `next` always moves forward; guard anyway so a bad tape cannot loop forever.
            at = value.next.max(at.saturating_add(1));
        }
        None
    }

    /// fastjson's `Get(key)`: an object member, or for arrays the element whose index is
    /// `key` read as a Go `strconv.Atoi` integer (`"+1"` and `"007"` work); nothing else.
    #[inline]
    pub(crate) fn get(self, key: &str) -> Option<NodeRef<'d>> {
        match self.kind() {
            Kind::Object => self.field(key),
            Kind::Array => self.element(key),
            _ => None,
        }
    }

    /// The element of an array whose index is `key` (see [`NodeRef::get`]).
    fn element(self, key: &str) -> Option<NodeRef<'d>> {
        let n = go_atoi(key)?;
        self.elements().nth(usize::try_from(n).ok()?)
    }

    /// fastjson's `Get(keys...)`: [`NodeRef::get`] applied key after key.
    pub(crate) fn get_path<S: AsRef<str>>(self, keys: &[S]) -> Option<NodeRef<'d>> {
        keys.iter()
            .try_fold(self, |node, key| node.get(key.as_ref()))
    }
}

/// The key of an object member: a JSON string in the text, kept as its span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key<'d> {
    doc: &'d Doc,
    /// The offset of the opening quote.
    start: u32,
    /// One past the closing quote.
    end: u32,
    escaped: bool,
}

impl<'d> Key<'d> {
    /// The key between its quotes, still escaped.
    fn inner(self) -> &'d str {
        let start = self.start as usize + 1;
        let end = (self.end as usize).saturating_sub(1).max(start);
        self.doc.text.get(start..end).unwrap_or("")
    }

    /// The key's bytes, when it has no escapes (so they are its value).
    pub(crate) fn unescaped_bytes(self) -> Option<&'d [u8]> {
        (!self.escaped).then(|| self.inner().as_bytes())
    }

    /// The key, unescaped.
    pub(crate) fn text(self) -> Cow<'d, str> {
        if self.escaped {
            Cow::Owned(text::unescape(self.inner()))
        } else {
            Cow::Borrowed(self.inner())
        }
    }

    /// Whether the key, unescaped, equals `key`.
    fn str_eq(self, key: &str) -> bool {
        self.text() == key
    }
}

/// Iterator over sibling nodes, skipping each one's subtree.
#[derive(Clone, Debug)]
pub(crate) struct Children<'d> {
    doc: &'d Doc,
    at: u32,
    end: u32,
}

impl<'d> Iterator for Children<'d> {
    type Item = NodeRef<'d>;

    fn next(&mut self) -> Option<NodeRef<'d>> {
        if self.at >= self.end {
            return None;
        }
        let node = self.doc.node(self.at)?;
        // `next` always moves forward; guard anyway so a bad tape cannot loop forever.
        self.at = node.node.next.max(self.at.saturating_add(1));
        Some(node)
    }
}

/// Go's `strconv.Atoi` for the decimal strings fastjson accepts as array indexes: an
/// optional sign, then one or more ASCII digits, within `i64`. Negative values are refused.
fn go_atoi(key: &str) -> Option<u64> {
    let (negative, digits) = match key.as_bytes().first() {
        Some(b'+') => (false, key.get(1..)?),
        Some(b'-') => (true, key.get(1..)?),
        _ => (false, key),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    if negative && n != 0 {
        return None;
    }
    u64::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::go_atoi;
    use crate::parse::parse;

    #[test]
    fn atoi_accepts_signs_and_leading_zeros_like_go() {
        assert_eq!(go_atoi("007"), Some(7));
        assert_eq!(go_atoi("+1"), Some(1));
        assert_eq!(go_atoi("-0"), Some(0));
        assert_eq!(go_atoi("-1"), None);
        assert_eq!(go_atoi(""), None);
        assert_eq!(go_atoi("1a"), None);
        assert_eq!(go_atoi("99999999999999999999"), None);
    }

    #[test]
    fn get_indexes_arrays_and_finds_first_duplicate_key() {
        let doc = parse(r#"{"a":[10,{"b":"x"}],"k":1,"k":2}"#.to_owned()).unwrap();
        let root = doc.node(0).unwrap();
        assert_eq!(root.get_path(&["a", "1", "b"]).unwrap().text(), "x");
        assert_eq!(root.get_path(&["a", "0"]).unwrap().text(), "10");
        assert!(root.get_path(&["a", "2"]).is_none());
        assert_eq!(root.get("k").unwrap().text(), "1");
        assert!(root.get("a").unwrap().get("b").is_none());
    }

    #[test]
    fn escaped_keys_match_their_unescaped_form() {
        let doc = parse(r#"{"a\/b":"v\n"}"#.to_owned()).unwrap();
        let root = doc.node(0).unwrap();
        let v = root.get("a/b").unwrap();
        assert_eq!(v.as_str().unwrap(), "v\n");
        assert_eq!(v.compact(), r#""v\n""#);
    }
}
