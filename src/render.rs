//! How entries and areas are shown: text for people, JSON, CSV and Markdown for programs.

use std::io::IsTerminal;

use devfault_core::{Area, CodeFormat, CodeSpace, Entry, Hole, Registry, Source};
use serde_json::{Value, json};

use crate::apis::Lang;

/// `name (start–end)`, the bounds written as the code space writes codes (`0000`).
pub fn area_label(space: CodeSpace, area: &Area) -> String {
    format!("{} ({}–{})", area.name, space.format(area.start), space.format(area.end))
}

/// The innermost area of `code`, outermost last: `Audio service area. (40800–40999), in user
/// area (32768–65535)`; `None` outside every area.
pub fn area_path(registry: &Registry, code: u32) -> Option<String> {
    let location = registry.locate(code);
    let mut path = location.path.iter().rev().map(|a| area_label(registry.space(), a));
    let first = path.next()?;
    Some(path.fold(first, |acc, outer| format!("{acc}, in {outer}")))
}

/// A sentence placing `hole`: `an unallocated hole (41800–41999) of user area (32768–65535),
/// between Browser service area. (41600–41799) and accessControl service. (42000–42199)`.
pub fn hole_sentence(space: CodeSpace, hole: &Hole<'_>) -> String {
    let area_label = |area| area_label(space, area);
    let mut text =
        format!("an unallocated hole ({}–{})", space.format(hole.start), space.format(hole.end));
    if let Some(parent) = hole.parent {
        text.push_str(&format!(" of {}", area_label(parent)));
    }
    match (hole.before, hole.after) {
        (Some(before), Some(after)) => {
            text.push_str(&format!(", between {} and {}", area_label(before), area_label(after)));
        }
        (Some(before), None) => text.push_str(&format!(", after {}", area_label(before))),
        (None, Some(after)) => text.push_str(&format!(", before {}", area_label(after))),
        (None, None) => {}
    }
    text
}

/// The JSON form of an entry: the fields fixed by DESIGN.md, then devfault's additions.
pub fn entry_json(registry: &Registry, entry: &Entry, lang: Lang) -> Value {
    let group = registry.group(&entry.group).map_or(entry.group.as_str(), |g| g.title(lang.tag()));
    let mut value = json!({
        "api": registry.api(),
        "code": registry.space().to_json(entry.code),
        "reason": entry.reason,
        "message": entry.message,
        "explanation": entry.explanation,
        "http_status": entry.http_status.as_u16(),
        "group": group,
        "area": registry.area_of(entry.code).map(|a| a.name.as_str()),
        "class": entry.class,
        "retry": entry.retry,
        "source": entry.source,
        "advice": entry.advice,
        "group_id": entry.group,
    });
    if let Some(map) = value.as_object_mut() {
        if !entry.evidence.is_empty() {
            map.insert("evidence".into(), json!(entry.evidence));
        }
        if let Some(template) = &entry.template {
            map.insert("template".into(), json!(template));
        }
    }
    value
}

/// The response a server sends for the entry, as the API's envelope (an example: BRAVIA's id
/// and ThinQ's messageId and timestamp are per request). The bodies come from the vendors'
/// own encoders, so the example is byte for byte what the emulator sends.
pub fn wire_example(registry: &Registry, entry: &Entry) -> String {
    let (status, body) = match registry.space().format {
        CodeFormat::Integer => devfault_bravia::wire::encode_error(entry, Some(1)),
        CodeFormat::Digits(_) => (
            entry.http_status,
            devfault_thinq::wire::error_envelope(
                &registry.space().format(entry.code),
                &entry.message,
                "fNvdZ1brTn-wWKUlWGoSVw",
                "2019-06-25T04:52:18.370732",
            ),
        ),
    };
    format!("HTTP {status} + {}", String::from_utf8_lossy(&body))
}

/// Bold headings on a terminal that accepts colour; plain text into pipes and files.
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Styling decided from stdout and `NO_COLOR`.
    pub fn for_stdout() -> Style {
        let enabled = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Style { enabled }
    }

    /// No styling: text for a page or a file, whatever stdout is.
    pub fn plain() -> Style {
        Style { enabled: false }
    }

    /// `text` in bold when styling is on.
    pub fn bold(&self, text: &str) -> String {
        if self.enabled { format!("\x1b[1m{text}\x1b[0m") } else { text.to_owned() }
    }

    /// `text` dimmed when styling is on.
    pub fn dim(&self, text: &str) -> String {
        if self.enabled { format!("\x1b[2m{text}\x1b[0m") } else { text.to_owned() }
    }
}

/// The explanation of one entry for people, label per line.
pub fn entry_text(registry: &Registry, entry: &Entry, lang: Lang, style: &Style) -> String {
    let code = registry.space().format(entry.code);
    let mut out = style.bold(&format!("{} {code} — {}", registry.api(), entry.reason));
    out.push('\n');
    let mut field = |label: &str, value: &str| {
        for (i, line) in value.lines().enumerate() {
            let label = if i == 0 { label } else { "" };
            out.push_str(&format!("  {label:<12} {line}\n"));
        }
    };
    let mut message = format!("{:?}", entry.message);
    if let Some(placeholder) = &entry.template {
        // The page's own examples: "Command not supported in HEAT" and "... in STANDBY".
        let value = if placeholder.contains("MODE") { "STANDBY" } else { "HEAT" };
        let example = entry.render(value).unwrap_or_default();
        message.push_str(&format!(
            " — the server puts the state or mode in place of {placeholder}, e.g. {example:?}"
        ));
    }
    field("message", &message);
    field("explanation", &entry.explanation);
    field("wire", &wire_example(registry, entry));
    let group = registry.group(&entry.group).map_or(entry.group.as_str(), |g| g.title(lang.tag()));
    field("group", group);
    let area = match area_path(registry, entry.code) {
        Some(path) => path,
        None if entry.outside_areas => {
            "none — the code lies outside every area the document defines".to_owned()
        }
        None => "none".to_owned(),
    };
    field("area", &area);
    let source = if entry.source == Source::Observed {
        format!("observed in the field, not in the documentation — {}", entry.evidence)
    } else {
        format!("{} ({})", entry.source, registry.name())
    };
    field("source", &source);
    field("class", &format!("{} — {}", entry.class, entry.class.description()));
    field("retry", &format!("{} — {}", entry.retry, entry.retry.description()));
    field("advice", &entry.advice);
    out
}

/// Quotes a Markdown table cell.
pub fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hole_sentence_names_both_neighbours() {
        let registry = devfault_bravia::registry();
        let location = registry.locate(41850);
        let hole = location.hole.as_ref().expect("hole");
        assert_eq!(
            hole_sentence(registry.space(), hole),
            "an unallocated hole (41800–41999) of user area (32768–65535), between Browser service area. (41600–41799) and accessControl service. (42000–42199)"
        );
    }

    #[test]
    fn the_json_entry_has_the_design_fields() {
        let registry = devfault_bravia::registry();
        let entry = registry.get(40801).expect("40801");
        let value = entry_json(registry, entry, Lang::En);
        for field in [
            "api",
            "code",
            "reason",
            "message",
            "explanation",
            "http_status",
            "group",
            "area",
            "class",
            "retry",
            "source",
            "advice",
        ] {
            assert!(value.get(field).is_some(), "{field}");
        }
        assert_eq!(value["code"], json!(40801));
        assert_eq!(value["area"], json!("Audio service area."));
        assert_eq!(value["group"], json!("audio Service Error Code"));
        assert_eq!(
            entry_json(registry, entry, Lang::Ja)["group"],
            json!("audio サービスエラーコード")
        );
    }

    #[test]
    fn the_wire_example_is_the_vendor_envelope() {
        let registry = devfault_bravia::registry();
        let entry = registry.get(40801).expect("40801");
        assert_eq!(
            wire_example(registry, entry),
            r#"HTTP 200 OK + {"error":[40801,"Volume Out of Range"],"id":1}"#
        );
        let registry = devfault_thinq::registry();
        let entry = registry.get(2304).expect("2304");
        assert_eq!(
            wire_example(registry, entry),
            r#"HTTP 400 Bad Request + {"messageId":"fNvdZ1brTn-wWKUlWGoSVw","timestamp":"2019-06-25T04:52:18.370732","error":{"message":"Command not supported in POWER OFF","code":"2304"}}"#
        );
    }
}
