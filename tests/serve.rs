//! `devfault serve`: starts on port 0, says where, answers, stops on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{read_ready_file, ready_file_path};

/// One HTTP/1.1 POST over a fresh connection; the whole response as text.
fn post(url: &str, path: &str, headers: &str, body: &str) -> String {
    request(url, "POST", path, headers, body)
}

/// One HTTP/1.1 request over a fresh connection; the whole response as text.
fn request(url: &str, method: &str, path: &str, headers: &str, body: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn serve_announces_answers_and_stops_on_sigterm() {
    let ready = ready_file_path();
    let child = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(["serve", "--bravia", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--psk", "s3cret"])
        .args(["--thinq", "127.0.0.1:0", "--thinq-token", "thinqpat-serve-test"])
        .arg("--ready-file")
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let result = std::panic::catch_unwind(|| {
        let addresses = read_ready_file(&ready);
        let url = addresses["displays"][0]["url"].as_str().expect("display url").to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let ok = post(
            &url,
            "/sony/system",
            "X-Auth-PSK: s3cret\r\n",
            r#"{"method":"getPowerStatus","params":[],"id":1,"version":"1.0"}"#,
        );
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(ok.ends_with(r#"{"result":[{"status":"active"}],"id":1}"#), "{ok}");
        let denied = post(
            &url,
            "/sony/audio",
            "X-Auth-PSK: 0000\r\n",
            r#"{"method":"setAudioVolume","params":[{"target":"speaker","volume":"30"}],"id":2,"version":"1.0"}"#,
        );
        assert!(
            denied.starts_with("HTTP/1.1 403"),
            "the default PSK is not the chosen one: {denied}"
        );
        assert!(denied.ends_with(r#"{"error":[403,"Forbidden"],"id":2}"#), "{denied}");

        let thinq = addresses["thinq"]["url"].as_str().expect("thinq url").to_owned();
        assert!(thinq.starts_with("http://127.0.0.1:"), "{thinq}");
        assert_eq!(addresses["thinq"]["token"], "thinqpat-serve-test");
        let headers = "Authorization: Bearer thinqpat-serve-test\r\nx-country: US\r\nx-message-id: fNvdZ1brTn-wWKUlWGoSVw\r\nx-client-id: serve-test\r\nx-api-key: v6GFvkweNo7DK7yD3ylIZ9w52aKBU0eJ7wLXkSR3\r\n";
        let devices = request(&thinq, "GET", "/devices", headers, "");
        assert!(devices.starts_with("HTTP/1.1 200"), "{devices}");
        assert!(devices.contains(r#""messageId":"fNvdZ1brTn-wWKUlWGoSVw""#), "{devices}");
        assert!(devices.contains(r#""deviceId":"ac-living-room""#), "{devices}");
        let offline = request(&thinq, "GET", "/devices/dryer-offline/state", headers, "");
        assert!(offline.starts_with("HTTP/1.1 416"), "{offline}");
        assert!(offline.ends_with(r#""error":{"message":"Not connected device","code":"1222"}}"#));
    });
    let kill =
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(kill.success());
    let output = child.wait_with_output().expect("serve exits");
    result.expect("requests answered as expected");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("BRAVIA display bravia-0"), "{stdout}");
    assert!(stdout.contains("pre-shared key s3cret"), "{stdout}");
    assert!(stdout.contains("ThinQ token thinqpat-serve-test"), "{stdout}");
    assert!(stdout.contains("/devices/ac-living-room/state -H 'Authorization: Bearer"), "{stdout}");
    assert!(stdout.contains("curl -s http://127.0.0.1:"), "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("devfault: stopped"));
}

#[test]
fn serve_refuses_a_non_loopback_address_by_default() {
    let output = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args([
            "serve",
            "--bravia",
            "0.0.0.0:0",
            "--admin",
            "127.0.0.1:0",
            "--thinq",
            "127.0.0.1:0",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("0.0.0.0"), "{stderr}");
}
