//! The client's event side ([`Client::events`]): the steps LG's SDK takes to receive events
//! (thinqconnect 1.0.14, `mqtt_client.py`), made typed and classified.
//!
//! 1. `GET /route`: the broker is `mqttServer` (`mqtts://host:port`). Unlike the SDK, which
//!    keeps only the host and connects to 443, the port is used (8883 when none is named);
//!    [`ClientBuilder::mqtt_connect_to`](crate::client::ClientBuilder::mqtt_connect_to)
//!    connects elsewhere while the certificate is still checked for that host.
//! 2. `POST /client` registers the client id.
//! 3. A fresh ECDSA P-256 key and a CSR with CN `lg_thinq` (made in process by rcgen; AWS IoT
//!    and the emulator accept RSA ≥ 2048 or ECDSA P-256/P-384), sent to
//!    `POST /client/certificate`; the reply's `certificatePem` is the client certificate and
//!    `subscriptions[0]` the topic (the SDK subscribes to that one only).
//! 4. MQTT 3.1.1 over mutual TLS (rumqttc; rustls with the ring provider): the roots are
//!    webpki's plus the builder's
//!    [`add_root_certificate`](crate::client::ClientBuilder::add_root_certificate) ones (an
//!    emulator's CA); ALPN `x-amzn-mqtt-ca` when the port is 443, as AWS IoT expects there;
//!    client id = the `x-client-id`; `clean_session=false`; SUBSCRIBE at QoS 1.
//!
//! [`Client::events`] returns once the broker has acknowledged the subscription, so an event
//! caused after it returns is delivered. The [`EventStream`] then yields [`Update`]s: each
//! [`Update::Event`], and the connection's changes ([`Update::Connected`],
//! [`Update::Disconnected`]), because a consumer that relies on events (Home Assistant polls
//! nothing) must know when they may be missing. A lost connection is retried with
//! back-off ([`Reconnect`]), and the broker's persistent session delivers what was published
//! meanwhile. A message is acknowledged (PUBACK) only once it is in the stream's buffer, so a
//! message lost to a crash before that comes again.
//!
//! Every failure is a [`client::Error`](crate::client::Error) around the shared `Failure`, API
//! `thinq-mqtt` for the MQTT part: a CONNACK refusal is kind `api` with the return code
//! (`"5"`, not authorized); a broker certificate from another CA is `transport` with class
//! `authentication` and advice `never`; a payload that does not decode is an `Err` item
//! (`unreadable` or `protocol`, naming what is wrong) and the stream goes on. A refusal, a
//! TLS failure or a missing CONNACK or SUBACK on the first connection is the error of
//! [`Client::events`] itself; a first connection lost after CONNACK 0 is the stream's to
//! retry.
//!
//! Bounded: the stream buffers at most [`BUFFER`] updates (a consumer that does not read
//! holds the MQTT connection back, and the broker keeps what it cannot send); a payload over
//! [`MAX_PAYLOAD_BYTES`] is an error item, and a packet over that plus 4 KiB (more than AWS
//! IoT ever sends) is refused by the MQTT client, which drops the connection.
//!
//! ```no_run
//! # async fn run() -> Result<(), devfault_thinq::client::Error> {
//! use devfault_thinq::client::{Client, Update};
//! use devfault_thinq::event::Kind;
//!
//! // Against `devfault serve`: its CA from the admin API (`GET /thinq/ca.pem`).
//! let ca = std::fs::read("ca.pem").expect("the emulator's CA");
//! let thinq = Client::builder("thinqpat-devfault-0000", "US")
//!     .base_url("http://127.0.0.1:8081")
//!     .add_root_certificate(ca)
//!     .build()?;
//! thinq.event_subscribe("washer-main", 4464).await?;
//! let mut events = thinq.events().await?;
//! while let Some(update) = events.recv().await {
//!     match update {
//!         Ok(Update::Event(event)) => match event.kind {
//!             Kind::Status { report } => println!("{}: {report}", event.device_id),
//!             Kind::Push { code } => println!("{}: push {code}", event.device_id),
//!             other => println!("{}: {}", event.device_id, other.push_type()),
//!         },
//!         Ok(Update::Disconnected { error, retry_in }) => println!("lost ({error}), again in {retry_in:?}"),
//!         Ok(Update::Connected { session_present }) => println!("connected, session kept: {session_present}"),
//!         Err(bad) => println!("{bad}"), // a payload that does not decode; the stream goes on
//!     }
//! }
//! events.close().await?; // DISCONNECT, then DELETE /client
//! # Ok(()) }
//! ```

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use devfault_core::{Class, Failure, FailureKind, Retry};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, EventLoop, Incoming, MqttOptions,
    NetworkOptions, Outgoing, Publish, QoS, StateError, SubscribeReasonCode, TlsConfiguration,
    Transport,
};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::client::{Client, Error};
use crate::event::{DecodeError, Event, MAX_PAYLOAD_BYTES};

/// The API id the event side's failures carry (the emulator's fault rules name it too).
pub const MQTT_API: &str = "thinq-mqtt";

/// The ALPN protocol AWS IoT Core expects for MQTT with a client certificate on port 443.
pub const ALPN_MQTT: &[u8] = b"x-amzn-mqtt-ca";

/// The port used when `mqttServer` names none (MQTT over TLS).
pub const DEFAULT_MQTT_PORT: u16 = 8883;

/// The default MQTT keep-alive: AWS IoT raises shorter ones to 30 s (LG's SDK asks 6 s).
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// How many updates the stream holds for a consumer that has not read them.
pub const BUFFER: usize = 256;

/// How long [`EventStream::close`] and a dropped stream wait for the DISCONNECT to go out.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// The event side's settings, kept by the client builder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EventOptions {
    pub(crate) connect_to: Option<std::net::SocketAddr>,
    pub(crate) reconnect: Reconnect,
    pub(crate) keep_alive: Duration,
}

impl Default for EventOptions {
    fn default() -> EventOptions {
        EventOptions {
            connect_to: None,
            reconnect: Reconnect::default(),
            keep_alive: DEFAULT_KEEP_ALIVE,
        }
    }
}

/// How a lost event connection is retried: after `min_delay`, doubling up to `max_delay`
/// (each delay drawn from its upper half at random, so a fleet cut off at once does not
/// return at once), for ever or `max_attempts` times in a row.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reconnect {
    min_delay: Duration,
    max_delay: Duration,
    max_attempts: Option<u32>,
}

/// 5 s doubling to 60 s, for ever: the back-off of LG's SDK (awscrt's 5–60 s).
impl Default for Reconnect {
    fn default() -> Reconnect {
        Reconnect::new(Duration::from_secs(5), Duration::from_secs(60))
    }
}

impl Reconnect {
    /// From `min_delay` doubling to `max_delay` (raised to `min_delay` if smaller), for ever.
    pub fn new(min_delay: Duration, max_delay: Duration) -> Reconnect {
        Reconnect { min_delay, max_delay: max_delay.max(min_delay), max_attempts: None }
    }

    /// Gives up after `attempts` failed reconnections in a row: the stream's last item is
    /// the last failure, then it ends.
    pub fn max_attempts(self, attempts: u32) -> Reconnect {
        Reconnect { max_attempts: Some(attempts), ..self }
    }

    /// The wait before reconnection `attempt` (1 for the first), jittered within its upper
    /// half.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let full = self.min_delay.saturating_mul(1 << doublings).min(self.max_delay);
        let random = crate::client::random_bytes()
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        (full / 2).saturating_add((full / 2).mul_f64(f64::from(random) / f64::from(u32::MAX)))
    }
}

/// What the event stream yields besides errors.
// Events are nearly every item: boxing them would allocate once per event to save room in
// the few connection updates.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Update {
    /// An event.
    Event(Event),
    /// The broker accepted the connection (also the first item of every stream);
    /// `session_present` says it kept the session, so what was published while away follows.
    Connected {
        /// The broker's CONNACK flag.
        session_present: bool,
    },
    /// The connection was lost; events may be missing until the next [`Update::Connected`].
    Disconnected {
        /// Why, classified.
        error: Error,
        /// When the stream tries again.
        retry_in: Duration,
    },
}

impl Update {
    /// The event, if this is one.
    pub fn event(self) -> Option<Event> {
        match self {
            Update::Event(event) => Some(event),
            _ => None,
        }
    }
}

/// The events of one ThinQ client over MQTT, made by [`Client::events`]: a
/// `Stream<Item = Result<Update, Error>>` (and [`EventStream::recv`] without a stream
/// library). An `Err` item is a payload that did not decode or a refused subscription (the
/// stream goes on), or, just before the end, the failure that exhausted
/// [`Reconnect::max_attempts`]. Dropping it disconnects; [`EventStream::close`] also
/// unregisters the client.
#[derive(Debug)]
pub struct EventStream {
    updates: mpsc::Receiver<Result<Update, Error>>,
    mqtt: AsyncClient,
    task: Option<JoinHandle<()>>,
    client: Client,
    topic: String,
}

impl EventStream {
    /// The next update; `None` once the stream ended.
    pub async fn recv(&mut self) -> Option<Result<Update, Error>> {
        self.updates.recv().await
    }

    /// The topic subscribed to (`subscriptions[0]` of the certificate reply).
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Disconnects (MQTT DISCONNECT, waited for at most 2 s) and unregisters the client
    /// (`DELETE /client` with the SDK's body), which ends its persistent session. Updates
    /// not yet read are discarded.
    pub async fn close(mut self) -> Result<(), Error> {
        self.updates.close();
        let _ = self.mqtt.try_disconnect();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(CLOSE_WAIT * 2, task).await.is_err() {
                abort.abort();
            }
        }
        self.client.unregister_client().await
    }
}

/// A dropped stream disconnects (its task sends DISCONNECT and ends); the client stays
/// registered.
impl Drop for EventStream {
    fn drop(&mut self) {
        self.updates.close();
        let _ = self.mqtt.try_disconnect();
    }
}

impl futures_core::Stream for EventStream {
    type Item = Result<Update, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().updates.poll_recv(cx)
    }
}

fn failure(kind: FailureKind, message: String) -> Failure {
    Failure::new(MQTT_API, kind, message)
}

fn usage(message: String) -> Error {
    Error::new(failure(FailureKind::Usage, message))
}

fn protocol(message: String) -> Error {
    Error::new(failure(FailureKind::Protocol, message).with_outcome_unknown(false))
}

/// The host and port of `mqttServer` (`mqtts://host[:port]`).
fn broker_of(mqtt_server: &str) -> Result<(String, u16), Error> {
    let bad = |why: &str| {
        protocol(format!(
            "GET /route answered mqttServer {mqtt_server:?}, {why}; expected mqtts://HOST[:PORT]"
        ))
    };
    let rest = mqtt_server.trim().strip_prefix("mqtts://").ok_or_else(|| bad("not mqtts://"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.starts_with('[') {
        return Err(bad("an IPv6 host, which the MQTT client cannot name (use mqtt_connect_to)"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => {
            (host, port.parse::<u16>().map_err(|_| bad("whose port is not 0-65535"))?)
        }
        None => (authority, DEFAULT_MQTT_PORT),
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !host_ok || port == 0 {
        return Err(bad("without a usable host and port"));
    }
    Ok((host.to_owned(), port))
}

/// A CSR as LG's SDK sends it: CN `lg_thinq`, the PEM body without its BEGIN/END lines.
fn csr_of(key: &KeyPair) -> Result<String, Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "lg_thinq");
    let pem = params
        .serialize_request(key)
        .and_then(|csr| csr.pem())
        .map_err(|e| usage(format!("cannot make the certificate request: {e}")))?;
    Ok(pem.lines().filter(|line| !line.starts_with("-----")).collect())
}

/// `certificatePem` and `subscriptions[0]` of the certificate reply.
fn issued(reply: &Value) -> Result<(String, String), Error> {
    let result = reply.get("result").unwrap_or(reply);
    let text = |value: Option<&Value>, what: &str| {
        value.and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            let mut shown = reply.to_string();
            shown.truncate(160);
            protocol(format!("POST /client/certificate answered without {what}: {shown}"))
        })
    };
    let pem = text(result.get("certificatePem"), "result.certificatePem")?;
    let topic =
        text(result.get("subscriptions").and_then(|s| s.get(0)), "result.subscriptions[0]")?;
    Ok((pem, topic))
}

/// The builder's roots (PEM, possibly several, or DER) and webpki's.
fn roots(extra: &[Vec<u8>]) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for bytes in extra {
        let certificates: Vec<CertificateDer<'static>> = if bytes.starts_with(b"-----BEGIN") {
            CertificateDer::pem_slice_iter(bytes).filter_map(Result::ok).collect()
        } else {
            vec![CertificateDer::from(bytes.clone())]
        };
        let (added, _) = store.add_parsable_certificates(certificates);
        if added == 0 {
            return Err(usage(format!(
                "a root certificate ({} bytes) holds no certificate rustls accepts as a trust anchor",
                bytes.len()
            )));
        }
    }
    Ok(store)
}

/// Checks the broker's certificate for `name` whatever address the connection went to (for
/// `mqtt_connect_to`); the check itself is webpki's.
#[derive(Debug)]
struct NamedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for NamedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner.verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The TLS configuration of the connection: ring, the roots, the client certificate, ALPN
/// on 443, and the pinned name when connecting elsewhere.
fn tls_config(
    roots: RootCertStore,
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    host: &str,
    port: u16,
    elsewhere: bool,
) -> Result<ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_usage = |e: rustls::Error| usage(format!("cannot configure TLS for the broker: {e}"));
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(tls_usage)?;
    let builder = if elsewhere {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| usage(format!("the broker host {host:?} is not a TLS name: {e}")))?;
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| usage(format!("cannot build the certificate check: {e}")))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NamedVerifier { inner, name }))
    } else {
        builder.with_root_certificates(roots)
    };
    let mut config = builder.with_client_auth_cert(vec![certificate], key).map_err(|e| {
        protocol(format!("the issued certificate does not fit the key it was issued for: {e}"))
    })?;
    if port == 443 {
        config.alpn_protocols = vec![ALPN_MQTT.to_vec()];
    }
    Ok(config)
}

/// The CONNACK refusals (MQTT 3.1.1 §3.2.2.3): code, name, class, advice.
const REFUSALS: &[(ConnectReturnCode, &str, Class, Retry)] = &[
    (
        ConnectReturnCode::RefusedProtocolVersion,
        "Connection Refused, unacceptable protocol version",
        Class::Unsupported,
        Retry::Never,
    ),
    (
        ConnectReturnCode::BadClientId,
        "Connection Refused, identifier rejected",
        Class::Permission,
        Retry::Never,
    ),
    (
        ConnectReturnCode::ServiceUnavailable,
        "Connection Refused, Server unavailable",
        Class::Transient,
        Retry::BackOff,
    ),
    (
        ConnectReturnCode::BadUserNamePassword,
        "Connection Refused, bad user name or password",
        Class::Authentication,
        Retry::Never,
    ),
    (
        ConnectReturnCode::NotAuthorized,
        "Connection Refused, not authorized",
        Class::Permission,
        Retry::Never,
    ),
];

/// The rustls error inside `error`, looking through `io::Error`s (whose `source` skips the
/// error they wrap).
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        current = match e.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// A connection failure, classified; `broker` names where it went.
fn classify(error: ConnectionError, broker: &str) -> Error {
    if let ConnectionError::ConnectionRefused(code) = error {
        let (name, class, retry) = REFUSALS
            .iter()
            .find(|(c, ..)| *c == code)
            .map_or(("Connection Refused", Class::Unknown, Retry::Never), |(_, n, c, r)| {
                (*n, *c, *r)
            });
        return Error::new(
            failure(FailureKind::Api, format!("{broker}: CONNACK {}: {name}", code as u8))
                .with_code((code as u8).to_string(), None)
                .with_class(class)
                .with_retry(retry)
                .with_outcome_unknown(false),
        );
    }
    if let Some(tls) = rustls_error(&error) {
        let (why, advice) = match tls {
            rustls::Error::InvalidCertificate(_) => (
                "the broker's certificate is not trusted",
                "trust its CA with add_root_certificate (an emulator's: GET /thinq/ca.pem on its admin API)",
            ),
            rustls::Error::AlertReceived(_) => (
                "the broker refused the TLS handshake (its alert follows)",
                "the client certificate may be from another CA or revoked: call events() again for a new one",
            ),
            _ => ("TLS failed", "check the broker's address and TLS setup"),
        };
        return Error::new(
            failure(FailureKind::Transport, format!("{broker}: {why}: {tls}; {advice}"))
                .with_class(Class::Authentication)
                .with_retry(Retry::Never)
                .with_outcome_unknown(false),
        );
    }
    let message = format!("{broker}: {error}");
    let kind = match &error {
        ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => FailureKind::Timeout,
        ConnectionError::NotConnAck(_)
        | ConnectionError::MqttState(
            StateError::Unsolicited(_) | StateError::WrongPacket | StateError::InvalidState,
        ) => FailureKind::Protocol,
        // A read that failed underneath the codec is the connection's failure, not the
        // broker's bytes.
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::Io(_))) => {
            FailureKind::Transport
        }
        ConnectionError::MqttState(StateError::Deserialization(_)) => FailureKind::Protocol,
        _ => FailureKind::Transport,
    };
    Error::new(failure(kind, message).with_outcome_unknown(false).with_source(error))
}

/// A payload that is not an event, as an error item.
fn undecodable(error: DecodeError, topic: &str) -> Error {
    let kind = match error {
        DecodeError::TooLarge(_) | DecodeError::NotJson(_) => FailureKind::Unreadable,
        _ => FailureKind::Protocol,
    };
    Error::new(
        failure(kind, format!("an event on {topic} does not decode: {error}"))
            .with_retry(Retry::Never)
            .with_outcome_unknown(false)
            .with_source(error),
    )
}

fn refused_subscription(topic: &str) -> Error {
    Error::new(
        failure(
            FailureKind::Api,
            format!("SUBACK 0x80: the broker refused the subscription to {topic}"),
        )
        .with_code("128", None)
        .with_class(Class::Permission)
        .with_retry(Retry::Never)
        .with_outcome_unknown(false),
    )
}

impl Client {
    /// Registers this client for MQTT, gets it a certificate, connects to the broker
    /// `/route` names and subscribes, then returns the stream of its events. See the
    /// [`event_stream`](crate::event_stream) module documentation for the steps and the guarantees.
    ///
    /// Which events arrive is decided at the cloud: `DEVICE_STATUS` for appliances with an
    /// unexpired [`event_subscribe`](Client::event_subscribe), `DEVICE_PUSH` for
    /// [`push_subscribe`](Client::push_subscribe)d ones, lifecycle events after
    /// [`push_devices_subscribe`](Client::push_devices_subscribe).
    pub async fn events(&self) -> Result<EventStream, Error> {
        let inner = self.inner();
        let client_id = self.client_id().to_owned();
        if client_id.is_empty() {
            return Err(usage(
                "the client id is empty; MQTT needs one for its persistent session".to_owned(),
            ));
        }
        let route = self.route().await?;
        let (host, port) = broker_of(&route.mqtt_server)?;
        self.register_client().await?;
        let key = KeyPair::generate().map_err(|e| usage(format!("cannot make a key: {e}")))?;
        let reply = self.client_certificate(&csr_of(&key)?).await?;
        let (certificate_pem, topic) = issued(&reply)?;
        let certificate = CertificateDer::from_pem_slice(certificate_pem.as_bytes()).map_err(|e| {
            protocol(format!("POST /client/certificate answered a certificatePem that is not a PEM certificate: {e}"))
        })?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let options = inner.events;
        let config = tls_config(
            roots(&inner.root_certificates)?,
            certificate,
            key,
            &host,
            port,
            options.connect_to.is_some(),
        )?;
        let (peer_host, peer_port) = match options.connect_to {
            Some(addr) => (addr.ip().to_string(), addr.port()),
            None => (host.clone(), port),
        };
        let broker = match options.connect_to {
            Some(addr) => format!("MQTT broker {host}:{port} (at {addr})"),
            None => format!("MQTT broker {host}:{port}"),
        };
        let mut mqtt_options = MqttOptions::new(client_id, peer_host, peer_port);
        mqtt_options
            .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(Arc::new(config))))
            .set_keep_alive(options.keep_alive)
            .set_clean_session(false)
            .set_manual_acks(true)
            // A packet holds one payload and its topic; larger is a broker fault.
            .set_max_packet_size(MAX_PAYLOAD_BYTES + 4096, 64 * 1024);
        let (mqtt, mut eventloop) = AsyncClient::new(mqtt_options, 16);
        let mut network = NetworkOptions::new();
        network.set_connection_timeout(inner.timeout.as_secs().max(1));
        eventloop.set_network_options(network);

        let (tx, rx) = mpsc::channel(BUFFER);
        let first = tokio::time::timeout(
            inner.timeout,
            first_connection(&mut eventloop, &mqtt, &tx, &topic, &broker),
        )
        .await;
        let lost = match first {
            Ok(Ok(lost)) => lost,
            Ok(Err(error)) => return Err(error),
            Err(_) => {
                return Err(Error::new(failure(
                    FailureKind::Timeout,
                    format!(
                        "{broker}: no CONNACK and SUBACK within {:?} (the client's timeout)",
                        inner.timeout
                    ),
                )));
            }
        };
        let task = tokio::spawn(run(
            eventloop,
            mqtt.clone(),
            tx,
            topic.clone(),
            options.reconnect,
            broker,
            lost,
        ));
        Ok(EventStream { updates: rx, mqtt, task: Some(task), client: self.clone(), topic })
    }
}

/// The first connection, up to the SUBACK; events that come before it are kept (and
/// acknowledged) when the buffer has room. A failure before CONNACK 0 is the caller's error
/// (the broker refuses, TLS fails); a connection lost after it is handed to the stream, which
/// reconnects (`Ok(Some(why))`).
async fn first_connection(
    eventloop: &mut EventLoop,
    mqtt: &AsyncClient,
    tx: &mpsc::Sender<Result<Update, Error>>,
    topic: &str,
    broker: &str,
) -> Result<Option<Error>, Error> {
    let mut accepted = false;
    loop {
        let polled = match eventloop.poll().await {
            Ok(polled) => polled,
            Err(error) if accepted => return Ok(Some(classify(error, broker))),
            Err(error) => return Err(classify(error, broker)),
        };
        match polled {
            rumqttc::Event::Incoming(Incoming::ConnAck(ack)) => {
                accepted = true;
                let _ = tx.try_send(Ok(Update::Connected { session_present: ack.session_present }));
                mqtt.try_subscribe(topic, QoS::AtLeastOnce)
                    .map_err(|e| usage(format!("cannot queue the SUBSCRIBE: {e}")))?;
            }
            rumqttc::Event::Incoming(Incoming::SubAck(ack)) => {
                return if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
                    Err(refused_subscription(topic))
                } else {
                    Ok(None)
                };
            }
            rumqttc::Event::Incoming(Incoming::Publish(publish)) => {
                // Acknowledged only when buffered; otherwise it comes again on reconnect.
                let _ = tx.try_send(decoded(&publish, topic)).map(|()| mqtt.try_ack(&publish));
            }
            _ => {}
        }
    }
}

fn decoded(publish: &Publish, topic: &str) -> Result<Update, Error> {
    Event::decode(&publish.payload).map(Update::Event).map_err(|e| undecodable(e, topic))
}

/// The stream's task: polls the connection, hands updates over, reconnects.
async fn run(
    mut eventloop: EventLoop,
    mqtt: AsyncClient,
    tx: mpsc::Sender<Result<Update, Error>>,
    topic: String,
    reconnect: Reconnect,
    broker: String,
    lost: Option<Error>,
) {
    let mut failures = 0u32;
    // Whether the broker acknowledged the subscription in the session it keeps.
    let mut subscribed = lost.is_none();
    let mut pending = lost.map(Err);
    loop {
        let polled = match pending.take() {
            Some(lost) => lost,
            None => eventloop.poll().await.map_err(|e| classify(e, &broker)),
        };
        match polled {
            Ok(rumqttc::Event::Incoming(Incoming::ConnAck(ack))) => {
                failures = 0;
                if !ack.session_present || !subscribed {
                    // The broker forgot the session, or never had the subscription.
                    let _ = mqtt.try_subscribe(topic.as_str(), QoS::AtLeastOnce);
                }
                let update = Update::Connected { session_present: ack.session_present };
                if tx.send(Ok(update)).await.is_err() {
                    break;
                }
            }
            Ok(rumqttc::Event::Incoming(Incoming::Publish(publish))) => {
                if tx.send(decoded(&publish, &topic)).await.is_err() {
                    break;
                }
                // Acknowledged once buffered; an undecodable payload too (it would only
                // come again).
                let _ = mqtt.try_ack(&publish);
            }
            Ok(rumqttc::Event::Incoming(Incoming::SubAck(ack))) => {
                subscribed = !ack.return_codes.contains(&SubscribeReasonCode::Failure);
                if !subscribed && tx.send(Err(refused_subscription(&topic))).await.is_err() {
                    break;
                }
            }
            Ok(rumqttc::Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(error) => {
                if tx.is_closed() {
                    return;
                }
                failures = failures.saturating_add(1);
                if reconnect.max_attempts.is_some_and(|max| failures > max) {
                    let _ = tx.send(Err(error)).await;
                    return;
                }
                let retry_in = reconnect.delay(failures);
                if tx.send(Ok(Update::Disconnected { error, retry_in })).await.is_err() {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(retry_in) => {}
                    () = tx.closed() => return,
                }
            }
        }
    }
    // The consumer is gone: say goodbye if still connected, briefly.
    if eventloop.network.is_some() {
        let _ = mqtt.try_disconnect();
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            loop {
                match eventloop.poll().await {
                    Ok(rumqttc::Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broker_is_read_from_mqtt_server_with_its_port() {
        assert_eq!(
            broker_of("mqtts://127.0.0.1:8883").expect("ok"),
            ("127.0.0.1".to_owned(), 8883)
        );
        assert_eq!(
            broker_of("mqtts://a3phael99lf879-ats.iot.ap-northeast-2.amazonaws.com").expect("ok"),
            ("a3phael99lf879-ats.iot.ap-northeast-2.amazonaws.com".to_owned(), 8883)
        );
        for bad in [
            "",
            "https://x:1",
            "mqtts://:1",
            "mqtts://h:port",
            "mqtts://h:0",
            "mqtts://[::1]:8883",
            "mqtts://h h:1",
        ] {
            let err = broker_of(bad).expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
            assert_eq!(err.kind, FailureKind::Protocol);
        }
    }

    #[test]
    fn reconnection_backs_off_within_its_bounds() {
        let policy = Reconnect::default();
        for (attempt, full) in [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (40, 60)] {
            let delay = policy.delay(attempt);
            let full = Duration::from_secs(full);
            assert!(delay >= full / 2 && delay <= full, "attempt {attempt}: {delay:?} of {full:?}");
        }
        let huge = Reconnect::new(Duration::MAX, Duration::MAX);
        assert!(huge.delay(u32::MAX) >= Duration::MAX / 2, "saturates, no overflow");
        let odd = Reconnect::new(Duration::from_secs(3), Duration::from_secs(1)).max_attempts(2);
        assert!(odd.delay(9) <= Duration::from_secs(3) && odd.max_attempts == Some(2));
    }

    #[test]
    fn connack_refusals_are_classified_by_code() {
        let err =
            classify(ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized), "b");
        assert_eq!(
            (err.kind, err.code.as_deref(), err.class),
            (FailureKind::Api, Some("5"), Class::Permission)
        );
        let err = classify(
            ConnectionError::ConnectionRefused(ConnectReturnCode::ServiceUnavailable),
            "b",
        );
        assert_eq!((err.code.as_deref(), err.retry), (Some("3"), Retry::BackOff));
        assert!(err.to_string().contains("Server unavailable"), "{err}");
        let err = classify(ConnectionError::NetworkTimeout, "b");
        assert_eq!(err.kind, FailureKind::Timeout);
        let untrusted = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let err = classify(ConnectionError::Io(untrusted), "b");
        assert_eq!(
            (err.kind, err.class, err.retry),
            (FailureKind::Transport, Class::Authentication, Retry::Never)
        );
        assert!(err.to_string().contains("add_root_certificate"), "{err}");
    }

    #[test]
    fn the_certificate_reply_must_name_a_certificate_and_a_topic() {
        let reply = serde_json::json!({"resultCode": "0000", "result": {"certificatePem": "PEM", "subscriptions": ["app/clients/c/push"]}});
        assert_eq!(
            issued(&reply).expect("ok"),
            ("PEM".to_owned(), "app/clients/c/push".to_owned())
        );
        let err =
            issued(&serde_json::json!({"result": {"certificatePem": "PEM", "subscriptions": []}}))
                .expect_err("no topic");
        assert!(err.to_string().contains("result.subscriptions[0]"), "{err}");
    }

    #[test]
    fn a_csr_is_the_pem_body_of_an_lg_thinq_request() {
        let key = KeyPair::generate().expect("key");
        let csr = csr_of(&key).expect("csr");
        assert!(!csr.contains("-----") && !csr.contains('\n') && csr.len() > 100, "{csr}");
    }

    #[test]
    fn port_443_asks_for_mqtt_by_alpn_and_other_ports_do_not() {
        let key = KeyPair::generate().expect("key");
        let certificate = CertificateParams::new(vec!["lg_thinq".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("certificate");
        let config = |port, elsewhere| {
            tls_config(
                roots(&[]).expect("roots"),
                certificate.der().clone(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
                "broker.example",
                port,
                elsewhere,
            )
            .expect("a config")
        };
        assert_eq!(config(443, false).alpn_protocols, [ALPN_MQTT.to_vec()]);
        assert!(config(8883, true).alpn_protocols.is_empty());
    }

    #[test]
    fn roots_must_hold_a_certificate() {
        assert!(roots(&[]).expect("webpki").len() > 50);
        let err = roots(&[b"-----BEGIN nothing".to_vec()]).expect_err("no certificate");
        assert_eq!(err.kind, FailureKind::Usage);
    }
}
