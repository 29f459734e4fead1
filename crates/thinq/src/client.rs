//! A typed async client for the ThinQ Connect API (feature `client`), over HTTPS with rustls
//! (ring, no system library).
//!
//! Unlike LG's SDK, every failure keeps its HTTP status, a garbage body is an error rather than
//! an escaping `JSONDecodeError`, and the live rate-limit code 1314 is filed as a rate limit
//! with the time the hour window reopens. Each request carries a fresh `x-message-id` (a base64
//! UUID v4) and the reply must echo it. [`Client::events`] opens the MQTT event stream (see
//! [`event_stream`](crate::event_stream)).
//!
//! ```no_run
//! # async fn run() -> Result<(), devfault_thinq::client::Error> {
//! use devfault_thinq::client::{Client, command};
//!
//! let thinq = Client::builder("thinqpat-...", "DE").build()?;
//! for device in thinq.devices().await? {
//!     let state = thinq.state(&device.device_id).await?;
//!     println!("{} {}: power {:?}", device.device_id, device.device_info.device_type, state.power());
//! }
//! if let Err(e) = thinq.control("ac-living-room", &command::air_con_power(false)).await {
//!     println!("{e}"); // e.g. 2304 Command not supported in POWER OFF, HTTP 400, retry after_state_change
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use devfault_core::{Class, Entry, Failure, FailureKind, Idempotency, Retry, RetryPolicy};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Code;
use crate::endpoint::{Endpoint, Method};
use crate::region::Region;
use crate::wire::{self, ResponseBody};

use crate::event_stream::EventOptions;
pub use crate::event_stream::{DEFAULT_KEEP_ALIVE, EventStream, Reconnect, Update};
pub use crate::resources::{Profile, Property, State, command};

/// The API id failures carry.
const API: &str = "thinq";

/// The API key every client sends: a fixed value LG publishes (SDK `const.API_KEY`).
pub const API_KEY: &str = "v6GFvkweNo7DK7yD3ylIZ9w52aKBU0eJ7wLXkSR3";

/// The default time one attempt may take (the SDK's is 15 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Configures a [`Client`]; made by [`Client::builder`].
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    token: String,
    country: String,
    client_id: Option<String>,
    base_url: Option<String>,
    timeout: Duration,
    policy: RetryPolicy,
    root_certificates: Vec<Vec<u8>>,
    connect_to: Option<std::net::SocketAddr>,
    events: EventOptions,
}

/// The token stays out of logs.
impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &"<redacted>")
            .field("country", &self.country)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The `x-client-id`. LG warns against making new ids often: keep one per installation.
    /// Default: `devfault-` and a random UUID, made once per builder.
    pub fn client_id(mut self, id: impl Into<String>) -> ClientBuilder {
        self.client_id = Some(id.into());
        self
    }

    /// Sends every request to `url` instead of the country's region host (an emulator, a
    /// proxy). `http://` and `https://` are accepted.
    pub fn base_url(mut self, url: impl Into<String>) -> ClientBuilder {
        self.base_url = Some(url.into());
        self
    }

    /// The time one attempt may take. Default [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// The retry policy. Default [`RetryPolicy::default`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> ClientBuilder {
        self.policy = policy;
        self
    }

    /// Trusts one more root certificate, PEM or DER, e.g. an emulator's self-signed one.
    pub fn add_root_certificate(mut self, certificate: impl Into<Vec<u8>>) -> ClientBuilder {
        self.root_certificates.push(certificate.into());
        self
    }

    /// Connects to `addr` whenever the region host is asked for, keeping the real host name
    /// for TLS and `Host` (how LG's SDK is pointed at an emulator without patching it). The
    /// base URL stays `https://api-{region}.lgthinq.com/`.
    pub fn connect_to(mut self, addr: std::net::SocketAddr) -> ClientBuilder {
        self.connect_to = Some(addr);
        self
    }

    /// Connects the event stream ([`Client::events`]) to `addr` instead of the host and port
    /// `/route` names, still checking the broker's certificate for that host (an emulator
    /// serving a real broker name, a proxy). IPv4 only: the MQTT client names its peer by text.
    pub fn mqtt_connect_to(mut self, addr: std::net::SocketAddr) -> ClientBuilder {
        self.events.connect_to = Some(addr);
        self
    }

    /// How the event stream reconnects. Default [`Reconnect::default`]: 5 s doubling to 60 s,
    /// for ever, as LG's SDK does.
    pub fn reconnect(mut self, reconnect: Reconnect) -> ClientBuilder {
        self.events.reconnect = reconnect;
        self
    }

    /// The MQTT keep-alive of the event stream, 1 s to 65535 s. Default
    /// [`DEFAULT_KEEP_ALIVE`] (AWS IoT raises anything shorter to 30 s).
    pub fn mqtt_keep_alive(mut self, keep_alive: Duration) -> ClientBuilder {
        self.events.keep_alive = keep_alive;
        self
    }

    /// Checks the token, the country and the base URL, and builds the client. No request is
    /// sent.
    ///
    /// ```
    /// use devfault_thinq::client::Client;
    /// let thinq = Client::builder("thinqpat-devfault-0000", "us").build().expect("valid");
    /// assert_eq!(thinq.base_url(), "https://api-aic.lgthinq.com/");
    /// let err = Client::builder("thinqpat-devfault-0000", "ZZ").build().expect_err("no region");
    /// assert!(err.to_string().contains("\"ZZ\""));
    /// let local = Client::builder("t", "DE").base_url("http://127.0.0.1:8081").build().expect("valid");
    /// assert_eq!(local.base_url(), "http://127.0.0.1:8081/");
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let usage = |message: String| Error::new(Failure::new(API, FailureKind::Usage, message));
        let token_ok = (1..=512).contains(&self.token.len())
            && self.token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
        if !token_ok {
            return Err(usage(format!(
                "the token ({} characters) is not 1 to 512 characters of A-Z a-z 0-9 - . _ ~ + / =; copy the personal access token from connect-pat.lgthinq.com",
                self.token.len()
            )));
        }
        let country = self.country.trim().to_ascii_uppercase();
        let region = Region::of_country(&country).ok_or_else(|| {
            usage(format!(
                "country {:?} is not one ThinQ Connect serves; give an ISO 3166-1 alpha-2 code of the SDK's list, e.g. \"US\", \"DE\", \"KR\"",
                self.country
            ))
        })?;
        let base = match self.base_url {
            Some(url) => {
                let url = format!("{}/", url.trim().trim_end_matches('/'));
                let parsed = reqwest::Url::parse(&url).map_err(|e| {
                    usage(format!(
                        "base URL {url:?} is not a URL ({e}); give e.g. \"http://127.0.0.1:8081\""
                    ))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(usage(format!("base URL {url:?} is not http:// or https://")));
                }
                url
            }
            None => region.base_url(),
        };
        let mut http =
            reqwest::Client::builder().timeout(self.timeout).connect_timeout(self.timeout);
        for bytes in &self.root_certificates {
            let certificate = if bytes.starts_with(b"-----BEGIN") {
                reqwest::Certificate::from_pem(bytes)
            } else {
                reqwest::Certificate::from_der(bytes)
            };
            let certificate = certificate.map_err(|e| {
                usage(format!(
                    "a root certificate ({} bytes) is neither PEM nor DER: {e}",
                    bytes.len()
                ))
            })?;
            http = http.add_root_certificate(certificate);
        }
        if let Some(addr) = self.connect_to {
            let host =
                reqwest::Url::parse(&base).ok().and_then(|u| u.host_str().map(str::to_owned));
            if let Some(host) = host {
                http = http.resolve(&host, addr);
            }
        }
        let keep_alive = self.events.keep_alive;
        if !(Duration::from_secs(1)..=Duration::from_secs(u64::from(u16::MAX)))
            .contains(&keep_alive)
        {
            return Err(usage(format!(
                "MQTT keep-alive {keep_alive:?} is outside 1 s to 65535 s (a whole number of seconds on the wire)"
            )));
        }
        if let Some(addr) = self.events.connect_to
            && addr.is_ipv6()
        {
            return Err(usage(format!(
                "mqtt_connect_to {addr} is IPv6; the MQTT client names its peer by text, give an IPv4 address"
            )));
        }
        let http = http.build().map_err(|e| usage(format!("cannot build the HTTP client: {e}")))?;
        let client_id = match self.client_id {
            Some(id) => id,
            None => format!("devfault-{}", random_uuid_hex().map_err(|e| usage(e.to_string()))?),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                token: self.token,
                country,
                client_id,
                region,
                policy: self.policy,
                timeout: self.timeout,
                root_certificates: self.root_certificates,
                events: self.events,
            }),
        })
    }
}

/// A ThinQ Connect account (one personal access token). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: String,
    token: String,
    country: String,
    client_id: String,
    region: Region,
    policy: RetryPolicy,
    /// The time one attempt may take; the event stream's connection steps too.
    pub(crate) timeout: Duration,
    /// The roots added by the builder, which the event stream trusts too.
    pub(crate) root_certificates: Vec<Vec<u8>>,
    pub(crate) events: EventOptions,
}

/// The token stays out of logs.
impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .field("country", &self.country)
            .field("client_id", &self.client_id)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// One appliance of `GET /devices`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Device {
    /// The id every device call takes.
    pub device_id: String,
    /// What it is.
    pub device_info: DeviceInfo,
}

/// `deviceInfo` of a listed appliance.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeviceInfo {
    /// e.g. `DEVICE_AIR_CONDITIONER`.
    pub device_type: String,
    /// Model name.
    #[serde(default)]
    pub model_name: String,
    /// The user's name for it.
    #[serde(default)]
    pub alias: String,
    /// Whether it reports state changes (push/event).
    #[serde(default)]
    pub reportable: bool,
    /// For the parts of a WashTower.
    #[serde(default)]
    pub group_id: Option<String>,
}

/// `GET /route`: the servers of the account's region.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Route {
    /// The REST API server.
    #[serde(default)]
    pub api_server: String,
    /// The MQTT broker (`mqtts://…:8883`).
    #[serde(default)]
    pub mqtt_server: String,
    /// The WebSocket server.
    #[serde(default)]
    pub web_socket_server: String,
}

/// `{"deviceId": …}` items of the push and event lists.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceRef {
    device_id: String,
}

/// Energy usage period of [`Client::energy_usage`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Period {
    /// Days; dates are `YYYYMMDD`.
    Daily,
    /// Months; dates are `YYYYMM`.
    Monthly,
}

impl Client {
    /// Starts configuring a client for a personal access token and the account's country.
    pub fn builder(token: impl Into<String>, country: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            token: token.into(),
            country: country.into(),
            client_id: None,
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            policy: RetryPolicy::default(),
            root_certificates: Vec::new(),
            connect_to: None,
            events: EventOptions::default(),
        }
    }

    /// Where requests go, ending in `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The region of the country given.
    pub fn region(&self) -> Region {
        self.inner.region
    }

    /// The `x-client-id` sent.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// `GET /route`.
    pub async fn route(&self) -> Result<Route, Error> {
        self.get_typed(Endpoint::GetRoute).await
    }

    /// `GET /devices`: the account's appliances.
    pub async fn devices(&self) -> Result<Vec<Device>, Error> {
        self.get_typed(Endpoint::GetDeviceList).await
    }

    /// `GET /devices/{id}/profile`: what the appliance has and accepts.
    pub async fn profile(&self, device_id: &str) -> Result<Profile, Error> {
        let endpoint = Endpoint::GetDeviceProfile;
        Ok(Profile::new(self.send(endpoint, device_id, "", None, Idempotency::Idempotent).await?))
    }

    /// `GET /devices/{id}/state`: the appliance's current state.
    pub async fn state(&self, device_id: &str) -> Result<State, Error> {
        let endpoint = Endpoint::GetDeviceStatus;
        Ok(State::new(self.send(endpoint, device_id, "", None, Idempotency::Idempotent).await?))
    }

    /// `POST /devices/{id}/control` with `x-conditional-control: true`. A control command is
    /// not idempotent: it is repeated only when the cloud refused it with a code whose advice
    /// allows it (2209, 2210, 2212...), never after a timeout or a broken connection.
    pub async fn control(&self, device_id: &str, command: &Value) -> Result<(), Error> {
        let endpoint = Endpoint::PostDeviceControl;
        self.send(endpoint, device_id, "", Some(command), Idempotency::NonIdempotent).await?;
        Ok(())
    }

    /// `GET /push`: the devices whose push messages this client receives.
    pub async fn push_list(&self) -> Result<Vec<String>, Error> {
        let refs: Vec<DeviceRef> = self.get_typed(Endpoint::GetPushList).await?;
        Ok(refs.into_iter().map(|r| r.device_id).collect())
    }

    /// `POST /push/{id}/subscribe`. 1207 when already subscribed.
    pub async fn push_subscribe(&self, device_id: &str) -> Result<(), Error> {
        let endpoint = Endpoint::PostPushSubscribe;
        self.send(endpoint, device_id, "", None, Idempotency::Idempotent).await.map(drop)
    }

    /// `DELETE /push/{id}/unsubscribe`.
    pub async fn push_unsubscribe(&self, device_id: &str) -> Result<(), Error> {
        let endpoint = Endpoint::DeletePushSubscribe;
        self.send(endpoint, device_id, "", None, Idempotency::Idempotent).await.map(drop)
    }

    /// `GET /push/devices`: the client ids subscribed to device add/remove pushes.
    pub async fn push_devices(&self) -> Result<Vec<Value>, Error> {
        self.get_typed(Endpoint::GetPushDevicesList).await
    }

    /// `POST /push/devices`.
    pub async fn push_devices_subscribe(&self) -> Result<(), Error> {
        let endpoint = Endpoint::PostPushDevicesSubscribe;
        self.send(endpoint, "", "", None, Idempotency::Idempotent).await.map(drop)
    }

    /// `DELETE /push/devices`.
    pub async fn push_devices_unsubscribe(&self) -> Result<(), Error> {
        let endpoint = Endpoint::DeletePushDevicesSubscribe;
        self.send(endpoint, "", "", None, Idempotency::Idempotent).await.map(drop)
    }

    /// `GET /event`: the devices whose state events this client receives.
    pub async fn event_list(&self) -> Result<Vec<String>, Error> {
        let refs: Vec<DeviceRef> = self.get_typed(Endpoint::GetEventList).await?;
        Ok(refs.into_iter().map(|r| r.device_id).collect())
    }

    /// `POST /event/{id}/subscribe` for `hours` (the SDK sends 4464).
    pub async fn event_subscribe(&self, device_id: &str, hours: u32) -> Result<(), Error> {
        let body = json!({ "expire": { "unit": "HOUR", "timer": hours } });
        let endpoint = Endpoint::PostEventSubscribe;
        self.send(endpoint, device_id, "", Some(&body), Idempotency::Idempotent).await.map(drop)
    }

    /// `DELETE /event/{id}/unsubscribe`.
    pub async fn event_unsubscribe(&self, device_id: &str) -> Result<(), Error> {
        let endpoint = Endpoint::DeleteEventSubscribe;
        self.send(endpoint, device_id, "", None, Idempotency::Idempotent).await.map(drop)
    }

    /// `POST /client`: registers this client id for MQTT, as the SDK does.
    pub async fn register_client(&self) -> Result<(), Error> {
        let body = client_body();
        let endpoint = Endpoint::PostClientRegister;
        self.send(endpoint, "", "", Some(&body), Idempotency::Idempotent).await.map(drop)
    }

    /// `DELETE /client` (with the same body, as the SDK sends it).
    pub async fn unregister_client(&self) -> Result<(), Error> {
        let body = client_body();
        let endpoint = Endpoint::DeleteClientRegister;
        self.send(endpoint, "", "", Some(&body), Idempotency::Idempotent).await.map(drop)
    }

    /// `POST /client/certificate` with a CSR (PEM body without header and footer lines):
    /// `{"resultCode", "result": {"certificatePem", "subscriptions"}}`.
    pub async fn client_certificate(&self, csr: &str) -> Result<Value, Error> {
        let body = json!({ "service-code": "SVC202", "csr": csr });
        let endpoint = Endpoint::PostClientCertificate;
        self.send(endpoint, "", "", Some(&body), Idempotency::Idempotent).await
    }

    /// `GET /devices/energy/{id}/profile` (in the SDK, not in LG's spec).
    pub async fn energy_profile(&self, device_id: &str) -> Result<Value, Error> {
        let endpoint = Endpoint::GetDeviceEnergyProfile;
        self.send(endpoint, device_id, "", None, Idempotency::Idempotent).await
    }

    /// `GET /devices/energy/{id}/usage` of `energyUsage` from `start` to `end` (`YYYYMMDD` for
    /// [`Period::Daily`], `YYYYMM` for [`Period::Monthly`]).
    pub async fn energy_usage(
        &self,
        device_id: &str,
        period: Period,
        start: &str,
        end: &str,
    ) -> Result<Value, Error> {
        let (name, digits) = match period {
            Period::Daily => ("DAILY", 8),
            Period::Monthly => ("MONTHLY", 6),
        };
        for date in [start, end] {
            if date.len() != digits || !date.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::new(Failure::new(
                    API,
                    FailureKind::Usage,
                    format!(
                        "date {date:?} is not {digits} digits; {name} takes {}",
                        if digits == 8 { "YYYYMMDD" } else { "YYYYMM" }
                    ),
                )));
            }
        }
        let query = format!("property=energyUsage&period={name}&startDate={start}&endDate={end}");
        let endpoint = Endpoint::GetDeviceEnergyUsage;
        self.send(endpoint, device_id, &query, None, Idempotency::Idempotent).await
    }

    /// Any endpoint: `path` relative to the base URL (`devices`, `devices/ID/state`), with an
    /// optional JSON body. Returns `response` as sent.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
    ) -> Result<Value, Error> {
        self.request(method, path.trim_start_matches('/'), body, idempotency).await
    }

    /// One call of `endpoint` (its path and method from [`Endpoint`]'s table) for the device
    /// `device_id`, checked to be one path segment (ignored by an endpoint naming no device),
    /// with `query` (empty for none).
    async fn send(
        &self,
        endpoint: Endpoint,
        device_id: &str,
        query: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
    ) -> Result<Value, Error> {
        let id = if endpoint.names_device() { segment(device_id)? } else { device_id };
        let mut path = endpoint.path_for(id);
        path.remove(0); // relative to the base URL, which ends in '/'
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let method = match endpoint.method() {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        self.request(method, &path, body, idempotency).await
    }

    async fn get_typed<T: DeserializeOwned>(&self, endpoint: Endpoint) -> Result<T, Error> {
        let path = endpoint.template().trim_start_matches('/');
        let response = self.send(endpoint, "", "", None, Idempotency::Idempotent).await?;
        serde_json::from_value(response.clone()).map_err(|e| {
            let mut text = response.to_string();
            text.truncate(160);
            Error::new(
                Failure::new(
                    API,
                    FailureKind::Protocol,
                    format!("GET /{path} answered {text}, which is not the documented shape ({e})"),
                )
                .with_outcome_unknown(false),
            )
        })
    }

    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
    ) -> Result<Value, Error> {
        let call = format!("{method} /{path}");
        self.inner
            .policy
            .run(
                &call,
                idempotency,
                |_| self.attempt(method.clone(), path, body),
                tokio::time::sleep,
            )
            .await
            .map_err(Error::new)
    }

    /// One exchange with a fresh message id.
    async fn attempt(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let message_id =
            new_message_id().map_err(|e| Failure::new(API, FailureKind::Usage, e.to_string()))?;
        let control = Endpoint::PostDeviceControl;
        let bare = path.split('?').next().unwrap_or(path);
        let is_control = method.as_str() == control.method().as_str()
            && control.device_in(&format!("/{bare}")).is_some();
        let mut request = self
            .inner
            .http
            .request(method, format!("{}{path}", self.inner.base))
            .header("Authorization", format!("Bearer {}", self.inner.token))
            .header("x-country", &self.inner.country)
            .header("x-message-id", &message_id)
            .header("x-client-id", &self.inner.client_id)
            .header("x-api-key", API_KEY)
            .header("x-service-phase", "OP");
        if is_control {
            request = request.header("x-conditional-control", "true");
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| transport_failure(e, &message_id))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_failure(e, &message_id).with_status(status))?;
        let reply = wire::decode_response(
            status,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            &bytes,
            Some(&message_id),
        );
        let failure = |kind, message: String| {
            Failure::new(API, kind, message)
                .with_status(status)
                .with_request_id(message_id.clone())
                .with_retry_after(reply.retry_after)
        };
        if let Some(echo) = &reply.message_id
            && *echo != message_id
        {
            return Err(failure(
                FailureKind::Protocol,
                format!(
                    "the reply's messageId {echo:?} does not echo the request's x-message-id {message_id:?}"
                ),
            ));
        }
        match reply.body {
            ResponseBody::Success { response: Some(response) } => Ok(response),
            ResponseBody::Success { response: None } => Err(failure(
                FailureKind::Protocol,
                format!("HTTP {status} with an envelope without `response`"),
            )),
            ResponseBody::Error(error) => {
                let code = error.code.to_string();
                let mut f = failure(FailureKind::Api, error.message.clone())
                    .with_code(code, error.entry)
                    .with_outcome_unknown(false);
                if error.entry.is_none() {
                    f = f.with_class(Class::Unknown).with_retry(retry_for_status(status));
                }
                Err(f)
            }
            ResponseBody::Bare | ResponseBody::Unreadable { .. } => {
                let what = match &reply.body {
                    ResponseBody::Unreadable { reason, excerpt } => {
                        format!("{reason}: {excerpt:?}")
                    }
                    _ => "an empty body".to_owned(),
                };
                let kind = if status >= 400 { FailureKind::Http } else { FailureKind::Unreadable };
                let mut f = failure(kind, format!("HTTP {status} with {what}"));
                if status >= 400 {
                    f = f.with_retry(retry_for_status(status)).with_outcome_unknown(status >= 500);
                }
                Err(f)
            }
        }
    }
}

/// The advice for a status without a listed code: a server-side failure may pass, a client
/// error will not.
fn retry_for_status(status: u16) -> Retry {
    match status {
        429 | 500..=599 => Retry::BackOff,
        _ => Retry::Never,
    }
}

fn client_body() -> Value {
    json!({ "type": "MQTT", "service-code": "SVC202", "device-type": "607", "allowExist": true })
}

/// A device id as one path segment; anything that would change the path is refused.
fn segment(device_id: &str) -> Result<&str, Error> {
    let ok = !device_id.is_empty()
        && device_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
        && device_id != "."
        && device_id != "..";
    if ok {
        Ok(device_id)
    } else {
        Err(Error::new(Failure::new(
            API,
            FailureKind::Usage,
            format!(
                "device id {device_id:?} is not one path segment of A-Z a-z 0-9 - _ . ~; take it from devices()"
            ),
        )))
    }
}

/// 16 random bytes from the operating system.
pub(crate) fn random_bytes() -> Result<[u8; 16], getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// A random UUID v4 as 32 hex digits.
fn random_uuid_hex() -> Result<String, getrandom::Error> {
    Ok(uuid4(random_bytes()?).iter().map(|b| format!("{b:02x}")).collect())
}

/// Sets the version (4) and variant (RFC 4122) bits.
fn uuid4(mut bytes: [u8; 16]) -> [u8; 16] {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

/// A fresh `x-message-id`: a random UUID v4, url-safe base64 without padding (22 characters),
/// as the SDK makes it.
///
/// ```
/// use devfault_thinq::client::new_message_id;
/// use devfault_thinq::wire::check_message_id;
/// let a = new_message_id().expect("randomness");
/// let b = new_message_id().expect("randomness");
/// assert!(check_message_id(&a).is_ok() && a.len() == 22 && a != b);
/// ```
pub fn new_message_id() -> Result<String, getrandom::Error> {
    Ok(wire::message_id_from_uuid(uuid4(random_bytes()?)))
}

fn transport_failure(error: reqwest::Error, request_id: &str) -> Failure {
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
    Failure::new(API, kind, message)
        .with_request_id(request_id)
        .with_outcome_unknown(unknown)
        .with_source(error)
}

/// Every failure of the ThinQ client: the shared [`Failure`] (read its fields through
/// `Deref`), which keeps the HTTP status the SDK drops, plus ThinQ's own questions.
///
/// ```
/// use devfault_thinq::client::Error;
/// use devfault_thinq::Code;
/// use devfault_core::{Class, Failure, FailureKind};
/// let limited = Error::from_failure(Failure::new("thinq", FailureKind::Api, "Exceeded User API calls")
///     .with_code("1314", Code::EXCEEDED_USER_API_CALLS.entry_opt()).with_status(401));
/// assert!(limited.is_rate_limit());
/// assert_eq!((limited.class, limited.status), (Class::RateLimit, Some(401)));
/// ```
#[derive(Clone, Debug)]
pub struct Error {
    failure: Box<Failure>,
}

impl Error {
    pub(crate) fn new(failure: Failure) -> Error {
        Error { failure: Box::new(failure) }
    }

    /// Wraps a failure (for callers that build errors of their own, and tests).
    pub fn from_failure(failure: Failure) -> Error {
        Error::new(failure)
    }

    /// The shared failure record.
    pub fn failure(&self) -> &Failure {
        &self.failure
    }

    /// The code, when the registry lists it.
    pub fn code(&self) -> Option<Code> {
        self.failure.entry.and_then(|e| Code::new(e.code))
    }

    /// The registry row of the code.
    pub fn entry(&self) -> Option<&'static Entry> {
        self.failure.entry
    }

    /// True for a rate limit (1314 as the live cloud sends it, 1306 as the SDK names it):
    /// [`Failure::reopens`] says when the window reopens.
    pub fn is_rate_limit(&self) -> bool {
        self.failure.class == Class::RateLimit
    }

    /// True when the appliance is powered off (2304): power it on first.
    pub fn is_powered_off(&self) -> bool {
        self.code() == Some(Code::COMMAND_NOT_SUPPORTED_IN_POWER_OFF)
    }

    /// True when the appliance is offline to LG's cloud (1222).
    pub fn is_not_connected(&self) -> bool {
        self.code() == Some(Code::NOT_CONNECTED_DEVICE)
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
        self.failure.fmt(f)
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
    fn message_ids_are_fresh_valid_uuid4s() {
        let ids: Vec<String> = (0..64).map(|_| new_message_id().expect("randomness")).collect();
        for id in &ids {
            let uuid = wire::check_message_id(id).expect("valid");
            assert_eq!(uuid[6] >> 4, 4);
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn the_token_stays_out_of_debug() {
        let builder = Client::builder("thinqpat-s3cret", "US");
        assert!(!format!("{builder:?}").contains("s3cret"));
        let client = builder.build().expect("valid");
        let text = format!("{client:?}");
        assert!(!text.contains("s3cret") && text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn device_ids_cannot_change_the_path() {
        assert!(segment("ac-living-room").is_ok());
        for bad in ["", "..", "a/b", "a?b", "a b"] {
            let err = segment(bad).expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn a_bad_token_is_refused_before_anything_is_sent() {
        let err = Client::builder("has space", "US").build().expect_err("bad token");
        assert_eq!(err.kind, FailureKind::Usage);
        let long = "a".repeat(513);
        assert!(Client::builder(long, "US").build().is_err());
        let err = Client::builder("t", "US").base_url("ftp://x").build().expect_err("scheme");
        assert!(err.to_string().contains("ftp://x"), "{err}");
    }

    #[test]
    fn unlisted_codes_get_advice_from_the_status() {
        assert_eq!(retry_for_status(503), Retry::BackOff);
        assert_eq!(retry_for_status(404), Retry::Never);
    }
}
