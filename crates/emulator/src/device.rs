//! What every virtual device offers the admin API: its identity, its state as JSON, a way to
//! change that state, and the list of how to provoke each code it can answer with.

use std::sync::Arc;

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

    /// The provocations by API, for a device that speaks more than one (the ThinQ cloud: its
    /// REST API and its MQTT event path). Default: [`Device::provocations`] under
    /// [`Device::api`].
    fn provocations_by_api(&self) -> Vec<(&'static str, Vec<Provocation>)> {
        vec![(self.api(), self.provocations())]
    }

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

    /// The devices this one holds (a cloud's appliances), which the admin API lists after it
    /// and finds by id. They can change while it runs ([`Device::add_member`],
    /// [`Device::remove_member`]); the device's own reset restores them and resets each.
    fn members(&self) -> Vec<Arc<dyn Device>> {
        Vec::new()
    }

    /// The member with this id.
    fn member(&self, id: &str) -> Option<Arc<dyn Device>> {
        self.members().into_iter().find(|member| member.id() == id)
    }

    /// Adds a member from its JSON description (admin `POST /devices/{id}/members`): the
    /// member, or why not.
    fn add_member(&self, spec: &Value) -> Result<Arc<dyn Device>, String> {
        let _ = spec;
        Err(format!("{} holds no devices to add to (only the ThinQ cloud does)", self.id()))
    }

    /// True when `id` was a member removed since the start (the admin API's 404 says so).
    fn removed_member(&self, id: &str) -> bool {
        let _ = id;
        false
    }

    /// Removes the member `id` (admin `DELETE /devices/{id}`).
    fn remove_member(&self, id: &str) -> Result<(), String> {
        Err(format!("{} holds no device {id:?}", self.id()))
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
    /// The fault rule to add (admin `POST /faults` body), where the code or fault is not the
    /// registry's `code` action (the event path's faults); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Value>,
}
