//! What every virtual device offers the admin API: its identity, its state as JSON, a way to
//! change that state, and the list of how to provoke each code it can answer with.

use serde::Serialize;
use serde_json::Value;

/// A virtual device as the admin API sees it.
pub trait Device: Send + Sync {
    /// Stable id within its emulator (`bravia-0`, an appliance's deviceId).
    fn id(&self) -> &str;

    /// The API it speaks: `bravia` or `thinq`.
    fn api(&self) -> &'static str;

    /// The device's whole state, as the admin API shows it.
    fn state(&self) -> Value;

    /// Applies a partial state (`{"power": "standby", "volume": {"speaker": 30}}`); the error
    /// names the offending member and what would be accepted.
    fn set_state(&self, patch: &Value) -> Result<(), String>;

    /// Back to the state the device started with.
    fn reset(&self);

    /// For each code the device can answer with: how to provoke it.
    fn provocations(&self) -> Vec<Provocation>;

    /// The PIN the device shows on its screen right now (a BRAVIA display during
    /// `accessControl.actRegister`), for the admin API; `None` when it shows none or has no
    /// screen.
    fn pin(&self) -> Option<String> {
        None
    }

    /// Publishes a custom event now (admin `POST /devices/{id}/events`): what was sent, or
    /// why not. Devices without an event path refuse.
    fn publish_event(&self, event: &Value) -> Result<Value, String> {
        let _ = event;
        Err(format!("{} publishes no events (only ThinQ appliances do)", self.id()))
    }

    /// The certificate authority's PEM, for a device that runs one (the ThinQ cloud).
    fn ca_pem(&self) -> Option<String> {
        None
    }
}

/// How to make a device answer with one code.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Provocation {
    /// The code as written on the wire (`40801`, `2304`).
    pub code: String,
    /// `natural` (a request in the right situation) or `fault` (a fault rule).
    pub via: &'static str,
    /// What to do, concretely: the request and, where needed, the state to set first.
    pub how: String,
}
