//! What stands in front of the admin API's router: the bearer token it requires when it
//! listens off loopback, and the bounds on a request body (size and time), answered in the
//! admin API's own `{"error": ...}` JSON.
//!
//! Without it, axum's body limit answered 413 in text/plain, and a chunked body that never
//! ended held its connection with no answer (issue 11). A token is required by
//! [`crate::server::serve`] for an admin address off loopback: the admin API serves the ThinQ
//! tokens and takes fault rules, so a network peer must not use it unauthenticated.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::dashboard::wants_html;
use crate::faults::json_error;

/// The largest admin request body: 8 MiB, room for the most fault rules one request may add.
pub const MAX_ADMIN_BODY: usize = 8 * 1024 * 1024;

/// The range `--admin-max-body-bytes` takes: 1 KiB (a fault rule or a state patch) to 64 MiB.
pub const ADMIN_BODY_RANGE: std::ops::RangeInclusive<usize> = 1024..=64 * 1024 * 1024;

/// The longest admin token accepted.
pub const MAX_TOKEN_CHARS: usize = 256;

/// The guard's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminGuard {
    /// The bearer token every request must carry (`Authorization: Bearer TOKEN`); `None`: no
    /// credential (only allowed on loopback).
    pub token: Option<String>,
    /// The largest request body; larger is answered 413.
    pub max_body: usize,
    /// How long a request body may take to arrive; slower is answered 408.
    pub body_timeout: Duration,
}

impl fmt::Debug for AdminGuard {
    // The token stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminGuard")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("max_body", &self.max_body)
            .field("body_timeout", &self.body_timeout)
            .finish()
    }
}

impl Default for AdminGuard {
    /// No token, [`MAX_ADMIN_BODY`], 10 s.
    fn default() -> AdminGuard {
        AdminGuard { token: None, max_body: MAX_ADMIN_BODY, body_timeout: Duration::from_secs(10) }
    }
}

impl AdminGuard {
    /// Checks the body limits against their ranges; the error names the flag, the value and
    /// the range.
    pub fn check(&self) -> Result<(), String> {
        if !ADMIN_BODY_RANGE.contains(&self.max_body) {
            return Err(format!(
                "--admin-max-body-bytes {}: give {} to {}",
                self.max_body,
                ADMIN_BODY_RANGE.start(),
                ADMIN_BODY_RANGE.end()
            ));
        }
        let most = crate::connections::MAX_TIMEOUT;
        if self.body_timeout.is_zero() || self.body_timeout > most {
            return Err(format!(
                "--admin-body-timeout {} ms: give more than 0 to {} s",
                self.body_timeout.as_millis(),
                most.as_secs()
            ));
        }
        Ok(())
    }
}

/// Checks an admin token: 1 to [`MAX_TOKEN_CHARS`] visible ASCII characters, no space (what
/// an `Authorization: Bearer` header can carry unquoted).
pub fn check_token(token: &str) -> Result<(), String> {
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(format!(
            "--admin-token of {} characters: give 1 to {MAX_TOKEN_CHARS} visible ASCII characters",
            token.chars().count()
        ));
    }
    if let Some(bad) = token.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "--admin-token contains {bad:?}: give visible ASCII characters only (no space)"
        ));
    }
    Ok(())
}

/// Puts the guard in front of `router` (the admin API's).
pub fn guard(router: Router, guard: AdminGuard) -> Router {
    router
        .layer(middleware::from_fn_with_state(Arc::new(guard), check))
        // The guard reads the body itself, within its own limit.
        .layer(DefaultBodyLimit::disable())
}

/// True for the dashboard's page and files (`GET /ui/...`, and `GET /` from a browser): they
/// hold no data, and the page must load to ask its user for the token (each of its calls to
/// the API then carries it).
fn is_dashboard_page(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == axum::http::Method::GET
        && (path.starts_with("/ui/") || (path == "/" && wants_html(request.headers())))
}

async fn check(State(guard): State<Arc<AdminGuard>>, request: Request, next: Next) -> Response {
    if let Some(token) = &guard.token
        && !is_dashboard_page(&request)
    {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let matches =
            given.is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.as_bytes())));
        if !matches {
            let mut response = json_error(
                StatusCode::UNAUTHORIZED,
                if given.is_some() {
                    "the bearer token is not the admin token (devfault serve --admin-token)"
                } else {
                    "the admin API needs Authorization: Bearer TOKEN, with the token given to devfault serve --admin-token"
                },
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    let (parts, mut body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|declared| declared > guard.max_body as u64) {
        return too_large(guard.max_body);
    }
    let deadline = tokio::time::Instant::now() + guard.body_timeout;
    let mut bytes = Vec::new();
    loop {
        let frame = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        match tokio::time::timeout_at(deadline, frame).await {
            Err(_) => {
                return json_error(
                    StatusCode::REQUEST_TIMEOUT,
                    &format!(
                        "the request body did not come whole within {} ms",
                        guard.body_timeout.as_millis()
                    ),
                );
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    &format!("the request body could not be read: {error}"),
                );
            }
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if bytes.len() + data.len() > guard.max_body {
                        return too_large(guard.max_body);
                    }
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn too_large(max: usize) -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the request body is over the admin API's limit of {max} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::routing::post;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::testkit::{json_body, request};

    const WAIT: Duration = Duration::from_secs(5);

    async fn start(settings: AdminGuard) -> SocketAddr {
        let router =
            guard(Router::new().route("/echo", post(|body: String| async move { body })), settings);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        addr
    }

    #[tokio::test]
    async fn a_token_is_required_when_set() {
        let addr =
            start(AdminGuard { token: Some("s3cret".to_owned()), ..AdminGuard::default() }).await;
        let none = request(addr, "POST", "/echo", &[], "hi", WAIT).await.response();
        assert_eq!(none.status, 401);
        assert!(json_body(&none)["error"].as_str().unwrap().contains("--admin-token"));
        let wrong = request(addr, "POST", "/echo", &[("Authorization", "Bearer nope")], "hi", WAIT)
            .await
            .response();
        assert_eq!(wrong.status, 401);
        let right =
            request(addr, "POST", "/echo", &[("Authorization", "Bearer s3cret")], "hi", WAIT)
                .await
                .response();
        assert_eq!((right.status, right.body.as_slice()), (200, b"hi".as_slice()));
    }

    /// The dashboard's page loads without the token (it asks for it), the API behind it does
    /// not answer without it.
    #[tokio::test]
    async fn the_dashboard_page_loads_without_the_token_and_nothing_else_does() {
        let admin = Arc::new(crate::admin::Admin::new(
            Arc::new(crate::faults::Faults::new(1)),
            Arc::new(crate::journal::Journal::new(10)),
        ));
        let router = guard(
            crate::admin::router(admin),
            AdminGuard { token: Some("s3cret".to_owned()), ..AdminGuard::default() },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let html = [("Accept", "text/html,application/json")];
        for (path, headers, want) in [
            ("/ui/", &[][..], 200),
            ("/ui/app.js", &[][..], 200),
            ("/", &html[..], 200),
            ("/", &[][..], 401),
            ("/devices", &html[..], 401),
            ("/journal", &[][..], 401),
        ] {
            let got = request(addr, "GET", path, headers, "", WAIT).await.response();
            assert_eq!(got.status, want, "GET {path} {headers:?}");
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_a_json_413() {
        let addr = start(AdminGuard { max_body: 10, ..AdminGuard::default() }).await;
        let response = request(addr, "POST", "/echo", &[], "0123456789a", WAIT).await.response();
        assert_eq!(response.status, 413);
        assert!(json_body(&response)["error"].as_str().unwrap().contains("10 bytes"));
    }

    #[tokio::test]
    async fn the_default_limit_answers_413_in_json() {
        let addr = start(AdminGuard::default()).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            MAX_ADMIN_BODY + 1
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let read = tokio::time::timeout(WAIT, stream.read(&mut buf)).await.unwrap().unwrap();
        let response = devfault_core::parse_response(&buf[..read]).unwrap();
        assert_eq!(response.status, 413);
        assert!(json_body(&response)["error"].as_str().unwrap().contains("8388608 bytes"));
    }

    #[tokio::test]
    async fn a_chunked_body_that_never_ends_is_answered_408() {
        let addr =
            start(AdminGuard { body_timeout: Duration::from_millis(300), ..AdminGuard::default() })
                .await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
            )
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf))
            .await
            .expect("answered within 3 s")
            .unwrap();
        let response = devfault_core::parse_response(&buf[..read]).unwrap();
        assert_eq!(response.status, 408);
        assert!(json_body(&response)["error"].is_string());
    }

    #[test]
    fn tokens_are_checked() {
        assert!(check_token("").is_err());
        assert!(check_token("bad token").unwrap_err().contains("' '"));
        assert!(check_token(&"a".repeat(MAX_TOKEN_CHARS + 1)).is_err());
        assert_eq!(check_token("Zm9v-bar_1"), Ok(()));
    }
}
