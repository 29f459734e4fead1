//! The dashboard: a page of plain HTML, CSS and JavaScript, served by the admin API, that
//! shows and steers the virtual devices through the admin API alone, and the admin
//! endpoints it needs besides the JSON ones every script uses: the live journal as
//! server-sent events, one journal entry with its diagnosis, and the registry.
//!
//! The page's files are compiled into the binary (`dashboard/` beside this file): no
//! network, no build step. A browser asking for `GET /` with `Accept: text/html` gets the
//! page; curl and programs (`Accept: */*` or `application/json`) keep the JSON index. The
//! page is also at `/ui/`, whatever the `Accept`.
//!
//! Diagnosing a response and showing a registry entry as `devfault explain` does are the
//! CLI's (it sits above the emulator); it hands them to the admin API as an [`Explainer`].
//! Without one, `/registry` and the entry's `diagnosis` answer that this emulator has none.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::admin::Admin;
use crate::faults::json_error;
use crate::journal::JournalEntry;

/// The page.
const INDEX_HTML: &str = include_str!("dashboard/index.html");
/// Its style sheet.
const STYLE_CSS: &str = include_str!("dashboard/style.css");
/// Its script.
const APP_JS: &str = include_str!("dashboard/app.js");

/// The page's files by path: what `/ui/...` serves, with its content type.
const ASSETS: &[(&str, &str, &str)] = &[
    ("/ui/", "text/html; charset=utf-8", INDEX_HTML),
    ("/ui/style.css", "text/css; charset=utf-8", STYLE_CSS),
    ("/ui/app.js", "text/javascript; charset=utf-8", APP_JS),
];

/// The page may load only its own files and talk only to the admin API that served it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// How many missed entries an event stream replays at most when it starts (`?since=`): the
/// journal's default capacity.
const MAX_REPLAY: usize = crate::journal::Journal::DEFAULT_CAPACITY;

/// The language of registry group titles (`?lang=en|ja`).
pub use devfault_core::Lang;

/// The `?lang=` value, the error naming it.
fn parse_lang(tag: &str) -> Result<Lang, String> {
    tag.parse().map_err(|why| format!("lang={why}"))
}

/// What the admin API asks of the layer above for the dashboard: the diagnosis of a journal
/// entry's response and the registry's entries, shown as that layer shows them (the CLI's
/// `decode` and `explain`).
pub trait Explainer: Send + Sync + fmt::Debug {
    /// The diagnosis of the entry's response (JSON, with a `text` member as `devfault decode`
    /// prints it); `None` when the entry has no response.
    fn diagnose(&self, entry: &JournalEntry, lang: Lang) -> Option<Value>;

    /// The entries of `api`'s registry (every API's when `None`) that `query` finds (all when
    /// it is empty), each as JSON with a `text` member as `devfault explain` prints it; an
    /// error names a query that cannot be read.
    fn registry(&self, api: Option<&str>, query: &str, lang: Lang) -> Result<Vec<Value>, String>;
}

/// The APIs the registry endpoint knows.
const APIS: [&str; 2] = [devfault_bravia::API, devfault_thinq::API];

/// The files the page loads (`/ui/style.css`, `/ui/app.js`): the dashboard's own, not
/// endpoints of the admin API, so they are routed here rather than listed in its table.
pub(crate) fn assets() -> Router<Arc<Admin>> {
    let mut router = Router::new();
    for &(path, content_type, body) in &ASSETS[1..] {
        router = router.route(path, get(move || async move { asset(content_type, body) }));
    }
    router
}

/// True when the client asks for HTML before JSON: a browser's navigation (`text/html,...`),
/// not curl's `*/*` or a program's `application/json`.
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let position = |wanted: &str| {
        accept.split(',').position(|part| {
            part.split(';').next().is_some_and(|kind| kind.trim().eq_ignore_ascii_case(wanted))
        })
    };
    match (position("text/html"), position("application/json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The page itself (for `GET /` from a browser).
pub(crate) fn page() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

fn bad_request(message: String) -> Response {
    json_error(StatusCode::BAD_REQUEST, &message)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventParams {
    device: Option<String>,
    since: Option<u64>,
}

/// What an event stream has yet to send.
struct Feed {
    receiver: crate::journal::Subscription,
    /// Entries the journal held, newer than `?since=`, oldest first.
    replay: VecDeque<JournalEntry>,
    /// The newest sequence number replayed: a live entry up to it was sent already.
    replayed: u64,
    device: Option<String>,
    closing: tokio::sync::watch::Receiver<bool>,
}

fn entry_event(entry: &JournalEntry) -> Event {
    let data = serde_json::to_string(entry).unwrap_or_else(|_| "{}".to_owned());
    Event::default().event("entry").id(entry.seq.to_string()).data(data)
}

/// `GET /journal/events`: each exchange as it is recorded, as a server-sent event `entry`
/// whose data is the journal entry (the JSON of `GET /journal`); `lagged` says how many a
/// slow reader missed. `?device=ID` keeps one device's; `?since=SEQ` first replays the
/// entries newer than SEQ that the journal still holds.
pub(crate) async fn events(
    State(admin): State<Arc<Admin>>,
    params: Result<Query<EventParams>, QueryRejection>,
) -> Response {
    let params = match params {
        Ok(Query(params)) => params,
        Err(rejection) => {
            return bad_request(format!(
                "{}; the event stream takes ?device=ID and ?since=SEQ (a sequence number)",
                rejection.body_text()
            ));
        }
    };
    if let Some(device) = &params.device
        && admin.device(device).is_none()
    {
        return json_error(
            StatusCode::NOT_FOUND,
            &format!("no device {device:?}; devices: {}", admin.ids()),
        );
    }
    // Subscribed before the replay is read: an entry recorded in between is in one or both,
    // and `replayed` drops the second copy.
    let receiver = admin.journal().subscribe();
    let replay: VecDeque<JournalEntry> = match params.since {
        Some(since) => admin.journal().since(since, params.device.as_deref(), MAX_REPLAY).into(),
        None => VecDeque::new(),
    };
    let replayed = replay.back().map_or(0, |entry| entry.seq);
    let feed = Feed { receiver, replay, replayed, device: params.device, closing: admin.closing() };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        if let Some(entry) = feed.replay.pop_front() {
            return Some((Ok::<Event, Infallible>(entry_event(&entry)), feed));
        }
        loop {
            if *feed.closing.borrow() {
                return None;
            }
            let received = tokio::select! {
                received = feed.receiver.recv() => received,
                _ = feed.closing.changed() => return None,
            };
            match received {
                Ok(recorded) => {
                    let wanted =
                        feed.device.as_deref().is_none_or(|device| recorded.device() == device);
                    if wanted && recorded.seq() > feed.replayed {
                        return Some((Ok(entry_event(&recorded.entry())), feed));
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    let event = Event::default()
                        .event("lagged")
                        .data(json!({ "missed": missed }).to_string());
                    return Some((Ok(event), feed));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    let mut response = Sse::new(stream).keep_alive(KeepAlive::default()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LangParams {
    lang: Option<String>,
}

/// `GET /journal/{seq}`: one entry, with the diagnosis of its response.
pub(crate) async fn journal_entry(
    State(admin): State<Arc<Admin>>,
    Path(seq): Path<String>,
    params: Result<Query<LangParams>, QueryRejection>,
) -> Response {
    let lang = match params
        .map_err(|r| r.body_text())
        .and_then(|Query(p)| p.lang.as_deref().map_or(Ok(Lang::En), parse_lang))
    {
        Ok(lang) => lang,
        Err(message) => return bad_request(format!("{message}; this takes ?lang=en|ja")),
    };
    let Ok(number) = seq.parse::<u64>() else {
        return bad_request(format!(
            "{seq:?} is not a journal sequence number (a positive integer; `events` streams)"
        ));
    };
    let Some(entry) = admin.journal().entry(number) else {
        return json_error(
            StatusCode::NOT_FOUND,
            &format!(
                "the journal holds no entry {number} (it keeps the newest {}; GET /journal lists them)",
                admin.journal().capacity()
            ),
        );
    };
    let diagnosis = match admin.explainer() {
        Some(explainer) => explainer.diagnose(&entry, lang).unwrap_or(Value::Null),
        None => json!({ "error": NO_EXPLAINER }),
    };
    let mut value = serde_json::to_value(&entry).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("diagnosis".to_owned(), diagnosis);
    }
    axum::Json(value).into_response()
}

const NO_EXPLAINER: &str = "this emulator was started without the registry and decoder (devfault serve has them): no diagnosis";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegistryParams {
    api: Option<String>,
    q: Option<String>,
    lang: Option<String>,
}

/// `GET /registry`: the registry entries (`?api=bravia|thinq`, `?q=` a code or text,
/// `?lang=en|ja` for group titles), each with the text `devfault explain` prints.
pub(crate) async fn registry(
    State(admin): State<Arc<Admin>>,
    params: Result<Query<RegistryParams>, QueryRejection>,
) -> Response {
    const TAKES: &str = "the registry takes ?api=bravia|thinq, ?q=CODE-OR-TEXT and ?lang=en|ja";
    let params = match params {
        Ok(Query(params)) => params,
        Err(rejection) => return bad_request(format!("{}; {TAKES}", rejection.body_text())),
    };
    if let Some(api) = params.api.as_deref()
        && !APIS.contains(&api)
    {
        return bad_request(format!("api={api:?} is not an API here; {TAKES}"));
    }
    let lang = match params.lang.as_deref().map_or(Ok(Lang::En), parse_lang) {
        Ok(lang) => lang,
        Err(message) => return bad_request(format!("{message}; {TAKES}")),
    };
    let Some(explainer) = admin.explainer() else {
        return json_error(StatusCode::NOT_IMPLEMENTED, NO_EXPLAINER);
    };
    let query = params.q.as_deref().unwrap_or_default();
    match explainer.registry(params.api.as_deref(), query, lang) {
        Ok(entries) => axum::Json(json!({
            "api": params.api,
            "q": query,
            "lang": lang.tag(),
            "count": entries.len(),
            "entries": entries,
        }))
        .into_response(),
        Err(message) => bad_request(message),
    }
}

#[cfg(test)]
#[path = "dashboard_tests.rs"]
mod tests;
