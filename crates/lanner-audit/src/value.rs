//! What extraction returns: the value of one field on one event.
//!
//! Values borrow from the event wherever the JSON text can be used as is (a string without
//! escapes, an object written compactly), so that evaluating a rule allocates little.

use std::borrow::Cow;

/// The value of a field on an event. "Not available" is `None` around it, never a variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'e> {
    /// One text value.
    Str(Cow<'e, str>),
    /// The values of a list field; never empty (an empty list is "not available").
    List(Vec<Cow<'e, str>>),
    /// A number (`evt.num`, `evt.rawtime*`).
    U64(u64),
    /// A boolean.
    Bool(bool),
}

impl Value<'_> {
    /// The value with its borrowed text copied, so that it can outlive the event.
    #[must_use]
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::List(l) => {
                Value::List(l.into_iter().map(|s| Cow::Owned(s.into_owned())).collect())
            }
            Value::U64(n) => Value::U64(n),
            Value::Bool(b) => Value::Bool(b),
        }
    }

    /// The text of a `Str` value.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'e> From<&'e str> for Value<'e> {
    fn from(s: &'e str) -> Self {
        Value::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Str(Cow::Owned(s))
    }
}
