//! String operators, prepared once per rule: `=`, `contains`, `glob`,
//! `regex`, `pmatch`, sets for `in`, ...
//!
//! Everything that can be built ahead is built when the rule is compiled:
//! substring finders (memchr), glob and regex automata, hash sets. Matching
//! a value then does no allocation except for `icontains` on non-ASCII-lower
//! text.

use foldhash::HashSet;
use globset::GlobMatcher;
use lanner_audit::util::same_bytes;
use lanner_rules::pattern;
use lanner_rules::syntax::ast::Op;
use memchr::memmem::Finder;
use regex::Regex;

/// A compiled string comparison against one right-hand value.
#[derive(Debug)]
pub enum StrMatcher {
    /// `=`
    Eq(Box<str>),
    /// `!=`
    Ne(Box<str>),
    /// `<`, `<=`, `>`, `>=` (byte-wise, as C `strcmp`).
    Order(Op, Box<str>),
    /// `contains` (boxed: a finder is large, the other variants small).
    Contains(Box<Finder<'static>>),
    /// `icontains` (needle lower-cased).
    IContains(Box<[u8]>),
    /// `startswith`
    StartsWith(Box<str>),
    /// `endswith`
    EndsWith(Box<str>),
    /// `glob`, `iglob` (fnmatch without `FNM_PATHNAME`: `*` crosses `/`).
    Glob(Box<GlobMatcher>),
    /// `regex` (anchored: the whole value must match).
    Regex(Box<Regex>),
}

/// Why a right-hand value could not be compiled (the loader already checks
/// regexes, so this is rare).
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// A bad glob pattern.
    #[error("invalid glob pattern `{0}`: {1}")]
    Glob(String, String),
    /// A bad regex.
    #[error("invalid regex `{0}`: {1}")]
    Regex(String, String),
    /// An operator that does not compare strings.
    #[error("operator `{0}` does not compare strings")]
    Operator(&'static str),
}

impl StrMatcher {
    /// Compiles `op` against `value`.
    pub fn new(op: Op, value: &str) -> Result<StrMatcher, MatcherError> {
        Ok(match op {
            Op::Eq | Op::EqEq => StrMatcher::Eq(value.into()),
            Op::Ne => StrMatcher::Ne(value.into()),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => StrMatcher::Order(op, value.into()),
            Op::Contains | Op::BContains => {
                StrMatcher::Contains(Box::new(Finder::new(value.as_bytes()).into_owned()))
            }
            Op::IContains => StrMatcher::IContains(value.to_ascii_lowercase().into_bytes().into()),
            Op::StartsWith | Op::BStartsWith => StrMatcher::StartsWith(value.into()),
            Op::EndsWith => StrMatcher::EndsWith(value.into()),
            Op::Glob | Op::IGlob => {
                let glob = pattern::glob(value, op == Op::IGlob)
                    .map_err(|e| MatcherError::Glob(value.to_owned(), e.kind().to_string()))?;
                StrMatcher::Glob(Box::new(glob))
            }
            Op::Regex => {
                let re = pattern::regex(value)
                    .map_err(|e| MatcherError::Regex(value.to_owned(), e.to_string()))?;
                StrMatcher::Regex(Box::new(re))
            }
            Op::In | Op::Intersects | Op::PMatch | Op::Exists => {
                return Err(MatcherError::Operator(op.as_str()));
            }
        })
    }

    /// Whether `s` satisfies the comparison.
    #[must_use]
    pub fn matches(&self, s: &str) -> bool {
        match self {
            StrMatcher::Eq(v) => same_bytes(s.as_bytes(), v.as_bytes()),
            StrMatcher::Ne(v) => !same_bytes(s.as_bytes(), v.as_bytes()),
            StrMatcher::Order(op, v) => {
                let ord = s.as_bytes().cmp(v.as_bytes());
                match op {
                    Op::Lt => ord.is_lt(),
                    Op::Le => ord.is_le(),
                    Op::Gt => ord.is_gt(),
                    _ => ord.is_ge(),
                }
            }
            StrMatcher::Contains(f) => f.find(s.as_bytes()).is_some(),
            StrMatcher::IContains(needle) => icontains(s.as_bytes(), needle),
            StrMatcher::StartsWith(v) => s.starts_with(&**v),
            StrMatcher::EndsWith(v) => s.ends_with(&**v),
            StrMatcher::Glob(g) => g.is_match(s),
            StrMatcher::Regex(re) => re.is_match(s),
        }
    }
}

fn icontains(haystack: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A set of strings for `in` and `intersects`: a short slice or a hash set.
#[derive(Debug)]
pub enum StrSet {
    /// Up to a handful of values: a linear scan beats hashing.
    Small(Box<[Box<str>]>),
    /// More values.
    Large(HashSet<Box<str>>),
}

impl StrSet {
    /// Builds a set of `values`.
    #[must_use]
    pub fn new(values: &[String]) -> StrSet {
        if values.len() <= 8 {
            StrSet::Small(values.iter().map(|v| v.as_str().into()).collect())
        } else {
            StrSet::Large(values.iter().map(|v| v.as_str().into()).collect())
        }
    }

    /// Whether `s` is in the set.
    #[must_use]
    pub fn contains(&self, s: &str) -> bool {
        match self {
            StrSet::Small(items) => items.iter().any(|i| same_bytes(i.as_bytes(), s.as_bytes())),
            StrSet::Large(set) => set.contains(s),
        }
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        match self {
            StrSet::Small(items) => items.is_empty(),
            StrSet::Large(set) => set.is_empty(),
        }
    }
}

/// `pmatch`: path-prefix match against a list of paths, component-wise;
/// components with `?*[` are matched as globs that never cross `/`.
#[derive(Debug)]
pub struct PathPrefixes {
    paths: Vec<Vec<Component>>,
}

#[derive(Debug)]
enum Component {
    Literal(Box<str>),
    Glob(Box<GlobMatcher>),
}

impl PathPrefixes {
    /// Compiles the paths of a `pmatch` list.
    pub fn new(paths: &[String]) -> Result<PathPrefixes, MatcherError> {
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            let mut components = Vec::new();
            for part in path.split('/').filter(|p| !p.is_empty()) {
                if pattern::has_wildcards(part) {
                    let glob = pattern::path_component(part)
                        .map_err(|e| MatcherError::Glob(part.to_owned(), e.kind().to_string()))?;
                    components.push(Component::Glob(Box::new(glob)));
                } else {
                    components.push(Component::Literal(part.into()));
                }
            }
            out.push(components);
        }
        Ok(PathPrefixes { paths: out })
    }

    /// Whether some path is a component-wise prefix of `s`.
    #[must_use]
    pub fn matches(&self, s: &str) -> bool {
        self.paths.iter().any(|prefix| {
            let mut parts = s.split('/').filter(|p| !p.is_empty());
            prefix.iter().all(|component| {
                parts.next().is_some_and(|part| match component {
                    Component::Literal(l) => &**l == part,
                    Component::Glob(g) => g.is_match(part),
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_star_crosses_slashes_like_fnmatch() {
        let m = StrMatcher::new(Op::Glob, "/etc/*").expect("glob");
        assert!(m.matches("/etc/kubernetes/admin.conf"));
        assert!(!m.matches("/var/etc"));
    }

    #[test]
    fn iglob_ignores_case() {
        let m = StrMatcher::new(Op::IGlob, "CR*").expect("glob");
        assert!(m.matches("create"));
    }

    #[test]
    fn regex_must_match_the_whole_value() {
        let m = StrMatcher::new(Op::Regex, "cre").expect("regex");
        assert!(!m.matches("create"));
        assert!(
            StrMatcher::new(Op::Regex, "cre.*")
                .expect("regex")
                .matches("create")
        );
    }

    #[test]
    fn icontains_is_ascii_case_insensitive() {
        let m = StrMatcher::new(Op::IContains, "CRE").expect("icontains");
        assert!(m.matches("xcreate"));
        assert!(!m.matches("crx"));
    }

    #[test]
    fn empty_needles_match_everything() {
        for op in [Op::Contains, Op::StartsWith, Op::EndsWith, Op::IContains] {
            assert!(StrMatcher::new(op, "").expect("op").matches("anything"));
        }
    }

    #[test]
    fn ordering_is_bytewise() {
        assert!(StrMatcher::new(Op::Gt, "1000").expect("gt").matches("201"));
    }

    #[test]
    fn pmatch_is_component_prefix() {
        let p = PathPrefixes::new(&["/tmp/hello".to_owned()]).expect("pmatch");
        assert!(p.matches("/tmp/hello"));
        assert!(p.matches("/tmp/hello/world"));
        assert!(!p.matches("/tmp/hello_world"));
        let g = PathPrefixes::new(&["/var/*/kubelet".to_owned()]).expect("pmatch");
        assert!(g.matches("/var/lib/kubelet/pods"));
        assert!(!g.matches("/var/lib/x/kubelet"));
    }

    #[test]
    fn sets_of_any_size_answer_membership() {
        let small = StrSet::new(&["a".to_owned(), "b".to_owned()]);
        assert!(small.contains("b") && !small.contains("c"));
        let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let large = StrSet::new(&many);
        assert!(large.contains("42") && !large.contains("x"));
    }
}
