//! The BRAVIA codec of the fault layer: codes from [`devfault_bravia::registry`], replies
//! from [`devfault_bravia::wire::ErrorResponse`], requests classified by their `/sony/{service}`
//! path and the body's `method`, replies read back by
//! [`devfault_bravia::wire::decode_response`] for the journal.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use devfault_bravia::Code as BraviaCode;
use devfault_bravia::wire::{ErrorResponse, decode_response};
use devfault_core::Entry;
use serde_json::Value;

use crate::codec::{ApiCodec, Classified, Decoded, ResolvedCode, json_error};

/// The BRAVIA codec: codes from [`devfault_bravia::registry`], replies from
/// [`devfault_bravia::wire::ErrorResponse`], decoding by
/// [`devfault_bravia::wire::decode_response`].
#[derive(Clone, Copy, Default, Debug)]
pub struct BraviaCodec;

impl ApiCodec for BraviaCodec {
    fn api(&self) -> &'static str {
        devfault_bravia::API
    }

    fn resolve(&self, code: &Value, message: Option<&str>) -> Result<ResolvedCode, String> {
        const HOW: &str = "list the codes with `devfault list --api bravia`";
        let Some(number) = code.as_u64() else {
            return Err(match code {
                Value::String(text) if text.parse::<u64>().is_ok() => {
                    format!("BRAVIA codes are JSON integers: write {text}, not \"{text}\"")
                }
                _ => format!("{code} is not a BRAVIA code (an integer 0-65535); {HOW}"),
            });
        };
        let rows: Vec<&'static Entry> = u32::try_from(number)
            .map(|value| devfault_bravia::registry().rows(value).collect())
            .unwrap_or_default();
        let Some(first) = rows.first().copied() else {
            return Err(format!("{number} is not in the BRAVIA registry; {HOW}"));
        };
        let entry = match message {
            None => first,
            Some(message) => rows
                .iter()
                .copied()
                .find(|e| e.message == message)
                .or_else(|| rows.iter().copied().find(|e| e.message.eq_ignore_ascii_case(message)))
                .ok_or_else(|| {
                    let known: Vec<String> =
                        rows.iter().map(|e| format!("{:?}", e.message)).collect();
                    format!(
                        "BRAVIA code {number} has no row with message {message:?}; its messages: {}",
                        known.join(", ")
                    )
                })?,
        };
        Ok(ResolvedCode {
            api: devfault_bravia::API,
            code: entry.code.to_string(),
            reason: entry.reason.clone(),
            message: entry.message.clone(),
            http_status: entry.http_status.as_u16(),
            entry: Some(entry),
        })
    }

    fn error_response(&self, code: &ResolvedCode, request_body: &[u8]) -> Response {
        let id = serde_json::from_slice::<Value>(request_body)
            .ok()
            .and_then(|body| body.get("id").and_then(Value::as_u64));
        match code.entry {
            Some(entry) => ErrorResponse { entry, id }.into_response(),
            None => json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("BRAVIA code {} has no registry row", code.code),
            ),
        }
    }

    fn body_timeout(&self, _request_headers: &HeaderMap) -> Response {
        ErrorResponse { entry: BraviaCode::TIMEOUT.entry(), id: None }.into_response()
    }

    fn classify(&self, path: &str, body: &[u8]) -> Classified {
        let service = path
            .strip_prefix("/sony/")
            .and_then(|rest| rest.split('/').next())
            .filter(|service| !service.is_empty())
            .map(str::to_owned);
        /// Only `method`, borrowed; the other members are skipped without being built.
        #[derive(serde::Deserialize)]
        struct MethodOnly<'a> {
            #[serde(borrow)]
            method: Option<std::borrow::Cow<'a, str>>,
        }
        let method = serde_json::from_slice::<MethodOnly<'_>>(body)
            .ok()
            .and_then(|body| body.method.map(std::borrow::Cow::into_owned));
        Classified { service, method, device: None }
    }

    fn decode(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Decoded {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        Decoded::from_reading(&decode_response(status, pairs, body).into_reading())
    }
}
