//! Walking a key path that crosses arrays, the way Falco's `getValuesRecursive` does.
//!
//! Before each key, an array fans the rest of the path out over every element (or only
//! element `N` when an index is given; the same index applies at every array met). An element
//! where the rest of the path is missing leaves an empty slot, so results keep one slot per
//! element. The node reached by the last key is returned as is, arrays included. An empty key
//! stays on the current node.

use std::borrow::Cow;

use crate::catalog::Slots;
use crate::tape::{Kind, NodeRef};

/// The slots found by walking `keys` from `node`; `None` when the path is missing before any
/// array fans out, or when the index is out of range.
pub(crate) fn walk<'d>(
    node: NodeRef<'d>,
    index: Option<u32>,
    keys: &[&str],
) -> Option<Vec<Option<NodeRef<'d>>>> {
    let mut node = node;
    for (i, key) in keys.iter().enumerate() {
        if node.kind() == Kind::Array {
            match index {
                None => {
                    let rest = keys.get(i..).unwrap_or_default();
                    let mut slots = Vec::new();
                    for element in node.elements() {
                        match walk(element, None, rest) {
                            Some(found) => slots.extend(found),
                            None => slots.push(None),
                        }
                    }
                    return Some(slots);
                }
                Some(n) => node = node.elements().nth(usize::try_from(n).ok()?)?,
            }
        }
        if !key.is_empty() {
            node = node.get(key)?;
        }
    }
    Some(vec![Some(node)])
}

/// Turn slots into the values of a list field, as `slots` says; `None` means the field is
/// not available (including when no value is left).
pub(crate) fn values<'d>(
    found: Vec<Option<NodeRef<'d>>>,
    slots: Slots,
) -> Option<Vec<Cow<'d, str>>> {
    let out: Vec<Cow<'d, str>> = match slots {
        Slots::SkipNil => found.into_iter().flatten().map(NodeRef::text).collect(),
        Slots::Strict => found
            .into_iter()
            .map(|slot| slot.map(NodeRef::text))
            .collect::<Option<_>>()?,
        Slots::Repository => found
            .into_iter()
            .map(|slot| slot.map(|n| repository(n.text())))
            .collect::<Option<_>>()?,
        Slots::Joined => found
            .into_iter()
            .flatten()
            .map(joined)
            .collect::<Option<_>>()?,
        Slots::Flatten => found
            .into_iter()
            .flatten()
            .flat_map(|n| -> Vec<Cow<'d, str>> {
                if n.kind() == Kind::Array {
                    n.elements().map(NodeRef::text).collect()
                } else {
                    vec![n.text()]
                }
            })
            .collect(),
    };
    (!out.is_empty()).then_some(out)
}

/// An array of strings joined with single spaces; anything else is a type error (`None`).
fn joined(node: NodeRef<'_>) -> Option<Cow<'_, str>> {
    if node.kind() != Kind::Array {
        return None;
    }
    let parts: Vec<Cow<'_, str>> = node
        .elements()
        .map(NodeRef::as_str)
        .collect::<Option<_>>()?;
    Some(match parts.as_slice() {
        [one] => one.clone(),
        _ => Cow::Owned(parts.join(" ")),
    })
}

/// Falco's naive repository of an image: up to the first `:`, then up to the first `@`
/// (so `registry:5000/app:1` gives `registry`).
pub(crate) fn repository(image: Cow<'_, str>) -> Cow<'_, str> {
    let cut = |s: &str| -> usize {
        let before_colon = s.split(':').next().unwrap_or(s);
        before_colon.split('@').next().unwrap_or(before_colon).len()
    };
    match image {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(..cut(s)).unwrap_or(s)),
        Cow::Owned(mut s) => {
            s.truncate(cut(&s));
            Cow::Owned(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn texts(json: &str, index: Option<u32>, keys: &[&str]) -> Option<Vec<Option<String>>> {
        let doc = parse(json.to_owned()).unwrap();
        let found = walk(doc.node(0).unwrap(), index, keys)?;
        Some(
            found
                .into_iter()
                .map(|s| s.map(|n| n.text().into_owned()))
                .collect(),
        )
    }

    #[test]
    fn arrays_fan_out_and_keep_a_slot_per_element() {
        let json = r#"{"c":[{"n":"a"},{},{"n":"b"}]}"#;
        assert_eq!(
            texts(json, None, &["c", "n"]),
            Some(vec![Some("a".into()), None, Some("b".into())])
        );
        assert_eq!(
            texts(json, Some(2), &["c", "n"]),
            Some(vec![Some("b".into())])
        );
        assert_eq!(texts(json, Some(1), &["c", "n"]), None);
        assert_eq!(texts(json, Some(3), &["c", "n"]), None);
        assert_eq!(texts(json, None, &["x", "n"]), None);
    }

    #[test]
    fn the_last_node_is_not_flattened_and_the_index_is_reused_at_every_level() {
        let json =
            r#"{"p":[1,2],"a":[{"b":[{"k":"00"},{"k":"01"}]},{"b":[{"k":"10"},{"k":"11"}]}]}"#;
        assert_eq!(texts(json, None, &["p"]), Some(vec![Some("[1,2]".into())]));
        assert_eq!(
            texts(json, Some(1), &["p"]),
            Some(vec![Some("[1,2]".into())])
        );
        assert_eq!(
            texts(json, Some(1), &["a", "b", "k"]),
            Some(vec![Some("11".into())])
        );
        assert_eq!(
            texts(json, None, &["a", "b", "k"]).map(|v| v.len()),
            Some(4)
        );
        // An array met right after another one is indexed once, then the key applies to it.
        let nested = r#"{"m":[[{"k":"00"}],[{"k":"10"}]]}"#;
        assert_eq!(texts(nested, Some(1), &["m", "k"]), None);
        assert_eq!(texts(nested, None, &["m", "k"]).map(|v| v.len()), Some(2));
    }

    #[test]
    fn repository_is_cut_naively_at_colon_then_at() {
        let repo = |s: &str| repository(Cow::Borrowed(s)).into_owned();
        assert_eq!(repo("nginx:1.25"), "nginx");
        assert_eq!(
            repo("docker.io/falcosecurity/falco@sha256:abc"),
            "docker.io/falcosecurity/falco"
        );
        assert_eq!(repo("myreg:5000/team/app:1"), "myreg");
        assert_eq!(repo("busybox"), "busybox");
        assert_eq!(repository(Cow::Owned("a:b".to_owned())), "a");
    }
}
