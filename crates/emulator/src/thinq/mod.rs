//! The virtual ThinQ Connect cloud: LG's personal-access-token API (`/route`, `/devices`,
//! profiles, state, control, push and event subscriptions, clients, energy) over a household
//! of appliances built from LG's official profile and state examples, with every code of the
//! registry reachable.
//!
//! - [`Cloud`] holds the users (tokens), the appliances and the counters, and implements
//!   [`Device`] as `thinq-cloud`, so the admin API can change the rate limit at run time.
//! - [`Appliance`] is one appliance: its state (shared with its type's template until first
//!   written, so a fleet of 10,000 costs little), online, remote control, subscriptions. It
//!   implements [`Device`] for the admin API.
//! - [`router`] serves the cloud; [`ThinqCodec`] plugs its codes into the fault layer.
//! - Every error body comes from a registry row through `devfault_thinq::wire`, so a wrong
//!   status and code pair cannot be written.
//!
//! ```
//! use std::sync::Arc;
//! use devfault_emulator::thinq::{Cloud, CloudConfig, router};
//! use devfault_emulator::device::Device;
//!
//! let cloud = Arc::new(Cloud::new(CloudConfig::default()));
//! let ac = cloud.appliance("ac-living-room").expect("the default household");
//! ac.set_state(&serde_json::json!({"online": false})).unwrap();
//! assert_eq!(ac.state()["online"], false);
//! let _app: axum::Router = router(cloud);
//! ```

mod codec;
mod control;
mod kinds;
pub mod mqtt;
mod programme;
mod provocations;
mod router;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use devfault_thinq::Code;
use devfault_thinq::event::PushType;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

pub use codec::ThinqCodec;
pub use programme::MAX_TIME_SCALE;
pub(crate) use router::ROOT_CA_HOST;
pub(crate) use router::overload_body;
pub use router::router;

use crate::device::{Device, Provocation};
use kinds::Kind;
use mqtt::Hub;
use mqtt::events::{self, Event};

/// The `x-api-key` every request carries: the fixed value LG publishes (SDK `const.API_KEY`).
pub const API_KEY: &str = "v6GFvkweNo7DK7yD3ylIZ9w52aKBU0eJ7wLXkSR3";

/// User 1's token unless configured otherwise.
pub const DEFAULT_TOKEN: &str = "thinqpat-devfault-0000";

/// Checks a ThinQ token as the cloud reads one from `Authorization: Bearer TOKEN`: 1 to 512
/// of `A-Za-z0-9-._~+/=`. `serve` checks its own tokens with it, so that the cloud never
/// refuses the token it was started with.
pub fn check_token(token: &str) -> Result<(), String> {
    if is_token(token) {
        Ok(())
    } else {
        Err(format!("{token:?} is not a ThinQ token: give 1 to 512 of A-Za-z0-9-._~+/="))
    }
}

/// True for 1 to 512 of `A-Za-z0-9-._~+/=` (see [`check_token`]).
pub(crate) fn is_token(token: &str) -> bool {
    (1..=512).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

/// The most client ids one user may register (`POST /client`), and the most receiving push
/// (`POST /push/devices`); past it the cloud answers 1306 (see the README's ThinQ section).
pub const MAX_CLIENTS_PER_USER: usize = 100;

/// User 2's token: the owner of `ac-neighbour`, "a device of another user".
pub const NEIGHBOUR_TOKEN: &str = "thinqpat-devfault-0001";

/// The id of the cloud itself, as the admin API and the journal name it.
pub const CLOUD_ID: &str = "thinq-cloud";

/// A refusal of a request: the code to answer, the state or mode 2302/2305 name, and a
/// detail for the `x-devfault-reason` header (the envelope carries only the registry text).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Refusal {
    pub code: Code,
    pub state_or_mode: Option<String>,
    pub detail: String,
}

impl Refusal {
    pub(crate) fn new(code: Code, detail: impl Into<String>) -> Refusal {
        Refusal { code, state_or_mode: None, detail: detail.into() }
    }

    pub(crate) fn templated(code: Code, value: &str, detail: impl Into<String>) -> Refusal {
        Refusal { code, state_or_mode: Some(value.to_owned()), detail: detail.into() }
    }
}

/// Which code the rate limit answers with.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum RateLimitCode {
    /// `1314` "Exceeded User API calls" at 401: what the live cloud sends (default).
    #[default]
    UserApiCalls,
    /// `1306` "Exceeded API calls" at 401: the SDK's enum name, for clients that match it.
    ApiCalls,
}

impl RateLimitCode {
    fn code(self) -> Code {
        match self {
            RateLimitCode::UserApiCalls => Code::EXCEEDED_USER_API_CALLS,
            RateLimitCode::ApiCalls => Code::EXCEEDED_API_CALLS,
        }
    }
}

/// How the cloud is set up.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CloudConfig {
    /// User 1's personal access token. Default [`DEFAULT_TOKEN`].
    pub token: String,
    /// Generated appliances added after the household (`fleet-00000`...), ten per generated
    /// user (tokens `thinqpat-devfault-fleet-0`...). Default 0.
    pub fleet: usize,
    /// API calls per token per [`CloudConfig::rate_window`]; 0: no limit. Default 3600.
    pub rate_limit: u64,
    /// The length of the rate-limit window. Default one hour.
    pub rate_window: Duration,
    /// The code the rate limit answers with. Default 1314.
    pub rate_limit_code: RateLimitCode,
    /// Event subscriptions one user may hold; one more is 1312. Default 20.
    pub event_subscription_limit: usize,
    /// The largest request body; more is 1000. Default 64 KiB.
    pub max_body_bytes: usize,
    /// How much faster than real time a programme (a washer's cycle) runs: 60 makes a
    /// simulated minute last a second. Default 1.
    pub time_scale: u32,
}

impl Default for CloudConfig {
    fn default() -> CloudConfig {
        CloudConfig {
            token: DEFAULT_TOKEN.to_owned(),
            fleet: 0,
            rate_limit: 3600,
            rate_window: Duration::from_secs(3600),
            rate_limit_code: RateLimitCode::UserApiCalls,
            event_subscription_limit: 20,
            max_body_bytes: 64 * 1024,
            time_scale: 1,
        }
    }
}

/// Why a user's token is refused though it is someone's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum UserStatus {
    Active,
    /// 1302 Not found token: the token expired.
    Expired,
    /// 1303 Not found user: the account is gone.
    Deleted,
    /// 1304 Not acceptable terms: the user has not accepted the terms.
    TermsPending,
}

/// The users besides user 1 (whose token is configured): token and status.
const USERS: &[(&str, UserStatus)] = &[
    (NEIGHBOUR_TOKEN, UserStatus::Active),
    ("thinqpat-devfault-expired", UserStatus::Expired),
    ("thinqpat-devfault-deleted", UserStatus::Deleted),
    ("thinqpat-devfault-terms", UserStatus::TermsPending),
];

/// One household appliance: id, owner (1-based user number), type, alias, online, remote
/// control, reportable, and a patch of the type's initial state.
type HouseholdRow = (&'static str, u32, &'static str, &'static str, bool, bool, bool, &'static str);

/// The default household, listed by `GET /devices` in this order.
const HOUSEHOLD: &[HouseholdRow] = &[
    ("ac-living-room", 1, "DEVICE_AIR_CONDITIONER", "Living room AC", true, true, true, "{}"),
    ("washer-main", 1, "DEVICE_WASHER", "Washer", true, true, true, "{}"),
    ("fridge-kitchen", 1, "DEVICE_REFRIGERATOR", "Kitchen fridge", true, true, true, "{}"),
    (
        "ac-bedroom-off",
        1,
        "DEVICE_AIR_CONDITIONER",
        "Bedroom AC",
        true,
        true,
        true,
        r#"{"operation": {"airConOperationMode": "POWER_OFF"}}"#,
    ),
    (
        "washer-remote-off",
        1,
        "DEVICE_WASHER",
        "Basement washer",
        true,
        false,
        true,
        r#"{"remoteControlEnable": {"remoteControlEnabled": false}}"#,
    ),
    ("dryer-offline", 1, "DEVICE_DRYER", "Dryer", false, true, true, "{}"),
    ("fridge-garage", 1, "DEVICE_REFRIGERATOR", "Garage fridge", true, true, false, "{}"),
    ("ac-neighbour", 2, "DEVICE_AIR_CONDITIONER", "Neighbour's AC", true, true, true, "{}"),
];

/// Appliances user 1 deleted: any request naming one is 1217 Already device deleted.
const DELETED: &[&str] = &["dehumidifier-deleted"];

/// The grammar of a device id: 1 to 128 of `A-Za-z0-9._-`; anything else is 1224.
pub(crate) fn is_device_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A user: token, status, registered clients, calls in the current window. Their appliances
/// are in the cloud's [`Roster`].
#[derive(Debug)]
struct User {
    token: String,
    status: UserStatus,
    clients: Mutex<Clients>,
    calls: Mutex<(Instant, u64)>,
}

impl User {
    fn new(token: String, status: UserStatus) -> User {
        User {
            token,
            status,
            clients: Mutex::new(Clients::default()),
            calls: Mutex::new((Instant::now(), 0)),
        }
    }
}

/// What the admin API's `POST /devices/thinq-cloud/members` takes.
pub const REGISTER_EXAMPLE: &str = r#"{"deviceId": "washer-utility", "deviceType": "DEVICE_WASHER", "owner": 1, "alias": "Utility washer"}"#;

/// The most appliances the admin API may add at run time (`POST /devices/thinq-cloud/members`),
/// each add counted whether or not it was removed since (so the ids remembered as removed stay
/// bounded too); a reset takes them away and starts the count again.
pub const MAX_ADDED_APPLIANCES: usize = 10_000;

/// Which appliances exist and who owns them. The admin API adds and removes appliances at run
/// time; a reset goes back to the roster the cloud started with.
#[derive(Clone, Debug, Default)]
struct Roster {
    /// Every appliance, in the order added (`GET /devices` and the admin list keep it).
    appliances: Vec<Arc<Appliance>>,
    by_id: HashMap<String, Arc<Appliance>>,
    /// Per user (by index in the cloud's users), their appliances in order.
    owned: Vec<Vec<Arc<Appliance>>>,
    /// Ids removed since the start: a request naming one is 1217, as for a device its user
    /// deleted.
    removed: BTreeSet<String>,
    /// Appliances added at run time since the start, removed or not.
    added: usize,
}

impl Roster {
    fn insert(&mut self, appliance: Arc<Appliance>) {
        let owner = appliance.owner as usize;
        if self.owned.len() <= owner {
            self.owned.resize_with(owner + 1, Vec::new);
        }
        self.owned[owner].push(Arc::clone(&appliance));
        self.removed.remove(&appliance.id);
        self.by_id.insert(appliance.id.clone(), Arc::clone(&appliance));
        self.appliances.push(appliance);
    }

    fn remove(&mut self, id: &str) -> Option<Arc<Appliance>> {
        let appliance = self.by_id.remove(id)?;
        self.appliances.retain(|a| !Arc::ptr_eq(a, &appliance));
        if let Some(owned) = self.owned.get_mut(appliance.owner as usize) {
            owned.retain(|a| !Arc::ptr_eq(a, &appliance));
        }
        self.removed.insert(id.to_owned());
        Some(appliance)
    }

    fn owned_by(&self, user: u32) -> &[Arc<Appliance>] {
        self.owned.get(user as usize).map_or(&[], Vec::as_slice)
    }
}

/// The clients a user registered (`POST /client`) and those receiving push
/// (`POST /push/devices`).
#[derive(Clone, Default, Debug)]
struct Clients {
    registered: BTreeSet<String>,
    push: BTreeSet<String>,
}

/// An appliance's state and its JSON text, written at the first read after a change: the SDK
/// polls states far more often than anything changes them, and serializing the tree was most
/// of a state read's cost. Shared (copy on write) with the type's template until written, so
/// a fleet's untouched appliances also share one text.
#[derive(Clone, Debug)]
struct StateDoc {
    value: Value,
    json: OnceLock<Box<RawValue>>,
}

impl StateDoc {
    fn new(value: Value) -> Arc<StateDoc> {
        Arc::new(StateDoc { value, json: OnceLock::new() })
    }

    /// The state as compact JSON, written once per version.
    fn json(&self) -> &RawValue {
        self.json.get_or_init(|| {
            // A Value always serializes (its keys are strings); null is never written.
            serde_json::value::to_raw_value(&self.value)
                .unwrap_or_else(|_| RawValue::NULL.to_owned())
        })
    }
}

/// What an appliance is now. The state is shared with the type's template until written.
#[derive(Clone, Debug)]
struct Live {
    state: Arc<StateDoc>,
    online: bool,
    remote: bool,
    reportable: bool,
    push: bool,
    /// When the event subscription expires; `None`: not subscribed.
    event: Option<Instant>,
    /// Bumped whenever a programme starts or is interrupted: a programme's clock stops
    /// when it no longer matches.
    programme: u64,
}

impl Live {
    /// A new appliance in `state` (a fleet's shares its type's template): online, remote
    /// control on, reportable, nothing subscribed.
    fn fresh(state: Arc<StateDoc>) -> Live {
        Live {
            state,
            online: true,
            remote: true,
            reportable: true,
            push: false,
            event: None,
            programme: 0,
        }
    }

    /// The event subscription holds now.
    fn event_active(&self) -> bool {
        self.event.is_some_and(|until| Instant::now() < until)
    }

    /// The state tree.
    fn state(&self) -> &Value {
        &self.state.value
    }

    /// The state tree to change: copied first if shared, its JSON text dropped, so the next
    /// read writes it anew. Every change of a state goes through here.
    fn state_mut(&mut self) -> &mut Value {
        let doc = Arc::make_mut(&mut self.state);
        doc.json = OnceLock::new();
        &mut doc.value
    }
}

/// A virtual appliance.
#[derive(Debug)]
pub struct Appliance {
    id: String,
    kind: &'static Kind,
    alias: String,
    /// The alias a rename (admin `PATCH {"alias": ...}`) gave it, over `alias`.
    renamed: Mutex<Option<Arc<str>>>,
    /// The owner's index in the cloud's users.
    owner: u32,
    /// The owner's user number as a scenario file writes it (1, 2, a scenario's `owner`);
    /// `None` for a generated fleet user, whom no scenario names.
    user: Option<u32>,
    initial: Live,
    live: Mutex<Live>,
    hub: Arc<Hub>,
}

impl Appliance {
    fn new(
        id: String,
        kind: &'static Kind,
        alias: String,
        owner: (u32, Option<u32>),
        initial: Live,
        hub: Arc<Hub>,
    ) -> Appliance {
        let (owner, user) = owner;
        Appliance {
            id,
            kind,
            alias,
            renamed: Mutex::new(None),
            owner,
            user,
            live: Mutex::new(initial.clone()),
            initial,
            hub,
        }
    }

    /// Its alias now.
    pub fn alias(&self) -> Arc<str> {
        lock(&self.renamed).clone().unwrap_or_else(|| Arc::from(self.alias.as_str()))
    }

    /// Renames it and tells the owner's clients that asked for lifecycle events
    /// (`POST /push/devices`) with a `DEVICE_ALIAS_CHANGED`.
    fn rename(&self, alias: &str) {
        *lock(&self.renamed) = Some(Arc::from(alias));
        self.publish_lifecycle(PushType::DeviceAliasChanged);
    }

    /// Tells the owner's clients that asked for lifecycle events (`POST /push/devices`)
    /// that the appliance was registered, unregistered or renamed (`push_type`), with its
    /// alias and model as `GET /devices` shows them.
    fn publish_lifecycle(&self, push_type: PushType) {
        let mut event = Event::push(&self.id, self.kind.device_type, "");
        event.push_type = push_type.as_str().to_owned();
        event.extra.clear();
        event.extra.insert("alias".to_owned(), json!(&*self.alias()));
        event.extra.insert("modelName".to_owned(), json!(self.kind.model_name));
        self.hub.publish(self.owner, &event, true);
    }

    /// Publishes what changed from `before` to `live`'s state: a `DEVICE_STATUS` with the
    /// changed resources while the event subscription holds, and a `DEVICE_PUSH` when the run
    /// state entered one of [`events::PUSH_ON_RUN_STATE`] while push is subscribed. Called
    /// after every change of a state, under the appliance's lock, so events leave in the
    /// order of the changes.
    fn publish_changes(&self, before: &Value, live: &Live) {
        if !live.event_active() && !live.push {
            return;
        }
        let after = live.state();
        let Some(report) = events::report_of(before, after) else { return };
        if live.event_active() {
            self.hub.publish(
                self.owner,
                &Event::status(&self.id, self.kind.device_type, report),
                false,
            );
        }
        if live.push
            && let Some(place) = self.kind.run_state
        {
            let old = events::run_states(before, place);
            for state in events::run_states(after, place) {
                if !old.contains(&state)
                    && let Some(code) = events::push_code_for(self.kind.device_type, &state)
                {
                    self.hub.publish(
                        self.owner,
                        &Event::push(&self.id, self.kind.device_type, code),
                        false,
                    );
                }
            }
        }
    }

    /// Publishes a custom event now (admin `POST /devices/{id}/events`): `pushType`
    /// (default `DEVICE_STATUS`), and `report`, `pushCode` or any other members, which
    /// replace the defaults (the current state as `report`). `deviceType: null` leaves the
    /// type out, as a faulty cloud might. Answers how many sessions took it.
    pub fn publish_custom(&self, body: &Value) -> Result<usize, String> {
        let Value::Object(members) = body else {
            return Err(format!("the event {body} is not a JSON object"));
        };
        let push_type = match members.get("pushType") {
            None => "DEVICE_STATUS",
            Some(Value::String(t)) if !t.is_empty() => t.as_str(),
            Some(other) => {
                return Err(format!(
                    "pushType is {other}: give one of {}",
                    events::PUSH_TYPES.join(", ")
                ));
            }
        };
        let mut event = match push_type {
            "DEVICE_PUSH" => Event::push(&self.id, self.kind.device_type, ""),
            _ => Event::status(&self.id, self.kind.device_type, self.lock().state().clone()),
        };
        event.push_type = push_type.to_owned();
        if push_type != "DEVICE_STATUS" && push_type != "DEVICE_PUSH" {
            event.extra.clear();
        }
        for (key, value) in members {
            match key.as_str() {
                "pushType" => {}
                "deviceId" => {
                    return Err("deviceId is the appliance's own: leave it out".to_owned());
                }
                "deviceType" => {
                    event.device_type = value.as_str().map(str::to_owned);
                }
                _ => {
                    event.extra.insert(key.clone(), value.clone());
                }
            }
        }
        if push_type == "DEVICE_PUSH" && event.extra.get("pushCode").is_none_or(|c| c == "") {
            return Err("a DEVICE_PUSH needs a pushCode (e.g. WASHING_IS_COMPLETE)".to_owned());
        }
        Ok(self.hub.publish(self.owner, &event, false))
    }

    /// Its owner's user number as a scenario file writes it (1 for user 1, 2 for the
    /// neighbour); `None` for a generated fleet appliance.
    pub fn owner(&self) -> Option<u32> {
        self.user
    }

    /// The profile's definition of a resource (of the first location, for a profile by
    /// location), if it has one.
    fn defined(&self, resource: &str) -> Option<&'static Value> {
        match self.kind.profile.get("property") {
            Some(Value::Object(map)) => map.get(resource),
            Some(Value::Array(locations)) => locations.iter().find_map(|l| l.get(resource)),
            _ => None,
        }
    }

    /// Its `deviceType` (`DEVICE_WASHER`).
    pub fn device_type(&self) -> &'static str {
        self.kind.device_type
    }

    fn lock(&self) -> MutexGuard<'_, Live> {
        lock(&self.live)
    }

    /// Remote control: the state's `remoteControlEnable` where the type reports it (every
    /// location must allow it), else the appliance's own flag.
    fn remote_enabled(&self, live: &Live) -> bool {
        let flags: Vec<bool> = match live.state() {
            Value::Array(locations) => locations
                .iter()
                .filter_map(|l| {
                    l.get("remoteControlEnable")?.get("remoteControlEnabled")?.as_bool()
                })
                .collect(),
            state => state
                .get("remoteControlEnable")
                .and_then(|r| r.get("remoteControlEnabled"))
                .and_then(Value::as_bool)
                .into_iter()
                .collect(),
        };
        if flags.is_empty() { live.remote } else { flags.iter().all(|f| *f) }
    }

    /// The `GET /devices` entry.
    fn listing(&self) -> Value {
        json!({
            "deviceId": self.id,
            "deviceInfo": {
                "deviceType": self.kind.device_type,
                "modelName": self.kind.model_name,
                "alias": &*self.alias(),
                "reportable": self.lock().reportable,
            }
        })
    }

    /// Runs a control command: profile, then online (1222), remote control (2301), the
    /// state's refusals, then applies it.
    fn control(&self, body: &Value) -> Result<(), Refusal> {
        let command = control::parse(self.kind, body)?;
        let mut live = self.lock();
        if !live.online {
            return Err(Refusal::new(
                Code::NOT_CONNECTED_DEVICE,
                format!("{} is offline", self.id),
            ));
        }
        if !self.remote_enabled(&live) {
            return Err(Refusal::new(
                Code::COMMAND_NOT_SUPPORTED_IN_REMOTE_OFF,
                format!("{} has remote control disabled", self.id),
            ));
        }
        control::check_state(self.kind, live.state(), &command)?;
        let before = Arc::clone(&live.state);
        control::apply(self.kind, live.state_mut(), &command);
        live.programme += 1;
        self.publish_changes(&before.value, &live);
        Ok(())
    }
}

/// A lock that survives a panicked holder: the data is plain, always consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Device for Appliance {
    fn id(&self) -> &str {
        &self.id
    }

    fn api(&self) -> &'static str {
        devfault_thinq::API
    }

    fn state(&self) -> Value {
        let live = self.lock().clone();
        json!({
            "deviceType": self.kind.device_type,
            "modelName": self.kind.model_name,
            "alias": &*self.alias(),
            "owner": self.user,
            "online": live.online,
            "remoteControlEnabled": self.remote_enabled(&live),
            "reportable": live.reportable,
            "pushSubscribed": live.push,
            "eventSubscribed": live.event_active(),
            "state": live.state(),
        })
    }

    /// `online`, `remoteControlEnabled`, `reportable` (booleans), `state` (a partial ThinQ
    /// state), or resources of the profile directly (`{"runState": {"currentState": "ERROR"}}`).
    fn set_state(&self, patch: &Value) -> Result<(), String> {
        let Value::Object(members) = patch else {
            return Err(format!("the patch {patch} is not a JSON object"));
        };
        let resources: Vec<String> = match self.kind.profile.get("property") {
            Some(Value::Object(map)) => map.keys().cloned().collect(),
            Some(Value::Array(locations)) => locations
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|l| l.keys().cloned())
                .collect(),
            _ => Vec::new(),
        };
        let mut live = self.lock().clone();
        let mut partial = Map::new();
        let mut alias = None;
        for (key, value) in members {
            let flag =
                || value.as_bool().ok_or_else(|| format!("{key} is {value}: give true or false"));
            match key.as_str() {
                "alias" => match value {
                    Value::String(name) if !name.is_empty() && name.len() <= 128 => {
                        alias = Some(name.clone());
                    }
                    _ => return Err(format!("alias is {value}: give a name of 1 to 128 bytes")),
                },
                "online" => live.online = flag()?,
                "reportable" => live.reportable = flag()?,
                "remoteControlEnabled" => {
                    let on = flag()?;
                    live.remote = on;
                    if resources.iter().any(|r| r == "remoteControlEnable") {
                        kinds::merge_state(
                            live.state_mut(),
                            &json!({"remoteControlEnable": {"remoteControlEnabled": on}}),
                        );
                    }
                }
                "state" => match value {
                    Value::Object(members) => {
                        for (resource, item) in members {
                            if let Some(defined) = self.defined(resource) {
                                control::check_state_type(resource, defined, item)
                                    .map_err(|error| format!("state.{error}"))?;
                            }
                        }
                        kinds::merge_state(live.state_mut(), value);
                    }
                    Value::Array(_) => {
                        kinds::merge_state(live.state_mut(), value);
                    }
                    _ => {
                        return Err(format!("state is {value}: give a partial ThinQ state object"));
                    }
                },
                resource if resources.iter().any(|r| r == resource) || resource == "location" => {
                    if let Some(defined) = self.defined(resource) {
                        control::check_state_type(resource, defined, value)?;
                    }
                    partial.insert(key.clone(), value.clone());
                }
                other => {
                    return Err(format!(
                        "{other:?} is neither alias, online, remoteControlEnabled, reportable, state nor a resource of {} ({})",
                        self.kind.device_type,
                        resources.join(", ")
                    ));
                }
            }
        }
        if !partial.is_empty() {
            kinds::merge_state(live.state_mut(), &Value::Object(partial));
        }
        let mut current = self.lock();
        let before = Arc::clone(&current.state);
        if !Arc::ptr_eq(&before, &live.state) {
            // A state set by hand interrupts a running programme.
            live.programme = current.programme + 1;
        }
        *current = live;
        self.publish_changes(&before.value, &current);
        drop(current);
        if let Some(alias) = alias
            && *alias != *self.alias()
        {
            self.rename(&alias);
        }
        Ok(())
    }

    fn reset(&self) {
        *lock(&self.renamed) = None;
        let mut live = self.lock();
        let programme = live.programme + 1;
        *live = self.initial.clone();
        live.programme = programme;
    }

    fn provocations(&self) -> Vec<Provocation> {
        provocations::list()
    }

    fn publish_event(&self, event: &Value) -> Result<Value, String> {
        let sessions = self.publish_custom(event)?;
        Ok(json!({"sessions": sessions}))
    }
}

/// The virtual cloud: users, appliances, counters.
#[derive(Debug)]
pub struct Cloud {
    config: CloudConfig,
    users: Vec<User>,
    tokens: HashMap<String, u32>,
    /// The appliances now.
    roster: RwLock<Roster>,
    /// The appliances the cloud started with (the household, the fleet, a scenario's), which
    /// a reset restores.
    start: Roster,
    rate_limit: AtomicU64,
    rate_limit_code: AtomicU16,
    event_limit: AtomicUsize,
    addr: OnceLock<SocketAddr>,
    hub: Arc<Hub>,
}

impl Cloud {
    /// The cloud with the default household, plus `config.fleet` generated appliances.
    pub fn new(config: CloudConfig) -> Cloud {
        let mut users = vec![User::new(config.token.clone(), UserStatus::Active)];
        for (token, status) in USERS {
            users.push(User::new((*token).to_owned(), *status));
        }
        let fleet_users = config.fleet.div_ceil(10);
        for n in 0..fleet_users {
            users.push(User::new(format!("thinqpat-devfault-fleet-{n}"), UserStatus::Active));
        }
        let mut cloud = Cloud {
            rate_limit: AtomicU64::new(config.rate_limit),
            rate_limit_code: AtomicU16::new(config.rate_limit_code.code().as_u16()),
            event_limit: AtomicUsize::new(config.event_subscription_limit),
            tokens: users.iter().enumerate().map(|(i, u)| (u.token.clone(), i as u32)).collect(),
            users,
            roster: RwLock::default(),
            start: Roster::default(),
            addr: OnceLock::new(),
            hub: Hub::new(),
            config,
        };
        for (id, owner, device_type, alias, online, remote, reportable, patch) in HOUSEHOLD {
            let Some(kind) = kinds::by_type(device_type) else { continue };
            let mut state = kind.initial.clone();
            let patch: Value = serde_json::from_str(patch).unwrap_or(Value::Null);
            kinds::merge_state(&mut state, &patch);
            let live = Live {
                state: StateDoc::new(state),
                online: *online,
                remote: *remote,
                reportable: *reportable,
                push: false,
                event: None,
                programme: 0,
            };
            cloud.add((*id).to_owned(), kind, (*alias).to_owned(), (owner - 1, Some(*owner)), live);
        }
        let templates: Vec<Arc<StateDoc>> =
            kinds::all().iter().map(|kind| StateDoc::new(kind.initial.clone())).collect();
        let first_fleet_user = (1 + USERS.len()) as u32;
        for n in 0..cloud.config.fleet {
            let index = n % templates.len();
            let kind = &kinds::all()[index];
            let live = Live::fresh(Arc::clone(&templates[index]));
            let owner = first_fleet_user + (n / 10) as u32;
            cloud.add(format!("fleet-{n:05}"), kind, format!("Fleet {n}"), (owner, None), live);
        }
        cloud
    }

    /// Adds an appliance owned by `owner` (index in the users, user number shown) to the
    /// roster the cloud starts with.
    fn add(
        &mut self,
        id: String,
        kind: &'static Kind,
        alias: String,
        owner: (u32, Option<u32>),
        live: Live,
    ) {
        let hub = Arc::clone(&self.hub);
        let appliance = Arc::new(Appliance::new(id, kind, alias, owner, live, hub));
        self.start.insert(Arc::clone(&appliance));
        self.roster.get_mut().unwrap_or_else(PoisonError::into_inner).insert(appliance);
    }

    /// Adds an appliance of `device_type` owned by user `owner` (1-based; a new user with
    /// token `thinqpat-devfault-NNNN` is made for an owner not yet known), as a scenario
    /// file's `thinq.appliances` does.
    pub fn add_appliance(
        &mut self,
        id: &str,
        device_type: &str,
        owner: u32,
        alias: Option<&str>,
    ) -> Result<(), String> {
        if !is_device_id(id) {
            return Err(format!("{id:?} is not a device id: 1 to 128 of A-Za-z0-9._-"));
        }
        if self.start.by_id.contains_key(id) {
            return Err(format!("device {id:?} exists already"));
        }
        let kind = kinds::by_type(device_type).ok_or_else(|| {
            format!("{device_type:?} is not an emulated type; types: {}", kinds::type_names())
        })?;
        let index = match owner {
            0 => return Err("owner 0: users are numbered from 1".to_owned()),
            1 | 2 => owner - 1,
            n => {
                let token = user_token(n);
                match self.tokens.get(&token) {
                    Some(&index) => index,
                    None => {
                        let index = self.users.len() as u32;
                        self.tokens.insert(token.clone(), index);
                        self.users.push(User::new(token, UserStatus::Active));
                        index
                    }
                }
            }
        };
        let live = Live::fresh(StateDoc::new(kind.initial.clone()));
        self.add(id.to_owned(), kind, alias.unwrap_or(id).to_owned(), (index, Some(owner)), live);
        Ok(())
    }

    /// Adds an appliance now, as the admin API does (`POST /devices/thinq-cloud/members`):
    /// `{"deviceId", "deviceType", "owner" (a user number, default 1), "alias" (default the
    /// id)}`, in the type's initial state, online. The owner's clients that asked for
    /// lifecycle events (`POST /push/devices`) get a `DEVICE_REGISTERED`.
    pub fn register(&self, spec: &Value) -> Result<Arc<Appliance>, String> {
        let Value::Object(members) = spec else {
            return Err(format!(
                "the appliance {spec} is not a JSON object; send e.g. {REGISTER_EXAMPLE}"
            ));
        };
        let text = |key: &str| match members.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(format!("{key} is {other}: give a string")),
        };
        for key in members.keys() {
            if !["deviceId", "deviceType", "owner", "alias"].contains(&key.as_str()) {
                return Err(format!(
                    "{key:?} is not a member of an appliance; members: deviceId, deviceType, owner, alias"
                ));
            }
        }
        let id = text("deviceId")?
            .ok_or_else(|| format!("deviceId is missing; send e.g. {REGISTER_EXAMPLE}"))?;
        if !is_device_id(id) {
            return Err(format!("deviceId {id:?} is not a device id: 1 to 128 of A-Za-z0-9._-"));
        }
        let device_type = text("deviceType")?
            .ok_or_else(|| format!("deviceType is missing; types: {}", kinds::type_names()))?;
        let kind = kinds::by_type(device_type).ok_or_else(|| {
            format!(
                "deviceType {device_type:?} is not an emulated type; types: {}",
                kinds::type_names()
            )
        })?;
        let alias = text("alias")?.unwrap_or(id);
        if alias.is_empty() || alias.len() > 128 {
            return Err(format!("alias is {alias:?}: give a name of 1 to 128 bytes"));
        }
        let number = match members.get("owner") {
            None => 1,
            Some(value) => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("owner is {value}: give a user number (1, 2...)"))?,
        };
        let owner = self.user_numbered(number).ok_or_else(|| {
            format!(
                "owner {number}: no such user; give 1 (the --thinq-token's), 2 (the neighbour's) or a user a scenario's thinq.appliances made"
            )
        })?;
        let appliance = {
            let mut roster = self.roster_mut();
            if roster.by_id.contains_key(id) {
                return Err(format!("device {id:?} exists already"));
            }
            if DELETED.contains(&id) {
                return Err(format!(
                    "{id:?} stays the device its user deleted (it answers 1217): choose another id"
                ));
            }
            if roster.added >= MAX_ADDED_APPLIANCES {
                return Err(format!(
                    "{MAX_ADDED_APPLIANCES} appliances were added since the start (removed ones count): POST /reset starts again"
                ));
            }
            roster.added += 1;
            let hub = Arc::clone(&self.hub);
            let appliance = Arc::new(Appliance::new(
                id.to_owned(),
                kind,
                alias.to_owned(),
                (owner, Some(number)),
                Live::fresh(StateDoc::new(kind.initial.clone())),
                hub,
            ));
            roster.insert(Arc::clone(&appliance));
            appliance
        };
        appliance.publish_lifecycle(PushType::DeviceRegistered);
        Ok(appliance)
    }

    /// Removes an appliance now, as the admin API does (`DELETE /devices/{id}`): its
    /// programme stops, its subscriptions end, a request naming it is 1217 from now on, and
    /// the owner's clients that asked for lifecycle events get a `DEVICE_UNREGISTERED`.
    pub fn unregister(&self, id: &str) -> Result<(), String> {
        let appliance = self.roster_mut().remove(id).ok_or_else(|| {
            format!("no appliance {id:?} in the ThinQ cloud; GET /devices lists them")
        })?;
        {
            let mut live = appliance.lock();
            live.programme += 1;
            live.push = false;
            live.event = None;
        }
        appliance.publish_lifecycle(PushType::DeviceUnregistered);
        Ok(())
    }

    /// The index of the user with this number: 1 is the configured token's, 2 the
    /// neighbour's, others those a scenario made (`thinqpat-devfault-NNNN`).
    fn user_numbered(&self, number: u32) -> Option<u32> {
        match number {
            0 => None,
            1 => Some(0),
            n => self.tokens.get(&user_token(n)).copied(),
        }
    }

    fn roster(&self) -> std::sync::RwLockReadGuard<'_, Roster> {
        self.roster.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn roster_mut(&self) -> std::sync::RwLockWriteGuard<'_, Roster> {
        self.roster.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The event path: CA, clients, MQTT sessions.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &CloudConfig {
        &self.config
    }

    /// User 1's token.
    pub fn token(&self) -> &str {
        &self.config.token
    }

    /// Every appliance now, household first, those added at run time last.
    pub fn appliances(&self) -> Vec<Arc<Appliance>> {
        self.roster().appliances.clone()
    }

    /// The appliance with this id, if it exists now.
    pub fn appliance(&self, id: &str) -> Option<Arc<Appliance>> {
        self.roster().by_id.get(id).cloned()
    }

    /// The appliances of user `user` (an index in the users), in order.
    fn owned_by(&self, user: u32) -> Vec<Arc<Appliance>> {
        self.roster().owned_by(user).to_vec()
    }

    /// Tells the cloud where it listens, for `/route` (the first call wins).
    pub fn set_addr(&self, addr: SocketAddr) {
        let _ = self.addr.set(addr);
    }

    /// Where it listens, as told; `127.0.0.1:8081` until then.
    pub fn addr(&self) -> SocketAddr {
        self.addr.get().copied().unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8081)))
    }

    /// The user a bearer token belongs to: 1218 for nobody's, 1302/1303/1304 by status. The
    /// detail never quotes the token: it travels in a response header, which the journal keeps.
    fn user_of(&self, token: &str) -> Result<u32, Refusal> {
        let index = *self.tokens.get(token).ok_or_else(|| {
            Refusal::new(Code::INVALID_TOKEN_AGAIN, format!(
                "the bearer token ({} characters) is nobody's; user 1's is set by --thinq-token",
                token.len()
            ))
        })?;
        let refusal = |code, why: &str| Err(Refusal::new(code, format!("the bearer token: {why}")));
        match self.users.get(index as usize).map(|u| u.status) {
            Some(UserStatus::Active) => Ok(index),
            Some(UserStatus::Expired) => refusal(Code::NOT_FOUND_TOKEN, "expired"),
            Some(UserStatus::Deleted) => refusal(Code::NOT_FOUND_USER, "its user is deleted"),
            Some(UserStatus::TermsPending) => {
                refusal(Code::NOT_ACCEPTABLE_TERMS, "its user has not accepted the terms")
            }
            None => refusal(Code::NOT_FOUND_USER, "no such user"),
        }
    }

    /// Counts a call of `user`: over the limit in the current window is 1314 (or 1306).
    fn count_call(&self, user: u32) -> Result<(), Refusal> {
        let limit = self.rate_limit.load(Ordering::Relaxed);
        let Some(user) = self.users.get(user as usize) else { return Ok(()) };
        let mut calls = lock(&user.calls);
        let now = Instant::now();
        if now.duration_since(calls.0) >= self.config.rate_window {
            *calls = (now, 0);
        }
        calls.1 += 1;
        if limit > 0 && calls.1 > limit {
            let code = Code::new(u32::from(self.rate_limit_code.load(Ordering::Relaxed)))
                .unwrap_or(Code::EXCEEDED_USER_API_CALLS);
            let left = self.config.rate_window.saturating_sub(now.duration_since(calls.0));
            return Err(Refusal::new(
                code,
                format!("{limit} calls per window used; the window ends in {} s", left.as_secs()),
            ));
        }
        Ok(())
    }

    /// The appliance `id` as `user` may address it: 1224 for a malformed id, 1217 for a
    /// deleted one, 1205 for an unknown one, `foreign` (1212, or 1211 for subscriptions) for
    /// another user's.
    fn appliance_of(&self, user: u32, id: &str, foreign: Code) -> Result<Arc<Appliance>, Refusal> {
        if !is_device_id(id) {
            return Err(Refusal::new(
                Code::INVALID_DEVICE_ID,
                format!("{id:?} is not a device id: 1 to 128 of A-Za-z0-9._-"),
            ));
        }
        // A deleted or removed id is never in `by_id`, so the lookup comes first and the
        // deleted lists are read only for an id that is not there.
        let roster = self.roster();
        let appliance = match roster.by_id.get(id) {
            Some(appliance) => Arc::clone(appliance),
            None if DELETED.contains(&id) || roster.removed.contains(id) => {
                return Err(Refusal::new(
                    Code::ALREADY_DEVICE_DELETED,
                    format!("{id} was deleted"),
                ));
            }
            None => {
                return Err(Refusal::new(
                    Code::NOT_EXIST_DEVICE,
                    format!("no device {id:?}; GET /devices lists yours"),
                ));
            }
        };
        drop(roster);
        if appliance.owner != user {
            return Err(Refusal::new(foreign, format!("{id} belongs to another user")));
        }
        Ok(appliance)
    }

    fn user(&self, user: u32) -> Option<&User> {
        self.users.get(user as usize)
    }
}

/// The token of generated user `n` (1-based): `thinqpat-devfault-NNNN` with `n - 1`.
fn user_token(n: u32) -> String {
    format!("thinqpat-devfault-{:04}", n.saturating_sub(1))
}

impl Device for Cloud {
    fn id(&self) -> &str {
        CLOUD_ID
    }

    fn api(&self) -> &'static str {
        devfault_thinq::API
    }

    fn state(&self) -> Value {
        let code = self.rate_limit_code.load(Ordering::Relaxed);
        let roster = self.roster();
        let users: Vec<Value> = self
            .users
            .iter()
            .enumerate()
            .map(|(index, user)| {
                let calls = lock(&user.calls).1;
                let clients = lock(&user.clients).clone();
                json!({
                    "token": user.token,
                    "status": format!("{:?}", user.status).to_lowercase(),
                    "devices": roster.owned_by(index as u32).len(),
                    "calls_this_window": calls,
                    "clients": clients.registered,
                    "push_clients": clients.push,
                })
            })
            .collect();
        json!({
            "url": format!("http://{}", self.addr()),
            "rate_limit": self.rate_limit.load(Ordering::Relaxed),
            "rate_limit_code": format!("{code:04}"),
            "rate_window_s": self.config.rate_window.as_secs(),
            "event_subscription_limit": self.event_limit.load(Ordering::Relaxed),
            "appliances": roster.appliances.len(),
            "time_scale": self.config.time_scale,
            "mqtt": self.hub.state(),
            "users": users,
        })
    }

    /// `rate_limit` (calls per window, 0: none), `rate_limit_code` (`"1314"` or `"1306"`),
    /// `event_subscription_limit`.
    fn set_state(&self, patch: &Value) -> Result<(), String> {
        let Value::Object(members) = patch else {
            return Err(format!("the patch {patch} is not a JSON object"));
        };
        let mut staged = (None, None, None);
        let mut style = None;
        for (key, value) in members {
            match key.as_str() {
                "rate_limit" => {
                    staged.0 = Some(value.as_u64().ok_or_else(|| {
                        format!("rate_limit is {value}: give calls per window, 0 for no limit")
                    })?);
                }
                "rate_limit_code" => {
                    staged.1 = Some(match value.as_str() {
                        Some("1314") => RateLimitCode::UserApiCalls,
                        Some("1306") => RateLimitCode::ApiCalls,
                        _ => {
                            return Err(format!(
                                "rate_limit_code is {value}: give \"1314\" or \"1306\""
                            ));
                        }
                    });
                }
                "event_subscription_limit" => {
                    staged.2 =
                        Some(value.as_u64().and_then(|v| usize::try_from(v).ok()).ok_or_else(
                            || format!("event_subscription_limit is {value}: give a count"),
                        )?);
                }
                "event_payload" => {
                    style = Some(value.as_str().and_then(events::PayloadStyle::parse).ok_or_else(
                        || format!("event_payload is {value}: give \"flat\" or \"wrapped\""),
                    )?);
                }
                other => {
                    return Err(format!(
                        "{other:?} is not a setting of the cloud; settings: rate_limit, rate_limit_code, event_subscription_limit, event_payload"
                    ));
                }
            }
        }
        if let Some(limit) = staged.0 {
            self.rate_limit.store(limit, Ordering::Relaxed);
        }
        if let Some(code) = staged.1 {
            self.rate_limit_code.store(code.code().as_u16(), Ordering::Relaxed);
        }
        if let Some(limit) = staged.2 {
            self.event_limit.store(limit, Ordering::Relaxed);
        }
        if let Some(style) = style {
            self.hub.set_style(style);
        }
        Ok(())
    }

    fn ca_pem(&self) -> Option<String> {
        self.hub.ca().ok().map(|ca| ca.pem().to_owned())
    }

    fn provocations_by_api(&self) -> Vec<(&'static str, Vec<Provocation>)> {
        vec![(devfault_thinq::API, self.provocations()), (mqtt::API, mqtt::faults::provocations())]
    }

    fn members(&self) -> Vec<Arc<dyn Device>> {
        self.roster().appliances.iter().map(|a| Arc::clone(a) as Arc<dyn Device>).collect()
    }

    fn member(&self, id: &str) -> Option<Arc<dyn Device>> {
        self.appliance(id).map(|a| a as Arc<dyn Device>)
    }

    fn add_member(&self, spec: &Value) -> Result<Arc<dyn Device>, String> {
        self.register(spec).map(|a| a as Arc<dyn Device>)
    }

    fn remove_member(&self, id: &str) -> Result<(), String> {
        self.unregister(id)
    }

    fn removed_member(&self, id: &str) -> bool {
        self.roster().removed.contains(id)
    }

    /// Back to the configured limits and the appliances the cloud started with, each reset;
    /// call counters and client registrations cleared. Appliances added since the start stop
    /// (their programmes end) and are gone.
    fn reset(&self) {
        let added = std::mem::replace(&mut *self.roster_mut(), self.start.clone());
        for appliance in &added.appliances {
            appliance.lock().programme += 1;
        }
        for appliance in &self.start.appliances {
            appliance.reset();
        }
        self.rate_limit.store(self.config.rate_limit, Ordering::Relaxed);
        self.rate_limit_code.store(self.config.rate_limit_code.code().as_u16(), Ordering::Relaxed);
        self.event_limit.store(self.config.event_subscription_limit, Ordering::Relaxed);
        for user in &self.users {
            *lock(&user.calls) = (Instant::now(), 0);
            *lock(&user.clients) = Clients::default();
        }
        self.hub.reset();
    }

    fn provocations(&self) -> Vec<Provocation> {
        provocations::list()
    }
}

#[cfg(test)]
mod tests;
