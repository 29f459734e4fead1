//! The TOML form of a registry: how a user describes their own API's code system, how the
//! built-in registries are exported, and the lint that proves a file consistent.
//!
//! ```toml
//! api = "acme"
//! name = "ACME Widget API"
//! code_min = 0
//! code_max = 9999
//!
//! [[area]]
//! name = "client errors"
//! start = 1000
//! end = 1999
//!
//! [[group]]
//! id = "client"
//! title = "Client errors"
//!
//! [[entry]]
//! code = 1001
//! reason = "Widget jammed"
//! http_status = 409
//! group = "client"
//! class = "device_state"
//! retry = "after_state_change"
//! advice = "Clear the jam, then send the command again."
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::{Spanned, Value};

use crate::registry::check;
use crate::{
    Area, CodeFormat, CodeSpace, Entry, Group, HttpStatus, Located, Problem, ProblemKind, Registry,
    Source, Spec,
};

type RawTable = BTreeMap<String, Spanned<Value>>;

#[derive(Deserialize)]
struct RawArrays {
    #[serde(default)]
    area: Vec<Spanned<RawTable>>,
    #[serde(default)]
    group: Vec<Spanned<RawTable>>,
    #[serde(default)]
    entry: Vec<Spanned<RawTable>>,
}

impl Registry {
    /// Reads a registry from its TOML form; on failure, every problem found.
    pub fn from_toml(text: &str) -> Result<Registry, Vec<Problem>> {
        let spec = parse(text)?;
        Registry::new(spec)
    }

    /// The registry in the TOML form that [`Registry::from_toml`] reads back unchanged.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, key: &str, value: Value| {
            out.push_str(key);
            out.push_str(" = ");
            out.push_str(&value.to_string());
            out.push('\n');
        };
        let string = |s: &str| Value::String(s.to_owned());
        out.push_str(&format!(
            "# {} — devfault registry.\n# Check it with `devfault lint FILE`; the format is described in devfault's README.\n\n",
            self.name()
        ));
        line(&mut out, "api", string(self.api()));
        line(&mut out, "name", string(self.name()));
        let space = self.space();
        match space.format {
            CodeFormat::Integer => {
                line(&mut out, "code_min", Value::Integer(i64::from(space.min)));
                line(&mut out, "code_max", Value::Integer(i64::from(space.max)));
            }
            CodeFormat::Digits(width) => {
                line(&mut out, "code_digits", Value::Integer(i64::from(width)))
            }
        }
        for area in self.areas() {
            out.push_str("\n[[area]]\n");
            line(&mut out, "name", string(&area.name));
            line(&mut out, "start", Value::Integer(i64::from(area.start)));
            line(&mut out, "end", Value::Integer(i64::from(area.end)));
        }
        for group in self.groups() {
            out.push_str("\n[[group]]\n");
            line(&mut out, "id", string(&group.id));
            line(&mut out, "title", string(group.title("en")));
            let others: toml::Table = group
                .titles
                .iter()
                .filter(|(lang, _)| lang.as_str() != "en")
                .map(|(lang, title)| (lang.clone(), string(title)))
                .collect();
            if !others.is_empty() {
                line(&mut out, "titles", Value::Table(others));
            }
        }
        for entry in self.entries() {
            out.push_str("\n[[entry]]\n");
            let code = match space.format {
                CodeFormat::Integer => Value::Integer(i64::from(entry.code)),
                CodeFormat::Digits(_) => string(&space.format(entry.code)),
            };
            line(&mut out, "code", code);
            line(&mut out, "reason", string(&entry.reason));
            line(&mut out, "message", string(&entry.message));
            line(&mut out, "explanation", string(&entry.explanation));
            line(&mut out, "http_status", Value::Integer(i64::from(entry.http_status.as_u16())));
            line(&mut out, "group", string(&entry.group));
            line(&mut out, "class", string(entry.class.as_str()));
            line(&mut out, "retry", string(entry.retry.as_str()));
            line(&mut out, "advice", string(&entry.advice));
            line(&mut out, "source", string(entry.source.as_str()));
            if !entry.evidence.is_empty() {
                line(&mut out, "evidence", string(&entry.evidence));
            }
            if let Some(template) = &entry.template {
                line(&mut out, "template", string(template));
            }
            if entry.outside_areas {
                line(&mut out, "outside_areas", Value::Boolean(true));
            }
        }
        out
    }
}

/// Every problem in a registry file; empty when it is consistent.
pub fn lint(text: &str) -> Vec<Problem> {
    match Registry::from_toml(text) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// Reads the file into a [`Spec`], reporting shape problems (types, missing keys, unknown
/// keys) together with the consistency problems of [`check`].
fn parse(text: &str) -> Result<Spec, Vec<Problem>> {
    let lines = LineIndex::new(text);
    let syntax = |err: toml::de::Error| {
        vec![Problem {
            line: err.span().map(|s| lines.line(s.start)),
            kind: ProblemKind::Syntax,
            message: err.message().trim().to_owned(),
        }]
    };
    let top: RawTable = toml::from_str(text).map_err(syntax)?;
    let arrays: RawArrays = toml::from_str(text).map_err(syntax)?;
    let mut r = Reader { lines: &lines, problems: Vec::new() };

    for (key, value) in &top {
        if !matches!(
            key.as_str(),
            "api" | "name" | "code_min" | "code_max" | "code_digits" | "area" | "group" | "entry"
        ) {
            r.problem(
                value,
                ProblemKind::UnknownKey,
                format!("unknown key {key:?}; accepted: api, name, code_min, code_max, code_digits, [[area]], [[group]], [[entry]]"),
            );
        }
    }
    let api = r.string(&top, "api", "the file").unwrap_or_default();
    if api.is_empty() {
        r.missing(None, "the file", "api");
    }
    let name = r.string(&top, "name", "the file").unwrap_or_else(|| api.clone());
    let space = r.space(&top);

    let areas = arrays.area.iter().filter_map(|table| r.area(table)).collect();
    let groups = arrays.group.iter().filter_map(|table| r.group(table)).collect();
    let entries = arrays.entry.iter().filter_map(|table| r.entry(table, space)).collect();
    let spec = Spec { api, name, space, areas, groups, entries };

    let mut problems = r.problems;
    problems.extend(check(&spec));
    if problems.is_empty() {
        Ok(spec)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// Byte offset → 1-based line.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// Turns raw tables into typed values, collecting a problem for each bad value.
struct Reader<'a> {
    lines: &'a LineIndex,
    problems: Vec<Problem>,
}

const AREA_KEYS: &[&str] = &["name", "start", "end"];
const GROUP_KEYS: &[&str] = &["id", "title", "titles"];
const ENTRY_KEYS: &[&str] = &[
    "code",
    "reason",
    "message",
    "explanation",
    "http_status",
    "group",
    "class",
    "retry",
    "advice",
    "source",
    "evidence",
    "template",
    "outside_areas",
];

impl Reader<'_> {
    fn line_of<T>(&self, spanned: &Spanned<T>) -> usize {
        self.lines.line(spanned.span().start)
    }

    fn problem<T>(&mut self, at: &Spanned<T>, kind: ProblemKind, message: String) {
        let line = Some(self.line_of(at));
        self.problems.push(Problem { line, kind, message });
    }

    fn missing(&mut self, line: Option<usize>, what: &str, key: &str) {
        self.problems.push(Problem {
            line,
            kind: ProblemKind::MissingField,
            message: format!("{what} has no {key:?}"),
        });
    }

    fn unknown_keys(&mut self, table: &RawTable, accepted: &[&str], what: &str) {
        for (key, value) in table {
            if !accepted.contains(&key.as_str()) {
                let message =
                    format!("{what}: unknown key {key:?}; accepted: {}", accepted.join(", "));
                self.problem(value, ProblemKind::UnknownKey, message);
            }
        }
    }

    fn string(&mut self, table: &RawTable, key: &str, what: &str) -> Option<String> {
        let value = table.get(key)?;
        match value.get_ref() {
            Value::String(s) => Some(s.clone()),
            other => {
                let message = format!("{what}: {key} must be a string, not {other}");
                self.problem(value, ProblemKind::Syntax, message);
                None
            }
        }
    }

    fn integer(&mut self, table: &RawTable, key: &str, what: &str) -> Option<(i64, usize)> {
        let value = table.get(key)?;
        match value.get_ref() {
            Value::Integer(n) => Some((*n, self.line_of(value))),
            other => {
                let message = format!("{what}: {key} must be an integer, not {other}");
                self.problem(value, ProblemKind::Syntax, message);
                None
            }
        }
    }

    fn space(&mut self, top: &RawTable) -> CodeSpace {
        if let Some((digits, line)) = self.integer(top, "code_digits", "the file") {
            for key in ["code_min", "code_max"] {
                if let Some(value) = top.get(key) {
                    let message = format!(
                        "{key} cannot be combined with code_digits (the range is 0 to the largest {digits}-digit number)"
                    );
                    self.problem(value, ProblemKind::BadValue, message);
                }
            }
            return match u8::try_from(digits) {
                Ok(width @ 1..=9) => CodeSpace::digits(width),
                _ => {
                    self.problems.push(Problem {
                        line: Some(line),
                        kind: ProblemKind::BadValue,
                        message: format!("code_digits = {digits} is not a width from 1 to 9"),
                    });
                    CodeSpace::digits(4)
                }
            };
        }
        let mut bound = |key: &str, default: u32| match self.integer(top, key, "the file") {
            None => default,
            Some((n, line)) => u32::try_from(n).unwrap_or_else(|_| {
                self.problems.push(Problem {
                    line: Some(line),
                    kind: ProblemKind::BadValue,
                    message: format!("{key} = {n} is not a code from 0 to {}", u32::MAX),
                });
                default
            }),
        };
        let min = bound("code_min", 0);
        let max = bound("code_max", u32::MAX);
        if min > max {
            let line = top.get("code_min").map(|v| self.line_of(v));
            self.problems.push(Problem {
                line,
                kind: ProblemKind::BadValue,
                message: format!("code_min = {min} is above code_max = {max}"),
            });
        }
        CodeSpace::integer(min, max)
    }

    fn area(&mut self, table: &Spanned<RawTable>) -> Option<Located<Area>> {
        let line = Some(self.line_of(table));
        let table = table.get_ref();
        self.unknown_keys(table, AREA_KEYS, "[[area]]");
        let name = self.string(table, "name", "[[area]]");
        if name.is_none() && !table.contains_key("name") {
            self.missing(line, "[[area]]", "name");
        }
        let name = name.unwrap_or_default();
        let what = format!("area {name:?}");
        let bound = |r: &mut Reader<'_>, key: &str| match r.integer(table, key, &what) {
            None => {
                if !table.contains_key(key) {
                    r.missing(line, &what, key);
                }
                None
            }
            Some((n, at)) => u32::try_from(n).ok().or_else(|| {
                r.problems.push(Problem {
                    line: Some(at),
                    kind: ProblemKind::AreaBounds,
                    message: format!("{what}: {key} = {n} is not a code"),
                });
                None
            }),
        };
        let start = bound(self, "start");
        let end = bound(self, "end");
        Some(Located { value: Area { name, start: start?, end: end? }, line })
    }

    fn group(&mut self, table: &Spanned<RawTable>) -> Option<Located<Group>> {
        let line = Some(self.line_of(table));
        let table = table.get_ref();
        self.unknown_keys(table, GROUP_KEYS, "[[group]]");
        let Some(id) = self.string(table, "id", "[[group]]") else {
            if !table.contains_key("id") {
                self.missing(line, "[[group]]", "id");
            }
            return None;
        };
        let what = format!("group {id:?}");
        let mut titles = BTreeMap::new();
        match self.string(table, "title", &what) {
            Some(title) => {
                titles.insert("en".to_owned(), title);
            }
            None if !table.contains_key("title") => self.missing(line, &what, "title"),
            None => {}
        }
        if let Some(value) = table.get("titles") {
            match value.get_ref() {
                Value::Table(map) => {
                    for (lang, title) in map {
                        match title {
                            Value::String(s) => {
                                titles.insert(lang.clone(), s.clone());
                            }
                            other => {
                                let message =
                                    format!("{what}: titles.{lang} must be a string, not {other}");
                                self.problem(value, ProblemKind::Syntax, message);
                            }
                        }
                    }
                }
                other => {
                    let message = format!(
                        "{what}: titles must be a table such as {{ ja = \"...\" }}, not {other}"
                    );
                    self.problem(value, ProblemKind::Syntax, message);
                }
            }
        }
        Some(Located { value: Group { id, titles }, line })
    }

    fn entry(&mut self, table: &Spanned<RawTable>, space: CodeSpace) -> Option<Located<Entry>> {
        let header_line = Some(self.line_of(table));
        let table = table.get_ref();
        self.unknown_keys(table, ENTRY_KEYS, "[[entry]]");
        let line = table.get("code").map(|v| self.line_of(v)).or(header_line);
        let code = self.code(table, space, header_line)?;
        let shown = space.format(code);
        let what = format!("entry {shown}");
        let reason = self.string(table, "reason", &what).unwrap_or_default();
        let message = self.string(table, "message", &what).unwrap_or_else(|| reason.clone());
        let http_status = match self.integer(table, "http_status", &what) {
            Some((n, at)) => u16::try_from(n).ok().and_then(HttpStatus::new).or_else(|| {
                self.problems.push(Problem {
                    line: Some(at),
                    kind: ProblemKind::HttpStatusOutOfRange,
                    message: format!("{what}: HTTP status {n} is outside 100–599"),
                });
                None
            }),
            None => {
                if !table.contains_key("http_status") {
                    self.missing(line, &what, "http_status");
                }
                None
            }
        };
        let group = self.string(table, "group", &what).unwrap_or_else(|| {
            if !table.contains_key("group") {
                self.missing(line, &what, "group");
            }
            String::new()
        });
        let class = self.named(table, "class", &what).unwrap_or(crate::Class::Unknown);
        let retry = self.named(table, "retry", &what).unwrap_or(crate::Retry::Never);
        let source = self.named(table, "source", &what).unwrap_or(Source::Documented);
        let outside_areas = match table.get("outside_areas") {
            None => false,
            Some(value) => match value.get_ref() {
                Value::Boolean(b) => *b,
                other => {
                    let message =
                        format!("{what}: outside_areas must be true or false, not {other}");
                    self.problem(value, ProblemKind::Syntax, message);
                    false
                }
            },
        };
        let value = Entry {
            code,
            reason,
            message,
            explanation: self.string(table, "explanation", &what).unwrap_or_default(),
            // A missing or bad status has been reported; OK keeps the remaining checks going,
            // and the reported problem keeps the registry from being built.
            http_status: http_status.unwrap_or(HttpStatus::OK),
            group,
            class,
            retry,
            advice: self.string(table, "advice", &what).unwrap_or_default(),
            source,
            evidence: self.string(table, "evidence", &what).unwrap_or_default(),
            template: self.string(table, "template", &what),
            outside_areas,
        };
        Some(Located { value, line })
    }

    fn code(&mut self, table: &RawTable, space: CodeSpace, line: Option<usize>) -> Option<u32> {
        let Some(value) = table.get("code") else {
            self.missing(line, "[[entry]]", "code");
            return None;
        };
        let parsed = match (value.get_ref(), space.format) {
            (Value::Integer(n), CodeFormat::Integer) => match u32::try_from(*n) {
                Ok(code) if space.contains(code) => Ok(code),
                _ => Err(format!("code {n} is outside the code space ({space})")),
            },
            (Value::String(s), CodeFormat::Digits(_)) => space.parse(s).map_err(|e| e.to_string()),
            (Value::Integer(n), CodeFormat::Digits(width)) => Err(format!(
                "code {n} must be written as a {width}-digit string, e.g. {:?}",
                space.format(u32::try_from(*n).unwrap_or(0))
            )),
            (other, CodeFormat::Integer) => Err(format!("code must be an integer, not {other}")),
            (other, CodeFormat::Digits(width)) => {
                Err(format!("code must be a {width}-digit string, not {other}"))
            }
        };
        match parsed {
            Ok(code) => Some(code),
            Err(message) => {
                self.problem(value, ProblemKind::CodeOutsideSpace, message);
                None
            }
        }
    }

    fn named<T>(&mut self, table: &RawTable, key: &str, what: &str) -> Option<T>
    where
        T: std::str::FromStr<Err = crate::UnknownName>,
    {
        let value = table.get(key)?;
        let text = self.string(table, key, what)?;
        match text.parse() {
            Ok(parsed) => Some(parsed),
            Err(err) => {
                self.problem(value, ProblemKind::BadValue, format!("{what}: {err}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
api = "acme"
name = "ACME"
code_min = 0
code_max = 9999

[[area]]
name = "client"
start = 1000
end = 1999

[[area]]
name = "auth"
start = 1300
end = 1399

[[group]]
id = "g"
title = "Errors"
titles = { ja = "エラー" }

[[entry]]
code = 1301
reason = "Bad key"
http_status = 401
group = "g"
class = "authentication"
retry = "reauthenticate"

[[entry]]
code = 1301
reason = "Bad key"
message = "bad key!"
http_status = 401
group = "g"
source = "observed"
evidence = "seen once"
"#;

    fn kinds(text: &str) -> Vec<(Option<usize>, ProblemKind)> {
        lint(text).into_iter().map(|p| (p.line, p.kind)).collect()
    }

    #[test]
    fn a_good_file_loads_with_defaults_filled() {
        let registry = Registry::from_toml(GOOD).expect("loads");
        let entry = registry.get(1301).expect("1301");
        assert_eq!(entry.message, "Bad key");
        assert_eq!(entry.class, crate::Class::Authentication);
        assert_eq!(registry.rows(1301).count(), 2);
        assert_eq!(registry.group("g").map(|g| g.title("ja")), Some("エラー"));
        assert_eq!(registry.area_of(1301).map(|a| a.name.as_str()), Some("auth"));
    }

    #[test]
    fn export_reads_back_identically() {
        let registry = Registry::from_toml(GOOD).expect("loads");
        let again = Registry::from_toml(&registry.to_toml()).expect("export loads");
        assert_eq!(registry.entries(), again.entries());
        assert_eq!(registry.areas(), again.areas());
        assert_eq!(registry.groups(), again.groups());
        assert_eq!(registry.to_toml(), again.to_toml());
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let problems = lint("api = \"x\"\n[[entry]\ncode = 1\n");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].kind), (Some(2), ProblemKind::Syntax));
    }

    #[test]
    fn a_wrong_type_is_reported_with_its_line_and_value() {
        let text = GOOD.replace(
            "http_status = 401\ngroup = \"g\"\nclass",
            "http_status = \"401\"\ngroup = \"g\"\nclass",
        );
        let problems = lint(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::Syntax);
        assert!(problems[0].message.contains("\"401\""), "{}", problems[0].message);
    }

    #[test]
    fn unknown_keys_and_names_are_reported() {
        let text = GOOD.replace("retry = \"reauthenticate\"", "retry = \"later\"\nretyr = 1");
        let found = kinds(&text);
        assert!(found.contains(&(Some(28), ProblemKind::BadValue)), "{found:?}");
        assert!(found.contains(&(Some(29), ProblemKind::UnknownKey)), "{found:?}");
    }

    #[test]
    fn digit_codes_must_be_strings_of_the_right_width() {
        let text = "api = \"t\"\ncode_digits = 4\n[[group]]\nid = \"g\"\ntitle = \"G\"\n[[entry]]\ncode = 7\nreason = \"r\"\nhttp_status = 400\ngroup = \"g\"\n[[entry]]\ncode = \"07\"\nreason = \"r\"\nhttp_status = 400\ngroup = \"g\"\n";
        let problems = lint(text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("\"0007\""), "{}", problems[0].message);
        assert_eq!(problems[1].line, Some(12));
    }
}
