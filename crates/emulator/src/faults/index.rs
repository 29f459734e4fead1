//! The index that finds a request's candidate rules without scanning them all.
//!
//! Each rule is filed under its most selective member: its device, else its service, else the
//! first segment of its path prefix (when the prefix holds a whole segment, `/sony/`), else its
//! API, else under "any". A request's candidates are the rules filed under its device, its
//! service, its path's first segment, its API and "any": five lists of positions in the rule
//! list, each ascending, merged in order, so the first rule that matches is still the first
//! in the list. Ten thousand rules for other devices cost a request five hash look-ups.

use std::collections::HashMap;

use super::rules::{FaultRule, Match, RequestInfo};

/// Where a rule is filed.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Key {
    Device(String),
    Service(String),
    Segment(String),
    Api(String),
}

impl Key {
    /// The most selective member of a rule's match; `None`: the rule may match anything.
    fn of(matcher: &Match) -> Option<Key> {
        if let Some(device) = &matcher.device {
            return Some(Key::Device(device.clone()));
        }
        if let Some(service) = &matcher.service {
            return Some(Key::Service(service.clone()));
        }
        if let Some(segment) = matcher.path.as_deref().and_then(whole_first_segment) {
            return Some(Key::Segment(segment.to_owned()));
        }
        matcher.api.clone().map(Key::Api)
    }
}

/// The first segment of a path prefix when the prefix holds all of it (`/sony/au` holds
/// `sony`; `/so` does not, since `/sony` and `/sound` both start with it).
fn whole_first_segment(prefix: &str) -> Option<&str> {
    let rest = prefix.strip_prefix('/')?;
    let (segment, _) = rest.split_once('/')?;
    Some(segment)
}

/// The first segment of a request path (`/sony/system` → `sony`).
fn first_segment(path: &str) -> &str {
    let rest = path.strip_prefix('/').unwrap_or(path);
    rest.split_once('/').map_or(rest, |(segment, _)| segment)
}

/// Rule positions by key, each list ascending; rebuilt after a removal, extended on an append.
#[derive(Clone, Default, Debug)]
pub(crate) struct RuleIndex {
    by_key: HashMap<Key, Vec<u32>>,
    any: Vec<u32>,
    /// How many rules of the list are filed.
    indexed: usize,
}

impl RuleIndex {
    /// Files the rules appended since the last call.
    pub(crate) fn catch_up(&mut self, rules: &[FaultRule]) {
        if self.indexed > rules.len() {
            *self = RuleIndex::default();
        }
        for (position, rule) in rules.iter().enumerate().skip(self.indexed) {
            // The rule count is capped far below u32::MAX.
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            match Key::of(&rule.spec.matcher) {
                Some(key) => self.by_key.entry(key).or_default().push(position),
                None => self.any.push(position),
            }
        }
        self.indexed = rules.len();
    }

    /// Forgets everything: the next [`RuleIndex::catch_up`] files every rule again (after a
    /// removal moved positions).
    pub(crate) fn reset(&mut self) {
        *self = RuleIndex::default();
    }

    /// The positions of the rules that may match `request`, ascending.
    pub(crate) fn candidates<'i>(
        &'i self,
        request: &RequestInfo,
    ) -> impl Iterator<Item = usize> + 'i {
        let mut lists: Vec<&'i [u32]> = Vec::with_capacity(5);
        let mut look = |key: Key| {
            if let Some(list) = self.by_key.get(&key) {
                lists.push(list);
            }
        };
        look(Key::Device(request.device.clone()));
        if let Some(service) = &request.service {
            look(Key::Service(service.clone()));
        }
        look(Key::Segment(first_segment(&request.path).to_owned()));
        look(Key::Api(request.api.clone()));
        lists.push(&self.any);
        Merged { lists }
    }
}

/// Sorted lists merged into one ascending sequence (a rule is filed once, so no duplicates).
struct Merged<'i> {
    lists: Vec<&'i [u32]>,
}

impl Iterator for Merged<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let (which, _) = self
            .lists
            .iter()
            .enumerate()
            .filter_map(|(which, list)| list.first().map(|head| (which, *head)))
            .min_by_key(|(_, head)| *head)?;
        let list = &mut self.lists[which];
        let head = list[0];
        *list = &list[1..];
        Some(head as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_prefixes_are_filed_by_a_whole_first_segment_only() {
        assert_eq!(whole_first_segment("/sony/au"), Some("sony"));
        assert_eq!(whole_first_segment("/so"), None);
        assert_eq!(first_segment("/devices/x/state"), "devices");
        assert_eq!(first_segment("/route"), "route");
    }
}
