//! banhanh: a static site generator for official directives.
//!
//! The build is one pipeline, data flowing one way:
//! [`load`] → [`parse`] → [`validate`] → [`resolve`] → [`render`] → [`output`].
//! This module only wires the stages together; see ARCHITECTURE.md.

// Diagnostics travel in `Err` on the cold path only; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod diagnostics;
pub mod gzip;
pub mod incremental;
pub mod load;
pub mod model;
pub mod new;
pub mod output;
pub mod parse;
pub mod render;
pub mod report;
pub mod resolve;
pub mod search;
pub mod serve;
pub mod text;
pub mod theme;
pub mod validate;

/// A deterministic pseudo-random `next(n)` in `0..n` (xorshift64) for
/// tests that generate many inputs.
#[cfg(test)]
pub(crate) fn test_rng(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

/// Set, `banhanh build` writes no search index: for measuring the index's
/// share of the build (`benches/bench.py`), never for a site.
pub const SKIP_INDEX_VAR: &str = "BANHANH_BENCH_NO_SEARCH_INDEX";

use diagnostics::{Diagnostic, Diagnostics, Loc};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    pub out: PathBuf,
    pub drafts: bool,
    /// Overrides `base_url` of site.yaml.
    pub base_url: Option<String>,
    /// Added before `</body>` of every page (serve mode only).
    pub inject: String,
}

#[derive(Debug)]
pub struct BuildReport {
    /// Warnings (a successful build has no errors).
    pub diagnostics: Vec<Diagnostic>,
    pub directives: usize,
    pub pages: usize,
    pub written: usize,
    pub unchanged: usize,
    pub elapsed: Duration,
    /// Wall time of each stage, in pipeline order.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Why a build wrote nothing.
#[derive(Debug)]
pub struct BuildFailure {
    pub diagnostics: Vec<Diagnostic>,
}

/// The checked site graph, or every diagnostic that prevents it.
pub fn site_graph(root: &Path, drafts: bool) -> (Option<resolve::SiteGraph>, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let sources = load::load_content(root, &mut diags);
    let parsed = parse::parse(sources, parse::Keep::Place, &mut diags);
    resolve_parsed(root, parsed, drafts, diags)
}

fn resolve_parsed(
    root: &Path,
    parsed: parse::Parsed,
    drafts: bool,
    mut diags: Diagnostics,
) -> (Option<resolve::SiteGraph>, Vec<Diagnostic>) {
    let graph = validate::validate(parsed, &mut diags)
        .filter(|_| !diags.has_errors())
        .map(|v| resolve::resolve(v, drafts, &mut diags))
        .filter(|_| !diags.has_errors());
    diags.attach_sources(|p| load::read_source(root, p));
    (graph, diags.into_sorted())
}

/// Everything the output depends on besides the content: the theme, the
/// options and this program.
pub(crate) fn fingerprint(opts: &BuildOptions, content: u64) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&content.to_le_bytes());
    h.update(&load::theme_fingerprint(&opts.root).to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(&[u8::from(opts.drafts)]);
    h.update(opts.base_url.as_deref().unwrap_or("\0").as_bytes());
    h.update(opts.inject.as_bytes());
    h.update(
        std::env::current_exe()
            .ok()
            .and_then(|p| std::fs::metadata(p).ok())
            .and_then(|m| m.modified().ok())
            .map(|t| format!("{t:?}"))
            .unwrap_or_default()
            .as_bytes(),
    );
    h.digest()
}

/// Validates without writing anything.
pub fn check(root: &Path, drafts: bool) -> Vec<Diagnostic> {
    site_graph(root, drafts).1
}

pub fn build(opts: &BuildOptions) -> Result<BuildReport, BuildFailure> {
    let started = Instant::now();
    let fail = |file: &str, code: &'static str, message: String| BuildFailure {
        diagnostics: vec![Diagnostic::error(file, Loc::new(0, 0), code, message)],
    };
    if opts.out == opts.root || opts.root.starts_with(&opts.out) {
        return Err(fail(
            "",
            "bad-output",
            format!("refusing to write the site over {}", opts.out.display()),
        ));
    }
    let mut timings = Vec::new();
    let mut lap = Instant::now();
    let mut stage = |name: &'static str| {
        timings.push((name, lap.elapsed()));
        lap = Instant::now();
    };
    let mut diags = Diagnostics::default();
    let sources = load::load_content(&opts.root, &mut diags);
    let fingerprint = fingerprint(opts, sources.fingerprint);
    stage("load");
    if !diags.has_errors() {
        if let Some(files) = output::current_files(&opts.out, fingerprint) {
            // Same input, same program, same options: the output is already
            // what this build would write.
            return Ok(BuildReport {
                diagnostics: Vec::new(),
                directives: sources.directives.len(),
                pages: files,
                written: 0,
                unchanged: files,
                elapsed: started.elapsed(),
                timings,
            });
        }
    }
    // Each text is dropped once parsed, and read again for its page.
    let parsed = parse::parse(sources, parse::Keep::Place, &mut diags);
    let (graph, diagnostics) = resolve_parsed(&opts.root, parsed, opts.drafts, diags);
    let Some(graph) = graph else {
        return Err(BuildFailure { diagnostics });
    };
    stage("parse, validate, resolve");
    let theme = load::load_theme(&opts.root, graph.validated.config.theme.as_deref())
        .map_err(|e| fail("themes", "theme", e))?;
    let render_fail = |e: render::RenderError| {
        let file = match e.file.as_str() {
            "" => opts.out.display().to_string(),
            file => file.to_string(),
        };
        fail(&file, e.code, e.message)
    };
    let tera = render::compile_templates(&theme).map_err(render_fail)?;
    let render_opts = render::RenderOptions {
        base_url: opts.base_url.clone().unwrap_or_default(),
        inject: opts.inject.clone(),
    };
    let write_error = |e: std::io::Error| {
        fail(
            &opts.out.display().to_string(),
            "write",
            format!("cannot write the site: {e}"),
        )
    };
    let staging = output::Staging::begin(&opts.out).map_err(write_error)?;
    stage("theme");
    let prepare = |paths: &[String]| create_dirs(&staging, paths);
    let sink = |page: render::Page| write_page(&staging, page);
    // For benchmarks only (`benches/bench.py` measures the index's share
    // of the build with it): the build without its search index.
    let skip_index = std::env::var_os(SKIP_INDEX_VAR).is_some();
    let write_fail = |e| fail(&opts.out.display().to_string(), "write", e);
    let (pages, (search_pages, blocks), search_time) = if skip_index {
        eprintln!("banhanh: {SKIP_INDEX_VAR} is set: no search index (for benchmarks only)");
        let plan = render::Plan::default();
        let pages = render_into(&graph, &theme, &tera, &render_opts, &plan, &staging)
            .map_err(render_fail)?;
        (pages, (Vec::new(), 0), Duration::ZERO)
    } else {
        output::Writer::create_dirs(&staging, &["search/b/0.bin".to_string()])
            .map_err(|e| fail("", "write", e.to_string()))?;
        // The index asks for each directive's text, and gets it as its
        // page is rendered (see `render::render_indexed`); its doc-store
        // blocks are written as they are made.
        let (pages, (search, time)) = render::render_indexed(
            &graph,
            &theme,
            &tera,
            &render_opts,
            &prepare,
            &sink,
            |texts| {
                let t = Instant::now();
                let search = search::index::build_streaming(&graph, texts, &sink);
                (search, t.elapsed())
            },
        )
        .map_err(render_fail)?;
        (pages, search.map_err(write_fail)?, time)
    };
    let pages = pages + blocks + write_search_index(search_pages, &staging).map_err(write_fail)?;
    stage("render, search index and write");
    // A build with warnings is never skipped, so its warnings show again.
    let stats = staging
        .commit(diagnostics.is_empty().then_some(fingerprint))
        .map_err(write_error)?;
    stage("swap");
    timings.push(("search index, with the directive pages", search_time));
    let report = BuildReport::new(diagnostics, &graph, pages, stats, started, timings);
    // Freeing the graph of 100,000 directives keeps a core busy for 0.2 s
    // after the work is done; `banhanh build` exits without waiting for it.
    // (Where no thread can be started, it is freed here.)
    let _ = std::thread::Builder::new().spawn(move || drop(graph));
    Ok(report)
}

impl BuildReport {
    fn new(
        diagnostics: Vec<Diagnostic>,
        graph: &resolve::SiteGraph,
        pages: usize,
        stats: output::WriteStats,
        started: Instant,
        timings: Vec<(&'static str, Duration)>,
    ) -> BuildReport {
        BuildReport {
            diagnostics,
            directives: graph.order.len(),
            pages,
            written: stats.written,
            unchanged: stats.unchanged,
            elapsed: started.elapsed(),
            timings,
        }
    }
}

/// Renders the planned pages into `writer`: their folders first, then each
/// page as soon as it is ready. Returns how many.
pub(crate) fn render_into(
    graph: &resolve::SiteGraph,
    theme: &load::Theme,
    tera: &tera::Tera,
    opts: &render::RenderOptions,
    plan: &render::Plan,
    writer: &dyn output::Writer,
) -> Result<usize, render::RenderError> {
    let prepare = |paths: &[String]| create_dirs(writer, paths);
    let sink = |page: render::Page| write_page(writer, page);
    render::render(graph, theme, tera, opts, plan, &prepare, &sink)
}

/// Makes the folders of the page `paths`, saying so in the build's words
/// when it cannot.
fn create_dirs(writer: &dyn output::Writer, paths: &[String]) -> Result<(), String> {
    writer
        .create_dirs(paths)
        .map_err(|e| format!("cannot create folders: {e}"))
}

/// Writes `page`, naming it when it cannot.
fn write_page(writer: &dyn output::Writer, page: render::Page) -> Result<(), String> {
    writer
        .write(&page)
        .map_err(|e| format!("cannot write {}: {e}", page.path))
}

/// Writes the search index's files (see [`search::index`]); returns how many.
pub(crate) fn write_search_index(
    pages: Vec<render::Page>,
    writer: &dyn output::Writer,
) -> Result<usize, String> {
    use rayon::prelude::*;
    let paths: Vec<String> = pages.iter().map(|p| p.path.clone()).collect();
    create_dirs(writer, &paths)?;
    let n = pages.len();
    pages
        .into_par_iter()
        .try_for_each(|page| write_page(writer, page))?;
    Ok(n)
}
