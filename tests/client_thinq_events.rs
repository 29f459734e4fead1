//! The ThinQ client's event side against the virtual cloud's MQTT broker, started in-process
//! on port 0 with mutual TLS: typed status, push and lifecycle events, a dropped connection
//! survived with what was queued meanwhile, a refused CONNECT, a wrong CA and undecodable
//! payloads, each a classified failure.

use std::time::Duration;

use devfault_core::{Class, FailureKind, Retry};
use devfault_emulator::server::{RunningServer, ServeConfig, serve};
use devfault_thinq::client::{Client, EventStream, Reconnect, Update};
use devfault_thinq::event::{Event, Kind, PushType};
use serde_json::{Value, json};

use crate::client_bravia::fast_policy;

const TOKEN: &str = "thinqpat-devfault-0000";

/// Every wait is bounded by this.
const STEP: Duration = Duration::from_secs(10);

async fn start(time_scale: Option<u32>) -> RunningServer {
    let any = "127.0.0.1:0".parse().expect("address");
    let config = ServeConfig {
        bravia_addr: any,
        admin_addr: any,
        thinq_addr: any,
        thinq_mqtt_addr: Some(any),
        thinq_time_scale: time_scale,
        seed: Some(7),
        ..ServeConfig::default()
    };
    serve(config, std::future::pending()).await.expect("the emulator starts")
}

/// A client of the cloud that trusts its CA (or not), reconnecting fast.
fn client(server: &RunningServer, id: &str, trust: bool) -> Client {
    let mut builder = Client::builder(TOKEN, "US")
        .base_url(format!("http://{}", server.thinq().addr))
        .client_id(id)
        .timeout(Duration::from_secs(5))
        .retry_policy(fast_policy())
        .reconnect(Reconnect::new(Duration::from_millis(1000), Duration::from_millis(1000)));
    if trust {
        builder = builder.add_root_certificate(server.thinq().ca_pem.clone().into_bytes());
    }
    builder.build().expect("a valid client")
}

async fn admin(server: &RunningServer, method: reqwest::Method, path: &str, body: Value) -> Value {
    crate::util::admin_call(&reqwest::Client::new(), server.admin_addr(), method, path, body).await
}

/// The next update, within [`STEP`].
async fn next(stream: &mut EventStream) -> Result<Update, devfault_thinq::client::Error> {
    tokio::time::timeout(STEP, stream.recv())
        .await
        .expect("an update within the step")
        .expect("the stream goes on")
}

/// The next event, skipping connection updates.
async fn next_event(stream: &mut EventStream) -> Event {
    for _ in 0..20 {
        match next(stream).await {
            Ok(Update::Event(event)) => return event,
            Ok(_) => {}
            Err(error) => panic!("an error item: {error}"),
        }
    }
    panic!("no event in 20 updates")
}

fn wind(level: &str) -> Value {
    json!({"airFlow": {"windStrength": level}})
}

#[tokio::test]
async fn a_control_command_yields_a_typed_status_with_the_changed_resources() {
    let server = start(None).await;
    let thinq = client(&server, "events-status", true);
    thinq.event_subscribe("ac-living-room", 4464).await.expect("subscribed");
    let mut events = thinq.events().await.expect("connected");
    assert_eq!(events.topic(), "app/clients/events-status/push");
    assert!(
        matches!(next(&mut events).await, Ok(Update::Connected { .. })),
        "the first update says connected"
    );
    // It starts at HIGH.
    thinq.control("ac-living-room", &wind("LOW")).await.expect("accepted");
    let event = next_event(&mut events).await;
    assert_eq!(event.push_type(), PushType::DeviceStatus);
    assert_eq!(event.kind, Kind::Status { report: wind("LOW") }, "only the changed resource");
    assert_eq!(
        (event.device_id.as_str(), event.device_type.as_deref()),
        ("ac-living-room", Some("DEVICE_AIR_CONDITIONER"))
    );
    assert_eq!(event.user_list, ["devfault-user-1"]);
    events.close().await.expect("DISCONNECT and DELETE /client");
    let journal = admin(&server, reqwest::Method::GET, "/journal?limit=1000", Value::Null).await;
    let deletes = journal["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["request"]["method"] == "DELETE" && e["request"]["path"] == "/client")
        .count();
    assert_eq!(deletes, 1, "close unregisters the client");
}

#[tokio::test]
async fn a_washer_cycle_ends_in_a_typed_push() {
    let server = start(Some(60_000)).await;
    let thinq = client(&server, "events-washer", true);
    thinq.event_subscribe("washer-main", 4464).await.expect("event subscription");
    thinq.push_subscribe("washer-main").await.expect("push subscription");
    let mut events = thinq.events().await.expect("connected");
    let start = json!({"location": {"locationName": "MAIN"}, "operation": {"washerOperationMode": "START"}});
    thinq.control("washer-main", &start).await.expect("started");
    let mut statuses = 0;
    let code = loop {
        let event = next_event(&mut events).await;
        assert_eq!(event.device_id, "washer-main");
        match event.kind {
            Kind::Push { code } => break code,
            Kind::Status { report } => {
                assert!(report.is_array(), "a washer reports locations: {report}");
                statuses += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(statuses < 200, "no end of cycle");
    };
    assert_eq!(code, "WASHING_IS_COMPLETE");
    assert!(statuses >= 4, "RUNNING, RINSING, SPINNING, END at least: {statuses}");
}

#[tokio::test]
async fn lifecycle_events_arrive_typed_after_push_devices_subscribe() {
    let server = start(None).await;
    let thinq = client(&server, "events-lifecycle", true);
    // Before events() registers the client (POST /client): the cloud keeps the choice.
    thinq.push_devices_subscribe().await.expect("lifecycle events");
    let mut events = thinq.events().await.expect("connected");
    admin(
        &server,
        reqwest::Method::PATCH,
        "/devices/fridge-kitchen",
        json!({"alias": "Pantry fridge"}),
    )
    .await;
    let event = next_event(&mut events).await;
    assert_eq!(event.push_type(), PushType::DeviceAliasChanged);
    assert_eq!(event.kind, Kind::AliasChanged { alias: "Pantry fridge".into() });
    assert_eq!(event.device_id, "fridge-kitchen");

    let spec = json!({"deviceId": "washer-utility", "deviceType": "DEVICE_WASHER"});
    admin(&server, reqwest::Method::POST, "/devices/thinq-cloud/members", spec).await;
    let event = next_event(&mut events).await;
    assert_eq!((event.kind, event.device_id.as_str()), (Kind::Registered, "washer-utility"));
    assert_eq!(event.device_type.as_deref(), Some("DEVICE_WASHER"));
    assert_eq!(event.extra.get("alias"), Some(&json!("washer-utility")), "{:?}", event.extra);
    let listed = thinq.devices().await.expect("GET /devices");
    assert!(listed.iter().any(|d| d.device_id == "washer-utility"), "listed");

    admin(&server, reqwest::Method::DELETE, "/devices/washer-utility", Value::Null).await;
    let event = next_event(&mut events).await;
    assert_eq!((event.kind, event.device_id.as_str()), (Kind::Unregistered, "washer-utility"));
    let gone = thinq.state("washer-utility").await.expect_err("removed");
    assert_eq!(gone.code().map(|c| c.as_u16()), Some(1217), "{gone}");
}

#[tokio::test]
async fn a_dropped_connection_is_survived_and_what_was_queued_arrives() {
    let server = start(None).await;
    let thinq = client(&server, "events-drop", true);
    thinq.event_subscribe("ac-living-room", 4464).await.expect("subscribed");
    let mut first = thinq.events().await.expect("connected");
    assert!(matches!(next(&mut first).await, Ok(Update::Connected { .. })));
    // A second connection with the same client id takes the session over, which drops the
    // first; it then leaves without ending the session (dropped, not closed).
    let second = thinq.events().await.expect("the second connection");
    drop(second);
    match next(&mut first).await {
        Ok(Update::Disconnected { error, retry_in }) => {
            assert!(retry_in >= Duration::from_millis(500), "{retry_in:?}");
            assert!(error.is_retryable(), "a lost connection is worth retrying: {error}");
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // While it is away: its next CONNECT is dropped right after CONNACK by a fault rule, and
    // an event is published into its persistent session.
    admin(
        &server,
        reqwest::Method::POST,
        "/faults",
        json!({"match": {"api": "thinq-mqtt", "http_method": "CONNECT"}, "action": "reset", "count": 1}),
    )
    .await;
    thinq.control("ac-living-room", &wind("LOW")).await.expect("accepted");
    let mut updates = Vec::new();
    let event = loop {
        match next(&mut first).await {
            Ok(Update::Event(event)) => break event,
            Ok(update) => updates.push(update),
            Err(error) => panic!("an error item: {error}"),
        }
        assert!(updates.len() < 10, "{updates:?}");
    };
    assert_eq!(event.kind, Kind::Status { report: wind("LOW") }, "queued while away");
    let reconnects = updates.iter().filter(|u| matches!(u, Update::Connected { .. })).count();
    let drops = updates.iter().filter(|u| matches!(u, Update::Disconnected { .. })).count();
    assert!(reconnects >= 2 && drops >= 1, "dropped after CONNACK, then back: {updates:?}");
    assert!(
        matches!(updates.last(), Some(Update::Connected { session_present: true })),
        "the session was kept: {updates:?}"
    );
    // And the stream keeps delivering.
    thinq.control("ac-living-room", &wind("HIGH")).await.expect("accepted");
    assert_eq!(next_event(&mut first).await.kind, Kind::Status { report: wind("HIGH") });
}

#[tokio::test]
async fn mqtt_connect_to_reaches_the_broker_through_a_proxy() {
    let server = start(None).await;
    let broker = server.thinq().mqtt_addr.expect("a broker");
    // A proxy in front of the broker: connections to it are forwarded.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let proxy_addr = proxy.local_addr().expect("bound");
    let forwarded = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&forwarded);
    let forwarder = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = proxy.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(broker).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let thinq = Client::builder(TOKEN, "US")
        .base_url(format!("http://{}", server.thinq().addr))
        .client_id("events-elsewhere")
        .timeout(Duration::from_secs(5))
        .add_root_certificate(server.thinq().ca_pem.clone().into_bytes())
        .mqtt_connect_to(proxy_addr)
        .build()
        .expect("a valid client");
    thinq.event_subscribe("ac-living-room", 4464).await.expect("subscribed");
    let mut events = thinq.events().await.expect("connected through the proxy");
    thinq.control("ac-living-room", &wind("LOW")).await.expect("accepted");
    assert_eq!(next_event(&mut events).await.kind, Kind::Status { report: wind("LOW") });
    assert_eq!(forwarded.load(std::sync::atomic::Ordering::SeqCst), 1, "through the proxy");
    events.close().await.expect("closed");
    forwarder.abort();
}

#[tokio::test]
async fn a_refused_connect_and_a_wrong_ca_are_classified() {
    let server = start(None).await;
    admin(
        &server,
        reqwest::Method::POST,
        "/faults",
        json!({"match": {"api": "thinq-mqtt", "http_method": "CONNECT"}, "action": "code", "code": "5", "count": 1}),
    )
    .await;
    let thinq = client(&server, "events-refused", true);
    let err = thinq.events().await.expect_err("CONNACK 5");
    assert_eq!((err.api, err.kind), ("thinq-mqtt", FailureKind::Api));
    assert_eq!(
        (err.code.as_deref(), err.class, err.retry),
        (Some("5"), Class::Permission, Retry::Never)
    );
    assert!(err.to_string().contains("not authorized"), "{err}");
    // The rule is spent: the next attempt connects.
    let events = thinq.events().await.expect("connected after the refusal");
    events.close().await.expect("closed");

    // A withheld SUBACK: events() gives up after the client's timeout, classified.
    admin(
        &server,
        reqwest::Method::POST,
        "/faults",
        json!({"match": {"api": "thinq-mqtt", "http_method": "SUBSCRIBE"}, "action": "no_answer", "count": 1}),
    )
    .await;
    let impatient = Client::builder(TOKEN, "US")
        .base_url(format!("http://{}", server.thinq().addr))
        .client_id("events-no-suback")
        .timeout(Duration::from_secs(1))
        .add_root_certificate(server.thinq().ca_pem.clone().into_bytes())
        .build()
        .expect("a valid client");
    let err = impatient.events().await.expect_err("no SUBACK");
    assert_eq!((err.kind, err.api), (FailureKind::Timeout, "thinq-mqtt"));
    assert!(err.to_string().contains("no CONNACK and SUBACK within 1s"), "{err}");

    let untrusting = client(&server, "events-wrong-ca", false);
    let err = untrusting.events().await.expect_err("the cloud's CA is not trusted");
    assert_eq!(
        (err.kind, err.class, err.retry),
        (FailureKind::Transport, Class::Authentication, Retry::Never)
    );
    assert!(err.to_string().contains("not trusted"), "{err}");
}

#[tokio::test]
async fn undecodable_payloads_are_error_items_and_the_stream_goes_on() {
    let server = start(None).await;
    let thinq = client(&server, "events-bad-payload", true);
    thinq.event_subscribe("ac-living-room", 4464).await.expect("subscribed");
    let mut events = thinq.events().await.expect("connected");
    let rule = |action: &str| json!({"match": {"api": "thinq-mqtt", "http_method": "PUBLISH"}, "action": action, "count": 1});
    admin(&server, reqwest::Method::POST, "/faults", rule("malformed_body")).await;
    thinq.control("ac-living-room", &wind("LOW")).await.expect("accepted");
    let err = loop {
        match next(&mut events).await {
            Err(err) => break err,
            Ok(Update::Event(event)) => panic!("a cut payload decoded: {event:?}"),
            Ok(_) => {}
        }
    };
    assert_eq!((err.api, err.kind), ("thinq-mqtt", FailureKind::Unreadable));
    assert!(err.to_string().contains("not JSON"), "{err}");
    admin(&server, reqwest::Method::POST, "/faults", rule("non_json_body")).await;
    thinq.control("ac-living-room", &wind("MID")).await.expect("accepted");
    let bare = next_event(&mut events).await;
    assert_eq!(
        (bare.device_type, bare.kind),
        (None, Kind::Status { report: wind("MID") }),
        "said, not fatal"
    );
}

#[tokio::test]
async fn a_stream_that_cannot_reconnect_gives_up_after_its_attempts() {
    let server = start(None).await;
    let thinq = Client::builder(TOKEN, "US")
        .base_url(format!("http://{}", server.thinq().addr))
        .client_id("events-give-up")
        .timeout(Duration::from_secs(2))
        .add_root_certificate(server.thinq().ca_pem.clone().into_bytes())
        .reconnect(
            Reconnect::new(Duration::from_millis(50), Duration::from_millis(100)).max_attempts(2),
        )
        .build()
        .expect("a valid client");
    let mut events = thinq.events().await.expect("connected");
    assert!(matches!(next(&mut events).await, Ok(Update::Connected { .. })));
    // The cloud goes away: its broker closes and refuses new connections.
    drop(server);
    let mut disconnects = 0;
    let last = loop {
        match next(&mut events).await {
            Ok(Update::Disconnected { .. }) => disconnects += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(error) => break error,
        }
        assert!(disconnects <= 3, "more attempts than allowed");
    };
    // The loss and the first failed attempt are Disconnected; the second failed attempt is
    // the last item.
    assert_eq!(disconnects, 2);
    assert_eq!(last.kind, FailureKind::Transport, "{last}");
    let end = tokio::time::timeout(STEP, events.recv()).await.expect("ends promptly");
    assert!(end.is_none(), "the stream ended");
}
