//! The resolve stage: validated directives → the site graph. It owns the
//! number index, references (front matter and body text) with their
//! backlinks, derived statuses, group membership and every taxonomy.
//! Each collection is built in one pass with indexes and sorted by a stated
//! key, so the graph is a pure function of the input.

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::{DeclaredStatus, Directive, Reference};
use crate::validate::Validated;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Index of a directive in [`SiteGraph::directives`].
pub type Id = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    InForce,
    Expired,
    Superseded,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::InForce => "Còn hiệu lực",
            Status::Expired => "Hết hiệu lực",
            Status::Superseded => "Đã bị thay thế",
        }
    }
}

/// A reference after lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Names exactly one directive of the corpus.
    Found(Id),
    /// Not in the corpus (e.g. a central document not published here).
    Absent,
    /// Several directives carry the number and no date picks one.
    Ambiguous(Vec<Id>),
}

/// Why a directive is on a recipient's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub id: Id,
    /// Named in "Kính gửi"/"Nơi nhận" (itself or through a group).
    pub in_header: bool,
    /// The group it was addressed through, if not addressed by name.
    pub via: Option<String>,
    /// Indexes into the directive's sections addressed to this body.
    pub sections: Vec<usize>,
}

pub struct SiteGraph {
    pub validated: Validated,
    /// Only directives that are published in this build (drafts dropped
    /// unless asked for), sorted newest first, then by number and issuer.
    pub order: Vec<Id>,
    pub status: Vec<Status>,
    pub implements: Vec<Vec<(Reference, Target)>>,
    pub supersedes: Vec<Vec<(Reference, Target)>>,
    pub implemented_by: Vec<Vec<Id>>,
    pub superseded_by: Vec<Vec<Id>>,
    /// Directives whose body cites this one.
    pub cited_by: Vec<Vec<Id>>,
    /// Per directive: number key → the directive its body mentions link to.
    pub mention_links: Vec<HashMap<(String, Option<NaiveDate>), Id>>,
    /// Organization → what is addressed to it, newest first.
    pub by_recipient: BTreeMap<String, Vec<Addressed>>,
    pub by_topic: BTreeMap<String, Vec<Id>>,
    pub by_issuer: BTreeMap<String, Vec<Id>>,
    /// Newest year first.
    pub by_year: BTreeMap<i32, Vec<Id>>,
    /// Member → groups that include it.
    pub groups_of: BTreeMap<String, Vec<String>>,
}

impl SiteGraph {
    pub fn directive(&self, id: Id) -> &Directive {
        &self.validated.directives[id]
    }
}

pub fn resolve(validated: Validated, include_drafts: bool, diags: &mut Diagnostics) -> SiteGraph {
    let all = &validated.directives;
    let published: Vec<bool> = all.iter().map(|d| include_drafts || !d.draft).collect();
    let mut by_number: HashMap<String, Vec<Id>> = HashMap::default();
    for (id, d) in all.iter().enumerate() {
        if published[id] {
            by_number.entry(d.number_key.clone()).or_default().push(id);
        }
    }
    let lookup = |key: &str, date: Option<NaiveDate>| -> Target {
        let Some(ids) = by_number.get(key) else {
            return Target::Absent;
        };
        let matching: Vec<Id> = match date {
            Some(date) => ids
                .iter()
                .copied()
                .filter(|&i| all[i].date == date)
                .collect(),
            None => ids.clone(),
        };
        match matching.as_slice() {
            [one] => Target::Found(*one),
            [] if date.is_some() && ids.len() == 1 => Target::Found(ids[0]),
            [] => Target::Absent,
            many => Target::Ambiguous(many.to_vec()),
        }
    };

    let n = all.len();
    let mut implements = vec![Vec::new(); n];
    let mut supersedes = vec![Vec::new(); n];
    let mut implemented_by = vec![Vec::new(); n];
    let mut superseded_by = vec![Vec::new(); n];
    let mut cited_by: Vec<BTreeSet<Id>> = vec![BTreeSet::new(); n];
    let mut mention_links = vec![HashMap::default(); n];
    for (id, d) in all.iter().enumerate() {
        if !published[id] {
            continue;
        }
        for (key, refs, out) in [
            ("implements", &d.implements, &mut implements[id]),
            ("supersedes", &d.supersedes, &mut supersedes[id]),
        ] {
            for r in refs {
                let target = lookup(&r.key, r.date);
                match &target {
                    Target::Found(t) if *t == id => diags.push(Diagnostic::error(
                        &d.file, r.loc, "self-reference",
                        format!("{} cannot {} itself", d.number, if key == "implements" { "implement" } else { "supersede" }),
                    )),
                    Target::Ambiguous(ids) => diags.push(Diagnostic::error(
                        &d.file, r.loc, "ambiguous-reference",
                        format!("{} names {} directives ({}); write it as `{{ number: \"{}\", date: YYYY-MM-DD }}` to pick one",
                            r.number, ids.len(), dates_of(all, ids), r.number),
                    )),
                    _ => {}
                }
                out.push((r.clone(), target));
            }
        }
        for m in &d.mentions {
            match lookup(&m.key, m.date) {
                Target::Found(t) if t != id => {
                    cited_by[t].insert(id);
                    mention_links[id].insert((m.key.clone(), m.date), t);
                }
                Target::Ambiguous(ids) => diags.push(Diagnostic::warning(
                    &d.file, m.loc, "ambiguous-citation",
                    format!("{} names {} directives ({}); add the date after it (\"ngày 22/5/2024\") to link it",
                        m.number, ids.len(), dates_of(all, &ids)),
                )),
                _ => {}
            }
        }
    }
    for id in 0..n {
        for (_, t) in &implements[id] {
            if let Target::Found(t) = t {
                if *t != id {
                    implemented_by[*t].push(id);
                }
            }
        }
        for (_, t) in &supersedes[id] {
            if let Target::Found(t) = t {
                if *t != id {
                    superseded_by[*t].push(id);
                }
            }
        }
    }
    report_supersede_cycles(all, &supersedes, diags);

    let status: Vec<Status> = (0..n)
        .map(|id| {
            if !superseded_by[id].is_empty() {
                Status::Superseded
            } else if all[id].declared_status == Some(DeclaredStatus::Expired) {
                Status::Expired
            } else {
                Status::InForce
            }
        })
        .collect();

    let mut order: Vec<Id> = (0..n).filter(|&i| published[i]).collect();
    order.sort_by(|&a, &b| newest_first(all, a, b));
    let rank: HashMap<Id, usize> = order.iter().enumerate().map(|(r, &id)| (id, r)).collect();
    let sort_ids =
        |v: &mut Vec<Id>| v.sort_by_key(|id| rank.get(id).copied().unwrap_or(usize::MAX));
    for v in implemented_by.iter_mut().chain(superseded_by.iter_mut()) {
        sort_ids(v);
    }
    let cited_by: Vec<Vec<Id>> = cited_by
        .into_iter()
        .map(|s| {
            let mut v: Vec<Id> = s.into_iter().collect();
            sort_ids(&mut v);
            v
        })
        .collect();

    let mut groups_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for org in validated.organizations.values() {
        for m in &org.members {
            groups_of
                .entry(m.clone())
                .or_default()
                .push(org.slug.clone());
        }
    }
    let mut by_recipient: BTreeMap<String, Vec<Addressed>> = BTreeMap::new();
    let mut by_topic: BTreeMap<String, Vec<Id>> = BTreeMap::new();
    let mut by_issuer: BTreeMap<String, Vec<Id>> = BTreeMap::new();
    let mut by_year: BTreeMap<i32, Vec<Id>> = BTreeMap::new();
    // Keys are allocated once per organization or topic, not per entry.
    fn push<T>(map: &mut BTreeMap<String, Vec<T>>, key: &str, value: T) {
        match map.get_mut(key) {
            Some(v) => v.push(value),
            None => {
                map.insert(key.to_string(), vec![value]);
            }
        }
    }
    // What is addressed to each organization, gathered by its index (serve
    // resolves the whole site at every save, and finding each entry's list
    // in a map of strings took a quarter of it), then keyed by slug.
    let orgs = &validated.organizations;
    let org_index: HashMap<&str, usize> = orgs
        .keys()
        .enumerate()
        .map(|(i, slug)| (slug.as_str(), i))
        .collect();
    let mut to_org: Vec<Vec<Addressed>> = vec![Vec::new(); orgs.len()];
    for &id in &order {
        let d: &Directive = &all[id];
        push(&mut by_issuer, &d.issuer, id);
        by_year.entry(d.year()).or_default().push(id);
        for t in &d.topics {
            push(&mut by_topic, t, id);
        }
        for (org, entry) in addressed_in(d, id, orgs) {
            match org_index.get(org) {
                Some(&i) => to_org[i].push(entry),
                None => push(&mut by_recipient, org, entry),
            }
        }
    }
    for (slug, list) in orgs.keys().zip(to_org) {
        if !list.is_empty() {
            by_recipient.insert(slug.clone(), list);
        }
    }
    SiteGraph {
        validated,
        order,
        status,
        implements,
        supersedes,
        implemented_by,
        superseded_by,
        cited_by,
        mention_links,
        by_recipient,
        by_topic,
        by_issuer,
        by_year,
        groups_of,
    }
}

fn newest_first(all: &[Arc<Directive>], a: Id, b: Id) -> std::cmp::Ordering {
    let (x, y) = (&all[a], &all[b]);
    y.date
        .cmp(&x.date)
        .then_with(|| x.number_key.cmp(&y.number_key))
        .then_with(|| x.issuer.cmp(&y.issuer))
        .then_with(|| x.file.cmp(&y.file))
}

fn dates_of(all: &[Arc<Directive>], ids: &[Id]) -> String {
    ids.iter()
        .map(|&i| format!("{} of {}", all[i].date.format("%Y-%m-%d"), all[i].issuer))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every organization a directive is addressed to, with how: by name in the
/// header, through a group named there, or only in some sections.
fn addressed_in<'a>(
    d: &'a Directive,
    id: Id,
    orgs: &'a BTreeMap<String, crate::model::Organization>,
) -> Vec<(&'a str, Addressed)> {
    // A few entries each: a list searched in order beats a map.
    let mut out: Vec<(&str, Addressed)> = Vec::new();
    let mut add = |org: &'a str, via: Option<&str>, in_header: bool, section: Option<usize>| {
        let at = match out.iter().position(|(o, _)| *o == org) {
            Some(at) => at,
            None => {
                out.push((
                    org,
                    Addressed {
                        id,
                        in_header: false,
                        via: via.map(str::to_string),
                        sections: Vec::new(),
                    },
                ));
                out.len() - 1
            }
        };
        let e = &mut out[at].1;
        if in_header && !e.in_header {
            e.in_header = true;
            e.via = via.map(str::to_string);
        }
        if let Some(s) = section {
            if !e.sections.contains(&s) {
                e.sections.push(s);
            }
        }
    };
    let mut named = |slug: &'a str, in_header: bool, section: Option<usize>| {
        add(slug, None, in_header, section);
        if let Some(org) = orgs.get(slug) {
            for m in &org.members {
                add(m, Some(slug), in_header, section);
            }
        }
    };
    for r in &d.recipients {
        named(r, true, None);
    }
    for (i, s) in d.sections.iter().enumerate() {
        for (r, _) in &s.recipients {
            named(r, false, Some(i));
        }
    }
    out
}

/// A chain of `supersedes` that comes back to where it started.
fn report_supersede_cycles(
    all: &[Arc<Directive>],
    supersedes: &[Vec<(Reference, Target)>],
    diags: &mut Diagnostics,
) {
    let n = all.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on the path, 2 done
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(Id, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some((node, edge)) = stack.pop() {
            let targets: Vec<Id> = supersedes[node]
                .iter()
                .filter_map(|(_, t)| {
                    if let Target::Found(t) = t {
                        Some(*t)
                    } else {
                        None
                    }
                })
                .filter(|&t| t != node)
                .collect();
            if edge < targets.len() {
                stack.push((node, edge + 1));
                let next = targets[edge];
                match state[next] {
                    0 => {
                        state[next] = 1;
                        stack.push((next, 0));
                    }
                    1 => {
                        let d = &all[node];
                        let loc = supersedes[node]
                            .iter()
                            .find(|(_, t)| *t == Target::Found(next))
                            .map(|(r, _)| r.loc)
                            .unwrap_or_default();
                        diags.push(Diagnostic::error(
                            &d.file, loc, "supersedes-cycle",
                            format!("{} supersedes {}, which (directly or not) supersedes {} again: `supersedes` cannot go in a circle",
                                d.number, all[next].number, d.number),
                        ));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
}
