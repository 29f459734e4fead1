//! The ThinQ cloud's real-time half: what AWS IoT Core does for LG. A certificate authority
//! ([`ca`]) issues the client certificates `POST /client/certificate` hands out; an MQTT 3.1.1
//! broker with mutual TLS ([`broker`]) lets each ThinQ client subscribe to its own topic
//! `app/clients/{clientId}/push`; sessions (`session.rs`) keep what a `clean_session=false`
//! client misses; [`events`] writes the payloads. The [`Hub`] ties them to the cloud: the
//! router registers clients there, the appliances publish their changes there.
//!
//! Who gets what: an appliance's `DEVICE_STATUS` goes to its owner's registered clients while
//! the appliance's event subscription (`POST /event/{id}/subscribe`) is unexpired; its
//! `DEVICE_PUSH` while its push subscription (`POST /push/{id}/subscribe`) holds; lifecycle
//! events (`DEVICE_ALIAS_CHANGED`...) go to the owner's clients that asked with
//! `POST /push/devices`. A client receives only once connected and subscribed (or away with a
//! persistent session that had subscribed).

pub mod broker;
pub mod ca;
pub mod events;
pub mod faults;
pub(crate) mod session;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::faults::{ActionKind, Faults};
use crate::journal::{Delivery, Journal, JournalEntry, RecordedRequest, now_rfc3339};
use ca::{CaError, CloudCa};
use events::{Event, PayloadStyle};
use session::Session;

use super::lock;

/// The API name MQTT entries carry in the journal, and fault rules of the event path name.
pub const API: &str = "thinq-mqtt";

/// The topic of a client: the only one it may subscribe to, and the one events go to.
pub fn topic_of(client_id: &str) -> String {
    format!("app/clients/{client_id}/push")
}

/// A registered ThinQ client: whose it is, and whether it asked for lifecycle events.
#[derive(Clone, Copy, Debug)]
struct ClientEntry {
    user: u32,
    lifecycle: bool,
}

/// Counters of the event path, for the admin API and the benchmark.
#[derive(Debug, Default)]
pub struct Counters {
    /// Events published (one per event, whatever the number of recipients).
    pub events: AtomicU64,
    /// Messages queued for a session (one per recipient).
    pub queued: AtomicU64,
    /// MQTT connections accepted (CONNACK 0).
    pub connections: AtomicU64,
    /// CONNECTs refused.
    pub refused: AtomicU64,
}

/// The event path's shared state.
#[derive(Debug, Default)]
pub struct Hub {
    ca: OnceLock<Arc<CloudCa>>,
    clients: Mutex<HashMap<String, ClientEntry>>,
    by_user: Mutex<HashMap<u32, BTreeSet<String>>>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    style: AtomicU8,
    journal: OnceLock<Arc<Journal>>,
    faults: OnceLock<Arc<Faults>>,
    addr: OnceLock<SocketAddr>,
    /// Itself, for deliveries a `delay` rule postpones (set by [`Hub::new`]).
    me: OnceLock<std::sync::Weak<Hub>>,
    next_message: AtomicU64,
    /// What went through.
    pub counters: Counters,
}

impl Hub {
    /// A hub that knows itself (delayed deliveries hold it weakly).
    pub fn new() -> Arc<Hub> {
        let hub = Arc::new(Hub::default());
        let _ = hub.me.set(Arc::downgrade(&hub));
        hub
    }

    /// The CA, made now if none was set or made yet.
    pub fn ca(&self) -> Result<Arc<CloudCa>, CaError> {
        if let Some(ca) = self.ca.get() {
            return Ok(Arc::clone(ca));
        }
        let made = Arc::new(CloudCa::generate()?);
        let _ = self.ca.set(made);
        self.ca.get().cloned().ok_or_else(|| CaError("the CA vanished".to_owned()))
    }

    /// Uses `ca` (loaded by `--thinq-ca`); an error once a CA was made or set.
    pub fn set_ca(&self, ca: CloudCa) -> Result<(), CaError> {
        self.ca
            .set(Arc::new(ca))
            .map_err(|_| CaError("the cloud's CA was made already; set it first".to_owned()))
    }

    /// Where the broker listens (for `/route`); the first call wins.
    pub fn set_addr(&self, addr: SocketAddr) {
        let _ = self.addr.set(addr);
    }

    /// Where the broker listens, once told.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr.get().copied()
    }

    /// The journal MQTT exchanges go to (`serve` sets it).
    pub fn set_journal(&self, journal: Arc<Journal>) {
        let _ = self.journal.set(journal);
    }

    /// The fault rules the event path consults (`serve` sets them).
    pub fn set_faults(&self, faults: Arc<Faults>) {
        let _ = self.faults.set(faults);
    }

    pub(crate) fn faults(&self) -> Option<&Arc<Faults>> {
        self.faults.get()
    }

    /// How payloads are written now.
    pub fn style(&self) -> PayloadStyle {
        match self.style.load(Ordering::Relaxed) {
            1 => PayloadStyle::Wrapped,
            _ => PayloadStyle::Flat,
        }
    }

    /// Writes payloads in `style` from now on.
    pub fn set_style(&self, style: PayloadStyle) {
        self.style.store(u8::from(style == PayloadStyle::Wrapped), Ordering::Relaxed);
    }

    /// `POST /client`: `client_id` belongs to `user` (0-based; registering again is fine),
    /// with lifecycle events when it asked for them (`POST /push/devices`, before or after).
    pub fn register(&self, user: u32, client_id: &str, lifecycle: bool) {
        let previous =
            lock(&self.clients).insert(client_id.to_owned(), ClientEntry { user, lifecycle });
        let mut by_user = lock(&self.by_user);
        if let Some(previous) = previous
            && let Some(set) = by_user.get_mut(&previous.user)
        {
            set.remove(client_id);
        }
        by_user.entry(user).or_default().insert(client_id.to_owned());
    }

    /// `DELETE /client`: the client is forgotten and its session ended.
    pub(crate) fn unregister(&self, client_id: &str) {
        // One lock at a time: `publish` takes `by_user` before `clients`.
        let entry = lock(&self.clients).remove(client_id);
        if let Some(entry) = entry
            && let Some(set) = lock(&self.by_user).get_mut(&entry.user)
        {
            set.remove(client_id);
        }
        if let Some(session) = lock(&self.sessions).remove(client_id) {
            lock(&session.state).connection = None;
            session.bell.notify_one();
        }
    }

    /// `POST`/`DELETE /push/devices`: lifecycle events for the client, on or off.
    pub(crate) fn set_lifecycle(&self, client_id: &str, on: bool) {
        if let Some(entry) = lock(&self.clients).get_mut(client_id) {
            entry.lifecycle = on;
        }
    }

    /// The user who registered `client_id`.
    pub fn user_of(&self, client_id: &str) -> Option<u32> {
        lock(&self.clients).get(client_id).map(|entry| entry.user)
    }

    /// Forgets every client and session (the admin API's reset).
    pub fn reset(&self) {
        lock(&self.clients).clear();
        lock(&self.by_user).clear();
        let sessions: Vec<Arc<Session>> = lock(&self.sessions).drain().map(|(_, s)| s).collect();
        for session in sessions {
            lock(&session.state).connection = None;
            session.bell.notify_one();
        }
        self.set_style(PayloadStyle::Flat);
    }

    /// The session of `client_id`, made when it has none.
    pub(crate) fn session(&self, client_id: &str) -> Arc<Session> {
        Arc::clone(
            lock(&self.sessions)
                .entry(client_id.to_owned())
                .or_insert_with(|| Arc::new(Session::new(client_id))),
        )
    }

    /// Ends a session that is not persistent (its connection closed).
    pub(crate) fn end_session(&self, client_id: &str, connection: u64) {
        let mut sessions = lock(&self.sessions);
        let Some(session) = sessions.get(client_id) else { return };
        let mut state = lock(&session.state);
        if state.connection != Some(connection) {
            return;
        }
        state.connection = None;
        if !state.persistent {
            drop(state);
            sessions.remove(client_id);
        }
    }

    /// Publishes `event` to the clients of `owner` (all registered ones, or only those that
    /// asked for lifecycle events); answers how many sessions took it.
    pub fn publish(&self, owner: u32, event: &Event, lifecycle_only: bool) -> usize {
        self.counters.events.fetch_add(1, Ordering::Relaxed);
        let recipients: Vec<String> = {
            let by_user = lock(&self.by_user);
            let Some(ids) = by_user.get(&owner) else { return 0 };
            if lifecycle_only {
                let clients = lock(&self.clients);
                ids.iter()
                    .filter(|id| clients.get(*id).is_some_and(|c| c.lifecycle))
                    .cloned()
                    .collect()
            } else {
                ids.iter().cloned().collect()
            }
        };
        if recipients.is_empty() {
            return 0;
        }
        let n = self.next_message.fetch_add(1, Ordering::Relaxed);
        let message_id = format!("devfault-event-{n:016}");
        let users = [format!("devfault-user-{}", owner + 1)];
        let topic = topic_of(&recipients[0]);
        let rule = faults::decide(
            self.faults(),
            "PUBLISH",
            &event.device_id,
            &topic,
            Some(&event.push_type),
        );
        let action = rule.as_ref().map(|r| r.spec.action);
        let payload = match action {
            Some(ActionKind::NonJsonBody) => {
                let mut bare = event.clone();
                bare.device_type = None;
                Bytes::from(bare.payload(&users, self.style(), &message_id))
            }
            _ => Bytes::from(event.payload(&users, self.style(), &message_id)),
        };
        match (action, rule.as_ref().and_then(|r| r.spec.delay_ms)) {
            (Some(ActionKind::NoAnswer), _) => {
                let why = format!("dropped by fault rule {}", rule.as_ref().map_or(0, |r| r.id));
                self.journal(
                    &event.device_id,
                    "PUBLISH",
                    &topic,
                    &[("x-mqtt-fault", &why)],
                    &payload,
                );
                0
            }
            (Some(ActionKind::MalformedBody), _) => {
                let half = payload.slice(..payload.len() / 2);
                self.deliver(&recipients, &half, &event.device_id)
            }
            (Some(ActionKind::Reset), _) => {
                self.deliver(&recipients, &payload, &event.device_id);
                self.deliver(&recipients, &payload, &event.device_id)
            }
            (Some(ActionKind::Delay), Some(ms)) if ms > 0 => {
                match (
                    tokio::runtime::Handle::try_current(),
                    self.me.get().and_then(std::sync::Weak::upgrade),
                ) {
                    (Ok(runtime), Some(hub)) => {
                        let device = event.device_id.clone();
                        let count = recipients.len();
                        runtime.spawn(async move {
                            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                            hub.deliver(&recipients, &payload, &device);
                        });
                        count
                    }
                    _ => self.deliver(&recipients, &payload, &event.device_id),
                }
            }
            _ => self.deliver(&recipients, &payload, &event.device_id),
        }
    }

    /// Offers a written payload to the sessions of `recipients`; answers how many took it.
    pub(crate) fn deliver(&self, recipients: &[String], payload: &Bytes, device: &str) -> usize {
        let sessions: Vec<Arc<Session>> = {
            let sessions = lock(&self.sessions);
            recipients.iter().filter_map(|id| sessions.get(id).cloned()).collect()
        };
        let mut taken = Vec::new();
        for session in &sessions {
            if session.offer(payload) {
                taken.push(session.client_id.as_str());
            }
        }
        self.counters.queued.fetch_add(taken.len() as u64, Ordering::Relaxed);
        if !taken.is_empty() {
            self.journal(
                device,
                "PUBLISH",
                &topic_of(taken[0]),
                &[("x-mqtt-recipients", &taken.join(","))],
                payload,
            );
        }
        taken.len()
    }

    /// The sessions and clients, for the admin API.
    pub fn state(&self) -> Value {
        let sessions: Vec<Value> = lock(&self.sessions)
            .values()
            .map(|session| {
                let state = lock(&session.state);
                json!({
                    "client_id": session.client_id,
                    "connected": state.connection.is_some(),
                    "persistent": state.persistent,
                    "subscribed": state.subscribed.is_some(),
                    "queued": state.queue.len(),
                    "in_flight": state.in_flight.len(),
                    "dropped": state.dropped,
                })
            })
            .collect();
        json!({
            "addr": self.addr().map(|a| a.to_string()),
            "event_payload": self.style().as_str(),
            "sessions": sessions,
            "events": self.counters.events.load(Ordering::Relaxed),
            "queued": self.counters.queued.load(Ordering::Relaxed),
            "connections": self.counters.connections.load(Ordering::Relaxed),
            "refused": self.counters.refused.load(Ordering::Relaxed),
        })
    }

    /// Records an MQTT exchange in the journal: `method` (`CONNECT`, `PUBLISH`...), the topic
    /// or client id as its path, header-like details (a password is redacted), the payload.
    pub(crate) fn journal(
        &self,
        device: &str,
        method: &str,
        path: &str,
        details: &[(&str, &str)],
        body: &[u8],
    ) {
        let Some(journal) = self.journal.get() else { return };
        let mut headers = HeaderMap::new();
        for (name, value) in details {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            {
                headers.insert(name, value);
            }
        }
        journal.record(JournalEntry {
            seq: 0,
            time: now_rfc3339(),
            device: device.to_owned(),
            api: API.to_owned(),
            request: RecordedRequest::new(method, path, &headers, body),
            outcome: Delivery::Answered,
            response: None,
            decoded: None,
            violations: Vec::new(),
            fault: None,
            duration_ms: 0,
        });
    }
}

#[cfg(test)]
mod tests;
