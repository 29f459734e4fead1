//! Every code of the ThinQ registry is reachable over a real socket, from `devfault serve`'s
//! cloud: the natural ones by their real situation (the table below, which must cover exactly
//! the codes the cloud lists as `natural`), the others through a one-shot fault rule installed
//! over the admin API. Each answer must carry the registry's status, code and message, echo
//! the request's `x-message-id` (a fresh valid id when the request's is invalid), be
//! `application/json`, and decode without a violation. Then bad input of every kind answers a
//! documented envelope.

use std::net::SocketAddr;
use std::time::Duration;

use devfault_emulator::device::Device;
use devfault_emulator::server::{RunningServer, ServeConfig, serve};
use devfault_emulator::thinq::API_KEY;
use devfault_thinq::wire::{check_message_id, decode_response};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ID: &str = "fNvdZ1brTn-wWKUlWGoSVw";
const TOKEN: &str = "thinqpat-devfault-0000";

/// A reply: status, headers, body.
type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// Sends raw bytes over a fresh connection and reads the whole reply (what came, if the
/// server closes early).
async fn send(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let response = devfault_core::parse_response(&answer)
        .unwrap_or_else(|e| panic!("an HTTP response: {e}: {}", String::from_utf8_lossy(&answer)));
    (response.status, response.headers, response.body)
}

/// The SDK's headers, with `overrides` replacing (or, with an empty value, removing) some.
fn headers(addr: SocketAddr, overrides: &[(&str, &str)]) -> String {
    let host = addr.to_string();
    let bearer = format!("Bearer {TOKEN}");
    let mut list: Vec<(&str, &str)> = vec![
        ("Host", &host),
        ("Authorization", &bearer),
        ("x-country", "US"),
        ("x-message-id", ID),
        ("x-client-id", "thinq-open-socket-test"),
        ("x-api-key", API_KEY),
        ("x-service-phase", "OP"),
    ];
    for (name, value) in overrides {
        list.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if !value.is_empty() {
            list.push((name, value));
        }
    }
    list.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect()
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    overrides: &[(&str, &str)],
    body: &str,
) -> Reply {
    let raw = format!(
        "{method} {path} HTTP/1.1\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        headers(addr, overrides),
        body.len()
    );
    send(addr, raw.as_bytes()).await
}

async fn admin(server: &RunningServer, method: &str, path: &str, body: &str) -> Value {
    let addr = server.admin_addr();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, _, reply) = send(addr, raw.as_bytes()).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path} {body}: {status} {}",
        String::from_utf8_lossy(&reply)
    );
    serde_json::from_slice(&reply).expect("the admin API answers JSON")
}

/// Checks a reply is the registry's answer for `code` (with `message` when templated).
fn assert_code(reply: &Reply, code: &str, message: Option<&str>, echoed: bool, context: &str) {
    let (status, headers, body) = reply;
    let entry = code
        .parse::<devfault_thinq::Code>()
        .ok()
        .and_then(|c| c.entry_opt())
        .unwrap_or_else(|| panic!("{code} is in the registry"));
    assert_eq!(
        *status,
        entry.http_status.as_u16(),
        "{context}: status of {code}: {}",
        String::from_utf8_lossy(body)
    );
    let content_type = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    assert_eq!(content_type.map(|(_, v)| v.as_str()), Some("application/json"), "{context}");
    let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let decoded = decode_response(*status, pairs, body, echoed.then_some(ID));
    assert!(decoded.is_conforming(), "{context}: {code}: {:?}", decoded.findings);
    let error = decoded.error().unwrap_or_else(|| panic!("{context}: an error reply"));
    assert_eq!(error.code.to_string(), code, "{context}");
    assert_eq!(error.message, message.unwrap_or(&entry.message), "{context}");
    let id = decoded.message_id.clone().unwrap_or_default();
    if echoed {
        assert_eq!(id, ID, "{context}: the x-message-id is echoed");
    } else {
        assert!(check_message_id(&id).is_ok() && id != ID, "{context}: a fresh valid id, not {id}");
    }
}

/// One natural provocation: code, admin patches first (path, body), a request made once
/// before, the request, and the message of a templated code.
struct Natural {
    code: &'static str,
    setup: &'static [(&'static str, &'static str)],
    before: Option<(&'static str, &'static str, &'static str)>,
    method: &'static str,
    path: &'static str,
    overrides: &'static [(&'static str, &'static str)],
    body: &'static str,
    message: Option<&'static str>,
}

const fn natural(code: &'static str, method: &'static str, path: &'static str) -> Natural {
    Natural {
        code,
        setup: &[],
        before: None,
        method,
        path,
        overrides: &[],
        body: "",
        message: None,
    }
}

const START: &str =
    r#"{"location": {"locationName": "MAIN"}, "operation": {"washerOperationMode": "START"}}"#;
const EXPIRE: &str = r#"{"expire": {"unit": "HOUR", "timer": 4464}}"#;
const CLIENT: &str =
    r#"{"type": "MQTT", "service-code": "SVC202", "device-type": "607", "allowExist": true}"#;

fn naturals() -> Vec<Natural> {
    let state = "/devices/ac-living-room/state";
    vec![
        natural("1000", "GET", "/nosuch"),
        Natural { overrides: &[("x-country", "")], ..natural("1101", "GET", "/devices") },
        Natural {
            body: r#"{"temperatureInUnits": {"coolTargetTemperature": 99, "unit": "C"}}"#,
            ..natural("1102", "POST", "/devices/ac-living-room/control")
        },
        Natural {
            overrides: &[("Authorization", "Bearer bad!token")],
            ..natural("1103", "GET", "/devices")
        },
        Natural { overrides: &[("x-message-id", "short")], ..natural("1104", "GET", "/devices") },
        natural("1204", "DELETE", "/event/ac-living-room/unsubscribe"),
        natural("1205", "GET", "/devices/no-such-device/state"),
        natural("1206", "DELETE", "/push/ac-living-room/unsubscribe"),
        Natural {
            before: Some(("POST", "/push/ac-living-room/subscribe", "")),
            ..natural("1207", "POST", "/push/ac-living-room/subscribe")
        },
        Natural { body: CLIENT, ..natural("1209", "DELETE", "/client") },
        natural("1211", "POST", "/push/ac-neighbour/subscribe"),
        natural("1212", "GET", "/devices/ac-neighbour/state"),
        Natural { body: EXPIRE, ..natural("1214", "POST", "/event/fridge-garage/subscribe") },
        Natural { overrides: &[("x-api-key", "wrong")], ..natural("1216", "GET", "/devices") },
        natural("1217", "GET", "/devices/dehumidifier-deleted/state"),
        Natural {
            overrides: &[("Authorization", "Bearer nobodys-token")],
            ..natural("1218", "GET", "/devices")
        },
        natural(
            "1220",
            "GET",
            "/devices/energy/dryer-offline/usage?property=energyUsage&period=DAILY&startDate=20241001&endDate=20241002",
        ),
        natural("1222", "GET", "/devices/dryer-offline/state"),
        natural("1224", "GET", "/devices/bad%21id/state"),
        Natural { overrides: &[("x-service-key", "abc")], ..natural("1301", "GET", "/devices") },
        Natural {
            overrides: &[("Authorization", "Bearer thinqpat-devfault-expired")],
            ..natural("1302", "GET", "/devices")
        },
        Natural {
            overrides: &[("Authorization", "Bearer thinqpat-devfault-deleted")],
            ..natural("1303", "GET", "/devices")
        },
        Natural {
            overrides: &[("Authorization", "Bearer thinqpat-devfault-terms")],
            ..natural("1304", "GET", "/devices")
        },
        natural("1305", "PUT", "/devices"),
        Natural {
            setup: &[("/devices/thinq-cloud", r#"{"rate_limit": 1, "rate_limit_code": "1306"}"#)],
            before: Some(("GET", "/devices", "")),
            ..natural("1306", "GET", "/devices")
        },
        Natural { overrides: &[("x-country", "ZZ")], ..natural("1307", "GET", "/devices") },
        Natural {
            overrides: &[("Host", "api-xyz.lgthinq.com")],
            ..natural("1310", "GET", "/devices")
        },
        Natural { body: "[1]", ..natural("1311", "POST", "/devices/ac-living-room/control") },
        Natural {
            setup: &[("/devices/thinq-cloud", r#"{"event_subscription_limit": 1}"#)],
            before: Some(("POST", "/event/ac-living-room/subscribe", EXPIRE)),
            body: EXPIRE,
            ..natural("1312", "POST", "/event/washer-main/subscribe")
        },
        Natural {
            setup: &[("/devices/thinq-cloud", r#"{"rate_limit": 1}"#)],
            before: Some(("GET", state, "")),
            ..natural("1314", "GET", state)
        },
        Natural {
            body: r#"{"timer": {"absoluteHourToStart": 10, "absoluteMinuteToStart": 36}}"#,
            ..natural("2207", "POST", "/devices/ac-living-room/control")
        },
        Natural { body: START, ..natural("2301", "POST", "/devices/washer-remote-off/control") },
        Natural {
            before: Some(("POST", "/devices/washer-main/control", START)),
            body: START,
            message: Some("Command not supported in RUNNING"),
            ..natural("2302", "POST", "/devices/washer-main/control")
        },
        Natural {
            setup: &[("/devices/washer-main", r#"{"runState": {"currentState": "ERROR"}}"#)],
            body: START,
            ..natural("2303", "POST", "/devices/washer-main/control")
        },
        Natural {
            body: r#"{"airFlow": {"windStrength": "HIGH"}}"#,
            ..natural("2304", "POST", "/devices/ac-bedroom-off/control")
        },
        Natural {
            before: Some((
                "POST",
                "/devices/ac-living-room/control",
                r#"{"airConJobMode": {"currentJobMode": "AIR_CLEAN"}}"#,
            )),
            body: r#"{"temperatureInUnits": {"coolTargetTemperature": 22, "unit": "C"}}"#,
            message: Some("Command not supported in AIR_CLEAN"),
            ..natural("2305", "POST", "/devices/ac-living-room/control")
        },
    ]
}

async fn start() -> RunningServer {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = ServeConfig {
        bravia_addr: loopback,
        admin_addr: loopback,
        thinq_addr: loopback,
        seed: Some(1),
        ..ServeConfig::default()
    };
    serve(config, std::future::pending()).await.expect("serves")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_code_is_emitted_with_its_status_and_envelope() {
    let server = start().await;
    let cloud = server.thinq().addr;
    let provocations = server.thinq().cloud.provocations();
    let registry: Vec<String> =
        devfault_thinq::registry().entries().iter().map(|e| format!("{:04}", e.code)).collect();
    assert_eq!(registry.len(), 61, "the page's 60 codes and the live 1314");

    let listed = admin(&server, "GET", "/provocations", "").await;
    let thinq = listed["apis"]["thinq"]["provocations"].as_array().expect("the ThinQ list");
    assert_eq!(thinq.len(), registry.len());
    assert!(listed["apis"]["bravia"]["provocations"].is_array());

    let naturals = naturals();
    for code in &registry {
        let listed = provocations.iter().find(|p| &p.code == code).expect("listed");
        let tested = naturals.iter().any(|n| n.code == code);
        assert_eq!(
            listed.via == "natural",
            tested,
            "{code}: listed as {}, tested naturally: {tested}",
            listed.via
        );
    }

    for case in &naturals {
        admin(&server, "POST", "/reset", "").await;
        for (path, body) in case.setup {
            admin(&server, "PATCH", path, body).await;
        }
        if let Some((method, path, body)) = case.before {
            let (status, _, reply) = call(cloud, method, path, &[], body).await;
            assert_eq!(
                status,
                200,
                "{}: the request before: {}",
                case.code,
                String::from_utf8_lossy(&reply)
            );
        }
        let reply = call(cloud, case.method, case.path, case.overrides, case.body).await;
        let echoed = !case.overrides.iter().any(|(name, _)| *name == "x-message-id");
        let context = format!("{} {} {:?}", case.method, case.path, case.overrides);
        assert_code(&reply, case.code, case.message, echoed, &context);
    }

    admin(&server, "POST", "/reset", "").await;
    let fault_only: Vec<&String> =
        registry.iter().filter(|c| !naturals.iter().any(|n| &n.code == c)).collect();
    assert!(fault_only.len() >= 20, "{fault_only:?}");
    for code in fault_only {
        let rule = format!(
            r#"{{"match": {{"device": "fridge-kitchen", "method": "get_device_status"}}, "action": "code", "code": "{code}", "count": 1}}"#
        );
        admin(&server, "POST", "/faults", &rule).await;
        let reply = call(cloud, "GET", "/devices/fridge-kitchen/state", &[], "").await;
        assert_code(&reply, code, None, true, &format!("fault rule {code}"));
        let (status, _, body) = call(cloud, "GET", "/devices/fridge-kitchen/state", &[], "").await;
        assert_eq!(
            status,
            200,
            "{code}: after the one-shot rule: {}",
            String::from_utf8_lossy(&body)
        );
    }

    // A templated code by a fault rule names the state it is given.
    let rule = r#"{"match": {"device": "fridge-kitchen"}, "action": "code", "code": "2305", "message": "STANDBY", "count": 1}"#;
    admin(&server, "POST", "/faults", rule).await;
    let reply = call(cloud, "GET", "/devices/fridge-kitchen/state", &[], "").await;
    assert_code(&reply, "2305", Some("Command not supported in STANDBY"), true, "templated rule");
    server.shutdown();
}

/// A bad request: method, path, header overrides, body, and the code it must get.
type BadInput = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_answers_a_documented_envelope() {
    let server = start().await;
    let cloud = server.thinq().addr;
    let control = "/devices/ac-living-room/control";
    let cases: &[BadInput] = &[
        // Garbage JSON.
        ("POST", control, &[], "{not json", "1000"),
        ("POST", control, &[], "\u{0}\u{1}binary", "1000"),
        ("POST", "/event/ac-living-room/subscribe", &[], "{\"expire\":", "1000"),
        // Wrong types.
        ("POST", control, &[], r#"{"operation": {"airConOperationMode": 5}}"#, "1102"),
        ("POST", control, &[], r#"{"operation": "POWER_ON"}"#, "1102"),
        ("POST", control, &[], r#""POWER_ON""#, "1311"),
        ("POST", control, &[], "", "1101"),
        (
            "POST",
            "/event/ac-living-room/subscribe",
            &[],
            r#"{"expire": {"unit": "HOUR", "timer": "x"}}"#,
            "1102",
        ),
        (
            "POST",
            "/client",
            &[],
            r#"{"type": 5, "service-code": "SVC202", "device-type": "607"}"#,
            "1102",
        ),
        (
            "GET",
            "/devices/energy/washer-main/usage?property=energyUsage&period=DAILY&startDate=20241399&endDate=20241010",
            &[],
            "",
            "1102",
        ),
        // Unknown paths.
        ("GET", "/nosuch", &[], "", "1000"),
        ("GET", "/devices/ac-living-room/state/extra", &[], "", "1000"),
        ("GET", "/", &[], "", "1000"),
        ("DELETE", "/devices", &[], "", "1305"),
        // Missing headers.
        ("GET", "/devices", &[("Authorization", "")], "", "1101"),
        ("GET", "/devices", &[("x-message-id", "")], "", "1101"),
        ("GET", "/devices", &[("x-country", "")], "", "1101"),
        ("GET", "/devices", &[("x-client-id", "")], "", "1101"),
        ("GET", "/devices", &[("x-api-key", "")], "", "1101"),
        ("GET", "/route", &[("x-api-key", "")], "", "1101"),
    ];
    for (method, path, overrides, body, code) in cases {
        let reply = call(cloud, method, path, overrides, body).await;
        let echoed = !overrides.iter().any(|(name, _)| *name == "x-message-id");
        assert_code(&reply, code, None, echoed, &format!("{method} {path} {overrides:?} {body:?}"));
    }

    // Huge bodies: declared (and never sent) or streamed past the 64 KiB limit.
    let declared = format!(
        "POST {control} HTTP/1.1\r\n{}Content-Length: 10485760\r\nConnection: close\r\n\r\n",
        headers(cloud, &[])
    );
    assert_code(&send(cloud, declared.as_bytes()).await, "1000", None, true, "declared 10 MiB");
    let mut streamed = format!(
        "POST {control} HTTP/1.1\r\n{}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        headers(cloud, &[])
    )
    .into_bytes();
    for _ in 0..100 {
        streamed.extend_from_slice(b"400\r\n");
        streamed.extend_from_slice(&[b' '; 1024]);
        streamed.extend_from_slice(b"\r\n");
    }
    streamed.extend_from_slice(b"0\r\n\r\n");
    assert_code(&send(cloud, &streamed).await, "1000", None, true, "streamed 100 KiB");

    // The cloud still answers, and the journal names the appliance of each request.
    let (status, _, body) = call(cloud, "GET", "/devices/ac-living-room/state", &[], "").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let state: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(state["response"]["airConJobMode"]["currentJobMode"], "COOL");
    let journal = server.admin().journal().query(&Default::default());
    assert!(journal.iter().any(|e| e.device == "ac-living-room" && e.api == "thinq"));
    server.shutdown();
}
