//! Field arguments (`field[arg]`), checked once when a rule is compiled.
//!
//! The rule language hands over the raw text between the brackets; this module decides
//! whether the field accepts it and turns it into a [`FieldArg`] that extraction uses as is.
//! Messages follow Falco's wording where Falco has one.

use crate::catalog::{ArgKind, FieldId};

/// A checked field argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldArg {
    /// `[N]`: only element `N` of the arrays on the field's path.
    Index(u32),
    /// `[key]`: any text.
    Key(String),
    /// `[/a/b]`: RFC 6901 pointer segments, already unescaped; empty means the whole event.
    Pointer(Vec<String>),
}

/// Why an argument does not fit its field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// The field needs an argument and got none.
    #[error("`{field}` requires an argument")]
    Missing {
        /// The field name.
        field: &'static str,
    },
    /// The field takes no argument and got one.
    #[error("`{field}` does not take an argument")]
    Unexpected {
        /// The field name.
        field: &'static str,
    },
    /// An index argument that is not a plain decimal number.
    #[error("invalid index argument `{arg}`: {reason}")]
    BadIndex {
        /// The argument as written.
        arg: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The id names no field of the catalog.
    #[error("no field has id {id}")]
    UnknownField {
        /// The id given.
        id: u16,
    },
}

/// Check the argument `raw` (the text between the brackets, `None` without brackets) for
/// `field`. Fields with an optional index return `Ok(None)` when none is given.
pub fn parse_arg(field: FieldId, raw: Option<&str>) -> Result<Option<FieldArg>, ArgError> {
    let def = field.get().ok_or(ArgError::UnknownField { id: field.0 })?;
    match (def.arg, raw) {
        (ArgKind::None | ArgKind::Index, None) => Ok(None),
        (ArgKind::None, Some(_)) => Err(ArgError::Unexpected { field: def.name }),
        (ArgKind::Key | ArgKind::JsonPointer, None) => Err(ArgError::Missing { field: def.name }),
        (ArgKind::Index, Some(text)) => parse_index(text).map(|n| Some(FieldArg::Index(n))),
        (ArgKind::Key, Some(text)) => Ok(Some(FieldArg::Key(text.to_owned()))),
        (ArgKind::JsonPointer, Some(text)) => Ok(Some(FieldArg::Pointer(parse_pointer(text)))),
    }
}

/// A decimal index as libs accepts it: digits only, no leading zero except `0` itself.
fn parse_index(text: &str) -> Result<u32, ArgError> {
    let bad = |reason| ArgError::BadIndex {
        arg: text.to_owned(),
        reason,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a decimal number"));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(bad("leading zero"));
    }
    text.parse().map_err(|_| bad("too large"))
}

/// Split a JSON pointer as the json plugin does: an optional leading `/` is dropped, the
/// rest split on `/`, and each segment unescaped (`~1` to `/`, then `~0` to `~`). The empty
/// pointer means the whole event.
fn parse_pointer(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let text = text.strip_prefix('/').unwrap_or(text);
    text.split('/')
        .map(|seg| seg.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;

    fn arg(name: &str, raw: Option<&str>) -> Result<Option<FieldArg>, ArgError> {
        parse_arg(lookup(name).unwrap(), raw)
    }

    #[test]
    fn required_key_without_argument_is_an_error() {
        let err = arg("ka.uri.param", None).unwrap_err();
        assert_eq!(err.to_string(), "`ka.uri.param` requires an argument");
        assert_eq!(
            arg("jevt.value", None).unwrap_err().to_string(),
            "`jevt.value` requires an argument"
        );
    }

    #[test]
    fn argument_on_plain_field_is_an_error() {
        let err = arg("ka.verb", Some("x")).unwrap_err();
        assert_eq!(err.to_string(), "`ka.verb` does not take an argument");
    }

    #[test]
    fn index_must_be_decimal_without_leading_zero() {
        assert_eq!(
            arg("ka.req.pod.containers.image", Some("0")),
            Ok(Some(FieldArg::Index(0)))
        );
        assert_eq!(
            arg("ka.req.pod.containers.image", Some("12")),
            Ok(Some(FieldArg::Index(12)))
        );
        assert_eq!(arg("ka.req.pod.containers.image", None), Ok(None));
        let msg = |raw| {
            arg("ka.req.pod.containers.image", Some(raw))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(msg("01"), "invalid index argument `01`: leading zero");
        assert_eq!(
            msg("-1"),
            "invalid index argument `-1`: not a decimal number"
        );
        assert_eq!(msg(""), "invalid index argument ``: not a decimal number");
        assert_eq!(
            msg("99999999999"),
            "invalid index argument `99999999999`: too large"
        );
    }

    #[test]
    fn pointers_are_split_and_unescaped() {
        let p = |raw| match arg("jevt.value", Some(raw)) {
            Ok(Some(FieldArg::Pointer(p))) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            p("/annotations/authorization.k8s.io~1decision"),
            ["annotations", "authorization.k8s.io/decision"]
        );
        assert_eq!(p("stage"), ["stage"]);
        assert_eq!(p("/a~0b/0"), ["a~b", "0"]);
        assert_eq!(p("/"), [""]);
        assert!(p("").is_empty());
    }

    #[test]
    fn keys_are_kept_verbatim_and_unknown_ids_are_errors() {
        assert_eq!(
            arg("ka.req.volume.hostpath", Some("/proc*")),
            Ok(Some(FieldArg::Key("/proc*".to_owned())))
        );
        assert_eq!(
            parse_arg(FieldId(u16::MAX), None),
            Err(ArgError::UnknownField { id: u16::MAX })
        );
    }
}
