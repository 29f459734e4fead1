//! The videoScreen service beyond the scene: the screen layout (single, picture in picture,
//! picture and picture), the PIP sub-screen's position, which screen the sound follows, the
//! PAP screen sizes and the banner, with `requestToNotifyScreenState`, the long poll that
//! reports a layout change.
//!
//! Sony publishes no reference page for these methods. The shapes follow what public clients
//! send and read, each cited beside its handler:
//! - the method signatures a real display reports through `getMethodTypes`;
//! - kdschlosser/SonyAPI (`SonyAPI/api.py` and its `TEST_SCHEMA`, 2017), a client of every
//!   method of the Generation-3 displays: `getMultiScreenMode` →
//!   `[{"mode":"single","option":{"internetTVMode":false}}]`, `getPipSubScreenPosition` →
//!   `[{"position":"invalid"}]` outside PIP, `getAudioSourceScreen` → `[{"screen":"main"}]`,
//!   `getBannerMode` → `[{"value":...}]`, the setters' `{"mode","option"}`, `{"position"}`,
//!   `{"screen"}`, `{"screen","size"}` and `{"value"}`; its doc strings name the modes
//!   `single`, `PIP`, `PAP` (settable) and `widgetMode`, `internetPhoneMode`, `other`;
//! - a public TypeScript BRAVIA client (`braviaVideoScreen.ts`), which sends
//!   `requestToNotifyScreenState` 1.1 with `{"multiScreenMode","pipSubScreenPosition",
//!   "audioSourceScreen","option"}` and notes that it "returns json data with the same keys".

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use devfault_bravia::Code;
use serde_json::{Map, Value, json};

use super::VirtualDisplay;
use super::methods::{Answer, Call, Outcome, bad, err, object, ok, optional_object, text};

/// The layouts `setMultiScreenMode` takes, as the display names them.
pub(crate) const MODES: &[&str] = &["single", "PIP", "PAP"];

/// Where the PIP sub-screen may sit. Not in any public capture: the four corners a BRAVIA's
/// PIP menu offers, in the API's lower-camel style.
pub(crate) const PIP_POSITIONS: &[&str] = &["leftTop", "rightTop", "leftBottom", "rightBottom"];

/// What `getPipSubScreenPosition` answers outside PIP (SonyAPI's captured value).
const NO_POSITION: &str = "invalid";

/// The screens of a two-picture layout (`setAudioSourceScreen`, `setPapScreenSize`).
pub(crate) const SCREENS: &[&str] = &["main", "sub"];

/// Banner modes. Not in any public capture: the on/off of the display's info banner.
pub(crate) const BANNERS: &[&str] = &["on", "off"];

/// How much of the width the main screen of PAP takes, in percent, per `setPapScreenSize`
/// size. Not in any public capture: the three PAP splits of the display's menu.
pub(crate) const PAP_SIZES: &[&str] = &["small", "medium", "large"];

/// The most `requestToNotifyScreenState` long polls held at once; one more is 40001.
pub(crate) const MAX_WATCHERS: usize = 4;

/// The display's screen layout.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Screen {
    pub mode: &'static str,
    pub internet_tv: bool,
    pub pip_position: &'static str,
    pub audio_source: &'static str,
    /// The `setPapScreenSize` size of each screen.
    pub pap_sizes: BTreeMap<&'static str, &'static str>,
    pub banner: &'static str,
    /// Until when a layout change is under way (`setMultiScreenMode`): other layout setters
    /// answer 40600 meanwhile.
    pub changing_until: Option<Instant>,
}

impl Default for Screen {
    fn default() -> Screen {
        Screen {
            mode: MODES[0],
            internet_tv: false,
            pip_position: PIP_POSITIONS[3],
            audio_source: SCREENS[0],
            pap_sizes: SCREENS.iter().map(|s| (*s, PAP_SIZES[1])).collect(),
            banner: BANNERS[0],
            changing_until: None,
        }
    }
}

impl Screen {
    /// The position `getPipSubScreenPosition` reports: `invalid` unless in PIP.
    fn position(&self) -> &'static str {
        if self.mode == "PIP" { self.pip_position } else { NO_POSITION }
    }

    /// What `requestToNotifyScreenState` reports and compares.
    pub fn notification(&self) -> Value {
        json!({
            "multiScreenMode": self.mode,
            "pipSubScreenPosition": self.position(),
            "audioSourceScreen": self.audio_source,
            "option": {"internetTVMode": self.internet_tv},
        })
    }

    /// The admin API's view.
    pub fn to_json(&self, now: Instant) -> Value {
        let changing = self
            .changing_until
            .map(|until| super::state::millis(until.saturating_duration_since(now)));
        json!({
            "mode": self.mode,
            "internet_tv": self.internet_tv,
            "pip_position": self.pip_position,
            "audio_source": self.audio_source,
            "pap_sizes": self.pap_sizes,
            "banner": self.banner,
            "changing_ms": changing,
        })
    }

    /// An admin patch of the `screen` member: all or nothing, as [`super::state::State::apply`].
    pub fn apply(&mut self, value: &Value) -> Result<(), String> {
        let Value::Object(members) = value else {
            return Err(format!("screen: {value} is not an object like {{\"mode\": \"PIP\"}}"));
        };
        let mut next = self.clone();
        for (key, part) in members {
            let path = format!("screen.{key}");
            match key.as_str() {
                "mode" => next.mode = pick(&path, part, MODES)?,
                "internet_tv" => {
                    next.internet_tv =
                        part.as_bool().ok_or_else(|| format!("{path}: {part} is not a bool"))?;
                }
                "pip_position" => next.pip_position = pick(&path, part, PIP_POSITIONS)?,
                "audio_source" => next.audio_source = pick(&path, part, SCREENS)?,
                "banner" => next.banner = pick(&path, part, BANNERS)?,
                "pap_sizes" => {
                    let Value::Object(sizes) = part else {
                        return Err(format!(
                            "{path}: {part} is not an object like {{\"main\": \"large\"}}"
                        ));
                    };
                    for (screen, size) in sizes {
                        let screen = pick(&format!("{path}.{screen}"), &json!(screen), SCREENS)?;
                        let size = pick(&format!("{path}.{screen}"), size, PAP_SIZES)?;
                        next.pap_sizes.insert(screen, size);
                    }
                }
                _ => {
                    return Err(format!(
                        "{path}: unknown member; accepted: mode, internet_tv, pip_position, audio_source, pap_sizes, banner"
                    ));
                }
            }
        }
        if next.mode == "single" {
            next.audio_source = SCREENS[0];
        }
        *self = next;
        Ok(())
    }
}

/// `value` as one of `choices`, as the `&'static` of the table.
fn pick(path: &str, value: &Value, choices: &[&'static str]) -> Result<&'static str, String> {
    let text = value.as_str().ok_or_else(|| format!("{path}: {value} is not a string"))?;
    choices
        .iter()
        .find(|c| **c == text)
        .copied()
        .ok_or_else(|| format!("{path}: {text:?} is not one of {choices:?}"))
}

/// A parameter that must be one of `choices`; anything else is 3.
fn choice(
    params: &Map<String, Value>,
    key: &str,
    choices: &[&'static str],
) -> Result<&'static str, &'static devfault_core::Entry> {
    let wanted = text(Some(params), key)?.ok_or_else(bad)?;
    choices.iter().find(|c| **c == wanted).copied().ok_or_else(bad)
}

/// Refuses a layout setter while a layout change is under way: 40600.
fn check_not_changing(
    screen: &mut Screen,
    now: Instant,
) -> Result<(), &'static devfault_core::Entry> {
    match screen.changing_until {
        Some(until) if until > now => Err(err(Code::SCREEN_CHANGE_IN_PROGRESS)),
        Some(_) => {
            screen.changing_until = None;
            Ok(())
        }
        None => Ok(()),
    }
}

// Handlers ------------------------------------------------------------------------------------

/// `[]` → `[{"value": "on"}]` (SonyAPI's `TEST_SCHEMA`).
pub(crate) fn get_banner_mode(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    ok(vec![json!({"value": display.lock_state().screen.banner})])
}

/// `[{"value": "off"}]` → `[]`; a value not in [`BANNERS`] is 3.
pub(crate) fn set_banner_mode(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let banner = choice(object(call)?, "value", BANNERS)?;
    display.lock_state().screen.banner = banner;
    ok(vec![])
}

/// 1.1 only: `[]` → `[{"mode": "single", "option": {"internetTVMode": false}}]` (SonyAPI's
/// `TEST_SCHEMA`, which calls it at 1.1 as the dump lists it).
pub(crate) fn get_multi_screen_mode(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    ok(vec![
        json!({"mode": state.screen.mode, "option": {"internetTVMode": state.screen.internet_tv}}),
    ])
}

/// `[{"mode": "PIP", "option": {"internetTVMode": false}}]` → `[]` (SonyAPI sends the option
/// object; it is optional here). The change takes the display's `screen_change_delay`, and a
/// layout setter meanwhile is 40600 "Screen Change in Progress". Back to `single`, the sound
/// follows the main screen again.
pub(crate) fn set_multi_screen_mode(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let mode = choice(params, "mode", MODES)?;
    let internet_tv = match params.get("option") {
        None | Some(Value::Null) => None,
        Some(Value::Object(option)) => match option.get("internetTVMode") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(on)) => Some(*on),
            Some(_) => return Err(bad()),
        },
        Some(_) => return Err(bad()),
    };
    let now = Instant::now();
    let delay = display.config().screen_change_delay;
    let mut state = display.lock_state();
    check_not_changing(&mut state.screen, now)?;
    let screen = &mut state.screen;
    screen.mode = mode;
    if let Some(on) = internet_tv {
        screen.internet_tv = on;
    }
    if mode == "single" {
        screen.audio_source = SCREENS[0];
    }
    screen.changing_until = (!delay.is_zero()).then(|| now + delay);
    ok(vec![])
}

/// `[]` → `[{"position": "rightBottom"}]`, `invalid` outside PIP (SonyAPI's `TEST_SCHEMA`).
pub(crate) fn get_pip_sub_screen_position(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    ok(vec![json!({"position": display.lock_state().screen.position()})])
}

/// `[{"position": "leftTop"}]` → `[]`. Outside PIP there is no sub-screen: 7 "Illegal State".
pub(crate) fn set_pip_sub_screen_position(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let position = choice(object(call)?, "position", PIP_POSITIONS)?;
    let mut state = display.lock_state();
    check_not_changing(&mut state.screen, Instant::now())?;
    if state.screen.mode != "PIP" {
        return Err(err(Code::ILLEGAL_STATE));
    }
    state.screen.pip_position = position;
    ok(vec![])
}

/// `[]` → `[{"screen": "main"}]` (SonyAPI's `TEST_SCHEMA`).
pub(crate) fn get_audio_source_screen(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    ok(vec![json!({"screen": display.lock_state().screen.audio_source})])
}

/// `[{"screen": "sub"}]` → `[]`. `sub` in the single layout has no screen to follow: 7.
pub(crate) fn set_audio_source_screen(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let screen = choice(object(call)?, "screen", SCREENS)?;
    let mut state = display.lock_state();
    check_not_changing(&mut state.screen, Instant::now())?;
    if screen == "sub" && state.screen.mode == "single" {
        return Err(err(Code::ILLEGAL_STATE));
    }
    state.screen.audio_source = screen;
    ok(vec![])
}

/// `[{"screen": "main", "size": "large"}]` → `[]` (SonyAPI sends `{"screen","size"}`); only
/// in the PAP layout, else 7.
pub(crate) fn set_pap_screen_size(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let screen = choice(params, "screen", SCREENS)?;
    let size = choice(params, "size", PAP_SIZES)?;
    let mut state = display.lock_state();
    check_not_changing(&mut state.screen, Instant::now())?;
    if state.screen.mode != "PAP" {
        return Err(err(Code::ILLEGAL_STATE));
    }
    state.screen.pap_sizes.insert(screen, size);
    ok(vec![])
}

/// The long poll of 1.1: the client sends the layout it knows
/// (`{"multiScreenMode","pipSubScreenPosition","audioSourceScreen","option"}`, members left
/// out are not compared). A different layout is answered at once with the current one; the
/// same is held until the layout changes or the display's `notify_hold` ends, then 40000
/// "Request Retry" (the long-poll timeout of the common area). More than [`MAX_WATCHERS`]
/// polls at once: 40001 "Clients Over Maximum".
pub(crate) fn request_to_notify_screen_state(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let known = optional_object(call)?.cloned().unwrap_or_default();
    for (key, value) in &known {
        let expected_kind = match key.as_str() {
            "multiScreenMode" | "pipSubScreenPosition" | "audioSourceScreen" => value.is_string(),
            "option" => value.is_object() || value.is_null(),
            _ => false,
        };
        if !expected_kind {
            return Err(bad());
        }
    }
    let current = display.lock_state().screen.notification();
    if differs(&known, &current) {
        return ok(vec![current]);
    }
    Ok(Answer::ScreenWatch { known, until: Instant::now() + display.config().notify_hold })
}

/// Whether the layout the client knows differs from `current` in a member it sent.
pub(crate) fn differs(known: &Map<String, Value>, current: &Value) -> bool {
    known.iter().any(|(key, value)| match key.as_str() {
        // An option sent as null or {} compares nothing.
        "option" => value.as_object().is_some_and(|option| {
            option.iter().any(|(k, v)| current["option"].get(k).is_some_and(|c| c != v))
        }),
        _ => current.get(key).is_some_and(|c| c != value),
    })
}

/// How often a held `requestToNotifyScreenState` looks at the layout again.
pub(crate) const WATCH_STEP: Duration = Duration::from_millis(50);
