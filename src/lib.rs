//! banhanh: a static site generator for official directives.
//!
//! The build is one pipeline, data flowing one way:
//! [`load`] → [`parse`] → [`validate`] → [`resolve`] → [`render`] → [`output`].
//! This module only wires the stages together; see ARCHITECTURE.md.

// Diagnostics travel in `Err` on the cold path only; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod diagnostics;
pub mod load;
pub mod model;
pub mod new;
pub mod output;
pub mod parse;
pub mod render;
pub mod report;
pub mod resolve;
pub mod serve;
pub mod text;
pub mod theme;
pub mod validate;

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
    let parsed = parse::parse(&sources, &mut diags);
    let graph = validate::validate(parsed, &mut diags)
        .filter(|_| !diags.has_errors())
        .map(|v| resolve::resolve(v, drafts, &mut diags))
        .filter(|_| !diags.has_errors());
    diags.attach_sources(|p| sources.text_of(p));
    (graph, diags.into_sorted())
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
    let (graph, diagnostics) = site_graph(&opts.root, opts.drafts);
    let Some(graph) = graph else {
        return Err(BuildFailure { diagnostics });
    };
    let theme = load::load_theme(&opts.root, graph.validated.config.theme.as_deref())
        .map_err(|e| fail("themes", "theme", e))?;
    let tera = render::compile_templates(&theme).map_err(|e| fail("themes", "template", e.0))?;
    let render_opts = render::RenderOptions {
        base_url: opts.base_url.clone().unwrap_or_default(),
        inject: opts.inject.clone(),
    };
    let pages = render::render(&graph, &theme, &tera, &render_opts)
        .map_err(|e| fail("themes", "template", e.0))?;
    if opts.out == opts.root || opts.root.starts_with(&opts.out) {
        return Err(fail(
            "",
            "bad-output",
            format!("refusing to write the site over {}", opts.out.display()),
        ));
    }
    let stats = output::write_site(&opts.out, &pages).map_err(|e| {
        fail(
            &opts.out.display().to_string(),
            "write",
            format!("cannot write the site: {e}"),
        )
    })?;
    Ok(BuildReport {
        diagnostics,
        directives: graph.order.len(),
        pages: pages.len(),
        written: stats.written,
        unchanged: stats.unchanged,
        elapsed: started.elapsed(),
    })
}
