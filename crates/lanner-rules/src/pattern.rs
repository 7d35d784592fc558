//! How `glob`, `iglob`, `regex` and `pmatch` patterns are compiled: one
//! place, used both to check rules at load time and by the engine, so a
//! pattern that loads is a pattern the engine can run.

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;

/// A `glob`/`iglob` pattern with fnmatch semantics as Falco uses them
/// (flags 0): `*` and `?` cross `/`, `[...]` and `[!...]` classes,
/// backslash escapes; the whole value must match.
pub fn glob(pattern: &str, case_insensitive: bool) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .case_insensitive(case_insensitive)
        .build()?
        .compile_matcher())
}

/// One component of a `pmatch` path: wildcards never cross `/`.
pub fn path_component(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()?
        .compile_matcher())
}

/// A `regex` pattern, anchored at both ends (Falco's RE2 `ANCHOR_BOTH`).
pub fn regex(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Whether a `pmatch` path component has wildcards.
#[must_use]
pub fn has_wildcards(component: &str) -> bool {
    component.contains(['?', '*', '['])
}
