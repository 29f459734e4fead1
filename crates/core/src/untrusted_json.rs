//! JSON from outside that must read back the same after it is written out again.
//!
//! The workspace builds serde_json with its `raw_value` feature (the ThinQ fast path and the
//! emulator's cached states use `RawValue`), and features are shared by the whole build. With
//! it, an object whose *first* key is serde_json's private marker
//! `$serde_json::private::RawValue` is not data when parsed: its string member is parsed as
//! JSON text in its place (`{"$marker": "{\"x\":1}"}` reads as `{"x": 1}`). A payload with the
//! marker as a later key parses as data, but a `Value` keeps its keys sorted and `$` sorts
//! first (unless serde_json's `preserve_order` is on), so what is written out no longer reads
//! back: the parser fails, or unwraps the string (a fuzzer found this in a ThinQ event). [`check`] finds the key anywhere in a decoded value, so the decoders of
//! untrusted JSON that keep a `Value` refuse it rather than pass on data that changes when
//! written.

use serde_json::Value;

/// serde_json's private marker key (`serde_json::raw::TOKEN`, not public API).
pub const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Where the marker key stands in `value`, as a path (`report[0].runState`), or `None` when it
/// stands nowhere. Iterative, so nesting costs no stack.
pub fn marker_path(value: &Value) -> Option<String> {
    let mut pending: Vec<(&Value, String)> = vec![(value, String::new())];
    while let Some((value, path)) = pending.pop() {
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    let place = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    if key == RAW_VALUE_TOKEN {
                        return Some(place);
                    }
                    pending.push((member, place));
                }
            }
            Value::Array(items) => {
                pending.extend(
                    items.iter().enumerate().map(|(i, item)| (item, format!("{path}[{i}]"))),
                );
            }
            _ => {}
        }
    }
    None
}

/// `Ok` when `value` is plain data; otherwise an error naming where the marker key stands.
pub fn check(value: &Value) -> Result<(), String> {
    match marker_path(value) {
        None => Ok(()),
        Some(path) => Err(format!(
            "the member {path:?} is serde_json's private marker key, which would be written back as raw text; rename it"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_marker_is_found_at_any_depth_and_plain_data_passes() {
        assert_eq!(
            check(&json!({"a": [1, {"b": null}], "c": "$serde_json::private::RawValue"})),
            Ok(())
        );
        let mut nested = json!({"report": [{"runState": {}}]});
        nested["report"][0]["runState"][RAW_VALUE_TOKEN] = json!("[1");
        assert_eq!(
            marker_path(&nested).as_deref(),
            Some("report[0].runState.$serde_json::private::RawValue")
        );
        assert!(check(&nested).unwrap_err().contains("report[0].runState"));
    }

    #[test]
    fn the_marker_is_not_data_to_serde_json_which_is_why_it_is_refused() {
        // First in its object, the marker's string is parsed as JSON in its place.
        let first = format!(r#"{{"{RAW_VALUE_TOKEN}":"{{\"x\":2}}"}}"#);
        assert_eq!(serde_json::from_str::<Value>(&first).expect("unwrapped"), json!({"x": 2}));
        // Later, it is read as data, which written out (keys sorted, `$` first) would not read
        // back the same; where keys keep their order it would, so only the check is asserted.
        let later = format!(r#"{{"a":{{"b":1,"{RAW_VALUE_TOKEN}":"{{\"x\":2}}"}}}}"#);
        let read: Value = serde_json::from_str(&later).expect("a later key parses as data");
        assert!(check(&read).is_err());
    }
}
