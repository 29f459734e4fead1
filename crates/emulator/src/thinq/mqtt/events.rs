//! The events the cloud publishes, and how their payloads are written.
//!
//! Shape: the live service sends them **flat**, `{"pushType", "serviceId", "deviceId",
//! "deviceType", "report" | "pushCode", "userList", "timestamp"}`: Home Assistant's
//! `lg_thinq/mqtt.py` reads `deviceId`, `deviceType`, `pushType`, `report` and `pushCode` at
//! the top level (a missing key raises), and a user's log (home-assistant/core#150554) shows a
//! flat `{'pushType': 'DEVICE_STATUS', 'serviceId': …}`. LG's API pages show them wrapped
//! (`{"messageId","timestamp","event":{…}}`, `"push":{…}` for DEVICE_PUSH); that form is the
//! quirk [`PayloadStyle::Wrapped`] (admin `PATCH /devices/thinq-cloud {"event_payload":
//! "wrapped"}`), which breaks Home Assistant as it would if LG switched.
//!
//! Payloads are written by [`devfault_thinq::event`], the encoder the Rust client decodes
//! with, so the cloud and the client share one definition of each kind (its `pushType`, the
//! member it carries, the envelope member of the wrapped form).

use std::time::SystemTime;

use devfault_thinq::event::{self as wire_event, Form, Kind, PushType};
use devfault_thinq::wire::format_timestamp;
use serde_json::{Map, Value, json};

/// The service id written into every event (LG writes its service's id there).
pub const SERVICE_ID: &str = "devfault-thinq-cloud";

/// Run states that send a push notification, by device type, with the code sent: each code
/// is one of the type's `notification.push` (a unit test checks against the profiles).
pub const PUSH_ON_RUN_STATE: &[(&str, &str, &str)] = &[
    ("DEVICE_WASHER", "END", "WASHING_IS_COMPLETE"),
    ("DEVICE_WASHER", "ERROR", "ERROR_DURING_WASHING"),
    ("DEVICE_DRYER", "END", "DRYING_IS_COMPLETE"),
    ("DEVICE_DRYER", "ERROR", "DRYING_FAILED"),
];

/// The push code a run state sends on a device type, if any.
pub fn push_code_for(device_type: &str, run_state: &str) -> Option<&'static str> {
    PUSH_ON_RUN_STATE
        .iter()
        .find(|(t, s, _)| *t == device_type && *s == run_state)
        .map(|(_, _, code)| *code)
}

/// How payloads are written.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum PayloadStyle {
    /// Top-level fields, as the live service sends them and Home Assistant reads them.
    #[default]
    Flat,
    /// LG's documented envelope: `{"messageId","timestamp","event"|"push":{…}}`.
    Wrapped,
}

impl PayloadStyle {
    /// Its name in the admin API.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadStyle::Flat => "flat",
            PayloadStyle::Wrapped => "wrapped",
        }
    }

    /// The style named `name`.
    pub fn parse(name: &str) -> Option<PayloadStyle> {
        [PayloadStyle::Flat, PayloadStyle::Wrapped].into_iter().find(|s| s.as_str() == name)
    }

    /// The encoder's form for this style.
    pub fn form(self) -> Form {
        match self {
            PayloadStyle::Flat => Form::Flat,
            PayloadStyle::Wrapped => Form::Wrapped,
        }
    }
}

/// The kinds of event, as `pushType` names them: the names of the encoder's one table.
pub const PUSH_TYPES: &[&str] = &wire_event::PUSH_TYPE_NAMES;

/// An event about one appliance: its `pushType`, and the members it adds (`report`,
/// `pushCode`, `alias`).
#[derive(Clone, PartialEq, Debug)]
pub struct Event {
    /// `DEVICE_STATUS`, `DEVICE_PUSH`...
    pub push_type: String,
    /// The appliance.
    pub device_id: String,
    /// Its `deviceType`, `None` to leave it out (a fault).
    pub device_type: Option<String>,
    /// The members besides the common ones.
    pub extra: Map<String, Value>,
}

impl Event {
    /// A `DEVICE_STATUS` with the changed resources.
    pub fn status(device_id: &str, device_type: &str, report: Value) -> Event {
        Event::new("DEVICE_STATUS", device_id, device_type, "report", report)
    }

    /// A `DEVICE_PUSH` with its code.
    pub fn push(device_id: &str, device_type: &str, code: &str) -> Event {
        Event::new("DEVICE_PUSH", device_id, device_type, "pushCode", json!(code))
    }

    fn new(push_type: &str, device_id: &str, device_type: &str, key: &str, value: Value) -> Event {
        let mut extra = Map::new();
        extra.insert(key.to_owned(), value);
        Event {
            push_type: push_type.to_owned(),
            device_id: device_id.to_owned(),
            device_type: Some(device_type.to_owned()),
            extra,
        }
    }

    /// The payload for the users `users`, written in `style` by the shared encoder.
    pub fn payload(&self, users: &[String], style: PayloadStyle, message_id: &str) -> Vec<u8> {
        let mut extra = self.extra.clone();
        let kind = typed_kind(&self.push_type, &mut extra);
        let event = wire_event::Event {
            kind,
            device_id: self.device_id.clone(),
            device_type: self.device_type.clone(),
            service_id: Some(SERVICE_ID.to_owned()),
            user_list: users.to_vec(),
            timestamp: Some(format_timestamp(SystemTime::now())),
            message_id: Some(message_id.to_owned()),
            form: style.form(),
            extra,
        };
        event.encode(style.form())
    }
}

/// The typed kind of `push_type`, taking the member it carries out of `extra`. A member
/// missing or of the wrong type (a custom event from the admin API may be anything) leaves the
/// event an untyped [`Kind::Other`] with every member as given, so it is written as asked.
fn typed_kind(push_type: &str, extra: &mut Map<String, Value>) -> Kind {
    let known = PushType::parse(push_type);
    let text = |extra: &Map<String, Value>, member: &str| {
        extra.get(member).and_then(Value::as_str).map(str::to_owned)
    };
    let kind = match &known {
        PushType::DeviceStatus => extra
            .get("report")
            .filter(|r| !r.is_null())
            .cloned()
            .map(|report| Kind::Status { report }),
        PushType::DevicePush => text(extra, "pushCode").map(|code| Kind::Push { code }),
        PushType::DeviceAliasChanged => {
            text(extra, "alias").map(|alias| Kind::AliasChanged { alias })
        }
        PushType::DeviceRegistered => Some(Kind::Registered),
        PushType::DeviceUnregistered => Some(Kind::Unregistered),
        PushType::Other(_) => None,
    };
    match kind {
        Some(kind) => {
            if let Some(member) = known.member() {
                extra.remove(member);
            }
            kind
        }
        None => Kind::Other { push_type: push_type.to_owned() },
    }
}

/// The resources that differ between two states, as a `report`: for an object state, the
/// changed resources whole; for an array of locations, each location with a change, its
/// `location` and its changed resources. `None` when nothing changed.
pub fn report_of(before: &Value, after: &Value) -> Option<Value> {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let changed: Map<String, Value> = new
                .iter()
                .filter(|(key, value)| old.get(*key) != Some(value))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect();
            (!changed.is_empty()).then_some(Value::Object(changed))
        }
        (Value::Array(old), Value::Array(new)) => {
            let name = |l: &Value| l.get("location").cloned();
            let changed: Vec<Value> = new
                .iter()
                .filter_map(|location| {
                    let previous = old
                        .iter()
                        .find(|o| name(o) == name(location))
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    let Some(Value::Object(mut diff)) = report_of(&previous, location) else {
                        return None;
                    };
                    diff.remove("location");
                    if diff.is_empty() {
                        return None;
                    }
                    if let Some(place) = name(location) {
                        diff.insert("location".into(), place);
                    }
                    Some(Value::Object(diff))
                })
                .collect();
            (!changed.is_empty()).then_some(Value::Array(changed))
        }
        (old, new) if old != new => Some(new.clone()),
        _ => None,
    }
}

/// The run states of a state at `resource.property` (one per location for an array state).
pub fn run_states(state: &Value, (resource, property): (&str, &str)) -> Vec<String> {
    let read = |scope: &Value| scope.get(resource)?.get(property)?.as_str().map(str::to_owned);
    match state {
        Value::Array(locations) => locations.iter().filter_map(read).collect(),
        other => read(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thinq::kinds;

    #[test]
    fn every_push_code_is_in_its_profile() {
        for (device_type, run_state, code) in PUSH_ON_RUN_STATE {
            let kind = kinds::by_type(device_type).expect("an emulated type");
            let push = &kind.profile["notification"]["push"];
            assert!(
                push.as_array().is_some_and(|codes| codes.iter().any(|c| c == code)),
                "{device_type}: {code} is not in notification.push {push}"
            );
            let states = format!("{}", kind.profile["property"]);
            assert!(states.contains(run_state), "{device_type} has no run state {run_state}");
        }
    }

    #[test]
    fn a_report_holds_only_the_changed_resources() {
        let before = json!({"airFlow": {"windStrength": "LOW"}, "display": {"light": "ON"}});
        let after = json!({"airFlow": {"windStrength": "HIGH"}, "display": {"light": "ON"}});
        assert_eq!(report_of(&before, &after), Some(json!({"airFlow": {"windStrength": "HIGH"}})));
        assert_eq!(report_of(&after, &after), None);
        let before = json!([{"location": {"locationName": "MAIN"}, "runState": {"currentState": "INITIAL"}, "cycle": {"cycleCount": 0}}]);
        let after = json!([{"location": {"locationName": "MAIN"}, "runState": {"currentState": "RUNNING"}, "cycle": {"cycleCount": 0}}]);
        assert_eq!(
            report_of(&before, &after),
            Some(
                json!([{"location": {"locationName": "MAIN"}, "runState": {"currentState": "RUNNING"}}])
            )
        );
    }

    #[test]
    fn flat_payloads_carry_what_home_assistant_reads() {
        let event = Event::status("ac", "DEVICE_AIR_CONDITIONER", json!({"airFlow": {}}));
        let flat: Value =
            serde_json::from_slice(&event.payload(&["u".into()], PayloadStyle::Flat, "m"))
                .expect("JSON");
        for key in ["deviceId", "deviceType", "pushType", "report"] {
            assert!(flat.get(key).is_some(), "{key} missing from {flat}");
        }
        let push = Event::push("w", "DEVICE_WASHER", "WASHING_IS_COMPLETE");
        let wrapped: Value =
            serde_json::from_slice(&push.payload(&[], PayloadStyle::Wrapped, "m")).expect("JSON");
        assert_eq!(wrapped["push"]["pushCode"], "WASHING_IS_COMPLETE");
        assert!(wrapped.get("deviceId").is_none(), "{wrapped}");
    }

    #[test]
    fn payloads_decode_with_the_clients_decoder_in_both_styles() {
        let status = Event::status("ac", "DEVICE_AIR_CONDITIONER", json!({"airFlow": {}}));
        let users = ["devfault-user-1".to_owned()];
        for style in [PayloadStyle::Flat, PayloadStyle::Wrapped] {
            let event = wire_event::Event::decode(&status.payload(&users, style, "m-1"))
                .expect("the client reads it");
            assert_eq!(event.kind, Kind::Status { report: json!({"airFlow": {}}) });
            assert_eq!((event.form, event.user_list.as_slice()), (style.form(), &users[..]));
            assert_eq!(event.service_id.as_deref(), Some(SERVICE_ID));
        }
        // A custom event whose member does not fit its kind is written as given.
        let mut odd = Event::push("w", "DEVICE_WASHER", "");
        odd.extra.insert("pushCode".into(), json!(7));
        let flat: Value =
            serde_json::from_slice(&odd.payload(&[], PayloadStyle::Flat, "m")).expect("JSON");
        assert_eq!((&flat["pushType"], &flat["pushCode"]), (&json!("DEVICE_PUSH"), &json!(7)));
        assert_eq!(PUSH_TYPES.len(), 5);
    }
}
