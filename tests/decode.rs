//! `devfault decode`: exit codes, diagnoses, and unreadable input.

use serde_json::Value;

use crate::util::{devfault, devfault_stdin};

#[test]
fn a_success_response_exits_0() {
    let raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: 44\r\n\r\n{\"result\": [{\"status\": \"active\"}], \"id\": 50}";
    let run = devfault_stdin(&["decode"], raw);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("HTTP 200 OK, bravia success"), "{}", run.stdout);
    assert!(run.stdout.contains("findings     none"), "{}", run.stdout);
}

#[test]
fn an_error_response_exits_1_and_is_explained() {
    let raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"error\":[40801,\"Volume Out of Range\"],\"id\":1}";
    let run = devfault_stdin(&["decode", "-"], raw);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("bravia 40801 \"Volume Out of Range\" — malformed_request, retry never"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("advice       Keep the volume within"), "{}", run.stdout);
}

#[test]
fn a_protocol_violation_exits_3_and_quotes_the_rule() {
    let raw = "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\r\n{\"error\":[401,\"Unauthorized\"],\"id\":1}";
    let run = devfault_stdin(&["decode"], raw);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("violation [bravia.status-code-mismatch]"), "{}", run.stdout);
    assert!(
        run.stdout.contains("the error code must be same as the HTTP error code"),
        "{}",
        run.stdout
    );
}

#[test]
fn thinq_json_diagnosis_keeps_the_code_string_and_the_entry() {
    let raw = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\r\n{\"messageId\":\"fNvdZ1brTn-wWKUlWGoSVw\",\"timestamp\":\"2024-09-01T06:23:20.866279\",\"error\":{\"message\":\"Command not supported in POWER OFF\",\"code\":\"2304\"}}";
    let run = devfault_stdin(
        &["decode", "--format", "json", "--request-message-id", "fNvdZ1brTn-wWKUlWGoSVw"],
        raw,
    );
    assert_eq!(run.code, 1, "{run:?}");
    let value: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(value["api"], "thinq");
    assert_eq!(value["code"], "2304");
    assert_eq!(value["class"], "device_state");
    assert_eq!(value["entry"]["http_status"], 400);
    assert_eq!(value["conforming"], true);
}

#[test]
fn a_wrong_status_for_a_thinq_code_is_a_violation() {
    let raw = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n{\"messageId\":\"fNvdZ1brTn-wWKUlWGoSVw\",\"timestamp\":\"2024-09-01T06:23:20\",\"error\":{\"message\":\"Not connected device\",\"code\":\"1222\"}}";
    let run = devfault_stdin(&["decode"], raw);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.contains("violation [thinq.status-mismatch]"), "{}", run.stdout);
}

#[test]
fn a_bare_body_is_judged_with_its_codes_status() {
    let run = devfault_stdin(&["decode"], "{\"error\":[403,\"Forbidden\"],\"id\":1}");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.starts_with("HTTP 403 Forbidden, bravia 403"), "{}", run.stdout);
    assert!(run.stdout.contains("tolerated [devfault.status-assumed]"), "{}", run.stdout);
}

#[test]
fn unreadable_input_exits_2_and_prints_nothing_as_success() {
    for input in [
        "",
        "   \n",
        "garbage",
        "{\"result\": [{\"status\": \"active\"}",
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"result\":[]}",
        "HTTP/1.1 999 Nope\r\n\r\n",
        "HTTP/1.1 200 OK\r\nbroken header\r\n\r\n{}",
    ] {
        let run = devfault_stdin(&["decode"], input);
        assert_eq!(run.code, 2, "{input:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{input:?}: {}", run.stdout);
        assert!(run.stderr.starts_with("devfault: "), "{input:?}: {}", run.stderr);
    }
    let run = devfault(&["decode", "/nonexistent/response.txt"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("/nonexistent/response.txt"), "{}", run.stderr);
}

#[test]
fn a_non_protocol_body_with_a_status_line_is_diagnosed() {
    let raw = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>bad gateway</html>";
    let run = devfault_stdin(&["decode", "--api", "thinq"], raw);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("a body that is not a protocol body"), "{}", run.stdout);
    let run = devfault_stdin(&["decode"], raw);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--api"), "{}", run.stderr);
}
