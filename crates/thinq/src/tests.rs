//! The ThinQ table against the page it comes from, and every classification choice pinned.

use super::*;
use devfault_core::Area;
use devfault_core::{Class, CodeErrorReason, Retry, Source};

const SEED: &str = include_str!("../seed/common-response.txt");

/// One row of the page's "Error Code of ThinQ Connect APIs" table.
#[derive(Debug, PartialEq)]
struct SeedRow {
    code: u32,
    reason: String,
    message: String,
    explanation: String,
    http: u16,
}

/// The page's text rules: a cell is trimmed of surrounding whitespace, no-break spaces
/// included (HTML residue), and typographic apostrophes become ASCII; nothing else changes.
fn cell(paragraph: &str) -> String {
    paragraph.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}').replace('’', "'")
}

/// The page's paragraphs (blocks between blank lines), each cleaned by [`cell`].
fn paragraphs(seed: &str) -> Vec<String> {
    seed.split("\n\n").map(cell).collect()
}

fn is_digits(text: &str, width: usize) -> bool {
    text.len() == width && text.bytes().all(|b| b.is_ascii_digit())
}

/// Reads the code table: a paragraph of exactly four digits starts a row, the next is its
/// Text, the following ones its Description, up to a paragraph of exactly three digits (the
/// HTTP Code). The table ends at "Response Message".
fn seed_rows() -> Vec<SeedRow> {
    let paragraphs = paragraphs(SEED);
    let start = paragraphs
        .iter()
        .position(|p| p == "Error Code of ThinQ Connect APIs")
        .expect("the page has the code table");
    let mut rows = Vec::new();
    let mut rest = paragraphs[start + 1..].iter();
    while let Some(paragraph) = rest.next() {
        if paragraph == "Response Message" {
            break;
        }
        if !is_digits(paragraph, 4) {
            continue;
        }
        let code = paragraph.parse().expect("four digits");
        let text = rest.next().expect("a Text cell").clone();
        let mut description = Vec::new();
        let http = loop {
            let next = rest.next().expect("an HTTP Code cell ends the row");
            if is_digits(next, 3) {
                break next.parse().expect("three digits");
            }
            description.push(next.as_str());
        };
        rows.push(SeedRow {
            code,
            reason: text.clone(),
            message: text,
            explanation: description.join("\n"),
            http,
        });
    }
    rows
}

/// Reads the rule table ("1000 Client Error", "11xx Parameter"...) as areas: `N000` is the
/// whole N-thousand family, `NNxx` the hundred it names.
fn seed_rules() -> Vec<(u32, u32, String)> {
    let paragraphs = paragraphs(SEED);
    let start = paragraphs.iter().position(|p| p == "Rules").expect("the page has rules");
    let end = paragraphs
        .iter()
        .position(|p| p == "Error Code of ThinQ Connect APIs")
        .expect("the page has the code table");
    let cells: Vec<&String> = paragraphs[start..end].iter().filter(|p| !p.is_empty()).collect();
    let mut rules = Vec::new();
    for pair in cells.windows(2) {
        let (head, name) = (pair[0].as_str(), pair[1].clone());
        if is_digits(head, 4) && head.ends_with("000") {
            let start: u32 = head.parse().expect("four digits");
            rules.push((start, start + 999, name));
        } else if let Some(hundred) = head.strip_suffix("xx").filter(|h| is_digits(h, 2)) {
            let start = hundred.parse::<u32>().expect("two digits") * 100;
            rules.push((start, start + 99, name));
        }
    }
    rules
}

fn documented() -> Vec<&'static Entry> {
    registry().entries().iter().filter(|e| e.source == Source::Documented).collect()
}

#[test]
fn every_row_of_the_page_is_in_the_registry_byte_for_byte() {
    let seed = seed_rows();
    assert_eq!(seed.len(), 60);
    let ours: Vec<SeedRow> = documented()
        .iter()
        .map(|entry| SeedRow {
            code: entry.code,
            reason: entry.reason.clone(),
            message: entry.message.clone(),
            explanation: entry.explanation.clone(),
            http: entry.http_status.as_u16(),
        })
        .collect();
    assert_eq!(ours, seed);
    for entry in documented() {
        assert_eq!(entry.group, "error_codes", "{}", entry.code);
    }
}

#[test]
fn multi_paragraph_and_padded_cells_follow_the_text_rules() {
    assert_eq!(
        Code::COMMAND_NOT_SUPPORTED_IN_STATE.entry().explanation,
        "In the state, the control command is not supported.\n• e.g. \"Command not supported in HEAT (2302)\""
    );
    assert_eq!(
        Code::SYNCING.entry().explanation,
        "Synchronizing the ModelJSON is in progress.\n(Air solution products)"
    );
    assert_eq!(Code::NOT_SUBSCRIBABLE_DEVICE.entry().reason, "Not subscribable device");
    assert_eq!(Code::NOT_CONNECTED_DEVICE.entry().explanation, "The device is not connected.");
    for entry in registry().entries() {
        for text in [&entry.reason, &entry.message, &entry.explanation] {
            assert_eq!(text.as_str(), cell(text), "{} is trimmed", entry.code);
            assert!(!text.contains('’'), "{} has ASCII apostrophes", entry.code);
        }
    }
}

#[test]
fn the_areas_are_the_rule_table() {
    let seed = seed_rules();
    let names: Vec<&str> = seed.iter().map(|(_, _, name)| name.as_str()).collect();
    assert_eq!(names, ["Client Error", "Parameter", "Resources", "Authority", "Server Error"]);
    let ours: Vec<(u32, u32, String)> =
        registry().areas().iter().map(|a| (a.start, a.end, a.name.clone())).collect();
    assert_eq!(ours, seed);
    let depths: Vec<usize> = (0..ours.len()).map(|i| registry().depth(i)).collect();
    assert_eq!(depths, [0, 1, 1, 1, 0]);
}

#[test]
fn every_documented_code_but_0000_lies_in_an_area() {
    for entry in registry().entries() {
        assert_eq!(registry().area_of(entry.code).is_none(), entry.code == 0, "{}", entry.code);
        assert_eq!(entry.outside_areas, entry.code == 0, "{}", entry.code);
    }
    let path = |code: u32| -> Vec<&str> {
        registry().locate(code).path.iter().map(|a| a.name.as_str()).collect()
    };
    assert_eq!(path(1222), ["Client Error", "Resources"]);
    assert_eq!(path(1314), ["Client Error", "Authority"]);
    assert_eq!(path(2304), ["Server Error"]);
}

/// A hole as (start, end, parent, before, after), areas by name.
type HoleRow<'r> = (u32, u32, Option<&'r str>, Option<&'r str>, Option<&'r str>);

fn name(area: Option<&Area>) -> Option<&str> {
    area.map(|a| a.name.as_str())
}

#[test]
fn holes_are_the_stretches_the_rule_table_leaves_open() {
    let holes: Vec<HoleRow<'_>> = registry()
        .holes()
        .iter()
        .map(|h| (h.start, h.end, name(h.parent), name(h.before), name(h.after)))
        .collect();
    assert_eq!(
        holes,
        [
            (0, 999, None, None, Some("Client Error")),
            (1000, 1099, Some("Client Error"), None, Some("Parameter")),
            (1400, 1999, Some("Client Error"), Some("Authority"), None),
            (3000, 9999, None, Some("Server Error"), None),
        ]
    );
    let zero = registry().locate(0);
    assert!(zero.path.is_empty());
    assert_eq!(zero.hole.map(|h| (h.start, h.end)), Some((0, 999)));
    // 1000 is the rule table's "Client Error" itself: in the class, in none of its hundreds.
    let bad_request = registry().locate(1000);
    assert_eq!(bad_request.path.len(), 1);
    assert_eq!(bad_request.hole.map(|h| (h.start, h.end)), Some((1000, 1099)));
    assert!(registry().locate(2214).hole.is_none());
}

#[test]
fn groups_are_the_pages_table_and_the_observed_rows() {
    let titles: Vec<(&str, &str, &str)> =
        registry().groups().iter().map(|g| (g.id.as_str(), g.title("en"), g.title("ja"))).collect();
    assert_eq!(
        titles,
        [
            ("error_codes", "Error Code of ThinQ Connect APIs", "Error Code of ThinQ Connect APIs"),
            (
                "observed",
                "Observed in the field (not in the documentation)",
                "実機で確認されたコード（ドキュメント未記載）"
            ),
        ]
    );
    let error_codes = registry().group("error_codes").expect("defined");
    assert_eq!(error_codes.titles.len(), 1, "the page has no Japanese edition");
    assert!(paragraphs(SEED).iter().any(|p| p == error_codes.title("en")));
}

#[test]
fn counts_per_group() {
    let counts: Vec<usize> = GROUPS.iter().map(|(id, _)| registry().in_group(id).count()).collect();
    assert_eq!(counts, [60, OBSERVED_ROWS.len()]);
    assert_eq!(registry().entries().len(), 60 + OBSERVED_ROWS.len());
}

/// Every row's class and retry advice. Changing a choice means changing this list.
const PINNED: &[(u32, &str, Class, Retry)] = &[
    (0, "Unknown error", Class::Unknown, Retry::Never),
    (1000, "Bad request", Class::MalformedRequest, Retry::Never),
    (1101, "Missing parameters", Class::MalformedRequest, Retry::Never),
    (1102, "Unacceptable parameters", Class::MalformedRequest, Retry::Never),
    (1103, "Invalid token", Class::Authentication, Retry::Reauthenticate),
    (1104, "Invalid message id", Class::MalformedRequest, Retry::Never),
    (1201, "Not registered admin", Class::NotFound, Retry::Never),
    (1202, "Not registered user", Class::NotFound, Retry::Never),
    (1203, "Not registered service", Class::NotFound, Retry::Never),
    (1204, "Not subscribed event", Class::NotFound, Retry::Never),
    (1205, "Not registered device", Class::NotFound, Retry::Never),
    (1206, "Not subscribed push", Class::NotFound, Retry::Never),
    (1207, "Already subscribed push", Class::AlreadyExists, Retry::Never),
    (1208, "Not registered service by admin", Class::NotFound, Retry::Never),
    (1209, "Not registered user in service", Class::NotFound, Retry::Never),
    (1210, "Not registered device in service", Class::NotFound, Retry::Never),
    (1211, "Not registered device by user", Class::NotFound, Retry::Never),
    (1212, "Not owned device", Class::Permission, Retry::Never),
    (1213, "Not registered device", Class::NotFound, Retry::Never),
    (1214, "Not subscribable device", Class::Unsupported, Retry::Never),
    (1216, "Incorrect Header", Class::MalformedRequest, Retry::Never),
    (1217, "Already device deleted", Class::NotFound, Retry::Never),
    (1218, "Invalid token", Class::Authentication, Retry::Reauthenticate),
    (1219, "Not supported model", Class::Unsupported, Retry::Never),
    (1220, "Not supported feature", Class::Unsupported, Retry::Never),
    (1221, "Not supported product", Class::Unsupported, Retry::Never),
    (1222, "Not connected device", Class::DeviceUnreachable, Retry::AfterStateChange),
    (1223, "Invalid status device", Class::Server, Retry::BackOff),
    (1224, "Invalid device Id", Class::NotFound, Retry::Never),
    (1225, "Duplicate device Id", Class::Server, Retry::Never),
    (1301, "Invalid service key", Class::Authentication, Retry::Reauthenticate),
    (1302, "Not found token", Class::Authentication, Retry::Reauthenticate),
    (1303, "Not found user", Class::Authentication, Retry::Reauthenticate),
    (1304, "Not acceptable terms", Class::Permission, Retry::Never),
    (1305, "Not allowed api", Class::Permission, Retry::Never),
    (1306, "Exceeded API calls", Class::RateLimit, Retry::AfterQuotaReset),
    (1307, "Not supported country", Class::Permission, Retry::Never),
    (1308, "No control authority", Class::Permission, Retry::AfterStateChange),
    (1309, "Not allowed API", Class::Permission, Retry::Never),
    (1310, "Not supported domain", Class::Permission, Retry::Never),
    (1311, "Bad request format", Class::MalformedRequest, Retry::Never),
    (1312, "Exceeded number of event subscription", Class::RateLimit, Retry::Never),
    (2000, "Internal server error", Class::Server, Retry::BackOff),
    (2101, "Not supported model", Class::Unsupported, Retry::Never),
    (2201, "Not provided feature", Class::Unsupported, Retry::Never),
    (2202, "Not supported product", Class::Unsupported, Retry::Never),
    (2203, "Not existent model JSON", Class::Unsupported, Retry::Never),
    (2205, "Invalid device status", Class::Server, Retry::BackOff),
    (2207, "Invalid command error", Class::MalformedRequest, Retry::Never),
    (2208, "Fail device control", Class::Server, Retry::BackOff),
    (2209, "Device response delay", Class::Transient, Retry::BackOff),
    (2210, "Retry request", Class::Transient, Retry::BackOff),
    (2212, "Syncing", Class::Transient, Retry::BackOff),
    (2213, "Retry after deleting device", Class::DeviceState, Retry::AfterStateChange),
    (2214, "Fail Request", Class::Server, Retry::Never),
    (2301, "Command not supported in REMOTE OFF", Class::DeviceState, Retry::AfterStateChange),
    (2302, "Command not supported in (STATE)", Class::DeviceState, Retry::AfterStateChange),
    (2303, "Command not supported in ERROR", Class::DeviceState, Retry::AfterStateChange),
    (2304, "Command not supported in POWER OFF", Class::DeviceState, Retry::AfterStateChange),
    (2305, "Command not supported in (MODE)", Class::DeviceState, Retry::AfterStateChange),
    // Observed in the field.
    (1314, "Exceeded User API calls", Class::RateLimit, Retry::AfterQuotaReset),
];

const OBSERVED_ROWS: &[u32] = &[1314];

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
        assert!(!entry.advice.trim().is_empty() && !entry.advice.contains('\n'), "{}", entry.code);
        assert!(entry.advice.chars().count() <= 200, "advice of {} is one short line", entry.code);
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
fn the_observed_rate_limit_is_1314_with_http_401() {
    let entry = Code::EXCEEDED_USER_API_CALLS.entry();
    assert_eq!(Code::EXCEEDED_USER_API_CALLS.to_string(), "1314");
    assert_eq!(entry.source, Source::Observed);
    assert_eq!(entry.message, "Exceeded User API calls");
    assert_eq!(entry.http_status.as_u16(), 401);
    assert!(entry.evidence.contains("pythinqconnect#14"), "{}", entry.evidence);
    assert_eq!(registry().area_of(1314).map(|a| a.name.as_str()), Some("Authority"));
}

#[test]
fn every_code_round_trips_through_its_four_digit_form() {
    for entry in registry().entries() {
        let written = SPACE.format(entry.code);
        assert_eq!(written.len(), 4);
        let code: Code = written.parse().expect("parses");
        assert_eq!(code.to_string(), written);
        assert_eq!(u32::from(code.as_u16()), entry.code);
        assert_eq!(code.entry_opt().map(|e| e.code), Some(entry.code));
        assert_eq!(code.entry().source, entry.source);
    }
    assert_eq!("0000".parse::<Code>().map(|c| c.to_string()).as_deref(), Ok("0000"));
    assert_eq!(Code::from_static(2304).to_string(), "2304");
    assert_eq!(Code::UNKNOWN_ERROR.to_string(), "0000");
    assert_eq!(Code::from_static(7).to_string(), "0007");
}

#[test]
fn only_four_digits_are_a_code() {
    let reason = |text: &str| text.parse::<Code>().map_err(|e| e.reason);
    assert_eq!(reason("0"), Err(CodeErrorReason::Width));
    assert_eq!(reason("000"), Err(CodeErrorReason::Width));
    assert_eq!(reason("10000"), Err(CodeErrorReason::Width));
    assert_eq!(reason("12a4"), Err(CodeErrorReason::NotDigits));
    assert_eq!(reason(" 1222"), Err(CodeErrorReason::NotDigits));
    assert_eq!(reason("9999"), Ok(Code::from_static(9999)));
    assert_eq!(Code::new(9999), Some(Code::from_static(9999)));
    assert_eq!(Code::new(10000), None);
    assert_eq!(Code::new(70000), None);
    assert_eq!(Code::from_static(1215).entry_opt(), None);
}

#[test]
#[should_panic(expected = "four digits")]
fn from_static_refuses_five_digits_at_run_time() {
    let value = std::hint::black_box(10000);
    let _ = Code::from_static(value);
}

/// The SDK's `ThinQAPIErrorCodes` (thinqconnect 1.0.14): member name and value.
const SDK: &[(Code, &str)] = &[
    (Code::UNKNOWN_ERROR, "0000"),
    (Code::BAD_REQUEST, "1000"),
    (Code::MISSING_PARAMETERS, "1101"),
    (Code::UNACCEPTABLE_PARAMETERS, "1102"),
    (Code::INVALID_TOKEN, "1103"),
    (Code::INVALID_MESSAGE_ID, "1104"),
    (Code::NOT_REGISTERED_ADMIN, "1201"),
    (Code::NOT_REGISTERED_USER, "1202"),
    (Code::NOT_REGISTERED_SERVICE, "1203"),
    (Code::NOT_SUBSCRIBED_EVENT, "1204"),
    (Code::NOT_EXIST_DEVICE, "1205"),
    (Code::NOT_SUBSCRIBED_PUSH, "1206"),
    (Code::ALREADY_SUBSCRIBED_PUSH, "1207"),
    (Code::NOT_REGISTERED_SERVICE_BY_ADMIN, "1208"),
    (Code::NOT_REGISTERED_USER_IN_SERVICE, "1209"),
    (Code::NOT_REGISTERED_DEVICE_IN_SERVICE, "1210"),
    (Code::NOT_REGISTERED_DEVICE_BY_USER, "1211"),
    (Code::NOT_OWNED_DEVICE, "1212"),
    (Code::NOT_REGISTERED_DEVICE, "1213"),
    (Code::NOT_SUBSCRIBABLE_DEVICE, "1214"),
    (Code::INCORRECT_HEADER, "1216"),
    (Code::ALREADY_DEVICE_DELETED, "1217"),
    (Code::INVALID_TOKEN_AGAIN, "1218"),
    (Code::NOT_SUPPORTED_MODEL, "1219"),
    (Code::NOT_SUPPORTED_FEATURE, "1220"),
    (Code::NOT_SUPPORTED_PRODUCT, "1221"),
    (Code::NOT_CONNECTED_DEVICE, "1222"),
    (Code::INVALID_STATUS_DEVICE, "1223"),
    (Code::INVALID_DEVICE_ID, "1224"),
    (Code::DUPLICATE_DEVICE_ID, "1225"),
    (Code::INVALID_SERVICE_KEY, "1301"),
    (Code::NOT_FOUND_TOKEN, "1302"),
    (Code::NOT_FOUND_USER, "1303"),
    (Code::NOT_ACCEPTABLE_TERMS, "1304"),
    (Code::NOT_ALLOWED_API, "1305"),
    (Code::EXCEEDED_API_CALLS, "1306"),
    (Code::NOT_SUPPORTED_COUNTRY, "1307"),
    (Code::NO_CONTROL_AUTHORITY, "1308"),
    (Code::NOT_ALLOWED_API_AGAIN, "1309"),
    (Code::NOT_SUPPORTED_DOMAIN, "1310"),
    (Code::BAD_REQUEST_FORMAT, "1311"),
    (Code::EXCEEDED_NUMBER_OF_EVENT_SUBSCRIPTION, "1312"),
    (Code::INTERNAL_SERVER_ERROR, "2000"),
    (Code::NOT_SUPPORTED_MODEL_AGAIN, "2101"),
    (Code::NOT_PROVIDED_FEATURE, "2201"),
    (Code::NOT_SUPPORTED_PRODUCT_AGAIN, "2202"),
    (Code::NOT_EXISTENT_MODEL_JSON, "2203"),
    (Code::INVALID_DEVICE_STATUS, "2205"),
    (Code::INVALID_COMMAND_ERROR, "2207"),
    (Code::FAIL_DEVICE_CONTROL, "2208"),
    (Code::DEVICE_RESPONSE_DELAY, "2209"),
    (Code::RETRY_REQUEST, "2210"),
    (Code::SYNCING, "2212"),
    (Code::RETRY_AFTER_DELETING_DEVICE, "2213"),
    (Code::FAIL_REQUEST, "2214"),
    (Code::COMMAND_NOT_SUPPORTED_IN_REMOTE_OFF, "2301"),
    (Code::COMMAND_NOT_SUPPORTED_IN_STATE, "2302"),
    (Code::COMMAND_NOT_SUPPORTED_IN_ERROR, "2303"),
    (Code::COMMAND_NOT_SUPPORTED_IN_POWER_OFF, "2304"),
    (Code::COMMAND_NOT_SUPPORTED_IN_MODE, "2305"),
];

#[test]
fn constants_carry_the_sdk_names_and_values_and_name_documented_rows() {
    let codes: Vec<String> = SDK.iter().map(|(code, _)| code.to_string()).collect();
    let values: Vec<&str> = SDK.iter().map(|&(_, value)| value).collect();
    assert_eq!(codes, values);
    let documented: Vec<u32> = documented().iter().map(|e| e.code).collect();
    let constants: Vec<u32> = SDK.iter().map(|(code, _)| u32::from(code.as_u16())).collect();
    assert_eq!(constants, documented);
    for (code, _) in SDK {
        assert_eq!(code.entry().source, Source::Documented, "{code}");
    }
}

#[test]
fn repeated_texts_stay_distinct_codes() {
    let codes =
        |text: &str| -> Vec<u32> { registry().find_text(text).iter().map(|e| e.code).collect() };
    assert_eq!(codes("invalid token"), [1103, 1218]);
    assert_eq!(codes("Not registered device"), [1205, 1213]);
    assert_eq!(codes("Not supported model"), [1219, 2101]);
    assert_eq!(codes("Not supported product"), [1221, 2202]);
    assert_eq!(codes("not allowed API"), [1305, 1309]);
}

#[test]
fn reverse_lookup_is_case_insensitive_and_falls_back_to_templates() {
    let hits = |text: &str| -> Vec<(u32, Source)> {
        registry().find_text(text).iter().map(|e| (e.code, e.source)).collect()
    };
    assert_eq!(hits("not connected device"), [(1222, Source::Documented)]);
    assert_eq!(hits(" Fail Request "), [(2214, Source::Documented)]);
    assert_eq!(hits("exceeded user api calls"), [(1314, Source::Observed)]);
    // A wire message with the placeholder filled in: both templated rows match it.
    assert_eq!(
        hits("Command not supported in HEAT"),
        [(2302, Source::Documented), (2305, Source::Documented)]
    );
    assert_eq!(
        hits("Command not supported in POWER_ON"),
        [(2302, Source::Documented), (2305, Source::Documented)]
    );
    // An exact text wins over the templates.
    assert_eq!(hits("Command not supported in POWER OFF"), [(2304, Source::Documented)]);
    assert_eq!(hits("command not supported in remote off"), [(2301, Source::Documented)]);
    assert!(hits("no such thing").is_empty());
}

#[test]
fn templated_rows_render_the_wire_message() {
    let state = Code::COMMAND_NOT_SUPPORTED_IN_STATE.entry();
    assert_eq!(state.template.as_deref(), Some("(STATE)"));
    assert_eq!(state.render("HEAT").as_deref(), Ok("Command not supported in HEAT"));
    assert_eq!(state.template_value("Command not supported in HEAT"), Some("HEAT"));
    let mode = Code::COMMAND_NOT_SUPPORTED_IN_MODE.entry();
    assert_eq!(mode.template.as_deref(), Some("(MODE)"));
    assert_eq!(mode.render("STANDBY").as_deref(), Ok("Command not supported in STANDBY"));
    let templated: Vec<u32> =
        registry().entries().iter().filter(|e| e.template.is_some()).map(|e| e.code).collect();
    assert_eq!(templated, [2302, 2305]);
    assert!(Code::COMMAND_NOT_SUPPORTED_IN_POWER_OFF.entry().render("HEAT").is_err());
}

#[test]
fn the_export_lints_clean_and_reads_back_identically() {
    let text = registry().to_toml();
    assert_eq!(devfault_core::lint(&text), []);
    let again = Registry::from_toml(&text).expect("loads");
    assert_eq!(again.entries(), registry().entries());
    assert_eq!(again.areas(), registry().areas());
    assert_eq!(again.groups(), registry().groups());
    assert_eq!((again.api(), again.name(), again.space()), (API, NAME, SPACE));
}
