//! A typed async client for the BRAVIA REST API (feature `client`), plain HTTP as the displays
//! speak it.
//!
//! Every failure, a transport error or a garbage body included, comes back as one [`Error`]
//! that keeps the registry row, the HTTP status, the request id and the display's own message,
//! and says whether and when to retry. Calls are retried by the shared
//! [`RetryPolicy`] on the row's advice only. Method versions are
//! negotiated from `guide.getSupportedApiInfo`, so `[14, "Unsupported Version"]` is never the
//! first answer a user sees.
//!
//! ```no_run
//! # async fn run() -> Result<(), devfault_bravia::client::Error> {
//! use devfault_bravia::client::{Client, Target, Volume};
//!
//! let tv = Client::builder("192.168.1.20").psk("0000").build()?;
//! match tv.audio().set_volume(Target::Speaker, Volume::Absolute(30)).await {
//!     Ok(()) => println!("volume set"),
//!     Err(e) if e.is_display_off() => println!("the display is off: {}", e.entry().map_or("", |r| r.advice.as_str())),
//!     Err(e) => println!("failed: {e}"),
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use devfault_core::{Class, Entry, Failure, FailureKind, Idempotency, Retry, RetryPolicy};
use serde_json::{Value, json};

use crate::Code;
use crate::wire::{self, MAX_REQUEST_ID, ResponseBody};

pub use crate::services::{
    App, AppControl, Audio, AvContent, ExternalInput, InterfaceInformation, PlayingContent,
    PowerStatus, RemoteCode, System, SystemInformation, Target, Volume, VolumeInfo,
};

/// The API id failures carry.
const API: &str = "bravia";

/// The default time one attempt may take (pybravia uses 10 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SOAP action of an IRCC key press.
const IRCC_ACTION: &str = "\"urn:schemas-sony-com:service:IRCC:1#X_SendIRCC\"";

/// Configures a [`Client`]; made by [`Client::builder`].
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    host: String,
    psk: Option<String>,
    cookie: Option<String>,
    timeout: Duration,
    policy: RetryPolicy,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("host", &self.host)
            .field("psk", &self.psk.as_ref().map(|_| "<redacted>"))
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The pre-shared key, sent as `X-Auth-PSK` on every request.
    pub fn psk(mut self, psk: impl Into<String>) -> ClientBuilder {
        self.psk = Some(psk.into());
        self
    }

    /// The `auth` cookie of an earlier PIN registration ([`Client::register_pin`] returns it).
    pub fn auth_cookie(mut self, token: impl Into<String>) -> ClientBuilder {
        self.cookie = Some(token.into());
        self
    }

    /// The time one attempt may take, connecting included. Default [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// The retry policy. Default [`RetryPolicy::default`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> ClientBuilder {
        self.policy = policy;
        self
    }

    /// Checks the host and builds the client. No request is sent.
    ///
    /// The host is `HOST`, `HOST:PORT` or a base URL `http://HOST[:PORT]`; HTTPS is refused,
    /// because displays do not speak it ("SSL protocol is not supported").
    ///
    /// ```
    /// use devfault_bravia::client::Client;
    /// let tv = Client::builder("127.0.0.1:8080").psk("0000").build().expect("a valid host");
    /// assert_eq!(tv.base_url(), "http://127.0.0.1:8080/sony/");
    /// let err = Client::builder("https://tv.local").build().expect_err("no TLS on displays");
    /// assert!(err.to_string().contains("https://tv.local"));
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let base = base_url(&self.host)?;
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .build()
            .map_err(|e| {
                Error::new(
                    Failure::new(
                        API,
                        FailureKind::Usage,
                        format!("cannot build the HTTP client: {e}"),
                    )
                    .with_source(e),
                )
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                psk: self.psk,
                cookie: Mutex::new(self.cookie),
                policy: self.policy,
                next_id: AtomicU64::new(1),
                apis: Mutex::new(HashMap::new()),
            }),
        })
    }
}

/// `http://HOST[:PORT]/sony/` from what the user gave.
fn base_url(host: &str) -> Result<String, Error> {
    let usage = |why: &str| {
        Error::new(Failure::new(
            API,
            FailureKind::Usage,
            format!(
                "host {host:?} {why}; give HOST, HOST:PORT or http://HOST[:PORT], e.g. \"192.168.1.20\""
            ),
        ))
    };
    let trimmed = host.trim().trim_end_matches('/');
    let rest = if let Some(rest) = trimmed.strip_prefix("http://") {
        rest
    } else if trimmed.contains("://") {
        return Err(usage("is not plain http (displays speak no TLS)"));
    } else {
        trimmed
    };
    let rest = rest.strip_suffix("/sony").unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', ' ', '?', '#', '@']) {
        return Err(usage("is not a host name or address"));
    }
    let url = format!("http://{rest}/sony/");
    reqwest::Url::parse(&url).map_err(|e| usage(&format!("is not a valid host ({e})")))?;
    Ok(url)
}

/// A BRAVIA display. Cheap to clone: clones share the connection pool, the auth cookie, the
/// request-id counter and the discovered API versions.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    psk: Option<String>,
    cookie: Mutex<Option<String>>,
    policy: RetryPolicy,
    next_id: AtomicU64,
    /// Per service: method → versions the display lists, or `None` when discovery failed in a
    /// way that will not change (the display has no guide service).
    apis: Mutex<HashMap<String, Option<MethodVersions>>>,
}

/// The key and the cookie stay out of logs.
impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("psk", &self.psk.as_ref().map(|_| "<redacted>"))
            .field(
                "cookie",
                &self.cookie.lock().ok().and_then(|c| c.as_ref().map(|_| "<redacted>")),
            )
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Method name → the versions a display lists for it.
type MethodVersions = HashMap<String, Vec<String>>;

/// Versions as numbers, so "1.10" sorts above "1.2".
fn version_key(version: &str) -> (u32, u32) {
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
}

/// How a typed call says which versions of its method it can speak, newest first.
pub(crate) struct MethodSpec<'a> {
    pub service: &'a str,
    pub method: &'a str,
    pub versions: &'a [&'a str],
    pub idempotency: Idempotency,
}

impl Client {
    /// Starts configuring a client for `host` (`HOST`, `HOST:PORT` or `http://HOST[:PORT]`).
    pub fn builder(host: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            host: host.into(),
            psk: None,
            cookie: None,
            timeout: DEFAULT_TIMEOUT,
            policy: RetryPolicy::default(),
        }
    }

    /// The base URL, `http://HOST[:PORT]/sony/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The `auth` cookie in use, after [`Client::register_pin`] or
    /// [`ClientBuilder::auth_cookie`].
    pub fn auth_cookie(&self) -> Option<String> {
        self.inner.cookie.lock().ok().and_then(|c| c.clone())
    }

    /// The system service: power, system and interface information, remote codes.
    pub fn system(&self) -> System<'_> {
        System::new(self)
    }

    /// The audio service: volume and mute.
    pub fn audio(&self) -> Audio<'_> {
        Audio::new(self)
    }

    /// The avContent service: inputs, sources and what is playing.
    pub fn av_content(&self) -> AvContent<'_> {
        AvContent::new(self)
    }

    /// The appControl service: installed apps, launching and terminating them.
    pub fn app_control(&self) -> AppControl<'_> {
        AppControl::new(self)
    }

    /// Calls any method. `version` `None` picks the newest version the display lists for the
    /// method (from `getSupportedApiInfo`), else `"1.0"`. Methods whose name starts with `get`
    /// are retried as reads; others only when the display refused them explicitly.
    ///
    /// Returns the `result` array as sent.
    pub async fn call(
        &self,
        service: &str,
        method: &str,
        version: Option<&str>,
        params: Value,
    ) -> Result<Vec<Value>, Error> {
        let idempotency = if method.starts_with("get") {
            Idempotency::Idempotent
        } else {
            Idempotency::NonIdempotent
        };
        let params = match params {
            Value::Array(params) => params,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        let version = match version {
            Some(version) => version.to_owned(),
            None => match self.device_versions(service, method).await {
                Some(listed) => listed
                    .iter()
                    .max_by_key(|v| version_key(v))
                    .cloned()
                    .unwrap_or_else(|| "1.0".to_owned()),
                None => "1.0".to_owned(),
            },
        };
        self.call_version(service, method, &version, &params, idempotency).await
    }

    /// A typed call: negotiates the version, then sends with retries. On `[14, "Unsupported
    /// Version"]` without discovery it steps down to the next version it knows.
    pub(crate) async fn call_spec(
        &self,
        spec: &MethodSpec<'_>,
        params: &[Value],
    ) -> Result<Vec<Value>, Error> {
        let listed = self.device_versions(spec.service, spec.method).await;
        let candidates: Vec<&str> = match &listed {
            Some(listed) => {
                let common: Vec<&str> = spec
                    .versions
                    .iter()
                    .copied()
                    .filter(|v| listed.iter().any(|l| l == v))
                    .collect();
                if common.is_empty() {
                    let failure = Failure::new(
                        API,
                        FailureKind::Usage,
                        format!(
                            "the display lists {}.{} in versions [{}], this client speaks [{}]: no common version, nothing sent",
                            spec.service,
                            spec.method,
                            listed.join(", "),
                            spec.versions.join(", ")
                        ),
                    )
                    .with_class(Class::Unsupported);
                    return Err(Error::new(failure));
                }
                common.into_iter().take(1).collect()
            }
            None => spec.versions.to_vec(),
        };
        let mut last = None;
        for version in candidates {
            match self
                .call_version(spec.service, spec.method, version, params, spec.idempotency)
                .await
            {
                Err(e) if e.code() == Some(Code::UNSUPPORTED_VERSION) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::new(Failure::new(
                API,
                FailureKind::Usage,
                format!("{}.{} has no version to try", spec.service, spec.method),
            ))
        }))
    }

    /// The versions the display lists for `service.method`, discovered once per service.
    /// `None` when discovery is not possible (the display has no guide, or is unreachable: the
    /// call then goes ahead with the client's own versions).
    async fn device_versions(&self, service: &str, method: &str) -> Option<Vec<String>> {
        let cached = self.inner.apis.lock().ok().and_then(|apis| apis.get(service).cloned());
        let apis = match cached {
            Some(apis) => apis,
            None => {
                let params = [json!({ "services": [service] })];
                let result = self
                    .call_version(
                        "guide",
                        "getSupportedApiInfo",
                        "1.0",
                        &params,
                        Idempotency::Idempotent,
                    )
                    .await;
                let apis = match result {
                    Ok(result) => Some(parse_supported_api_info(&result, service)),
                    // The display answered and will answer the same way (no guide service, no
                    // such method): remember there is no map.
                    Err(e) if e.kind == FailureKind::Api && e.retry == Retry::Never => None,
                    // In standby, unreachable, garbage: try again on the next call.
                    Err(_) => return None,
                };
                if let Ok(mut cache) = self.inner.apis.lock() {
                    cache.insert(service.to_owned(), apis.clone());
                }
                apis
            }
        };
        apis.and_then(|apis| apis.get(method).cloned())
    }

    /// One method at one version, with the retry policy.
    async fn call_version(
        &self,
        service: &str,
        method: &str,
        version: &str,
        params: &[Value],
        idempotency: Idempotency,
    ) -> Result<Vec<Value>, Error> {
        let call = format!("{service}.{method}@{version}");
        let result = self
            .inner
            .policy
            .run(
                &call,
                idempotency,
                |_| self.attempt(service, method, version, params),
                tokio::time::sleep,
            )
            .await;
        match result {
            Ok(result) => Ok(result),
            Err(failure) => Err(self.explain(Error::new(failure), method).await),
        }
    }

    /// For `[7, "Illegal State"]`, which a display in standby sends for some calls and a display
    /// showing an app sends for others: asks `getPowerStatus` (auth none, answered in standby)
    /// once, and records the answer, so [`Error::is_display_off`] can tell.
    async fn explain(&self, mut error: Error, method: &str) -> Error {
        let ambiguous =
            error.code() == Some(Code::ILLEGAL_STATE) && !is_not_power_on(&error.failure.message);
        if ambiguous && method != "getPowerStatus" {
            let power = self.attempt("system", "getPowerStatus", "1.0", &[]).await;
            if let Ok(result) = power {
                let status = result.first().and_then(|r| r.get("status")).and_then(Value::as_str);
                error.standby_confirmed = status.is_some_and(|s| s != "active");
            }
        }
        error
    }

    fn next_id(&self) -> u64 {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        (id - 1) % MAX_REQUEST_ID + 1
    }

    /// One HTTP exchange, decoded into the result array or a failure.
    async fn attempt(
        &self,
        service: &str,
        method: &str,
        version: &str,
        params: &[Value],
    ) -> Result<Vec<Value>, Failure> {
        let id = self.next_id();
        let body = json!({ "method": method, "id": id, "params": params, "version": version });
        let request = self
            .inner
            .http
            .post(format!("{}{service}", self.inner.base))
            .header("Content-Type", "application/json; charset=UTF-8")
            .body(body.to_string());
        let (status, headers, bytes) = self.send(self.authorize(request), &id.to_string()).await?;
        let pairs = header_pairs(&headers);
        let response = wire::decode_response(
            status,
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &bytes,
        );
        let failure = |kind, message: String| {
            Failure::new(API, kind, message)
                .with_status(status)
                .with_request_id(id.to_string())
                .with_retry_after(response.retry_after)
        };
        match &response.body {
            ResponseBody::Success { result, id: reply_id, .. } if status == 200 => {
                if let Some(reply_id) = reply_id
                    && *reply_id != id
                {
                    return Err(failure(
                        FailureKind::Protocol,
                        format!("the reply carries id {reply_id}, the request had id {id}"),
                    ));
                }
                Ok(result.clone())
            }
            ResponseBody::Error(reply) => {
                let code = reply.code.to_string();
                let mut f = failure(FailureKind::Api, reply.message.clone())
                    .with_code(code, reply.entry)
                    .with_outcome_unknown(false);
                if reply.entry.is_none() {
                    f = f.with_class(Class::Unknown).with_retry(Retry::Never);
                }
                Err(f)
            }
            outcome => {
                let what = match outcome {
                    ResponseBody::Bare => "an empty body".to_owned(),
                    ResponseBody::Unreadable { reason, excerpt } => {
                        format!("{reason}: {excerpt:?}")
                    }
                    _ => "a result with an error status".to_owned(),
                };
                match response.entry() {
                    // An HTTP error the registry lists (401, 403, 404, 503...): its advice applies.
                    Some(entry) if status != 200 => {
                        Err(failure(FailureKind::Http, format!("HTTP {status} with {what}"))
                            .with_code(status.to_string(), Some(entry))
                            .with_outcome_unknown(false))
                    }
                    _ if status != 200 => {
                        Err(failure(FailureKind::Http, format!("HTTP {status} with {what}"))
                            .with_retry(if status >= 500 { Retry::BackOff } else { Retry::Never })
                            .with_outcome_unknown(status >= 500))
                    }
                    _ => Err(failure(FailureKind::Unreadable, format!("HTTP 200 with {what}"))),
                }
            }
        }
    }

    fn authorize(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(psk) = &self.inner.psk {
            request = request.header("X-Auth-PSK", psk);
        }
        if let Some(cookie) = self.auth_cookie() {
            request = request.header("Cookie", format!("auth={cookie}"));
        }
        request
    }

    /// Sends and reads the whole reply; transport failures become [`Failure`]s.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        request_id: &str,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
        let response = request.send().await.map_err(|e| transport_failure(e, request_id))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_failure(e, request_id).with_status(status))?;
        Ok((status, headers, bytes.to_vec()))
    }

    /// Asks the display to show a PIN for `client_id` (`accessControl.actRegister` without
    /// credentials, §1.1 step 1). `Ok(())` when the display answered 401, which means the PIN
    /// is on screen; then call [`Client::register_pin`] with it.
    pub async fn request_pin(&self, client_id: &str, nickname: &str) -> Result<(), Error> {
        match self.act_register(client_id, nickname, None).await {
            Err(e) if e.failure.status == Some(401) => Ok(()),
            Err(e) => Err(e),
            Ok(_) => Err(Error::new(Failure::new(
                API,
                FailureKind::Protocol,
                "actRegister without a PIN was accepted: the display does not use PIN authentication",
            ))),
        }
    }

    /// Registers with the PIN the display shows (§1.1 step 2) and keeps the `auth` cookie for
    /// every later request. Returns the cookie's value, to save and pass to
    /// [`ClientBuilder::auth_cookie`] next time.
    pub async fn register_pin(
        &self,
        client_id: &str,
        nickname: &str,
        pin: &str,
    ) -> Result<String, Error> {
        let token = self.act_register(client_id, nickname, Some(pin)).await?;
        let token = token.ok_or_else(|| {
            Error::new(Failure::new(
                API,
                FailureKind::Protocol,
                "actRegister succeeded without a Set-Cookie auth=…: the display gave no cookie",
            ))
        })?;
        if let Ok(mut cookie) = self.inner.cookie.lock() {
            *cookie = Some(token.clone());
        }
        Ok(token)
    }

    /// `actRegister`, once (registration is not retried: each try may show a new PIN).
    async fn act_register(
        &self,
        client_id: &str,
        nickname: &str,
        pin: Option<&str>,
    ) -> Result<Option<String>, Error> {
        use base64::Engine as _;
        let id = self.next_id();
        let body = json!({
            "method": "actRegister",
            "id": id,
            "params": [{ "clientid": client_id, "nickname": nickname, "level": "private" }, [{ "value": "yes", "function": "WOL" }]],
            "version": "1.0",
        });
        let mut request = self
            .inner
            .http
            .post(format!("{}accessControl", self.inner.base))
            .header("Content-Type", "application/json; charset=UTF-8")
            .body(body.to_string());
        if let Some(pin) = pin {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{pin}"));
            request = request.header("Authorization", format!("Basic {basic}"));
        }
        let (status, headers, bytes) =
            self.send(request, &id.to_string()).await.map_err(Error::new)?;
        let cookie = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next()?.trim().strip_prefix("auth=").map(str::to_owned));
        let pairs = header_pairs(&headers);
        let response = wire::decode_response(
            status,
            pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &bytes,
        );
        match (&response.body, status) {
            (ResponseBody::Success { .. }, 200) => Ok(cookie),
            (ResponseBody::Error(reply), _) => Err(Error::new(
                Failure::new(API, FailureKind::Api, reply.message.clone())
                    .with_code(reply.code.to_string(), reply.entry)
                    .with_status(status)
                    .with_request_id(id.to_string()),
            )),
            _ => Err(Error::new(
                Failure::new(API, FailureKind::Http, format!("actRegister answered HTTP {status}"))
                    .with_code(status.to_string(), response.entry())
                    .with_status(status)
                    .with_request_id(id.to_string()),
            )),
        }
    }

    /// Presses a remote key over IRCC (SOAP `X_SendIRCC`); `code` is a base64 IRCC code from
    /// [`System::remote_controller_info`]. Tries `/sony/ircc`, and `/sony/IRCC` when the first
    /// spelling answers 404 (some firmware knows only one). A key press is not idempotent: it is
    /// retried only when the display refused it explicitly (a 503).
    pub async fn send_ircc(&self, code: &str) -> Result<(), Error> {
        if code.is_empty()
            || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        {
            return Err(Error::new(Failure::new(
                API,
                FailureKind::Usage,
                format!(
                    "IRCC code {code:?} is not base64; take one from getRemoteControllerInfo, e.g. \"AAAAAQAAAAEAAAAvAw==\""
                ),
            )));
        }
        let result = self
            .inner
            .policy
            .run(
                "ircc.X_SendIRCC",
                Idempotency::NonIdempotent,
                |_| self.ircc_attempt(code),
                tokio::time::sleep,
            )
            .await;
        result.map_err(Error::new)
    }

    async fn ircc_attempt(&self, code: &str) -> Result<(), Failure> {
        let envelope = format!(
            "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:X_SendIRCC xmlns:u=\"urn:schemas-sony-com:service:IRCC:1\"><IRCCCode>{code}</IRCCCode></u:X_SendIRCC></s:Body></s:Envelope>"
        );
        let mut last = None;
        for path in ["ircc", "IRCC"] {
            let request = self
                .inner
                .http
                .post(format!("{}{path}", self.inner.base))
                .header("SOAPACTION", IRCC_ACTION)
                .header("Content-Type", "text/xml; charset=UTF-8")
                .body(envelope.clone());
            let (status, _, bytes) = self.send(self.authorize(request), "ircc").await?;
            let text = String::from_utf8_lossy(&bytes);
            match status {
                200 => return Ok(()),
                404 => last = Some(status),
                _ => return Err(ircc_failure(status, &text)),
            }
        }
        Err(ircc_failure(last.unwrap_or(404), "neither /sony/ircc nor /sony/IRCC exists"))
    }
}

/// A failed IRCC exchange: the UPnPError code and description when the fault has them.
fn ircc_failure(status: u16, body: &str) -> Failure {
    let between = |open: &str, close: &str| {
        let start = body.find(open)? + open.len();
        let end = body[start..].find(close)? + start;
        Some(body[start..end].trim().to_owned())
    };
    match (
        between("<errorCode>", "</errorCode>"),
        between("<errorDescription>", "</errorDescription>"),
    ) {
        (Some(code), description) => {
            Failure::new(API, FailureKind::Api, description.unwrap_or_default())
                .with_code(format!("UPnP {code}"), None)
                .with_status(status)
                .with_class(if code == "800" {
                    Class::Unsupported
                } else {
                    Class::MalformedRequest
                })
                .with_retry(Retry::Never)
                .with_outcome_unknown(false)
        }
        _ => {
            let entry = crate::registry()
                .rows(u32::from(status))
                .find(|e| e.http_status.as_u16() == status && status != 200);
            let excerpt: String = body.chars().take(160).collect();
            let mut failure = Failure::new(
                API,
                FailureKind::Http,
                format!("IRCC answered HTTP {status}: {excerpt:?}"),
            )
            .with_status(status);
            if let Some(entry) = entry {
                failure =
                    failure.with_code(status.to_string(), Some(entry)).with_outcome_unknown(false);
            }
            failure
        }
    }
}

/// `[{"service": S, "apis": [{"name", "versions": [{"version"}]}]}]` (inside the result's first
/// element) → method → versions.
fn parse_supported_api_info(result: &[Value], service: &str) -> HashMap<String, Vec<String>> {
    let services = result.first().and_then(Value::as_array).map(Vec::as_slice).unwrap_or(result);
    let mut apis = HashMap::new();
    for entry in
        services.iter().filter(|s| s.get("service").and_then(Value::as_str) == Some(service))
    {
        for api in entry.get("apis").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = api.get("name").and_then(Value::as_str) else { continue };
            let versions = api
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.get("version").and_then(Value::as_str).or_else(|| v.as_str()))
                .map(str::to_owned)
                .collect();
            apis.insert(name.to_owned(), versions);
        }
    }
    apis
}

fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

/// A reqwest error as a failure: a connection never made is safe to repeat; a timeout or a
/// connection lost after sending may have left the request carried out.
pub(crate) fn transport_failure_for(
    api: &'static str,
    error: reqwest::Error,
    request_id: &str,
) -> Failure {
    let (kind, unknown) = if error.is_timeout() {
        (FailureKind::Timeout, true)
    } else if error.is_connect() {
        (FailureKind::Transport, false)
    } else {
        (FailureKind::Transport, true)
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure::new(api, kind, message)
        .with_request_id(request_id)
        .with_outcome_unknown(unknown)
        .with_source(error)
}

fn transport_failure(error: reqwest::Error, request_id: &str) -> Failure {
    transport_failure_for(API, error, request_id)
}

fn is_not_power_on(message: &str) -> bool {
    message.trim().eq_ignore_ascii_case("not power-on")
}

/// Every failure of the BRAVIA client: the shared [`Failure`] (read its fields through
/// `Deref`) plus BRAVIA's own questions.
///
/// ```
/// use devfault_bravia::client::Error;
/// use devfault_bravia::Code;
/// use devfault_core::{Failure, FailureKind};
/// let off = Error::from_failure(Failure::new("bravia", FailureKind::Api, "Display Is Turned off")
///     .with_code("40005", Code::DISPLAY_IS_TURNED_OFF.entry_opt()));
/// assert!(off.is_display_off());
/// assert_eq!(off.code(), Some(Code::DISPLAY_IS_TURNED_OFF));
/// ```
#[derive(Clone, Debug)]
pub struct Error {
    failure: Box<Failure>,
    standby_confirmed: bool,
}

impl Error {
    fn new(failure: Failure) -> Error {
        Error { failure: Box::new(failure), standby_confirmed: false }
    }

    /// Wraps a failure (for callers that build errors of their own, and tests).
    pub fn from_failure(failure: Failure) -> Error {
        Error::new(failure)
    }

    /// The shared failure record.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }

    /// The BRAVIA code the display sent, when it is in the 0–65535 space.
    pub fn code(&self) -> Option<Code> {
        self.failure.code.as_deref()?.parse::<u32>().ok().and_then(Code::new)
    }

    /// The registry row of the code.
    pub fn entry(&self) -> Option<&'static Entry> {
        self.failure.entry
    }

    /// True when the call failed because the display is off or in standby, whichever signal
    /// said so: `[7, "not power-on"]` (consumer Android sets), `[40005, "Display is turned
    /// off"]` in either spelling, or `[7, "Illegal State"]` when `getPowerStatus`, asked at
    /// once, said the display is not active (§3.1: the same code means "an app is shown" on an
    /// active display).
    pub fn is_display_off(&self) -> bool {
        match self.code() {
            Some(Code::DISPLAY_IS_TURNED_OFF) => true,
            Some(Code::ILLEGAL_STATE) => {
                is_not_power_on(&self.failure.message) || self.standby_confirmed
            }
            _ => false,
        }
    }

    /// True for a credentials problem (HTTP 401/403, a wrong PSK or an expired cookie).
    pub fn is_auth(&self) -> bool {
        matches!(self.failure.class, Class::Authentication | Class::Permission)
    }
}

impl std::ops::Deref for Error {
    type Target = Failure;

    fn deref(&self) -> &Failure {
        &self.failure
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure.fmt(f)?;
        if self.is_display_off() {
            f.write_str(" [the display is off]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_become_base_urls() {
        assert_eq!(base_url("192.168.1.20").ok(), Some("http://192.168.1.20/sony/".to_owned()));
        assert_eq!(base_url("http://tv:8080/").ok(), Some("http://tv:8080/sony/".to_owned()));
        assert_eq!(base_url("http://tv/sony").ok(), Some("http://tv/sony/".to_owned()));
        for bad in ["", "https://tv", "tv/path", "a b"] {
            let err = base_url(bad).expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let builder = Client::builder("tv").psk("s3cret-key").auth_cookie("c00kie");
        let text = format!("{builder:?}");
        assert!(!text.contains("s3cret-key") && !text.contains("c00kie"), "{text}");
        let client = builder.build().expect("valid");
        let text = format!("{client:?}");
        assert!(
            !text.contains("s3cret-key") && !text.contains("c00kie") && text.contains("<redacted>"),
            "{text}"
        );
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert!(version_key("1.10") > version_key("1.2"));
        assert!(version_key("2.0") > version_key("1.9"));
    }

    #[test]
    fn supported_api_info_of_the_real_display_is_read() {
        let result = vec![json!([{"service": "audio", "protocols": ["xhrpost:jsonizer"], "apis": [
            {"name": "setAudioVolume", "versions": [{"version": "1.0", "authLevel": "generic"}, {"version": "1.2", "authLevel": "generic"}]},
            {"name": "getVolumeInformation", "versions": [{"version": "1.0"}]}]}])];
        let apis = parse_supported_api_info(&result, "audio");
        assert_eq!(apis["setAudioVolume"], ["1.0", "1.2"]);
        assert_eq!(apis["getVolumeInformation"], ["1.0"]);
        assert!(parse_supported_api_info(&result, "system").is_empty());
    }

    fn api_error(code: u32, message: &str) -> Error {
        let code = Code::new(code).expect("in space");
        let entry = crate::registry().rows(u32::from(code.as_u16())).find(|e| e.message == message);
        Error::new(Failure::new(API, FailureKind::Api, message).with_code(code.to_string(), entry))
    }

    #[test]
    fn display_off_is_one_predicate_over_every_signal() {
        assert!(api_error(7, "not power-on").is_display_off());
        assert!(api_error(40005, "Display is turned off").is_display_off());
        assert!(api_error(40005, "Display Is Turned off").is_display_off());
        let illegal = api_error(7, "Illegal State");
        assert!(!illegal.is_display_off(), "an app being shown is not the display being off");
        let confirmed = Error { standby_confirmed: true, ..illegal };
        assert!(confirmed.is_display_off());
        assert!(!api_error(40801, "Volume Out of Range").is_display_off());
    }

    #[test]
    fn ircc_faults_keep_the_upnp_code() {
        let body = "<s:Fault><detail><UPnPError><errorCode>800</errorCode><errorDescription>Cannot accept the IRCC Code</errorDescription></UPnPError></detail></s:Fault>";
        let failure = ircc_failure(500, body);
        assert_eq!(failure.code.as_deref(), Some("UPnP 800"));
        assert_eq!(failure.message, "Cannot accept the IRCC Code");
        assert_eq!((failure.class, failure.retry), (Class::Unsupported, Retry::Never));
        let forbidden = ircc_failure(403, "");
        assert_eq!(forbidden.entry.map(|e| e.code), Some(403));
    }
}
