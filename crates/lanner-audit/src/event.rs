//! One Kubernetes audit event, as the rest of Lanner sees it.
//!
//! An `Event` shares the parsed payload it came from (an `EventList` line yields several
//! events over one tape) and points at its own object in it. How the JSON is held stays
//! private, so parsing can become lazy without changing this API.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::tape::{Doc, NodeRef};
use crate::top::{self, TopKeys};

/// One audit event: its JSON, its time (`stageTimestamp`) and its sequence number.
#[derive(Clone)]
pub struct Event {
    doc: Arc<Doc>,
    root: u32,
    num: u64,
    ts: i64,
    /// Where the event object's common members are (see [`crate::top`]).
    top: TopKeys,
}

impl Event {
    pub(crate) fn new(doc: Arc<Doc>, root: u32, top: TopKeys, num: u64, ts: i64) -> Self {
        Event {
            doc,
            root,
            num,
            ts,
            top,
        }
    }

    /// The event time: `stageTimestamp` as nanoseconds since the Unix epoch.
    #[must_use]
    pub fn timestamp_ns(&self) -> i64 {
        self.ts
    }

    /// The sequence number the reader gave the event (`evt.num`).
    #[must_use]
    pub fn num(&self) -> u64 {
        self.num
    }

    /// The event as compact JSON (keys in source order, strings and numbers as written):
    /// the payload Falco's plugin would carry for it.
    #[must_use]
    pub fn json(&self) -> Cow<'_, str> {
        self.root().map_or(Cow::Borrowed("{}"), NodeRef::compact)
    }

    /// The event as JSON indented with two spaces (what `jevt.obj` gives).
    #[must_use]
    pub fn json_pretty(&self) -> String {
        self.root().map_or_else(|| "{}".to_owned(), NodeRef::pretty)
    }

    /// The event's object in the tape.
    pub(crate) fn root(&self) -> Option<NodeRef<'_>> {
        self.doc.node(self.root)
    }

    /// The event object's member `key` (what `root().get(key)` gives, from the index).
    pub(crate) fn get(&self, key: &str) -> Option<NodeRef<'_>> {
        match top::position(key) {
            Some(slot) => self.member(slot),
            None => self.root()?.get(key),
        }
    }

    /// The event object's member of index slot `slot` (see [`top::position`]): what
    /// [`Event::get`] gives for that slot's key, without looking the key up.
    pub(crate) fn member(&self, slot: usize) -> Option<NodeRef<'_>> {
        self.top.member(&self.doc, slot)
    }

    /// The node at `keys` from the event object (`root().get_path(keys)`, the first step
    /// from the index).
    pub(crate) fn get_path<S: AsRef<str>>(&self, keys: &[S]) -> Option<NodeRef<'_>> {
        match keys.split_first() {
            None => self.root(),
            Some((first, rest)) => self.get(first.as_ref())?.get_path(rest),
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("num", &self.num)
            .field("timestamp_ns", &self.ts)
            .field("json", &self.json())
            .finish_non_exhaustive()
    }
}
