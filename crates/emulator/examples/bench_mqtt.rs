//! The event path under load: a cloud of 10,000 appliances (1,000 users of ten), one MQTT
//! session per user over mutual TLS (1,000 sessions), each subscribed to its appliances'
//! events, and state changes at a fixed rate through the same path an admin PATCH takes. Each
//! change's time is stamped into the state, so each delivery's latency (from the change to the
//! client's read of the PUBLISH) is measured; QoS 1, every message acknowledged.
//!
//! Baseline, in the same process: the same changes with nobody subscribed (the cost of a
//! change alone). Prints both, the ratio of their means, the delivery percentiles and the
//! process's peak RSS (clients included: they run in the same process).
//!
//!   cargo run --release -p devfault-emulator --example bench_mqtt [EVENTS_PER_S] [SECONDS] [SESSIONS]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, to_bytes};
use axum::http::Request;
use bytes::BytesMut;
use devfault_emulator::device::Device;
use devfault_emulator::server::{ServeConfig, serve};
use devfault_emulator::thinq::{API_KEY, Cloud, router};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{Connect, Packet, PubAck, Subscribe};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tower::ServiceExt;

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

async fn call(
    cloud: &Arc<Cloud>,
    method: &str,
    path: &str,
    token: &str,
    client: &str,
    body: String,
) -> Value {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("x-country", "US")
        .header("x-message-id", "fNvdZ1brTn-wWKUlWGoSVw")
        .header("x-client-id", client)
        .header("x-api-key", API_KEY)
        .body(Body::from(body))
        .expect("a request");
    let response = router(Arc::clone(cloud)).oneshot(request).await.expect("infallible");
    let bytes = to_bytes(response.into_body(), usize::MAX).await.expect("body");
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn pem_der(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).expect("PEM")
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

/// Changes `count` appliances round-robin at `rate` per second; answers the mean µs a change took.
async fn drive(appliances: &[Arc<dyn Device>], rate: u64, seconds: u64) -> (u64, f64) {
    let total = rate * seconds;
    let start = Instant::now();
    let mut spent = Duration::ZERO;
    for n in 0..total {
        let due = start + Duration::from_micros(n * 1_000_000 / rate);
        tokio::time::sleep_until(due.into()).await;
        let device = &appliances[(n as usize) % appliances.len()];
        let began = Instant::now();
        let patch = json!({"state": {"benchStamp": now_us(), "benchSeq": n}});
        device.set_state(&patch).expect("patched");
        spent += began.elapsed();
    }
    (total, spent.as_secs_f64() * 1e6 / total as f64)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rate = args.first().copied().unwrap_or(1000);
    let seconds = args.get(1).copied().unwrap_or(10);
    let sessions = args.get(2).copied().unwrap_or(1000) as usize;
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = ServeConfig {
        bravia_addr: any,
        admin_addr: any,
        thinq_addr: any,
        thinq_mqtt_addr: Some(any),
        thinq_devices: Some(10_000),
        thinq_rate_limit: Some(0),
        journal_capacity: 1000,
        ..ServeConfig::default()
    };
    let server = serve(config, std::future::pending()).await.expect("serve");
    let cloud = Arc::clone(&server.thinq().cloud);
    let broker = server.thinq().mqtt_addr.expect("broker");
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(pem_der(&server.thinq().ca_pem))).expect("CA");
    let roots = Arc::new(roots);
    let fleet: Vec<Arc<dyn Device>> = cloud
        .appliances()
        .iter()
        .filter(|a| a.id().starts_with("fleet-"))
        .map(|a| Arc::clone(a) as Arc<dyn Device>)
        .collect();
    eprintln!(
        "bench_mqtt: {} appliances; baseline: {rate} changes/s for {seconds} s, nobody subscribed",
        fleet.len()
    );
    let (baseline_n, baseline_us) = drive(&fleet, rate, seconds).await;

    eprintln!("bench_mqtt: {sessions} sessions connecting");
    let latencies = Arc::new(Mutex::new(Vec::<u64>::with_capacity((rate * seconds) as usize)));
    let received = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for user in 0..sessions {
        let token = format!("thinqpat-devfault-fleet-{user}");
        let client_id = format!("bench-{user}");
        let register = r#"{"type":"MQTT","service-code":"SVC202","device-type":"607"}"#.to_owned();
        call(&cloud, "POST", "/client", &token, &client_id, register).await;
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, "lg_thinq");
        let csr: String = params
            .serialize_request(&key)
            .expect("CSR")
            .pem()
            .expect("PEM")
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let reply = call(
            &cloud,
            "POST",
            "/client/certificate",
            &token,
            &client_id,
            json!({"service-code": "SVC202", "csr": csr}).to_string(),
        )
        .await;
        let pem =
            reply["response"]["result"]["certificatePem"].as_str().expect("certificate").to_owned();
        for k in 0..10 {
            let id = format!("fleet-{:05}", user * 10 + k);
            call(
                &cloud,
                "POST",
                &format!("/event/{id}/subscribe"),
                &token,
                &client_id,
                String::new(),
            )
            .await;
        }
        let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(Arc::clone(&roots))
            .with_client_auth_cert(
                vec![CertificateDer::from(pem_der(&pem))],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("client auth");
        let tcp = TcpStream::connect(broker).await.expect("TCP");
        tcp.set_nodelay(true).ok();
        let name = ServerName::try_from("127.0.0.1").expect("name");
        let mut tls = TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("TLS");
        let mut out = BytesMut::new();
        let mut connect = Connect::new(client_id.clone());
        connect.keep_alive = 600;
        Packet::Connect(connect).write(&mut out, usize::MAX).expect("encode");
        let mut subscribe =
            Subscribe::new(format!("app/clients/{client_id}/push"), QoS::AtLeastOnce);
        subscribe.pkid = 1;
        Packet::Subscribe(subscribe).write(&mut out, usize::MAX).expect("encode");
        tls.write_all(&out).await.expect("write");
        let (latencies, received) = (Arc::clone(&latencies), Arc::clone(&received));
        tasks.push(tokio::spawn(async move {
            let mut buffer = BytesMut::new();
            loop {
                match Packet::read(&mut buffer, 1 << 20) {
                    Ok(Packet::Publish(publish)) => {
                        let at = now_us();
                        let event: Value =
                            serde_json::from_slice(&publish.payload).unwrap_or(Value::Null);
                        // An array state (washer, dryer) reports its locations.
                        let report = match &event["report"] {
                            Value::Array(locations) => {
                                locations.first().cloned().unwrap_or(Value::Null)
                            }
                            other => other.clone(),
                        };
                        if let Some(stamp) = report["benchStamp"].as_u64() {
                            latencies.lock().await.push(at.saturating_sub(stamp));
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                        let mut ack = BytesMut::new();
                        let _ =
                            Packet::PubAck(PubAck::new(publish.pkid)).write(&mut ack, usize::MAX);
                        if tls.write_all(&ack).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Ok(_) => continue,
                    Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
                    Err(_) => return,
                }
                match tls.read_buf(&mut buffer).await {
                    Ok(n) if n > 0 => {}
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    eprintln!("bench_mqtt: driving {rate} changes/s for {seconds} s to {sessions} sessions");
    let (sent, loaded_us) = drive(&fleet[..sessions * 10], rate, seconds).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.load(Ordering::Relaxed) < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut all = latencies.lock().await.clone();
    all.sort_unstable();
    println!(
        "appliances: {}, sessions: {sessions}, rate: {rate} changes/s for {seconds} s",
        fleet.len()
    );
    println!("baseline (no subscriber): {baseline_n} changes, mean {baseline_us:.1} us per change");
    println!(
        "with delivery: {sent} changes, mean {loaded_us:.1} us per change (ratio {:.2}x)",
        loaded_us / baseline_us
    );
    println!("delivered: {} of {sent}", all.len());
    println!(
        "change-to-delivery latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        percentile(&all, 0.99),
        percentile(&all, 1.0)
    );
    println!(
        "peak RSS of the process (cloud, broker and the {sessions} clients): {} MiB",
        peak_rss_kib() / 1024
    );
    for task in tasks {
        task.abort();
    }
}
