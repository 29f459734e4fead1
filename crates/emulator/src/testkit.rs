//! Test helpers shared by the fault, admin and server tests: a stand-in device with a tiny
//! router, servers on `127.0.0.1:0`, and an HTTP/1.1 client small enough to see what a real
//! client sees (a response, a closed connection, a reset, nothing).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing;
use devfault_core::{HttpResponse, parse_response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::device::{Device, Provocation};
use crate::faults::{BodyLimits, FaultListener, Faults, serve_device, with_faults_and_limits};
use crate::journal::Journal;

/// A device with a power and a volume, speaking a sliver of BRAVIA.
#[derive(Debug)]
pub struct FakeDevice {
    id: String,
    state: Mutex<Value>,
    pin: Mutex<Option<String>>,
}

impl FakeDevice {
    pub fn new(id: &str) -> Arc<FakeDevice> {
        Arc::new(FakeDevice {
            id: id.to_owned(),
            state: Mutex::new(FakeDevice::initial()),
            pin: Mutex::new(None),
        })
    }

    fn initial() -> Value {
        json!({ "power": "active", "volume": 25 })
    }

    pub fn show_pin(&self, pin: &str) {
        *self.pin.lock().unwrap() = Some(pin.to_owned());
    }
}

impl Device for FakeDevice {
    fn id(&self) -> &str {
        &self.id
    }

    fn api(&self) -> &'static str {
        "bravia"
    }

    fn state(&self) -> Value {
        self.state.lock().unwrap().clone()
    }

    fn set_state(&self, patch: &Value) -> Result<(), String> {
        let patch = patch.as_object().ok_or("the patch is not an object")?;
        let mut next = self.state();
        for (key, value) in patch {
            match (key.as_str(), value) {
                ("power", Value::String(p)) if p == "active" || p == "standby" => {}
                ("power", _) => {
                    return Err(format!("power: {value} is not \"active\" or \"standby\""));
                }
                ("volume", Value::Number(n)) if n.as_u64().is_some_and(|v| v <= 100) => {}
                ("volume", _) => return Err(format!("volume: {value} is not 0 to 100")),
                _ => return Err(format!("unknown member {key:?}; accepted: power, volume")),
            }
            next[key] = value.clone();
        }
        *self.state.lock().unwrap() = next;
        Ok(())
    }

    fn reset(&self) {
        *self.state.lock().unwrap() = FakeDevice::initial();
        *self.pin.lock().unwrap() = None;
    }

    fn provocations(&self) -> Vec<Provocation> {
        vec![Provocation {
            code: "40005".to_owned(),
            via: "natural",
            how: "set power standby, then call getPlayingContentInfo".to_owned(),
            rule: None,
        }]
    }

    fn pin(&self) -> Option<String> {
        self.pin.lock().unwrap().clone()
    }
}

/// `POST /sony/{service}`: echoes the service and method in a result; a body without a
/// readable id gets `[5, "Illegal Request"]`.
pub fn fake_router(device: Arc<FakeDevice>) -> Router {
    Router::new().route(
        "/sony/{service}",
        routing::post(move |Path(service): Path<String>, body: Bytes| {
            let device = device.clone();
            async move {
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let Some(id) = request.get("id").and_then(Value::as_u64) else {
                    return (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"error":[5,"Illegal Request"]}"#.to_owned(),
                    )
                        .into_response();
                };
                let method = request.get("method").cloned().unwrap_or(Value::Null);
                let power = device.state()["power"].clone();
                let body = json!({
                    "result": [{ "service": service, "method": method, "power": power }],
                    "id": id,
                });
                axum::Json(body).into_response()
            }
        }),
    )
}

/// A fake device served with the fault layer on `127.0.0.1:0`; stops when dropped.
pub struct FakeServer {
    pub addr: SocketAddr,
    pub faults: Arc<Faults>,
    pub journal: Arc<Journal>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl FakeServer {
    pub async fn start(faults: Faults) -> FakeServer {
        FakeServer::start_with(faults, BodyLimits::default()).await
    }

    pub async fn start_with(faults: Faults, limits: BodyLimits) -> FakeServer {
        let device = FakeDevice::new("bravia-0");
        let (faults, journal) = (Arc::new(faults), Arc::new(Journal::new(100)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = with_faults_and_limits(
            fake_router(device.clone()),
            device.clone(),
            faults.clone(),
            journal.clone(),
            limits,
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_device(FaultListener::new(listener), router, async move {
            let _ = stopped.await;
        }));
        FakeServer { addr, faults, journal, stop: Some(stop), task }
    }

    /// Stops the server and waits (at most 5 s) for it to finish.
    pub async fn stop(mut self) {
        self.faults.release_holds();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = &mut self.task;
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the server stops within 5 s")
            .expect("the server task does not panic")
            .expect("the server ends without an error");
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.faults.release_holds();
        self.task.abort();
    }
}

/// What a client got.
#[derive(Debug)]
pub enum Got {
    /// A whole HTTP response.
    Response(HttpResponse),
    /// The connection ended without a whole response: how, and the bytes received first.
    Closed { error: Option<io::ErrorKind>, bytes: Vec<u8> },
    /// Nothing within the timeout (the bytes received so far).
    TimedOut { bytes: Vec<u8> },
}

impl Got {
    #[track_caller]
    pub fn response(self) -> HttpResponse {
        match self {
            Got::Response(response) => response,
            other => panic!("expected a response, got {other:?}"),
        }
    }
}

/// A BRAVIA JSON-RPC body.
pub fn rpc(method: &str, id: u64) -> String {
    json!({ "method": method, "id": id, "params": [], "version": "1.0" }).to_string()
}

/// POSTs `body` to `path` with `Connection: close` and reads until the server closes, at
/// most `timeout`.
pub async fn post(addr: SocketAddr, path: &str, body: &str, timeout: Duration) -> Got {
    request(addr, "POST", path, &[("Content-Type", "application/json")], body, timeout).await
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads until the server closes, at
/// most `timeout`.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> Got {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(timeout, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return None,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(error) => return Some(error.kind()),
            }
        }
    })
    .await;
    match read {
        Err(_) => Got::TimedOut { bytes },
        Ok(error) => match parse_response(&bytes) {
            Ok(response) if error.is_none() => Got::Response(response),
            _ => Got::Closed { error, bytes },
        },
    }
}

/// The body of a response as JSON.
#[track_caller]
pub fn json_body(response: &HttpResponse) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&response.body)))
}

/// The scenario example of the `scenario` module's documentation.
pub fn documented_example() -> String {
    include_str!("scenario.rs")
        .lines()
        .skip_while(|line| *line != "//! ```json")
        .skip(1)
        .take_while(|line| *line != "//! ```")
        .map(|line| line.strip_prefix("//!").unwrap_or(line).strip_prefix(' ').unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}
