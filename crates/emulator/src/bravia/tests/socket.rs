//! Over a real socket: each code the display produces naturally, provoked by its situation,
//! and the server's behaviour under garbage, huge bodies, long URIs, stalled clients and a
//! thousand connections. Servers bind 127.0.0.1:0 and stop when their test ends.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use devfault_core::parse_response;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::client::{
    LIMIT, PSK, assert_code, body, call, post, post_bytes, result, send, send_raw, serve,
};
use crate::bravia::{AuthMode, DisplayConfig, Quirks, StandbyReply};
use crate::device::Device;

/// The codes with a `natural` provocation that a test below provokes over a socket.
pub(super) const NATURAL_TESTED: &[&str] = &[
    "401", "403", "404", "413", "414", "501", "503", "2", "3", "5", "7", "12", "14", "15", "40000",
    "40001", "40002", "40003", "40004", "40005", "40600", "40800", "40801", "41000", "41001",
    "41002", "41003", "41014", "41015", "41020", "41022", "41023", "41024", "41400", "41401",
    "41402", "41403", "42400",
];

fn basic(pin: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!(":{pin}")))
}

#[tokio::test]
async fn code_401_pin_flow_then_cookie() {
    let server = serve(DisplayConfig { auth: AuthMode::Pin, ..DisplayConfig::default() }).await;
    let register = body(
        "actRegister",
        json!([{"clientid": "HA.0f1e", "nickname": "Home Assistant", "level": "private"}, [{"value": "yes", "function": "WOL"}]]),
        "1.0",
        1,
    );
    let first = post(server.addr, "/sony/accessControl", &[], &register).await;
    assert_code(&first, 401, 401);
    let pin = server.display.current_pin().expect("a PIN");
    let auth = basic(&pin);
    let ok = post(server.addr, "/sony/accessControl", &[("Authorization", &auth)], &register).await;
    assert_eq!(result(&ok), Vec::<Value>::new());
    let cookie = ok.header("Set-Cookie").expect("a cookie").split(';').next().unwrap().to_owned();
    let headers = [("Authorization", auth.as_str()), ("Cookie", cookie.as_str())];
    let private = post(
        server.addr,
        "/sony/system",
        &headers,
        &body("getSystemInformation", json!([]), "1.0", 1),
    )
    .await;
    assert_eq!(result(&private)[0]["model"], "FW-55BZ35F");
}

#[tokio::test]
async fn code_403_without_or_with_a_wrong_key() {
    let server = serve(DisplayConfig::default()).await;
    let request = body("setAudioVolume", json!([{"target": "speaker", "volume": "30"}]), "1.0", 42);
    for headers in [&[][..], &[("X-Auth-PSK", "1111")][..]] {
        let answer = post(server.addr, "/sony/audio", headers, &request).await;
        assert_code(&answer, 403, 403);
        assert_eq!(answer.body, br#"{"error":[403,"Forbidden"],"id":42}"#);
    }
    assert_eq!(server.display.state()["volume"]["speaker"]["volume"], 25);
}

#[tokio::test]
async fn code_404_unknown_paths_and_restart_window() {
    let server = serve(DisplayConfig::default()).await;
    let request = body("getPowerStatus", json!([]), "1.0", 1);
    for path in ["/sony/nosuch", "/sony/system/", "/foo"] {
        assert_code(&post(server.addr, path, &[PSK], &request).await, 404, 404);
    }
    server.display.start_restart_window(Duration::from_millis(600));
    let during = post(server.addr, "/sony/system", &[PSK], &request).await;
    assert_code(&during, 404, 404);
    assert_eq!(during.body, br#"{"error":[404,"Not Found"]}"#);
    tokio::time::sleep(Duration::from_millis(800)).await;
    result(&post(server.addr, "/sony/system", &[PSK], &request).await);
}

fn chunked(path: &str, total: usize) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Auth-PSK: 0000\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let chunk = vec![b' '; 16 * 1024];
    let mut sent = 0;
    while sent < total {
        let size = chunk.len().min(total - sent);
        out.extend_from_slice(format!("{size:x}\r\n").as_bytes());
        out.extend_from_slice(&chunk[..size]);
        out.extend_from_slice(b"\r\n");
        sent += size;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[tokio::test]
async fn code_413_declared_or_streamed() {
    let server =
        serve(DisplayConfig { max_body_bytes: 64 * 1024, ..DisplayConfig::default() }).await;
    let declared = b"POST /sony/system HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 10485760\r\n\r\n";
    assert_code(&send(server.addr, declared).await, 413, 413);
    assert_code(&send(server.addr, &chunked("/sony/system", 100 * 1024)).await, 413, 413);
    // Just under the limit is read, and is only not JSON-RPC.
    assert_code(&send(server.addr, &chunked("/sony/system", 60 * 1024)).await, 200, 5);
}

#[tokio::test]
async fn huge_body_with_the_default_limit() {
    let server = serve(DisplayConfig::default()).await;
    let answer = send(server.addr, &chunked("/sony/avContent", 2 * 1024 * 1024)).await;
    assert_code(&answer, 413, 413);
    result(&call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await);
}

#[tokio::test]
async fn code_414_long_uri() {
    let server = serve(DisplayConfig::default()).await;
    let path = format!("/sony/system?{}", "a".repeat(3000));
    let answer =
        post(server.addr, &path, &[PSK], &body("getPowerStatus", json!([]), "1.0", 1)).await;
    assert_code(&answer, 414, 414);
    // Within the limit, the query is ignored.
    let path = format!("/sony/system?{}", "a".repeat(1000));
    result(&post(server.addr, &path, &[PSK], &body("getPowerStatus", json!([]), "1.0", 1)).await);
}

#[tokio::test]
async fn code_501_other_methods() {
    let server = serve(DisplayConfig::default()).await;
    for method in ["GET", "PUT", "DELETE"] {
        let request = format!(
            "{method} /sony/system HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
        assert_code(&send(server.addr, request.as_bytes()).await, 501, 501);
    }
}

#[tokio::test]
async fn code_503_over_the_concurrency_limit() {
    let config = DisplayConfig {
        max_concurrent_requests: 4,
        slow_method_delay: Duration::from_millis(1200),
        ..DisplayConfig::default()
    };
    let server = serve(config).await;
    let slow = |id| {
        let request = body("getContentList", json!([{"source": "extInput:hdmi"}]), "1.0", id);
        tokio::spawn(send(server.addr, post_bytes("/sony/avContent", &[PSK], &request)))
    };
    let busy: Vec<_> = (1..=4).map(slow).collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    let refused = call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await;
    assert_code(&refused, 503, 503);
    assert!(started.elapsed() < Duration::from_millis(700), "refused at once");
    for task in busy {
        result(&task.await.unwrap());
    }
    result(&call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await);
}

#[tokio::test]
async fn code_2_stalled_body_does_not_block_others() {
    let server = serve(DisplayConfig {
        body_timeout: Duration::from_millis(1500),
        ..DisplayConfig::default()
    })
    .await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"POST /sony/system HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 100\r\n\r\n{\"method\":")
        .await
        .unwrap();
    // Meanwhile another client is answered.
    let started = Instant::now();
    result(&call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await);
    assert!(started.elapsed() < Duration::from_millis(1200), "not held up by the stalled body");
    let mut answer = Vec::new();
    tokio::time::timeout(LIMIT, stalled.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = parse_response(&answer).unwrap();
    assert_code(&answer, 200, 2);
}

#[tokio::test]
async fn half_sent_headers_do_not_block_others() {
    let server = serve(DisplayConfig::default()).await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled.write_all(b"POST /sony/system HTTP/1.1\r\nHost: 127.0").await.unwrap();
    for _ in 0..3 {
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            call(server.addr, "system", "getPowerStatus", json!([]), "1.0"),
        )
        .await
        .expect("answered while another client stalls");
        result(&answer);
    }
    drop(stalled);
}

#[tokio::test]
async fn code_3_illegal_argument() {
    let server = serve(DisplayConfig::default()).await;
    let cases = [
        ("audio", "setAudioVolume", json!([{"target": "speaker", "volume": "loud"}]), "1.0"),
        ("audio", "setAudioVolume", json!([{"target": "speaker", "volume": 30}]), "1.0"),
        ("audio", "setAudioMute", json!([{"status": "yes"}]), "1.0"),
        ("avContent", "getSourceList", json!([{"scheme": "floppy"}]), "1.0"),
        ("system", "setLEDIndicatorStatus", json!([{"mode": "Disco"}]), "1.1"),
        ("system", "setPowerSavingMode", json!([{"mode": "max"}]), "1.0"),
        ("audio", "getSoundSettings", json!([{"target": "bass"}]), "1.1"),
        ("system", "setPowerStatus", json!([]), "1.0"),
    ];
    for (service, method, params, version) in cases {
        let answer = call(server.addr, service, method, params.clone(), version).await;
        assert_code(&answer, 200, 3);
    }
    let source = call(
        server.addr,
        "avContent",
        "getContentList",
        json!([{"source": "extInput:dvi"}]),
        "1.0",
    )
    .await;
    assert_eq!(assert_code(&source, 200, 3), "source is invalid");
}

#[tokio::test]
async fn code_5_every_condition_of_the_rule() {
    let server = serve(DisplayConfig::default()).await;
    let cases: &[(&str, Option<u64>)] = &[
        ("", None),
        ("   ", None),
        ("{\"method\":", None),
        ("[1,2]", None),
        ("\"getPowerStatus\"", None),
        (r#"{"method":"getPowerStatus","params":[],"version":"1.0"}"#, None),
        (r#"{"method":"getPowerStatus","params":[],"id":0,"version":"1.0"}"#, None),
        (r#"{"method":"getPowerStatus","params":[],"id":"1","version":"1.0"}"#, None),
        (r#"{"method":"getPowerStatus","params":[],"id":-1,"version":"1.0"}"#, None),
        (r#"{"params":[],"id":3,"version":"1.0"}"#, Some(3)),
        (r#"{"method":"","params":[],"id":3,"version":"1.0"}"#, Some(3)),
        (r#"{"method":5,"params":[],"id":3,"version":"1.0"}"#, Some(3)),
        (r#"{"method":"getPowerStatus","id":3,"version":"1.0"}"#, Some(3)),
        (r#"{"method":"getPowerStatus","params":{},"id":3,"version":"1.0"}"#, Some(3)),
        (r#"{"method":"getPowerStatus","params":[],"id":3}"#, Some(3)),
        (r#"{"method":"getPowerStatus","params":[],"id":3,"version":"1"}"#, Some(3)),
        (r#"{"method":"getPowerStatus","params":[],"id":3,"version":1.0}"#, Some(3)),
    ];
    for (text, id) in cases {
        let answer = post(server.addr, "/sony/system", &[PSK], text).await;
        assert_code(&answer, 200, 5);
        let expected = match id {
            Some(id) => format!(r#"{{"error":[5,"Illegal Request"],"id":{id}}}"#),
            None => r#"{"error":[5,"Illegal Request"]}"#.to_owned(),
        };
        assert_eq!(String::from_utf8_lossy(&answer.body), expected, "{text}");
    }
}

#[tokio::test]
async fn garbage_bodies() {
    let server = serve(DisplayConfig::default()).await;
    let deep = "[".repeat(5000);
    let bodies: Vec<Vec<u8>> = vec![
        vec![0xff, 0xfe, 0x00, 0x01],
        b"<html><body>hi</body></html>".to_vec(),
        deep.into_bytes(),
        b"{\"method\":\"getPowerStatus\",\"params\":[],\"id\":1,\"version\":\"1.0\"".to_vec(),
        (0..=255u8).cycle().take(4096).collect(),
        b"null".to_vec(),
    ];
    for garbage in bodies {
        let mut request = format!(
            "POST /sony/system HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            garbage.len()
        )
        .into_bytes();
        request.extend_from_slice(&garbage);
        assert_code(&send(server.addr, &request).await, 200, 5);
    }
    // Not HTTP at all: the connection closes, and the server goes on.
    let _ = send_raw(server.addr, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").await;
    result(&call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await);
}

#[tokio::test]
async fn code_7_standby_and_app_shown() {
    let server = serve(DisplayConfig::default()).await;
    server.display.set_state(&json!({"power": "standby"})).unwrap();
    let answer =
        call(server.addr, "avContent", "getSourceList", json!([{"scheme": "extInput"}]), "1.0")
            .await;
    assert_eq!(assert_code(&answer, 200, 7), "not power-on");
    let register = body("actRegister", json!([{"clientid": "c", "nickname": "n"}, []]), "1.0", 1);
    let answer = post(server.addr, "/sony/accessControl", &[], &register).await;
    assert_eq!(assert_code(&answer, 200, 7), "not power-on");
    assert_eq!(
        result(&call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await),
        vec![json!({"status": "standby"})]
    );
    result(&call(server.addr, "system", "setPowerStatus", json!([{"status": true}]), "1.0").await);

    server
        .display
        .set_state(
            &json!({"active_app": "com.sony.dtv.com.netflix.ninja.com.netflix.ninja.MainActivity"}),
        )
        .unwrap();
    let answer = call(server.addr, "avContent", "getPlayingContentInfo", json!([]), "1.0").await;
    assert_eq!(assert_code(&answer, 200, 7), "Illegal State");
}

#[tokio::test]
async fn codes_12_14_15() {
    let server = serve(DisplayConfig::default()).await;
    assert_code(&call(server.addr, "system", "getNoSuchThing", json!([]), "1.0").await, 200, 12);
    // A method of another service is no method of this one.
    assert_code(&call(server.addr, "audio", "getPowerStatus", json!([]), "1.0").await, 200, 12);
    assert_code(&call(server.addr, "system", "getPowerStatus", json!([]), "9.9").await, 200, 14);
    assert_code(
        &call(
            server.addr,
            "audio",
            "setAudioVolume",
            json!([{"target": "speaker", "volume": "1"}]),
            "1.1",
        )
        .await,
        200,
        14,
    );
    let page = json!([{"source": "extInput:hdmi", "stIdx": 0, "cnt": 201}]);
    assert_code(&call(server.addr, "avContent", "getContentList", page, "1.5").await, 200, 15);
}

#[tokio::test]
async fn code_40002_encryption_failed() {
    let server = serve(DisplayConfig::default()).await;
    server.display.set_state(&json!({"text_field_focused": true})).unwrap();
    let short = STANDARD.encode([1u8; 32]);
    for key in ["not base64!", short.as_str()] {
        let answer = call(
            server.addr,
            "appControl",
            "setTextForm",
            json!([{"encKey": key, "text": "x"}]),
            "1.1",
        )
        .await;
        assert_code(&answer, 200, 40002);
    }
    let good = STANDARD.encode([1u8; 256]);
    result(
        &call(
            server.addr,
            "appControl",
            "setTextForm",
            json!([{"encKey": good, "text": "x"}]),
            "1.1",
        )
        .await,
    );
    server.display.set_state(&json!({"public_key": false})).unwrap();
    let answer = call(
        server.addr,
        "appControl",
        "setTextForm",
        json!([{"encKey": good, "text": "x"}]),
        "1.1",
    )
    .await;
    assert_code(&answer, 200, 40002);
}

#[tokio::test]
async fn code_40003_duplicate_while_processing() {
    let server = serve(DisplayConfig {
        slow_method_delay: Duration::from_millis(1200),
        ..DisplayConfig::default()
    })
    .await;
    let request = post_bytes(
        "/sony/avContent",
        &[PSK],
        &body(
            "getContentList",
            json!([{"source": "extInput:hdmi", "stIdx": 0, "cnt": 50}]),
            "1.5",
            1,
        ),
    );
    let first = tokio::spawn(send(server.addr, request.clone()));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_code(&send(server.addr, &request).await, 200, 40003);
    assert_eq!(result(&first.await.unwrap())[0].as_array().unwrap().len(), 4);
    // Once answered, the same request is new again; another id never was a duplicate.
    result(&send(server.addr, &request).await);
}

#[tokio::test]
async fn code_40004_one_setting_of_several_fails() {
    let server = serve(DisplayConfig::default()).await;
    let sound = json!([{"settings": [{"target": "outputTerminal", "value": "hdmi"}, {"target": "soundMode", "value": "loud"}]}]);
    assert_code(&call(server.addr, "audio", "setSoundSettings", sound, "1.1").await, 200, 40004);
    assert_eq!(server.display.state()["sound"]["outputTerminal"], "hdmi");
    let picture = json!([{"settings": [{"target": "brightness", "value": "51"}, {"target": "contrast", "value": "10"}]}]);
    assert_code(
        &call(server.addr, "video", "setPictureQualitySettings", picture, "1.0").await,
        200,
        40004,
    );
    assert_eq!(server.display.state()["picture"]["contrast"], "10");
    assert_eq!(server.display.state()["picture"]["brightness"], "40");
}

#[tokio::test]
async fn code_40005_standby_with_the_quirk() {
    let quirks = Quirks { standby_error: StandbyReply::DisplayOff, ..Quirks::default() };
    let server = serve(DisplayConfig { quirks, ..DisplayConfig::default() }).await;
    server.display.set_state(&json!({"power": "standby"})).unwrap();
    let answer = call(server.addr, "audio", "getVolumeInformation", json!([]), "1.0").await;
    assert_eq!(assert_code(&answer, 200, 40005), "Display is turned off");
}

#[tokio::test]
async fn codes_40800_40801_volume() {
    let server = serve(DisplayConfig::default()).await;
    let volume = |target: &str, volume: &str| json!([{"target": target, "volume": volume}]);
    assert_code(
        &call(server.addr, "audio", "setAudioVolume", volume("subwoofer", "10"), "1.0").await,
        200,
        40800,
    );
    for v in ["101", "+76", "-26"] {
        assert_code(
            &call(server.addr, "audio", "setAudioVolume", volume("speaker", v), "1.2").await,
            200,
            40801,
        );
    }
    server.display.set_state(&json!({"volume": {"headphone": {"max": 50}}})).unwrap();
    assert_code(
        &call(server.addr, "audio", "setAudioVolume", volume("headphone", "60"), "1.0").await,
        200,
        40801,
    );
    assert_code(
        &call(server.addr, "audio", "setAudioVolume", volume("", "60"), "1.2").await,
        200,
        40801,
    );
    assert_eq!(server.display.state()["volume"]["speaker"]["volume"], 25, "nothing changed");
}

#[tokio::test]
async fn codes_41001_41014_41015_content() {
    let server = serve(DisplayConfig::default()).await;
    let play = |uri: &str| json!([{"uri": uri}]);
    assert_code(
        &call(server.addr, "avContent", "setPlayContent", play("extInput:hdmi?port=9"), "1.0")
            .await,
        200,
        41001,
    );
    assert_code(
        &call(server.addr, "avContent", "getContentList", json!([{"source": "tv:dvbt"}]), "1.0")
            .await,
        200,
        41015,
    );
    server
        .display
        .set_state(
            &json!({"channels": [{"title": "A", "dispNum": "1"}, {"title": "B", "dispNum": "1"}]}),
        )
        .unwrap();
    assert_code(
        &call(server.addr, "avContent", "setPlayContent", play("tv:dvbt?dispNum=1"), "1.0").await,
        200,
        41014,
    );
    assert_code(
        &call(server.addr, "avContent", "setPlayContent", play("tv:dvbt?dispNum=2"), "1.0").await,
        200,
        41001,
    );
    result(
        &call(server.addr, "avContent", "setPlayContent", play("tv:dvbt?trip=1.1.2"), "1.0").await,
    );
}

#[tokio::test]
async fn codes_41400_41401_41402_launches() {
    let config = DisplayConfig {
        launch_undecided_after: Duration::from_millis(1000),
        ..DisplayConfig::default()
    };
    let server = serve(config).await;
    server
        .display
        .set_state(&json!({"apps": [
            {"title": "Medium", "uri": "com.example.medium", "launch_ms": 800},
            {"title": "Slow", "uri": "com.example.slow", "launch_ms": 2500}
        ]}))
        .unwrap();
    let launch = |uri: &str| {
        post_bytes(
            "/sony/appControl",
            &[PSK],
            &body("setActiveApp", json!([{"uri": uri}]), "1.0", 1),
        )
    };
    assert_code(&send(server.addr, &launch("com.example.missing")).await, 200, 41401);

    let first = tokio::spawn(send(server.addr, launch("com.example.medium")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_code(&send(server.addr, &launch("com.example.slow")).await, 200, 41400);
    result(&first.await.unwrap());
    assert_eq!(server.display.state()["active_app"], "com.example.medium");

    let started = Instant::now();
    assert_code(&send(server.addr, &launch("com.example.slow")).await, 200, 41402);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_millis(2400),
        "{waited:?}"
    );
    assert_eq!(server.display.state()["active_app"], "com.example.medium");
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(
        server.display.state()["active_app"],
        "com.example.slow",
        "finished in the background"
    );
}

#[tokio::test]
async fn code_41403_non_terminable_app() {
    let server = serve(DisplayConfig {
        app_launch_delay: Duration::from_millis(10),
        ..DisplayConfig::default()
    })
    .await;
    let signage = "com.sony.dtv.com.example.signage.com.example.signage.PlayerActivity";
    let youtube = "com.sony.dtv.com.google.android.youtube.tv.com.google.android.apps.youtube.tv.activity.ShellActivity";
    result(
        &call(server.addr, "appControl", "setActiveApp", json!([{"uri": signage}]), "1.0").await,
    );
    result(
        &call(server.addr, "appControl", "setActiveApp", json!([{"uri": youtube}]), "1.0").await,
    );
    assert_code(
        &call(server.addr, "appControl", "terminateApps", json!([]), "1.0").await,
        200,
        41403,
    );
    let state = server.display.state();
    assert_eq!((&state["active_app"], &state["running_apps"]), (&Value::Null, &json!([signage])));
}

#[tokio::test]
async fn code_42400_no_key() {
    let server = serve(DisplayConfig::default()).await;
    result(&call(server.addr, "encryption", "getPublicKey", json!([]), "1.0").await);
    server.display.set_state(&json!({"public_key": false})).unwrap();
    assert_code(
        &call(server.addr, "encryption", "getPublicKey", json!([]), "1.0").await,
        200,
        42400,
    );
}

#[tokio::test]
async fn unreachable_display_answers_nothing_until_it_is_back() {
    let server = serve(DisplayConfig::default()).await;
    server.display.set_state(&json!({"power": "unreachable"})).unwrap();
    assert!(!server.display.is_reachable());
    let pending = tokio::spawn(call(server.addr, "system", "getPowerStatus", json!([]), "1.0"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!pending.is_finished(), "no answer while unreachable");
    server.display.set_state(&json!({"power": "standby"})).unwrap();
    let answer = tokio::time::timeout(LIMIT, pending).await.unwrap().unwrap();
    assert_eq!(result(&answer), vec![json!({"status": "standby"})]);

    let short =
        DisplayConfig { unreachable_hold: Duration::from_millis(200), ..DisplayConfig::default() };
    let server = serve(short).await;
    server.display.set_state(&json!({"power": "unreachable"})).unwrap();
    let answer = call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await;
    assert_code(&answer, 503, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_at_once() {
    let config =
        DisplayConfig { slow_method_delay: Duration::from_millis(200), ..DisplayConfig::default() };
    let server = serve(config).await;
    let tasks: Vec<_> = (1..=1000u64)
        .map(|id| {
            let request = post_bytes(
                "/sony/avContent",
                &[PSK],
                &body("getContentCount", json!([{"source": "extInput:hdmi"}]), "1.0", id),
            );
            tokio::spawn(send_raw(server.addr, request))
        })
        .collect();
    let (mut ok, mut busy, mut closed) = (0, 0, 0);
    for task in tasks {
        let bytes = task.await.unwrap().expect("answered or closed, within the limit");
        if bytes.is_empty() {
            closed += 1;
            continue;
        }
        let answer = parse_response(&bytes).expect("an HTTP response");
        match answer.status {
            200 => {
                assert_eq!(result(&answer), vec![json!({"count": 4})]);
                ok += 1;
            }
            _ => {
                assert_code(&answer, 503, 503);
                busy += 1;
            }
        }
    }
    assert_eq!(ok + busy + closed, 1000);
    assert!(ok >= 64, "at least the first 64 are served: {ok} ok, {busy} busy, {closed} closed");
    // Still up.
    result(&call(server.addr, "system", "getPowerStatus", json!([]), "1.0").await);
}

/// The layout the display starts with, as `requestToNotifyScreenState` takes it.
fn initial_layout() -> Value {
    json!([{"multiScreenMode": "single", "pipSubScreenPosition": "invalid",
            "audioSourceScreen": "main", "option": {"internetTVMode": false}}])
}

#[tokio::test]
async fn code_40000_an_unchanged_layout_long_poll_times_out() {
    let server = serve(DisplayConfig {
        notify_hold: Duration::from_millis(300),
        ..DisplayConfig::default()
    })
    .await;
    let started = Instant::now();
    let answer =
        call(server.addr, "videoScreen", "requestToNotifyScreenState", initial_layout(), "1.1")
            .await;
    assert_code(&answer, 200, 40000);
    assert!(started.elapsed() >= Duration::from_millis(300), "held for notify_hold");
}

#[tokio::test]
async fn code_40001_one_long_poll_too_many() {
    let server =
        serve(DisplayConfig { notify_hold: Duration::from_secs(3), ..DisplayConfig::default() })
            .await;
    let max = crate::bravia::screen::MAX_WATCHERS;
    let mut held = Vec::new();
    for id in 0..max {
        let addr = server.addr;
        let request = body("requestToNotifyScreenState", initial_layout(), "1.1", id as u64 + 1);
        held.push(tokio::spawn(
            async move { post(addr, "/sony/videoScreen", &[PSK], &request).await },
        ));
    }
    // Until the held ones have started waiting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let extra = body("requestToNotifyScreenState", initial_layout(), "1.1", 99);
    assert_code(&post(server.addr, "/sony/videoScreen", &[PSK], &extra).await, 200, 40001);
    // A layout change answers the held ones, and frees their places.
    server.display.set_state(&json!({"screen": {"mode": "PAP"}})).unwrap();
    for task in held {
        let answer = tokio::time::timeout(LIMIT, task).await.expect("answered").expect("joined");
        assert_eq!(result(&answer)[0]["multiScreenMode"], "PAP");
    }
    let after =
        call(server.addr, "videoScreen", "requestToNotifyScreenState", initial_layout(), "1.1")
            .await;
    assert_eq!(result(&after)[0]["multiScreenMode"], "PAP");
}

#[tokio::test]
async fn code_40600_a_layout_setter_during_a_layout_change() {
    let server = serve(DisplayConfig {
        screen_change_delay: Duration::from_millis(600),
        ..DisplayConfig::default()
    })
    .await;
    let pip = json!([{"mode": "PIP"}]);
    result(&call(server.addr, "videoScreen", "setMultiScreenMode", pip, "1.0").await);
    let position = json!([{"position": "leftTop"}]);
    let during =
        call(server.addr, "videoScreen", "setPipSubScreenPosition", position.clone(), "1.0").await;
    assert_code(&during, 200, 40600);
    let again =
        call(server.addr, "videoScreen", "setMultiScreenMode", json!([{"mode": "PAP"}]), "1.0")
            .await;
    assert_code(&again, 200, 40600);
    tokio::time::sleep(Duration::from_millis(800)).await;
    result(&call(server.addr, "videoScreen", "setPipSubScreenPosition", position, "1.0").await);
    assert_eq!(server.display.state()["screen"]["pip_position"], "leftTop");
}

#[tokio::test]
async fn code_41000_41001_41003_deleting_recordings() {
    let server = serve(DisplayConfig::default()).await;
    let delete = |uri: &str| json!([{"uri": uri}]);
    let protected =
        call(server.addr, "avContent", "deleteContent", delete("storage:usb1?id=2"), "1.0").await;
    assert_code(&protected, 200, 41000);
    let missing =
        call(server.addr, "avContent", "deleteContent", delete("storage:usb1?id=42"), "1.0").await;
    assert_code(&missing, 200, 41001);
    let all = call(server.addr, "avContent", "deleteContent", delete("storage:usb1"), "1.0").await;
    assert_code(&all, 200, 41003);
    // The unprotected ones went, the protected one stayed.
    let left: Vec<Value> = server.display.state()["recordings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].clone())
        .collect();
    assert_eq!(left, [json!("storage:usb1?id=2")]);
}

#[tokio::test]
async fn code_41002_a_storage_without_recordings() {
    let server =
        serve(DisplayConfig { slow_method_delay: Duration::ZERO, ..DisplayConfig::default() })
            .await;
    server.display.set_state(&json!({"recordings": []})).unwrap();
    let answer = call(
        server.addr,
        "avContent",
        "getContentList",
        json!([{"source": "storage:usb1"}]),
        "1.0",
    )
    .await;
    assert_code(&answer, 200, 41002);
}

#[tokio::test]
async fn code_41020_a_storage_that_is_not_there() {
    let server = serve(DisplayConfig::default()).await;
    let answer =
        call(server.addr, "system", "getStorageList", json!([{"uri": "storage:usb9"}]), "1.1")
            .await;
    assert_code(&answer, 200, 41020);
    let unmount = json!([{"uri": "storage:usb1", "action": "unmount"}]);
    result(&call(server.addr, "system", "mountStorage", unmount, "1.0").await);
    let answer =
        call(server.addr, "avContent", "deleteContent", json!([{"uri": "storage:usb1"}]), "1.0")
            .await;
    assert_code(&answer, 200, 41020);
}

#[tokio::test]
async fn code_41022_protecting_what_is_not_a_recording() {
    let server = serve(DisplayConfig::default()).await;
    let params = json!([{"uri": "extInput:hdmi?port=1", "isProtected": true}]);
    let answer = call(server.addr, "avContent", "setDeleteProtection", params, "1.0").await;
    assert_code(&answer, 200, 41022);
}

#[tokio::test]
async fn code_41023_41024_favourite_lists() {
    let server = serve(DisplayConfig::default()).await;
    let unknown = json!([{"favSource": "fav:9", "contents": []}]);
    let answer = call(server.addr, "avContent", "setFavoriteContentList", unknown, "1.0").await;
    assert_code(&answer, 200, 41023);
    let input = json!([{"favSource": "fav:1", "contents": ["extInput:hdmi?port=1"]}]);
    let answer = call(server.addr, "avContent", "setFavoriteContentList", input, "1.0").await;
    assert_code(&answer, 200, 41024);
    let recording = json!([{"uri": "storage:usb1?id=1", "visibility": "invisible"}]);
    let answer = call(server.addr, "avContent", "setTvContentVisibility", recording, "1.0").await;
    assert_code(&answer, 200, 41024);
}
