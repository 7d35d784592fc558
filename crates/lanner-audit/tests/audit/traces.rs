//! Falco's `k8s_audit` trace corpus, when `../shared/falco` is checked out beside the
//! repository: every line decodes, except `fal_01_003.json` (`{"kind": 0}`), which Falco
//! also refuses.

use std::path::Path;

use lanner_audit::{PayloadError, decode_payload, open_input};

#[test]
fn every_falco_trace_decodes_except_kind_zero() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/falco/traces/k8s_audit");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipping: no trace directory at {}", dir.display());
        return;
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    let (mut files, mut events) = (0, 0u64);
    for path in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        files += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut reader = open_input(path).unwrap();
        while let Some(line) = reader.next_line() {
            let (n, line) = line.unwrap_or_else(|e| panic!("{name}:{}: {e}", e.line()));
            match decode_payload(line, events + 1) {
                Ok(decoded) => {
                    assert_ne!(name, "fal_01_003.json", "kind 0 must be refused");
                    for event in decoded {
                        event.unwrap_or_else(|e| panic!("{name}:{n}: {e}"));
                        events += 1;
                    }
                }
                Err(e) => {
                    assert_eq!(name, "fal_01_003.json", "{name}:{n}: {e}");
                    assert!(matches!(e, PayloadError::NotAuditEvent { .. }));
                }
            }
        }
    }
    println!("decoded {events} events from {files} trace files");
    assert!(files > 0 && events > 0);
}
