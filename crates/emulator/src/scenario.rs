//! Scenario files: a fleet of displays, the ThinQ cloud's settings and appliances, their
//! starting state, fault rules and a seed, in one JSON file given to
//! `devfault serve --scenario FILE`.
//!
//! ```json
//! {
//!   "description": "three displays: bravia-1 asleep and paired by PIN, bravia-2 flaky",
//!   "seed": 42,
//!   "displays": {
//!     "count": 3,
//!     "config": { "psk": "0000" },
//!     "each": {
//!       "bravia-1": { "auth": "pin", "psk": null, "quirks": { "standby_error": "display_off" } },
//!       "bravia-2": { "quirks": { "http_error_body": false, "interface_version": "5.0.1" } }
//!     }
//!   },
//!   "thinq": {
//!     "rate_limit": 100,
//!     "appliances": [ { "id": "washer-attic", "type": "DEVICE_WASHER", "owner": 3 } ]
//!   },
//!   "state": {
//!     "bravia-1": { "power": "standby" },
//!     "washer-attic": { "online": false },
//!     "ac-living-room": { "airConJobMode": { "currentJobMode": "AIR_DRY" } }
//!   },
//!   "faults": [
//!     { "match": { "device": "bravia-2", "service": "audio" }, "action": "reset", "count": 2 },
//!     { "match": { "device": "bravia-2" }, "action": "delay", "delay_ms": 1500,
//!       "probability": 0.3 },
//!     { "match": { "service": "system", "method": "getPowerStatus" },
//!       "action": "code", "code": 40000, "probability": 0.5 },
//!     { "match": { "method": "getContentList" },
//!       "action": "code", "code": 7, "message": "not power-on" },
//!     { "match": { "path": "/sony/appControl" },
//!       "action": "status", "status": 503, "headers": { "Retry-After": "5" } },
//!     { "match": { "device": "fridge-kitchen", "method": "get_device_status" },
//!       "action": "code", "code": "2209", "count": 1 }
//!   ]
//! }
//! ```
//!
//! Every member is optional: `{}` is one display with the defaults and no rules.
//!
//! - `seed`: the seed of the rules' random draws (`serve --seed` wins).
//! - `displays.count`: 1 to 4096 displays ([`MAX_DISPLAYS`]), `bravia-0`, `bravia-1`..., on
//!   consecutive ports (`serve --displays` wins).
//! - `displays.config`: settings for every display; `displays.each.<id>`: settings for one,
//!   over `config`. The settings are listed in [`DISPLAY_SETTINGS`] and [`QUIRK_SETTINGS`]
//!   (durations in milliseconds); `serve --psk` wins over both.
//! - `state.<id>`: a state patch, as `PATCH /devices/<id>` takes it, applied at start and at
//!   every `POST /reset`.
//! - `thinq`: the ThinQ cloud: `token` (user 1's), `devices` (generated appliances),
//!   `rate_limit` (calls per token per hour, 0 for none), `rate_limit_code` (`"1314"` or
//!   `"1306"`), `event_subscription_limit`, and `appliances`: `id`, `type` (a deviceType of
//!   the emulated ones), `owner` (user number, default 1; user N > 2 gets the token
//!   `thinqpat-devfault-` and N - 1 in four digits), `alias`. `serve --thinq-*` wins.
//!   ThinQ appliances and `thinq-cloud` take `state` patches as `PATCH /devices/<id>` does.
//! - `faults`: fault rules, as `POST /faults` takes them, tried in this order.
//!
//! Every error names the file, the line and column, and the member (`faults[1].code`), with
//! what would be accepted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::admin::Baseline;
use crate::bravia::{AuthMode, DisplayConfig, IrccPath, StandbyReply};
use crate::faults::{Faults, RuleSpec};
use crate::thinq::{Cloud, CloudConfig, RateLimitCode};

/// The most displays one process runs, from a scenario file as from `serve --displays N`.
pub use crate::server::MAX_DISPLAYS;

/// A scenario, as read from its file.
#[derive(Clone, Default, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Free text saying what the scenario is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The seed of the fault rules' random draws.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The BRAVIA displays.
    #[serde(default)]
    pub displays: Displays,
    /// State patches applied at start (and at every `POST /reset`), by device id.
    #[serde(default)]
    pub state: BTreeMap<String, Value>,
    /// Fault rules, tried in this order.
    #[serde(default)]
    pub faults: Vec<RuleSpec>,
    /// The ThinQ cloud: its settings and appliances beyond the default household.
    #[serde(default, skip_serializing_if = "ThinqSection::is_empty")]
    pub thinq: ThinqSection,
    #[serde(skip)]
    source: Option<Source>,
}

/// Two scenarios are equal when they say the same, wherever they were read from.
impl PartialEq for Scenario {
    fn eq(&self, other: &Scenario) -> bool {
        self.description == other.description
            && self.seed == other.seed
            && self.displays == other.displays
            && self.state == other.state
            && self.faults == other.faults
            && self.thinq == other.thinq
    }
}

/// Where a scenario came from, to locate errors found after parsing.
#[derive(Clone, Debug)]
struct Source {
    file: Option<PathBuf>,
    text: Arc<str>,
}

/// The displays of a scenario.
#[derive(Clone, Default, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Displays {
    /// How many (1 to [`MAX_DISPLAYS`]); `serve --displays N` wins over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// Display settings for every display (`psk`, `auth`, quirks...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub config: Map<String, Value>,
    /// Display settings for one display, by id (`bravia-1`), over `config`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub each: BTreeMap<String, Map<String, Value>>,
}

/// The ThinQ cloud of a scenario; `serve --thinq-*` flags win over it.
#[derive(Clone, Default, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThinqSection {
    /// User 1's token (`serve --thinq-token` wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Generated appliances (`serve --thinq-devices` wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<usize>,
    /// API calls per token per hour, 0 for no limit (`serve --thinq-rate-limit` wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u64>,
    /// `"1314"` (default, the live cloud's) or `"1306"` (the SDK enum's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_code: Option<String>,
    /// Event subscriptions one user may hold (one more is 1312).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_subscription_limit: Option<usize>,
    /// Appliances added after the household and the fleet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appliances: Vec<ThinqAppliance>,
}

impl ThinqSection {
    /// True when it says nothing.
    pub fn is_empty(&self) -> bool {
        *self == ThinqSection::default()
    }
}

/// One appliance of a scenario's `thinq.appliances`.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThinqAppliance {
    /// Its deviceId (1 to 128 of `A-Za-z0-9._-`).
    pub id: String,
    /// Its deviceType (`DEVICE_WASHER`).
    #[serde(rename = "type")]
    pub device_type: String,
    /// Its owner: user 1 (default), 2, or a higher number, whose token is
    /// `thinqpat-devfault-NNNN` with NNNN = owner - 1.
    #[serde(default = "first_user")]
    pub owner: u32,
    /// Its alias in `GET /devices` (default: the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

fn first_user() -> u32 {
    1
}

/// Why a scenario was refused, and where.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScenarioError {
    /// The file, when it came from one.
    pub file: Option<PathBuf>,
    /// The line, from 1, when known.
    pub line: Option<usize>,
    /// The column, from 1, when known.
    pub column: Option<usize>,
    /// The member at fault (`faults[1].code`), when known.
    pub field: Option<String>,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}", file.display())?,
            None => f.write_str("scenario")?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// The largest scenario file read: 32 MiB, room for the most appliances and fault rules the
/// caps allow.
pub const MAX_SCENARIO_BYTES: u64 = 32 * 1024 * 1024;

impl Scenario {
    /// Reads a scenario file (at most [`MAX_SCENARIO_BYTES`]).
    pub fn load(file: &Path) -> Result<Scenario, ScenarioError> {
        let refuse = |message: String| ScenarioError {
            file: Some(file.to_owned()),
            line: None,
            column: None,
            field: None,
            message,
        };
        // Read through a cap: a file past it is refused before it is parsed into memory.
        let mut text = String::new();
        std::fs::File::open(file)
            .and_then(|opened| {
                std::io::Read::read_to_string(
                    &mut std::io::Read::take(opened, MAX_SCENARIO_BYTES + 1),
                    &mut text,
                )
            })
            .map_err(|error| refuse(format!("cannot read the scenario file: {error}")))?;
        if text.len() as u64 > MAX_SCENARIO_BYTES {
            return Err(refuse(format!(
                "the scenario file is over {MAX_SCENARIO_BYTES} bytes; split it or generate appliances with thinq.devices"
            )));
        }
        Scenario::parse(&text, Some(file.to_owned()))
    }

    /// Parses a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(text, None)
    }

    fn parse(text: &str, file: Option<PathBuf>) -> Result<Scenario, ScenarioError> {
        let source = Source { file, text: Arc::from(text) };
        let mut scenario: Scenario = serde_json::from_str(text).map_err(|error| {
            let (line, column) = (error.line(), error.column());
            let full = error.to_string();
            let suffix = format!(" at line {line} column {column}");
            let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
            let field = (line > 0)
                .then(|| offset_of(text, line, column))
                .and_then(|offset| field_at(text, offset))
                .filter(|field| !field.is_empty());
            ScenarioError {
                file: source.file.clone(),
                line: (line > 0).then_some(line),
                column: (line > 0).then_some(column),
                field,
                message,
            }
        })?;
        scenario.source = Some(source);
        if let Some(count) = scenario.displays.count
            && !(1..=MAX_DISPLAYS).contains(&count)
        {
            return Err(
                scenario.error("displays.count", format!("{count} is outside 1 to {MAX_DISPLAYS}"))
            );
        }
        for (id, patch) in &scenario.state {
            if !patch.is_object() {
                return Err(scenario.error(
                    &format!("state.{id}"),
                    format!("{patch} is not a JSON object; write e.g. {{\"power\": \"standby\"}}"),
                ));
            }
        }
        Ok(scenario)
    }

    /// An error about `field` (a path such as `faults[1].code`), located in the source text
    /// at the member, or at the closest enclosing one that is written.
    pub fn error(&self, field: &str, message: impl Into<String>) -> ScenarioError {
        let (file, position) = match &self.source {
            Some(source) => (source.file.clone(), locate(&source.text, field)),
            None => (None, None),
        };
        ScenarioError {
            file,
            line: position.map(|(line, _)| line),
            column: position.map(|(_, column)| column),
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// Checks every fault rule against the codecs of `faults` (without adding them).
    pub fn check_faults(&self, faults: &Faults) -> Result<(), ScenarioError> {
        if self.faults.len() > crate::faults::MAX_RULES {
            return Err(self.error(
                "faults",
                format!(
                    "{} fault rules: give at most {}, the cap of the admin API too",
                    self.faults.len(),
                    crate::faults::MAX_RULES
                ),
            ));
        }
        for (index, spec) in self.faults.iter().enumerate() {
            faults.check(spec.clone()).map_err(|error| {
                self.error(&format!("faults[{index}].{}", error.field), error.message)
            })?;
        }
        Ok(())
    }

    /// Checks that `state`, `displays.each` and the rules' `match.device` name only devices
    /// of `ids`.
    pub fn check_devices(&self, ids: &[String]) -> Result<(), ScenarioError> {
        let known = || ids.join(", ");
        for (index, spec) in self.faults.iter().enumerate() {
            if let Some(id) = &spec.matcher.device
                && !ids.contains(id)
            {
                return Err(self.error(
                    &format!("faults[{index}].match.device"),
                    format!("there is no device {id:?}; devices: {}", known()),
                ));
            }
        }
        for id in self.state.keys() {
            if !ids.contains(id) {
                return Err(self.error(
                    &format!("state.{id}"),
                    format!("there is no device {id:?}; devices: {}", known()),
                ));
            }
        }
        for id in self.displays.each.keys() {
            if !ids.contains(id) {
                return Err(self.error(
                    &format!("displays.each.{id}"),
                    format!("there is no display {id:?}; displays: {}", known()),
                ));
            }
        }
        Ok(())
    }

    /// The settings of display `id`: `base` changed by `displays.config`, then by
    /// `displays.each.<id>`.
    pub fn display_config(
        &self,
        id: &str,
        base: DisplayConfig,
    ) -> Result<DisplayConfig, ScenarioError> {
        let mut config = base;
        let layers = [
            ("displays.config".to_owned(), Some(&self.displays.config)),
            (format!("displays.each.{id}"), self.displays.each.get(id)),
        ];
        for (place, settings) in layers {
            for (key, value) in settings.into_iter().flatten() {
                apply_setting(&mut config, key, value)
                    .map_err(|(field, message)| self.error(&format!("{place}.{field}"), message))?;
            }
        }
        Ok(config)
    }

    /// The cloud's settings: `base` changed by the scenario's `thinq` members.
    pub fn cloud_config(&self, base: CloudConfig) -> Result<CloudConfig, ScenarioError> {
        let thinq = &self.thinq;
        let mut config = base;
        if let Some(token) = &thinq.token {
            crate::thinq::check_token(token)
                .map_err(|message| self.error("thinq.token", message))?;
            config.token = token.clone();
        }
        if let Some(devices) = thinq.devices {
            config.fleet = devices;
        }
        if let Some(limit) = thinq.rate_limit {
            config.rate_limit = limit;
        }
        if let Some(code) = &thinq.rate_limit_code {
            config.rate_limit_code = match code.as_str() {
                "1314" => RateLimitCode::UserApiCalls,
                "1306" => RateLimitCode::ApiCalls,
                other => {
                    return Err(self.error(
                        "thinq.rate_limit_code",
                        format!("{other:?} is not \"1314\" or \"1306\""),
                    ));
                }
            };
        }
        if let Some(limit) = thinq.event_subscription_limit {
            config.event_subscription_limit = limit;
        }
        Ok(config)
    }

    /// Adds the scenario's `thinq.appliances` to `cloud`.
    pub fn add_appliances(&self, cloud: &mut Cloud) -> Result<(), ScenarioError> {
        let max = crate::server::MAX_THINQ_DEVICES;
        if self.thinq.appliances.len() > max {
            return Err(self.error(
                "thinq.appliances",
                format!(
                    "{} appliances: give at most {max}, the cap of --thinq-devices",
                    self.thinq.appliances.len()
                ),
            ));
        }
        for (index, appliance) in self.thinq.appliances.iter().enumerate() {
            cloud
                .add_appliance(
                    &appliance.id,
                    &appliance.device_type,
                    appliance.owner,
                    appliance.alias.as_deref(),
                )
                .map_err(|message| self.error(&format!("thinq.appliances[{index}]"), message))?;
        }
        Ok(())
    }

    /// What `POST /reset` returns to: the state patches, the fault rules, the seed.
    pub fn baseline(&self) -> Baseline {
        Baseline {
            state: self.state.iter().map(|(id, patch)| (id.clone(), patch.clone())).collect(),
            faults: self.faults.clone(),
            seed: self.seed,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Display settings
// ---------------------------------------------------------------------------------------------

/// The display settings a scenario may give, with what each takes; durations are in
/// milliseconds.
pub const DISPLAY_SETTINGS: &[(&str, &str)] = &[
    ("psk", "the pre-shared key, a string; null for none"),
    ("auth", "\"none\", \"psk\", \"pin\" or \"psk+pin\""),
    ("cookie_max_age_ms", "how long an actRegister cookie lasts"),
    ("max_body_bytes", "the largest request body (more is 413)"),
    ("max_uri_bytes", "the longest request target (more is 414)"),
    ("max_concurrent_requests", "requests processed at once (more are 503)"),
    ("body_timeout_ms", "how long a request body may take (then [2, \"Timeout\"])"),
    ("slow_method_delay_ms", "the processing time of getContentList and getContentCount"),
    ("app_launch_delay_ms", "how long an app launch takes"),
    ("launch_undecided_after_ms", "when a slow launch is answered 41402"),
    ("reboot_duration_ms", "how long the web service restarts after requestReboot"),
    (
        "screen_change_delay_ms",
        "how long a setMultiScreenMode layout change takes (40600 meanwhile)",
    ),
    (
        "notify_hold_ms",
        "how long requestToNotifyScreenState holds an unchanged long poll (then 40000)",
    ),
    ("unreachable_hold_ms", "how long a request to an unreachable display is held"),
    ("quirks", "an object: standby_error, http_error_body, ircc_path, interface_version"),
];

/// The quirks a scenario may set, with what each takes.
pub const QUIRK_SETTINGS: &[(&str, &str)] = &[
    ("standby_error", "\"not_power_on\" ([7, \"not power-on\"]) or \"display_off\" (40005)"),
    ("http_error_body", "true (HTTP errors carry the protocol body) or false (bare)"),
    ("ircc_path", "\"both\", \"lower_only\" or \"upper_only\""),
    ("interface_version", "getInterfaceInformation's interfaceVersion, e.g. \"5.0.1\""),
];

fn names(settings: &[(&str, &str)]) -> String {
    settings.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

/// Applies one setting; the error gives the member (relative to the settings object) and what
/// it takes.
fn apply_setting(
    config: &mut DisplayConfig,
    key: &str,
    value: &Value,
) -> Result<(), (String, String)> {
    let takes = |settings: &[(&str, &str)], key: &str| {
        settings.iter().find(|(name, _)| *name == key).map_or("", |(_, takes)| *takes).to_owned()
    };
    let refuse =
        |key: &str, takes: String| (key.to_owned(), format!("{value} is not valid; give {takes}"));
    let millis = |value: &Value| value.as_u64().map(Duration::from_millis);
    let count = |value: &Value| value.as_u64().and_then(|n| usize::try_from(n).ok());
    let bad = || refuse(key, takes(DISPLAY_SETTINGS, key));
    match key {
        "psk" => {
            config.psk = match value {
                Value::Null => None,
                Value::String(psk) => {
                    crate::bravia::check_psk(psk).map_err(|message| (key.to_owned(), message))?;
                    Some(psk.clone())
                }
                _ => return Err(bad()),
            }
        }
        "auth" => {
            config.auth =
                value.as_str().and_then(|name| name.parse::<AuthMode>().ok()).ok_or_else(bad)?;
        }
        "cookie_max_age_ms" => config.cookie_max_age = millis(value).ok_or_else(bad)?,
        "max_body_bytes" => config.max_body_bytes = count(value).ok_or_else(bad)?,
        "max_uri_bytes" => config.max_uri_bytes = count(value).ok_or_else(bad)?,
        "max_concurrent_requests" => {
            config.max_concurrent_requests = count(value).filter(|&n| n > 0).ok_or_else(bad)?;
        }
        "body_timeout_ms" => config.body_timeout = millis(value).ok_or_else(bad)?,
        "slow_method_delay_ms" => config.slow_method_delay = millis(value).ok_or_else(bad)?,
        "app_launch_delay_ms" => config.app_launch_delay = millis(value).ok_or_else(bad)?,
        "launch_undecided_after_ms" => {
            config.launch_undecided_after = millis(value).ok_or_else(bad)?;
        }
        "reboot_duration_ms" => config.reboot_duration = millis(value).ok_or_else(bad)?,
        "screen_change_delay_ms" => config.screen_change_delay = millis(value).ok_or_else(bad)?,
        "notify_hold_ms" => config.notify_hold = millis(value).ok_or_else(bad)?,
        "unreachable_hold_ms" => config.unreachable_hold = millis(value).ok_or_else(bad)?,
        "quirks" => {
            let quirks = value.as_object().ok_or_else(bad)?;
            for (name, value) in quirks {
                let path = format!("quirks.{name}");
                let bad = || refuse(&path, takes(QUIRK_SETTINGS, name));
                let q = &mut config.quirks;
                match name.as_str() {
                    "standby_error" => {
                        q.standby_error = match value.as_str() {
                            Some("not_power_on") => StandbyReply::NotPowerOn,
                            Some("display_off") => StandbyReply::DisplayOff,
                            _ => return Err(bad()),
                        }
                    }
                    "http_error_body" => q.http_error_body = value.as_bool().ok_or_else(bad)?,
                    "ircc_path" => {
                        q.ircc_path = match value.as_str() {
                            Some("both") => IrccPath::Both,
                            Some("lower_only") => IrccPath::LowerOnly,
                            Some("upper_only") => IrccPath::UpperOnly,
                            _ => return Err(bad()),
                        }
                    }
                    "interface_version" => {
                        q.interface_version = value.as_str().ok_or_else(bad)?.to_owned();
                    }
                    _ => {
                        return Err((
                            path,
                            format!("is not a quirk; quirks: {}", names(QUIRK_SETTINGS)),
                        ));
                    }
                }
            }
        }
        _ => {
            return Err((
                key.to_owned(),
                format!("is not a display setting; settings: {}", names(DISPLAY_SETTINGS)),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Locating members in the source text
// ---------------------------------------------------------------------------------------------

/// Line and column (from 1) of the member at `field`, or of its closest written ancestor.
fn locate(text: &str, field: &str) -> Option<(usize, usize)> {
    let spans = spans(text);
    let mut path = field;
    loop {
        if let Some(span) = spans.iter().find(|span| span.path == path) {
            return Some(line_column(text, span.start));
        }
        let cut = path.rfind(['.', '['])?;
        path = &path[..cut];
    }
}

/// The path of the innermost value whose text contains byte `offset`.
fn field_at(text: &str, offset: usize) -> Option<String> {
    spans(text)
        .into_iter()
        .filter(|span| span.start <= offset && offset <= span.end)
        .min_by_key(|span| span.end - span.start)
        .map(|span| span.path)
}

/// The byte offset of serde_json's line and column (both from 1; the column counts bytes).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

/// A JSON value's path (`faults[1].match.api`, `` for the whole document) and byte range.
#[derive(Debug)]
struct Span {
    path: String,
    start: usize,
    end: usize,
}

/// Every value of a JSON text with its path and range, as far as the text is well formed; an
/// object or array left open by a syntax error extends to the end of the text.
fn spans(text: &str) -> Vec<Span> {
    let mut walker = Walker { bytes: text.as_bytes(), pos: 0, spans: Vec::new(), open: Vec::new() };
    let _ = walker.value(String::new());
    let mut spans = walker.spans;
    spans.extend(walker.open.into_iter().map(|(path, start)| Span {
        path,
        start,
        end: text.len(),
    }));
    spans
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
    spans: Vec<Span>,
    /// The objects and arrays being walked: path and start.
    open: Vec<(String, usize)>,
}

impl Walker<'_> {
    /// Deeper documents are not walked (their errors keep line and column, not the path).
    const MAX_DEPTH: usize = 64;

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn value(&mut self, path: String) -> Option<()> {
        self.skip_whitespace();
        let start = self.pos;
        if self.open.len() >= Self::MAX_DEPTH {
            return None;
        }
        let container = matches!(self.peek()?, b'{' | b'[');
        if container {
            self.open.push((path.clone(), start));
        }
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.skip_whitespace();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_whitespace();
                        let key = self.string()?;
                        self.eat(b':')?;
                        let child = if path.is_empty() { key } else { format!("{path}.{key}") };
                        self.value(child)?;
                        self.skip_whitespace();
                        match self.peek()? {
                            b',' => self.pos += 1,
                            b'}' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    let mut index = 0;
                    loop {
                        self.value(format!("{path}[{index}]"))?;
                        index += 1;
                        self.skip_whitespace();
                        match self.peek()? {
                            b',' => self.pos += 1,
                            b']' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b',' | b']' | b'}') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    return None;
                }
            }
        }
        if container {
            self.open.pop();
        }
        self.spans.push(Span { path, start, end: self.pos });
        Some(())
    }

    /// A string's content, escapes kept except `\"` and `\\` (enough to name members).
    fn string(&mut self) -> Option<String> {
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let byte = self.peek()?;
            self.pos += 1;
            match byte {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    let escaped = self.peek()?;
                    self.pos += 1;
                    if !matches!(escaped, b'"' | b'\\') {
                        out.push(b'\\');
                    }
                    out.push(escaped);
                }
                _ => out.push(byte),
            }
        }
    }
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
