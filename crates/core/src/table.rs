//! The macro a vendor crate writes its code table with.

/// Declares a vendor's documented codes once: each row becomes an associated constant of the
/// vendor's code type (documented with the row's explanation) and an [`EntryDef`] in the
/// `const` slice named by the caller. Codes are checked at compile time by the code type's
/// `const fn from_static`, and HTTP statuses by [`HttpStatus::from_static`].
///
/// [`EntryDef`]: crate::EntryDef
/// [`HttpStatus::from_static`]: crate::HttpStatus::from_static
#[macro_export]
macro_rules! code_table {
    (
        $code_ty:ident, $table:ident;
        $(
            $name:ident = $code:literal in $group:literal {
                reason: $reason:literal,
                message: $message:literal,
                explanation: $explanation:literal,
                http: $status:literal,
                class: $class:ident,
                retry: $retry:ident,
                advice: $advice:literal,
                $(template: $template:literal,)?
                $(outside_areas: $outside:literal,)?
            }
        )+
    ) => {
        impl $code_ty {
            $(
                #[doc = concat!("`", stringify!($code), "` ", $reason, ": ", $explanation)]
                pub const $name: $code_ty = $code_ty::from_static($code);
            )+
        }

        /// The documented rows, in the document's order.
        pub(crate) const $table: &[$crate::EntryDef] = &[
            $(
                $crate::EntryDef {
                    code: $code,
                    reason: $reason,
                    message: $message,
                    explanation: $explanation,
                    http_status: $crate::HttpStatus::from_static($status),
                    group: $group,
                    class: $crate::Class::$class,
                    retry: $crate::Retry::$retry,
                    advice: $advice,
                    source: $crate::Source::Documented,
                    evidence: "",
                    template: $crate::code_table!(@or $($template)? ""),
                    outside_areas: $crate::code_table!(@or $($outside)? false),
                },
            )+
        ];
    };
    (@or $value:literal $default:literal) => { $value };
    (@or $default:literal) => { $default };
}

/// Declares the rows observed in the field (other messages for documented codes, or codes the
/// document leaves out) with the same row syntax as [`code_table!`], plus `evidence:` saying
/// where each was seen. They are kept in their own slice and group so they are never confused
/// with the documented rows.
#[macro_export]
macro_rules! observed_table {
    (
        $table:ident;
        $(
            $code:literal in $group:literal {
                reason: $reason:literal,
                message: $message:literal,
                explanation: $explanation:literal,
                http: $status:literal,
                class: $class:ident,
                retry: $retry:ident,
                advice: $advice:literal,
                evidence: $evidence:literal,
            }
        )+
    ) => {
        /// The rows observed in the field, not in the document.
        pub(crate) const $table: &[$crate::EntryDef] = &[
            $(
                $crate::EntryDef {
                    code: $code,
                    reason: $reason,
                    message: $message,
                    explanation: $explanation,
                    http_status: $crate::HttpStatus::from_static($status),
                    group: $group,
                    class: $crate::Class::$class,
                    retry: $crate::Retry::$retry,
                    advice: $advice,
                    source: $crate::Source::Observed,
                    evidence: $evidence,
                    template: "",
                    outside_areas: false,
                },
            )+
        ];
    };
}

/// Declares a decoder's rule table once: `RULES`, the `(id, one-line description)` rows that
/// audits count and programs match on, and a `rule` module with one constant per id, so a
/// finding can only name a rule the table lists.
#[macro_export]
macro_rules! rule_table {
    ($( $(#[$meta:meta])* $name:ident = $id:literal : $description:literal, )+) => {
        /// Every rule a finding of this module can name: `(id, one-line description)`.
        ///
        /// Ids are stable: audits count them and programs match on them.
        pub const RULES: &[(&str, &str)] = &[$( ($id, $description), )+];

        /// The ids of [`RULES`] as constants, for matching on a finding's `rule`.
        pub mod rule {
            $(
                $(#[$meta])*
                #[doc = $description]
                pub const $name: &str = $id;
            )+
        }
    };
}

/// The group every vendor lists its field-observed rows under (the `in "observed"` of
/// [`observed_table!`]), English and Japanese, so no vendor spells it differently.
pub const OBSERVED_GROUP: (&str, &[(&str, &str)]) = (
    "observed",
    &[
        ("en", "Observed in the field (not in the documentation)"),
        ("ja", "実機で確認されたコード（ドキュメント未記載）"),
    ],
);

/// Declares a vendor's code type and registry plumbing from its tables, as axum's
/// `define_rejection!` declares a rejection from its parts: the `Code` newtype over `u16`
/// (with `new`, `as_u16`, `entry_opt`, `entry`, `Display` in the space's notation, `FromStr`
/// through the space), and `spec()` and `registry()` over the crate's `API`, `NAME`, `SPACE`,
/// area and group tables and the slices [`code_table!`] and [`observed_table!`] declare.
/// A vendor is then its tables and one call of this macro.
///
/// The caller writes the type's doc, the docs of `from_static` and `as_u16` (which say what
/// the vendor's codes look like), the largest code and the panic message of `from_static` above
/// it (a compile error in a `const`), and how a code is written (`"{}"` for
/// BRAVIA's integers, `"{:04}"` for ThinQ's four digits).
#[macro_export]
macro_rules! code_type {
    (
        $(#[$meta:meta])*
        pub struct $code:ident(u16) up to $max:literal else $too_big:literal, written $format:literal;
        vendor: $vendor:literal;
        $(#[$from_static_meta:meta])*
        fn from_static;
        $(#[$as_u16_meta:meta])*
        fn as_u16;
        registry from $api:ident, $name:ident, $space:ident, $areas:ident, $groups:ident,
            [$($table:path),+ $(,)?];
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $code(u16);

        impl $code {
            $(#[$from_static_meta])*
            pub const fn from_static(value: u16) -> $code {
                assert!(value as u32 <= $max, $too_big);
                $code(value)
            }

            #[doc = concat!("The code `value`, or `None` above ", stringify!($max), ".")]
            pub fn new(value: u32) -> Option<$code> {
                u16::try_from(value).ok().filter(|&v| u32::from(v) <= $max).map($code)
            }

            $(#[$as_u16_meta])*
            pub const fn as_u16(self) -> u16 {
                self.0
            }

            /// The row that answers for this code, if the registry has one.
            pub fn entry_opt(self) -> Option<&'static $crate::Entry> {
                registry().get(u32::from(self.0))
            }

            /// The documented row of one of the associated constants.
            ///
            /// # Panics
            /// Never for the associated constants (a test checks each); for any other code use
            #[doc = concat!("[`", stringify!($code), "::entry_opt`].")]
            pub fn entry(self) -> &'static $crate::Entry {
                match self.entry_opt() {
                    Some(entry) => entry,
                    None => panic!(
                        concat!($vendor, " code {} has no registry entry; use ", stringify!($code), "::entry_opt"),
                        self
                    ),
                }
            }
        }

        impl ::std::fmt::Display for $code {
            #[doc = concat!("The code as the wire writes it (`", $format, "`).")]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, $format, self.0)
            }
        }

        impl ::std::str::FromStr for $code {
            type Err = $crate::CodeError;

            #[doc = concat!("A code written as [`", stringify!($space), "`] reads it, as the wire has it.")]
            fn from_str(text: &str) -> Result<$code, $crate::CodeError> {
                let value = $space.parse(text)?;
                Ok($code(u16::try_from(value).unwrap_or(u16::MAX)))
            }
        }

        /// The definition of the built-in registry, from this crate's tables.
        pub fn spec() -> $crate::Spec {
            $crate::Spec::builtin($api, $name, $space, $areas, $groups, &[$($table),+])
        }

        #[doc = concat!("The built-in ", $vendor, " registry, built on first use.")]
        pub fn registry() -> &'static $crate::Registry {
            static REGISTRY: ::std::sync::LazyLock<$crate::Registry> =
                ::std::sync::LazyLock::new(|| match $crate::Registry::new(spec()) {
                    Ok(registry) => registry,
                    // The tables are constants checked by the crate's tests; this cannot
                    // happen at run time.
                    Err(problems) => {
                        panic!(concat!("the built-in ", $vendor, " table is inconsistent: {:?}"), problems)
                    }
                });
            &REGISTRY
        }
    };
}
