//! The BRAVIA client against the emulator, started in-process on port 0: typed calls, version
//! negotiation, the PIN flow, and every class of failure, injected through the admin API's
//! fault rules. Retries use millisecond back-offs so the suite stays fast.

use std::time::{Duration, Instant};

use devfault_bravia::Code;
use devfault_bravia::client::{Client, PowerStatus, Target, Volume};
use devfault_core::{Class, FailureKind, Retry, RetryPolicy};
use devfault_emulator::bravia::AuthMode;
use devfault_emulator::server::{RunningServer, ServeConfig, serve};
use serde_json::{Value, json};

/// A virtual display and its admin API on free loopback ports.
pub struct Emulator {
    pub server: RunningServer,
    http: reqwest::Client,
}

impl Emulator {
    pub async fn start(auth: Option<AuthMode>) -> Emulator {
        let config = ServeConfig {
            bravia_addr: "127.0.0.1:0".parse().expect("address"),
            admin_addr: "127.0.0.1:0".parse().expect("address"),
            thinq_addr: "127.0.0.1:0".parse().expect("address"),
            auth,
            seed: Some(7),
            ..ServeConfig::default()
        };
        let server = serve(config, std::future::pending()).await.expect("the emulator starts");
        Emulator { server, http: reqwest::Client::new() }
    }

    pub fn display(&self) -> String {
        self.server.displays()[0].addr.to_string()
    }

    /// A client with tiny back-offs and a short timeout.
    pub fn client(&self) -> Client {
        Client::builder(self.display())
            .psk("0000")
            .timeout(Duration::from_millis(800))
            .retry_policy(fast_policy())
            .build()
            .expect("a valid host")
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        crate::util::admin_call(&self.http, self.server.admin_addr(), method, path, body).await
    }

    pub async fn fault(&self, rule: Value) {
        self.admin(reqwest::Method::POST, "/faults", rule).await;
    }

    pub async fn patch(&self, state: Value) {
        self.admin(reqwest::Method::PATCH, "/devices/bravia-0", state).await;
    }

    /// How many requests for `method` reached the display (fault answers included).
    pub async fn requests_for(&self, method: &str) -> usize {
        let journal = self.admin(reqwest::Method::GET, "/journal?limit=1000", Value::Null).await;
        let entries = journal.get("entries").and_then(Value::as_array).cloned().unwrap_or_default();
        entries.iter().filter(|e| e["request"]["rpc_method"] == method).count()
    }
}

pub fn fast_policy() -> RetryPolicy {
    RetryPolicy::default().with_delays(Duration::from_millis(2), Duration::from_millis(10))
}

#[tokio::test]
async fn typed_calls_read_and_change_the_display() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    assert_eq!(tv.system().power_status().await.expect("power"), PowerStatus::Active);
    let info = tv.system().system_information().await.expect("system information");
    assert!(!info.model.is_empty(), "{info:?}");
    tv.audio().set_volume(Target::Speaker, Volume::Absolute(30)).await.expect("volume set");
    tv.audio().set_volume(Target::Speaker, Volume::Relative(-5)).await.expect("volume lowered");
    let volumes = tv.audio().volume_information().await.expect("volumes");
    let speaker = volumes.iter().find(|v| v.target == "speaker").expect("a speaker");
    assert_eq!(speaker.volume, 25);
    tv.audio().set_mute(true).await.expect("muted");
    let volumes = tv.audio().volume_information().await.expect("volumes");
    assert!(volumes.iter().find(|v| v.target == "speaker").expect("speaker").mute);
    let inputs = tv.av_content().external_inputs_status().await.expect("inputs");
    let hdmi = inputs.first().expect("an input").uri.clone();
    tv.av_content().set_play_content(&hdmi).await.expect("input switched");
    assert_eq!(tv.av_content().playing_content_info().await.expect("playing").uri, hdmi);
    assert!(!tv.av_content().source_list("extInput").await.expect("sources").is_empty());
    let apps = tv.app_control().application_list().await.expect("apps");
    assert!(!apps.is_empty());
    tv.app_control().terminate_apps().await.expect("terminated");
    let keys = tv.system().remote_controller_info().await.expect("remote keys");
    let mute = keys.iter().find(|k| k.name == "Mute").expect("a Mute key");
    tv.send_ircc(&mute.value).await.expect("key pressed");
    let generic = tv.call("system", "getPowerStatus", None, json!([])).await.expect("generic call");
    assert_eq!(generic, [json!({"status": "active"})]);
}

#[tokio::test]
async fn the_newest_common_version_is_used_so_14_is_never_seen() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    tv.audio().set_volume(Target::Speaker, Volume::Absolute(10)).await.expect("volume set");
    let journal = emulator.admin(reqwest::Method::GET, "/journal?limit=100", Value::Null).await;
    let entries = journal["entries"].as_array().cloned().unwrap_or_default();
    let set: Vec<&Value> =
        entries.iter().filter(|e| e["request"]["rpc_method"] == "setAudioVolume").collect();
    assert_eq!(set.len(), 1, "one request, no 14 first");
    assert!(
        set[0]["request"]["body"].as_str().unwrap_or("").contains(r#""version":"1.2""#),
        "{}",
        set[0]
    );
    let discovery =
        entries.iter().filter(|e| e["request"]["rpc_method"] == "getSupportedApiInfo").count();
    assert_eq!(discovery, 1);
    // A second call of the same service uses the cached discovery.
    tv.audio().volume_information().await.expect("volumes");
    assert_eq!(emulator.requests_for("getSupportedApiInfo").await, 1);
}

#[tokio::test]
async fn discovery_refused_in_standby_is_asked_again_later() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    emulator
        .fault(json!({"match": {"method": "getSupportedApiInfo"}, "action": "code", "code": 7, "message": "not power-on", "count": 1}))
        .await;
    tv.av_content().external_inputs_status().await.expect("sent with the client's newest version");
    tv.av_content().playing_content_info().await.expect("playing");
    assert_eq!(
        emulator.requests_for("getSupportedApiInfo").await,
        2,
        "a state refusal is not cached"
    );
    emulator
        .fault(json!({"match": {"method": "getSupportedApiInfo"}, "action": "code", "code": 12, "count": 1}))
        .await;
    tv.audio().volume_information().await.expect("volumes");
    tv.audio().set_mute(false).await.expect("unmuted");
    assert_eq!(
        emulator.requests_for("getSupportedApiInfo").await,
        3,
        "no such method is remembered"
    );
}

#[tokio::test]
async fn api_errors_keep_the_row_the_status_the_id_and_the_message() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    let err = tv
        .audio()
        .set_volume(Target::Speaker, Volume::Absolute(130))
        .await
        .expect_err("out of range");
    assert_eq!(err.code(), Some(Code::VOLUME_OUT_OF_RANGE));
    assert_eq!((err.kind, err.status, err.attempts), (FailureKind::Api, Some(200), 1));
    assert_eq!((err.class, err.retry), (Class::MalformedRequest, Retry::Never));
    assert_eq!(err.message, "Volume Out of Range");
    assert!(err.request_id.as_deref().is_some_and(|id| id.parse::<u64>().is_ok()));
    let text = err.to_string();
    assert!(text.contains("40801") && text.contains("HTTP 200"), "{text}");

    // An unlisted code (braviaproapi raises ValueError, pybravia returns a default): kept whole.
    tv.system().power_status().await.expect("discovery first");
    let body = r#"{"error":[99999,"Mystery"],"id":1}"#;
    emulator
        .fault(json!({"match": {"method": "getPowerStatus"}, "action": "status", "status": 200, "body": body, "content_type": "application/json", "count": 1}))
        .await;
    let err = tv.system().power_status().await.expect_err("unlisted");
    assert_eq!(
        (err.code.as_deref(), err.entry(), err.message.as_str()),
        (Some("99999"), None, "Mystery")
    );
    assert_eq!((err.class, err.retry, err.attempts), (Class::Unknown, Retry::Never, 1));
    assert!(err.to_string().contains("99999 (not in the registry)"), "{err}");

    let wrong_psk = Client::builder(emulator.display())
        .psk("9999")
        .retry_policy(fast_policy())
        .build()
        .expect("client");
    let err = wrong_psk.system().system_information().await.expect_err("forbidden");
    assert_eq!((err.status, err.code()), (Some(403), Some(Code::FORBIDDEN)));
    assert!(err.is_auth());
    assert_eq!(err.attempts, 1, "a wrong key is not retried");
}

#[tokio::test]
async fn display_off_is_recognised_in_every_spelling() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    tv.system().power_status().await.expect("discovery while on");
    emulator.patch(json!({"power": "standby"})).await;
    assert_eq!(tv.system().power_status().await.expect("answers in standby"), PowerStatus::Standby);
    let err = tv.av_content().source_list("extInput").await.expect_err("not power-on");
    assert!(err.is_display_off(), "{err}");
    assert_eq!(err.retry, Retry::AfterStateChange);
    assert_eq!(err.attempts, 1, "not retried: only a state change helps");

    emulator
        .fault(json!({"match": {"method": "getVolumeInformation"}, "action": "code", "code": 40005, "message": "Display Is Turned off", "count": 1}))
        .await;
    let err = tv.audio().volume_information().await.expect_err("40005");
    assert!(err.is_display_off(), "{err}");

    // [7, "Illegal State"] on a display that getPowerStatus says is in standby.
    emulator
        .fault(json!({"match": {"method": "getPlayingContentInfo"}, "action": "code", "code": 7, "message": "Illegal State", "count": 2}))
        .await;
    let err = tv.av_content().playing_content_info().await.expect_err("illegal state");
    assert!(err.is_display_off(), "standby confirmed: {err}");
    emulator.patch(json!({"power": "active"})).await;
    let err = tv.av_content().playing_content_info().await.expect_err("illegal state");
    assert!(!err.is_display_off(), "an active display showing an app: {err}");
}

#[tokio::test]
async fn a_503_then_success_is_retried_and_the_attempts_are_counted() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    tv.audio().volume_information().await.expect("discovery first");
    emulator
        .fault(json!({"match": {"method": "getVolumeInformation"}, "action": "status", "status": 503, "count": 2}))
        .await;
    let before = emulator.requests_for("getVolumeInformation").await;
    tv.audio().volume_information().await.expect("succeeds on the third attempt");
    assert_eq!(emulator.requests_for("getVolumeInformation").await - before, 3);

    emulator
        .fault(json!({"match": {"method": "getVolumeInformation"}, "action": "status", "status": 503, "count": 10}))
        .await;
    let err = tv.audio().volume_information().await.expect_err("503 every time");
    assert_eq!((err.status, err.attempts), (Some(503), 4));
    assert_eq!(err.retry, Retry::BackOff);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    tv.system().power_status().await.expect("discovery first");
    emulator
        .fault(json!({"match": {"method": "getPowerStatus"}, "action": "status", "status": 503, "headers": {"Retry-After": "1"}, "count": 1}))
        .await;
    let started = Instant::now();
    tv.system().power_status().await.expect("after the wait");
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
}

#[tokio::test]
async fn request_retry_and_duplicated_are_reissued() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    tv.system().power_status().await.expect("discovery first");
    emulator.fault(json!({"match": {"method": "getPowerStatus"}, "action": "code", "code": 40000, "count": 1})).await;
    emulator.fault(json!({"match": {"method": "getPowerStatus"}, "action": "code", "code": 40003, "count": 1})).await;
    let before = emulator.requests_for("getPowerStatus").await;
    tv.system().power_status().await.expect("40000 and 40003 are retried");
    assert_eq!(emulator.requests_for("getPowerStatus").await - before, 3);
}

#[tokio::test]
async fn garbage_and_non_json_bodies_are_failures_with_the_body_quoted() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    tv.system().power_status().await.expect("discovery first");
    emulator
        .fault(json!({"match": {"method": "getPowerStatus"}, "action": "malformed_body"}))
        .await;
    let err = tv.system().power_status().await.expect_err("truncated JSON");
    assert_eq!((err.kind, err.status, err.attempts), (FailureKind::Unreadable, Some(200), 4));
    assert!(!err.message.is_empty());
    emulator.admin(reqwest::Method::DELETE, "/faults", Value::Null).await;

    emulator
        .fault(
            json!({"match": {"method": "getPowerStatus"}, "action": "non_json_body", "count": 1}),
        )
        .await;
    tv.system().power_status().await.expect("an HTML page once, then the answer");
    emulator.fault(json!({"match": {"method": "setActiveApp"}, "action": "non_json_body"})).await;
    let err = tv.app_control().set_active_app("com.sony.dtv.x").await.expect_err("HTML");
    assert_eq!(err.kind, FailureKind::Unreadable);
    assert!(err.message.contains("html"), "{}", err.message);
    assert_eq!(err.attempts, 1, "a launch that may have happened is not repeated");
}

#[tokio::test]
async fn resets_and_timeouts_are_transport_failures() {
    let emulator = Emulator::start(None).await;
    let tv = emulator.client();
    tv.system().power_status().await.expect("discovery first");
    emulator.fault(json!({"match": {"method": "getPowerStatus"}, "action": "reset"})).await;
    let err = tv.system().power_status().await.expect_err("reset");
    assert_eq!((err.kind, err.attempts), (FailureKind::Transport, 4), "{err}");
    assert_eq!(err.retry, Retry::BackOff);
    emulator.admin(reqwest::Method::DELETE, "/faults", Value::Null).await;

    let slow = Client::builder(emulator.display())
        .psk("0000")
        .timeout(Duration::from_millis(200))
        .retry_policy(fast_policy().with_max_attempts(2))
        .build()
        .expect("client");
    emulator.fault(json!({"match": {"method": "getPowerStatus"}, "action": "delay", "delay_ms": 2000, "count": 1})).await;
    let started = Instant::now();
    slow.system().power_status().await.expect("the retry after the timeout succeeds");
    assert!(started.elapsed() < Duration::from_millis(1500));
    emulator
        .fault(json!({"match": {"method": "setActiveApp"}, "action": "delay", "delay_ms": 2000}))
        .await;
    let err = slow.app_control().set_active_app("com.sony.dtv.x").await.expect_err("timeout");
    assert_eq!((err.kind, err.attempts), (FailureKind::Timeout, 1), "not repeated: {err}");
    assert!(err.outcome_unknown);

    let nobody =
        Client::builder("127.0.0.1:1").retry_policy(fast_policy()).build().expect("client");
    let err = nobody.system().power_status().await.expect_err("refused");
    assert_eq!(err.kind, FailureKind::Transport);
    assert!(!err.outcome_unknown);
}

#[tokio::test]
async fn the_pin_flow_registers_and_keeps_the_cookie() {
    let emulator = Emulator::start(Some(AuthMode::Pin)).await;
    let tv =
        Client::builder(emulator.display()).retry_policy(fast_policy()).build().expect("client");
    let err = tv.system().system_information().await.expect_err("not registered");
    assert!(err.is_auth(), "{err}");
    tv.request_pin("devfault-test", "devfault test").await.expect("the PIN is shown");
    let pin = emulator.admin(reqwest::Method::GET, "/devices/bravia-0/pin", Value::Null).await;
    let pin = pin["pin"].as_str().expect("a PIN").to_owned();
    let err =
        tv.register_pin("devfault-test", "devfault test", "0000x").await.expect_err("wrong PIN");
    assert_eq!(err.status, Some(401));
    tv.request_pin("devfault-test", "devfault test").await.expect("the PIN is shown again");
    let pin =
        emulator.admin(reqwest::Method::GET, "/devices/bravia-0/pin", Value::Null).await["pin"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or(pin);
    let cookie = tv.register_pin("devfault-test", "devfault test", &pin).await.expect("registered");
    assert!(!cookie.is_empty());
    tv.system().system_information().await.expect("the cookie authorises");
    let again = Client::builder(emulator.display()).auth_cookie(cookie).build().expect("client");
    again.system().system_information().await.expect("a saved cookie authorises");
}
