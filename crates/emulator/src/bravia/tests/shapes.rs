//! One test per method of the table: each is called over a real socket, on its own display,
//! and its result is reduced to a type skeleton (strings → `"string"`, integers → `"int"`,
//! booleans → `"bool"`, nested arrays → their first item's skeleton, objects → their members'
//! skeletons; the top-level array item by item) and compared with the shape a real display answers, as cited beside each handler.
//! `every_row_has_a_shape_test` keeps the list complete as the table grows.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::client::{call, result, serve};
use crate::bravia::DisplayConfig;
use crate::bravia::methods::METHODS;
use crate::device::Device;

/// The skeleton of a value.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!("int"),
        Value::Number(_) => json!("double"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::Object(members) => {
            Value::Object(members.iter().map(|(k, v)| (k.clone(), shape(v))).collect::<Map<_, _>>())
        }
    }
}

/// Calls `service.method` at `version` with `params` on a fresh display patched with `patch`,
/// and checks the result's skeleton.
async fn check(
    service: &str,
    method: &str,
    version: &str,
    params: Value,
    want: Value,
    patch: Value,
) {
    let config = DisplayConfig {
        slow_method_delay: Duration::ZERO,
        app_launch_delay: Duration::ZERO,
        ..DisplayConfig::default()
    };
    let server = serve(config).await;
    if patch != json!({}) {
        server.display.set_state(&patch).expect("a valid patch");
    }
    let answer = call(server.addr, service, method, params, version).await;
    // Each item of the top-level array on its own: `getRemoteControllerInfo` answers two kinds.
    let got = Value::Array(result(&answer).iter().map(shape).collect());
    assert_eq!(
        got,
        want,
        "{service}.{method} {version}: {}",
        String::from_utf8_lossy(&answer.body)
    );
}

macro_rules! shape_test {
    ($name:ident: $service:literal $method:literal $version:literal, $params:tt => $shape:tt) => {
        shape_test!($name: $service $method $version, $params => $shape, {});
    };
    ($name:ident: $service:literal $method:literal $version:literal, $params:tt => $shape:tt, $patch:tt) => {
        #[tokio::test]
        async fn $name() {
            check($service, $method, $version, json!($params), json!($shape), json!($patch)).await;
        }
    };
}

/// The methods tested below, `service.method`; the common rows as `*.name`.
const TESTED: &[&str] = &[
    "*.getMethodTypes",
    "*.getVersions",
    "guide.getSupportedApiInfo",
    "system.getDeviceMode",
    "system.requestReboot",
    "system.getInterfaceInformation",
    "system.getRemoteDeviceSettings",
    "system.getNetworkSettings",
    "system.setDeviceMode",
    "system.getSystemSupportedFunction",
    "system.getPowerSavingMode",
    "system.setWolMode",
    "system.getWolMode",
    "system.setPowerSavingMode",
    "system.mountStorage",
    "system.setPowerStatus",
    "system.getLEDIndicatorStatus",
    "system.getPowerStatus",
    "system.getCurrentTime",
    "system.getStorageList",
    "system.getSystemInformation",
    "system.getRemoteControllerInfo",
    "system.setLEDIndicatorStatus",
    "system.setLanguage",
    "audio.setAudioVolume",
    "audio.getVolumeInformation",
    "audio.getSoundSettings",
    "audio.setSoundSettings",
    "audio.setAudioMute",
    "audio.setSpeakerSettings",
    "audio.getSpeakerSettings",
    "avContent.getContentList",
    "avContent.getSchemeList",
    "avContent.getCurrentExternalInputsStatus",
    "avContent.setPlayTvContent",
    "avContent.setDeleteProtection",
    "avContent.getPlayingContentInfo",
    "avContent.deleteContent",
    "avContent.getFavoriteList",
    "avContent.getSourceList",
    "avContent.setPlayContent",
    "avContent.setTvContentVisibility",
    "avContent.getContentCount",
    "avContent.getParentalRatingSettings",
    "avContent.setFavoriteContentList",
    "appControl.getApplicationStatusList",
    "appControl.terminateApps",
    "appControl.getTextForm",
    "appControl.setActiveApp",
    "appControl.setTextForm",
    "appControl.getWebAppStatus",
    "appControl.getApplicationList",
    "videoScreen.setBannerMode",
    "videoScreen.setAudioSourceScreen",
    "videoScreen.requestToNotifyScreenState",
    "videoScreen.setMultiScreenMode",
    "videoScreen.getPipSubScreenPosition",
    "videoScreen.setPipSubScreenPosition",
    "videoScreen.getBannerMode",
    "videoScreen.getSceneSetting",
    "videoScreen.setPapScreenSize",
    "videoScreen.getMultiScreenMode",
    "videoScreen.getAudioSourceScreen",
    "videoScreen.setSceneSetting",
    "video.getPictureQualitySettings",
    "video.setPictureQualitySettings",
    "encryption.getPublicKey",
    "accessControl.actRegister",
];

#[test]
fn every_row_has_a_shape_test() {
    let rows: Vec<String> = METHODS.iter().map(|m| format!("{}.{}", m.service, m.name)).collect();
    for row in &rows {
        assert!(TESTED.contains(&row.as_str()), "{row} has no shape test");
    }
    for tested in TESTED {
        assert!(rows.iter().any(|r| r == tested), "{tested} is not a row of the table");
    }
    assert_eq!(rows.len(), TESTED.len());
}

const CHANNELS: &str = r#"[{"title": "One", "dispNum": "1"}, {"title": "Two", "dispNum": "2"}]"#;

fn channels() -> Value {
    serde_json::from_str(CHANNELS).expect("JSON")
}

// Every service --------------------------------------------------------------------------------

shape_test!(get_method_types: "videoScreen" "getMethodTypes" "1.0", ["1.1"] =>
    [["string"], ["string"]]);
shape_test!(get_versions: "avContent" "getVersions" "1.0", [] => [["string"]]);
shape_test!(get_supported_api_info: "guide" "getSupportedApiInfo" "1.0", [{"services": ["encryption"]}] =>
    [[{"service": "string", "protocols": ["string"], "apis": [{"name": "string", "versions": [{"version": "string"}]}]}]]);

// system ---------------------------------------------------------------------------------------

shape_test!(get_device_mode: "system" "getDeviceMode" "1.0", [{"value": "proMode"}] => [{"isOn": "bool"}]);
shape_test!(set_device_mode: "system" "setDeviceMode" "1.0", [{"value": "proMode", "isOn": true}] => []);
shape_test!(request_reboot: "system" "requestReboot" "1.0", [] => []);
shape_test!(get_interface_information: "system" "getInterfaceInformation" "1.0", [] =>
    [{"productCategory": "string", "productName": "string", "modelName": "string", "serverName": "string", "interfaceVersion": "string"}]);
shape_test!(get_remote_device_settings: "system" "getRemoteDeviceSettings" "1.0", [{"target": "accessPermission"}] =>
    [[{"target": "string", "currentValue": "string"}]]);
shape_test!(get_network_settings: "system" "getNetworkSettings" "1.0", [{"netif": "eth0"}] =>
    [[{"netif": "string", "hwAddr": "string", "ipAddrV4": "string", "ipAddrV6": "string", "netmask": "string", "gateway": "string", "dns": ["string"]}]]);
shape_test!(get_system_supported_function: "system" "getSystemSupportedFunction" "1.0", [] =>
    [[{"option": "string", "value": "string"}]]);
shape_test!(get_power_saving_mode: "system" "getPowerSavingMode" "1.0", [] => [{"mode": "string"}]);
shape_test!(set_power_saving_mode: "system" "setPowerSavingMode" "1.0", [{"mode": "low"}] => []);
shape_test!(get_wol_mode: "system" "getWolMode" "1.0", [] => [{"enabled": "bool"}]);
shape_test!(set_wol_mode: "system" "setWolMode" "1.0", [{"enabled": false}] => []);
shape_test!(mount_storage: "system" "mountStorage" "1.0", [{"uri": "storage:usb1", "action": "unmount"}] => []);
shape_test!(set_power_status: "system" "setPowerStatus" "1.0", [{"status": true}] => []);
shape_test!(get_led_indicator_status: "system" "getLEDIndicatorStatus" "1.0", [] =>
    [{"mode": "string", "status": "string"}]);
shape_test!(set_led_indicator_status: "system" "setLEDIndicatorStatus" "1.1", [{"mode": "Dark", "status": "true"}] => []);
shape_test!(get_power_status: "system" "getPowerStatus" "1.0", [] => [{"status": "string"}]);
shape_test!(get_current_time_1_0: "system" "getCurrentTime" "1.0", [] => ["string"]);
shape_test!(get_current_time_1_1: "system" "getCurrentTime" "1.1", [] =>
    [{"dateTime": "string", "timeZoneOffsetMinute": "int", "dstOffsetMinute": "int"}]);
shape_test!(get_storage_list: "system" "getStorageList" "1.1", [{"uri": ""}] =>
    [[{"uri": "string", "deviceName": "string", "volumeLabel": "string", "permission": "string", "position": "string",
       "wholeCapacityMB": "int", "freeCapacityMB": "int", "systemAreaCapacityMB": "int", "formattable": "string",
       "formatting": "string", "isAvailable": "string", "mounted": "string"}]]);
shape_test!(get_system_information: "system" "getSystemInformation" "1.0", [] =>
    [{"product": "string", "region": "string", "language": "string", "model": "string", "serial": "string",
      "macAddr": "string", "name": "string", "generation": "string", "area": "string", "cid": "string"}]);
shape_test!(get_remote_controller_info: "system" "getRemoteControllerInfo" "1.0", [] =>
    [{"bundled": "bool", "type": "string"}, [{"name": "string", "value": "string"}]]);
shape_test!(set_language: "system" "setLanguage" "1.0", [{"language": "deu"}] => []);

// audio ----------------------------------------------------------------------------------------

shape_test!(set_audio_volume_1_0: "audio" "setAudioVolume" "1.0", [{"target": "speaker", "volume": "30"}] => ["int"]);
shape_test!(set_audio_volume_1_2: "audio" "setAudioVolume" "1.2", [{"target": "", "volume": "+1", "ui": "on"}] => []);
shape_test!(get_volume_information: "audio" "getVolumeInformation" "1.0", [] =>
    [[{"target": "string", "volume": "int", "mute": "bool", "maxVolume": "int", "minVolume": "int"}]]);
shape_test!(get_sound_settings: "audio" "getSoundSettings" "1.1", [{"target": "outputTerminal"}] =>
    [[{"target": "string", "currentValue": "string"}]]);
shape_test!(set_sound_settings: "audio" "setSoundSettings" "1.1", [{"settings": [{"target": "outputTerminal", "value": "hdmi"}]}] => []);
shape_test!(set_audio_mute: "audio" "setAudioMute" "1.0", [{"status": true}] => ["int"]);
shape_test!(get_speaker_settings: "audio" "getSpeakerSettings" "1.0", [{"target": "tvPosition"}] =>
    [[{"target": "string", "currentValue": "string"}]]);
shape_test!(set_speaker_settings: "audio" "setSpeakerSettings" "1.0", [{"settings": [{"target": "tvPosition", "value": "wallMount"}]}] => []);

// avContent ------------------------------------------------------------------------------------

shape_test!(get_content_list_inputs: "avContent" "getContentList" "1.5", [{"uri": "extInput:hdmi", "stIdx": 0, "cnt": 50}] =>
    [[{"uri": "string", "title": "string", "index": "int"}]]);
shape_test!(get_content_list_channels: "avContent" "getContentList" "1.2", [{"source": "tv:dvbt"}] =>
    [[{"uri": "string", "title": "string", "index": "int", "dispNum": "string", "programMediaType": "string",
       "visibility": "string", "channelSurfingVisibility": "string", "epgVisibility": "string"}]],
    {"channels": (channels())});
shape_test!(get_content_list_recordings: "avContent" "getContentList" "1.0", [{"source": "storage:usb1"}] =>
    [[{"uri": "string", "title": "string", "index": "int", "isProtected": "bool", "fileSizeByte": "int"}]]);
shape_test!(get_scheme_list: "avContent" "getSchemeList" "1.0", [] => [[{"scheme": "string"}]]);
shape_test!(get_current_external_inputs_status_1_0: "avContent" "getCurrentExternalInputsStatus" "1.0", [] =>
    [[{"uri": "string", "title": "string", "connection": "bool", "label": "string", "icon": "string"}]]);
shape_test!(get_current_external_inputs_status_1_1: "avContent" "getCurrentExternalInputsStatus" "1.1", [] =>
    [[{"uri": "string", "title": "string", "connection": "bool", "label": "string", "icon": "string", "status": "string"}]]);
shape_test!(set_play_tv_content_1_0: "avContent" "setPlayTvContent" "1.0", [{"channel": "2"}] => [],
    {"channels": (channels())});
shape_test!(set_play_tv_content_1_1: "avContent" "setPlayTvContent" "1.1", [{"channel": {"shift": "+1"}, "source": "tv:dvbt"}] => [],
    {"channels": (channels())});
shape_test!(set_delete_protection: "avContent" "setDeleteProtection" "1.0", [{"uri": "storage:usb1?id=1", "isProtected": true}] => []);
shape_test!(get_playing_content_info: "avContent" "getPlayingContentInfo" "1.0", [] =>
    [{"source": "string", "title": "string", "uri": "string"}]);
shape_test!(delete_content: "avContent" "deleteContent" "1.0", [{"uri": "storage:usb1?id=1"}] => []);
shape_test!(get_favorite_list: "avContent" "getFavoriteList" "1.0", [{"source": "fav:1"}] =>
    [[{"uri": "string", "title": "string", "dispNum": "string", "index": "int", "favSource": "string"}]],
    {"channels": (channels()), "favorites": {"fav:1": ["tv:dvbt?trip=1.1.2"]}});
shape_test!(get_source_list: "avContent" "getSourceList" "1.0", [{"scheme": "extInput"}] => [[{"source": "string"}]]);
shape_test!(set_play_content: "avContent" "setPlayContent" "1.0", [{"uri": "extInput:hdmi?port=2"}] => []);
shape_test!(set_tv_content_visibility: "avContent" "setTvContentVisibility" "1.0",
    [{"uri": "tv:dvbt?trip=1.1.1", "visibility": "visible", "channelSurfingVisibility": "invisible", "epgVisibility": "visible"}] => [],
    {"channels": (channels())});
shape_test!(get_content_count: "avContent" "getContentCount" "1.1", [{"source": "extInput:hdmi"}] => [{"count": "int"}]);
shape_test!(get_parental_rating_settings: "avContent" "getParentalRatingSettings" "1.0", [] =>
    [{"ratingTypeAge": "int", "ratingTypeSony": "string", "ratingCountry": "string", "ratingCustomTypeTV": [],
      "ratingCustomTypeMpaa": "string", "ratingCustomTypeCaEnglish": "string", "ratingCustomTypeCaFrench": "string",
      "unratedLock": "bool"}]);
shape_test!(set_favorite_content_list: "avContent" "setFavoriteContentList" "1.0",
    [{"favSource": "fav:2", "contents": ["tv:dvbt?trip=1.1.1"]}] => [], {"channels": (channels())});

// appControl -----------------------------------------------------------------------------------

shape_test!(get_application_status_list: "appControl" "getApplicationStatusList" "1.0", [] =>
    [[{"name": "string", "status": "string"}]]);
shape_test!(terminate_apps: "appControl" "terminateApps" "1.0", [] => []);
shape_test!(get_text_form: "appControl" "getTextForm" "1.1", [{"encKey": (STANDARD.encode([7u8; 256]))}] =>
    [{"text": "string"}], {"text_field_focused": true, "text": "hello"});
shape_test!(set_active_app: "appControl" "setActiveApp" "1.0",
    [{"uri": "com.sony.dtv.com.netflix.ninja.com.netflix.ninja.MainActivity"}] => []);
shape_test!(set_text_form: "appControl" "setTextForm" "1.0", ["hello"] => [], {"text_field_focused": true});
shape_test!(get_web_app_status: "appControl" "getWebAppStatus" "1.0", [] => [{"active": "bool", "url": "string"}]);
shape_test!(get_application_list: "appControl" "getApplicationList" "1.0", [] =>
    [[{"title": "string", "uri": "string", "icon": "string"}]]);

// videoScreen, video, encryption, accessControl ------------------------------------------------

shape_test!(set_banner_mode: "videoScreen" "setBannerMode" "1.0", [{"value": "off"}] => []);
shape_test!(set_audio_source_screen: "videoScreen" "setAudioSourceScreen" "1.0", [{"screen": "sub"}] => [],
    {"screen": {"mode": "PIP"}});
shape_test!(request_to_notify_screen_state: "videoScreen" "requestToNotifyScreenState" "1.1",
    [{"multiScreenMode": "single", "pipSubScreenPosition": "invalid", "audioSourceScreen": "main", "option": {"internetTVMode": false}}] =>
    [{"multiScreenMode": "string", "pipSubScreenPosition": "string", "audioSourceScreen": "string", "option": {"internetTVMode": "bool"}}],
    {"screen": {"mode": "PAP"}});
shape_test!(set_multi_screen_mode: "videoScreen" "setMultiScreenMode" "1.0", [{"mode": "PIP", "option": {"internetTVMode": false}}] => []);
shape_test!(get_pip_sub_screen_position: "videoScreen" "getPipSubScreenPosition" "1.0", [] => [{"position": "string"}]);
shape_test!(set_pip_sub_screen_position: "videoScreen" "setPipSubScreenPosition" "1.0", [{"position": "leftTop"}] => [],
    {"screen": {"mode": "PIP"}});
shape_test!(get_banner_mode: "videoScreen" "getBannerMode" "1.0", [] => [{"value": "string"}]);
shape_test!(get_scene_setting: "videoScreen" "getSceneSetting" "1.0", [] =>
    [{"candidate": [{"value": "string"}], "currentValue": "string"}]);
shape_test!(set_pap_screen_size: "videoScreen" "setPapScreenSize" "1.0", [{"screen": "main", "size": "large"}] => [],
    {"screen": {"mode": "PAP"}});
shape_test!(get_multi_screen_mode: "videoScreen" "getMultiScreenMode" "1.1", [] =>
    [{"mode": "string", "option": {"internetTVMode": "bool"}}]);
shape_test!(get_audio_source_screen: "videoScreen" "getAudioSourceScreen" "1.0", [] => [{"screen": "string"}]);
shape_test!(set_scene_setting: "videoScreen" "setSceneSetting" "1.0", [{"value": "auto24pSync"}] => []);
shape_test!(get_picture_quality_settings: "video" "getPictureQualitySettings" "1.0", [{"target": "pictureMode"}] =>
    [[{"target": "string", "currentValue": "string", "candidate": [{"value": "string"}]}]]);
shape_test!(set_picture_quality_settings: "video" "setPictureQualitySettings" "1.0",
    [{"settings": [{"target": "brightness", "value": "20"}]}] => []);
shape_test!(get_public_key: "encryption" "getPublicKey" "1.0", [] => [{"publicKey": "string"}]);
shape_test!(act_register: "accessControl" "actRegister" "1.0",
    [{"clientid": "c1", "nickname": "n", "level": "private"}, [{"value": "yes", "function": "WOL"}]] => []);
