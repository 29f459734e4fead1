//! What `devfault serve` gives the admin API for its dashboard: a journal entry's response
//! diagnosed as `devfault decode` does, and registry entries shown as `devfault explain`
//! shows them (the emulator sits below the CLI and has neither).

use devfault_core::{Entry, Registry};
use devfault_emulator::dashboard::Explainer;
use devfault_emulator::journal::JournalEntry;
use serde_json::{Value, json};

use crate::apis::{Api, Lang};
use crate::decode;
use crate::diagnose;
use crate::explain::split_query;
use crate::render::{self, Style};

/// The CLI's decoder and registries, for the admin API.
#[derive(Clone, Copy, Debug)]
pub struct CliExplainer;

impl Explainer for CliExplainer {
    fn diagnose(&self, entry: &JournalEntry, lang: Lang) -> Option<Value> {
        let response = entry.response.as_ref()?;
        let api = Api::ALL.into_iter().find(|api| api.id() == entry.api)?;
        let headers: Vec<(String, String)> =
            response.headers.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
        let message_id = entry.request.headers.get("x-message-id").map(String::as_str);
        let reason = format!("the emulator's {} device {}", api.id(), entry.device);
        let diagnosis = diagnose::diagnose(
            api,
            reason,
            response.status,
            &headers,
            response.body.as_bytes(),
            message_id,
        );
        let mut value = diagnosis.to_json(lang, true);
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "text".to_owned(),
                json!(decode::text_styled(&diagnosis, lang, &Style::plain())),
            );
            if response.body_bytes > response.body.len() {
                map.insert(
                    "note".to_owned(),
                    json!(format!(
                        "the journal kept the first {} of the body's {} bytes; the diagnosis reads those",
                        response.body.len(),
                        response.body_bytes
                    )),
                );
            }
        }
        Some(value)
    }

    fn registry(&self, api: Option<&str>, query: &str, lang: Lang) -> Result<Vec<Value>, String> {
        let forced =
            match api {
                Some(id) => Some(Api::from_prefix(id).ok_or_else(|| {
                    format!("api={id:?} is not an API here; give bravia or thinq")
                })?),
                None => None,
            };
        let found = if query.trim().is_empty() {
            Api::selected(forced)
                .into_iter()
                .flat_map(|api| api.registry().entries().iter().map(move |e| (api.registry(), e)))
                .collect()
        } else {
            let (apis, query) = split_query(query, forced).map_err(|e| e.to_string())?;
            search(&apis, query)
        };
        let style = Style::plain();
        Ok(found
            .into_iter()
            .map(|(registry, entry)| {
                let mut value = render::entry_json(registry, entry, lang);
                if let Some(map) = value.as_object_mut() {
                    map.insert(
                        "text".to_owned(),
                        json!(render::entry_text(registry, entry, lang, &style)),
                    );
                }
                value
            })
            .collect())
    }
}

/// The entries `query` finds: a code's rows when it reads as a code of some API (as
/// `explain` does), else the rows whose reason or message is the text (as `explain` finds
/// them) followed by those whose reason, message, explanation or advice contains it.
fn search(apis: &[Api], query: &str) -> Vec<(&'static Registry, &'static Entry)> {
    let mut found: Vec<(&'static Registry, &'static Entry)> = Vec::new();
    let codes: Vec<(&'static Registry, u32)> = apis
        .iter()
        .filter_map(|api| Some((api.registry(), api.registry().space().parse(query).ok()?)))
        .collect();
    if !codes.is_empty() {
        for (registry, code) in codes {
            found.extend(registry.rows(code).map(|entry| (registry, entry)));
        }
        return found;
    }
    let needle = query.trim().to_lowercase();
    for api in apis {
        let registry = api.registry();
        found.extend(registry.find_text(query).into_iter().map(|entry| (registry, entry)));
        for entry in registry.entries() {
            let contains = [&entry.reason, &entry.message, &entry.explanation, &entry.advice]
                .iter()
                .any(|text| text.to_lowercase().contains(&needle));
            if contains && !found.iter().any(|(_, seen)| std::ptr::eq(*seen, entry)) {
                found.push((registry, entry));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use devfault_emulator::journal::{Delivery, RecordedRequest, RecordedResponse};

    fn entry_with(api: &str, status: u16, body: &str) -> JournalEntry {
        let json = [("content-type".to_owned(), "application/json".to_owned())];
        JournalEntry {
            seq: 1,
            time: "2026-01-01T00:00:00.000Z".to_owned(),
            device: "bravia-0".to_owned(),
            api: api.to_owned(),
            request: RecordedRequest {
                method: "POST".to_owned(),
                path: "/sony/audio".to_owned(),
                headers: json.clone().into(),
                body: "{}".to_owned(),
                body_bytes: 2,
                service: None,
                rpc_method: None,
            },
            outcome: Delivery::Answered,
            response: Some(RecordedResponse {
                status,
                headers: json.into(),
                body: body.to_owned(),
                body_bytes: body.len(),
            }),
            decoded: None,
            violations: Vec::new(),
            fault: None,
            duration_ms: 1,
        }
    }

    #[test]
    fn a_journal_entry_is_diagnosed_as_decode_does() {
        let entry = entry_with("bravia", 200, r#"{"error":[40801,"Volume Out of Range"],"id":2}"#);
        let value = CliExplainer.diagnose(&entry, Lang::Ja).expect("a diagnosis");
        assert_eq!(value["code"], "40801");
        assert_eq!(value["outcome"], "error");
        assert_eq!(value["entry"]["group"], "audio サービスエラーコード");
        let text = value["text"].as_str().expect("text");
        assert!(text.starts_with("HTTP 200 OK, bravia 40801 \"Volume Out of Range\""), "{text}");
        assert!(!text.contains('\u{1b}'), "no terminal styling: {text:?}");
        let mut unanswered = entry_with("bravia", 200, "{}");
        unanswered.response = None;
        assert_eq!(CliExplainer.diagnose(&unanswered, Lang::En), None);
    }

    #[test]
    fn the_registry_is_searched_by_code_and_by_text() {
        let by_code = CliExplainer.registry(Some("bravia"), "40801", Lang::En).expect("found");
        assert_eq!(by_code.len(), 1);
        assert_eq!(by_code[0]["reason"], "Volume Out of Range");
        let text = by_code[0]["text"].as_str().expect("text");
        assert!(text.starts_with("bravia 40801 — Volume Out of Range\n"), "{text}");
        let by_text = CliExplainer.registry(None, "volume out", Lang::En).expect("found");
        assert!(by_text.iter().any(|e| e["code"] == 40801), "{by_text:?}");
        let all = CliExplainer.registry(Some("thinq"), "", Lang::En).expect("all");
        assert_eq!(all.len(), devfault_thinq::registry().entries().len());
        let error = CliExplainer.registry(Some("sonos"), "1", Lang::En).unwrap_err();
        assert!(error.contains("\"sonos\""), "{error}");
        assert!(
            CliExplainer
                .registry(None, "no such words anywhere", Lang::En)
                .expect("read")
                .is_empty()
        );
    }
}
