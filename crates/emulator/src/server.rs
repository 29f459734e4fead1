//! `devfault serve`: binds every listener (the BRAVIA displays on consecutive ports, the
//! ThinQ Connect cloud, the admin API), starts serving, and hands back the bound addresses, so the command only prints and
//! waits.
//!
//! ```no_run
//! # async fn run() -> Result<(), devfault_emulator::server::ServeError> {
//! use devfault_emulator::server::{ServeConfig, serve};
//!
//! let config = ServeConfig { displays: Some(3), ..ServeConfig::default() };
//! let running = serve(config, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! for display in running.displays() {
//!     println!("{} on http://{}", display.id, display.addr);
//! }
//! println!("admin API on http://{}", running.admin_addr());
//! running.wait().await
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::{self, Admin};
use crate::admin_guard::{self, AdminGuard};
use crate::bravia::{self, DisplayConfig, VirtualDisplay};
use crate::codec::ApiCodec;
use crate::connections::{ConnectionLimits, Refusal, serve_limited};
use crate::device::{Device, Provocation};
use crate::faults::{
    BodyLimits, DEFAULT_MAX_HOLD, FaultListener, Faults, seed_from_clock, with_faults_and_limits,
};
use crate::journal::Journal;
use crate::scenario::{Scenario, ScenarioError};
use crate::thinq::mqtt::{broker, ca::CloudCa};
use crate::thinq::{self, Cloud, CloudConfig};
use crate::tls::{self, ALPN_HTTP_1_1};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::CertificateDer;

/// The codec of every API the emulator serves, as the server registers them with the fault
/// layer: the one list to extend for a new API.
pub fn codecs() -> Vec<Arc<dyn ApiCodec>> {
    vec![
        Arc::new(bravia::BraviaCodec),
        Arc::new(thinq::ThinqCodec),
        Arc::new(thinq::mqtt::faults::MqttCodec),
    ]
}

/// The most generated ThinQ appliances `serve --thinq-devices N` makes.
pub const MAX_THINQ_DEVICES: usize = 100_000;

/// The most displays one process runs, whether `serve --displays N` or a scenario file's
/// `displays.count` asks. Each display takes a port, so a fleet this large starts at a port
/// at most 61439.
pub const MAX_DISPLAYS: usize = 4096;

/// How much longer than [`ConnectionLimits::shutdown_grace`] [`RunningServer::wait`] waits for
/// a listener's loop, which drops its connections once the grace is over.
const SHUTDOWN_MARGIN: Duration = Duration::from_millis(250);

/// What `devfault serve` runs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServeConfig {
    /// The first display's address; the others take the next ports (port 0: each display
    /// gets a free port). Default `127.0.0.1:8080`.
    pub bravia_addr: SocketAddr,
    /// The admin API's address. Default `127.0.0.1:8090`.
    pub admin_addr: SocketAddr,
    /// The ThinQ Connect cloud's address. Default `127.0.0.1:8081`.
    pub thinq_addr: SocketAddr,
    /// User 1's ThinQ token; wins over the scenario. Default: the scenario's, else
    /// `thinqpat-devfault-0000`.
    pub thinq_token: Option<String>,
    /// Generated ThinQ appliances, 0 to [`MAX_THINQ_DEVICES`]; wins over the scenario.
    pub thinq_devices: Option<usize>,
    /// ThinQ API calls per token per hour, 0 for no limit; wins over the scenario. Default:
    /// the scenario's, else 3600.
    pub thinq_rate_limit: Option<u64>,
    /// Where the ThinQ cloud also answers over TLS, with a certificate from the cloud's CA for
    /// LG's real API host names (see [`crate::tls`]), for clients that reach it through a
    /// resolver mapping `api-*.lgthinq.com` to this address; MQTT by ALPN `x-amzn-mqtt-ca` on
    /// the same port. Default: no TLS listener.
    pub thinq_tls_addr: Option<SocketAddr>,
    /// Where the ThinQ cloud's MQTT broker listens (mutual TLS; see
    /// [`crate::thinq::mqtt::broker`]). Default: no broker port (the TLS listener, when asked
    /// for, still serves MQTT by ALPN `x-amzn-mqtt-ca`).
    pub thinq_mqtt_addr: Option<SocketAddr>,
    /// The ThinQ cloud's CA: a PEM certificate and its PEM PKCS#8 key. Default: a fresh CA
    /// made at start.
    pub thinq_ca: Option<(PathBuf, PathBuf)>,
    /// How much faster than real time appliance programmes run (1 to 60000). Default 1.
    pub thinq_time_scale: Option<u32>,
    /// How many displays, 1 to [`MAX_DISPLAYS`] (4096); wins over the scenario's count.
    /// Default: the scenario's, else 1.
    pub displays: Option<usize>,
    /// The pre-shared key of every display; wins over the scenario. Default: the scenario's,
    /// else the display default, `0000`.
    pub psk: Option<String>,
    /// The authentication mode of every display; wins over the scenario. Default: the
    /// scenario's, else the display default, pre-shared key.
    pub auth: Option<crate::bravia::AuthMode>,
    /// A scenario file: displays, state, fault rules, seed.
    pub scenario: Option<PathBuf>,
    /// The seed of the fault rules' draws; wins over the scenario. Default: the scenario's,
    /// else one from the clock (shown by the admin API).
    pub seed: Option<u64>,
    /// Allow addresses other than loopback (the emulator has no real security).
    pub allow_non_loopback: bool,
    /// How many exchanges the journal keeps. Default 1000.
    pub journal_capacity: usize,
    /// About how much memory the journal's entries may take; past it the oldest go. Default
    /// [`crate::journal::DEFAULT_MAX_BYTES`] (4 MiB).
    pub journal_max_bytes: usize,
    /// How long a `no_answer` rule holds a request at most. Default 60 s.
    pub max_hold: Duration,
    /// The bearer token the admin API requires (`Authorization: Bearer TOKEN`); required when
    /// the admin address is not loopback. Default: none (loopback only).
    pub admin_token: Option<String>,
    /// The limits of every listener: request head size, header and idle timeouts, TLS
    /// handshake timeout, open connections, shutdown grace.
    pub limits: ConnectionLimits,
    /// The largest admin request body; larger is answered 413. Default
    /// [`admin_guard::MAX_ADMIN_BODY`] (8 MiB).
    pub admin_max_body: usize,
    /// How long an admin request body may take to arrive; slower is answered 408. Default 10 s.
    pub admin_body_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            bravia_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 8090)),
            thinq_addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            thinq_token: None,
            thinq_devices: None,
            thinq_rate_limit: None,
            thinq_tls_addr: None,
            thinq_mqtt_addr: None,
            thinq_ca: None,
            thinq_time_scale: None,
            displays: None,
            psk: None,
            auth: None,
            scenario: None,
            seed: None,
            allow_non_loopback: false,
            journal_capacity: Journal::DEFAULT_CAPACITY,
            journal_max_bytes: crate::journal::DEFAULT_MAX_BYTES,
            max_hold: DEFAULT_MAX_HOLD,
            limits: ConnectionLimits::default(),
            admin_token: None,
            admin_max_body: admin_guard::MAX_ADMIN_BODY,
            admin_body_timeout: AdminGuard::default().body_timeout,
        }
    }
}

/// Why `serve` could not start, or a server stopped with an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServeError {
    /// An address is not loopback and `allow_non_loopback` is off.
    NotLoopback {
        /// Which listener (`bravia`, `admin`).
        what: &'static str,
        /// The address.
        addr: SocketAddr,
    },
    /// The scenario file cannot be read or is wrong.
    Scenario(ScenarioError),
    /// The number of displays, or the ports they need, are out of range.
    Displays(String),
    /// The ThinQ cloud's settings are out of range.
    Thinq(String),
    /// A listener could not be bound.
    Bind {
        /// What it was for (`bravia-2`, `the admin API`).
        what: String,
        /// The address.
        addr: SocketAddr,
        /// The system's reason.
        source: io::Error,
    },
    /// A server failed while running.
    Server(io::Error),
    /// A setting is out of range or malformed (a limit, a credential).
    Config(String),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::NotLoopback { what, addr } => write!(
                f,
                "{addr} ({what}) is not a loopback address; the emulator has no real security, so it listens on 127.0.0.1 or ::1 unless --listen-any allows other addresses (and the admin API off loopback also needs --admin-token)"
            ),
            ServeError::Scenario(error) => write!(f, "{error}"),
            ServeError::Displays(message)
            | ServeError::Thinq(message)
            | ServeError::Config(message) => f.write_str(message),
            ServeError::Bind { what, addr, source } => {
                write!(f, "cannot listen on {addr} for {what}: {source}")
            }
            ServeError::Server(error) => write!(f, "a server stopped: {error}"),
        }
    }
}

/// No `source()`: each message already includes its cause, and an error chain printed whole
/// (`anyhow`'s `{:#}`) would otherwise say it twice.
impl std::error::Error for ServeError {}

impl From<ScenarioError> for ServeError {
    fn from(error: ScenarioError) -> ServeError {
        ServeError::Scenario(error)
    }
}

/// A display being served.
#[derive(Clone, Debug)]
pub struct DisplayEndpoint {
    /// Its id (`bravia-0`).
    pub id: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The display.
    pub display: Arc<VirtualDisplay>,
}

/// The ThinQ cloud being served.
#[derive(Clone, Debug)]
pub struct ThinqEndpoint {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where it listens over TLS, when [`ServeConfig::thinq_tls_addr`] asked for it.
    pub tls_addr: Option<SocketAddr>,
    /// The certificate to trust for the TLS listener and the MQTT broker (DER): the cloud's
    /// CA, which issued both server certificates (present when a TLS listener was asked for).
    pub tls_certificate: Option<CertificateDer<'static>>,
    /// Where the MQTT broker listens, when [`ServeConfig::thinq_mqtt_addr`] asked for it.
    pub mqtt_addr: Option<SocketAddr>,
    /// The cloud's CA certificate, PEM.
    pub ca_pem: String,
    /// The cloud.
    pub cloud: Arc<Cloud>,
}

/// The servers `serve` started. Dropping it stops them.
#[derive(Debug)]
pub struct RunningServer {
    displays: Vec<DisplayEndpoint>,
    thinq: ThinqEndpoint,
    admin_addr: SocketAddr,
    admin: Arc<Admin>,
    stop: Arc<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<io::Result<()>>>,
    grace: Duration,
}

impl RunningServer {
    /// The displays, in id order.
    pub fn displays(&self) -> &[DisplayEndpoint] {
        &self.displays
    }

    /// The ThinQ cloud.
    pub fn thinq(&self) -> &ThinqEndpoint {
        &self.thinq
    }

    /// Where the admin API listens.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// The seed the fault rules' draws started from.
    pub fn seed(&self) -> u64 {
        self.admin.faults().seed()
    }

    /// The admin state: devices, fault rules, journal.
    pub fn admin(&self) -> &Arc<Admin> {
        &self.admin
    }

    /// Stops the servers now (as the shutdown future given to [`serve`] does).
    pub fn shutdown(&self) {
        self.admin.faults().release_holds();
        self.admin.close_streams();
        self.stop.send_replace(true);
    }

    /// Waits until the servers are stopped (by the shutdown future or
    /// [`RunningServer::shutdown`]); connections still busy after
    /// [`ConnectionLimits::shutdown_grace`] are dropped.
    pub async fn wait(mut self) -> Result<(), ServeError> {
        let mut stopped = self.stop.subscribe();
        let _ = stopped.wait_for(|stopped| *stopped).await;
        let deadline = tokio::time::Instant::now() + self.grace + SHUTDOWN_MARGIN;
        let mut first_error = None;
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(Err(error))) => {
                    first_error.get_or_insert(ServeError::Server(error));
                }
                Ok(_) => {}
                Err(_) => abort.abort(),
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown();
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts the displays and the admin API, and returns once every listener is bound. The
/// servers stop when `shutdown` resolves, when [`RunningServer::shutdown`] is called, or when
/// the [`RunningServer`] is dropped.
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningServer, ServeError> {
    config.limits.check().map_err(ServeError::Config)?;
    if !config.allow_non_loopback {
        for (what, addr) in [
            ("bravia", config.bravia_addr),
            ("thinq", config.thinq_addr),
            ("admin", config.admin_addr),
        ] {
            if !addr.ip().is_loopback() {
                return Err(ServeError::NotLoopback { what, addr });
            }
        }
        if let Some(addr) = config.thinq_tls_addr
            && !addr.ip().is_loopback()
        {
            return Err(ServeError::NotLoopback { what: "thinq-tls", addr });
        }
        if let Some(addr) = config.thinq_mqtt_addr
            && !addr.ip().is_loopback()
        {
            return Err(ServeError::NotLoopback { what: "thinq-mqtt", addr });
        }
    }
    if let Some(token) = &config.admin_token {
        admin_guard::check_token(token).map_err(ServeError::Config)?;
    }
    admin_guard_of(&config).check().map_err(ServeError::Config)?;
    if let Some(token) = &config.thinq_token {
        thinq::check_token(token)
            .map_err(|error| ServeError::Config(format!("--thinq-token: {error}")))?;
    }
    if let Some(psk) = &config.psk {
        crate::bravia::check_psk(psk)
            .map_err(|error| ServeError::Config(format!("--psk: {error}")))?;
    }
    if !config.admin_addr.ip().is_loopback() && config.admin_token.is_none() {
        return Err(ServeError::Config(format!(
            "the admin API on {} would be off loopback without a credential: it serves the ThinQ tokens and takes fault rules, so give --admin-token TOKEN (besides --listen-any), or keep --admin on 127.0.0.1",
            config.admin_addr
        )));
    }
    let connection_limits = config.limits;
    let scenario = match &config.scenario {
        Some(file) => Scenario::load(file)?,
        None => Scenario::default(),
    };
    let seed = config.seed.or(scenario.seed).unwrap_or_else(seed_from_clock);
    let faults = Arc::new(Faults::new(seed).with_codecs(codecs()).with_max_hold(config.max_hold));
    scenario.check_faults(&faults)?;

    let count = config.displays.or(scenario.displays.count).unwrap_or(1);
    if !(1..=MAX_DISPLAYS).contains(&count) {
        return Err(ServeError::Displays(format!("{count} displays: give 1 to {MAX_DISPLAYS}")));
    }
    let mut cloud_config = scenario.cloud_config(CloudConfig::default())?;
    if let Some(token) = &config.thinq_token {
        cloud_config.token = token.clone();
    }
    if let Some(devices) = config.thinq_devices {
        cloud_config.fleet = devices;
    }
    if let Some(limit) = config.thinq_rate_limit {
        cloud_config.rate_limit = limit;
    }
    if let Some(scale) = config.thinq_time_scale {
        if !(1..=thinq::MAX_TIME_SCALE).contains(&scale) {
            return Err(ServeError::Thinq(format!(
                "time scale {scale}: give 1 (real time) to {}",
                thinq::MAX_TIME_SCALE
            )));
        }
        cloud_config.time_scale = scale;
    }
    if cloud_config.fleet > MAX_THINQ_DEVICES {
        return Err(ServeError::Thinq(format!(
            "{} ThinQ appliances: give 0 to {MAX_THINQ_DEVICES}",
            cloud_config.fleet
        )));
    }
    let mut cloud = Cloud::new(cloud_config);
    scenario.add_appliances(&mut cloud)?;
    let cloud = Arc::new(cloud);
    let hub = Arc::clone(cloud.hub());
    if let Some((certificate, key)) = &config.thinq_ca {
        let read = |path: &PathBuf| {
            std::fs::read_to_string(path).map_err(|error| {
                ServeError::Thinq(format!("cannot read {} for --thinq-ca: {error}", path.display()))
            })
        };
        let ca = CloudCa::load(&read(certificate)?, &read(key)?).map_err(|error| {
            ServeError::Thinq(format!(
                "--thinq-ca {} {}: {error}",
                certificate.display(),
                key.display()
            ))
        })?;
        hub.set_ca(ca).map_err(|error| ServeError::Thinq(error.to_string()))?;
    }
    let ca = hub.ca().map_err(|error| ServeError::Thinq(error.to_string()))?;

    let mut ids: Vec<String> = (0..count).map(|i| format!("bravia-{i}")).collect();
    ids.push(thinq::CLOUD_ID.to_owned());
    ids.extend(cloud.appliances().iter().map(|a| a.id().to_owned()));
    scenario.check_devices(&ids)?;
    let taken: Vec<u16> = [Some(config.thinq_addr), Some(config.admin_addr), config.thinq_tls_addr]
        .into_iter()
        .flatten()
        .map(|addr| addr.port())
        .filter(|port| *port != 0)
        .collect();
    let addrs = display_addrs(config.bravia_addr, count, &taken)?;

    let journal =
        Arc::new(Journal::new(config.journal_capacity).with_max_bytes(config.journal_max_bytes));
    let mut displays = Vec::with_capacity(count);
    let mut listeners = Vec::with_capacity(count);
    for (id, addr) in ids.iter().zip(addrs) {
        let mut display_config = scenario.display_config(id, DisplayConfig::default())?;
        if let Some(auth) = config.auth {
            display_config.auth = auth;
        }
        if let Some(psk) = &config.psk {
            display_config.psk = Some(psk.clone());
        }
        let display = Arc::new(VirtualDisplay::new(id.clone(), display_config));
        if let Some(patch) = scenario.state.get(id) {
            display
                .set_state(patch)
                .map_err(|message| scenario.error(&format!("state.{id}"), message))?;
        }
        let (listener, addr) = bind(addr, id).await?;
        listeners.push(listener);
        displays.push(DisplayEndpoint { id: id.clone(), addr, display });
    }
    for appliance in cloud.appliances() {
        if let Some(patch) = scenario.state.get(appliance.id()) {
            appliance
                .set_state(patch)
                .map_err(|message| scenario.error(&format!("state.{}", appliance.id()), message))?;
        }
    }
    if let Some(patch) = scenario.state.get(thinq::CLOUD_ID) {
        cloud
            .set_state(patch)
            .map_err(|message| scenario.error(&format!("state.{}", thinq::CLOUD_ID), message))?;
    }
    let (thinq_listener, thinq_addr) = bind(config.thinq_addr, "the ThinQ cloud").await?;
    cloud.set_addr(thinq_addr);
    let thinq_tls = match config.thinq_tls_addr {
        Some(addr) => Some(bind_tls(addr, &hub).await?),
        None => None,
    };
    let mqtt = match config.thinq_mqtt_addr {
        Some(addr) => {
            let (listener, bound) = bind(addr, "the ThinQ MQTT broker").await?;
            let tls = broker::server_config(&hub, &broker::BROKER_NAMES, false)
                .map_err(|error| ServeError::Thinq(error.to_string()))?;
            hub.set_addr(bound);
            Some((listener, bound, TlsAcceptor::from(Arc::new(tls))))
        }
        None => None,
    };
    if mqtt.is_none()
        && let Some(tls) = &thinq_tls
    {
        // MQTT by ALPN on the TLS listener is then the only way in: /route names it.
        hub.set_addr(tls.addr);
    }
    hub.set_journal(Arc::clone(&journal));
    hub.set_faults(Arc::clone(&faults));
    let thinq = ThinqEndpoint {
        addr: thinq_addr,
        tls_addr: thinq_tls.as_ref().map(|tls| tls.addr),
        tls_certificate: thinq_tls.as_ref().map(|_| ca.certificate_der().clone()),
        mqtt_addr: mqtt.as_ref().map(|(_, addr, _)| *addr),
        ca_pem: ca.pem().to_owned(),
        cloud: Arc::clone(&cloud),
    };
    let (admin_listener, admin_addr) = bind(config.admin_addr, "the admin API").await?;

    let mut admin = Admin::new(Arc::clone(&faults), Arc::clone(&journal));
    let mut baseline = scenario.baseline();
    baseline.seed = Some(seed);
    for endpoint in &displays {
        admin = admin.with_device(shown(&endpoint.display), Some(endpoint.addr));
    }
    // The cloud's appliances are its members: the admin API lists them after it.
    admin = admin.with_device(Arc::clone(&cloud) as Arc<dyn Device>, Some(thinq_addr));
    let admin = Arc::new(admin.with_baseline(baseline));
    admin.reset().map_err(|message| scenario.error("faults", message))?;

    let stop = Arc::new(watch::Sender::new(false));
    let signal = {
        let stop = Arc::clone(&stop);
        move || {
            let mut stopped = stop.subscribe();
            async move {
                let _ = stopped.wait_for(|stopped| *stopped).await;
            }
        }
    };
    let mut tasks = Vec::with_capacity(count + 3);
    for (endpoint, listener) in displays.iter().zip(listeners) {
        let limits = BodyLimits {
            max_bytes: endpoint.display.config().max_body_bytes,
            timeout: endpoint.display.config().body_timeout,
        };
        let router = with_faults_and_limits(
            bravia::router(Arc::clone(&endpoint.display)),
            shown(&endpoint.display),
            Arc::clone(&faults),
            Arc::clone(&journal),
            limits,
        );
        tasks.push(tokio::spawn(serve_limited(
            FaultListener::new(listener),
            None,
            None,
            router,
            connection_limits,
            bravia_refusal(),
            signal(),
        )));
    }
    {
        let limits = BodyLimits {
            max_bytes: cloud.config().max_body_bytes,
            timeout: BodyLimits::default().timeout,
        };
        let router = with_faults_and_limits(
            thinq::router(Arc::clone(&cloud)),
            Arc::clone(&cloud) as Arc<dyn Device>,
            Arc::clone(&faults),
            Arc::clone(&journal),
            limits,
        );
        if let Some(tls) = thinq_tls {
            let hub = Arc::clone(&hub);
            let divert: crate::connections::Diversion<_, _> = (
                broker::ALPN_MQTT,
                Arc::new(move |stream, peer| {
                    tokio::spawn(broker::serve_tls_stream(Arc::clone(&hub), stream, peer));
                }),
            );
            tasks.push(tokio::spawn(serve_limited(
                FaultListener::new(tls.listener),
                Some(tls.acceptor),
                Some(divert),
                router.clone(),
                connection_limits,
                thinq_refusal(),
                signal(),
            )));
        }
        if let Some((listener, _, acceptor)) = mqtt {
            tasks.push(tokio::spawn(broker::serve(listener, acceptor, Arc::clone(&hub), signal())));
        }
        tasks.push(tokio::spawn(serve_limited(
            FaultListener::new(thinq_listener),
            None,
            None,
            router,
            connection_limits,
            thinq_refusal(),
            signal(),
        )));
    }
    let admin_router =
        admin_guard::guard(admin::router(Arc::clone(&admin)), admin_guard_of(&config));
    let admin_stopped = signal();
    tasks.push(tokio::spawn(serve_limited(
        admin_listener,
        None,
        None,
        admin_router,
        connection_limits,
        Refusal::json(r#"{"error":"too many connections to the admin API; retry in a second"}"#),
        admin_stopped,
    )));
    {
        let (stop, faults, stopped) = (Arc::clone(&stop), Arc::clone(&faults), signal());
        let admin = Arc::clone(&admin);
        tasks.push(tokio::spawn(async move {
            tokio::select! {
                () = shutdown => {}
                () = stopped => {}
            }
            faults.release_holds();
            admin.close_streams();
            stop.send_replace(true);
            Ok(())
        }));
    }
    Ok(RunningServer {
        displays,
        thinq,
        admin_addr,
        admin,
        stop,
        tasks,
        grace: connection_limits.shutdown_grace,
    })
}

/// What a display answers a connection past the cap: BRAVIA's own 503 error
/// (`{"error": [503, "Service Unavailable"], "id": null}`; no request was read, so no id).
fn bravia_refusal() -> Refusal {
    let entry = devfault_bravia::Code::SERVICE_UNAVAILABLE.entry();
    let (_, body) = devfault_bravia::wire::encode_error(entry, None);
    Refusal::json(&String::from_utf8_lossy(&body))
}

/// What the ThinQ cloud answers a connection past the cap: LG's envelope with code 2000
/// (Internal Server Error) and a fresh message id (no request was read, so none to echo).
/// The admin API's guard as configured: token, body size and time.
fn admin_guard_of(config: &ServeConfig) -> AdminGuard {
    AdminGuard {
        token: config.admin_token.clone(),
        max_body: config.admin_max_body,
        body_timeout: config.admin_body_timeout,
    }
}

fn thinq_refusal() -> Refusal {
    Refusal::json(&String::from_utf8_lossy(&thinq::overload_body()))
}

/// The addresses of `count` displays from `first`: consecutive ports, skipping `taken` (the
/// other listeners' ports), so that `serve --displays N` never collides with the ThinQ cloud
/// (8081), the admin API (8090) or the TLS port (8443) on the defaults; or port 0 for each.
fn display_addrs(
    first: SocketAddr,
    count: usize,
    taken: &[u16],
) -> Result<Vec<SocketAddr>, ServeError> {
    if first.port() == 0 {
        return Ok(vec![first; count]);
    }
    let mut addrs = Vec::with_capacity(count);
    let mut port = u32::from(first.port());
    while addrs.len() < count {
        let Ok(candidate) = u16::try_from(port) else {
            return Err(ServeError::Displays(format!(
                "{count} displays from port {} (skipping the other listeners' ports {taken:?}) need ports past 65535; give a lower --bravia port",
                first.port()
            )));
        };
        if !taken.contains(&candidate) {
            let mut addr = first;
            addr.set_port(candidate);
            addrs.push(addr);
        }
        port += 1;
    }
    Ok(addrs)
}

/// The ThinQ cloud's TLS listener, bound, with its acceptor.
struct TlsBound {
    listener: TcpListener,
    addr: SocketAddr,
    acceptor: TlsAcceptor,
}

/// The names of the TLS listener's certificate: LG's API hosts and loopback
/// ([`tls::host_names`]), then `::1` and the host the SDK fetches its root CA from.
fn tls_names() -> Vec<String> {
    let mut names = tls::host_names();
    names.extend(["::1".to_owned(), thinq::ROOT_CA_HOST.to_owned()]);
    names
}

/// Binds the TLS listener: a certificate from the cloud's CA, client certificates optional
/// (HTTPS clients have none; MQTT by ALPN needs one), ALPN `http/1.1` and `x-amzn-mqtt-ca`.
async fn bind_tls(addr: SocketAddr, hub: &thinq::mqtt::Hub) -> Result<TlsBound, ServeError> {
    let (listener, bound) = bind(addr, "the ThinQ cloud over TLS").await?;
    let mut config = broker::server_config(
        hub,
        &tls_names().iter().map(String::as_str).collect::<Vec<_>>(),
        true,
    )
    .map_err(|error| ServeError::Thinq(error.to_string()))?;
    config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec(), broker::ALPN_MQTT.to_vec()];
    Ok(TlsBound { listener, addr: bound, acceptor: TlsAcceptor::from(Arc::new(config)) })
}

/// Binds `addr` for `what`, and answers the listener with the address it got (port 0 asks
/// for a free one).
async fn bind(addr: SocketAddr, what: &str) -> Result<(TcpListener, SocketAddr), ServeError> {
    let failed = |source| ServeError::Bind { what: what.to_owned(), addr, source };
    let listener = TcpListener::bind(addr).await.map_err(failed)?;
    let bound = listener.local_addr().map_err(failed)?;
    Ok((listener, bound))
}

/// A display as the admin API and the journal see it: the display, plus the PIN on its screen.
fn shown(display: &Arc<VirtualDisplay>) -> Arc<dyn Device> {
    Arc::new(Shown(Arc::clone(display)))
}

#[derive(Debug)]
struct Shown(Arc<VirtualDisplay>);

impl Device for Shown {
    fn id(&self) -> &str {
        self.0.id()
    }

    fn api(&self) -> &'static str {
        self.0.api()
    }

    fn state(&self) -> Value {
        self.0.state()
    }

    fn set_state(&self, patch: &Value) -> Result<(), String> {
        self.0.set_state(patch)
    }

    fn reset(&self) {
        self.0.reset();
    }

    fn provocations(&self) -> Vec<Provocation> {
        self.0.provocations()
    }

    fn pin(&self) -> Option<String> {
        self.0.pin().or_else(|| self.0.current_pin())
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
