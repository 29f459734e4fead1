//! The integration test binary: the `devfault` command as a user runs it.

mod api;
mod check;
mod check_stream;
mod cli;
mod client_bravia;
mod client_thinq;
mod client_thinq_events;
mod dashboard;
mod decode;
mod hardening;
mod lint;
mod report;
mod serve;
mod util;
