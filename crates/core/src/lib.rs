//! devfault-core: the vendor-neutral model of an API's error-code system.
//!
//! A [`Registry`] holds one API's [`CodeSpace`], its [`Area`]s (nested ranges, with the holes
//! between them reported, never papered over), its [`Group`]s (the sections a document lists
//! codes under) and its [`Entry`]s. Every entry carries a [`Class`] (what kind of failure),
//! a [`Retry`] advice (whether and when to repeat) and a [`Source`] (documented, or observed in
//! the field). Registries come from a vendor crate's built-in table or from a user's TOML file
//! ([`Registry::from_toml`]), and [`lint`] reports every inconsistency of such a file.
#![deny(missing_docs)]

mod area;
pub mod calendar;
pub mod capture;
mod class;
mod entry;
mod failure;
mod finding;
mod http_message;
mod http_status;
mod reading;
mod registry;
mod retry;
mod retry_after;
mod table;
mod toml_file;
pub mod untrusted_json;

pub use area::{Area, CodeError, CodeErrorReason, CodeFormat, CodeSpace};
pub use class::{Class, Retry, Source, UnknownName};
pub use entry::{Entry, EntryDef, Group, Lang, TemplateError};
pub use failure::{Failure, FailureKind, Reopen};
pub use finding::{Finding, Severity};
pub use http_message::{HttpParseError, HttpResponse, has_status_line, parse_response};
pub use http_status::HttpStatus;
pub use reading::{Reading, ReadingKind};
pub use registry::{Hole, Located, Location, Problem, ProblemKind, Registry, Spec};
pub use retry::{Decision, Idempotency, RetryPolicy, StopReason};
pub use retry_after::RetryAfter;
pub use table::OBSERVED_GROUP;
pub use toml_file::lint;
