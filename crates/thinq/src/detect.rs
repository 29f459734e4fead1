//! What in a captured exchange says it is ThinQ Connect traffic, one clue per function, each
//! giving the reason to print. The CLI weighs these against BRAVIA's clues
//! (`devfault_bravia::detect`) in one order of strength; each function here answers for
//! ThinQ alone.

use serde_json::{Map, Value};

use crate::endpoint::is_api_path;
use crate::region::Host;

/// The URL's host (`api-aic.lgthinq.com:443`, a port allowed) is a name in LG's domain.
pub fn by_host(host: &str) -> Option<String> {
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    (Host::parse(name) != Host::Foreign).then(|| format!("the host {host:?} is LG's ThinQ cloud"))
}

/// The request carries a header only ThinQ's SDK sends (`x-message-id`, `x-api-key`,
/// `x-country`; names in any case).
pub fn by_headers<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut names = names.into_iter();
    names
        .any(|name| {
            ["x-message-id", "x-api-key", "x-country"].iter().any(|h| name.eq_ignore_ascii_case(h))
        })
        .then(|| {
            "the request carries ThinQ headers (x-message-id, x-api-key, x-country)".to_owned()
        })
}

/// The URL path (a query allowed) lies under a service of the endpoint table.
pub fn by_path(path: &str) -> Option<String> {
    is_api_path(path).then(|| format!("the URL path {path:?} is a ThinQ Connect endpoint"))
}

/// The body has a member of ThinQ's envelope (`messageId`, `timestamp`, `response`).
pub fn by_body(object: &Map<String, Value>) -> Option<String> {
    ["messageId", "timestamp", "response"]
        .iter()
        .any(|member| object.contains_key(*member))
        .then(|| "the body has ThinQ's messageId/timestamp/response members".to_owned())
}

/// The body's `error.code` is a four-character string, as ThinQ writes its codes.
pub fn by_error_code(code: &Value) -> Option<String> {
    code.as_str()
        .is_some_and(|c| c.len() == 4)
        .then(|| "the error code is a four-character string".to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_clue_names_thinq_traffic_only() {
        assert!(by_host("api-aic.lgthinq.com").is_some());
        assert!(by_host("api-eic.lgthinq.com:443").is_some());
        assert!(by_host("127.0.0.1:8081").is_none());
        assert!(by_headers(["Accept", "X-Country"]).is_some());
        assert!(by_headers(["X-Auth-PSK"]).is_none());
        assert!(by_path("/devices/ac/state").is_some());
        assert!(by_path("/sony/system").is_none());
        let envelope = json!({"messageId": "x", "timestamp": "t"});
        assert!(by_body(envelope.as_object().expect("object")).is_some());
        assert!(by_body(json!({"result": []}).as_object().expect("object")).is_none());
        assert!(by_error_code(&json!("1222")).is_some());
        assert!(by_error_code(&json!(40801)).is_none());
    }
}
