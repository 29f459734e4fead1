//! The ThinQ client against the virtual ThinQ Connect cloud, started in-process on port 0:
//! the endpoint catalog, the headers, the default household's failures (2304, 2301, 1222,
//! 1205, 1212), the rate limit (1314), and injected faults through the admin API.

use std::time::{Duration, Instant, SystemTime};

use devfault_core::{Class, FailureKind, Retry};
use devfault_emulator::server::{RunningServer, ServeConfig, serve};
use devfault_thinq::Code;
use devfault_thinq::client::{Client, command};
use devfault_thinq::wire::check_message_id;
use serde_json::{Value, json};

use crate::client_bravia::fast_policy;

const TOKEN: &str = "thinqpat-devfault-0000";

struct Cloud {
    server: RunningServer,
    http: reqwest::Client,
}

impl Cloud {
    async fn start(rate_limit: Option<u64>) -> Cloud {
        let config = ServeConfig {
            bravia_addr: "127.0.0.1:0".parse().expect("address"),
            admin_addr: "127.0.0.1:0".parse().expect("address"),
            thinq_addr: "127.0.0.1:0".parse().expect("address"),
            thinq_rate_limit: rate_limit,
            seed: Some(7),
            ..ServeConfig::default()
        };
        let server = serve(config, std::future::pending()).await.expect("the emulator starts");
        Cloud { server, http: reqwest::Client::new() }
    }

    fn url(&self) -> String {
        format!("http://{}", self.server.thinq().addr)
    }

    fn client(&self) -> Client {
        self.client_with(TOKEN, Duration::from_millis(800))
    }

    fn client_with(&self, token: &str, timeout: Duration) -> Client {
        Client::builder(token, "DE")
            .base_url(self.url())
            .client_id("devfault-test-client")
            .timeout(timeout)
            .retry_policy(fast_policy())
            .build()
            .expect("a valid client")
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        crate::util::admin_call(&self.http, self.server.admin_addr(), method, path, body).await
    }

    async fn fault(&self, mut rule: Value) {
        rule["match"]["api"] = json!("thinq");
        self.admin(reqwest::Method::POST, "/faults", rule).await;
    }

    async fn clear_faults(&self) {
        self.admin(reqwest::Method::DELETE, "/faults", Value::Null).await;
    }

    /// The journal's ThinQ requests whose path is `path`.
    async fn requests_to(&self, path: &str) -> Vec<Value> {
        let journal = self.admin(reqwest::Method::GET, "/journal?limit=1000", Value::Null).await;
        let entries = journal.get("entries").and_then(Value::as_array).cloned().unwrap_or_default();
        entries
            .into_iter()
            .filter(|e| e["api"] == "thinq" && e["request"]["path"] == path)
            .collect()
    }
}

fn header<'e>(entry: &'e Value, name: &str) -> Option<&'e str> {
    let headers = entry["request"]["headers"].as_object()?;
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str())
}

#[tokio::test]
async fn the_catalog_reads_and_controls_the_household() {
    let cloud = Cloud::start(None).await;
    let thinq = cloud.client();
    let devices = thinq.devices().await.expect("devices");
    let ids: Vec<&str> = devices.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(
        &ids[..6],
        [
            "ac-living-room",
            "washer-main",
            "fridge-kitchen",
            "ac-bedroom-off",
            "washer-remote-off",
            "dryer-offline"
        ]
    );
    assert_eq!(devices[0].device_info.device_type, "DEVICE_AIR_CONDITIONER");

    let ac = thinq.state("ac-living-room").await.expect("state");
    assert_eq!(
        (ac.power(), ac.is_powered_off(), ac.job_mode()),
        (Some("POWER_ON"), Some(false), Some("COOL"))
    );
    let washer = thinq.state("washer-main").await.expect("state");
    assert_eq!((washer.locations().len(), washer.run_state()), (1, Some("INITIAL")));

    let profile = thinq.profile("ac-living-room").await.expect("profile");
    let modes = profile.property("airConJobMode", "currentJobMode").expect("a job mode");
    assert!(modes.is_writable());
    let other = modes
        .writable_values()
        .into_iter()
        .find(|m| *m != "COOL")
        .expect("another mode")
        .to_owned();
    thinq.control("ac-living-room", &command::air_con_job_mode(&other)).await.expect("controlled");
    assert_eq!(
        thinq.state("ac-living-room").await.expect("state").job_mode(),
        Some(other.as_str())
    );

    assert!(!thinq.route().await.expect("route").api_server.is_empty());
    thinq.push_subscribe("washer-main").await.expect("subscribed");
    assert!(thinq.push_list().await.expect("push list").contains(&"washer-main".to_owned()));
    let again = thinq.push_subscribe("washer-main").await.expect_err("already subscribed");
    assert_eq!(
        (again.code(), again.class),
        (Some(Code::ALREADY_SUBSCRIBED_PUSH), Class::AlreadyExists)
    );
    thinq.push_unsubscribe("washer-main").await.expect("unsubscribed");
    thinq.event_subscribe("ac-living-room", 4464).await.expect("event subscription");
    assert!(thinq.event_list().await.expect("event list").contains(&"ac-living-room".to_owned()));
}

#[tokio::test]
async fn every_request_carries_the_headers_and_a_fresh_message_id() {
    let cloud = Cloud::start(None).await;
    let thinq = cloud.client();
    thinq.devices().await.expect("devices");
    thinq.devices().await.expect("devices");
    thinq.control("ac-living-room", &command::air_con_power(true)).await.expect("power on");
    let listed = cloud.requests_to("/devices").await;
    assert_eq!(listed.len(), 2);
    let ids: Vec<&str> = listed.iter().map(|e| header(e, "x-message-id").expect("an id")).collect();
    assert_ne!(ids[0], ids[1], "a fresh id per request");
    for (entry, id) in listed.iter().zip(&ids) {
        assert!(check_message_id(id).is_ok(), "{id}");
        // The journal redacts the token itself.
        assert!(
            header(entry, "authorization").is_some_and(|v| v.starts_with("Bearer ")),
            "{entry}"
        );
        assert_eq!(header(entry, "x-country"), Some("DE"));
        assert_eq!(header(entry, "x-client-id"), Some("devfault-test-client"));
        assert_eq!(header(entry, "x-api-key"), Some(devfault_thinq::client::API_KEY));
        assert_eq!(header(entry, "x-service-phase"), Some("OP"));
        assert_eq!(header(entry, "x-conditional-control"), None);
    }
    let control = cloud.requests_to("/devices/ac-living-room/control").await;
    assert_eq!(header(&control[0], "x-conditional-control"), Some("true"));
}

#[tokio::test]
async fn the_households_failures_keep_code_status_and_advice() {
    let cloud = Cloud::start(None).await;
    let thinq = cloud.client();
    let err = thinq
        .control("ac-bedroom-off", &command::air_con_job_mode("COOL"))
        .await
        .expect_err("powered off");
    assert!(err.is_powered_off(), "{err}");
    assert_eq!((err.status, err.attempts, err.retry), (Some(400), 1, Retry::AfterStateChange));
    assert!(err.entry().is_some_and(|e| e.advice.contains("Power the appliance on")), "{err}");
    assert!(err.request_id.as_deref().is_some_and(|id| check_message_id(id).is_ok()));
    assert_eq!(
        cloud.requests_to("/devices/ac-bedroom-off/control").await.len(),
        1,
        "2304 is not retried"
    );

    let err = thinq
        .control("washer-remote-off", &command::washer_operation("MAIN", "START"))
        .await
        .expect_err("remote off");
    assert_eq!(
        (err.code(), err.status),
        (Some(Code::COMMAND_NOT_SUPPORTED_IN_REMOTE_OFF), Some(400))
    );
    let err = thinq.state("dryer-offline").await.expect_err("offline");
    assert!(err.is_not_connected());
    assert_eq!((err.status, err.class), (Some(416), Class::DeviceUnreachable));
    let err = thinq.state("no-such-device").await.expect_err("unknown");
    assert_eq!(
        (err.code().map(|c| c.to_string()), err.status),
        (Some("1205".to_owned()), Some(404))
    );
    let err = thinq.state("ac-neighbour").await.expect_err("another user's");
    assert!(matches!(err.code().map(|c| c.to_string()).as_deref(), Some("1211" | "1212")), "{err}");

    // An unlisted code (the SDK's UNKNOWN_ERROR): kept as sent, with the status.
    let body = r#"{"error":{"message":"Mystery","code":"9999"}}"#;
    cloud
        .fault(json!({"match": {"path": "/devices/fridge-kitchen/state"}, "action": "status", "status": 400, "body": body, "content_type": "application/json", "count": 1}))
        .await;
    let err = thinq.state("fridge-kitchen").await.expect_err("unlisted");
    assert_eq!(
        (err.code.as_deref(), err.status, err.message.as_str()),
        (Some("9999"), Some(400), "Mystery")
    );
    assert_eq!((err.class, err.retry, err.attempts), (Class::Unknown, Retry::Never, 1));

    let stranger = cloud.client_with("thinqpat-nobody-9999", Duration::from_millis(800));
    let err = stranger.devices().await.expect_err("nobody's token");
    assert_eq!(
        (err.code().map(|c| c.to_string()), err.retry),
        (Some("1218".to_owned()), Retry::Reauthenticate)
    );
}

#[tokio::test]
async fn the_rate_limit_is_1314_with_a_reopen_time() {
    let cloud = Cloud::start(Some(3)).await;
    let thinq = cloud.client();
    for _ in 0..3 {
        thinq.devices().await.expect("within the limit");
    }
    let before = SystemTime::now();
    let err = thinq.devices().await.expect_err("over the limit");
    assert!(err.is_rate_limit(), "{err}");
    assert_eq!((err.code(), err.status), (Some(Code::EXCEEDED_USER_API_CALLS), Some(401)));
    assert_eq!((err.retry, err.attempts), (Retry::AfterQuotaReset, 1));
    let reopen = err.reopens.expect("a reopen time");
    if reopen.estimated {
        assert!(reopen.at >= before + Duration::from_secs(3600));
    } else {
        assert!(reopen.at > before);
    }
    assert!(err.to_string().contains("window reopens"), "{err}");
}

#[tokio::test]
async fn a_server_given_retry_after_sets_the_reopen_time_exactly() {
    let cloud = Cloud::start(None).await;
    let thinq = cloud.client();
    cloud
        .fault(json!({"match": {"path": "/devices"}, "action": "code", "code": "1314", "headers": {"Retry-After": "120"}, "count": 1}))
        .await;
    let before = SystemTime::now();
    let err = thinq.devices().await.expect_err("rate limited");
    assert_eq!((err.code(), err.attempts), (Some(Code::EXCEEDED_USER_API_CALLS), 1));
    let reopen = err.reopens.expect("a reopen time");
    assert!(!reopen.estimated, "the server said when");
    let wait = reopen.at.duration_since(before).expect("in the future");
    assert!((Duration::from_secs(119)..=Duration::from_secs(122)).contains(&wait), "{wait:?}");
}

#[tokio::test]
async fn transient_codes_and_503_are_retried_and_counted() {
    let cloud = Cloud::start(None).await;
    let thinq = cloud.client();
    let path = "/devices/ac-living-room/state";
    cloud
        .fault(json!({"match": {"path": path}, "action": "code", "code": "2209", "count": 1}))
        .await;
    cloud
        .fault(json!({"match": {"path": path}, "action": "status", "status": 503, "count": 1}))
        .await;
    thinq.state("ac-living-room").await.expect("the third attempt succeeds");
    assert_eq!(cloud.requests_to(path).await.len(), 3);

    // A control refused with 2210 was not carried out: repeating it is safe.
    let control = "/devices/ac-living-room/control";
    cloud
        .fault(json!({"match": {"path": control}, "action": "code", "code": "2210", "count": 1}))
        .await;
    thinq.control("ac-living-room", &command::air_con_power(true)).await.expect("retried");
    assert_eq!(cloud.requests_to(control).await.len(), 2);
}

#[tokio::test]
async fn garbage_resets_timeouts_and_a_wrong_echo_are_failures() {
    let cloud = Cloud::start(None).await;
    let thinq = cloud.client();
    let path = "/devices/fridge-kitchen/state";
    cloud.fault(json!({"match": {"path": path}, "action": "malformed_body"})).await;
    let err = thinq.state("fridge-kitchen").await.expect_err("truncated JSON");
    assert_eq!((err.kind, err.attempts), (FailureKind::Unreadable, 4), "{err}");
    cloud.clear_faults().await;

    cloud.fault(json!({"match": {"path": path}, "action": "non_json_body", "status": 502})).await;
    let err = thinq.state("fridge-kitchen").await.expect_err("HTML from a gateway");
    assert_eq!((err.kind, err.status, err.retry), (FailureKind::Http, Some(502), Retry::BackOff));
    assert!(err.message.contains("html"), "{}", err.message);
    cloud.clear_faults().await;

    let control = "/devices/ac-living-room/control";
    cloud.fault(json!({"match": {"path": control}, "action": "reset"})).await;
    let err =
        thinq.control("ac-living-room", &command::air_con_power(true)).await.expect_err("reset");
    assert_eq!(
        (err.kind, err.attempts),
        (FailureKind::Transport, 1),
        "a control that may have run is not repeated"
    );
    cloud.fault(json!({"match": {"path": path}, "action": "reset", "count": 1})).await;
    thinq.state("fridge-kitchen").await.expect("a read is repeated after a reset");
    cloud.clear_faults().await;

    let slow = cloud.client_with(TOKEN, Duration::from_millis(200));
    cloud.fault(json!({"match": {"path": control}, "action": "delay", "delay_ms": 2000})).await;
    let started = Instant::now();
    let err =
        slow.control("ac-living-room", &command::air_con_power(true)).await.expect_err("timeout");
    assert_eq!((err.kind, err.attempts), (FailureKind::Timeout, 1));
    assert!(err.outcome_unknown && started.elapsed() < Duration::from_millis(1500));
    cloud.clear_faults().await;

    let echo = r#"{"messageId":"AAAAAAAAQAAAAAAAAAAAAA","timestamp":"2026-01-01T00:00:00.000000","response":[]}"#;
    cloud.fault(json!({"match": {"path": "/devices"}, "action": "status", "status": 200, "body": echo, "content_type": "application/json", "count": 1})).await;
    let err = thinq.devices().await.expect_err("another request's id");
    assert_eq!(err.kind, FailureKind::Protocol);
    assert!(err.message.contains("AAAAAAAAQAAAAAAAAAAAAA"), "{}", err.message);
}

#[tokio::test]
async fn the_client_speaks_tls_to_the_real_host_name() {
    let config = ServeConfig {
        bravia_addr: "127.0.0.1:0".parse().expect("address"),
        admin_addr: "127.0.0.1:0".parse().expect("address"),
        thinq_addr: "127.0.0.1:0".parse().expect("address"),
        thinq_tls_addr: Some("127.0.0.1:0".parse().expect("address")),
        seed: Some(7),
        ..ServeConfig::default()
    };
    let server = serve(config, std::future::pending()).await.expect("the emulator starts");
    let endpoint = server.thinq();
    let addr = endpoint.tls_addr.expect("a TLS listener");
    let certificate = endpoint.tls_certificate.clone().expect("its certificate");
    let thinq = Client::builder(TOKEN, "DE")
        .connect_to(addr)
        .add_root_certificate(certificate.to_vec())
        .retry_policy(fast_policy())
        .build()
        .expect("a client");
    assert_eq!(thinq.base_url(), "https://api-eic.lgthinq.com/");
    let devices = thinq.devices().await.expect("devices over TLS");
    assert_eq!(devices[0].device_id, "ac-living-room");
    let err = thinq.state("dryer-offline").await.expect_err("offline");
    assert_eq!((err.status, err.is_not_connected()), (Some(416), true));

    // Without the emulator's certificate the handshake fails: verification is on.
    let untrusting = Client::builder(TOKEN, "DE")
        .connect_to(addr)
        .retry_policy(fast_policy())
        .build()
        .expect("a client");
    let err = untrusting.devices().await.expect_err("an unknown certificate");
    assert_eq!(err.kind, FailureKind::Transport, "{err}");
    assert!(err.message.to_lowercase().contains("certificate"), "{}", err.message);
}
