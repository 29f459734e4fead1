//! The appliance types the cloud emulates: one row of [`KINDS`] each, with the official
//! profile and state examples (`data/device-examples.json`, copied from LG's developer site)
//! and the few facts the examples do not say: where the power, run state and job mode live,
//! which commands a state or a mode refuses, and what a command does besides storing its value.
//!
//! Every kind is built once, on first use, and shared by all its appliances (`&'static`), so
//! a fleet of 10,000 appliances holds one profile per type.

use std::sync::LazyLock;

use serde_json::{Map, Value};

/// The official examples, keyed `<type>-{profile,object,command}-example`.
const EXAMPLES: &str = include_str!("data/device-examples.json");

/// Where a property lives: `(resource, property)`.
pub(crate) type Place = (&'static str, &'static str);

/// Where an appliance's power switch is, and what it still accepts while off (2304 for the
/// rest).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Power {
    /// The state property that says off.
    pub state: Place,
    /// Its value when off.
    pub off: &'static str,
    /// The command property that switches.
    pub command: Place,
    /// The values of `command` accepted while off (the one that turns it on).
    pub accepted_while_off: &'static [&'static str],
}

/// One appliance type as the table writes it.
struct KindSpec {
    device_type: &'static str,
    /// The key prefix in [`EXAMPLES`].
    example: &'static str,
    model_name: &'static str,
    /// A patch of the object example: the state a new appliance of this type starts in.
    /// `null` deletes a member (the AC example's typo key `currentJobMode:currentJobMode`).
    initial: &'static str,
    /// The power switch, when the type has one.
    power: Option<Power>,
    /// The run state (`runState.currentState`): `ERROR` there refuses every command (2303).
    run_state: Option<Place>,
    /// The job mode, named in 2305's message.
    mode: Option<Place>,
    /// Has the energy endpoints.
    energy: bool,
}

/// The types, in the order `GET /devices` of a fleet cycles through them.
const KINDS_TABLE: &[KindSpec] = &[
    KindSpec {
        device_type: "DEVICE_AIR_CONDITIONER",
        example: "air_conditioner",
        model_name: "RAC_056905_WW",
        initial: r#"{"airConJobMode": {"currentJobMode:currentJobMode": null, "currentJobMode": "COOL"},
            "temperature": {"currentTemperature": 26, "targetTemperature": 24, "unit": "C"},
            "temperatureInUnits": [{"currentTemperature": 26, "targetTemperature": 24, "unit": "C"},
                                   {"currentTemperature": 79, "targetTemperature": 75, "unit": "F"}]}"#,
        power: Some(Power {
            state: ("operation", "airConOperationMode"),
            off: "POWER_OFF",
            command: ("operation", "airConOperationMode"),
            accepted_while_off: &["POWER_ON", "POWER_OFF"],
        }),
        run_state: None,
        mode: Some(("airConJobMode", "currentJobMode")),
        energy: true,
    },
    KindSpec {
        device_type: "DEVICE_WASHER",
        example: "washer",
        model_name: "F_V9_Y___W.B_2QEUK",
        initial: "{}",
        power: Some(Power {
            state: ("runState", "currentState"),
            off: "POWER_OFF",
            command: ("operation", "washerOperationMode"),
            accepted_while_off: &[],
        }),
        run_state: Some(("runState", "currentState")),
        mode: None,
        energy: true,
    },
    KindSpec {
        device_type: "DEVICE_REFRIGERATOR",
        example: "refrigerator",
        model_name: "GBB92STAXP",
        initial: "{}",
        power: None,
        run_state: None,
        mode: None,
        energy: true,
    },
    KindSpec {
        device_type: "DEVICE_DRYER",
        example: "dryer",
        model_name: "RH90V9AV4N",
        initial: r#"{"remoteControlEnable": {"remoteControlEnabled": true},
            "runState": {"currentState": "INITIAL"}}"#,
        power: Some(Power {
            state: ("runState", "currentState"),
            off: "POWER_OFF",
            command: ("operation", "dryerOperationMode"),
            accepted_while_off: &["WAKE_UP"],
        }),
        run_state: Some(("runState", "currentState")),
        mode: None,
        energy: false,
    },
];

/// Commands a run state refuses with 2302 "Command not supported in (STATE)": the device
/// type, the property written, the value (`None`: any), and the states that refuse it.
pub(crate) const STATE_RULES: &[(&str, Place, Option<&str>, &[&str])] = &[
    (
        "DEVICE_WASHER",
        ("operation", "washerOperationMode"),
        Some("START"),
        &["RUNNING", "RINSING", "SPINNING", "SOAKING", "DETECTING", "FIRMWARE"],
    ),
    ("DEVICE_WASHER", ("operation", "washerOperationMode"), Some("STOP"), &["INITIAL", "END"]),
    (
        "DEVICE_WASHER",
        ("timer", "relativeHourToStart"),
        None,
        &["RUNNING", "RINSING", "SPINNING", "SOAKING", "DETECTING"],
    ),
    (
        "DEVICE_DRYER",
        ("operation", "dryerOperationMode"),
        Some("START"),
        &["RUNNING", "DETECTING", "COOLING", "WRINKLE_CARE"],
    ),
    ("DEVICE_DRYER", ("operation", "dryerOperationMode"), Some("STOP"), &["INITIAL", "END"]),
    ("DEVICE_DRYER", ("timer", "relativeHourToStop"), None, &["RUNNING", "COOLING"]),
];

/// Resources a job mode refuses with 2305 "Command not supported in (MODE)": an air
/// conditioner cleaning the air has no target temperature.
pub(crate) const MODE_RULES: &[(&str, &str, &[&str])] = &[
    ("DEVICE_AIR_CONDITIONER", "temperature", &["AIR_CLEAN"]),
    ("DEVICE_AIR_CONDITIONER", "temperatureInUnits", &["AIR_CLEAN"]),
    ("DEVICE_AIR_CONDITIONER", "twoSetTemperature", &["AIR_CLEAN"]),
    ("DEVICE_AIR_CONDITIONER", "twoSetTemperatureInUnits", &["AIR_CLEAN"]),
];

/// A row of [`EFFECTS`].
pub(crate) type Effect = (&'static str, Place, Option<&'static str>, Place, Option<&'static str>);

/// What a command does besides storing the value written: the device type, the property
/// and value written (`None`: any), and the property set in the same resource element (or,
/// with a resource, in that resource) to the value (`None`: the value written).
pub(crate) const EFFECTS: &[Effect] = &[
    (
        "DEVICE_AIR_CONDITIONER",
        ("temperatureInUnits", "coolTargetTemperature"),
        None,
        ("temperatureInUnits", "targetTemperature"),
        None,
    ),
    (
        "DEVICE_AIR_CONDITIONER",
        ("temperatureInUnits", "heatTargetTemperature"),
        None,
        ("temperatureInUnits", "targetTemperature"),
        None,
    ),
    (
        "DEVICE_AIR_CONDITIONER",
        ("temperature", "coolTargetTemperature"),
        None,
        ("temperature", "targetTemperature"),
        None,
    ),
    (
        "DEVICE_WASHER",
        ("operation", "washerOperationMode"),
        Some("START"),
        ("runState", "currentState"),
        Some("RUNNING"),
    ),
    (
        "DEVICE_WASHER",
        ("operation", "washerOperationMode"),
        Some("STOP"),
        ("runState", "currentState"),
        Some("PAUSE"),
    ),
    (
        "DEVICE_WASHER",
        ("operation", "washerOperationMode"),
        Some("POWER_OFF"),
        ("runState", "currentState"),
        Some("POWER_OFF"),
    ),
    (
        "DEVICE_DRYER",
        ("operation", "dryerOperationMode"),
        Some("START"),
        ("runState", "currentState"),
        Some("RUNNING"),
    ),
    (
        "DEVICE_DRYER",
        ("operation", "dryerOperationMode"),
        Some("STOP"),
        ("runState", "currentState"),
        Some("PAUSE"),
    ),
    (
        "DEVICE_DRYER",
        ("operation", "dryerOperationMode"),
        Some("POWER_OFF"),
        ("runState", "currentState"),
        Some("POWER_OFF"),
    ),
    (
        "DEVICE_DRYER",
        ("operation", "dryerOperationMode"),
        Some("WAKE_UP"),
        ("runState", "currentState"),
        Some("INITIAL"),
    ),
];

/// An appliance type, built from its row and the examples.
#[derive(Debug)]
pub(crate) struct Kind {
    pub device_type: &'static str,
    pub model_name: &'static str,
    /// The profile, as `GET /devices/{id}/profile` answers it.
    pub profile: Value,
    /// The state a new appliance starts in: an object, or an array of locations.
    pub initial: Value,
    pub power: Option<Power>,
    pub run_state: Option<Place>,
    pub mode: Option<Place>,
    pub energy: bool,
}

#[cfg(test)]
impl Kind {
    /// True when the state is an array of locations (washer): the profile's `property` is.
    pub fn multi_location(&self) -> bool {
        self.profile.get("property").is_some_and(Value::is_array)
    }
}

static KINDS: LazyLock<Vec<Kind>> = LazyLock::new(|| {
    let examples: Value = serde_json::from_str(EXAMPLES).unwrap_or(Value::Null);
    KINDS_TABLE
        .iter()
        .map(|spec| {
            let example = |what: &str| {
                examples
                    .get(format!("{}-{what}-example", spec.example))
                    .and_then(|e| e.get("value"))
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            let mut initial = example("object");
            let patch: Value = serde_json::from_str(spec.initial).unwrap_or(Value::Null);
            merge_state(&mut initial, &patch);
            Kind {
                device_type: spec.device_type,
                model_name: spec.model_name,
                profile: example("profile"),
                initial,
                power: spec.power,
                run_state: spec.run_state,
                mode: spec.mode,
                energy: spec.energy,
            }
        })
        .collect()
});

/// Every kind, in table order.
pub(crate) fn all() -> &'static [Kind] {
    &KINDS
}

/// The kind of a `deviceType` (`DEVICE_WASHER`).
pub(crate) fn by_type(device_type: &str) -> Option<&'static Kind> {
    all().iter().find(|kind| kind.device_type == device_type)
}

/// The device types, for messages.
pub(crate) fn type_names() -> String {
    all().iter().map(|kind| kind.device_type).collect::<Vec<_>>().join(", ")
}

/// Merges `patch` into `state`: objects member by member (`null` deletes), everything else
/// replaced. An object patched into an array of locations goes into every location, or into
/// the one its `location.locationName` names; an array patch goes location by location.
pub(crate) fn merge_state(state: &mut Value, patch: &Value) {
    match (state, patch) {
        (Value::Array(locations), Value::Object(members)) => {
            let named = members.get("location").and_then(|l| l.get("locationName"));
            for location in locations.iter_mut() {
                let here = location.get("location").and_then(|l| l.get("locationName"));
                if named.is_none() || named == here {
                    merge_object(location, members);
                }
            }
        }
        (Value::Array(locations), Value::Array(patches)) => {
            for patch in patches {
                let named = patch.get("location").and_then(|l| l.get("locationName"));
                let found = locations.iter_mut().find(|location| {
                    named.is_some()
                        && location.get("location").and_then(|l| l.get("locationName")) == named
                });
                match found {
                    Some(location) => merge_state(location, patch),
                    None => locations.push(patch.clone()),
                }
            }
        }
        (state @ Value::Object(_), Value::Object(members)) => merge_object(state, members),
        (state, patch) => *state = patch.clone(),
    }
}

fn merge_object(state: &mut Value, members: &Map<String, Value>) {
    let Value::Object(target) = state else {
        *state = Value::Object(members.clone());
        return;
    };
    for (key, value) in members {
        if value.is_null() {
            target.remove(key);
        } else if let Some(slot) = target.get_mut(key)
            && value.is_object()
            && (slot.is_object() || slot.is_array())
        {
            merge_state(slot, value);
        } else {
            target.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_kind_has_its_official_profile_and_a_state() {
        assert_eq!(all().len(), KINDS_TABLE.len());
        for kind in all() {
            assert!(kind.profile.get("property").is_some(), "{}", kind.device_type);
            assert!(kind.initial.is_object() || kind.initial.is_array(), "{}", kind.device_type);
            assert_eq!(kind.multi_location(), kind.initial.is_array(), "{}", kind.device_type);
        }
    }

    #[test]
    fn the_air_conditioner_starts_cooling_at_24_without_the_typo_key() {
        let ac = by_type("DEVICE_AIR_CONDITIONER").expect("AC");
        assert_eq!(ac.initial["airConJobMode"], json!({"currentJobMode": "COOL"}));
        assert_eq!(ac.initial["temperatureInUnits"][0]["targetTemperature"], 24);
        assert_eq!(ac.initial["operation"]["airConOperationMode"], "POWER_ON");
    }

    #[test]
    fn merging_into_locations_follows_the_location_name() {
        let mut state = json!([{"location": {"locationName": "MAIN"}, "runState": {"currentState": "INITIAL"}},
                               {"location": {"locationName": "MINI"}, "runState": {"currentState": "INITIAL"}}]);
        merge_state(
            &mut state,
            &json!({"location": {"locationName": "MINI"}, "runState": {"currentState": "RUNNING"}}),
        );
        assert_eq!(state[0]["runState"]["currentState"], "INITIAL");
        assert_eq!(state[1]["runState"]["currentState"], "RUNNING");
        merge_state(&mut state, &json!({"runState": {"currentState": "ERROR"}}));
        assert_eq!(state[0]["runState"]["currentState"], "ERROR");
        assert_eq!(state[1]["runState"]["currentState"], "ERROR");
    }
}
