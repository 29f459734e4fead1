use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::*;
use crate::admin::router;
use crate::faults::Faults;
use crate::journal::{Delivery, Journal, RecordedRequest, RecordedResponse, now_rfc3339};
use crate::testkit::FakeDevice;

/// Answers from the BRAVIA registry itself, so the endpoints' plumbing is tested without the
/// CLI (whose explainer has its own tests).
#[derive(Debug)]
struct RegistryExplainer;

impl Explainer for RegistryExplainer {
    fn diagnose(&self, entry: &JournalEntry, lang: Lang) -> Option<Value> {
        let response = entry.response.as_ref()?;
        Some(json!({ "status": response.status, "lang": lang.tag(), "text": "diagnosed" }))
    }

    fn registry(&self, api: Option<&str>, query: &str, lang: Lang) -> Result<Vec<Value>, String> {
        if api == Some(devfault_thinq::API) {
            return Ok(Vec::new());
        }
        let registry = devfault_bravia::registry();
        let code: u32 = query.parse().map_err(|_| format!("{query:?} is not a code"))?;
        Ok(registry
            .rows(code)
            .map(|e| json!({ "code": e.code, "reason": e.reason, "lang": lang.tag() }))
            .collect())
    }
}

fn admin(explained: bool) -> Arc<Admin> {
    let journal = Arc::new(Journal::new(3));
    let admin = Admin::new(Arc::new(Faults::new(1)), journal)
        .with_device(FakeDevice::new("bravia-0"), None)
        .with_device(FakeDevice::new("bravia-1"), None);
    if explained {
        assert!(admin.set_explainer(Arc::new(RegistryExplainer)));
        assert!(!admin.set_explainer(Arc::new(RegistryExplainer)), "set once");
    }
    Arc::new(admin)
}

fn record(admin: &Admin, device: &str, response: bool) -> u64 {
    admin.journal().record(JournalEntry {
        seq: 0,
        time: now_rfc3339(),
        device: device.to_owned(),
        api: "bravia".to_owned(),
        request: RecordedRequest::new("POST", "/sony/audio", &HeaderMap::new(), b"{}"),
        outcome: if response { Delivery::Answered } else { Delivery::Reset },
        response: response.then(|| {
            RecordedResponse::new(200, &HeaderMap::new(), br#"{"error":[40801,"x"],"id":1}"#)
        }),
        decoded: None,
        violations: Vec::new(),
        fault: None,
        duration_ms: 1,
    })
}

async fn get(
    admin: &Arc<Admin>,
    uri: &str,
    accept: Option<&str>,
) -> (StatusCode, HeaderMap, String) {
    let mut request = Request::builder().uri(uri);
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let response =
        router(Arc::clone(admin)).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap();
    (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn get_json(admin: &Arc<Admin>, uri: &str) -> (StatusCode, Value) {
    let (status, headers, body) = get(admin, uri, None).await;
    assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{uri}");
    (status, serde_json::from_str(&body).unwrap())
}

#[test]
fn a_browser_navigation_wants_html_and_curl_or_a_program_json() {
    let wants = |accept: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
        wants_html(&headers)
    };
    // Chromium's and Firefox's navigation headers.
    assert!(wants("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"));
    assert!(wants("TEXT/HTML"));
    assert!(!wants("*/*"), "curl");
    assert!(!wants("application/json"));
    assert!(!wants("application/json, text/html"), "JSON asked for first");
    assert!(!wants("text/htmlx"));
    assert!(!wants_html(&HeaderMap::new()), "no Accept");
}

#[tokio::test]
async fn the_page_is_served_to_browsers_and_json_to_everyone_else() {
    let admin = admin(false);
    let (status, headers, body) = get(&admin, "/", Some("text/html,*/*;q=0.8")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(
        headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("connect-src 'self'")
    );
    assert_eq!(headers[header::VARY], "accept");
    assert!(body.contains("<script src=\"/ui/app.js\""), "{body}");
    for accept in [None, Some("*/*"), Some("application/json")] {
        let (status, headers, body) = get(&admin, "/", accept).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{accept:?}");
        assert!(body.contains("\"name\":\"devfault admin API\""), "{body}");
    }
    for (path, content_type, needle) in [
        ("/ui/", "text/html; charset=utf-8", "<title>devfault dashboard</title>"),
        ("/ui/app.js", "text/javascript; charset=utf-8", "\"use strict\";"),
        ("/ui/style.css", "text/css; charset=utf-8", ":root {"),
    ] {
        let (status, headers, body) = get(&admin, path, Some("application/json")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "{path}");
        assert!(body.contains(needle), "{path}");
    }
    let post = Request::builder().method("POST").uri("/ui/").body(Body::empty()).unwrap();
    let response = router(Arc::clone(&admin)).oneshot(post).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
    assert_eq!(&body[..], br#"{"error":"/ui/ does not take POST; it takes GET"}"#);
    let (status, value) = get_json(&admin, "/ui/nosuch.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(value["error"].as_str().unwrap().contains("/ui/nosuch.js"));
}

/// The script looks elements up by id: each must be in the page.
#[test]
fn every_element_the_script_names_is_in_the_page() {
    let mut named = 0;
    for part in APP_JS.split("$(\"").skip(1) {
        let id = part.split('"').next().unwrap();
        assert!(
            INDEX_HTML.contains(&format!("id=\"{id}\"")),
            "app.js names #{id}, not in index.html"
        );
        named += 1;
    }
    assert!(named > 40, "{named}");
    for asset in [INDEX_HTML, STYLE_CSS, APP_JS] {
        assert!(
            !asset.contains("http://") && !asset.contains("https://"),
            "nothing from the network"
        );
    }
}

#[tokio::test]
async fn one_entry_comes_with_its_diagnosis() {
    let admin = admin(true);
    let seq = record(&admin, "bravia-0", true);
    let (status, value) = get_json(&admin, &format!("/journal/{seq}?lang=ja")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value["seq"], seq);
    assert_eq!(value["device"], "bravia-0");
    assert_eq!(value["diagnosis"], json!({"status": 200, "lang": "ja", "text": "diagnosed"}));
    let reset = record(&admin, "bravia-0", false);
    let (_, value) = get_json(&admin, &format!("/journal/{reset}")).await;
    assert_eq!(value["diagnosis"], Value::Null, "no response, nothing to diagnose");

    for _ in 0..3 {
        record(&admin, "bravia-1", true);
    }
    let (status, value) = get_json(&admin, &format!("/journal/{seq}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        value["error"],
        "the journal holds no entry 1 (it keeps the newest 3; GET /journal lists them)"
    );
    let (status, value) = get_json(&admin, "/journal/first").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(value["error"].as_str().unwrap().starts_with("\"first\" is not a journal sequence"));
    let (status, value) = get_json(&admin, "/journal/5?lang=fr").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        value["error"],
        "lang=\"fr\" is not a language here; give en or ja; this takes ?lang=en|ja"
    );

    let bare = self::admin(false);
    let seq = record(&bare, "bravia-0", true);
    let (_, value) = get_json(&bare, &format!("/journal/{seq}")).await;
    assert_eq!(value["diagnosis"]["error"], NO_EXPLAINER);
}

#[tokio::test]
async fn the_registry_answers_through_the_explainer_or_says_it_has_none() {
    let admin = admin(true);
    let (status, value) = get_json(&admin, "/registry?api=bravia&q=40801&lang=ja").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(value["count"], 1);
    assert_eq!(value["lang"], "ja");
    assert_eq!(
        value["entries"][0],
        json!({"code": 40801, "reason": "Volume Out of Range", "lang": "ja"})
    );
    let (status, value) = get_json(&admin, "/registry?q=forty").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(value["error"], "\"forty\" is not a code");
    let (status, value) = get_json(&admin, "/registry?api=sonos").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(value["error"].as_str().unwrap().starts_with("api=\"sonos\" is not an API here"));
    let (status, value) = get_json(&admin, "/registry?code=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(value["error"].as_str().unwrap().contains("unknown field `code`"), "{value}");

    let (status, value) = get_json(&self::admin(false), "/registry?q=40801").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(value["error"], NO_EXPLAINER);
}

/// A client of the event stream over a real socket: what arrived so far, as text.
struct EventClient {
    stream: TcpStream,
    seen: String,
}

impl EventClient {
    async fn open(addr: std::net::SocketAddr, query: &str) -> EventClient {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET /journal/events{query} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        EventClient { stream, seen: String::new() }
    }

    /// Reads until `needle` arrived (true) or the stream ended (false); bounded to 5 s.
    async fn until(&mut self, needle: &str) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut buffer = [0u8; 4096];
        while !self.seen.contains(needle) {
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buffer))
                .await
                .unwrap_or_else(|_| panic!("no {needle:?} within 5 s; got {}", self.seen));
            match read {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buffer[..n])),
            }
        }
        true
    }
}

#[tokio::test]
async fn the_event_stream_replays_filters_follows_and_ends_with_the_server() {
    let admin = admin(false);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, router(Arc::clone(&admin))).into_future());

    let first = record(&admin, "bravia-0", true);
    let second = record(&admin, "bravia-1", true);
    let mut all = EventClient::open(addr, &format!("?since={first}")).await;
    assert!(all.until("\r\n\r\n").await);
    assert!(all.seen.starts_with("HTTP/1.1 200 OK\r\n"), "{}", all.seen);
    assert!(all.seen.to_lowercase().contains("content-type: text/event-stream"), "{}", all.seen);
    assert!(all.until(&format!("id: {second}\n")).await, "replayed: newer than ?since");
    assert!(!all.seen.contains(&format!("id: {first}\n")), "{}", all.seen);

    let mut one = EventClient::open(addr, "?device=bravia-0").await;
    assert!(one.until("\r\n\r\n").await);
    let third = record(&admin, "bravia-1", true);
    let fourth = record(&admin, "bravia-0", true);
    assert!(all.until(&format!("id: {fourth}\n")).await);
    assert!(all.seen.contains(&format!("id: {third}\n")));
    let expected = format!("event: entry\nid: {third}\ndata: {{\"seq\":{third},");
    assert!(all.seen.contains(&expected), "{}", all.seen);
    assert!(one.until(&format!("id: {fourth}\n")).await);
    assert!(!one.seen.contains(&format!("id: {third}\n")), "another device's: {}", one.seen);
    assert_eq!(all.seen.matches(&format!("id: {second}\n")).count(), 1, "sent once");

    admin.close_streams();
    // The body's last chunk: the stream ended (the connection may stay open for another).
    assert!(all.until("\r\n0\r\n\r\n").await, "the stream ends when the server stops");
    assert!(one.until("\r\n0\r\n\r\n").await);

    let (status, value) = get_json(&admin, "/journal/events?device=bravia-9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(value["error"], "no device \"bravia-9\"; devices: bravia-0, bravia-1");
    let (status, value) = get_json(&admin, "/journal/events?since=last").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(value["error"].as_str().unwrap().ends_with("?since=SEQ (a sequence number)"));
    server.abort();
}

/// The rule the page's "Provoke now" posts (a BRAVIA code as a number, a ThinQ code as the
/// string it is on the wire; the row's message when the code has several rows, the quoted
/// one, or a template) is accepted for every code every default device lists.
#[tokio::test]
async fn every_provocation_can_be_provoked_now() {
    let config = crate::server::ServeConfig {
        bravia_addr: "127.0.0.1:0".parse().unwrap(),
        admin_addr: "127.0.0.1:0".parse().unwrap(),
        thinq_addr: "127.0.0.1:0".parse().unwrap(),
        seed: Some(1),
        ..crate::server::ServeConfig::default()
    };
    let running = crate::server::serve(config, std::future::pending()).await.unwrap();
    let admin = Arc::clone(running.admin());
    let mut provoked = 0;
    for entry in admin.devices() {
        let device = &entry.device;
        for provocation in device.provocations() {
            let (registry, code) = if device.api() == devfault_bravia::API {
                (devfault_bravia::registry(), json!(provocation.code.parse::<u64>().unwrap()))
            } else {
                (devfault_thinq::registry(), json!(provocation.code))
            };
            let number = registry.space().parse(&provocation.code).unwrap();
            let rows: Vec<_> = registry.rows(number).collect();
            let quoted = |message: &str| provocation.how.contains(&json!(message).to_string());
            let row = rows.iter().find(|row| quoted(&row.message)).or(rows.first()).unwrap();
            let mut rule = json!({"match": {"api": device.api(), "device": device.id()},
                                  "action": "code", "code": code, "count": 1});
            if rows.len() > 1 || row.template.is_some() {
                rule["message"] = json!(row.message);
            }
            let request = Request::builder()
                .method("POST")
                .uri("/faults")
                .body(Body::from(rule.to_string()))
                .unwrap();
            let response = router(Arc::clone(&admin)).oneshot(request).await.unwrap();
            let status = response.status();
            let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{rule}: {}", String::from_utf8_lossy(&body));
            provoked += 1;
        }
    }
    assert!(provoked > 100, "{provoked}");
    running.shutdown();
}
