//! The ThinQ client's event side against `devfault serve`'s virtual cloud: it trusts the
//! cloud's CA (from the admin API), subscribes to the washer's events and pushes, opens the
//! MQTT event stream (route, client registration, certificate, mutual TLS), starts the washer
//! and prints every update until the cycle's push, then closes (DISCONNECT, DELETE /client).
//!
//! Run `cargo run -- serve --thinq-time-scale 6000` in one terminal (a 40-minute cycle in
//! under a second), then `cargo run --example thinq_events [BASE_URL] [ADMIN_URL]` (default
//! http://127.0.0.1:8081 and http://127.0.0.1:8090).

use std::time::Duration;

use devfault_thinq::client::{Client, Update};
use devfault_thinq::event::Kind;
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "http://127.0.0.1:8081".to_owned());
    let admin = args.next().unwrap_or_else(|| "http://127.0.0.1:8090".to_owned());
    let ca =
        reqwest::get(format!("{admin}/thinq/ca.pem")).await?.error_for_status()?.bytes().await?;
    let thinq = Client::builder("thinqpat-devfault-0000", "US")
        .base_url(base)
        .client_id("devfault-events-example")
        .add_root_certificate(ca.to_vec())
        .build()?;
    for result in [
        thinq.event_subscribe("washer-main", 4464).await,
        thinq.push_subscribe("washer-main").await,
    ] {
        // 1207: already subscribed (a second run), which is what we want.
        if let Err(e) = result
            && e.code.as_deref() != Some("1207")
        {
            return Err(e.into());
        }
    }
    let mut events = thinq.events().await?;
    println!("subscribed to {}", events.topic());
    let start = json!({"location": {"locationName": "MAIN"}, "operation": {"washerOperationMode": "START"}});
    thinq.control("washer-main", &start).await?;
    let mut statuses = 0;
    loop {
        let Ok(update) = tokio::time::timeout(Duration::from_secs(120), events.recv()).await else {
            return Err(
                "no update for 2 minutes (is serve running with --thinq-time-scale?)".into()
            );
        };
        let Some(update) = update else { break };
        match update {
            Ok(Update::Connected { session_present }) => {
                println!("connected (session kept: {session_present})");
            }
            Ok(Update::Disconnected { error, retry_in }) => {
                println!("disconnected: {error}; again in {retry_in:?}");
            }
            Ok(Update::Event(event)) => match &event.kind {
                Kind::Status { report } => {
                    statuses += 1;
                    // The first and the run-state changes in full; the minutes counted.
                    let run_state = report[0]["runState"]["currentState"].as_str();
                    if statuses == 1 || run_state.is_some() {
                        println!("{} DEVICE_STATUS {report}", event.device_id);
                    }
                }
                Kind::Push { code } => {
                    println!("{} DEVICE_PUSH {code} after {statuses} statuses", event.device_id);
                    break;
                }
                other => println!("{} {}", event.device_id, other.push_type()),
            },
            Err(e) => println!("undecodable event: {e}"),
        }
    }
    events.close().await?;
    println!("closed");
    Ok(())
}
