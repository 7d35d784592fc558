//! A YAML document tree that keeps the byte span of every node.
//!
//! Built from the event stream of libyaml-safer, a safe port of libyaml
//! (see `docs/design.md` for why not saphyr or `serde_yaml`). Only what a rules file needs: scalars (with their style, so that
//! a position inside a condition can be mapped back to the file), sequences,
//! mappings, null, and anchors/aliases. Tags are ignored.

use libyaml_safer::{Event, EventData, Mark, Parser, ScalarStyle};

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, SourceFile, Span};

/// A YAML node and where it is.
#[derive(Clone, Debug)]
pub struct Node {
    /// What the node holds.
    pub kind: Kind,
    /// Where the node is in its file.
    pub span: Span,
}

/// The content of a [`Node`].
#[derive(Clone, Debug)]
pub enum Kind {
    /// `~`, `null`, or nothing.
    Null,
    /// A scalar: its text after YAML's own unquoting and folding.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

/// A scalar's text and how it was written.
#[derive(Clone, Debug)]
pub struct Scalar {
    /// The value after unquoting/folding.
    pub value: String,
    /// Plain, quoted or block.
    pub style: Style,
}

/// How a scalar was written; decides how value offsets map to file offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `key: value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|` block
    Literal,
    /// `>` block
    Folded,
}

impl Node {
    /// The scalar, if this node is one.
    #[must_use]
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text, if this node is a scalar.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.value.as_str())
    }

    /// Whether this node is null.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// A word for the node's kind, for messages.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Scalar(_) => "a scalar",
            Kind::Seq(_) => "a sequence",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// Parses every document of `file`. A YAML syntax error is returned as an
/// `E101` diagnostic at the place the YAML parser stopped.
pub fn parse(file_id: FileId, file: &SourceFile) -> Result<Vec<Node>, Diagnostic> {
    // libyaml-safer 0.3 panics where C libyaml reads its NUL padding: a
    // block scalar that ends the input without a line break
    // (simonask/libyaml-safer#6), some malformed flow collections (#7). A
    // final line break changes no position in the file; any other panic
    // becomes an E101 at the last place the parser reached.
    let padded;
    let text = if file.text.ends_with('\n') {
        file.text.as_str()
    } else {
        padded = format!("{}\n", file.text);
        padded.as_str()
    };
    let reached = std::cell::Cell::new(0);
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_text(file_id, file, text, &reached)
    }));
    parsed.unwrap_or_else(|_| {
        let at = reached.get();
        Err(Diagnostic::new(
            Code::E101,
            "invalid YAML: the YAML parser cannot read past this point",
        )
        .at(Span::new(file_id, at..at)))
    })
}

fn parse_text(
    file_id: FileId,
    file: &SourceFile,
    text: &str,
    reached: &std::cell::Cell<usize>,
) -> Result<Vec<Node>, Diagnostic> {
    let mut builder = Builder {
        file_id,
        file,
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: Vec::new(),
        copied: 0,
    };
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    loop {
        match parser.parse() {
            Ok(event) => {
                let done = matches!(event.data, EventData::StreamEnd);
                let start = offset(file, event.start_mark);
                let end = offset(file, event.end_mark).max(start);
                reached.set(end);
                builder.on_event(event, Span::new(file_id, start..end));
                if builder.copied > MAX_ALIAS_NODES {
                    return Err(Diagnostic::new(
                        Code::E101,
                        format!("aliases copy more than {MAX_ALIAS_NODES} nodes; rules files do not need that many"),
                    )
                    .at(Span::new(file_id, start..end)));
                }
                if done {
                    return Ok(builder.docs);
                }
            }
            Err(err) => {
                let at = err.problem_mark().map_or(0, |m| offset(file, m));
                let context = err.context().map_or(String::new(), |c| format!(" {c}"));
                return Err(Diagnostic::new(
                    Code::E101,
                    format!("invalid YAML: {}{context}", err.problem()),
                )
                .at(Span::new(file_id, at..at)));
            }
        }
    }
}

fn offset(file: &SourceFile, mark: Mark) -> usize {
    file.offset_of(mark.line as usize + 1, mark.column as usize)
}

enum Open {
    Seq(Span, Vec<Node>, Option<String>),
    Map(Span, Vec<(Node, Node)>, Option<Node>, Option<String>),
}

struct Builder<'a> {
    file_id: FileId,
    file: &'a SourceFile,
    stack: Vec<Open>,
    docs: Vec<Node>,
    anchors: Vec<(String, Node, usize)>,
    /// Nodes copied by aliases so far (capped: "billion laughs").
    copied: usize,
}

/// The most nodes aliases may copy in one file.
const MAX_ALIAS_NODES: usize = 100_000;

fn count(node: &Node) -> usize {
    match &node.kind {
        Kind::Null | Kind::Scalar(_) => 1,
        Kind::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Kind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
    }
}

impl Builder<'_> {
    fn on_event(&mut self, event: Event, span: Span) {
        match event.data {
            EventData::Scalar {
                anchor,
                value,
                style,
                ..
            } => {
                let node = scalar_node(&value, style, span);
                self.remember(anchor, &node);
                self.push(node);
            }
            EventData::SequenceStart { anchor, .. } => {
                self.stack.push(Open::Seq(span, Vec::new(), anchor));
            }
            EventData::MappingStart { anchor, .. } => {
                self.stack.push(Open::Map(span, Vec::new(), None, anchor));
            }
            EventData::SequenceEnd | EventData::MappingEnd => self.close(span),
            EventData::Alias { anchor } => {
                let null = Node {
                    kind: Kind::Null,
                    span,
                };
                let found = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(name, _, _)| *name == anchor);
                let node = match found {
                    Some((_, node, size)) if self.copied + size <= MAX_ALIAS_NODES => {
                        self.copied += size;
                        node.clone()
                    }
                    Some((_, _, size)) => {
                        self.copied += size;
                        null
                    }
                    None => null,
                };
                self.push(node);
            }
            EventData::StreamStart { .. }
            | EventData::StreamEnd
            | EventData::DocumentStart { .. }
            | EventData::DocumentEnd { .. } => {}
        }
    }

    fn remember(&mut self, anchor: Option<String>, node: &Node) {
        if let Some(anchor) = anchor {
            self.anchors.push((anchor, node.clone(), count(node)));
        }
    }

    fn close(&mut self, end: Span) {
        let Some(open) = self.stack.pop() else {
            return;
        };
        let (node, anchor) = match open {
            Open::Seq(start, items, anchor) => (
                Node {
                    kind: Kind::Seq(items),
                    span: self.join(start, end),
                },
                anchor,
            ),
            Open::Map(start, entries, _, anchor) => (
                Node {
                    kind: Kind::Map(entries),
                    span: self.join(start, end),
                },
                anchor,
            ),
        };
        self.remember(anchor, &node);
        self.push(node);
    }

    fn join(&self, start: Span, end: Span) -> Span {
        let end = end.end.max(start.end) as usize;
        let start = start.start as usize;
        // A block collection's end marker sits at the next item's indentation;
        // trim trailing blank space so the span ends on content.
        let text = self.file.text.get(start..end).unwrap_or("");
        let trimmed = text.trim_end().len();
        Span::new(self.file_id, start..start + trimmed)
    }

    fn push(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq(_, items, _)) => items.push(node),
            Some(Open::Map(_, entries, pending, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
}

fn scalar_node(value: &str, style: ScalarStyle, span: Span) -> Node {
    let style = match style {
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
        _ => Style::Plain,
    };
    let is_null = style == Style::Plain && matches!(value, "" | "~" | "null" | "Null" | "NULL");
    let kind = if is_null {
        Kind::Null
    } else {
        Kind::Scalar(Scalar {
            value: value.to_owned(),
            style,
        })
    };
    Node { kind, span }
}

/// Maps byte `offset` in a scalar's value to a byte offset in its file.
///
/// The value of a folded, quoted or multi-line scalar differs from its source
/// text (indentation removed, lines folded, escapes decoded), so the two are
/// aligned on their non-blank characters: each non-blank character of the
/// value is matched with the next equal character of the source. This is
/// exact for the plain and block scalars rules files use, and close for
/// quoted scalars with escapes.
#[must_use]
pub fn map_offset(file_text: &str, span: Span, style: Style, value: &str, offset: usize) -> u32 {
    let raw = file_text.get(span.range()).unwrap_or("");
    let skip = match style {
        Style::Plain => 0,
        Style::SingleQuoted | Style::DoubleQuoted => 1.min(raw.len()),
        Style::Literal | Style::Folded => raw.find('\n').map_or(raw.len(), |i| i + 1),
    };
    let mut pos = skip;
    for (i, c) in value.char_indices() {
        if c.is_whitespace() {
            continue;
        }
        let Some(found) = raw.get(pos..).and_then(|rest| rest.find(c)) else {
            break;
        };
        if i >= offset {
            return span.start + (pos + found) as u32;
        }
        pos += found + c.len_utf8();
    }
    // Past the last character: point just after the last matched one.
    span.start + pos.min(raw.len()) as u32
}
