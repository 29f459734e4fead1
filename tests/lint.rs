//! `devfault lint`: one test per rule, each checking the file, line and offending value.

use crate::util::{devfault, scratch_file};

/// A consistent registry; each test breaks one thing in it.
const GOOD: &str = r#"api = "acme"
name = "ACME Widget API"
code_min = 0
code_max = 9999

[[area]]
name = "client errors"
start = 1000
end = 1999

[[area]]
name = "jams"
start = 1100
end = 1199

[[group]]
id = "client"
title = "Client errors"

[[entry]]
code = 1101
reason = "Widget jammed"
http_status = 409
group = "client"
class = "device_state"
retry = "after_state_change"
advice = "Clear the jam, then send the command again."

[[entry]]
code = 1200
reason = "Widget missing"
http_status = 404
group = "client"
class = "not_found"
"#;

/// Lints `text` and returns (exit code, stdout).
fn lint(text: &str) -> (i32, String) {
    let path = scratch_file("registry.toml", text);
    let run = devfault(&["lint", path.to_str().expect("utf-8 path")]);
    (run.code, run.stdout.replace(path.to_str().unwrap_or_default(), "FILE"))
}

#[test]
fn a_consistent_registry_passes() {
    let (code, out) = lint(GOOD);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "FILE: ok — ACME Widget API (acme), 2 entries, 2 areas, 1 group\n");
}

#[test]
fn a_code_outside_every_area() {
    let (code, out) = lint(&GOOD.replace("code = 1200", "code = 2500"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FILE:30: code 2500 lies outside every area"), "{out}");
}

#[test]
fn overlapping_areas_that_are_not_nested() {
    let (code, out) = lint(&GOOD.replace("start = 1100\nend = 1199", "start = 1900\nend = 2100"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FILE:11: area \"jams\" (1900–2100) overlaps area \"client errors\" (1000–1999) (line 6) without one containing the other"),
        "{out}"
    );
}

#[test]
fn a_duplicate_code() {
    let (code, out) = lint(&GOOD.replace("code = 1200", "code = 1101"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "FILE:30: duplicate code 1101: a documented entry for it already exists (line 21)"
        ),
        "{out}"
    );
}

#[test]
fn an_http_status_outside_100_to_599() {
    let (code, out) = lint(&GOOD.replace("http_status = 404", "http_status = 700"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FILE:32: entry 1200: HTTP status 700 is outside 100–599"), "{out}");
}

#[test]
fn an_entry_without_reason() {
    let (code, out) = lint(&GOOD.replace("reason = \"Widget missing\"\n", ""));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FILE:30: entry 1200 has no reason"), "{out}");
    let (code, out) = lint(&GOOD.replace("reason = \"Widget missing\"", "reason = \"  \""));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FILE:30: entry 1200 has no reason"), "{out}");
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let broken = GOOD
        .replace("code = 1200", "code = 2500")
        .replace("http_status = 409", "http_status = 99")
        .replace("class = \"not_found\"", "class = \"missing\"");
    let (code, out) = lint(&broken);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FILE:23: entry 1101: HTTP status 99 is outside 100–599"), "{out}");
    assert!(out.contains("FILE:30: code 2500 lies outside every area"), "{out}");
    assert!(
        out.contains(
            "FILE:34: entry 2500: unknown class \"missing\"; accepted: malformed_request,"
        ),
        "{out}"
    );
    assert!(out.ends_with("FILE: 3 problems\n"), "{out}");
}

#[test]
fn unreadable_input_exits_2() {
    let run = devfault(&["lint", "/nonexistent/registry.toml"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot read /nonexistent/registry.toml"), "{}", run.stderr);
    let (code, out) = lint("api = \"x\"\n[[entry]\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("FILE:2: "), "{out}");
}
