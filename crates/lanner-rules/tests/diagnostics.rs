//! Golden diagnostics: each rules file in `fixtures/diagnostics/` is loaded
//! on its own, and every diagnostic it produces is rendered as a terminal
//! would show it (`file:line:col`, the source line, carets, context, help)
//! and compared with its snapshot in `snapshots/`.
//!
//! A fixture is named after the code(s) it shows and what it shows:
//! `E301_unknown_field_suggests_closest.yaml`. `every_code_has_a_fixture`
//! fails when a code in `Code::ALL` has none, so a new code cannot ship
//! without one. Regenerate with `INSTA_UPDATE=always cargo test -p
//! lanner-rules --test diagnostics` and read the diff.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use lanner_rules::{Code, Loaded, Loader};

const FIXTURES: &str = "tests/fixtures/diagnostics";

/// Loads one fixture under its file name. A file that is not UTF-8 goes
/// through `add_path` (it is how `E111` happens); every other file through
/// `add_source`.
fn load(path: &Path) -> Loaded {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("fixture names are UTF-8");
    let bytes = std::fs::read(path).expect("fixture is readable");
    let mut loader = Loader::new();
    match String::from_utf8(bytes) {
        Ok(text) => loader.add_source(name, text),
        // Relative to the crate, so the snapshot does not depend on where
        // the repository is checked out.
        Err(_) => loader.add_path(&Path::new(FIXTURES).join(name)),
    }
    loader.finish()
}

/// Every diagnostic rendered, then one line saying what loaded.
fn render(loaded: &Loaded) -> String {
    let mut out = String::new();
    for d in loaded.diagnostics.items() {
        out.push_str(&d.render(&loaded.sources));
    }
    let names: Vec<&str> = loaded
        .ruleset
        .rules
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let _ = write!(
        out,
        "{} errors, {} warnings; k8s_audit rules loaded: {names:?}",
        loaded.diagnostics.error_count(),
        loaded.diagnostics.warning_count()
    );
    out
}

/// The codes a fixture's name starts with: `E105_E301_...` gives both.
fn named_codes(path: &Path) -> Vec<String> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    stem.split('_')
        .take_while(|part| Code::ALL.iter().any(|c| c.as_str() == *part))
        .map(str::to_owned)
        .collect()
}

fn fixtures() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixture directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn fixtures_render_as_snapshotted() {
    insta::glob!("fixtures/diagnostics/*.yaml", |path| {
        insta::assert_snapshot!(render(&load(path)));
    });
}

#[test]
fn each_fixture_shows_the_codes_in_its_name() {
    for path in fixtures() {
        let named = named_codes(&path);
        assert!(
            !named.is_empty(),
            "{}: name must start with a code",
            path.display()
        );
        let loaded = load(&path);
        let found: BTreeSet<&str> = loaded
            .diagnostics
            .items()
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        for code in named {
            assert!(
                found.contains(code.as_str()),
                "{}: no {code} among {found:?}",
                path.display()
            );
        }
    }
}

#[test]
fn every_code_has_a_fixture() {
    let mut found = BTreeSet::new();
    for path in fixtures() {
        for d in load(&path).diagnostics.items() {
            found.insert(d.code);
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !found.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

#[test]
fn every_diagnostic_of_a_fixture_has_a_place() {
    // Only a file that cannot be read has no position to point at.
    for path in fixtures() {
        let loaded = load(&path);
        for d in loaded.diagnostics.items() {
            assert!(
                d.span.is_some() || d.code == Code::E111,
                "{}: {} has no span: {}",
                path.display(),
                d.code.as_str(),
                d.message
            );
        }
    }
}
