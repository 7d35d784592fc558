//! `ka.uri.param[key]`: the first value of a query parameter of `requestURI`.
//!
//! Falco's plugin uses Go's `url.Parse` then `url.ParseQuery` and gives up (not available)
//! when either reports an error, even if the wanted parameter itself is fine. The checks here
//! are the errors those functions report for request URIs: control characters anywhere, a
//! malformed `%` escape in the path, query or fragment, and a `;` in the query. Decoding
//! (`%XX`, `+` as a space) is `form_urlencoded`'s.

use std::borrow::Cow;

/// The first value of query parameter `key` in `uri`, decoded; `None` when the URI does not
/// parse or the parameter is absent.
pub(crate) fn query_param<'u>(uri: &'u str, key: &str) -> Option<Cow<'u, str>> {
    if uri.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let (before_fragment, fragment) = uri.split_once('#').unwrap_or((uri, ""));
    let (path, query) = before_fragment
        .split_once('?')
        .unwrap_or((before_fragment, ""));
    if !escapes_ok(path) || !escapes_ok(fragment) || !escapes_ok(query) || query.contains(';') {
        return None;
    }
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.as_ref() == key)
        .map(|(_, v)| v)
}

/// Every `%` is followed by two hex digits.
fn escapes_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || b.get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    })
}

#[cfg(test)]
mod tests {
    use super::query_param;

    #[test]
    fn first_value_is_decoded() {
        let uri = "/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&command=id&container=a%20b+c";
        assert_eq!(query_param(uri, "command").as_deref(), Some("sh"));
        assert_eq!(query_param(uri, "container").as_deref(), Some("a b c"));
        assert_eq!(query_param(uri, "stdin"), None);
        assert_eq!(query_param("/x?a%3Db=1", "a=b").as_deref(), Some("1"));
        assert_eq!(query_param("/x?flag", "flag").as_deref(), Some(""));
        assert_eq!(query_param("/x?a=1#frag", "a").as_deref(), Some("1"));
    }

    #[test]
    fn any_parse_error_makes_the_parameter_unavailable() {
        assert_eq!(query_param("/x?a=1;b=2", "a"), None);
        assert_eq!(query_param("/x?a=1&b=%zz", "a"), None);
        assert_eq!(query_param("/x%2?a=1", "a"), None);
        assert_eq!(query_param("/x?a=1\n", "a"), None);
    }
}
