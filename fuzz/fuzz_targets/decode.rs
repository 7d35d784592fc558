//! The event decoder: any bytes are decoded as a payload (an event, an
//! `EventList`, arrays of them), and every field of the catalog extracted
//! from every event that decodes, without and with a few arguments.
//! Nothing may panic.

#![no_main]

use lanner_audit::{decode_payload, extract, fields, lookup, parse_arg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(events) = decode_payload(data, 1) else {
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
