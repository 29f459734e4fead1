//! The cloud through its router, in process: envelopes, header checks, state changes.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::Request;
use devfault_thinq::wire::decode_response;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;

const ID: &str = "fNvdZ1brTn-wWKUlWGoSVw";

fn cloud() -> Arc<Cloud> {
    Arc::new(Cloud::new(CloudConfig::default()))
}

/// A request as the SDK sends it, with `extra` headers replacing or removing (empty value)
/// the usual ones.
async fn call(
    cloud: &Arc<Cloud>,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &str,
) -> (u16, Value, axum::http::HeaderMap) {
    let mut headers = vec![
        ("authorization", format!("Bearer {DEFAULT_TOKEN}")),
        ("x-country", "US".to_owned()),
        ("x-message-id", ID.to_owned()),
        ("x-client-id", "thinq-open-test".to_owned()),
        ("x-api-key", API_KEY.to_owned()),
        ("x-service-phase", "OP".to_owned()),
    ];
    for (name, value) in extra {
        headers.retain(|(n, _)| n != name);
        if !value.is_empty() {
            headers.push((name, (*value).to_owned()));
        }
    }
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in &headers {
        request = request.header(*name, value);
    }
    let request = request.body(Body::from(body.to_owned())).expect("a request");
    let response = router(Arc::clone(cloud)).oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "{method} {path}"
    );
    let bytes = to_bytes(response.into_body(), usize::MAX).await.expect("body");
    let pairs: Vec<(&str, &str)> =
        headers.iter().filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?))).collect();
    let decoded = decode_response(status, pairs, &bytes, None);
    assert!(decoded.is_conforming(), "{method} {path}: {:?}", decoded.findings);
    (status, serde_json::from_slice(&bytes).expect("JSON"), headers)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn the_device_list_is_the_household_in_order_with_the_envelope() {
    let cloud = cloud();
    let (status, body, _) = call(&cloud, "GET", "/devices", &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(body["messageId"], ID);
    let ids: Vec<&str> = body["response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["deviceId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "ac-living-room",
            "washer-main",
            "fridge-kitchen",
            "ac-bedroom-off",
            "washer-remote-off",
            "dryer-offline",
            "fridge-garage"
        ]
    );
    assert_eq!(body["response"][0]["deviceInfo"]["deviceType"], "DEVICE_AIR_CONDITIONER");
    let (_, neighbour, _) = call(
        &cloud,
        "GET",
        "/devices",
        &[("authorization", &format!("Bearer {NEIGHBOUR_TOKEN}"))],
        "",
    )
    .await;
    assert_eq!(neighbour["response"][0]["deviceId"], "ac-neighbour");
}

#[tokio::test]
async fn a_command_changes_the_state() {
    let cloud = cloud();
    let path = "/devices/ac-living-room/control";
    let set = r#"{"temperatureInUnits": {"coolTargetTemperature": 21, "unit": "C"}}"#;
    let (status, body, _) =
        call(&cloud, "POST", path, &[("x-conditional-control", "true")], set).await;
    assert_eq!((status, &body["response"]), (200, &json!({})));
    let (_, state, _) = call(&cloud, "GET", "/devices/ac-living-room/state", &[], "").await;
    assert_eq!(state["response"]["temperatureInUnits"][0]["targetTemperature"], 21);
    let (status, body, _) =
        call(&cloud, "POST", path, &[], r#"{"airConJobMode": {"currentJobMode": "AIR_DRY"}}"#)
            .await;
    assert_eq!(status, 200, "{body}");
    let (_, state, _) = call(&cloud, "GET", "/devices/ac-living-room/state", &[], "").await;
    assert_eq!(state["response"]["airConJobMode"]["currentJobMode"], "AIR_DRY");
}

#[tokio::test]
async fn header_problems_answer_their_codes() {
    let cloud = cloud();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("x-country", "")], "1101"),
        (&[("x-message-id", "")], "1101"),
        (&[("authorization", "")], "1101"),
        (&[("x-client-id", "")], "1101"),
        (&[("x-api-key", "")], "1101"),
        (&[("authorization", "Token abc")], "1103"),
        (&[("authorization", "Bearer bad!token")], "1103"),
        (&[("x-message-id", "short")], "1104"),
        (&[("x-api-key", "wrong")], "1216"),
        (&[("x-service-phase", "XX")], "1216"),
        (&[("authorization", "Bearer nobodys-token")], "1218"),
        (&[("x-service-key", "abc")], "1301"),
        (&[("authorization", "Bearer thinqpat-devfault-expired")], "1302"),
        (&[("authorization", "Bearer thinqpat-devfault-deleted")], "1303"),
        (&[("authorization", "Bearer thinqpat-devfault-terms")], "1304"),
        (&[("x-country", "ZZ")], "1307"),
        (&[("host", "api-eic.lgthinq.com")], "1307"),
        (&[("host", "api-xyz.lgthinq.com")], "1310"),
        (&[("host", "API-EIC.LGThinQ.com:443")], "1307"),
    ];
    for (headers, expected) in cases {
        let (_, body, reply) = call(&cloud, "GET", "/devices", headers, "").await;
        assert_eq!(code(&body), *expected, "{headers:?}");
        assert!(reply.contains_key("x-devfault-reason"), "{headers:?}");
    }
    let (status, body, _) =
        call(&cloud, "GET", "/devices", &[("host", "api-aic.lgthinq.com")], "").await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) =
        call(&cloud, "GET", "/devices", &[("host", "Api-Aic-QA.LgThinQ.COM")], "").await;
    assert_eq!(status, 200, "host names are case-insensitive: {body}");
    let (_, body, _) = call(&cloud, "GET", "/devices", &[("x-message-id", "short")], "").await;
    assert_ne!(body["messageId"], "short", "an invalid id is not echoed");
}

#[tokio::test]
async fn route_needs_no_token_and_names_only_loopback() {
    let cloud = cloud();
    let (status, body, _) = call(&cloud, "GET", "/route", &[("authorization", "")], "").await;
    assert_eq!(status, 200);
    for server in ["apiServer", "mqttServer", "webSocketServer"] {
        let url = body["response"][server].as_str().unwrap();
        assert!(url.contains("://127.0.0.1:"), "{server}: {url}");
    }
}

#[tokio::test]
async fn the_rate_limit_answers_1314_then_1306_as_switched() {
    let cloud = cloud();
    cloud.set_state(&json!({"rate_limit": 2})).unwrap();
    for _ in 0..2 {
        assert_eq!(call(&cloud, "GET", "/devices", &[], "").await.0, 200);
    }
    let (status, body, _) = call(&cloud, "GET", "/devices", &[], "").await;
    assert_eq!((status, code(&body)), (401, "1314"));
    assert_eq!(body["error"]["message"], "Exceeded User API calls");
    cloud.set_state(&json!({"rate_limit_code": "1306"})).unwrap();
    let (status, body, _) = call(&cloud, "GET", "/devices", &[], "").await;
    assert_eq!((status, code(&body)), (401, "1306"));
    cloud.reset();
    assert_eq!(call(&cloud, "GET", "/devices", &[], "").await.0, 200);
}

#[tokio::test]
async fn subscriptions_follow_their_rules() {
    let cloud = cloud();
    let event = r#"{"expire": {"unit": "HOUR", "timer": 4464}}"#;
    assert_eq!(call(&cloud, "POST", "/push/ac-living-room/subscribe", &[], "").await.0, 200);
    let (_, body, _) = call(&cloud, "POST", "/push/ac-living-room/subscribe", &[], "").await;
    assert_eq!(code(&body), "1207");
    let (_, list, _) = call(&cloud, "GET", "/push", &[], "").await;
    assert_eq!(list["response"], json!([{"deviceId": "ac-living-room"}]));
    assert_eq!(call(&cloud, "DELETE", "/push/ac-living-room/unsubscribe", &[], "").await.0, 200);
    let (_, body, _) = call(&cloud, "DELETE", "/push/ac-living-room/unsubscribe", &[], "").await;
    assert_eq!(code(&body), "1206");
    assert_eq!(call(&cloud, "POST", "/event/ac-living-room/subscribe", &[], event).await.0, 200);
    let (_, body, _) = call(&cloud, "POST", "/event/fridge-garage/subscribe", &[], event).await;
    assert_eq!(code(&body), "1214");
    let (_, body, _) = call(&cloud, "POST", "/event/ac-neighbour/subscribe", &[], event).await;
    assert_eq!(code(&body), "1211");
    cloud.set_state(&json!({"event_subscription_limit": 1})).unwrap();
    let (status, body, _) = call(&cloud, "POST", "/event/washer-main/subscribe", &[], event).await;
    assert_eq!((status, code(&body)), (400, "1312"));
    let (_, body, _) = call(&cloud, "DELETE", "/event/washer-main/unsubscribe", &[], "").await;
    assert_eq!(code(&body), "1204");
}

#[tokio::test]
async fn device_situations_answer_their_codes() {
    let cloud = cloud();
    let start =
        r#"{"location": {"locationName": "MAIN"}, "operation": {"washerOperationMode": "START"}}"#;
    let cases = [
        ("GET", "/devices/no-such-device/state", "", "1205", 404),
        ("GET", "/devices/ac-neighbour/state", "", "1212", 404),
        ("GET", "/devices/dehumidifier-deleted/state", "", "1217", 400),
        ("GET", "/devices/bad%21id/state", "", "1224", 404),
        ("GET", "/devices/dryer-offline/state", "", "1222", 416),
        ("POST", "/devices/washer-remote-off/control", start, "2301", 400),
        (
            "POST",
            "/devices/ac-bedroom-off/control",
            r#"{"airFlow": {"windStrength": "HIGH"}}"#,
            "2304",
            400,
        ),
        (
            "POST",
            "/devices/ac-living-room/control",
            r#"{"timer": {"absoluteHourToStart": 10}}"#,
            "2207",
            400,
        ),
        ("POST", "/devices/ac-living-room/control", "{not json", "1000", 400),
        ("POST", "/devices/ac-living-room/control", "[1]", "1311", 401),
        ("PUT", "/devices", "", "1305", 401),
        ("GET", "/nosuch", "", "1000", 400),
    ];
    for (method, path, body, expected, status) in cases {
        let (got, reply, _) = call(&cloud, method, path, &[], body).await;
        assert_eq!((got, code(&reply)), (status, expected), "{method} {path} {body}");
    }
    assert_eq!(call(&cloud, "POST", "/devices/washer-main/control", &[], start).await.0, 200);
    let (_, reply, _) = call(&cloud, "POST", "/devices/washer-main/control", &[], start).await;
    assert_eq!(reply["error"]["message"], "Command not supported in RUNNING");
    assert_eq!(code(&reply), "2302");
}

#[tokio::test]
async fn energy_and_clients_take_what_the_sdk_sends() {
    let cloud = cloud();
    let usage = "/devices/energy/washer-main/usage?property=energyUsage&period=DAILY&startDate=20241001&endDate=20241010";
    let (status, body, _) = call(&cloud, "GET", usage, &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["result"]["dataList"].as_array().map(Vec::len), Some(10));
    let (_, again, _) = call(&cloud, "GET", usage, &[], "").await;
    assert_eq!(again["response"], body["response"], "the same usage on every read");
    let client =
        r#"{"type": "MQTT", "service-code": "SVC202", "device-type": "607", "allowExist": true}"#;
    assert_eq!(call(&cloud, "POST", "/client", &[], client).await.0, 200);
    assert_eq!(call(&cloud, "DELETE", "/client", &[], client).await.0, 200);
    let (_, body, _) = call(&cloud, "DELETE", "/client", &[], client).await;
    assert_eq!(code(&body), "1209");
    assert_eq!(
        call(&cloud, "POST", "/push/devices", &[("content-type", "application/octet-stream")], "")
            .await
            .0,
        200
    );
    let (_, list, _) = call(&cloud, "GET", "/push/devices", &[], "").await;
    assert_eq!(list["response"], json!(["thinq-open-test"]));
}

#[tokio::test]
async fn a_body_with_serde_jsons_private_marker_is_refused_1102() {
    let cloud = cloud();
    let body = r#"{"airFlow":{"windStrength":"LOW","$serde_json::private::RawValue":"[1"}}"#;
    let (status, answer, headers) =
        call(&cloud, "POST", "/devices/ac-living-room/control", &[], body).await;
    assert_eq!((status, &answer["error"]["code"]), (400, &json!("1102")), "{answer}");
    let reason = headers.get("x-devfault-reason").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(reason.contains("airFlow.$serde_json::private::RawValue"), "{reason}");
}

#[test]
fn the_admin_view_changes_online_remote_and_state() {
    let cloud = cloud();
    let washer = cloud.appliance("washer-main").unwrap();
    washer
        .set_state(&json!({"remoteControlEnabled": false, "runState": {"currentState": "ERROR"}}))
        .unwrap();
    let view = washer.state();
    assert_eq!(view["remoteControlEnabled"], false);
    assert_eq!(view["state"][0]["runState"]["currentState"], "ERROR");
    assert!(washer.set_state(&json!({"volume": 3})).unwrap_err().contains("runState"));
    assert!(washer.set_state(&json!({"online": "no"})).unwrap_err().contains("true or false"));
    washer.reset();
    assert_eq!(washer.state()["remoteControlEnabled"], true);
}

#[test]
fn the_roster_changes_at_run_time_and_a_reset_restores_it() {
    let cloud = cloud();
    let start = cloud.appliances().len();
    let bad = |spec: Value| cloud.register(&spec).map(|_| ()).unwrap_err();
    assert!(bad(json!({"deviceType": "DEVICE_WASHER"})).contains("deviceId is missing"));
    assert!(bad(json!({"deviceId": "x y", "deviceType": "DEVICE_WASHER"})).contains("1 to 128"));
    assert!(
        bad(json!({"deviceId": "w", "deviceType": "DEVICE_TOASTER"})).contains("DEVICE_WASHER")
    );
    assert!(
        bad(json!({"deviceId": "w", "deviceType": "DEVICE_WASHER", "owner": 9}))
            .contains("owner 9")
    );
    assert!(
        bad(json!({"deviceId": "w", "deviceType": "DEVICE_WASHER", "colour": 1}))
            .contains("\"colour\"")
    );
    assert!(
        bad(json!({"deviceId": "washer-main", "deviceType": "DEVICE_WASHER"})).contains("exists")
    );
    assert!(
        bad(json!({"deviceId": "dehumidifier-deleted", "deviceType": "DEVICE_WASHER"}))
            .contains("1217")
    );
    assert!(bad(json!(["washer"])).contains("not a JSON object"));

    let added = cloud
        .register(
            &json!({"deviceId": "ac-study", "deviceType": "DEVICE_AIR_CONDITIONER", "owner": 2}),
        )
        .expect("added");
    assert_eq!((added.owner(), &*added.alias()), (Some(2), "ac-study"));
    assert_eq!(cloud.user_of(NEIGHBOUR_TOKEN), Ok(added.owner));
    assert_eq!(cloud.appliances().len(), start + 1);
    assert!(cloud.unregister("ac-living-room").is_ok());
    assert!(cloud.unregister("ac-living-room").unwrap_err().contains("no appliance"));
    assert!(cloud.appliance("ac-living-room").is_none());
    let refusal = cloud.appliance_of(0, "ac-living-room", Code::NOT_OWNED_DEVICE).unwrap_err();
    assert_eq!(refusal.code, Code::ALREADY_DEVICE_DELETED);
    // Added again, it is a new appliance and no longer deleted.
    cloud
        .register(&json!({"deviceId": "ac-living-room", "deviceType": "DEVICE_AIR_CONDITIONER"}))
        .expect("added again");
    assert!(cloud.appliance_of(0, "ac-living-room", Code::NOT_OWNED_DEVICE).is_ok());

    // Adding and removing again and again is bounded: every add counts.
    for n in 2..MAX_ADDED_APPLIANCES {
        let id = format!("churn-{n}");
        cloud.register(&json!({"deviceId": id, "deviceType": "DEVICE_DRYER"})).expect("added");
        cloud.unregister(&id).expect("removed");
    }
    let full = cloud.register(&json!({"deviceId": "one-more", "deviceType": "DEVICE_DRYER"}));
    assert!(full.map(|_| ()).unwrap_err().contains("POST /reset"));

    cloud.reset();
    assert_eq!(cloud.appliances().len(), start);
    assert!(cloud.appliance("ac-study").is_none(), "the added appliance is gone");
    cloud
        .register(&json!({"deviceId": "one-more", "deviceType": "DEVICE_DRYER"}))
        .expect("counted anew");
    let ac = cloud.appliance("ac-living-room").expect("back");
    assert_eq!(&*ac.alias(), "Living room AC", "the household's own, not the re-added one");
    let ids: Vec<String> = cloud.members().iter().map(|m| m.id().to_owned()).collect();
    assert_eq!(ids[0], "ac-living-room", "in the household's order");
}

#[tokio::test]
async fn an_added_appliance_is_listed_and_served_to_its_owner() {
    let cloud = cloud();
    cloud
        .register(
            &json!({"deviceId": "dryer-loft", "deviceType": "DEVICE_DRYER", "alias": "Loft dryer"}),
        )
        .expect("added");
    let (_, list, _) = call(&cloud, "GET", "/devices", &[], "").await;
    let last = list["response"].as_array().and_then(|l| l.last()).cloned().unwrap_or_default();
    assert_eq!(last["deviceInfo"]["alias"], "Loft dryer", "{list}");
    let (status, state, _) = call(&cloud, "GET", "/devices/dryer-loft/state", &[], "").await;
    assert_eq!(status, 200, "{state}");
    cloud.unregister("dryer-loft").expect("removed");
    let (status, body, _) = call(&cloud, "GET", "/devices/dryer-loft/state", &[], "").await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!("1217")), "{body}");
    let (_, list, _) = call(&cloud, "GET", "/devices", &[], "").await;
    assert!(!list.to_string().contains("dryer-loft"), "{list}");
}

#[test]
fn a_fleet_shares_its_templates() {
    let cloud = Cloud::new(CloudConfig { fleet: 25, ..CloudConfig::default() });
    assert_eq!(cloud.appliances().len(), HOUSEHOLD.len() + 25);
    let a = cloud.appliance("fleet-00000").unwrap();
    let b = cloud.appliance("fleet-00004").unwrap();
    assert!(Arc::ptr_eq(&a.lock().state, &b.lock().state));
    assert_eq!(
        cloud.user_of("thinqpat-devfault-fleet-2"),
        Ok(cloud.appliance("fleet-00020").unwrap().owner)
    );
}

#[tokio::test]
async fn route_stays_on_loopback_when_listening_on_every_interface() {
    let cloud = cloud();
    cloud.set_addr(std::net::SocketAddr::from(([0, 0, 0, 0], 9000)));
    let (_, body, _) = call(&cloud, "GET", "/route", &[], "").await;
    assert_eq!(body["response"]["apiServer"], "http://127.0.0.1:9000");
}

#[test]
fn countries_map_to_the_sdk_regions() {
    // The cloud looks up x-country exactly as sent, in devfault-thinq's one table.
    use devfault_thinq::region::{COUNTRIES, Region};
    let region_of = |country| Region::of_code(country).map(Region::as_str);
    assert_eq!(region_of("US"), Some("aic"));
    assert_eq!(region_of("DE"), Some("eic"));
    assert_eq!(region_of("XK"), Some("eic"));
    assert_eq!(region_of("KR"), Some("kic"));
    assert_eq!(region_of("ZZ"), None);
    assert_eq!(region_of("us"), None, "the SDK sends upper case");
    // of_code searches the table by halves: it must be sorted, every country in it once.
    assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0), "COUNTRIES is not sorted");
    for (country, region) in COUNTRIES {
        assert_eq!(Region::of_code(country), Some(*region), "{country}");
    }
}

#[test]
fn paths_match_patterns_segment_for_segment() {
    use devfault_thinq::endpoint::Endpoint;
    let state = Endpoint::GetDeviceStatus;
    assert_eq!(state.device_in("/devices/ac-1/state"), Some(Some("ac-1")));
    assert_eq!(Endpoint::GetDeviceList.device_in("/devices"), Some(None));
    for path in ["/devices//state", "/devices/a/b/state", "/devices/a/state/", "/devices/a"] {
        assert_eq!(state.device_in(path), None, "{path}");
    }
    assert_eq!(Endpoint::GetDeviceProfile.device_in("/devices/energy/x/profile"), None);
    assert_eq!(Endpoint::GetDeviceList.device_in("/devices/"), None);
    assert_eq!(Endpoint::PostPushSubscribe.device_in("/push/subscribe"), None);
}

#[tokio::test]
async fn a_state_read_follows_every_change_of_the_state() {
    let cloud = cloud();
    let path = "/devices/ac-living-room/state";
    let operation = |body: &Value| body["response"]["operation"]["airConOperationMode"].clone();
    let (_, first, _) = call(&cloud, "GET", path, &[], "").await;
    assert_eq!(operation(&first), "POWER_ON");
    // The text written for the first read is reused while nothing changes.
    let (_, again, _) = call(&cloud, "GET", path, &[], "").await;
    assert_eq!(again["response"], first["response"]);
    let command = r#"{"operation": {"airConOperationMode": "POWER_OFF"}}"#;
    let (status, _, _) =
        call(&cloud, "POST", "/devices/ac-living-room/control", &[], command).await;
    assert_eq!(status, 200);
    let (_, controlled, _) = call(&cloud, "GET", path, &[], "").await;
    assert_eq!(operation(&controlled), "POWER_OFF", "a control command");
    let ac = cloud.appliance("ac-living-room").unwrap();
    ac.set_state(&json!({"operation": {"airConOperationMode": "POWER_ON"}})).unwrap();
    let (_, patched, _) = call(&cloud, "GET", path, &[], "").await;
    assert_eq!(operation(&patched), "POWER_ON", "the admin API");
    ac.set_state(&json!({"state": {"temperature": {"targetTemperature": 19}}})).unwrap();
    let (_, patched, _) = call(&cloud, "GET", path, &[], "").await;
    assert_eq!(patched["response"]["temperature"]["targetTemperature"], 19);
    ac.reset();
    let (_, reset, _) = call(&cloud, "GET", path, &[], "").await;
    assert_eq!(reset["response"], first["response"], "a reset");
    assert_eq!(ac.state()["state"], first["response"], "the admin view agrees");
}

#[tokio::test]
async fn a_fleet_appliance_changed_leaves_its_template_to_the_others() {
    let cloud = Arc::new(Cloud::new(CloudConfig { fleet: 25, ..CloudConfig::default() }));
    let token = "Bearer thinqpat-devfault-fleet-0";
    let auth = [("authorization", token)];
    let read = |id: &str| format!("/devices/{id}/state");
    let (_, before, _) = call(&cloud, "GET", &read("fleet-00004"), &auth, "").await;
    let a = cloud.appliance("fleet-00000").unwrap();
    let b = cloud.appliance("fleet-00004").unwrap();
    a.set_state(&json!({"operation": {"airConOperationMode": "POWER_OFF"}})).unwrap();
    assert!(!Arc::ptr_eq(&a.lock().state, &b.lock().state));
    let (_, changed, _) = call(&cloud, "GET", &read("fleet-00000"), &auth, "").await;
    assert_eq!(changed["response"]["operation"]["airConOperationMode"], "POWER_OFF");
    let (_, other, _) = call(&cloud, "GET", &read("fleet-00004"), &auth, "").await;
    assert_eq!(other["response"], before["response"], "the template's text is unchanged");
}

#[tokio::test]
async fn refusals_never_quote_a_credential() {
    let cloud = cloud();
    for (name, value) in [
        ("authorization", "Bearer secret-token-123"),
        ("authorization", "Bearer thinqpat-devfault-expired"),
        ("x-service-key", "secret-key-456"),
    ] {
        let (_, _, headers) = call(&cloud, "GET", "/devices", &[(name, value)], "").await;
        let reason = headers["x-devfault-reason"].to_str().unwrap();
        let secret = value.trim_start_matches("Bearer ");
        assert!(!reason.contains(secret), "{reason}");
    }
}

#[tokio::test]
async fn route_brackets_an_ipv6_host() {
    let cloud = cloud();
    cloud.set_addr(std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 9000)));
    let (_, body, _) = call(&cloud, "GET", "/route", &[], "").await;
    assert_eq!(body["response"]["mqttServer"], "mqtts://[::1]:8883");
    assert_eq!(body["response"]["apiServer"], "http://[::1]:9000");
    let any = super::tests::cloud();
    any.set_addr(std::net::SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 9000)));
    let (_, body, _) = call(&any, "GET", "/route", &[], "").await;
    assert_eq!(body["response"]["webSocketServer"], "ws://[::1]:9000");
}

#[test]
fn an_admin_patch_of_the_wrong_type_is_refused_naming_the_field() {
    let cloud = cloud();
    let ac = cloud.appliance("ac-living-room").unwrap();
    let before = ac.state();
    let error = ac.set_state(&json!({"temperatureInUnits": "hot"})).unwrap_err();
    assert!(error.contains("temperatureInUnits"), "{error}");
    let error = ac
        .set_state(&json!({"temperatureInUnits": [{"unit": "C", "targetTemperature": "hot"}]}))
        .unwrap_err();
    assert!(error.contains("temperatureInUnits[0].targetTemperature is \"hot\""), "{error}");
    let error = ac.set_state(&json!({"airFlow": {"windStrength": 3}})).unwrap_err();
    assert!(error.contains("airFlow.windStrength is 3: give a string"), "{error}");
    let error = ac.set_state(&json!({"state": {"airFlow": {"windStrength": true}}})).unwrap_err();
    assert!(error.contains("state.airFlow.windStrength"), "{error}");
    assert_eq!(ac.state(), before, "nothing changed");
    // The right types still go through, read-only properties included.
    ac.set_state(&json!({"temperatureInUnits": [{"unit": "C", "currentTemperature": 31.5}]}))
        .unwrap();
}

#[test]
fn the_owner_shown_is_the_user_number_of_the_scenario() {
    let mut cloud = Cloud::new(CloudConfig { fleet: 10, ..CloudConfig::default() });
    cloud.add_appliance("washer-attic", "DEVICE_WASHER", 3, None).unwrap();
    assert_eq!(cloud.appliance("washer-attic").unwrap().state()["owner"], 3);
    assert_eq!(cloud.appliance("ac-neighbour").unwrap().state()["owner"], 2);
    assert_eq!(cloud.appliance("ac-living-room").unwrap().state()["owner"], 1);
    assert_eq!(cloud.appliance("fleet-00001").unwrap().state()["owner"], Value::Null);
}

#[tokio::test]
async fn client_registrations_per_user_are_capped_with_1306() {
    let cloud = cloud();
    let client =
        r#"{"type": "MQTT", "service-code": "SVC202", "device-type": "607", "allowExist": true}"#;
    for n in 0..MAX_CLIENTS_PER_USER {
        let id = format!("client-{n}");
        assert_eq!(call(&cloud, "POST", "/client", &[("x-client-id", &id)], client).await.0, 200);
    }
    let (status, body, _) =
        call(&cloud, "POST", "/client", &[("x-client-id", "one-too-many")], client).await;
    assert_eq!((status, code(&body)), (401, "1306"), "{body}");
    // One already registered registers again; after a delete there is room again.
    assert_eq!(
        call(&cloud, "POST", "/client", &[("x-client-id", "client-0")], client).await.0,
        200
    );
    assert_eq!(
        call(&cloud, "DELETE", "/client", &[("x-client-id", "client-0")], client).await.0,
        200
    );
    assert_eq!(
        call(&cloud, "POST", "/client", &[("x-client-id", "one-too-many")], client).await.0,
        200
    );
}

#[tokio::test]
async fn a_body_that_stalls_is_answered_with_the_requests_message_id() {
    use crate::faults::{BodyLimits, FaultListener, Faults, serve_device, with_faults_and_limits};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let cloud = cloud();
    let faults = Arc::new(Faults::new(1).with_codec(Arc::new(ThinqCodec)));
    let journal = Arc::new(crate::journal::Journal::new(10));
    let limits = BodyLimits { max_bytes: 1024, timeout: std::time::Duration::from_millis(200) };
    let router = with_faults_and_limits(
        router(Arc::clone(&cloud)),
        Arc::clone(&cloud) as Arc<dyn crate::device::Device>,
        faults,
        journal,
        limits,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server =
        tokio::spawn(serve_device(FaultListener::new(listener), router, std::future::pending()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /devices/ac-living-room/control HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEFAULT_TOKEN}\r\nx-country: US\r\nx-message-id: {ID}\r\nx-client-id: t\r\nx-api-key: {API_KEY}\r\nContent-Length: 50\r\n\r\n{{\"airFlow\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("answered")
        .unwrap();
    let response = devfault_core::parse_response(&buf[..read]).unwrap();
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["messageId"], ID, "{body}");
    assert_eq!(code(&body), "1000");
    server.abort();
}
