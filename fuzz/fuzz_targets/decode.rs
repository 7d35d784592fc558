//! The event decoder: any bytes are decoded as a payload (an event, an
//! `EventList`, arrays of them), and every field of the catalog extracted
//! from every event that decodes, without and with a few arguments.
//! Nothing may panic. Differential check of the parser: a payload serde_json accepts
//! (RFC 8259, nesting up to 128) must not be refused as invalid JSON. Lanner is more
//! lenient (raw control characters in strings, lone surrogate escapes, nesting to 300, as
//! fastjson), so the other direction does not hold.

#![no_main]

use lanner_audit::{PayloadError, decode_payload, extract, fields, lookup, parse_arg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = decode_payload(data, 1);
    if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        assert!(
            !matches!(decoded, Err(PayloadError::InvalidJson { .. })),
            "serde_json accepts what Lanner refused: {decoded:?}"
        );
    }
    let Ok(events) = decoded else {
        return;
    };
    for event in events.into_iter().flatten() {
        for def in fields() {
            let Some(id) = lookup(def.name) else { continue };
            let _ = extract(&event, id, None);
            for raw in ["0", "1", "/", "/spec/containers/0/image", "command"] {
                if let Ok(arg) = parse_arg(id, Some(raw)) {
                    let _ = extract(&event, id, arg.as_ref());
                }
            }
        }
    }
});
