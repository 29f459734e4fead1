//! `devfault serve`: the virtual BRAVIA display(s), the virtual ThinQ Connect cloud and the
//! admin API, until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use devfault_emulator::bravia::AuthMode;
use devfault_emulator::connections::ConnectionLimits;
use devfault_emulator::server::{RunningServer, ServeConfig, serve};
use serde_json::json;

use crate::Outcome;

/// Arguments of `devfault serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address of the (first) BRAVIA display; more displays take the next ports.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bravia: SocketAddr,
    /// Address of the virtual ThinQ Connect cloud.
    #[arg(long, default_value = "127.0.0.1:8081")]
    thinq: SocketAddr,
    /// The ThinQ personal access token of user 1, who owns the default household (default:
    /// the scenario's, else thinqpat-devfault-0000).
    #[arg(long)]
    thinq_token: Option<String>,
    /// Generated ThinQ appliances (fleet-00000...), ten per generated user, besides the
    /// default household.
    #[arg(long)]
    thinq_devices: Option<usize>,
    /// ThinQ API calls allowed per token per hour; more answer 401 code 1314. 0: no limit
    /// (default: the scenario's, else 3600).
    #[arg(long)]
    thinq_rate_limit: Option<u64>,
    /// Also serve the ThinQ cloud over TLS on this address (default 127.0.0.1:8443), with a
    /// certificate from the cloud's CA made at start for api-{kic,aic,eic}.lgthinq.com,
    /// www.amazontrust.com, localhost, 127.0.0.1 and ::1: for an unmodified client whose
    /// resolver maps those hosts here. MQTT too, for clients asking ALPN x-amzn-mqtt-ca.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8443")]
    thinq_tls: Option<SocketAddr>,
    /// Address of the ThinQ cloud's MQTT broker (MQTT 3.1.1 over mutual TLS, client
    /// certificates from POST /client/certificate). Default 127.0.0.1:8883, or a free port
    /// when --thinq asks for port 0 (so emulators started on free ports never compete).
    #[arg(long, value_name = "ADDR")]
    thinq_mqtt: Option<SocketAddr>,
    /// The ThinQ cloud's certificate authority: a PEM certificate and its PEM PKCS#8 key
    /// (default: a fresh CA made at start).
    #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
    thinq_ca: Option<Vec<PathBuf>>,
    /// How much faster than real time a washer's or dryer's programme runs (1 to 60000; 60
    /// makes a simulated minute last a second). Default 1.
    #[arg(long, value_name = "N")]
    thinq_time_scale: Option<u32>,
    /// Address of the admin API (devices, state, fault rules, journal).
    #[arg(long, default_value = "127.0.0.1:8090")]
    admin: SocketAddr,
    /// How many independent displays (default: the scenario's, else 1).
    #[arg(long)]
    displays: Option<usize>,
    /// The displays' pre-shared key (X-Auth-PSK); default 0000.
    #[arg(long)]
    psk: Option<String>,
    /// The displays' authentication mode (default psk).
    #[arg(long, value_parser = auth_parser())]
    auth: Option<AuthMode>,
    /// A scenario file (JSON: displays, state, fault rules, seed; format in the README).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Seed of the fault rules' random draws, for repeatable runs.
    #[arg(long)]
    seed: Option<u64>,
    /// Allow addresses other than loopback. The emulator has no real security: only for a
    /// network you control. An admin address off loopback also needs --admin-token.
    #[arg(long)]
    listen_any: bool,
    /// The bearer token the admin API requires (Authorization: Bearer TOKEN); required for an
    /// --admin address off loopback. Visible ASCII, 1 to 256 characters.
    #[arg(long, value_name = "TOKEN")]
    admin_token: Option<String>,
    /// The largest request head (request line and headers) any listener accepts; larger is
    /// answered 431. 8192 to 1048576.
    #[arg(long, value_name = "BYTES", default_value_t = ConnectionLimits::default().max_header_bytes)]
    max_header_bytes: usize,
    /// How long a request head may take to arrive (e.g. 10s, 500ms).
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = duration)]
    header_timeout: Duration,
    /// How long a connection may stay silent with no request in flight before it is closed.
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = duration)]
    idle_timeout: Duration,
    /// How long a TLS client may take to finish its handshake (--thinq-tls).
    #[arg(long, value_name = "TIME", default_value = "5s", value_parser = duration)]
    handshake_timeout: Duration,
    /// The most open connections per listener; more are answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = ConnectionLimits::default().max_connections)]
    max_connections: usize,
    /// The largest admin API request body (a scenario's worth of fault rules); larger is
    /// answered 413. 1024 to 67108864.
    #[arg(long, value_name = "BYTES", default_value_t = devfault_emulator::admin_guard::MAX_ADMIN_BODY)]
    admin_max_body_bytes: usize,
    /// How long an admin API request body may take to arrive; slower is answered 408.
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = duration)]
    admin_body_timeout: Duration,
    /// About how much memory the request journal may take; past it the oldest entries go.
    #[arg(long, value_name = "BYTES", default_value_t = devfault_emulator::journal::DEFAULT_MAX_BYTES)]
    journal_bytes: usize,
    /// How long stopping (Ctrl-C, SIGTERM) waits for requests in flight.
    #[arg(long, value_name = "TIME", default_value = "500ms", value_parser = duration)]
    shutdown_grace: Duration,
    /// Write the bound addresses as JSON to this file once every listener is up (for scripts
    /// that start the emulator on port 0).
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

/// The `--auth` values, from [`AuthMode`]'s own names and descriptions (one parse for the
/// CLI, scenario files and the admin API).
fn auth_parser() -> impl clap::builder::TypedValueParser<Value = AuthMode> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(
        AuthMode::ALL.map(|mode| PossibleValue::new(mode.as_str()).help(mode.describe())),
    )
    .try_map(|name| name.parse::<AuthMode>())
}

/// Runs the command until Ctrl-C or SIGTERM.
pub fn run(args: &Args, out: &mut impl Write) -> Result<Outcome> {
    let config = ServeConfig {
        bravia_addr: args.bravia,
        admin_addr: args.admin,
        thinq_addr: args.thinq,
        thinq_token: args.thinq_token.clone(),
        thinq_devices: args.thinq_devices,
        thinq_rate_limit: args.thinq_rate_limit,
        thinq_tls_addr: args.thinq_tls,
        thinq_mqtt_addr: Some(args.thinq_mqtt.unwrap_or_else(|| {
            let port = if args.thinq.port() == 0 { 0 } else { 8883 };
            SocketAddr::new(args.thinq.ip(), port)
        })),
        thinq_ca: args.thinq_ca.as_ref().and_then(|paths| match paths.as_slice() {
            [certificate, key] => Some((certificate.clone(), key.clone())),
            _ => None,
        }),
        thinq_time_scale: args.thinq_time_scale,
        displays: args.displays,
        psk: args.psk.clone(),
        auth: args.auth,
        scenario: args.scenario.clone(),
        seed: args.seed,
        allow_non_loopback: args.listen_any,
        admin_token: args.admin_token.clone(),
        admin_max_body: args.admin_max_body_bytes,
        admin_body_timeout: args.admin_body_timeout,
        journal_max_bytes: args.journal_bytes,
        limits: ConnectionLimits {
            max_header_bytes: args.max_header_bytes,
            header_timeout: args.header_timeout,
            idle_timeout: args.idle_timeout,
            handshake_timeout: args.handshake_timeout,
            max_connections: args.max_connections,
            shutdown_grace: args.shutdown_grace,
        },
        ..ServeConfig::default()
    };
    raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = serve(config, stop_signal()).await?;
        server.admin().set_explainer(std::sync::Arc::new(crate::explainer::CliExplainer));
        announce(&server, args, out)?;
        out.flush()?;
        if let Some(path) = &args.ready_file {
            let mut thinq = json!({
                "url": format!("http://{}", server.thinq().addr),
                "token": server.thinq().cloud.token(),
            });
            if let Some(addr) = server.thinq().tls_addr {
                thinq["tls_url"] = json!(format!("https://{addr}"));
            }
            if let Some(addr) = server.thinq().mqtt_addr {
                thinq["mqtt_url"] = json!(format!("mqtts://{addr}"));
            }
            thinq["ca_pem"] = json!(ca_file(args, path, &server.thinq().ca_pem)?);
            let ready = json!({
                "displays": server.displays().iter().map(|d| json!({"id": d.id, "url": format!("http://{}", d.addr)})).collect::<Vec<_>>(),
                "admin": format!("http://{}", server.admin_addr()),
                "thinq": thinq,
                "seed": server.seed(),
            });
            // Written whole, then renamed: a script polling for the file never reads half of it.
            let partial = path.with_extension("partial");
            std::fs::write(&partial, ready.to_string())
                .and_then(|()| std::fs::rename(&partial, path))
                .with_context(|| format!("cannot write the ready file {}", path.display()))?;
        }
        server.wait().await?;
        eprintln!("devfault: stopped");
        Ok(Outcome::Success)
    })
}

/// Where the ready file says the ThinQ cloud's CA is: the `--thinq-ca` certificate, else a
/// file written beside the ready file (`NAME.thinq-ca.pem`).
fn ca_file(args: &Args, ready: &std::path::Path, pem: &str) -> Result<String> {
    if let Some(paths) = &args.thinq_ca
        && let Some(certificate) = paths.first()
    {
        let absolute = std::path::absolute(certificate).unwrap_or_else(|_| certificate.clone());
        return Ok(absolute.display().to_string());
    }
    let path = ready.with_extension("thinq-ca.pem");
    std::fs::write(&path, pem)
        .with_context(|| format!("cannot write the CA certificate to {}", path.display()))?;
    let absolute = std::path::absolute(&path).unwrap_or(path);
    Ok(absolute.display().to_string())
}

/// A duration flag: a whole number with `ms` or `s` (`500ms`, `10s`); a bare number is seconds.
fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1000)
    } else {
        (text, 1000)
    };
    number
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} is not a duration: give e.g. 10s or 500ms"))
}

/// Raises the soft open-files limit to the hard one: each connection takes a file
/// descriptor, and a soft limit of 1024 (a common default) would let about a thousand idle
/// sockets stop every listener before the per-listener connection cap is reached. A failure
/// is reported and ignored: the server still runs, with the lower limit.
fn raise_open_files_limit() {
    #[cfg(unix)]
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("devfault: cannot raise the open-files limit (RLIMIT_NOFILE): {error}");
    }
}

/// Ctrl-C, or SIGTERM on Unix.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    // The handlers are registered now, before the server starts and the ready file is
    // written, not at the future's first poll: a SIGTERM sent as soon as the ready file
    // exists was otherwise lost now and then, and the server never stopped.
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    };
    async move {
        #[cfg(unix)]
        match handlers {
            (Ok(mut term), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// What is listening where, and how to reach it with curl.
fn announce(server: &RunningServer, args: &Args, out: &mut impl Write) -> std::io::Result<()> {
    let displays = server.displays();
    let admin = server.admin_addr();
    let psk = args.psk.as_deref().unwrap_or("0000");
    let auth = args.auth.map_or("psk (default)", AuthMode::as_str);
    let thinq = server.thinq();
    let mut addrs: Vec<SocketAddr> = displays.iter().map(|d| d.addr).collect();
    addrs.extend([thinq.addr, admin].into_iter().chain(thinq.tls_addr));
    if addrs.iter().all(|addr| addr.ip().is_loopback()) {
        writeln!(out, "devfault emulator, on loopback until Ctrl-C")?;
    } else {
        writeln!(
            out,
            "devfault emulator, reachable beyond loopback (--listen-any; no real security) until Ctrl-C"
        )?;
    }
    for display in displays.iter().take(5) {
        writeln!(out, "  BRAVIA display {:<10} http://{}/sony/", display.id, display.addr)?;
    }
    if displays.len() > 5 {
        let last = &displays[displays.len() - 1];
        writeln!(
            out,
            "  … {} more displays, up to {} at http://{}/sony/",
            displays.len() - 5,
            last.id,
            last.addr
        )?;
    }
    let appliances = thinq.cloud.appliances();
    let users = appliances.iter().filter(|a| a.owner() == Some(1)).count();
    let others = appliances.len() - users;
    let appliances =
        |n: usize| if n == 1 { "1 appliance".to_owned() } else { format!("{n} appliances") };
    writeln!(
        out,
        "  ThinQ Connect cloud       http://{}/ (user 1: {}; other users: {})",
        thinq.addr,
        appliances(users),
        appliances(others)
    )?;
    if let Some(addr) = thinq.tls_addr {
        writeln!(
            out,
            "  ThinQ cloud over TLS      https://{addr}/ (the cloud's CA, for api-{{kic,aic,eic}}.lgthinq.com; MQTT by ALPN)"
        )?;
    }
    if let Some(addr) = thinq.mqtt_addr {
        writeln!(
            out,
            "  ThinQ MQTT broker         mqtts://{addr} (client certificates from POST /client/certificate)"
        )?;
    }
    if args.admin_token.is_some() {
        writeln!(
            out,
            "  admin API                 http://{admin}/ (Authorization: Bearer required)"
        )?;
    } else {
        writeln!(out, "  admin API                 http://{admin}/")?;
    }
    writeln!(out, "  auth {auth}, pre-shared key {psk}; fault seed {}", server.seed())?;
    writeln!(out, "  ThinQ token {}", thinq.cloud.token())?;
    let Some(first) = displays.first() else { return Ok(()) };
    let url = format!("http://{}", first.addr);
    writeln!(out)?;
    writeln!(out, "Try:")?;
    writeln!(
        out,
        "  curl -s {url}/sony/system -H 'X-Auth-PSK: {psk}' -d '{{\"method\":\"getPowerStatus\",\"params\":[],\"id\":1,\"version\":\"1.0\"}}'"
    )?;
    writeln!(
        out,
        "  curl -s {url}/sony/audio -H 'X-Auth-PSK: {psk}' -d '{{\"method\":\"setAudioVolume\",\"params\":[{{\"target\":\"speaker\",\"volume\":\"130\"}}],\"id\":2,\"version\":\"1.0\"}}'"
    )?;
    writeln!(out, "  curl -s http://{admin}/devices/{}", first.id)?;
    writeln!(out, "  curl -s http://{admin}/devices/{}/provocations", first.id)?;
    writeln!(
        out,
        "  curl -s -X PATCH http://{admin}/devices/{} -d '{{\"power\":\"standby\"}}'",
        first.id
    )?;
    let cloud = format!("http://{}", thinq.addr);
    let headers = format!(
        "-H 'Authorization: Bearer {}' -H 'x-country: US' -H 'x-message-id: fNvdZ1brTn-wWKUlWGoSVw' -H 'x-client-id: devfault-curl' -H 'x-api-key: {}'",
        thinq.cloud.token(),
        devfault_emulator::thinq::API_KEY
    );
    writeln!(out, "  curl -s {cloud}/devices {headers}")?;
    writeln!(out, "  curl -s {cloud}/devices/ac-living-room/state {headers}")?;
    writeln!(
        out,
        "  curl -s {cloud}/devices/ac-bedroom-off/control {headers} -d '{{\"airFlow\":{{\"windStrength\":\"HIGH\"}}}}'"
    )?;
    writeln!(out, "  curl -s http://{admin}/devices/ac-living-room")?;
    writeln!(out, "  curl -s http://{admin}/devices/ac-living-room/provocations")?;
    Ok(())
}
