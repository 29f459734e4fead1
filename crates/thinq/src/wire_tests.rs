//! The wire format against LG's examples, the live bodies quoted in the field, and the replies
//! LG's SDK was driven with (thinq.md §3, §5.3, §7). Payloads are copied here as literals.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use devfault_core::{Class, EntryDef, Retry, Severity, Source};
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::registry;

const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

/// An id LG's SDK sent (§7) and one from LG's own examples; both are base64 UUIDs v4.
const SDK_ID: &str = "zTL0BXUNT5KR0oZ7checHg";
const DOC_ID: &str = "fNvdZ1brTn-wWKUlWGoSVw";
const TS: &str = "2026-05-04T16:55:47.326484";

fn decode(status: u16, body: &str) -> Response {
    decode_response(status, JSON, body.as_bytes(), None)
}

/// The findings as (rule, severity), in order.
fn found(response: &Response) -> Vec<(&'static str, Severity)> {
    response.findings.iter().map(|f| (f.rule, f.severity)).collect()
}

fn rules_of(response: &Response) -> Vec<&'static str> {
    response.findings.iter().map(|f| f.rule).collect()
}

fn error_of(response: &Response) -> &ErrorReply {
    match &response.body {
        ResponseBody::Error(reply) => reply,
        other => panic!("expected an error outcome, got {other:?}"),
    }
}

fn known(code: u16) -> WireCode {
    WireCode::Known(Code::from_static(code))
}

const T: Severity = Severity::Tolerated;
const V: Severity = Severity::Violation;

// ---------------------------------------------------------------------------------------------
// The rule table

#[test]
fn rule_ids_are_unique_prefixed_kebab_case_and_described() {
    let mut seen = BTreeSet::new();
    for &(id, description) in RULES {
        assert!(seen.insert(id), "{id} twice");
        let name = id.strip_prefix("thinq.").unwrap_or_else(|| panic!("{id} lacks thinq."));
        assert!(!name.is_empty() && !name.starts_with('-') && !name.ends_with('-'), "{id}");
        assert!(
            name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{id}"
        );
        assert!(!name.contains("--"), "{id}");
        assert!(!description.is_empty() && !description.contains('\n'), "{id}");
    }
}

#[test]
fn every_rule_id_in_the_decoder_source_is_in_the_table() {
    let source = include_str!("wire.rs");
    let ids: BTreeSet<&str> = RULES.iter().map(|(id, _)| *id).collect();
    let mut used = BTreeSet::new();
    for (at, _) in source.match_indices("\"thinq.") {
        let rest = &source[at + 1..];
        let id = &rest[..rest.find('"').expect("a closed literal")];
        assert!(ids.contains(id), "{id} is used but not in RULES");
        used.insert(id);
    }
    assert_eq!(used, ids, "every rule of RULES is declared in the source");
}

/// A reply to decode: status, headers, body and the request's id.
type Case<'a> = (u16, &'a [(&'a str, &'a str)], &'a str, Option<&'a str>);

/// One reply per rule; together they must produce every rule of the table, so a rule nothing
/// can trigger fails here.
#[test]
fn every_rule_is_reachable() {
    let cases: &[Case<'_>] = &[
        (700, &JSON, r#"{"error":{"message":"Fail Request","code":"2214"}}"#, None),
        (500, &JSON, r#"{"error":{"message":"Fail Request","code":"2214"}}"#, None),
        (200, &[], r#"{"response":{}}"#, None),
        (503, &JSON, "", None),
        (400, &JSON, r#"{"error":"#, None),
        (400, &JSON, r#"{"error":"boom"}"#, None),
        (200, &JSON, r#"{"messageId":"short","timestamp":"2026-05-04T16:55:47Z"}"#, Some("x")),
        (200, &JSON, r#"{"messageId":"0f9aSXah5m5rbFSjzQ7q_g","response":{}}"#, None),
        (200, &JSON, r#"{"error":{"message":"Fail Request","code":"2214"}}"#, None),
        (403, &JSON, r#"{"message":"Forbidden"}"#, None),
        (400, &JSON, r#"{"error":{}}"#, None),
        (400, &JSON, r#"{"error":{"message":"Missing parameters","code":1101}}"#, None),
        (400, &JSON, r#"{"error":{"message":"?","code":"9999"}}"#, None),
        (400, &JSON, r#"{"error":{"message":"Fail","code":"2214"}}"#, None),
        (503, &[("Content-Type", "application/json"), ("Retry-After", "soon")], "{}", None),
    ];
    let mut seen = BTreeSet::new();
    for &(status, headers, body, request) in cases {
        let reply = decode_response(status, headers.iter().copied(), body.as_bytes(), request);
        seen.extend(rules_of(&reply));
    }
    let all: BTreeSet<&str> = RULES.iter().map(|(id, _)| *id).collect();
    assert_eq!(seen, all);
}

// ---------------------------------------------------------------------------------------------
// Message ids

fn id_reason(id: &str) -> Result<[u8; 16], MessageIdReason> {
    check_message_id(id).map_err(|e| e.reason)
}

#[test]
fn ids_the_sdk_and_lg_wrote_are_valid_and_round_trip() {
    for id in [SDK_ID, DOC_ID] {
        let uuid = check_message_id(id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((uuid[6] >> 4, uuid[8] >> 6), (4, 0b10), "{id}");
        assert_eq!(message_id_from_uuid(uuid), id);
    }
    // cd32f405-750d-4f92-91d2-867b72179c1e, as Python's uuid module decodes the SDK's id.
    assert_eq!(
        check_message_id(SDK_ID).ok(),
        Some([
            0xcd, 0x32, 0xf4, 0x05, 0x75, 0x0d, 0x4f, 0x92, 0x91, 0xd2, 0x86, 0x7b, 0x72, 0x17,
            0x9c, 0x1e
        ])
    );
}

#[test]
fn a_wrong_length_is_named_with_the_count() {
    assert_eq!(id_reason("zTL0BXUNT5KR0oZ7checH"), Err(MessageIdReason::Length { chars: 21 }));
    assert_eq!(id_reason(""), Err(MessageIdReason::Length { chars: 0 }));
    // 21 characters in 22 bytes: counted in characters.
    assert_eq!(id_reason("zTL0BXUNT5KR0oZ7checé"), Err(MessageIdReason::Length { chars: 21 }));
}

#[test]
fn padding_is_refused() {
    let padded = format!("{SDK_ID}==");
    assert_eq!(id_reason(&padded), Err(MessageIdReason::Length { chars: 24 }));
    assert_eq!(
        id_reason("zTL0BXUNT5KR0oZ7chec=="),
        Err(MessageIdReason::Alphabet { index: 20, found: '=' })
    );
}

#[test]
fn a_character_outside_the_url_safe_alphabet_is_named() {
    // Standard base64's + and / are not url-safe.
    assert_eq!(
        id_reason("zTL0BXUNT5KR0oZ7che+Hg"),
        Err(MessageIdReason::Alphabet { index: 19, found: '+' })
    );
    assert_eq!(
        id_reason("/TL0BXUNT5KR0oZ7checHg"),
        Err(MessageIdReason::Alphabet { index: 0, found: '/' })
    );
    assert_eq!(
        id_reason("zTL0BXUNT5KR0oZ7checHé"),
        Err(MessageIdReason::Alphabet { index: 21, found: 'é' })
    );
}

#[test]
fn ids_that_are_not_uuid_v4_are_refused() {
    // §7's fake server and the live bodies of §3 carry such ids (checked with Python's uuid).
    assert_eq!(
        id_reason("2ADaRijIk8CvaSHVPeEWNw"),
        Err(MessageIdReason::NotVersion4 { version: 9 })
    );
    assert_eq!(
        id_reason("0f9aSXah5m5rbFSjzQ7q_g"),
        Err(MessageIdReason::NotVersion4 { version: 0xe })
    );
    assert_eq!(
        id_reason("W59GLawMm0Xm3v1TVxyFRg"),
        Err(MessageIdReason::NotVersion4 { version: 9 })
    );
    let mut uuid = [0u8; 16];
    uuid[6] = 0x40;
    uuid[8] = 0xc0;
    let wrong_variant = message_id_from_uuid(uuid);
    assert_eq!(id_reason(&wrong_variant), Err(MessageIdReason::NotRfc4122Variant { variant: 3 }));
}

#[test]
fn trailing_bits_are_refused() {
    // 'g' is 100000; 'h' (100001) sets a bit past the 128 of a UUID.
    assert_eq!(id_reason("zTL0BXUNT5KR0oZ7checHh"), Err(MessageIdReason::TrailingBits));
}

#[test]
fn the_error_names_the_value_and_the_condition() {
    let error = check_message_id("zTL0BXUNT5KR0oZ7che+Hg").expect_err("a bad char");
    assert_eq!(error.value, "zTL0BXUNT5KR0oZ7che+Hg");
    let text = error.to_string();
    assert!(text.contains("\"zTL0BXUNT5KR0oZ7che+Hg\"") && text.contains("'+'"), "{text}");
    let text = check_message_id("2ADaRijIk8CvaSHVPeEWNw").expect_err("v9").to_string();
    assert!(text.contains("version-9") && text.contains("2ADaRijIk8CvaSHVPeEWNw"), "{text}");
    assert!(MessageIdReason::Length { chars: 3 }.is_grammar());
    assert!(!MessageIdReason::TrailingBits.is_grammar());
}

// ---------------------------------------------------------------------------------------------
// Timestamps

fn ts_reason(ts: &str) -> Result<(), TimestampReason> {
    check_timestamp(ts).map_err(|e| e.reason)
}

#[test]
fn lg_timestamps_with_0_to_6_fraction_digits_pass() {
    for ts in [
        "2024-09-01T06:23:20.866279",
        "2019-06-20T01:14:27.069000",
        "2024-09-13T06:55:58.65064",
        "2024-09-13T06:55:58.6",
        "2024-09-13T06:55:58",
        "2024-02-29T23:59:59",
        "2000-02-29T00:00:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59.999999",
    ] {
        assert_eq!(ts_reason(ts), Ok(()), "{ts}");
    }
}

#[test]
fn a_zone_designator_is_refused() {
    assert_eq!(
        ts_reason("2024-09-13T06:55:58.65064Z"),
        Err(TimestampReason::Zone { designator: "Z".to_owned() })
    );
    assert_eq!(
        ts_reason("2024-09-13T06:55:58+09:00"),
        Err(TimestampReason::Zone { designator: "+09:00".to_owned() })
    );
}

#[test]
fn fields_out_of_range_are_refused() {
    let out = |field, value| Err(TimestampReason::OutOfRange { field, value });
    assert_eq!(ts_reason("2024-13-01T00:00:00"), out("month", 13));
    assert_eq!(ts_reason("2024-00-01T00:00:00"), out("month", 0));
    assert_eq!(ts_reason("2023-02-29T00:00:00"), out("day", 29));
    assert_eq!(ts_reason("1900-02-29T00:00:00"), out("day", 29));
    assert_eq!(ts_reason("2024-04-31T00:00:00"), out("day", 31));
    assert_eq!(ts_reason("2024-04-00T00:00:00"), out("day", 0));
    assert_eq!(ts_reason("2024-04-30T24:00:00"), out("hour", 24));
    assert_eq!(ts_reason("2024-04-30T23:60:00"), out("minute", 60));
    assert_eq!(ts_reason("2024-04-30T23:59:60"), out("second", 60));
    assert_eq!(ts_reason("0000-01-01T00:00:00"), out("year", 0));
}

#[test]
fn malformed_timestamps_name_the_first_wrong_byte() {
    let shape = |index, expected| Err(TimestampReason::Shape { index, expected });
    assert_eq!(ts_reason(""), shape(0, "a digit"));
    assert_eq!(ts_reason("2024-09-13 06:55:58"), shape(10, "'T'"));
    assert_eq!(ts_reason("2024/09/13T06:55:58"), shape(4, "'-'"));
    assert_eq!(ts_reason("2024-09-13T06:55"), shape(16, "':'"));
    assert_eq!(ts_reason("2024-09-13T06:55:58."), shape(20, "a fraction digit"));
    assert_eq!(ts_reason("2024-09-13T06:55:58x"), shape(19, "'.' or the end"));
    assert_eq!(ts_reason("2024-09-13T06:55:58.1x"), shape(21, "the end"));
    assert_eq!(
        ts_reason("2024-09-13T06:55:58.1234567"),
        Err(TimestampReason::FractionTooLong { digits: 7 })
    );
    assert_eq!(ts_reason("2024-09-13T06:55:5é"), shape(18, "a digit"));
    let text = check_timestamp("2024-13-01T00:00:00").expect_err("month 13").to_string();
    assert!(text.contains("\"2024-13-01T00:00:00\"") && text.contains("month 13"), "{text}");
}

#[test]
fn format_timestamp_writes_utc_microseconds_without_a_zone() {
    assert_eq!(format_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000");
    let live = UNIX_EPOCH + Duration::from_micros(1_777_913_747_326_484);
    assert_eq!(format_timestamp(live), TS);
    let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
    assert_eq!(format_timestamp(leap), "2000-02-29T00:00:00.000000");
    // Nanoseconds are dropped, not rounded up into the next microsecond.
    assert_eq!(
        format_timestamp(UNIX_EPOCH + Duration::from_nanos(1_999)),
        "1970-01-01T00:00:00.000001"
    );
}

#[test]
fn format_timestamp_before_1970_and_at_the_ends_of_four_digit_years() {
    let before = |d: Duration| UNIX_EPOCH.checked_sub(d).expect("representable");
    assert_eq!(format_timestamp(before(Duration::from_micros(1))), "1969-12-31T23:59:59.999999");
    assert_eq!(format_timestamp(before(Duration::from_nanos(1))), "1969-12-31T23:59:59.999999");
    assert_eq!(format_timestamp(before(Duration::from_secs(86_400))), "1969-12-31T00:00:00.000000");
    assert_eq!(
        format_timestamp(before(Duration::from_secs(62_135_596_800))),
        "0001-01-01T00:00:00.000000"
    );
    assert_eq!(
        format_timestamp(before(Duration::from_secs(70_000_000_000))),
        "0001-01-01T00:00:00.000000",
        "clamped"
    );
    let end = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    assert_eq!(format_timestamp(end), "9999-12-31T23:59:59.000000");
    let beyond = UNIX_EPOCH + Duration::from_secs(300_000_000_000);
    assert_eq!(format_timestamp(beyond), "9999-12-31T23:59:59.999999", "clamped");
}

// ---------------------------------------------------------------------------------------------
// Codes

#[test]
fn listed_four_digit_codes_are_known_and_everything_else_is_kept() {
    assert_eq!(WireCode::parse("1222"), known(1222));
    assert_eq!(WireCode::parse("0000"), known(0));
    assert_eq!(WireCode::parse("1314").entry().map(|e| e.code), Some(1314));
    for raw in ["9999", "0001", "1215", "12345", "abc", "", " 1222", "1222 ", "１２２２"] {
        let code = WireCode::parse(raw);
        assert_eq!(code, WireCode::Unknown(raw.to_owned()), "{raw:?}");
        assert_eq!(code.to_string(), raw);
        assert_eq!((code.code(), code.entry()), (None, None));
    }
    assert_eq!(known(1222).to_string(), "1222");
    assert_eq!(known(0).to_string(), "0000");
}

#[test]
fn every_registry_code_parses_as_known() {
    for entry in registry().entries() {
        let raw = format!("{:04}", entry.code);
        let code = WireCode::parse(&raw);
        assert_eq!(code.code().map(|c| u32::from(c.as_u16())), Some(entry.code));
        assert_eq!(code.to_string(), raw);
    }
}

// ---------------------------------------------------------------------------------------------
// Live bodies (thinq.md §3, §7)

#[test]
fn live_1314_at_401() {
    let reply = decode(
        401,
        r#"{"messageId":"0f9aSXah5m5rbFSjzQ7q_g","timestamp":"2026-05-04T16:55:47.326484","error":{"message":"Exceeded User API calls","code":"1314"}}"#,
    );
    let error = error_of(&reply);
    assert_eq!(error.code, known(1314));
    assert_eq!(error.message, "Exceeded User API calls");
    assert_eq!(reply.entry().map(|e| (e.code, e.source)), Some((1314, Source::Observed)));
    assert_eq!(reply.message_id.as_deref(), Some("0f9aSXah5m5rbFSjzQ7q_g"));
    assert_eq!(reply.timestamp.as_deref(), Some(TS));
    // Its id is no UUID v4; the cloud echoed it anyway, so that is tolerated.
    assert_eq!(found(&reply), [("thinq.message-id-not-uuid4", T)]);
    assert!(reply.is_conforming());
}

#[test]
fn live_1222_at_416_without_timestamp() {
    let reply = decode(
        416,
        r#"{"messageId":"W59GLawMm0Xm3v1TVxyFRg","error":{"message":"Not connected device","code":"1222"}}"#,
    );
    assert_eq!(error_of(&reply).code, known(1222));
    assert_eq!(reply.timestamp, None);
    assert_eq!(found(&reply), [("thinq.message-id-not-uuid4", T), ("thinq.timestamp-missing", T)]);
    assert!(reply.is_conforming());
}

#[test]
fn live_2214_at_400_bare_error() {
    let reply = decode(400, r#"{"error":{"message":"Fail Request","code":"2214"}}"#);
    assert_eq!(error_of(&reply).code, known(2214));
    assert_eq!(reply.message_id, None);
    assert_eq!(found(&reply), [("thinq.message-id-missing", T), ("thinq.timestamp-missing", T)]);
    assert!(reply.is_conforming());
}

#[test]
fn lg_success_example_and_the_emulator_bytes_of_section_7() {
    let reply = decode(
        200,
        r#"{"messageId": "fNvdZ1brTn-wWKUlWGoSVw", "timestamp": "2024-09-01T06:23:20.866279", "response": {}}"#,
    );
    assert_eq!(reply.body, ResponseBody::Success { response: Some(json!({})) });
    assert_eq!(found(&reply), []);
    let reply = decode(
        400,
        r#"{"messageId": "2ADaRijIk8CvaSHVPeEWNw", "timestamp": "2026-11-21T23:20:13.712642", "error": {"message": "Command not supported in POWER OFF", "code": "2304"}}"#,
    );
    let error = error_of(&reply);
    assert_eq!((&error.code, error.state_or_mode.as_deref()), (&known(2304), None));
    assert_eq!(found(&reply), [("thinq.message-id-not-uuid4", T)]);
}

#[test]
fn lg_common_message_example_has_no_response() {
    // The "Common Message" example of LG's page: an envelope alone.
    let reply = decode(
        200,
        r#"{"messageId": "fNvdZ1brTn-wWKUlWGoSVw", "timestamp": "2019-06-25T04:52:18.370732"}"#,
    );
    assert_eq!(reply.body, ResponseBody::Success { response: None });
    assert_eq!(found(&reply), [("thinq.response-missing", T)]);
}

// ---------------------------------------------------------------------------------------------
// The replies LG's SDK was driven with (thinq.md §5.3)

/// (status, code, message) of rows (a)-(e) and 416: what the SDK reports by name.
#[test]
fn sdk_rows_a_to_e_decode_to_their_codes() {
    let rows: &[(u16, &str, &str)] = &[
        (400, "1101", "Missing parameters"),
        (401, "1306", "Exceeded API calls"),
        (401, "1314", "Exceeded User API calls"),
        (400, "2304", "Command not supported in POWER OFF"),
        (400, "2301", "Command not supported in REMOTE OFF"),
        (404, "1205", "Not registered device"),
        (500, "2000", "Internal server error"),
        (416, "1222", "Not connected device"),
    ];
    for &(status, code, message) in rows {
        let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#);
        let reply = decode(status, &body);
        let error = error_of(&reply);
        assert_eq!(error.code.to_string(), code);
        assert!(matches!(error.code, WireCode::Known(_)), "{code}");
        assert_eq!(error.message, message);
        assert_eq!(reply.entry().map(|e| e.http_status.as_u16()), Some(status));
        assert_eq!(
            found(&reply),
            [("thinq.message-id-missing", T), ("thinq.timestamp-missing", T)],
            "{code}"
        );
    }
}

#[test]
fn sdk_row_f_truncated_json_is_unreadable() {
    let reply = decode(400, r#"{"error":{"code":"1101","mess"#);
    let ResponseBody::Unreadable { reason, excerpt } = &reply.body else {
        panic!("{:?}", reply.body)
    };
    assert!(reason.contains("EOF"), "{reason}");
    assert_eq!(excerpt, r#"{"error":{"code":"1101","mess"#);
    assert_eq!(found(&reply), [("thinq.body-unreadable", V)]);
    assert_eq!((reply.entry(), reply.message_id.as_deref()), (None, None));
}

#[test]
fn sdk_row_g_unknown_code_is_kept_and_tolerated() {
    let reply = decode(400, r#"{"error":{"code":"9999","message":"Something new"}}"#);
    let error = error_of(&reply);
    assert_eq!(error.code, WireCode::Unknown("9999".to_owned()));
    assert_eq!((error.message.as_str(), error.entry), ("Something new", None));
    assert_eq!(
        found(&reply),
        [
            ("thinq.message-id-missing", T),
            ("thinq.timestamp-missing", T),
            ("thinq.unknown-code", T)
        ]
    );
    assert!(reply.findings[2].detail.contains("UNKNOWN_ERROR"));
}

#[test]
fn numeric_code_is_tolerated_and_still_known() {
    let reply = decode(400, r#"{"error":{"code":1101,"message":"Missing parameters"}}"#);
    let error = error_of(&reply);
    assert_eq!(error.code, known(1101));
    assert_eq!(reply.entry().map(|e| e.code), Some(1101));
    assert_eq!(
        found(&reply),
        [
            ("thinq.message-id-missing", T),
            ("thinq.timestamp-missing", T),
            ("thinq.numeric-code", T)
        ]
    );
    assert!(reply.findings[2].detail.contains("UNKNOWN_ERROR (1101)"));
    // A number no four digits write is kept as its JSON text, and unknown besides.
    let reply = decode(400, r#"{"error":{"code":7,"message":"x"}}"#);
    assert_eq!(error_of(&reply).code, WireCode::Unknown("7".to_owned()));
    assert!(rules_of(&reply).ends_with(&["thinq.numeric-code", "thinq.unknown-code"]));
}

#[test]
fn forbidden_without_error_member_is_tolerated() {
    let reply = decode(403, r#"{"message":"Forbidden"}"#);
    let error = error_of(&reply);
    assert_eq!(error.code, WireCode::Unknown(String::new()));
    assert_eq!((error.message.as_str(), error.entry), ("Forbidden", None));
    assert_eq!(
        found(&reply),
        [
            ("thinq.message-id-missing", T),
            ("thinq.timestamp-missing", T),
            ("thinq.error-missing", T)
        ]
    );
    assert!(reply.is_conforming());
}

#[test]
fn empty_error_object_misses_code_and_message() {
    let reply = decode(400, r#"{"error":{}}"#);
    let error = error_of(&reply);
    assert_eq!((&error.code, error.message.as_str()), (&WireCode::Unknown(String::new()), ""));
    assert_eq!(
        found(&reply),
        [
            ("thinq.message-id-missing", T),
            ("thinq.timestamp-missing", T),
            ("thinq.error-code-missing", V),
            ("thinq.error-message-missing", V),
        ]
    );
    assert!(!reply.is_conforming());
}

#[test]
fn html_from_a_gateway_is_unreadable_and_not_json() {
    let html =
        "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>";
    let reply = decode_response(502, [("content-type", "text/html")], html.as_bytes(), None);
    let ResponseBody::Unreadable { excerpt, .. } = &reply.body else { panic!("{reply:?}") };
    assert_eq!(excerpt, html);
    assert_eq!(found(&reply), [("thinq.content-type", V), ("thinq.body-unreadable", V)]);
}

#[test]
fn empty_503_without_content_type_is_bare() {
    let reply = decode_response(503, [], b"", None);
    assert_eq!(reply.body, ResponseBody::Bare);
    assert_eq!(found(&reply), [("thinq.content-type", V), ("thinq.body-empty", V)]);
    let no_content = decode_response(204, [], b"", None);
    assert_eq!(no_content.body, ResponseBody::Bare);
    assert!(!no_content.is_conforming());
    let blank = decode(200, " \r\n\t");
    assert_eq!(
        (blank.body, rules_of(&decode(200, ""))),
        (ResponseBody::Bare, vec!["thinq.body-empty"])
    );
}

#[test]
fn json_as_text_plain_is_a_violation_even_on_success() {
    let body = format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":{{"a":1}}}}"#);
    let reply = decode_response(200, [("Content-Type", "text/plain")], body.as_bytes(), None);
    assert_eq!(reply.body, ResponseBody::Success { response: Some(json!({"a": 1})) });
    assert_eq!(found(&reply), [("thinq.content-type", V)]);
    assert!(reply.findings[0].detail.contains("ContentTypeError"));
}

#[test]
fn json_content_types_aiohttp_accepts() {
    let body = format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":[]}}"#);
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        " application/json ;charset=UTF-8",
        "application/problem+json",
    ] {
        let reply =
            decode_response(200, [("Content-Type", content_type)], body.as_bytes(), Some(SDK_ID));
        assert_eq!(found(&reply), [], "{content_type}");
    }
    for content_type in ["text/json", "application/xml", "application/+json", "json", "", "é"] {
        let reply = decode_response(200, [("Content-Type", content_type)], body.as_bytes(), None);
        assert_eq!(rules_of(&reply), ["thinq.content-type"], "{content_type:?}");
    }
}

#[test]
fn a_201_envelope_is_a_plain_success() {
    let body = format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":{{}}}}"#);
    let reply = decode_response(201, JSON, body.as_bytes(), Some(SDK_ID));
    assert_eq!(reply.body, ResponseBody::Success { response: Some(json!({})) });
    assert_eq!(found(&reply), []);
}

#[test]
fn a_200_without_response_is_tolerated() {
    let body = format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}"}}"#);
    let reply = decode(200, &body);
    assert_eq!(reply.body, ResponseBody::Success { response: None });
    assert_eq!(found(&reply), [("thinq.response-missing", T)]);
    assert!(reply.is_conforming());
}

#[test]
fn a_200_with_an_error_object_keeps_the_error_and_is_a_violation() {
    let body = format!(
        r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","error":{{"message":"Command not supported in POWER OFF","code":"2304"}}}}"#
    );
    let reply = decode(200, &body);
    assert_eq!(error_of(&reply).code, known(2304));
    assert_eq!(found(&reply), [("thinq.error-on-success", V), ("thinq.status-mismatch", V)]);
    assert!(reply.findings[0].detail.contains("returns None"));
    // With a response beside it, the SDK returns that response instead.
    let both = decode(200, r#"{"error":{"message":"Fail Request","code":"2214"},"response":{}}"#);
    assert!(both.findings.iter().any(|f| f.detail.contains("returns the response member")));
}

// ---------------------------------------------------------------------------------------------
// One test per rule

#[test]
fn status_outside_100_to_599_is_a_violation() {
    for status in [0, 99, 600, 700, u16::MAX] {
        let reply = decode(status, r#"{"error":{"message":"Fail Request","code":"2214"}}"#);
        assert_eq!(reply.status, status);
        assert_eq!(found(&reply)[0], ("thinq.status-invalid", V), "{status}");
        assert!(rules_of(&reply).contains(&"thinq.status-mismatch"));
    }
}

#[test]
fn status_mismatch_names_both_statuses() {
    let reply = decode(400, r#"{"error":{"message":"Not connected device","code":"1222"}}"#);
    let mismatch = reply.findings.iter().find(|f| f.rule == "thinq.status-mismatch");
    let detail = &mismatch.expect("reported").detail;
    assert!(detail.contains("416 Range Not Satisfiable") && detail.contains("400 Bad Request"));
    // 1314's observed row says 401.
    let reply = decode(429, r#"{"error":{"message":"Exceeded User API calls","code":"1314"}}"#);
    assert!(rules_of(&reply).contains(&"thinq.status-mismatch"));
    let reply = decode(401, r#"{"error":{"message":"Exceeded User API calls","code":"1314"}}"#);
    assert!(!rules_of(&reply).contains(&"thinq.status-mismatch"));
}

#[test]
fn missing_content_type_is_a_violation() {
    let body = format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":{{}}}}"#);
    let reply = decode_response(200, [("X-Other", "1")], body.as_bytes(), None);
    assert_eq!(found(&reply), [("thinq.content-type", V)]);
    // The first Content-Type counts; header names match in any case.
    let headers = [("CONTENT-TYPE", "application/json"), ("content-type", "text/html")];
    assert_eq!(found(&decode_response(200, headers, body.as_bytes(), None)), []);
}

#[test]
fn bodies_that_are_no_json_object_are_unreadable() {
    let cases: &[&[u8]] = &[
        b"[\"fNvdZ1brTn-wWKUlWGoSVw\",\"2024-09-01T06:23:20\"]",
        b"null",
        b"\"error\"",
        b"42",
        b"{\"error\":{\"message\":\"\xff\xfe\",\"code\":\"1101\"}}",
        b"\xef\xbb\xbf{}",
        b"{} {}",
        b"{\"error\":{\"code\":\"1101\",}}",
    ];
    for &body in cases {
        let reply = decode_response(400, JSON, body, None);
        assert!(matches!(reply.body, ResponseBody::Unreadable { .. }), "{body:?}: {reply:?}");
        assert_eq!(found(&reply), [("thinq.body-unreadable", V)], "{body:?}");
    }
    let long = format!("<p>{}</p>", "x".repeat(500));
    let reply = decode(502, &long);
    let ResponseBody::Unreadable { excerpt, .. } = reply.body else { panic!("unreadable") };
    assert_eq!(excerpt.chars().count(), 101);
    assert!(excerpt.ends_with('…'));
}

#[test]
fn members_of_the_wrong_type_are_violations_and_kept_in_the_detail() {
    let reply = decode(400, r#"{"error":"boom"}"#);
    assert_eq!(error_of(&reply).code, WireCode::Unknown(String::new()));
    let wrong = reply.findings.iter().find(|f| f.rule == "thinq.field-type").expect("reported");
    assert!(wrong.detail.contains("\"boom\""), "{}", wrong.detail);
    // An array must not pass for an error object on the fast path.
    let reply = decode(416, r#"{"error":["1222","Not connected device"]}"#);
    assert_eq!(error_of(&reply).code, WireCode::Unknown(String::new()));
    assert!(rules_of(&reply).contains(&"thinq.field-type"));
    let reply = decode(400, r#"{"error":{"message":404,"code":true}}"#);
    let error = error_of(&reply);
    assert_eq!((&error.code, error.message.as_str()), (&WireCode::Unknown("true".into()), "404"));
    assert_eq!(rules_of(&reply).iter().filter(|&&r| r == "thinq.field-type").count(), 2);
    // On success, an error that is no object is reported and the response still returned.
    let reply = decode(
        200,
        &format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":{{}},"error":null}}"#),
    );
    assert_eq!(reply.body, ResponseBody::Success { response: Some(json!({})) });
    assert_eq!(found(&reply), [("thinq.field-type", V)]);
}

#[test]
fn missing_message_id_is_tolerated() {
    let reply = decode(200, &format!(r#"{{"timestamp":"{TS}","response":{{}}}}"#));
    assert_eq!(found(&reply), [("thinq.message-id-missing", T)]);
    // Even when the request had one: there is nothing to compare.
    let reply = decode_response(
        200,
        JSON,
        format!(r#"{{"timestamp":"{TS}","response":{{}}}}"#).as_bytes(),
        Some(SDK_ID),
    );
    assert_eq!(found(&reply), [("thinq.message-id-missing", T)]);
}

#[test]
fn message_id_without_the_grammar_is_a_violation() {
    for id in
        [r#""short""#, r#""zTL0BXUNT5KR0oZ7checHg==""#, "42", "null", r#""zTL0BXUNT5KR0oZ7che+Hg""#]
    {
        let reply =
            decode(200, &format!(r#"{{"messageId":{id},"timestamp":"{TS}","response":{{}}}}"#));
        assert_eq!(found(&reply), [("thinq.message-id-invalid", V)], "{id}");
    }
    let reply = decode(200, &format!(r#"{{"messageId":42,"timestamp":"{TS}","response":{{}}}}"#));
    assert_eq!(reply.message_id, None);
    assert!(reply.findings[0].detail.contains("a number 42"));
}

#[test]
fn message_id_that_is_no_uuid_v4_is_tolerated() {
    for id in ["0f9aSXah5m5rbFSjzQ7q_g", "zTL0BXUNT5KR0oZ7checHh"] {
        let reply =
            decode(200, &format!(r#"{{"messageId":"{id}","timestamp":"{TS}","response":{{}}}}"#));
        assert_eq!(found(&reply), [("thinq.message-id-not-uuid4", T)], "{id}");
        assert!(reply.findings[0].detail.contains(id));
    }
}

#[test]
fn message_id_must_echo_the_request() {
    let body = format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":{{}}}}"#);
    let reply = decode_response(200, JSON, body.as_bytes(), Some(DOC_ID));
    assert_eq!(found(&reply), [("thinq.message-id-echo", V)]);
    assert!(reply.findings[0].detail.contains(SDK_ID) && reply.findings[0].detail.contains(DOC_ID));
    assert_eq!(found(&decode_response(200, JSON, body.as_bytes(), Some(SDK_ID))), []);
}

#[test]
fn timestamp_missing_is_a_violation_on_success_only() {
    let reply = decode(200, &format!(r#"{{"messageId":"{SDK_ID}","response":{{}}}}"#));
    assert_eq!(found(&reply), [("thinq.timestamp-missing", V)]);
    let reply = decode(
        404,
        &format!(
            r#"{{"messageId":"{SDK_ID}","error":{{"message":"Not registered device","code":"1205"}}}}"#
        ),
    );
    assert_eq!(found(&reply), [("thinq.timestamp-missing", T)]);
}

#[test]
fn timestamp_malformed_is_a_violation() {
    for ts in [r#""2024-09-13T06:55:58Z""#, r#""2024-13-01T00:00:00""#, "1725000000", r#""""#] {
        let reply =
            decode(200, &format!(r#"{{"messageId":"{SDK_ID}","timestamp":{ts},"response":{{}}}}"#));
        assert_eq!(found(&reply), [("thinq.timestamp-invalid", V)], "{ts}");
    }
    let reply = decode(
        200,
        &format!(
            r#"{{"messageId":"{SDK_ID}","timestamp":"2024-09-13T06:55:58Z","response":{{}}}}"#
        ),
    );
    assert_eq!(reply.timestamp.as_deref(), Some("2024-09-13T06:55:58Z"), "kept as sent");
}

#[test]
fn error_code_or_message_alone_is_a_violation() {
    let reply = decode(400, r#"{"error":{"message":"Missing parameters"}}"#);
    assert!(rules_of(&reply).ends_with(&["thinq.error-code-missing"]));
    assert_eq!(error_of(&reply).message, "Missing parameters");
    let reply = decode(400, r#"{"error":{"code":"1101"}}"#);
    assert!(rules_of(&reply).ends_with(&["thinq.error-message-missing"]));
    assert_eq!(error_of(&reply).code, known(1101));
}

#[test]
fn a_message_other_than_the_registry_text_is_tolerated() {
    let reply = decode(400, r#"{"error":{"message":"Parameters missing","code":"1101"}}"#);
    assert!(rules_of(&reply).ends_with(&["thinq.message-text"]));
    assert!(reply.is_conforming());
    let reply = decode(400, r#"{"error":{"message":"missing parameters","code":"1101"}}"#);
    assert!(rules_of(&reply).ends_with(&["thinq.message-text"]), "case counts");
}

#[test]
fn templated_messages_give_the_state_or_mode() {
    let reply =
        decode(400, r#"{"error":{"message":"Command not supported in POWER_ON","code":"2302"}}"#);
    let error = error_of(&reply);
    assert_eq!(error.state_or_mode.as_deref(), Some("POWER_ON"));
    assert!(!rules_of(&reply).contains(&"thinq.message-text"));
    let reply =
        decode(400, r#"{"error":{"message":"Command not supported in STANDBY","code":"2305"}}"#);
    assert_eq!(error_of(&reply).state_or_mode.as_deref(), Some("STANDBY"));
    // Read back case-insensitively, but reported since it is not what the server writes.
    let reply =
        decode(400, r#"{"error":{"message":"command not supported in heat","code":"2302"}}"#);
    assert_eq!(error_of(&reply).state_or_mode.as_deref(), Some("heat"));
    assert!(rules_of(&reply).contains(&"thinq.message-text"));
    let reply = decode(400, r#"{"error":{"message":"Command not supported","code":"2302"}}"#);
    assert_eq!(error_of(&reply).state_or_mode, None);
    assert!(rules_of(&reply).contains(&"thinq.message-text"));
    // The placeholder itself is no state.
    let reply = decode(400, r#"{"error":{"message":"Fail Request","code":"2305"}}"#);
    assert_eq!(error_of(&reply).state_or_mode, None);
}

#[test]
fn retry_after_is_parsed_and_a_bad_one_reported() {
    let body = br#"{"error":{"message":"Exceeded User API calls","code":"1314"}}"#;
    let with = |value| {
        decode_response(
            401,
            [("Content-Type", "application/json"), ("retry-AFTER", value)],
            body,
            None,
        )
    };
    assert_eq!(with("120").retry_after, Some(RetryAfter::Delay(Duration::from_secs(120))));
    assert!(matches!(with("Sun, 06 Nov 1994 08:49:37 GMT").retry_after, Some(RetryAfter::At(_))));
    let bad = with("in an hour");
    assert_eq!(bad.retry_after, None);
    assert_eq!(found(&bad).last(), Some(&("thinq.retry-after-invalid", V)));
    assert!(bad.findings.iter().any(|f| f.detail.contains("\"in an hour\"")));
    assert_eq!(decode_response(401, JSON, body, None).retry_after, None);
}

#[test]
fn escaped_strings_and_duplicate_keys_take_the_tolerant_path() {
    let reply =
        decode(416, r#"{"error":{"message":"Not connected devic\u0065","code":"\u0031222"}}"#);
    assert_eq!(error_of(&reply).code, known(1222));
    assert!(!rules_of(&reply).contains(&"thinq.message-text"));
    // The last duplicate wins, as in Python's json module.
    let reply = decode(400, r#"{"error":{"code":"1222","code":"2214","message":"Fail Request"}}"#);
    assert_eq!(error_of(&reply).code, known(2214));
    let reply = decode(
        400,
        r#"{"error":{"code":"1222"},"error":{"code":"2214","message":"Fail Request"}}"#,
    );
    assert_eq!(error_of(&reply).code, known(2214));
}

#[test]
fn a_success_response_of_any_shape_is_kept() {
    let cases = [
        (
            r#"[{"deviceId":"d1","deviceInfo":{"deviceType":"DEVICE_WASHER"}}]"#,
            json!([{"deviceId":"d1","deviceInfo":{"deviceType":"DEVICE_WASHER"}}]),
        ),
        (
            r#"{"resultCode":"0000","result":{"property":["energyUsage"]}}"#,
            json!({"resultCode":"0000","result":{"property":["energyUsage"]}}),
        ),
        ("null", serde_json::Value::Null),
        ("\"text\\n\"", json!("text\n")),
        ("1.5e3", json!(1500.0)),
    ];
    for (response, value) in cases {
        let body =
            format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":{response}}}"#);
        let reply = decode(200, &body);
        assert_eq!(reply.body, ResponseBody::Success { response: Some(value) }, "{response}");
        assert_eq!(found(&reply), []);
    }
}

#[test]
fn deep_nesting_never_overflows_the_stack() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let reply = decode(200, &deep);
    assert!(matches!(reply.body, ResponseBody::Unreadable { .. }));
    let inside = format!(r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":{deep}}}"#);
    let reply = decode(200, &inside);
    assert!(matches!(reply.body, ResponseBody::Unreadable { .. } | ResponseBody::Success { .. }));
}

#[test]
fn every_prefix_of_a_live_body_decodes_without_panic() {
    let body = r#"{"messageId":"0f9aSXah5m5rbFSjzQ7q_g","timestamp":"2026-05-04T16:55:47.326484","error":{"message":"Exceeded User API calls","code":"1314"}}"#;
    for end in 0..body.len() {
        let reply = decode(401, &body[..end]);
        let expected_bare = body[..end].trim().is_empty();
        assert_eq!(reply.body == ResponseBody::Bare, expected_bare, "{end}");
        if !expected_bare {
            assert!(matches!(reply.body, ResponseBody::Unreadable { .. }), "{end}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The direct scan of LG's layout

/// An envelope's members as plain values, to compare two readings.
type Reading<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<(Option<&'a str>, Option<&'a str>)>,
    Option<&'a str>,
    Option<&'a str>,
);

fn reading<'a>(envelope: &FastEnvelope<'a>) -> Reading<'a> {
    (
        envelope.message_id,
        envelope.timestamp,
        envelope.error.as_ref().map(|e| (e.code, e.message)),
        envelope.response.map(RawValue::get),
        envelope.message,
    )
}

#[test]
fn the_scan_reads_lgs_layout_in_any_order_and_spacing() {
    let live = r#"{"messageId":"0f9aSXah5m5rbFSjzQ7q_g","timestamp":"2026-05-04T16:55:47.326484","error":{"message":"Exceeded User API calls","code":"1314"}}"#;
    let scanned = scan_envelope(live).map(|e| reading(&e));
    assert_eq!(
        scanned,
        Some((
            Some("0f9aSXah5m5rbFSjzQ7q_g"),
            Some(TS),
            Some((Some("1314"), Some("Exceeded User API calls"))),
            None,
            None
        ))
    );
    let spaced = " {\n \"error\" : { \"code\" :\"1222\" ,\"message\":\"Not connected device\"} ,\r\n\t\"messageId\":\"W59GLawMm0Xm3v1TVxyFRg\" } \n";
    let scanned = scan_envelope(spaced).map(|e| reading(&e));
    assert_eq!(
        scanned,
        Some((
            Some("W59GLawMm0Xm3v1TVxyFRg"),
            None,
            Some((Some("1222"), Some("Not connected device"))),
            None,
            None
        ))
    );
    assert!(scan_envelope("{}").is_some());
    assert!(scan_envelope(r#"{"message":"Forbidden"}"#).is_some());
    assert!(scan_envelope(r#"{"error":{}}"#).is_some());
}

#[test]
fn the_scan_leaves_everything_else_to_serde() {
    for body in [
        r#"{"messageId":"a","response":{}}"#,
        r#"{"messageId":"a","other":"b"}"#,
        r#"{"messageId":"a","messageId":"b"}"#,
        r#"{"error":{"code":"1"},"error":{"code":"2"}}"#,
        r#"{"error":{"code":"1","code":"2"}}"#,
        r#"{"error":{"code":"1","detail":"x"}}"#,
        r#"{"error":{"code":1101}}"#,
        r#"{"error":"boom"}"#,
        r#"{"messageId":null}"#,
        r#"{"message":"a\"b"}"#,
        r#"{"message":"tab\tinside"}"#,
        r#"{"message":"a\}"#,
        r#"{"message":"a\,"timestamp":"b"}"#,
        "{\"message\":\"raw\ttab\"}",
        r#"{"message\u0049d":"a"}"#,
        r#"{"messageId":"a",}"#,
        r#"{"messageId":"a"} x"#,
        r#"{"messageId":"a"}}"#,
        r#"{"messageId" "a"}"#,
        r#"{"messageId":"a""#,
        r#"{"messageId":"a"#,
        r#"{"messageIdx":"a"}"#,
        r#"["messageId"]"#,
        "",
    ] {
        assert!(scan_envelope(body).is_none(), "{body}");
    }
}

/// A member of an envelope-like object, possibly malformed.
fn member() -> impl Strategy<Value = String> {
    // Weighted towards what the scan reads, so that most cases reach the comparison.
    let key = prop_oneof![
        4 => Just("messageId"),
        4 => Just("timestamp"),
        4 => Just("message"),
        6 => Just("error"),
        1 => Just("code"),
        1 => Just("response"),
        1 => Just("other"),
        1 => Just("messageIdx"),
    ];
    let scalar = prop_oneof![
        12 => "\"[ -!#-\\[\\]-~é]{0,12}\"",
        1 => Just("\"a\\\"b\"".to_owned()),
        1 => Just("\"\\u0041\"".to_owned()),
        1 => Just("1101".to_owned()),
        1 => Just("null".to_owned()),
        1 => Just("{}".to_owned()),
        1 => Just("[]".to_owned()),
    ];
    let error_key = prop_oneof![4 => Just("code"), 4 => Just("message"), 1 => Just("x")];
    let error = proptest::collection::vec((error_key, scalar.clone()), 0..3).prop_map(|members| {
        let inner: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", inner.join(","))
    });
    (key, prop_oneof![2 => scalar, 1 => error], "[ \t\r\n]{0,2}")
        .prop_map(|(key, value, ws)| format!("{ws}\"{key}\"{ws}:{ws}{value}{ws}"))
}

proptest! {
    // About a quarter of the generated bodies are ones the scan reads.
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn the_scan_agrees_with_serde_whenever_it_answers(
        members in proptest::collection::vec(member(), 0..4),
        tail in prop_oneof![8 => Just(""), 4 => Just(" \n"), 1 => Just(","), 1 => Just("}"), 1 => Just("x")],
    ) {
        let body = format!("{{{}}}{tail}", members.join(","));
        if let Some(scanned) = scan_envelope(&body) {
            let parsed = serde_json::from_str::<FastEnvelope<'_>>(&body);
            prop_assert!(parsed.is_ok(), "{body}: {parsed:?}");
            if let Ok(parsed) = parsed {
                prop_assert_eq!(reading(&scanned), reading(&parsed), "{}", body);
            }
        }
    }

    #[test]
    fn the_scan_never_answers_for_what_serde_refuses(body in r#"[{}\[\]":, a-z0-9\\]{0,60}"#) {
        if let Some(scanned) = scan_envelope(&body) {
            let parsed = serde_json::from_str::<FastEnvelope<'_>>(&body);
            prop_assert!(parsed.is_ok(), "{body}: {parsed:?}");
            if let Ok(parsed) = parsed {
                prop_assert_eq!(reading(&scanned), reading(&parsed));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding

#[test]
fn encode_error_writes_the_live_body_byte_for_byte() {
    let entry = Code::EXCEEDED_USER_API_CALLS.entry();
    let (status, body) =
        encode_error(entry, None, "0f9aSXah5m5rbFSjzQ7q_g", TS).expect("a fixed message");
    assert_eq!(status.as_u16(), 401);
    assert_eq!(
        String::from_utf8(body).expect("UTF-8"),
        r#"{"messageId":"0f9aSXah5m5rbFSjzQ7q_g","timestamp":"2026-05-04T16:55:47.326484","error":{"message":"Exceeded User API calls","code":"1314"}}"#
    );
}

#[test]
fn encode_error_writes_four_digits_and_the_entrys_status() {
    let (status, body) = encode_error(Code::UNKNOWN_ERROR.entry(), None, SDK_ID, TS).expect("ok");
    assert_eq!(status.as_u16(), 500);
    let text = String::from_utf8(body).expect("UTF-8");
    assert!(text.ends_with(r#""error":{"message":"Unknown error","code":"0000"}}"#), "{text}");
}

#[test]
fn encode_error_refuses_mismatched_state_or_mode() {
    let state = Code::COMMAND_NOT_SUPPORTED_IN_STATE.entry();
    assert_eq!(
        encode_error(state, None, SDK_ID, TS),
        Err(EncodeError::MissingStateOrMode {
            code: "2302".to_owned(),
            placeholder: "(STATE)".to_owned()
        })
    );
    assert!(matches!(
        encode_error(state, Some(" "), SDK_ID, TS),
        Err(EncodeError::BadStateOrMode(TemplateError::BadValue { .. }))
    ));
    assert!(matches!(
        encode_error(state, Some("A\nB"), SDK_ID, TS),
        Err(EncodeError::BadStateOrMode(_))
    ));
    let fixed = Code::COMMAND_NOT_SUPPORTED_IN_POWER_OFF.entry();
    let error = encode_error(fixed, Some("HEAT"), SDK_ID, TS).expect_err("no placeholder");
    assert_eq!(
        error,
        EncodeError::UnexpectedStateOrMode { code: "2304".to_owned(), value: "HEAT".to_owned() }
    );
    assert!(error.to_string().contains("\"HEAT\""));
}

#[test]
fn encode_error_refuses_a_bad_timestamp_and_a_five_digit_code() {
    let entry = Code::FAIL_REQUEST.entry();
    assert!(matches!(
        encode_error(entry, None, SDK_ID, "2026-05-04T16:55:47Z"),
        Err(EncodeError::Timestamp(TimestampError { reason: TimestampReason::Zone { .. }, .. }))
    ));
    let big = Entry::from(&EntryDef {
        code: 10_000,
        reason: "Too big",
        message: "Too big",
        explanation: "",
        http_status: HttpStatus::from_static(400),
        group: "g",
        class: Class::MalformedRequest,
        retry: Retry::Never,
        advice: "",
        source: Source::Observed,
        evidence: "",
        template: "",
        outside_areas: false,
    });
    assert_eq!(
        encode_error(&big, None, SDK_ID, TS),
        Err(EncodeError::CodeOutOfRange { code: 10_000 })
    );
}

#[test]
fn encode_escapes_what_it_echoes() {
    let odd = "a\"b\\c\n\u{1}é";
    let (_, body) = encode_error(Code::INVALID_MESSAGE_ID.entry(), None, odd, TS).expect("ok");
    let value: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
    assert_eq!(value["messageId"], odd);
    // The 1104 reply echoes the bad id, and the decoder reports it.
    let reply = decode_response(400, JSON, &body, Some(odd));
    assert_eq!(error_of(&reply).code, known(1104));
    assert_eq!(reply.message_id.as_deref(), Some(odd));
    assert_eq!(found(&reply), [("thinq.message-id-invalid", V)]);
}

#[test]
fn encode_success_writes_the_envelope_in_order() {
    let response = json!([{"deviceId": "d1"}]);
    let (status, body) = encode_success(&response, SDK_ID, TS);
    assert_eq!(status, HttpStatus::OK);
    assert_eq!(
        String::from_utf8(body.clone()).expect("UTF-8"),
        format!(
            r#"{{"messageId":"{SDK_ID}","timestamp":"{TS}","response":[{{"deviceId":"d1"}}]}}"#
        )
    );
    let reply = decode_response(200, JSON, &body, Some(SDK_ID));
    assert_eq!(reply.body, ResponseBody::Success { response: Some(response) });
    assert_eq!(found(&reply), []);
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Random bytes made a UUID v4: version nibble 4, RFC 4122 variant.
fn v4(mut bytes: [u8; 16]) -> [u8; 16] {
    bytes[6] = bytes[6] & 0x0f | 0x40;
    bytes[8] = bytes[8] & 0x3f | 0x80;
    bytes
}

/// A state or mode: LG's style (`HEAT`, `POWER_ON`), or any printable text `render` accepts.
fn state() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Z][A-Z_]{0,15}", "\\PC{1,12}"]
}

proptest! {
    #[test]
    fn every_entry_round_trips_without_violation(
        index in 0..registry().entries().len(),
        state in state(),
        uuid in any::<[u8; 16]>(),
        micros in 0u64..253_402_300_800_000_000,
    ) {
        let entry = &registry().entries()[index];
        prop_assume!(entry.template.is_none() || entry.render(&state).is_ok());
        let value = entry.template.as_ref().map(|_| state.as_str());
        let id = message_id_from_uuid(v4(uuid));
        let ts = format_timestamp(UNIX_EPOCH + Duration::from_micros(micros));
        let (status, body) = encode_error(entry, value, &id, &ts).expect("encodes");
        let reply = decode_response(status.as_u16(), JSON, &body, Some(&id));
        let error = error_of(&reply);
        prop_assert_eq!(error.code.code().map(|c| u32::from(c.as_u16())), Some(entry.code));
        let message = match value {
            Some(v) => entry.render(v).expect("renders"),
            None => entry.message.clone(),
        };
        prop_assert_eq!(&error.message, &message);
        prop_assert!(error.entry.is_some_and(|e| std::ptr::eq(e, entry)));
        prop_assert_eq!(error.state_or_mode.as_deref(), value);
        prop_assert_eq!(reply.message_id.as_deref(), Some(id.as_str()));
        prop_assert_eq!(reply.timestamp.as_deref(), Some(ts.as_str()));
        prop_assert_eq!(found(&reply), vec![]);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_input(
        status in any::<u16>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        content_type in prop_oneof![
            Just("application/json".to_owned()),
            Just("text/html".to_owned()),
            ".{0,20}",
        ],
        request in proptest::option::of("[A-Za-z0-9_-]{22}"),
    ) {
        let headers = [("Content-Type", content_type.as_str()), ("Retry-After", "x")];
        let reply = decode_response(status, headers, &body, request.as_deref());
        prop_assert_eq!(reply.status, status);
        prop_assert!(!reply.is_conforming(), "a bad Retry-After is always reported");
    }

    #[test]
    fn decode_never_panics_on_json_like_input(
        status in any::<u16>(),
        body in r#"[{}\[\]":,0-9a-zA-Z_\- .\\]{0,80}"#,
    ) {
        let _ = decode(status, &body);
    }

    #[test]
    fn decode_never_panics_on_mutated_envelopes(
        status in any::<u16>(),
        at in 0usize..200,
        byte in any::<u8>(),
    ) {
        let mut body = br#"{"messageId":"0f9aSXah5m5rbFSjzQ7q_g","timestamp":"2026-05-04T16:55:47.326484","error":{"message":"Exceeded User API calls","code":"1314"},"response":{"a":[1,2,{"b":null}]}}"#.to_vec();
        let at = at % body.len();
        body[at] = byte;
        let _ = decode_response(status, JSON, &body, Some("0f9aSXah5m5rbFSjzQ7q_g"));
    }

    #[test]
    fn v4_ids_pass_and_round_trip(uuid in any::<[u8; 16]>()) {
        let uuid = v4(uuid);
        let id = message_id_from_uuid(uuid);
        prop_assert_eq!(id.len(), 22);
        prop_assert_eq!(check_message_id(&id), Ok(uuid));
    }

    #[test]
    fn any_22_url_safe_characters_have_the_grammar(id in "[A-Za-z0-9_-]{22}") {
        match check_message_id(&id) {
            Ok(uuid) => prop_assert_eq!(message_id_from_uuid(uuid), id),
            Err(error) => prop_assert!(!error.reason.is_grammar(), "{}", error),
        }
    }

    #[test]
    fn formatted_timestamps_pass_and_agree_with_core_dates(
        seconds in 0u64..253_402_300_800,
        micros in 0u64..1_000_000,
    ) {
        let t = UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_micros(micros);
        let ts = format_timestamp(t);
        prop_assert_eq!(check_timestamp(&ts), Ok(()));
        prop_assert_eq!(&ts[20..], format!("{micros:06}"));
        // The same moment as an IMF-fixdate, read by core's independent date code.
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let month: usize = ts[5..7].parse().expect("digits");
        let imf = format!(
            "Mon, {} {} {} {} GMT", &ts[8..10], MONTHS[month - 1], &ts[..4], &ts[11..19]
        );
        prop_assert_eq!(
            RetryAfter::parse(&imf),
            Some(RetryAfter::At(UNIX_EPOCH + Duration::from_secs(seconds)))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// axum

#[cfg(feature = "axum")]
mod axum_response {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use axum::http::{HeaderMap, HeaderValue, header};
    use axum::response::IntoResponse;

    use super::*;

    /// Runs a future that never waits: a response body already in memory.
    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }

    fn parts(reply: ErrorResponse) -> (u16, Option<HeaderValue>, Vec<u8>) {
        let response = reply.into_response();
        let status = response.status().as_u16();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let body = ready(axum::body::to_bytes(response.into_body(), usize::MAX)).expect("body");
        (status, content_type, body.to_vec())
    }

    #[test]
    fn the_entry_gives_status_content_type_and_envelope() {
        let reply = ErrorResponse {
            entry: Code::NOT_CONNECTED_DEVICE.entry(),
            state_or_mode: None,
            message_id: SDK_ID.to_owned(),
        };
        let (status, content_type, body) = parts(reply);
        assert_eq!(status, 416);
        assert_eq!(content_type, Some(HeaderValue::from_static("application/json")));
        let decoded = decode_response(status, JSON, &body, Some(SDK_ID));
        assert_eq!(error_of(&decoded).code, known(1222));
        assert_eq!(found(&decoded), []);
    }

    #[test]
    fn templated_entries_render_the_state() {
        let reply = ErrorResponse {
            entry: Code::COMMAND_NOT_SUPPORTED_IN_MODE.entry(),
            state_or_mode: Some("STANDBY".to_owned()),
            message_id: DOC_ID.to_owned(),
        };
        let (status, _, body) = parts(reply);
        let decoded = decode_response(status, JSON, &body, Some(DOC_ID));
        assert_eq!(error_of(&decoded).message, "Command not supported in STANDBY");
        assert_eq!(error_of(&decoded).state_or_mode.as_deref(), Some("STANDBY"));
        assert_eq!(found(&decoded), []);
    }

    #[test]
    fn a_missing_state_still_answers_with_the_entrys_status_and_code() {
        let reply = ErrorResponse {
            entry: Code::COMMAND_NOT_SUPPORTED_IN_STATE.entry(),
            state_or_mode: None,
            message_id: SDK_ID.to_owned(),
        };
        let (status, _, body) = parts(reply);
        assert_eq!(status, 400);
        let decoded = decode_response(status, JSON, &body, Some(SDK_ID));
        assert_eq!(error_of(&decoded).code, known(2302));
        assert_eq!(error_of(&decoded).message, "Command not supported in (STATE)");
        assert!(decoded.is_conforming());
    }

    #[test]
    fn the_message_id_header_is_echoed_as_sent() {
        let mut headers = HeaderMap::new();
        assert_eq!(message_id_header(&headers), "");
        headers.insert("X-Message-Id", HeaderValue::from_static("not-an-id"));
        assert_eq!(message_id_header(&headers), "not-an-id");
        headers.insert("x-message-id", HeaderValue::from_bytes(b"ab\xffc").expect("obs-text"));
        assert_eq!(message_id_header(&headers), "ab\u{fffd}c");
    }
}
