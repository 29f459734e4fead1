//! The emulators' request handling on arbitrary bodies: the ThinQ cloud (control commands
//! checked against the profile and state, subscriptions, client registration) and the BRAVIA
//! display (every service). No input may panic, and every answer must be one the vendor's own
//! decoder reads as conforming: a status from the registry, the envelope, JSON.
#![no_main]

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::Request;
use devfault_emulator::bravia::{self, VirtualDisplay, DisplayConfig};
use devfault_emulator::thinq::{self, API_KEY, Cloud, CloudConfig, DEFAULT_TOKEN};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

/// ThinQ endpoints that read a body (`{id}` is the first byte's choice of appliance).
const THINQ: &[(&str, &str)] = &[
    ("POST", "/devices/{id}/control"),
    ("POST", "/event/{id}/subscribe"),
    ("POST", "/push/{id}/subscribe"),
    ("POST", "/client"),
    ("DELETE", "/client"),
    ("POST", "/client/certificate"),
    ("GET", "/devices/{id}/state"),
];

/// The household's appliances (see the README's table).
const APPLIANCES: &[&str] = &[
    "ac-living-room",
    "washer-main",
    "fridge-kitchen",
    "ac-bedroom-off",
    "washer-remote-off",
    "dryer-offline",
    "fridge-garage",
    "ac-neighbour",
    "no-such-device",
];

const BRAVIA: &[&str] =
    &["guide", "system", "audio", "avContent", "appControl", "videoScreen", "video", "encryption"];

struct Emulators {
    runtime: tokio::runtime::Runtime,
    cloud: Router,
    display: Router,
}

static EMULATORS: LazyLock<Emulators> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // No rate limit: the fuzzer sends far more than an hour's budget.
    let cloud = thinq::router(Arc::new(Cloud::new(CloudConfig {
        rate_limit: 0,
        ..CloudConfig::default()
    })));
    // requestToNotifyScreenState holds an unchanged long poll for notify_hold (30 s by
    // default): a few milliseconds keep every input quick and still reach its 40000.
    let config = DisplayConfig { notify_hold: std::time::Duration::from_millis(5), ..DisplayConfig::default() };
    let display = bravia::router(Arc::new(VirtualDisplay::new("bravia-0".to_owned(), config)));
    Emulators { runtime, cloud, display }
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let emulators = &*EMULATORS;
    if selector & 0x80 == 0 {
        let (method, pattern) = THINQ[usize::from(selector) % THINQ.len()];
        let id = APPLIANCES[usize::from(selector >> 3) % APPLIANCES.len()];
        let request = Request::builder()
            .method(method)
            .uri(pattern.replace("{id}", id))
            .header("authorization", format!("Bearer {DEFAULT_TOKEN}"))
            .header("x-country", "US")
            .header("x-message-id", "fNvdZ1brTn-wWKUlWGoSVw")
            .header("x-client-id", "devfault-fuzz")
            .header("x-api-key", API_KEY)
            .header("x-service-phase", "OP")
            .header("content-type", "application/json")
            .body(Body::from(body.to_vec()))
            .expect("a request");
        let (status, headers, bytes) = emulators.runtime.block_on(answer(&emulators.cloud, request));
        let pairs: Vec<(&str, &str)> =
            headers.iter().filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?))).collect();
        let decoded =
            devfault_thinq::wire::decode_response(status, pairs, &bytes, Some("fNvdZ1brTn-wWKUlWGoSVw"));
        assert!(
            decoded.is_conforming(),
            "{method} {pattern} ({id}) answered {status} {:?}: {:?}",
            String::from_utf8_lossy(&bytes),
            decoded.findings
        );
    } else {
        let service = BRAVIA[usize::from(selector & 0x7f) % BRAVIA.len()];
        let request = Request::builder()
            .method("POST")
            .uri(format!("/sony/{service}"))
            .header("x-auth-psk", "0000")
            .header("content-type", "application/json")
            .body(Body::from(body.to_vec()))
            .expect("a request");
        let (status, headers, bytes) =
            emulators.runtime.block_on(answer(&emulators.display, request));
        let pairs: Vec<(&str, &str)> =
            headers.iter().filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?))).collect();
        let decoded = devfault_bravia::wire::decode_response(status, pairs, &bytes);
        assert!(
            decoded.is_conforming(),
            "POST /sony/{service} answered {status} {:?}: {:?}",
            String::from_utf8_lossy(&bytes),
            decoded.findings
        );
    }
});

async fn answer(router: &Router, request: Request<Body>) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let response = router.clone().oneshot(request).await.expect("the router is infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("a whole body");
    (status, headers, bytes.to_vec())
}
