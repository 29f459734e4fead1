//! One code of a registry, and the groups a document lists codes under.

use std::collections::BTreeMap;
use std::fmt;

use crate::{Class, HttpStatus, Retry, Source};

/// One row of a registry: a code with everything known about it.
///
/// A code may have several rows: the documented one, and observed ones that carry the other
/// messages real devices send for the same number (`[7, "not power-on"]` beside
/// `[7, "Illegal State"]`). Each row says which it is in [`Entry::source`].
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Entry {
    /// The code's numeric value; the registry's [`CodeSpace`](crate::CodeSpace) writes it.
    pub code: u32,
    /// The reason phrase the document gives the code.
    pub reason: String,
    /// The message that travels on the wire with the code (the document's JSON example).
    pub message: String,
    /// What the document says the code means.
    pub explanation: String,
    /// The HTTP status the code travels with.
    pub http_status: HttpStatus,
    /// The id of the group the row is listed under.
    pub group: String,
    /// What kind of failure it is.
    pub class: Class,
    /// Whether and when to repeat the request.
    pub retry: Retry,
    /// One line telling a caller what to do next.
    pub advice: String,
    /// Documented in the vendor's page, or observed in the field.
    pub source: Source,
    /// For observed rows: where the row was seen. Empty for documented rows.
    pub evidence: String,
    /// The placeholder in `message` that is replaced by a state or mode, e.g. `(STATE)`.
    pub template: Option<String>,
    /// Set when the code deliberately lies outside every area (ThinQ `0000`).
    pub outside_areas: bool,
}

impl Entry {
    /// The message with its placeholder replaced by `value`, as the server sends it:
    /// `Command not supported in (STATE)` with `HEAT` gives `Command not supported in HEAT`.
    ///
    /// Fails for an entry without a placeholder, and for a value that is empty or holds control
    /// characters (it would not survive a log line).
    pub fn render(&self, value: &str) -> Result<String, TemplateError> {
        let Some(placeholder) = &self.template else {
            return Err(TemplateError::NoPlaceholder { message: self.message.clone() });
        };
        if value.trim().is_empty() || value.chars().any(char::is_control) {
            return Err(TemplateError::BadValue { value: value.to_owned() });
        }
        Ok(self.message.replacen(placeholder.as_str(), value, 1))
    }

    /// For a templated row: the value a wire message put in place of the placeholder, matching
    /// case-insensitively (`command not supported in heat` gives `heat`).
    pub fn template_value<'m>(&self, message: &'m str) -> Option<&'m str> {
        let placeholder = self.template.as_deref()?;
        let (prefix, suffix) = self.message.split_once(placeholder)?;
        let head = message.get(..prefix.len())?;
        let tail_at = message.len().checked_sub(suffix.len())?;
        let tail = message.get(tail_at..)?;
        if tail_at <= prefix.len()
            || !head.eq_ignore_ascii_case(prefix)
            || !tail.eq_ignore_ascii_case(suffix)
        {
            return None;
        }
        message.get(prefix.len()..tail_at).filter(|v| !v.trim().is_empty())
    }
}

/// A template could not be rendered.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TemplateError {
    /// The entry's message has no placeholder.
    NoPlaceholder {
        /// The message.
        message: String,
    },
    /// The value cannot stand in a message.
    BadValue {
        /// The value given.
        value: String,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::NoPlaceholder { message } => {
                write!(f, "the message {message:?} has no placeholder to fill")
            }
            TemplateError::BadValue { value } => write!(
                f,
                "{value:?} cannot stand in a message: give a non-empty state or mode without control characters, e.g. HEAT"
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// A row of a built-in table, written in a `const` context by a vendor crate's table macro.
#[derive(Clone, Copy, Debug)]
pub struct EntryDef {
    /// See [`Entry::code`].
    pub code: u32,
    /// See [`Entry::reason`].
    pub reason: &'static str,
    /// See [`Entry::message`].
    pub message: &'static str,
    /// See [`Entry::explanation`].
    pub explanation: &'static str,
    /// See [`Entry::http_status`].
    pub http_status: HttpStatus,
    /// See [`Entry::group`].
    pub group: &'static str,
    /// See [`Entry::class`].
    pub class: Class,
    /// See [`Entry::retry`].
    pub retry: Retry,
    /// See [`Entry::advice`].
    pub advice: &'static str,
    /// See [`Entry::source`].
    pub source: Source,
    /// See [`Entry::evidence`].
    pub evidence: &'static str,
    /// See [`Entry::template`]; empty for none.
    pub template: &'static str,
    /// See [`Entry::outside_areas`].
    pub outside_areas: bool,
}

impl From<&EntryDef> for Entry {
    fn from(def: &EntryDef) -> Entry {
        Entry {
            code: def.code,
            reason: def.reason.to_owned(),
            message: def.message.to_owned(),
            explanation: def.explanation.to_owned(),
            http_status: def.http_status,
            group: def.group.to_owned(),
            class: def.class,
            retry: def.retry,
            advice: def.advice.to_owned(),
            source: def.source,
            evidence: def.evidence.to_owned(),
            template: (!def.template.is_empty()).then(|| def.template.to_owned()),
            outside_areas: def.outside_areas,
        }
    }
}

/// A language of the registries' group titles: BRAVIA's page has an English and a Japanese
/// edition, ThinQ's English only (a Japanese title falls back to English). The CLI's `--lang`
/// and the admin API's `?lang=` both read it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Lang {
    /// English (both vendors' pages).
    #[default]
    En,
    /// Japanese (the BRAVIA page's Japanese edition; ThinQ falls back to English).
    Ja,
}

impl Lang {
    /// Every language, in the order `--help` lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The language tag group titles are keyed by (`en`, `ja`).
    pub const fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

/// `en` or `ja`; the error names the value and what is accepted.
impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(tag: &str) -> Result<Lang, String> {
        Lang::ALL
            .into_iter()
            .find(|lang| lang.tag() == tag)
            .ok_or_else(|| format!("{tag:?} is not a language here; give en or ja"))
    }
}

/// A section of the document that lists codes, with its title in each language it has.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Group {
    /// Short stable id (`audio`, `http`), used by entries and on the command line.
    pub id: String,
    /// Title per language tag; `en` is always present.
    pub titles: BTreeMap<String, String>,
}

impl Group {
    /// The title in `lang` (a [`Lang::tag`]), or the English one when the document has no
    /// such edition.
    pub fn title(&self, lang: &str) -> &str {
        self.titles
            .get(lang)
            .or_else(|| self.titles.get("en"))
            .map(String::as_str)
            .unwrap_or(self.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_parse_by_tag_and_name_a_wrong_one() {
        for lang in Lang::ALL {
            assert_eq!(lang.tag().parse::<Lang>(), Ok(lang));
        }
        assert_eq!(
            "fr".parse::<Lang>(),
            Err("\"fr\" is not a language here; give en or ja".into())
        );
        let group = Group { id: "x".into(), titles: [("en".to_owned(), "X".to_owned())].into() };
        assert_eq!(group.title(Lang::Ja.tag()), "X", "no Japanese edition: English");
    }

    fn templated() -> Entry {
        Entry::from(&EntryDef {
            code: 2302,
            reason: "Command not supported in (STATE)",
            message: "Command not supported in (STATE)",
            explanation: "",
            http_status: HttpStatus::from_static(400),
            group: "g",
            class: Class::DeviceState,
            retry: Retry::AfterStateChange,
            advice: "",
            source: Source::Documented,
            evidence: "",
            template: "(STATE)",
            outside_areas: false,
        })
    }

    #[test]
    fn render_fills_the_placeholder() {
        assert_eq!(templated().render("HEAT").as_deref(), Ok("Command not supported in HEAT"));
        assert!(matches!(templated().render(" "), Err(TemplateError::BadValue { .. })));
        assert!(matches!(templated().render("A\nB"), Err(TemplateError::BadValue { .. })));
    }

    #[test]
    fn template_value_reads_the_placeholder_back() {
        let entry = templated();
        assert_eq!(entry.template_value("Command not supported in HEAT"), Some("HEAT"));
        assert_eq!(entry.template_value("command not supported in POWER_ON"), Some("POWER_ON"));
        assert_eq!(entry.template_value("Command not supported in "), None);
        assert_eq!(entry.template_value("Command"), None);
        assert_eq!(entry.template_value("Command not supported ié"), None);
    }
}
