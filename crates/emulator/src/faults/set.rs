//! The rule set of an emulator: the ordered rules every device shares, the codecs of the APIs
//! it serves, and the seeded random draws that decide whether a rule with a probability fires.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::HeaderValue;
use serde_json::Value;
use tokio::sync::watch;

use super::index::RuleIndex;
use super::rules::{
    Action, ActionKind, Canned, FaultRule, Match, RequestInfo, RuleError, RuleSpec, header_value,
    html_page, parse_headers, status_code,
};
use super::{DEFAULT_MAX_HOLD, MAX_DELAY_MS};
use crate::codec::{ApiCodec, ResolvedCode};

/// The most fault rules an emulator holds at once (admin API and scenario file alike): past
/// it, adding is refused. Far more than a test needs, and small enough that the rules, their
/// listing and a request's search stay cheap.
pub const MAX_RULES: usize = 10_000;

/// Refuses adding `adding` rules to `present` past [`MAX_RULES`].
fn room_for(present: usize, adding: usize) -> Result<(), String> {
    if present + adding > MAX_RULES {
        return Err(format!(
            "{adding} more fault rule(s) would make {}, past the cap of {MAX_RULES}; remove some first (DELETE /faults)",
            present + adding
        ));
    }
    Ok(())
}

/// The fault rules of an emulator, shared by all its devices and the admin API.
#[derive(Debug)]
pub struct Faults {
    codecs: Vec<Arc<dyn ApiCodec>>,
    max_hold: Duration,
    released: watch::Sender<bool>,
    /// How many rules there are, readable without the lock: with none, requests skip
    /// classification and matching.
    rule_count: AtomicUsize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
pub(super) struct Inner {
    rules: Vec<FaultRule>,
    /// The rules by device, service, path and API (see [`RuleIndex`]).
    pub(super) index: RuleIndex,
    next_id: u64,
    seed: u64,
    rng: SplitMix64,
}

impl Faults {
    /// An empty rule set whose random decisions follow `seed`, knowing no API yet: the server
    /// registers each API's codec ([`Faults::with_codec`], [`Faults::with_codecs`]).
    pub fn new(seed: u64) -> Faults {
        Faults {
            codecs: Vec::new(),
            max_hold: DEFAULT_MAX_HOLD,
            released: watch::Sender::new(false),
            rule_count: AtomicUsize::new(0),
            inner: Mutex::new(Inner {
                rules: Vec::new(),
                index: RuleIndex::default(),
                next_id: 1,
                seed,
                rng: SplitMix64::new(seed),
            }),
        }
    }

    /// Plugs in (or replaces) the codec of an API.
    pub fn with_codec(mut self, codec: Arc<dyn ApiCodec>) -> Faults {
        self.codecs.retain(|known| known.api() != codec.api());
        self.codecs.push(codec);
        self
    }

    /// Plugs in (or replaces) the codecs of several APIs.
    pub fn with_codecs(self, codecs: impl IntoIterator<Item = Arc<dyn ApiCodec>>) -> Faults {
        codecs.into_iter().fold(self, Faults::with_codec)
    }

    /// Sets how long a `no_answer` rule holds a request at most.
    pub fn with_max_hold(mut self, max: Duration) -> Faults {
        self.max_hold = max;
        self
    }

    /// How long a `no_answer` rule holds a request at most.
    pub fn max_hold(&self) -> Duration {
        self.max_hold
    }

    /// The codec of an API.
    pub fn codec(&self, api: &str) -> Option<&Arc<dyn ApiCodec>> {
        self.codecs.iter().find(|codec| codec.api() == api)
    }

    /// The APIs it has codecs for.
    pub fn apis(&self) -> Vec<&'static str> {
        self.codecs.iter().map(|codec| codec.api()).collect()
    }

    /// Checks a rule without adding it.
    pub fn check(&self, spec: RuleSpec) -> Result<FaultRule, RuleError> {
        let mut spec = spec;
        let matcher = &mut spec.matcher;
        if let Some(api) = &matcher.api
            && self.codec(api).is_none()
        {
            return Err(RuleError::new(
                "match.api",
                format!("unknown API {api:?}; accepted: {}", self.apis().join(", ")),
            ));
        }
        for (field, value) in [
            ("match.device", &matcher.device),
            ("match.service", &matcher.service),
            ("match.method", &matcher.method),
        ] {
            if value.as_deref() == Some("") {
                return Err(RuleError::new(field, "is empty; leave it out to match any"));
            }
        }
        if let Some(path) = &matcher.path
            && !path.starts_with('/')
        {
            return Err(RuleError::new(
                "match.path",
                format!(
                    "{path:?} does not start with '/'; give a path prefix such as \"/sony/audio\""
                ),
            ));
        }
        if let Some(method) = &mut matcher.http_method {
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(RuleError::new(
                    "match.http_method",
                    format!("{method:?} is not an HTTP method; give e.g. \"POST\" or \"GET\""),
                ));
            }
            method.make_ascii_uppercase();
        }
        if let Some(p) = spec.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(RuleError::new(
                "probability",
                format!(
                    "{p} is outside 0 to 1; 1 (the default) fires every time, 0.25 one time in four"
                ),
            ));
        }
        if spec.count == Some(0) {
            return Err(RuleError::new(
                "count",
                "0 would never fire; give 1 or more, or leave count out for no limit",
            ));
        }
        if let Some(delay) = spec.delay_ms
            && delay > MAX_DELAY_MS
        {
            return Err(RuleError::new(
                "delay_ms",
                format!("{delay} is more than the maximum, {MAX_DELAY_MS} (10 minutes)"),
            ));
        }
        let action = spec.action;
        let allowed = action.fields();
        for (field, present) in [
            ("code", spec.code.is_some()),
            ("message", spec.message.is_some()),
            ("status", spec.status.is_some()),
            ("body", spec.body.is_some()),
            ("content_type", spec.content_type.is_some()),
            ("headers", !spec.headers.is_empty()),
            ("delay_ms", spec.delay_ms.is_some()),
        ] {
            if present && !allowed.contains(&field) {
                let takes = if allowed.is_empty() {
                    "no parameters".to_owned()
                } else {
                    allowed.join(", ")
                };
                let hint = if action == ActionKind::NoAnswer && field == "delay_ms" {
                    format!(
                        "; no_answer holds until the client gives up (at most {} s): for a delay then a reset use action reset with delay_ms",
                        self.max_hold.as_secs()
                    )
                } else {
                    String::new()
                };
                return Err(RuleError::new(
                    field,
                    format!("is not used by action {action}; {action} takes {takes}{hint}"),
                ));
            }
        }
        let headers = parse_headers(&spec.headers)?;
        let mut resolved = None;
        let action = match action {
            ActionKind::Code => {
                let Some(code) = spec.code.clone() else {
                    return Err(RuleError::new(
                        "code",
                        "action code needs a code, e.g. \"code\": 40000 (list them with `devfault list --api bravia`)",
                    ));
                };
                let code = self.resolve(&mut spec.matcher, &code, spec.message.as_deref())?;
                resolved = Some(code.clone());
                Action::Code(code, headers)
            }
            ActionKind::Status => {
                let Some(status) = spec.status else {
                    return Err(RuleError::new(
                        "status",
                        "action status needs a status, 200-599, e.g. \"status\": 503",
                    ));
                };
                let body = spec.body.clone().unwrap_or_default();
                let content_type = match &spec.content_type {
                    Some(text) => Some(header_value("content_type", text)?),
                    None if body.is_empty() => None,
                    None if serde_json::from_str::<Value>(&body).is_ok() => {
                        Some(HeaderValue::from_static("application/json"))
                    }
                    None => Some(HeaderValue::from_static("text/plain; charset=utf-8")),
                };
                Action::Status(Canned {
                    status: status_code(status)?,
                    body: Bytes::from(body),
                    content_type,
                    headers,
                })
            }
            ActionKind::Delay => {
                if spec.delay_ms.is_none() {
                    return Err(RuleError::new(
                        "delay_ms",
                        "action delay needs delay_ms, the milliseconds to wait, e.g. \"delay_ms\": 2000",
                    ));
                }
                Action::Delay
            }
            ActionKind::MalformedBody => {
                Action::MalformedBody(spec.status.map(status_code).transpose()?, headers)
            }
            ActionKind::NonJsonBody => {
                let status = status_code(spec.status.unwrap_or(200))?;
                let body = spec.body.clone().unwrap_or_else(|| html_page(status));
                let content_type = header_value(
                    "content_type",
                    spec.content_type.as_deref().unwrap_or("text/html; charset=utf-8"),
                )?;
                Action::NonJsonBody(Canned {
                    status,
                    body: Bytes::from(body),
                    content_type: Some(content_type),
                    headers,
                })
            }
            ActionKind::Reset => Action::Reset,
            ActionKind::NoAnswer => Action::NoAnswer,
        };
        Ok(FaultRule { id: 0, spec, resolved, fired: 0, action })
    }

    /// Finds the codec a `code` rule means: the one `match.api` names, else the only one
    /// whose registry has the code (and `match.api` is set to it).
    fn resolve(
        &self,
        matcher: &mut Match,
        code: &Value,
        message: Option<&str>,
    ) -> Result<ResolvedCode, RuleError> {
        if let Some(api) = &matcher.api {
            let codec = self
                .codec(api)
                .ok_or_else(|| RuleError::new("match.api", format!("unknown API {api:?}")))?;
            return codec.resolve(code, message).map_err(|m| RuleError::new("code", m));
        }
        let mut found = Vec::new();
        let mut refusals = Vec::new();
        for codec in &self.codecs {
            match codec.resolve(code, message) {
                Ok(resolved) => found.push(resolved),
                Err(refusal) => refusals.push(format!("{}: {refusal}", codec.api())),
            }
        }
        match found.len() {
            0 => Err(RuleError::new("code", refusals.join("; "))),
            1 => {
                let resolved = found.remove(0);
                matcher.api = Some(resolved.api.to_owned());
                Ok(resolved)
            }
            _ => {
                let apis: Vec<&str> = found.iter().map(|r| r.api).collect();
                Err(RuleError::new(
                    "code",
                    format!(
                        "{code} is a code of several APIs ({}); say which with match.api",
                        apis.join(", ")
                    ),
                ))
            }
        }
    }

    /// Checks and adds a rule at the end of the list; returns it with its id.
    pub fn add(&self, spec: RuleSpec) -> Result<FaultRule, RuleError> {
        let mut rule = self.check(spec)?;
        let mut inner = self.lock();
        room_for(inner.rules.len(), 1).map_err(|message| RuleError::new("faults", message))?;
        rule.id = inner.next_id;
        inner.next_id += 1;
        inner.rules.push(rule.clone());
        self.count_rules(&mut inner);
        Ok(rule)
    }

    /// Checks every rule, then adds them all, or none: the error gives the index of the first
    /// refused rule.
    pub fn add_all(&self, specs: Vec<RuleSpec>) -> Result<Vec<FaultRule>, (usize, RuleError)> {
        let mut checked = Vec::with_capacity(specs.len());
        for (index, spec) in specs.into_iter().enumerate() {
            checked.push(self.check(spec).map_err(|error| (index, error))?);
        }
        let mut inner = self.lock();
        room_for(inner.rules.len(), checked.len()).map_err(|message| {
            (checked.len().saturating_sub(1), RuleError::new("faults", message))
        })?;
        for rule in &mut checked {
            rule.id = inner.next_id;
            inner.next_id += 1;
            inner.rules.push(rule.clone());
        }
        self.count_rules(&mut inner);
        Ok(checked)
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().rules.clone()
    }

    /// Removes one rule; false when there is none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|rule| rule.id != id);
        inner.index.reset();
        self.count_rules(&mut inner);
        inner.rules.len() != before
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut inner = self.lock();
        let count = inner.rules.len();
        inner.rules.clear();
        inner.index.reset();
        self.count_rules(&mut inner);
        count
    }

    /// True when there is at least one rule (read without taking the rules' lock).
    pub fn has_rules(&self) -> bool {
        self.rule_count.load(Ordering::Acquire) > 0
    }

    /// Publishes the rule count and files new rules in the index; called under the lock after
    /// every change of the list (a removal resets the index first).
    fn count_rules(&self, inner: &mut Inner) {
        let Inner { rules, index, .. } = inner;
        index.catch_up(rules);
        self.rule_count.store(inner.rules.len(), Ordering::Release);
    }

    /// The seed of the random decisions.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// Restarts the random decisions from `seed`: the same seed and the same requests give
    /// the same decisions.
    pub fn set_seed(&self, seed: u64) {
        let mut inner = self.lock();
        inner.seed = seed;
        inner.rng = SplitMix64::new(seed);
    }

    /// The rule that fires for `request`, if one does: the first that matches and whose
    /// probability draw succeeds (a draw is made only for probabilities strictly between 0
    /// and 1). Its count goes down by one, and it is removed when the count reaches 0.
    pub fn decide(&self, request: &RequestInfo) -> Option<FaultRule> {
        let mut inner = self.lock();
        let Inner { rules, rng, index, .. } = &mut *inner;
        // Candidates in list order: the first that matches still wins, and the draws happen
        // for the same rules in the same order as a scan of the whole list.
        let found = index.candidates(request).find(|&position| {
            let rule = &rules[position];
            rule.spec.matcher.matches(request) && fires(rule, rng)
        })?;
        Some(self.fire(&mut inner, found))
    }

    /// [`Faults::decide`] among the rules that name `request.api` in `match.api` only: for
    /// an event path (ThinQ's MQTT) whose traffic rules written for HTTP must not touch.
    pub fn decide_named(&self, request: &RequestInfo) -> Option<FaultRule> {
        if !self.has_rules() {
            return None;
        }
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        let found = rules.iter().position(|rule| {
            rule.spec.matcher.api.as_deref() == Some(&request.api)
                && rule.spec.matcher.matches(request)
                && fires(rule, rng)
        })?;
        Some(self.fire(&mut inner, found))
    }

    /// Counts a firing of the rule at `position` and expires it when its count reaches 0 (the
    /// index is refiled then, since the removal moved positions); returns the rule as fired.
    fn fire(&self, inner: &mut Inner, position: usize) -> FaultRule {
        let rule = &mut inner.rules[position];
        rule.fired += 1;
        if let Some(count) = &mut rule.spec.count {
            *count = count.saturating_sub(1);
        }
        let fired = rule.clone();
        if fired.spec.count == Some(0) {
            inner.rules.remove(position);
            inner.index.reset();
            self.count_rules(inner);
        }
        fired
    }

    /// Ends every delay and `no_answer` hold now (at server shutdown), and every later one at
    /// once.
    pub fn release_holds(&self) {
        self.released.send_replace(true);
    }

    /// Waits `duration`, or less if the holds are released.
    pub(crate) async fn hold(&self, duration: Duration) {
        let mut released = self.released.subscribe();
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            _ = released.wait_for(|released| *released) => {}
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update under the lock leaves the rule list whole, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a matching `rule` fires: always at probability 1, never at 0, else a seeded draw
/// (made only then, so a replay draws for the same rules).
fn fires(rule: &FaultRule, rng: &mut SplitMix64) -> bool {
    let p = rule.probability();
    if p >= 1.0 {
        true
    } else if p <= 0.0 {
        false
    } else {
        rng.next_f64() < p
    }
}

impl Default for Faults {
    /// An empty rule set seeded from the clock.
    fn default() -> Faults {
        Faults::new(seed_from_clock())
    }
}

/// A seed taken from the clock, for runs that do not ask for one (the admin API shows it, so
/// a run can still be replayed).
pub fn seed_from_clock() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    // Spread the low-entropy clock value over all 64 bits.
    SplitMix64::new(nanos as u64).next_u64()
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and every seed gives a full-period
/// sequence, which is all a fault probability needs.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
