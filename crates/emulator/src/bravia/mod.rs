//! The virtual BRAVIA display: `POST /sony/{service}` JSON-RPC for guide, system, audio,
//! avContent, appControl, videoScreen, video, encryption and accessControl, plus IRCC-IP at
//! `/sony/ircc`, with real state, PSK and PIN/cookie authentication, and every code of the
//! page that a real situation can produce reachable by that situation.
//!
//! - [`VirtualDisplay`] holds the state (power, volumes, input, apps, settings, key, PIN, cookies) and
//!   implements [`crate::device::Device`] for the admin API.
//! - [`router`] serves it. It does no fault injection and no journaling: wrap it in layers for
//!   that; they see every request and response.
//! - One table of methods (`methods::METHODS`) drives dispatch, `guide.getSupportedApiInfo`,
//!   and each service's `getVersions` and `getMethodTypes`.
//! - Every error body comes from a registry row through `devfault_bravia::wire`'s encoders.
//!
//! ```
//! use std::sync::Arc;
//! use devfault_emulator::bravia::{VirtualDisplay, DisplayConfig, router};
//! use devfault_emulator::device::Device;
//!
//! let display = Arc::new(Display::new("bravia-0".to_owned(), DisplayConfig::default()));
//! display.set_state(&serde_json::json!({"power": "standby", "volume": {"speaker": 30}})).unwrap();
//! assert_eq!(display.state()["volume"]["speaker"]["volume"], 30);
//! let _app: axum::Router = router(display);
//! ```

mod auth;
mod codec;
mod ircc;
mod library;
mod methods;
mod provocations;
mod router;
mod screen;
mod state;

use std::collections::HashSet;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use auth::{AuthMode, MAX_PSK_CHARS, UnknownAuthMode, check_psk};
pub use codec::BraviaCodec;
pub use router::router;
pub use state::Power;

use crate::device::{Device, Provocation};
use auth::AuthState;
use state::State;

/// Behaviours on which real displays differ; each switch names its default and why.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Quirks {
    /// What methods other than `getPowerStatus` answer in standby. Default
    /// [`StandbyReply::NotPowerOn`], the consumer Android displays' `[7, "not power-on"]`,
    /// the one string pybravia recognises as "turned off".
    pub standby_error: StandbyReply,
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
            standby_error: StandbyReply::NotPowerOn,
            http_error_body: true,
            ircc_path: IrccPath::Both,
            interface_version: "3.6.0".to_owned(),
        }
    }
}

/// The standby answer of methods that need the display on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum StandbyReply {
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
    /// How long a `setMultiScreenMode` layout change takes; another layout setter meanwhile
    /// is 40600 "Screen Change in Progress". Default 1 s.
    pub screen_change_delay: Duration,
    /// How long `requestToNotifyScreenState` holds a long poll whose layout has not changed
    /// before answering 40000 "Request Retry". Default 30 s.
    pub notify_hold: Duration,
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
            screen_change_delay: Duration::from_secs(1),
            notify_hold: Duration::from_secs(30),
            quirks: Quirks::default(),
        }
    }
}

/// A virtual BRAVIA display.
///
/// Every request reads the power state and the restart window, so both are also kept in
/// atomics that a request reads without a lock: under load, the locks taken per request were
/// what the two cores waited on.
#[derive(Debug)]
pub struct VirtualDisplay {
    id: String,
    config: DisplayConfig,
    initial: State,
    state: Mutex<State>,
    /// `state.power`, as [`power_code`], written whenever a [`StateGuard`] is dropped.
    power: AtomicU8,
    auth: Mutex<AuthState>,
    /// Keys of the requests being processed, for 40003.
    inflight: Mutex<HashSet<Vec<u8>>>,
    /// When the display was made: the origin of `restart_until`.
    epoch: Instant,
    /// The end of the web service's restart window (404 until then), in nanoseconds since
    /// `epoch`; 0 when no window is open.
    restart_until: AtomicU64,
    /// `requestToNotifyScreenState` long polls being held, for 40001.
    watchers: AtomicUsize,
}

/// [`Power`] as an integer for [`VirtualDisplay::power`]'s atomic.
fn power_code(power: Power) -> u8 {
    match power {
        Power::Active => 0,
        Power::Standby => 1,
        Power::Unreachable => 2,
    }
}

/// The inverse of [`power_code`].
fn power_of(code: u8) -> Power {
    match code {
        0 => Power::Active,
        1 => Power::Standby,
        _ => Power::Unreachable,
    }
}

impl VirtualDisplay {
    /// A display in its initial state: on, HDMI 1, no app active.
    pub fn new(id: String, config: DisplayConfig) -> VirtualDisplay {
        let initial = State::initial(&config.quirks.interface_version);
        VirtualDisplay {
            id,
            config,
            power: AtomicU8::new(power_code(initial.power)),
            state: Mutex::new(initial.clone()),
            initial,
            auth: Mutex::new(AuthState::default()),
            inflight: Mutex::new(HashSet::new()),
            epoch: Instant::now(),
            restart_until: AtomicU64::new(0),
            watchers: AtomicUsize::new(0),
        }
    }

    /// A display that starts from its initial state changed by `patch` (as
    /// [`Device::set_state`] takes it); `reset` comes back to that state.
    pub fn with_state(
        id: String,
        config: DisplayConfig,
        patch: &Value,
    ) -> Result<VirtualDisplay, String> {
        let mut display = VirtualDisplay::new(id, config);
        display.initial.apply(patch)?;
        display.state = Mutex::new(display.initial.clone());
        display.power = AtomicU8::new(power_code(display.initial.power));
        Ok(display)
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &DisplayConfig {
        &self.config
    }

    /// The power state.
    pub fn power(&self) -> Power {
        power_of(self.power.load(Ordering::Acquire))
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
        // A window past what an Instant can hold stays open (u64::MAX, centuries).
        let nanos = Instant::now().checked_add(duration).map_or(u64::MAX, |end| {
            let since = end.saturating_duration_since(self.epoch);
            // At least 1: 0 means no window.
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX).max(1)
        });
        self.restart_until.store(nanos, Ordering::Release);
    }

    /// What is left of the restart window, if one is open.
    pub fn restart_remaining(&self) -> Option<Duration> {
        let nanos = self.restart_until.load(Ordering::Acquire);
        if nanos == 0 {
            return None;
        }
        let Some(end) = self.epoch.checked_add(Duration::from_nanos(nanos)) else {
            return Some(Duration::MAX);
        };
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Closed, unless a new window was opened meanwhile.
            let _ =
                self.restart_until.compare_exchange(nanos, 0, Ordering::AcqRel, Ordering::Acquire);
            return None;
        }
        Some(left)
    }

    /// The state, with a finished app launch completed.
    pub(crate) fn lock_state(&self) -> StateGuard<'_> {
        let mut state = lock(&self.state);
        state.settle(Instant::now());
        StateGuard { state, published: &self.power }
    }

    pub(crate) fn lock_auth(&self) -> MutexGuard<'_, AuthState> {
        lock(&self.auth)
    }

    /// What a request's headers carry. Only a mode with the PIN flow has cookies to look up
    /// (and expire), so only it takes the lock on the auth state.
    pub(crate) fn credentials(&self, headers: &axum::http::HeaderMap) -> auth::Credentials {
        if self.config.auth.pin() {
            self.lock_auth().credentials(&self.config, headers, Instant::now())
        } else {
            auth::Credentials::without_cookie(&self.config, headers)
        }
    }

    /// Holds a long poll; `None` when [`screen::MAX_WATCHERS`] are already held.
    pub(crate) fn watch(&self) -> Option<Watcher<'_>> {
        let taken = self.watchers.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < screen::MAX_WATCHERS).then_some(n + 1)
        });
        taken.ok().map(|_| Watcher { display: self })
    }

    /// Marks a request as being processed; `None` when an identical one already is.
    pub(crate) fn begin(&self, key: Vec<u8>) -> Option<Inflight<'_>> {
        if !lock(&self.inflight).insert(key.clone()) {
            return None;
        }
        Some(Inflight { display: self, key })
    }
}

/// The locked state; dropping it publishes the power state to [`VirtualDisplay::power`].
#[derive(Debug)]
pub(crate) struct StateGuard<'d> {
    state: MutexGuard<'d, State>,
    /// [`VirtualDisplay`]'s `power` (not named so: `guard.power` must reach the state's field).
    published: &'d AtomicU8,
}

impl Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        // Still under the lock (the guard field drops after this), so writes are in the
        // order of the changes.
        self.published.store(power_code(self.state.power), Ordering::Release);
    }
}

/// A request being processed; dropping it (answered or abandoned) ends it.
#[derive(Debug)]
pub(crate) struct Inflight<'d> {
    display: &'d VirtualDisplay,
    key: Vec<u8>,
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        lock(&self.display.inflight).remove(&self.key);
    }
}

/// A held long poll; dropping it (answered or abandoned) frees its place.
#[derive(Debug)]
pub(crate) struct Watcher<'d> {
    display: &'d VirtualDisplay,
}

impl Drop for Watcher<'_> {
    fn drop(&mut self) {
        self.display.watchers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A lock that survives a panicked holder: the state is plain data, always consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Device for VirtualDisplay {
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
        self.restart_until.store(0, Ordering::Release);
    }

    fn provocations(&self) -> Vec<Provocation> {
        provocations::list(&self.config)
    }
}

#[cfg(test)]
mod tests;
