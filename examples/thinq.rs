//! The ThinQ client against `devfault serve`'s virtual ThinQ Connect cloud: the household, a
//! state, a command, and the failures LG's SDK mislabels. Run `cargo run -- serve` in one
//! terminal, then `cargo run --example thinq [BASE_URL] [TOKEN]` (default
//! http://127.0.0.1:8081 and thinqpat-devfault-0000). Against LG's cloud, drop `base_url` and
//! give your own token and country.

use devfault_thinq::client::{Client, command};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Display, not Debug: the error says what happened and what to do in one line.
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "devfault::retry=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "http://127.0.0.1:8081".to_owned());
    let token = args.next().unwrap_or_else(|| "thinqpat-devfault-0000".to_owned());
    let thinq =
        Client::builder(token, "US").base_url(base).client_id("devfault-example").build()?;

    for device in thinq.devices().await? {
        let info = &device.device_info;
        match thinq.state(&device.device_id).await {
            Ok(state) => println!(
                "{:<18} {:<24} power {:<9} run state {}",
                device.device_id,
                info.device_type,
                state.power().unwrap_or("-"),
                state.run_state().unwrap_or("-")
            ),
            Err(e) => println!("{:<18} {:<24} {e}", device.device_id, info.device_type),
        }
    }

    let profile = thinq.profile("ac-living-room").await?;
    if let Some(modes) = profile.property("airConJobMode", "currentJobMode") {
        println!("ac-living-room accepts job modes {:?}", modes.writable_values());
    }
    thinq.control("ac-living-room", &command::cool_target_celsius(22.0)).await?;
    println!("ac-living-room: cooling target set to 22 C");

    // Powered off: 2304, with the HTTP status the SDK drops and the advice to power on first.
    if let Err(e) = thinq.control("ac-bedroom-off", &command::air_con_job_mode("COOL")).await {
        println!("ac-bedroom-off: {e}");
        println!("  powered off: {}, attempts: {}", e.is_powered_off(), e.attempts);
    }
    Ok(())
}
