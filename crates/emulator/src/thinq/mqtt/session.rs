//! One MQTT client's session, as the broker keeps it between connections: its subscription,
//! the messages waiting for it, those sent at QoS 1 and not yet acknowledged, and which
//! connection holds it now.
//!
//! A session of a `clean_session=false` client outlives its connection: messages published
//! meanwhile wait (at most [`MAX_QUEUED`]; past that the oldest is dropped and counted), and
//! unacknowledged ones are sent again, flagged DUP, when it reconnects. A clean session ends
//! with its connection.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::Notify;

use super::super::lock;

/// Messages a session holds for its client at most (queued and in flight); the oldest queued
/// one goes first when a new one would exceed it.
pub const MAX_QUEUED: usize = 1000;

/// QoS 1 messages sent and not yet acknowledged, at most; the rest wait in the queue.
pub const MAX_IN_FLIGHT: usize = 100;

/// A message for a session: the payload (shared by every recipient of one event).
pub(crate) type Message = Bytes;

/// What a session holds.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    /// Kept after the connection ends (`clean_session=false`).
    pub persistent: bool,
    /// The QoS the client subscribed its topic with (0 or 1), once it did.
    pub subscribed: Option<u8>,
    /// Waiting to be sent.
    pub queue: VecDeque<Message>,
    /// Sent at QoS 1, by packet id, not yet acknowledged.
    pub in_flight: BTreeMap<u16, Message>,
    /// The last packet id used.
    pub last_pkid: u16,
    /// The connection that holds the session now, by number.
    pub connection: Option<u64>,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
}

impl SessionState {
    /// The next packet id, 1..=65535, skipping ids still in flight.
    pub fn next_pkid(&mut self) -> u16 {
        for _ in 0..=u16::MAX {
            self.last_pkid = self.last_pkid.checked_add(1).unwrap_or(1);
            if !self.in_flight.contains_key(&self.last_pkid) {
                break;
            }
        }
        self.last_pkid
    }
}

/// A session: its state and the bell its connection waits on.
#[derive(Debug)]
pub(crate) struct Session {
    pub client_id: String,
    pub state: Mutex<SessionState>,
    pub bell: Notify,
}

impl Session {
    pub fn new(client_id: &str) -> Session {
        Session {
            client_id: client_id.to_owned(),
            state: Mutex::new(SessionState::default()),
            bell: Notify::new(),
        }
    }

    /// Queues a message for the client if it subscribed (connected or away with a persistent
    /// session), and wakes its connection. False when the session takes no messages.
    pub fn offer(&self, message: &Message) -> bool {
        let mut state = lock(&self.state);
        if state.subscribed.is_none() || (state.connection.is_none() && !state.persistent) {
            return false;
        }
        if state.queue.len() + state.in_flight.len() >= MAX_QUEUED {
            state.queue.pop_front();
            state.dropped += 1;
        }
        state.queue.push_back(message.clone());
        let connected = state.connection.is_some();
        drop(state);
        if connected {
            self.bell.notify_one();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_without_subscription_takes_nothing() {
        let session = Session::new("c");
        assert!(!session.offer(&Bytes::from_static(b"{}")));
        lock(&session.state).subscribed = Some(1);
        assert!(!session.offer(&Bytes::from_static(b"{}")), "clean and away");
        lock(&session.state).persistent = true;
        assert!(session.offer(&Bytes::from_static(b"{}")), "persistent, away");
    }

    #[test]
    fn the_queue_is_bounded_and_drops_the_oldest() {
        let session = Session::new("c");
        {
            let mut state = lock(&session.state);
            state.subscribed = Some(1);
            state.persistent = true;
        }
        for n in 0..MAX_QUEUED + 5 {
            session.offer(&Bytes::from(n.to_string()));
        }
        let state = lock(&session.state);
        assert_eq!(state.queue.len(), MAX_QUEUED);
        assert_eq!(state.dropped, 5);
        assert_eq!(state.queue.front().map(|m| m.as_ref()), Some(b"5".as_slice()));
    }

    #[test]
    fn packet_ids_skip_zero_and_those_in_flight() {
        let mut state = SessionState { last_pkid: u16::MAX, ..SessionState::default() };
        state.in_flight.insert(1, Bytes::new());
        assert_eq!(state.next_pkid(), 2);
    }
}
