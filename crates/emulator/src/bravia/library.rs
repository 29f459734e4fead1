//! What the display keeps beyond inputs and apps, and the methods over it: the USB storage and
//! the recordings on it (`getStorageList`, `mountStorage`, `deleteContent`,
//! `setDeleteProtection`), the favourite lists (`getFavoriteList`, `setFavoriteContentList`),
//! the parental rating (`getParentalRatingSettings`), the channels' visibility and tuning by
//! number (`setTvContentVisibility`, `setPlayTvContent`), and the device modes
//! (`getDeviceMode`, `setDeviceMode`).
//!
//! Where the shapes come from, each cited again beside its handler:
//! - the method signatures a real display reported through `getMethodTypes` (KDL-42W805A,
//!   captured in normen's public homebridge notes): `deleteContent {"uri"}`,
//!   `setDeleteProtection {"uri","isProtected"}`, `setFavoriteContentList {"favSource",
//!   "contents":string*}`, `setPlayTvContent {"channel"}`, `setTvContentVisibility
//!   {"uri","epgVisibility","channelSurfingVisibility","visibility"}*`,
//!   `getParentalRatingSettings → {"ratingTypeAge":int, "ratingTypeSony", "ratingCountry",
//!   "ratingCustomTypeTV":string*, "ratingCustomTypeMpaa", "ratingCustomTypeCaEnglish",
//!   "ratingCustomTypeCaFrench", "unratedLock":bool}`, `getDeviceMode {"value"} → {"isOn":bool}`,
//!   `setDeviceMode {"value","isOn":bool}`, and getContentList's `isProtected`;
//! - `setPlayTvContent` 1.1's `{"channel","source","sourceType","broadcastFreqName",
//!   "ignoreVisibilitySettings"}` from a public C# client generated from a display's
//!   `getMethodTypes` (BraviaControlClient), and `{"channel":{"shift":...}}` from a public
//!   Crestron module;
//! - `getStorageList` 1.1 from Sony's Audio Control API reference (the same ScalarWebAPI; a
//!   public zod schema of it: `deviceName, formattable, formatting, freeCapacityMB,
//!   isAvailable, mounted, permission, position, systemAreaCapacityMB, uri, volumeLabel,
//!   wholeCapacityMB`);
//! - `getFavoriteList` and `mountStorage`: no public capture or reference page was found.
//!   Their shapes are modelled on their siblings (`getContentList`'s items grouped by the
//!   `favSource` of `setFavoriteContentList`; `mountStorage {"uri","action"}`) and say so.

use std::collections::BTreeMap;

use devfault_bravia::Code;
use devfault_core::Entry;
use serde_json::{Map, Value, json};

use super::VirtualDisplay;
use super::methods::{
    Call, Outcome, bad, err, object, observed, ok, optional_object, required_bool, required_text,
    text,
};
use super::state::{Channel, State, TV_SOURCE};

/// The scheme of the storages' contents in `getSchemeList` and `getSourceList`.
pub(crate) const STORAGE_SCHEME: &str = "storage";

/// The favourite lists `setFavoriteContentList` takes; another `favSource` is 41023
/// "Unknown group id". Not in any public capture: the four lists of a BRAVIA's channel menu.
pub(crate) const FAV_SOURCES: &[&str] = &["fav:1", "fav:2", "fav:3", "fav:4"];

/// The device modes of `getDeviceMode`/`setDeviceMode`. Not in any public capture: the two
/// switches a BRAVIA's settings call modes, the shop-front demo and pro mode.
pub(crate) const DEVICE_MODES: &[&str] = &["demoMode", "proMode"];

/// The values of a channel's three visibilities (`setTvContentVisibility`). Not in any public
/// capture beyond the member names.
pub(crate) const VISIBILITIES: &[&str] = &["visible", "invisible"];

/// A storage device (a USB disk).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Storage {
    pub uri: String,
    pub name: String,
    pub whole_mb: u64,
    pub mounted: bool,
}

/// A recording on a storage.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Recording {
    /// Unique on the display, never reused: the URI names it.
    pub id: u64,
    pub title: String,
    pub storage: String,
    pub size_mb: u64,
    pub protected: bool,
}

impl Recording {
    pub fn uri(&self) -> String {
        format!("{}?id={}", self.storage, self.id)
    }
}

/// The parental rating (`getParentalRatingSettings`; set on the display's menu, here through
/// the admin API).
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Parental {
    pub age: i64,
    pub sony: String,
    pub country: String,
    pub custom_tv: Vec<String>,
    pub mpaa: String,
    pub ca_english: String,
    pub ca_french: String,
    pub unrated_lock: bool,
}

/// The library: storages, recordings, favourites, parental rating, device modes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Library {
    pub storages: Vec<Storage>,
    pub recordings: Vec<Recording>,
    pub next_id: u64,
    /// Each favourite list's channel URIs, in order.
    pub favorites: BTreeMap<&'static str, Vec<String>>,
    pub parental: Parental,
    pub device_modes: BTreeMap<&'static str, bool>,
}

impl Default for Library {
    fn default() -> Library {
        let storage = "storage:usb1".to_owned();
        let recording = |id, title: &str, size_mb, protected| Recording {
            id,
            title: title.to_owned(),
            storage: storage.clone(),
            size_mb,
            protected,
        };
        Library {
            storages: vec![Storage {
                uri: storage.clone(),
                name: "USB HDD".to_owned(),
                whole_mb: 476_940,
                mounted: true,
            }],
            recordings: vec![
                recording(1, "Evening News", 1_850, false),
                recording(2, "Feature Film", 6_420, true),
                recording(3, "Nature Documentary", 3_100, false),
            ],
            next_id: 4,
            favorites: FAV_SOURCES.iter().map(|f| (*f, Vec::new())).collect(),
            parental: Parental {
                age: 12,
                sony: String::new(),
                country: "DEU".to_owned(),
                custom_tv: Vec::new(),
                mpaa: String::new(),
                ca_english: String::new(),
                ca_french: String::new(),
                unrated_lock: false,
            },
            device_modes: DEVICE_MODES.iter().map(|m| (*m, false)).collect(),
        }
    }
}

/// The members of the admin state this module owns.
pub(crate) const MEMBERS: &[&str] =
    &["storages", "recordings", "favorites", "parental", "device_modes"];

impl Library {
    fn storage(&self, uri: &str) -> Option<&Storage> {
        self.storages.iter().find(|s| s.uri == uri)
    }

    fn used_mb(&self, storage: &str) -> u64 {
        self.recordings.iter().filter(|r| r.storage == storage).map(|r| r.size_mb).sum()
    }

    /// The recordings of a mounted storage, as `getContentList` items; 41020 for a storage
    /// that does not exist or is unmounted (the display does not see it), 41002 for one
    /// without recordings.
    pub fn contents(&self, source: &str) -> Result<Vec<Value>, &'static Entry> {
        if !self.storage(source).is_some_and(|s| s.mounted) {
            return Err(err(Code::STORAGE_DOESNT_EXIST));
        }
        let items: Vec<Value> = self
            .recordings
            .iter()
            .filter(|r| r.storage == source)
            .map(|r| {
                json!({"uri": r.uri(), "title": r.title, "isProtected": r.protected,
                       "fileSizeByte": r.size_mb.saturating_mul(1024 * 1024)})
            })
            .collect();
        Ok(items)
    }

    /// The sources of the storage scheme: the mounted storages.
    pub fn sources(&self) -> Vec<String> {
        self.storages.iter().filter(|s| s.mounted).map(|s| s.uri.clone()).collect()
    }

    /// Channel URIs no longer listed are dropped from the favourites.
    pub fn forget_channels(&mut self, channels: usize) {
        for list in self.favorites.values_mut() {
            list.retain(|uri| (0..channels).any(|i| Channel::uri(i) == *uri));
        }
    }

    /// The admin API's view, one member per name of [`MEMBERS`].
    pub fn to_json(&self, out: &mut Map<String, Value>) {
        let storages: Vec<Value> = self
            .storages
            .iter()
            .map(|s| {
                json!({"uri": s.uri, "name": s.name, "whole_mb": s.whole_mb,
                       "free_mb": s.whole_mb.saturating_sub(self.used_mb(&s.uri)),
                       "mounted": s.mounted})
            })
            .collect();
        let recordings: Vec<Value> = self
            .recordings
            .iter()
            .map(|r| {
                json!({"uri": r.uri(), "title": r.title, "storage": r.storage,
                       "size_mb": r.size_mb, "protected": r.protected})
            })
            .collect();
        let p = &self.parental;
        out.insert("storages".to_owned(), Value::Array(storages));
        out.insert("recordings".to_owned(), Value::Array(recordings));
        out.insert("favorites".to_owned(), json!(self.favorites));
        out.insert(
            "parental".to_owned(),
            json!({"age": p.age, "sony": p.sony, "country": p.country, "custom_tv": p.custom_tv,
                   "mpaa": p.mpaa, "ca_english": p.ca_english, "ca_french": p.ca_french,
                   "unrated_lock": p.unrated_lock}),
        );
        out.insert("device_modes".to_owned(), json!(self.device_modes));
    }

    /// Applies one admin member; `channels` is the channel count after the patch's
    /// `channels`, for the favourites.
    pub fn set_member(&mut self, name: &str, value: &Value, channels: usize) -> Result<(), String> {
        match name {
            "storages" => self.set_storages(value),
            "recordings" => self.set_recordings(value),
            "favorites" => self.set_favorites(value, channels),
            "parental" => self.set_parental(value),
            "device_modes" => {
                let Value::Object(modes) = value else {
                    return Err(format!(
                        "device_modes: {value} is not an object like {{\"proMode\": true}}"
                    ));
                };
                for (mode, on) in modes {
                    let Some(key) = DEVICE_MODES.iter().find(|m| **m == mode) else {
                        return Err(format!(
                            "device_modes.{mode}: unknown mode; modes are {DEVICE_MODES:?}"
                        ));
                    };
                    let on = on
                        .as_bool()
                        .ok_or_else(|| format!("device_modes.{mode}: {on} is not a bool"))?;
                    self.device_modes.insert(key, on);
                }
                Ok(())
            }
            other => Err(format!("{other}: not a library member")),
        }
    }

    fn set_storages(&mut self, value: &Value) -> Result<(), String> {
        let Value::Array(items) = value else {
            return Err(format!(
                "storages: {value} is not an array of {{\"uri\", \"name\", \"whole_mb\", \"mounted\"}}"
            ));
        };
        let mut storages = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("storages[{i}]");
            let uri = member_text(item, &path, "uri")?;
            if !uri.starts_with("storage:") || storages.iter().any(|s: &Storage| s.uri == uri) {
                return Err(format!("{path}.uri: {uri:?} is not a new \"storage:NAME\" URI"));
            }
            storages.push(Storage {
                name: match item.get("name") {
                    None => uri.clone(),
                    Some(_) => member_text(item, &path, "name")?,
                },
                uri,
                whole_mb: match item.get("whole_mb") {
                    None => 476_940,
                    Some(v) => v.as_u64().ok_or_else(|| {
                        format!("{path}.whole_mb: {v} is not a non-negative integer")
                    })?,
                },
                mounted: match item.get("mounted") {
                    None => true,
                    Some(v) => {
                        v.as_bool().ok_or_else(|| format!("{path}.mounted: {v} is not a bool"))?
                    }
                },
            });
        }
        self.storages = storages;
        let known = |storage: &String| self.storages.iter().any(|s| &s.uri == storage);
        self.recordings.retain(|r| known(&r.storage));
        Ok(())
    }

    fn set_recordings(&mut self, value: &Value) -> Result<(), String> {
        let Value::Array(items) = value else {
            return Err(format!(
                "recordings: {value} is not an array of {{\"title\", \"storage\", \"size_mb\", \"protected\"}}"
            ));
        };
        let mut recordings = Vec::with_capacity(items.len());
        let mut next_id = self.next_id;
        for (i, item) in items.iter().enumerate() {
            let path = format!("recordings[{i}]");
            let storage = match item.get("storage") {
                None => self
                    .storages
                    .first()
                    .map(|s| s.uri.clone())
                    .ok_or_else(|| format!("{path}.storage: the display has no storage"))?,
                Some(_) => member_text(item, &path, "storage")?,
            };
            if self.storage(&storage).is_none() {
                let uris: Vec<&str> = self.storages.iter().map(|s| s.uri.as_str()).collect();
                return Err(format!("{path}.storage: {storage:?} is not one of {uris:?}"));
            }
            recordings.push(Recording {
                id: next_id,
                title: member_text(item, &path, "title")?,
                storage,
                size_mb: match item.get("size_mb") {
                    None => 1_000,
                    Some(v) => v.as_u64().ok_or_else(|| {
                        format!("{path}.size_mb: {v} is not a non-negative integer")
                    })?,
                },
                protected: match item.get("protected") {
                    None => false,
                    Some(v) => {
                        v.as_bool().ok_or_else(|| format!("{path}.protected: {v} is not a bool"))?
                    }
                },
            });
            next_id += 1;
        }
        self.recordings = recordings;
        self.next_id = next_id;
        Ok(())
    }

    fn set_favorites(&mut self, value: &Value, channels: usize) -> Result<(), String> {
        let Value::Object(lists) = value else {
            return Err(format!(
                "favorites: {value} is not an object like {{\"fav:1\": [\"tv:dvbt?trip=1.1.1\"]}}"
            ));
        };
        for (source, uris) in lists {
            let Some(key) = FAV_SOURCES.iter().find(|f| **f == source) else {
                return Err(format!("favorites.{source}: unknown list; lists are {FAV_SOURCES:?}"));
            };
            let Value::Array(uris) = uris else {
                return Err(format!("favorites.{source}: {uris} is not an array of channel URIs"));
            };
            let mut list = Vec::with_capacity(uris.len());
            for uri in uris {
                let uri = uri
                    .as_str()
                    .filter(|u| (0..channels).any(|i| Channel::uri(i) == *u))
                    .ok_or_else(|| {
                        format!("favorites.{source}: {uri} is not the URI of a listed channel")
                    })?;
                list.push(uri.to_owned());
            }
            self.favorites.insert(key, list);
        }
        Ok(())
    }

    fn set_parental(&mut self, value: &Value) -> Result<(), String> {
        let Value::Object(members) = value else {
            return Err(format!("parental: {value} is not an object like {{\"age\": 16}}"));
        };
        let p = &mut self.parental;
        for (key, v) in members {
            let path = format!("parental.{key}");
            let text = || {
                v.as_str().map(str::to_owned).ok_or_else(|| format!("{path}: {v} is not a string"))
            };
            match key.as_str() {
                "age" => {
                    p.age = v
                        .as_i64()
                        .filter(|a| (-1..=21).contains(a))
                        .ok_or_else(|| format!("{path}: {v} is not an age from -1 (none) to 21"))?
                }
                "sony" => p.sony = text()?,
                "country" => p.country = text()?,
                "mpaa" => p.mpaa = text()?,
                "ca_english" => p.ca_english = text()?,
                "ca_french" => p.ca_french = text()?,
                "unrated_lock" => {
                    p.unrated_lock =
                        v.as_bool().ok_or_else(|| format!("{path}: {v} is not a bool"))?
                }
                "custom_tv" => {
                    p.custom_tv = v
                        .as_array()
                        .and_then(|items| {
                            items.iter().map(|i| i.as_str().map(str::to_owned)).collect()
                        })
                        .ok_or_else(|| format!("{path}: {v} is not an array of strings"))?;
                }
                _ => {
                    return Err(format!(
                        "{path}: unknown member; accepted: age, sony, country, custom_tv, mpaa, ca_english, ca_french, unrated_lock"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn member_text(item: &Value, path: &str, key: &str) -> Result<String, String> {
    match item.get(key) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(format!("{path}.{key}: {other} is not a string")),
        None => Err(format!("{path}.{key}: missing")),
    }
}

// system --------------------------------------------------------------------------------------

/// `[{"value": "proMode"}]` → `[{"isOn": false}]` (the real display's `getMethodTypes`). An
/// unknown mode is 3.
pub(crate) fn get_device_mode(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let mode = required_text(object(call)?, "value")?;
    let state = display.lock_state();
    let on = state.library.device_modes.get(mode).copied().ok_or_else(bad)?;
    ok(vec![json!({"isOn": on})])
}

/// `[{"value": "proMode", "isOn": true}]` → `[]` (the real display's `getMethodTypes`).
pub(crate) fn set_device_mode(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let mode = required_text(params, "value")?;
    let on = required_bool(params, "isOn")?;
    let mut state = display.lock_state();
    let slot = state.library.device_modes.get_mut(mode).ok_or_else(bad)?;
    *slot = on;
    ok(vec![])
}

/// 1.1: `[{"uri": ""}]` (or `[]`) → `[[{"uri", "deviceName", "volumeLabel", "permission",
/// "position", "wholeCapacityMB", "freeCapacityMB", "systemAreaCapacityMB", "formattable",
/// "formatting", "isAvailable", "mounted"}]]`, the members of Sony's Audio Control API
/// reference for `getStorageList` v1.1 (its flags are strings there; `mounted` is
/// `"mounted"`/`"unmounted"` as a public client's capture shows). An unknown `uri` is 41020.
pub(crate) fn get_storage_list(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let wanted = text(optional_object(call)?, "uri")?.unwrap_or("");
    let state = display.lock_state();
    let library = &state.library;
    if !wanted.is_empty() && library.storage(wanted).is_none() {
        return Err(err(Code::STORAGE_DOESNT_EXIST));
    }
    let list: Vec<Value> = library
        .storages
        .iter()
        .filter(|s| wanted.is_empty() || s.uri == wanted)
        .map(|s| {
            let free = s.whole_mb.saturating_sub(library.used_mb(&s.uri));
            json!({
                "uri": s.uri, "deviceName": s.name, "volumeLabel": s.name,
                "permission": "rw", "position": "rear",
                "wholeCapacityMB": s.whole_mb, "freeCapacityMB": free,
                "systemAreaCapacityMB": 0, "formattable": "true", "formatting": "false",
                "isAvailable": if s.mounted { "true" } else { "false" },
                "mounted": if s.mounted { "mounted" } else { "unmounted" },
            })
        })
        .collect();
    ok(vec![Value::Array(list)])
}

/// `[{"uri": "storage:usb1", "action": "unmount"}]` → `[]`. No public capture of this method
/// exists; the shape is modelled on `getStorageList`'s `uri` and `mounted`. An unknown
/// storage is 41020, an action other than `mount`/`unmount` 3.
pub(crate) fn mount_storage(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let uri = required_text(params, "uri")?;
    let mounted = match required_text(params, "action")? {
        "mount" => true,
        "unmount" => false,
        _ => return Err(bad()),
    };
    let mut state = display.lock_state();
    let storage = state
        .library
        .storages
        .iter_mut()
        .find(|s| s.uri == uri)
        .ok_or_else(|| err(Code::STORAGE_DOESNT_EXIST))?;
    storage.mounted = mounted;
    ok(vec![])
}

// avContent -----------------------------------------------------------------------------------

/// `[{"uri": "storage:usb1?id=1"}]` → `[]` (the real display's `getMethodTypes`). A recording's
/// URI deletes it: 41000 when it is protected, 41001 when there is none. A storage's URI
/// deletes every recording on it: the unprotected ones go, and when a protected one stays
/// the answer is 41003 "Some content could not be deleted". An unmounted storage is 41020.
pub(crate) fn delete_content(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let uri = required_text(object(call)?, "uri")?;
    let mut state = display.lock_state();
    let library = &mut state.library;
    if let Some(storage) = library.storage(uri) {
        if !storage.mounted {
            return Err(err(Code::STORAGE_DOESNT_EXIST));
        }
        library.recordings.retain(|r| r.storage != uri || r.protected);
        let kept = library.recordings.iter().any(|r| r.storage == uri);
        return if kept { Err(err(Code::SOME_CONTENT_COULD_NOT_BE_DELETED)) } else { ok(vec![]) };
    }
    let index = recording_index(library, uri)?;
    if library.recordings[index].protected {
        return Err(err(Code::CONTENT_IS_PROTECTED));
    }
    library.recordings.remove(index);
    ok(vec![])
}

/// The index of the recording `uri` names, on a mounted storage; 41020 if its storage is
/// unmounted, 41001 if there is no such recording.
fn recording_index(library: &Library, uri: &str) -> Result<usize, &'static Entry> {
    let index = library
        .recordings
        .iter()
        .position(|r| r.uri() == uri)
        .ok_or_else(|| err(Code::CONTENT_DOES_NOT_EXIST))?;
    if !library.storage(&library.recordings[index].storage).is_some_and(|s| s.mounted) {
        return Err(err(Code::STORAGE_DOESNT_EXIST));
    }
    Ok(index)
}

/// `[{"uri": "storage:usb1?id=1", "isProtected": true}]` → `[]` (the real display's
/// `getMethodTypes`; getContentList's `isProtected` shows it). Content that exists but is not
/// a recording (an input, a channel) has no protection attribute: 41022 "Content attribute
/// setting failed"; unknown content is 41001.
pub(crate) fn set_delete_protection(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let uri = required_text(params, "uri")?;
    let protected = required_bool(params, "isProtected")?;
    let mut state = display.lock_state();
    if is_channel(&state, uri) || super::state::INPUTS.iter().any(|i| i.uri == uri) {
        return Err(err(Code::CONTENT_ATTRIBUTE_SETTING_FAILED));
    }
    let index = recording_index(&state.library, uri)?;
    state.library.recordings[index].protected = protected;
    ok(vec![])
}

fn is_channel(state: &State, uri: &str) -> bool {
    (0..state.channels.len()).any(|i| Channel::uri(i) == uri)
}

/// `[]` or `[{"source": "fav:1"}]` → `[[{"uri", "title", "dispNum", "index", "favSource"}]]`:
/// getContentList's channel items, each with the list it is on. No public capture of this
/// method exists: the items are those of `getContentList`, grouped by the `favSource` that
/// `setFavoriteContentList` names. An unknown list is 41023.
pub(crate) fn get_favorite_list(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let wanted = text(optional_object(call)?, "source")?.unwrap_or("");
    if !wanted.is_empty() && !FAV_SOURCES.contains(&wanted) {
        return Err(err(Code::UNKNOWN_GROUP_ID));
    }
    let state = display.lock_state();
    let mut items = Vec::new();
    for (source, uris) in &state.library.favorites {
        if !wanted.is_empty() && *source != wanted {
            continue;
        }
        for (index, uri) in uris.iter().enumerate() {
            let Some(channel) = (0..state.channels.len()).find(|i| Channel::uri(*i) == *uri) else {
                continue;
            };
            let c = &state.channels[channel];
            items.push(json!({"uri": uri, "title": c.title, "dispNum": c.disp_num,
                              "index": index, "favSource": source}));
        }
    }
    ok(vec![Value::Array(items)])
}

/// `[{"favSource": "fav:1", "contents": ["tv:dvbt?trip=1.1.1"]}]` → `[]` (the real display's
/// `getMethodTypes`): replaces the list. An unknown list is 41023 "Unknown group id"; content
/// that is not a channel (an input, a recording) is 41024 "Content is not supported";
/// unknown content 41001. The list is unchanged on an error.
pub(crate) fn set_favorite_content_list(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let source = required_text(params, "favSource")?;
    let Some(Value::Array(contents)) = params.get("contents") else {
        return Err(bad());
    };
    let mut state = display.lock_state();
    let key = FAV_SOURCES
        .iter()
        .find(|f| **f == source)
        .copied()
        .ok_or_else(|| err(Code::UNKNOWN_GROUP_ID))?;
    let mut list = Vec::with_capacity(contents.len());
    for uri in contents {
        let uri = uri.as_str().ok_or_else(bad)?;
        if is_channel(&state, uri) {
            if !list.iter().any(|u| u == uri) {
                list.push(uri.to_owned());
            }
        } else if super::state::INPUTS.iter().any(|i| i.uri == uri)
            || state.library.recordings.iter().any(|r| r.uri() == uri)
        {
            return Err(err(Code::CONTENT_IS_NOT_SUPPORTED));
        } else {
            return Err(err(Code::CONTENT_DOES_NOT_EXIST));
        }
    }
    state.library.favorites.insert(key, list);
    ok(vec![])
}

/// `[]` → `[{"ratingTypeAge": 12, "ratingTypeSony": "", "ratingCountry": "DEU",
/// "ratingCustomTypeTV": [], "ratingCustomTypeMpaa": "", "ratingCustomTypeCaEnglish": "",
/// "ratingCustomTypeCaFrench": "", "unratedLock": false}]`, the members and types of the real
/// display's `getMethodTypes`.
pub(crate) fn get_parental_rating_settings(display: &VirtualDisplay, _: &Call<'_>) -> Outcome {
    let state = display.lock_state();
    let p = &state.library.parental;
    ok(vec![json!({
        "ratingTypeAge": p.age, "ratingTypeSony": p.sony, "ratingCountry": p.country,
        "ratingCustomTypeTV": p.custom_tv, "ratingCustomTypeMpaa": p.mpaa,
        "ratingCustomTypeCaEnglish": p.ca_english, "ratingCustomTypeCaFrench": p.ca_french,
        "unratedLock": p.unrated_lock,
    })])
}

/// `[{"uri", "visibility", "channelSurfingVisibility", "epgVisibility"}, ...]` → `[]`: the
/// params are the list itself, as the real display's `getMethodTypes` types them (`{...}*`).
/// Members left out keep their value. A URI that is not a channel: 41024 when it is other
/// content (an input), 41001 when there is none. All or nothing.
pub(crate) fn set_tv_content_visibility(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    if call.params.is_empty() {
        return Err(bad());
    }
    let mut state = display.lock_state();
    let mut channels = state.channels.clone();
    for item in call.params {
        let Value::Object(item) = item else { return Err(bad()) };
        let uri = required_text(item, "uri")?;
        let Some(index) = (0..channels.len()).find(|i| Channel::uri(*i) == uri) else {
            let other = super::state::INPUTS.iter().any(|i| i.uri == uri)
                || state.library.recordings.iter().any(|r| r.uri() == uri);
            return Err(err(if other {
                Code::CONTENT_IS_NOT_SUPPORTED
            } else {
                Code::CONTENT_DOES_NOT_EXIST
            }));
        };
        let channel = &mut channels[index];
        for (key, slot) in [
            ("visibility", &mut channel.visible),
            ("channelSurfingVisibility", &mut channel.surfing_visible),
            ("epgVisibility", &mut channel.epg_visible),
        ] {
            if let Some(value) = text(Some(item), key)? {
                if !VISIBILITIES.contains(&value) {
                    return Err(bad());
                }
                *slot = value == VISIBILITIES[0];
            }
        }
    }
    state.channels = channels;
    ok(vec![])
}

/// Tunes by channel number. 1.0: `[{"channel": "5"}]` (the real display's `getMethodTypes`).
/// 1.1: `[{"channel": "5" | {"shift": "+1"}, "source", "sourceType", "broadcastFreqName",
/// "ignoreVisibilitySettings"}]` (BraviaControlClient's 1.1 request; the shift object from a
/// public Crestron module). A shift moves to the next (`+1`) or previous (`-1`) channel whose
/// channel surfing visibility is on, unless `ignoreVisibilitySettings`. No channel: 41015;
/// a number no channel has: 41001; one several have: 41014; a `source` other than the tuner:
/// 3 "source is invalid".
pub(crate) fn set_play_tv_content(display: &VirtualDisplay, call: &Call<'_>) -> Outcome {
    let params = object(call)?;
    let (channel, ignore_visibility) = if call.version == "1.0" {
        (params.get("channel").filter(|c| c.is_string()).ok_or_else(bad)?, false)
    } else {
        if let Some(source) = text(Some(params), "source")?
            && !source.is_empty()
            && source != TV_SOURCE
        {
            return Err(observed(Code::ILLEGAL_ARGUMENT, "source is invalid"));
        }
        text(Some(params), "sourceType")?;
        text(Some(params), "broadcastFreqName")?;
        let ignore = match params.get("ignoreVisibilitySettings") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(ignore)) => *ignore,
            Some(_) => return Err(bad()),
        };
        (params.get("channel").ok_or_else(bad)?, ignore)
    };
    let mut state = display.lock_state();
    if state.channels.is_empty() {
        return Err(err(Code::EMPTY_CHANNEL_LIST));
    }
    let target =
        match channel {
            Value::String(number) => {
                let matching: Vec<usize> = (0..state.channels.len())
                    .filter(|i| state.channels[*i].disp_num == *number)
                    .collect();
                match matching.as_slice() {
                    [] => return Err(err(Code::CONTENT_DOES_NOT_EXIST)),
                    [index] => *index,
                    _ => return Err(err(Code::CHANNEL_CANT_BE_UNIQUELY_DETERMINED)),
                }
            }
            Value::Object(shift) => {
                let forward = match shift.get("shift").and_then(Value::as_str) {
                    Some("+1") => true,
                    Some("-1") => false,
                    _ => return Err(bad()),
                };
                let count = state.channels.len();
                // From the channel shown; from an input, `+1` starts at the first, `-1` at the last.
                let from = (0..count)
                    .find(|i| Channel::uri(*i) == state.input)
                    .unwrap_or(if forward { count - 1 } else { 0 });
                (1..=count)
                    .map(|n| if forward { (from + n) % count } else { (from + count - n) % count })
                    .find(|i| ignore_visibility || state.channels[*i].surfing_visible)
                    .ok_or_else(|| err(Code::CONTENT_DOES_NOT_EXIST))?
            }
            _ => return Err(bad()),
        };
    state.input = Channel::uri(target);
    state.active_app = None;
    ok(vec![])
}
