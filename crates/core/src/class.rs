//! What kind of failure an entry is, what a caller should do about it, and where the entry
//! comes from. Each is one table, from which the enum, its names and its descriptions follow.

use std::fmt;

/// Declares a field-less enum whose variants each have a wire name and a one-line description,
/// plus `ALL`, `as_str`, `description`, `FromStr` and `Display`, so the three cannot drift.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal : $desc:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in JSON, TOML and on the command line.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// One line saying what the value means.
            pub const fn description(self) -> &'static str {
                match self { $($name::$variant => $desc,)+ }
            }

            /// The accepted names, for error messages.
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::UnknownName;

            fn from_str(text: &str) -> Result<$name, crate::UnknownName> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::UnknownName {
                        what: $what,
                        value: text.to_owned(),
                        accepted: $name::names(),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// What kind of failure a code reports: the first thing a caller branches on.
    pub enum Class ("class") {
        /// The request breaks the protocol's grammar or the API's parameter rules.
        MalformedRequest = "malformed_request": "the request is malformed or its parameters break the API's rules; fix the request",
        /// Credentials are missing, wrong or expired.
        Authentication = "authentication": "credentials are missing, invalid or expired",
        /// The caller is known but not allowed to do this.
        Permission = "permission": "the caller is authenticated but not allowed to do this",
        /// What the request names does not exist.
        NotFound = "not_found": "the method, resource, device or content named does not exist",
        /// The device or service does not support this feature, version or operation.
        Unsupported = "unsupported": "the device or service does not support this feature, version or operation",
        /// The device's current state forbids the request (off, standby, remote control off, error).
        DeviceState = "device_state": "the device's current state (off, standby, remote control off, error) forbids the request",
        /// The device cannot be reached by the server that answered.
        DeviceUnreachable = "device_unreachable": "the device is not connected to the server that answered",
        /// What the request asks for is already so (an identical subscription exists).
        AlreadyExists = "already_exists": "what the request asks for already exists; usually safe to treat as success",
        /// Another request is in progress and holds what this one needs.
        Busy = "busy": "another request is in progress; this one conflicts with it",
        /// The request was accepted but its completion cannot be told yet.
        Pending = "pending": "the request was accepted, but its completion cannot be confirmed yet",
        /// Only part of a multi-part request took effect.
        PartialFailure = "partial_failure": "only part of the request took effect; read the state back to see which part",
        /// A quota or a limit on clients has been reached.
        RateLimit = "rate_limit": "a quota of calls or clients has been exhausted",
        /// A temporary condition that repeating the request may clear.
        Transient = "transient": "a temporary condition; the same request may succeed later",
        /// The server or device failed internally.
        Server = "server": "the server or device failed internally",
        /// The content, storage or channel addressed cannot be used as asked.
        Content = "content": "the content, storage or channel addressed cannot be used as asked",
        /// The code does not say what went wrong.
        Unknown = "unknown": "the code does not say what went wrong",
    }
}

named_enum! {
    /// Whether and when to send the request again.
    pub enum Retry ("retry advice") {
        /// Repeating the same request gives the same answer.
        Never = "never": "do not repeat the same request: it will fail the same way",
        /// Repeat after a growing delay, honouring Retry-After when the server sends it.
        BackOff = "back_off": "repeat after an exponential back-off, honouring Retry-After if present",
        /// Repeat immediately: the code is part of normal flow (a long poll ran out).
        ReissueNow = "reissue_now": "re-issue the request at once; this is normal flow",
        /// Repeat once the previous request has been answered.
        AfterPrevious = "after_previous": "repeat after the previous request has been answered",
        /// Repeat once the device's state has changed (powered on, remote control enabled...).
        AfterStateChange = "after_state_change": "repeat only after the device's state changes (e.g. powered on)",
        /// Obtain valid credentials, then repeat.
        Reauthenticate = "reauthenticate": "obtain valid credentials, then repeat",
        /// Repeat once the quota window has reopened.
        AfterQuotaReset = "after_quota_reset": "repeat only after the quota window reopens",
    }
}

named_enum! {
    /// Where an entry comes from.
    pub enum Source ("source") {
        /// Listed in the vendor's document (the seed).
        Documented = "documented": "listed in the vendor's documentation",
        /// Not in the document, but sent by real devices or the live cloud.
        Observed = "observed": "not in the documentation; sent by real devices or the live service",
    }
}

impl Retry {
    /// True when some later repetition of the same request can succeed.
    pub const fn is_retryable(self) -> bool {
        !matches!(self, Retry::Never)
    }
}

/// A name that is not one of an enum's accepted names.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnknownName {
    /// What was being parsed ("class", "retry advice", "source").
    pub what: &'static str,
    /// The name given.
    pub value: String,
    /// The names that would have been accepted, comma-separated.
    pub accepted: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}; accepted: {}", self.what, self.value, self.accepted)
    }
}

impl std::error::Error for UnknownName {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for class in Class::ALL {
            assert_eq!(class.as_str().parse::<Class>(), Ok(*class));
        }
        for retry in Retry::ALL {
            assert_eq!(retry.as_str().parse::<Retry>(), Ok(*retry));
        }
        for source in Source::ALL {
            assert_eq!(source.as_str().parse::<Source>(), Ok(*source));
        }
    }

    #[test]
    fn an_unknown_name_lists_what_is_accepted() {
        let err = "sometimes".parse::<Retry>().unwrap_err();
        assert_eq!(err.value, "sometimes");
        let text = err.to_string();
        assert!(text.contains("\"sometimes\""), "{text}");
        assert!(text.contains("back_off") && text.contains("reauthenticate"), "{text}");
    }
}
