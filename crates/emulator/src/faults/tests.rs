use std::time::{Duration, Instant};

use serde_json::json;

use std::io;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::StatusCode;
use serde_json::Value;

use super::layer::truncate_json;
use super::set::SplitMix64;
use super::*;
use crate::journal::{Delivery, JournalQuery};
use crate::journal::{FiredRule, Journal};
use crate::testkit::{FakeServer, Got, json_body, post, request, rpc};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

fn spec(value: Value) -> RuleSpec {
    serde_json::from_value(value).unwrap()
}

fn refusal(value: Value) -> RuleError {
    Faults::new(1)
        .with_codecs(crate::server::codecs())
        .add(spec(value))
        .expect_err("the rule is refused")
}

fn info(service: &str, method: &str) -> RequestInfo {
    RequestInfo {
        api: "bravia".to_owned(),
        device: "bravia-0".to_owned(),
        http_method: "POST".to_owned(),
        path: format!("/sony/{service}"),
        service: Some(service.to_owned()),
        method: Some(method.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Checking rules
// ---------------------------------------------------------------------------------------------

#[test]
fn a_code_rule_is_checked_against_the_registry_and_gets_its_api() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    let rule = faults.add(spec(json!({"action": "code", "code": 40200}))).unwrap();
    assert_eq!(rule.id, 1);
    assert_eq!(rule.spec.matcher.api.as_deref(), Some("bravia"));
    let resolved = rule.resolved.unwrap();
    assert_eq!((resolved.code.as_str(), resolved.reason.as_str()), ("40200", "Password expired"));
    assert_eq!(resolved.http_status, 200);
}

#[test]
fn an_unknown_code_names_the_field_and_how_to_list_codes() {
    let error = refusal(json!({"action": "code", "code": 39999}));
    assert_eq!(error.field, "code");
    assert!(error.message.contains("39999 is not in the BRAVIA registry"), "{error}");
    assert!(error.message.contains("devfault list --api bravia"), "{error}");
    let error = refusal(json!({"action": "code", "code": 39999, "match": {"api": "bravia"}}));
    assert_eq!(error.field, "code");
    assert!(error.message.contains("devfault list --api bravia"), "{error}");
}

#[test]
fn a_bravia_code_written_as_a_string_is_refused_with_the_number_to_write() {
    let error = refusal(json!({"action": "code", "code": "40000", "match": {"api": "bravia"}}));
    assert!(error.message.contains("write 40000, not \"40000\""), "{error}");
}

#[test]
fn a_message_picks_one_of_the_rows_of_a_code() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    let rule =
        faults.add(spec(json!({"action": "code", "code": 7, "message": "not power-on"}))).unwrap();
    assert_eq!(rule.resolved.unwrap().message, "not power-on");
    let error = refusal(json!({"action": "code", "code": 7, "message": "asleep"}));
    assert_eq!(error.field, "code");
    assert!(error.message.contains("\"not power-on\""), "lists the messages: {error}");
}

#[test]
fn a_thinq_code_is_accepted_for_the_thinq_api() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    let rule = faults.add(spec(json!({"action": "code", "code": "1101"}))).unwrap();
    assert_eq!(rule.spec.matcher.api.as_deref(), Some("thinq"));
}

#[test]
fn every_refusal_names_the_member_at_fault() {
    let cases = [
        (json!({"action": "code"}), "code"),
        (json!({"action": "status"}), "status"),
        (json!({"action": "status", "status": 99}), "status"),
        (json!({"action": "status", "status": 103}), "status"),
        (json!({"action": "status", "status": 600}), "status"),
        (json!({"action": "delay"}), "delay_ms"),
        (json!({"action": "delay", "delay_ms": MAX_DELAY_MS + 1}), "delay_ms"),
        (json!({"action": "reset", "status": 500}), "status"),
        (json!({"action": "reset", "code": 40000}), "code"),
        (json!({"action": "no_answer", "delay_ms": 10}), "delay_ms"),
        (json!({"action": "delay", "delay_ms": 10, "body": "x"}), "body"),
        (json!({"action": "reset", "probability": 1.5}), "probability"),
        (json!({"action": "reset", "probability": -0.1}), "probability"),
        (json!({"action": "reset", "count": 0}), "count"),
        (json!({"action": "reset", "match": {"api": "hue"}}), "match.api"),
        (json!({"action": "reset", "match": {"path": "sony"}}), "match.path"),
        (json!({"action": "reset", "match": {"http_method": "PO ST"}}), "match.http_method"),
        (json!({"action": "reset", "match": {"service": ""}}), "match.service"),
        (
            json!({"action": "status", "status": 503, "headers": {"Bad Name": "1"}}),
            "headers.Bad Name",
        ),
    ];
    for (rule, field) in cases {
        let error = refusal(rule.clone());
        assert_eq!(error.field, field, "{rule} -> {error}");
    }
}

#[test]
fn the_refusal_says_which_members_an_action_takes() {
    let error = refusal(json!({"action": "reset", "status": 500}));
    assert_eq!(error.message, "is not used by action reset; reset takes delay_ms");
    let error = refusal(json!({"action": "reset", "match": {"api": "hue"}}));
    assert!(error.message.contains("accepted: bravia, thinq"), "{error}");
}

#[test]
fn an_interim_status_is_refused_with_the_reason() {
    let error = refusal(json!({"action": "status", "status": 100}));
    assert!(error.message.contains("200-599"), "{error}");
}

#[test]
fn json_errors_name_the_unknown_member_or_action_and_what_is_accepted() {
    let error = serde_json::from_str::<RuleSpec>(r#"{"action": "rest"}"#).unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `rest`, expected one of `code`"),
        "{error}"
    );
    let error = serde_json::from_str::<RuleSpec>(r#"{"action": "reset", "cont": 1}"#).unwrap_err();
    assert!(error.to_string().contains("unknown field `cont`"), "{error}");
    let error = serde_json::from_str::<RuleSpec>(r#"{"action": "reset", "match": {"srv": "x"}}"#)
        .unwrap_err();
    assert!(error.to_string().contains("unknown field `srv`, expected one of `api`"), "{error}");
}

#[test]
fn add_all_adds_every_rule_or_none() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    let specs =
        vec![spec(json!({"action": "reset"})), spec(json!({"action": "code", "code": 39999}))];
    let (index, error) = faults.add_all(specs).unwrap_err();
    assert_eq!((index, error.field.as_str()), (1, "code"));
    assert!(faults.rules().is_empty());
    let rules = faults
        .add_all(vec![spec(json!({"action": "reset"})), spec(json!({"action": "no_answer"}))])
        .unwrap();
    assert_eq!(rules.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn ids_are_not_reused_after_a_removal() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    let first = faults.add(RuleSpec::new(ActionKind::Reset)).unwrap();
    assert!(faults.remove(first.id));
    assert!(!faults.remove(first.id));
    assert_eq!(faults.add(RuleSpec::new(ActionKind::Reset)).unwrap().id, 2);
    assert_eq!(faults.clear(), 1);
}

// ---------------------------------------------------------------------------------------------
// Deciding
// ---------------------------------------------------------------------------------------------

#[test]
fn every_member_of_match_must_match() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    faults
        .add(spec(json!({
            "match": {"api": "bravia", "device": "bravia-0", "service": "audio",
                      "method": "setAudioVolume", "path": "/sony/au", "http_method": "post"},
            "action": "reset"
        })))
        .unwrap();
    assert!(faults.decide(&info("audio", "setAudioVolume")).is_some());
    assert!(faults.decide(&info("audio", "getVolumeInformation")).is_none());
    assert!(faults.decide(&info("system", "setAudioVolume")).is_none());
    let mut other = info("audio", "setAudioVolume");
    other.device = "bravia-1".to_owned();
    assert!(faults.decide(&other).is_none());
    let mut other = info("audio", "setAudioVolume");
    other.http_method = "GET".to_owned();
    assert!(faults.decide(&other).is_none());
    let mut other = info("audio", "setAudioVolume");
    other.api = "thinq".to_owned();
    assert!(faults.decide(&other).is_none());
}

#[test]
fn the_first_rule_that_fires_wins() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    faults.add(spec(json!({"match": {"service": "audio"}, "action": "reset"}))).unwrap();
    faults.add(spec(json!({"action": "no_answer"}))).unwrap();
    faults.add(spec(json!({"action": "status", "status": 500}))).unwrap();
    assert_eq!(faults.decide(&info("audio", "x")).map(|r| r.id), Some(1));
    assert_eq!(faults.decide(&info("system", "x")).map(|r| r.id), Some(2));
}

#[test]
fn probability_zero_never_fires_and_one_always_does() {
    let faults = Faults::new(7).with_codecs(crate::server::codecs());
    faults.add(spec(json!({"action": "reset", "probability": 0.0}))).unwrap();
    faults.add(spec(json!({"action": "no_answer", "probability": 1.0}))).unwrap();
    for _ in 0..200 {
        assert_eq!(faults.decide(&info("system", "x")).map(|r| r.id), Some(2));
    }
    assert_eq!(faults.rules()[0].fired, 0);
    assert_eq!(faults.rules()[1].fired, 200);
}

#[test]
fn a_rule_expires_after_count_firings() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    faults.add(spec(json!({"action": "reset", "count": 2}))).unwrap();
    let first = faults.decide(&info("system", "x")).unwrap();
    assert_eq!((first.spec.count, first.fired), (Some(1), 1));
    assert_eq!(faults.rules()[0].spec.count, Some(1), "the count counts down");
    assert!(faults.decide(&info("system", "x")).is_some());
    assert!(faults.rules().is_empty(), "expired");
    assert!(faults.decide(&info("system", "x")).is_none());
}

fn draws(faults: &Faults, n: usize) -> Vec<bool> {
    (0..n).map(|_| faults.decide(&info("system", "x")).is_some()).collect()
}

#[test]
fn the_same_seed_and_requests_give_the_same_decisions() {
    let rule = json!({"action": "reset", "probability": 0.5});
    let a = Faults::new(42).with_codecs(crate::server::codecs());
    let b = Faults::new(42).with_codecs(crate::server::codecs());
    a.add(spec(rule.clone())).unwrap();
    b.add(spec(rule.clone())).unwrap();
    let first = draws(&a, 200);
    assert_eq!(first, draws(&b, 200));
    let fired = first.iter().filter(|&&f| f).count();
    assert!((60..=140).contains(&fired), "about half of 200 fire: {fired}");

    let c = Faults::new(43).with_codecs(crate::server::codecs());
    c.add(spec(rule)).unwrap();
    assert_ne!(first, draws(&c, 200), "another seed, other decisions");

    a.set_seed(42);
    assert_eq!(first, draws(&a, 200), "set_seed restarts the sequence");
    assert_eq!(a.seed(), 42);
}

#[test]
fn draws_are_spent_only_on_rules_with_a_real_chance() {
    // A certain rule in front must not shift the sequence of the uncertain one.
    let a = Faults::new(9).with_codecs(crate::server::codecs());
    a.add(spec(json!({"match": {"service": "audio"}, "action": "reset"}))).unwrap();
    a.add(spec(json!({"match": {"service": "system"}, "action": "reset", "probability": 0.3})))
        .unwrap();
    let b = Faults::new(9).with_codecs(crate::server::codecs());
    b.add(spec(json!({"match": {"service": "system"}, "action": "reset", "probability": 0.3})))
        .unwrap();
    let mixed: Vec<bool> = (0..100)
        .filter_map(|i| {
            if i % 2 == 0 {
                a.decide(&info("audio", "x"));
                None
            } else {
                Some(a.decide(&info("system", "x")).is_some())
            }
        })
        .collect();
    let alone: Vec<bool> = (0..50).map(|_| b.decide(&info("system", "x")).is_some()).collect();
    assert_eq!(mixed, alone);
}

#[test]
fn splitmix_matches_the_reference_sequence() {
    // First outputs of SplitMix64 seeded with 1234567 (from the reference implementation).
    let mut rng = SplitMix64::new(1_234_567);
    assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
    assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    let x = SplitMix64::new(5).next_f64();
    assert!((0.0..1.0).contains(&x));
}

#[test]
fn truncated_bodies_are_not_json() {
    for body in [
        &b"{\"result\":[{\"status\":\"active\"}],\"id\":1}"[..],
        b"",
        b"{}",
        "{\"é\":\"ééé\"}".as_bytes(),
    ] {
        let cut = truncate_json(body);
        assert!(serde_json::from_slice::<Value>(&cut).is_err(), "{cut:?}");
        assert!(std::str::from_utf8(&cut).is_ok(), "{cut:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Over a real socket
// ---------------------------------------------------------------------------------------------

async fn server_with(rule: Value) -> FakeServer {
    let faults = Faults::new(1)
        .with_codecs(crate::server::codecs())
        .with_max_hold(Duration::from_millis(600));
    faults.add(spec(rule)).unwrap();
    FakeServer::start(faults).await
}

#[tokio::test]
async fn without_rules_the_device_answers_and_the_journal_records_it() {
    let server = FakeServer::start(Faults::new(1).with_codecs(crate::server::codecs())).await;
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 3), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 200);
    assert_eq!(json_body(&response)["result"][0]["method"], "getPowerStatus");
    let entries = server.journal.query(&JournalQuery::default());
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!((entry.device.as_str(), entry.outcome), ("bravia-0", Delivery::Answered));
    assert_eq!(entry.request.service.as_deref(), Some("system"));
    assert_eq!(entry.request.rpc_method.as_deref(), Some("getPowerStatus"));
    assert_eq!(entry.response.as_ref().map(|r| r.status), Some(200));
    assert!(entry.decoded.is_none() && entry.fault.is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_code_rule_answers_with_the_vendor_body_and_the_request_id() {
    let server = server_with(json!({
        "match": {"service": "system", "method": "getPowerStatus"},
        "action": "code", "code": 40000, "headers": {"Retry-After": "2"}
    }))
    .await;
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 7), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, br#"{"error":[40000,"Request Retry"],"id":7}"#);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("retry-after"), Some("2"));
    // Another method passes through.
    let other = post(server.addr, "/sony/system", &rpc("getSystemInformation", 8), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(json_body(&other)["result"][0]["method"], "getSystemInformation");

    let entries = server.journal.query(&JournalQuery::default());
    let fired = &entries[1];
    let decoded = fired.decoded.as_ref().unwrap();
    assert_eq!(
        (decoded.code.as_str(), decoded.reason.as_deref()),
        ("40000", Some("Request Retry"))
    );
    assert!(fired.violations.is_empty());
    assert_eq!(fired.fault, Some(FiredRule { rule: 1, action: ActionKind::Code.as_str() }));
    assert!(entries[0].fault.is_none());
    server.stop().await;
}

#[tokio::test]
async fn an_http_layer_code_travels_with_its_own_status() {
    let server = server_with(json!({"action": "code", "code": 503})).await;
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 503);
    assert_eq!(json_body(&response)["error"][0], 503);
    server.stop().await;
}

#[tokio::test]
async fn a_code_rule_without_a_readable_id_answers_without_one() {
    let server = server_with(json!({"action": "code", "code": 40001})).await;
    let response = post(server.addr, "/sony/system", "not json", CLIENT_TIMEOUT).await.response();
    assert_eq!(response.body, br#"{"error":[40001,"Clients Over Maximum"]}"#);
    server.stop().await;
}

#[tokio::test]
async fn a_status_rule_sends_any_status_with_or_without_a_body() {
    let server = server_with(json!({"action": "status", "status": 503, "count": 1})).await;
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 503);
    assert!(response.body.is_empty());
    assert!(response.header("content-type").is_none());
    server
        .faults
        .add(spec(json!({"action": "status", "status": 418, "body": "short and stout"})))
        .unwrap();
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 418);
    assert_eq!(response.body, b"short and stout");
    assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
    server.faults.clear();
    server
        .faults
        .add(spec(
            json!({"action": "status", "status": 404, "body": r#"{"error":[404,"Not Found"]}"#}),
        ))
        .unwrap();
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 404);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert_eq!(entry.decoded.as_ref().map(|d| d.code.as_str()), Some("404"));
    server.stop().await;
}

#[tokio::test]
async fn a_delay_rule_delays_then_lets_the_device_answer() {
    let server = server_with(json!({"action": "delay", "delay_ms": 300})).await;
    let started = Instant::now();
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    assert_eq!(json_body(&response)["result"][0]["method"], "getPowerStatus");
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert!(entry.duration_ms >= 300);
    server.stop().await;
}

#[tokio::test]
async fn delay_ms_on_another_action_delays_it() {
    let server = server_with(json!({"action": "code", "code": 40000, "delay_ms": 200})).await;
    let started = Instant::now();
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(json_body(&response)["error"][0], 40000);
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_body_rule_truncates_the_device_answer() {
    let server = server_with(json!({"action": "malformed_body"})).await;
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert!(serde_json::from_slice::<Value>(&response.body).is_err());
    assert!(response.body.starts_with(br#"{""#), "{:?}", String::from_utf8_lossy(&response.body));
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert!(entry.decoded.is_none());
    assert_eq!(entry.violations, ["bravia.ok-without-protocol-body"]);
    server.stop().await;
}

#[tokio::test]
async fn a_non_json_body_rule_answers_html() {
    let server = server_with(json!({"action": "non_json_body", "status": 503})).await;
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 503);
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(response.body.starts_with(b"<!DOCTYPE html>"));
    assert!(String::from_utf8_lossy(&response.body).contains("503 Service Unavailable"));
    server.stop().await;
}

#[tokio::test]
async fn a_reset_rule_closes_the_connection_without_a_response() {
    let server = server_with(json!({"action": "reset", "count": 1})).await;
    let got = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT).await;
    match got {
        Got::Closed { error, bytes } => {
            assert!(
                bytes.is_empty(),
                "not a byte of response: {:?}",
                String::from_utf8_lossy(&bytes)
            );
            assert_eq!(error, Some(io::ErrorKind::ConnectionReset), "a TCP reset, not a FIN");
        }
        other => panic!("expected a reset connection, got {other:?}"),
    }
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert_eq!(entry.outcome, Delivery::Reset);
    assert!(entry.response.is_none());
    // The rule expired; the server still answers.
    let response = post(server.addr, "/sony/system", &rpc("getPowerStatus", 2), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_no_answer_rule_sends_nothing_until_the_client_gives_up() {
    let server = server_with(json!({"action": "no_answer"})).await;
    let got =
        post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), Duration::from_millis(300))
            .await;
    match got {
        Got::TimedOut { bytes } => assert!(bytes.is_empty()),
        other => panic!("expected no answer, got {other:?}"),
    }
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert_eq!(entry.outcome, Delivery::NoAnswer);
    assert!(entry.response.is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_no_answer_hold_is_bounded_and_ends_without_a_response() {
    // max_hold is 600 ms in server_with: a patient client sees the connection end, empty.
    let server = server_with(json!({"action": "no_answer"})).await;
    let started = Instant::now();
    let got = post(server.addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT).await;
    let elapsed = started.elapsed();
    match got {
        Got::Closed { bytes, .. } => assert!(bytes.is_empty()),
        other => panic!("expected a closed connection, got {other:?}"),
    }
    assert!(
        elapsed >= Duration::from_millis(600) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn stopping_the_server_releases_a_held_request() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs()); // the default hold: 60 s
    faults.add(RuleSpec::new(ActionKind::NoAnswer)).unwrap();
    let server = FakeServer::start(faults).await;
    let addr = server.addr;
    let client = tokio::spawn(async move {
        post(addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    server.stop().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    match client.await.unwrap() {
        Got::Closed { bytes, .. } => assert!(bytes.is_empty()),
        other => panic!("expected a closed connection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rule_with_probability_zero_never_fires_over_the_wire() {
    let server = server_with(json!({"action": "reset", "probability": 0})).await;
    for id in 1..=5 {
        let response =
            post(server.addr, "/sony/system", &rpc("getPowerStatus", id), CLIENT_TIMEOUT)
                .await
                .response();
        assert_eq!(response.status, 200);
    }
    assert_eq!(server.faults.rules()[0].fired, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_left_for_the_device_to_refuse() {
    let limits = BodyLimits { max_bytes: 64, timeout: Duration::from_secs(5) };
    let server =
        FakeServer::start_with(Faults::new(1).with_codecs(crate::server::codecs()), limits).await;
    let body =
        format!(r#"{{"method":"big","id":1,"params":["{}"],"version":"1.0"}}"#, "a".repeat(100));
    let response = post(server.addr, "/sony/system", &body, CLIENT_TIMEOUT).await.response();
    // The stand-in device has no limit: it read the whole body the layer left unread.
    assert_eq!(json_body(&response)["result"][0]["method"], "big");
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert_eq!((entry.request.body.as_str(), entry.request.body_bytes), ("", body.len()));
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_comes_too_slowly_gets_the_apis_timeout_code() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = BodyLimits { max_bytes: 1024, timeout: Duration::from_millis(200) };
    let server =
        FakeServer::start_with(Faults::new(1).with_codecs(crate::server::codecs()), limits).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /sony/system HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"method\"";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(CLIENT_TIMEOUT, stream.read_to_end(&mut bytes)).await.unwrap().unwrap();
    let response = devfault_core::parse_response(&bytes).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, br#"{"error":[2,"Timeout"]}"#);
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert_eq!(entry.request.body, "{\"method\"");
    assert_eq!(entry.decoded.as_ref().map(|d| d.code.as_str()), Some("2"));
    server.stop().await;
}

#[tokio::test]
async fn credentials_do_not_reach_the_journal() {
    let server = FakeServer::start(Faults::new(1).with_codecs(crate::server::codecs())).await;
    let headers = [("X-Auth-PSK", "sekrit"), ("Content-Type", "application/json")];
    request(
        server.addr,
        "POST",
        "/sony/system",
        &headers,
        &rpc("getPowerStatus", 1),
        CLIENT_TIMEOUT,
    )
    .await
    .response();
    let entry = &server.journal.query(&JournalQuery::default())[0];
    assert_eq!(entry.request.headers["x-auth-psk"], "<redacted>");
    assert!(!serde_json::to_string(entry).unwrap().contains("sekrit"));
    server.stop().await;
}

#[tokio::test]
async fn without_the_fault_listener_a_reset_says_why_it_cannot() {
    use tower::ServiceExt;
    let device = crate::testkit::FakeDevice::new("bravia-0");
    let faults = Arc::new(Faults::new(1).with_codecs(crate::server::codecs()));
    faults.add(RuleSpec::new(ActionKind::Reset)).unwrap();
    let journal = Arc::new(Journal::new(10));
    let router = with_faults(crate::testkit::fake_router(device.clone()), device, faults, journal);
    let request = axum::http::Request::post("/sony/system")
        .body(Body::from(rpc("getPowerStatus", 1)))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = to_bytes(response.into_body(), 4096).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("FaultListener"));
}

/// The layer skips classification when `has_rules` says there is none: it must follow every
/// change of the list, an expiry included.
#[test]
fn has_rules_follows_every_change_of_the_list() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    assert!(!faults.has_rules());
    let once = faults.add(spec(json!({"action": "reset", "count": 1}))).unwrap();
    assert!(faults.has_rules());
    assert!(faults.decide(&info("system", "getPowerStatus")).is_some_and(|r| r.id == once.id));
    assert!(!faults.has_rules(), "the rule expired after its count");
    let added = faults
        .add_all(vec![spec(json!({"action": "reset"})), spec(json!({"action": "no_answer"}))])
        .unwrap();
    assert!(faults.has_rules());
    assert!(faults.remove(added[0].id));
    assert!(faults.has_rules());
    assert!(faults.remove(added[1].id));
    assert!(!faults.has_rules());
    faults.add(spec(json!({"action": "reset"}))).unwrap();
    assert_eq!(faults.clear(), 1);
    assert!(!faults.has_rules());
}

/// An event-path rule that expires refiles the index, so the HTTP rules after it are still
/// found where they now stand.
#[test]
fn an_expiring_event_path_rule_leaves_the_index_right() {
    let faults = Faults::new(1).with_codecs(crate::server::codecs());
    faults
        .add(spec(json!({"match": {"api": "thinq-mqtt", "http_method": "CONNECT"}, "action": "reset", "count": 1})))
        .unwrap();
    let http = faults
        .add(spec(
            json!({"match": {"api": "bravia", "method": "getPowerStatus"}, "action": "reset"}),
        ))
        .unwrap();
    let connect = RequestInfo {
        api: "thinq-mqtt".to_owned(),
        device: "thinq-cloud".to_owned(),
        http_method: "CONNECT".to_owned(),
        path: "/".to_owned(),
        service: None,
        method: None,
    };
    assert_eq!(faults.decide_named(&connect).map(|rule| rule.id), Some(1));
    assert_eq!(faults.decide(&info("system", "getPowerStatus")).map(|rule| rule.id), Some(http.id));
    assert_eq!(faults.rules().len(), 1);
}
