//! Fault rules: make a virtual device answer what real hardware will not answer on demand.
//!
//! A [`RuleSpec`] says which requests it applies to ([`Match`]: API, device, service, RPC
//! method, path prefix, HTTP method) and what happens instead of the device's own answer
//! ([`ActionKind`]): any code of the device's API built by the vendor encoder, any HTTP status
//! with or without a body, a delay, a truncated JSON body, an HTML body, a connection reset,
//! or no answer at all. A rule fires with a probability (seeded, so a run can be replayed) and
//! at most `count` times, then expires.
//!
//! [`with_faults`] wraps a device's router: it reads each request, applies the first rule that
//! matches and fires, otherwise lets the device answer, and records the exchange in the
//! [`Journal`](crate::journal::Journal).
//!
//! The layer names no vendor: what it knows of an API (its codes, its encoder, how to read a
//! request and a response) comes through the [`ApiCodec`](crate::codec::ApiCodec) each vendor's
//! emulator registers with [`Faults::with_codec`]; adding an API touches nothing here.
//!
//! The rooms: [`rules`] (a rule as written and checked), [`set`] (the rule set and its seeded
//! draws), [`layer`] (the middleware around a device), [`listener`] (the TCP listener whose
//! connections a rule can reset).
//!
//! The JSON form of a rule, as the admin API and scenario files take it:
//!
//! ```
//! use devfault_emulator::faults::{Faults, RuleSpec};
//!
//! let faults = Faults::new(42).with_codecs(devfault_emulator::server::codecs());
//! let spec: RuleSpec = serde_json::from_str(
//!     r#"{"match": {"service": "system", "method": "getPowerStatus"},
//!         "action": "code", "code": 40000, "count": 1}"#,
//! )
//! .unwrap();
//! let rule = faults.add(spec).unwrap();
//! assert_eq!(rule.resolved.as_ref().map(|c| c.reason.as_str()), Some("Request Retry"));
//! ```

use std::time::Duration;

pub(crate) mod index;
pub mod layer;
pub mod listener;
pub mod rules;
pub mod set;

pub use crate::codec::json_error;
pub use layer::{BodyLimits, with_faults, with_faults_and_limits};
pub use listener::{ConnectionControl, FaultListener, FaultStream, serve_device};
pub use rules::{
    ActionKind, FORBIDDEN_HEADERS, FaultRule, Match, RequestInfo, RuleError, RuleSpec,
};
pub use set::{Faults, MAX_RULES, seed_from_clock};

/// How long a `no_answer` rule holds a request by default before closing the connection.
pub const DEFAULT_MAX_HOLD: Duration = Duration::from_secs(60);

/// The longest `delay_ms` a rule may ask for (10 minutes).
pub const MAX_DELAY_MS: u64 = 600_000;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod limits_tests;
