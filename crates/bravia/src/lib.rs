//! devfault-bravia: the error-code system of Sony's BRAVIA Professional Display REST API.
//!
//! Every code of Sony's "Error Code" page (English and Japanese editions) is a [`Code`]
//! constant and a row of [`registry()`], with the page's reason, message, explanation and the
//! HTTP status it travels with, plus devfault's class, retry advice and advice text. Rows that
//! real displays send but the page does not list (`[7, "not power-on"]`...) are there too,
//! marked [`Source::Observed`](devfault_core::Source::Observed).
//!
//! [`wire`] speaks the protocol: it checks requests against the code-5 rule, decodes any
//! response into a typed outcome with findings, and encodes error replies from registry rows.
//!
//! ```
//! use devfault_bravia::{Code, registry};
//! use devfault_core::{Class, Retry};
//!
//! let entry = Code::VOLUME_OUT_OF_RANGE.entry();
//! assert_eq!(entry.reason, "Volume Out of Range");
//! assert_eq!(entry.http_status.as_u16(), 200);
//! assert_eq!((entry.class, entry.retry), (Class::MalformedRequest, Retry::Never));
//! assert_eq!(registry().area_of(40801).map(|a| a.name.as_str()), Some("Audio service area."));
//! ```
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod client;
pub mod detect;
#[cfg(feature = "client")]
mod services;
mod table;
pub mod wire;

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use devfault_core::{CodeError, CodeSpace, Entry, Registry, Spec};

/// A BRAVIA error code: any value of the 0–65535 space, known to the page or not.
///
/// The documented codes are associated constants (`Code::VOLUME_OUT_OF_RANGE`); a code read
/// off the wire that the page does not list is still a `Code`, and [`Code::entry_opt`] says
/// so with `None`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Code(u16);

impl Code {
    /// The code `value`; every `u16` is a code of the BRAVIA space.
    pub const fn from_static(value: u16) -> Code {
        Code(value)
    }

    /// The code `value`, or `None` above 65535.
    pub fn new(value: u32) -> Option<Code> {
        u16::try_from(value).ok().map(Code)
    }

    /// The numeric value, as it stands in `{"error": [code, "reason"]}`.
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
            None => panic!("BRAVIA code {} has no registry entry; use Code::entry_opt", self.0),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Code {
    type Err = CodeError;

    fn from_str(text: &str) -> Result<Code, CodeError> {
        let value = SPACE.parse(text)?;
        Ok(Code(u16::try_from(value).unwrap_or(u16::MAX)))
    }
}

/// The API id used on the command line and in JSON (`"api": "bravia"`).
pub const API: &str = "bravia";

/// The API's name.
pub const NAME: &str = "Sony BRAVIA Professional Display REST API";

/// Codes are integers from 0 to 65535.
pub const SPACE: CodeSpace = CodeSpace::integer(0, 65535);

/// The allocation table of the page, all 18 rows as written (the two "contentSync service."
/// rows included). 41800–41999 is left unallocated by the page, and so here.
const AREAS: &[(&str, u32, u32)] = &[
    ("REST API system area", 0, 32767),
    ("user area", 32768, 65535),
    ("Unused areas.", 32768, 39999),
    ("Service common areas.", 40000, 40199),
    ("System service area.", 40200, 40399),
    ("Camera service area.", 40400, 40599),
    ("videoScreen service area.", 40600, 40799),
    ("Audio service area.", 40800, 40999),
    ("avContent service area.", 41000, 41199),
    ("Recording service area.", 41200, 41399),
    ("appControl service area.", 41400, 41599),
    ("Browser service area.", 41600, 41799),
    ("accessControl service.", 42000, 42199),
    ("contentDownload service.", 42200, 42399),
    ("Encryption service.", 42400, 42599),
    ("contentSync service.", 42600, 42799),
    ("contentSync service.", 42800, 42999),
    ("A reserved area.", 43000, 65535),
];

/// The page's sections: id and titles, English and Japanese exactly as the two editions have
/// them. The last group is devfault's own, for rows observed in the field.
const GROUPS: &[(&str, &[(&str, &str)])] = &[
    (
        "http",
        &[
            ("en", "HTTP Major Error Codes in REST API."),
            ("ja", "REST API の HTTP メジャーエラーコード"),
        ],
    ),
    ("system", &[("en", "System Error Code"), ("ja", "システムエラーコード")]),
    ("common", &[("en", "Common Error Code"), ("ja", "共通エラーコード")]),
    (
        "system_service",
        &[("en", "system Service Error Code"), ("ja", "system サービスエラーコード")],
    ),
    (
        "video_screen",
        &[("en", "videoScreen Service Error Code"), ("ja", "videoScreen サービスエラーコード")],
    ),
    ("audio", &[("en", "audio Service Error Code"), ("ja", "audio サービスエラーコード")]),
    (
        "av_content",
        &[("en", "avContent Service Error Code"), ("ja", "avContentサービスエラーコード")],
    ),
    (
        "app_control",
        &[("en", "appControl Service Error Code"), ("ja", "appControl サービスエラーコード")],
    ),
    (
        "encryption",
        &[("en", "encryption Service Error Code"), ("ja", "encryption サービスエラーコード")],
    ),
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
    Err(problems) => panic!("the built-in BRAVIA table is inconsistent: {problems:?}"),
});

/// The built-in BRAVIA registry, built on first use.
pub fn registry() -> &'static Registry {
    &REGISTRY
}

#[cfg(test)]
mod tests;
