//! What the virtual display remembers: power, volumes, inputs, apps, settings. Getters read it,
//! setters and the admin API's patches change it, and `reset` puts the initial copy back.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::library::Library;
use super::screen::Screen;

/// The display's power state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Power {
    /// On: every method answers.
    Active,
    /// Standby: `getPowerStatus` answers `standby`, most methods answer the standby error of
    /// [`Quirks::standby_error`](super::Quirks::standby_error).
    Standby,
    /// Deep sleep or off the network: the display answers nothing at all. The router holds
    /// such requests unanswered; a server can ask [`VirtualDisplay::is_reachable`](super::VirtualDisplay::is_reachable)
    /// and refuse connections instead.
    Unreachable,
}

impl Power {
    /// The name used in the admin API's state (`active`, `standby`, `unreachable`).
    pub fn as_str(self) -> &'static str {
        match self {
            Power::Active => "active",
            Power::Standby => "standby",
            Power::Unreachable => "unreachable",
        }
    }

    fn parse(text: &str) -> Option<Power> {
        [Power::Active, Power::Standby, Power::Unreachable].into_iter().find(|p| p.as_str() == text)
    }
}

/// The volume targets of `audio.getVolumeInformation`, in its order.
pub(crate) const TARGETS: [&str; 2] = ["speaker", "headphone"];

/// One target's volume and its range.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Volume {
    pub volume: i64,
    pub min: i64,
    pub max: i64,
}

/// An external input (`extInput:hdmi?port=2`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Input {
    pub uri: &'static str,
    pub title: &'static str,
    pub icon: &'static str,
    pub connected: bool,
}

/// The display's inputs, a Pro display's set.
pub(crate) const INPUTS: &[Input] = &[
    Input { uri: "extInput:hdmi?port=1", title: "HDMI 1", icon: "meta:hdmi", connected: true },
    Input { uri: "extInput:hdmi?port=2", title: "HDMI 2", icon: "meta:hdmi", connected: true },
    Input { uri: "extInput:hdmi?port=3", title: "HDMI 3", icon: "meta:hdmi", connected: false },
    Input { uri: "extInput:hdmi?port=4", title: "HDMI 4", icon: "meta:hdmi", connected: false },
    Input {
        uri: "extInput:composite?port=1",
        title: "Video",
        icon: "meta:composite",
        connected: false,
    },
    Input {
        uri: "extInput:widi?port=1",
        title: "Screen mirroring",
        icon: "meta:wifidisplay",
        connected: false,
    },
];

/// The `tv` source: a tuner whose channel list is empty until the admin API adds channels.
pub(crate) const TV_SOURCE: &str = "tv:dvbt";

/// An installed application.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct App {
    pub title: String,
    pub uri: String,
    pub icon: String,
    /// `false`: `terminateApps` cannot close it and answers 41403.
    pub terminable: bool,
    /// How long its launch takes; `None` uses the display's `app_launch_delay`.
    pub launch_ms: Option<u64>,
}

/// A tuned channel.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Channel {
    pub title: String,
    pub disp_num: String,
    /// `setTvContentVisibility`'s three switches: listed, reached by channel up/down, in the
    /// programme guide.
    pub visible: bool,
    pub surfing_visible: bool,
    pub epg_visible: bool,
}

impl Channel {
    /// The channel's URI: its position in the list, as a triplet.
    pub fn uri(index: usize) -> String {
        format!("{TV_SOURCE}?trip=1.1.{}", index + 1)
    }
}

/// An app launch under way: done at `done_at`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Launch {
    pub uri: String,
    pub done_at: Instant,
}

/// The kind of values a setting takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Choice(&'static [&'static str]),
    Range(i64, i64),
}

/// One target of `getSoundSettings`, `getSpeakerSettings` or `getPictureQualitySettings`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SettingDef {
    pub target: &'static str,
    pub kind: Kind,
    pub default: &'static str,
}

impl SettingDef {
    /// Whether `value` is one this setting takes.
    pub fn accepts(&self, value: &str) -> bool {
        match self.kind {
            Kind::Choice(choices) => choices.contains(&value),
            Kind::Range(min, max) => {
                value.parse::<i64>().is_ok_and(|v| (min..=max).contains(&v))
                    && !value.starts_with('+')
            }
        }
    }

    /// The `candidate` member of the getter's answer.
    pub fn candidate(&self) -> Value {
        match self.kind {
            Kind::Choice(choices) => {
                Value::Array(choices.iter().map(|c| json!({"value": c})).collect())
            }
            Kind::Range(min, max) => json!([{"min": min, "max": max, "step": 1}]),
        }
    }

    fn describe(&self) -> String {
        match self.kind {
            Kind::Choice(choices) => format!("one of {choices:?}"),
            Kind::Range(min, max) => format!("an integer string from {min} to {max}"),
        }
    }
}

/// The groups of settings and their targets.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) enum Group {
    Sound,
    Speaker,
    Picture,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Sound, Group::Speaker, Group::Picture];

    /// The member name in the admin API's state.
    pub fn name(self) -> &'static str {
        match self {
            Group::Sound => "sound",
            Group::Speaker => "speaker",
            Group::Picture => "picture",
        }
    }

    pub fn defs(self) -> &'static [SettingDef] {
        match self {
            Group::Sound => SOUND,
            Group::Speaker => SPEAKER,
            Group::Picture => PICTURE,
        }
    }

    pub fn def(self, target: &str) -> Option<&'static SettingDef> {
        self.defs().iter().find(|d| d.target == target)
    }
}

const SOUND: &[SettingDef] = &[
    SettingDef {
        target: "outputTerminal",
        kind: Kind::Choice(&["speaker", "speaker_hdmi", "hdmi", "audioSystem"]),
        default: "speaker",
    },
    SettingDef {
        target: "soundMode",
        kind: Kind::Choice(&["standard", "cinema", "music", "sports"]),
        default: "standard",
    },
];

const SPEAKER: &[SettingDef] = &[
    SettingDef {
        target: "tvPosition",
        kind: Kind::Choice(&["tableTop", "wallMount"]),
        default: "tableTop",
    },
    SettingDef { target: "subwooferLevel", kind: Kind::Range(0, 24), default: "12" },
];

const PICTURE: &[SettingDef] = &[
    SettingDef {
        target: "pictureMode",
        kind: Kind::Choice(&["standard", "vivid", "cinema", "custom"]),
        default: "standard",
    },
    SettingDef { target: "brightness", kind: Kind::Range(0, 50), default: "40" },
    SettingDef { target: "contrast", kind: Kind::Range(0, 100), default: "90" },
    SettingDef { target: "color", kind: Kind::Range(0, 100), default: "50" },
];

/// LED indicator modes of `setLEDIndicatorStatus`.
pub(crate) const LED_MODES: &[&str] =
    &["Demo", "AutoBrightnessAdjust", "Dark", "SimpleResponse", "Off"];

/// Power-saving modes of `setPowerSavingMode`.
pub(crate) const POWER_SAVING_MODES: &[&str] = &["off", "low", "high", "pictureOff"];

/// Languages `setLanguage` accepts (ISO 639-2, as the display's menus).
pub(crate) const LANGUAGES: &[&str] =
    &["eng", "deu", "fra", "spa", "ita", "nld", "por", "swe", "dan", "nor", "fin", "pol", "jpn"];

/// Scenes of `setSceneSetting`, in the order `getSceneSetting` lists them as candidates (a
/// real display's order: `general`, `auto`, `auto24pSync`, captured in
/// custom-components/media_player.braviatv_psk#14).
pub(crate) const SCENES: &[&str] = &["general", "auto", "auto24pSync"];

/// Everything the display remembers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct State {
    pub power: Power,
    pub volumes: BTreeMap<&'static str, Volume>,
    pub mute: bool,
    pub input: String,
    pub channels: Vec<Channel>,
    pub apps: Vec<App>,
    pub active_app: Option<String>,
    /// Apps launched and not terminated, the active one included.
    pub running: Vec<String>,
    pub launching: Option<Launch>,
    pub led_mode: String,
    pub led_status: bool,
    pub power_saving: String,
    pub wol: bool,
    pub public_key: bool,
    pub interface_version: String,
    pub language: String,
    pub scene: String,
    pub text_field_focused: bool,
    pub text: String,
    pub settings: BTreeMap<Group, BTreeMap<&'static str, String>>,
    /// The videoScreen layout.
    pub screen: Screen,
    /// Storages, recordings, favourites, parental rating, device modes.
    pub library: Library,
}

impl State {
    /// The state a display starts with.
    pub fn initial(interface_version: &str) -> State {
        let volume = |volume| Volume { volume, min: 0, max: 100 };
        State {
            power: Power::Active,
            volumes: BTreeMap::from([(TARGETS[0], volume(25)), (TARGETS[1], volume(10))]),
            mute: false,
            input: INPUTS[0].uri.to_owned(),
            channels: Vec::new(),
            apps: default_apps(),
            active_app: None,
            running: Vec::new(),
            launching: None,
            led_mode: "Demo".to_owned(),
            led_status: true,
            power_saving: "off".to_owned(),
            wol: true,
            public_key: true,
            interface_version: interface_version.to_owned(),
            language: "eng".to_owned(),
            scene: "auto".to_owned(),
            text_field_focused: false,
            text: String::new(),
            settings: Group::ALL
                .into_iter()
                .map(|g| (g, g.defs().iter().map(|d| (d.target, d.default.to_owned())).collect()))
                .collect(),
            screen: Screen::default(),
            library: Library::default(),
        }
    }

    /// Completes an app launch whose time has come.
    pub fn settle(&mut self, now: Instant) {
        if let Some(launch) = self.launching.take_if(|l| l.done_at <= now) {
            self.activate(launch.uri);
        }
    }

    /// Makes `uri` the active app, and running.
    pub fn activate(&mut self, uri: String) {
        if !self.running.contains(&uri) {
            self.running.push(uri.clone());
        }
        self.active_app = Some(uri);
    }

    pub fn app(&self, uri: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.uri == uri)
    }

    pub fn setting(&self, group: Group, target: &str) -> &str {
        self.settings.get(&group).and_then(|s| s.get(target)).map_or("", String::as_str)
    }

    /// The state as the admin API shows it.
    pub fn to_json(&self, now: Instant) -> Value {
        let volume: Map<String, Value> = self
            .volumes
            .iter()
            .map(|(t, v)| {
                ((*t).to_owned(), json!({"volume": v.volume, "min": v.min, "max": v.max}))
            })
            .collect();
        let apps: Vec<Value> = self
            .apps
            .iter()
            .map(|a| {
                json!({"title": a.title, "uri": a.uri, "icon": a.icon,
                       "terminable": a.terminable, "launch_ms": a.launch_ms})
            })
            .collect();
        let channels: Vec<Value> = self
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({"uri": Channel::uri(i), "title": c.title, "dispNum": c.disp_num,
                       "visible": c.visible, "surfing_visible": c.surfing_visible,
                       "epg_visible": c.epg_visible})
            })
            .collect();
        let launching = self.launching.as_ref().map(|l| {
            json!({"uri": l.uri, "remaining_ms": millis(l.done_at.saturating_duration_since(now))})
        });
        let mut out = json!({
            "power": self.power.as_str(),
            "volume": volume,
            "mute": self.mute,
            "input": self.input,
            "active_app": self.active_app,
            "running_apps": self.running,
            "launching": launching,
            "apps": apps,
            "channels": channels,
            "led": {"mode": self.led_mode, "status": self.led_status},
            "power_saving": self.power_saving,
            "wol": self.wol,
            "public_key": self.public_key,
            "interface_version": self.interface_version,
            "language": self.language,
            "scene": self.scene,
            "text_field_focused": self.text_field_focused,
            "text": self.text,
        });
        if let Value::Object(members) = &mut out {
            for group in Group::ALL {
                let values: Map<String, Value> = self.settings[&group]
                    .iter()
                    .map(|(t, v)| ((*t).to_owned(), Value::String(v.clone())))
                    .collect();
                members.insert(group.name().to_owned(), Value::Object(values));
            }
            members.insert("screen".to_owned(), self.screen.to_json(now));
            self.library.to_json(members);
        }
        out
    }

    /// Applies an admin patch: all or nothing, the error naming the offending member.
    pub fn apply(&mut self, patch: &Value) -> Result<(), String> {
        let Value::Object(members) = patch else {
            return Err(format!("the patch must be a JSON object, not {patch}"));
        };
        let mut next = self.clone();
        // Apps first, so a patch can install an app and make it active at once.
        if let Some(apps) = members.get("apps") {
            next.set_apps(apps)?;
        }
        for (name, value) in members {
            next.set_member(name, value)?;
        }
        *self = next;
        Ok(())
    }

    fn set_member(&mut self, name: &str, value: &Value) -> Result<(), String> {
        match name {
            "apps" => {}
            "power" => {
                self.power = value.as_str().and_then(Power::parse).ok_or_else(|| {
                    format!("power: {value} is not one of \"active\", \"standby\", \"unreachable\"")
                })?;
            }
            "volume" => self.set_volumes(value)?,
            "mute" => self.mute = boolean(name, value)?,
            "input" => {
                let uri = string(name, value)?;
                let known = INPUTS.iter().any(|i| i.uri == uri)
                    || (0..self.channels.len()).any(|i| Channel::uri(i) == uri);
                if !known {
                    let inputs: Vec<&str> = INPUTS.iter().map(|i| i.uri).collect();
                    return Err(format!(
                        "input: {uri:?} is neither an input {inputs:?} nor a channel URI"
                    ));
                }
                self.input = uri.to_owned();
                self.active_app = None;
            }
            "active_app" => match value {
                Value::Null => {
                    self.active_app = None;
                    self.launching = None;
                }
                Value::String(uri) if self.app(uri).is_some() => {
                    self.launching = None;
                    self.activate(uri.clone());
                }
                other => {
                    let uris: Vec<&str> = self.apps.iter().map(|a| a.uri.as_str()).collect();
                    return Err(format!(
                        "active_app: {other} is not null or an installed app's uri {uris:?}"
                    ));
                }
            },
            "channels" => self.set_channels(value)?,
            "led" => self.set_led(value)?,
            "power_saving" => {
                self.power_saving = choice(name, value, POWER_SAVING_MODES)?.to_owned();
            }
            "wol" => self.wol = boolean(name, value)?,
            "public_key" => self.public_key = boolean(name, value)?,
            "interface_version" => {
                let version = string(name, value)?;
                let parts: Vec<&str> = version.split('.').collect();
                if parts.len() != 3 || parts.iter().any(|p| p.parse::<u32>().is_err()) {
                    return Err(format!(
                        "interface_version: {version:?} is not X.Y.Z with decimal parts"
                    ));
                }
                self.interface_version = version.to_owned();
            }
            "language" => self.language = choice(name, value, LANGUAGES)?.to_owned(),
            "scene" => self.scene = choice(name, value, SCENES)?.to_owned(),
            "text_field_focused" => self.text_field_focused = boolean(name, value)?,
            "text" => self.text = string(name, value)?.to_owned(),
            "screen" => self.screen.apply(value)?,
            library if super::library::MEMBERS.contains(&library) => {
                let channels = self.channels.len();
                self.library.set_member(library, value, channels)?;
            }
            other => {
                if let Some(group) = Group::ALL.into_iter().find(|g| g.name() == other) {
                    return self.set_settings(group, value);
                }
                return Err(format!(
                    "unknown member {other:?}; accepted: {}, {}",
                    MEMBERS.join(", "),
                    super::library::MEMBERS.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn set_volumes(&mut self, value: &Value) -> Result<(), String> {
        let Value::Object(targets) = value else {
            return Err(format!("volume: {value} is not an object like {{\"speaker\": 30}}"));
        };
        for (target, spec) in targets {
            let Some(volume) = self.volumes.get_mut(target.as_str()) else {
                return Err(format!("volume.{target}: unknown target; targets are {TARGETS:?}"));
            };
            let mut next = volume.clone();
            match spec {
                Value::Number(_) => next.volume = integer(&format!("volume.{target}"), spec)?,
                Value::Object(parts) => {
                    for (key, part) in parts {
                        let path = format!("volume.{target}.{key}");
                        let field = match key.as_str() {
                            "volume" => &mut next.volume,
                            "min" => &mut next.min,
                            "max" => &mut next.max,
                            _ => {
                                return Err(format!(
                                    "{path}: unknown member; accepted: volume, min, max"
                                ));
                            }
                        };
                        *field = integer(&path, part)?;
                    }
                }
                other => {
                    return Err(format!(
                        "volume.{target}: {other} is neither a number nor {{\"volume\", \"min\", \"max\"}}"
                    ));
                }
            }
            if !(next.min <= next.volume && next.volume <= next.max) {
                return Err(format!(
                    "volume.{target}: volume {} is outside min {} .. max {}",
                    next.volume, next.min, next.max
                ));
            }
            *volume = next;
        }
        Ok(())
    }

    fn set_apps(&mut self, value: &Value) -> Result<(), String> {
        let Value::Array(items) = value else {
            return Err(format!("apps: {value} is not an array of apps"));
        };
        let mut apps = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("apps[{i}]");
            let Value::Object(app) = item else {
                return Err(format!("{path}: {item} is not an object with title and uri"));
            };
            let text = |key: &str, default: Option<&str>| -> Result<String, String> {
                match (app.get(key), default) {
                    (Some(v), _) => string(&format!("{path}.{key}"), v).map(str::to_owned),
                    (None, Some(d)) => Ok(d.to_owned()),
                    (None, None) => Err(format!("{path}.{key}: missing")),
                }
            };
            let launch_ms = match app.get("launch_ms") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or_else(|| {
                    format!("{path}.launch_ms: {v} is not a non-negative integer")
                })?),
            };
            let terminable = match app.get("terminable") {
                None => true,
                Some(v) => boolean(&format!("{path}.terminable"), v)?,
            };
            apps.push(App {
                title: text("title", None)?,
                uri: text("uri", None)?,
                icon: text("icon", Some(""))?,
                terminable,
                launch_ms,
            });
        }
        self.apps = apps;
        let installed = |uri: &String| self.apps.iter().any(|a| &a.uri == uri);
        self.running.retain(|uri| self.apps.iter().any(|a| &a.uri == uri));
        if !self.active_app.as_ref().is_some_and(installed) {
            self.active_app = None;
        }
        if !self.launching.as_ref().is_some_and(|l| installed(&l.uri)) {
            self.launching = None;
        }
        Ok(())
    }

    fn set_channels(&mut self, value: &Value) -> Result<(), String> {
        let Value::Array(items) = value else {
            return Err(format!("channels: {value} is not an array of {{\"title\", \"dispNum\"}}"));
        };
        let mut channels = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let member = |key: &str| {
                let path = format!("channels[{i}].{key}");
                item.get(key)
                    .ok_or_else(|| format!("{path}: missing"))
                    .and_then(|v| string(&path, v).map(str::to_owned))
            };
            let flag = |key: &str| match item.get(key) {
                None => Ok(true),
                Some(v) => boolean(&format!("channels[{i}].{key}"), v),
            };
            channels.push(Channel {
                title: member("title")?,
                disp_num: member("dispNum")?,
                visible: flag("visible")?,
                surfing_visible: flag("surfing_visible")?,
                epg_visible: flag("epg_visible")?,
            });
        }
        self.channels = channels;
        self.library.forget_channels(self.channels.len());
        if self.input.starts_with(TV_SOURCE)
            && !(0..self.channels.len()).any(|i| Channel::uri(i) == self.input)
        {
            self.input = INPUTS[0].uri.to_owned();
        }
        Ok(())
    }

    fn set_led(&mut self, value: &Value) -> Result<(), String> {
        let Value::Object(led) = value else {
            return Err(format!("led: {value} is not an object like {{\"mode\": \"Dark\"}}"));
        };
        for (key, part) in led {
            match key.as_str() {
                "mode" => self.led_mode = choice("led.mode", part, LED_MODES)?.to_owned(),
                "status" => self.led_status = boolean("led.status", part)?,
                _ => return Err(format!("led.{key}: unknown member; accepted: mode, status")),
            }
        }
        Ok(())
    }

    fn set_settings(&mut self, group: Group, value: &Value) -> Result<(), String> {
        let name = group.name();
        let Value::Object(targets) = value else {
            return Err(format!("{name}: {value} is not an object of target: value"));
        };
        for (target, v) in targets {
            let path = format!("{name}.{target}");
            let Some(def) = group.def(target) else {
                let known: Vec<&str> = group.defs().iter().map(|d| d.target).collect();
                return Err(format!("{path}: unknown target; targets are {known:?}"));
            };
            let text = string(&path, v)?;
            if !def.accepts(text) {
                return Err(format!("{path}: {text:?} is not {}", def.describe()));
            }
            if let Some(values) = self.settings.get_mut(&group) {
                values.insert(def.target, text.to_owned());
            }
        }
        Ok(())
    }
}

/// The members a patch may set, for the error message.
const MEMBERS: &[&str] = &[
    "power",
    "volume",
    "mute",
    "input",
    "active_app",
    "apps",
    "channels",
    "led",
    "power_saving",
    "wol",
    "public_key",
    "interface_version",
    "language",
    "scene",
    "text_field_focused",
    "text",
    "sound",
    "speaker",
    "picture",
    "screen",
];

fn default_apps() -> Vec<App> {
    let app = |title: &str, uri: &str, terminable| App {
        title: title.to_owned(),
        uri: uri.to_owned(),
        icon: format!("http://127.0.0.1/icons/{}.png", title.to_lowercase().replace(' ', "_")),
        terminable,
        launch_ms: None,
    };
    vec![
        app(
            "YouTube",
            "com.sony.dtv.com.google.android.youtube.tv.com.google.android.apps.youtube.tv.activity.ShellActivity",
            true,
        ),
        app("Netflix", "com.sony.dtv.com.netflix.ninja.com.netflix.ninja.MainActivity", true),
        app("Web Browser", "localapp://webappruntime?url=http%3A%2F%2Fexample.com%2F", true),
        // A signage player pinned by the installer: terminateApps cannot close it (41403).
        app(
            "Signage Player",
            "com.sony.dtv.com.example.signage.com.example.signage.PlayerActivity",
            false,
        ),
    ]
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn boolean(name: &str, value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| format!("{name}: {value} is not true or false"))
}

fn string<'v>(name: &str, value: &'v Value) -> Result<&'v str, String> {
    value.as_str().ok_or_else(|| format!("{name}: {value} is not a string"))
}

fn integer(name: &str, value: &Value) -> Result<i64, String> {
    value.as_i64().ok_or_else(|| format!("{name}: {value} is not an integer"))
}

fn choice<'v>(name: &str, value: &'v Value, choices: &[&str]) -> Result<&'v str, String> {
    let text = string(name, value)?;
    if choices.contains(&text) {
        Ok(text)
    } else {
        Err(format!("{name}: {text:?} is not one of {choices:?}"))
    }
}
