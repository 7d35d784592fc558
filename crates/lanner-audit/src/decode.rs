//! From a payload (a file line or a webhook body) to events, as Falco's plugin splits them.
//!
//! A payload is an `Event`, an `EventList`, or a JSON array (at any depth) of those. A
//! payload that is not one of these is refused whole, even when some array elements were
//! fine, because Falco drops such a payload entirely. Problems of one event (no or bad
//! `stageTimestamp`) only drop that event. `apiVersion` and `auditID` are not checked here.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::event::Event;
use crate::parse::{JsonError, parse_into};
use crate::tape::{Doc, Kind, NodeRef};
use crate::time::TimeParser;
use crate::top::TopKeys;

/// Why a whole payload was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The payload is not JSON (or is cut short).
    #[error("invalid JSON at byte {offset}: {reason}")]
    InvalidJson {
        /// Byte offset of the problem in the payload.
        offset: usize,
        /// What was expected there.
        reason: &'static str,
    },
    /// The payload, or one element of a payload array, is no `Event` or `EventList`.
    #[error(
        "{}not a Kubernetes audit event: no \"kind\" of \"Event\" or \"EventList\"",
        element_prefix(.element)
    )]
    NotAuditEvent {
        /// Where in the payload array, e.g. `[1][0]`; empty for the payload itself.
        element: String,
    },
    /// An `EventList` without an `items` array.
    #[error("{}EventList has no \"items\" array", element_prefix(.element))]
    NoItems {
        /// Where in the payload array, e.g. `[1][0]`; empty for the payload itself.
        element: String,
    },
    /// The payload is larger than events can address (4 GiB).
    #[error("payload of {len} bytes is too large")]
    TooLarge {
        /// The payload size.
        len: usize,
    },
}

fn element_prefix(element: &str) -> String {
    if element.is_empty() {
        String::new()
    } else {
        format!("array element {element}: ")
    }
}

/// Why one event of a payload was dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The event has no `stageTimestamp`, which gives its time.
    #[error("event has no stageTimestamp")]
    NoStageTimestamp,
    /// `stageTimestamp` is not an RFC 3339 string (the JSON text is shown).
    #[error("stageTimestamp {0} is not RFC 3339")]
    BadStageTimestamp(String),
    /// `stageTimestamp` is before 1970 or after 2262 (nanoseconds since 1970 do not fit).
    #[error("stageTimestamp {0} is out of range (1970 to 2262)")]
    TimestampOutOfRange(String),
}

impl From<JsonError> for PayloadError {
    fn from(e: JsonError) -> Self {
        PayloadError::InvalidJson {
            offset: e.offset as usize,
            reason: e.reason.text(),
        }
    }
}

/// Split a payload into events, numbered from `first_num` upwards (only events that decode
/// take a number). The outer `Err` refuses the whole payload; an inner `Err` drops one
/// event. Invalid UTF-8 is replaced with U+FFFD rather than refused.
///
/// Decoding many payloads one after another is cheaper with a [`Decoder`].
pub fn decode_payload(
    bytes: &[u8],
    first_num: u64,
) -> Result<Vec<Result<Event, EventError>>, PayloadError> {
    let mut events = Vec::new();
    Decoder::new().decode(bytes, first_num, &mut events)?;
    Ok(events)
}

/// Decodes payload after payload, reusing the storage of the previous payload's text and
/// tape once none of its events is alive any more: a file reader that drops each line's
/// events before the next line allocates nothing per line. (Events that are still held,
/// as in the server's queues, simply keep theirs, and the next payload gets new storage.)
#[derive(Debug, Default)]
pub struct Decoder {
    /// The previous payload's document, for reuse when the decoder holds the only reference.
    last: Option<Arc<Doc>>,
    /// Reads `stageTimestamp`s, remembering the last one's minute.
    times: TimeParser,
}

/// Documents whose text took more than this are not kept for reuse: one large webhook body
/// must not stay allocated for the life of a worker.
const KEEP_BYTES: usize = 1 << 20;

impl Decoder {
    /// A decoder with no storage yet.
    #[must_use]
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// What [`decode_payload`] gives, with the events appended to `events`.
    ///
    /// # Errors
    /// The payload is refused whole (see [`PayloadError`]); `events` is then unchanged.
    pub fn decode(
        &mut self,
        bytes: &[u8],
        first_num: u64,
        events: &mut Vec<Result<Event, EventError>>,
    ) -> Result<(), PayloadError> {
        if u32::try_from(bytes.len()).is_err() {
            return Err(PayloadError::TooLarge { len: bytes.len() });
        }
        // The previous document, if no event holds it any more; else a new one.
        let mut shared = match self.last.take() {
            Some(doc) if Arc::strong_count(&doc) == 1 => doc,
            _ => Arc::new(Doc::default()),
        };
        // Never clones: `shared` has no other reference (checked or new just above).
        let doc = Arc::make_mut(&mut shared);
        doc.text.clear();
        // simdutf8 checks 32 bytes at a time where the CPU can (std: about 550 instructions
        // per 1 KB event).
        match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => doc.text.push_str(text),
            Err(_) => doc.text.push_str(&String::from_utf8_lossy(bytes)),
        }
        let parsed = if u32::try_from(doc.text.len()).is_err() {
            Err(PayloadError::TooLarge {
                len: doc.text.len(),
            })
        } else {
            parse_into(doc).map_err(PayloadError::from)
        };
        let split = parsed.and_then(|()| split(&shared, first_num, &mut self.times, events));
        if shared.text.capacity() <= KEEP_BYTES {
            self.last = Some(shared);
        }
        split
    }
}

/// The events of a parsed payload, appended to `events`.
fn split(
    doc: &Arc<Doc>,
    first_num: u64,
    times: &mut TimeParser,
    events: &mut Vec<Result<Event, EventError>>,
) -> Result<(), PayloadError> {
    // The usual payload, one log line: a single `Event`, whose index was built while
    // parsing. Decided from that index, with no list of items to gather.
    if let Some(root) = doc.node(0).filter(|n| n.kind() == Kind::Object) {
        let kind = doc.top.get(root, "kind");
        if kind.and_then(NodeRef::unescaped_bytes) == Some(b"Event") {
            let top = doc.top;
            let event = timestamp(doc, 0, &top, times)
                .map(|ts| Event::new(Arc::clone(doc), 0, top, first_num, ts));
            events.push(event);
            return Ok(());
        }
    }
    let mut items = Vec::new();
    if let Some(root) = doc.node(0) {
        collect(root, &mut String::new(), &mut items)?;
    }
    let mut num = first_num;
    events.extend(items.into_iter().map(|idx| {
        // The root object's index was built while parsing; items of an `EventList` or of
        // an array get theirs here.
        let top = if idx == 0 {
            doc.top
        } else {
            doc.node(idx).map_or(TopKeys::EMPTY, TopKeys::new)
        };
        let event = timestamp(doc, idx, &top, times)
            .map(|ts| Event::new(Arc::clone(doc), idx, top, num, ts));
        if event.is_ok() {
            num += 1;
        }
        event
    }));
    Ok(())
}

/// Gather the tape indexes of the event objects under `node`; `path` names the array
/// element being looked at.
fn collect(node: NodeRef<'_>, path: &mut String, out: &mut Vec<u32>) -> Result<(), PayloadError> {
    if node.kind() == Kind::Array {
        for (i, element) in node.elements().enumerate() {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            collect(element, path, out)?;
            path.truncate(len);
        }
        return Ok(());
    }
    let kind = node.get("kind").and_then(NodeRef::as_str);
    match kind.as_deref() {
        Some("Event") => out.push(node.index()),
        Some("EventList") => {
            let items = node.get("items").filter(|n| n.kind() == Kind::Array);
            let items = items.ok_or_else(|| PayloadError::NoItems {
                element: path.clone(),
            })?;
            out.extend(items.elements().map(NodeRef::index));
        }
        _ => {
            return Err(PayloadError::NotAuditEvent {
                element: path.clone(),
            });
        }
    }
    Ok(())
}

/// The event time of the item at `idx`, from its `stageTimestamp`.
fn timestamp(
    doc: &Doc,
    idx: u32,
    top: &TopKeys,
    times: &mut TimeParser,
) -> Result<i64, EventError> {
    let stamp = doc
        .node(idx)
        .and_then(|n| top.get(n, "stageTimestamp"))
        .ok_or(EventError::NoStageTimestamp)?;
    let shown = || shorten(&stamp.compact());
    let text = stamp
        .as_str()
        .ok_or_else(|| EventError::BadStageTimestamp(shown()))?;
    let ns = times
        .parse(&text)
        .ok_or_else(|| EventError::BadStageTimestamp(shown()))?;
    i64::try_from(ns)
        .ok()
        .filter(|ns| *ns >= 0)
        .ok_or_else(|| EventError::TimestampOutOfRange(shown()))
}

/// At most 64 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((at, _)) => format!("{}...", text.get(..at).unwrap_or(text)),
        None => text.to_owned(),
    }
}
