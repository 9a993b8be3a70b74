//! What templates see: small serializable views of the site graph. Lists get
//! summaries, never bodies. Every address is root-relative without a leading
//! slash; templates prefix it with `root`.

use super::dates;
use super::markdown::{BodyContext, Glossary, render_body};
use super::{PageJob, RenderError};
use crate::config::System;
use crate::model::{Directive, Organization};
use crate::parse::body::PlainSections;
use crate::resolve::{Addressed, Id, SiteGraph, Status, Target};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tera::Context;

/// Site-wide values, computed once per build.
#[derive(Serialize)]
pub struct SiteView {
    pub title: String,
    pub description: Option<String>,
    pub language: String,
    pub base_url: String,
    /// The path part of the base URL ("/vanban/"), for the 404 page.
    pub base_path: String,
    #[serde(skip)]
    glossary: Glossary,
    /// Each directive's list item (`partials/item.html`), rendered once for
    /// pages two levels deep, where every long list lives. As Tera values:
    /// a list page's context then shares each item's text (an `Arc`)
    /// instead of copying it, as serializing a `&str` would.
    #[serde(skip)]
    pub item_html: Vec<tera::Value>,
}

impl SiteView {
    fn item_html(&self, id: Id) -> &tera::Value {
        static NONE: std::sync::LazyLock<tera::Value> =
            std::sync::LazyLock::new(|| tera::Value::from(""));
        self.item_html.get(id).unwrap_or(&NONE)
    }
}

impl SiteView {
    pub fn new(graph: &SiteGraph, base_url: &str) -> Self {
        let cfg = &graph.validated.config;
        let base_url = if base_url.is_empty() {
            cfg.base_url_normalized()
        } else {
            format!("{}/", base_url.trim_end_matches('/'))
        };
        let base_path = base_url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_else(|| "/".to_string());
        SiteView {
            title: cfg.title.clone(),
            description: cfg.description.clone(),
            language: cfg.language.clone(),
            base_url,
            base_path,
            glossary: Glossary::new(&graph.validated.glossary),
            item_html: Vec::new(),
        }
    }
}

/// Which page, for [`page_data`].
pub enum PageKind {
    Home,
    Directive(Id),
    Recipient(String),
    Recipients,
    Topic(String),
    Topics,
    Issuer(String),
    Issuers,
    Year(i32),
    Years,
    NotFound,
    Search,
    Feed,
    Sitemap,
}

pub fn recipient_url(slug: &str) -> String {
    format!("noi-nhan/{slug}/")
}
pub fn topic_url(slug: &str) -> String {
    format!("chu-de/{slug}/")
}
pub fn issuer_url(slug: &str) -> String {
    format!("co-quan/{slug}/")
}
pub fn year_url(year: i32) -> String {
    format!("van-ban/{year}/")
}

/// Whether the page shows something of a changed directive: the directive
/// itself, a list it is on, or a relation or citation that involves it.
/// Small site-wide pages (home, indexes, feed, sitemap) always count.
/// `hit` says, by directive, whether its file changed; `numbers` are the
/// changed directives' number keys.
pub(crate) fn touches(
    graph: &SiteGraph,
    kind: &PageKind,
    hit: &[bool],
    numbers: &rustc_hash::FxHashSet<String>,
) -> bool {
    let file = |id: &Id| hit.get(*id).copied().unwrap_or(false);
    let any = |ids: Option<&Vec<Id>>| ids.is_some_and(|ids| ids.iter().any(file));
    match kind {
        PageKind::Directive(id) => {
            let id = *id;
            let d = graph.directive(id);
            let found = |refs: &[(crate::model::Reference, Target)]| {
                refs.iter().any(|(r, t)| {
                    numbers.contains(&r.key) || matches!(t, Target::Found(t) if file(t))
                })
            };
            file(&id)
                || found(&graph.implements[id])
                || found(&graph.supersedes[id])
                || graph.implemented_by[id].iter().any(file)
                || graph.superseded_by[id].iter().any(file)
                || graph.cited_by[id].iter().any(file)
                || graph.mention_links[id].values().any(file)
                || d.mentions.iter().any(|m| numbers.contains(&m.key))
        }
        PageKind::Recipient(slug) => graph
            .by_recipient
            .get(slug)
            .is_some_and(|entries| entries.iter().any(|a| file(&a.id))),
        PageKind::Topic(slug) => any(graph.by_topic.get(slug)),
        PageKind::Issuer(slug) => any(graph.by_issuer.get(slug)),
        PageKind::Year(year) => any(graph.by_year.get(year)),
        PageKind::Home
        | PageKind::NotFound
        | PageKind::Search
        | PageKind::Feed
        | PageKind::Sitemap
        | PageKind::Recipients
        | PageKind::Topics
        | PageKind::Issuers
        | PageKind::Years => true,
    }
}

/// Every page of the site, in a fixed order.
pub(crate) fn jobs(graph: &SiteGraph) -> Vec<PageJob> {
    page_kinds(graph)
        .into_iter()
        .map(|kind| job(graph, kind))
        .collect()
}

/// What [`jobs`] lists, without building addresses and titles.
pub(crate) fn page_kinds(graph: &SiteGraph) -> Vec<PageKind> {
    let v = &graph.validated;
    let mut kinds = vec![
        PageKind::Home,
        PageKind::NotFound,
        PageKind::Search,
        PageKind::Feed,
        PageKind::Sitemap,
        PageKind::Recipients,
        PageKind::Topics,
        PageKind::Issuers,
        PageKind::Years,
    ];
    kinds.extend(graph.order.iter().map(|&id| PageKind::Directive(id)));
    for slug in v.organizations.keys() {
        kinds.push(PageKind::Recipient(slug.clone()));
        kinds.push(PageKind::Issuer(slug.clone()));
    }
    kinds.extend(v.topics.keys().map(|slug| PageKind::Topic(slug.clone())));
    kinds.extend(graph.by_year.keys().map(|&year| PageKind::Year(year)));
    kinds
}

/// A page's address.
pub(crate) fn url_of(graph: &SiteGraph, kind: &PageKind) -> String {
    match kind {
        PageKind::Directive(id) => graph.directive(*id).url(),
        PageKind::Recipient(slug) => recipient_url(slug),
        PageKind::Issuer(slug) => issuer_url(slug),
        PageKind::Topic(slug) => topic_url(slug),
        PageKind::Year(year) => year_url(*year),
        other => fixed_page(graph, other).0.to_string(),
    }
}

/// Address, template, title and section of the pages that are not lists of
/// one thing.
fn fixed_page(
    graph: &SiteGraph,
    kind: &PageKind,
) -> (&'static str, &'static str, String, &'static str) {
    let title = || graph.validated.config.title.clone();
    match kind {
        PageKind::Home => ("", "index.html", title(), "home"),
        PageKind::NotFound => ("404.html", "404.html", "Không tìm thấy trang".into(), ""),
        PageKind::Search => ("tim-kiem/", "search.html", "Tìm kiếm".into(), "search"),
        PageKind::Feed => ("feed.xml", "feed.xml", title(), ""),
        PageKind::Sitemap => ("sitemap.xml", "sitemap.xml", String::new(), ""),
        PageKind::Recipients => (
            "noi-nhan/",
            "recipients.html",
            "Nơi nhận".into(),
            "recipients",
        ),
        PageKind::Topics => ("chu-de/", "topics.html", "Chủ đề".into(), "topics"),
        PageKind::Issuers => (
            "co-quan/",
            "issuers.html",
            "Cơ quan ban hành".into(),
            "issuers",
        ),
        _ => ("van-ban/", "years.html", "Văn bản theo năm".into(), "years"),
    }
}

/// A page's address, template, title and navigation section.
pub(crate) fn job(graph: &SiteGraph, kind: PageKind) -> PageJob {
    let v = &graph.validated;
    let org = |slug: &str| {
        v.organizations
            .get(slug)
            .map_or(slug.to_string(), |o| o.name.clone())
    };
    let url = url_of(graph, &kind);
    let (template, title, section) = match &kind {
        PageKind::Directive(id) => {
            let d = graph.directive(*id);
            (
                "directive.html",
                format!("{} — {}", d.number, d.subject),
                "years",
            )
        }
        PageKind::Recipient(slug) => ("recipient.html", org(slug), "recipients"),
        PageKind::Issuer(slug) => ("issuer.html", org(slug), "issuers"),
        PageKind::Topic(slug) => {
            let name = v.topics.get(slug).map_or(slug.clone(), |t| t.name.clone());
            ("topic.html", name, "topics")
        }
        PageKind::Year(year) => ("year.html", format!("Văn bản năm {year}"), "years"),
        other => {
            let (_, template, title, section) = fixed_page(graph, other);
            (template, title, section)
        }
    };
    PageJob {
        url,
        template,
        title,
        section,
        kind,
    }
}

#[derive(Serialize, Clone)]
struct Link {
    name: String,
    url: String,
}

#[derive(Serialize)]
pub(crate) struct Summary {
    url: String,
    number: String,
    kind: String,
    kind_slug: String,
    date: String,
    date_iso: String,
    year: i32,
    subject: String,
    issuer: Link,
    status: Status,
    status_label: &'static str,
    draft: bool,
}

fn org_name<'a>(graph: &'a SiteGraph, slug: &'a str) -> &'a str {
    graph
        .validated
        .organizations
        .get(slug)
        .map_or(slug, |o| o.name.as_str())
}

pub(crate) fn summary(graph: &SiteGraph, id: Id) -> Summary {
    let d = graph.directive(id);
    let kind = graph
        .validated
        .config
        .kind(&d.kind)
        .map_or(d.kind.clone(), |k| k.name.clone());
    let status = graph.status[id];
    Summary {
        url: d.url(),
        number: d.number.clone(),
        kind,
        kind_slug: d.kind.clone(),
        date: dates::short(d.date),
        date_iso: d.date.format("%Y-%m-%d").to_string(),
        year: d.year(),
        subject: d.subject.clone(),
        issuer: Link {
            name: org_name(graph, &d.issuer).to_string(),
            url: issuer_url(&d.issuer),
        },
        status,
        status_label: status.label(),
        draft: d.draft,
    }
}

#[derive(Serialize)]
struct YearGroup<T> {
    year: i32,
    items: Vec<T>,
}

/// Items grouped by year, newest year first; items keep their order.
fn by_year<T: Serialize>(items: impl IntoIterator<Item = (i32, T)>) -> Vec<YearGroup<T>> {
    let mut groups: Vec<YearGroup<T>> = Vec::new();
    for (year, item) in items {
        match groups.last_mut() {
            Some(g) if g.year == year => g.items.push(item),
            _ => groups.push(YearGroup {
                year,
                items: vec![item],
            }),
        }
    }
    groups
}

/// Pre-rendered list items (see [`SiteView::item_html`]) grouped by year.
fn items_by_year<'a>(
    graph: &SiteGraph,
    site: &'a SiteView,
    ids: &[Id],
) -> Vec<YearGroup<&'a tera::Value>> {
    by_year(
        ids.iter()
            .map(|&id| (graph.directive(id).year(), site.item_html(id))),
    )
}

/// Fills `ctx` with what the page's template needs.
/// `texts` gets a directive page's text as its body is rendered.
pub(crate) fn fill(
    ctx: &mut Context,
    graph: &SiteGraph,
    site: &SiteView,
    root: &str,
    kind: &PageKind,
    texts: Option<&mut PlainSections>,
) -> Result<(), RenderError> {
    let v = &graph.validated;
    match kind {
        PageKind::Home => {
            let latest: Vec<Summary> = graph
                .order
                .iter()
                .take(20)
                .map(|&id| summary(graph, id))
                .collect();
            ctx.insert("latest", &latest);
            ctx.insert("topics", &topic_counts(graph));
            let counts = graph.by_issuer.iter().map(|(k, v)| (k, v.len())).collect();
            ctx.insert("issuers", &org_counts(graph, &counts));
            ctx.insert("years", &year_counts(graph));
            ctx.insert("total", &graph.order.len());
        }
        PageKind::Directive(id) => directive_data(ctx, graph, site, root, *id, texts)?,
        PageKind::Recipient(slug) => recipient_data(ctx, graph, site, slug),
        PageKind::Recipients => {
            let counts = graph
                .by_recipient
                .iter()
                .map(|(k, v)| (k, v.len()))
                .collect();
            ctx.insert("organizations", &org_counts(graph, &counts));
        }
        PageKind::Topic(slug) => {
            let ids = graph.by_topic.get(slug).map_or(&[][..], Vec::as_slice);
            ctx.insert("topic", &v.topics.get(slug));
            ctx.insert("count", &ids.len());
            ctx.insert("years", &items_by_year(graph, site, ids));
        }
        PageKind::Topics => ctx.insert("topics", &topic_counts(graph)),
        PageKind::Issuer(slug) => {
            let ids = graph.by_issuer.get(slug).map_or(&[][..], Vec::as_slice);
            ctx.insert("org", &org_view(graph, slug));
            ctx.insert("count", &ids.len());
            ctx.insert("years", &items_by_year(graph, site, ids));
        }
        PageKind::Issuers => {
            let counts = graph.by_issuer.iter().map(|(k, v)| (k, v.len())).collect();
            ctx.insert("organizations", &org_counts(graph, &counts));
        }
        PageKind::Year(year) => {
            let ids = graph.by_year.get(year).map_or(&[][..], Vec::as_slice);
            let items: Vec<&tera::Value> = ids.iter().map(|&id| site.item_html(id)).collect();
            ctx.insert("year", year);
            ctx.insert("count", &ids.len());
            ctx.insert("items", &items);
        }
        PageKind::Years => {
            ctx.insert("years", &year_counts(graph));
            ctx.insert("total", &graph.order.len());
        }
        PageKind::NotFound | PageKind::Search => {}
        PageKind::Feed => {
            let entries: Vec<Summary> = graph
                .order
                .iter()
                .take(50)
                .map(|&id| summary(graph, id))
                .collect();
            ctx.insert("entries", &entries);
            let updated = graph
                .order
                .first()
                .map(|&id| graph.directive(id).date.format("%Y-%m-%d").to_string());
            ctx.insert("updated", &updated);
        }
        PageKind::Sitemap => ctx.insert("urls", &sitemap_urls(graph)),
    }
    Ok(())
}

/// Topics by name, in the order [`name_order`] gives.
fn topic_counts(graph: &SiteGraph) -> Vec<Value> {
    let mut topics: Vec<&crate::model::Topic> = graph.validated.topics.values().collect();
    topics.sort_by_cached_key(|t| name_order(&t.name, &t.slug));
    topics
        .iter()
        .map(|t| {
            let count = graph.by_topic.get(&t.slug).map_or(0, Vec::len);
            json!({ "name": t.name, "abbr": t.abbr, "url": topic_url(&t.slug), "count": count })
        })
        .collect()
}

/// A sort key for names, Vietnamese-aware enough: folded ("Đ" with "D"),
/// then exact, then the slug so that equal names keep a stable order.
fn name_order(name: &str, slug: &str) -> (String, String, String) {
    (crate::text::fold(name), name.to_string(), slug.to_string())
}

/// Organizations by name, in the order [`name_order`] gives.
fn org_counts(graph: &SiteGraph, counts: &BTreeMap<&String, usize>) -> Vec<Value> {
    let mut orgs: Vec<&Organization> = graph.validated.organizations.values().collect();
    orgs.sort_by_cached_key(|o| name_order(&o.name, &o.slug));
    orgs.iter()
        .map(|o| {
            let count = counts.get(&o.slug).copied().unwrap_or(0);
            json!({
                "name": o.name, "slug": o.slug, "count": count, "group": !o.members.is_empty(),
                "recipient_url": recipient_url(&o.slug), "issuer_url": issuer_url(&o.slug),
            })
        })
        .collect()
}

fn year_counts(graph: &SiteGraph) -> Vec<Value> {
    graph
        .by_year
        .iter()
        .rev()
        .map(|(y, ids)| json!({ "year": y, "url": year_url(*y), "count": ids.len() }))
        .collect()
}

/// An organization by name, linked to its page of what it receives.
fn recipient_link(graph: &SiteGraph, slug: &str) -> Link {
    Link {
        name: org_name(graph, slug).to_string(),
        url: recipient_url(slug),
    }
}

fn org_view(graph: &SiteGraph, slug: &str) -> Value {
    let orgs = &graph.validated.organizations;
    let Some(o) = orgs.get(slug) else {
        return json!({ "name": slug, "slug": slug });
    };
    let link = |s: &String| recipient_link(graph, s);
    json!({
        "name": o.name,
        "slug": o.slug,
        "short": o.short,
        "aliases": o.aliases,
        "parent": o.parent.as_ref().map(|p| Link { name: org_name(graph, p).to_string(), url: issuer_url(p) }),
        "members": o.members.iter().map(link).collect::<Vec<_>>(),
        "groups": graph.groups_of.get(slug).map(|g| g.iter().map(link).collect::<Vec<_>>()).unwrap_or_default(),
        "recipient_url": recipient_url(slug),
        "issuer_url": issuer_url(slug),
        "issued": graph.by_issuer.get(slug).map_or(0, Vec::len),
        "received": graph.by_recipient.get(slug).map_or(0, Vec::len),
    })
}

#[derive(Serialize)]
struct SectionLink {
    id: String,
    title: String,
    url: String,
}

#[derive(Serialize)]
struct RecipientEntry<'a> {
    html: &'a tera::Value,
    in_header: bool,
    via: Option<Link>,
    sections: Vec<SectionLink>,
}

fn recipient_data(ctx: &mut Context, graph: &SiteGraph, site: &SiteView, slug: &str) {
    let entries = graph.by_recipient.get(slug).map_or(&[][..], Vec::as_slice);
    let items = entries.iter().map(|a: &Addressed| {
        let d = graph.directive(a.id);
        let sections = a
            .sections
            .iter()
            .filter_map(|&i| d.sections.get(i))
            .map(|s| SectionLink {
                id: s.id.clone(),
                title: s.title.clone(),
                url: format!("{}#{}", d.url(), s.id),
            })
            .collect();
        let entry = RecipientEntry {
            html: site.item_html(a.id),
            in_header: a.in_header,
            via: a.via.as_ref().map(|g| recipient_link(graph, g)),
            sections,
        };
        (d.year(), entry)
    });
    ctx.insert("org", &org_view(graph, slug));
    ctx.insert("count", &entries.len());
    ctx.insert("years", &by_year(items));
}

#[derive(Serialize)]
struct RefView {
    number: String,
    date: Option<String>,
    url: Option<String>,
    subject: Option<String>,
    ambiguous: bool,
}

fn ref_views(graph: &SiteGraph, refs: &[(crate::model::Reference, Target)]) -> Vec<RefView> {
    refs.iter()
        .map(|(r, t)| {
            let found = match t {
                Target::Found(id) => Some(graph.directive(*id)),
                _ => None,
            };
            RefView {
                number: r.number.clone(),
                date: r.date.or(found.map(|d| d.date)).map(dates::short),
                url: found.map(Directive::url),
                subject: found.map(|d| d.subject.clone()),
                ambiguous: matches!(t, Target::Ambiguous(_)),
            }
        })
        .collect()
}

/// A directive page's header, as the template sees it.
#[derive(Serialize)]
struct HeaderView<'a> {
    parent: Option<String>,
    issuer: String,
    motto: &'a [String],
    system: &'static str,
    number: &'a str,
    place_date: String,
    letter: bool,
    kind_title: String,
}

/// A section of a directive, for the page's table of contents.
#[derive(Serialize)]
struct SectionView<'a> {
    id: &'a str,
    title: &'a str,
    level: u8,
    recipients: Vec<Link>,
}

/// A directive's relations to others, for `partials/relations.html`.
#[derive(Serialize)]
struct RelationsView {
    implements: Vec<RefView>,
    implemented_by: Vec<Summary>,
    cited_by: Vec<Summary>,
    supersedes: Vec<RefView>,
    superseded_by: Vec<Summary>,
}

fn directive_data(
    ctx: &mut Context,
    graph: &SiteGraph,
    site: &SiteView,
    root: &str,
    id: Id,
    texts: Option<&mut PlainSections>,
) -> Result<(), RenderError> {
    let v = &graph.validated;
    let d = graph.directive(id);
    let cfg = &v.config;
    let kind = cfg.kind(&d.kind);
    let issuer = v.organizations.get(&d.issuer);
    let system = system_of(&v.organizations, &d.issuer).unwrap_or(cfg.system);
    let parent = issuer
        .and_then(|o| o.parent.as_ref())
        .map(|p| org_name(graph, p).to_uppercase());
    let place = d.place.clone().or_else(|| cfg.place.clone());
    let place_date = match &place {
        Some(p) => format!("{p}, {}", dates::long(d.date)),
        None => capitalize(&dates::long(d.date)),
    };
    let links = graph.mention_links[id]
        .iter()
        .map(|((key, date), &target)| ((key.clone(), *date), graph.directive(target).url()))
        .collect();
    let body = d
        .body_text()
        .map_err(|e| RenderError::content(&d.file, e))?;
    let body_html = render_body(
        d,
        &body,
        &BodyContext {
            root,
            links,
            glossary: &site.glossary,
        },
        texts,
    );
    let recipients: Vec<Link> = d
        .recipients
        .iter()
        .map(|r| recipient_link(graph, r))
        .collect();
    let sections: Vec<SectionView> = d
        .sections
        .iter()
        .map(|s| SectionView {
            id: &s.id,
            title: &s.title,
            level: s.level,
            recipients: s
                .recipients
                .iter()
                .map(|(r, _)| recipient_link(graph, r))
                .collect(),
        })
        .collect();
    let list = |ids: &[Id]| ids.iter().map(|&i| summary(graph, i)).collect::<Vec<_>>();
    let implements = ref_views(graph, &graph.implements[id]);
    let implemented_by = list(&graph.implemented_by[id]);
    ctx.insert("d", &summary(graph, id));
    ctx.insert(
        "header",
        &HeaderView {
            parent,
            issuer: issuer.map_or(d.issuer.to_uppercase(), |o| o.name.to_uppercase()),
            motto: cfg.motto(system),
            system: if system == System::State {
                "state"
            } else {
                "party"
            },
            number: &d.number,
            place_date,
            letter: kind.is_some_and(|k| k.letter),
            kind_title: kind.map_or(String::new(), |k| k.name.to_uppercase()),
        },
    );
    ctx.insert("recipients", &recipients);
    ctx.insert("body_html", &body_html);
    ctx.insert("signer", &d.signer);
    let topics: Vec<Link> = d
        .topics
        .iter()
        .map(|t| Link {
            name: v.topics.get(t).map_or(t.clone(), |t| t.name.clone()),
            url: topic_url(t),
        })
        .collect();
    ctx.insert("topics", &topics);
    ctx.insert("sections", &sections);
    ctx.insert(
        "relations",
        &RelationsView {
            implements,
            implemented_by,
            cited_by: list(&graph.cited_by[id]),
            supersedes: ref_views(graph, &graph.supersedes[id]),
            superseded_by: list(&graph.superseded_by[id]),
        },
    );
    ctx.insert("graph_svg", &super::graph::svg(graph, id, root));
    Ok(())
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// The system (party or state) an organization belongs to: its own, or the
/// nearest ancestor's.
fn system_of(orgs: &BTreeMap<String, Organization>, slug: &str) -> Option<System> {
    let mut cur = orgs.get(slug);
    for _ in 0..orgs.len() {
        let o = cur?;
        if let Some(s) = o.system {
            return Some(s);
        }
        cur = o.parent.as_ref().and_then(|p| orgs.get(p));
    }
    None
}

fn sitemap_urls(graph: &SiteGraph) -> Vec<String> {
    let v = &graph.validated;
    let mut urls = vec![
        String::new(),
        "noi-nhan/".into(),
        "chu-de/".into(),
        "co-quan/".into(),
        "van-ban/".into(),
    ];
    urls.extend(graph.order.iter().map(|&id| graph.directive(id).url()));
    urls.extend(
        v.organizations
            .keys()
            .flat_map(|s| [recipient_url(s), issuer_url(s)]),
    );
    urls.extend(v.topics.keys().map(|s| topic_url(s)));
    urls.extend(graph.by_year.keys().map(|&y| year_url(y)));
    urls.sort();
    urls
}
