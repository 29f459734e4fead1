//! The method table against a real FW-55BZ35F's `getSupportedApiInfo` answers (copied into
//! `data/`): every method the emulator serves on a service the dump covers has the dump's
//! versions and auth levels, and the answer has the dump's shape.

use serde_json::Value;

use crate::bravia::methods::{self, EVERY_SERVICE, METHODS};

const DUMPS: &[&str] = &[
    include_str!("../data/app_control.json"),
    include_str!("../data/audio.json"),
    include_str!("../data/av_content.json"),
    include_str!("../data/encryption.json"),
    include_str!("../data/system.json"),
    include_str!("../data/video.json"),
    include_str!("../data/video_screen.json"),
];

fn dumps() -> Vec<Value> {
    DUMPS
        .iter()
        .map(|text| {
            let dump: Value = serde_json::from_str(text).expect("a JSON dump");
            dump["result"][0][0].clone()
        })
        .collect()
}

#[test]
fn every_served_method_matches_the_real_dump() {
    for real in dumps() {
        let service = real["service"].as_str().expect("a service name");
        let ours = methods::service_info(service);
        assert_eq!(ours["protocols"], real["protocols"], "{service}");
        let real_apis = real["apis"].as_array().expect("apis");
        for api in ours["apis"].as_array().expect("apis") {
            let name = &api["name"];
            let real_api = real_apis
                .iter()
                .find(|r| &r["name"] == name)
                .unwrap_or_else(|| panic!("{service}.{name} is not in the real dump"));
            assert_eq!(api["versions"], real_api["versions"], "{service}.{name}");
        }
    }
}

#[test]
fn the_table_has_no_duplicate_rows_and_every_service_is_served() {
    let services = methods::services();
    for service in services {
        let mut names: Vec<&str> = methods::methods_of(service).map(|m| m.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "{service} has a method twice");
    }
    for method in METHODS {
        assert!(method.service == EVERY_SERVICE || services.contains(&method.service));
        assert!(!method.versions.is_empty(), "{}", method.name);
    }
    let real: Vec<String> =
        dumps().iter().map(|d| d["service"].as_str().unwrap_or_default().to_owned()).collect();
    for service in real {
        assert!(services.contains(&service.as_str()), "{service} is in the dump, not served");
    }
}

/// The whole answer, over a socket: for every service of the dump, `getSupportedApiInfo`
/// answers exactly the dump's object, method by method in the dump's order, version by
/// version, auth level by auth level, and nothing more.
#[tokio::test]
async fn supported_api_info_equals_the_real_dump() {
    let server = super::client::serve(crate::bravia::DisplayConfig::default()).await;
    let mut methods = 0;
    for real in dumps() {
        let service = real["service"].as_str().expect("a service name");
        let answer = super::client::call(
            server.addr,
            "guide",
            "getSupportedApiInfo",
            serde_json::json!([{"services": [service]}]),
            "1.0",
        )
        .await;
        let result = super::client::result(&answer);
        let ours = &result[0][0];
        let (our_apis, real_apis) =
            (ours["apis"].as_array().unwrap(), real["apis"].as_array().unwrap());
        for (i, real_api) in real_apis.iter().enumerate() {
            let our_api = our_apis.get(i).unwrap_or_else(|| {
                panic!("{service}: no method #{i}, the dump has {}", real_api["name"])
            });
            assert_eq!(our_api["name"], real_api["name"], "{service}: method #{i}");
            let (our_versions, real_versions) =
                (our_api["versions"].as_array().unwrap(), real_api["versions"].as_array().unwrap());
            assert_eq!(
                our_versions.len(),
                real_versions.len(),
                "{service}.{}: versions",
                real_api["name"]
            );
            for (ours, real) in our_versions.iter().zip(real_versions) {
                assert_eq!(ours["version"], real["version"], "{service}.{}", real_api["name"]);
                assert_eq!(
                    ours.get("authLevel"),
                    real.get("authLevel"),
                    "{service}.{} {}",
                    real_api["name"],
                    real["version"]
                );
            }
        }
        assert_eq!(our_apis.len(), real_apis.len(), "{service}: methods beyond the dump");
        assert_eq!(ours, &real, "{service}: the whole object");
        methods += real_apis.len();
    }
    // The catalog the issue counts: 78 methods (getMethodTypes and getVersions in each of 7).
    assert_eq!(methods, 78);
}
