//! The built-in registries, and how a user names one.

use clap::ValueEnum;
use devfault_core::Registry;

/// A built-in API profile.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Api {
    /// Sony BRAVIA Professional Display REST API.
    Bravia,
    /// LG ThinQ Connect API.
    Thinq,
}

impl Api {
    /// Every built-in API.
    pub const ALL: [Api; 2] = [Api::Bravia, Api::Thinq];

    /// The API's registry.
    pub fn registry(self) -> &'static Registry {
        match self {
            Api::Bravia => devfault_bravia::registry(),
            Api::Thinq => devfault_thinq::registry(),
        }
    }

    /// The id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Api::Bravia => devfault_bravia::API,
            Api::Thinq => devfault_thinq::API,
        }
    }

    /// The API for a `bravia:` / `thinq:` prefix (`sony:` and `lg:` are accepted too).
    pub fn from_prefix(prefix: &str) -> Option<Api> {
        match prefix.to_ascii_lowercase().as_str() {
            "bravia" | "sony" => Some(Api::Bravia),
            "thinq" | "lg" => Some(Api::Thinq),
            _ => None,
        }
    }

    /// The APIs `--api` selects: the one given, or all.
    pub fn selected(api: Option<Api>) -> Vec<Api> {
        api.map_or_else(|| Api::ALL.to_vec(), |api| vec![api])
    }
}

/// Language of group titles: the one of devfault-core (a clap value with its `clap` feature).
pub use devfault_core::Lang;
