//! Authentication: the pre-shared key (compared in constant time), the PIN registration of
//! `accessControl.actRegister` and the `auth` cookie it issues, and per-method auth levels.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

use super::DisplayConfig;

/// The display's authentication setting (menu *IP control → Authentication*).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum AuthMode {
    /// No authentication: every method is open.
    None,
    /// Pre-shared key: generic and private methods need `X-Auth-PSK`.
    #[default]
    Psk,
    /// "Normal": PIN registration (`actRegister`) and the `auth` cookie.
    Pin,
    /// "Normal and Pre-Shared Key": either credential passes.
    PskAndPin,
}

impl AuthMode {
    /// Every mode, in the order the menu lists them.
    pub const ALL: [AuthMode; 4] =
        [AuthMode::None, AuthMode::Psk, AuthMode::Pin, AuthMode::PskAndPin];

    /// The name used by `serve --auth`, scenario files and the admin API (`none`, `psk`, `pin`,
    /// `psk+pin`); [`str::parse`] reads it back.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Psk => "psk",
            AuthMode::Pin => "pin",
            AuthMode::PskAndPin => "psk+pin",
        }
    }

    /// One line for a person choosing a mode (`serve --help`).
    pub fn describe(self) -> &'static str {
        match self {
            AuthMode::None => "No authentication.",
            AuthMode::Psk => "Pre-shared key in X-Auth-PSK.",
            AuthMode::Pin => "PIN registration (accessControl.actRegister) and the auth cookie.",
            AuthMode::PskAndPin => "Either credential.",
        }
    }

    fn psk(self) -> bool {
        matches!(self, AuthMode::Psk | AuthMode::PskAndPin)
    }

    /// Whether the PIN flow and cookies are on.
    pub(crate) fn pin(self) -> bool {
        matches!(self, AuthMode::Pin | AuthMode::PskAndPin)
    }
}

impl std::str::FromStr for AuthMode {
    type Err = UnknownAuthMode;

    /// The one parse of a mode's name, for the CLI, scenario files and the admin API.
    fn from_str(name: &str) -> Result<AuthMode, UnknownAuthMode> {
        AuthMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == name)
            .ok_or_else(|| UnknownAuthMode(name.to_owned()))
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`AuthMode`]; its message lists the accepted names.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnknownAuthMode(pub String);

impl std::fmt::Display for UnknownAuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = AuthMode::ALL.iter().map(|mode| mode.as_str()).collect();
        write!(f, "{:?} is not an authentication mode; give one of {}", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownAuthMode {}

/// A method's authentication level, as `getSupportedApiInfo` reports it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) enum Level {
    None,
    Generic,
    Private,
}

impl Level {
    /// The `authLevel` string; `None` for `none`, which the real dump leaves out.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Level::None => None,
            Level::Generic => Some("generic"),
            Level::Private => Some("private"),
        }
    }

    fn parse(text: &str) -> Option<Level> {
        match text {
            "generic" => Some(Level::Generic),
            "private" => Some(Level::Private),
            _ => None,
        }
    }
}

/// What a request carries, read once from its headers.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct Credentials {
    /// `X-Auth-PSK` equals the display's key.
    pub psk_ok: bool,
    /// The level granted by a valid, unexpired `auth` cookie.
    pub cookie: Option<Level>,
    /// The password of `Authorization: Basic base64(":PIN")`.
    pub basic_pin: Option<String>,
}

/// The longest pre-shared key accepted.
pub const MAX_PSK_CHARS: usize = 128;

/// Checks a pre-shared key: 1 to [`MAX_PSK_CHARS`] visible ASCII characters, what a client
/// can send in `X-Auth-PSK` as is (an empty key could never be matched, and a display's menu
/// takes no spaces).
pub fn check_psk(psk: &str) -> Result<(), String> {
    if psk.is_empty() || psk.len() > MAX_PSK_CHARS || !psk.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{psk:?} is not a pre-shared key: give 1 to {MAX_PSK_CHARS} visible ASCII characters (no space)"
        ));
    }
    Ok(())
}

impl Credentials {
    /// The credentials of a request but its cookie: what a display whose mode has no PIN
    /// flow reads (it never issued a cookie), without the lock on its [`AuthState`].
    pub fn without_cookie(config: &DisplayConfig, headers: &HeaderMap) -> Credentials {
        let psk_ok = config.auth.psk()
            && config.psk.as_deref().is_some_and(|key| {
                headers
                    .get("x-auth-psk")
                    .is_some_and(|sent| sent.as_bytes().ct_eq(key.as_bytes()).into())
            });
        Credentials { psk_ok, cookie: None, basic_pin: basic_pin(headers) }
    }
}

/// A cookie the display issued.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Grant {
    level: Level,
    expires: Instant,
}

/// The PIN on screen, the clients registered with it and the cookies issued.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub(crate) struct AuthState {
    pin: Option<String>,
    /// clientid → the PIN it registered with; pybravia re-registers with the same PIN.
    clients: HashMap<String, String>,
    tokens: HashMap<String, Grant>,
}

/// What `actRegister` decided.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Registration {
    /// Registered: send `Set-Cookie` with this value.
    Cookie(String),
    /// The mode has no PIN flow: answer success without a cookie.
    NoCookie,
    /// No or wrong PIN: a new PIN is on screen; answer 401.
    PinShown,
}

impl AuthState {
    pub fn pin(&self) -> Option<&str> {
        self.pin.as_deref()
    }

    pub fn clients(&self) -> Vec<&str> {
        let mut clients: Vec<&str> = self.clients.keys().map(String::as_str).collect();
        clients.sort_unstable();
        clients
    }

    /// Reads the credentials of a request.
    pub fn credentials(
        &mut self,
        config: &DisplayConfig,
        headers: &HeaderMap,
        now: Instant,
    ) -> Credentials {
        let mut credentials = Credentials::without_cookie(config, headers);
        self.tokens.retain(|_, grant| grant.expires > now);
        if config.auth.pin() {
            credentials.cookie =
                cookie_token(headers).and_then(|token| self.tokens.get(&token)).map(|g| g.level);
        }
        credentials
    }

    /// The PIN flow of `actRegister` for `clientid` at `level`.
    pub fn register(
        &mut self,
        config: &DisplayConfig,
        credentials: &Credentials,
        clientid: &str,
        level: Level,
        now: Instant,
    ) -> Registration {
        if !config.auth.pin() {
            return Registration::NoCookie;
        }
        let by_pin = credentials.basic_pin.as_deref().is_some_and(|offered| {
            let on_screen = self.pin.as_deref().is_some_and(|pin| same(pin, offered));
            let known = self.clients.get(clientid).is_some_and(|pin| same(pin, offered));
            on_screen || known
        });
        let by_cookie = credentials.cookie.is_some() && self.clients.contains_key(clientid);
        if by_pin || by_cookie {
            if let Some(offered) = credentials.basic_pin.clone().filter(|_| by_pin) {
                self.clients.insert(clientid.to_owned(), offered);
                self.pin = None;
            }
            let token = token();
            self.tokens
                .insert(token.clone(), Grant { level, expires: now + config.cookie_max_age });
            return Registration::Cookie(token);
        }
        // Never show the PIN that was just refused: the next attempt must need the new one.
        let mut pin = new_pin();
        while credentials.basic_pin.as_deref() == Some(pin.as_str()) {
            pin = new_pin();
        }
        self.pin = Some(pin);
        Registration::PinShown
    }
}

/// Whether a request with `credentials` may call a method of `level` under `mode`.
pub(crate) fn allows(mode: AuthMode, credentials: &Credentials, level: Level) -> bool {
    match (mode, level) {
        (AuthMode::None, _) | (_, Level::None) => true,
        _ => credentials.psk_ok || credentials.cookie.is_some_and(|granted| granted >= level),
    }
}

/// The level an `actRegister` asks for: `private` unless it says `generic`.
pub(crate) fn requested_level(text: Option<&str>) -> Option<Level> {
    match text {
        None => Some(Level::Private),
        Some(text) => Level::parse(text),
    }
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The value of the `auth` cookie, from any `Cookie` header.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("auth=").map(str::to_owned))
}

/// The password of `Authorization: Basic base64("user:password")`.
fn basic_pin(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, password)| password.to_owned())
}

/// Unpredictable enough for a test device: the standard library's randomly keyed hasher over
/// a counter and the clock.
pub(crate) fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}

fn new_pin() -> String {
    format!("{:04}", random_u64() % 10_000)
}

fn token() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}
