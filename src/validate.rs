//! The validate stage: checks every draft against the registries and the
//! others, and turns drafts into [`Directive`]s. Every problem is reported;
//! nothing stops at the first.

use crate::config::SiteConfig;
use crate::diagnostics::{Diagnostic, Diagnostics, Loc, did_you_mean};
use crate::model::{Directive, GlossaryEntry, Organization, RefSpec, Reference, Topic};
use crate::parse::yaml::YamlDoc;
use crate::parse::{DirectiveDraft, Parsed, Registry, number};
use crate::text::{is_slug, slugify};
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Checked content, ready to be resolved into a site graph.
pub struct Validated {
    pub config: SiteConfig,
    pub organizations: BTreeMap<String, Organization>,
    pub topics: BTreeMap<String, Topic>,
    pub glossary: Vec<GlossaryEntry>,
    /// Sorted by file path; includes drafts. Shared, so that serve mode
    /// can keep the directives of unchanged files.
    pub directives: Vec<Arc<Directive>>,
}

pub fn validate(parsed: Parsed, diags: &mut Diagnostics) -> Option<Validated> {
    validate_reusing(parsed, diags, &|_| None)
}

/// [`validate`], taking the directive `reuse` gives for a draft as checked
/// already (serve mode: a file unchanged under unchanged registries).
pub fn validate_reusing(
    parsed: Parsed,
    diags: &mut Diagnostics,
    reuse: &(dyn Fn(&DirectiveDraft) -> Option<Arc<Directive>> + Sync),
) -> Option<Validated> {
    let config = parsed.config?;
    check_kinds(
        &config,
        parsed
            .site_file
            .as_ref()
            .map(|f| (f.path.as_str(), &*f.text)),
        diags,
    );
    let organizations = check_organizations(&parsed.organizations, diags);
    let topics = check_topics(&parsed.topics, diags);
    let ctx = Ctx {
        config: &config,
        organizations: &organizations,
        topics: &topics,
    };

    let checked: Vec<(Option<Arc<Directive>>, Diagnostics)> = parsed
        .drafts
        .into_par_iter()
        .map(|draft| {
            let mut d = Diagnostics::default();
            if let Some(done) = reuse(&draft) {
                return (Some(done), d);
            }
            (ctx.directive(draft, &mut d).map(Arc::new), d)
        })
        .collect();
    let mut directives = Vec::with_capacity(checked.len());
    for (directive, d) in checked {
        diags.extend(d);
        directives.extend(directive);
    }
    check_identity(&directives, diags);
    Some(Validated {
        config,
        organizations,
        topics,
        glossary: parsed.glossary.entries,
        directives,
    })
}

fn check_kinds(config: &SiteConfig, site: Option<(&str, &str)>, diags: &mut Diagnostics) {
    let Some((file, text)) = site else { return };
    let doc = YamlDoc {
        file,
        text,
        first_line: 1,
    };
    let mut seen = HashSet::default();
    for k in &config.kinds {
        if !is_slug(&k.slug) || !seen.insert(k.slug.as_str()) {
            let loc = doc.value_loc(doc.whole(), "kinds", &k.slug);
            let what = if is_slug(&k.slug) {
                "is defined twice"
            } else {
                "is not a valid slug (lowercase ASCII and hyphens)"
            };
            diags.push(Diagnostic::error(
                file,
                loc,
                "bad-kind",
                format!("kind `{}` {what}", k.slug),
            ));
        }
    }
}

fn check_organizations(
    reg: &Registry<Organization>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Organization> {
    let doc = reg.doc();
    let blocks = doc.item_blocks();
    let block = |i: usize| blocks.get(i).copied().unwrap_or(doc.whole());
    let mut map = BTreeMap::new();
    for (i, org) in reg.entries.iter().enumerate() {
        if !is_slug(&org.slug) {
            diags.push(Diagnostic::error(&reg.file, doc.key_loc(block(i), "slug"), "bad-slug",
                format!("`{}` is not a valid slug: use lowercase ASCII letters, digits and hyphens (e.g. `{}`)", org.slug, slugify(&org.slug))));
        }
        if map.insert(org.slug.clone(), org.clone()).is_some() {
            diags.push(Diagnostic::error(
                &reg.file,
                doc.key_loc(block(i), "slug"),
                "duplicate-slug",
                format!("the organization `{}` is defined twice", org.slug),
            ));
        }
    }
    let known: Vec<&str> = map.keys().map(String::as_str).collect();
    for (i, org) in reg.entries.iter().enumerate() {
        let refs = org
            .parent
            .iter()
            .map(|p| ("parent", p))
            .chain(org.members.iter().map(|m| ("members", m)));
        for (key, slug) in refs {
            if !map.contains_key(slug) {
                diags.push(
                    Diagnostic::error(
                        &reg.file,
                        doc.value_loc(block(i), key, slug),
                        "unknown-organization",
                        format!(
                            "`{}` names the unknown organization `{slug}` in `{key}`",
                            org.slug
                        ),
                    )
                    .with_suggestion(did_you_mean(slug, known.iter().copied())),
                );
            }
        }
        // A parent chain that loops would never end.
        let mut seen = HashSet::default();
        let mut cur = Some(org.slug.as_str());
        while let Some(s) = cur {
            if !seen.insert(s) {
                diags.push(Diagnostic::error(
                    &reg.file,
                    doc.key_loc(block(i), "parent"),
                    "parent-cycle",
                    format!("the parents of `{}` form a cycle", org.slug),
                ));
                break;
            }
            cur = map.get(s).and_then(|o| o.parent.as_deref());
        }
    }
    map
}

fn check_topics(reg: &Registry<Topic>, diags: &mut Diagnostics) -> BTreeMap<String, Topic> {
    let doc = reg.doc();
    let blocks = doc.item_blocks();
    let mut map = BTreeMap::new();
    for (i, t) in reg.entries.iter().enumerate() {
        let block = blocks.get(i).copied().unwrap_or(doc.whole());
        if !is_slug(&t.slug) {
            diags.push(Diagnostic::error(
                &reg.file,
                doc.key_loc(block, "slug"),
                "bad-slug",
                format!(
                    "`{}` is not a valid slug: use lowercase ASCII letters, digits and hyphens",
                    t.slug
                ),
            ));
        }
        if map.insert(t.slug.clone(), t.clone()).is_some() {
            diags.push(Diagnostic::error(
                &reg.file,
                doc.key_loc(block, "slug"),
                "duplicate-slug",
                format!("the topic `{}` is defined twice", t.slug),
            ));
        }
    }
    map
}

struct Ctx<'a> {
    config: &'a SiteConfig,
    organizations: &'a BTreeMap<String, Organization>,
    topics: &'a BTreeMap<String, Topic>,
}

impl Ctx<'_> {
    /// Checks one draft. A draft nobody else holds is taken apart, not copied.
    fn directive(&self, shared: Arc<DirectiveDraft>, diags: &mut Diagnostics) -> Option<Directive> {
        let draft: &DirectiveDraft = &shared;
        let fm = &draft.front;
        let doc = draft.doc();
        let all = doc.whole();
        let file = draft.file.as_str();
        let errors_before = diags.error_count();
        let mut error = |loc: Loc, code: &'static str, msg: String, hint: Option<String>| {
            diags.push(Diagnostic::error(file, loc, code, msg).with_suggestion(hint));
        };

        let number = number::normalize(&fm.number);
        if !number::is_valid(&number) {
            error(
                doc.key_loc(all, "number"),
                "bad-number",
                format!(
                    "`{}` is not a document number; write it as `1383-CV/BTGTU` (Party) or `17/NQ-CP`, `2844/VPCP-KSTT`, `30/2020/NĐ-CP` (state)",
                    fm.number
                ),
                None,
            );
        }
        if self.config.kind(&fm.kind).is_none() {
            error(
                doc.key_loc(all, "kind"),
                "unknown-kind",
                format!(
                    "unknown kind `{}`; kinds are listed in content/site.yaml",
                    fm.kind
                ),
                did_you_mean(&fm.kind, self.config.kinds.iter().map(|k| k.slug.as_str())),
            );
        }
        let org_slugs = || self.organizations.keys().map(String::as_str);
        if !self.organizations.contains_key(&fm.issuer) {
            error(
                doc.key_loc(all, "issuer"),
                "unknown-issuer",
                format!(
                    "unknown issuer `{}`; organizations are listed in content/organizations.yaml",
                    fm.issuer
                ),
                did_you_mean(&fm.issuer, org_slugs()),
            );
        }
        let date = parse_date(&fm.date);
        if date.is_none() {
            error(
                doc.key_loc(all, "date"),
                "bad-date",
                format!(
                    "`{}` is not a real date; write it as YYYY-MM-DD, e.g. 2024-05-22",
                    fm.date
                ),
                None,
            );
        }
        if fm.subject.trim().is_empty() {
            error(
                doc.key_loc(all, "subject"),
                "empty-subject",
                "the subject (trích yếu) is empty".into(),
                None,
            );
        }
        let mut seen = HashSet::default();
        for r in &fm.recipients {
            if !self.organizations.contains_key(r) {
                error(
                    doc.value_loc(all, "recipients", r),
                    "unknown-recipient",
                    format!(
                        "unknown recipient `{r}`; organizations are listed in content/organizations.yaml"
                    ),
                    did_you_mean(r, org_slugs()),
                );
            } else if !seen.insert(r) {
                error(
                    doc.value_loc(all, "recipients", r),
                    "duplicate-recipient",
                    format!("recipient `{r}` is listed twice"),
                    None,
                );
            }
        }
        for t in &fm.topics {
            if !self.topics.contains_key(t) {
                error(
                    doc.value_loc(all, "topics", t),
                    "unknown-topic",
                    format!("unknown topic `{t}`; topics are listed in content/topics.yaml"),
                    did_you_mean(t, self.topics.keys().map(String::as_str)),
                );
            }
        }
        for s in &draft.scan.sections {
            for (r, loc) in &s.recipients {
                if !self.organizations.contains_key(r) {
                    error(
                        *loc,
                        "unknown-recipient",
                        format!("unknown recipient `{r}` in the heading's `recipients=`"),
                        did_you_mean(r, org_slugs()),
                    );
                }
            }
        }
        let mut refs = |key: &str, specs: &[RefSpec]| -> Vec<Reference> {
            specs
                .iter()
                .filter_map(|spec| {
                    let (raw, raw_date) = match spec {
                        RefSpec::Number(n) => (n.as_str(), None),
                        RefSpec::Dated(d) => (d.number.as_str(), Some(d.date.as_str())),
                    };
                    let loc = doc.value_loc(all, key, raw);
                    let number = number::normalize(raw);
                    if !number::is_valid(&number) {
                        error(
                            loc,
                            "bad-number",
                            format!("`{raw}` in `{key}` is not a document number"),
                            None,
                        );
                        return None;
                    }
                    let date = match raw_date {
                        None => None,
                        Some(s) => match parse_date(s) {
                            Some(d) => Some(d),
                            None => {
                                error(
                                    loc,
                                    "bad-date",
                                    format!("`{s}` is not a real date; write it as YYYY-MM-DD"),
                                    None,
                                );
                                return None;
                            }
                        },
                    };
                    Some(Reference {
                        key: number::key(&number),
                        number,
                        date,
                        loc,
                    })
                })
                .collect()
        };
        let implements = refs("implements", &fm.implements);
        let supersedes = refs("supersedes", &fm.supersedes);
        if let Some(slug) = &fm.slug {
            if !is_slug(slug) {
                diags.push(Diagnostic::error(file, doc.key_loc(all, "slug"), "bad-slug",
                    format!("`{slug}` is not a valid address part: use lowercase ASCII letters, digits and hyphens, e.g. `{}`", slugify(slug))));
            }
        }
        if diags.error_count() > errors_before {
            return None;
        }
        let date = date?;
        let number_loc = doc.key_loc(all, "number");
        let slug_loc = fm.slug.as_ref().map(|_| doc.key_loc(all, "slug"));
        let body_line = draft.body_line;
        let DirectiveDraft {
            file,
            front,
            body,
            scan,
            ..
        } = Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone());
        Some(Directive {
            file,
            slug: front.slug.unwrap_or_else(|| slugify(&number)),
            number_key: number::key(&number),
            number_loc,
            slug_loc,
            number,
            kind: front.kind,
            issuer: front.issuer,
            date,
            place: front.place,
            subject: front.subject.trim().to_string(),
            recipients: front.recipients,
            topics: front.topics,
            implements,
            supersedes,
            signer: front.signer,
            declared_status: front.status,
            draft: front.draft,
            body,
            body_line,
            sections: scan.sections,
            mentions: scan.mentions,
            body_bytes: scan.bytes,
        })
    }
}

/// A strict ISO date: "2024-05-22", and only real calendar days.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// (number, issuer, year) names one directive; (year, slug) one address.
fn check_identity(directives: &[Arc<Directive>], diags: &mut Diagnostics) {
    let mut identities: HashMap<(&str, &str, i32), &str> = HashMap::default();
    let mut addresses: HashMap<(i32, &str), &str> = HashMap::default();
    for d in directives {
        let id = (d.number_key.as_str(), d.issuer.as_str(), d.date.year());
        if let Some(first) = identities.get(&id) {
            diags.push(Diagnostic::error(&d.file, d.number_loc, "duplicate-number",
                format!("{} of {} is already used in {} by {first}; a number names one directive per issuer and year", d.number, d.issuer, d.date.year())));
            continue;
        }
        identities.insert(id, &d.file);
        if let Some(first) = addresses.get(&(d.year(), d.slug.as_str())) {
            diags.push(Diagnostic::error(&d.file, d.slug_loc.unwrap_or(d.number_loc), "address-clash",
                format!("the address van-ban/{}/{}/ is already taken by {first}; set `slug:` on one of them to another address", d.year(), d.slug)));
            continue;
        }
        addresses.insert((d.year(), d.slug.as_str()), &d.file);
    }
}
