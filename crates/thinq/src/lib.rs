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
pub mod region;
#[cfg(feature = "client")]
mod resources;
mod table;
pub mod wire;

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use devfault_core::{CodeError, CodeSpace, Entry, Registry, Spec};

/// A ThinQ error code: any value of the `0000`–`9999` space, known to the page or not.
///
/// The documented codes are associated constants (`Code::NOT_CONNECTED_DEVICE`); a code read
/// off the wire that the page does not list is still a `Code`, and [`Code::entry_opt`] says
/// so with `None`. It is always written with four digits: `Code::UNKNOWN_ERROR` is `0000`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Code(u16);

impl Code {
    /// The code `value`.
    ///
    /// # Panics
    /// Above 9999, which no four-digit code can be; in a `const` this is a compile error:
    ///
    /// ```compile_fail
    /// const TOO_BIG: devfault_thinq::Code = devfault_thinq::Code::from_static(10000);
    /// ```
    pub const fn from_static(value: u16) -> Code {
        assert!(value <= 9999, "a ThinQ code has four digits: 0000-9999");
        Code(value)
    }

    /// The code `value`, or `None` above 9999.
    pub fn new(value: u32) -> Option<Code> {
        u16::try_from(value).ok().filter(|&v| v <= 9999).map(Code)
    }

    /// The numeric value (`"0000"` is 0).
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The row that answers for this code, if the registry has one.
    pub fn entry_opt(self) -> Option<&'static Entry> {
        registry().get(u32::from(self.0))
    }

    /// The documented row of one of the associated constants.
    ///
    /// # Panics
    /// Never for the associated constants (a test checks each); for any other code use
    /// [`Code::entry_opt`].
    pub fn entry(self) -> &'static Entry {
        match self.entry_opt() {
            Some(entry) => entry,
            None => panic!("ThinQ code {self} has no registry entry; use Code::entry_opt"),
        }
    }
}

impl Code {
    /// `1314` Exceeded User API calls: the per-user rate limit of the live cloud, sent with
    /// HTTP 401. Not in LG's page nor in its SDK; an observed row of [`registry()`].
    pub const EXCEEDED_USER_API_CALLS: Code = Code::from_static(1314);
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

impl FromStr for Code {
    type Err = CodeError;

    /// Exactly four digits, as the wire has them: `"0000"`, `"1222"`.
    fn from_str(text: &str) -> Result<Code, CodeError> {
        let value = SPACE.parse(text)?;
        Ok(Code(u16::try_from(value).unwrap_or(u16::MAX)))
    }
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
    (
        "observed",
        &[
            ("en", "Observed in the field (not in the documentation)"),
            ("ja", "実機で確認されたコード（ドキュメント未記載）"),
        ],
    ),
];

/// The definition of the built-in registry, from the tables above.
pub fn spec() -> Spec {
    Spec::builtin(API, NAME, SPACE, AREAS, GROUPS, &[table::DOCUMENTED, table::OBSERVED])
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| match Registry::new(spec()) {
    Ok(registry) => registry,
    // The tables are constants checked by this crate's tests; this cannot happen at run time.
    Err(problems) => panic!("the built-in ThinQ table is inconsistent: {problems:?}"),
});

/// The built-in ThinQ registry, built on first use.
pub fn registry() -> &'static Registry {
    &REGISTRY
}

#[cfg(test)]
mod tests;
