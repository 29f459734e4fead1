//! The HTTP side: routes, limits (413, 414, 503), the restart window, unreachable power,
//! JSON-RPC dispatch from the method table, and IRCC.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONNECTION, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use devfault_bravia::Code;
use devfault_bravia::wire::{
    ErrorResponse, MAX_REQUEST_ID, encode_results, encode_success, validate_request,
};
use devfault_core::Entry;

use super::auth::{self, Level};
use super::methods::{self, Answer, Call, Standby};
use super::{IrccPath, Power, StandbyReply, VirtualDisplay, ircc, screen};
use crate::body::{Ended, Excess, collect, declared_length};

/// The display's HTTP server: `/sony/{service}`, `/sony/ircc`, `/sony/IRCC`, and 404 for
/// everything else, with the display's limits. Free of fault injection and journaling.
///
/// One handler does the checks, the concurrency limit and the routing by hand: as a route
/// table under a middleware and three tower layers, they cost about a tenth of the
/// emulator's CPU per request, for a choice among three paths.
pub fn router(display: Arc<VirtualDisplay>) -> Router {
    let limit = display.config.max_concurrent_requests.max(1);
    Router::new().fallback(front).with_state(Arc::new(Front {
        display,
        busy: AtomicUsize::new(0),
        limit,
    }))
}

/// What the handler shares: the display and how many requests it is processing (the
/// concurrency limit counts this router's requests, as a `GlobalConcurrencyLimitLayer`
/// per router did).
#[derive(Debug)]
struct Front {
    display: Arc<VirtualDisplay>,
    busy: AtomicUsize,
    limit: usize,
}

/// A request counted against the concurrency limit until it is answered or dropped.
struct Busy<'f>(&'f AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every request, in order: an unreachable display holds it, a restarting web service
/// answers 404, a long URI 414, a request over the concurrency limit 503 at once; then the
/// path picks IRCC, a service, or 404.
async fn front(State(front): State<Arc<Front>>, request: Request) -> Response {
    let display = &*front.display;
    if !display.is_reachable() {
        let deadline = Instant::now() + display.config.unreachable_hold;
        while !display.is_reachable() {
            if Instant::now() >= deadline {
                let mut response = display.http_error(Code::SERVICE_UNAVAILABLE.entry(), None);
                response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                return response;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let rest = request.uri().path().strip_prefix("/sony/");
    if rest.is_some() && display.restart_remaining().is_some() {
        return display.http_error(Code::NOT_FOUND.entry(), None);
    }
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > display.config.max_uri_bytes {
        return display.http_error(Code::REQUEST_URI_TOO_LONG.entry(), None);
    }
    if front.busy.fetch_add(1, Ordering::AcqRel) >= front.limit {
        front.busy.fetch_sub(1, Ordering::AcqRel);
        return display.http_error(Code::SERVICE_UNAVAILABLE.entry(), None);
    }
    let _busy = Busy(&front.busy);
    match rest {
        Some("ircc") => {
            let answers = display.config.quirks.ircc_path != IrccPath::UpperOnly;
            ircc(display, request, answers).await
        }
        Some("IRCC") => {
            let answers = display.config.quirks.ircc_path != IrccPath::LowerOnly;
            ircc(display, request, answers).await
        }
        // `/sony/{service}`: one non-empty segment.
        Some(service) if !service.is_empty() && !service.contains('/') => {
            let service = service.to_owned();
            rpc(display, &service, request).await
        }
        _ => display.http_error(Code::NOT_FOUND.entry(), None),
    }
}

/// `POST /sony/{service}`.
async fn rpc(display: &VirtualDisplay, service: &str, request: Request) -> Response {
    if request.method() != HttpMethod::POST {
        return display.http_error(Code::NOT_IMPLEMENTED.entry(), None);
    }
    if !methods::services().contains(&service) {
        return display.http_error(Code::NOT_FOUND.entry(), None);
    }
    let (parts, body) = request.into_parts();
    match read_body(display, &parts.headers, body).await {
        Ok(bytes) => dispatch(display, service, &parts.headers, &bytes).await,
        Err(response) => response,
    }
}

/// Reads a body of at most `max_body_bytes` within `body_timeout`: 413, `[2, "Timeout"]` or
/// `[5, "Illegal Request"]` (the connection broke) otherwise. Past the limit the display goes
/// on reading and discarding for a while ([`Excess::Linger`]), as web servers do.
async fn read_body(
    display: &VirtualDisplay,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, Response> {
    let max = display.config.max_body_bytes;
    if declared_length(headers).is_some_and(|length| length > max as u64) {
        return Err(display.http_error(Code::REQUEST_ENTITY_TOO_LARGE.entry(), None));
    }
    let deadline = tokio::time::Instant::now() + display.config.body_timeout;
    let read = collect(body, max, Some(deadline), Excess::Linger).await;
    match read.ended {
        Ended::Complete => Ok(read.bytes),
        Ended::TooLarge => Err(display.http_error(Code::REQUEST_ENTITY_TOO_LARGE.entry(), None)),
        Ended::Timeout => Err(display.error(Code::TIMEOUT.entry(), None)),
        Ended::Broken => Err(display.error(Code::ILLEGAL_REQUEST.entry(), None)),
    }
}

/// The id of a body that failed the code-5 checks, when it has a usable one.
fn salvage_id(body: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("id")?.as_u64().filter(|id| (1..=MAX_REQUEST_ID).contains(id))
}

/// One JSON-RPC request, in the order a display checks it: shape (5), method (12), version
/// (14), credentials (403), power (7 or 40005), duplicate (40003), then the handler.
async fn dispatch(
    display: &VirtualDisplay,
    service: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let request = match validate_request(body) {
        Ok(request) => request,
        Err(error) => return display.error(error.code().entry(), salvage_id(body)),
    };
    let id = Some(request.id);
    let Some(method) = methods::find(service, &request.method) else {
        return display.error(Code::NO_SUCH_METHOD.entry(), id);
    };
    let Some(level) = method.level(&request.version) else {
        return display.error(Code::UNSUPPORTED_VERSION.entry(), id);
    };
    let credentials = display.credentials(headers);
    if !auth::allows(display.config.auth, &credentials, level) {
        return display.http_error(Code::FORBIDDEN.entry(), id);
    }
    if display.power() != Power::Active {
        match method.standby {
            Standby::Answers => {}
            Standby::Refused => return display.error(display.standby_entry(), id),
            Standby::NotPowerOn => return display.error(not_power_on(), id),
        }
    }
    let Some(_processing) = display.begin(duplicate_key(service, &request)) else {
        return display.error(Code::REQUEST_DUPLICATED.entry(), id);
    };
    let call = Call {
        service,
        version: &request.version,
        params: &request.params,
        credentials: &credentials,
    };
    let mut answer = methods::run(display, method, &call);
    loop {
        match answer {
            Answer::Later { wait, then } => {
                tokio::time::sleep(wait).await;
                answer = *then;
            }
            Answer::ScreenWatch { known, until } => {
                answer = watch_screen(display, known, until).await;
            }
            Answer::Result(result) => return success(encode_success(&result, request.id)),
            Answer::Results(results) => return success(encode_results(&results, request.id)),
            Answer::Error(entry) => return display.error(entry, id),
            Answer::Registered { token } => {
                let mut response = success(encode_success(&[], request.id));
                // Rounded up: Max-Age is whole seconds, and 0 would tell the client to drop a
                // cookie the display still honours (pybravia did exactly that at 500 ms).
                let max_age = display.config.cookie_max_age.as_millis().div_ceil(1000);
                let cookie = format!("auth={token}; Path=/sony/; Max-Age={max_age}");
                if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().insert(SET_COOKIE, cookie);
                }
                return response;
            }
        }
    }
}

/// `requestToNotifyScreenState`'s long poll: looks at the layout every
/// [`screen::WATCH_STEP`] until it differs from `known` (the current layout) or `until` (40000
/// "Request Retry"). More than [`screen::MAX_WATCHERS`] held at once: 40001 at once.
async fn watch_screen(
    display: &VirtualDisplay,
    known: serde_json::Map<String, serde_json::Value>,
    until: Instant,
) -> Answer {
    let Some(_held) = display.watch() else {
        return Answer::Error(Code::CLIENT_OVER_MAXIMUM.entry());
    };
    loop {
        let current = display.lock_state().screen.notification();
        if screen::differs(&known, &current) {
            return Answer::Result(vec![current]);
        }
        let now = Instant::now();
        if now >= until {
            return Answer::Error(Code::REQUEST_RETRY.entry());
        }
        tokio::time::sleep(screen::WATCH_STEP.min(until - now)).await;
    }
}

/// What makes two requests identical for 40003: service, method, version, params (compact
/// JSON), id, one per line. Written in place with serde_json's writer: a `format!`, or even
/// `Display` through `fmt::Write`, cost several times more.
fn duplicate_key(service: &str, request: &devfault_bravia::wire::Request) -> Vec<u8> {
    use std::io::Write;
    let mut key = Vec::with_capacity(64);
    for part in [service, &request.method, &request.version] {
        key.extend_from_slice(part.as_bytes());
        key.push(b'\n');
    }
    // A slice of `Value`s always serializes and a Vec never fails a write.
    let _ = serde_json::to_writer(&mut key, &request.params);
    let _ = write!(key, "\n{}", request.id);
    key
}

/// `[7, "not power-on"]`, the row real displays send in standby.
fn not_power_on() -> &'static Entry {
    methods::observed(Code::ILLEGAL_STATE, "not power-on")
}

fn success((_, body): (devfault_core::HttpStatus, Vec<u8>)) -> Response {
    (StatusCode::OK, [(CONTENT_TYPE, "application/json")], body).into_response()
}

impl VirtualDisplay {
    /// The answer of a registry row: JSON-RPC rows with 200 and their body, HTTP-layer rows
    /// through [`VirtualDisplay::http_error`].
    pub(crate) fn error(&self, entry: &'static Entry, id: Option<u64>) -> Response {
        if entry.http_status.is_success() {
            ErrorResponse { entry, id }.into_response()
        } else {
            self.http_error(entry, id)
        }
    }

    /// An HTTP-layer error: the row's status with the protocol body, or bare per
    /// [`Quirks::http_error_body`](super::Quirks::http_error_body).
    pub(crate) fn http_error(&self, entry: &'static Entry, id: Option<u64>) -> Response {
        if self.config.quirks.http_error_body {
            ErrorResponse { entry, id }.into_response()
        } else {
            bare(entry)
        }
    }

    /// The row methods answer in standby, per the quirk.
    fn standby_entry(&self) -> &'static Entry {
        match self.config.quirks.standby_error {
            StandbyReply::NotPowerOn => not_power_on(),
            StandbyReply::DisplayOff => Code::DISPLAY_IS_TURNED_OFF.entry(),
        }
    }
}

/// The row's status and no body.
fn bare(entry: &'static Entry) -> Response {
    StatusCode::from_u16(entry.http_status.as_u16())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// IRCC
// ---------------------------------------------------------------------------------------------

/// `POST /sony/ircc`: SOAP `X_SendIRCC`. Generic auth level; a refused credential is a bare
/// 403, an unknown code HTTP 500 with UPnPError 800.
async fn ircc(display: &VirtualDisplay, request: Request, answers: bool) -> Response {
    if !answers {
        return display.http_error(Code::NOT_FOUND.entry(), None);
    }
    if request.method() != HttpMethod::POST {
        return display.http_error(Code::NOT_IMPLEMENTED.entry(), None);
    }
    let (parts, body) = request.into_parts();
    let body = match read_body(display, &parts.headers, body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let credentials = display.credentials(&parts.headers);
    if !auth::allows(display.config.auth, &credentials, Level::Generic) {
        return bare(Code::FORBIDDEN.entry());
    }
    let (status, body) = match ircc::parse(&body) {
        ircc::Command::Empty => (StatusCode::OK, ircc::OK_BODY.to_owned()),
        ircc::Command::Known(name) => {
            ircc::press(&mut display.lock_state(), name);
            (StatusCode::OK, ircc::OK_BODY.to_owned())
        }
        ircc::Command::Unknown => (
            StatusCode::INTERNAL_SERVER_ERROR,
            ircc::fault_body(800, "Cannot accept the IRCC Code"),
        ),
        ircc::Command::InvalidAction => {
            (StatusCode::INTERNAL_SERVER_ERROR, ircc::fault_body(401, "Invalid Action"))
        }
    };
    (status, [(CONTENT_TYPE, "text/xml; charset=\"utf-8\"")], body).into_response()
}
