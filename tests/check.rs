//! `devfault check`: whole captures, HAR and NDJSON.

use serde_json::Value;

use crate::util::{devfault, scratch_file};

const NDJSON: &str = include_str!("data/session.ndjson");
const HAR: &str = include_str!("data/session.har");

#[test]
fn ndjson_failures_violations_and_a_broken_line() {
    let path = scratch_file("session.ndjson", NDJSON);
    let run = devfault(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "a broken line makes the input partly unreadable: {run:?}");
    let out = &run.stdout;
    assert!(
        out.contains("line 2  POST http://192.168.1.20/sony/audio\n  HTTP 200 OK, bravia 40801"),
        "{out}"
    );
    assert!(out.contains("violation [bravia.http-code-on-ok]"), "{out}");
    assert!(out.contains("violation [thinq.message-id-echo]: messageId \"fNvdZ1brTn-wWKUlWGoSVw\" does not echo the request's x-message-id \"W59GLawMm0Xm3v1TVxyFRg\""), "{out}");
    assert!(out.contains("line 6: unreadable: not JSON"), "{out}");
    assert!(!out.contains("line 1  "), "a conforming success is not listed: {out}");
    assert!(out.contains("checked 6 exchanges (bravia 3, thinq 3)"), "{out}");
    assert!(
        out.contains(
            "failures by code: bravia 403 ×1, bravia 40801 ×1, thinq 1222 ×1, thinq 2304 ×1"
        ),
        "{out}"
    );
    assert!(out.contains("unreadable: 1 (first at line 6)"), "{out}");
}

#[test]
fn ndjson_without_the_broken_line_exits_3_for_its_violations() {
    let clean: String =
        NDJSON.lines().filter(|l| l.ends_with('}')).map(|l| format!("{l}\n")).collect();
    let path = scratch_file("violations.jsonl", &clean);
    let run = devfault(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 3, "{run:?}");
}

#[test]
fn har_with_base64_bodies_conforms_and_exits_0() {
    let path = scratch_file("session.har", HAR);
    let run = devfault(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "log.entries[0]  POST http://192.168.1.20/sony/audio\n  HTTP 200 OK, bravia 40801"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("log.entries[1]  GET https://api-eic.lgthinq.com/devices\n  HTTP 401 Unauthorized, thinq 1314"), "{}", run.stdout);
    assert!(run.stdout.contains("checked 3 exchanges (bravia 2, thinq 1)"), "{}", run.stdout);
}

#[test]
fn json_output_is_one_object_per_exchange_then_the_summary() {
    let path = scratch_file("capture.har", HAR);
    let run = devfault(&["check", "--all", "--format", "json", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<Value> =
        run.stdout.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["position"], "log.entries[0]");
    assert_eq!(lines[0]["code"], "40801");
    assert_eq!(lines[2]["outcome"], "success");
    assert_eq!(lines[3]["summary"]["exchanges"], 3);
    assert_eq!(lines[3]["summary"]["by_code"]["thinq 1314"], 1);
}

#[test]
fn a_truncated_har_reports_what_it_read_then_exits_2() {
    let cut = &HAR[..HAR.len() * 2 / 3];
    let path = scratch_file("cut.har", cut);
    let run = devfault(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("log.entries[0]"),
        "entries before the break are audited: {}",
        run.stdout
    );
    assert!(run.stdout.contains("stopped early: the HAR file is broken at line"), "{}", run.stdout);
    assert!(run.stderr.contains("the HAR file is broken at line"), "{}", run.stderr);
}

#[test]
fn garbage_and_missing_files_exit_2() {
    let path = scratch_file("garbage.har", "\u{0}\u{1}garbage");
    let run = devfault(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("checked 0 exchanges"), "{}", run.stdout);
    let run = devfault(&["check", "/nonexistent/capture.har"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("cannot read /nonexistent/capture.har"), "{}", run.stderr);
}
