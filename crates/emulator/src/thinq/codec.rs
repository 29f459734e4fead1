//! The ThinQ codec of the fault layer: codes are four-digit strings resolved against
//! [`devfault_thinq::registry`], replies are the cloud's own envelope (status, code and
//! message from the row; `messageId` echoing a valid `x-message-id`), requests are
//! classified by devfault-thinq's endpoint table (and the routing left for the cloud's
//! router, so that a request is routed once), and replies are read back with
//! [`devfault_thinq::wire::decode_response`] for the journal.

use axum::http::{Extensions, HeaderMap};
use axum::response::Response;
use devfault_core::Entry;
use devfault_thinq::Code;
use devfault_thinq::endpoint::{PathRoute, route_path};
use devfault_thinq::wire::decode_response;
use serde_json::Value;

use super::Refusal;
use super::router::{Routing, refuse, reply_message_id};
use crate::codec::{ApiCodec, Classified, Decoded, ResolvedCode};

const HOW: &str = "list the codes with `devfault list --api thinq`";

/// The ThinQ codec.
#[derive(Clone, Copy, Default, Debug)]
pub struct ThinqCodec;

/// The state or mode a templated row's message carries (`HEAT` in "Command not supported in
/// HEAT"), given either alone or as the whole message.
fn state_or_mode(entry: &Entry, given: &str) -> Option<String> {
    let placeholder = entry.template.as_deref()?;
    let (prefix, suffix) = entry.message.split_once(placeholder)?;
    let value = given.strip_prefix(prefix).unwrap_or(given);
    let value = value.strip_suffix(suffix).filter(|_| !suffix.is_empty()).unwrap_or(value);
    Some(value.to_owned())
}

/// Routes `path` and leaves the result for the cloud's router.
fn routed<'p>(path: &'p str, extensions: &mut Extensions) -> Option<PathRoute<'p>> {
    let on_path = route_path(path);
    extensions.insert(Routing(on_path.map(|on_path| on_path.first)));
    on_path
}

/// What [`ApiCodec::classify`] says of `path`, on the endpoint `on_path`.
fn classified(path: &str, on_path: Option<PathRoute<'_>>) -> Classified {
    let service = path.trim_start_matches('/').split('/').next().filter(|s| !s.is_empty());
    let method = on_path.map(|on_path| {
        if on_path.is_shared() {
            path.trim_start_matches('/').replace('/', "_")
        } else {
            on_path.first.sdk_method().to_owned()
        }
    });
    Classified {
        service: service.map(str::to_owned),
        method,
        device: on_path.and_then(|on_path| on_path.device).map(str::to_owned),
    }
}

impl ApiCodec for ThinqCodec {
    fn api(&self) -> &'static str {
        devfault_thinq::API
    }

    /// `"1101"`; for 2302 and 2305 `message` gives the state or mode (`"RUNNING"`, or the
    /// whole `"Command not supported in RUNNING"`).
    fn resolve(&self, code: &Value, message: Option<&str>) -> Result<ResolvedCode, String> {
        let text = match code {
            Value::String(text) => text,
            Value::Number(number) => {
                return Err(format!(
                    "ThinQ codes are four-digit JSON strings: write \"{number:0>4}\", not {number}"
                ));
            }
            other => {
                return Err(format!(
                    "{other} is not a ThinQ code (a string such as \"1101\"); {HOW}"
                ));
            }
        };
        let parsed: Code = text.parse().map_err(|_| {
            format!("{text:?} is not a ThinQ code: four digits such as \"1101\"; {HOW}")
        })?;
        let entry = parsed
            .entry_opt()
            .ok_or_else(|| format!("{text} is not in the ThinQ registry; {HOW}"))?;
        let rendered = match (&entry.template, message) {
            (Some(placeholder), None) => {
                return Err(format!(
                    "ThinQ code {text} names a state or mode for {placeholder}: add \"message\": \"RUNNING\" (or the whole \"{}\")",
                    entry.message
                ));
            }
            (Some(_), Some(given)) => {
                let value = state_or_mode(entry, given).unwrap_or_else(|| given.to_owned());
                entry.render(&value).map_err(|error| format!("message {given:?}: {error}"))?
            }
            (None, Some(given)) if given != entry.message => {
                return Err(format!(
                    "ThinQ code {text} has the fixed message {:?}; leave \"message\" out",
                    entry.message
                ));
            }
            (None, _) => entry.message.clone(),
        };
        Ok(ResolvedCode {
            api: devfault_thinq::API,
            code: format!("{:04}", entry.code),
            reason: entry.reason.clone(),
            message: rendered,
            http_status: entry.http_status.as_u16(),
            entry: Some(entry),
        })
    }

    fn error_response(&self, code: &ResolvedCode, _request_body: &[u8]) -> Response {
        self.error_response_to(code, &HeaderMap::new(), &[])
    }

    fn error_response_to(
        &self,
        code: &ResolvedCode,
        request_headers: &HeaderMap,
        _request_body: &[u8],
    ) -> Response {
        let message_id = reply_message_id(request_headers);
        let entry = code.entry.unwrap_or_else(|| Code::UNKNOWN_ERROR.entry());
        let refusal = Refusal {
            code: Code::new(entry.code).unwrap_or(Code::UNKNOWN_ERROR),
            state_or_mode: state_or_mode(entry, &code.message),
            detail: format!("fault rule: code {}", code.code),
        };
        refuse(&message_id, refusal)
    }

    fn body_timeout(&self, request_headers: &HeaderMap) -> Response {
        refuse(
            &reply_message_id(request_headers),
            Refusal::new(Code::BAD_REQUEST, "the request body came too slowly"),
        )
    }

    /// Service: the path's first segment (`devices`, `push`); method: the SDK method of the
    /// path (`get_device_status`), or, for a path several methods share, the path's name
    /// (`push_devices`, `client`); device: the id in the path.
    fn classify(&self, path: &str, _body: &[u8]) -> Classified {
        classified(path, route_path(path))
    }

    fn device_in_path(&self, path: &str) -> Option<String> {
        route_path(path)?.device.map(str::to_owned)
    }

    fn classify_request(
        &self,
        path: &str,
        _body: &[u8],
        extensions: &mut Extensions,
    ) -> Classified {
        classified(path, routed(path, extensions))
    }

    fn device_in_request(&self, path: &str, extensions: &mut Extensions) -> Option<String> {
        routed(path, extensions)?.device.map(str::to_owned)
    }

    fn decode(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Decoded {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        Decoded::from_reading(&decode_response(status, pairs, body, None).into_reading())
    }
}

#[cfg(test)]
mod tests {
    use devfault_thinq::endpoint::Endpoint;
    use serde_json::json;

    use super::*;

    #[test]
    fn codes_resolve_as_four_digit_strings_with_the_registry_status() {
        let codec = ThinqCodec;
        let resolved = codec.resolve(&json!("1222"), None).expect("a code");
        assert_eq!((resolved.code.as_str(), resolved.http_status), ("1222", 416));
        assert_eq!(resolved.message, "Not connected device");
        assert_eq!(codec.resolve(&json!("0000"), None).map(|r| r.http_status), Ok(500));
        assert!(codec.resolve(&json!(1222), None).unwrap_err().contains("\"1222\""));
        assert!(
            codec.resolve(&json!("9999"), None).unwrap_err().contains("not in the ThinQ registry")
        );
        assert!(codec.resolve(&json!("12"), None).is_err());
        assert!(codec.resolve(&json!("2302"), None).unwrap_err().contains("state or mode"));
        let state = codec.resolve(&json!("2302"), Some("RUNNING")).expect("templated");
        assert_eq!(state.message, "Command not supported in RUNNING");
        let whole = codec.resolve(&json!("2305"), Some("Command not supported in STANDBY"));
        assert_eq!(whole.map(|r| r.message), Ok("Command not supported in STANDBY".to_owned()));
    }

    #[test]
    fn classification_names_the_sdk_method_and_the_device() {
        let codec = ThinqCodec;
        let state = codec.classify("/devices/ac-living-room/state", b"");
        assert_eq!(state.service.as_deref(), Some("devices"));
        assert_eq!(state.method.as_deref(), Some("get_device_status"));
        assert_eq!(state.device.as_deref(), Some("ac-living-room"));
        let shared = codec.classify("/push/devices", b"");
        assert_eq!((shared.method.as_deref(), shared.device), (Some("push_devices"), None));
        assert_eq!(codec.classify("/nowhere/at/all", b"").method, None);
    }

    /// The journal files an unclassified request under `device_in_path`: it must name the
    /// device `classify` names, for every endpoint.
    #[test]
    fn the_device_in_the_path_is_the_classified_device() {
        let codec = ThinqCodec;
        for &endpoint in Endpoint::ALL {
            let path = endpoint.path_for("washer-main");
            let classified = codec.classify(&path, b"");
            assert_eq!(codec.device_in_path(&path), classified.device, "{path}");
            assert_eq!(codec.device_in_path(&path).is_some(), endpoint.names_device(), "{path}");
            // The request's way classifies alike and leaves the routing for the router.
            let mut extensions = Extensions::new();
            assert_eq!(codec.classify_request(&path, b"", &mut extensions), classified);
            let left = extensions.get::<Routing>().map(|routing| routing.0);
            assert_eq!(left, Some(route_path(&path).map(|on_path| on_path.first)), "{path}");
            let mut extensions = Extensions::new();
            assert_eq!(codec.device_in_request(&path, &mut extensions), classified.device);
            assert!(extensions.get::<Routing>().is_some());
        }
        let mut extensions = Extensions::new();
        assert_eq!(codec.device_in_request("/nowhere", &mut extensions), None);
        assert_eq!(extensions.get::<Routing>().map(|routing| routing.0), Some(None));
        assert_eq!(codec.device_in_path("/devices/ac-living-room/state/extra"), None);
        assert_eq!(codec.device_in_path("/route"), None);
    }
}
