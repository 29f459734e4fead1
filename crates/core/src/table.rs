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
