//! `explain`, `list` and `areas`, end to end.

use serde_json::Value;

use crate::util::{devfault, scratch_file};

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn explain_a_bravia_code_for_people() {
    let run = devfault(&["explain", "40801"]);
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "bravia 40801 — Volume Out of Range",
        "explanation  Volume is out of range.",
        r#"wire         HTTP 200 OK + {"error":[40801,"Volume Out of Range"],"id":1}"#,
        "group        audio Service Error Code",
        "area         Audio service area. (40800–40999), in user area (32768–65535)",
        "source       documented",
        "class        malformed_request",
        "retry        never",
        "advice       Keep the volume within",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?} in\n{}", run.stdout);
    }
}

#[test]
fn explain_in_japanese_uses_the_japanese_editions_titles() {
    let run = devfault(&["explain", "bravia:41001", "--lang", "ja"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("group        avContentサービスエラーコード"), "{}", run.stdout);
    let run = devfault(&["explain", "401", "--lang", "ja"]);
    assert!(run.stdout.contains("REST API の HTTP メジャーエラーコード"), "{}", run.stdout);
}

#[test]
fn explain_a_thinq_code_keeps_its_four_digits() {
    let run = devfault(&["explain", "2304"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("thinq 2304 — Command not supported in POWER OFF"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("HTTP 400 Bad Request"), "{}", run.stdout);
    assert!(!run.stdout.contains("bravia"), "BRAVIA lists no 2304: {}", run.stdout);
    let run = devfault(&["explain", "0000", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows = json(&run.stdout);
    assert_eq!(rows[0]["code"], "0000");
    assert_eq!(rows[0]["api"], "thinq");
    assert_eq!(rows[0]["http_status"], 500);
    assert_eq!(rows[0]["area"], Value::Null);
}

#[test]
fn explain_json_has_exactly_the_design_fields_and_advice() {
    let run = devfault(&["explain", "bravia:40801", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows = json(&run.stdout);
    let row = rows.as_array().and_then(|r| r.first()).and_then(Value::as_object).expect("one row");
    for field in [
        "api",
        "code",
        "reason",
        "message",
        "explanation",
        "http_status",
        "group",
        "area",
        "class",
        "retry",
        "source",
        "advice",
    ] {
        assert!(row.contains_key(field), "{field} in {row:?}");
    }
    assert_eq!(row["code"], 40801);
    assert_eq!(row["http_status"], 200);
    assert_eq!(row["source"], "documented");
    assert_eq!(row["class"], "malformed_request");
}

#[test]
fn explain_a_message_finds_every_code_that_has_it() {
    let run = devfault(&["explain", "not connected device", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows = json(&run.stdout);
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    assert_eq!(rows[0]["code"], "1222");
    assert_eq!(rows[0]["http_status"], 416);

    let run = devfault(&["explain", "Invalid token", "--format", "json"]);
    let rows = json(&run.stdout);
    let codes: Vec<&str> =
        rows.as_array().expect("array").iter().filter_map(|r| r["code"].as_str()).collect();
    assert_eq!(codes, ["1103", "1218"]);
}

#[test]
fn explain_shows_what_the_field_sends_marked_as_observed() {
    let run = devfault(&["explain", "not power-on"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("bravia 7 — Illegal State"), "{}", run.stdout);
    assert!(
        run.stdout.contains("source       observed in the field, not in the documentation"),
        "{}",
        run.stdout
    );

    let run = devfault(&["explain", "7", "--format", "json"]);
    let rows = json(&run.stdout);
    let sources: Vec<&str> =
        rows.as_array().expect("array").iter().filter_map(|r| r["source"].as_str()).collect();
    assert_eq!(sources, ["documented", "observed"]);

    let run = devfault(&["explain", "thinq:1314", "--format", "json"]);
    let rows = json(&run.stdout);
    assert_eq!(rows[0]["message"], "Exceeded User API calls");
    assert_eq!(rows[0]["http_status"], 401);
    assert_eq!(rows[0]["source"], "observed");
    assert_eq!(rows[0]["class"], "rate_limit");
}

#[test]
fn explain_an_unlisted_code_says_where_it_falls() {
    let run = devfault(&["explain", "41850"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "nothing printed as a result: {}", run.stdout);
    assert!(
        run.stderr.contains("falls in an unallocated hole (41800–41999) of user area (32768–65535), between Browser service area. (41600–41799) and accessControl service. (42000–42199)"),
        "{}",
        run.stderr
    );
    let run = devfault(&["explain", "bravia:40802"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("lies in Audio service area. (40800–40999)"), "{}", run.stderr);
    assert!(run.stderr.contains("listed there: 40800, 40801"), "{}", run.stderr);
    let run = devfault(&["explain", "no such message at all"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("\"no such message at all\""), "{}", run.stderr);
}

#[test]
fn explain_usage_errors_exit_2() {
    assert_eq!(devfault(&["explain", " "]).code, 2);
    let run = devfault(&["explain", "40801", "--api", "sony"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("bravia") && run.stderr.contains("thinq"), "{}", run.stderr);
    let run = devfault(&["explain", "bravia:1", "--api", "thinq"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn list_counts_every_row_of_both_registries() {
    let run = devfault(&["list", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows = json(&run.stdout);
    let rows = rows.as_array().expect("array");
    let count = |api: &str, source: &str| {
        rows.iter().filter(|r| r["api"] == api && r["source"] == source).count()
    };
    assert_eq!(count("bravia", "documented"), 46);
    assert_eq!(count("thinq", "documented"), 60);
    assert!(count("bravia", "observed") >= 3);
    assert!(count("thinq", "observed") >= 1);
}

#[test]
fn list_filters_by_group_class_and_source() {
    let run = devfault(&["list", "--group", "audio", "--format", "csv"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "api,code,reason,message,explanation,http_status,group,area,class,retry,source,advice"
    );
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[2].starts_with("bravia,40801,Volume Out of Range,"), "{}", lines[2]);

    let run = devfault(&["list", "--api", "thinq", "--class", "rate_limit", "--format", "json"]);
    let codes: Vec<String> = json(&run.stdout)
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["code"].to_string())
        .collect();
    assert!(
        codes.contains(&"\"1306\"".to_owned()) && codes.contains(&"\"1314\"".to_owned()),
        "{codes:?}"
    );

    let run = devfault(&["list", "--source", "observed", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("| api | code | reason |"), "{}", run.stdout);
    assert!(run.stdout.contains("| bravia | 7 | Illegal State | not power-on |"), "{}", run.stdout);
    assert!(!run.stdout.contains("| documented |"), "{}", run.stdout);

    let run = devfault(&["list", "--group", "avContentサービスエラーコード"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("41024"), "{}", run.stdout);
}

#[test]
fn list_rejects_bad_filters_naming_what_is_accepted() {
    let run = devfault(&["list", "--class", "flaky"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("'flaky'") && run.stderr.contains("device_state"),
        "{}",
        run.stderr
    );
    let run = devfault(&["list", "--group", "nope"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("av_content"), "{}", run.stderr);
    let run = devfault(&["list", "--format", "toml"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--api"), "{}", run.stderr);
}

#[test]
fn list_text_groups_codes_under_their_titles() {
    let run = devfault(&["list", "--api", "bravia", "--lang", "ja"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("  共通エラーコード\n"), "{}", run.stdout);
    assert!(run.stdout.contains("40801  200  malformed_request  never"), "{}", run.stdout);
}

#[test]
fn both_exports_lint_clean() {
    for api in ["bravia", "thinq"] {
        let export = devfault(&["list", "--api", api, "--format", "toml"]);
        assert_eq!(export.code, 0, "{export:?}");
        let path = scratch_file(&format!("{api}.toml"), &export.stdout);
        let path = path.to_str().expect("utf-8 path");
        let run = devfault(&["lint", path]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains(": ok — "), "{}", run.stdout);
    }
}

#[test]
fn areas_show_the_allocation_table_with_its_hole() {
    let run = devfault(&["areas"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("41800–41999    (unallocated)\n"), "{}", run.stdout);
    assert_eq!(run.stdout.matches("contentSync service.").count(), 2, "{}", run.stdout);
    let run = devfault(&["areas", "--format", "json"]);
    let value = json(&run.stdout);
    assert_eq!(value["areas"].as_array().map(Vec::len), Some(18));
    assert_eq!(value["holes"][0]["start"], 41800);
}

#[test]
fn areas_place_one_code() {
    let run = devfault(&["areas", "41850"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "41850 falls in an unallocated hole (41800–41999) of user area (32768–65535), between Browser service area. (41600–41799) and accessControl service. (42000–42199)."
        ),
        "{}",
        run.stdout
    );
    let run = devfault(&["areas", "2301", "--api", "thinq"]);
    assert!(run.stdout.contains("2301 lies in Server Error (2000–2999)"), "{}", run.stdout);
    let run = devfault(&["areas", "70000"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("\"70000\"") && run.stderr.contains("0–65535"), "{}", run.stderr);
}
