//! The BRAVIA client against `devfault serve` (or a real display): reads, changes, and what a
//! failure looks like. Run `cargo run -- serve` in one terminal, then
//! `cargo run --example bravia [HOST[:PORT]] [PSK]` (default 127.0.0.1:8080, PSK 0000).
//! Set `RUST_LOG=devfault::retry=debug` to see every attempt.

use devfault_bravia::client::{Client, Target, Volume};

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
    let host = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let psk = args.next().unwrap_or_else(|| "0000".to_owned());
    let tv = Client::builder(host).psk(psk).build()?;

    println!("power: {:?}", tv.system().power_status().await?);
    let info = tv.system().system_information().await?;
    println!("model: {} ({}), API generation {}", info.model, info.name, info.generation);

    tv.audio().set_volume(Target::Speaker, Volume::Absolute(30)).await?;
    tv.audio().set_volume(Target::Speaker, Volume::Relative(-5)).await?;
    for output in tv.audio().volume_information().await? {
        println!("volume {}: {} (muted: {})", output.target, output.volume, output.mute);
    }

    // Every failure is one error type that keeps the registry row, the status and the id.
    match tv.audio().set_volume(Target::Speaker, Volume::Absolute(130)).await {
        Ok(()) => println!("volume 130 accepted"),
        Err(e) => println!("volume 130: {e}"),
    }

    // Standby: the display answers getPowerStatus, and refuses most else.
    tv.system().set_power(false).await?;
    match tv.av_content().source_list("extInput").await {
        Ok(sources) => println!("sources: {sources:?}"),
        Err(e) if e.is_display_off() => println!("display off: {e}"),
        Err(e) => return Err(e.into()),
    }
    tv.system().set_power(true).await?;
    println!("power: {:?}", tv.system().power_status().await?);
    let apps = tv.app_control().application_list().await?;
    println!("{} apps, first: {}", apps.len(), apps.first().map_or("-", |a| a.title.as_str()));
    Ok(())
}
