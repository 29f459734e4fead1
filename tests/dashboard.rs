//! The dashboard in a real browser: `devfault serve` on port 0, Debian's chromium driven by
//! chromedriver on a loopback port through WebDriver (fantoccini). Skipped, with a note,
//! where chromium or chromedriver is missing; in CI (`CI=true`) that is a failure instead
//! (`scripts/test` installs both).

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::util::{read_ready_file, ready_file_path, scratch_file};

/// How long any one thing may take to appear on the page.
const WAIT: Duration = Duration::from_secs(10);

/// Flags that keep chromium quiet and off the network (no updates, sync, QUIC or first-run
/// fetches) and runnable as root in a container.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// A process this test started, killed (by its own handle) when dropped.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The program's path when it is on PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Where the screenshots go: `target/dashboard/`.
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("dashboard");
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    dir
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// `devfault serve` on port 0; its admin and first display addresses, and its ready file.
fn start_serve() -> (Started, SocketAddr, SocketAddr, Value) {
    let ready = ready_file_path();
    let child = Command::new(env!("CARGO_BIN_EXE_devfault"))
        .args(["serve", "--bravia", "127.0.0.1:0", "--admin", "127.0.0.1:0"])
        .args(["--thinq", "127.0.0.1:0", "--seed", "7", "--ready-file"])
        .arg(&ready)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("devfault serve starts");
    let serve = Started(child);
    let addresses = read_ready_file(&ready);
    let addr = |url: &Value| -> SocketAddr {
        url.as_str().expect("a url").trim_start_matches("http://").parse().expect("an address")
    };
    let (admin, display) = (addr(&addresses["admin"]), addr(&addresses["displays"][0]["url"]));
    (serve, admin, display, addresses)
}

/// chromedriver on a free loopback port, once it answers `/status`.
async fn start_chromedriver(driver: &Path) -> (Started, String) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let started = Started(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let begun = Instant::now();
    loop {
        if let Ok(response) = http.get(format!("{url}/status")).send().await
            && response.status().is_success()
        {
            break;
        }
        assert!(begun.elapsed() < Duration::from_secs(15), "chromedriver did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (started, url)
}

/// One BRAVIA request to the display; the response body.
async fn rpc(display: SocketAddr, service: &str, method: &str, params: Value) -> Value {
    let body = json!({"method": method, "params": params, "id": 1, "version": "1.0"});
    let response = reqwest::Client::new()
        .post(format!("http://{display}/sony/{service}"))
        .header("X-Auth-PSK", "0000")
        .body(body.to_string())
        .send()
        .await
        .expect("the display answers");
    serde_json::from_str(&response.text().await.expect("a body")).expect("JSON")
}

async fn admin_get(admin: SocketAddr, path: &str) -> Value {
    let text = reqwest::get(format!("http://{admin}{path}"))
        .await
        .expect("the admin API answers")
        .text()
        .await
        .expect("a body");
    serde_json::from_str(&text).expect("JSON")
}

/// Waits for an element; its text. The page redraws parts of itself (live state, new journal
/// entries), so an element found may be replaced before it is read: then it is found again.
async fn text_of(client: &Client, css: &str) -> String {
    let begun = Instant::now();
    loop {
        let error = match client.find(Locator::Css(css)).await {
            Ok(element) => match element.text().await {
                Ok(text) => return text,
                Err(error) => error,
            },
            Err(error) => error,
        };
        assert!(begun.elapsed() < WAIT, "no {css} on the page: {error}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the element's text contains `needle`; that text.
async fn wait_text(client: &Client, css: &str, needle: &str) -> String {
    let begun = Instant::now();
    loop {
        let text = text_of(client, css).await;
        if text.contains(needle) {
            return text;
        }
        assert!(begun.elapsed() < WAIT, "{css} never showed {needle:?}; it shows {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the element `locator` finds, finding it again if it was redrawn meanwhile.
async fn click_on(client: &Client, locator: Locator<'_>) {
    let begun = Instant::now();
    loop {
        let error = match client.find(locator).await {
            Ok(element) => match element.click().await {
                Ok(()) => return,
                Err(error) => error,
            },
            Err(error) => error,
        };
        assert!(begun.elapsed() < WAIT, "cannot click {locator:?}: {error}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(client: &Client, css: &str) {
    click_on(client, Locator::Css(css)).await;
}

async fn fill(client: &Client, css: &str, text: &str) {
    let element = client.find(Locator::Css(css)).await.expect("the field");
    element.clear().await.expect("cleared");
    element.send_keys(text).await.expect("typed");
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(screenshot_dir().join(name), png).expect("screenshot written");
}

/// The browser's console messages since the last read (chromedriver's log endpoint).
async fn browser_log(client: &Client, driver: &str) -> Vec<Value> {
    let session = client.session_id().await.expect("a session").expect("a session id");
    let text = reqwest::Client::new()
        .post(format!("{driver}/session/{session}/se/log"))
        .header("Content-Type", "application/json")
        .body(json!({"type": "browser"}).to_string())
        .send()
        .await
        .expect("chromedriver answers")
        .text()
        .await
        .expect("a body");
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    assert!(answer["value"].is_array(), "chromedriver's log: {text}");
    answer["value"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_and_steers_the_devices_in_chromium() {
    let (Some(chromium), Some(driver)) = (on_path("chromium"), on_path("chromedriver")) else {
        let message = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver; scripts/test does it)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "in CI: {message}");
        // Straight to the process's stderr, past the test harness's capture, so the skip shows.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the_dashboard_shows_and_steers_the_devices_in_chromium: {message}"
        );
        return;
    };
    let (_serve, admin, display, ready) = start_serve();
    let (_chromedriver, driver_url) = start_chromedriver(&driver).await;
    // A fresh profile per run, under this run's scratch directory.
    let marker = scratch_file("chromium-profile", "");
    let profile = marker.with_extension("d");
    std::fs::create_dir_all(&profile).expect("a profile directory");
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    if let Value::Object(capabilities) = capabilities {
        builder.capabilities(capabilities);
    }
    let client = builder.connect(&driver_url).await.expect("a chromium session");
    // On a task of its own, so that a failed step still ends the browser: a panic that
    // unwound past `close` left chromium running after the test.
    let driving = {
        let (client, driver_url) = (client.clone(), driver_url.clone());
        tokio::spawn(async move {
            let steps = drive(&client, &driver_url, admin, display, &ready);
            tokio::time::timeout(Duration::from_secs(90), steps).await
        })
    };
    let outcome = driving.await;
    let _ = client.close().await;
    match outcome {
        Ok(finished) => finished.expect("the dashboard test finishes within 90 s"),
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        Err(failed) => panic!("the dashboard steps did not finish: {failed}"),
    }
}

async fn drive(
    client: &Client,
    driver: &str,
    admin: SocketAddr,
    display: SocketAddr,
    ready: &Value,
) {
    let base = format!("http://{admin}/");
    client.goto(&base).await.expect("the page loads");

    // Devices: the default display and appliances, with their state.
    let card = wait_text(client, "article[data-key='bravia-0']", "power active").await;
    assert!(card.contains("speaker volume 25"), "{card}");
    wait_text(client, "article[data-key='ac-living-room']", "online").await;
    wait_text(client, "#device-page", "page 1 of").await;
    wait_text(client, "#journal-live", "live").await;
    screenshot(client, "devices.png").await;

    // Standby with a click; the display then refuses with 7, live in the journal.
    click_on(client, Locator::XPath("//article[@data-key='bravia-0']//button[.='Standby']")).await;
    wait_text(client, "article[data-key='bravia-0']", "power standby").await;
    assert_eq!(admin_get(admin, "/devices/bravia-0").await["state"]["power"], "standby");
    let refused = rpc(display, "avContent", "getSourceList", json!([{"scheme": "extInput"}])).await;
    assert_eq!(refused["error"][0], 7, "{refused}");
    click(client, "nav a[href='#journal']").await;
    let row = wait_text(client, "#journal-rows tr[data-code='7']", "getSourceList").await;
    assert!(row.contains("7 Illegal State"), "the registry's reason for 7: {row}");
    // Opened from the keyboard: focus the row's button, press Enter.
    let opener = client
        .find(Locator::Css("#journal-rows tr[data-code='7'] button"))
        .await
        .expect("the row's button");
    client
        .execute("arguments[0].focus()", vec![serde_json::to_value(&opener).expect("element")])
        .await
        .expect("focused");
    client.active_element().await.expect("focus").send_keys("\u{E007}").await.expect("Enter");
    let detail = wait_text(client, "#journal-detail", "Diagnosis").await;
    assert!(detail.contains("x-auth-psk: <redacted>"), "credentials redacted: {detail}");
    assert!(!detail.contains("0000"), "the PSK never shows: {detail}");
    let diagnosis = text_of(client, "#journal-detail pre.diagnosis").await;
    assert!(diagnosis.starts_with("HTTP 200 OK, bravia 7 \"not power-on\""), "{diagnosis}");
    screenshot(client, "journal.png").await;
    // The README's picture: the top of the journal with this entry open, no messages.
    client
        .execute(
            "document.getElementById('messages').replaceChildren(); window.scrollTo(0, 0)",
            vec![],
        )
        .await
        .expect("scrolled");
    screenshot(client, "readme.png").await;

    // A fault rule through the form, which fires on the next matching request.
    click(client, "nav a[href='#faults']").await;
    wait_text(client, "#fault-seed", "7").await;
    fill(client, "#f-method", "getPowerStatus").await;
    click(client, "#f-code option[value]").await; // the list is loaded
    click_on(client, Locator::XPath("//select[@id='f-code']/option[starts-with(., '40000 ')]"))
        .await;
    click(client, "#fault-form button[type='submit']").await;
    wait_text(client, "#messages", "Rule 1 added").await;
    wait_text(client, "#fault-rows tr[data-key='1']", "40000 Request Retry").await;
    let answered = rpc(display, "system", "getPowerStatus", json!([])).await;
    assert_eq!(answered["error"][0], 40000, "{answered}");
    wait_text(client, "#fault-rows tr[data-key='1'] td.fired", "1").await;
    screenshot(client, "faults.png").await;
    click(client, "#fault-rows tr[data-key='1'] button").await;
    wait_text(client, "#messages", "Rule 1 removed").await;
    assert_eq!(admin_get(admin, "/faults").await["rules"], json!([]));

    // A provocation, now: the next request to the display answers the code.
    click(client, "nav a[href='#provocations']").await;
    click(client, "#provocation-form button").await;
    click(client, "#provocation-rows tr[data-code='40801'] button").await;
    wait_text(client, "#messages", "the next request to bravia-0 answers 40801").await;
    let provoked = rpc(display, "system", "getPowerStatus", json!([])).await;
    assert_eq!(provoked["error"][0], 40801, "{provoked}");
    screenshot(client, "provocations.png").await;

    // The ThinQ event path: the broker's counters and sessions, its faults with their rules,
    // a custom event published from the form.
    // A session of the Rust client's event stream is listed, connected and subscribed.
    let thinq = &ready["thinq"];
    let ca = std::fs::read(thinq["ca_pem"].as_str().expect("the CA's path")).expect("the CA");
    let events =
        devfault_thinq::client::Client::builder(thinq["token"].as_str().expect("a token"), "US")
            .base_url(thinq["url"].as_str().expect("the cloud's URL"))
            .client_id("dashboard-events")
            .add_root_certificate(ca)
            .build()
            .expect("a client")
            .events()
            .await
            .expect("an event stream");
    click(client, "nav a[href='#thinq-events']").await;
    wait_text(client, "#mqtt-summary", "Broker 127.0.0.1:").await;
    let row = wait_text(client, "#mqtt-sessions tr[data-key='dashboard-events']", "yes").await;
    assert!(
        row.starts_with("dashboard-events yes yes yes 0"),
        "connected, persistent, subscribed: {row}"
    );
    click(client, "#mqtt-faults tr[data-key='PUBLISH no_answer'] button").await;
    wait_text(client, "#messages", "PUBLISH no_answer, once").await;
    let rules = admin_get(admin, "/faults").await;
    let dropping = rules["rules"].as_array().and_then(|r| r.last()).cloned().unwrap_or_default();
    assert_eq!(
        (&dropping["match"]["api"], &dropping["match"]["http_method"], &dropping["action"]),
        (&json!("thinq-mqtt"), &json!("PUBLISH"), &json!("no_answer")),
        "{rules}"
    );
    assert_eq!(dropping["count"], 1, "{dropping}");
    click(client, "#event-form button[type='submit']").await;
    wait_text(client, "#messages", "washer-main: the event went to 0 sessions").await;
    screenshot(client, "thinq-events.png").await;
    events.close().await.expect("closed");

    // A CONNACK code through the fault form: the event path's codes are offered for its API.
    click(client, "nav a[href='#faults']").await;
    click_on(client, Locator::XPath("//select[@id='f-api']/option[.='thinq-mqtt']")).await;
    fill(client, "#f-method", "").await;
    fill(client, "#f-http-method", "CONNECT").await;
    click_on(
        client,
        Locator::XPath("//select[@id='f-code']/option[starts-with(., '3 — Connection Refused')]"),
    )
    .await;
    click(client, "#fault-form button[type='submit']").await;
    wait_text(client, "#fault-rows", "3 Connection Refused, Server unavailable").await;
    let rules = admin_get(admin, "/faults").await;
    let refusing = rules["rules"].as_array().and_then(|r| r.last()).cloned().unwrap_or_default();
    assert_eq!(
        (&refusing["match"]["api"], &refusing["match"]["http_method"], &refusing["code"]),
        (&json!("thinq-mqtt"), &json!("CONNECT"), &json!("3")),
        "{rules}"
    );

    // The registry, as `devfault explain` shows it, in both languages of group titles.
    click(client, "nav a[href='#registry']").await;
    fill(client, "#registry-q", "40801").await;
    click(client, "#registry-form button").await;
    let entry = wait_text(client, "#registry-results article[data-code='40801']", "40801").await;
    assert!(entry.starts_with("bravia 40801 — Volume Out of Range"), "{entry}");
    assert!(entry.contains("audio Service Error Code"), "{entry}");
    click_on(client, Locator::XPath("//select[@id='registry-lang']/option[@value='ja']")).await;
    wait_text(client, "#registry-results article[data-code='40801']", "audio サービスエラーコード")
        .await;
    screenshot(client, "registry.png").await;

    // A 401 (an admin API that wants a token): the page asks for it, then sends it with every
    // call. This server takes no token, so the browser's fetch plays the refusing server
    // until the page has one.
    client
        .execute(
            r#"window.seenAuth = [];
            const realFetch = window.fetch;
            window.fetch = (url, options) => {
              window.seenAuth.push((options && options.headers && options.headers.Authorization) || null);
              if (!sessionStorage.getItem("devfault-admin-token")) {
                return Promise.resolve(new Response('{"error":"a bearer token is required"}',
                  { status: 401, headers: { "Content-Type": "application/json" } }));
              }
              return realFetch(url, options);
            };"#,
            vec![],
        )
        .await
        .expect("fetch wrapped");
    click(client, "#registry-form button").await;
    wait_text(client, "#messages", "HTTP 401, the admin API wants a token").await;
    let asked = text_of(client, "#token-form p").await;
    assert!(asked.starts_with("the admin API asks for a token"), "{asked}");
    let focused = client.active_element().await.expect("focus").attr("id").await.expect("id");
    assert_eq!(focused.as_deref(), Some("token-input"), "the token field has the focus");
    client.active_element().await.expect("focus").send_keys("s3cret\u{E007}").await.expect("typed");
    wait_text(client, "#registry-results article[data-code='40801']", "40801").await;
    let seen = client.execute("return window.seenAuth", vec![]).await.expect("read");
    assert_eq!(seen[0], Value::Null, "no token at first: {seen}");
    assert_eq!(seen.as_array().and_then(|s| s.last()), Some(&json!("Bearer s3cret")), "{seen}");
    let form_hidden = client.execute("return document.getElementById('token-form').hidden", vec![]);
    assert_eq!(form_hidden.await.expect("read"), json!(true));

    // Readable on a narrow window: nothing wider than the window.
    client.set_window_size(400, 800).await.expect("narrow window");
    client.goto(&format!("{base}#devices")).await.expect("reloaded");
    wait_text(client, "article[data-key='bravia-0']", "power standby").await;
    let overflow = client
        .execute("return document.documentElement.scrollWidth - window.innerWidth", vec![])
        .await
        .expect("measured");
    assert!(overflow.as_i64().is_some_and(|px| px <= 0), "wider than the window by {overflow}px");
    screenshot(client, "narrow.png").await;

    // No console errors along the way.
    let log = browser_log(client, driver).await;
    let errors: Vec<&Value> = log.iter().filter(|m| m["level"] == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
