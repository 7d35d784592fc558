//! Payload decoding: the shapes Falco accepts, the ones it refuses, and per-event errors.

use lanner_audit::{Decoder, EventError, PayloadError, decode_payload};

const TS: &str = r#""stageTimestamp":"2024-05-01T12:00:00Z""#;

fn event(id: &str) -> String {
    format!(r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"{id}",{TS}}}"#)
}

/// The `auditID`s of the events a payload decodes to (errors as their message).
fn ids(payload: &str) -> Result<Vec<String>, PayloadError> {
    let events = decode_payload(payload.as_bytes(), 10)?;
    Ok(events
        .into_iter()
        .map(|e| match e {
            Ok(e) => {
                let json = e.json();
                let id = json
                    .split("\"auditID\":\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next());
                format!("{}#{}", id.unwrap_or("?"), e.num())
            }
            Err(err) => err.to_string(),
        })
        .collect())
}

#[test]
fn a_single_event_decodes_with_its_time_and_number() {
    let events = decode_payload(event("a").as_bytes(), 7).unwrap();
    let e = events.into_iter().next().unwrap().unwrap();
    assert_eq!(e.num(), 7);
    assert_eq!(e.timestamp_ns(), 1_714_564_800_000_000_000);
    assert_eq!(e.json(), event("a"));
}

#[test]
fn an_event_list_yields_each_item_without_checking_its_kind() {
    let payload = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{},{{"auditID":"b",{TS}}}]}}"#,
        event("a")
    );
    assert_eq!(ids(&payload).unwrap(), ["a#10", "b#11"]);
    assert_eq!(
        ids(r#"{"kind":"EventList","items":[]}"#).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn nested_arrays_of_events_and_lists_are_flattened_in_order() {
    let list = format!(r#"{{"kind":"EventList","items":[{}]}}"#, event("b"));
    let payload = format!("[{}, [{list}, [[{}]]], []]", event("a"), event("c"));
    assert_eq!(ids(&payload).unwrap(), ["a#10", "b#11", "c#12"]);
}

#[test]
fn kind_zero_is_not_an_audit_event() {
    let err = decode_payload(br#"{"kind": 0}"#, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"not a Kubernetes audit event: no "kind" of "Event" or "EventList""#
    );
    for other in ["{}", r#"{"kind":"Pod"}"#, "5", r#""Event""#, "null"] {
        assert!(
            matches!(
                decode_payload(other.as_bytes(), 1),
                Err(PayloadError::NotAuditEvent { .. })
            ),
            "{other}"
        );
    }
}

#[test]
fn one_bad_array_element_drops_the_whole_payload_and_is_named() {
    let payload = format!(r#"[{}, [{}, {{"kind":"Pod"}}]]"#, event("a"), event("b"));
    let err = decode_payload(payload.as_bytes(), 1).unwrap_err();
    assert_eq!(
        err,
        PayloadError::NotAuditEvent {
            element: "[1][1]".to_owned()
        }
    );
    assert_eq!(
        err.to_string(),
        r#"array element [1][1]: not a Kubernetes audit event: no "kind" of "Event" or "EventList""#
    );
}

#[test]
fn an_event_list_without_items_is_refused() {
    let err = decode_payload(br#"{"kind":"EventList","items":{}}"#, 1).unwrap_err();
    assert_eq!(err.to_string(), r#"EventList has no "items" array"#);
}

#[test]
fn bad_json_reports_the_byte_offset() {
    let err = decode_payload(br#"{"kind":"Event",,}"#, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid JSON at byte 16: expected a string key"
    );
    let err = decode_payload(b"not json", 1).unwrap_err();
    assert_eq!(err.to_string(), "invalid JSON at byte 0: expected a value");
}

#[test]
fn a_truncated_line_is_invalid_json() {
    let line = event("a");
    let cut = line.get(..line.len() - 10).unwrap();
    let err = decode_payload(cut.as_bytes(), 1).unwrap_err();
    assert_eq!(
        err,
        PayloadError::InvalidJson {
            offset: cut.len(),
            reason: "unexpected end of input"
        }
    );
}

#[test]
fn missing_stage_timestamp_drops_only_that_event() {
    let payload = format!(
        r#"{{"kind":"EventList","items":[{{"auditID":"x"}},{},{{"auditID":"y","stageTimestamp":"yesterday"}},{{"stageTimestamp":5}}]}}"#,
        event("a")
    );
    let events = decode_payload(payload.as_bytes(), 1).unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0].as_ref().unwrap_err(),
        &EventError::NoStageTimestamp
    );
    assert_eq!(
        events[0].as_ref().unwrap_err().to_string(),
        "event has no stageTimestamp"
    );
    assert_eq!(events[1].as_ref().unwrap().num(), 1);
    assert_eq!(
        events[2].as_ref().unwrap_err().to_string(),
        r#"stageTimestamp "yesterday" is not RFC 3339"#
    );
    assert_eq!(
        events[3].as_ref().unwrap_err().to_string(),
        "stageTimestamp 5 is not RFC 3339"
    );
}

#[test]
fn timestamps_before_1970_are_out_of_range() {
    let line = br#"{"kind":"Event","stageTimestamp":"1969-12-31T23:59:59Z"}"#;
    let events = decode_payload(line, 1).unwrap();
    assert_eq!(
        events[0].as_ref().unwrap_err().to_string(),
        r#"stageTimestamp "1969-12-31T23:59:59Z" is out of range (1970 to 2262)"#
    );
}

#[test]
fn v1beta1_and_missing_api_version_are_accepted() {
    let v1beta1 =
        format!(r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"a",{TS}}}"#);
    let none = format!(r#"{{"kind":"Event","auditID":"b",{TS}}}"#);
    assert_eq!(ids(&v1beta1).unwrap(), ["a#10"]);
    assert_eq!(ids(&none).unwrap(), ["b#10"]);
}

#[test]
fn whitespace_is_removed_from_the_event_json_and_escapes_kept() {
    let line = "{ \"kind\" : \"Event\",\n \"auditID\": \"caf\\u00e9\", \"stageTimestamp\": \"2024-05-01T12:00:00Z\" }";
    let e = decode_payload(line.as_bytes(), 1)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(
        e.json(),
        r#"{"kind":"Event","auditID":"caf\u00e9","stageTimestamp":"2024-05-01T12:00:00Z"}"#
    );
}

#[test]
fn invalid_utf8_is_replaced_not_refused() {
    let mut line = br#"{"kind":"Event","auditID":"a"#.to_vec();
    line.push(0xff);
    line.extend_from_slice(br#"","stageTimestamp":"2024-05-01T12:00:00Z"}"#);
    let e = decode_payload(&line, 1).unwrap().remove(0).unwrap();
    assert!(e.json().contains("a\u{FFFD}"));
}

#[test]
fn a_decoder_gives_what_decode_payload_gives_and_never_disturbs_held_events() {
    let long = event(&"x".repeat(3000));
    let list = format!(
        r#"{{"kind":"EventList","items":[{},{}]}}"#,
        event("l1"),
        event("l2")
    );
    let payloads = [
        event("a"),
        long.clone(),
        "{\"kind\":\"Event\",".to_owned(),
        list,
        event("b"),
        "[1]".to_owned(),
        event("c"),
    ];
    let mut decoder = Decoder::new();
    let mut held = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        let mut events = Vec::new();
        let got = decoder.decode(payload.as_bytes(), 1, &mut events);
        let want = decode_payload(payload.as_bytes(), 1);
        match (got, want) {
            (Ok(()), Ok(want)) => {
                let json = |e: &Result<lanner_audit::Event, EventError>| {
                    e.as_ref().map(|e| (e.json().into_owned(), e.num())).ok()
                };
                let got: Vec<_> = events.iter().map(json).collect();
                let want: Vec<_> = want.iter().map(json).collect();
                assert_eq!(got, want, "payload {i}");
            }
            (Err(got), Err(want)) => {
                assert_eq!(got, want, "payload {i}");
                assert!(events.is_empty(), "payload {i}");
            }
            (got, want) => panic!("payload {i}: decoder {got:?}, decode_payload {want:?}"),
        }
        // Keep every other payload's events alive while the next ones are decoded: the
        // decoder must then not reuse their storage.
        if i % 2 == 1 {
            held.push((payload.clone(), events));
        }
    }
    for (payload, events) in held {
        for event in events.into_iter().flatten() {
            assert!(payload.contains(&*event.json()), "{payload}");
        }
    }
}
