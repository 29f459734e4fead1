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
use serde_json::{Value, json};

use crate::codec::{ApiCodec, Classified, Decoded, ResolvedCode, json_error};
use crate::device::Provocation;
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

/// The CONNACK return codes the broker gives on its own, and the situation that does it; the
/// others come only from a fault rule (see [`provocations`]).
const NATURAL_RETURN_CODES: &[(u8, &str)] = &[
    (1, "CONNECT with protocol level 3 or 5 (only 4, MQTT 3.1.1, is served)"),
    (2, "CONNECT with an empty client id"),
    (
        5,
        "CONNECT with a client id other than the one the certificate names, without a client certificate (on --thinq-mqtt's port the TLS handshake fails first), or after DELETE /client",
    ),
];

/// How to provoke each CONNACK return code and each fault of the event path, for the admin
/// API's `GET /provocations` (API `thinq-mqtt`): made from [`RETURN_CODES`] and [`FAULTS`],
/// so a code or fault added there is listed here. A fault's entry carries its rule.
pub fn provocations() -> Vec<Provocation> {
    let rule = |step: &str, action: &str| {
        let mut rule = json!({"match": {"api": API, "http_method": step}, "action": action});
        // The members the action needs besides the match.
        match action {
            "code" => rule["code"] = json!("3"),
            "delay" => rule["delay_ms"] = json!(2000),
            _ => {}
        }
        rule
    };
    let mut out: Vec<Provocation> = RETURN_CODES
        .iter()
        .map(|(code, name)| match NATURAL_RETURN_CODES.iter().find(|(c, _)| c == code) {
            Some((_, situation)) => Provocation {
                code: code.to_string(),
                via: "natural",
                how: format!("{name}: {situation}"),
                rule: None,
            },
            None => {
                let mut rule = rule("CONNECT", "code");
                rule["code"] = json!(code.to_string());
                Provocation {
                    code: code.to_string(),
                    via: "fault",
                    how: format!("{name}: a fault rule {rule}"),
                    rule: Some(rule),
                }
            }
        })
        .collect();
    out.extend(FAULTS.iter().map(|(step, action, effect)| {
        let rule = rule(step, action);
        Provocation {
            code: format!("{step} {action}"),
            via: "fault",
            how: format!("{effect}: a fault rule {rule}"),
            rule: Some(rule),
        }
    }));
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_return_code_and_fault_has_one_provocation_and_its_rule_is_accepted() {
        let listed = provocations();
        assert_eq!(listed.len(), RETURN_CODES.len() + FAULTS.len());
        let codes = RETURN_CODES.iter().map(|(code, _)| code.to_string());
        let faults = FAULTS.iter().map(|(step, action, _)| format!("{step} {action}"));
        for code in codes.chain(faults) {
            let ways: Vec<_> = listed.iter().filter(|p| p.code == code).collect();
            assert_eq!(ways.len(), 1, "{code}");
            let way = ways[0];
            assert_eq!(way.rule.is_some(), way.via == "fault", "{code}");
            if let Some(rule) = &way.rule {
                let spec: crate::faults::RuleSpec =
                    serde_json::from_value(rule.clone()).expect("a rule");
                let faults = Faults::new(1).with_codecs(crate::server::codecs());
                faults.add(spec).unwrap_or_else(|e| panic!("{code}: {rule}: {e:?}"));
            }
        }
    }
}
