use serde_json::json;

use super::*;
use crate::bravia::{AuthMode, IrccPath, StandbyReply};
use crate::faults::ActionKind;
use crate::testkit::documented_example;

fn refused(text: &str) -> ScenarioError {
    Scenario::from_json(text).expect_err("the scenario is refused")
}

#[test]
fn the_documented_example_is_a_valid_scenario() {
    let scenario = Scenario::from_json(&documented_example()).unwrap();
    assert_eq!(scenario.seed, Some(42));
    assert_eq!(scenario.displays.count, Some(3));
    assert_eq!(scenario.displays.config["psk"], "0000");
    assert_eq!(scenario.state["bravia-1"], json!({"power": "standby"}));
    assert_eq!(scenario.faults.len(), 6);
    assert_eq!(scenario.faults[2].action, ActionKind::Code);
    scenario.check_faults(&Faults::new(1).with_codecs(crate::server::codecs())).unwrap();
    let mut ids: Vec<String> = (0..3).map(|i| format!("bravia-{i}")).collect();
    assert!(scenario.check_devices(&ids).is_err(), "the ThinQ appliances are not displays");
    ids.extend(["washer-attic", "ac-living-room", "fridge-kitchen"].map(str::to_owned));
    scenario.check_devices(&ids).unwrap();
    assert_eq!(scenario.thinq.appliances[0].owner, 3);
    let one = scenario.display_config("bravia-1", DisplayConfig::default()).unwrap();
    assert_eq!((one.auth, one.psk), (AuthMode::Pin, None));
    assert_eq!(one.quirks.standby_error, StandbyReply::DisplayOff);
    let two = scenario.display_config("bravia-2", DisplayConfig::default()).unwrap();
    assert_eq!(two.psk.as_deref(), Some("0000"));
    assert!(!two.quirks.http_error_body);
    assert_eq!(two.quirks.interface_version, "5.0.1");
    let baseline = scenario.baseline();
    assert_eq!(baseline.seed, Some(42));
    assert_eq!(baseline.state.len(), 3);
    assert_eq!(
        baseline.state[0],
        ("ac-living-room".to_owned(), json!({"airConJobMode": {"currentJobMode": "AIR_DRY"}}))
    );
    assert_eq!(baseline.state[1], ("bravia-1".to_owned(), json!({"power": "standby"})));
    assert_eq!(baseline.faults, scenario.faults);
}

#[test]
fn every_display_setting_is_applied() {
    let scenario = Scenario::from_json(
        r#"{"displays": {"config": {
            "psk": "1", "auth": "psk+pin", "cookie_max_age_ms": 1000, "max_body_bytes": 10,
            "max_uri_bytes": 20, "max_concurrent_requests": 3, "body_timeout_ms": 40,
            "slow_method_delay_ms": 50, "app_launch_delay_ms": 60,
            "launch_undecided_after_ms": 70, "reboot_duration_ms": 80,
            "unreachable_hold_ms": 90, "screen_change_delay_ms": 100, "notify_hold_ms": 110,
            "quirks": {"standby_error": "not_power_on", "http_error_body": false,
                       "ircc_path": "upper_only", "interface_version": "4.0"}}}}"#,
    )
    .unwrap();
    let c = scenario.display_config("bravia-0", DisplayConfig::default()).unwrap();
    let ms = Duration::from_millis;
    assert_eq!((c.psk.as_deref(), c.auth), (Some("1"), AuthMode::PskAndPin));
    assert_eq!((c.cookie_max_age, c.body_timeout, c.slow_method_delay), (ms(1000), ms(40), ms(50)));
    assert_eq!((c.app_launch_delay, c.launch_undecided_after), (ms(60), ms(70)));
    assert_eq!((c.reboot_duration, c.unreachable_hold), (ms(80), ms(90)));
    assert_eq!((c.screen_change_delay, c.notify_hold), (ms(100), ms(110)));
    assert_eq!((c.max_body_bytes, c.max_uri_bytes, c.max_concurrent_requests), (10, 20, 3));
    assert_eq!(c.quirks.ircc_path, IrccPath::UpperOnly);
    assert_eq!(c.quirks.interface_version, "4.0");
    assert!(!c.quirks.http_error_body);
    // Every listed setting is handled (a listed but unhandled one would say "not a setting").
    assert_eq!(DISPLAY_SETTINGS.len(), 15);
    assert_eq!(QUIRK_SETTINGS.len(), 4);
}

#[test]
fn a_bad_display_setting_is_named_with_what_it_takes() {
    let text = "{\"displays\": {\"config\": {\"auth\": \"psk\"},\n \"each\": {\"bravia-0\": {\"auth\": \"token\"}}}}";
    let scenario = Scenario::from_json(text).unwrap();
    let error = scenario.display_config("bravia-0", DisplayConfig::default()).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("displays.each.bravia-0.auth"));
    assert_eq!((error.line, error.column), (Some(2), Some(32)));
    assert!(error.message.contains("\"none\", \"psk\", \"pin\" or \"psk+pin\""), "{error}");
    let scenario = Scenario::from_json(r#"{"displays": {"config": {"pks": "1"}}}"#).unwrap();
    let error = scenario.display_config("bravia-0", DisplayConfig::default()).unwrap_err();
    assert!(error.message.starts_with("is not a display setting; settings: psk, auth"), "{error}");
    let scenario =
        Scenario::from_json(r#"{"displays": {"config": {"body_timeout_ms": "10s"}}}"#).unwrap();
    let error = scenario.display_config("bravia-0", DisplayConfig::default()).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("displays.config.body_timeout_ms"));
}

#[test]
fn an_empty_object_is_a_scenario_with_nothing_in_it() {
    let scenario = Scenario::from_json("{}").unwrap();
    assert_eq!(scenario.displays.count, None);
    assert!(scenario.faults.is_empty() && scenario.state.is_empty());
}

#[test]
fn a_syntax_error_gives_line_and_column() {
    let error =
        refused("{\n  \"seed\": 42,\n  \"faults\": [\n    {\"action\": \"reset\"},\n  ]\n}");
    assert_eq!((error.line, error.column), (Some(5), Some(3)));
    assert!(error.message.starts_with("trailing comma"), "{error}");
    assert_eq!(error.to_string(), format!("scenario:5:3: faults: {}", error.message));
}

#[test]
fn a_type_error_names_the_member_and_its_place() {
    let error = refused("{\n  \"displays\": {\n    \"count\": \"three\"\n  }\n}");
    assert_eq!(error.field.as_deref(), Some("displays.count"));
    assert_eq!(error.line, Some(3));
    assert!(error.message.contains("invalid type: string \"three\""), "{error}");
}

#[test]
fn an_unknown_member_is_named_with_the_accepted_ones() {
    let error = refused("{\n  \"faults\": [\n    {\"action\": \"reset\", \"cuont\": 1}\n  ]\n}");
    assert_eq!(error.line, Some(3));
    assert_eq!(error.field.as_deref(), Some("faults[0]"));
    assert!(error.message.contains("unknown field `cuont`, expected one of"), "{error}");
    let error = refused(r#"{"fautls": []}"#);
    assert!(
        error.message.contains("unknown field `fautls`, expected one of `description`"),
        "{error}"
    );
}

#[test]
fn an_unknown_action_lists_the_actions() {
    let error = refused("{\"faults\": [\n {\"action\": \"explode\"}]}");
    assert_eq!(error.field.as_deref(), Some("faults[0].action"));
    assert_eq!(error.line, Some(2));
    assert!(error.message.contains("expected one of `code`, `status`, `delay`"), "{error}");
}

#[test]
fn a_rule_refused_by_the_checks_is_located() {
    let text = "{\n  \"faults\": [\n    {\"action\": \"reset\"},\n    {\"action\": \"code\",\n     \"code\": 39999}\n  ]\n}";
    let scenario = Scenario::from_json(text).unwrap();
    let error =
        scenario.check_faults(&Faults::new(1).with_codecs(crate::server::codecs())).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("faults[1].code"));
    assert_eq!((error.line, error.column), (Some(5), Some(14)));
    assert!(error.message.contains("devfault list --api bravia"), "{error}");
    assert!(error.to_string().starts_with("scenario:5:14: faults[1].code: "), "{error}");
}

#[test]
fn a_missing_member_is_located_at_its_rule() {
    let text = "{\"faults\": [\n  {\"action\": \"status\"}\n]}";
    let scenario = Scenario::from_json(text).unwrap();
    let error =
        scenario.check_faults(&Faults::new(1).with_codecs(crate::server::codecs())).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("faults[0].status"));
    assert_eq!((error.line, error.column), (Some(2), Some(3)), "at faults[0]");
}

#[test]
fn counts_outside_the_range_are_refused() {
    let error = refused("{\"displays\": {\"count\": 0}}");
    assert_eq!(error.field.as_deref(), Some("displays.count"));
    assert_eq!((error.line, error.column), (Some(1), Some(24)));
    let error = self::refused("{\"displays\": {\"count\": 100000}}");
    assert!(error.message.contains("outside 1 to 4096"), "{error}");
}

#[test]
fn state_patches_must_be_objects_for_known_devices() {
    let error = refused(r#"{"state": {"bravia-0": "standby"}}"#);
    assert_eq!(error.field.as_deref(), Some("state.bravia-0"));
    let scenario = Scenario::from_json(r#"{"state": {"bravia-3": {"power": "standby"}}}"#).unwrap();
    let error = scenario.check_devices(&["bravia-0".to_owned()]).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("state.bravia-3"));
    assert!(error.message.contains("devices: bravia-0"), "{error}");
    let scenario = Scenario::from_json(r#"{"displays": {"each": {"tv": {}}}}"#).unwrap();
    let error = scenario.check_devices(&["bravia-0".to_owned()]).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("displays.each.tv"));
    let scenario =
        Scenario::from_json(r#"{"faults": [{"match": {"device": "tv"}, "action": "reset"}]}"#)
            .unwrap();
    let error = scenario.check_devices(&["bravia-0".to_owned()]).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("faults[0].match.device"));
}

#[test]
fn a_file_is_named_in_its_errors() {
    let dir = std::env::temp_dir().join(format!("devfault-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.json");
    std::fs::write(&file, "{\"seed\": true}").unwrap();
    let error = Scenario::load(&file).unwrap_err();
    assert_eq!(error.file.as_deref(), Some(file.as_path()));
    assert!(error.to_string().starts_with(&format!("{}:1:", file.display())), "{error}");
    let missing = Scenario::load(&dir.join("missing.json")).unwrap_err();
    assert!(missing.message.starts_with("cannot read the scenario file"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn spans_cover_nested_values() {
    let text = r#"{"a": [1, {"b": "x\"y"}], "c": {}}"#;
    let paths: Vec<String> = spans(text).into_iter().map(|span| span.path).collect();
    assert_eq!(paths, ["a[0]", "a[1].b", "a[1]", "a", "c", ""]);
    assert_eq!(field_at(text, text.find("x").unwrap()).as_deref(), Some("a[1].b"));
}
