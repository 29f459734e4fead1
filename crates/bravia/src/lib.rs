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

use devfault_core::CodeSpace;
// The crate's tests (`use super::*`) name these.
#[cfg(test)]
use devfault_core::{Entry, Registry};

devfault_core::code_type! {
    /// A BRAVIA error code: any value of the 0–65535 space, known to the page or not.
    ///
    /// The documented codes are associated constants (`Code::VOLUME_OUT_OF_RANGE`); a code read
    /// off the wire that the page does not list is still a `Code`, and [`Code::entry_opt`] says
    /// so with `None`.
    pub struct Code(u16) up to 65535 else "a BRAVIA code is at most 65535", written "{}";
    vendor: "BRAVIA";
    /// The code `value`; every `u16` is a code of the BRAVIA space.
    fn from_static;
    /// The numeric value, as it stands in `{"error": [code, "reason"]}`.
    fn as_u16;
    registry from API, NAME, SPACE, AREAS, GROUPS, [table::DOCUMENTED, table::OBSERVED];
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
    devfault_core::OBSERVED_GROUP,
];

#[cfg(test)]
mod tests;
