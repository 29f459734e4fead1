//! The whole catalog: which methods answer in standby, 14 against 12, and each setter of the
//! layout, storage, favourites, visibility and device modes seen through its getter.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::{assert_code, body, display, oneshot, request, result, rpc};
use crate::bravia::methods::{EVERY_SERVICE, METHODS, Standby, services};
use crate::bravia::{DisplayConfig, Quirks, StandbyReply};
use crate::device::Device;

/// What still answers in standby, as reference/bravia.md §3.1 has it: `getPowerStatus`, the
/// introspection every client starts with (`getMethodTypes`, `getVersions`,
/// `getSupportedApiInfo`, `getInterfaceInformation`, `getPublicKey`) and `setPowerStatus`,
/// which wakes the display; `actRegister` answers `[7, "not power-on"]` whatever the quirk;
/// everything else answers the quirk's standby error.
const ANSWERS_IN_STANDBY: &[&str] = &[
    "getMethodTypes",
    "getVersions",
    "getSupportedApiInfo",
    "getPowerStatus",
    "setPowerStatus",
    "getInterfaceInformation",
    "getPublicKey",
];

#[tokio::test]
async fn every_method_in_standby_answers_as_the_reference_says() {
    for standby_error in [StandbyReply::NotPowerOn, StandbyReply::DisplayOff] {
        let tv = display(DisplayConfig {
            quirks: Quirks { standby_error, ..Quirks::default() },
            ..DisplayConfig::default()
        });
        for method in METHODS {
            let expected = if ANSWERS_IN_STANDBY.contains(&method.name) {
                Standby::Answers
            } else if method.name == "actRegister" {
                Standby::NotPowerOn
            } else {
                Standby::Refused
            };
            assert_eq!(method.standby, expected, "{}.{}", method.service, method.name);
            let service =
                if method.service == EVERY_SERVICE { "videoScreen" } else { method.service };
            let version = method.versions[0].0;
            tv.set_state(&json!({"power": "standby"})).unwrap();
            // Each method with parameters it takes, so an answer is not a parameter error.
            let answer = rpc(&tv, service, method.name, json!([]), version).await;
            let decoded = super::client::decode(&answer);
            let code = decoded.entry().map(|e| e.code);
            match expected {
                Standby::Answers => assert!(
                    !matches!(code, Some(7 | 40005)),
                    "{service}.{} refused in standby: {:?}",
                    method.name,
                    String::from_utf8_lossy(&answer.body)
                ),
                Standby::NotPowerOn => {
                    assert_code(&answer, 200, 7);
                }
                Standby::Refused => {
                    let want = match standby_error {
                        StandbyReply::NotPowerOn => 7,
                        StandbyReply::DisplayOff => 40005,
                    };
                    assert_code(&answer, 200, want);
                }
            }
        }
    }
}

#[tokio::test]
async fn a_missing_version_is_14_and_a_missing_method_12() {
    let tv = display(DisplayConfig::default());
    for method in METHODS {
        let service = if method.service == EVERY_SERVICE { "system" } else { method.service };
        let answer = rpc(&tv, service, method.name, json!([]), "9.9").await;
        assert_code(&answer, 200, 14);
    }
    // The case: the display has getMultiScreenMode at 1.1 only.
    assert_code(&rpc(&tv, "videoScreen", "getMultiScreenMode", json!([]), "1.0").await, 200, 14);
    assert_code(
        &rpc(&tv, "videoScreen", "requestToNotifyScreenState", json!([]), "1.0").await,
        200,
        14,
    );
    assert_code(&rpc(&tv, "system", "getStorageList", json!([]), "1.0").await, 200, 14);
    // A method of another service is not this one's.
    assert_code(&rpc(&tv, "system", "getMultiScreenMode", json!([]), "1.1").await, 200, 12);
    assert_code(&rpc(&tv, "videoScreen", "getNoSuchThing", json!([]), "1.0").await, 200, 12);
    assert!(services().contains(&"videoScreen"));
}

#[tokio::test]
async fn scene_setting_in_the_candidate_shape_follows_its_setter() {
    let tv = display(DisplayConfig::default());
    let got = result(&rpc(&tv, "videoScreen", "getSceneSetting", json!([]), "1.0").await);
    assert_eq!(
        got,
        vec![
            json!({"candidate": [{"value": "general"}, {"value": "auto"}, {"value": "auto24pSync"}],
                    "currentValue": "auto"})
        ]
    );
    for scene in ["general", "auto24pSync"] {
        result(&rpc(&tv, "videoScreen", "setSceneSetting", json!([{"value": scene}]), "1.0").await);
        let got = result(&rpc(&tv, "videoScreen", "getSceneSetting", json!([]), "1.0").await);
        assert_eq!(got[0]["currentValue"], scene);
    }
    // Every candidate is one the setter takes, and only those.
    for candidate in got[0]["candidate"].as_array().unwrap() {
        let set = json!([{"value": candidate["value"]}]);
        result(&rpc(&tv, "videoScreen", "setSceneSetting", set, "1.0").await);
    }
    assert_code(
        &rpc(&tv, "videoScreen", "setSceneSetting", json!([{"value": "cinema"}]), "1.0").await,
        200,
        3,
    );
}

#[tokio::test]
async fn the_layout_setters_change_the_getters() {
    let tv =
        display(DisplayConfig { screen_change_delay: Duration::ZERO, ..DisplayConfig::default() });
    let get = |method: &'static str, version: &'static str| {
        let tv = tv.clone();
        async move { result(&rpc(&tv, "videoScreen", method, json!([]), version).await) }
    };
    assert_eq!(
        get("getMultiScreenMode", "1.1").await,
        vec![json!({"mode": "single", "option": {"internetTVMode": false}})]
    );
    assert_eq!(get("getPipSubScreenPosition", "1.0").await, vec![json!({"position": "invalid"})]);
    // No sub-screen yet: PIP position and sound on the sub-screen are 7.
    assert_code(
        &rpc(
            &tv,
            "videoScreen",
            "setPipSubScreenPosition",
            json!([{"position": "leftTop"}]),
            "1.0",
        )
        .await,
        200,
        7,
    );
    assert_code(
        &rpc(&tv, "videoScreen", "setAudioSourceScreen", json!([{"screen": "sub"}]), "1.0").await,
        200,
        7,
    );
    assert_code(
        &rpc(
            &tv,
            "videoScreen",
            "setPapScreenSize",
            json!([{"screen": "main", "size": "large"}]),
            "1.0",
        )
        .await,
        200,
        7,
    );

    let pip = json!([{"mode": "PIP", "option": {"internetTVMode": true}}]);
    result(&rpc(&tv, "videoScreen", "setMultiScreenMode", pip, "1.0").await);
    assert_eq!(
        get("getMultiScreenMode", "1.1").await,
        vec![json!({"mode": "PIP", "option": {"internetTVMode": true}})]
    );
    assert_eq!(
        get("getPipSubScreenPosition", "1.0").await,
        vec![json!({"position": "rightBottom"})]
    );
    result(
        &rpc(
            &tv,
            "videoScreen",
            "setPipSubScreenPosition",
            json!([{"position": "leftTop"}]),
            "1.0",
        )
        .await,
    );
    assert_eq!(get("getPipSubScreenPosition", "1.0").await, vec![json!({"position": "leftTop"})]);
    result(
        &rpc(&tv, "videoScreen", "setAudioSourceScreen", json!([{"screen": "sub"}]), "1.0").await,
    );
    assert_eq!(get("getAudioSourceScreen", "1.0").await, vec![json!({"screen": "sub"})]);

    result(&rpc(&tv, "videoScreen", "setMultiScreenMode", json!([{"mode": "PAP"}]), "1.0").await);
    result(
        &rpc(
            &tv,
            "videoScreen",
            "setPapScreenSize",
            json!([{"screen": "sub", "size": "small"}]),
            "1.0",
        )
        .await,
    );
    assert_eq!(tv.state()["screen"]["pap_sizes"], json!({"main": "medium", "sub": "small"}));
    // Back to one picture: the sound follows the main screen again.
    result(
        &rpc(&tv, "videoScreen", "setMultiScreenMode", json!([{"mode": "single"}]), "1.0").await,
    );
    assert_eq!(get("getAudioSourceScreen", "1.0").await, vec![json!({"screen": "main"})]);

    result(&rpc(&tv, "videoScreen", "setBannerMode", json!([{"value": "off"}]), "1.0").await);
    assert_eq!(get("getBannerMode", "1.0").await, vec![json!({"value": "off"})]);
    for bad in [json!([{"mode": "quad"}]), json!([{"mode": "PIP", "option": 3}]), json!([])] {
        assert_code(&rpc(&tv, "videoScreen", "setMultiScreenMode", bad, "1.0").await, 200, 3);
    }
    assert_code(
        &rpc(&tv, "videoScreen", "setBannerMode", json!([{"value": "blink"}]), "1.0").await,
        200,
        3,
    );
}

#[tokio::test]
async fn notify_screen_state_answers_a_change() {
    let tv = display(DisplayConfig {
        screen_change_delay: Duration::ZERO,
        notify_hold: Duration::from_secs(10),
        ..DisplayConfig::default()
    });
    let known = json!([{"multiScreenMode": "single", "pipSubScreenPosition": "invalid",
                        "audioSourceScreen": "main", "option": {"internetTVMode": false}}]);
    let waiting = {
        let tv = tv.clone();
        let known = known.clone();
        tokio::spawn(async move {
            rpc(&tv, "videoScreen", "requestToNotifyScreenState", known, "1.1").await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "held while the layout is the one the client knows");
    result(&rpc(&tv, "videoScreen", "setMultiScreenMode", json!([{"mode": "PIP"}]), "1.0").await);
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("answered")
        .expect("joined");
    assert_eq!(
        result(&answer),
        vec![json!({"multiScreenMode": "PIP", "pipSubScreenPosition": "rightBottom",
                    "audioSourceScreen": "main", "option": {"internetTVMode": false}})]
    );
    // A client that knows an older layout is answered at once.
    let answer = rpc(&tv, "videoScreen", "requestToNotifyScreenState", known, "1.1").await;
    assert_eq!(result(&answer)[0]["multiScreenMode"], "PIP");
    assert_code(
        &rpc(
            &tv,
            "videoScreen",
            "requestToNotifyScreenState",
            json!([{"multiScreenMode": 1}]),
            "1.1",
        )
        .await,
        200,
        3,
    );
}

#[tokio::test]
async fn storage_mount_and_recordings() {
    let tv =
        display(DisplayConfig { slow_method_delay: Duration::ZERO, ..DisplayConfig::default() });
    let list = result(&rpc(&tv, "system", "getStorageList", json!([]), "1.1").await);
    assert_eq!(list[0][0]["uri"], "storage:usb1");
    assert_eq!(list[0][0]["mounted"], "mounted");
    let whole = list[0][0]["wholeCapacityMB"].as_u64().unwrap();
    assert_eq!(list[0][0]["freeCapacityMB"].as_u64().unwrap(), whole - 1_850 - 6_420 - 3_100);
    let sources = result(
        &rpc(&tv, "avContent", "getSourceList", json!([{"scheme": "storage"}]), "1.0").await,
    );
    assert_eq!(sources, vec![json!([{"source": "storage:usb1"}])]);
    let contents = result(
        &rpc(&tv, "avContent", "getContentList", json!([{"source": "storage:usb1"}]), "1.0").await,
    );
    assert_eq!(contents[0].as_array().unwrap().len(), 3);
    assert_eq!(contents[0][1]["isProtected"], true);

    // Protection moves with its setter, and deletion honours it.
    result(
        &rpc(
            &tv,
            "avContent",
            "setDeleteProtection",
            json!([{"uri": "storage:usb1?id=2", "isProtected": false}]),
            "1.0",
        )
        .await,
    );
    result(
        &rpc(&tv, "avContent", "deleteContent", json!([{"uri": "storage:usb1?id=2"}]), "1.0").await,
    );
    assert_code(
        &rpc(&tv, "avContent", "deleteContent", json!([{"uri": "storage:usb1?id=2"}]), "1.0").await,
        200,
        41001,
    );
    let count = result(
        &rpc(&tv, "avContent", "getContentCount", json!([{"source": "storage:usb1"}]), "1.0").await,
    );
    assert_eq!(count, vec![json!({"count": 2})]);

    // Unmounted, the storage and its recordings are gone to the display.
    result(
        &rpc(
            &tv,
            "system",
            "mountStorage",
            json!([{"uri": "storage:usb1", "action": "unmount"}]),
            "1.0",
        )
        .await,
    );
    let list = result(
        &rpc(&tv, "system", "getStorageList", json!([{"uri": "storage:usb1"}]), "1.1").await,
    );
    assert_eq!(
        (&list[0][0]["mounted"], &list[0][0]["isAvailable"]),
        (&json!("unmounted"), &json!("false"))
    );
    let sources = result(
        &rpc(&tv, "avContent", "getSourceList", json!([{"scheme": "storage"}]), "1.0").await,
    );
    assert_eq!(sources, vec![json!([])]);
    assert_code(
        &rpc(&tv, "avContent", "getContentList", json!([{"source": "storage:usb1"}]), "1.0").await,
        200,
        41020,
    );
    assert_code(
        &rpc(&tv, "avContent", "deleteContent", json!([{"uri": "storage:usb1?id=1"}]), "1.0").await,
        200,
        41020,
    );
    result(
        &rpc(
            &tv,
            "system",
            "mountStorage",
            json!([{"uri": "storage:usb1", "action": "mount"}]),
            "1.0",
        )
        .await,
    );
    assert_code(
        &rpc(
            &tv,
            "system",
            "mountStorage",
            json!([{"uri": "storage:usb1", "action": "eject"}]),
            "1.0",
        )
        .await,
        200,
        3,
    );
    assert_code(
        &rpc(
            &tv,
            "system",
            "mountStorage",
            json!([{"uri": "storage:usb9", "action": "mount"}]),
            "1.0",
        )
        .await,
        200,
        41020,
    );
}

#[tokio::test]
async fn favourites_visibility_and_tuning_by_number() {
    let tv = display(DisplayConfig::default());
    let channels = json!([{"title": "One", "dispNum": "1"}, {"title": "Two", "dispNum": "2"},
                          {"title": "Three", "dispNum": "3"}]);
    tv.set_state(&json!({"channels": channels})).unwrap();
    let set =
        json!([{"favSource": "fav:1", "contents": ["tv:dvbt?trip=1.1.3", "tv:dvbt?trip=1.1.1"]}]);
    result(&rpc(&tv, "avContent", "setFavoriteContentList", set, "1.0").await);
    let list = result(
        &rpc(&tv, "avContent", "getFavoriteList", json!([{"source": "fav:1"}]), "1.0").await,
    );
    let titles: Vec<&Value> = list[0].as_array().unwrap().iter().map(|i| &i["title"]).collect();
    assert_eq!(titles, [&json!("Three"), &json!("One")]);
    assert_eq!(
        result(
            &rpc(&tv, "avContent", "getFavoriteList", json!([{"source": "fav:2"}]), "1.0").await
        ),
        vec![json!([])]
    );
    assert_code(
        &rpc(&tv, "avContent", "getFavoriteList", json!([{"source": "fav:7"}]), "1.0").await,
        200,
        41023,
    );
    let unknown = json!([{"favSource": "fav:1", "contents": ["tv:dvbt?trip=1.1.9"]}]);
    assert_code(&rpc(&tv, "avContent", "setFavoriteContentList", unknown, "1.0").await, 200, 41001);
    // The list is unchanged by a refused request.
    assert_eq!(
        tv.state()["favorites"]["fav:1"],
        json!(["tv:dvbt?trip=1.1.3", "tv:dvbt?trip=1.1.1"])
    );

    // Channel 2 hidden from channel up/down: a shift skips it, ignoreVisibilitySettings not.
    let hide = json!([{"uri": "tv:dvbt?trip=1.1.2", "channelSurfingVisibility": "invisible"}]);
    result(&rpc(&tv, "avContent", "setTvContentVisibility", hide, "1.0").await);
    let page = result(
        &rpc(&tv, "avContent", "getContentList", json!([{"source": "tv:dvbt"}]), "1.0").await,
    );
    assert_eq!(page[0][1]["channelSurfingVisibility"], "invisible");
    assert_eq!(page[0][1]["visibility"], "visible");
    result(&rpc(&tv, "avContent", "setPlayTvContent", json!([{"channel": "1"}]), "1.0").await);
    assert_eq!(tv.state()["input"], "tv:dvbt?trip=1.1.1");
    result(
        &rpc(&tv, "avContent", "setPlayTvContent", json!([{"channel": {"shift": "+1"}}]), "1.1")
            .await,
    );
    assert_eq!(tv.state()["input"], "tv:dvbt?trip=1.1.3");
    let ignore = json!([{"channel": {"shift": "-1"}, "ignoreVisibilitySettings": true}]);
    result(&rpc(&tv, "avContent", "setPlayTvContent", ignore, "1.1").await);
    assert_eq!(tv.state()["input"], "tv:dvbt?trip=1.1.2");
    assert_code(
        &rpc(&tv, "avContent", "setPlayTvContent", json!([{"channel": "7"}]), "1.0").await,
        200,
        41001,
    );
    let message = assert_code(
        &rpc(
            &tv,
            "avContent",
            "setPlayTvContent",
            json!([{"channel": "1", "source": "tv:dvbs"}]),
            "1.1",
        )
        .await,
        200,
        3,
    );
    assert_eq!(message, "source is invalid");
    let bad = json!([{"uri": "tv:dvbt?trip=1.1.1", "visibility": "hidden"}]);
    assert_code(&rpc(&tv, "avContent", "setTvContentVisibility", bad, "1.0").await, 200, 3);
    // Fewer channels: favourites of the channels gone are dropped.
    tv.set_state(&json!({"channels": [{"title": "One", "dispNum": "1"}]})).unwrap();
    assert_eq!(tv.state()["favorites"]["fav:1"], json!(["tv:dvbt?trip=1.1.1"]));
    tv.set_state(&json!({"channels": []})).unwrap();
    assert_code(
        &rpc(&tv, "avContent", "setPlayTvContent", json!([{"channel": "1"}]), "1.0").await,
        200,
        41015,
    );
}

#[tokio::test]
async fn device_modes_and_parental_rating() {
    let tv = display(DisplayConfig::default());
    let get = json!([{"value": "proMode"}]);
    assert_eq!(
        result(&rpc(&tv, "system", "getDeviceMode", get.clone(), "1.0").await),
        vec![json!({"isOn": false})]
    );
    result(
        &rpc(&tv, "system", "setDeviceMode", json!([{"value": "proMode", "isOn": true}]), "1.0")
            .await,
    );
    assert_eq!(
        result(&rpc(&tv, "system", "getDeviceMode", get, "1.0").await),
        vec![json!({"isOn": true})]
    );
    assert_code(
        &rpc(&tv, "system", "getDeviceMode", json!([{"value": "hotelMode"}]), "1.0").await,
        200,
        3,
    );
    assert_code(
        &rpc(&tv, "system", "setDeviceMode", json!([{"value": "proMode"}]), "1.0").await,
        200,
        3,
    );

    tv.set_state(&json!({"parental": {"age": 16, "unrated_lock": true, "custom_tv": ["TV-MA"]}}))
        .unwrap();
    let got = result(&rpc(&tv, "avContent", "getParentalRatingSettings", json!([]), "1.0").await);
    assert_eq!((&got[0]["ratingTypeAge"], &got[0]["unratedLock"]), (&json!(16), &json!(true)));
    assert_eq!(got[0]["ratingCustomTypeTV"], json!(["TV-MA"]));
    let error = tv.set_state(&json!({"parental": {"age": 99}})).unwrap_err();
    assert!(error.contains("parental.age"), "{error}");
    let error = tv.set_state(&json!({"screen": {"mode": "quad"}})).unwrap_err();
    assert!(error.contains("screen.mode"), "{error}");
    let error = tv
        .set_state(&json!({"recordings": [{"title": "x", "storage": "storage:nope"}]}))
        .unwrap_err();
    assert!(error.contains("recordings[0].storage"), "{error}");
}

#[tokio::test]
async fn the_new_services_need_their_auth_levels() {
    let tv = display(DisplayConfig::default());
    // getFavoriteList is private, setDeviceMode generic, getBannerMode needs nothing.
    for (service, method, params, version) in [
        ("avContent", "getFavoriteList", json!([]), "1.0"),
        ("system", "setDeviceMode", json!([{"value": "proMode", "isOn": true}]), "1.0"),
    ] {
        let answer = oneshot(
            &tv,
            request(&format!("/sony/{service}"), &[], body(method, params, version, 1)),
        )
        .await;
        assert_code(&answer, 403, 403);
    }
    let open =
        oneshot(&tv, request("/sony/videoScreen", &[], body("getBannerMode", json!([]), "1.0", 1)))
            .await;
    result(&open);
}
