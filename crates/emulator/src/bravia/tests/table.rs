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
