//! `check --report`: the HTML file's structure, and a real browser (Debian's chromium,
//! headless, through chromedriver on a loopback port) loading it offline with no console error
//! and drawing the chart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::check_stream::many_lines;
use crate::util::{devfault, scratch_file};

const NDJSON: &str = include_str!("data/session.ndjson");

/// A capture of `lines` timed exchanges plus the session's failures and violations, and its
/// report.
fn report_of(lines: usize) -> (String, PathBuf) {
    report_with(lines, &[])
}

/// [`report_of`] with more arguments for `check` (`--lang ja`).
fn report_with(lines: usize, more: &[&str]) -> (String, PathBuf) {
    let mut text = many_lines(lines);
    text.push_str(NDJSON);
    let capture = scratch_file("report.ndjson", &text);
    let report = capture.with_file_name("report.html");
    let mut args = vec!["check", "--report", report.to_str().expect("utf-8")];
    args.extend_from_slice(more);
    args.push(capture.to_str().expect("utf-8"));
    let run = devfault(&args);
    assert_eq!(run.code, 2, "the session has a broken line: {run:?}");
    (std::fs::read_to_string(&report).expect("the report is written"), report)
}

#[test]
fn the_report_names_groups_in_the_language_of_lang() {
    let (html, _) = report_with(10, &["--lang", "ja"]);
    assert!(
        html.contains(
            "<td>Volume Out of Range</td><td lang=\"ja\">audio サービスエラーコード</td>"
        ),
        "the group title in Japanese"
    );
}

#[test]
fn the_report_is_one_offline_file_with_every_section() {
    let (html, _) = report_of(3_000);
    for id in
        ["timeline", "chart", "codes", "devices", "rules", "failed-exchanges", "search", "data"]
    {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    assert!(html.contains("<b id=\"exchanges\">3006</b> exchanges"), "totals");
    assert!(html.contains("<b id=\"failed\">1004</b> failed"), "totals");
    // Top codes with their registry rows and advice.
    assert!(html.contains("<tr><td>bravia 40801</td><td class=\"n\">1001</td><td>Volume Out of Range</td><td lang=\"en\">audio Service Error Code</td><td>malformed_request</td><td>never</td><td>Keep the volume within"), "codes");
    assert!(html.contains("<td>thinq abc</td>"), "ThinQ devices by id");
    assert!(
        html.contains("<td>thinq.message-id-echo</td><td class=\"violation\">violation</td>"),
        "rules"
    );
    assert!(
        html.contains("The first 1004") || html.contains("All 1004 failed exchanges."),
        "failed table note"
    );
    // 3,000 lines at 100 a minute: 30 minute buckets.
    let data_start = html.find("id=\"data\">").expect("data") + "id=\"data\">".len();
    let data_end = html[data_start..].find("</script>").expect("end") + data_start;
    let data: Value = serde_json::from_str(&html[data_start..data_end]).expect("data is JSON");
    assert_eq!(data["width"], 60);
    assert_eq!(data["buckets"].as_array().expect("buckets").len(), 30);
    assert_eq!(data["untimed"], 6, "the session's lines have no time");
    // Self-contained: nothing is fetched.
    for external in ["src=\"http", "href=\"http", "@import", "url(", "fetch(", "XMLHttpRequest"] {
        assert!(!html.contains(external), "{external}");
    }
}

#[test]
fn the_report_stays_small_for_many_failures() {
    let (html, _) = report_of(9_000);
    assert!(html.contains("The first 2000 of 3004 failed exchanges"), "capped table");
    assert_eq!(html.matches("<tr><td>line ").count(), 2000);
    assert!(html.len() < 2 << 20, "{} bytes", html.len());
}

/// The chromium binary and chromedriver, when installed.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| {
        names.iter().map(PathBuf::from).find(|p| p.exists()).or_else(|| {
            names.iter().find_map(|name| {
                let out =
                    Command::new("sh").args(["-c", &format!("command -v {name}")]).output().ok()?;
                let path = String::from_utf8(out.stdout).ok()?.trim().to_owned();
                (!path.is_empty()).then(|| PathBuf::from(path))
            })
        })
    };
    Some((
        find(&["/usr/bin/chromium", "chromium", "chromium-browser"])?,
        find(&["/usr/bin/chromedriver", "chromedriver"])?,
    ))
}

/// chromedriver on a loopback port, killed when dropped.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Value {
    let mut request = http.request(method, url).timeout(Duration::from_secs(60));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let text = response.text().await.expect("a body");
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"));
    assert!(value["value"]["error"].is_null(), "{url}: {text}");
    value["value"].clone()
}

fn start_driver(driver: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(driver)
        .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".to_owned()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    Driver { child, base: format!("http://127.0.0.1:{port}") }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_loads_the_report_without_errors_and_draws_the_chart() {
    let Some((chromium, chromedriver)) = browser() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium and chromium-driver must be installed in CI (scripts/test installs them)"
        );
        eprintln!(
            "SKIPPED: chromium or chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let (_, report) = report_of(3_000);
    let mut driver = start_driver(&chromedriver);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{}/status", driver.base)).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start within 30 s");
        assert!(driver.child.try_wait().expect("status").is_none(), "chromedriver exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = report.with_file_name("chromium-profile");
    let session = call(
        &http,
        reqwest::Method::POST,
        &format!("{}/session", driver.base),
        Some(json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,1100",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}})),
    )
    .await;
    let id = session["sessionId"].as_str().expect("a session").to_owned();
    let session = format!("{}/session/{id}", driver.base);
    let url = format!("file://{}", report.canonicalize().expect("path").display());
    call(&http, reqwest::Method::POST, &format!("{session}/url"), Some(json!({"url": url}))).await;
    let script = r#"
        var c = document.getElementById("chart"), px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, colored = 0;
        for (var i = 0; i < px.length; i += 4) { if (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240) colored++; }
        var search = document.getElementById("search");
        search.value = "thinq 2304"; search.dispatchEvent(new Event("input"));
        var shown = document.getElementById("shown").textContent;
        search.value = ""; search.dispatchEvent(new Event("input"));
        return {chart: document.body.getAttribute("data-chart"), bars: c.getAttribute("data-bars"), colored: colored, shown: shown};
    "#;
    let result = call(
        &http,
        reqwest::Method::POST,
        &format!("{session}/execute/sync"),
        Some(json!({"script": script, "args": []})),
    )
    .await;
    let logs = call(
        &http,
        reqwest::Method::POST,
        &format!("{session}/se/log"),
        Some(json!({"type": "browser"})),
    )
    .await;
    let screenshot =
        call(&http, reqwest::Method::GET, &format!("{session}/screenshot"), None).await;
    let _ = http.delete(&session).send().await;
    drop(driver);

    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(screenshot.as_str().expect("base64"))
        .expect("PNG");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).expect("target/");
    std::fs::write(target.join("check-report.png"), &png).expect("screenshot kept");
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");

    let errors: Vec<&Value> =
        logs.as_array().expect("logs").iter().filter(|l| l["level"] == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert_eq!(result["chart"], "drawn", "{result}");
    assert_eq!(result["bars"], "30", "one bar per minute: {result}");
    assert!(result["colored"].as_u64().expect("pixels") > 5_000, "the chart has bars: {result}");
    assert_eq!(result["shown"], "1 of 1004 shown", "the search filters the table: {result}");
}
