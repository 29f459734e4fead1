//! The virtual BRAVIA display: `POST /sony/{service}` JSON-RPC for guide, system, audio,
//! avContent, appControl, videoScreen, video, encryption and accessControl, plus IRCC-IP at
//! `/sony/ircc`, with real state, PSK and PIN/cookie authentication, and every code of the
//! page that a real situation can produce reachable by that situation.
//!
//! - [`Display`] holds the state (power, volumes, input, apps, settings, key, PIN, cookies) and
//!   implements [`crate::device::Device`] for the admin API.
//! - [`router`] serves it. It does no fault injection and no journaling: wrap it in layers for
//!   that; they see every request and response.
//! - One table of methods (`methods::METHODS`) drives dispatch, `guide.getSupportedApiInfo`,
//!   and each service's `getVersions` and `getMethodTypes`.
//! - Every error body comes from a registry row through `devfault_bravia::wire`'s encoders.
//!
//! ```
//! use std::sync::Arc;
//! use devfault_emulator::bravia::{Display, DisplayConfig, router};
//! use devfault_emulator::device::Device;
//!
//! let display = Arc::new(Display::new("bravia-0".to_owned(), DisplayConfig::default()));
//! display.set_state(&serde_json::json!({"power": "standby", "volume": {"speaker": 30}})).unwrap();
//! assert_eq!(display.state()["volume"]["speaker"]["volume"], 30);
//! let _app: axum::Router = router(display);
//! ```

mod auth;
mod ircc;
mod methods;
mod provocations;
mod router;
mod state;

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use auth::AuthMode;
pub use router::router;
pub use state::Power;

use crate::device::{Device, Provocation};
use auth::AuthState;
use state::State;

/// Behaviours on which real displays differ; each switch names its default and why.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Quirks {
    /// What methods other than `getPowerStatus` answer in standby. Default
    /// [`StandbyError::NotPowerOn`], the consumer Android displays' `[7, "not power-on"]`,
    /// the one string pybravia recognises as "turned off".
    pub standby_error: StandbyError,
    /// HTTP-layer errors (401, 403, 404, 413, 414, 501, 503) carry the protocol body
    /// `{"error": [status, "reason"], "id": N}` (default `true`, as the page's rule requires),
    /// or nothing (`false`, as many real displays and mocks send). IRCC's 403 is always bare.
    pub http_error_body: bool,
    /// Which spelling of the IRCC path answers. Default [`IrccPath::Both`]; some firmware
    /// answers only one and 404s the other (pybravia swaps the case on 404).
    pub ircc_path: IrccPath,
    /// `system.getInterfaceInformation.interfaceVersion` (and `getSystemInformation.generation`).
    /// Default `"3.6.0"`: braviaproapi refuses to talk to anything outside 3.x, while pybravia
    /// and the bravia_api crate ignore the value, so 3.6.0 lets every known client connect. The
    /// real FW-55BZ35F says `"5.0.1"`: set that to see braviaproapi refuse.
    pub interface_version: String,
}

impl Default for Quirks {
    fn default() -> Quirks {
        Quirks {
            standby_error: StandbyError::NotPowerOn,
            http_error_body: true,
            ircc_path: IrccPath::Both,
            interface_version: "3.6.0".to_owned(),
        }
    }
}

/// The standby answer of methods that need the display on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum StandbyError {
    /// `[7, "not power-on"]`: consumer Android displays.
    #[default]
    NotPowerOn,
    /// `[40005, "Display is turned off"]`: other models.
    DisplayOff,
}

/// Which IRCC path spellings answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum IrccPath {
    /// `/sony/ircc` and `/sony/IRCC`.
    #[default]
    Both,
    /// Only `/sony/ircc`; `/sony/IRCC` is 404.
    LowerOnly,
    /// Only `/sony/IRCC`; `/sony/ircc` is 404.
    UpperOnly,
}

/// How a display is set up: credentials, limits, processing times, quirks.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DisplayConfig {
    /// The authentication mode. Default [`AuthMode::Psk`].
    pub auth: AuthMode,
    /// The pre-shared key. Default `Some("0000")`.
    pub psk: Option<String>,
    /// How long an `auth` cookie from `actRegister` lasts. Default 14 days, as user reports.
    pub cookie_max_age: Duration,
    /// The largest request body; more is 413. Default 1 MiB.
    pub max_body_bytes: usize,
    /// The longest request target (path and query); more is 414. Default 2048.
    pub max_uri_bytes: usize,
    /// Requests processed at once; more are refused with 503 at once. Default 64.
    pub max_concurrent_requests: usize,
    /// How long a request body may take to arrive; then `[2, "Timeout"]`. Default 10 s.
    pub body_timeout: Duration,
    /// The processing time of the slow methods, `getContentList` and `getContentCount`
    /// (real displays take seconds). A second identical request meanwhile is 40003.
    /// Default 500 ms.
    pub slow_method_delay: Duration,
    /// How long an app launch takes, unless the app sets its own. Default 1 s.
    pub app_launch_delay: Duration,
    /// A launch slower than this is answered 41402 at this point and completes later.
    /// Default 3 s.
    pub launch_undecided_after: Duration,
    /// How long the web service restarts after `requestReboot` (404 meanwhile). Default 20 s,
    /// real Android displays take 20–30 s.
    pub reboot_duration: Duration,
    /// How long a request to an unreachable display is held unanswered before it is
    /// dropped with 503. Default 60 s, longer than every known client's timeout.
    pub unreachable_hold: Duration,
    /// The quirks.
    pub quirks: Quirks,
}

impl Default for DisplayConfig {
    fn default() -> DisplayConfig {
        DisplayConfig {
            auth: AuthMode::Psk,
            psk: Some("0000".to_owned()),
            cookie_max_age: Duration::from_secs(14 * 24 * 3600),
            max_body_bytes: 1024 * 1024,
            max_uri_bytes: 2048,
            max_concurrent_requests: 64,
            body_timeout: Duration::from_secs(10),
            slow_method_delay: Duration::from_millis(500),
            app_launch_delay: Duration::from_secs(1),
            launch_undecided_after: Duration::from_secs(3),
            reboot_duration: Duration::from_secs(20),
            unreachable_hold: Duration::from_secs(60),
            quirks: Quirks::default(),
        }
    }
}

/// A virtual BRAVIA display.
#[derive(Debug)]
pub struct Display {
    id: String,
    config: DisplayConfig,
    initial: State,
    state: Mutex<State>,
    auth: Mutex<AuthState>,
    /// Keys of the requests being processed, for 40003.
    inflight: Mutex<HashSet<String>>,
    /// The end of the web service's restart window (404 until then).
    restart_until: Mutex<Option<Instant>>,
}

impl Display {
    /// A display in its initial state: on, HDMI 1, no app active.
    pub fn new(id: String, config: DisplayConfig) -> Display {
        let initial = State::initial(&config.quirks.interface_version);
        Display {
            id,
            config,
            state: Mutex::new(initial.clone()),
            initial,
            auth: Mutex::new(AuthState::default()),
            inflight: Mutex::new(HashSet::new()),
            restart_until: Mutex::new(None),
        }
    }

    /// A display that starts from its initial state changed by `patch` (as
    /// [`Device::set_state`] takes it); `reset` comes back to that state.
    pub fn with_state(id: String, config: DisplayConfig, patch: &Value) -> Result<Display, String> {
        let mut display = Display::new(id, config);
        display.initial.apply(patch)?;
        display.state = Mutex::new(display.initial.clone());
        Ok(display)
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &DisplayConfig {
        &self.config
    }

    /// The power state.
    pub fn power(&self) -> Power {
        self.lock_state().power
    }

    /// False while the display is [`Power::Unreachable`]: a server may refuse connections.
    pub fn is_reachable(&self) -> bool {
        self.power() != Power::Unreachable
    }

    /// The PIN on the display's screen after an `actRegister` without the right PIN.
    pub fn current_pin(&self) -> Option<String> {
        self.lock_auth().pin().map(str::to_owned)
    }

    /// Starts a "web service restarting" window: for `duration`, every `/sony/` request gets
    /// HTTP 404 `{"error":[404,"Not Found"]}` without id.
    pub fn start_restart_window(&self, duration: Duration) {
        *lock(&self.restart_until) = Some(Instant::now() + duration);
    }

    /// What is left of the restart window, if one is open.
    pub fn restart_remaining(&self) -> Option<Duration> {
        let mut until = lock(&self.restart_until);
        let left = until.map(|end| end.saturating_duration_since(Instant::now()));
        match left {
            Some(left) if !left.is_zero() => Some(left),
            _ => {
                *until = None;
                None
            }
        }
    }

    /// The state, with a finished app launch completed.
    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        let mut state = lock(&self.state);
        state.settle(Instant::now());
        state
    }

    pub(crate) fn lock_auth(&self) -> MutexGuard<'_, AuthState> {
        lock(&self.auth)
    }

    /// Marks a request as being processed; `None` when an identical one already is.
    pub(crate) fn begin(&self, key: String) -> Option<Inflight<'_>> {
        let mut inflight = lock(&self.inflight);
        if inflight.contains(&key) {
            return None;
        }
        inflight.insert(key.clone());
        Some(Inflight { display: self, key })
    }
}

/// A request being processed; dropping it (answered or abandoned) ends it.
#[derive(Debug)]
pub(crate) struct Inflight<'d> {
    display: &'d Display,
    key: String,
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        lock(&self.display.inflight).remove(&self.key);
    }
}

/// A lock that survives a panicked holder: the state is plain data, always consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Device for Display {
    fn id(&self) -> &str {
        &self.id
    }

    fn api(&self) -> &'static str {
        devfault_bravia::API
    }

    fn state(&self) -> Value {
        let mut state = self.lock_state().to_json(Instant::now());
        let auth = self.lock_auth();
        if let Value::Object(members) = &mut state {
            members.insert(
                "auth".to_owned(),
                json!({
                    "mode": self.config.auth.as_str(),
                    "pin": auth.pin(),
                    "registered_clients": auth.clients(),
                }),
            );
            members.insert(
                "restarting_ms".to_owned(),
                json!(self.restart_remaining().map(state::millis)),
            );
        }
        state
    }

    fn set_state(&self, patch: &Value) -> Result<(), String> {
        self.lock_state().apply(patch)
    }

    fn reset(&self) {
        *self.lock_state() = self.initial.clone();
        *self.lock_auth() = AuthState::default();
        *lock(&self.restart_until) = None;
    }

    fn provocations(&self) -> Vec<Provocation> {
        provocations::list(&self.config)
    }
}

#[cfg(test)]
mod tests;
