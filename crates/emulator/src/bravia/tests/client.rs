//! Test helpers: a display served on 127.0.0.1:0, a tiny HTTP/1.1 client on a tokio
//! `TcpStream`, a one-shot handler call without a socket, and decoding with the wire layer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use devfault_bravia::wire::{Response as Decoded, decode_response};
use devfault_core::{HttpResponse, parse_response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::bravia::{DisplayConfig, VirtualDisplay, router};

/// Every network wait of the tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A display served on a loopback port; the server stops when this is dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub display: Arc<VirtualDisplay>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves a new display made with `config`.
pub async fn serve(config: DisplayConfig) -> Server {
    let display = Arc::new(VirtualDisplay::new("bravia-test".to_owned(), config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let app = router(Arc::clone(&display));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { addr, display, task }
}

/// A JSON-RPC body.
pub fn body(method: &str, params: Value, version: &str, id: u64) -> String {
    json!({"method": method, "params": params, "id": id, "version": version}).to_string()
}

/// The PSK header of the default configuration.
pub const PSK: (&str, &str) = ("X-Auth-PSK", "0000");

/// A POST request's bytes, with `Connection: close` so the answer ends at EOF.
pub fn post_bytes(path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    out.into_bytes()
}

/// Sends `request` on a new connection and reads the answer to EOF.
pub fn send_raw(
    addr: SocketAddr,
    request: impl AsRef<[u8]>,
) -> impl Future<Output = std::io::Result<Vec<u8>>> + Send + 'static {
    let request = request.as_ref().to_vec();
    async move { exchange(addr, request).await }
}

async fn exchange(addr: SocketAddr, request: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(&request).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok(answer)
    };
    tokio::time::timeout(LIMIT, exchange)
        .await
        .unwrap_or_else(|_| Err(std::io::Error::other("no answer within the test limit")))
}

/// Sends `request` and parses the answer.
pub fn send(
    addr: SocketAddr,
    request: impl AsRef<[u8]>,
) -> impl Future<Output = HttpResponse> + Send + 'static {
    let exchange = send_raw(addr, request);
    async move {
        let bytes = exchange.await.expect("an answer");
        parse_response(&bytes).expect("an HTTP response")
    }
}

/// `POST path` with `headers` and `body`.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    send(addr, post_bytes(path, headers, body)).await
}

/// A JSON-RPC call with the default PSK.
pub async fn call(
    addr: SocketAddr,
    service: &str,
    method: &str,
    params: Value,
    version: &str,
) -> HttpResponse {
    post(addr, &format!("/sony/{service}"), &[PSK], &body(method, params, version, 1)).await
}

/// The wire layer's reading of a response.
pub fn decode(response: &HttpResponse) -> Decoded {
    let headers: Vec<(&str, &str)> =
        response.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    decode_response(response.status, headers, &response.body)
}

/// Asserts the response is `code` with `status`, from the registry, conforming; returns the
/// error message.
pub fn assert_code(response: &HttpResponse, status: u16, code: u32) -> String {
    let decoded = decode(response);
    assert_eq!(decoded.status, status, "status of {:?}", String::from_utf8_lossy(&response.body));
    let entry = decoded.entry().unwrap_or_else(|| panic!("no registry row: {decoded:?}"));
    assert_eq!(entry.code, code, "body {:?}", String::from_utf8_lossy(&response.body));
    assert!(decoded.is_conforming(), "{:?}", decoded.findings);
    decoded.error().map(|e| e.message.clone()).unwrap_or_default()
}

/// The result array of a success, asserting it conforms.
pub fn result(response: &HttpResponse) -> Vec<Value> {
    let decoded = decode(response);
    assert!(decoded.is_conforming(), "{:?}", decoded.findings);
    match decoded.body {
        devfault_bravia::wire::ResponseBody::Success { result, .. } => result,
        other => panic!("not a success: {other:?} ({:?})", String::from_utf8_lossy(&response.body)),
    }
}

/// A request answered by the router without a socket.
pub async fn oneshot(display: &Arc<VirtualDisplay>, request: Request<Body>) -> HttpResponse {
    let response = router(Arc::clone(display)).oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    HttpResponse { status, reason: String::new(), headers, body: body.to_vec() }
}

/// A POST request for [`oneshot`].
pub fn request(path: &str, headers: &[(&str, &str)], body: String) -> Request<Body> {
    let mut builder = Request::post(path).header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body)).expect("a request")
}

/// A JSON-RPC call with the default PSK, without a socket.
pub async fn rpc(
    display: &Arc<VirtualDisplay>,
    service: &str,
    method: &str,
    params: Value,
    version: &str,
) -> HttpResponse {
    oneshot(display, request(&format!("/sony/{service}"), &[PSK], body(method, params, version, 1)))
        .await
}

/// A display with `config`, not served.
pub fn display(config: DisplayConfig) -> Arc<VirtualDisplay> {
    Arc::new(VirtualDisplay::new("bravia-test".to_owned(), config))
}
