//! devfault-thinq: the error-code system of LG's ThinQ Connect API.
//!
//! Every code of LG's "Common Response" page ("Error Code of ThinQ Connect APIs") is a
//! [`Code`] constant and a row of [`registry()`], with the page's text (which ThinQ also sends
//! as `error.message`), description and HTTP status, plus devfault's class, retry advice and
//! advice text. Codes are four-digit strings on the wire (`{"code": "0000"}`), and [`Code`]
//! always writes them so. Codes the live cloud sends but the page does not list
//! (`"1314"` "Exceeded User API calls") are there too, marked
//! [`Source::Observed`](devfault_core::Source::Observed).
//!
//! [`wire`] reads and writes the JSON envelope replies travel in, reporting every departure
//! from LG's documents as a finding.
//!
//! ```
//! use devfault_thinq::{Code, registry};
//! use devfault_core::{Class, Retry};
//!
//! let entry = Code::COMMAND_NOT_SUPPORTED_IN_POWER_OFF.entry();
//! assert_eq!(entry.message, "Command not supported in POWER OFF");
//! assert_eq!(entry.http_status.as_u16(), 400);
//! assert_eq!((entry.class, entry.retry), (Class::DeviceState, Retry::AfterStateChange));
//!
//! let state = Code::COMMAND_NOT_SUPPORTED_IN_STATE.entry();
//! assert_eq!(state.render("HEAT").as_deref(), Ok("Command not supported in HEAT"));
//!
//! assert_eq!(Code::UNKNOWN_ERROR.to_string(), "0000");
//! assert_eq!("1222".parse::<Code>(), Ok(Code::NOT_CONNECTED_DEVICE));
//! assert_eq!(registry().area_of(1222).map(|a| a.name.as_str()), Some("Resources"));
//! ```
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
pub mod detect;
pub mod endpoint;
pub mod event;
#[cfg(feature = "client")]
pub mod event_stream;
pub mod region;
#[cfg(feature = "client")]
mod resources;
mod table;
pub mod wire;

use devfault_core::CodeSpace;
// The crate's tests (`use super::*`) name these.
#[cfg(test)]
use devfault_core::{Entry, Registry};

devfault_core::code_type! {
    /// A ThinQ error code: any value of the `0000`–`9999` space, known to the page or not.
    ///
    /// The documented codes are associated constants (`Code::NOT_CONNECTED_DEVICE`); a code read
    /// off the wire that the page does not list is still a `Code`, and [`Code::entry_opt`] says
    /// so with `None`. It is always written with four digits: `Code::UNKNOWN_ERROR` is `0000`.
    pub struct Code(u16) up to 9999 else "a ThinQ code has four digits: 0000-9999", written "{:04}";
    vendor: "ThinQ";
    /// The code `value`.
    ///
    /// # Panics
    /// Above 9999, which no four-digit code can be; in a `const` this is a compile error:
    ///
    /// ```compile_fail
    /// const TOO_BIG: devfault_thinq::Code = devfault_thinq::Code::from_static(10000);
    /// ```
    fn from_static;
    /// The numeric value (`"0000"` is 0).
    fn as_u16;
    registry from API, NAME, SPACE, AREAS, GROUPS, [table::DOCUMENTED, table::OBSERVED];
}

impl Code {
    /// `1314` Exceeded User API calls: the per-user rate limit of the live cloud, sent with
    /// HTTP 401. Not in LG's page nor in its SDK; an observed row of [`registry()`].
    pub const EXCEEDED_USER_API_CALLS: Code = Code::from_static(1314);
}

/// The API id used on the command line and in JSON (`"api": "thinq"`).
pub const API: &str = "thinq";

/// The API's name.
pub const NAME: &str = "LG ThinQ Connect API";

/// Codes are strings of exactly four digits, `0000` to `9999`.
pub const SPACE: CodeSpace = CodeSpace::digits(4);

/// The code classes of the page's rule table, named as it names them. The table writes the
/// client and server classes as "1000" and "2000"; they are the 1xxx and 2xxx families.
/// `0000` lies in none of them (its row says so), and 1000–1099, 1400–1999 are left
/// unallocated inside "Client Error".
const AREAS: &[(&str, u32, u32)] = &[
    ("Client Error", 1000, 1999),
    ("Parameter", 1100, 1199),
    ("Resources", 1200, 1299),
    ("Authority", 1300, 1399),
    ("Server Error", 2000, 2999),
];

/// The page's one code table, and devfault's own group for rows observed in the field. The
/// page has no Japanese edition, so its group has only the English title (and
/// [`Group::title`](devfault_core::Group::title) falls back to it).
const GROUPS: &[(&str, &[(&str, &str)])] = &[
    ("error_codes", &[("en", "Error Code of ThinQ Connect APIs")]),
    devfault_core::OBSERVED_GROUP,
];

#[cfg(test)]
mod tests;
