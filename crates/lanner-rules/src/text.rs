//! Texts assembled from YAML scalars, with a map back to the file.
//!
//! A rule's condition is not always one scalar: appends add text after it
//! and exceptions add generated clauses that quote YAML values. A [`Text`]
//! is the assembled string plus, for each piece, the scalar it came from, so
//! that any byte offset in it maps to a byte offset in a rules file.

use crate::source::{Sources, Span};
use crate::yaml::{Scalar, Style, map_offset};

/// A YAML scalar's value with its place in the file.
#[derive(Clone, Debug)]
pub struct Located {
    /// The value.
    pub value: String,
    /// The scalar node's span.
    pub span: Span,
    /// How the scalar was written.
    pub style: Style,
}

impl Located {
    /// From a scalar node.
    #[must_use]
    pub fn new(scalar: &Scalar, span: Span) -> Located {
        Located {
            value: scalar.value.clone(),
            span,
            style: scalar.style,
        }
    }

    /// The file span of bytes `range` of the value.
    #[must_use]
    pub fn sub_span(&self, sources: &Sources, start: usize, end: usize) -> Span {
        let text = &sources.get(self.span.file).text;
        let s = map_offset(text, self.span, self.style, &self.value, start);
        let mut e = if end > start {
            map_offset(text, self.span, self.style, &self.value, end - 1) as usize + 1
        } else {
            s as usize
        };
        while e < text.len() && !text.is_char_boundary(e) {
            e += 1;
        }
        let e = e as u32;
        Span {
            file: self.span.file,
            start: s,
            end: e.max(s),
        }
    }
}

/// A piece of a [`Text`]: literal glue, or (part of) a located scalar.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Generated text with no place of its own (spaces, `and not (`).
    Glue(String),
    /// A whole scalar.
    Scalar(Located),
}

/// An assembled text and where each of its pieces came from.
#[derive(Clone, Debug, Default)]
pub struct Text {
    /// The assembled text.
    pub text: String,
    pieces: Vec<(usize, Option<Located>)>,
}

impl Text {
    /// Assembles `pieces` in order.
    #[must_use]
    pub fn assemble(pieces: &[Piece]) -> Text {
        let mut text = Text::default();
        for piece in pieces {
            text.push(piece);
        }
        text
    }

    /// Appends one piece.
    pub fn push(&mut self, piece: &Piece) {
        match piece {
            Piece::Glue(glue) => {
                self.pieces.push((self.text.len(), None));
                self.text.push_str(glue);
            }
            Piece::Scalar(located) => {
                self.pieces.push((self.text.len(), Some(located.clone())));
                self.text.push_str(&located.value);
            }
        }
    }

    /// The file span of bytes `start..end` of the text. Offsets in glue map
    /// to the nearest scalar before them (or after, at the very start).
    #[must_use]
    pub fn span(&self, sources: &Sources, start: usize, end: usize) -> Option<Span> {
        let index = self
            .pieces
            .partition_point(|(at, _)| *at <= start)
            .saturating_sub(1);
        if let Some((at, Some(located))) = self.pieces.get(index) {
            let local_start = start - at;
            let local_end = (end - at).min(located.value.len()).max(local_start);
            return Some(located.sub_span(sources, local_start, local_end));
        }
        let before = self.pieces[..index.min(self.pieces.len())]
            .iter()
            .rev()
            .find_map(|(_, l)| l.as_ref())
            .map(|l| l.sub_span(sources, l.value.len(), l.value.len()));
        before.or_else(|| {
            self.pieces
                .iter()
                .find_map(|(_, l)| l.as_ref())
                .map(|l| l.sub_span(sources, 0, 0))
        })
    }
}
