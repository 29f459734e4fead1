//! Every one of the 46 seed codes of BRAVIA is reachable over a real socket: the natural ones
//! have their own socket tests beside the display; this test takes every code the display
//! lists as `via: "fault"`, installs a one-shot fault rule through the admin API, and checks
//! that the display then answers with exactly that code, the status the registry gives it, and
//! a conforming body.

use std::net::SocketAddr;
use std::time::Duration;

use devfault_core::Source;
use devfault_emulator::device::Device;
use devfault_emulator::server::{ServeConfig, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One HTTP/1.1 exchange over a fresh connection: (status, headers, body).
async fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("answered in time")
        .expect("read");
    let response = devfault_core::parse_response(&raw).expect("an HTTP response");
    (response.status, response.headers, response.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_only_code_is_emitted_with_its_status_and_a_conforming_body() {
    let config = ServeConfig {
        bravia_addr: "127.0.0.1:0".parse().expect("addr"),
        admin_addr: "127.0.0.1:0".parse().expect("addr"),
        thinq_addr: "127.0.0.1:0".parse().expect("addr"),
        seed: Some(1),
        ..ServeConfig::default()
    };
    let server = serve(config, std::future::pending()).await.expect("serves");
    let display = &server.displays()[0];
    let (bravia, admin) = (display.addr, server.admin_addr());

    let provocations = display.display.provocations();
    let documented: Vec<u32> = devfault_bravia::registry()
        .entries()
        .iter()
        .filter(|e| e.source == Source::Documented)
        .map(|e| e.code)
        .collect();
    assert_eq!(documented.len(), 46);
    for code in &documented {
        assert!(
            provocations.iter().any(|p| p.code == code.to_string()),
            "the display lists no way to provoke {code}"
        );
    }

    let fault_only: Vec<u32> = documented
        .iter()
        .copied()
        .filter(|code| {
            let ways: Vec<_> = provocations.iter().filter(|p| p.code == code.to_string()).collect();
            ways.iter().all(|p| p.via == "fault")
        })
        .collect();
    assert!(fault_only.len() >= 10, "{fault_only:?}");

    for (n, code) in fault_only.iter().enumerate() {
        let rule = format!(
            r#"{{"match": {{"service": "system", "method": "getPowerStatus"}}, "action": "code", "code": {code}, "count": 1}}"#
        );
        let (status, _, body) = exchange(admin, "POST", "/faults", "", &rule).await;
        assert!(
            (200..300).contains(&status),
            "rule for {code}: {status} {}",
            String::from_utf8_lossy(&body)
        );

        let id = 100 + n;
        let request =
            format!(r#"{{"method":"getPowerStatus","params":[],"id":{id},"version":"1.0"}}"#);
        let (status, headers, body) =
            exchange(bravia, "POST", "/sony/system", "X-Auth-PSK: 0000\r\n", &request).await;
        let entry =
            devfault_bravia::Code::new(*code).and_then(|c| c.entry_opt()).expect("registry row");
        assert_eq!(u32::from(status), u32::from(entry.http_status.as_u16()), "status of {code}");
        let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let decoded = devfault_bravia::wire::decode_response(status, pairs, &body);
        let reply =
            decoded.error().unwrap_or_else(|| panic!("{code}: not an error reply: {decoded:?}"));
        assert_eq!(reply.code, devfault_bravia::Code::new(*code).expect("code"), "{code}");
        assert_eq!(reply.message, entry.message, "{code}");
        assert_eq!(reply.id, Some(id as u64), "{code}: the request id is echoed");
        assert!(decoded.is_conforming(), "{code}: {:?}", decoded.findings);

        // The rule fired once and expired: the next call is the display's own answer again.
        let (status, _, body) =
            exchange(bravia, "POST", "/sony/system", "X-Auth-PSK: 0000\r\n", &request).await;
        assert_eq!(status, 200, "{code}: after the one-shot rule");
        assert_eq!(body, format!(r#"{{"result":[{{"status":"active"}}],"id":{id}}}"#).into_bytes());
    }
    server.shutdown();
}
