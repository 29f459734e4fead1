//! The integration test binary: the `devfault` command as a user runs it.

mod api;
mod cli;
mod lint;
mod util;
