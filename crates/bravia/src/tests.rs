//! The BRAVIA table against the page it comes from, and every classification choice pinned.

use super::*;
use devfault_core::{Class, Retry, Source};

const SEED_EN: &str = include_str!("../seed/errorcode.en.txt");
const SEED_JA: &str = include_str!("../seed/errorcode.ja.txt");

/// One code row of the page: `code Reason “error”: [code, “message”] Explanation`.
#[derive(Debug, PartialEq)]
struct SeedRow {
    code: u32,
    reason: String,
    message: String,
    explanation: String,
}

/// The page's apostrophe rule: typographic apostrophes become ASCII; nothing else changes.
fn ascii_apostrophes(text: &str) -> String {
    text.replace('’', "'")
}

/// Reads the code tables of one edition: the rows in order, and for each the index of the
/// table (0-based, counting `code Reason phrase…` header lines) it stands in.
fn seed_rows(seed: &str) -> Vec<(usize, SeedRow)> {
    let mut rows = Vec::new();
    let mut table = None;
    for line in seed.lines() {
        if line.starts_with("code Reason phrase") {
            table = Some(table.map_or(0, |t| t + 1));
            continue;
        }
        let Some((head, rest)) = line.split_once(" “error”: [") else { continue };
        let Some((code, reason)) = head.split_once(' ') else { continue };
        let Ok(code) = code.parse::<u32>() else { continue };
        let (echo, rest) = rest.split_once(", “").expect("message opens");
        assert_eq!(echo, code.to_string(), "the example repeats the code: {line}");
        let (message, explanation) = rest.split_once("”] ").expect("message closes");
        let row = SeedRow {
            code,
            reason: ascii_apostrophes(reason),
            message: ascii_apostrophes(message),
            explanation: ascii_apostrophes(explanation),
        };
        rows.push((table.expect("a row after a table header"), row));
    }
    rows
}

fn documented() -> Vec<&'static Entry> {
    registry().entries().iter().filter(|e| e.source == Source::Documented).collect()
}

#[test]
fn every_row_of_both_editions_is_in_the_registry_byte_for_byte() {
    let en = seed_rows(SEED_EN);
    let ja = seed_rows(SEED_JA);
    assert_eq!(en.len(), 46);
    assert_eq!(en, ja, "the two editions list the same rows");
    let ours = documented();
    assert_eq!(ours.len(), en.len());
    for ((table, row), entry) in en.iter().zip(ours) {
        let ours = SeedRow {
            code: entry.code,
            reason: entry.reason.clone(),
            message: entry.message.clone(),
            explanation: entry.explanation.clone(),
        };
        assert_eq!(&ours, row);
        // Table 0 is the legend.
        assert_eq!(entry.group, GROUPS[*table - 1].0, "group of {}", row.code);
    }
}

#[test]
fn group_titles_are_the_editions_lines_in_their_order() {
    for (seed, lang) in [(SEED_EN, "en"), (SEED_JA, "ja")] {
        let lines: Vec<&str> = seed.lines().collect();
        let headers: Vec<usize> =
            (0..lines.len()).filter(|&i| lines[i].starts_with("code Reason phrase")).collect();
        // The first header is the legend's; each code table has its own after that.
        assert_eq!(headers.len(), 10, "{lang}");
        let mut previous = 0;
        for (group, &header) in registry().groups().iter().zip(&headers[1..]) {
            let title = group.title(lang);
            let at = lines
                .iter()
                .position(|line| *line == title)
                .unwrap_or_else(|| panic!("{lang} title {title:?} is a line of the page"));
            assert!(previous < at && at < header, "{lang} title {title:?} heads its table");
            previous = header;
        }
    }
}

#[test]
fn counts_per_group() {
    let counts: Vec<usize> = GROUPS.iter().map(|(id, _)| registry().in_group(id).count()).collect();
    assert_eq!(counts, [7, 8, 7, 2, 1, 2, 14, 4, 1, OBSERVED_ROWS.len()]);
}

#[test]
fn the_areas_are_the_allocation_table() {
    let seed: Vec<(u32, u32, &str)> = SEED_EN
        .lines()
        .filter_map(|line| {
            let (start, rest) = line.split_once(" - ")?;
            let (end, name) = rest.split_once(' ')?;
            Some((start.parse().ok()?, end.parse().ok()?, name))
        })
        .collect();
    assert_eq!(seed.len(), 18);
    let ours: Vec<(u32, u32, &str)> =
        registry().areas().iter().map(|a| (a.start, a.end, a.name.as_str())).collect();
    assert_eq!(ours, seed);
    let depths: Vec<usize> = (0..18).map(|i| registry().depth(i)).collect();
    assert_eq!(depths, [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
}

#[test]
fn the_only_hole_is_41800_to_41999() {
    let holes = registry().holes();
    assert_eq!(holes.len(), 1);
    let hole = &holes[0];
    assert_eq!((hole.start, hole.end), (41800, 41999));
    assert_eq!(hole.parent.map(|a| a.name.as_str()), Some("user area"));
    assert_eq!(hole.before.map(|a| a.name.as_str()), Some("Browser service area."));
    assert_eq!(hole.after.map(|a| a.name.as_str()), Some("accessControl service."));
    let location = registry().locate(41850);
    assert_eq!(location.path.len(), 1);
    assert_eq!(location.hole.as_ref().map(|h| h.start), Some(41800));
    assert!(registry().locate(42700).hole.is_none());
}

#[test]
fn http_status_is_the_code_for_http_rows_and_200_for_the_rest() {
    for entry in registry().entries() {
        let expected = if entry.group == "http" { entry.code } else { 200 };
        assert_eq!(u32::from(entry.http_status.as_u16()), expected, "{}", entry.code);
    }
}

/// Every row's class and retry advice. Changing a choice means changing this list.
const PINNED: &[(u32, &str, Class, Retry)] = &[
    (401, "Unauthorized", Class::Authentication, Retry::Reauthenticate),
    (403, "Forbidden", Class::Permission, Retry::Reauthenticate),
    (404, "Not Found", Class::NotFound, Retry::Never),
    (413, "Request Entity Too Large", Class::MalformedRequest, Retry::Never),
    (414, "Request-URI Too Long", Class::MalformedRequest, Retry::Never),
    (501, "Not Implemented", Class::Unsupported, Retry::Never),
    (503, "Service Unavailable", Class::Transient, Retry::BackOff),
    (1, "Any", Class::Unknown, Retry::Never),
    (2, "Timeout", Class::Transient, Retry::BackOff),
    (3, "Illegal Argument", Class::MalformedRequest, Retry::Never),
    (5, "Illegal Request", Class::MalformedRequest, Retry::Never),
    (7, "Illegal State", Class::DeviceState, Retry::AfterStateChange),
    (12, "No Such Method", Class::Unsupported, Retry::Never),
    (14, "Unsupported Version", Class::Unsupported, Retry::Never),
    (15, "Unsupported Operation", Class::Unsupported, Retry::Never),
    (40000, "Request Retry", Class::Transient, Retry::ReissueNow),
    (40001, "Clients Over Maximum", Class::RateLimit, Retry::BackOff),
    (40002, "Encryption Failed", Class::MalformedRequest, Retry::Never),
    (40003, "Request Duplicated", Class::Busy, Retry::AfterPrevious),
    (40004, "Multiple Settings Failed", Class::PartialFailure, Retry::Never),
    (40005, "Display is turned off", Class::DeviceState, Retry::AfterStateChange),
    (40006, "Exxxx", Class::Server, Retry::Never),
    (40200, "Password expired", Class::Authentication, Retry::Reauthenticate),
    (40201, "AC power required", Class::DeviceState, Retry::AfterStateChange),
    (40600, "Screen Change in Progress", Class::Busy, Retry::AfterPrevious),
    (40800, "Target Not Supported", Class::Unsupported, Retry::Never),
    (40801, "Volume Out of Range", Class::MalformedRequest, Retry::Never),
    (41000, "Content is Protected", Class::Content, Retry::Never),
    (41001, "Content does Not Exist", Class::NotFound, Retry::Never),
    (41002, "Storage has no content.", Class::Content, Retry::Never),
    (41003, "Some content could not be deleted", Class::PartialFailure, Retry::Never),
    (41011, "Channel Fixed by USB Recording", Class::DeviceState, Retry::AfterStateChange),
    (41012, "Channel Fixed by SCART Recording", Class::DeviceState, Retry::AfterStateChange),
    (41013, "Chapter doesn't exist", Class::NotFound, Retry::Never),
    (41014, "Channel can't be uniquely determind", Class::MalformedRequest, Retry::Never),
    (41015, "Empty Channel list", Class::Content, Retry::AfterStateChange),
    (41020, "Storage doesn't exist", Class::NotFound, Retry::Never),
    (41021, "Storage is full", Class::Content, Retry::AfterStateChange),
    (41022, "Content attribute setting failed.", Class::Content, Retry::Never),
    (41023, "Unknown group id.", Class::NotFound, Retry::Never),
    (41024, "Unsupported content", Class::Unsupported, Retry::Never),
    (41400, "Another Request in Progress", Class::Busy, Retry::AfterPrevious),
    (41401, "Failed to Launch", Class::DeviceState, Retry::AfterStateChange),
    (41402, "Request In Progress", Class::Pending, Retry::Never),
    (41403, "Failed to Terminate", Class::PartialFailure, Retry::Never),
    (42400, "Key doesn't exist", Class::DeviceState, Retry::AfterStateChange),
    // Observed in the field.
    (7, "not power-on", Class::DeviceState, Retry::AfterStateChange),
    (40005, "Display Is Turned off", Class::DeviceState, Retry::AfterStateChange),
    (5, "Illegal JSON", Class::MalformedRequest, Retry::Never),
    (3, "source is invalid", Class::MalformedRequest, Retry::Never),
];

const OBSERVED_ROWS: &[u32] = &[7, 40005, 5, 3];

#[test]
fn every_choice_is_pinned() {
    let ours: Vec<(u32, &str, Class, Retry)> = registry()
        .entries()
        .iter()
        .map(|e| (e.code, e.message.as_str(), e.class, e.retry))
        .collect();
    assert_eq!(ours, PINNED);
}

#[test]
fn every_row_has_one_line_of_advice_and_observed_rows_say_where_they_were_seen() {
    for entry in registry().entries() {
        assert!(!entry.advice.is_empty() && !entry.advice.contains('\n'), "{}", entry.code);
        assert!(entry.advice.len() <= 200, "advice of {} is one short line", entry.code);
        assert_eq!(entry.source == Source::Observed, !entry.evidence.is_empty(), "{}", entry.code);
        assert_eq!(entry.source == Source::Observed, entry.group == "observed", "{}", entry.code);
    }
    let observed: Vec<u32> = registry()
        .entries()
        .iter()
        .filter(|e| e.source == Source::Observed)
        .map(|e| e.code)
        .collect();
    assert_eq!(observed, OBSERVED_ROWS);
}

#[test]
fn every_code_round_trips_through_its_written_form() {
    for entry in registry().entries() {
        let code: Code = SPACE.format(entry.code).parse().expect("parses");
        assert_eq!(u32::from(code.as_u16()), entry.code);
        assert_eq!(code.entry_opt().map(|e| e.code), Some(entry.code));
        assert_eq!(code.entry().source, Source::Documented);
    }
}

#[test]
fn constants_name_their_rows() {
    assert_eq!(Code::VOLUME_OUT_OF_RANGE.as_u16(), 40801);
    assert_eq!(Code::ILLEGAL_STATE.entry().reason, "Illegal State");
    assert_eq!(Code::DISPLAY_IS_TURNED_OFF.entry().message, "Display is turned off");
    assert_eq!(Code::PLEASE_CONTACT_THE_INQUIRY_COUNTER.entry().message, "Exxxx");
    assert_eq!(Code::from_static(41850).entry_opt(), None);
    assert_eq!(
        "70000".parse::<Code>().map_err(|e| e.reason),
        Err(devfault_core::CodeErrorReason::OutOfRange)
    );
}

#[test]
fn a_code_with_observed_variants_answers_with_the_documented_row_first() {
    let rows: Vec<&str> = registry().rows(7).map(|e| e.message.as_str()).collect();
    assert_eq!(rows, ["Illegal State", "not power-on"]);
    assert_eq!(registry().get(7).map(|e| e.source), Some(Source::Documented));
}

#[test]
fn reverse_lookup_is_case_insensitive_and_returns_every_match() {
    let hits = |text: &str| -> Vec<(u32, Source)> {
        registry().find_text(text).iter().map(|e| (e.code, e.source)).collect()
    };
    assert_eq!(hits("NOT POWER-ON"), [(7, Source::Observed)]);
    assert_eq!(
        hits("display is turned off"),
        [(40005, Source::Documented), (40005, Source::Observed)]
    );
    assert_eq!(hits("  Volume Out of Range "), [(40801, Source::Documented)]);
    assert_eq!(hits("Clients Over Maximum"), [(40001, Source::Documented)]);
    assert_eq!(hits("Client Over Maximum"), [(40001, Source::Documented)]);
    assert_eq!(hits("Illegal Request"), [(5, Source::Documented), (5, Source::Observed)]);
    assert!(hits("no such thing").is_empty());
}

#[test]
fn the_export_lints_clean_and_reads_back_identically() {
    let text = registry().to_toml();
    assert_eq!(devfault_core::lint(&text), []);
    let again = Registry::from_toml(&text).expect("loads");
    assert_eq!(again.entries(), registry().entries());
    assert_eq!(again.areas(), registry().areas());
    assert_eq!(again.groups(), registry().groups());
}
