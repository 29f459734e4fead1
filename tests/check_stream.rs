//! `devfault check` on the logs people keep: compressed and piped captures, many threads with
//! the input's order kept, `--by` groups, `--follow` across rotations, and the caps that keep
//! hostile input (endless lines, huge bodies, `/dev/zero`) within bounded memory.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{devfault, devfault_stdin, scratch_file};

const NDJSON: &str = include_str!("data/session.ndjson");

/// The run's stdout without the summary's timing (`in 0.0 s`), which differs between runs.
fn without_timing(text: &str) -> String {
    text.lines()
        .map(|l| match (l.find(" in "), l.find(" s: ")) {
            (Some(a), Some(b)) if l.starts_with("checked ") && a < b => {
                format!("{}{}", &l[..a], &l[b + 2..])
            }
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

#[test]
fn gzip_zstd_and_standard_input_audit_like_the_plain_file() {
    let plain = devfault(&["check", scratch_file("plain.ndjson", NDJSON).to_str().expect("utf-8")]);
    assert_eq!(plain.code, 2, "{plain:?}");
    assert!(plain.stdout.contains("checked 6 exchanges"), "{}", plain.stdout);
    let expected = without_timing(&plain.stdout);

    let gz = gzip(NDJSON.as_bytes());
    let zst = zstd::encode_all(NDJSON.as_bytes(), 3).expect("zstd");
    // Named without a telling extension: the bytes decide.
    for (name, bytes) in [("capture.gz", &gz), ("capture.bin", &zst)] {
        let path = scratch_file(name, "");
        std::fs::write(&path, bytes).expect("write");
        let run = devfault(&["check", "--input-format", "ndjson", path.to_str().expect("utf-8")]);
        assert_eq!(run.code, 2, "{name}: {run:?}");
        assert_eq!(without_timing(&run.stdout), expected, "{name}");
    }
    for bytes in [NDJSON.as_bytes(), &gz, &zst] {
        let run = devfault_stdin(&["check", "-"], bytes);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(without_timing(&run.stdout), expected);
    }
    // A corrupt compressed stream is reported, not a panic.
    let mut broken = gz.clone();
    broken.truncate(gz.len() / 2);
    let run = devfault_stdin(&["check", "--input-format", "ndjson", "-"], &broken);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("gzip stream"), "{}", run.stderr);
}

/// `count` exchanges, one per line, each with a distinct URL and a time a minute apart every
/// 100 lines; every third one fails.
pub fn many_lines(count: usize) -> String {
    let mut text = String::new();
    for i in 0..count {
        let (status, body) = if i % 3 == 0 {
            (200, r#"{\"error\":[40801,\"Volume Out of Range\"],\"id\":1}"#)
        } else {
            (200, r#"{\"result\":[],\"id\":1}"#)
        };
        let minute = i / 100;
        text.push_str(&format!(
            r#"{{"time":"2026-11-21T{:02}:{:02}:00Z","request":{{"method":"POST","url":"http://10.0.{}.{}/sony/audio?n={i}","headers":{{"X-Auth-PSK":"0000"}}}},"response":{{"status":{status},"headers":{{"Content-Type":"application/json"}},"body":"{body}"}}}}"#,
            10 + minute / 60,
            minute % 60,
            i % 2,
            i % 5
        ));
        text.push('\n');
    }
    text
}

#[test]
fn many_threads_keep_the_input_order() {
    let path = scratch_file("many.ndjson", &many_lines(8_000));
    let path = path.to_str().expect("utf-8");
    let one = devfault(&["check", "--jobs", "1", "--all", "--format", "json", path]);
    let four = devfault(&["check", "--jobs", "4", "--all", "--format", "json", path]);
    assert_eq!(four.code, 0, "{}", four.stderr);
    let lines: Vec<Value> =
        four.stdout.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(lines.len(), 8_001);
    for (i, line) in lines[..8_000].iter().enumerate() {
        assert_eq!(line["position"], format!("line {}", i + 1));
        assert!(line["url"].as_str().expect("url").ends_with(&format!("n={i}")));
    }
    assert_eq!(lines[8_000]["summary"]["failed"], 2_667);
    assert_eq!(one.stdout, four.stdout, "the same output whatever the threads");
}

#[test]
fn each_grouping_in_json_and_text() {
    let path = scratch_file("grouped.ndjson", &many_lines(600));
    let path = path.to_str().expect("utf-8");
    let run = devfault(&[
        "check", "--format", "json", "--by", "device", "--by", "code", "--by", "path", "--by",
        "hour", path,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let summary: Value =
        serde_json::from_str(run.stdout.lines().last().expect("summary")).expect("JSON");
    let summary = &summary["summary"];
    // 10.0.{0,1}.{0..4}: i % 2 and i % 5 give 10 hosts of 60 exchanges, 20 failed each.
    assert_eq!(summary["by_device"].as_object().expect("devices").len(), 10);
    assert_eq!(
        summary["by_device"]["10.0.0.0"],
        serde_json::json!({"exchanges": 60, "failed": 20, "non_conforming": 0})
    );
    assert_eq!(summary["by_code"]["bravia 40801"]["exchanges"], 200);
    assert_eq!(summary["by_code"]["bravia success"]["exchanges"], 400);
    assert_eq!(summary["by_path"]["/sony/audio"]["exchanges"], 600);
    // 100 lines a minute: 6 minutes, all in hour 10.
    assert_eq!(summary["by_hour"]["2026-11-21T10:00Z"]["exchanges"], 600);

    let run = devfault(&["check", "--by", "device", "--by", "hour", path]);
    assert!(
        run.stdout.contains(
            "  by device (10 groups):\n    10.0.0.0  60 exchanges, 20 failed, 0 with violations"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  by hour (1 group):\n    2026-11-21T10:00Z  600 exchanges, 200 failed"),
        "{}",
        run.stdout
    );
    let run = devfault(&["check", "--by", "planet", path]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("device, code, path, hour"), "{}", run.stderr);
}

/// Lines of a running child's stdout, as they come.
fn stdout_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits (at most 20 s) for a line containing `needle`; gives the lines read meanwhile.
fn wait_for(lines: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return;
            }
        }
    }
    panic!("no line with {needle:?} within 20 s; got {seen:#?}");
}

fn interrupt(child: &Child) {
    let status =
        Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
}

#[test]
fn follow_audits_appended_lines_across_rotations_and_sums_up_on_ctrl_c() {
    let lines: Vec<&str> = NDJSON.lines().filter(|l| l.ends_with('}')).collect();
    let path = scratch_file("live.ndjson", &format!("{}\n", lines[1]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(["check", "--follow", "--format", "json", path.to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let out = stdout_lines(&mut child);
    let mut seen = Vec::new();
    wait_for(&out, "\"line 1\"", &mut seen);
    // Appended, in two writes that split a line.
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    let (head, tail) = lines[3].split_at(40);
    file.write_all(head.as_bytes()).expect("write");
    file.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));
    file.write_all(format!("{tail}\n").as_bytes()).expect("write");
    drop(file);
    wait_for(&out, "\"line 2\"", &mut seen);
    // Rotated as logrotate does: renamed, then a new file at the same path.
    std::fs::rename(&path, path.with_extension("1")).expect("rename");
    std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[4])).expect("new file");
    wait_for(&out, "\"line 4\"", &mut seen);
    interrupt(&child);
    wait_for(&out, "\"summary\"", &mut seen);
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(3), "a violation was seen: {seen:#?}");
    let summary: Value = serde_json::from_str(seen.last().expect("summary")).expect("JSON");
    assert_eq!(summary["summary"]["exchanges"], 4, "{seen:#?}");
    assert_eq!(summary["summary"]["failed"], 3, "{seen:#?}");
    let codes: Vec<String> = seen[..seen.len() - 1]
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .map(|v| v["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(codes, ["40801", "1222", "2304"], "in the order they were written");
}

#[test]
fn follow_refuses_standard_input_and_har() {
    let run = devfault(&["check", "--follow", "-"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--follow needs a file"), "{}", run.stderr);
    let path = scratch_file("f.har", "{}");
    let run =
        devfault(&["check", "--follow", "--input-format", "har", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("NDJSON"), "{}", run.stderr);
}

/// Peak resident memory of a running process, from /proc (Linux), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn dev_zero_is_reported_at_line_1_and_memory_stays_flat() {
    // Before the caps this grew until the address-space limit and aborted (issue 11).
    let mut child = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(["check", "--input-format", "ndjson", "--max-line", "64K", "/dev/zero"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    let out = stdout_lines(&mut child);
    let mut seen = Vec::new();
    wait_for(
        &out,
        "line 1: unreadable: longer than the 64 KiB cap (--max-line); skipped",
        &mut seen,
    );
    // Let it read on for a while (several hundred MB of zeros), then look at its peak.
    std::thread::sleep(Duration::from_secs(2));
    assert!(child.try_wait().expect("status").is_none(), "still running, not aborted");
    let peak = peak_rss_kib(child.id());
    child.kill().expect("kill");
    let _ = child.wait();
    if let Some(peak) = peak {
        assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    }
}

#[test]
fn an_oversize_line_and_an_oversize_body_are_reported_and_the_audit_goes_on() {
    let good = NDJSON.lines().nth(1).expect("line 2");
    let huge_line =
        format!("{{\"response\":{{\"status\":200,\"body\":\"{}\"}}}}", "x".repeat(5 << 20));
    let big_base64 = format!(
        "{{\"response\":{{\"status\":200,\"body_base64\":\"{}\"}}}}",
        "QUFB".repeat(700_000)
    );
    let big_text =
        format!("{{\"response\":{{\"status\":200,\"body\":\"{}\"}}}}", "y".repeat(600_000));
    let text = format!("{huge_line}\n{good}\n{big_base64}\n{big_text}\n{good}\n");
    let path = scratch_file("huge.ndjson", &text);
    let run = devfault(&[
        "check",
        "--max-decoded-body",
        "1M",
        "--max-body",
        "512K",
        path.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    let out = &run.stdout;
    assert!(
        out.contains("line 1: unreadable: longer than the 4 MiB cap (--max-line); skipped"),
        "{out}"
    );
    assert!(out.contains("line 3: unreadable: response body decodes to about 2100000 bytes from base64, over the 1 MiB cap (--max-decoded-body); skipped"), "{out}");
    assert!(
        out.contains(
            "line 4: unreadable: response body is longer than the 512 KiB cap (--max-body); skipped"
        ),
        "{out}"
    );
    assert!(out.contains("line 2  POST") && out.contains("line 5  POST"), "{out}");
    assert!(out.contains("checked 2 exchanges"), "{out}");
    assert!(out.contains("unreadable: 3 (first at line 1, line 3, line 4)"), "{out}");
    let run = devfault(&["check", "--max-line", "lots", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("\"lots\" is not a size"), "{}", run.stderr);
}

#[test]
fn an_oversize_har_entry_is_reported_by_index() {
    let entry = |text: &str| {
        format!(
            "{{\"request\":{{\"method\":\"POST\",\"url\":\"http://192.168.1.20/sony/audio\"}},\"response\":{{\"status\":200,\"headers\":[{{\"name\":\"Content-Type\",\"value\":\"application/json\"}}],\"content\":{{\"text\":\"{text}\"}}}}}}"
        )
    };
    let small = entry(r#"{\"error\":[40801,\"Volume Out of Range\"],\"id\":1}"#);
    let big = entry(&"z".repeat(200_000));
    let har = format!("{{\"log\":{{\"version\":\"1.2\",\"entries\":[{small},{big},{small}]}}}}");
    let path = scratch_file("big.har", &har);
    let run = devfault(&["check", "--max-entry", "100K", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains(
            "log.entries[1]: unreadable: longer than the 100 KiB cap (--max-entry); skipped"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("log.entries[2]  POST"), "{}", run.stdout);
}

#[test]
fn decode_refuses_input_over_its_cap_and_dev_zero() {
    let big = format!("{{\"error\":[7,\"{}\"],\"id\":1}}", "x".repeat(2 << 20));
    let run = devfault_stdin(&["decode", "--max-size", "1M"], big.as_bytes());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("standard input is larger than the 1 MiB cap (--max-size)"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    let started = Instant::now();
    let run = devfault(&["decode", "/dev/zero"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("/dev/zero is larger than the 4 MiB cap"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn lint_refuses_a_registry_over_its_cap() {
    // 1,000,000 entries took 3.6 GB before the cap (issue 11); 60,000 make 5 MiB here.
    let mut text = String::from(
        "name = \"big\"\napi = \"big\"\n[code_space]\nformat = \"integer\"\nmin = 0\nmax = 9999999\n",
    );
    for i in 0..60_000 {
        text.push_str(&format!("[[entry]]\ncode = {i}\nreason = \"r{i}\"\nmessage = \"m{i}\"\nhttp_status = 500\nclass = \"server\"\nretry = \"never\"\nsource = \"observed\"\n"));
    }
    assert!(text.len() > 4 << 20);
    let path = scratch_file("big.toml", &text);
    let started = Instant::now();
    let run = devfault(&["lint", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is larger than the 4 MiB cap (--max-size)"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
}
