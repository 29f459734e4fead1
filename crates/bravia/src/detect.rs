//! What in a captured exchange says it is BRAVIA REST traffic, one clue per function, each
//! giving the reason to print. The CLI weighs these against ThinQ's clues
//! (`devfault_thinq::detect`) in one order of strength; each function here answers for
//! BRAVIA alone.

use serde_json::{Map, Value};

/// The URL path is under `/sony/`, where every BRAVIA service lives.
pub fn by_path(path: &str) -> Option<String> {
    (path.starts_with("/sony/") || path == "/sony")
        .then(|| format!("the URL path {path:?} is under /sony/"))
}

/// The request carries the pre-shared key header (`X-Auth-PSK`, any case).
pub fn by_headers<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    names
        .into_iter()
        .any(|name| name.eq_ignore_ascii_case("x-auth-psk"))
        .then(|| "the request carries X-Auth-PSK".to_owned())
}

/// The body has BRAVIA's `result` or `id` member, or its `error` array.
pub fn by_body(object: &Map<String, Value>) -> Option<String> {
    (object.contains_key("id")
        || object.contains_key("result")
        || object.get("error").is_some_and(Value::is_array))
    .then(|| "the body has BRAVIA's result/id members or an error array".to_owned())
}

/// The body's `error` is an object with a `code`: a JSON-RPC 2.0 error, which BRAVIA's
/// newer services send. Weaker than ThinQ's four-character string code, which the CLI
/// asks about first.
pub fn by_error_code(_code: &Value) -> Option<String> {
    Some("the error is a JSON-RPC 2.0 object with a numeric code".to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_clue_names_bravia_traffic() {
        assert!(by_path("/sony/system").is_some());
        assert!(by_path("/sony").is_some());
        assert!(by_path("/sonyx").is_none());
        assert!(by_headers(["x-auth-psk"]).is_some());
        assert!(by_headers(["x-country"]).is_none());
        assert!(by_body(json!({"result": [], "id": 1}).as_object().expect("object")).is_some());
        assert!(by_body(json!({"error": [7, "x"]}).as_object().expect("object")).is_some());
        assert!(by_body(json!({"error": {"code": 7}}).as_object().expect("object")).is_none());
        assert!(by_error_code(&json!(-32601)).is_some());
    }
}
