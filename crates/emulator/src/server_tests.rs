use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::journal::{Delivery, JournalQuery};
use crate::testkit::{Got, json_body, post, request, rpc};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

fn local(displays: usize) -> ServeConfig {
    ServeConfig {
        bravia_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        admin_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        thinq_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        displays: Some(displays),
        seed: Some(1),
        max_hold: Duration::from_secs(2),
        ..ServeConfig::default()
    }
}

/// A shutdown future that never resolves: these tests stop their servers themselves.
async fn never() {
    std::future::pending::<()>().await;
}

async fn admin_get(running: &RunningServer, path: &str) -> Value {
    let response =
        request(running.admin_addr(), "GET", path, &[], "", CLIENT_TIMEOUT).await.response();
    assert_eq!(response.status, 200, "{path}: {}", String::from_utf8_lossy(&response.body));
    json_body(&response)
}

async fn admin_send(running: &RunningServer, method: &str, path: &str, body: &str) -> (u16, Value) {
    let response =
        request(running.admin_addr(), method, path, &[], body, CLIENT_TIMEOUT).await.response();
    (response.status, json_body(&response))
}

async fn power(addr: SocketAddr) -> String {
    let response =
        post(addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT).await.response();
    json_body(&response)["result"][0]["status"].as_str().unwrap().to_owned()
}

fn scenario_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("devfault-serve-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scenario.json");
    std::fs::write(&file, text).unwrap();
    file
}

#[tokio::test]
async fn a_fleet_of_displays_answers_independently() {
    let running = serve(local(3), never()).await.unwrap();
    let displays = running.displays().to_vec();
    assert_eq!(
        displays.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["bravia-0", "bravia-1", "bravia-2"]
    );
    let mut ports: Vec<u16> = displays.iter().map(|d| d.addr.port()).collect();
    ports.dedup();
    assert_eq!(ports.len(), 3, "one port each");

    let (status, _) =
        admin_send(&running, "PATCH", "/devices/bravia-1", r#"{"power": "standby"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(power(displays[0].addr).await, "active");
    assert_eq!(power(displays[1].addr).await, "standby");
    assert_eq!(power(displays[2].addr).await, "active");

    let listed = admin_get(&running, "/devices").await;
    let listed = listed["devices"].as_array().unwrap();
    let thinq = running.thinq().cloud.appliances().len() + 1;
    assert_eq!(listed.len(), 3 + thinq, "the displays, the cloud and its appliances");
    assert!(listed[3..].iter().all(|device| device["api"] == "thinq"));
    for (listed, display) in listed.iter().zip(&displays) {
        assert_eq!(listed["id"], display.id.as_str());
        assert_eq!(listed["address"], display.addr.to_string());
    }
    let journal = admin_get(&running, "/journal?device=bravia-1").await;
    let entries = journal["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["device"], "bravia-1");
    running.shutdown();
    running.wait().await.unwrap();
}

#[tokio::test]
async fn a_fault_rule_can_target_one_display_of_the_fleet() {
    let running = serve(local(2), never()).await.unwrap();
    let rule = r#"{"match": {"device": "bravia-1", "method": "getPowerStatus"}, "action": "code", "code": 40201}"#;
    let (status, body) = admin_send(&running, "POST", "/faults", rule).await;
    assert_eq!((status, body["id"].as_u64()), (201, Some(1)));
    let addrs: Vec<SocketAddr> = running.displays().iter().map(|d| d.addr).collect();
    assert_eq!(power(addrs[0]).await, "active");
    let response =
        post(addrs[1], "/sony/system", &rpc("getPowerStatus", 9), CLIENT_TIMEOUT).await.response();
    assert_eq!(response.body, br#"{"error":[40201,"AC power required"],"id":9}"#);
    let journal = admin_get(&running, "/journal?limit=1").await;
    let entry = &journal["entries"][0];
    assert_eq!(entry["device"], "bravia-1");
    assert_eq!(entry["decoded"]["code"], "40201");
    assert_eq!(entry["fault"], json!({"rule": 1, "action": "code"}));
}

#[tokio::test]
async fn reset_and_no_answer_work_on_a_real_display() {
    let running = serve(local(1), never()).await.unwrap();
    let addr = running.displays()[0].addr;
    admin_send(&running, "POST", "/faults", r#"{"action": "reset", "count": 1}"#).await;
    match post(addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT).await {
        Got::Closed { error, bytes } => {
            assert!(bytes.is_empty());
            assert_eq!(error, Some(io::ErrorKind::ConnectionReset));
        }
        other => panic!("expected a reset, got {other:?}"),
    }
    admin_send(&running, "POST", "/faults", r#"{"action": "no_answer", "count": 1}"#).await;
    let got =
        post(addr, "/sony/system", &rpc("getPowerStatus", 1), Duration::from_millis(300)).await;
    assert!(matches!(got, Got::TimedOut { ref bytes } if bytes.is_empty()), "{got:?}");
    assert_eq!(power(addr).await, "active", "both rules expired");
    let outcomes: Vec<Delivery> = running
        .admin()
        .journal()
        .query(&JournalQuery::default())
        .iter()
        .map(|entry| entry.outcome)
        .collect();
    assert_eq!(outcomes, [Delivery::Answered, Delivery::NoAnswer, Delivery::Reset]);
    // A hold in progress does not keep the server from stopping.
    let client = tokio::spawn(async move {
        post(addr, "/sony/system", &rpc("getPowerStatus", 1), CLIENT_TIMEOUT).await
    });
    admin_send(&running, "POST", "/faults", r#"{"action": "no_answer"}"#).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    running.shutdown();
    running.wait().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    let _ = client.await;
}

#[tokio::test]
async fn the_psk_option_sets_every_displays_key() {
    let config = ServeConfig { psk: Some("s3cret".to_owned()), ..local(2) };
    let running = serve(config, never()).await.unwrap();
    let body = rpc("getSystemInformation", 1);
    for display in running.displays() {
        let wrong = [("X-Auth-PSK", "0000"), ("Content-Type", "application/json")];
        let response = request(display.addr, "POST", "/sony/system", &wrong, &body, CLIENT_TIMEOUT)
            .await
            .response();
        assert_eq!(response.status, 403, "{}", display.id);
        let right = [("X-Auth-PSK", "s3cret"), ("Content-Type", "application/json")];
        let response = request(display.addr, "POST", "/sony/system", &right, &body, CLIENT_TIMEOUT)
            .await
            .response();
        assert_eq!(response.status, 200, "{}", display.id);
    }
    let journal = running.admin().journal().query(&JournalQuery::default());
    assert!(journal.iter().all(|entry| entry.request.headers["x-auth-psk"] == "<redacted>"));
}

#[tokio::test]
async fn a_scenario_sets_up_the_fleet_its_state_rules_and_seed() {
    let file = scenario_file(
        "full",
        r#"{
  "seed": 99,
  "displays": {
    "count": 2,
    "config": { "auth": "pin", "psk": null },
    "each": { "bravia-1": { "auth": "psk", "psk": "1111", "quirks": { "http_error_body": false } } }
  },
  "state": { "bravia-1": { "power": "standby" } },
  "faults": [
    { "match": { "device": "bravia-0", "method": "getPowerStatus" }, "action": "code", "code": 40000, "count": 1 }
  ]
}"#,
    );
    let config = ServeConfig { scenario: Some(file), displays: None, seed: None, ..local(1) };
    let running = serve(config, never()).await.unwrap();
    assert_eq!(running.displays().len(), 2);
    assert_eq!(running.seed(), 99);
    let addrs: Vec<SocketAddr> = running.displays().iter().map(|d| d.addr).collect();
    assert_eq!(running.displays()[1].display.config().psk.as_deref(), Some("1111"));
    assert!(!running.displays()[1].display.config().quirks.http_error_body);

    let response =
        post(addrs[0], "/sony/system", &rpc("getPowerStatus", 4), CLIENT_TIMEOUT).await.response();
    assert_eq!(json_body(&response)["error"][0], 40000);
    assert_eq!(power(addrs[0]).await, "active", "count 1: the rule expired");
    assert_eq!(power(addrs[1]).await, "standby");

    // The PIN a display shows after an actRegister without one.
    let register = json!({
        "method": "actRegister", "id": 1, "version": "1.0",
        "params": [{"clientid": "test:1", "nickname": "test", "level": "private"},
                   [{"value": "yes", "function": "WOL"}]]
    });
    let response = post(addrs[0], "/sony/accessControl", &register.to_string(), CLIENT_TIMEOUT)
        .await
        .response();
    assert_eq!(response.status, 401);
    let pin = admin_get(&running, "/devices/bravia-0/pin").await;
    let pin = pin["pin"].as_str().expect("a PIN is shown").to_owned();
    assert_eq!(pin.len(), 4);
    assert_eq!(admin_get(&running, "/devices/bravia-0").await["pin"], pin.as_str());

    // Reset goes back to the scenario: its rule again, its state again.
    admin_send(&running, "PATCH", "/devices/bravia-1", r#"{"power": "active"}"#).await;
    let (status, body) = admin_send(&running, "POST", "/reset", "").await;
    assert_eq!(status, 200);
    assert_eq!((body["faults_added"].as_u64(), body["seed"].as_u64()), (Some(1), Some(99)));
    assert_eq!(power(addrs[1]).await, "standby");
    assert_eq!(admin_get(&running, "/devices/bravia-0/pin").await["pin"], Value::Null);
    let response =
        post(addrs[0], "/sony/system", &rpc("getPowerStatus", 4), CLIENT_TIMEOUT).await.response();
    assert_eq!(json_body(&response)["error"][0], 40000);
}

#[tokio::test]
async fn the_documented_scenario_runs() {
    let file = scenario_file("documented", &crate::testkit::documented_example());
    let config = ServeConfig { scenario: Some(file), displays: None, seed: None, ..local(1) };
    let running = serve(config, never()).await.unwrap();
    assert_eq!(running.displays().len(), 3);
    assert_eq!(running.seed(), 42);
    assert_eq!(running.admin().faults().rules().len(), 6);
    let attic = running.thinq().cloud.appliance("washer-attic").expect("the scenario's washer");
    assert_eq!(attic.state()["online"], false);
    assert_eq!(running.thinq().cloud.config().rate_limit, 100);
    let addrs: Vec<SocketAddr> = running.displays().iter().map(|d| d.addr).collect();
    assert_eq!(power(addrs[1]).await, "standby");
    // bravia-2's audio service resets the connection, twice.
    let volume = rpc("getVolumeInformation", 1);
    for _ in 0..2 {
        let got = post(addrs[2], "/sony/audio", &volume, CLIENT_TIMEOUT).await;
        assert!(matches!(got, Got::Closed { .. }), "{got:?}");
    }
    let headers = [("X-Auth-PSK", "0000"), ("Content-Type", "application/json")];
    let got = request(addrs[2], "POST", "/sony/audio", &headers, &volume, CLIENT_TIMEOUT).await;
    assert_eq!(got.response().status, 200);
    let response = request(
        addrs[0],
        "POST",
        "/sony/appControl",
        &headers,
        &rpc("getApplicationList", 1),
        CLIENT_TIMEOUT,
    )
    .await
    .response();
    assert_eq!((response.status, response.header("retry-after")), (503, Some("5")));
}

#[tokio::test]
async fn the_display_not_the_layer_refuses_a_body_over_its_limit() {
    let file = scenario_file(
        "limit",
        r#"{"displays": {"config": {"max_body_bytes": 64, "quirks": {"http_error_body": false}}}}"#,
    );
    let running = serve(ServeConfig { scenario: Some(file), ..local(1) }, never()).await.unwrap();
    let body = format!(
        r#"{{"method":"getPowerStatus","id":1,"params":["{}"],"version":"1.0"}}"#,
        "a".repeat(100)
    );
    let response =
        post(running.displays()[0].addr, "/sony/system", &body, CLIENT_TIMEOUT).await.response();
    assert_eq!(response.status, 413);
    assert!(response.body.is_empty(), "the display's quirk: a bare 413");
}

#[tokio::test]
async fn command_line_options_win_over_the_scenario() {
    let file = scenario_file(
        "override",
        r#"{"seed": 5, "displays": {"count": 3, "config": {"psk": "1234"}}}"#,
    );
    let config = ServeConfig {
        scenario: Some(file),
        displays: Some(1),
        seed: Some(6),
        psk: Some("9999".to_owned()),
        ..local(1)
    };
    let running = serve(config, never()).await.unwrap();
    assert_eq!(running.displays().len(), 1);
    assert_eq!(running.seed(), 6);
    assert_eq!(running.displays()[0].display.config().psk.as_deref(), Some("9999"));
}

#[tokio::test]
async fn scenario_errors_are_located() {
    let file = scenario_file(
        "bad",
        "{\n  \"faults\": [\n    {\"action\": \"code\", \"code\": 12345}\n  ]\n}",
    );
    let error =
        serve(ServeConfig { scenario: Some(file.clone()), ..local(1) }, never()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with(&format!("{}:3:", file.display())), "{text}");
    assert!(text.contains("faults[0].code: "), "{text}");

    let file = scenario_file(
        "setting",
        "{\"displays\": {\"each\": {\"bravia-0\": {\"quirks\": {\"ircc\": 1}}}}}",
    );
    let error = serve(ServeConfig { scenario: Some(file), ..local(1) }, never())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("displays.each.bravia-0.quirks.ircc: is not a quirk; quirks: standby_error"),
        "{error}"
    );

    let file = scenario_file("state", "{\"state\": {\"bravia-0\": {\"power\": \"sleepy\"}}}");
    let error = serve(ServeConfig { scenario: Some(file), ..local(1) }, never())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(":1:24: state.bravia-0: "), "{error}");

    let file = scenario_file("ids", "{\"state\": {\"bravia-4\": {}}}");
    let error = serve(ServeConfig { scenario: Some(file), ..local(2) }, never())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("devices: bravia-0, bravia-1"), "{error}");
}

#[tokio::test]
async fn non_loopback_addresses_are_refused_unless_allowed() {
    let config = ServeConfig { bravia_addr: SocketAddr::from(([0, 0, 0, 0], 0)), ..local(1) };
    let error = serve(config, never()).await.unwrap_err();
    assert!(matches!(error, ServeError::NotLoopback { what: "bravia", .. }), "{error}");
    let config = ServeConfig { admin_addr: SocketAddr::from(([10, 1, 2, 3], 8090)), ..local(1) };
    let error = serve(config, never()).await.unwrap_err();
    assert!(
        error.to_string().contains("10.1.2.3:8090 (admin) is not a loopback address"),
        "{error}"
    );
}

#[tokio::test]
async fn a_port_in_use_is_named() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap();
    let error = serve(ServeConfig { admin_addr: addr, ..local(1) }, never()).await.unwrap_err();
    assert!(
        error.to_string().starts_with(&format!("cannot listen on {addr} for the admin API")),
        "{error}"
    );
}

#[tokio::test]
async fn the_shutdown_future_stops_every_server() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = serve(local(2), async move {
        let _ = rx.await;
    })
    .await
    .unwrap();
    let addrs: Vec<SocketAddr> = running.displays().iter().map(|d| d.addr).collect();
    let admin = running.admin_addr();
    assert_eq!(power(addrs[0]).await, "active");
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running.wait()).await.unwrap().unwrap();
    for addr in addrs.into_iter().chain([admin]) {
        assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "{addr} is closed");
    }
}

#[tokio::test]
async fn the_journal_is_bounded() {
    let config = ServeConfig { journal_capacity: 3, ..local(1) };
    let running = serve(config, never()).await.unwrap();
    let addr = running.displays()[0].addr;
    for _ in 0..5 {
        power(addr).await;
    }
    let journal = admin_get(&running, "/journal").await;
    assert_eq!((journal["len"].as_u64(), journal["dropped"].as_u64()), (Some(3), Some(2)));
    assert_eq!(journal["entries"][0]["seq"], 5);
}

#[test]
fn displays_take_consecutive_ports() {
    let addrs = display_addrs("127.0.0.1:8080".parse().unwrap(), 3, &[]).unwrap();
    assert_eq!(addrs.iter().map(SocketAddr::port).collect::<Vec<_>>(), [8080, 8081, 8082]);
    let error = display_addrs("127.0.0.1:65535".parse().unwrap(), 2, &[]).unwrap_err();
    assert!(error.to_string().contains("past 65535"), "{error}");
    let zero = display_addrs("127.0.0.1:0".parse().unwrap(), 2, &[8081]).unwrap();
    assert!(zero.iter().all(|addr| addr.port() == 0));
}

#[tokio::test]
async fn counts_outside_the_range_are_refused() {
    for displays in [0, MAX_DISPLAYS + 1] {
        let error = serve(local(displays), never()).await.unwrap_err();
        assert!(matches!(error, ServeError::Displays(_)), "{error}");
    }
}

#[test]
fn displays_on_the_default_ports_skip_the_other_listeners() {
    let defaults = ServeConfig::default();
    let taken = [defaults.thinq_addr.port(), defaults.admin_addr.port(), 8443];
    let addrs = display_addrs(defaults.bravia_addr, 12, &taken).unwrap();
    let ports: Vec<u16> = addrs.iter().map(SocketAddr::port).collect();
    assert_eq!(ports, [8080, 8082, 8083, 8084, 8085, 8086, 8087, 8088, 8089, 8091, 8092, 8093]);
    let error = display_addrs("127.0.0.1:65534".parse().unwrap(), 2, &[65535]).unwrap_err();
    assert!(error.to_string().contains("give a lower --bravia port"), "{error}");
}
