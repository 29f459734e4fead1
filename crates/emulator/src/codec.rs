//! What the emulator knows of a vendor API, behind one trait: the fault layer and the journal
//! speak to every API through an [`ApiCodec`], and each vendor's emulator brings its own
//! (`bravia::codec`, `thinq::codec`), registered by the server. Adding an API is a new codec;
//! the fault layer and the journal do not change.

use std::fmt;

use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use devfault_core::{Entry, Reading};
use serde::Serialize;
use serde_json::Value;

/// A code of an API, checked against its registry, ready to be sent.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ResolvedCode {
    /// The API (`bravia`).
    pub api: &'static str,
    /// The code as written on the wire (`40000`, `1101`).
    pub code: String,
    /// The registry's reason.
    pub reason: String,
    /// The message the reply carries.
    pub message: String,
    /// The HTTP status the reply travels with.
    pub http_status: u16,
    /// The registry row, when the API's registry is linked in.
    #[serde(skip)]
    pub entry: Option<&'static Entry>,
}

/// The service and RPC method a request addresses, as far as the API can tell.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Classified {
    /// The service (`system`).
    pub service: Option<String>,
    /// The RPC method (`getPowerStatus`).
    pub method: Option<String>,
    /// The device the path names, for an API whose one server fronts many devices (a ThinQ
    /// appliance in `/devices/{id}/state`); rules and the journal then see that device
    /// rather than the server's.
    pub device: Option<String>,
}

/// One vendor API as the fault layer needs it: its codes, its encoder, its decoder.
///
/// Each vendor's emulator has its own (`bravia::BraviaCodec`, `thinq::ThinqCodec`);
/// [`crate::server::codecs`] registers them.
pub trait ApiCodec: Send + Sync + fmt::Debug {
    /// The API id (`bravia`, `thinq`).
    fn api(&self) -> &'static str;

    /// Checks a code written in a rule (and the optional message choosing among rows); the
    /// error says what is accepted and where to find the codes.
    fn resolve(&self, code: &Value, message: Option<&str>) -> Result<ResolvedCode, String>;

    /// The response a device of this API sends for `code`, given the request's body (for ids
    /// to echo).
    fn error_response(&self, code: &ResolvedCode, request_body: &[u8]) -> Response;

    /// [`ApiCodec::error_response`] given the request's headers too, for an API that echoes
    /// one of them (ThinQ's `x-message-id`). The fault layer calls this one.
    fn error_response_to(
        &self,
        code: &ResolvedCode,
        request_headers: &HeaderMap,
        request_body: &[u8],
    ) -> Response {
        let _ = request_headers;
        self.error_response(code, request_body)
    }

    /// The response to a request whose body did not come whole in time (its headers, for an
    /// envelope that echoes one, such as ThinQ's `x-message-id`).
    fn body_timeout(&self, _request_headers: &HeaderMap) -> Response {
        json_error(StatusCode::REQUEST_TIMEOUT, "the request body came too slowly")
    }

    /// The service and RPC method of a request.
    fn classify(&self, path: &str, body: &[u8]) -> Classified;

    /// The device a request path names, for an API whose one server fronts many devices (the
    /// [`Classified::device`] of [`ApiCodec::classify`], without reading the body). The
    /// journal files a request under it when no rule needed the request classified.
    fn device_in_path(&self, _path: &str) -> Option<String> {
        None
    }

    /// [`ApiCodec::classify`] of a request on its way to the device: a codec may leave what
    /// it worked out in `extensions` for the device's router, so that the request is routed
    /// once (ThinQ's codec leaves the endpoint its path is on).
    fn classify_request(&self, path: &str, body: &[u8], extensions: &mut Extensions) -> Classified {
        let _ = extensions;
        self.classify(path, body)
    }

    /// [`ApiCodec::device_in_path`] of a request on its way to the device, likewise.
    fn device_in_request(&self, path: &str, extensions: &mut Extensions) -> Option<String> {
        let _ = extensions;
        self.device_in_path(path)
    }

    /// What the vendor decoder reads in a response: its code (none for a success) and the
    /// rules of the API it breaks.
    fn decode(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Decoded;
}

/// What a vendor decoder reads in a response.
#[derive(Clone, Default, PartialEq, Eq, Debug, Serialize)]
pub struct Decoded {
    /// The code it carries; `None` for a success or a response without a code.
    pub code: Option<DecodedCode>,
    /// The rules of the API it breaks, by id.
    pub violations: Vec<String>,
}

impl Decoded {
    /// What the journal records of a vendor's [`Reading`]: every codec calls this, so the
    /// journals of two APIs cannot read the same kind of response differently.
    ///
    /// The code is the one written on the wire; when the body wrote none, it is the code of the
    /// registry row the response stands for, as the vendor's wire module decides (a BRAVIA 401
    /// with no body stands for row 401; a ThinQ reply without `error` stands for no row). The
    /// reason is that row's.
    pub fn from_reading(reading: &Reading) -> Decoded {
        let code = reading.code_or_entry().map(|(code, entry)| DecodedCode {
            code,
            reason: entry.map(|entry| entry.reason.clone()),
        });
        Decoded { code, violations: reading.violations().map(str::to_owned).collect() }
    }
}

/// The code a vendor decoder reads in a response.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct DecodedCode {
    /// The code as written on the wire (`40801`, `1101`).
    pub code: String,
    /// The registry's reason for it, when the registry has the code.
    pub reason: Option<String>,
}

/// `{"error": message}` with a status: how the emulator itself (not a vendor API) speaks.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}
