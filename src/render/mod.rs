//! The render stage: the site graph and the theme → every output file as
//! bytes, rendered in parallel and handed to a sink (the writer) one by
//! one. The one thing it reads is a directive's text, through
//! [`crate::load::read_again`], which fails unless it is the text that was
//! parsed.

pub mod dates;
mod graph;
pub mod markdown;
mod views;

use crate::load::Theme;
use crate::parse::body::PlainSections;
use crate::resolve::SiteGraph;
use crate::search::index::Texts;
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tera::{Context, Tera};

/// One output file, path relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub path: String,
    pub bytes: Vec<u8>,
}

pub struct RenderOptions {
    /// Absolute base URL for feeds, the sitemap and canonical links.
    pub base_url: String,
    /// A script to add before `</body>` (serve mode's live reload); empty in
    /// `build`.
    pub inject: String,
}

/// Why rendering stopped: a template failed, a page could not be written,
/// or a directive's text could not be read again.
#[derive(Debug)]
pub struct RenderError {
    /// The file the message is about; empty for the output folder.
    pub file: String,
    pub code: &'static str,
    pub message: String,
}

impl RenderError {
    /// A template's error, named by template in `message`.
    pub fn template(message: impl Into<String>) -> RenderError {
        RenderError {
            file: "themes".to_string(),
            code: "template",
            message: message.into(),
        }
    }

    pub fn write(message: String) -> RenderError {
        RenderError {
            file: String::new(),
            code: "write",
            message,
        }
    }

    /// The text of directive `file` could not be read again (it changed or
    /// went away while the site was built).
    pub fn content(file: &str, message: String) -> RenderError {
        RenderError {
            file: file.to_string(),
            code: "changed-during-build",
            message,
        }
    }
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub fn compile_templates(theme: &Theme) -> Result<Tera, RenderError> {
    let mut tera = Tera::new();
    tera.add_raw_templates(
        theme
            .templates
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_str())),
    )
    .map_err(|e| RenderError::template(format!("theme templates: {}", error_chain(&e))))?;
    Ok(tera)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        cur = s.source();
    }
    msg
}

/// A page to render: its address, its template and its data.
pub(crate) struct PageJob {
    /// Root-relative address ("van-ban/2024/x/"), or a file name ("404.html").
    pub url: String,
    pub template: &'static str,
    pub title: String,
    pub section: &'static str,
    pub kind: views::PageKind,
}

#[derive(Serialize)]
struct Base<'a> {
    root: String,
    url: &'a str,
    canonical: String,
    title: &'a str,
    section: &'a str,
    site: &'a views::SiteView,
}

/// What a rebuild may skip: pages outside `only`, and list items already
/// rendered with the same data.
#[derive(Default)]
pub struct Plan {
    /// Output paths to render; `None` renders every page.
    pub only: Option<HashSet<String>>,
    /// Rendered list items by directive file, kept between builds when
    /// present (serve mode); a single build keeps none. The caller removes
    /// the items of changed directives (see [`Plan::forget`]).
    pub items: Option<Mutex<HashMap<String, tera::Value>>>,
}

impl Plan {
    /// Drops the kept list items of these directive files.
    pub fn forget<'a>(&self, files: impl IntoIterator<Item = &'a String>) {
        if let Some(Ok(mut items)) = self.items.as_ref().map(Mutex::lock) {
            for f in files {
                items.remove(f);
            }
        }
    }
}

/// Directives that changed since the previous build, for [`touched_paths`].
#[derive(Debug, Default)]
pub struct Changed {
    /// Source files added, edited or removed.
    pub files: HashSet<String>,
    /// Number keys those directives had before and have now: citations of
    /// these numbers may resolve differently.
    pub numbers: HashSet<String>,
}

/// The output path of every page and asset of the site.
pub fn page_paths(graph: &SiteGraph, theme: &Theme) -> Vec<String> {
    let mut paths: Vec<String> = views::jobs(graph)
        .iter()
        .map(|j| output_path(&j.url))
        .collect();
    paths.extend(asset_paths(theme));
    paths
}

/// Theme files whose gzip copy the site also gets (`x.js.gz` beside
/// `x.js`): the search page loads its scripts so, a third of their size
/// where the server sends them as they are, and a server set to send
/// precompressed files (nginx `gzip_static`) uses them for any page.
fn precompressed(path: &str) -> bool {
    path.ends_with(".js") || path.ends_with(".css")
}

/// The output paths of the theme's static files, with their gzip copies.
fn asset_paths(theme: &Theme) -> impl Iterator<Item = String> + '_ {
    theme.static_files.keys().flat_map(|p| {
        let gz = (precompressed(p) && !theme.static_files.contains_key(&format!("{p}.gz")))
            .then(|| format!("assets/{p}.gz"));
        std::iter::once(format!("assets/{p}")).chain(gz)
    })
}

/// The pages of `graph` that show something of a changed directive.
pub fn touched_paths(graph: &SiteGraph, changed: &Changed) -> HashSet<String> {
    let hit: Vec<bool> = graph
        .validated
        .directives
        .iter()
        .map(|d| changed.files.contains(&d.file))
        .collect();
    views::page_kinds(graph)
        .into_par_iter()
        .filter(|kind| views::touches(graph, kind, &hit, &changed.numbers))
        .map(|kind| output_path(&views::job(graph, kind).url))
        .collect()
}

/// Renders the planned pages in parallel and hands each to `sink` as soon
/// as it is ready, so the whole site is never held in memory. Returns the
/// number of files rendered.
pub fn render(
    graph: &SiteGraph,
    theme: &Theme,
    tera: &Tera,
    opts: &RenderOptions,
    plan: &Plan,
    prepare: &dyn Fn(&[String]) -> Result<(), String>,
    sink: &(dyn Fn(Page) -> Result<(), String> + Sync),
) -> Result<usize, RenderError> {
    let site = site_view(graph, tera, opts, plan)?;
    let wanted = |path: &str| plan.only.as_ref().is_none_or(|only| only.contains(path));
    let jobs: Vec<PageJob> = match &plan.only {
        None => views::jobs(graph),
        Some(_) => views::page_kinds(graph)
            .into_iter()
            .filter(|kind| wanted(&output_path(&views::url_of(graph, kind))))
            .map(|kind| views::job(graph, kind))
            .collect(),
    };
    let assets: Vec<String> = asset_paths(theme).filter(|p| wanted(p)).collect();
    let paths = prepare_paths(&jobs, &assets, prepare)?;
    jobs.par_iter().try_for_each(|job| {
        let page = render_job(graph, job, &site, tera, opts, None)?;
        sink(page).map_err(RenderError::write)
    })?;
    write_assets(theme, assets, sink)?;
    Ok(paths)
}

/// Renders every page of the site as [`render`] does, and meanwhile runs
/// `index` (the search index) on the directives' texts: a directive's page
/// is rendered when `index` asks for its text, which the renderer reads
/// from the same Markdown events as the page, so each body is parsed once.
/// Both share rayon's pool, so neither waits for the other's sequential
/// parts. Returns the number of files rendered and what `index` returned;
/// an error when a page fails to render, even one `index` asked for.
pub fn render_indexed<R: Send>(
    graph: &SiteGraph,
    theme: &Theme,
    tera: &Tera,
    opts: &RenderOptions,
    prepare: &dyn Fn(&[String]) -> Result<(), String>,
    sink: &(dyn Fn(Page) -> Result<(), String> + Sync),
    index: impl FnOnce(&Texts) -> R + Send,
) -> Result<(usize, R), RenderError> {
    let site = site_view(graph, tera, opts, &Plan::default())?;
    let jobs = views::jobs(graph);
    let assets: Vec<String> = asset_paths(theme).collect();
    let paths = prepare_paths(&jobs, &assets, prepare)?;
    // Each directive's page job by id, for the index's asking; the rest
    // are rendered beside it.
    let mut directive_jobs: Vec<Option<&PageJob>> = vec![None; graph.validated.directives.len()];
    let mut others: Vec<&PageJob> = Vec::new();
    for job in &jobs {
        match job.kind {
            views::PageKind::Directive(id) => directive_jobs[id] = Some(job),
            _ => others.push(job),
        }
    }
    let failed: Mutex<Option<RenderError>> = Mutex::new(None);
    let directive_pages = AtomicUsize::new(0);
    let texts = |id: usize| {
        let job = directive_jobs[id].ok_or_else(|| {
            format!("internal error: the search index asked for directive {id}, which has no page")
        })?;
        let mut texts = PlainSections::new(&graph.directive(id).sections);
        let page = render_job(graph, job, &site, tera, opts, Some(&mut texts)).map_err(|e| {
            let message = e.message.clone();
            if let Ok(mut first) = failed.lock() {
                first.get_or_insert(e);
            }
            message
        })?;
        directive_pages.fetch_add(1, Ordering::Relaxed);
        sink(page)?;
        Ok(texts.finish())
    };
    let (others, indexed) = rayon::join(
        || {
            others.par_iter().try_for_each(|job| {
                let page = render_job(graph, job, &site, tera, opts, None)?;
                sink(page).map_err(RenderError::write)
            })
        },
        || index(&texts),
    );
    others?;
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    let rendered = directive_pages.into_inner();
    if rendered != graph.order.len() {
        return Err(RenderError {
            file: String::new(),
            code: "internal",
            message: format!(
                "internal error: the search index asked for {rendered} of {} directive pages",
                graph.order.len()
            ),
        });
    }
    write_assets(theme, assets, sink)?;
    Ok((paths, indexed))
}

/// What every page of one render shares: the site's view, with every
/// directive's list item rendered once.
fn site_view(
    graph: &SiteGraph,
    tera: &Tera,
    opts: &RenderOptions,
    plan: &Plan,
) -> Result<views::SiteView, RenderError> {
    let mut site = views::SiteView::new(graph, &opts.base_url);
    site.item_html = render_items(graph, &site, tera, plan.items.as_ref())?;
    Ok(site)
}

/// Hands the output paths of `jobs` and `assets` to `prepare` (which makes
/// their folders); returns how many.
fn prepare_paths(
    jobs: &[PageJob],
    assets: &[String],
    prepare: &dyn Fn(&[String]) -> Result<(), String>,
) -> Result<usize, RenderError> {
    let mut paths: Vec<String> = jobs.iter().map(|j| output_path(&j.url)).collect();
    paths.extend(assets.iter().cloned());
    prepare(&paths).map_err(RenderError::write)?;
    Ok(paths.len())
}

/// The theme's static files, and the gzip copies of some.
fn write_assets(
    theme: &Theme,
    assets: Vec<String>,
    sink: &(dyn Fn(Page) -> Result<(), String> + Sync),
) -> Result<(), RenderError> {
    for path in assets {
        let file = path.strip_prefix("assets/").unwrap_or(&path);
        // The theme's own file, else the gzip copy of one.
        let bytes = theme.static_files.get(file).cloned().or_else(|| {
            let plain = file.strip_suffix(".gz")?;
            theme
                .static_files
                .get(plain)
                .map(|b| crate::gzip::gzip_best(b))
        });
        let bytes =
            bytes.ok_or_else(|| RenderError::template(format!("no theme file for {path}")))?;
        sink(Page { path, bytes }).map_err(RenderError::write)?;
    }
    Ok(())
}

/// The file of an address: `van-ban/2024/x/` → `van-ban/2024/x/index.html`.
fn output_path(url: &str) -> String {
    if url.is_empty() || url.ends_with('/') {
        format!("{url}index.html")
    } else {
        url.to_string()
    }
}

/// Every directive's list item, rendered once for pages two levels deep
/// (`noi-nhan/x/`, `chu-de/x/`, `co-quan/x/`, `van-ban/2024/`).
/// An item is reused from `cache` when its data hashes the same.
fn render_items(
    graph: &SiteGraph,
    site: &views::SiteView,
    tera: &Tera,
    cache: Option<&Mutex<HashMap<String, tera::Value>>>,
) -> Result<Vec<tera::Value>, RenderError> {
    let cached = match cache {
        Some(c) => {
            std::mem::take(&mut *c.lock().map_err(|e| RenderError::template(e.to_string()))?)
        }
        None => HashMap::default(),
    };
    let items: Vec<tera::Value> = (0..graph.validated.directives.len())
        .into_par_iter()
        .map(|id| {
            if let Some(html) = cached.get(&graph.directive(id).file) {
                return Ok(html.clone());
            }
            let mut ctx = Context::new();
            ctx.insert("root", "../../");
            ctx.insert("site", site);
            ctx.insert("item", &views::summary(graph, id));
            let html = tera.render("partials/item.html", &ctx).map_err(|e| {
                RenderError::template(format!("template partials/item.html: {}", error_chain(&e)))
            })?;
            Ok(tera::Value::from(html))
        })
        .collect::<Result<_, RenderError>>()?;
    if let Some(cache) = cache {
        let mut next = cache
            .lock()
            .map_err(|e| RenderError::template(e.to_string()))?;
        next.extend(
            items
                .iter()
                .enumerate()
                .map(|(id, h)| (graph.directive(id).file.clone(), h.clone())),
        );
    }
    Ok(items)
}

fn render_job(
    graph: &SiteGraph,
    job: &PageJob,
    site: &views::SiteView,
    tera: &Tera,
    opts: &RenderOptions,
    texts: Option<&mut PlainSections>,
) -> Result<Page, RenderError> {
    let root = if job.template == "404.html" {
        // Served at any address: links must not depend on where.
        site.base_path.clone()
    } else {
        "../".repeat(job.url.matches('/').count())
    };
    let base = Base {
        root,
        url: &job.url,
        canonical: format!("{}{}", site.base_url, job.url),
        title: &job.title,
        section: job.section,
        site,
    };
    let mut ctx =
        Context::from_serialize(&base).map_err(|e| RenderError::template(error_chain(&e)))?;
    views::fill(&mut ctx, graph, site, &base.root, &job.kind, texts)?;
    // Rendered to bytes: `render` would check the whole page is UTF-8 again.
    let mut html = Vec::with_capacity(16 * 1024);
    tera.render_to(job.template, &ctx, &mut html).map_err(|e| {
        RenderError::template(format!(
            "template {} for {}: {}",
            job.template,
            job.url,
            error_chain(&e)
        ))
    })?;
    if !opts.inject.is_empty() && job.template.ends_with(".html") {
        let end = html
            .windows(7)
            .rposition(|w| w == b"</body>")
            .unwrap_or(html.len());
        html.splice(end..end, opts.inject.bytes());
    }
    Ok(Page {
        path: output_path(&job.url),
        bytes: html,
    })
}
