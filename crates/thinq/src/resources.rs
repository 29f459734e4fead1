//! Device state and profile as typed JSON, with helpers for the resources most appliances
//! share (power, run state, remote control, temperatures), and builders for common commands.
//!
//! Both are kept whole as JSON (LG's device types number over fifty and keep growing); the
//! helpers read the documented resource names and handle the two shapes: one object, or an
//! array of per-location objects (washers, dryers, stylers).

use serde_json::{Map, Value};

/// `GET /devices/{id}/state`.
///
/// ```
/// use devfault_thinq::client::State;
/// use serde_json::json;
/// let ac = State::new(json!({"operation": {"airConOperationMode": "POWER_ON"},
///     "airConJobMode": {"currentJobMode": "COOL"},
///     "temperature": {"currentTemperature": 26.5, "targetTemperature": 24, "unit": "C"}}));
/// assert_eq!(ac.power(), Some("POWER_ON"));
/// assert_eq!(ac.is_powered_off(), Some(false));
/// assert_eq!(ac.job_mode(), Some("COOL"));
/// assert_eq!(ac.target_temperature(), Some(24.0));
/// let washer = State::new(json!([{"location": {"locationName": "MAIN"},
///     "remoteControlEnable": {"remoteControlEnabled": false}, "runState": {"currentState": "INITIAL"}}]));
/// assert_eq!(washer.locations().len(), 1);
/// assert_eq!(washer.remote_control_enabled(), Some(false));
/// assert_eq!(washer.run_state(), Some("INITIAL"));
/// ```
#[derive(Clone, PartialEq, Debug)]
pub struct State {
    raw: Value,
}

impl State {
    /// Wraps a `response` value.
    pub fn new(raw: Value) -> State {
        State { raw }
    }

    /// The JSON as sent.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The per-location objects: the array's objects, or the one object.
    pub fn locations(&self) -> Vec<&Map<String, Value>> {
        locations(&self.raw)
    }

    /// The location object named `name` (`MAIN`, `UPPER`...), or the only one.
    pub fn location(&self, name: &str) -> Option<&Map<String, Value>> {
        let all = self.locations();
        all.iter().copied().find(|l| location_name(l) == Some(name)).or(if all.len() == 1 {
            all.first().copied()
        } else {
            None
        })
    }

    /// `resource.property` of the first location that has it.
    pub fn get(&self, resource: &str, property: &str) -> Option<&Value> {
        self.locations().into_iter().find_map(|l| l.get(resource)?.get(property))
    }

    /// The power mode (`POWER_ON`, `POWER_OFF`): `operation.*OperationMode` (the AC's
    /// `airConOperationMode`, other types' `<type>OperationMode`).
    pub fn power(&self) -> Option<&str> {
        self.locations().into_iter().find_map(|l| {
            let operation = l.get("operation")?.as_object()?;
            operation
                .iter()
                .filter(|(k, _)| k.ends_with("OperationMode") && *k != "airCleanOperationMode")
                .find_map(|(_, v)| v.as_str())
        })
    }

    /// True when the power mode is `POWER_OFF`; `None` when the state has no power mode.
    pub fn is_powered_off(&self) -> Option<bool> {
        self.power().map(|p| p == "POWER_OFF")
    }

    /// `runState.currentState` (`INITIAL`, `RUNNING`, `END`...).
    pub fn run_state(&self) -> Option<&str> {
        self.get("runState", "currentState")?.as_str()
    }

    /// `remoteControlEnable.remoteControlEnabled`: `false` makes commands fail with 2301.
    pub fn remote_control_enabled(&self) -> Option<bool> {
        self.get("remoteControlEnable", "remoteControlEnabled")?.as_bool()
    }

    /// The AC's `airConJobMode.currentJobMode` (`COOL`, `HEAT`, `AUTO`...).
    pub fn job_mode(&self) -> Option<&str> {
        self.get("airConJobMode", "currentJobMode")?.as_str()
    }

    /// `temperature.targetTemperature`.
    pub fn target_temperature(&self) -> Option<f64> {
        self.get("temperature", "targetTemperature")?.as_f64()
    }

    /// `temperature.currentTemperature`.
    pub fn current_temperature(&self) -> Option<f64> {
        self.get("temperature", "currentTemperature")?.as_f64()
    }
}

/// `GET /devices/{id}/profile`.
///
/// ```
/// use devfault_thinq::client::Profile;
/// use serde_json::json;
/// let profile = Profile::new(json!({"property": {"airConJobMode": {"currentJobMode":
///     {"type": "enum", "mode": ["r", "w"], "value": {"r": ["COOL", "AUTO"], "w": ["COOL", "AUTO"]}}},
///     "temperature": {"targetTemperature": {"type": "range", "mode": ["r", "w"],
///         "value": {"w": {"min": 18, "max": 30, "step": 1}}}, "unit": "C"}}}));
/// let mode = profile.property("airConJobMode", "currentJobMode").expect("listed");
/// assert!(mode.is_writable());
/// assert_eq!(mode.writable_values(), ["COOL", "AUTO"]);
/// let target = profile.property("temperature", "targetTemperature").expect("listed");
/// assert_eq!(target.writable_range(), Some((18.0, 30.0)));
/// assert!(profile.property("temperature", "unit").is_some_and(|p| !p.is_writable()));
/// ```
#[derive(Clone, PartialEq, Debug)]
pub struct Profile {
    raw: Value,
}

/// One property's descriptor in a profile.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Property<'p> {
    raw: &'p Value,
}

impl Profile {
    /// Wraps a `response` value.
    pub fn new(raw: Value) -> Profile {
        Profile { raw }
    }

    /// The JSON as sent.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The per-location property objects (`property` is one object, or an array per location).
    pub fn properties(&self) -> Vec<&Map<String, Value>> {
        self.raw.get("property").map(locations).unwrap_or_default()
    }

    /// The descriptor of `resource.property` in the first location that has it.
    pub fn property(&self, resource: &str, property: &str) -> Option<Property<'_>> {
        self.properties()
            .into_iter()
            .find_map(|l| l.get(resource)?.get(property))
            .map(|raw| Property { raw })
    }

    /// The error names the appliance can report (`error`).
    pub fn errors(&self) -> Vec<&str> {
        strings(self.raw.get("error"))
    }

    /// The push codes it sends (`notification.push`).
    pub fn push_codes(&self) -> Vec<&str> {
        strings(self.raw.get("notification").and_then(|n| n.get("push")))
    }
}

impl<'p> Property<'p> {
    /// The descriptor as sent.
    pub fn raw(&self) -> &'p Value {
        self.raw
    }

    /// `enum`, `range`, `number`, `boolean`, `string`, `list`; `None` for a bare constant.
    pub fn kind(&self) -> Option<&'p str> {
        self.raw.get("type")?.as_str()
    }

    /// True when `mode` has `w`: a command may set it.
    pub fn is_writable(&self) -> bool {
        strings(self.raw.get("mode")).contains(&"w")
    }

    /// The values an `enum` accepts in commands (`value.w`).
    pub fn writable_values(&self) -> Vec<&'p str> {
        strings(self.raw.get("value").and_then(|v| v.get("w")))
    }

    /// The `min` and `max` a `range` accepts in commands (`value.w`).
    pub fn writable_range(&self) -> Option<(f64, f64)> {
        let w = self.raw.get("value")?.get("w")?;
        Some((w.get("min")?.as_f64()?, w.get("max")?.as_f64()?))
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
}

fn locations(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(object) => vec![object],
        _ => Vec::new(),
    }
}

fn location_name(location: &Map<String, Value>) -> Option<&str> {
    location.get("location")?.get("locationName")?.as_str()
}

/// Builders for common control commands, in the exact shapes the SDK sends.
pub mod command {
    use serde_json::{Value, json};

    /// Air conditioner power: `{"operation":{"airConOperationMode":"POWER_ON"|"POWER_OFF"}}`.
    pub fn air_con_power(on: bool) -> Value {
        json!({ "operation": { "airConOperationMode": if on { "POWER_ON" } else { "POWER_OFF" } } })
    }

    /// Air conditioner job mode: `{"airConJobMode":{"currentJobMode":"COOL"}}`.
    pub fn air_con_job_mode(mode: &str) -> Value {
        json!({ "airConJobMode": { "currentJobMode": mode } })
    }

    /// Air conditioner cooling target in Celsius:
    /// `{"temperatureInUnits":{"coolTargetTemperature":24,"unit":"C"}}`.
    pub fn cool_target_celsius(degrees: f64) -> Value {
        json!({ "temperatureInUnits": { "coolTargetTemperature": degrees, "unit": "C" } })
    }

    /// Washer-like operation at a location:
    /// `{"location":{"locationName":"MAIN"},"operation":{"washerOperationMode":"START"}}`.
    pub fn washer_operation(location: &str, mode: &str) -> Value {
        json!({ "location": { "locationName": location }, "operation": { "washerOperationMode": mode } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_have_the_sdks_shapes() {
        assert_eq!(
            command::air_con_power(true).to_string(),
            r#"{"operation":{"airConOperationMode":"POWER_ON"}}"#
        );
        assert_eq!(
            command::washer_operation("MAIN", "START").to_string(),
            r#"{"location":{"locationName":"MAIN"},"operation":{"washerOperationMode":"START"}}"#
        );
    }

    #[test]
    fn locations_are_found_by_name() {
        let state = State::new(json!([
            {"location": {"locationName": "UPPER"}, "runState": {"currentState": "RUNNING"}},
            {"location": {"locationName": "LOWER"}, "runState": {"currentState": "END"}}]));
        let lower = state.location("LOWER").expect("listed");
        assert_eq!(lower["runState"]["currentState"], "END");
        assert!(state.location("MAIN").is_none(), "two locations, none named MAIN");
        assert_eq!(State::new(json!("odd")).locations().len(), 0);
        assert_eq!(State::new(json!({"operation": {"airCleanOperationMode": "ON"}})).power(), None);
    }
}
