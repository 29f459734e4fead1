//! Faults on the event path: fault rules of their own API, `"api": "thinq-mqtt"`, checked by
//! the same rule set as the HTTP faults (admin `POST /faults`, scenario files) but consulted
//! only here, and only rules that name this API (a rule written for HTTP never touches MQTT).
//!
//! What a rule matches: `http_method` is the MQTT step (`CONNECT`, `SUBSCRIBE`, `PUBACK` from
//! the client, `PUBLISH` of an event), `device` the client id (CONNECT, SUBSCRIBE, PUBACK) or
//! the appliance (PUBLISH), `method` the event's `pushType`, `path` the topic or client id.
//! What each action does, by step ([`FAULTS`] is the one table; the README lists it):

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use crate::codec::{ApiCodec, Classified, Decoded, ResolvedCode, json_error};
use crate::faults::{FaultRule, Faults, RequestInfo};

use super::API;

/// Every fault of the event path: step, action, effect.
pub const FAULTS: &[(&str, &str, &str)] = &[
    (
        "CONNECT",
        "code",
        "CONNACK with the rule's code (\"1\" to \"5\"), then the connection closes",
    ),
    ("CONNECT", "reset", "CONNACK 0, then the connection closes at once (dropped after CONNACK)"),
    ("SUBSCRIBE", "no_answer", "no SUBACK (the subscription is not made)"),
    (
        "PUBACK",
        "no_answer",
        "the client's PUBACK is ignored: the message stays in flight and comes again, DUP, on reconnect",
    ),
    ("PUBLISH", "delay", "the event goes out delay_ms later"),
    ("PUBLISH", "no_answer", "the event is dropped"),
    ("PUBLISH", "reset", "the event goes out twice (duplicated)"),
    ("PUBLISH", "malformed_body", "the payload is cut in half (no longer JSON)"),
    (
        "PUBLISH",
        "non_json_body",
        "the payload lacks deviceType (Home Assistant's read raises KeyError)",
    ),
];

/// The CONNACK return codes a `code` rule may give, with their MQTT 3.1.1 names.
pub const RETURN_CODES: &[(u8, &str)] = &[
    (1, "Connection Refused, unacceptable protocol version"),
    (2, "Connection Refused, identifier rejected"),
    (3, "Connection Refused, Server unavailable"),
    (4, "Connection Refused, bad user name or password"),
    (5, "Connection Refused, not authorized"),
];

/// The rule set's view of the event path: its codes are the CONNACK return codes.
#[derive(Debug)]
pub struct MqttCodec;

impl ApiCodec for MqttCodec {
    fn api(&self) -> &'static str {
        API
    }

    fn resolve(&self, code: &Value, _message: Option<&str>) -> Result<ResolvedCode, String> {
        // Strings only: a JSON number is a BRAVIA code, and a rule without `match.api` must
        // resolve to one API.
        let number = match code {
            Value::String(text) => text.parse::<u8>().ok(),
            _ => None,
        };
        let accepted =
            || RETURN_CODES.iter().map(|(c, _)| c.to_string()).collect::<Vec<_>>().join(", ");
        let (value, name) =
            number.and_then(|n| RETURN_CODES.iter().find(|(c, _)| *c == n)).ok_or_else(|| {
                format!("{code} is not a CONNACK return code; give one of {}", accepted())
            })?;
        Ok(ResolvedCode {
            api: API,
            code: value.to_string(),
            reason: (*name).to_owned(),
            message: (*name).to_owned(),
            http_status: 0,
            entry: None,
        })
    }

    /// Never sent: the event path has no HTTP replies.
    fn error_response(&self, code: &ResolvedCode, _request_body: &[u8]) -> Response {
        json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("CONNACK code {} applies to MQTT only", code.code),
        )
    }

    fn classify(&self, _path: &str, _body: &[u8]) -> Classified {
        Classified::default()
    }

    fn decode(&self, _status: u16, _headers: &axum::http::HeaderMap, _body: &[u8]) -> Decoded {
        Decoded::default()
    }
}

/// The rule of this API that fires for `step` (`CONNECT`...), if one does.
pub(crate) fn decide(
    faults: Option<&Arc<Faults>>,
    step: &str,
    device: &str,
    path: &str,
    method: Option<&str>,
) -> Option<FaultRule> {
    faults?.decide_named(&RequestInfo {
        api: API.to_owned(),
        device: device.to_owned(),
        http_method: step.to_owned(),
        path: path.to_owned(),
        service: None,
        method: method.map(str::to_owned),
    })
}
