//! The layer around a device's router: it reads each request, asks the rule set whether a rule
//! fires, answers as the rule says or lets the device answer, and records the exchange in the
//! journal.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::listener::ConnectionControl;
use super::rules::{Action, RequestInfo, add_headers};
use super::set::Faults;
use crate::body::{Ended, Excess, collect, declared_length};
use crate::codec::{ApiCodec, Classified, json_error};
use crate::device::Device;
use crate::journal::{Delivery, FiredRule, Journal, RawEntry, RawRequest, RawResponse};

/// The largest device response the layer buffers for the journal (16 MiB).
const RESPONSE_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
struct LayerState {
    device: Arc<dyn Device>,
    /// The device's id and codec, looked up once rather than per request.
    device_id: Arc<str>,
    codec: Option<Arc<dyn ApiCodec>>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
    limits: BodyLimits,
}

impl LayerState {
    /// The device a request addresses: the one its path names (a ThinQ appliance, from the
    /// classification when there is one, else from the path alone), else the server's own.
    fn device_of(
        &self,
        path: &str,
        classified: Option<&Classified>,
        extensions: &mut Extensions,
    ) -> Arc<str> {
        let named = match classified {
            Some(classified) => classified.device.as_deref().map(Arc::from),
            None => {
                let codec = self.codec.as_ref();
                codec.and_then(|codec| codec.device_in_request(path, extensions)).map(Arc::from)
            }
        };
        named.unwrap_or_else(|| Arc::clone(&self.device_id))
    }
}

/// Wraps a device's router with the fault rules and the journal: each request is read
/// (within [`BodyLimits::default`]), matched against the rules, answered by the first rule
/// that fires or else by `router`, and recorded.
pub fn with_faults(
    router: Router,
    device: Arc<dyn Device>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
) -> Router {
    with_faults_and_limits(router, device, faults, journal, BodyLimits::default())
}

/// [`with_faults`] for a device whose body limits are not the defaults.
pub fn with_faults_and_limits(
    router: Router,
    device: Arc<dyn Device>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
    limits: BodyLimits,
) -> Router {
    let device_id = Arc::from(device.id());
    let codec = faults.codec(device.api()).cloned();
    let state = LayerState { device, device_id, codec, faults, journal, limits };
    router.layer(middleware::from_fn_with_state(state, intercept))
}

/// What the journal will say about one exchange, gathered as it goes.
struct Exchange<'a> {
    state: &'a LayerState,
    /// The device the request addresses (see [`Classified::device`]).
    device: Arc<str>,
    time: SystemTime,
    started: Instant,
    /// Taken when the exchange is recorded (once).
    request: Option<RawRequest>,
    fired: Option<FiredRule>,
}

impl Exchange<'_> {
    fn record(&mut self, outcome: Delivery, response: Option<RawResponse>) {
        let Some(request) = self.request.take() else { return };
        self.state.journal.record_raw(RawEntry {
            time: self.time,
            device: Arc::clone(&self.device),
            api: self.state.device.api(),
            codec: self.state.codec.clone(),
            request,
            outcome,
            response,
            fault: self.fired,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }

    /// Reads the response's body, records the exchange and gives the response back.
    async fn answered(mut self, response: Response) -> Response {
        let (mut parts, body) = response.into_parts();
        let body = match to_bytes(body, RESPONSE_LIMIT).await {
            Ok(body) => body,
            Err(error) => {
                parts.status = StatusCode::INTERNAL_SERVER_ERROR;
                parts.headers.clear();
                parts
                    .headers
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                let message = format!("the device's response could not be read: {error}");
                Bytes::from(serde_json::json!({ "error": message }).to_string())
            }
        };
        let recorded = RawResponse::new(
            parts.status.as_u16(),
            &parts.headers,
            &body,
            self.state.codec.as_ref(),
        );
        self.record(Delivery::Answered, Some(recorded));
        Response::from_parts(parts, Body::from(body))
    }

    /// Resets the connection (or, without a connection handle, says why it cannot).
    async fn reset(mut self, connection: Option<ConnectionControl>, outcome: Delivery) -> Response {
        match connection {
            Some(connection) => {
                if outcome == Delivery::Reset {
                    self.record(Delivery::Reset, None);
                }
                connection.abort();
                // Never sent: the aborted connection fails the write of this response.
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
            None => {
                let response = json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "a reset or no_answer fault needs a connection accepted by devfault_emulator::faults::FaultListener (as devfault serve does); this request came another way",
                );
                self.answered(response).await
            }
        }
    }
}

async fn intercept(State(state): State<LayerState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let time = SystemTime::now();
    let connection =
        request.extensions().get::<ConnectInfo<ConnectionControl>>().map(|info| info.0.clone());
    let (mut parts, body) = request.into_parts();
    let target = parts.uri.path_and_query().map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    let path = parts.uri.path();
    let codec = state.codec.as_ref();
    let method = &parts.method;

    let (bytes, unread, declared) = match read_body(&parts.headers, body, state.limits).await {
        Read::Whole(bytes) => (bytes, None, None),
        Read::Unread(body, declared) => (Bytes::new(), Some(body), Some(declared)),
        Read::Late(bytes) => {
            // Not classified: the device never saw this request.
            let classified = Some(Classified::default());
            let request =
                RawRequest::new(method, target, path, &parts.headers, &bytes, classified, codec);
            let device = state.device_of(path, None, &mut parts.extensions);
            let exchange = Exchange {
                state: &state,
                device,
                time,
                started,
                request: Some(request),
                fired: None,
            };
            let response = match codec {
                Some(codec) => codec.body_timeout(&parts.headers),
                None => json_error(StatusCode::REQUEST_TIMEOUT, "the request body came too slowly"),
            };
            return exchange.answered(response).await;
        }
    };
    // What the device reads: the bytes read here, or the body left unread for it to refuse.
    let device_request = {
        let bytes = bytes.clone();
        move |parts| Request::from_parts(parts, unread.unwrap_or_else(|| Body::from(bytes)))
    };

    // Without rules nothing needs the request classified now: the journal does it when read.
    let (rule, classified, device) = if state.faults.has_rules() {
        let classified = codec
            .map(|codec| codec.classify_request(path, &bytes, &mut parts.extensions))
            .unwrap_or_default();
        let device = state.device_of(path, Some(&classified), &mut parts.extensions);
        let info = RequestInfo {
            api: state.device.api().to_owned(),
            device: device.as_ref().to_owned(),
            http_method: method.as_str().to_owned(),
            path: path.to_owned(),
            service: classified.service.clone(),
            method: classified.method.clone(),
        };
        (state.faults.decide(&info), Some(classified), device)
    } else {
        (None, None, state.device_of(path, None, &mut parts.extensions))
    };
    let mut recorded =
        RawRequest::new(method, target, path, &parts.headers, &bytes, classified, codec);
    if let Some(declared) = declared {
        recorded.set_body_bytes(usize::try_from(declared).unwrap_or(usize::MAX));
    }
    let mut exchange = Exchange {
        state: &state,
        device,
        time,
        started,
        request: Some(recorded),
        fired: rule
            .as_ref()
            .map(|rule| FiredRule { rule: rule.id, action: rule.spec.action.as_str() }),
    };
    let Some(rule) = rule else {
        let response = next.run(device_request(parts)).await;
        return exchange.answered(response).await;
    };

    if let Some(delay) = rule.spec.delay_ms {
        state.faults.hold(Duration::from_millis(delay)).await;
    }
    match &rule.action {
        Action::Code(code, headers) => {
            let mut response = match codec {
                Some(codec) => codec.error_response_to(code, &parts.headers, &bytes),
                None => json_error(StatusCode::NOT_IMPLEMENTED, "no codec for this API"),
            };
            add_headers(&mut response, headers);
            exchange.answered(response).await
        }
        Action::Status(canned) | Action::NonJsonBody(canned) => {
            exchange.answered(canned.response()).await
        }
        Action::Delay => {
            let response = next.run(device_request(parts)).await;
            exchange.answered(response).await
        }
        Action::MalformedBody(status, headers) => {
            let response = next.run(device_request(parts)).await;
            let (mut head, inner) = response.into_parts();
            let inner = to_bytes(inner, RESPONSE_LIMIT).await.unwrap_or_default();
            let truncated = truncate_json(&inner);
            head.headers.remove(header::CONTENT_LENGTH);
            head.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if let Some(status) = status {
                head.status = *status;
            }
            let mut response = Response::from_parts(head, Body::from(truncated));
            add_headers(&mut response, headers);
            exchange.answered(response).await
        }
        Action::Reset => exchange.reset(connection, Delivery::Reset).await,
        Action::NoAnswer => {
            if connection.is_none() {
                return exchange.reset(None, Delivery::NoAnswer).await;
            }
            // Recorded now: a client that gives up drops this future before the hold ends.
            exchange.record(Delivery::NoAnswer, None);
            state.faults.hold(state.faults.max_hold()).await;
            exchange.reset(connection, Delivery::NoAnswer).await
        }
    }
}

/// How much of a request body the layer reads, and for how long it waits for it: the
/// device's own limits, so that the device still answers a body over its limit (the layer
/// hands it what it read, or leaves a body declared too large unread) and the layer answers
/// a body that comes too slowly as the device would.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BodyLimits {
    /// The device's largest request body.
    pub max_bytes: usize,
    /// How long the device waits for a request body.
    pub timeout: Duration,
}

impl Default for BodyLimits {
    /// 1 MiB and 10 s, a BRAVIA display's defaults.
    fn default() -> BodyLimits {
        BodyLimits { max_bytes: 1024 * 1024, timeout: Duration::from_secs(10) }
    }
}

/// A request body as the layer read it.
enum Read {
    /// All of it; or, when it broke or passed the limit, what came until then.
    Whole(Bytes),
    /// Declared (Content-Length) larger than the limit: left for the device to refuse.
    Unread(Body, u64),
    /// Not whole by the deadline: what had come.
    Late(Bytes),
}

async fn read_body(headers: &HeaderMap, body: Body, limits: BodyLimits) -> Read {
    if let Some(declared) = declared_length(headers)
        && declared > limits.max_bytes as u64
    {
        return Read::Unread(body, declared);
    }
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let read = collect(body, limits.max_bytes, Some(deadline), Excess::Keep).await;
    match read.ended {
        Ended::Timeout => Read::Late(Bytes::from(read.bytes)),
        Ended::Complete | Ended::TooLarge | Ended::Broken => Read::Whole(Bytes::from(read.bytes)),
    }
}

/// The first half of a body, so it is no longer whole JSON; a fixed fragment when the body is
/// too short to cut.
pub(crate) fn truncate_json(body: &[u8]) -> Bytes {
    const FRAGMENT: &[u8] = br#"{"result":[{"status":"#;
    if body.len() < 4 {
        return Bytes::from_static(FRAGMENT);
    }
    let mut cut = body.len() / 2;
    // Cut on a character boundary, so the body is truncated JSON, not invalid UTF-8.
    while cut > 1 && (body[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    Bytes::copy_from_slice(&body[..cut])
}
