//! Which of LG's three API regions serves a country: the table of the SDK's `country.py`
//! (`thinqconnect` 1.0.14, `SUPPORTED_COUNTRIES`), copied whole, one row per country.

use std::fmt;

/// One of the three ThinQ Connect API regions; each has its own host.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Region {
    /// South Asia, East Asia and Pacific: `api-kic.lgthinq.com`.
    Kic,
    /// The Americas: `api-aic.lgthinq.com`.
    Aic,
    /// Europe, Middle East and Africa: `api-eic.lgthinq.com`.
    Eic,
}

use Region::{Aic, Eic, Kic};

/// Every supported country (ISO 3166-1 alpha-2) and its region, sorted by country, exactly as
/// the SDK lists them (162 countries: 20 KIC, 37 AIC, 105 EIC).
#[rustfmt::skip]
pub const COUNTRIES: &[(&str, Region)] = &[
    ("AE", Eic), ("AF", Eic), ("AG", Aic), ("AL", Eic), ("AM", Eic), ("AO", Eic), ("AR", Aic),
    ("AT", Eic), ("AU", Kic), ("AW", Aic), ("AZ", Eic), ("BA", Eic), ("BB", Aic), ("BD", Kic),
    ("BE", Eic), ("BF", Eic), ("BG", Eic), ("BH", Eic), ("BJ", Eic), ("BO", Aic), ("BR", Aic),
    ("BS", Aic), ("BY", Eic), ("BZ", Aic), ("CA", Aic), ("CD", Eic), ("CF", Eic), ("CG", Eic),
    ("CH", Eic), ("CI", Eic), ("CL", Aic), ("CM", Eic), ("CN", Kic), ("CO", Aic), ("CR", Aic),
    ("CU", Aic), ("CV", Eic), ("CY", Eic), ("CZ", Eic), ("DE", Eic), ("DJ", Eic), ("DK", Eic),
    ("DM", Aic), ("DO", Aic), ("DZ", Eic), ("EC", Aic), ("EE", Eic), ("EG", Eic), ("ES", Eic),
    ("ET", Eic), ("FI", Eic), ("FR", Eic), ("GA", Eic), ("GB", Eic), ("GD", Aic), ("GE", Eic),
    ("GH", Eic), ("GM", Eic), ("GN", Eic), ("GQ", Eic), ("GR", Eic), ("GT", Aic), ("GY", Aic),
    ("HK", Kic), ("HN", Aic), ("HR", Eic), ("HT", Aic), ("HU", Eic), ("ID", Kic), ("IE", Eic),
    ("IL", Eic), ("IN", Kic), ("IQ", Eic), ("IR", Eic), ("IS", Eic), ("IT", Eic), ("JM", Aic),
    ("JO", Eic), ("JP", Kic), ("KE", Eic), ("KG", Eic), ("KH", Kic), ("KN", Aic), ("KR", Kic),
    ("KW", Eic), ("KZ", Eic), ("LA", Kic), ("LB", Eic), ("LC", Aic), ("LK", Kic), ("LR", Eic),
    ("LT", Eic), ("LU", Eic), ("LV", Eic), ("LY", Eic), ("MA", Eic), ("MD", Eic), ("ME", Eic),
    ("MK", Eic), ("ML", Eic), ("MM", Kic), ("MR", Eic), ("MT", Eic), ("MU", Eic), ("MW", Eic),
    ("MX", Aic), ("MY", Kic), ("NE", Eic), ("NG", Eic), ("NI", Aic), ("NL", Eic), ("NO", Eic),
    ("NP", Kic), ("NZ", Kic), ("OM", Eic), ("PA", Aic), ("PE", Aic), ("PH", Kic), ("PK", Eic),
    ("PL", Eic), ("PR", Aic), ("PS", Eic), ("PT", Eic), ("PY", Aic), ("QA", Eic), ("RO", Eic),
    ("RS", Eic), ("RU", Eic), ("RW", Eic), ("SA", Eic), ("SD", Eic), ("SE", Eic), ("SG", Kic),
    ("SI", Eic), ("SK", Eic), ("SL", Eic), ("SN", Eic), ("SO", Eic), ("SR", Aic), ("ST", Eic),
    ("SV", Aic), ("SY", Eic), ("TD", Eic), ("TG", Eic), ("TH", Kic), ("TN", Eic), ("TR", Eic),
    ("TT", Aic), ("TW", Kic), ("TZ", Eic), ("UA", Eic), ("UG", Eic), ("US", Aic), ("UY", Aic),
    ("UZ", Eic), ("VC", Aic), ("VE", Aic), ("VN", Kic), ("XK", Eic), ("YE", Eic), ("ZA", Eic),
    ("ZM", Eic),];

impl Region {
    /// Every region.
    pub const ALL: [Region; 3] = [Kic, Aic, Eic];

    /// The region's prefix, as in the host name (`kic`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Kic => "kic",
            Aic => "aic",
            Eic => "eic",
        }
    }

    /// The API host of the production phase, `api-{region}.lgthinq.com`.
    pub fn host(self) -> String {
        format!("api-{}.{DOMAIN}", self.as_str())
    }

    /// The API base URL of the production phase, `https://api-{region}.lgthinq.com/`.
    pub fn base_url(self) -> String {
        format!("https://{}/", self.host())
    }

    /// The region of `country` exactly as the SDK writes it (two upper-case letters): a
    /// binary search of [`COUNTRIES`], no copy; the cloud looks up every request's
    /// `x-country` with it.
    pub fn of_code(country: &str) -> Option<Region> {
        COUNTRIES.binary_search_by(|(c, _)| (*c).cmp(country)).ok().map(|i| COUNTRIES[i].1)
    }

    /// The region serving `country` (two letters, any case); `None` for a country the SDK does
    /// not support, which the cloud answers with 1307.
    ///
    /// ```
    /// use devfault_thinq::region::Region;
    /// assert_eq!(Region::of_country("US"), Some(Region::Aic));
    /// assert_eq!(Region::of_country("de"), Some(Region::Eic));
    /// assert_eq!(Region::of_country("KR"), Some(Region::Kic));
    /// assert_eq!(Region::of_country("ZZ"), None);
    /// ```
    pub fn of_country(country: &str) -> Option<Region> {
        Region::of_code(&country.trim().to_ascii_uppercase())
    }
}

/// LG's domain; every API host is `api-{region}[-qa|-st].lgthinq.com`.
pub const DOMAIN: &str = "lgthinq.com";

/// What a host name (without port, any case) says about LG's cloud.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Host {
    /// Not a name in `lgthinq.com`.
    Foreign,
    /// A name in `lgthinq.com` that is no API host (`api-xyz.lgthinq.com`, `lgthinq.com`).
    Lg,
    /// The API host of a region, in any phase (`api-aic.lgthinq.com`, `api-eic-qa.lgthinq.com`).
    Api(Region),
}

impl Host {
    /// Reads a host name: `api-` + a region + an optional phase (`-qa`, `-st`) +
    /// `.lgthinq.com`, compared without regard to case and without copying.
    ///
    /// ```
    /// use devfault_thinq::region::{Host, Region};
    /// assert_eq!(Host::parse("api-aic.lgthinq.com"), Host::Api(Region::Aic));
    /// assert_eq!(Host::parse("API-EIC-QA.LGThinQ.com"), Host::Api(Region::Eic));
    /// assert_eq!(Host::parse("api-xyz.lgthinq.com"), Host::Lg);
    /// assert_eq!(Host::parse("127.0.0.1"), Host::Foreign);
    /// ```
    pub fn parse(name: &str) -> Host {
        let Some(sub) = strip_suffix_ignore_case(name, DOMAIN) else { return Host::Foreign };
        if !sub.is_empty() && !sub.ends_with('.') {
            return Host::Foreign; // `notlgthinq.com`
        }
        let label = sub.strip_suffix('.').unwrap_or(sub);
        let region = strip_prefix_ignore_case(label, "api-").and_then(|rest| {
            let region = ["-qa", "-st"]
                .iter()
                .find_map(|phase| strip_suffix_ignore_case(rest, phase))
                .unwrap_or(rest);
            Region::ALL.into_iter().find(|r| region.eq_ignore_ascii_case(r.as_str()))
        });
        region.map_or(Host::Lg, Host::Api)
    }
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let at = text.len().checked_sub(suffix.len())?;
    (text.is_char_boundary(at) && text[at..].eq_ignore_ascii_case(suffix)).then(|| &text[..at])
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let at = prefix.len();
    (text.is_char_boundary(at) && text.get(..at)?.eq_ignore_ascii_case(prefix)).then(|| &text[at..])
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_unique_and_has_the_sdks_counts() {
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0), "sorted, no duplicates");
        let count = |region| COUNTRIES.iter().filter(|(_, r)| *r == region).count();
        assert_eq!((count(Kic), count(Aic), count(Eic)), (20, 37, 105));
        assert!(
            COUNTRIES
                .iter()
                .all(|(c, _)| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        );
    }

    #[test]
    fn every_country_finds_its_region() {
        for (country, region) in COUNTRIES {
            assert_eq!(Region::of_country(country), Some(*region));
        }
        assert_eq!(Region::Eic.base_url(), "https://api-eic.lgthinq.com/");
        assert_eq!(Region::of_country(""), None);
        assert_eq!(Region::of_code("us"), None, "the SDK sends upper case");
        assert_eq!(Region::of_code("XK"), Some(Eic));
    }

    #[test]
    fn host_names_follow_the_api_grammar() {
        for region in Region::ALL {
            assert_eq!(Host::parse(&region.host()), Host::Api(region));
            for phase in ["-qa", "-st", "-QA"] {
                let name = format!("api-{region}{phase}.lgthinq.com");
                assert_eq!(Host::parse(&name), Host::Api(region), "{name}");
            }
        }
        for lg in [
            "lgthinq.com",
            "api-xyz.lgthinq.com",
            "api-kic-qa-qa.lgthinq.com",
            "www.lgthinq.com",
            "api-.lgthinq.com",
        ] {
            assert_eq!(Host::parse(lg), Host::Lg, "{lg}");
        }
        for foreign in ["", "localhost", "notlgthinq.com", "lgthinq.com.example", "é.lgthinq.co"] {
            assert_eq!(Host::parse(foreign), Host::Foreign, "{foreign}");
        }
    }
}
