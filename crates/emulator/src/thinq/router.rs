//! The cloud's HTTP side: one handler routes by devfault-thinq's [`Endpoint`] table, checks the headers as LG's
//! spec and the SDK's traffic say, counts the call against the token's hourly budget, and
//! answers in the envelope: `{"messageId","timestamp","response"}` with 200, or
//! `{"messageId","timestamp","error":{"message","code"}}` with the registry's status. Every
//! reply is `application/json`, never 204 or empty; `messageId` echoes a valid
//! `x-message-id` (a missing or malformed one gets a fresh id, since echoing it would break
//! the envelope's own grammar). A refusal also says why, naming the bad value, in the
//! `x-devfault-reason` header.
//!
//! Order of checks: path (unknown → 1000, known path with another method → 1305), then
//! `x-message-id` (1101/1104), `x-api-key` (1101/1216), `x-service-key` (1301: a partner-API
//! key has no place here), `x-service-phase` (1216 unless OP, QA or ST), `x-country`
//! (1101/1307), a real `Host` (`api-{kic,aic,eic}[-qa|-st].lgthinq.com`: another region of
//! lgthinq.com → 1310, a region not the country's → 1307), then, on every endpoint but
//! `/route`, `Authorization` (1101, grammar 1103, nobody's 1218, expired 1302, deleted user
//! 1303, terms 1304) and `x-client-id` (1101, 1216 when longer than 128 or not visible ASCII),
//! then the rate limit (1314 or 1306), then the endpoint.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use devfault_thinq::Code;
use devfault_thinq::endpoint::{Endpoint, PathRoute, RouteMiss, Routed, route_path};
use devfault_thinq::region::{Host, Region};
use devfault_thinq::wire::{
    ErrorResponse, check_message_id, encode_success, encode_success_raw, format_timestamp,
    message_id_from_uuid,
};
use serde_json::{Value, json};

use super::{API_KEY, Appliance, Cloud, Refusal, StateDoc};
use crate::body::{Ended, Excess, collect, declared_length};

/// The cloud's own request headers (standard ones are `header::*`), named once: a lookup by
/// `HeaderName` skips parsing and lower-casing the name, and every request makes eight.
static X_MESSAGE_ID: HeaderName = HeaderName::from_static("x-message-id");
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
static X_SERVICE_KEY: HeaderName = HeaderName::from_static("x-service-key");
static X_SERVICE_PHASE: HeaderName = HeaderName::from_static("x-service-phase");
static X_COUNTRY: HeaderName = HeaderName::from_static("x-country");
static X_CLIENT_ID: HeaderName = HeaderName::from_static("x-client-id");
static X_DEVFAULT_REASON: HeaderName = HeaderName::from_static("x-devfault-reason");

/// The service phases of the JS SDK; the Python SDK always sends `OP`.
const PHASES: &[&str] = &["OP", "QA", "ST"];

/// The cloud's router: every path goes to one handler, so that nothing (an unknown path, a
/// wrong method, a body axum would refuse) is answered outside the envelope.
pub fn router(cloud: Arc<Cloud>) -> Router {
    Router::new().fallback(handle).with_state(cloud)
}

/// The routing of a request by whoever routed it first (the ThinQ codec, in the fault
/// layer), left in the request's extensions so that the cloud does not route it again: the
/// first endpoint on its path, `None` for a path of no endpoint.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Routing(pub(crate) Option<Endpoint>);

/// The endpoint a request addresses and the device id in its path, resumed from `routing`
/// when the request was routed already.
pub(crate) fn route<'p>(
    method: &str,
    path: &'p str,
    routing: Option<&Routing>,
) -> Result<Routed<'p>, Refusal> {
    let on_path = match routing {
        Some(Routing(first)) => first.and_then(|first| PathRoute::resume(first, path)),
        None => route_path(path),
    };
    let miss = match on_path {
        Some(on_path) => match on_path.with_method(method) {
            Ok(routed) => return Ok(routed),
            Err(miss) => miss,
        },
        None => RouteMiss::UnknownPath,
    };
    Err(match miss {
        RouteMiss::Method { allowed } => {
            let allowed: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            Refusal::new(
                Code::NOT_ALLOWED_API,
                format!("{method} {path} is not an API call; {path} takes {}", allowed.join(", ")),
            )
        }
        RouteMiss::UnknownPath => Refusal::new(
            Code::BAD_REQUEST,
            format!(
                "{method} {path} is no endpoint of the ThinQ Connect API (GET /devices, GET /route...)"
            ),
        ),
    })
}

/// A fresh message id: a random UUID v4 written as the SDK writes one.
fn fresh_message_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    for (half, chunk) in bytes.chunks_exact_mut(8).enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(n);
        hasher.write_usize(half);
        chunk.copy_from_slice(&hasher.finish().to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    message_id_from_uuid(bytes)
}

/// The `messageId` of the reply to a request with these headers: its `x-message-id` when
/// valid (borrowed, not copied), else a fresh one.
pub(crate) fn reply_message_id(headers: &HeaderMap) -> Cow<'_, str> {
    headers
        .get(&X_MESSAGE_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| check_message_id(id).is_ok())
        .map_or_else(|| Cow::Owned(fresh_message_id()), Cow::Borrowed)
}

/// The body the cloud answers a connection past the listener's cap with (see
/// [`crate::connections::Refusal`]): LG's envelope, code 2000 Internal Server Error, a fresh
/// message id, since no request was read.
pub(crate) fn overload_body() -> Vec<u8> {
    let timestamp = format_timestamp(SystemTime::now());
    let entry = Code::INTERNAL_SERVER_ERROR.entry();
    // 2000 has no placeholder and the timestamp is format_timestamp's: encoding cannot fail.
    devfault_thinq::wire::encode_error(entry, None, &fresh_message_id(), &timestamp)
        .map(|(_, body)| body)
        .unwrap_or_default()
}

/// Refuses a new client id past [`super::MAX_CLIENTS_PER_USER`] (one already there is fine).
/// LG documents no code for such a cap; the cloud answers 1306 "Exceeded API calls" (401),
/// LG's code for a quota exceeded.
fn room_for_a_client(
    clients: &std::collections::BTreeSet<String>,
    client: &str,
    what: &str,
) -> Result<(), Refusal> {
    if clients.len() >= super::MAX_CLIENTS_PER_USER && !clients.contains(client) {
        return Err(Refusal::new(
            Code::EXCEEDED_API_CALLS,
            format!(
                "{} clients are {what} for this user already, the most the cloud keeps; delete one first",
                super::MAX_CLIENTS_PER_USER
            ),
        ));
    }
    Ok(())
}

/// A success reply.
fn success(message_id: &str, response: &Payload) -> Response {
    let timestamp = format_timestamp(SystemTime::now());
    let (_, body) = match response {
        Payload::Owned(value) => encode_success(value, message_id, &timestamp),
        Payload::State(doc) => encode_success_raw(doc.json(), message_id, &timestamp),
    };
    let mut reply = body.into_response();
    reply.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// An error reply: status, code and message from the registry row; the detail in
/// `x-devfault-reason`.
pub(crate) fn refuse(message_id: &str, refusal: Refusal) -> Response {
    let entry = match refusal.code.entry_opt() {
        Some(entry) => entry,
        None => Code::UNKNOWN_ERROR.entry(),
    };
    let mut reply = ErrorResponse {
        entry,
        state_or_mode: refusal.state_or_mode,
        message_id: message_id.to_owned(),
    }
    .into_response();
    let reason: String = refusal
        .detail
        .chars()
        .map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' })
        .take(1000)
        .collect();
    if let Ok(value) = HeaderValue::from_str(&reason) {
        reply.headers_mut().insert(X_DEVFAULT_REASON.clone(), value);
    }
    reply
}

/// A success's `response`: built for the request, or an appliance's state, shared with it
/// and written from its JSON text (state reads are the hot path).
enum Payload {
    Owned(Value),
    State(Arc<StateDoc>),
}

/// Where LG's SDK downloads the root CA it trusts for MQTT (`ROOT_CA_REPOSITORY` of
/// `thinqconnect/mqtt_client.py`): the TLS listener answers it with the cloud's CA when the
/// request's `Host` is `www.amazontrust.com`, so a client whose resolver points that host
/// here fetches the right CA without a patch.
pub(crate) const ROOT_CA_PATH: &str = "/repository/AmazonRootCA1.pem";

/// The host the root CA is fetched from.
pub(crate) const ROOT_CA_HOST: &str = "www.amazontrust.com";

async fn handle(State(cloud): State<Arc<Cloud>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.uri.path() == ROOT_CA_PATH
        && text(&parts.headers, &header::HOST)
            .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
            .is_some_and(|h| h.eq_ignore_ascii_case(ROOT_CA_HOST))
        && let Ok(ca) = cloud.hub.ca()
    {
        let mut reply = ca.pem().to_owned().into_response();
        reply
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"));
        return reply;
    }
    let message_id = reply_message_id(&parts.headers);
    let routing = parts.extensions.get::<Routing>();
    match answer(&cloud, &parts.method, &parts.uri, routing, &parts.headers, body).await {
        Ok(response) => success(&message_id, &response),
        Err(refusal) => refuse(&message_id, refusal),
    }
}

/// A header as text; a value that is not visible ASCII counts as malformed, `Some("")`.
fn text<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    headers.get(name).map(|value| value.to_str().unwrap_or(""))
}

fn missing(name: &str, example: &str) -> Refusal {
    Refusal::new(Code::MISSING_PARAMETERS, format!("no {name} header; send e.g. {name}: {example}"))
}

/// The checks every endpoint shares; the user for endpoints with a token.
fn check_headers(
    cloud: &Cloud,
    headers: &HeaderMap,
    needs_token: bool,
) -> Result<Option<u32>, Refusal> {
    let message_id = text(headers, &X_MESSAGE_ID)
        .ok_or_else(|| missing("x-message-id", "fNvdZ1brTn-wWKUlWGoSVw"))?;
    check_message_id(message_id).map_err(|error| {
        Refusal::new(
            Code::INVALID_MESSAGE_ID,
            format!("x-message-id: {error}; send 22 url-safe base64 characters of a UUID v4"),
        )
    })?;
    let key = text(headers, &X_API_KEY).ok_or_else(|| missing("x-api-key", API_KEY))?;
    if key != API_KEY {
        return Err(Refusal::new(
            Code::INCORRECT_HEADER,
            format!("x-api-key {key:?} is not the published key {API_KEY}"),
        ));
    }
    if let Some(service_key) = text(headers, &X_SERVICE_KEY) {
        return Err(Refusal::new(
            Code::INVALID_SERVICE_KEY,
            format!(
                "an x-service-key ({} characters): partner-API service keys are not valid on the personal-token API; drop the header",
                service_key.len()
            ),
        ));
    }
    if let Some(phase) = text(headers, &X_SERVICE_PHASE)
        && !PHASES.contains(&phase)
    {
        return Err(Refusal::new(
            Code::INCORRECT_HEADER,
            format!("x-service-phase {phase:?} is not one of {}", PHASES.join(", ")),
        ));
    }
    let country = text(headers, &X_COUNTRY).ok_or_else(|| missing("x-country", "US"))?;
    let Some(region) = Region::of_code(country) else {
        return Err(Refusal::new(
            Code::NOT_SUPPORTED_COUNTRY,
            format!(
                "x-country {country:?} is in none of the regions KIC, AIC, EIC (e.g. US, DE, KR)"
            ),
        ));
    };
    if let Some(host) = text(headers, &header::HOST) {
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        match Host::parse(name) {
            Host::Foreign => {}
            Host::Lg => {
                return Err(Refusal::new(
                    Code::NOT_SUPPORTED_DOMAIN,
                    format!(
                        "{name} is not an API host; use api-kic, api-aic or api-eic.lgthinq.com"
                    ),
                ));
            }
            Host::Api(host_region) if host_region != region => {
                return Err(Refusal::new(
                    Code::NOT_SUPPORTED_COUNTRY,
                    format!("x-country {country} belongs to api-{region}, not {name}"),
                ));
            }
            Host::Api(_) => {}
        }
    }
    if !needs_token {
        return Ok(None);
    }
    let authorization = text(headers, &header::AUTHORIZATION)
        .ok_or_else(|| missing("Authorization", "Bearer thinqpat-devfault-0000"))?;
    let token = authorization
        .strip_prefix("Bearer ")
        .filter(|token| super::is_token(token))
        .ok_or_else(|| {
            Refusal::new(
                Code::INVALID_TOKEN,
                "Authorization is not \"Bearer \" and 1 to 512 of A-Za-z0-9-._~+/=",
            )
        })?;
    let user = cloud.user_of(token)?;
    let client =
        text(headers, &X_CLIENT_ID).ok_or_else(|| missing("x-client-id", "thinq-open-1"))?;
    if client.is_empty() || client.len() > 128 || !client.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::new(
            Code::INCORRECT_HEADER,
            format!("x-client-id {client:?} is not 1 to 128 visible ASCII characters"),
        ));
    }
    Ok(Some(user))
}

/// Reads the body within the cloud's limit; more (declared or sent) is 1000. A declared
/// length over the limit is refused before reading, so a client that sends only the head is
/// answered at once.
async fn read_body(cloud: &Cloud, headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Refusal> {
    let limit = cloud.config.max_body_bytes;
    if let Some(declared) = declared_length(headers)
        && declared > limit as u64
    {
        return Err(Refusal::new(
            Code::BAD_REQUEST,
            format!(
                "Content-Length {declared} is larger than the {limit} bytes a request may have"
            ),
        ));
    }
    let read = collect(body, limit, None, Excess::Keep).await;
    match read.ended {
        Ended::Complete => Ok(read.bytes),
        Ended::TooLarge | Ended::Timeout | Ended::Broken => Err(Refusal::new(
            Code::BAD_REQUEST,
            format!("the body is larger than {limit} bytes (or broke off)"),
        )),
    }
}

/// The body as JSON: `None` when empty (the SDK's bodyless POSTs and DELETEs), 1000 when
/// not JSON.
fn json_body(bytes: &[u8]) -> Result<Option<Value>, Refusal> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        Refusal::new(Code::BAD_REQUEST, format!("the body is not JSON: {error}"))
    })?;
    // Bodies end up in states that are written out again (GET /state, events).
    devfault_core::untrusted_json::check(&value)
        .map_err(|why| Refusal::new(Code::UNACCEPTABLE_PARAMETERS, why))?;
    Ok(Some(value))
}

async fn answer(
    cloud: &Cloud,
    method: &Method,
    uri: &axum::http::Uri,
    routing: Option<&Routing>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Payload, Refusal> {
    let Routed { endpoint, device: id } = route(method.as_str(), uri.path(), routing)?;
    let user = check_headers(cloud, headers, endpoint != Endpoint::GetRoute)?;
    let Some(user) = user else { return Ok(Payload::Owned(servers(cloud))) };
    cloud.count_call(user)?;
    let bytes = read_body(cloud, headers, body).await?;
    let client = text(headers, &X_CLIENT_ID).unwrap_or("");
    let device = |foreign| cloud.appliance_of(user, id.unwrap_or(""), foreign);
    let appliances = || cloud.owned_by(user).into_iter();
    let owned = match endpoint {
        Endpoint::GetDeviceList => Ok(Value::Array(appliances().map(|a| a.listing()).collect())),
        Endpoint::GetDeviceProfile => Ok(device(Code::NOT_OWNED_DEVICE)?.kind.profile.clone()),
        Endpoint::GetDeviceStatus => {
            let appliance = device(Code::NOT_OWNED_DEVICE)?;
            let live = appliance.lock();
            if !live.online {
                return Err(offline(&appliance));
            }
            return Ok(Payload::State(Arc::clone(&live.state)));
        }
        Endpoint::PostDeviceControl => {
            let appliance = device(Code::NOT_OWNED_DEVICE)?;
            let command = json_body(&bytes)?.ok_or_else(|| {
                Refusal::new(Code::MISSING_PARAMETERS, "the command is missing: send a JSON body")
            })?;
            appliance.control(&command)?;
            super::programme::start_if_running(&appliance, cloud.config.time_scale);
            Ok(json!({}))
        }
        Endpoint::GetPushList => Ok(Value::Array(
            appliances().filter(|a| a.lock().push).map(|a| json!({"deviceId": a.id})).collect(),
        )),
        Endpoint::PostPushSubscribe => {
            let appliance = device(Code::NOT_REGISTERED_DEVICE_BY_USER)?;
            let mut live = appliance.lock();
            if live.push {
                return Err(Refusal::new(
                    Code::ALREADY_SUBSCRIBED_PUSH,
                    format!("push of {} is subscribed already", appliance.id),
                ));
            }
            live.push = true;
            Ok(json!({}))
        }
        Endpoint::DeletePushSubscribe => {
            let appliance = device(Code::NOT_REGISTERED_DEVICE_BY_USER)?;
            let mut live = appliance.lock();
            if !live.push {
                return Err(Refusal::new(
                    Code::NOT_SUBSCRIBED_PUSH,
                    format!("push of {} is not subscribed", appliance.id),
                ));
            }
            live.push = false;
            Ok(json!({}))
        }
        Endpoint::GetEventList => Ok(Value::Array(
            appliances()
                .filter(|a| a.lock().event_active())
                .map(|a| json!({"deviceId": a.id}))
                .collect(),
        )),
        Endpoint::PostEventSubscribe => {
            let appliance = device(Code::NOT_REGISTERED_DEVICE_BY_USER)?;
            let hours = check_expire(json_body(&bytes)?.as_ref())?;
            if !appliance.lock().reportable {
                return Err(Refusal::new(
                    Code::NOT_SUBSCRIBABLE_DEVICE,
                    format!("{} is not reportable (GET /devices: reportable false)", appliance.id),
                ));
            }
            let limit = cloud.event_limit.load(Ordering::Relaxed);
            let held =
                appliances().filter(|a| a.id != appliance.id && a.lock().event_active()).count();
            if held >= limit {
                return Err(Refusal::new(
                    Code::EXCEEDED_NUMBER_OF_EVENT_SUBSCRIPTION,
                    format!(
                        "{held} event subscriptions held, the limit is {limit}; unsubscribe one"
                    ),
                ));
            }
            // Subscribing again renews the subscription, as Home Assistant does every day.
            // The timer runs from now; a timer past what Instant can hold never expires.
            let until = Instant::now().checked_add(Duration::from_secs(hours.saturating_mul(3600)));
            appliance.lock().event = Some(until.unwrap_or_else(far_future));
            Ok(json!({}))
        }
        Endpoint::DeleteEventSubscribe => {
            let appliance = device(Code::NOT_REGISTERED_DEVICE_BY_USER)?;
            let mut live = appliance.lock();
            if !live.event_active() {
                return Err(Refusal::new(
                    Code::NOT_SUBSCRIBED_EVENT,
                    format!("events of {} are not subscribed", appliance.id),
                ));
            }
            live.event = None;
            Ok(json!({}))
        }
        Endpoint::GetPushDevicesList => {
            let clients = cloud.user(user).map(|u| super::lock(&u.clients).push.clone());
            Ok(json!(clients.unwrap_or_default()))
        }
        Endpoint::PostPushDevicesSubscribe | Endpoint::DeletePushDevicesSubscribe => {
            let u = cloud
                .user(user)
                .ok_or_else(|| Refusal::new(Code::NOT_FOUND_USER, "no such user"))?;
            let mut clients = super::lock(&u.clients);
            if endpoint == Endpoint::PostPushDevicesSubscribe {
                room_for_a_client(&clients.push, client, "receiving push")?;
                clients.push.insert(client.to_owned());
                cloud.hub.set_lifecycle(client, true);
            } else if !clients.push.remove(client) {
                return Err(Refusal::new(
                    Code::NOT_SUBSCRIBED_PUSH,
                    format!("client {client:?} does not receive push"),
                ));
            } else {
                cloud.hub.set_lifecycle(client, false);
            }
            Ok(json!({}))
        }
        Endpoint::PostClientRegister | Endpoint::DeleteClientRegister => {
            check_client_body(json_body(&bytes)?.as_ref())?;
            let u = cloud
                .user(user)
                .ok_or_else(|| Refusal::new(Code::NOT_FOUND_USER, "no such user"))?;
            let mut clients = super::lock(&u.clients);
            if endpoint == Endpoint::PostClientRegister {
                room_for_a_client(&clients.registered, client, "registered")?;
                clients.registered.insert(client.to_owned());
                // A client that asked for lifecycle events before registering keeps them.
                cloud.hub.register(user, client, clients.push.contains(client));
            } else if !clients.registered.remove(client) {
                return Err(Refusal::new(
                    Code::NOT_REGISTERED_USER_IN_SERVICE,
                    format!("client {client:?} is not registered (POST /client first)"),
                ));
            } else {
                cloud.hub.unregister(client);
            }
            Ok(json!({}))
        }
        Endpoint::PostClientCertificate => client_certificate(cloud, user, client, &bytes),
        Endpoint::GetDeviceEnergyProfile => {
            let appliance = device(Code::NOT_OWNED_DEVICE)?;
            let property: Vec<&str> =
                if appliance.kind.energy { vec!["energyUsage"] } else { vec![] };
            let result =
                if property.is_empty() { json!({}) } else { json!({"property": property}) };
            Ok(json!({"resultCode": "0000", "result": result}))
        }
        Endpoint::GetDeviceEnergyUsage => {
            let appliance = device(Code::NOT_OWNED_DEVICE)?;
            energy_usage(&appliance, uri.query().unwrap_or(""))
        }
        // Answered above already, as it needs no token.
        Endpoint::GetRoute => Ok(servers(cloud)),
    };
    owned.map(Payload::Owned)
}

/// The `/route` answer: the cloud's own address (only loopback, even when the cloud listens
/// on every interface, `--listen-any`).
fn servers(cloud: &Cloud) -> Value {
    // Only loopback, even when the cloud listens on every interface (`--listen-any`).
    let mut addr = cloud.addr();
    if !addr.ip().is_loopback() {
        let loopback: std::net::IpAddr = match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        };
        addr.set_ip(loopback);
    }
    json!({
        "apiServer": format!("http://{addr}"),
        "mqttServer": mqtt_server(cloud, addr),
        "webSocketServer": format!("ws://{addr}"),
    })
}

/// `POST /client/certificate`: the client must be registered (`POST /client`, else 1209);
/// the CSR (`csr`, flat as the SDK sends it or under `body` as the spec writes it) is signed
/// by the cloud's CA for this client id. A bad CSR (not base64, not a DER request, a key
/// other than RSA >= 2048 or ECDSA P-256/P-384) is 1102. Answers the shape the SDK reads:
/// `{"resultCode":"0000","result":{"certificatePem","subscriptions":[topic]}}`.
fn client_certificate(
    cloud: &Cloud,
    user: u32,
    client: &str,
    bytes: &[u8],
) -> Result<Value, Refusal> {
    let body = json_body(bytes)?;
    let csr = body.as_ref().and_then(|b| b.get("csr").or_else(|| b.get("body")?.get("csr")));
    let csr = match csr {
        None => return Err(Refusal::new(Code::MISSING_PARAMETERS, "no csr in the body")),
        Some(Value::String(csr)) => csr,
        Some(other) => {
            return Err(Refusal::new(
                Code::UNACCEPTABLE_PARAMETERS,
                format!("csr is {other}, not a string"),
            ));
        }
    };
    let registered =
        cloud.user(user).is_some_and(|u| super::lock(&u.clients).registered.contains(client));
    if !registered {
        return Err(Refusal::new(
            Code::NOT_REGISTERED_USER_IN_SERVICE,
            format!("client {client:?} is not registered: POST /client first"),
        ));
    }
    let ca = cloud
        .hub
        .ca()
        .map_err(|error| Refusal::new(Code::INTERNAL_SERVER_ERROR, error.to_string()))?;
    let pem = ca
        .issue_client(client, csr)
        .map_err(|error| Refusal::new(Code::UNACCEPTABLE_PARAMETERS, error.to_string()))?;
    Ok(json!({
        "resultCode": "0000",
        "result": {
            "certificatePem": pem,
            "subscriptions": [super::mqtt::topic_of(client)],
        }
    }))
}

/// An instant far enough ahead to stand for "never" (an event timer too long for `Instant`).
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)).unwrap_or(now)
}

fn offline(appliance: &Appliance) -> Refusal {
    Refusal::new(Code::NOT_CONNECTED_DEVICE, format!("{} is offline", appliance.id))
}

/// `/route`'s `mqttServer`: the broker's address as told (loopback, an IPv6 address in
/// brackets), else port 8883 on the cloud's host.
fn mqtt_server(cloud: &Cloud, api: std::net::SocketAddr) -> String {
    let mut addr = cloud.hub.addr().unwrap_or_else(|| std::net::SocketAddr::new(api.ip(), 8883));
    if !addr.ip().is_loopback() {
        let loopback: std::net::IpAddr = match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        };
        addr.set_ip(loopback);
    }
    // A socket address writes an IPv6 host in brackets (`mqtts://[::1]:8883`).
    format!("mqtts://{addr}")
}

/// The event subscription body: absent (the spec's default, one hour) or
/// `{"expire": {"unit": "HOUR", "timer": N}}` with any positive N (the SDK sends 4464,
/// although the spec says at most 24).
fn check_expire(body: Option<&Value>) -> Result<u64, Refusal> {
    let Some(body) = body else { return Ok(1) };
    let Some(expire) = body.get("expire") else {
        return Err(Refusal::new(
            Code::MISSING_PARAMETERS,
            format!(
                "{body} has no expire: send {{\"expire\": {{\"unit\": \"HOUR\", \"timer\": 24}}}}"
            ),
        ));
    };
    let unit = expire.get("unit");
    if unit.is_some_and(|u| u != "HOUR") {
        return Err(Refusal::new(
            Code::UNACCEPTABLE_PARAMETERS,
            format!("expire.unit is {}, not \"HOUR\"", unit.unwrap_or(&Value::Null)),
        ));
    }
    match expire.get("timer") {
        Some(timer) if timer.as_u64().is_some_and(|t| t >= 1) => Ok(timer.as_u64().unwrap_or(1)),
        timer => Err(Refusal::new(
            Code::UNACCEPTABLE_PARAMETERS,
            format!(
                "expire.timer is {}, not a whole number of hours from 1",
                timer.unwrap_or(&Value::Null)
            ),
        )),
    }
}

/// The `/client` body as the SDK sends it (flat) or as the spec writes it (under `body`):
/// `type` MQTT, `service-code`, `device-type`.
fn check_client_body(body: Option<&Value>) -> Result<(), Refusal> {
    let Some(body) = body else {
        return Err(Refusal::new(
            Code::MISSING_PARAMETERS,
            "send {\"type\": \"MQTT\", \"service-code\": \"SVC202\", \"device-type\": \"607\"}",
        ));
    };
    let fields = body.get("body").filter(|b| b.is_object()).unwrap_or(body);
    for name in ["type", "service-code", "device-type"] {
        match fields.get(name) {
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(Refusal::new(
                    Code::UNACCEPTABLE_PARAMETERS,
                    format!("{name} is {other}, not a string"),
                ));
            }
            None => {
                return Err(Refusal::new(
                    Code::MISSING_PARAMETERS,
                    format!("no {name} in the body"),
                ));
            }
        }
    }
    if fields.get("type").is_some_and(|t| t != "MQTT") {
        return Err(Refusal::new(
            Code::UNACCEPTABLE_PARAMETERS,
            format!("type is {}, not \"MQTT\"", fields["type"]),
        ));
    }
    Ok(())
}

/// `property=energyUsage&period=DAILY|MONTHLY&startDate=..&endDate=..`: one entry per day
/// (YYYYMMDD) or month (YYYYMM), at most 366 days or 36 months, with a usage derived from
/// the device and the date so that repeated reads agree.
fn energy_usage(appliance: &Appliance, query: &str) -> Result<Value, Refusal> {
    if !appliance.kind.energy {
        return Err(Refusal::new(
            Code::NOT_SUPPORTED_FEATURE,
            format!("{} ({}) reports no energy", appliance.id, appliance.kind.device_type),
        ));
    }
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    };
    let need = |name: &str| {
        param(name).ok_or_else(|| {
            Refusal::new(Code::MISSING_PARAMETERS, format!("no {name} in the query"))
        })
    };
    let property = need("property")?;
    if property != "energyUsage" {
        return Err(Refusal::new(
            Code::UNACCEPTABLE_PARAMETERS,
            format!("property {property:?} is not energyUsage"),
        ));
    }
    let period = need("period")?;
    let digits = match period {
        "DAILY" => 8,
        "MONTHLY" => 6,
        other => {
            return Err(Refusal::new(
                Code::UNACCEPTABLE_PARAMETERS,
                format!("period {other:?} is not DAILY or MONTHLY"),
            ));
        }
    };
    let date = |name: &str| -> Result<(u32, u32, u32), Refusal> {
        let value = need(name)?;
        let bad = || {
            Refusal::new(
                Code::UNACCEPTABLE_PARAMETERS,
                format!(
                    "{name} {value:?} is not a {} date",
                    if digits == 8 { "YYYYMMDD" } else { "YYYYMM" }
                ),
            )
        };
        if value.len() != digits || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| value[range].parse::<u32>().map_err(|_| bad());
        let (year, month) = (number(0..4)?, number(4..6)?);
        let day = if digits == 8 { number(6..8)? } else { 1 };
        if !(1..=12).contains(&month) || day == 0 || day > days_in(year, month) {
            return Err(bad());
        }
        Ok((year, month, day))
    };
    let (start, end) = (date("startDate")?, date("endDate")?);
    if start > end {
        return Err(Refusal::new(Code::UNACCEPTABLE_PARAMETERS, "startDate is after endDate"));
    }
    let mut list = Vec::new();
    let mut at = start;
    while at <= end && list.len() < if digits == 8 { 366 } else { 36 } {
        let seed = appliance.id.bytes().fold(at.0 * 400 + at.1 * 31 + at.2, |h, b| {
            h.wrapping_mul(31).wrapping_add(u32::from(b))
        });
        let usage = f64::from(seed % 2000) / 100.0 * if digits == 8 { 1.0 } else { 30.0 };
        let used = if digits == 8 {
            format!("{:04}{:02}{:02}", at.0, at.1, at.2)
        } else {
            format!("{:04}{:02}", at.0, at.1)
        };
        list.push(json!({"energyUsage": (usage * 100.0).round() / 100.0, "usedDate": used}));
        at = if digits == 8 { next_day(at) } else { next_month(at) };
    }
    Ok(json!({"resultCode": "0000", "result": {"dataList": list, "property": ["energyUsage"]}}))
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn next_day((year, month, day): (u32, u32, u32)) -> (u32, u32, u32) {
    if day < days_in(year, month) { (year, month, day + 1) } else { next_month((year, month, 1)) }
}

fn next_month((year, month, _): (u32, u32, u32)) -> (u32, u32, u32) {
    if month < 12 { (year, month + 1, 1) } else { (year + 1, 1, 1) }
}
