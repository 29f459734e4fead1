//! The MQTT 3.1.1 endpoint, as AWS IoT Core serves LG's clients: mutual TLS with client
//! certificates from the cloud's CA, then MQTT. Packets are read and written with rumqttc's
//! `mqttbytes::v4` codec; this module holds only the broker's rules:
//!
//! - CONNECT must be the first packet (within [`CONNECT_TIMEOUT`]), protocol level 4
//!   (anything else: CONNACK 1), with the client id the certificate was issued to (another:
//!   CONNACK 5 Not authorized; an empty one: CONNACK 2), of a client still registered
//!   (`DELETE /client` ends it: CONNACK 5). A second connection with the same id takes the
//!   session over and the first is closed, as MQTT 3.1.1 §3.1.4 says.
//! - SUBSCRIBE: only the client's own topic `app/clients/{id}/push` is granted (QoS 0 or 1;
//!   2 is granted as 1); any other filter gets the failure code 0x80 in SUBACK.
//! - Delivery at the granted QoS; QoS 1 messages stay in flight until PUBACK and are sent
//!   again, flagged DUP, when a persistent session reconnects.
//! - Keep-alive: no packet for 1.5 × the keep-alive the client asked for closes the
//!   connection (§3.1.2.10). PINGREQ gets PINGRESP. DISCONNECT closes it cleanly.
//! - Clients do not publish (their policy at AWS allows only subscribing): a PUBLISH closes
//!   the connection, as does any malformed or oversize packet (more than [`MAX_PACKET_BYTES`]).
//!
//! Every CONNECT (accepted or refused), SUBSCRIBE, close and event goes to the journal under
//! the API `thinq-mqtt`, the password of a CONNECT redacted.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, Publish, SubAck, SubscribeReasonCode, UnsubAck,
};
use rumqttc::mqttbytes::{Error as CodecError, Protocol, QoS};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::server::WebPkiClientVerifier;

use super::ca::{CaError, client_id_of};
use super::faults;
use super::session::{MAX_IN_FLIGHT, Session};
use super::{Hub, topic_of};
use crate::faults::ActionKind;
use crate::thinq::lock;

/// The ALPN protocol AWS IoT serves MQTT under on port 443, and LG's SDK asks for there.
pub const ALPN_MQTT: &[u8] = b"x-amzn-mqtt-ca";

/// The names the broker's certificate is valid for: the loopback names `/route` uses.
pub const BROKER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The largest packet a client may send; a larger one closes its connection.
pub const MAX_PACKET_BYTES: usize = 128 * 1024;

/// How long a connection may take from TLS handshake to CONNECT.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long writing one packet may take before the connection is dropped (a client that does
/// not read).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 20_000;

/// The TLS configuration of the dedicated MQTT port: client certificates required and checked
/// against the cloud's CA; the server certificate issued by that CA for [`BROKER_NAMES`].
/// With `optional_client_auth`, clients without a certificate still complete the handshake
/// (the shared HTTPS listener serves them HTTP; MQTT then refuses them).
pub fn server_config(
    hub: &Hub,
    names: &[&str],
    optional_client_auth: bool,
) -> Result<ServerConfig, CaError> {
    let ca = hub.ca()?;
    let provider = Arc::new(ring::default_provider());
    let builder = WebPkiClientVerifier::builder_with_provider(ca.roots(), Arc::clone(&provider));
    let builder = if optional_client_auth { builder.allow_unauthenticated() } else { builder };
    let verifier =
        builder.build().map_err(|e| CaError(format!("cannot verify client certificates: {e}")))?;
    let identity = ca.issue_server(names)?;
    let key = identity.key();
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CaError(format!("the ring provider refuses TLS 1.2 and 1.3: {e}")))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain, key)
        .map_err(|e| CaError(format!("rustls refuses the server certificate: {e}")))?;
    Ok(config)
}

/// Serves MQTT over TLS on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    hub: Arc<Hub>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let room = connections.len() < MAX_CONNECTIONS;
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept(), if room => {
                let Ok((tcp, peer)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let hub = Arc::clone(&hub);
                connections.spawn(async move {
                    match timeout(CONNECT_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => serve_tls_stream(hub, tls, peer).await,
                        Ok(Err(error)) => hub.journal(
                            super::super::CLOUD_ID,
                            "TLS",
                            &peer.to_string(),
                            &[("x-mqtt-refused", &format!("TLS handshake failed: {error}"))],
                            b"",
                        ),
                        Err(_) => {}
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    Ok(())
}

/// Serves one MQTT connection that completed its TLS handshake: the client id comes from its
/// certificate.
pub async fn serve_tls_stream<S>(
    hub: Arc<Hub>,
    tls: tokio_rustls::server::TlsStream<S>,
    peer: SocketAddr,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let certified =
        tls.get_ref().1.peer_certificates().and_then(|chain| chain.first()).and_then(client_id_of);
    connection(hub, tls, certified, peer).await;
}

/// Numbers connections, so a session knows which one holds it.
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// Why reading a packet stopped.
enum ReadEnd {
    Closed,
    Codec(CodecError),
    Io,
}

/// Reads one whole packet, reading more bytes as needed.
async fn read_packet<R: AsyncRead + Unpin>(
    reader: &mut R,
    buffer: &mut BytesMut,
) -> Result<Packet, ReadEnd> {
    loop {
        match Packet::read(buffer, MAX_PACKET_BYTES) {
            Ok(packet) => return Ok(packet),
            Err(CodecError::InsufficientBytes(_)) => {}
            Err(error) => return Err(ReadEnd::Codec(error)),
        }
        match reader.read_buf(buffer).await {
            Ok(0) => return Err(ReadEnd::Closed),
            Ok(_) => {}
            Err(_) => return Err(ReadEnd::Io),
        }
    }
}

async fn write<W: AsyncWrite + Unpin>(writer: &mut W, packets: &[Packet]) -> io::Result<()> {
    let mut out = BytesMut::new();
    for packet in packets {
        packet
            .write(&mut out, usize::MAX)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    }
    timeout(WRITE_TIMEOUT, async {
        writer.write_all(&out).await?;
        writer.flush().await
    })
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the client does not read"))?
}

/// Serves one connection whose TLS layer is done (or absent: the fuzz target feeds bytes
/// straight in): `certified` is the client id of its certificate, `None` without one.
pub async fn connection<S>(hub: Arc<Hub>, stream: S, certified: Option<String>, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut buffer = BytesMut::with_capacity(4096);
    let peer_text = peer.to_string();
    let refuse = |why: &str| {
        hub.counters.refused.fetch_add(1, Ordering::Relaxed);
        hub.journal(super::super::CLOUD_ID, "CONNECT", &peer_text, &[("x-mqtt-refused", why)], b"");
    };
    let first = match timeout(CONNECT_TIMEOUT, read_packet(&mut reader, &mut buffer)).await {
        Ok(Ok(packet)) => packet,
        Ok(Err(ReadEnd::Codec(CodecError::InvalidProtocolLevel(level)))) => {
            let ack =
                Packet::ConnAck(ConnAck::new(ConnectReturnCode::RefusedProtocolVersion, false));
            let _ = write(&mut writer, &[ack]).await;
            refuse(&format!("protocol level {level}: only 4 (MQTT 3.1.1); CONNACK 1"));
            return;
        }
        Ok(Err(ReadEnd::Codec(error))) => {
            refuse(&format!("not an MQTT CONNECT: {error}; connection closed"));
            return;
        }
        Ok(Err(ReadEnd::Closed | ReadEnd::Io)) => {
            refuse("closed before CONNECT");
            return;
        }
        Err(_) => {
            refuse(&format!("no CONNECT within {CONNECT_TIMEOUT:?}; connection closed"));
            return;
        }
    };
    let Packet::Connect(connect) = first else {
        refuse("the first packet is not CONNECT; connection closed");
        return;
    };
    let client_id = connect.client_id.clone();
    let mut details: Vec<(&str, String)> = vec![
        ("x-mqtt-client-id", client_id.clone()),
        ("x-mqtt-clean-session", connect.clean_session.to_string()),
        ("x-mqtt-keep-alive", connect.keep_alive.to_string()),
    ];
    if let Some(login) = &connect.login {
        details.push(("x-mqtt-username", login.username.clone()));
        details.push(("authorization", format!("Password {}", login.password)));
    }
    let verdict = if connect.protocol != Protocol::V4 {
        Err((
            ConnectReturnCode::RefusedProtocolVersion,
            "protocol level 5: only 4 (MQTT 3.1.1)".to_owned(),
        ))
    } else if client_id.is_empty() {
        Err((
            ConnectReturnCode::BadClientId,
            "an empty client id: give the ThinQ client id".to_owned(),
        ))
    } else if certified.is_none() {
        Err((
            ConnectReturnCode::NotAuthorized,
            "no client certificate: get one from POST /client/certificate".to_owned(),
        ))
    } else if certified.as_deref() != Some(client_id.as_str()) {
        Err((
            ConnectReturnCode::NotAuthorized,
            format!(
                "client id {client_id:?} is not the one the certificate was issued to ({:?})",
                certified.as_deref().unwrap_or("")
            ),
        ))
    } else if hub.user_of(&client_id).is_none() {
        Err((
            ConnectReturnCode::NotAuthorized,
            format!("client {client_id:?} is not registered (POST /client)"),
        ))
    } else {
        Ok(())
    };
    let journal_connect = |outcome: &str| {
        let mut pairs: Vec<(&str, &str)> = details.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("x-mqtt-connack", outcome));
        hub.journal(super::super::CLOUD_ID, "CONNECT", &client_id, &pairs, b"");
    };
    if let Err((code, why)) = verdict {
        hub.counters.refused.fetch_add(1, Ordering::Relaxed);
        journal_connect(&format!("{} ({why})", code as u8));
        let _ = write(&mut writer, &[Packet::ConnAck(ConnAck::new(code, false))]).await;
        return;
    }
    if let Some(rule) = faults::decide(hub.faults(), "CONNECT", &client_id, &client_id, None) {
        let fired = format!("fault rule {}", rule.id);
        match rule.spec.action {
            ActionKind::Code => {
                let code = rule
                    .resolved
                    .as_ref()
                    .and_then(|r| r.code.parse::<u8>().ok())
                    .and_then(return_code)
                    .unwrap_or(ConnectReturnCode::ServiceUnavailable);
                hub.counters.refused.fetch_add(1, Ordering::Relaxed);
                journal_connect(&format!("{} ({fired})", code as u8));
                let _ = write(&mut writer, &[Packet::ConnAck(ConnAck::new(code, false))]).await;
                return;
            }
            ActionKind::Reset => {
                journal_connect(&format!("0, then closed ({fired})"));
                let ack = ConnAck::new(ConnectReturnCode::Success, false);
                let _ = write(&mut writer, &[Packet::ConnAck(ack)]).await;
                return;
            }
            _ => {}
        }
    }
    let connection_id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let session = hub.session(&client_id);
    let (session_present, resend) = {
        let mut state = lock(&session.state);
        let present = !connect.clean_session && state.persistent;
        if !present {
            *state = super::session::SessionState::default();
        }
        state.persistent = !connect.clean_session;
        state.connection = Some(connection_id);
        let resend: Vec<Packet> = state
            .in_flight
            .iter()
            .map(|(pkid, payload)| {
                let mut publish =
                    Publish::from_bytes(topic_of(&client_id), QoS::AtLeastOnce, payload.clone());
                publish.pkid = *pkid;
                publish.dup = true;
                Packet::Publish(publish)
            })
            .collect();
        (present, resend)
    };
    // A connection holding the session before is woken, sees it lost it, and closes.
    session.bell.notify_waiters();
    hub.counters.connections.fetch_add(1, Ordering::Relaxed);
    journal_connect(&format!("0 (session present: {session_present})"));
    let mut packets =
        vec![Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, session_present))];
    packets.extend(resend);
    let end = if write(&mut writer, &packets).await.is_err() {
        "write failed".to_owned()
    } else {
        run(
            &hub,
            &session,
            connection_id,
            connect.keep_alive,
            &mut reader,
            &mut writer,
            &mut buffer,
        )
        .await
    };
    hub.journal(super::super::CLOUD_ID, "CLOSE", &client_id, &[("x-mqtt-closed", &end)], b"");
    hub.end_session(&client_id, connection_id);
}

/// The connection's loop after CONNACK; answers why it ended.
async fn run<R, W>(
    hub: &Hub,
    session: &Session,
    connection_id: u64,
    keep_alive: u16,
    reader: &mut R,
    writer: &mut WriteHalf<W>,
    buffer: &mut BytesMut,
) -> String
where
    R: AsyncRead + Unpin,
    W: AsyncRead + AsyncWrite + Unpin,
{
    let topic = topic_of(&session.client_id);
    // §3.1.2.10: one and a half times the keep-alive without a packet ends the connection.
    let grace = (keep_alive > 0).then(|| Duration::from_millis(u64::from(keep_alive) * 1500));
    let mut deadline = grace.map(|g| Instant::now() + g);
    loop {
        // Send what waits, then handle every whole packet already read.
        let Some(outgoing) = take_outgoing(session, connection_id, &topic) else {
            return "the session was taken over or ended".to_owned();
        };
        if !outgoing.is_empty() && write(writer, &outgoing).await.is_err() {
            return "write failed".to_owned();
        }
        loop {
            let packet = match Packet::read(buffer, MAX_PACKET_BYTES) {
                Ok(packet) => packet,
                Err(CodecError::InsufficientBytes(_)) => break,
                Err(error) => return format!("malformed packet: {error}"),
            };
            deadline = grace.map(|g| Instant::now() + g);
            let reply = match packet {
                Packet::PingReq => Some(Packet::PingResp),
                Packet::Disconnect => return "DISCONNECT".to_owned(),
                Packet::PubAck(ack) => {
                    let withheld =
                        faults::decide(hub.faults(), "PUBACK", &session.client_id, &topic, None)
                            .is_some_and(|rule| rule.spec.action == ActionKind::NoAnswer);
                    if !withheld {
                        lock(&session.state).in_flight.remove(&ack.pkid);
                    }
                    None
                }
                Packet::Subscribe(_)
                    if faults::decide(
                        hub.faults(),
                        "SUBSCRIBE",
                        &session.client_id,
                        &topic,
                        None,
                    )
                    .is_some_and(|rule| rule.spec.action == ActionKind::NoAnswer) =>
                {
                    None
                }
                Packet::Subscribe(subscribe) => {
                    let mut granted = None;
                    let codes: Vec<SubscribeReasonCode> = subscribe
                        .filters
                        .iter()
                        .map(|filter| {
                            if filter.path == topic {
                                let qos = if filter.qos == QoS::AtMostOnce { 0 } else { 1 };
                                granted = Some(qos);
                                SubscribeReasonCode::Success(if qos == 0 {
                                    QoS::AtMostOnce
                                } else {
                                    QoS::AtLeastOnce
                                })
                            } else {
                                SubscribeReasonCode::Failure
                            }
                        })
                        .collect();
                    let filters: Vec<&str> =
                        subscribe.filters.iter().map(|f| f.path.as_str()).collect();
                    let codes_text: Vec<String> = codes
                        .iter()
                        .map(|c| match c {
                            SubscribeReasonCode::Success(q) => (*q as u8).to_string(),
                            SubscribeReasonCode::Failure => "128".to_owned(),
                        })
                        .collect();
                    hub.journal(
                        super::super::CLOUD_ID,
                        "SUBSCRIBE",
                        &filters.join(","),
                        &[
                            ("x-mqtt-client-id", &session.client_id),
                            ("x-mqtt-suback", &codes_text.join(",")),
                        ],
                        b"",
                    );
                    if let Some(qos) = granted {
                        lock(&session.state).subscribed = Some(qos);
                    }
                    Some(Packet::SubAck(SubAck::new(subscribe.pkid, codes)))
                }
                Packet::Unsubscribe(unsubscribe) => {
                    if unsubscribe.topics.contains(&topic) {
                        lock(&session.state).subscribed = None;
                    }
                    Some(Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid)))
                }
                Packet::Publish(publish) => {
                    return format!(
                        "the client published to {:?}: ThinQ clients may only subscribe",
                        publish.topic
                    );
                }
                Packet::Connect(_) => return "a second CONNECT (§3.1.0-2)".to_owned(),
                other => return format!("a {:?} from a client", packet_name(&other)),
            };
            if let Some(reply) = reply
                && write(writer, &[reply]).await.is_err()
            {
                return "write failed".to_owned();
            }
        }
        let expiry = async {
            match deadline {
                Some(at) => sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = reader.read_buf(buffer) => match read {
                Ok(0) => return "closed by the client without DISCONNECT".to_owned(),
                Ok(_) => {}
                Err(error) => return format!("read failed: {error}"),
            },
            () = session.bell.notified() => {}
            () = expiry => {
                return format!("keep-alive expired: nothing for 1.5 x {keep_alive} s");
            }
        }
        if buffer.len() > MAX_PACKET_BYTES + 8 {
            return format!("more than {MAX_PACKET_BYTES} bytes without a whole packet");
        }
    }
}

/// The packets to send now: queued messages at the subscribed QoS (QoS 1 ones move in
/// flight, at most [`MAX_IN_FLIGHT`]). `None` when the connection no longer holds the session.
fn take_outgoing(session: &Session, connection_id: u64, topic: &str) -> Option<Vec<Packet>> {
    let mut state = lock(&session.state);
    if state.connection != Some(connection_id) {
        return None;
    }
    let qos = match state.subscribed {
        Some(qos) => qos,
        None => return Some(Vec::new()),
    };
    let mut out = Vec::new();
    while !state.queue.is_empty() {
        if qos == 1 && state.in_flight.len() >= MAX_IN_FLIGHT {
            break;
        }
        let Some(payload) = state.queue.pop_front() else { break };
        if qos == 0 {
            out.push(Packet::Publish(Publish::from_bytes(topic, QoS::AtMostOnce, payload)));
        } else {
            let pkid = state.next_pkid();
            state.in_flight.insert(pkid, payload.clone());
            let mut publish = Publish::from_bytes(topic, QoS::AtLeastOnce, payload);
            publish.pkid = pkid;
            out.push(Packet::Publish(publish));
        }
    }
    Some(out)
}

/// The CONNACK return code numbered `n` (1 to 5).
fn return_code(n: u8) -> Option<ConnectReturnCode> {
    Some(match n {
        1 => ConnectReturnCode::RefusedProtocolVersion,
        2 => ConnectReturnCode::BadClientId,
        3 => ConnectReturnCode::ServiceUnavailable,
        4 => ConnectReturnCode::BadUserNamePassword,
        5 => ConnectReturnCode::NotAuthorized,
        _ => return None,
    })
}

fn packet_name(packet: &Packet) -> &'static str {
    match packet {
        Packet::ConnAck(_) => "CONNACK",
        Packet::PubRec(_) => "PUBREC",
        Packet::PubRel(_) => "PUBREL",
        Packet::PubComp(_) => "PUBCOMP",
        Packet::SubAck(_) => "SUBACK",
        Packet::UnsubAck(_) => "UNSUBACK",
        Packet::PingResp => "PINGRESP",
        _ => "packet",
    }
}
