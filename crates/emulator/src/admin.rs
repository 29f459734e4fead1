//! The admin API: JSON over HTTP on the admin port, to see and change the virtual devices,
//! their fault rules and the request journal.
//!
//! Every answer is JSON; every error is `{"error": "..."}` with 400 (a bad value, named) or
//! 404 (no such device, rule or endpoint, with what exists). [`ENDPOINTS`] is the one list of
//! endpoints: the router is built from it, `GET /` serves it, and a test holds the README's
//! table to it.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::dashboard::{self, Explainer};
use crate::device::Device;
use crate::faults::{Faults, RuleSpec, json_error};
use crate::journal::{Journal, JournalQuery};
use crate::thinq;

/// One endpoint of the admin API.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    /// The HTTP method.
    pub method: &'static str,
    /// The path, `{id}` for a parameter.
    pub path: &'static str,
    /// What it does.
    pub description: &'static str,
    /// A curl command that uses it against the default admin address.
    pub example: &'static str,
    /// Its handler: the router is built from this table, so the two cannot drift (a test
    /// holds the README's table to it too).
    handler: fn() -> MethodRouter<Arc<Admin>>,
}

/// Every endpoint of the admin API, in the order the index lists them.
pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/",
        handler: || get(index),
        description: "This index: the devices' ids and every endpoint with an example. A browser (Accept: text/html first) gets the dashboard instead.",
        example: "curl -s http://127.0.0.1:8090/",
    },
    Endpoint {
        method: "GET",
        path: "/ui/",
        handler: || get(|| async { dashboard::page() }),
        description: "The dashboard (HTML, CSS and JavaScript compiled into the binary), whatever the Accept header.",
        example: "curl -s http://127.0.0.1:8090/ui/",
    },
    Endpoint {
        method: "GET",
        path: "/devices",
        handler: || get(list_devices),
        description: "Every device: id, API, address and state.",
        example: "curl -s http://127.0.0.1:8090/devices",
    },
    Endpoint {
        method: "GET",
        path: "/devices/{id}",
        handler: || get(get_device),
        description: "One device: id, API, address, state and the PIN it shows, if any.",
        example: "curl -s http://127.0.0.1:8090/devices/bravia-0",
    },
    Endpoint {
        method: "PATCH",
        path: "/devices/{id}",
        handler: || patch(patch_device),
        description: "Changes part of a device's state (power, volume, app...); answers the new state.",
        example: r#"curl -s -X PATCH http://127.0.0.1:8090/devices/bravia-0 -d '{"power": "standby"}'"#,
    },
    Endpoint {
        method: "POST",
        path: "/devices/{id}/members",
        handler: || post(add_member),
        description: "Adds an appliance to the ThinQ cloud now (deviceId, deviceType, owner, alias); the owner's lifecycle clients get DEVICE_REGISTERED. A reset removes it.",
        example: r#"curl -s -X POST http://127.0.0.1:8090/devices/thinq-cloud/members -d '{"deviceId": "washer-utility", "deviceType": "DEVICE_WASHER"}'"#,
    },
    Endpoint {
        method: "DELETE",
        path: "/devices/{id}",
        handler: || delete(remove_device),
        description: "Removes a ThinQ appliance now: requests naming it answer 1217, its owner's lifecycle clients get DEVICE_UNREGISTERED. A reset brings it back.",
        example: "curl -s -X DELETE http://127.0.0.1:8090/devices/washer-utility",
    },
    Endpoint {
        method: "GET",
        path: "/devices/{id}/provocations",
        handler: || get(provocations),
        description: "For each code the device can answer with: how to provoke it (a request, or a fault rule).",
        example: "curl -s http://127.0.0.1:8090/devices/bravia-0/provocations",
    },
    Endpoint {
        method: "GET",
        path: "/provocations",
        handler: || get(all_provocations),
        description: "For each API served (bravia, thinq) and each of its codes: how to provoke it.",
        example: "curl -s http://127.0.0.1:8090/provocations",
    },
    Endpoint {
        method: "POST",
        path: "/devices/{id}/events",
        handler: || post(publish_event),
        description: "Publishes a custom event of a ThinQ appliance over MQTT now (pushType, report, pushCode; deviceType null leaves it out).",
        example: "curl -s -X POST http://127.0.0.1:8090/devices/washer-main/events -d '{\"pushType\": \"DEVICE_PUSH\", \"pushCode\": \"WASHING_IS_COMPLETE\"}'",
    },
    Endpoint {
        method: "GET",
        path: "/thinq/ca.pem",
        handler: || get(ca_pem),
        description: "The ThinQ cloud's CA certificate (PEM): the root MQTT clients trust.",
        example: "curl -s http://127.0.0.1:8090/thinq/ca.pem",
    },
    Endpoint {
        method: "GET",
        path: "/devices/{id}/pin",
        handler: || get(pin),
        description: "The PIN the device shows on screen now (BRAVIA, after an actRegister without a PIN), or null.",
        example: "curl -s http://127.0.0.1:8090/devices/bravia-0/pin",
    },
    Endpoint {
        method: "GET",
        path: "/faults",
        handler: || get(list_faults),
        description: "The fault rules in the order they are tried, with how often each fired, and the seed.",
        example: "curl -s http://127.0.0.1:8090/faults",
    },
    Endpoint {
        method: "POST",
        path: "/faults",
        handler: || post(add_faults),
        description: "Adds a fault rule (or an array of rules, all or none); answers 201 with the id.",
        example: r#"curl -s -X POST http://127.0.0.1:8090/faults -d '{"match": {"service": "system", "method": "getPowerStatus"}, "action": "code", "code": 40000, "count": 1}'"#,
    },
    Endpoint {
        method: "DELETE",
        path: "/faults",
        handler: || delete(clear_faults),
        description: "Removes every fault rule.",
        example: "curl -s -X DELETE http://127.0.0.1:8090/faults",
    },
    Endpoint {
        method: "DELETE",
        path: "/faults/{id}",
        handler: || delete(remove_fault),
        description: "Removes one fault rule.",
        example: "curl -s -X DELETE http://127.0.0.1:8090/faults/1",
    },
    Endpoint {
        method: "GET",
        path: "/faults/seed",
        handler: || get(get_seed),
        description: "The seed of the fault rules' random draws.",
        example: "curl -s http://127.0.0.1:8090/faults/seed",
    },
    Endpoint {
        method: "POST",
        path: "/faults/seed",
        handler: || post(set_seed),
        description: "Restarts the random draws from a seed: the same seed and requests give the same faults.",
        example: r#"curl -s -X POST http://127.0.0.1:8090/faults/seed -d '{"seed": 42}'"#,
    },
    Endpoint {
        method: "GET",
        path: "/journal",
        handler: || get(journal),
        description: "The request journal, newest first; ?limit=N and ?device=ID narrow it.",
        example: "curl -s 'http://127.0.0.1:8090/journal?limit=10&device=bravia-0'",
    },
    Endpoint {
        method: "GET",
        path: "/journal/events",
        handler: || get(dashboard::events),
        description: "The journal live, as server-sent events: `entry` (data: the entry's JSON, id: its seq), `lagged` (data: how many a slow reader missed); ?device=ID narrows, ?since=SEQ first replays the held entries newer than SEQ.",
        example: "curl -sN 'http://127.0.0.1:8090/journal/events?device=bravia-0'",
    },
    Endpoint {
        method: "GET",
        path: "/journal/{seq}",
        handler: || get(dashboard::journal_entry),
        description: "One journal entry by its seq, with the diagnosis of its response as `devfault decode` gives it (?lang=en|ja).",
        example: "curl -s http://127.0.0.1:8090/journal/1",
    },
    Endpoint {
        method: "DELETE",
        path: "/journal",
        handler: || delete(clear_journal),
        description: "Empties the request journal.",
        example: "curl -s -X DELETE http://127.0.0.1:8090/journal",
    },
    Endpoint {
        method: "POST",
        path: "/reset",
        handler: || post(reset),
        description: "Back to the start: devices reset (and the scenario's state re-applied), fault rules cleared (the scenario's re-added), seed restored, journal emptied.",
        example: "curl -s -X POST http://127.0.0.1:8090/reset",
    },
    Endpoint {
        method: "GET",
        path: "/registry",
        handler: || get(dashboard::registry),
        description: "The registry entries, each with the text `devfault explain` prints: ?api=bravia|thinq, ?q= a code or text (all when absent), ?lang=en|ja for group titles.",
        example: "curl -s 'http://127.0.0.1:8090/registry?api=bravia&q=40801&lang=ja'",
    },
];

/// A device as the admin API lists it.
#[derive(Clone)]
pub struct AdminDevice {
    /// The device.
    pub device: Arc<dyn Device>,
    /// Where it listens, when it has its own port (a BRAVIA display).
    pub address: Option<SocketAddr>,
}

impl fmt::Debug for AdminDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminDevice")
            .field("id", &self.device.id())
            .field("api", &self.device.api())
            .field("address", &self.address)
            .finish()
    }
}

/// What `POST /reset` goes back to: besides each device's own reset, the state patches, fault
/// rules and seed a scenario started with.
#[derive(Clone, Default, PartialEq, Debug)]
pub struct Baseline {
    /// State patches, by device id, applied after the devices' reset.
    pub state: Vec<(String, Value)>,
    /// Fault rules added after the rules are cleared.
    pub faults: Vec<RuleSpec>,
    /// The seed restored; when `None`, the seed in force at the reset is kept (and its draws
    /// restart).
    pub seed: Option<u64>,
}

/// What the admin API works on: the devices, the fault rules, the journal.
#[derive(Debug)]
pub struct Admin {
    devices: Vec<AdminDevice>,
    faults: Arc<Faults>,
    journal: Arc<Journal>,
    baseline: Baseline,
    /// Diagnoses and registry entries for the dashboard, set once by the layer above.
    explainer: OnceLock<Arc<dyn Explainer>>,
    /// True once the server stops: the journal's event streams end, so they do not hold the
    /// admin API's graceful shutdown open.
    closing: tokio::sync::watch::Sender<bool>,
}

/// What a reset did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ResetSummary {
    /// Devices reset.
    pub devices: usize,
    /// Fault rules removed.
    pub faults_removed: usize,
    /// Fault rules re-added from the baseline.
    pub faults_added: usize,
    /// Journal entries dropped.
    pub journal_cleared: usize,
    /// The seed in force afterwards.
    pub seed: u64,
}

impl Admin {
    /// An admin API over these rules and this journal, with no device yet.
    pub fn new(faults: Arc<Faults>, journal: Arc<Journal>) -> Admin {
        Admin {
            devices: Vec::new(),
            faults,
            journal,
            baseline: Baseline::default(),
            explainer: OnceLock::new(),
            closing: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Gives the admin API the diagnoses and registry of the layer above (`devfault serve`'s
    /// decoder and `explain`); `false` when one was given already (it stays).
    pub fn set_explainer(&self, explainer: Arc<dyn Explainer>) -> bool {
        self.explainer.set(explainer).is_ok()
    }

    /// The explainer, once given.
    pub fn explainer(&self) -> Option<&Arc<dyn Explainer>> {
        self.explainer.get()
    }

    /// Ends every journal event stream, now and for streams opened later: the server stops.
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Whether the event streams must end.
    pub(crate) fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Adds a device, listed in the order added, each followed by its members (a cloud's
    /// appliances).
    pub fn with_device(mut self, device: Arc<dyn Device>, address: Option<SocketAddr>) -> Admin {
        self.devices.push(AdminDevice { device, address });
        self
    }

    /// Sets what `POST /reset` goes back to.
    pub fn with_baseline(mut self, baseline: Baseline) -> Admin {
        self.baseline = baseline;
        self
    }

    /// The devices now, in order: each one given, then its members (which the admin API can
    /// add and remove while it runs), at their holder's address.
    pub fn devices(&self) -> Vec<AdminDevice> {
        let mut all = Vec::with_capacity(self.devices.len());
        for entry in &self.devices {
            all.push(entry.clone());
            all.extend(
                entry
                    .device
                    .members()
                    .into_iter()
                    .map(|device| AdminDevice { device, address: entry.address }),
            );
        }
        all
    }

    /// The device with this id, given or a member of one.
    pub fn device(&self, id: &str) -> Option<AdminDevice> {
        self.devices.iter().find_map(|entry| {
            if entry.device.id() == id {
                return Some(entry.clone());
            }
            let device = entry.device.member(id)?;
            Some(AdminDevice { device, address: entry.address })
        })
    }

    /// Adds a member to the device `holder` (admin `POST /devices/{holder}/members`).
    pub fn add_member(&self, holder: &str, spec: &Value) -> Result<AdminDevice, String> {
        let entry =
            self.devices.iter().find(|entry| entry.device.id() == holder).ok_or_else(|| {
                format!("no device {holder:?} holds members; devices: {}", self.ids())
            })?;
        let device = entry.device.add_member(spec)?;
        Ok(AdminDevice { device, address: entry.address })
    }

    /// Removes the member `id` from the device holding it (admin `DELETE /devices/{id}`).
    pub fn remove_member(&self, id: &str) -> Result<(), RemoveError> {
        if self.devices.iter().any(|entry| entry.device.id() == id) {
            return Err(RemoveError::NotAMember(format!(
                "{id} cannot be removed: only a member of another device (a ThinQ appliance) can"
            )));
        }
        let holder = self
            .devices
            .iter()
            .find(|entry| entry.device.member(id).is_some())
            .ok_or_else(|| RemoveError::NotFound(self.no_device(id)))?;
        holder.device.remove_member(id).map_err(RemoveError::NotAMember)
    }

    /// The fault rules.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// The journal.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// Back to the start: every device reset and the baseline's state applied, rules cleared
    /// and the baseline's added, the seed restored, the journal emptied.
    pub fn reset(&self) -> Result<ResetSummary, String> {
        for entry in &self.devices {
            entry.device.reset();
        }
        for (id, patch) in &self.baseline.state {
            let entry =
                self.device(id).ok_or_else(|| format!("the baseline names no device {id:?}"))?;
            entry.device.set_state(patch).map_err(|e| format!("{id}: {e}"))?;
        }
        let faults_removed = self.faults.clear();
        let added = self
            .faults
            .add_all(self.baseline.faults.clone())
            .map_err(|(index, error)| format!("baseline fault rule {index}: {error}"))?;
        let seed = self.baseline.seed.unwrap_or_else(|| self.faults.seed());
        self.faults.set_seed(seed);
        let journal_cleared = self.journal.clear();
        Ok(ResetSummary {
            devices: self.devices().len(),
            faults_removed,
            faults_added: added.len(),
            journal_cleared,
            seed,
        })
    }

    /// A rule naming a device must name one of these.
    fn check_device(&self, spec: &RuleSpec) -> Result<(), String> {
        match &spec.matcher.device {
            Some(id) if self.device(id).is_none() => {
                Err(format!("match.device: no device {id:?}; devices: {}", self.ids()))
            }
            _ => Ok(()),
        }
    }

    /// The devices' ids for an error message: the first twenty, then how many more (a fleet
    /// of 10,000 would otherwise fill the message).
    pub(crate) fn ids(&self) -> String {
        const SHOWN: usize = 20;
        let devices = self.devices();
        let mut ids: Vec<&str> =
            devices.iter().take(SHOWN).map(|entry| entry.device.id()).collect();
        let more = devices.len().saturating_sub(SHOWN);
        let more = format!("… {more} more (GET /devices)");
        if devices.len() > SHOWN {
            ids.push(&more);
        }
        if ids.is_empty() { "none".to_owned() } else { ids.join(", ") }
    }

    fn find(&self, id: &str) -> Result<AdminDevice, AdminError> {
        self.device(id).ok_or_else(|| AdminError::not_found(self.no_device(id)))
    }

    /// Why there is no device `id`: removed since the start (and how to get it back), or
    /// never one, with the ids there are.
    fn no_device(&self, id: &str) -> String {
        match self.devices.iter().find(|entry| entry.device.removed_member(id)) {
            Some(holder) => format!(
                "{id} was removed from {} (requests naming it answer as for a deleted device); POST /reset brings it back",
                holder.device.id()
            ),
            None => format!("no device {id:?}; devices: {}", self.ids()),
        }
    }
}

/// Why a device could not be removed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RemoveError {
    /// No device has this id.
    NotFound(String),
    /// The device exists but cannot be removed (a display, the cloud itself).
    NotAMember(String),
}

impl fmt::Display for RemoveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoveError::NotFound(message) | RemoveError::NotAMember(message) => {
                f.write_str(message)
            }
        }
    }
}

/// The admin API's router.
pub fn router(admin: Arc<Admin>) -> Router {
    ENDPOINTS
        .iter()
        .fold(Router::new(), |router, endpoint| router.route(endpoint.path, (endpoint.handler)()))
        .merge(dashboard::assets())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(admin)
}

/// An admin API error: a status and a message naming the bad value.
#[derive(Debug)]
struct AdminError {
    status: StatusCode,
    message: String,
}

impl AdminError {
    fn bad_request(message: impl Into<String>) -> AdminError {
        AdminError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    fn not_found(message: impl Into<String>) -> AdminError {
        AdminError { status: StatusCode::NOT_FOUND, message: message.into() }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        json_error(self.status, &self.message)
    }
}

type Answer = Result<Response, AdminError>;

fn ok(value: Value) -> Answer {
    Ok(axum::Json(value).into_response())
}

/// Parses a JSON body, the error naming the place and what to send.
fn parse_body<T: DeserializeOwned>(
    body: &[u8],
    what: &str,
    example: &str,
) -> Result<T, AdminError> {
    // Parsed as `T` first, so that an error names its line and column.
    let parsed = serde_json::from_slice(body).map_err(|error| {
        AdminError::bad_request(format!("the body is not {what}: {error}; send e.g. {example}"))
    })?;
    // What the admin API is given becomes state, rules and events, written out again.
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        devfault_core::untrusted_json::check(&value).map_err(AdminError::bad_request)?;
    }
    Ok(parsed)
}

fn device_json(entry: &AdminDevice) -> Value {
    json!({
        "id": entry.device.id(),
        "api": entry.device.api(),
        "address": entry.address.map(|address| address.to_string()),
        "url": entry.address.map(|address| format!("http://{address}")),
        "state": entry.device.state(),
        "pin": entry.device.pin(),
    })
}

async fn index(State(admin): State<Arc<Admin>>, headers: axum::http::HeaderMap) -> Answer {
    if dashboard::wants_html(&headers) {
        return Ok(dashboard::page());
    }
    let endpoints: Vec<Value> = ENDPOINTS
        .iter()
        .map(|e| {
            json!({
                "method": e.method,
                "path": e.path,
                "description": e.description,
                "example": e.example,
            })
        })
        .collect();
    let devices = admin.devices();
    let devices: Vec<&str> = devices.iter().map(|entry| entry.device.id()).collect();
    ok(json!({ "name": "devfault admin API", "devices": devices, "endpoints": endpoints }))
}

/// Written device by device, each one's JSON dropped once written: a ThinQ fleet of 10,000
/// appliances would otherwise hold every state as a JSON tree at once (hundreds of MiB that
/// the allocator keeps afterwards) for an answer of a few MiB.
async fn list_devices(State(admin): State<Arc<Admin>>) -> Answer {
    let mut body = b"{\"devices\":[".to_vec();
    for (index, entry) in admin.devices().iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut body, &device_json(entry));
    }
    body.extend_from_slice(b"]}");
    let mut response = body.into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

async fn get_device(State(admin): State<Arc<Admin>>, Path(id): Path<String>) -> Answer {
    ok(device_json(&admin.find(&id)?))
}

async fn add_member(
    State(admin): State<Arc<Admin>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let spec: Value =
        parse_body(&body, "a JSON description of the member", thinq::REGISTER_EXAMPLE)?;
    let entry = admin
        .add_member(&id, &spec)
        .map_err(|error| AdminError::bad_request(format!("{id}: {error}")))?;
    Ok((StatusCode::CREATED, axum::Json(device_json(&entry))).into_response())
}

async fn remove_device(State(admin): State<Arc<Admin>>, Path(id): Path<String>) -> Answer {
    admin.remove_member(&id).map_err(|error| match error {
        RemoveError::NotFound(message) => AdminError::not_found(message),
        RemoveError::NotAMember(message) => AdminError::bad_request(message),
    })?;
    ok(json!({ "device": id, "removed": true }))
}

async fn patch_device(
    State(admin): State<Arc<Admin>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let entry = admin.find(&id)?;
    let patch: Value = parse_body(&body, "a JSON state patch", r#"{"power": "standby"}"#)?;
    if !patch.is_object() {
        return Err(AdminError::bad_request(format!(
            "the state patch {patch} is not a JSON object; send e.g. {{\"power\": \"standby\"}}"
        )));
    }
    entry
        .device
        .set_state(&patch)
        .map_err(|error| AdminError::bad_request(format!("{id}: {error}")))?;
    ok(device_json(&entry))
}

async fn publish_event(
    State(admin): State<Arc<Admin>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let entry = admin.find(&id)?;
    let event: Value = parse_body(&body, "a JSON event", r#"{"pushType": "DEVICE_STATUS"}"#)?;
    let sent = entry
        .device
        .publish_event(&event)
        .map_err(|error| AdminError::bad_request(format!("{id}: {error}")))?;
    ok(json!({ "device": id, "sent": sent }))
}

/// The CA of the first device that runs one, as `application/x-pem-file`.
async fn ca_pem(State(admin): State<Arc<Admin>>) -> Response {
    match admin.devices.iter().find_map(|entry| entry.device.ca_pem()) {
        Some(pem) => {
            let mut response = pem.into_response();
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/x-pem-file"),
            );
            response
        }
        None => json_error(StatusCode::NOT_FOUND, "no device runs a certificate authority"),
    }
}

async fn provocations(State(admin): State<Arc<Admin>>, Path(id): Path<String>) -> Answer {
    let entry = admin.find(&id)?;
    ok(json!({ "device": id, "provocations": entry.device.provocations() }))
}

/// Per API, the provocations of its first device: every device of an API lists the same
/// codes (a display's list follows its configuration; the first display's is shown). The
/// ThinQ cloud gives two APIs, its REST API and its MQTT event path (`thinq-mqtt`).
async fn all_provocations(State(admin): State<Arc<Admin>>) -> Answer {
    let mut apis = serde_json::Map::new();
    for entry in &admin.devices {
        for (api, list) in entry.device.provocations_by_api() {
            if !apis.contains_key(api) {
                apis.insert(
                    api.to_owned(),
                    json!({ "device": entry.device.id(), "provocations": list }),
                );
            }
        }
    }
    ok(json!({ "apis": apis }))
}

async fn pin(State(admin): State<Arc<Admin>>, Path(id): Path<String>) -> Answer {
    let entry = admin.find(&id)?;
    ok(json!({ "device": id, "pin": entry.device.pin() }))
}

async fn list_faults(State(admin): State<Arc<Admin>>) -> Answer {
    ok(json!({ "seed": admin.faults.seed(), "rules": admin.faults.rules() }))
}

async fn add_faults(State(admin): State<Arc<Admin>>, body: Bytes) -> Answer {
    const EXAMPLE: &str = r#"{"action": "code", "code": 40000}"#;
    let is_array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let answer = if is_array {
        let specs: Vec<RuleSpec> = parse_body(&body, "an array of fault rules", EXAMPLE)?;
        for (index, spec) in specs.iter().enumerate() {
            admin
                .check_device(spec)
                .map_err(|error| AdminError::bad_request(format!("rule [{index}]: {error}")))?;
        }
        let rules = admin.faults.add_all(specs).map_err(|(index, error)| {
            AdminError::bad_request(format!("rule [{index}]: {error}"))
        })?;
        let ids: Vec<u64> = rules.iter().map(|rule| rule.id).collect();
        json!({ "ids": ids, "rules": rules })
    } else {
        let spec: RuleSpec = parse_body(&body, "a fault rule", EXAMPLE)?;
        admin.check_device(&spec).map_err(AdminError::bad_request)?;
        let rule =
            admin.faults.add(spec).map_err(|error| AdminError::bad_request(error.to_string()))?;
        json!({ "id": rule.id, "rule": rule })
    };
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

async fn clear_faults(State(admin): State<Arc<Admin>>) -> Answer {
    ok(json!({ "removed": admin.faults.clear() }))
}

async fn remove_fault(State(admin): State<Arc<Admin>>, Path(id): Path<String>) -> Answer {
    let number: u64 = id.parse().map_err(|_| {
        AdminError::bad_request(format!("{id:?} is not a fault rule id (a positive integer)"))
    })?;
    if !admin.faults.remove(number) {
        let ids: Vec<String> =
            admin.faults.rules().iter().map(|rule| rule.id.to_string()).collect();
        let ids = if ids.is_empty() { "none".to_owned() } else { ids.join(", ") };
        return Err(AdminError::not_found(format!("no fault rule {number}; rules: {ids}")));
    }
    ok(json!({ "removed": number }))
}

async fn get_seed(State(admin): State<Arc<Admin>>) -> Answer {
    ok(json!({ "seed": admin.faults.seed() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    seed: u64,
}

async fn set_seed(State(admin): State<Arc<Admin>>, body: Bytes) -> Answer {
    let SeedBody { seed } =
        parse_body(&body, "a seed (an integer 0 to 2^64-1)", r#"{"seed": 42}"#)?;
    admin.faults.set_seed(seed);
    ok(json!({ "seed": seed }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalParams {
    limit: Option<usize>,
    device: Option<String>,
}

async fn journal(
    State(admin): State<Arc<Admin>>,
    params: Result<Query<JournalParams>, QueryRejection>,
) -> Answer {
    let Query(params) = params.map_err(|rejection| {
        AdminError::bad_request(format!(
            "{}; the journal takes ?limit=N (a count) and ?device=ID",
            rejection.body_text()
        ))
    })?;
    if let Some(device) = &params.device {
        admin.find(device)?;
    }
    let query = JournalQuery { limit: params.limit, device: params.device };
    let selected = admin.journal.select(&query);
    // Streamed entry by entry: the answer holds one entry's JSON at a time besides what the
    // journal holds, however large the journal and however many read it at once.
    let head = json!({
        "capacity": admin.journal.capacity(),
        "max_bytes": admin.journal.max_bytes(),
        "bytes": admin.journal.bytes(),
        "len": admin.journal.len(),
        "dropped": admin.journal.dropped(),
    })
    .to_string();
    // `{"capacity":…,"dropped":…` then `,"entries":[` … `]}`.
    let opening = format!("{},\"entries\":[", head.trim_end_matches('}'));
    let entries = selected.entries().enumerate().map(|(index, entry)| {
        let mut chunk = if index == 0 { Vec::new() } else { b",".to_vec() };
        // Writing a JournalEntry (strings, numbers) into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut chunk, &entry);
        Ok::<_, std::convert::Infallible>(Bytes::from(chunk))
    });
    let chunks = std::iter::once(Ok(Bytes::from(opening)))
        .chain(entries)
        .chain(std::iter::once(Ok(Bytes::from_static(b"]}"))));
    let mut response =
        axum::body::Body::from_stream(futures_util::stream::iter(chunks)).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

async fn clear_journal(State(admin): State<Arc<Admin>>) -> Answer {
    ok(json!({ "cleared": admin.journal.clear() }))
}

async fn reset(State(admin): State<Arc<Admin>>) -> Answer {
    let summary = admin
        .reset()
        .map_err(|message| AdminError { status: StatusCode::INTERNAL_SERVER_ERROR, message })?;
    ok(json!({
        "reset": true,
        "devices": summary.devices,
        "faults_removed": summary.faults_removed,
        "faults_added": summary.faults_added,
        "journal_cleared": summary.journal_cleared,
        "seed": summary.seed,
    }))
}

async fn not_found(method: Method, uri: Uri) -> AdminError {
    AdminError::not_found(format!("no admin endpoint {method} {}; GET / lists them", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> AdminError {
    let path = uri.path();
    // A literal path (`/faults/seed`) shadows a pattern that also fits it (`/faults/{id}`).
    let literal = ENDPOINTS.iter().any(|e| e.path == path);
    let allowed: Vec<&str> = ENDPOINTS
        .iter()
        .filter(|e| if literal { e.path == path } else { pattern_matches(e.path, path) })
        .map(|e| e.method)
        .collect();
    AdminError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("{path} does not take {method}; it takes {}", allowed.join(", ")),
    }
}

/// True when `path` fits an endpoint pattern (`/devices/{id}` fits `/devices/bravia-0`).
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (mut want, mut have) = (pattern.split('/'), path.split('/'));
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if w == h || (w.starts_with('{') && !h.is_empty()) => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
