//! A registry: one API's code space, areas, groups and entries, with its lookups.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::{Area, CodeSpace, Entry, Group, Source};

/// A value with the line of the file it was read from (none for built-in tables).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line in the source file, if it came from one.
    pub line: Option<usize>,
}

impl<T> Located<T> {
    /// A value from a built-in table.
    pub fn builtin(value: T) -> Located<T> {
        Located { value, line: None }
    }
}

/// Everything that defines a registry, before it is checked and indexed.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Short id of the API (`bravia`, `thinq`, or a custom registry's own).
    pub api: String,
    /// Human name of the API.
    pub name: String,
    /// Which codes exist and how they are written.
    pub space: CodeSpace,
    /// The areas, in any order; nesting follows from the ranges.
    pub areas: Vec<Located<Area>>,
    /// The groups, in document order.
    pub groups: Vec<Located<Group>>,
    /// The rows, in document order.
    pub entries: Vec<Located<Entry>>,
}

impl Spec {
    /// The definition of a built-in registry from a vendor crate's `const` tables: areas as
    /// `(name, start, end)`, groups as `(id, [(language, title)...])`, and the row slices
    /// (documented, then observed).
    pub fn builtin(
        api: &str,
        name: &str,
        space: CodeSpace,
        areas: &[(&str, u32, u32)],
        groups: &[(&str, &[(&str, &str)])],
        rows: &[&[crate::EntryDef]],
    ) -> Spec {
        Spec {
            api: api.to_owned(),
            name: name.to_owned(),
            space,
            areas: areas
                .iter()
                .map(|&(name, start, end)| {
                    Located::builtin(Area { name: name.to_owned(), start, end })
                })
                .collect(),
            groups: groups
                .iter()
                .map(|&(id, titles)| {
                    let titles =
                        titles.iter().map(|&(lang, title)| (lang.to_owned(), title.to_owned()));
                    Located::builtin(Group { id: id.to_owned(), titles: titles.collect() })
                })
                .collect(),
            entries: rows
                .iter()
                .flat_map(|slice| slice.iter())
                .map(|def| Located::builtin(Entry::from(def)))
                .collect(),
        }
    }
}

/// One thing wrong with a registry definition.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Problem {
    /// 1-based line of the offending value, when known.
    pub line: Option<usize>,
    /// Which rule it breaks.
    pub kind: ProblemKind,
    /// What is wrong, naming the offending value.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The rules a registry definition can break.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Not valid TOML, or a value of the wrong type.
    Syntax,
    /// A key devfault does not know (most likely a typo).
    UnknownKey,
    /// A required key is absent.
    MissingField,
    /// A value that is not one of the accepted ones.
    BadValue,
    /// An entry without a reason phrase.
    MissingReason,
    /// An HTTP status outside 100–599.
    HttpStatusOutOfRange,
    /// A code that is not a value of the code space.
    CodeOutsideSpace,
    /// A code inside no area (and not marked `outside_areas`), or marked but inside one.
    CodeOutsideAreas,
    /// Two documented rows, or two rows with the same message, for one code.
    DuplicateCode,
    /// An area whose start is after its end, or that leaves the code space.
    AreaBounds,
    /// Two areas that share codes without one containing the other.
    OverlappingAreas,
    /// Two areas with the same range.
    DuplicateArea,
    /// Two groups with the same id.
    DuplicateGroup,
    /// An entry naming a group that is not defined.
    UnknownGroup,
    /// A template placeholder that does not occur in the message.
    BadTemplate,
}

/// Where a code falls in the area tree.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Location<'r> {
    /// The code.
    pub code: u32,
    /// The areas containing it, outermost first.
    pub path: Vec<&'r Area>,
    /// Set when the code falls in a stretch that no area (or no sub-area of its innermost
    /// area) covers.
    pub hole: Option<Hole<'r>>,
}

/// A stretch of codes inside a parent (or the whole code space) that no area covers.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Hole<'r> {
    /// First code of the stretch.
    pub start: u32,
    /// Last code of the stretch.
    pub end: u32,
    /// The area the stretch is part of; `None` at the top level.
    pub parent: Option<&'r Area>,
    /// The sibling area that ends just before the stretch.
    pub before: Option<&'r Area>,
    /// The sibling area that starts just after the stretch.
    pub after: Option<&'r Area>,
}

/// A checked, indexed registry.
///
/// Lookups by code are O(1) (a hash index); lookups by text are O(1) for exact phrases.
#[derive(Debug)]
pub struct Registry {
    api: String,
    name: String,
    space: CodeSpace,
    /// Sorted by start, outer areas before the areas they contain.
    areas: Vec<Area>,
    parents: Vec<Option<usize>>,
    groups: Vec<Group>,
    entries: Vec<Entry>,
    by_code: HashMap<u32, Vec<usize>, BuildHasherDefault<CodeHasher>>,
    by_text: HashMap<String, Vec<usize>>,
    templated: Vec<usize>,
}

impl Registry {
    /// Checks `spec` and indexes it; every rule broken is reported, not just the first.
    pub fn new(spec: Spec) -> Result<Registry, Vec<Problem>> {
        let problems = check(&spec);
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut areas: Vec<Area> = spec.areas.into_iter().map(|a| a.value).collect();
        areas.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut parents = Vec::with_capacity(areas.len());
        let mut stack: Vec<usize> = Vec::new();
        for (i, area) in areas.iter().enumerate() {
            while stack.last().is_some_and(|&top| !areas[top].encloses(area)) {
                stack.pop();
            }
            parents.push(stack.last().copied());
            stack.push(i);
        }
        let entries: Vec<Entry> = spec.entries.into_iter().map(|e| e.value).collect();
        let mut by_code: HashMap<u32, Vec<usize>, BuildHasherDefault<CodeHasher>> =
            HashMap::default();
        let mut by_text: HashMap<String, Vec<usize>> = HashMap::new();
        let mut templated = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let rows = by_code.entry(entry.code).or_default();
            // The documented row answers a lookup by code; observed rows follow it.
            if entry.source == Source::Documented {
                rows.insert(0, i);
            } else {
                rows.push(i);
            }
            for text in [&entry.reason, &entry.message] {
                let hits = by_text.entry(fold(text)).or_default();
                if !hits.contains(&i) {
                    hits.push(i);
                }
            }
            if entry.template.is_some() {
                templated.push(i);
            }
        }
        Ok(Registry {
            api: spec.api,
            name: spec.name,
            space: spec.space,
            areas,
            parents,
            groups: spec.groups.into_iter().map(|g| g.value).collect(),
            entries,
            by_code,
            by_text,
            templated,
        })
    }

    /// Short id of the API.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// Human name of the API.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The code space.
    pub fn space(&self) -> CodeSpace {
        self.space
    }

    /// Every row, in document order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The row that answers for `code`: the documented one, else the first observed one.
    pub fn get(&self, code: u32) -> Option<&Entry> {
        self.by_code.get(&code).and_then(|rows| rows.first()).map(|&i| &self.entries[i])
    }

    /// Every row for `code`: the documented one first, then observed variants.
    pub fn rows(&self, code: u32) -> impl Iterator<Item = &Entry> {
        self.by_code.get(&code).into_iter().flatten().map(|&i| &self.entries[i])
    }

    /// Every row whose reason or message equals `text`, ignoring case and surrounding space.
    /// When none does, the templated rows whose message pattern matches (`Command not
    /// supported in HEAT` finds `Command not supported in (STATE)`).
    pub fn find_text(&self, text: &str) -> Vec<&Entry> {
        let key = fold(text);
        if let Some(hits) = self.by_text.get(&key) {
            return hits.iter().map(|&i| &self.entries[i]).collect();
        }
        self.templated
            .iter()
            .map(|&i| &self.entries[i])
            .filter(|entry| entry.template_value(text.trim()).is_some())
            .collect()
    }

    /// The groups, in document order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The rows listed under group `id`, in document order.
    pub fn in_group<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.group == id)
    }

    /// The areas, sorted by start, each before the areas it contains.
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// How deep area `index` of [`Registry::areas`] is nested (0 for a top-level area).
    pub fn depth(&self, index: usize) -> usize {
        let mut depth = 0;
        let mut at = self.parents.get(index).copied().flatten();
        while let Some(parent) = at {
            depth += 1;
            at = self.parents[parent];
        }
        depth
    }

    /// The rows whose code lies in `area` (including its sub-areas).
    pub fn in_area<'a>(&'a self, area: &'a Area) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| area.contains(e.code))
    }

    /// The innermost area containing `code`.
    pub fn area_of(&self, code: u32) -> Option<&Area> {
        self.locate(code).path.last().copied()
    }

    /// Where `code` falls: its areas, outermost first, and the hole it is in, if any.
    pub fn locate(&self, code: u32) -> Location<'_> {
        let mut path = Vec::new();
        let mut container: Option<usize> = None;
        loop {
            let next = self.children(container).find(|&i| self.areas[i].contains(code));
            match next {
                Some(i) => {
                    path.push(&self.areas[i]);
                    container = Some(i);
                }
                None => break,
            }
        }
        let hole =
            self.gaps(container).into_iter().find(|hole| hole.start <= code && code <= hole.end);
        Location { code, path, hole }
    }

    /// Every stretch that a parent's sub-areas (or the top-level areas) leave uncovered, in
    /// code order. A registry without areas has none.
    pub fn holes(&self) -> Vec<Hole<'_>> {
        let mut holes = self.gaps(None);
        for i in 0..self.areas.len() {
            holes.extend(self.gaps(Some(i)));
        }
        holes.sort_by_key(|h| (h.start, h.end));
        holes
    }

    fn children(&self, parent: Option<usize>) -> impl Iterator<Item = usize> + '_ {
        (0..self.areas.len()).filter(move |&i| self.parents[i] == parent)
    }

    /// The uncovered stretches among the children of `parent` (top level for `None`).
    fn gaps(&self, parent: Option<usize>) -> Vec<Hole<'_>> {
        let children: Vec<usize> = self.children(parent).collect();
        if children.is_empty() {
            return Vec::new();
        }
        let (lo, hi) = match parent {
            Some(p) => (self.areas[p].start, self.areas[p].end),
            None => (self.space.min, self.space.max),
        };
        let parent_area = parent.map(|p| &self.areas[p]);
        let mut holes = Vec::new();
        let mut next_free = u64::from(lo);
        let mut before: Option<&Area> = None;
        for &c in &children {
            let area = &self.areas[c];
            if u64::from(area.start) > next_free {
                holes.push(Hole {
                    start: u32::try_from(next_free).unwrap_or(u32::MAX),
                    end: area.start - 1,
                    parent: parent_area,
                    before,
                    after: Some(area),
                });
            }
            next_free = next_free.max(u64::from(area.end) + 1);
            before = Some(area);
        }
        if next_free <= u64::from(hi) {
            holes.push(Hole {
                start: u32::try_from(next_free).unwrap_or(u32::MAX),
                end: hi,
                parent: parent_area,
                before,
                after: None,
            });
        }
        holes
    }
}

/// Multiplicative (Fibonacci) hashing for code keys: codes are small integers chosen by the
/// vendor, not by an attacker, so SipHash's flooding resistance buys nothing and costs most of
/// a lookup. The odd multiplier keeps distinct low bits distinct and spreads high bits.
#[derive(Default, Clone, Copy, Debug)]
struct CodeHasher(u64);

impl Hasher for CodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = (self.0 ^ u64::from(value)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Case- and space-insensitive key for text lookups.
fn fold(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Every rule `spec` breaks, in file order where lines are known.
pub(crate) fn check(spec: &Spec) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut report = |line: Option<usize>, kind: ProblemKind, message: String| {
        problems.push(Problem { line, kind, message });
    };
    let at = |line: Option<usize>| line.map(|l| format!(" (line {l})")).unwrap_or_default();

    for Located { value: area, line } in &spec.areas {
        if area.start > area.end {
            report(
                *line,
                ProblemKind::AreaBounds,
                format!(
                    "area {:?} starts at {} after it ends at {}",
                    area.name, area.start, area.end
                ),
            );
        } else if !spec.space.contains(area.start) || !spec.space.contains(area.end) {
            report(
                *line,
                ProblemKind::AreaBounds,
                format!(
                    "area {:?} ({}–{}) leaves the code space ({})",
                    area.name, area.start, area.end, spec.space
                ),
            );
        }
    }
    for (i, a) in spec.areas.iter().enumerate() {
        for b in &spec.areas[i + 1..] {
            let (x, y) = (&a.value, &b.value);
            if x.start > x.end || y.start > y.end || !x.overlaps(y) {
                continue;
            }
            if x.start == y.start && x.end == y.end {
                report(
                    b.line,
                    ProblemKind::DuplicateArea,
                    format!(
                        "area {:?} has the same range {}–{} as area {:?}{}; nesting between them is undecidable",
                        y.name,
                        y.start,
                        y.end,
                        x.name,
                        at(a.line)
                    ),
                );
            } else if !x.encloses(y) && !y.encloses(x) {
                report(
                    b.line,
                    ProblemKind::OverlappingAreas,
                    format!(
                        "area {:?} ({}–{}) overlaps area {:?} ({}–{}){} without one containing the other",
                        y.name,
                        y.start,
                        y.end,
                        x.name,
                        x.start,
                        x.end,
                        at(a.line)
                    ),
                );
            }
        }
    }

    let mut group_lines: HashMap<&str, Option<usize>> = HashMap::new();
    for Located { value: group, line } in &spec.groups {
        if let Some(first) = group_lines.insert(group.id.as_str(), *line) {
            report(
                *line,
                ProblemKind::DuplicateGroup,
                format!("group id {:?} is defined twice (first{})", group.id, at(first)),
            );
        }
    }
    let group_ids = spec.groups.iter().map(|g| g.value.id.as_str()).collect::<Vec<_>>().join(", ");

    let mut documented: HashMap<u32, Option<usize>> = HashMap::new();
    let mut messages: BTreeMap<(u32, String), Option<usize>> = BTreeMap::new();
    for Located { value: entry, line } in &spec.entries {
        let code = spec.space.format(entry.code);
        if entry.reason.trim().is_empty() {
            report(*line, ProblemKind::MissingReason, format!("entry {code} has no reason"));
        }
        if !group_lines.contains_key(entry.group.as_str()) {
            report(
                *line,
                ProblemKind::UnknownGroup,
                format!(
                    "entry {code} names group {:?}, which is not defined; defined: {group_ids}",
                    entry.group
                ),
            );
        }
        if !spec.space.contains(entry.code) {
            report(
                *line,
                ProblemKind::CodeOutsideSpace,
                format!("code {code} is outside the code space ({})", spec.space),
            );
        }
        if !spec.areas.is_empty() {
            let inside = spec.areas.iter().find(|a| a.value.contains(entry.code));
            match (inside, entry.outside_areas) {
                (None, false) => report(
                    *line,
                    ProblemKind::CodeOutsideAreas,
                    format!(
                        "code {code} lies outside every area (add an area for it, or set outside_areas = true if that is deliberate)"
                    ),
                ),
                (Some(area), true) => report(
                    *line,
                    ProblemKind::CodeOutsideAreas,
                    format!(
                        "code {code} is marked outside_areas but lies in area {:?} ({}–{})",
                        area.value.name, area.value.start, area.value.end
                    ),
                ),
                _ => {}
            }
        }
        if let Some(placeholder) = &entry.template
            && (placeholder.is_empty() || !entry.message.contains(placeholder.as_str()))
        {
            report(
                *line,
                ProblemKind::BadTemplate,
                format!(
                    "entry {code}: template {placeholder:?} does not occur in its message {:?}",
                    entry.message
                ),
            );
        }
        if entry.source == Source::Documented
            && let Some(first) = documented.insert(entry.code, *line)
        {
            report(
                *line,
                ProblemKind::DuplicateCode,
                format!(
                    "duplicate code {code}: a documented entry for it already exists{}",
                    at(first)
                ),
            );
            continue;
        }
        if let Some(first) = messages.insert((entry.code, entry.message.clone()), *line) {
            report(
                *line,
                ProblemKind::DuplicateCode,
                format!(
                    "duplicate code {code}: an entry with message {:?} already exists{}",
                    entry.message,
                    at(first)
                ),
            );
        }
    }
    problems.sort_by_key(|p| p.line);
    problems
}
