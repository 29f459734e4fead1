//! The listener limits, on every listener `serve` starts (displays, ThinQ cloud, its TLS port,
//! admin API), with timeouts shortened through [`ServeConfig::limits`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use devfault_core::parse_response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::server::{RunningServer, ServeConfig, serve};

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn config(limits: ConnectionLimits) -> ServeConfig {
    ServeConfig {
        bravia_addr: loopback(),
        admin_addr: loopback(),
        thinq_addr: loopback(),
        thinq_tls_addr: Some(loopback()),
        displays: Some(1),
        seed: Some(1),
        max_hold: Duration::from_secs(2),
        limits,
        ..ServeConfig::default()
    }
}

async fn start(limits: ConnectionLimits) -> RunningServer {
    serve(config(limits), std::future::pending()).await.unwrap()
}

/// The plain listeners: (name, address, a request that each answers 200).
fn plain(running: &RunningServer) -> Vec<(&'static str, SocketAddr, String)> {
    let power = r#"{"method":"getPowerStatus","params":[],"id":1,"version":"1.0"}"#;
    let display = running.displays()[0].addr;
    let thinq = running.thinq().addr;
    let admin = running.admin_addr();
    vec![
        (
            "display",
            display,
            format!(
                "POST /sony/system HTTP/1.1\r\nHost: {display}\r\nX-Auth-PSK: 0000\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{power}",
                power.len()
            ),
        ),
        (
            "thinq",
            thinq,
            format!(
                "GET /devices HTTP/1.1\r\nHost: {thinq}\r\nAuthorization: Bearer {}\r\nx-country: US\r\nx-message-id: fNvdZ1brTn-wWKUlWGoSVw\r\nx-client-id: devfault-test\r\nx-api-key: {}\r\n\r\n",
                running.thinq().cloud.token(),
                crate::thinq::API_KEY
            ),
        ),
        ("admin", admin, format!("GET /faults/seed HTTP/1.1\r\nHost: {admin}\r\n\r\n")),
    ]
}

/// How a raw exchange ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The server closed the connection (FIN or reset) after sending these bytes.
    Closed(Vec<u8>),
    /// Still open when the client stopped waiting.
    Open(Vec<u8>),
}

/// Reads until the server closes or `wait` passes.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> End {
    let mut bytes = Vec::new();
    let closed = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    if closed.is_ok() { End::Closed(bytes) } else { End::Open(bytes) }
}

fn status_of(bytes: &[u8]) -> u16 {
    parse_response(bytes)
        .unwrap_or_else(|e| panic!("not a response ({e}): {:?}", String::from_utf8_lossy(bytes)))
        .status
}

#[tokio::test]
async fn a_request_head_over_the_limit_is_answered_431_on_every_listener() {
    let running = start(ConnectionLimits::default()).await;
    let big = "a".repeat(ConnectionLimits::default().max_header_bytes + 1024);
    for (name, addr, request) in plain(&running) {
        let flooded = request.replacen("\r\n", &format!("\r\nX-Flood: {big}\r\n"), 1);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // The server may close before reading it all: a failed write is fine.
        let _ = stream.write_all(flooded.as_bytes()).await;
        match read_until_closed(&mut stream, Duration::from_secs(5)).await {
            End::Closed(bytes) => assert_eq!(status_of(&bytes), 431, "{name}"),
            End::Open(bytes) => panic!("{name}: still open after 5 s: {bytes:?}"),
        }
        // A head within the limit is still served.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                request.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n").as_bytes(),
            )
            .await
            .unwrap();
        match read_until_closed(&mut stream, Duration::from_secs(5)).await {
            End::Closed(bytes) => assert_eq!(status_of(&bytes), 200, "{name}"),
            End::Open(bytes) => panic!("{name}: no answer: {bytes:?}"),
        }
    }
}

#[tokio::test]
async fn a_slowloris_head_is_cut_after_the_header_timeout_on_every_listener() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_secs(30),
        ..ConnectionLimits::default()
    };
    let running = start(limits).await;
    for (name, addr, request) in plain(&running) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        // One byte every 50 ms: never silent long enough for the idle timer.
        let mut cut = None;
        for byte in request.as_bytes().iter().take(60) {
            if stream.write_all(&[*byte]).await.is_err() {
                cut = Some(started.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut probe = [0u8; 1];
            if let Ok(Ok(0) | Err(_)) =
                tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await
            {
                cut = Some(started.elapsed());
                break;
            }
        }
        let cut = cut.unwrap_or_else(|| panic!("{name}: a 3 s slowloris head was never cut"));
        assert!(cut >= Duration::from_millis(350), "{name}: cut too early, after {cut:?}");
        assert!(cut < Duration::from_millis(1500), "{name}: cut after {cut:?}");
    }
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout_on_every_listener() {
    let limits = ConnectionLimits {
        idle_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let running = start(limits).await;
    // Connected, never a byte (the TLS port's equivalent is the handshake timeout).
    for (name, addr, _) in plain(&running) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        match read_until_closed(&mut stream, Duration::from_secs(3)).await {
            End::Closed(bytes) => assert!(bytes.is_empty(), "{name}: {bytes:?}"),
            End::Open(_) => panic!("{name}: an idle connection still open after 3 s"),
        }
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(250), "{name}: closed after {waited:?}");
    }
    // Idle after an answer (keep-alive) too.
    for (name, addr, request) in plain(&running) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        match read_until_closed(&mut stream, Duration::from_secs(3)).await {
            End::Closed(bytes) => assert_eq!(status_of(&bytes), 200, "{name}"),
            End::Open(bytes) => panic!("{name}: kept alive past the idle timeout: {bytes:?}"),
        }
    }
}

#[tokio::test]
async fn a_streamed_answer_silent_past_the_idle_timeout_stays_open() {
    let limits = ConnectionLimits {
        idle_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let running = start(limits).await;
    let admin = running.admin_addr();
    let mut events = TcpStream::connect(admin).await.unwrap();
    let request = format!("GET /journal/events HTTP/1.1\r\nHost: {admin}\r\n\r\n");
    events.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(3), events.read(&mut head)).await.unwrap();
    assert!(head[..n.unwrap()].starts_with(b"HTTP/1.1 200 OK"), "the stream's head");
    // Silent for five idle timeouts (and under the stream's 15 s keep-alive comment)...
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // ...then a request to the display is journaled, and the stream still carries it.
    let (_, display, request) = plain(&running).remove(0);
    let mut call = TcpStream::connect(display).await.unwrap();
    call.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(3), async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("getPowerStatus") {
            match events.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        true
    })
    .await;
    assert_eq!(found, Ok(true), "the stream was cut: {:?}", String::from_utf8_lossy(&seen));
}

#[tokio::test]
async fn a_silent_tls_client_is_dropped_after_the_handshake_timeout() {
    let limits = ConnectionLimits {
        handshake_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let running = start(limits).await;
    let addr = running.thinq().tls_addr.unwrap();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    match read_until_closed(&mut stream, Duration::from_secs(3)).await {
        End::Closed(bytes) => assert!(bytes.is_empty()),
        End::Open(_) => panic!("a client without a ClientHello still connected after 3 s"),
    }
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_with_a_503_in_the_listener_envelope() {
    let limits = ConnectionLimits { max_connections: 3, ..ConnectionLimits::default() };
    let running = start(limits).await;
    for (name, addr, request) in plain(&running) {
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            // A byte each, so that the connections are surely accepted before the next.
            stream.write_all(b"G").await.unwrap();
            held.push(stream);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut over = TcpStream::connect(addr).await.unwrap();
        let bytes = match read_until_closed(&mut over, Duration::from_secs(3)).await {
            End::Closed(bytes) => bytes,
            End::Open(bytes) => {
                panic!("{name}: the fourth connection was neither served nor refused: {bytes:?}")
            }
        };
        let response = parse_response(&bytes).unwrap();
        assert_eq!(response.status, 503, "{name}");
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        match name {
            "display" => assert_eq!(body["error"][0], 503, "{body}"),
            "thinq" => assert_eq!(body["error"]["code"], "2000", "{body}"),
            _ => assert!(body["error"].is_string(), "{body}"),
        }
        // Once one closes, a new connection is served again.
        drop(held);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                request.replace("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n").as_bytes(),
            )
            .await
            .unwrap();
        match read_until_closed(&mut stream, Duration::from_secs(5)).await {
            End::Closed(bytes) => assert_eq!(status_of(&bytes), 200, "{name}"),
            End::Open(bytes) => panic!("{name}: no answer after the others closed: {bytes:?}"),
        }
    }
}

#[tokio::test]
async fn a_client_that_half_closes_after_a_whole_request_gets_its_answer() {
    let running = start(ConnectionLimits::default()).await;
    for (name, addr, request) in plain(&running) {
        for attempt in 0..50 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            stream.shutdown().await.unwrap();
            match read_until_closed(&mut stream, Duration::from_secs(5)).await {
                End::Closed(bytes) => assert_eq!(
                    parse_response(&bytes).map(|r| r.status).ok(),
                    Some(200),
                    "{name}, try {attempt}: {:?}",
                    String::from_utf8_lossy(&bytes)
                ),
                End::Open(bytes) => panic!("{name}, try {attempt}: open after 5 s: {bytes:?}"),
            }
        }
    }
}

#[tokio::test]
async fn stopping_with_a_partial_request_open_takes_under_a_second() {
    let running = start(ConnectionLimits::default()).await;
    let mut partial = Vec::new();
    for (_, addr, request) in plain(&running) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&request.as_bytes()[..20]).await.unwrap();
        partial.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    running.shutdown();
    tokio::time::timeout(Duration::from_secs(5), running.wait()).await.unwrap().unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "stopping took {took:?}");
}

#[test]
fn limits_out_of_range_are_refused_naming_the_flag() {
    let small = ConnectionLimits { max_header_bytes: 100, ..ConnectionLimits::default() };
    assert!(small.check().unwrap_err().contains("--max-header-bytes 100"));
    let none = ConnectionLimits { max_connections: 0, ..ConnectionLimits::default() };
    assert!(none.check().unwrap_err().contains("--max-connections 0"));
    let zero = ConnectionLimits { idle_timeout: Duration::ZERO, ..ConnectionLimits::default() };
    assert!(zero.check().unwrap_err().contains("--idle-timeout"));
    assert_eq!(ConnectionLimits::default().check(), Ok(()));
}
