//! Handler tests without a socket: the router called with `tower::ServiceExt::oneshot`.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::client::{PSK, assert_code, body, display, oneshot, request, result, rpc};
use crate::bravia::{AuthMode, DisplayConfig, IrccPath, Quirks, StandbyReply};
use crate::device::Device;

const NETFLIX: &str = "com.sony.dtv.com.netflix.ninja.com.netflix.ninja.MainActivity";

#[tokio::test]
async fn power_status_follows_the_state() {
    let tv = display(DisplayConfig::default());
    let answer = rpc(&tv, "system", "getPowerStatus", json!([]), "1.0").await;
    assert_eq!(result(&answer), vec![json!({"status": "active"})]);
    tv.set_state(&json!({"power": "standby"})).unwrap();
    let answer = rpc(&tv, "system", "getPowerStatus", json!([]), "1.0").await;
    assert_eq!(result(&answer), vec![json!({"status": "standby"})]);
    // setPowerStatus wakes it.
    let answer = rpc(&tv, "system", "setPowerStatus", json!([{"status": true}]), "1.0").await;
    assert_eq!(result(&answer), Vec::<Value>::new());
    assert_eq!(tv.state()["power"], "active");
}

#[tokio::test]
async fn supported_api_info_uses_the_object_form_and_honours_services() {
    let tv = display(DisplayConfig::default());
    let answer =
        rpc(&tv, "guide", "getSupportedApiInfo", json!([{"services": ["system"]}]), "1.0").await;
    let result = result(&answer);
    let services = result[0].as_array().unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["service"], "system");
    assert_eq!(services[0]["protocols"], json!(["xhrpost:jsonizer"]));
    let apis = services[0]["apis"].as_array().unwrap();
    let find = |name: &str| apis.iter().find(|a| a["name"] == name).unwrap()["versions"].clone();
    assert_eq!(find("getPowerStatus"), json!([{"version": "1.0"}]));
    assert_eq!(find("setPowerStatus"), json!([{"version": "1.0", "authLevel": "generic"}]));
    assert_eq!(find("getSystemInformation"), json!([{"version": "1.0", "authLevel": "private"}]));
    assert_eq!(find("getVersions"), json!([{"version": "1.0"}]));

    for params in [json!([]), json!([{"services": null}]), json!([{"services": []}])] {
        let answer = rpc(&tv, "guide", "getSupportedApiInfo", params, "1.0").await;
        let names: Vec<Value> = super::client::result(&answer)[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["service"].clone())
            .collect();
        assert_eq!(
            names,
            json!([
                "guide",
                "system",
                "audio",
                "avContent",
                "appControl",
                "videoScreen",
                "video",
                "encryption",
                "accessControl"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
    }
    let answer =
        rpc(&tv, "guide", "getSupportedApiInfo", json!([{"services": "system"}]), "1.0").await;
    assert_code(&answer, 200, 3);
}

#[tokio::test]
async fn get_versions_and_method_types_come_from_the_table() {
    let tv = display(DisplayConfig::default());
    let answer = rpc(&tv, "avContent", "getVersions", json!([]), "1.0").await;
    assert_eq!(result(&answer), vec![json!(["1.0", "1.1", "1.2", "1.5"])]);
    let answer = rpc(&tv, "encryption", "getVersions", json!([]), "1.0").await;
    assert_eq!(result(&answer), vec![json!(["1.0"])]);

    let answer = rpc(&tv, "audio", "getMethodTypes", json!(["1.2"]), "1.0").await;
    // Real displays answer getMethodTypes under "results", in the plural.
    assert!(answer.body.starts_with(br#"{"results":[["setAudioVolume","#), "{answer:?}");
    assert!(answer.body.ends_with(br#"]],"id":1}"#), "{answer:?}");
    let types = result(&answer);
    assert_eq!(types.len(), 1);
    assert_eq!(types[0][0], "setAudioVolume");
    assert_eq!(types[0][3], "1.2");
    let answer = rpc(&tv, "audio", "getMethodTypes", json!([""]), "1.0").await;
    let types = result(&answer);
    let names: Vec<&str> = types.iter().map(|t| t[0].as_str().unwrap()).collect();
    assert!(names.contains(&"getMethodTypes") && names.contains(&"getVolumeInformation"));
    assert_eq!(names.iter().filter(|n| **n == "setAudioVolume").count(), 2);
}

#[tokio::test]
async fn setters_change_what_getters_return() {
    let tv = display(DisplayConfig::default());
    let set = |method: &'static str, params: Value, version: &'static str| {
        let tv = tv.clone();
        async move { result(&rpc(&tv, "system", method, params, version).await) }
    };
    set("setLEDIndicatorStatus", json!([{"mode": "Dark", "status": "false"}]), "1.1").await;
    let led = result(&rpc(&tv, "system", "getLEDIndicatorStatus", json!([]), "1.0").await);
    assert_eq!(led, vec![json!({"mode": "Dark", "status": "false"})]);
    set("setPowerSavingMode", json!([{"mode": "high"}]), "1.0").await;
    let mode = result(&rpc(&tv, "system", "getPowerSavingMode", json!([]), "1.0").await);
    assert_eq!(mode, vec![json!({"mode": "high"})]);
    set("setWolMode", json!([{"enabled": false}]), "1.0").await;
    let wol = result(&rpc(&tv, "system", "getWolMode", json!([]), "1.0").await);
    assert_eq!(wol, vec![json!({"enabled": false})]);
    set("setLanguage", json!([{"language": "deu"}]), "1.0").await;
    let info = result(&rpc(&tv, "system", "getSystemInformation", json!([]), "1.0").await);
    assert_eq!(info[0]["language"], "deu");
    assert_eq!(info[0]["generation"], "3.6.0");

    // Volume per target, relative and absolute, and mute.
    let v10 =
        rpc(&tv, "audio", "setAudioVolume", json!([{"target": "speaker", "volume": "30"}]), "1.0")
            .await;
    assert_eq!(result(&v10), vec![json!(0)]);
    let v12 = rpc(
        &tv,
        "audio",
        "setAudioVolume",
        json!([{"target": "headphone", "volume": "+5", "ui": "on"}]),
        "1.2",
    )
    .await;
    assert_eq!(result(&v12), Vec::<Value>::new());
    result(&rpc(&tv, "audio", "setAudioMute", json!([{"status": true}]), "1.0").await);
    let volumes = result(&rpc(&tv, "audio", "getVolumeInformation", json!([]), "1.0").await);
    assert_eq!(
        volumes[0],
        json!([
            {"target": "speaker", "volume": 30, "mute": true, "maxVolume": 100, "minVolume": 0},
            {"target": "headphone", "volume": 15, "mute": true, "maxVolume": 100, "minVolume": 0}
        ])
    );
    // Target "" sets every target.
    rpc(&tv, "audio", "setAudioVolume", json!([{"target": "", "volume": "7"}]), "1.2").await;
    assert_eq!(tv.state()["volume"]["headphone"]["volume"], 7);

    // Input.
    result(
        &rpc(&tv, "avContent", "setPlayContent", json!([{"uri": "extInput:hdmi?port=2"}]), "1.0")
            .await,
    );
    let playing = result(&rpc(&tv, "avContent", "getPlayingContentInfo", json!([]), "1.0").await);
    assert_eq!(
        playing,
        vec![json!({"source": "extInput:hdmi", "title": "HDMI 2", "uri": "extInput:hdmi?port=2"})]
    );

    // Settings.
    let sound = json!([{"settings": [{"target": "outputTerminal", "value": "audioSystem"}]}]);
    result(&rpc(&tv, "audio", "setSoundSettings", sound, "1.1").await);
    let got = result(
        &rpc(&tv, "audio", "getSoundSettings", json!([{"target": "outputTerminal"}]), "1.1").await,
    );
    assert_eq!(got, vec![json!([{"target": "outputTerminal", "currentValue": "audioSystem"}])]);
    let picture = json!([{"settings": [{"target": "brightness", "value": "12"}]}]);
    result(&rpc(&tv, "video", "setPictureQualitySettings", picture, "1.0").await);
    let got = result(
        &rpc(&tv, "video", "getPictureQualitySettings", json!([{"target": "brightness"}]), "1.0")
            .await,
    );
    assert_eq!(got[0][0]["currentValue"], "12");
    assert_eq!(got[0][0]["candidate"], json!([{"min": 0, "max": 50, "step": 1}]));
    result(&rpc(&tv, "videoScreen", "setSceneSetting", json!([{"value": "general"}]), "1.0").await);
    assert_eq!(
        result(&rpc(&tv, "videoScreen", "getSceneSetting", json!([]), "1.0").await)[0]["currentValue"],
        "general"
    );
}

#[tokio::test]
async fn content_lists_page_and_count() {
    let tv =
        display(DisplayConfig { slow_method_delay: Duration::ZERO, ..DisplayConfig::default() });
    let count =
        rpc(&tv, "avContent", "getContentCount", json!([{"source": "extInput:hdmi"}]), "1.0").await;
    assert_eq!(result(&count), vec![json!({"count": 4})]);
    let page = rpc(
        &tv,
        "avContent",
        "getContentList",
        json!([{"uri": "extInput:hdmi", "stIdx": 1, "cnt": 2}]),
        "1.5",
    )
    .await;
    assert_eq!(
        result(&page),
        vec![json!([
            {"uri": "extInput:hdmi?port=2", "title": "HDMI 2", "index": 1},
            {"uri": "extInput:hdmi?port=3", "title": "HDMI 3", "index": 2}
        ])]
    );
    let sources =
        rpc(&tv, "avContent", "getSourceList", json!([{"scheme": "extInput"}]), "1.0").await;
    assert_eq!(result(&sources)[0][0], json!({"source": "extInput:hdmi"}));
    let bad =
        rpc(&tv, "avContent", "getContentCount", json!([{"source": "extInput:scart"}]), "1.1")
            .await;
    assert_eq!(assert_code(&bad, 200, 3), "source is invalid");
    let inputs = rpc(&tv, "avContent", "getCurrentExternalInputsStatus", json!([]), "1.1").await;
    assert_eq!(result(&inputs)[0][1]["status"], "true");
    // With channels, the tuner lists and plays them.
    tv.set_state(
        &json!({"channels": [{"title": "One", "dispNum": "1"}, {"title": "Two", "dispNum": "2"}]}),
    )
    .unwrap();
    let list = rpc(&tv, "avContent", "getContentList", json!([{"source": "tv:dvbt"}]), "1.0").await;
    assert_eq!(result(&list)[0].as_array().unwrap().len(), 2);
    result(
        &rpc(&tv, "avContent", "setPlayContent", json!([{"uri": "tv:dvbt?dispNum=2"}]), "1.0")
            .await,
    );
    let playing = result(&rpc(&tv, "avContent", "getPlayingContentInfo", json!([]), "1.0").await);
    assert_eq!(playing[0]["title"], "Two");
}

#[tokio::test]
async fn apps_launch_after_their_delay_and_terminate() {
    let tv = display(DisplayConfig {
        app_launch_delay: Duration::from_millis(20),
        ..DisplayConfig::default()
    });
    let list = result(&rpc(&tv, "appControl", "getApplicationList", json!([]), "1.0").await);
    assert!(list[0].as_array().unwrap().iter().any(|a| a["uri"] == NETFLIX));
    result(&rpc(&tv, "appControl", "setActiveApp", json!([{"uri": NETFLIX}]), "1.0").await);
    assert_eq!(tv.state()["active_app"], NETFLIX);
    let playing = rpc(&tv, "avContent", "getPlayingContentInfo", json!([]), "1.0").await;
    assert_eq!(assert_code(&playing, 200, 7), "Illegal State");
    result(&rpc(&tv, "appControl", "terminateApps", json!([]), "1.0").await);
    assert_eq!(tv.state()["active_app"], Value::Null);
    result(&rpc(&tv, "avContent", "getPlayingContentInfo", json!([]), "1.0").await);

    let web = "localapp://webappruntime?url=http%3A%2F%2Fexample.com%2F";
    result(&rpc(&tv, "appControl", "setActiveApp", json!([{"uri": web}]), "1.0").await);
    let status = result(&rpc(&tv, "appControl", "getWebAppStatus", json!([]), "1.0").await);
    assert_eq!(status, vec![json!({"active": true, "url": "http://example.com/"})]);
    let apps = result(&rpc(&tv, "appControl", "getApplicationStatusList", json!([]), "1.0").await);
    assert_eq!(apps[0][2], json!({"name": "webBrowse", "status": "on"}));
}

#[tokio::test]
async fn text_form_needs_a_focused_field_and_a_good_key() {
    let tv = display(DisplayConfig::default());
    let v10 = rpc(&tv, "appControl", "setTextForm", json!(["hello"]), "1.0").await;
    assert_code(&v10, 200, 7);
    tv.set_state(&json!({"text_field_focused": true})).unwrap();
    result(&rpc(&tv, "appControl", "setTextForm", json!(["hello"]), "1.0").await);
    assert_eq!(tv.state()["text"], "hello");
    let key = STANDARD.encode([7u8; 256]);
    result(
        &rpc(&tv, "appControl", "setTextForm", json!([{"encKey": key, "text": "c2VjcmV0"}]), "1.1")
            .await,
    );
    let text =
        result(&rpc(&tv, "appControl", "getTextForm", json!([{"encKey": key}]), "1.1").await);
    assert_eq!(text, vec![json!({"text": "c2VjcmV0"})]);
    let short = STANDARD.encode([7u8; 16]);
    let answer = rpc(&tv, "appControl", "getTextForm", json!([{"encKey": short}]), "1.1").await;
    assert_code(&answer, 200, 40002);
    let key_answer = result(&rpc(&tv, "encryption", "getPublicKey", json!([]), "1.0").await);
    let der = STANDARD.decode(key_answer[0]["publicKey"].as_str().unwrap()).unwrap();
    assert_eq!(der.len(), 294, "an RSA-2048 SubjectPublicKeyInfo");
}

#[tokio::test]
async fn psk_auth_levels() {
    let tv = display(DisplayConfig::default());
    // `none` methods need nothing.
    let open =
        oneshot(&tv, request("/sony/system", &[], body("getPowerStatus", json!([]), "1.0", 5)))
            .await;
    result(&open);
    for headers in [&[][..], &[("X-Auth-PSK", "0001")][..], &[("X-Auth-PSK", "00000")][..]] {
        let answer = oneshot(
            &tv,
            request("/sony/system", headers, body("getSystemInformation", json!([]), "1.0", 9)),
        )
        .await;
        assert_code(&answer, 403, 403);
        assert_eq!(answer.body, br#"{"error":[403,"Forbidden"],"id":9}"#);
    }
    result(&rpc(&tv, "system", "getSystemInformation", json!([]), "1.0").await);
}

#[tokio::test]
async fn auth_mode_none_opens_everything_and_bare_quirk_drops_bodies() {
    let tv = display(DisplayConfig { auth: AuthMode::None, ..DisplayConfig::default() });
    let answer = oneshot(
        &tv,
        request("/sony/system", &[], body("getSystemInformation", json!([]), "1.0", 1)),
    )
    .await;
    result(&answer);

    let bare = DisplayConfig {
        quirks: Quirks { http_error_body: false, ..Quirks::default() },
        ..DisplayConfig::default()
    };
    let tv = display(bare);
    let answer = oneshot(
        &tv,
        request("/sony/system", &[], body("getSystemInformation", json!([]), "1.0", 1)),
    )
    .await;
    assert_code(&answer, 403, 403);
    assert!(answer.body.is_empty());
    let answer = oneshot(&tv, request("/foo", &[], String::new())).await;
    assert_eq!((answer.status, answer.body.len()), (404, 0));
}

fn basic(pin: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!(":{pin}")))
}

fn register(clientid: &str) -> String {
    body(
        "actRegister",
        json!([{"clientid": clientid, "nickname": "Home Assistant", "level": "private"}, [{"value": "yes", "function": "WOL"}]]),
        "1.0",
        1,
    )
}

#[tokio::test]
async fn pin_flow_as_pybravia_does_it() {
    let tv = display(DisplayConfig { auth: AuthMode::Pin, psk: None, ..DisplayConfig::default() });
    assert_eq!(tv.current_pin(), None);
    // pair(): actRegister with PIN 0000 → 401 and a PIN on screen.
    let first = oneshot(
        &tv,
        request("/sony/accessControl", &[("Authorization", &basic("0000"))], register("HA.1")),
    )
    .await;
    assert_code(&first, 401, 401);
    let pin = tv.current_pin().expect("a PIN on screen");
    assert_eq!(pin.len(), 4);
    assert_ne!(pin, "0000");
    assert_eq!(tv.state()["auth"]["pin"], pin);
    // A wrong PIN: 401 again, and a new PIN.
    let wrong = if pin == "9999" { "9998" } else { "9999" };
    let again = oneshot(
        &tv,
        request("/sony/accessControl", &[("Authorization", &basic(wrong))], register("HA.1")),
    )
    .await;
    assert_code(&again, 401, 401);
    let pin = tv.current_pin().expect("a new PIN");
    // The right PIN: 200, empty result, the cookie.
    let basic_pin = basic(&pin);
    let ok = oneshot(
        &tv,
        request("/sony/accessControl", &[("Authorization", &basic_pin)], register("HA.1")),
    )
    .await;
    assert_eq!(result(&ok), Vec::<Value>::new());
    let cookie = ok.header("set-cookie").expect("Set-Cookie").to_owned();
    assert!(
        cookie.starts_with("auth=") && cookie.contains("; Path=/sony/; Max-Age=1209600"),
        "{cookie}"
    );
    let token = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(tv.current_pin(), None);
    // Later requests carry the cookie and the Basic header.
    let private = oneshot(
        &tv,
        request(
            "/sony/system",
            &[("Authorization", &basic_pin), ("Cookie", &token)],
            body("getSystemInformation", json!([]), "1.0", 1),
        ),
    )
    .await;
    result(&private);
    // Without the cookie: 403, even with the old Basic header.
    let without = oneshot(
        &tv,
        request(
            "/sony/system",
            &[("Authorization", &basic_pin)],
            body("getSystemInformation", json!([]), "1.0", 1),
        ),
    )
    .await;
    assert_code(&without, 403, 403);
    // IRCC accepts the cookie too.
    let ircc =
        oneshot(&tv, ircc_request("/sony/ircc", &[("Cookie", &token)], "AAAAAQAAAAEAAAAUAw=="))
            .await;
    assert_eq!(ircc.status, 200);
    // pybravia after a restart: the same client and PIN register again.
    let again = oneshot(
        &tv,
        request("/sony/accessControl", &[("Authorization", &basic_pin)], register("HA.1")),
    )
    .await;
    result(&again);
    assert_eq!(tv.state()["auth"]["registered_clients"], json!(["HA.1"]));
    // Another client with that stale PIN does not.
    let other = oneshot(
        &tv,
        request("/sony/accessControl", &[("Authorization", &basic_pin)], register("other")),
    )
    .await;
    assert_code(&other, 401, 401);
}

#[tokio::test]
async fn cookies_expire() {
    let config = DisplayConfig {
        auth: AuthMode::PskAndPin,
        cookie_max_age: Duration::from_millis(600),
        ..DisplayConfig::default()
    };
    let tv = display(config);
    oneshot(&tv, request("/sony/accessControl", &[], register("c"))).await;
    let pin = tv.current_pin().unwrap();
    let ok = oneshot(
        &tv,
        request("/sony/accessControl", &[("Authorization", &basic(&pin))], register("c")),
    )
    .await;
    let token = ok.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let call =
        || request("/sony/system", &[("Cookie", &token)], body("getWolMode", json!([]), "1.0", 1));
    result(&oneshot(&tv, call()).await);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_code(&oneshot(&tv, call()).await, 403, 403);
    // psk+pin: the key still passes.
    result(&rpc(&tv, "system", "getWolMode", json!([]), "1.0").await);
}

#[tokio::test]
async fn a_generic_cookie_does_not_open_private_methods() {
    let tv = display(DisplayConfig { auth: AuthMode::Pin, ..DisplayConfig::default() });
    let generic = body(
        "actRegister",
        json!([{"clientid": "g", "nickname": "n", "level": "generic"}, []]),
        "1.0",
        1,
    );
    oneshot(&tv, request("/sony/accessControl", &[], generic.clone())).await;
    let pin = tv.current_pin().unwrap();
    let ok =
        oneshot(&tv, request("/sony/accessControl", &[("Authorization", &basic(&pin))], generic))
            .await;
    let token = ok.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let generic_call =
        request("/sony/system", &[("Cookie", &token)], body("getWolMode", json!([]), "1.0", 1));
    result(&oneshot(&tv, generic_call).await);
    let private_call = request(
        "/sony/system",
        &[("Cookie", &token)],
        body("getSystemInformation", json!([]), "1.0", 1),
    );
    assert_code(&oneshot(&tv, private_call).await, 403, 403);
}

#[tokio::test]
async fn standby_answers_per_quirk() {
    let tv = display(DisplayConfig::default());
    tv.set_state(&json!({"power": "standby"})).unwrap();
    let answer = rpc(&tv, "audio", "getVolumeInformation", json!([]), "1.0").await;
    assert_eq!(assert_code(&answer, 200, 7), "not power-on");
    let registered = oneshot(&tv, request("/sony/accessControl", &[], register("c"))).await;
    assert_eq!(assert_code(&registered, 200, 7), "not power-on");
    result(&rpc(&tv, "system", "getInterfaceInformation", json!([]), "1.0").await);

    let quirk = DisplayConfig {
        quirks: Quirks { standby_error: StandbyReply::DisplayOff, ..Quirks::default() },
        ..DisplayConfig::default()
    };
    let tv = display(quirk);
    tv.set_state(&json!({"power": "standby"})).unwrap();
    let answer = rpc(&tv, "audio", "getVolumeInformation", json!([]), "1.0").await;
    assert_eq!(assert_code(&answer, 200, 40005), "Display is turned off");
    // actRegister stays 7 whatever the quirk.
    let registered = oneshot(&tv, request("/sony/accessControl", &[], register("c"))).await;
    assert_eq!(assert_code(&registered, 200, 7), "not power-on");
}

fn ircc_request(path: &str, headers: &[(&str, &str)], code: &str) -> Request<Body> {
    let envelope = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:X_SendIRCC xmlns:u=\"urn:schemas-sony-com:service:IRCC:1\"><IRCCCode>{code}</IRCCCode></u:X_SendIRCC></s:Body></s:Envelope>"
    );
    let mut builder = Request::post(path)
        .header("SOAPACTION", "\"urn:schemas-sony-com:service:IRCC:1#X_SendIRCC\"")
        .header("content-type", "text/xml; charset=UTF-8");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(envelope)).unwrap()
}

#[tokio::test]
async fn ircc_success_faults_and_effects() {
    let tv = display(DisplayConfig::default());
    let mute = oneshot(&tv, ircc_request("/sony/ircc", &[PSK], "AAAAAQAAAAEAAAAUAw==")).await;
    assert_eq!(mute.status, 200);
    let text = String::from_utf8(mute.body.clone()).unwrap();
    assert!(
        text.contains("<u:X_SendIRCCResponse xmlns:u=\"urn:schemas-sony-com:service:IRCC:1\">"),
        "{text}"
    );
    assert_eq!(tv.state()["mute"], true);
    // pybravia's empty wake-up probe.
    assert_eq!(oneshot(&tv, ircc_request("/sony/ircc", &[PSK], "")).await.status, 200);
    let unknown = oneshot(&tv, ircc_request("/sony/IRCC", &[PSK], "AAAAAQAAAAEAAAB/Aw==")).await;
    assert_eq!(unknown.status, 500);
    let text = String::from_utf8(unknown.body).unwrap();
    assert!(text.contains("<errorCode>800</errorCode><errorDescription>Cannot accept the IRCC Code</errorDescription>"), "{text}");
    let garbage = oneshot(&tv, request("/sony/ircc", &[PSK], "<nonsense/>".to_owned())).await;
    assert_eq!(garbage.status, 500);
    assert!(String::from_utf8(garbage.body).unwrap().contains("<errorCode>401</errorCode>"));
    let forbidden =
        oneshot(&tv, ircc_request("/sony/ircc", &[("X-Auth-PSK", "1234")], "AAAAAQAAAAEAAAAUAw=="))
            .await;
    assert_eq!((forbidden.status, forbidden.body.len()), (403, 0));
    // PowerOff, then WakeUp.
    oneshot(&tv, ircc_request("/sony/ircc", &[PSK], "AAAAAQAAAAEAAAAvAw==")).await;
    assert_eq!(tv.state()["power"], "standby");
    oneshot(&tv, ircc_request("/sony/ircc", &[PSK], "AAAAAQAAAAEAAAAuAw==")).await;
    assert_eq!(tv.state()["power"], "active");
    oneshot(&tv, ircc_request("/sony/ircc", &[PSK], "AAAAAgAAABoAAABcAw==")).await;
    assert_eq!(tv.state()["input"], "extInput:hdmi?port=3");
}

#[tokio::test]
async fn ircc_case_quirk() {
    for (quirk, lower, upper) in [
        (IrccPath::Both, 200, 200),
        (IrccPath::LowerOnly, 200, 404),
        (IrccPath::UpperOnly, 404, 200),
    ] {
        let tv = display(DisplayConfig {
            quirks: Quirks { ircc_path: quirk, ..Quirks::default() },
            ..DisplayConfig::default()
        });
        let a = oneshot(&tv, ircc_request("/sony/ircc", &[PSK], "")).await;
        let b = oneshot(&tv, ircc_request("/sony/IRCC", &[PSK], "")).await;
        assert_eq!((a.status, b.status), (lower, upper), "{quirk:?}");
        if lower == 404 {
            assert_code(&a, 404, 404);
        }
    }
}

#[tokio::test]
async fn set_state_names_the_offending_member_and_reset_restores() {
    let tv = display(DisplayConfig::default());
    let cases = [
        (json!({"power": "sleeping"}), "power"),
        (json!({"volume": {"speaker": 130}}), "volume.speaker"),
        (json!({"volume": {"subwoofer": 3}}), "volume.subwoofer"),
        (json!({"input": "extInput:hdmi?port=9"}), "input"),
        (json!({"active_app": "com.example.nope"}), "active_app"),
        (json!({"public_key": "no"}), "public_key"),
        (json!({"colour": 1}), "colour"),
        (json!({"picture": {"brightness": "99"}}), "picture.brightness"),
        (json!({"apps": [{"title": "x"}]}), "apps[0].uri"),
        (json!({"interface_version": "3.6"}), "interface_version"),
    ];
    for (patch, member) in cases {
        let error = tv.set_state(&patch).unwrap_err();
        assert!(error.contains(member), "{patch} → {error}");
    }
    // All or nothing.
    assert!(tv.set_state(&json!({"mute": true, "power": "off"})).is_err());
    assert_eq!(tv.state()["mute"], false);

    tv.set_state(&json!({
        "power": "standby", "volume": {"speaker": 30}, "mute": true,
        "input": "extInput:hdmi?port=2", "active_app": null, "public_key": false,
        "apps": [{"title": "Kiosk", "uri": "com.example.kiosk", "terminable": false}],
    }))
    .unwrap();
    let state = tv.state();
    assert_eq!(
        (
            &state["power"],
            &state["volume"]["speaker"]["volume"],
            &state["mute"],
            &state["input"],
            &state["public_key"]
        ),
        (
            &json!("standby"),
            &json!(30),
            &json!(true),
            &json!("extInput:hdmi?port=2"),
            &json!(false)
        )
    );
    tv.set_state(&json!({"active_app": "com.example.kiosk"})).unwrap();
    tv.reset();
    let state = tv.state();
    assert_eq!((&state["power"], &state["active_app"]), (&json!("active"), &Value::Null));
    assert_eq!(state["apps"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn restart_window_and_reboot() {
    let tv = display(DisplayConfig {
        reboot_duration: Duration::from_millis(500),
        ..DisplayConfig::default()
    });
    result(&rpc(&tv, "system", "requestReboot", json!([]), "1.0").await);
    assert!(tv.restart_remaining().is_some());
    let during = rpc(&tv, "system", "getPowerStatus", json!([]), "1.0").await;
    assert_code(&during, 404, 404);
    assert_eq!(during.body, br#"{"error":[404,"Not Found"]}"#);
    tokio::time::sleep(Duration::from_millis(700)).await;
    result(&rpc(&tv, "system", "getPowerStatus", json!([]), "1.0").await);
    assert_eq!(tv.state()["restarting_ms"], Value::Null);
}

/// The power state and the restart window are read from atomics on the request path: they
/// must follow every way the state changes, and an absurd window must not panic.
#[tokio::test]
async fn the_lock_free_reads_follow_every_change() {
    use crate::bravia::{Power, VirtualDisplay};
    let tv = display(DisplayConfig::default());
    assert_eq!(tv.power(), Power::Active);
    result(&rpc(&tv, "system", "setPowerStatus", json!([{"status": false}]), "1.0").await);
    assert_eq!(tv.power(), Power::Standby);
    tv.set_state(&json!({"power": "unreachable"})).unwrap();
    assert_eq!((tv.power(), tv.is_reachable()), (Power::Unreachable, false));
    // A refused patch changes nothing, the power included.
    assert!(tv.set_state(&json!({"power": "active", "mute": 3})).is_err());
    assert_eq!(tv.power(), Power::Unreachable);
    tv.reset();
    assert_eq!(tv.power(), Power::Active);
    let standby = VirtualDisplay::with_state(
        "bravia-9".to_owned(),
        DisplayConfig::default(),
        &json!({"power": "standby"}),
    )
    .unwrap();
    assert_eq!(standby.power(), Power::Standby);

    assert_eq!(tv.restart_remaining(), None);
    tv.start_restart_window(Duration::from_millis(300));
    let left = tv.restart_remaining().expect("open");
    assert!(left <= Duration::from_millis(300) && left > Duration::from_millis(100), "{left:?}");
    tv.start_restart_window(Duration::ZERO);
    assert_eq!(tv.restart_remaining(), None, "a zero window is closed at once");
    tv.start_restart_window(Duration::MAX);
    assert!(tv.restart_remaining().is_some_and(|left| left > Duration::from_secs(1 << 33)));
    tv.reset();
    assert_eq!(tv.restart_remaining(), None);
}

#[tokio::test]
async fn routing_errors() {
    let tv = display(DisplayConfig::default());
    let call = || body("getPowerStatus", json!([]), "1.0", 1);
    for path in ["/sony/nosuch", "/sony/system/", "/foo", "/sony/", "/sony/System"] {
        assert_code(&oneshot(&tv, request(path, &[], call())).await, 404, 404);
    }
    let get = Request::get("/sony/system").body(Body::empty()).unwrap();
    assert_code(&oneshot(&tv, get).await, 501, 501);
    let put = Request::put("/sony/ircc").body(Body::empty()).unwrap();
    assert_code(&oneshot(&tv, put).await, 501, 501);
    // 5 keeps the id when it can read one.
    let no_params = json!({"method": "getPowerStatus", "id": 7, "version": "1.0"}).to_string();
    let answer = oneshot(&tv, request("/sony/system", &[], no_params)).await;
    assert_code(&answer, 200, 5);
    assert_eq!(answer.body, br#"{"error":[5,"Illegal Request"],"id":7}"#);
}

#[test]
fn provocations_cover_every_documented_code_in_every_setup() {
    use devfault_core::Source;
    let documented: std::collections::BTreeSet<String> = devfault_bravia::registry()
        .entries()
        .iter()
        .filter(|e| e.source == Source::Documented)
        .map(|e| e.code.to_string())
        .collect();
    for auth in [AuthMode::None, AuthMode::Psk, AuthMode::Pin, AuthMode::PskAndPin] {
        for standby_error in [StandbyReply::NotPowerOn, StandbyReply::DisplayOff] {
            let config = DisplayConfig {
                auth,
                quirks: Quirks { standby_error, ..Quirks::default() },
                ..DisplayConfig::default()
            };
            let provocations = display(config).provocations();
            let listed: std::collections::BTreeSet<String> =
                provocations.iter().map(|p| p.code.clone()).collect();
            assert_eq!(listed, documented, "{auth:?} {standby_error:?}");
            for code in &documented {
                let vias: Vec<&str> =
                    provocations.iter().filter(|p| &p.code == code).map(|p| p.via).collect();
                assert!(
                    vias.iter().all(|v| *v == "natural") || vias == ["fault"],
                    "{code}: {vias:?} in {auth:?}"
                );
            }
            for provocation in &provocations {
                assert!(!provocation.how.is_empty());
                if provocation.via == "natural" {
                    assert!(
                        super::socket::NATURAL_TESTED.contains(&provocation.code.as_str()),
                        "code {} is natural but has no socket test",
                        provocation.code
                    );
                }
            }
        }
    }
}

#[test]
fn display_is_a_shareable_device() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<crate::bravia::VirtualDisplay>();
    let device: std::sync::Arc<dyn Device> = display(DisplayConfig::default());
    assert_eq!((device.id(), device.api()), ("bravia-test", "bravia"));
}

#[test]
fn with_state_sets_the_baseline_reset_returns_to() {
    let patch = json!({"power": "standby", "public_key": false});
    let tv =
        crate::bravia::VirtualDisplay::with_state("b".to_owned(), DisplayConfig::default(), &patch)
            .unwrap();
    tv.set_state(&json!({"power": "active"})).unwrap();
    tv.reset();
    assert_eq!(
        (&tv.state()["power"], &tv.state()["public_key"]),
        (&json!("standby"), &json!(false))
    );
    let error = crate::bravia::VirtualDisplay::with_state(
        "b".to_owned(),
        DisplayConfig::default(),
        &json!({"wol": 1}),
    );
    assert!(error.unwrap_err().contains("wol"));
}

#[tokio::test]
async fn current_time_in_both_versions() {
    use crate::bravia::methods::utc_date_time;
    assert_eq!(utc_date_time(0), "1970-01-01T00:00:00");
    assert_eq!(utc_date_time(951_782_400 + 3_723), "2000-02-29T01:02:03");
    assert_eq!(utc_date_time(1_735_689_599), "2024-12-31T23:59:59");
    let tv = display(DisplayConfig::default());
    let v10 = result(&rpc(&tv, "system", "getCurrentTime", json!([]), "1.0").await);
    let text = v10[0].as_str().unwrap();
    assert_eq!((text.len(), &text[10..11], &text[19..]), (24, "T", "+0000"), "{text}");
    let v11 = result(&rpc(&tv, "system", "getCurrentTime", json!([]), "1.1").await);
    assert_eq!(v11[0]["timeZoneOffsetMinute"], 0);
}
