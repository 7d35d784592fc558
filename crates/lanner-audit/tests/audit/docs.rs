//! `docs/fields.md` is generated from the catalog; this test fails when it is stale.
//! Regenerate with `LANNER_BLESS=1 cargo test -p lanner-audit`.

use std::path::Path;

#[test]
fn fields_md_matches_the_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/fields.md");
    let want = lanner_audit::fields_markdown();
    if std::env::var_os("LANNER_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale; run LANNER_BLESS=1 cargo test -p lanner-audit",
        path.display()
    );
}
