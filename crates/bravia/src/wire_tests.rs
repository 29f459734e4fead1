//! The wire layer against the page's rules and the real requests and replies of the reference
//! transcripts (copied here as literals).

use std::collections::BTreeSet;
use std::time::Duration;

use devfault_core::{Class, EntryDef, Retry, Source};
use proptest::prelude::*;
use serde_json::json;

use super::*;

const JSON: [(&str, &str); 1] = [("Content-Type", "application/json")];

fn decode(status: u16, body: &str) -> Response {
    decode_response(status, JSON, body.as_bytes())
}

fn reply(response: &Response) -> &ErrorReply {
    match &response.body {
        ResponseBody::Error(reply) => reply,
        other => panic!("expected an error reply, got {other:?}"),
    }
}

fn rules_of(response: &Response) -> Vec<(&'static str, Severity)> {
    response.findings.iter().map(|f| (f.rule, f.severity)).collect()
}

fn violations(response: &Response) -> Vec<&'static str> {
    response.findings.iter().filter(|f| f.severity == Severity::Violation).map(|f| f.rule).collect()
}

fn detail<'r>(response: &'r Response, rule: &str) -> &'r str {
    match response.findings.iter().find(|f| f.rule == rule) {
        Some(finding) => &finding.detail,
        None => panic!("no {rule} finding in {:?}", response.findings),
    }
}

// ----- requests: one test per condition of the code-5 rule and of the envelope -----

fn request_error(body: &str) -> RequestError {
    match validate_request(body.as_bytes()) {
        Err(error) => {
            assert_eq!(error.code(), Code::ILLEGAL_REQUEST, "{error:?}");
            error
        }
        Ok(request) => panic!("{body:?} was accepted as {request:?}"),
    }
}

#[test]
fn an_empty_or_whitespace_body_is_empty() {
    assert_eq!(request_error(""), RequestError::Empty);
    let error = request_error(" \r\n\t ");
    assert_eq!(error, RequestError::Empty);
    assert!(error.to_string().contains("empty"), "{error}");
}

#[test]
fn a_body_that_is_not_json_is_named() {
    let error = request_error("method=getPowerStatus");
    assert!(
        matches!(&error, RequestError::NotJson { excerpt, .. } if excerpt == "method=getPowerStatus")
    );
    assert!(error.to_string().contains("\"method=getPowerStatus\" is not JSON"), "{error}");
    // Trailing garbage after a valid object is not JSON either.
    assert!(matches!(
        request_error(r#"{"method":"a","id":1,"params":[],"version":"1.0"} x"#),
        RequestError::NotJson { .. }
    ));
}

#[test]
fn a_body_that_is_not_an_object_is_named() {
    let error = request_error(r#"["getPowerStatus", 1]"#);
    assert_eq!(error, RequestError::NotObject(json!(["getPowerStatus", 1])));
    assert!(error.to_string().contains(r#"["getPowerStatus",1] is not a JSON object"#), "{error}");
}

#[test]
fn no_id_is_missing_id() {
    let error = request_error(r#"{"method": "getPowerStatus", "params": [], "version": "1.0"}"#);
    assert_eq!(error, RequestError::MissingId);
    assert!(error.to_string().contains("no id") && error.to_string().contains("2147483647"));
}

#[test]
fn an_id_outside_sonys_range_is_invalid() {
    for id in ["0", "-1", "2147483648", "1.5", "\"1\"", "null", "[1]"] {
        let body = format!(
            r#"{{"method": "getPowerStatus", "params": [], "id": {id}, "version": "1.0"}}"#
        );
        let error = request_error(&body);
        let value: Value = serde_json::from_str(id).expect("literal");
        assert_eq!(error, RequestError::InvalidId(value.clone()), "{id}");
        let text = error.to_string();
        assert!(text.contains(&format!("id {value} is invalid")), "{text}");
        assert!(text.contains("from 1 to 2147483647"), "{text}");
    }
    let edge = r#"{"method": "getPowerStatus", "params": [], "id": 2147483647, "version": "1.0"}"#;
    assert_eq!(validate_request(edge.as_bytes()).map(|r| r.id), Ok(2_147_483_647));
}

#[test]
fn no_method_or_an_empty_one_is_missing_method() {
    let error = request_error(r#"{"params": [], "id": 1, "version": "1.0"}"#);
    assert_eq!(error, RequestError::MissingMethod);
    assert!(error.to_string().contains("no method"), "{error}");
    assert_eq!(
        request_error(r#"{"method": "", "params": [], "id": 1, "version": "1.0"}"#),
        RequestError::MissingMethod
    );
}

#[test]
fn a_method_that_is_not_a_string_is_named() {
    let error = request_error(r#"{"method": 12, "params": [], "id": 1, "version": "1.0"}"#);
    assert_eq!(error, RequestError::MethodNotString(json!(12)));
    assert!(error.to_string().contains("method 12 is not a string"), "{error}");
}

#[test]
fn no_params_is_missing_params() {
    let error = request_error(r#"{"method": "getPowerStatus", "id": 1, "version": "1.0"}"#);
    assert_eq!(error, RequestError::MissingParams);
    assert!(error.to_string().contains("no params") && error.to_string().contains("[]"));
}

#[test]
fn params_that_are_not_an_array_are_named() {
    let error = request_error(
        r#"{"method": "setPowerStatus", "params": {"status": true}, "id": 1, "version": "1.0"}"#,
    );
    assert_eq!(error, RequestError::ParamsNotArray(json!({"status": true})));
    assert!(error.to_string().contains(r#"params {"status":true} is not an array"#), "{error}");
}

#[test]
fn no_version_is_missing_version() {
    let error = request_error(r#"{"method": "getPowerStatus", "params": [], "id": 1}"#);
    assert_eq!(error, RequestError::MissingVersion);
    assert!(error.to_string().contains("no version") && error.to_string().contains("\"1.0\""));
}

#[test]
fn a_version_that_is_not_x_dot_y_is_named() {
    // JSON texts of the version member: strings of the wrong shape, a number, null.
    for version in ["\"1\"", "\"v1.0\"", "\"1.\"", "\".0\"", "\"1.0.0\"", "\"1.a\"", "1", "null"] {
        let body = format!(
            r#"{{"method": "getPowerStatus", "params": [], "id": 1, "version": {version}}}"#
        );
        let value: Value = serde_json::from_str(version).expect("literal");
        let error = request_error(&body);
        assert_eq!(error, RequestError::InvalidVersion(value.clone()), "{version}");
        assert!(error.to_string().contains(&format!("version {value} is not")), "{error}");
    }
    let float = r#"{"method": "getPowerStatus", "params": [], "id": 1, "version": 1.0}"#;
    assert_eq!(request_error(float), RequestError::InvalidVersion(json!(1.0)));
}

#[test]
fn the_real_clients_requests_are_valid() {
    // pybravia 0.5.3 (key order method, params, id, version) and braviaproapi 1.0.1 (method,
    // params, version, id), Appendix A; the official manual's example, §1.
    let cases: [(&str, &str, u64, Value, &str); 4] = [
        (
            r#"{"method": "getPowerStatus", "params": [], "id": 1, "version": "1.0"}"#,
            "getPowerStatus",
            1,
            json!([]),
            "1.0",
        ),
        (
            r#"{"method": "setAudioVolume", "params": [{"target": "", "volume": "30", "ui": "on"}], "version": "1.2", "id": 4}"#,
            "setAudioVolume",
            4,
            json!([{"target": "", "volume": "30", "ui": "on"}]),
            "1.2",
        ),
        (
            r#"{"method": "actRegister", "params": [{"clientid": "HomeAssistant.0f1e2d3c", "nickname": "Home Assistant", "level": "private"}, [{"value": "yes", "function": "WOL"}]], "id": 1, "version": "1.0"}"#,
            "actRegister",
            1,
            json!([{"clientid": "HomeAssistant.0f1e2d3c", "nickname": "Home Assistant", "level": "private"}, [{"value": "yes", "function": "WOL"}]]),
            "1.0",
        ),
        (
            r#"{"method": "getPowerStatus", "params": [], "id": 50, "version": "1.0"}"#,
            "getPowerStatus",
            50,
            json!([]),
            "1.0",
        ),
    ];
    for (body, method, id, params, version) in cases {
        let request = validate_request(body.as_bytes()).expect("valid");
        let Value::Array(params) = params else { unreachable!() };
        assert_eq!(
            request,
            Request { method: method.to_owned(), id, params, version: version.to_owned() }
        );
    }
}

// ----- responses: the real success bodies -----

#[test]
fn the_real_success_bodies_decode() {
    let volume = json!([[
        {"target": "speaker", "volume": 25, "mute": false, "maxVolume": 100, "minVolume": 0},
        {"target": "headphone", "volume": 10, "mute": false, "maxVolume": 100, "minVolume": 0}
    ]]);
    let info = json!([{"product": "TV", "region": "XEU", "language": "eng", "model": "FW-55BZ35L", "serial": "1234567", "macAddr": "aa:bb:cc:dd:ee:ff", "name": "BRAVIA", "generation": "5.0.1", "area": "DEU", "cid": "cid"}]);
    let cases: Vec<(&str, Value, u64)> = vec![
        (r#"{"result": [{"status": "active"}], "id": 1}"#, json!([{"status": "active"}]), 1),
        (r#"{"result": [{"status": "active"}], "id": 50}"#, json!([{"status": "active"}]), 50),
        (
            r#"{"result": [[{"target": "speaker", "volume": 25, "mute": false, "maxVolume": 100, "minVolume": 0}, {"target": "headphone", "volume": 10, "mute": false, "maxVolume": 100, "minVolume": 0}]], "id": 1}"#,
            volume,
            1,
        ),
        (r#"{"result": [], "id": 4}"#, json!([]), 4),
        (
            r#"{"result": [{"productCategory": "tv", "productName": "BRAVIA", "modelName": "FW-55BZ35L", "serverName": "", "interfaceVersion": "3.6.0"}], "id": 1}"#,
            json!([{"productCategory": "tv", "productName": "BRAVIA", "modelName": "FW-55BZ35L", "serverName": "", "interfaceVersion": "3.6.0"}]),
            1,
        ),
        (
            r#"{"result": [{"product": "TV", "region": "XEU", "language": "eng", "model": "FW-55BZ35L", "serial": "1234567", "macAddr": "aa:bb:cc:dd:ee:ff", "name": "BRAVIA", "generation": "5.0.1", "area": "DEU", "cid": "cid"}], "id": 1}"#,
            info,
            1,
        ),
        (
            r#"{"result":[{"bundled":true,"type":"IR_REMOTE_BUNDLE_TYPE_AEP"},[{"name":"PowerOff","value":"AAAAAQAAAAEAAAAvAw=="},{"name":"Input","value":"AAAAAQAAAAEAAAAlAw=="}]],"id":54}"#,
            json!([{"bundled":true,"type":"IR_REMOTE_BUNDLE_TYPE_AEP"},[{"name":"PowerOff","value":"AAAAAQAAAAEAAAAvAw=="},{"name":"Input","value":"AAAAAQAAAAEAAAAlAw=="}]]),
            54,
        ),
    ];
    for (body, result, id) in cases {
        // The official manual's Content-Type, with its charset parameter.
        let response = decode_response(
            200,
            [("Content-Type", "application/json; charset=UTF-8")],
            body.as_bytes(),
        );
        let Value::Array(result) = result else { unreachable!() };
        assert_eq!(
            response.body,
            ResponseBody::Success { result, id: Some(id), extra: Map::new() },
            "{body}"
        );
        assert_eq!(response.findings, [], "{body}");
        assert_eq!(response.entry(), None);
    }
}

#[test]
fn act_register_with_its_cookie_decodes() {
    let response = decode_response(
        200,
        [
            ("Set-Cookie", "auth=FAKECOOKIE123; Path=/sony/; Max-Age=1209600"),
            ("content-type", "application/json"),
        ],
        br#"{"result": [], "id": 1}"#,
    );
    assert!(
        matches!(&response.body, ResponseBody::Success { result, id: Some(1), .. } if result.is_empty())
    );
    assert!(response.is_conforming());
}

// ----- responses: error replies and the real-device variants -----

#[test]
fn a_documented_error_decodes_to_its_row() {
    let response = decode(200, r#"{"error": [40801, "Volume Out of Range"], "id": 1}"#);
    let reply = reply(&response);
    assert_eq!(reply.code, ReplyCode::InSpace(Code::VOLUME_OUT_OF_RANGE));
    assert_eq!(reply.message, "Volume Out of Range");
    assert_eq!(reply.id, Some(1));
    assert_eq!(reply.form, ErrorForm::Array);
    assert_eq!(
        reply.entry.map(|e| (e.class, e.retry)),
        Some((Class::MalformedRequest, Retry::Never))
    );
    assert_eq!(response.findings, []);
}

#[test]
fn not_power_on_picks_the_observed_row_and_illegal_state_the_documented_one() {
    let observed = decode(200, r#"{"error": [7, "not power-on"], "id": 1}"#);
    let entry = reply(&observed).entry.expect("a row");
    assert_eq!((entry.message.as_str(), entry.source), ("not power-on", Source::Observed));
    assert_eq!(observed.findings, []);
    let documented = decode(200, r#"{"error": [7, "Illegal State"], "id": 3}"#);
    let entry = reply(&documented).entry.expect("a row");
    assert_eq!((entry.message.as_str(), entry.source), ("Illegal State", Source::Documented));
    assert_eq!(observed.entry().map(|e| e.class), Some(Class::DeviceState));
}

#[test]
fn display_is_turned_off_in_both_spellings() {
    let capital = decode(200, r#"{"error": [40005, "Display Is Turned off"], "id": 1}"#);
    assert_eq!(reply(&capital).entry.map(|e| e.source), Some(Source::Observed));
    assert_eq!(capital.findings, []);
    let page = decode(200, r#"{"error": [40005, "Display is turned off"], "id": 1}"#);
    assert_eq!(reply(&page).entry.map(|e| e.source), Some(Source::Documented));
}

#[test]
fn an_error_without_id_is_tolerated() {
    // A real Android TV while powering down.
    let response = decode(404, r#"{"error":[404,"Not Found"]}"#);
    let reply = reply(&response);
    assert_eq!((reply.code.clone(), reply.id), (ReplyCode::InSpace(Code::NOT_FOUND), None));
    assert_eq!(rules_of(&response), [(rule::MISSING_ID, Severity::Tolerated)]);
    assert!(response.is_conforming());
    assert_eq!(response.entry().map(|e| e.code), Some(404));
    // A null id reads the same way.
    let null = decode(200, r#"{"error":[7,"Illegal State"],"id":null}"#);
    assert_eq!(rules_of(&null), [(rule::MISSING_ID, Severity::Tolerated)]);
}

#[test]
fn the_json_rpc_2_object_form_is_tolerated() {
    for body in [
        r#"{"error": {"code": 12, "message": "No Such Method"}, "id": 2}"#,
        r#"{"jsonrpc": "2.0", "error": {"code": 12, "message": "No Such Method"}, "id": 2}"#,
    ] {
        let response = decode(200, body);
        let reply = reply(&response);
        assert_eq!(reply.form, ErrorForm::JsonRpc2Object);
        assert_eq!(reply.code, Code::NO_SUCH_METHOD);
        assert_eq!((reply.message.as_str(), reply.id), ("No Such Method", Some(2)));
        assert_eq!(reply.entry.map(|e| e.code), Some(12));
        assert!(response.is_conforming(), "{:?}", response.findings);
        assert!(rules_of(&response).contains(&(rule::JSONRPC2_ERROR_OBJECT, Severity::Tolerated)));
    }
    let with_version = decode(
        200,
        r#"{"jsonrpc": "2.0", "error": {"code": 12, "message": "No Such Method", "data": "getFoo"}, "id": 2}"#,
    );
    let reply = reply(&with_version);
    assert_eq!(reply.extra.get("jsonrpc"), Some(&json!("2.0")));
    assert_eq!(reply.details, [json!({"data": "getFoo"})]);
}

#[test]
fn the_android_auth_url_403_is_tolerated_and_kept() {
    let body = r#"{"auth_url": {"default": "http://<ip>:80/sony/webauth/auth_default", "tv": "http://127.0.0.1:80/sony/webauth/auth_tv"}, "error": [403, "Forbidden"], "id": 1}"#;
    let response = decode(403, body);
    let reply = reply(&response);
    assert_eq!(reply.code, Code::FORBIDDEN);
    assert_eq!(reply.id, Some(1));
    assert_eq!(
        reply.extra.get("auth_url"),
        Some(
            &json!({"default": "http://<ip>:80/sony/webauth/auth_default", "tv": "http://127.0.0.1:80/sony/webauth/auth_tv"})
        )
    );
    assert_eq!(rules_of(&response), [(rule::EXTRA_MEMBER, Severity::Tolerated)]);
    assert!(detail(&response, rule::EXTRA_MEMBER).contains("auth_url"));
    assert!(response.is_conforming());
    assert_eq!(response.entry().map(|e| e.class), Some(Class::Permission));
}

#[test]
fn a_message_the_registry_lacks_keeps_the_documented_row() {
    // Some devices put the method name where the reason goes.
    let response = decode(200, r#"{"error": [12, "getSupportedApiInfo"], "id": 1}"#);
    let reply = reply(&response);
    assert_eq!(reply.message, "getSupportedApiInfo");
    assert_eq!(reply.entry.map(|e| e.message.as_str()), Some("No Such Method"));
    assert_eq!(rules_of(&response), [(rule::UNLISTED_MESSAGE, Severity::Tolerated)]);
    assert!(detail(&response, rule::UNLISTED_MESSAGE).contains("\"getSupportedApiInfo\""));
    // Matching is exact: a case variant the registry lacks is reported too.
    let lower = decode(200, r#"{"error": [40801, "volume out of range"], "id": 1}"#);
    assert_eq!(rules_of(&lower), [(rule::UNLISTED_MESSAGE, Severity::Tolerated)]);
}

#[test]
fn a_long_error_array_keeps_the_rest() {
    let response = decode(200, r#"{"error": [7, "Illegal State", "E1234", 3], "id": 1}"#);
    let reply = reply(&response);
    assert_eq!(reply.details, [json!("E1234"), json!(3)]);
    assert_eq!(reply.entry.map(|e| e.code), Some(7));
    assert_eq!(rules_of(&response), [(rule::LONG_ERROR_ARRAY, Severity::Tolerated)]);
}

#[test]
fn an_unlisted_code_in_the_space_is_kept() {
    let response = decode(200, r#"{"error": [41850, "Whatever"], "id": 1}"#);
    let reply = reply(&response);
    assert_eq!(reply.code, ReplyCode::InSpace(Code::from_static(41850)));
    assert_eq!(reply.entry, None);
    assert_eq!(rules_of(&response), [(rule::UNLISTED_CODE, Severity::Tolerated)]);
}

#[test]
fn a_code_outside_the_space_is_kept_whole() {
    // braviaproapi raises ValueError on this one; we keep the number and say what is wrong.
    let response = decode(200, r#"{"error": [99999, "Unknown code"], "id": 1}"#);
    let reply = reply(&response);
    assert_eq!(reply.code, ReplyCode::OutOfSpace(Number::from(99999)));
    assert_eq!(reply.code.to_string(), "99999");
    assert_eq!((reply.code.code(), reply.entry), (None, None));
    assert_eq!(reply.message, "Unknown code");
    assert_eq!(rules_of(&response), [(rule::CODE_OUT_OF_SPACE, Severity::Violation)]);
    assert!(detail(&response, rule::CODE_OUT_OF_SPACE).contains("0-65535"));
    for (code, kept) in
        [("-1", "-1"), ("7.5", "7.5"), ("18446744073709551615", "18446744073709551615")]
    {
        let response = decode(200, &format!(r#"{{"error": [{code}, "x"], "id": 1}}"#));
        assert_eq!(reply_code_text(&response), kept);
    }
}

fn reply_code_text(response: &Response) -> String {
    reply(response).code.to_string()
}

#[test]
fn retry_after_is_parsed_with_any_header_case() {
    let response = decode_response(
        503,
        [("content-type", "application/json"), ("RETRY-AFTER", "120")],
        br#"{"error": [503, "Service Unavailable"], "id": 1}"#,
    );
    assert_eq!(response.retry_after, Some(RetryAfter::Delay(Duration::from_secs(120))));
    assert_eq!(response.findings, []);
    assert_eq!(response.entry().map(|e| e.retry), Some(Retry::BackOff));
}

#[test]
fn a_non_ascii_retry_after_is_unparseable_not_a_panic() {
    // 29 bytes with a character across byte 3..5, the shape that trips byte slicing.
    let response = decode_response(503, [("Retry-After", "Moé 06 Nov 1994 08:49:37 GMT")], b"");
    assert_eq!(response.retry_after, None);
    assert_eq!(violations(&response), [rule::RETRY_AFTER_UNPARSEABLE]);
}

// ----- responses: violations -----

#[test]
fn a_non_200_status_with_another_code_breaks_the_http_rule() {
    let response = decode(403, r#"{"error": [401, "Unauthorized"], "id": 1}"#);
    assert_eq!(violations(&response), [rule::STATUS_CODE_MISMATCH]);
    let text = detail(&response, rule::STATUS_CODE_MISMATCH);
    assert!(text.contains("HTTP 403 carries error code 401"), "{text}");
    assert!(text.contains("the error code must be same as the HTTP error code."), "{text}");
    assert!(!response.is_conforming());
    // The reply still decodes to what it says.
    assert_eq!(reply(&response).code, Code::UNAUTHORIZED);
}

#[test]
fn a_json_rpc_code_on_an_http_error_is_forced_mapping() {
    let response = decode(503, r#"{"error": [7, "Illegal State"], "id": 1}"#);
    assert_eq!(violations(&response), [rule::STATUS_CODE_MISMATCH, rule::RPC_CODE_ON_HTTP_ERROR]);
    assert!(
        detail(&response, rule::RPC_CODE_ON_HTTP_ERROR)
            .contains("\"Should not map others to HTTP errors forcibly.\"")
    );
}

#[test]
fn an_http_code_on_200_is_a_violation() {
    let response = decode(200, r#"{"error": [403, "Forbidden"], "id": 1}"#);
    assert_eq!(violations(&response), [rule::HTTP_CODE_ON_OK]);
    assert!(detail(&response, rule::HTTP_CODE_ON_OK).contains("403 (Forbidden)"));
}

#[test]
fn a_result_on_an_http_error_is_a_violation() {
    let response = decode(500, r#"{"result": [], "id": 1}"#);
    assert!(matches!(response.body, ResponseBody::Success { .. }));
    assert_eq!(violations(&response), [rule::RESULT_ON_HTTP_ERROR]);
}

#[test]
fn result_and_error_together_decode_as_the_error() {
    let response = decode(
        200,
        r#"{"result": [{"status": "active"}], "error": [7, "Illegal State"], "id": 1}"#,
    );
    let reply = reply(&response);
    assert_eq!(reply.code, Code::ILLEGAL_STATE);
    assert_eq!(reply.extra.get("result"), Some(&json!([{"status": "active"}])));
    assert_eq!(violations(&response), [rule::RESULT_AND_ERROR]);
}

#[test]
fn neither_result_nor_error_is_unreadable() {
    for body in [r#"{"id": 1}"#, r#"{"result": null, "error": null, "id": 1}"#, "{}"] {
        let response = decode(200, body);
        assert!(
            matches!(&response.body, ResponseBody::Unreadable { reason, .. } if reason.contains("neither"))
        );
        assert_eq!(violations(&response), [rule::NO_RESULT_OR_ERROR], "{body}");
    }
}

#[test]
fn a_null_counterpart_is_tolerated() {
    let response = decode(200, r#"{"result": [0], "error": null, "id": 1}"#);
    assert!(matches!(&response.body, ResponseBody::Success { result, extra, .. }
        if result == &[json!(0)] && extra.get("error") == Some(&Value::Null)));
    assert_eq!(rules_of(&response), [(rule::NULL_MEMBER, Severity::Tolerated)]);
}

#[test]
fn a_result_that_is_not_an_array_is_kept_as_its_element() {
    let response = decode(200, r#"{"result": {"status": "active"}, "id": 1}"#);
    assert!(
        matches!(&response.body, ResponseBody::Success { result, .. } if result == &[json!({"status": "active"})])
    );
    assert_eq!(violations(&response), [rule::RESULT_NOT_ARRAY]);
}

#[test]
fn an_id_that_is_not_a_non_negative_integer_is_kept_in_extra() {
    for id in [json!("1"), json!(-1), json!(1.5), json!([1])] {
        let body = json!({"error": [7, "Illegal State"], "id": id}).to_string();
        let response = decode(200, &body);
        let reply = reply(&response);
        assert_eq!((reply.id, reply.extra.get("id")), (None, Some(&id)));
        assert_eq!(violations(&response), [rule::INVALID_ID], "{body}");
        let body = json!({"result": [], "id": id}).to_string();
        let response = decode(200, &body);
        assert!(
            matches!(&response.body, ResponseBody::Success { id: None, extra, .. } if extra.get("id") == Some(&id))
        );
        assert_eq!(violations(&response), [rule::INVALID_ID], "{body}");
    }
}

#[test]
fn a_malformed_error_member_is_reported() {
    // Without a usable code there is no error reply.
    for body in [
        r#"{"error": "boom", "id": 1}"#,
        r#"{"error": [], "id": 1}"#,
        r#"{"error": ["7", "Illegal State"], "id": 1}"#,
        r#"{"error": {"message": "x"}, "id": 1}"#,
    ] {
        let response = decode(200, body);
        assert!(matches!(response.body, ResponseBody::Unreadable { .. }), "{body}");
        assert_eq!(violations(&response), [rule::MALFORMED_ERROR], "{body}");
    }
    // With one, the reply is kept and the message problem reported.
    let no_message = decode(200, r#"{"error": [7], "id": 1}"#);
    assert_eq!(reply(&no_message).message, "");
    assert!(violations(&no_message).contains(&rule::MALFORMED_ERROR));
    let number_message = decode(200, r#"{"error": [7, 42], "id": 1}"#);
    assert_eq!(reply(&number_message).message, "42");
    assert!(violations(&number_message).contains(&rule::MALFORMED_ERROR));
}

#[test]
fn a_protocol_body_needs_a_json_content_type() {
    let body = br#"{"result": [{"status": "active"}], "id": 1}"#;
    let html = decode_response(200, [("Content-Type", "text/html")], body);
    assert!(matches!(html.body, ResponseBody::Success { .. }), "decoded anyway");
    assert_eq!(violations(&html), [rule::CONTENT_TYPE_NOT_JSON]);
    assert!(detail(&html, rule::CONTENT_TYPE_NOT_JSON).contains("\"text/html\""));
    let missing = decode_response(200, [], body);
    assert_eq!(violations(&missing), [rule::CONTENT_TYPE_NOT_JSON]);
    for fine in ["application/json", "Application/JSON; charset=UTF-8", "application/vnd.sony+json"]
    {
        assert_eq!(decode_response(200, [("content-type", fine)], body).findings, [], "{fine}");
    }
    // A bare status carries no protocol body, so no Content-Type is needed.
    assert_eq!(decode_response(403, [], b"").findings, []);
}

#[test]
fn an_unparseable_retry_after_is_a_finding_not_an_error() {
    let response = decode_response(
        503,
        [("Retry-After", "soon"), ("Content-Type", "application/json")],
        br#"{"error": [503, "Service Unavailable"], "id": 1}"#,
    );
    assert_eq!(response.retry_after, None);
    assert_eq!(violations(&response), [rule::RETRY_AFTER_UNPARSEABLE]);
    assert!(detail(&response, rule::RETRY_AFTER_UNPARSEABLE).contains("\"soon\""));
    assert_eq!(reply(&response).code, Code::SERVICE_UNAVAILABLE);
}

// ----- responses: garbage -----

#[test]
fn an_empty_body_is_bare_and_the_status_row_answers() {
    let bare = decode_response(403, [], b"");
    assert_eq!(bare.body, ResponseBody::Bare);
    assert_eq!(bare.entry().map(|e| e.code), Some(403));
    assert!(bare.is_conforming());
    assert_eq!(decode_response(401, [], b" \n").entry().map(|e| e.code), Some(401));
    assert_eq!(decode_response(418, [], b"").entry(), None);
    let ok = decode_response(200, [], b"");
    assert_eq!(
        (ok.body.clone(), violations(&ok)),
        (ResponseBody::Bare, vec![rule::OK_WITHOUT_PROTOCOL_BODY])
    );
    assert_eq!(ok.entry(), None);
}

#[test]
fn truncated_json_is_unreadable_and_says_so() {
    // Scenario (g) of the reaction matrix: pybravia leaks JSONDecodeError on it.
    let response = decode(200, r#"{"result": [{"status": "active"}"#);
    let ResponseBody::Unreadable { reason, excerpt } = &response.body else {
        panic!("{:?}", response.body)
    };
    assert!(reason.starts_with("truncated JSON"), "{reason}");
    assert_eq!(excerpt, r#"{"result": [{"status": "active"}"#);
    assert_eq!(violations(&response), [rule::OK_WITHOUT_PROTOCOL_BODY]);
}

#[test]
fn an_html_page_is_unreadable() {
    let page = "<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>";
    let not_found = decode_response(404, [("Content-Type", "text/html")], page.as_bytes());
    assert!(
        matches!(&not_found.body, ResponseBody::Unreadable { reason, .. } if reason.contains("HTML"))
    );
    assert!(not_found.is_conforming(), "a non-200 may carry a non-protocol body");
    assert_eq!(not_found.entry().map(|e| e.code), Some(404));
    let ok = decode_response(200, [("Content-Type", "text/html")], page.as_bytes());
    assert_eq!(violations(&ok), [rule::OK_WITHOUT_PROTOCOL_BODY]);
}

#[test]
fn random_bytes_and_odd_json_are_unreadable() {
    let long = "x".repeat(500);
    let bodies: [&[u8]; 6] =
        [b"\xff\xfe\x00garbage", b"null", b"[1, 2]", b"\"ok\"", b"42", long.as_bytes()];
    for body in bodies {
        let response = decode_response(200, JSON, body);
        let ResponseBody::Unreadable { excerpt, .. } = &response.body else {
            panic!("{body:?} gave {:?}", response.body)
        };
        assert!(excerpt.chars().count() <= EXCERPT_CHARS + 1, "{excerpt}");
        assert_eq!(violations(&response), [rule::OK_WITHOUT_PROTOCOL_BODY]);
    }
}

// ----- encoding -----

#[test]
fn encode_error_writes_the_page_form_with_the_rows_status() {
    let (status, body) = encode_error(Code::VOLUME_OUT_OF_RANGE.entry(), Some(1));
    assert_eq!(
        (status.as_u16(), body.as_slice()),
        (200, &br#"{"error":[40801,"Volume Out of Range"],"id":1}"#[..])
    );
    let (status, body) = encode_error(Code::FORBIDDEN.entry(), None);
    assert_eq!((status.as_u16(), body.as_slice()), (403, &br#"{"error":[403,"Forbidden"]}"#[..]));
}

#[test]
fn encode_success_writes_result_then_id() {
    let (status, body) = encode_success(&[json!({"status": "active"})], 50);
    assert_eq!(
        (status, body.as_slice()),
        (HttpStatus::OK, &br#"{"result":[{"status":"active"}],"id":50}"#[..])
    );
    let (_, body) = encode_success(&[], 4);
    assert_eq!(body, br#"{"result":[],"id":4}"#);
}

#[test]
fn messages_with_quotes_and_control_characters_survive_encoding() {
    let message = "say \"hi\" \\ back\nslash\t\u{1}\u{1f} é ✓";
    let entry = Entry::from(&EntryDef {
        code: 41850,
        reason: "test",
        message,
        explanation: "",
        http_status: HttpStatus::OK,
        group: "observed",
        class: Class::Unknown,
        retry: Retry::Never,
        advice: "",
        source: Source::Observed,
        evidence: "test",
        template: "",
        outside_areas: false,
    });
    let (_, body) = encode_error(&entry, Some(9));
    let parsed: Value = serde_json::from_slice(&body).expect("valid JSON");
    assert_eq!(parsed, json!({"error": [41850, message], "id": 9}));
    assert_eq!(reply(&decode_response(200, JSON, &body)).message, message);
}

#[cfg(feature = "axum")]
#[tokio::test(flavor = "current_thread")]
async fn the_axum_response_carries_status_type_and_body_from_the_row() {
    use axum::response::IntoResponse;
    for (code, id, status, body) in [
        (Code::FORBIDDEN, Some(7), 403, &br#"{"error":[403,"Forbidden"],"id":7}"#[..]),
        (Code::ILLEGAL_STATE, None, 200, &br#"{"error":[7,"Illegal State"]}"#[..]),
    ] {
        let response = ErrorResponse { entry: code.entry(), id }.into_response();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(
            response.headers().get(axum::http::header::CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        assert_eq!(&bytes[..], body);
    }
}

// ----- the error-reply scanner -----

#[test]
fn the_scanner_reads_the_canonical_error_in_any_spacing_and_order() {
    let expected = Some(ScannedError { code: 40801, message: b"Volume Out of Range", id: 1 });
    for body in [
        r#"{"error":[40801,"Volume Out of Range"],"id":1}"#,
        "{ \"error\" : [ 40801 , \"Volume Out of Range\" ] ,\r\n\t\"id\" : 1 }\n",
        r#"{"id": 1, "error": [40801, "Volume Out of Range"]}"#,
    ] {
        assert_eq!(scan_error(body.as_bytes()), expected, "{body:?}");
    }
    assert_eq!(
        scan_error("{\"error\":[7,\"ünïcødé ✓\"],\"id\":0}".as_bytes()).map(|s| s.message),
        Some("ünïcødé ✓".as_bytes())
    );
}

#[test]
fn the_scanner_leaves_everything_else_to_serde() {
    for body in [
        r#"{"error":[7,"Illegal State"]}"#,               // no id
        r#"{"error":[7,"Illegal State"],"id":1,"id":2}"#, // duplicate
        r#"{"error":[7,"a\"b"],"id":1}"#,                 // escape
        "{\"error\":[7,\"a\u{1}b\"],\"id\":1}",           // control character
        r#"{"error":[07,"Illegal State"],"id":1}"#,       // leading zero
        r#"{"error":[-7,"Illegal State"],"id":1}"#,       // sign
        r#"{"error":[7.0,"Illegal State"],"id":1}"#,      // fraction
        r#"{"error":[7e0,"Illegal State"],"id":1}"#,      // exponent
        r#"{"error":[65536,"x"],"id":1}"#,                // outside the space
        r#"{"error":[7,"x"],"id":18446744073709551616}"#, // id beyond u64
        r#"{"error":[7,"x",1],"id":1}"#,                  // long array
        r#"{"error":[7,"x"],"id":1} x"#,                  // trailing garbage
        r#"{"error":[7,"x"],"id":1,}"#,                   // trailing comma
        r#"{"result":[],"id":1}"#,                        // a success
        r#"{"error":[7,"x"],"id":1"#,                     // truncated
    ] {
        assert_eq!(scan_error(body.as_bytes()), None, "{body:?}");
    }
    // Invalid UTF-8 is the caller's to refuse: decoding finds the body unreadable.
    let invalid = b"{\"error\":[7,\"\xff\"],\"id\":1}";
    assert_eq!(scan_error(invalid).map(|s| s.message), Some(&b"\xff"[..]));
    assert!(matches!(decode_response(200, JSON, invalid).body, ResponseBody::Unreadable { .. }));
}

// ----- the rule table -----

/// A header list, as tests write them.
type Headers = &'static [(&'static str, &'static str)];

/// One body per rule, each of which must produce its rule: proves every rule is reachable and
/// that the findings of the suite name only listed rules.
#[test]
fn every_rule_is_listed_well_formed_and_reachable() {
    let ids: BTreeSet<&str> = RULES.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), RULES.len(), "ids are unique");
    for (id, description) in RULES {
        let name = id.strip_prefix("bravia.").unwrap_or_else(|| panic!("{id} is prefixed"));
        assert!(
            !name.is_empty()
                && name.split('-').all(|w| !w.is_empty()
                    && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
            "{id} is kebab-case"
        );
        assert!(!description.is_empty() && !description.contains('\n'), "{id}");
    }
    let cases: [(u16, Headers, &str); 21] = [
        (403, &JSON, r#"{"error":[401,"Unauthorized"],"id":1}"#),
        (503, &JSON, r#"{"error":[7,"Illegal State"],"id":1}"#),
        (200, &JSON, r#"{"error":[403,"Forbidden"],"id":1}"#),
        (500, &JSON, r#"{"result":[],"id":1}"#),
        (200, &JSON, ""),
        (200, &JSON, r#"{"result":[],"error":[7,"Illegal State"],"id":1}"#),
        (200, &JSON, r#"{"id":1}"#),
        (200, &JSON, r#"{"result":5,"id":1}"#),
        (200, &JSON, r#"{"error":"boom","id":1}"#),
        (200, &JSON, r#"{"result":[],"id":"1"}"#),
        (200, &JSON, r#"{"error":[99999,"x"],"id":1}"#),
        (200, &[("Content-Type", "text/plain")], r#"{"result":[],"id":1}"#),
        (503, &[("Retry-After", "later")], ""),
        (200, &JSON, r#"{"result":[]}"#),
        (200, &JSON, r#"{"error":{"code":7,"message":"Illegal State"},"id":1}"#),
        (200, &JSON, r#"{"result":[],"id":1,"auth_url":{}}"#),
        (200, &JSON, r#"{"error":[7,"Huh"],"id":1}"#),
        (200, &JSON, r#"{"error":[7,"Illegal State",1],"id":1}"#),
        (200, &JSON, r#"{"error":[41850,"x"],"id":1}"#),
        (200, &JSON, r#"{"result":[],"error":null,"id":1}"#),
        (200, &JSON, r#"{"results":[],"id":1}"#),
    ];
    let mut seen = BTreeSet::new();
    for ((id, _), (status, headers, body)) in RULES.iter().zip(cases) {
        let response = decode_response(status, headers.iter().copied(), body.as_bytes());
        let rules: Vec<&str> = response.findings.iter().map(|f| f.rule).collect();
        assert!(rules.contains(id), "{body:?} on {status} should give {id}, gave {rules:?}");
        seen.extend(rules);
    }
    assert_eq!(seen, ids, "every rule is reachable and only listed rules are used");
}

/// Every finding this module builds names a rule through the `rule` module, which the table
/// generates: a literal id cannot slip in beside the table.
#[test]
fn every_finding_names_its_rule_through_the_table() {
    let source = include_str!("wire.rs");
    let mut count = 0;
    for constructor in ["Finding::violation(", "Finding::tolerated("] {
        for (at, _) in source.match_indices(constructor) {
            let rest = source[at + constructor.len()..].trim_start();
            assert!(rest.starts_with("rule::"), "{}", &source[at..at + 80]);
            count += 1;
        }
    }
    assert!(count >= RULES.len(), "{count} findings built");
    // And no rule id is written out anywhere but in the table.
    for (id, _) in RULES {
        assert_eq!(source.matches(&format!("\"{id}\"")).count(), 1, "{id} appears once");
    }
}

// ----- properties -----

fn entries() -> impl Strategy<Value = &'static Entry> {
    proptest::sample::select(registry().entries().iter().collect::<Vec<&'static Entry>>())
}

proptest! {
    #[test]
    fn every_error_row_round_trips(entry in entries(), id in proptest::option::of(any::<u64>())) {
        let (status, body) = encode_error(entry, id);
        let response = decode_response(status.as_u16(), JSON, &body);
        prop_assert!(response.is_conforming(), "{:?}", response.findings);
        let ResponseBody::Error(reply) = &response.body else {
            return Err(TestCaseError::fail(format!("{:?}", response.body)));
        };
        prop_assert_eq!(reply.code.code().map(|c| u32::from(c.as_u16())), Some(entry.code));
        prop_assert_eq!(&reply.message, &entry.message);
        prop_assert_eq!(reply.id, id);
        prop_assert_eq!(reply.entry, Some(entry));
        prop_assert_eq!(reply.entry.map(|e| std::ptr::eq(e, entry)), Some(true));
        prop_assert_eq!(response.entry(), Some(entry));
    }

    #[test]
    fn every_success_round_trips(values in proptest::collection::vec(json_value(), 0..4), id in any::<u64>()) {
        let (status, body) = encode_success(&values, id);
        let response = decode_response(status.as_u16(), JSON, &body);
        prop_assert_eq!(&response.findings, &[]);
        prop_assert_eq!(response.body, ResponseBody::Success { result: values, id: Some(id), extra: Map::new() });
    }

    #[test]
    fn decoding_never_panics_on_bytes(
        status in any::<u16>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        content_type in ".{0,24}",
        retry_after in ".{0,32}",
    ) {
        let response = decode_response(
            status,
            [("Content-Type", content_type.as_str()), ("Retry-After", retry_after.as_str())],
            &body,
        );
        prop_assert_eq!(response.status, status);
        prop_assert!(response.findings.iter().all(|f| RULES.iter().any(|(id, _)| *id == f.rule)));
    }

    #[test]
    fn decoding_never_panics_on_near_protocol_json(status in any::<u16>(), body in near_protocol_body()) {
        let response = decode_response(status, JSON, body.as_bytes());
        prop_assert!(response.findings.iter().all(|f| RULES.iter().any(|(id, _)| *id == f.rule)));
        // A body that parses as an object is never unreadable for want of parsing.
        if let ResponseBody::Unreadable { reason, .. } = &response.body {
            prop_assert!(!reason.starts_with("not JSON") && !reason.starts_with("truncated"), "{}", reason);
        }
    }

    #[test]
    fn validating_never_panics(body in proptest::collection::vec(any::<u8>(), 0..128)) {
        if let Err(error) = validate_request(&body) {
            prop_assert_eq!(error.code(), Code::ILLEGAL_REQUEST);
            prop_assert!(!error.to_string().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Whatever the scanner accepts, a full JSON parser reads the same way.
    #[test]
    fn the_scanner_agrees_with_serde(body in scanner_body()) {
        if let Some(scanned) = scan_error(body.as_bytes()) {
            let value: Value = serde_json::from_str(&body)
                .map_err(|e| TestCaseError::fail(format!("scanner accepted invalid JSON {body:?}: {e}")))?;
            let message = std::str::from_utf8(scanned.message).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(value, json!({"error": [scanned.code, message], "id": scanned.id}));
        }
    }

    /// The word-at-a-time search finds what a byte-at-a-time one finds.
    #[test]
    fn string_end_is_the_first_special_byte(
        bytes in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'"'), Just(b'\\'), 0x20u8..0x7f, 0x80u8..=0xff],
            0..40,
        )
    ) {
        let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        prop_assert_eq!(string_end(&bytes), naive);
    }

    /// And it reads every canonical reply with a plain message, whatever the spacing.
    #[test]
    fn the_scanner_reads_every_plain_reply(
        code in any::<u16>(),
        message in "[^\"\\\\\u{0}-\u{1f}]{0,24}",
        id in any::<u64>(),
        space in "[ \t\r\n]{0,3}",
    ) {
        let body = format!("{{{space}\"error\":[{code},{space}\"{message}\"]{space},\"id\":{id}}}{space}");
        prop_assert_eq!(scan_error(body.as_bytes()), Some(ScannedError { code, message: message.as_bytes(), id }));
    }
}

/// Bodies near the canonical error reply: random spacing, member order, numbers written in
/// odd ways, messages with escapes and non-ASCII, and occasionally a stray member or byte.
fn scanner_body() -> impl Strategy<Value = String> {
    let space = prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\r\n  ")];
    let number = prop_oneof![
        6 => any::<u16>().prop_map(|n| n.to_string()),
        2 => any::<u64>().prop_map(|n| n.to_string()),
        1 => Just("0".to_owned()),
        1 => Just("007".to_owned()),
        1 => Just("-1".to_owned()),
        1 => Just("7.0".to_owned()),
        1 => Just("1e2".to_owned()),
        1 => Just("99999999999999999999999".to_owned()),
    ];
    let message = prop_oneof![
        ".{0,12}".prop_map(|m| Value::String(m).to_string()),
        "[ -~]{0,12}".prop_map(|m| format!("\"{m}\"")),
    ];
    let tail = prop_oneof![6 => Just(""), 1 => Just(","), 1 => Just(" x"), 1 => Just(",\"k\":1")];
    (proptest::collection::vec(space, 12), number.clone(), message, number, any::<bool>(), tail)
        .prop_map(|(w, code, message, id, swap, tail)| {
            let error = format!(
                "{}\"error\"{}:{}[{}{code}{},{}{message}{}]",
                w[0], w[1], w[2], w[3], w[4], w[5], w[6]
            );
            let id = format!("{}\"id\"{}:{}{id}{}", w[7], w[8], w[9], w[10]);
            let (first, second) = if swap { (id, error) } else { (error, id) };
            format!("{{{first},{second}{tail}}}{}", w[11])
        })
}

/// Any JSON value, small.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        // Quarters print exactly in decimal; serde_json's default float parsing is not
        // guaranteed to round-trip every f64, which is not what these tests are about.
        (-4_000_000i32..4_000_000).prop_map(|n| json!(f64::from(n) / 4.0)),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects built from the protocol's members with arbitrary values, so the tolerant path meets
/// every combination.
fn near_protocol_body() -> impl Strategy<Value = String> {
    let code = prop_oneof![any::<u16>().prop_map(|c| json!(c)), json_value()];
    let error = prop_oneof![
        (code.clone(), json_value()).prop_map(|(c, m)| json!([c, m])),
        (code.clone(), json_value(), json_value()).prop_map(|(c, m, x)| json!([c, m, x])),
        (code, json_value()).prop_map(|(c, m)| json!({"code": c, "message": m})),
        json_value(),
    ];
    (
        proptest::option::of(json_value()),
        proptest::option::of(error),
        proptest::option::of(json_value()),
        proptest::option::of(json_value()),
    )
        .prop_map(|(result, error, id, other)| {
            let mut object = Map::new();
            for (name, value) in
                [("result", result), ("error", error), ("id", id), ("auth_url", other)]
            {
                if let Some(value) = value {
                    object.insert(name.to_owned(), value);
                }
            }
            Value::Object(object).to_string()
        })
}

/// Bodies around the four members: each present or not, repeated or not, of the right type
/// or not, in any order, with an extra member sometimes.
fn request_body() -> impl Strategy<Value = String> {
    let id = prop_oneof![
        4 => (1u64..10).prop_map(|n| n.to_string()),
        1 => Just("0".to_owned()),
        1 => Just("2147483648".to_owned()),
        1 => Just("1.0".to_owned()),
        1 => Just("\"1\"".to_owned()),
        1 => Just("-1".to_owned()),
        1 => Just("1e400".to_owned()),
    ];
    let method = prop_oneof![
        4 => Just("\"getPowerStatus\"".to_owned()),
        1 => Just("\"\"".to_owned()),
        1 => Just("\"get\\u0050ower\"".to_owned()),
        1 => Just("\"\\ud800\"".to_owned()),
        1 => Just("7".to_owned()),
    ];
    let params = prop_oneof![
        4 => Just("[]".to_owned()),
        2 => json_value().prop_map(|v| format!("[{v}]")),
        1 => json_value().prop_map(|v| v.to_string()),
        1 => Just(format!("[{}{}]", "[".repeat(130), "]".repeat(130))),
    ];
    let version = prop_oneof![
        4 => Just("\"1.0\"".to_owned()),
        1 => Just("\"1\"".to_owned()),
        1 => Just("\"1.0.0\"".to_owned()),
        1 => Just("1.0".to_owned()),
    ];
    let other = prop_oneof![
        json_value().prop_map(|v| format!("\"extra\":{v}")),
        Just("\"m\\u0065thod\":\"getVolumeInformation\"".to_owned()),
        Just("\"id\":2".to_owned()),
    ];
    (
        proptest::option::weighted(0.9, id.prop_map(|v| format!("\"id\":{v}"))),
        proptest::option::weighted(0.9, method.prop_map(|v| format!("\"method\":{v}"))),
        proptest::option::weighted(0.9, params.prop_map(|v| format!("\"params\":{v}"))),
        proptest::option::weighted(0.9, version.prop_map(|v| format!("\"version\":{v}"))),
        proptest::option::weighted(0.2, other),
        prop_oneof![Just(""), Just(" "), Just("\n")],
    )
        .prop_flat_map(|(id, method, params, version, other, space)| {
            let members: Vec<String> =
                [id, method, params, version, other].into_iter().flatten().collect();
            (Just(members).prop_shuffle(), Just(space))
        })
        .prop_map(|(members, space)| format!("{space}{{{}}}{space}", members.join(",")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The one-pass path never accepts what the checks refuse, nor reads it differently.
    #[test]
    fn the_one_pass_path_agrees_with_the_checks(body in request_body()) {
        if let Some(fast) = plain_request(body.as_bytes()) {
            prop_assert_eq!(Ok(fast), checked_request(body.as_bytes()), "{}", body);
        }
    }
}

#[test]
fn the_one_pass_path_takes_the_common_request_and_leaves_the_rest_to_the_checks() {
    let common = r#"{"method":"setAudioVolume","params":[{"target":"speaker","volume":"130"}],"id":1,"version":"1.0"}"#;
    let request = plain_request(common.as_bytes()).expect("the common shape takes the one pass");
    assert_eq!(Ok(request), checked_request(common.as_bytes()));
    for body in [
        // An array would fill the fields by position.
        r#"[1, "getPowerStatus", [], "1.0"]"#,
        // A repeated member: the checks keep the last.
        r#"{"method":"a","method":"getPowerStatus","params":[],"id":1,"version":"1.0"}"#,
        // An unknown member skipped without a depth limit or a UTF-8 check.
        r#"{"method":"getPowerStatus","params":[],"id":1,"version":"1.0","x":1e400}"#,
        r#"{"method":"","params":[],"id":1,"version":"1.0"}"#,
        r#"{"method":"getPowerStatus","params":[],"id":0,"version":"1.0"}"#,
        r#"{"method":"getPowerStatus","params":[],"id":1,"version":"1"}"#,
    ] {
        assert_eq!(plain_request(body.as_bytes()), None, "{body}");
    }
    let deep = format!(
        r#"{{"method":"getPowerStatus","params":[],"id":1,"version":"1.0","x":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    assert_eq!(plain_request(deep.as_bytes()), None);
    assert!(matches!(validate_request(deep.as_bytes()), Err(RequestError::NotJson { .. })));
}

#[test]
fn a_success_under_results_is_read_as_result_and_said_so() {
    let body = r#"{"results":[["getVersions",[],["string*"],"1.0"]],"id":1}"#;
    let response = decode(200, body);
    assert!(response.is_conforming(), "{:?}", response.findings);
    assert_eq!(rules_of(&response), [(rule::RESULTS_MEMBER, Severity::Tolerated)]);
    match response.body {
        ResponseBody::Success { result, id, extra } => {
            assert_eq!(result, vec![json!(["getVersions", [], ["string*"], "1.0"])]);
            assert_eq!((id, extra.len()), (Some(1), 0));
        }
        other => panic!("not a success: {other:?}"),
    }
    let (status, encoded) = encode_results(&[json!(["getVersions", [], ["string*"], "1.0"])], 1);
    assert_eq!((status, encoded.as_slice()), (HttpStatus::OK, body.as_bytes()));
    // Beside result, results is only an extra member; beside error, the error decides.
    let both = decode(200, r#"{"result":[],"results":[],"id":1}"#);
    assert!(both.findings.iter().all(|f| f.rule != rule::RESULTS_MEMBER));
    let error = decode(200, r#"{"error":[12,"No Such Method"],"results":[],"id":1}"#);
    assert!(matches!(error.body, ResponseBody::Error(_)));
    assert!(error.findings.iter().all(|f| f.rule != rule::RESULTS_MEMBER));
}
