//! The event path end to end, in process: `serve` with a broker on a free loopback port, the
//! cloud's HTTP side through its router, and an MQTT client made of tokio-rustls and the same
//! packet codec.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use bytes::BytesMut;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Packet, PubAck, Subscribe, SubscribeReasonCode,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tower::ServiceExt;

use crate::server::{RunningServer, ServeConfig, serve};
use crate::thinq::{API_KEY, Cloud, DEFAULT_TOKEN, router};

use super::ca::pem_der;
use super::topic_of;

/// Every wait of a test is bounded by this.
const STEP: Duration = Duration::from_secs(10);

async fn start(time_scale: Option<u32>) -> RunningServer {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = ServeConfig {
        bravia_addr: any,
        admin_addr: any,
        thinq_addr: any,
        thinq_mqtt_addr: Some(any),
        thinq_time_scale: time_scale,
        ..ServeConfig::default()
    };
    serve(config, std::future::pending()).await.expect("serve")
}

/// A cloud call as the SDK makes it, from ThinQ client `client`.
async fn call(
    cloud: &Arc<Cloud>,
    method: &str,
    path: &str,
    client: &str,
    body: &str,
) -> (u16, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {DEFAULT_TOKEN}"))
        .header("x-country", "US")
        .header("x-message-id", "fNvdZ1brTn-wWKUlWGoSVw")
        .header("x-client-id", client)
        .header("x-api-key", API_KEY)
        .body(Body::from(body.to_owned()))
        .expect("a request");
    let response = router(Arc::clone(cloud)).oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

/// A CSR as LG's SDK sends it: the PEM body without its header and footer lines.
fn csr_of(key: &KeyPair) -> String {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "lg_thinq");
    let pem = params.serialize_request(key).expect("CSR").pem().expect("PEM");
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// A registered client with its certificate and key, as `ThinQMQTTClient` prepares one.
struct Credentials {
    certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    topic: String,
}

const SDK_CLIENT: &str =
    r#"{"type":"MQTT","service-code":"SVC202","device-type":"607","allowExist":true}"#;

async fn prepare(cloud: &Arc<Cloud>, client_id: &str) -> Credentials {
    let (status, _) = call(cloud, "POST", "/client", client_id, SDK_CLIENT).await;
    assert_eq!(status, 200);
    let key = KeyPair::generate().expect("key");
    let body = json!({"service-code": "SVC202", "csr": csr_of(&key)}).to_string();
    let (status, reply) = call(cloud, "POST", "/client/certificate", client_id, &body).await;
    assert_eq!(status, 200, "{reply}");
    let result = &reply["response"]["result"];
    assert_eq!(reply["response"]["resultCode"], "0000");
    let pem = result["certificatePem"].as_str().expect("certificatePem");
    let topic = result["subscriptions"][0].as_str().expect("a subscription").to_owned();
    Credentials {
        certificate: pem_der(pem, "CERTIFICATE").expect("PEM").into(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        topic,
    }
}

/// An MQTT client over TLS, reading and writing with the broker's codec.
struct Mqtt {
    stream: TlsStream<TcpStream>,
    buffer: BytesMut,
}

fn tls_config(server: &RunningServer, credentials: Option<&Credentials>) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    let ca: CertificateDer<'static> =
        pem_der(&server.thinq().ca_pem, "CERTIFICATE").expect("CA").into();
    roots.add(ca).expect("the CA");
    let builder = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    match credentials {
        Some(c) => builder
            .with_client_auth_cert(
                vec![c.certificate.clone()],
                PrivateKeyDer::Pkcs8(c.key.clone_key()),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    }
}

impl Mqtt {
    async fn open(
        server: &RunningServer,
        credentials: Option<&Credentials>,
    ) -> std::io::Result<Mqtt> {
        let addr = server.thinq().mqtt_addr.expect("a broker");
        let connector = TlsConnector::from(Arc::new(tls_config(server, credentials)));
        let tcp = tokio::time::timeout(STEP, TcpStream::connect(addr)).await??;
        let name = ServerName::try_from("127.0.0.1").expect("name");
        let mut stream = tokio::time::timeout(STEP, connector.connect(name, tcp)).await??;
        // TLS 1.3: the server checks the client certificate after the client's handshake
        // ends; a refusal arrives with the first read.
        stream.flush().await?;
        Ok(Mqtt { stream, buffer: BytesMut::new() })
    }

    async fn send(&mut self, packet: Packet) {
        let mut out = BytesMut::new();
        packet.write(&mut out, usize::MAX).expect("encodes");
        self.stream.write_all(&out).await.expect("write");
    }

    /// The next packet; `None` when the connection closed (or nothing came within `STEP`).
    async fn recv(&mut self) -> Option<Packet> {
        loop {
            match Packet::read(&mut self.buffer, 1 << 20) {
                Ok(packet) => return Some(packet),
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(error) => panic!("the broker sent a malformed packet: {error}"),
            }
            match tokio::time::timeout(STEP, self.stream.read_buf(&mut self.buffer)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }

    async fn connect(&mut self, client_id: &str, clean: bool, keep_alive: u16) -> ConnAck {
        let mut connect = Connect::new(client_id);
        connect.clean_session = clean;
        connect.keep_alive = keep_alive;
        self.send(Packet::Connect(connect)).await;
        match self.recv().await {
            Some(Packet::ConnAck(ack)) => ack,
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    async fn subscribe(&mut self, topic: &str) -> Vec<SubscribeReasonCode> {
        let mut subscribe = Subscribe::new(topic, QoS::AtLeastOnce);
        subscribe.pkid = 1;
        self.send(Packet::Subscribe(subscribe)).await;
        match self.recv().await {
            Some(Packet::SubAck(ack)) => ack.return_codes,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// The next PUBLISH's payload as JSON, with its packet id and DUP flag.
    async fn event(&mut self) -> (Value, u16, bool) {
        match self.recv().await {
            Some(Packet::Publish(publish)) => {
                (serde_json::from_slice(&publish.payload).expect("JSON"), publish.pkid, publish.dup)
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
}

const START: &str =
    r#"{"location":{"locationName":"MAIN"},"operation":{"washerOperationMode":"START"}}"#;

#[tokio::test]
async fn a_control_command_reaches_a_subscribed_client_as_home_assistant_reads_it() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-events").await;
    assert_eq!(credentials.topic, topic_of("thinq-open-events"));
    for path in ["/event/washer-main/subscribe", "/push/washer-main/subscribe"] {
        let body = if path.starts_with("/event") {
            r#"{"expire":{"unit":"HOUR","timer":4464}}"#
        } else {
            ""
        };
        assert_eq!(call(&cloud, "POST", path, "thinq-open-events", body).await.0, 200);
    }
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    let ack = client.connect("thinq-open-events", false, 6).await;
    assert_eq!((ack.code, ack.session_present), (ConnectReturnCode::Success, false));
    assert_eq!(
        client.subscribe(&credentials.topic).await,
        vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)]
    );
    assert_eq!(
        client.subscribe("app/clients/someone-else/push").await,
        vec![SubscribeReasonCode::Failure],
        "another client's topic"
    );
    let (status, _) =
        call(&cloud, "POST", "/devices/washer-main/control", "thinq-open-events", START).await;
    assert_eq!(status, 200);
    let (event, pkid, dup) = client.event().await;
    // What Home Assistant's lg_thinq/mqtt.py reads, at the top level.
    assert_eq!(event["pushType"], "DEVICE_STATUS");
    assert_eq!(event["deviceId"], "washer-main");
    assert_eq!(event["deviceType"], "DEVICE_WASHER");
    assert_eq!(event["report"][0]["runState"]["currentState"], "RUNNING", "{event}");
    assert!(!dup);
    client.send(Packet::PubAck(PubAck::new(pkid))).await;

    // An admin PATCH is a change too; the ERROR run state also pushes its code.
    server
        .admin()
        .device("washer-main")
        .expect("listed")
        .device
        .set_state(&json!({"runState": {"currentState": "ERROR"}}))
        .expect("patched");
    // The programme's first step (the timer's totals) may come first; then the ERROR, then
    // its push.
    let mut seen_error = false;
    let push = loop {
        let (event, pkid, _) = client.event().await;
        client.send(Packet::PubAck(PubAck::new(pkid))).await;
        if event["pushType"] == "DEVICE_PUSH" {
            break event;
        }
        seen_error |= event["report"][0]["runState"]["currentState"] == "ERROR";
    };
    assert!(seen_error, "a DEVICE_STATUS with the ERROR run state came before the push");
    assert_eq!(push["pushCode"], "ERROR_DURING_WASHING");
    let journal = server.admin().journal().query(&Default::default());
    assert!(journal.iter().any(|e| e.api == "thinq-mqtt" && e.request.method == "PUBLISH"));
    assert!(journal.iter().any(|e| e.api == "thinq-mqtt" && e.request.method == "CONNECT"));
}

#[tokio::test]
async fn connect_is_refused_for_another_id_or_an_unregistered_client() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-one").await;
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    let ack = client.connect("thinq-open-two", true, 6).await;
    assert_eq!(ack.code, ConnectReturnCode::NotAuthorized, "another client's id");
    assert!(client.recv().await.is_none(), "closed after the refusal");

    assert_eq!(call(&cloud, "DELETE", "/client", "thinq-open-one", SDK_CLIENT).await.0, 200);
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    let ack = client.connect("thinq-open-one", true, 6).await;
    assert_eq!(ack.code, ConnectReturnCode::NotAuthorized, "unregistered by DELETE /client");
}

#[tokio::test]
async fn a_client_without_certificate_fails_the_handshake() {
    let server = start(None).await;
    let outcome = async {
        let mut client = Mqtt::open(&server, None).await?;
        let mut connect = Connect::new("x");
        connect.keep_alive = 5;
        let mut out = BytesMut::new();
        let _ = Packet::Connect(connect).write(&mut out, usize::MAX);
        client.stream.write_all(&out).await?;
        let mut byte = [0u8; 1];
        client.stream.read(&mut byte).await
    }
    .await;
    assert!(outcome.is_err() || outcome.as_ref().is_ok_and(|n| *n == 0), "{outcome:?}");
}

#[tokio::test]
async fn a_persistent_session_keeps_what_it_missed_and_redelivers_unacknowledged() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-away").await;
    let (status, _) =
        call(&cloud, "POST", "/event/ac-living-room/subscribe", "thinq-open-away", "").await;
    assert_eq!(status, 200);
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    client.connect("thinq-open-away", false, 6).await;
    client.subscribe(&credentials.topic).await;
    let wind = |level: &str| format!(r#"{{"airFlow":{{"windStrength":"{level}"}}}}"#);
    call(&cloud, "POST", "/devices/ac-living-room/control", "thinq-open-away", &wind("LOW")).await;
    let (first, pkid, _) = client.event().await;
    assert_eq!(first["report"]["airFlow"]["windStrength"], "LOW");
    drop(client); // gone without PUBACK or DISCONNECT
    tokio::time::sleep(Duration::from_millis(100)).await;
    call(&cloud, "POST", "/devices/ac-living-room/control", "thinq-open-away", &wind("MID")).await;

    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    let ack = client.connect("thinq-open-away", false, 6).await;
    assert!(ack.session_present, "the session was kept");
    let (again, again_pkid, dup) = client.event().await;
    assert_eq!((again_pkid, dup), (pkid, true), "redelivered with DUP");
    assert_eq!(again["report"]["airFlow"]["windStrength"], "LOW");
    let (missed, _, _) = client.event().await;
    assert_eq!(missed["report"]["airFlow"]["windStrength"], "MID", "queued while away");
}

#[tokio::test]
async fn keep_alive_is_enforced_and_garbage_disturbs_nobody() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-idle").await;
    let mut idle = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    idle.connect("thinq-open-idle", true, 1).await;
    let started = std::time::Instant::now();
    idle.send(Packet::PingReq).await;
    assert_eq!(idle.recv().await, Some(Packet::PingResp));
    assert_eq!(idle.recv().await, None, "closed once 1.5 x 1 s passed without a packet");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1400) && waited < Duration::from_secs(5), "{waited:?}");

    // Garbage after the handshake, then plain TCP: both closed, the broker still serves.
    let mut garbage = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    garbage.stream.write_all(&[0xff; 64]).await.expect("write");
    assert_eq!(garbage.recv().await, None);
    let mut plain =
        TcpStream::connect(server.thinq().mqtt_addr.expect("broker")).await.expect("TCP");
    let _ = plain.write_all(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x06\x00\x00").await;
    let mut sink = Vec::new();
    let read = tokio::time::timeout(STEP, plain.read_to_end(&mut sink)).await;
    assert!(read.is_ok(), "plain TCP is closed");
    let mut fine = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    assert_eq!(fine.connect("thinq-open-idle", true, 6).await.code, ConnectReturnCode::Success);
}

#[tokio::test]
async fn a_washer_runs_its_cycle_and_pushes_its_end() {
    let server = start(Some(60_000)).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-cycle").await;
    call(&cloud, "POST", "/event/washer-main/subscribe", "thinq-open-cycle", "").await;
    call(&cloud, "POST", "/push/washer-main/subscribe", "thinq-open-cycle", "").await;
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    client.connect("thinq-open-cycle", true, 30).await;
    client.subscribe(&credentials.topic).await;
    call(&cloud, "POST", "/devices/washer-main/control", "thinq-open-cycle", START).await;
    let mut states = Vec::new();
    let push = loop {
        let (event, pkid, _) = client.event().await;
        client.send(Packet::PubAck(PubAck::new(pkid))).await;
        if event["pushType"] == "DEVICE_PUSH" {
            break event;
        }
        if let Some(state) = event["report"][0]["runState"]["currentState"].as_str() {
            states.push(state.to_owned());
        }
        assert!(states.len() < 100, "no end: {states:?}");
    };
    assert_eq!(push["pushCode"], "WASHING_IS_COMPLETE");
    assert_eq!(states, ["RUNNING", "RINSING", "SPINNING", "END"]);
    let (_, state) =
        call(&cloud, "GET", "/devices/washer-main/state", "thinq-open-cycle", "").await;
    assert_eq!(state["response"][0]["runState"]["currentState"], "END", "REST agrees");
    assert_eq!(state["response"][0]["timer"]["remainMinute"], 0);
}

#[tokio::test]
async fn certificates_need_a_registered_client_and_a_good_csr() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let key = KeyPair::generate().expect("key");
    let body = json!({"service-code": "SVC202", "csr": csr_of(&key)}).to_string();
    let (status, reply) = call(&cloud, "POST", "/client/certificate", "nobody", &body).await;
    assert_eq!((status, &reply["error"]["code"]), (404, &json!("1209")), "{reply}");
    call(&cloud, "POST", "/client", "somebody", SDK_CLIENT).await;
    for csr in ["not base64!", "aGVsbG8="] {
        let body = json!({"service-code": "SVC202", "csr": csr}).to_string();
        let (status, reply) = call(&cloud, "POST", "/client/certificate", "somebody", &body).await;
        assert_eq!((status, &reply["error"]["code"]), (400, &json!("1102")), "{csr}: {reply}");
    }
    let (status, reply) = call(&cloud, "GET", "/route", "somebody", "").await;
    assert_eq!(status, 200);
    let broker = server.thinq().mqtt_addr.expect("broker");
    assert_eq!(reply["response"]["mqttServer"], format!("mqtts://{broker}"));
    let _ = ConnAck::new(ConnectReturnCode::Success, false);
}

#[tokio::test]
async fn fault_rules_of_the_event_path_refuse_drop_duplicate_and_strip() {
    use crate::faults::{ActionKind, Match, RuleSpec};

    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-faults").await;
    call(&cloud, "POST", "/event/ac-living-room/subscribe", "thinq-open-faults", "").await;
    let faults = server.admin().faults();
    let rule = |step: &str, action: ActionKind| RuleSpec {
        matcher: Match {
            api: Some("thinq-mqtt".to_owned()),
            http_method: Some(step.to_owned()),
            ..Match::default()
        },
        count: Some(1),
        ..RuleSpec::new(action)
    };
    // A rule written for HTTP (no api) never touches MQTT.
    faults.add(RuleSpec { count: Some(1), ..RuleSpec::new(ActionKind::Reset) }).expect("rule");
    faults
        .add(RuleSpec { code: Some(json!("3")), ..rule("CONNECT", ActionKind::Code) })
        .expect("rule");
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    let ack = client.connect("thinq-open-faults", true, 30).await;
    assert_eq!(ack.code, ConnectReturnCode::ServiceUnavailable, "the rule's return code");
    faults.add(rule("CONNECT", ActionKind::Reset)).expect("rule");
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    assert_eq!(
        client.connect("thinq-open-faults", true, 30).await.code,
        ConnectReturnCode::Success
    );
    assert!(client.recv().await.is_none(), "dropped after CONNACK");

    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    client.connect("thinq-open-faults", true, 30).await;
    client.subscribe(&credentials.topic).await;
    let wind = |level: &str| format!(r#"{{"airFlow":{{"windStrength":"{level}"}}}}"#);
    faults.add(rule("PUBLISH", ActionKind::NonJsonBody)).expect("rule");
    call(&cloud, "POST", "/devices/ac-living-room/control", "x", &wind("LOW")).await;
    let (bare, pkid, _) = client.event().await;
    client.send(Packet::PubAck(PubAck::new(pkid))).await;
    assert!(bare.get("deviceType").is_none() && bare["deviceId"] == "ac-living-room", "{bare}");
    faults.add(rule("PUBLISH", ActionKind::NoAnswer)).expect("rule");
    call(&cloud, "POST", "/devices/ac-living-room/control", "x", &wind("MID")).await;
    faults.add(rule("PUBLISH", ActionKind::Reset)).expect("rule");
    call(&cloud, "POST", "/devices/ac-living-room/control", "x", &wind("HIGH")).await;
    for _ in 0..2 {
        let (twice, pkid, _) = client.event().await;
        client.send(Packet::PubAck(PubAck::new(pkid))).await;
        assert_eq!(twice["report"]["airFlow"]["windStrength"], "HIGH", "MID was dropped: {twice}");
    }
    assert_eq!(faults.rules().len(), 1, "only the HTTP rule is left");
}

#[tokio::test]
async fn a_rename_reaches_clients_that_asked_for_lifecycle_events() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-lifecycle").await;
    assert_eq!(call(&cloud, "POST", "/push/devices", "thinq-open-lifecycle", "").await.0, 200);
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    client.connect("thinq-open-lifecycle", true, 30).await;
    client.subscribe(&credentials.topic).await;
    let fridge = server.admin().device("fridge-kitchen").expect("listed");
    fridge.device.set_state(&json!({"alias": "Pantry fridge"})).expect("renamed");
    let (event, _, _) = client.event().await;
    assert_eq!(event["pushType"], "DEVICE_ALIAS_CHANGED");
    assert_eq!(
        (&event["deviceId"], &event["alias"]),
        (&json!("fridge-kitchen"), &json!("Pantry fridge"))
    );
    let (_, listed) = call(&cloud, "GET", "/devices", "thinq-open-lifecycle", "").await;
    assert_eq!(
        listed["response"][2]["deviceInfo"]["alias"], "Pantry fridge",
        "GET /devices agrees"
    );
    assert!(fridge.device.set_state(&json!({"alias": ""})).is_err(), "an empty alias");
}

#[tokio::test]
async fn appliances_added_and_removed_by_the_admin_api_send_lifecycle_events() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    // Lifecycle events asked for before the client registers (POST /client) still count.
    assert_eq!(call(&cloud, "POST", "/push/devices", "thinq-open-roster", "").await.0, 200);
    let credentials = prepare(&cloud, "thinq-open-roster").await;
    let mut client = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    client.connect("thinq-open-roster", true, 30).await;
    client.subscribe(&credentials.topic).await;
    let admin = server.admin();
    let spec =
        json!({"deviceId": "washer-utility", "deviceType": "DEVICE_WASHER", "alias": "Utility"});
    let added = admin.add_member("thinq-cloud", &spec).expect("added");
    assert_eq!(added.device.id(), "washer-utility");
    let (event, _, _) = client.event().await;
    assert_eq!(
        (&event["pushType"], &event["deviceId"], &event["deviceType"], &event["alias"]),
        (
            &json!("DEVICE_REGISTERED"),
            &json!("washer-utility"),
            &json!("DEVICE_WASHER"),
            &json!("Utility")
        )
    );
    let (_, listed) = call(&cloud, "GET", "/devices", "thinq-open-roster", "").await;
    let ids: Vec<&Value> =
        listed["response"].as_array().expect("a list").iter().map(|d| &d["deviceId"]).collect();
    assert_eq!(ids.last(), Some(&&json!("washer-utility")), "listed last: {listed}");
    let (status, _) = call(&cloud, "GET", "/devices/washer-utility/state", "x", "").await;
    assert_eq!(status, 200);

    admin.remove_member("washer-utility").expect("removed");
    let (event, _, _) = client.event().await;
    assert_eq!(
        (&event["pushType"], &event["deviceId"]),
        (&json!("DEVICE_UNREGISTERED"), &json!("washer-utility"))
    );
    let (status, body) = call(&cloud, "GET", "/devices/washer-utility/state", "x", "").await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("1217")), "{body}");
    assert!(admin.device("washer-utility").is_none(), "gone from the admin list");
}

#[tokio::test]
async fn malformed_and_oversize_packets_are_refused_and_logged() {
    let server = start(None).await;
    let cloud = Arc::clone(&server.thinq().cloud);
    let credentials = prepare(&cloud, "thinq-open-bad").await;
    let client_id = b"thinq-open-bad";
    let connect_with = |name: &[u8], level: u8| {
        let mut variable = Vec::new();
        variable.extend_from_slice(&(name.len() as u16).to_be_bytes());
        variable.extend_from_slice(name);
        variable.extend_from_slice(&[level, 0x02, 0x00, 0x1e]);
        variable.extend_from_slice(&(client_id.len() as u16).to_be_bytes());
        variable.extend_from_slice(client_id);
        let mut packet = vec![0x10, variable.len() as u8];
        packet.extend_from_slice(&variable);
        packet
    };
    // Protocol level 3 (MQTT 3.1): CONNACK 1, as §3.1.2.2 says.
    let mut old = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    old.stream.write_all(&connect_with(b"MQTT", 3)).await.expect("write");
    match old.recv().await {
        Some(Packet::ConnAck(ack)) => {
            assert_eq!(ack.code, ConnectReturnCode::RefusedProtocolVersion)
        }
        other => panic!("expected CONNACK 1, got {other:?}"),
    }
    // Another protocol name, an oversize packet, a SUBSCRIBE without filters: closed.
    let mut wrong = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    wrong.stream.write_all(&connect_with(b"MQTX", 4)).await.expect("write");
    assert_eq!(wrong.recv().await, None, "a CONNECT of another protocol");
    let mut huge = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    huge.connect("thinq-open-bad", true, 30).await;
    // PUBLISH announcing 1 MiB (remaining length 0x80 0x80 0x40): closed before it arrives.
    let _ = huge.stream.write_all(&[0x30, 0x80, 0x80, 0x40, 0x00]).await;
    assert_eq!(huge.recv().await, None, "an oversize packet");
    let mut empty = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    empty.connect("thinq-open-bad", true, 30).await;
    let _ = empty.stream.write_all(&[0x82, 0x02, 0x00, 0x01]).await;
    assert_eq!(empty.recv().await, None, "a SUBSCRIBE without a filter");
    // Each is in the journal, and the broker still serves.
    let journal = server.admin().journal().query(&Default::default());
    let refused =
        journal.iter().filter(|e| e.request.headers.contains_key("x-mqtt-refused")).count();
    let closed: Vec<&str> = journal
        .iter()
        .filter_map(|e| e.request.headers.get("x-mqtt-closed").map(String::as_str))
        .collect();
    assert!(refused >= 2, "{journal:?}");
    assert!(closed.iter().any(|c| c.contains("malformed")), "{closed:?}");
    let mut fine = Mqtt::open(&server, Some(&credentials)).await.expect("TLS");
    assert_eq!(fine.connect("thinq-open-bad", true, 30).await.code, ConnectReturnCode::Success);
}

#[tokio::test]
async fn the_tls_listener_serves_mqtt_by_alpn_and_the_root_ca_to_amazontrust() {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = ServeConfig {
        bravia_addr: any,
        admin_addr: any,
        thinq_addr: any,
        thinq_tls_addr: Some(any),
        ..ServeConfig::default()
    };
    let server = serve(config, std::future::pending()).await.expect("serve");
    let cloud = Arc::clone(&server.thinq().cloud);
    let tls_addr = server.thinq().tls_addr.expect("a TLS listener");
    let credentials = prepare(&cloud, "thinq-open-alpn").await;
    let (_, route) = call(&cloud, "GET", "/route", "thinq-open-alpn", "").await;
    assert_eq!(
        route["response"]["mqttServer"],
        format!("mqtts://{tls_addr}"),
        "no broker port: /route names the TLS listener"
    );
    let name = ServerName::try_from("127.0.0.1").expect("name");

    // ALPN x-amzn-mqtt-ca, as the SDK asks on 443: MQTT.
    let mut config = tls_config(&server, Some(&credentials));
    config.alpn_protocols = vec![b"x-amzn-mqtt-ca".to_vec()];
    let tcp = TcpStream::connect(tls_addr).await.expect("TCP");
    let stream =
        TlsConnector::from(Arc::new(config)).connect(name.clone(), tcp).await.expect("TLS");
    let mut client = Mqtt { stream, buffer: BytesMut::new() };
    assert_eq!(client.connect("thinq-open-alpn", true, 30).await.code, ConnectReturnCode::Success);
    assert_eq!(
        client.subscribe(&credentials.topic).await,
        vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)]
    );

    // No ALPN (or http/1.1), no client certificate: HTTPS, and the root CA for amazontrust.
    let tcp = TcpStream::connect(tls_addr).await.expect("TCP");
    let mut https = TlsConnector::from(Arc::new(tls_config(&server, None)))
        .connect(name, tcp)
        .await
        .expect("TLS without a client certificate");
    https
        .write_all(b"GET /repository/AmazonRootCA1.pem HTTP/1.1\r\nHost: www.amazontrust.com\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(STEP, https.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(server.thinq().ca_pem.trim()), "the cloud's CA: {answer}");
}
