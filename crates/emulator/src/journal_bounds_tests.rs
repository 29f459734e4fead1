//! The journal's bounds: bytes as well as entries, huge headers cut with a marker, entries
//! built one at a time for a streamed answer, memory freed by a clear, and every credential
//! redacted.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method};

use super::*;

fn raw(headers: &HeaderMap, target: &str) -> RawEntry {
    RawEntry {
        time: SystemTime::now(),
        device: Arc::from("bravia-0"),
        api: "bravia",
        codec: None,
        request: RawRequest::new(
            &Method::POST,
            target,
            target.split('?').next().unwrap_or(target),
            headers,
            &Bytes::from_static(b"{}"),
            Some(Classified::default()),
            None,
        ),
        outcome: Delivery::Answered,
        response: None,
        fault: None,
        duration_ms: 0,
    }
}

fn recorded(headers: &[(&'static str, &str)], target: &str) -> RecordedRequest {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    let journal = Journal::new(10);
    journal.record_raw(raw(&map, target));
    journal.query(&JournalQuery::default()).remove(0).request
}

#[test]
fn a_huge_header_is_kept_cut_with_a_marker_of_what_was_dropped() {
    let huge = "a".repeat(380_000);
    let request = recorded(&[("x-flood", &huge)], "/sony/system");
    let kept = &request.headers["x-flood"];
    assert!(kept.len() < HEADER_VALUE_BYTES + 64, "{}", kept.len());
    assert!(kept.ends_with(&format!("[{} bytes dropped]", 380_000 - HEADER_VALUE_BYTES)), "{kept}");
}

#[test]
fn the_journal_is_bounded_in_bytes_not_only_in_entries() {
    let journal = Journal::new(100_000).with_max_bytes(64 * 1024);
    let mut headers = HeaderMap::new();
    headers.insert("x-flood", HeaderValue::from_str(&"a".repeat(16 * 1024)).unwrap());
    for _ in 0..1000 {
        journal.record_raw(raw(&headers, "/sony/system"));
    }
    assert!(journal.bytes() <= 64 * 1024, "{} bytes", journal.bytes());
    assert!(journal.len() < 100, "{} entries", journal.len());
    assert_eq!(journal.dropped() as usize + journal.len(), 1000);
    // A clear frees the entries and the count.
    journal.clear();
    assert_eq!((journal.bytes(), journal.len()), (0, 0));
}

#[test]
fn a_selection_builds_its_entries_one_at_a_time() {
    let journal = Journal::new(10);
    for _ in 0..3 {
        journal.record_raw(raw(&HeaderMap::new(), "/sony/system"));
    }
    let selected = journal.select(&JournalQuery::default());
    assert_eq!(selected.len(), 3);
    let mut entries = selected.entries();
    assert_eq!(entries.next().map(|e| e.seq), Some(3), "newest first");
    assert_eq!(entries.count(), 2);
}

#[test]
fn x_service_key_is_redacted() {
    let request = recorded(&[("x-service-key", "svc-secret")], "/devices");
    assert_eq!(request.headers["x-service-key"], REDACTED);
}

#[test]
fn proxy_authorization_is_redacted_after_its_scheme() {
    let request = recorded(&[("proxy-authorization", "Basic dXNlcjpwYXNz")], "/devices");
    assert_eq!(request.headers["proxy-authorization"], format!("Basic {REDACTED}"));
}

#[test]
fn thinqs_public_api_key_is_kept() {
    let key = "v6GFvkweNo7DK7yD3ylIZ9w52aKBU0eJ7wLXkSR3";
    let request = recorded(&[("x-api-key", key)], "/devices");
    assert_eq!(request.headers["x-api-key"], key);
}

#[test]
fn other_credential_headers_are_redacted_by_their_name() {
    let request =
        recorded(&[("x-auth-token", "t"), ("x-session-id", "s"), ("x-country", "US")], "/devices");
    assert_eq!(request.headers["x-auth-token"], REDACTED);
    assert_eq!(request.headers["x-session-id"], REDACTED);
    assert_eq!(request.headers["x-country"], "US", "not a credential");
    let challenge = recorded(&[("www-authenticate", "Bearer")], "/devices");
    assert_eq!(challenge.headers["www-authenticate"], "Bearer", "a challenge is kept");
}

#[test]
fn credential_query_parameters_are_redacted() {
    let request =
        recorded(&[], "/devices?access_token=abc&api_key=k&sig=s&password=p&period=DAILY");
    assert_eq!(
        request.path,
        format!(
            "/devices?access_token={REDACTED}&api_key={REDACTED}&sig={REDACTED}&password={REDACTED}&period=DAILY"
        )
    );
    assert_eq!(recorded(&[], "/devices?period=DAILY").path, "/devices?period=DAILY");
}
