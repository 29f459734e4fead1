//! Running the built `devfault` binary, and calling the admin API of an emulator under test.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `devfault ARGS` with colour off.
pub fn devfault(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the devfault binary runs");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

/// Runs `devfault ARGS` with `input` (text or bytes) on standard input, written from a thread
/// of its own so that a large input cannot stall against the output pipes.
pub fn devfault_stdin(args: &[&str], input: impl AsRef<[u8]>) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the devfault binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.as_ref().to_vec();
    let writer = std::thread::spawn(move || {
        // The program may stop reading early (a cap); what it did is in its output.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("finishes");
    writer.join().expect("the writer thread");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

/// A path for `serve --ready-file` under the test's scratch directory, with no file there yet.
pub fn ready_file_path() -> PathBuf {
    let ready = scratch_file("ready.json", "");
    std::fs::remove_file(&ready).expect("no stale ready file");
    ready
}

/// Waits (20 s at most) for `devfault serve` to write its ready file and answers its JSON: the
/// addresses it listens on.
pub fn read_ready_file(ready: &std::path::Path) -> serde_json::Value {
    let started = std::time::Instant::now();
    while !ready.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "devfault serve wrote no {} within 20 s",
            ready.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(ready).expect("the ready file");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the ready file is not JSON ({e}): {text}"))
}

/// A fresh file under the test's scratch directory holding `text`.
pub fn scratch_file(name: &str, text: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("devfault-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("scratch file");
    path
}

/// Calls the admin API at `admin` (`GET /journal`, `POST /faults`...) and gives back its JSON
/// answer (`null` for an empty one); any status but 2xx fails the test.
pub async fn admin_call(
    http: &reqwest::Client,
    admin: std::net::SocketAddr,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut request = http.request(method, format!("http://{admin}{path}"));
    if !body.is_null() {
        request = request.body(body.to_string());
    }
    let response = request.send().await.expect("the admin API answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    assert!(status.is_success(), "admin {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}
