//! The baseline of `scripts/bench-serve`: the emulator's framework (axum on tokio, HTTP/1)
//! with no work.
//!
//! - `POST /sony/system` reads the request body and answers 200
//!   `{"result":[{"status":"active"}],"id":1}` (the BRAVIA cases' baseline).
//! - `GET /devices/{id}/state` answers 200 with a ThinQ Connect envelope around a fixed
//!   air-conditioner state, echoing `x-message-id` as the cloud does (the ThinQ cases'
//!   baseline): the same framework and about the same bytes as the virtual cloud's answer,
//!   without its header checks, rate counting, state lookup or fault layer.
//!
//! Usage: `devfault-bench-hello [ADDR]` (default `127.0.0.1:0`); prints the bound address.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};

const BODY: &str = r#"{"result":[{"status":"active"}],"id":1}"#;

/// The `response` member of the ThinQ baseline: the default household's AC as the cloud
/// starts it.
const AC_STATE: &str = r#"{"airConJobMode":{"currentJobMode":"COOL"},"operation":{"airConOperationMode":"POWER_ON","airCleanOperationMode":"OFF"},"temperature":{"currentTemperature":26,"targetTemperature":24,"unit":"C"},"temperatureInUnits":[{"currentTemperature":26,"targetTemperature":24,"unit":"C"},{"currentTemperature":79,"targetTemperature":75,"unit":"F"}],"airFlow":{"windStrength":"MID"},"timer":{"absoluteStopTimer":"UNSET","absoluteStartTimer":"UNSET"},"sleepTimer":{"relativeStopTimer":"UNSET"},"display":{"light":"ON"}}"#;

/// A fixed timestamp in the cloud's format: the baseline reads no clock.
const TIMESTAMP: &str = "2026-11-22T00:00:00.000000";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let app = Router::new()
        .route(
            "/sony/system",
            post(|_body: Bytes| async { ([(header::CONTENT_TYPE, "application/json")], BODY) }),
        )
        .route("/devices/{id}/state", get(thinq_state));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

/// The ThinQ baseline: the envelope with the request's message id echoed.
async fn thinq_state(headers: HeaderMap) -> ([(header::HeaderName, &'static str); 1], String) {
    // Echoed only when URL-safe (as the cloud's grammar requires), so the JSON stays valid.
    let message_id = headers
        .get("x-message-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .unwrap_or("");
    let body = format!(
        r#"{{"messageId":"{message_id}","timestamp":"{TIMESTAMP}","response":{AC_STATE}}}"#
    );
    ([(header::CONTENT_TYPE, "application/json")], body)
}
