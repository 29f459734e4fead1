//! Control commands: checked against the appliance's profile first (what the type can do at
//! all), then against its state (what it can do now), then applied to the state.
//!
//! A command is `{resource: {property: value}}`, plus `location.locationName` for a washer
//! (whose profile and state are arrays of locations), and a selector inside array resources
//! (`unit` of the AC's `temperatureInUnits`, `locationName` of the fridge's).
//!
//! Codes: not a JSON object → 1311; nothing to do or a selector missing → 1101; a resource
//! or property the profile does not define as writable → 2207; a value of the wrong type, out
//! of range, off the step, excepted or not in the enum → 1102 (LG documents 2207 or 1102 for
//! this; the SDK's own setters raise the parameter error, so 1102 it is).

use serde_json::{Map, Value};

use devfault_thinq::Code;

use super::Refusal;
use super::kinds::{EFFECTS, Kind, MODE_RULES, STATE_RULES};

/// One property written by a command.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct Write {
    pub resource: String,
    /// For array resources: the selector and its value (`unit`, `"C"`).
    pub selector: Option<(String, Value)>,
    pub property: String,
    pub value: Value,
}

/// A command that passed the profile.
#[derive(Clone, PartialEq, Debug)]
pub(crate) struct Command {
    /// The location a washer's command names.
    pub location: Option<String>,
    pub writes: Vec<Write>,
}

/// The names of the members of a JSON object, for messages.
fn names(map: &Map<String, Value>) -> String {
    map.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Checks `body` against the kind's profile.
pub(crate) fn parse(kind: &Kind, body: &Value) -> Result<Command, Refusal> {
    let Value::Object(members) = body else {
        return Err(Refusal::new(
            Code::BAD_REQUEST_FORMAT,
            format!("the command {body} is not a JSON object such as {{\"operation\": {{...}}}}"),
        ));
    };
    if members.is_empty() {
        return Err(Refusal::new(
            Code::MISSING_PARAMETERS,
            "the command is empty: send {resource: {property: value}}",
        ));
    }
    let property = kind.profile.get("property").unwrap_or(&Value::Null);
    let (location, resources) = match property {
        Value::Array(locations) => {
            let named = members.get("location").and_then(|l| l.get("locationName"));
            let known: Vec<&str> = locations
                .iter()
                .filter_map(|l| l.get("location")?.get("locationName")?.as_str())
                .collect();
            let Some(named) = named else {
                return Err(Refusal::new(
                    Code::MISSING_PARAMETERS,
                    format!(
                        "a {} command names its location: {{\"location\": {{\"locationName\": \"{}\"}}, ...}}",
                        kind.device_type,
                        known.first().copied().unwrap_or("MAIN")
                    ),
                ));
            };
            let found = locations
                .iter()
                .find(|l| l.get("location").and_then(|l| l.get("locationName")) == Some(named));
            match found.and_then(Value::as_object) {
                Some(resources) => (named.as_str().map(str::to_owned), resources),
                None => {
                    return Err(Refusal::new(
                        Code::UNACCEPTABLE_PARAMETERS,
                        format!("location {named} is not one of {}", known.join(", ")),
                    ));
                }
            }
        }
        Value::Object(resources) => (None, resources),
        _ => {
            return Err(Refusal::new(Code::INVALID_COMMAND_ERROR, "the profile defines nothing"));
        }
    };

    let mut writes = Vec::new();
    for (resource, value) in members {
        if resource == "location" && location.is_some() {
            continue;
        }
        let Some(defined) = resources.get(resource) else {
            return Err(Refusal::new(
                Code::INVALID_COMMAND_ERROR,
                format!(
                    "resource {resource:?} is not in the profile of {}; its resources: {}",
                    kind.device_type,
                    names(resources)
                ),
            ));
        };
        let Value::Object(properties) = value else {
            return Err(Refusal::new(
                Code::UNACCEPTABLE_PARAMETERS,
                format!("{resource} is {value}, not an object of properties"),
            ));
        };
        let (selector, descriptors) = select(resource, defined, properties)?;
        for (name, value) in properties {
            if selector.as_ref().is_some_and(|(key, _)| key == name) {
                continue;
            }
            let descriptor = descriptors.get(name).filter(|d| is_writable(d)).ok_or_else(|| {
                let writable: Vec<&str> = descriptors
                    .iter()
                    .filter(|(_, d)| is_writable(d))
                    .map(|(n, _)| n.as_str())
                    .collect();
                Refusal::new(
                    Code::INVALID_COMMAND_ERROR,
                    format!(
                        "{resource}.{name} is not a writable property of {}; writable in {resource}: {}",
                        kind.device_type,
                        if writable.is_empty() { "none".to_owned() } else { writable.join(", ") }
                    ),
                )
            })?;
            check_value(descriptor, value).map_err(|accepted| {
                Refusal::new(
                    Code::UNACCEPTABLE_PARAMETERS,
                    format!("{resource}.{name} = {value} is not accepted: {accepted}"),
                )
            })?;
            writes.push(Write {
                resource: resource.clone(),
                selector: selector.clone(),
                property: name.clone(),
                value: value.clone(),
            });
        }
    }
    if writes.is_empty() {
        return Err(Refusal::new(
            Code::MISSING_PARAMETERS,
            "the command writes no property: send {resource: {property: value}}",
        ));
    }
    Ok(Command { location, writes })
}

/// An array resource's selector and value, and the descriptors of the element it names.
type Selected<'p> = (Option<(String, Value)>, &'p Map<String, Value>);

/// The property descriptors a command's resource writes to: the resource's own, or, for an
/// array resource, those of the element its selector names.
fn select<'p>(
    resource: &str,
    defined: &'p Value,
    properties: &Map<String, Value>,
) -> Result<Selected<'p>, Refusal> {
    match defined {
        Value::Object(descriptors) => Ok((None, descriptors)),
        Value::Array(elements) => {
            // The selector is the member each element fixes to a bare value (`"unit": "C"`).
            let key = elements
                .first()
                .and_then(Value::as_object)
                .and_then(|first| first.iter().find(|(_, v)| v.is_string()).map(|(k, _)| k))
                .cloned()
                .unwrap_or_else(|| "locationName".to_owned());
            let accepted: Vec<String> =
                elements.iter().filter_map(|e| e.get(&key)).map(Value::to_string).collect();
            let Some(wanted) = properties.get(&key) else {
                return Err(Refusal::new(
                    Code::MISSING_PARAMETERS,
                    format!("{resource} needs {key:?}, one of {}", accepted.join(", ")),
                ));
            };
            elements
                .iter()
                .find(|e| e.get(&key) == Some(wanted))
                .and_then(Value::as_object)
                .map(|descriptors| (Some((key.clone(), wanted.clone())), descriptors))
                .ok_or_else(|| {
                    Refusal::new(
                        Code::UNACCEPTABLE_PARAMETERS,
                        format!(
                            "{resource}.{key} = {wanted} is not one of {}",
                            accepted.join(", ")
                        ),
                    )
                })
        }
        _ => Err(Refusal::new(
            Code::INVALID_COMMAND_ERROR,
            format!("{resource} is a constant of the profile, not a writable resource"),
        )),
    }
}

fn is_writable(descriptor: &Value) -> bool {
    descriptor
        .get("mode")
        .and_then(Value::as_array)
        .is_some_and(|modes| modes.iter().any(|m| m == "w"))
}

/// Checks a value against a property descriptor; the error says what is accepted.
pub(crate) fn check_value(descriptor: &Value, value: &Value) -> Result<(), String> {
    let kind = descriptor.get("type").and_then(Value::as_str).unwrap_or("");
    let allowed = descriptor.get("value").and_then(|v| v.get("w"));
    match kind {
        "enum" | "boolean" => {
            if kind == "boolean" && !value.is_boolean() {
                return Err("true or false".to_owned());
            }
            match allowed.and_then(Value::as_array) {
                Some(list) if !list.contains(value) => Err(format!(
                    "one of {}",
                    list.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
                )),
                _ => Ok(()),
            }
        }
        "range" => {
            let range = allowed.unwrap_or(&Value::Null);
            let (min, max) = (
                range.get("min").and_then(Value::as_f64).unwrap_or(f64::MIN),
                range.get("max").and_then(Value::as_f64).unwrap_or(f64::MAX),
            );
            let step = range.get("step").and_then(Value::as_f64).filter(|s| *s > 0.0);
            let within = match step {
                Some(step) => format!("{min} to {max} in steps of {step}"),
                None => format!("{min} to {max}"),
            };
            let Some(number) = value.as_f64() else {
                return Err(format!("a number, {within}"));
            };
            if number < min || number > max {
                return Err(within);
            }
            if let Some(step) = step {
                let steps = (number - min) / step;
                if (steps - steps.round()).abs() > 1e-9 {
                    return Err(within);
                }
            }
            let excepted = range
                .get("except")
                .and_then(Value::as_array)
                .is_some_and(|except| except.iter().any(|e| e.as_f64() == Some(number)));
            if excepted {
                return Err(format!("{within}, except {}", range["except"]));
            }
            Ok(())
        }
        "number" if !value.is_number() => Err("a number".to_owned()),
        "string" if !value.is_string() => Err("a string".to_owned()),
        "list" if !value.is_array() => Err("a list".to_owned()),
        _ => Ok(()),
    }
}

/// Checks the type of a resource's value as the admin API's `PATCH` writes it into the state:
/// an object of the resource's properties (an array of them for an array resource such as
/// `temperatureInUnits`), each of its descriptor's type: `enum` and `string` a string,
/// `range` and `number` a number, `boolean` true or false, `list` an array. Unlike a command,
/// any value of the right type is accepted, read-only properties included: the admin API sets
/// states a command cannot reach. The error names the field and what it takes.
pub(crate) fn check_state_type(
    resource: &str,
    defined: &Value,
    value: &Value,
) -> Result<(), String> {
    let members = |element: &Value, at: &str| -> Result<(), String> {
        let Value::Object(members) = element else {
            return Err(format!("{at} is {element}: give an object of its properties"));
        };
        for (name, item) in members {
            let descriptor = match defined {
                Value::Object(descriptors) => descriptors.get(name),
                Value::Array(elements) => elements.iter().find_map(|e| e.get(name)),
                _ => None,
            };
            let Some(descriptor) = descriptor else {
                let known: Vec<&str> = match defined {
                    Value::Object(d) => d.keys().map(String::as_str).collect(),
                    Value::Array(e) => e
                        .iter()
                        .filter_map(Value::as_object)
                        .flat_map(|o| o.keys().map(String::as_str))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                    _ => Vec::new(),
                };
                return Err(format!(
                    "{at}.{name} is not a property of {resource}; its properties: {}",
                    known.join(", ")
                ));
            };
            let takes = match descriptor {
                // A constant of the profile (an array element's selector, "unit": "C").
                Value::String(_) => (!item.is_string()).then_some("a string"),
                Value::Bool(_) => (!item.is_boolean()).then_some("true or false"),
                Value::Number(_) => (!item.is_number()).then_some("a number"),
                _ => match descriptor.get("type").and_then(Value::as_str).unwrap_or("") {
                    "enum" | "string" => (!item.is_string()).then_some("a string"),
                    "range" | "number" => (!item.is_number()).then_some("a number"),
                    "boolean" => (!item.is_boolean()).then_some("true or false"),
                    "list" => (!item.is_array()).then_some("a list"),
                    _ => None,
                },
            };
            if let Some(takes) = takes {
                return Err(format!("{at}.{name} is {item}: give {takes}"));
            }
        }
        Ok(())
    };
    match (defined, value) {
        (Value::Array(_), Value::Array(elements)) => {
            for (index, element) in elements.iter().enumerate() {
                members(element, &format!("{resource}[{index}]"))?;
            }
            Ok(())
        }
        (Value::Array(_), _) => {
            Err(format!("{resource} is {value}: give an array of objects of its properties"))
        }
        _ => members(value, resource),
    }
}

/// The state object a command's location addresses: the state itself, or the washer's
/// location element.
fn scope<'s>(state: &'s Value, location: Option<&str>) -> Option<&'s Value> {
    match (state, location) {
        (Value::Array(locations), Some(name)) => locations.iter().find(|l| {
            l.get("location").and_then(|l| l.get("locationName")).and_then(Value::as_str)
                == Some(name)
        }),
        (Value::Array(locations), None) => locations.first(),
        (state, _) => Some(state),
    }
}

fn scope_mut<'s>(state: &'s mut Value, location: Option<&str>) -> Option<&'s mut Value> {
    match state {
        Value::Array(locations) => match location {
            Some(name) => locations.iter_mut().find(|l| {
                l.get("location").and_then(|l| l.get("locationName")).and_then(Value::as_str)
                    == Some(name)
            }),
            None => locations.first_mut(),
        },
        state => Some(state),
    }
}

/// A string property of the state, where the command's location addresses it.
pub(crate) fn read<'s>(
    state: &'s Value,
    location: Option<&str>,
    (resource, property): (&str, &str),
) -> Option<&'s str> {
    scope(state, location)?.get(resource)?.get(property)?.as_str()
}

/// Checks a command against the appliance's state: power (2304), error (2303), run state
/// (2302) and job mode (2305). Being online and remote control are the caller's (1222, 2301).
pub(crate) fn check_state(kind: &Kind, state: &Value, command: &Command) -> Result<(), Refusal> {
    let location = command.location.as_deref();
    if let Some(power) = kind.power
        && read(state, location, power.state) == Some(power.off)
    {
        let switching = command.writes.iter().all(|w| {
            (w.resource.as_str(), w.property.as_str()) == power.command
                && w.value.as_str().is_some_and(|v| power.accepted_while_off.contains(&v))
        });
        if !switching {
            return Err(Refusal::new(
                Code::COMMAND_NOT_SUPPORTED_IN_POWER_OFF,
                format!("{} is {}", power.state.1, power.off),
            ));
        }
        return Ok(());
    }
    let run_state = kind.run_state.and_then(|place| read(state, location, place));
    if run_state == Some("ERROR") {
        return Err(Refusal::new(
            Code::COMMAND_NOT_SUPPORTED_IN_ERROR,
            "the run state is ERROR; set it back with the admin API",
        ));
    }
    for write in &command.writes {
        let place = (write.resource.as_str(), write.property.as_str());
        if let Some(current) = run_state {
            let refused = STATE_RULES.iter().any(|(device_type, rule, value, states)| {
                *device_type == kind.device_type
                    && *rule == place
                    && value.is_none_or(|v| write.value == v)
                    && states.contains(&current)
            });
            if refused {
                return Err(Refusal::templated(
                    Code::COMMAND_NOT_SUPPORTED_IN_STATE,
                    current,
                    format!("{}.{} = {} while {current}", place.0, place.1, write.value),
                ));
            }
        }
        if let Some(mode) = kind.mode.and_then(|place| read(state, location, place)) {
            let refused = MODE_RULES.iter().any(|(device_type, resource, modes)| {
                *device_type == kind.device_type
                    && *resource == write.resource
                    && modes.contains(&mode)
            });
            if refused {
                return Err(Refusal::templated(
                    Code::COMMAND_NOT_SUPPORTED_IN_MODE,
                    mode,
                    format!("{} cannot be set in mode {mode}", write.resource),
                ));
            }
        }
    }
    Ok(())
}

/// Applies a checked command: each property written is stored (in the selected element of
/// an array resource), then [`EFFECTS`] follow.
pub(crate) fn apply(kind: &Kind, state: &mut Value, command: &Command) {
    let Some(scope) = scope_mut(state, command.location.as_deref()) else {
        return;
    };
    for write in &command.writes {
        store(scope, write, &write.resource, &write.property, write.value.clone());
        for (device_type, (resource, property), value, target, set) in EFFECTS {
            if *device_type == kind.device_type
                && *resource == write.resource
                && *property == write.property
                && value.is_none_or(|v| write.value == v)
            {
                let new = set.map_or_else(|| write.value.clone(), Value::from);
                store(scope, write, target.0, target.1, new);
            }
        }
    }
}

/// Sets `resource.property` in `scope`, in the element `write`'s selector names when the
/// resource is an array (added when missing).
fn store(scope: &mut Value, write: &Write, resource: &str, property: &str, value: Value) {
    let Value::Object(members) = scope else {
        return;
    };
    let slot = members.entry(resource.to_owned()).or_insert_with(|| match &write.selector {
        Some(_) => Value::Array(Vec::new()),
        None => Value::Object(Map::new()),
    });
    let target = match (slot, &write.selector) {
        (Value::Array(elements), Some((key, wanted))) => {
            let index = match elements.iter().position(|e| e.get(key) == Some(wanted)) {
                Some(index) => index,
                None => {
                    let mut element = Map::new();
                    element.insert(key.clone(), wanted.clone());
                    elements.push(Value::Object(element));
                    elements.len() - 1
                }
            };
            &mut elements[index]
        }
        (slot, _) => slot,
    };
    if let Value::Object(properties) = target {
        properties.insert(property.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::thinq::kinds::by_type;

    fn kind(device_type: &str) -> &'static Kind {
        by_type(device_type).expect("a kind of the table")
    }

    fn code_of(result: Result<Command, Refusal>) -> Code {
        result.err().map(|r| r.code).expect("a refusal")
    }

    #[test]
    fn the_sdk_commands_pass_the_profiles() {
        let ac = kind("DEVICE_AIR_CONDITIONER");
        for body in [
            json!({"operation": {"airConOperationMode": "POWER_ON"}}),
            json!({"temperatureInUnits": {"coolTargetTemperature": 24, "unit": "C"}}),
            json!({"airConJobMode": {"currentJobMode": "COOL"}}),
            json!({"airFlow": {"windStrength": "HIGH"}}),
        ] {
            assert!(parse(ac, &body).is_ok(), "{body}");
        }
        let washer = kind("DEVICE_WASHER");
        let start = json!({"location": {"locationName": "MAIN"}, "operation": {"washerOperationMode": "START"}});
        assert_eq!(parse(washer, &start).map(|c| c.location), Ok(Some("MAIN".to_owned())));
        let fridge = kind("DEVICE_REFRIGERATOR");
        for body in [
            json!({"refrigeration": {"expressMode": true}}),
            json!({"temperatureInUnits": {"locationName": "FRIDGE", "targetTemperatureC": 3}}),
            json!({"temperatureInUnits": {"locationName": "FREEZER", "targetTemperatureC": -18}}),
        ] {
            assert!(parse(fridge, &body).is_ok(), "{body}");
        }
    }

    #[test]
    fn the_profile_refuses_with_the_documented_codes() {
        let ac = kind("DEVICE_AIR_CONDITIONER");
        let cases = [
            (json!([1]), Code::BAD_REQUEST_FORMAT),
            (json!({}), Code::MISSING_PARAMETERS),
            (json!({"timer": {"absoluteHourToStart": 10}}), Code::INVALID_COMMAND_ERROR),
            (json!({"nosuch": {"x": 1}}), Code::INVALID_COMMAND_ERROR),
            (json!({"filterInfo": {"usedTime": 3}}), Code::INVALID_COMMAND_ERROR),
            (
                json!({"temperatureInUnits": {"coolTargetTemperature": 99, "unit": "C"}}),
                Code::UNACCEPTABLE_PARAMETERS,
            ),
            (
                json!({"temperatureInUnits": {"coolTargetTemperature": 24.2, "unit": "C"}}),
                Code::UNACCEPTABLE_PARAMETERS,
            ),
            (
                json!({"temperatureInUnits": {"coolTargetTemperature": 24}}),
                Code::MISSING_PARAMETERS,
            ),
            (
                json!({"temperatureInUnits": {"coolTargetTemperature": 24, "unit": "K"}}),
                Code::UNACCEPTABLE_PARAMETERS,
            ),
            (json!({"airConJobMode": {"currentJobMode": "HEAT"}}), Code::UNACCEPTABLE_PARAMETERS),
            (json!({"airConJobMode": {"currentJobMode": 3}}), Code::UNACCEPTABLE_PARAMETERS),
            (json!({"powerSave": {"powerSaveEnabled": "yes"}}), Code::UNACCEPTABLE_PARAMETERS),
            (json!({"operation": "POWER_ON"}), Code::UNACCEPTABLE_PARAMETERS),
        ];
        for (body, code) in cases {
            assert_eq!(code_of(parse(ac, &body)), code, "{body}");
        }
        let fridge = kind("DEVICE_REFRIGERATOR");
        let excepted =
            json!({"temperatureInUnits": {"locationName": "FREEZER", "targetTemperatureF": 7}});
        assert_eq!(code_of(parse(fridge, &excepted)), Code::UNACCEPTABLE_PARAMETERS);
        let washer = kind("DEVICE_WASHER");
        let no_location = json!({"operation": {"washerOperationMode": "START"}});
        assert_eq!(code_of(parse(washer, &no_location)), Code::MISSING_PARAMETERS);
    }

    #[test]
    fn state_refusals_name_the_state_or_mode() {
        let washer = kind("DEVICE_WASHER");
        let mut state = washer.initial.clone();
        let start = parse(
            washer,
            &json!({"location": {"locationName": "MAIN"}, "operation": {"washerOperationMode": "START"}}),
        )
        .expect("valid");
        assert_eq!(check_state(washer, &state, &start), Ok(()));
        apply(washer, &mut state, &start);
        assert_eq!(state[0]["runState"]["currentState"], "RUNNING");
        let refusal = check_state(washer, &state, &start).expect_err("already running");
        assert_eq!(
            (refusal.code, refusal.state_or_mode.as_deref()),
            (Code::COMMAND_NOT_SUPPORTED_IN_STATE, Some("RUNNING"))
        );
        state[0]["runState"]["currentState"] = json!("ERROR");
        let refusal = check_state(washer, &state, &start).expect_err("error");
        assert_eq!(refusal.code, Code::COMMAND_NOT_SUPPORTED_IN_ERROR);

        let ac = kind("DEVICE_AIR_CONDITIONER");
        let mut state = ac.initial.clone();
        let set =
            parse(ac, &json!({"temperatureInUnits": {"coolTargetTemperature": 22, "unit": "C"}}))
                .expect("valid");
        apply(ac, &mut state, &set);
        assert_eq!(state["temperatureInUnits"][0]["targetTemperature"], 22);
        state["airConJobMode"]["currentJobMode"] = json!("AIR_CLEAN");
        let refusal = check_state(ac, &state, &set).expect_err("fan mode");
        assert_eq!(
            (refusal.code, refusal.state_or_mode.as_deref()),
            (Code::COMMAND_NOT_SUPPORTED_IN_MODE, Some("AIR_CLEAN"))
        );
        state["operation"]["airConOperationMode"] = json!("POWER_OFF");
        let refusal = check_state(ac, &state, &set).expect_err("off");
        assert_eq!(refusal.code, Code::COMMAND_NOT_SUPPORTED_IN_POWER_OFF);
        let on = parse(ac, &json!({"operation": {"airConOperationMode": "POWER_ON"}})).expect("ok");
        assert_eq!(check_state(ac, &state, &on), Ok(()));
    }
}
