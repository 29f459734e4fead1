//! Issue 11 through the binary: `serve`'s start-up checks, its open-files limit, a SIGTERM
//! with a partial request open, and the first-run usage points.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{devfault, read_ready_file, ready_file_path, scratch_file};

/// `devfault serve` on port 0 through `sh -c` (so a test can lower its limits first); waits
/// for the ready file and returns the child and the addresses.
fn serve_via_shell(prefix: &str, extra: &str) -> (Child, Value) {
    let ready = ready_file_path();
    let script = format!(
        "{prefix} exec '{}' serve --bravia 127.0.0.1:0 --thinq 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file '{}' {extra}",
        env!("CARGO_BIN_EXE_devfault"),
        ready.display()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    (child, read_ready_file(&ready))
}

fn stop(child: &Child) {
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(kill.expect("kill runs").success());
}

#[cfg(target_os = "linux")]
#[test]
fn serve_raises_the_soft_open_files_limit_to_the_hard_one() {
    let (child, _) = serve_via_shell("ulimit -Sn 256;", "");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).expect("limits");
    stop(&child);
    let output = child.wait_with_output().expect("serve exits");
    assert!(output.status.success(), "{output:?}");
    let line = limits.lines().find(|l| l.starts_with("Max open files")).expect("a line");
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers[0], numbers[1], "soft limit raised to the hard one: {line}");
    assert_ne!(numbers[0], "256", "{line}");
}

#[test]
fn sigterm_with_a_partial_request_open_exits_within_a_second() {
    let (child, addresses) = serve_via_shell("", "");
    let mut partial = Vec::new();
    for url in [
        addresses["displays"][0]["url"].as_str().expect("display"),
        addresses["thinq"]["url"].as_str().expect("thinq"),
        addresses["admin"].as_str().expect("admin"),
    ] {
        let mut stream = TcpStream::connect(url.trim_start_matches("http://")).expect("connects");
        stream.write_all(b"POST /sony/system HTTP/1.1\r\nHost: x\r\nContent-Le").expect("sent");
        partial.push(stream);
    }
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    stop(&child);
    let output = child.wait_with_output().expect("serve exits");
    let took = started.elapsed();
    assert!(output.status.success(), "{output:?}");
    assert!(took < Duration::from_secs(1), "SIGTERM took {took:?}");
}

#[test]
fn an_admin_api_off_loopback_needs_listen_any_and_an_admin_token() {
    let run = devfault(&["serve", "--admin", "0.0.0.0:0", "--bravia", "127.0.0.1:0"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--listen-any"), "{}", run.stderr);
    assert!(run.stderr.contains("--admin-token"), "{}", run.stderr);
    let run =
        devfault(&["serve", "--listen-any", "--admin", "0.0.0.0:0", "--bravia", "127.0.0.1:0"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("give --admin-token TOKEN"), "{}", run.stderr);
}

#[test]
fn an_admin_token_guards_the_admin_api_and_the_banner_says_so() {
    let ready = ready_file_path();
    let child = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(["serve", "--bravia", "127.0.0.1:0", "--thinq", "127.0.0.1:0"])
        .args(["--admin", "127.0.0.1:0", "--admin-token", "s3cret-token", "--ready-file"])
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let addresses = read_ready_file(&ready);
    let admin =
        addresses["admin"].as_str().expect("admin").trim_start_matches("http://").to_owned();
    let get = |headers: &str| {
        let mut stream = TcpStream::connect(&admin).expect("connects");
        write!(stream, "GET /devices HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n")
            .expect("sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    };
    let without = get("");
    let with = get("Authorization: Bearer s3cret-token\r\n");
    stop(&child);
    let output = child.wait_with_output().expect("exits");
    assert!(without.starts_with("HTTP/1.1 401"), "{without}");
    assert!(without.contains("--admin-token"), "{without}");
    assert!(with.starts_with("HTTP/1.1 200"), "{with}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("on loopback until Ctrl-C"), "{stdout}");
    assert!(stdout.contains("(Authorization: Bearer required)"), "{stdout}");
    assert!(stdout.contains("(user 1: 7 appliances; other users: 1 appliance)"), "{stdout}");
}

#[test]
fn the_admin_body_limit_is_a_flag() {
    let (child, addresses) = serve_via_shell("", "--admin-max-body-bytes 2048");
    let admin = addresses["admin"].as_str().expect("admin").trim_start_matches("http://");
    let post = |size: usize| {
        let body = format!("[{}]", " ".repeat(size - 2));
        let mut stream = TcpStream::connect(admin).expect("connects");
        write!(
            stream,
            "POST /faults HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("sent");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    let over = post(3000);
    assert!(over.starts_with("HTTP/1.1 413"), "{over}");
    assert!(over.contains("2048 bytes"), "{over}");
    let under = post(1000);
    assert!(!under.starts_with("HTTP/1.1 413"), "{under}");
    stop(&child);
    let _ = child.wait_with_output();
    let run = devfault(&["serve", "--admin-max-body-bytes", "10"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--admin-max-body-bytes 10: give 1024 to 67108864"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_credentials_are_refused_at_start() {
    let run = devfault(&["serve", "--thinq-token", "bad token"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("--thinq-token: \"bad token\" is not a ThinQ token"),
        "{}",
        run.stderr
    );
    let run = devfault(&["serve", "--psk", ""]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--psk: \"\" is not a pre-shared key"), "{}", run.stderr);
    let run = devfault(&["serve", "--admin-token", "with space"]);
    assert_eq!(run.code, 2, "{run:?}");
    let run = devfault(&["serve", "--max-header-bytes", "10"]);
    assert!(run.stderr.contains("--max-header-bytes 10"), "{}", run.stderr);
}

#[test]
fn a_scenario_list_past_its_cap_is_refused() {
    let appliances: Vec<String> =
        (0..100_001).map(|n| format!(r#"{{"id": "w{n}", "type": "DEVICE_WASHER"}}"#)).collect();
    let file = scratch_file(
        "big.json",
        &format!(r#"{{"thinq": {{"appliances": [{}]}}}}"#, appliances.join(",")),
    );
    let run = devfault(&["serve", "--scenario", file.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("100001 appliances: give at most 100000"), "{}", run.stderr);
    let rules = vec![r#"{"action": "reset"}"#; 10_001].join(",");
    let file = scratch_file("rules.json", &format!(r#"{{"faults": [{rules}]}}"#));
    let run = devfault(&["serve", "--scenario", file.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("10001 fault rules: give at most 10000"), "{}", run.stderr);
}

#[test]
fn explain_says_a_number_is_not_a_code_of_that_api() {
    let run = devfault(&["explain", "99999"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("bravia: \"99999\" is not a code (out of range)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("thinq: \"99999\" is not a code (wrong number of digits)"));
    let run = devfault(&["explain", "thinq:123"]);
    assert!(
        run.stderr.contains("thinq: \"123\" is not a code (wrong number of digits)"),
        "{}",
        run.stderr
    );
}

#[test]
fn list_help_lists_the_values_of_class_and_source() {
    let run = devfault(&["list", "--help"]);
    assert!(run.stdout.contains("malformed_request, authentication"), "{}", run.stdout);
    assert!(run.stdout.contains("[possible values: documented, observed]"), "{}", run.stdout);
}

#[test]
fn the_readme_lint_example_runs_as_printed() {
    let readme = include_str!("../README.md");
    let block = readme
        .split("$ devfault lint examples/acme.toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README's lint example");
    let output = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(["lint", "examples/acme.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&output.stdout), block);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn lint_counts_in_the_singular_too() {
    let file = scratch_file(
        "one.toml",
        "api = \"acme\"\ncode_min = 0\ncode_max = 9\n[[area]]\nname = \"all\"\nstart = 0\nend = 9\n[[group]]\nid = \"g\"\ntitle = \"G\"\n[[entry]]\ncode = 1\nreason = \"R\"\nhttp_status = 400\ngroup = \"g\"\n",
    );
    let run = devfault(&["lint", file.to_str().expect("utf-8")]);
    assert!(run.stdout.contains("1 entry, 1 area, 1 group"), "{run:?}");
}
