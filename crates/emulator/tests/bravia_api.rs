//! The `bravia_api` crate (0.1.0), a real third-party Rust client, against the virtual display
//! served in-process on free ports.
//!
//! `bravia_api` unwraps every request's `Result` internally (`RequestBuilder::make`), so any
//! error answer — a JSON-RPC error, an HTTP 403 — panics inside the client instead of coming
//! back as an `Err`. Every call therefore runs in its own task: [`call`] turns a panic into a
//! test failure that says which call panicked and why, and [`panics`] asserts that a call
//! panics (the client's known behaviour) with the expected message.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bravia_api::Bravia;
use devfault_emulator::bravia::VirtualDisplay;
use devfault_emulator::device::Device;
use devfault_emulator::journal::JournalQuery;
use devfault_emulator::server::{RunningServer, ServeConfig, serve};

const PSK: &str = "0000";
/// Longer than any answer of the emulator takes; a call past it is a failure, not a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The emulator, one display, both listeners on free loopback ports.
async fn start() -> RunningServer {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = ServeConfig {
        bravia_addr: loopback,
        admin_addr: loopback,
        thinq_addr: loopback,
        psk: Some(PSK.to_owned()),
        seed: Some(1),
        ..ServeConfig::default()
    };
    serve(config, std::future::pending()).await.expect("the emulator starts")
}

fn url(server: &RunningServer) -> String {
    format!("http://{}", server.displays()[0].addr)
}

fn display(server: &RunningServer) -> &Arc<VirtualDisplay> {
    &server.displays()[0].display
}

/// The client, built as its documentation says; it reads getSupportedApiInfo at once.
async fn connect(server: &RunningServer, psk: Option<&'static str>) -> Arc<Bravia> {
    let url = url(server);
    let bravia =
        call("Bravia::new", async move { Bravia::new(&url, psk).await.map(Arc::new) }).await;
    bravia.unwrap_or_else(|error| panic!("Bravia::new returned an error: {error}"))
}

/// Runs one client call in its own task; a panic or a hang fails the test with `what`.
async fn call<T, F>(what: &str, future: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::time::timeout(CALL_TIMEOUT, tokio::spawn(future)).await {
        Ok(Ok(value)) => value,
        Ok(Err(error)) if error.is_panic() => {
            panic!("{what}: bravia_api panicked: {}", panic_message(error.into_panic()))
        }
        Ok(Err(error)) => panic!("{what}: the task failed: {error}"),
        Err(_) => panic!("{what}: no answer within {CALL_TIMEOUT:?}"),
    }
}

/// Runs one client call that must panic; returns the panic's message.
async fn panics<T, F>(what: &str, future: F) -> String
where
    F: Future<Output = T> + Send + 'static,
    T: Send + std::fmt::Debug + 'static,
{
    match tokio::time::timeout(CALL_TIMEOUT, tokio::spawn(future)).await {
        Ok(Ok(value)) => panic!("{what}: expected bravia_api to panic, it returned {value:?}"),
        Ok(Err(error)) if error.is_panic() => panic_message(error.into_panic()),
        Ok(Err(error)) => panic!("{what}: the task failed without a panic: {error}"),
        Err(_) => panic!("{what}: no answer within {CALL_TIMEOUT:?}"),
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map_or_else(|| "(no message)".to_owned(), |m| (*m).to_owned()),
    }
}

fn speaker_volume(display: &VirtualDisplay) -> u64 {
    display.state()["volume"]["speaker"]["volume"].as_u64().expect("the speaker volume")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_reads_the_supported_api_info_and_the_getters_work() {
    let server = start().await;
    let bravia = connect(&server, Some(PSK)).await;

    let b = Arc::clone(&bravia);
    let power = call("get_power_status", async move { b.system().get_power_status().await }).await;
    assert_eq!(power.expect("get_power_status"), "active");

    let b = Arc::clone(&bravia);
    let volumes =
        call("get_volume_information", async move { b.audio().get_volume_information().await })
            .await
            .expect("get_volume_information");
    let speaker = volumes.iter().find(|v| v.target == "speaker").expect("a speaker entry");
    assert_eq!(speaker.volume, 25);
    assert_eq!((speaker.min_volume, speaker.max_volume), (0, 100));
    assert!(volumes.iter().any(|v| v.target == "headphone"), "{volumes:?}");

    let b = Arc::clone(&bravia);
    let interface =
        call(
            "get_interface_information",
            async move { b.system().get_interface_information().await },
        )
        .await
        .expect("get_interface_information");
    assert_eq!(interface.interface_version, "3.6.0");

    // A private method: the PSK satisfies it.
    let b = Arc::clone(&bravia);
    let system =
        call("get_system_information", async move { b.system().get_system_information().await })
            .await
            .expect("get_system_information");
    assert!(!system.model.is_empty(), "{system:?}");
    assert_eq!(system.generation, "3.6.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_audio_volume_changes_the_display_in_both_versions() {
    let server = start().await;
    let bravia = connect(&server, Some(PSK)).await;

    let b = Arc::clone(&bravia);
    call("set_audio_volume 30 (v1.0)", async move {
        b.audio().set_audio_volume(Some("speaker".to_owned()), "30".to_owned(), None, None).await
    })
    .await
    .expect("set_audio_volume v1.0");
    assert_eq!(speaker_volume(display(&server)), 30);

    let b = Arc::clone(&bravia);
    call("set_audio_volume +5 (v1.2, ui on)", async move {
        b.audio()
            .set_audio_volume(
                Some("speaker".to_owned()),
                "+5".to_owned(),
                Some("on".to_owned()),
                Some("1.2"),
            )
            .await
    })
    .await
    .expect("set_audio_volume v1.2");
    assert_eq!(speaker_volume(display(&server)), 35);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_out_of_range_makes_the_client_panic_on_40801() {
    let server = start().await;
    let bravia = connect(&server, Some(PSK)).await;

    let b = Arc::clone(&bravia);
    let message = panics("set_audio_volume 130", async move {
        b.audio().set_audio_volume(Some("speaker".to_owned()), "130".to_owned(), None, None).await
    })
    .await;
    // The error it unwrapped: Error::BraviaError(BraviaErrorCode { code: 40801, .. }).
    assert!(message.contains("BraviaError") && message.contains("40801"), "{message}");
    assert_eq!(speaker_volume(display(&server)), 25, "the volume is unchanged");
    let journal = server.admin().journal().query(&JournalQuery::default());
    let code = journal[0].decoded.as_ref().map(|decoded| decoded.code.as_str());
    assert_eq!(code, Some("40801"));

    // The client itself is still usable afterwards.
    let b = Arc::clone(&bravia);
    let power = call("get_power_status", async move { b.system().get_power_status().await }).await;
    assert_eq!(power.expect("get_power_status"), "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_reads_as_standby_and_other_calls_panic_on_not_power_on() {
    let server = start().await;
    let bravia = connect(&server, Some(PSK)).await;
    display(&server).set_state(&serde_json::json!({"power": "standby"})).expect("standby");

    let b = Arc::clone(&bravia);
    let power = call("get_power_status", async move { b.system().get_power_status().await }).await;
    assert_eq!(power.expect("get_power_status"), "standby");

    let b = Arc::clone(&bravia);
    let message = panics("get_volume_information in standby", async move {
        b.audio().get_volume_information().await
    })
    .await;
    assert!(message.contains("not power-on"), "{message}");

    let b = Arc::clone(&bravia);
    call("set_power_status(true)", async move { b.system().set_power_status(true).await })
        .await
        .expect("set_power_status");
    assert_eq!(display(&server).state()["power"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_psk_passes_discovery_then_panics_on_http_403() {
    let server = start().await;
    // getSupportedApiInfo and getPowerStatus need no authentication.
    let bravia = connect(&server, Some("wrong")).await;
    let b = Arc::clone(&bravia);
    let power = call("get_power_status", async move { b.system().get_power_status().await }).await;
    assert_eq!(power.expect("get_power_status"), "active");

    let b = Arc::clone(&bravia);
    let message = panics("get_system_information with a wrong PSK", async move {
        b.system().get_system_information().await
    })
    .await;
    assert!(message.contains("BadStatus") && message.contains("403"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_psk_protected_calls_panic_before_any_request() {
    let server = start().await;
    let bravia = connect(&server, None).await;
    let before = server.admin().journal().len();

    let b = Arc::clone(&bravia);
    let message =
        panics("set_audio_mute without a PSK", async move { b.audio().set_audio_mute(true).await })
            .await;
    assert!(message.contains("BraviaAuthLevelError"), "{message}");
    assert_eq!(server.admin().journal().len(), before, "nothing was sent");
}
