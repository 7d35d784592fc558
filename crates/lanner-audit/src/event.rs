//! One Kubernetes audit event, as the rest of Lanner sees it.
//!
//! An `Event` shares the parsed payload it came from (an `EventList` line yields several
//! events over one tape) and points at its own object in it. How the JSON is held stays
//! private, so parsing can become lazy without changing this API.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::tape::{Doc, NodeRef};

/// One audit event: its JSON, its time (`stageTimestamp`) and its sequence number.
#[derive(Clone)]
pub struct Event {
    doc: Arc<Doc>,
    root: u32,
    num: u64,
    ts: i64,
}

impl Event {
    pub(crate) fn new(doc: Arc<Doc>, root: u32, num: u64, ts: i64) -> Self {
        Event { doc, root, num, ts }
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
