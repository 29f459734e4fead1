//! What `check` counts: the summary, the `--by` groups and the report's aggregates. Each worker
//! thread counts its batch into a `Tally`, and the batches' tallies are merged in input order,
//! so every figure is the same whatever the number of threads. Sizes are bounded by the number
//! of distinct codes, rules, groups (capped) and time buckets (capped), never by the exchanges.

use std::collections::{BTreeMap, HashMap};

use clap::ValueEnum;
use devfault_core::{Class, Entry, Severity};

use crate::apis::Api;
use crate::diagnose::Diagnosis;

/// Distinct keys kept per `--by` dimension; the rest are counted under [`OTHER`].
pub const MAX_GROUPS: usize = 10_000;
/// The group that collects keys beyond [`MAX_GROUPS`].
pub const OTHER: &str = "(other)";
/// Time buckets kept before the timeline's bucket width doubles.
const MAX_BUCKETS: usize = 20_000;
/// Failed exchanges the report lists one by one (the first ones); the rest are in its counts.
pub const MAX_FAILED_ROWS: usize = 2_000;

/// A `--by` dimension.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, ValueEnum)]
pub enum GroupBy {
    /// The device: a BRAVIA display's host, a ThinQ device id (from `/devices/ID`).
    Device,
    /// The outcome: `bravia 40801`, `thinq HTTP 502`, `bravia success`.
    Code,
    /// The URL path, without its query.
    Path,
    /// The hour the exchange started (HAR `startedDateTime`, NDJSON `time`), UTC.
    Hour,
}

impl GroupBy {
    /// Its name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Device => "device",
            GroupBy::Code => "code",
            GroupBy::Path => "path",
            GroupBy::Hour => "hour",
        }
    }
}

/// The counts of one group.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct GroupCount {
    /// Exchanges in the group.
    pub exchanges: u64,
    /// Failed ones.
    pub failed: u64,
    /// Ones with a protocol violation.
    pub non_conforming: u64,
}

impl GroupCount {
    fn add(&mut self, other: GroupCount) {
        self.exchanges += other.exchanges;
        self.failed += other.failed;
        self.non_conforming += other.non_conforming;
    }
}

/// A failure code seen, with its registry row.
#[derive(Clone, Copy, Default, Debug)]
pub struct CodeCount {
    /// Failures with this code.
    pub count: u64,
    /// The row of the API's registry, when the code has one.
    pub entry: Option<&'static Entry>,
}

/// Timeline columns: one per failure class, then failures without a registry row, then
/// exchanges that did not fail.
pub fn timeline_columns() -> Vec<&'static str> {
    let mut columns: Vec<&'static str> = Class::ALL.iter().map(|c| c.as_str()).collect();
    columns.push("unclassified");
    columns.push("ok");
    columns
}

/// The column of a diagnosis in the timeline.
fn column_of(diagnosis: &Diagnosis) -> usize {
    if !diagnosis.reading.is_failure() {
        return Class::ALL.len() + 1;
    }
    diagnosis
        .reading
        .entry
        .and_then(|e| Class::ALL.iter().position(|c| *c == e.class))
        .unwrap_or(Class::ALL.len())
}

/// Exchanges per time bucket and column.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// Bucket width in seconds (60 unless the capture spans too many minutes).
    pub width: i64,
    /// Bucket start (seconds since the epoch) → counts per column.
    pub buckets: BTreeMap<i64, Vec<u64>>,
    /// Exchanges without a time.
    pub untimed: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline { width: 60, buckets: BTreeMap::new(), untimed: 0 }
    }
}

impl Timeline {
    fn add_at(&mut self, start: i64, counts: &[u64]) {
        let key = start.div_euclid(self.width) * self.width;
        let row = self.buckets.entry(key).or_insert_with(|| vec![0; counts.len()]);
        for (into, n) in row.iter_mut().zip(counts) {
            *into += n;
        }
        while self.buckets.len() > MAX_BUCKETS {
            self.widen();
        }
    }

    fn widen(&mut self) {
        self.width *= 2;
        let old = std::mem::take(&mut self.buckets);
        for (start, counts) in old {
            let key = start.div_euclid(self.width) * self.width;
            let row = self.buckets.entry(key).or_insert_with(|| vec![0; counts.len()]);
            for (into, n) in row.iter_mut().zip(&counts) {
                *into += n;
            }
        }
    }

    fn merge(&mut self, other: Timeline) {
        self.untimed += other.untimed;
        while self.width < other.width {
            self.widen();
        }
        for (start, counts) in other.buckets {
            self.add_at(start, &counts);
        }
    }
}

/// One failed exchange, as the report's table lists it.
#[derive(Clone, Debug)]
pub struct FailedRow {
    /// Its position (`line 12`).
    pub position: String,
    /// When it started, seconds since the epoch.
    pub time: Option<i64>,
    /// Method and URL.
    pub request: String,
    /// The device it went to.
    pub device: String,
    /// The diagnosis, in one line.
    pub summary: String,
    /// The registry's advice.
    pub advice: String,
    /// Violations and tolerated variants.
    pub findings: Vec<String>,
}

/// Everything `check` counts.
#[derive(Default, Debug)]
pub struct Tally {
    /// Readable exchanges.
    pub exchanges: u64,
    /// Exchanges per API (`unknown` for neither).
    pub by_api: BTreeMap<&'static str, u64>,
    /// Failed exchanges.
    pub failures: u64,
    /// Failures per code (`bravia 40801`, `thinq HTTP 502`).
    pub by_code: BTreeMap<String, CodeCount>,
    /// Violations per rule.
    pub violations: BTreeMap<&'static str, u64>,
    /// Tolerated variants per rule.
    pub tolerated: BTreeMap<&'static str, u64>,
    /// Exchanges with a violation.
    pub non_conforming: u64,
    /// Exchanges of neither API.
    pub unknown_api: u64,
    /// Unreadable items.
    pub broken: u64,
    /// Positions of the first unreadable items.
    pub first_broken: Vec<String>,
    /// The `--by` groups (and `device`, for the report).
    pub groups: BTreeMap<GroupBy, HashMap<String, GroupCount>>,
    /// The report's timeline.
    pub timeline: Timeline,
    /// The report's first failed exchanges.
    pub failed_rows: Vec<FailedRow>,
}

impl Tally {
    /// An empty tally that groups by `dimensions`.
    pub fn new(dimensions: &[GroupBy]) -> Tally {
        let mut tally = Tally::default();
        for dimension in dimensions {
            tally.groups.insert(*dimension, HashMap::new());
        }
        tally
    }

    /// Counts an unreadable item.
    pub fn broken(&mut self, position: String) {
        self.broken += 1;
        if self.first_broken.len() < 10 {
            self.first_broken.push(position);
        }
    }

    /// Counts one diagnosed exchange; `keys` gives its key in a dimension.
    pub fn count(
        &mut self,
        diagnosis: Option<&Diagnosis>,
        time: Option<i64>,
        timeline: bool,
        mut keys: impl FnMut(GroupBy) -> String,
    ) {
        self.exchanges += 1;
        let (failed, violated) = match diagnosis {
            None => {
                self.unknown_api += 1;
                *self.by_api.entry("unknown").or_default() += 1;
                (false, false)
            }
            Some(diagnosis) => {
                *self.by_api.entry(diagnosis.api.id()).or_default() += 1;
                let failed = diagnosis.reading.is_failure();
                if failed {
                    self.failures += 1;
                    let code = self.by_code.entry(code_key(diagnosis)).or_default();
                    code.count += 1;
                    code.entry = code.entry.or(diagnosis.reading.entry);
                }
                let violated = diagnosis.reading.has_violation();
                if violated {
                    self.non_conforming += 1;
                }
                for finding in &diagnosis.reading.findings {
                    let counts = match finding.severity {
                        Severity::Violation => &mut self.violations,
                        Severity::Tolerated => &mut self.tolerated,
                    };
                    *counts.entry(finding.rule).or_default() += 1;
                }
                (failed, violated)
            }
        };
        let one = GroupCount {
            exchanges: 1,
            failed: u64::from(failed),
            non_conforming: u64::from(violated),
        };
        for (dimension, groups) in &mut self.groups {
            add_group(groups, keys(*dimension), one);
        }
        if timeline {
            match (time, diagnosis) {
                (Some(time), Some(diagnosis)) => {
                    let mut counts = vec![0; Class::ALL.len() + 2];
                    counts[column_of(diagnosis)] = 1;
                    self.timeline.add_at(time, &counts);
                }
                (Some(time), None) => {
                    let mut counts = vec![0; Class::ALL.len() + 2];
                    counts[Class::ALL.len() + 1] = 1;
                    self.timeline.add_at(time, &counts);
                }
                (None, _) => self.timeline.untimed += 1,
            }
        }
    }

    /// Adds a later batch's tally.
    pub fn merge(&mut self, other: Tally) {
        self.exchanges += other.exchanges;
        for (k, n) in other.by_api {
            *self.by_api.entry(k).or_default() += n;
        }
        self.failures += other.failures;
        for (k, c) in other.by_code {
            let code = self.by_code.entry(k).or_default();
            code.count += c.count;
            code.entry = code.entry.or(c.entry);
        }
        for (k, n) in other.violations {
            *self.violations.entry(k).or_default() += n;
        }
        for (k, n) in other.tolerated {
            *self.tolerated.entry(k).or_default() += n;
        }
        self.non_conforming += other.non_conforming;
        self.unknown_api += other.unknown_api;
        self.broken += other.broken;
        for position in other.first_broken {
            if self.first_broken.len() < 10 {
                self.first_broken.push(position);
            }
        }
        for (dimension, groups) in other.groups {
            let into = self.groups.entry(dimension).or_default();
            for (key, count) in groups {
                add_group(into, key, count);
            }
        }
        self.timeline.merge(other.timeline);
        let room = MAX_FAILED_ROWS.saturating_sub(self.failed_rows.len());
        self.failed_rows.extend(other.failed_rows.into_iter().take(room));
    }

    /// A dimension's groups, most failures first (hours in time order).
    pub fn sorted_groups(&self, dimension: GroupBy) -> Vec<(&str, GroupCount)> {
        let mut rows: Vec<(&str, GroupCount)> = self
            .groups
            .get(&dimension)
            .map(|g| g.iter().map(|(k, c)| (k.as_str(), *c)).collect())
            .unwrap_or_default();
        if dimension == GroupBy::Hour {
            rows.sort_by(|a, b| a.0.cmp(b.0));
        } else {
            rows.sort_by(|a, b| {
                (b.1.failed, b.1.non_conforming, b.1.exchanges)
                    .cmp(&(a.1.failed, a.1.non_conforming, a.1.exchanges))
                    .then(a.0.cmp(b.0))
            });
        }
        rows
    }
}

fn add_group(groups: &mut HashMap<String, GroupCount>, key: String, count: GroupCount) {
    if let Some(existing) = groups.get_mut(&key) {
        existing.add(count);
    } else if groups.len() < MAX_GROUPS || key == OTHER {
        groups.insert(key, count);
    } else {
        groups.entry(OTHER.to_owned()).or_default().add(count);
    }
}

/// The failure code key of the summary: `bravia 40801`, or `thinq HTTP 502` without a code.
pub fn code_key(diagnosis: &Diagnosis) -> String {
    match &diagnosis.reading.code {
        Some(code) => format!("{} {code}", diagnosis.api.id()),
        None => format!("{} HTTP {}", diagnosis.api.id(), diagnosis.reading.status),
    }
}

/// The key of an exchange in `dimension`.
pub fn group_key(
    dimension: GroupBy,
    api: Option<Api>,
    diagnosis: Option<&Diagnosis>,
    url: &str,
    time: Option<i64>,
) -> String {
    match dimension {
        GroupBy::Device => device_of(api, url),
        GroupBy::Code => match diagnosis {
            None => "unknown api".to_owned(),
            Some(d) if d.reading.is_failure() => code_key(d),
            Some(d) => format!("{} success", d.api.id()),
        },
        GroupBy::Path => {
            let path = path_of(url);
            if path.is_empty() { "(no request)".to_owned() } else { path.to_owned() }
        }
        GroupBy::Hour => match time {
            Some(t) => {
                let minute = devfault_core::capture::format_minute(t.div_euclid(3600) * 3600);
                minute.to_string()
            }
            None => "(no time)".to_owned(),
        },
    }
}

/// The host of a URL (without user info).
fn host_of(url: &str) -> &str {
    let Some((_, rest)) = url.split_once("://") else { return "" };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

/// The path of a URL, without query or fragment.
pub fn path_of(url: &str) -> &str {
    let after =
        url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    after.split(['?', '#']).next().unwrap_or_default()
}

/// The device an exchange went to: a BRAVIA display's host, or the ThinQ device of a
/// `/devices/ID...` path (else the host).
pub fn device_of(api: Option<Api>, url: &str) -> String {
    if url.is_empty() {
        return "(no request)".to_owned();
    }
    if api == Some(Api::Thinq) {
        let path = path_of(url);
        if let Some(rest) = path.strip_prefix("/devices/") {
            let id = rest.split('/').next().unwrap_or_default();
            if !id.is_empty() {
                return format!("thinq {id}");
            }
        }
    }
    let host = host_of(url);
    if host.is_empty() { "(no host)".to_owned() } else { host.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_paths_are_read_from_urls() {
        assert_eq!(device_of(Some(Api::Bravia), "http://192.168.1.20/sony/audio"), "192.168.1.20");
        assert_eq!(
            device_of(Some(Api::Thinq), "https://api-aic.lgthinq.com/devices/abc/state"),
            "thinq abc"
        );
        assert_eq!(
            device_of(Some(Api::Thinq), "https://u:p@api-aic.lgthinq.com/devices"),
            "api-aic.lgthinq.com"
        );
        assert_eq!(device_of(None, ""), "(no request)");
        assert_eq!(path_of("http://h/sony/audio?x=1"), "/sony/audio");
        assert_eq!(path_of("http://h"), "");
    }

    #[test]
    fn groups_beyond_the_cap_are_counted_as_other() {
        let mut groups = HashMap::new();
        let one = GroupCount { exchanges: 1, failed: 0, non_conforming: 0 };
        for i in 0..MAX_GROUPS + 5 {
            add_group(&mut groups, i.to_string(), one);
        }
        assert_eq!(groups.len(), MAX_GROUPS + 1);
        assert_eq!(groups[OTHER].exchanges, 5);
    }

    #[test]
    fn the_timeline_widens_instead_of_growing() {
        let mut timeline = Timeline::default();
        for minute in 0..(MAX_BUCKETS as i64 + 10) {
            timeline.add_at(minute * 60, &[1]);
        }
        assert_eq!(timeline.width, 120);
        assert!(timeline.buckets.len() <= MAX_BUCKETS);
        assert_eq!(timeline.buckets.values().map(|c| c[0]).sum::<u64>(), MAX_BUCKETS as u64 + 10);
    }
}
