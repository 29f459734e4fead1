//! The rule set's bounds: headers that would corrupt the wire, the cap on rules, and the
//! index that keeps non-matching rules cheap without changing which rule fires.

use serde_json::{Value, json};

use super::*;

fn spec(value: Value) -> RuleSpec {
    serde_json::from_value(value).unwrap()
}

fn faults() -> Faults {
    Faults::new(7).with_codecs(crate::server::codecs())
}

fn info(device: &str, service: &str, method: &str) -> RequestInfo {
    RequestInfo {
        api: "bravia".to_owned(),
        device: device.to_owned(),
        http_method: "POST".to_owned(),
        path: format!("/sony/{service}"),
        service: Some(service.to_owned()),
        method: Some(method.to_owned()),
    }
}

#[test]
fn framing_and_hop_by_hop_headers_are_refused_naming_the_header() {
    for name in [
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Keep-Alive",
        "Upgrade",
        "TE",
        "Trailer",
    ] {
        let error = faults()
            .add(spec(json!({"action": "status", "status": 200, "body": "0123456789", "headers": {name: "5"}})))
            .expect_err(name);
        assert_eq!(error.field, format!("headers.{name}"), "{error}");
        assert!(error.message.starts_with(&format!("{name} frames")), "{error}");
    }
    // Other headers still go through.
    faults()
        .add(spec(json!({"action": "status", "status": 503, "headers": {"Retry-After": "5"}})))
        .unwrap();
}

#[test]
fn rules_past_the_cap_are_refused_via_add_and_add_all() {
    let faults = faults();
    let many: Vec<RuleSpec> = (0..MAX_RULES)
        .map(|n| {
            spec(json!({"match": {"device": format!("d{n}")}, "action": "status", "status": 500}))
        })
        .collect();
    assert_eq!(faults.add_all(many).unwrap().len(), MAX_RULES);
    let error = faults.add(spec(json!({"action": "status", "status": 500}))).unwrap_err();
    assert!(error.to_string().contains("past the cap of 10000"), "{error}");
    let (_, error) = faults.add_all(vec![spec(json!({"action": "reset"}))]).unwrap_err();
    assert!(error.to_string().contains("cap"), "{error}");
    assert_eq!(faults.rules().len(), MAX_RULES);
    faults.clear();
    faults.add(spec(json!({"action": "reset"}))).unwrap();
}

#[test]
fn the_index_fires_the_same_rule_as_a_scan_of_the_list() {
    // Rules filed under every key kind, interleaved, with counts that remove them as they
    // fire: the first matching rule in list order must win every time.
    let rules = [
        json!({"match": {"device": "bravia-1"}, "action": "status", "status": 500, "count": 2}),
        json!({"match": {"path": "/sony/audio"}, "action": "status", "status": 501, "count": 1}),
        json!({"match": {"service": "system", "method": "getPowerStatus"}, "action": "status", "status": 502, "count": 1}),
        json!({"match": {"api": "bravia"}, "action": "status", "status": 503, "count": 3}),
        json!({"action": "status", "status": 504}),
        json!({"match": {"device": "bravia-0", "service": "audio"}, "action": "status", "status": 505}),
    ];
    let indexed = faults();
    for rule in &rules {
        indexed.add(spec(rule.clone())).unwrap();
    }
    let requests = [
        info("bravia-0", "system", "getPowerStatus"),
        info("bravia-1", "audio", "setAudioVolume"),
        info("bravia-0", "audio", "getVolumeInformation"),
        info("bravia-1", "system", "getPowerStatus"),
        info("bravia-0", "video", "x"),
        info("bravia-0", "audio", "y"),
        info("bravia-1", "audio", "y"),
        info("bravia-0", "system", "getPowerStatus"),
    ];
    let mut scanned: Vec<(u64, Value)> =
        rules.iter().enumerate().map(|(i, r)| (i as u64 + 1, r.clone())).collect();
    for request in &requests {
        let fired = indexed.decide(request).map(|rule| rule.id);
        // The same decision by a plain scan of what is left.
        let expected =
            scanned.iter().position(|(_, rule)| spec(rule.clone()).matcher.matches(request));
        let expected_id = expected.map(|position| scanned[position].0);
        assert_eq!(fired, expected_id, "{request:?}");
        if let Some(position) = expected {
            let count = &mut scanned[position].1["count"];
            if let Some(n) = count.as_u64() {
                *count = json!(n - 1);
                if n == 1 {
                    scanned.remove(position);
                }
            }
        }
    }
}

#[test]
fn ten_thousand_rules_for_other_devices_are_not_scanned() {
    let faults = faults();
    let others: Vec<RuleSpec> = (0..MAX_RULES - 1)
        .map(|n| spec(json!({"match": {"device": format!("other-{n}")}, "action": "status", "status": 500})))
        .collect();
    faults.add_all(others).unwrap();
    faults
        .add(spec(json!({"match": {"device": "bravia-0"}, "action": "status", "status": 503})))
        .unwrap();
    let request = info("bravia-0", "system", "getPowerStatus");
    let inner = faults.lock();
    let candidates: Vec<usize> = inner.index.candidates(&request).collect();
    assert_eq!(candidates, vec![MAX_RULES - 1], "only the rule filed under bravia-0");
}
