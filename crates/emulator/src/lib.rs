//! devfault-emulator: virtual devices that speak the BRAVIA and ThinQ Connect APIs, with real
//! state, every documented code reachable, and fault injection for what real hardware will not
//! do on demand.
#![deny(missing_docs)]

pub mod admin;
pub mod admin_guard;
mod body;
pub mod bravia;
pub mod codec;
pub mod connections;
pub mod dashboard;
pub mod device;
pub mod faults;
pub mod journal;
pub mod scenario;
pub mod server;
#[cfg(test)]
mod testkit;
pub mod thinq;
pub mod tls;
