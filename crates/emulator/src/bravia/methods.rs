//! The method table: every JSON-RPC method the display serves, with its versions, auth levels,
//! standby behaviour, signature and handler. Dispatch, `guide.getSupportedApiInfo` and each
//! service's `getVersions` and `getMethodTypes` are all generated from [`METHODS`].

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use devfault_bravia::{Code, registry};
use devfault_core::Entry;
use serde_json::{Map, Value, json};

use super::VirtualDisplay;
use super::auth::{self, Credentials, Level, Registration};
use super::ircc;
use super::state::{
    Channel, Group, INPUTS, LANGUAGES, LED_MODES, Launch, POWER_SAVING_MODES, Power, SCENES, State,
    TARGETS, TV_SOURCE,
};
use super::{library, screen};

/// The service of rows every service answers (`getVersions`, `getMethodTypes`).
pub(crate) const EVERY_SERVICE: &str = "*";

/// What a handler answers.
#[derive(Clone, PartialEq, Debug)]
pub(crate) enum Answer {
    /// `{"result": [...], "id": N}`.
    Result(Vec<Value>),
    /// `{"results": [...], "id": N}`: how real displays answer `getMethodTypes` (a captured
    /// answer of a real display has the member in the plural).
    Results(Vec<Value>),
    /// The error of a registry row: HTTP-layer rows travel with their status.
    Error(&'static Entry),
    /// `actRegister` succeeded: `{"result": [], "id": N}` and `Set-Cookie: auth=<token>`.
    Registered { token: String },
    /// The answer after a processing time.
    Later { wait: Duration, then: Box<Answer> },
    /// `requestToNotifyScreenState`'s long poll: the layout the client knows, answered when
    /// the display's layout differs from it, or with 40000 at `until`.
    ScreenWatch { known: Map<String, Value>, until: Instant },
}

/// A handler: the display, the call, and an answer or the row of the error.
pub(crate) type Handler = fn(&VirtualDisplay, &Call<'_>) -> Result<Answer, &'static Entry>;

/// How a method behaves while the display is in standby.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Standby {
    /// Answers as when active.
    Answers,
    /// Answers the standby error chosen by the quirk (7 "not power-on" or 40005).
    Refused,
    /// Always `[7, "not power-on"]` (actRegister on real displays).
    NotPowerOn,
}

/// One row of the table.
#[derive(Debug)]
pub(crate) struct Method {
    /// The service, or [`EVERY_SERVICE`].
    pub service: &'static str,
    pub name: &'static str,
    /// Each version with its auth level.
    pub versions: &'static [(&'static str, Level)],
    pub standby: Standby,
    /// `getMethodTypes` signature: parameter types, result types.
    pub params: &'static [&'static str],
    pub result: &'static [&'static str],
    pub handler: Handler,
}

impl Method {
    /// The auth level of `version`, if the method has that version.
    pub fn level(&self, version: &str) -> Option<Level> {
        self.versions.iter().find(|(v, _)| *v == version).map(|(_, level)| *level)
    }
}

/// A call being answered.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub service: &'a str,
    pub version: &'a str,
    pub params: &'a [Value],
    pub credentials: &'a Credentials,
}

use Level::{Generic as G, None as N, Private as P};

const V10_N: &[(&str, Level)] = &[("1.0", N)];
const V10_G: &[(&str, Level)] = &[("1.0", G)];
const V10_P: &[(&str, Level)] = &[("1.0", P)];

const fn row(
    service: &'static str,
    name: &'static str,
    versions: &'static [(&'static str, Level)],
    standby: Standby,
    params: &'static [&'static str],
    result: &'static [&'static str],
    handler: Handler,
) -> Method {
    Method { service, name, versions, standby, params, result, handler }
}

use Standby::{Answers as ON, NotPowerOn as NPO, Refused as OFF};

/// Every method, in the order the real FW-55BZ35F's `getSupportedApiInfo` lists them within a
/// service (`data/*.json`), so the answer equals the dump.
#[rustfmt::skip]
pub(crate) static METHODS: &[Method] = &[
    row(EVERY_SERVICE, "getMethodTypes", V10_N, ON, &["string"], &["string", "string*", "string*", "string"], method_types),
    row(EVERY_SERVICE, "getVersions", V10_N, ON, &[], &["string*"], versions),
    row("guide", "getSupportedApiInfo", V10_N, ON, &["{\"services\":\"string*\"}"], &["{\"service\":\"string\", \"protocols\":\"string*\", \"apis\":\"GeneralApiInfo[]\"}*"], supported_api_info),
    row("system", "getDeviceMode", V10_G, OFF, &["{\"value\":\"string\"}"], &["{\"isOn\":\"bool\"}"], library::get_device_mode),
    row("system", "requestReboot", V10_G, OFF, &[], &[], request_reboot),
    row("system", "getInterfaceInformation", V10_N, ON, &[], &["{\"productCategory\":\"string\", \"productName\":\"string\", \"modelName\":\"string\", \"serverName\":\"string\", \"interfaceVersion\":\"string\"}"], get_interface_information),
    row("system", "getRemoteDeviceSettings", V10_N, OFF, &["{\"target\":\"string\"}"], &["{\"target\":\"string\", \"currentValue\":\"string\"}*"], get_remote_device_settings),
    row("system", "getNetworkSettings", V10_G, OFF, &["{\"netif\":\"string\"}"], &["{\"netif\":\"string\", \"hwAddr\":\"string\", \"ipAddrV4\":\"string\", \"ipAddrV6\":\"string\", \"netmask\":\"string\", \"gateway\":\"string\", \"dns\":\"string*\"}*"], get_network_settings),
    row("system", "setDeviceMode", V10_G, OFF, &["{\"value\":\"string\", \"isOn\":\"bool\"}"], &[], library::set_device_mode),
    row("system", "getSystemSupportedFunction", V10_N, OFF, &[], &["{\"option\":\"string\", \"value\":\"string\"}*"], get_system_supported_function),
    row("system", "getPowerSavingMode", V10_N, OFF, &[], &["{\"mode\":\"string\"}"], get_power_saving_mode),
    row("system", "setWolMode", V10_G, OFF, &["{\"enabled\":\"bool\"}"], &[], set_wol_mode),
    row("system", "getWolMode", V10_G, OFF, &[], &["{\"enabled\":\"bool\"}"], get_wol_mode),
    row("system", "setPowerSavingMode", V10_G, OFF, &["{\"mode\":\"string\"}"], &[], set_power_saving_mode),
    row("system", "mountStorage", V10_G, OFF, &["{\"uri\":\"string\", \"action\":\"string\"}"], &[], library::mount_storage),
    row("system", "setPowerStatus", V10_G, ON, &["{\"status\":\"bool\"}"], &[], set_power_status),
    row("system", "getLEDIndicatorStatus", V10_G, OFF, &[], &["{\"mode\":\"string\", \"status\":\"string\"}"], get_led_indicator_status),
    row("system", "getPowerStatus", V10_N, ON, &[], &["{\"status\":\"string\"}"], get_power_status),
    row("system", "getCurrentTime", &[("1.0", N), ("1.1", N)], OFF, &[], &["string"], get_current_time),
    row("system", "getStorageList", &[("1.1", G)], OFF, &["{\"uri\":\"string\"}"], &["{\"uri\":\"string\", \"deviceName\":\"string\", \"volumeLabel\":\"string\", \"permission\":\"string\", \"position\":\"string\", \"wholeCapacityMB\":\"int\", \"freeCapacityMB\":\"int\", \"systemAreaCapacityMB\":\"int\", \"formattable\":\"string\", \"formatting\":\"string\", \"isAvailable\":\"string\", \"mounted\":\"string\"}*"], library::get_storage_list),
    row("system", "getSystemInformation", V10_P, OFF, &[], &["{\"product\":\"string\", \"region\":\"string\", \"language\":\"string\", \"model\":\"string\", \"serial\":\"string\", \"macAddr\":\"string\", \"name\":\"string\", \"generation\":\"string\", \"area\":\"string\", \"cid\":\"string\"}"], get_system_information),
    row("system", "getRemoteControllerInfo", V10_N, OFF, &[], &["{\"bundled\":\"bool\", \"type\":\"string\"}", "{\"name\":\"string\", \"value\":\"string\"}*"], get_remote_controller_info),
    row("system", "setLEDIndicatorStatus", &[("1.1", G)], OFF, &["{\"mode\":\"string\", \"status\":\"string\"}"], &[], set_led_indicator_status),
    row("system", "setLanguage", V10_G, OFF, &["{\"language\":\"string\"}"], &[], set_language),
    row("audio", "setAudioVolume", &[("1.0", G), ("1.2", G)], OFF, &["{\"target\":\"string\", \"volume\":\"string\", \"ui\":\"string\"}"], &["int"], set_audio_volume),
    row("audio", "getVolumeInformation", V10_N, OFF, &[], &["{\"target\":\"string\", \"volume\":\"int\", \"mute\":\"bool\", \"maxVolume\":\"int\", \"minVolume\":\"int\"}*"], get_volume_information),
    row("audio", "getSoundSettings", &[("1.1", N)], OFF, &["{\"target\":\"string\"}"], &["{\"target\":\"string\", \"currentValue\":\"string\"}*"], get_sound_settings),
    row("audio", "setSoundSettings", &[("1.1", G)], OFF, &["{\"settings\":\"GeneralSettings[]\"}"], &[], set_sound_settings),
    row("audio", "setAudioMute", V10_G, OFF, &["{\"status\":\"bool\"}"], &["int"], set_audio_mute),
    row("audio", "setSpeakerSettings", V10_G, OFF, &["{\"settings\":\"GeneralSettings[]\"}"], &[], set_speaker_settings),
    row("audio", "getSpeakerSettings", V10_N, OFF, &["{\"target\":\"string\"}"], &["{\"target\":\"string\", \"currentValue\":\"string\"}*"], get_speaker_settings),
    row("avContent", "getContentList", &[("1.0", P), ("1.2", P), ("1.5", P)], OFF, &["{\"uri\":\"string\", \"stIdx\":\"int\", \"cnt\":\"int\"}"], &["{\"uri\":\"string\", \"title\":\"string\", \"index\":\"int\"}*"], get_content_list),
    row("avContent", "getSchemeList", V10_N, OFF, &[], &["{\"scheme\":\"string\"}*"], get_scheme_list),
    row("avContent", "getCurrentExternalInputsStatus", &[("1.0", N), ("1.1", N)], OFF, &[], &["{\"uri\":\"string\", \"title\":\"string\", \"connection\":\"bool\", \"label\":\"string\", \"icon\":\"string\"}*"], get_current_external_inputs_status),
    row("avContent", "setPlayTvContent", &[("1.0", G), ("1.1", G)], OFF, &["{\"channel\":\"string\", \"source\":\"string\", \"sourceType\":\"string\", \"broadcastFreqName\":\"string\", \"ignoreVisibilitySettings\":\"bool\"}"], &[], library::set_play_tv_content),
    row("avContent", "setDeleteProtection", V10_G, OFF, &["{\"uri\":\"string\", \"isProtected\":\"bool\"}"], &[], library::set_delete_protection),
    row("avContent", "getPlayingContentInfo", V10_P, OFF, &[], &["{\"uri\":\"string\", \"source\":\"string\", \"title\":\"string\"}"], get_playing_content_info),
    row("avContent", "deleteContent", V10_G, OFF, &["{\"uri\":\"string\"}"], &[], library::delete_content),
    row("avContent", "getFavoriteList", V10_P, OFF, &["{\"source\":\"string\"}"], &["{\"uri\":\"string\", \"title\":\"string\", \"dispNum\":\"string\", \"index\":\"int\", \"favSource\":\"string\"}*"], library::get_favorite_list),
    row("avContent", "getSourceList", V10_N, OFF, &["{\"scheme\":\"string\"}"], &["{\"source\":\"string\"}*"], get_source_list),
    row("avContent", "setPlayContent", V10_G, OFF, &["{\"uri\":\"string\"}"], &[], set_play_content),
    row("avContent", "setTvContentVisibility", V10_G, OFF, &["{\"uri\":\"string\", \"epgVisibility\":\"string\", \"channelSurfingVisibility\":\"string\", \"visibility\":\"string\"}*"], &[], library::set_tv_content_visibility),
    row("avContent", "getContentCount", &[("1.0", P), ("1.1", P)], OFF, &["{\"source\":\"string\"}"], &["{\"count\":\"int\"}"], get_content_count),
    row("avContent", "getParentalRatingSettings", V10_G, OFF, &[], &["{\"ratingTypeAge\":\"int\", \"ratingTypeSony\":\"string\", \"ratingCountry\":\"string\", \"ratingCustomTypeTV\":\"string*\", \"ratingCustomTypeMpaa\":\"string\", \"ratingCustomTypeCaEnglish\":\"string\", \"ratingCustomTypeCaFrench\":\"string\", \"unratedLock\":\"bool\"}"], library::get_parental_rating_settings),
    row("avContent", "setFavoriteContentList", V10_G, OFF, &["{\"favSource\":\"string\", \"contents\":\"string*\"}"], &[], library::set_favorite_content_list),
    row("appControl", "getApplicationStatusList", V10_N, OFF, &[], &["{\"name\":\"string\", \"status\":\"string\"}*"], get_application_status_list),
    row("appControl", "terminateApps", V10_G, OFF, &[], &[], terminate_apps),
    row("appControl", "getTextForm", &[("1.1", P)], OFF, &["{\"encKey\":\"string\"}"], &["{\"text\":\"string\"}"], get_text_form),
    row("appControl", "setActiveApp", V10_G, OFF, &["{\"uri\":\"string\", \"data\":\"string\"}"], &[], set_active_app),
    row("appControl", "setTextForm", &[("1.0", G), ("1.1", G)], OFF, &["{\"encKey\":\"string\", \"text\":\"string\"}"], &[], set_text_form),
    row("appControl", "getWebAppStatus", V10_P, OFF, &[], &["{\"active\":\"bool\", \"url\":\"string\"}"], get_web_app_status),
    row("appControl", "getApplicationList", V10_P, OFF, &[], &["{\"title\":\"string\", \"uri\":\"string\", \"icon\":\"string\"}*"], get_application_list),
    row("videoScreen", "setBannerMode", V10_G, OFF, &["{\"value\":\"string\"}"], &[], screen::set_banner_mode),
    row("videoScreen", "setAudioSourceScreen", V10_G, OFF, &["{\"screen\":\"string\"}"], &[], screen::set_audio_source_screen),
    row("videoScreen", "requestToNotifyScreenState", &[("1.1", N)], OFF, &["{\"multiScreenMode\":\"string\", \"pipSubScreenPosition\":\"string\", \"audioSourceScreen\":\"string\", \"option\":\"ScreenOption\"}"], &["{\"multiScreenMode\":\"string\", \"pipSubScreenPosition\":\"string\", \"audioSourceScreen\":\"string\", \"option\":\"ScreenOption\"}"], screen::request_to_notify_screen_state),
    row("videoScreen", "setMultiScreenMode", V10_G, OFF, &["{\"mode\":\"string\", \"option\":\"ScreenOption\"}"], &[], screen::set_multi_screen_mode),
    row("videoScreen", "getPipSubScreenPosition", V10_N, OFF, &[], &["{\"position\":\"string\"}"], screen::get_pip_sub_screen_position),
    row("videoScreen", "setPipSubScreenPosition", V10_G, OFF, &["{\"position\":\"string\"}"], &[], screen::set_pip_sub_screen_position),
    row("videoScreen", "getBannerMode", V10_N, OFF, &[], &["{\"value\":\"string\"}"], screen::get_banner_mode),
    row("videoScreen", "getSceneSetting", V10_N, OFF, &[], &["{\"currentValue\":\"string\", \"candidate\":\"Candidate[]\"}"], get_scene_setting),
    row("videoScreen", "setPapScreenSize", V10_G, OFF, &["{\"screen\":\"string\", \"size\":\"string\"}"], &[], screen::set_pap_screen_size),
    row("videoScreen", "getMultiScreenMode", &[("1.1", N)], OFF, &[], &["{\"mode\":\"string\", \"option\":\"ScreenOption\"}"], screen::get_multi_screen_mode),
    row("videoScreen", "getAudioSourceScreen", V10_N, OFF, &[], &["{\"screen\":\"string\"}"], screen::get_audio_source_screen),
    row("videoScreen", "setSceneSetting", V10_G, OFF, &["{\"value\":\"string\"}"], &[], set_scene_setting),
    row("video", "getPictureQualitySettings", V10_N, OFF, &["{\"target\":\"string\"}"], &["{\"target\":\"string\", \"currentValue\":\"string\", \"candidate\":\"Candidate[]\"}*"], get_picture_quality_settings),
    row("video", "setPictureQualitySettings", V10_G, OFF, &["{\"settings\":\"GeneralSettings[]\"}"], &[], set_picture_quality_settings),
    row("encryption", "getPublicKey", V10_N, ON, &[], &["{\"publicKey\":\"string\"}"], get_public_key),
    row("accessControl", "actRegister", V10_N, NPO, &["{\"clientid\":\"string\", \"nickname\":\"string\", \"level\":\"string\"}", "{\"value\":\"string\", \"function\":\"string\"}*"], &[], act_register),
];

/// The services, in table order.
pub(crate) fn services() -> &'static [&'static str] {
    // Derived from the table once, not on every request.
    static SERVICES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut services: Vec<&'static str> = Vec::new();
        for method in METHODS {
            if method.service != EVERY_SERVICE && !services.contains(&method.service) {
                services.push(method.service);
            }
        }
        services
    });
    &SERVICES
}

/// The rows a service answers: the common ones first, as the real dump lists them.
pub(crate) fn methods_of(service: &str) -> impl Iterator<Item = &'static Method> + '_ {
    METHODS.iter().filter(move |m| m.service == EVERY_SERVICE || m.service == service)
}

/// The row of `service.name`.
pub(crate) fn find(service: &str, name: &str) -> Option<&'static Method> {
    methods_of(service).find(|m| m.name == name)
}

/// Runs a row's handler.
pub(crate) fn run(display: &VirtualDisplay, method: &Method, call: &Call<'_>) -> Answer {
    (method.handler)(display, call).unwrap_or_else(Answer::Error)
}

/// The answer of a slow method, after the display's `slow_method_delay` (real displays take
/// seconds to list content; pybravia waits 20 s).
fn slow(display: &VirtualDisplay, outcome: Outcome) -> Outcome {
    let answer = outcome.unwrap_or_else(Answer::Error);
    let delay = display.config().slow_method_delay;
    Ok(if delay.is_zero() { answer } else { Answer::Later { wait: delay, then: Box::new(answer) } })
}

/// The page's row for `code`.
pub(crate) fn err(code: Code) -> &'static Entry {
    code.entry()
}

/// A field-observed row of `code` with exactly `message`, else the documented row.
pub(crate) fn observed(code: Code, message: &str) -> &'static Entry {
    registry()
        .rows(u32::from(code.as_u16()))
        .find(|row| row.message == message)
        .unwrap_or_else(|| code.entry())
}

/// What a handler returns.
pub(crate) type Outcome = Result<Answer, &'static Entry>;

pub(crate) fn ok(result: Vec<Value>) -> Outcome {
    Ok(Answer::Result(result))
}

pub(crate) fn bad() -> &'static Entry {
    err(Code::ILLEGAL_ARGUMENT)
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/// `params[0]` as an object; anything else is 3.
pub(crate) fn object<'a>(call: &'a Call<'_>) -> Result<&'a Map<String, Value>, &'static Entry> {
    match call.params.first() {
        Some(Value::Object(object)) => Ok(object),
        _ => Err(bad()),
    }
}

/// `params[0]` as an object when present (`[]` and `[null]` give `None`).
pub(crate) fn optional_object<'a>(
    call: &'a Call<'_>,
) -> Result<Option<&'a Map<String, Value>>, &'static Entry> {
    match call.params.first() {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => Err(bad()),
    }
}

/// A string member: absent or null gives `None`, another type is 3.
pub(crate) fn text<'a>(
    object: Option<&'a Map<String, Value>>,
    key: &str,
) -> Result<Option<&'a str>, &'static Entry> {
    match object.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(bad()),
    }
}

pub(crate) fn required_text<'a>(
    object: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a str, &'static Entry> {
    text(Some(object), key)?.ok_or_else(bad)
}

pub(crate) fn required_bool(
    object: &Map<String, Value>,
    key: &str,
) -> Result<bool, &'static Entry> {
    object.get(key).and_then(Value::as_bool).ok_or_else(bad)
}

/// An integer member that is non-negative; absent gives `default`.
fn count(
    object: Option<&Map<String, Value>>,
    key: &str,
    default: u64,
) -> Result<u64, &'static Entry> {
    match object.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value.as_u64().ok_or_else(bad),
    }
}

// ---------------------------------------------------------------------------------------------
// Every service: getVersions, getMethodTypes; guide
// ---------------------------------------------------------------------------------------------

fn versions(_: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let versions: BTreeSet<&str> =
        methods_of(call.service).flat_map(|m| m.versions.iter().map(|(v, _)| *v)).collect();
    ok(vec![json!(versions)])
}

fn method_types(_: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let wanted = match call.params.first() {
        None | Some(Value::Null) => "",
        Some(Value::String(version)) => version.as_str(),
        Some(_) => return Err(bad()),
    };
    let mut types = Vec::new();
    for method in methods_of(call.service) {
        for (version, _) in method.versions {
            if wanted.is_empty() || wanted == *version {
                types.push(json!([method.name, method.params, method.result, version]));
            }
        }
    }
    Ok(Answer::Results(types))
}

/// One service's entry of `getSupportedApiInfo`, in the real dump's object form.
pub(crate) fn service_info(service: &str) -> Value {
    let apis: Vec<Value> = methods_of(service)
        .map(|method| {
            let versions: Vec<Value> = method
                .versions
                .iter()
                .map(|(version, level)| match level.name() {
                    Some(level) => json!({"version": version, "authLevel": level}),
                    None => json!({"version": version}),
                })
                .collect();
            json!({"name": method.name, "versions": versions})
        })
        .collect();
    json!({"service": service, "protocols": ["xhrpost:jsonizer"], "apis": apis})
}

fn supported_api_info(_: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let wanted: Vec<&str> = match optional_object(call)?.and_then(|o| o.get("services")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(names)) => {
            names.iter().map(|n| n.as_str().ok_or_else(bad)).collect::<Result<_, _>>()?
        }
        Some(_) => return Err(bad()),
    };
    let infos: Vec<Value> = services()
        .iter()
        .copied()
        .filter(|s| wanted.is_empty() || wanted.contains(s))
        .map(service_info)
        .collect();
    ok(vec![Value::Array(infos)])
}

// ---------------------------------------------------------------------------------------------
// system
// ---------------------------------------------------------------------------------------------

/// What the display says about itself.
const MODEL: &str = "FW-55BZ35F";
const MAC: &str = "04:5D:4B:AD:6D:E1";

fn get_power_status(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let status = match display.power() {
        Power::Active => "active",
        Power::Standby | Power::Unreachable => "standby",
    };
    ok(vec![json!({"status": status})])
}

fn set_power_status(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let on = required_bool(object(call)?, "status")?;
    display.lock_state().power = if on { Power::Active } else { Power::Standby };
    ok(vec![])
}

fn get_system_information(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    ok(vec![json!({
        "product": "TV", "region": "XEU", "language": state.language, "model": MODEL,
        "serial": "1000001", "macAddr": MAC, "name": "BRAVIA",
        "generation": state.interface_version, "area": "DEU",
        "cid": format!("{MODEL}-1000001"),
    })])
}

fn get_interface_information(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let version = display.lock_state().interface_version.clone();
    ok(vec![json!({
        "productCategory": "tv", "productName": "BRAVIA", "modelName": MODEL,
        "serverName": "", "interfaceVersion": version,
    })])
}

fn get_remote_controller_info(_: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let codes: Vec<Value> =
        ircc::CODES.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
    ok(vec![json!({"bundled": true, "type": "IR_REMOTE_BUNDLE_TYPE_AEP"}), Value::Array(codes)])
}

fn get_current_time(_: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let date_time = format!("{}+0000", utc_date_time(seconds));
    if call.version == "1.0" {
        ok(vec![json!(date_time)])
    } else {
        ok(vec![json!({"dateTime": date_time, "timeZoneOffsetMinute": 0, "dstOffsetMinute": 0})])
    }
}

/// `YYYY-MM-DDThh:mm:ss` of a Unix time, UTC.
pub(crate) fn utc_date_time(seconds: u64) -> String {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX / 2);
    devfault_core::calendar::UtcTime::from_unix_seconds(seconds).date_time()
}

fn get_led_indicator_status(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    ok(vec![json!({"mode": state.led_mode, "status": state.led_status.to_string()})])
}

fn set_led_indicator_status(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let mode = required_text(params, "mode")?;
    if !LED_MODES.contains(&mode) {
        return Err(bad());
    }
    let status = match params.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(status)) => Some(*status),
        Some(Value::String(status)) if status == "true" => Some(true),
        Some(Value::String(status)) if status == "false" => Some(false),
        Some(_) => return Err(bad()),
    };
    let mut state = display.lock_state();
    state.led_mode = mode.to_owned();
    if let Some(status) = status {
        state.led_status = status;
    }
    ok(vec![])
}

fn get_power_saving_mode(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    ok(vec![json!({"mode": display.lock_state().power_saving})])
}

fn set_power_saving_mode(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let mode = required_text(object(call)?, "mode")?;
    if !POWER_SAVING_MODES.contains(&mode) {
        return Err(bad());
    }
    display.lock_state().power_saving = mode.to_owned();
    ok(vec![])
}

fn get_network_settings(_: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let netif = text(optional_object(call)?, "netif")?.unwrap_or("");
    if !(netif.is_empty() || netif == "eth0") {
        return Err(bad());
    }
    ok(vec![json!([{
        "netif": "eth0", "hwAddr": MAC.to_lowercase(), "ipAddrV4": "192.168.0.10",
        "ipAddrV6": "", "netmask": "255.255.255.0", "gateway": "192.168.0.1",
        "dns": ["192.168.0.1"],
    }])])
}

fn get_wol_mode(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    ok(vec![json!({"enabled": display.lock_state().wol})])
}

fn set_wol_mode(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let enabled = required_bool(object(call)?, "enabled")?;
    display.lock_state().wol = enabled;
    ok(vec![])
}

/// Answers, then the web service restarts: 404 for `reboot_duration`.
fn request_reboot(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    display.start_restart_window(display.config().reboot_duration);
    ok(vec![])
}

fn set_language(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let language = required_text(object(call)?, "language")?;
    if !LANGUAGES.contains(&language) {
        return Err(bad());
    }
    display.lock_state().language = language.to_owned();
    ok(vec![])
}

fn get_system_supported_function(_: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    ok(vec![json!([{"option": "WOL", "value": MAC}])])
}

fn get_remote_device_settings(_: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let target = text(optional_object(call)?, "target")?.unwrap_or("");
    if !(target.is_empty() || target == "accessPermission") {
        return Err(bad());
    }
    ok(vec![json!([{"target": "accessPermission", "currentValue": "on"}])])
}

// ---------------------------------------------------------------------------------------------
// audio
// ---------------------------------------------------------------------------------------------

fn get_volume_information(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    let targets: Vec<Value> = TARGETS
        .iter()
        .filter_map(|t| state.volumes.get(t).map(|v| (t, v)))
        .map(|(target, v)| {
            json!({"target": target, "volume": v.volume, "mute": state.mute,
                   "maxVolume": v.max, "minVolume": v.min})
        })
        .collect();
    ok(vec![Value::Array(targets)])
}

/// `"18"`, `"+1"`, `"-10"`: an absolute or relative volume.
fn parse_volume(text: &str) -> Option<(bool, i64)> {
    let relative = text.starts_with('+') || text.starts_with('-');
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().map(|value| (relative, value))
}

fn set_audio_volume(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let target = text(Some(params), "target")?.unwrap_or("");
    let (relative, value) = parse_volume(required_text(params, "volume")?).ok_or_else(bad)?;
    if let Some(ui) = text(Some(params), "ui")?
        && ui != "on"
        && ui != "off"
    {
        return Err(bad());
    }
    let mut state = display.lock_state();
    let targets: Vec<&'static str> = if target.is_empty() {
        TARGETS.to_vec()
    } else {
        let known = TARGETS.iter().find(|t| **t == target).copied();
        vec![known.ok_or_else(|| err(Code::TARGET_NOT_SUPPORTED))?]
    };
    let mut next = Vec::with_capacity(targets.len());
    for target in targets {
        let volume = state.volumes.get(target).ok_or_else(|| err(Code::TARGET_NOT_SUPPORTED))?;
        let level = if relative { volume.volume.saturating_add(value) } else { value };
        if !(volume.min..=volume.max).contains(&level) {
            return Err(err(Code::VOLUME_OUT_OF_RANGE));
        }
        next.push((target, level));
    }
    for (target, level) in next {
        if let Some(volume) = state.volumes.get_mut(target) {
            volume.volume = level;
        }
    }
    // "Only 0 is returned" in 1.0; 1.2 answers an empty result.
    ok(if call.version == "1.0" { vec![json!(0)] } else { vec![] })
}

fn set_audio_mute(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let mute = required_bool(object(call)?, "status")?;
    display.lock_state().mute = mute;
    ok(vec![json!(0)])
}

/// `[{"target": ""}]`, `[{"target": "x"}]` or `[]`: the targets of `group` asked for.
fn wanted_settings(
    call: &Call<'_>,
    group: Group,
) -> Result<Vec<&'static super::state::SettingDef>, &'static Entry> {
    match text(optional_object(call)?, "target")?.unwrap_or("") {
        "" => Ok(group.defs().iter().collect()),
        target => Ok(vec![group.def(target).ok_or_else(bad)?]),
    }
}

fn get_settings(
    display: &VirtualDisplay,
    call: &Call<'_>,
    group: Group,
    candidates: bool,
) -> Outcome {
    let defs = wanted_settings(call, group)?;
    let state = display.lock_state();
    let items: Vec<Value> = defs
        .into_iter()
        .map(|def| {
            let mut item =
                json!({"target": def.target, "currentValue": state.setting(group, def.target)});
            if candidates && let Value::Object(members) = &mut item {
                members.insert("candidate".to_owned(), def.candidate());
            }
            item
        })
        .collect();
    ok(vec![Value::Array(items)])
}

/// `{"settings": [{"target", "value"}, ...]}`: the valid ones are applied; one invalid
/// setting alone is 3, an invalid one among several is 40004.
fn set_settings(display: &VirtualDisplay, call: &Call<'_>, group: Group) -> Outcome {
    let Some(Value::Array(settings)) = object(call)?.get("settings") else {
        return Err(bad());
    };
    if settings.is_empty() {
        return Err(bad());
    }
    let mut valid = Vec::new();
    for setting in settings {
        let target = setting.get("target").and_then(Value::as_str);
        let value = setting.get("value").and_then(Value::as_str);
        if let (Some(target), Some(value)) = (target, value)
            && let Some(def) = group.def(target)
            && def.accepts(value)
        {
            valid.push((def.target, value.to_owned()));
        }
    }
    let failed = settings.len() - valid.len();
    if failed > 0 && settings.len() == 1 {
        return Err(bad());
    }
    let mut state = display.lock_state();
    if let Some(values) = state.settings.get_mut(&group) {
        values.extend(valid);
    }
    if failed > 0 { Err(err(Code::MULTIPLE_SETTINGS_FAILED)) } else { ok(vec![]) }
}

fn get_sound_settings(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    get_settings(display, call, Group::Sound, false)
}

fn set_sound_settings(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    set_settings(display, call, Group::Sound)
}

fn get_speaker_settings(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    get_settings(display, call, Group::Speaker, false)
}

fn set_speaker_settings(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    set_settings(display, call, Group::Speaker)
}

// ---------------------------------------------------------------------------------------------
// avContent
// ---------------------------------------------------------------------------------------------

/// The most items one `getContentList` page may ask for; more is 15.
pub(crate) const MAX_PAGE: u64 = 200;

/// `extInput:hdmi?port=2` → `extInput:hdmi`.
fn source_of(uri: &str) -> &str {
    uri.split_once('?').map_or(uri, |(source, _)| source)
}

/// The sources of a scheme, in input order; the storage scheme's are the mounted storages.
fn scheme_sources(state: &State, scheme: &str) -> Vec<String> {
    if scheme == library::STORAGE_SCHEME {
        return state.library.sources();
    }
    sources(scheme).into_iter().map(str::to_owned).collect()
}

/// The sources of the input and tuner schemes, in input order.
fn sources(scheme: &str) -> Vec<&'static str> {
    let mut sources: Vec<&'static str> = Vec::new();
    if scheme == "extInput" {
        for input in INPUTS {
            let source = source_of(input.uri);
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
    } else if scheme == "tv" {
        sources.push(TV_SOURCE);
    }
    sources
}

/// `[3, "source is invalid"]`, as real displays word it.
fn invalid_source() -> &'static Entry {
    observed(Code::ILLEGAL_ARGUMENT, "source is invalid")
}

/// The contents of a source: `(uri, title, extra members)`.
fn contents(state: &State, source: &str) -> Result<Vec<Value>, &'static Entry> {
    if source == TV_SOURCE {
        return Ok(state
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let shown = |on: bool| if on { "visible" } else { "invisible" };
                json!({"uri": Channel::uri(i), "title": c.title, "dispNum": c.disp_num,
                       "programMediaType": "tv", "visibility": shown(c.visible),
                       "channelSurfingVisibility": shown(c.surfing_visible),
                       "epgVisibility": shown(c.epg_visible)})
            })
            .collect());
    }
    if source.starts_with("storage:") {
        return state.library.contents(source);
    }
    if !sources("extInput").contains(&source) {
        return Err(invalid_source());
    }
    Ok(INPUTS
        .iter()
        .filter(|i| source_of(i.uri) == source)
        .map(|i| json!({"uri": i.uri, "title": i.title}))
        .collect())
}

/// The source of a content request: `source` (1.0) or `uri` (1.5); both are accepted.
fn content_source(params: &Map<String, Value>) -> Result<&str, &'static Entry> {
    match (text(Some(params), "source")?, text(Some(params), "uri")?) {
        (Some(source), _) | (None, Some(source)) => Ok(source),
        (None, None) => Err(bad()),
    }
}

fn get_scheme_list(_: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    ok(vec![json!([{"scheme": "extInput"}, {"scheme": "tv"}, {"scheme": library::STORAGE_SCHEME}])])
}

fn get_source_list(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let scheme = required_text(object(call)?, "scheme")?;
    let sources = scheme_sources(&display.lock_state(), scheme);
    if scheme == library::STORAGE_SCHEME {
        // No mounted storage is an empty list, not an unknown scheme.
        let list: Vec<Value> = sources.into_iter().map(|s| json!({"source": s})).collect();
        return ok(vec![Value::Array(list)]);
    }
    if sources.is_empty() {
        return Err(bad());
    }
    let list: Vec<Value> = sources.into_iter().map(|s| json!({"source": s})).collect();
    ok(vec![Value::Array(list)])
}

fn get_content_count(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    slow(display, count_contents(display, call))
}

fn count_contents(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let source = content_source(object(call)?)?;
    let count = contents(&display.lock_state(), source)?.len();
    ok(vec![json!({"count": count})])
}

fn get_content_list(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    slow(display, list_contents(display, call))
}

fn list_contents(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let source = content_source(params)?;
    let start = count(Some(params), "stIdx", 0)?;
    let page = count(Some(params), "cnt", 50)?;
    if page > MAX_PAGE {
        return Err(err(Code::UNSUPPORTED_OPERATION));
    }
    let items = contents(&display.lock_state(), source)?;
    if source == TV_SOURCE && items.is_empty() {
        return Err(err(Code::EMPTY_CHANNEL_LIST));
    }
    if source.starts_with("storage:") && items.is_empty() {
        return Err(err(Code::STORAGE_HAS_NO_CONTENT));
    }
    let list: Vec<Value> = items
        .into_iter()
        .enumerate()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(page).unwrap_or(usize::MAX))
        .map(|(index, mut item)| {
            if let Value::Object(members) = &mut item {
                members.insert("index".to_owned(), json!(index));
            }
            item
        })
        .collect();
    ok(vec![Value::Array(list)])
}

fn get_playing_content_info(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    if state.active_app.is_some() {
        // Real displays: an app (or the home screen) is shown, there is no content to tell.
        return Err(err(Code::ILLEGAL_STATE));
    }
    if let Some(index) = (0..state.channels.len()).find(|i| Channel::uri(*i) == state.input) {
        let channel = &state.channels[index];
        return ok(vec![json!({
            "source": TV_SOURCE, "uri": state.input, "title": channel.title,
            "dispNum": channel.disp_num, "programTitle": "", "programMediaType": "tv",
        })]);
    }
    let title = INPUTS.iter().find(|i| i.uri == state.input).map_or("", |i| i.title);
    ok(vec![json!({"source": source_of(&state.input), "title": title, "uri": state.input})])
}

fn set_play_content(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let uri = required_text(object(call)?, "uri")?;
    let mut state = display.lock_state();
    let target = if INPUTS.iter().any(|i| i.uri == uri) {
        uri.to_owned()
    } else if let Some(number) =
        uri.strip_prefix(TV_SOURCE).and_then(|q| q.strip_prefix("?dispNum="))
    {
        let matching: Vec<usize> =
            (0..state.channels.len()).filter(|i| state.channels[*i].disp_num == number).collect();
        match matching.as_slice() {
            [] => return Err(err(Code::CONTENT_DOES_NOT_EXIST)),
            [index] => Channel::uri(*index),
            _ => return Err(err(Code::CHANNEL_CANT_BE_UNIQUELY_DETERMINED)),
        }
    } else if (0..state.channels.len()).any(|i| Channel::uri(i) == uri) {
        uri.to_owned()
    } else {
        return Err(err(Code::CONTENT_DOES_NOT_EXIST));
    };
    state.input = target;
    state.active_app = None;
    ok(vec![])
}

fn get_current_external_inputs_status(_: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let inputs: Vec<Value> = INPUTS
        .iter()
        .map(|i| {
            let mut item = json!({"uri": i.uri, "title": i.title, "connection": i.connected,
                                  "label": "", "icon": i.icon});
            if call.version == "1.1"
                && let Value::Object(members) = &mut item
            {
                members.insert("status".to_owned(), json!(i.connected.to_string()));
            }
            item
        })
        .collect();
    ok(vec![Value::Array(inputs)])
}

// ---------------------------------------------------------------------------------------------
// appControl
// ---------------------------------------------------------------------------------------------

fn get_application_list(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    let apps: Vec<Value> = state
        .apps
        .iter()
        .map(|a| json!({"title": a.title, "uri": a.uri, "icon": a.icon}))
        .collect();
    ok(vec![Value::Array(apps)])
}

/// A launch takes the app's time (or `app_launch_delay`); one slower than
/// `launch_undecided_after` is answered 41402 at that point and completes later.
fn set_active_app(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let uri = required_text(object(call)?, "uri")?;
    let config = display.config();
    let now = Instant::now();
    let mut state = display.lock_state();
    if state.launching.is_some() {
        return Err(err(Code::ANOTHER_REQUEST_IN_PROGRESS));
    }
    let app = state.app(uri).ok_or_else(|| err(Code::FAILED_TO_LAUNCH))?;
    let launch = app.launch_ms.map_or(config.app_launch_delay, Duration::from_millis);
    if launch.is_zero() {
        state.activate(uri.to_owned());
        return ok(vec![]);
    }
    state.launching = Some(Launch { uri: uri.to_owned(), done_at: now + launch });
    let threshold = config.launch_undecided_after;
    Ok(if launch > threshold {
        Answer::Later {
            wait: threshold,
            then: Box::new(Answer::Error(err(Code::REQUEST_IN_PROGRESS))),
        }
    } else {
        Answer::Later { wait: launch, then: Box::new(Answer::Result(vec![])) }
    })
}

fn terminate_apps(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let mut state = display.lock_state();
    state.launching = None;
    let kept: Vec<String> = state
        .running
        .iter()
        .filter(|uri| state.app(uri).is_some_and(|a| !a.terminable))
        .cloned()
        .collect();
    if state.active_app.as_ref().is_some_and(|active| !kept.contains(active)) {
        state.active_app = None;
    }
    let refused = !kept.is_empty();
    state.running = kept;
    if refused { Err(err(Code::FAILED_TO_TERMINATE)) } else { ok(vec![]) }
}

const WEB_APP: &str = "localapp://webappruntime";

fn get_application_status_list(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    let on_off = |on: bool| if on { "on" } else { "off" };
    let browsing = state.active_app.as_deref().is_some_and(|a| a.starts_with(WEB_APP));
    ok(vec![json!([
        {"name": "textInput", "status": on_off(state.text_field_focused)},
        {"name": "cursorDisplay", "status": "off"},
        {"name": "webBrowse", "status": on_off(browsing)},
    ])])
}

/// The RSA-2048 public key the display hands out (SubjectPublicKeyInfo, base64 DER).
pub(crate) const PUBLIC_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArNK43ko73Kkpq+PZaoF6gTTbWKzBSFGzAFK4WILqfvNvmYSIwoGrPXJcK9QunHwkOllKAE6aRR+m372Mi9D8faYMXl4ECUc4KEub+lT2VGuJaI/Lykxyv8N6rzJVLgXfRVPFS6xoDdqmBMR9cwiFkvfEz3nl5FbRQ0oDyYrXblTIuTc21nG7p5lSC3O+o1+GO+vXVfvSRHuD0ZxhWbdw5Pqz/BN2y0kbXaPWBL9dLMA6OZOMmuZM9oWIefJ/oJdqjOiwMc/OoDZYb6s7dq4WP86ZVRJpJhGZ2t+lzMcTtJmRCFwU62P613esGIMQTFg+GPiVddSYsFEy9UpksYhiqQIDAQAB";

/// The size of an RSA-2048 ciphertext: an `encKey` of any other size cannot be decrypted.
const RSA_BYTES: usize = 256;

/// The common key of `getTextForm`/`setTextForm` 1.1: base64 of an RSA ciphertext made with
/// the display's public key. No key pair, bad base64 or the wrong size is 40002.
fn check_enc_key(state: &State, params: &Map<String, Value>) -> Result<(), &'static Entry> {
    let enc_key = required_text(params, "encKey")?;
    let decoded = STANDARD.decode(enc_key).ok();
    if !state.public_key || decoded.is_none_or(|key| key.len() != RSA_BYTES) {
        return Err(err(Code::ENCRYPTION_FAILED));
    }
    Ok(())
}

fn get_text_form(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let state = display.lock_state();
    check_enc_key(&state, params)?;
    if !state.text_field_focused {
        return Err(err(Code::ILLEGAL_STATE));
    }
    ok(vec![json!({"text": state.text})])
}

/// 1.0 takes `["text"]` (or `[{"text"}]`); 1.1 `[{"encKey", "text"}]`, the text encrypted
/// with the common key, which the display stores as sent: it holds no private key.
fn set_text_form(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let mut state = display.lock_state();
    let text = if call.version == "1.0" {
        match call.params.first() {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Object(params)) => required_text(params, "text")?.to_owned(),
            _ => return Err(bad()),
        }
    } else {
        let params = object(call)?;
        check_enc_key(&state, params)?;
        required_text(params, "text")?.to_owned()
    };
    if !state.text_field_focused {
        return Err(err(Code::ILLEGAL_STATE));
    }
    state.text = text;
    ok(vec![])
}

fn get_web_app_status(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    let url = state
        .active_app
        .as_deref()
        .filter(|a| a.starts_with(WEB_APP))
        .and_then(|a| a.split_once("url=").map(|(_, url)| percent_decode(url)));
    ok(vec![json!({"active": url.is_some(), "url": url.unwrap_or_default()})])
}

/// `%XX` escapes decoded; a broken escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// videoScreen, video, encryption, accessControl
// ---------------------------------------------------------------------------------------------

/// `[]` → `[{"candidate": [{"value": "general"}, {"value": "auto"}, ...], "currentValue":
/// "general"}]`, the shape a real set answers (captured in
/// custom-components/media_player.braviatv_psk#14; bravia-tv 1.0.11 reads `candidate[].value`
/// and `currentValue`). The candidates are what `setSceneSetting` takes.
fn get_scene_setting(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let candidate: Vec<Value> = SCENES.iter().map(|s| json!({"value": s})).collect();
    ok(vec![json!({"candidate": candidate, "currentValue": display.lock_state().scene})])
}

fn set_scene_setting(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let scene = required_text(object(call)?, "value")?;
    if !SCENES.contains(&scene) {
        return Err(bad());
    }
    display.lock_state().scene = scene.to_owned();
    ok(vec![])
}

fn get_picture_quality_settings(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    get_settings(display, call, Group::Picture, true)
}

fn set_picture_quality_settings(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    set_settings(display, call, Group::Picture)
}

fn get_public_key(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    if !display.lock_state().public_key {
        return Err(err(Code::KEY_DOESNT_EXIST));
    }
    ok(vec![json!({"publicKey": PUBLIC_KEY})])
}

/// The PIN flow of section 1.1: no or a wrong `Authorization: Basic base64(":PIN")` shows a
/// new PIN and answers 401; the right one registers the client and sets the `auth` cookie.
fn act_register(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let client = object(call)?;
    let clientid = required_text(client, "clientid")?;
    required_text(client, "nickname")?;
    let level = auth::requested_level(text(Some(client), "level")?).ok_or_else(bad)?;
    if !matches!(call.params.get(1), None | Some(Value::Array(_))) {
        return Err(bad());
    }
    let registration = display.lock_auth().register(
        display.config(),
        call.credentials,
        clientid,
        level,
        Instant::now(),
    );
    match registration {
        Registration::Cookie(token) => Ok(Answer::Registered { token }),
        Registration::NoCookie => ok(vec![]),
        Registration::PinShown => {
            // A real display shows the PIN on screen; the emulator's screen is its log (and
            // GET /devices/{id}/pin on the admin API).
            if let Some(pin) = display.current_pin() {
                eprintln!(
                    "devfault: {} shows PIN {pin} for client {clientid:?} (accessControl.actRegister)",
                    display.id
                );
            }
            Err(err(Code::UNAUTHORIZED))
        }
    }
}
