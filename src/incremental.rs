//! Rebuilds for serve mode: the same pipeline as [`crate::build`], keeping
//! what it can between runs. Unchanged files (by modification time and
//! size) are neither read nor parsed again; when only directives changed,
//! only the pages that show them are rendered ([`render::touched_paths`] on
//! the previous and the new graph), and only pages whose bytes changed are
//! written, in place. A change of `site.yaml`, a registry, the theme or the
//! options renders everything. Told which files changed (by serve's file
//! watcher, [`Builder::build_after`]), it does not even list or look at
//! the other directive files.

use crate::diagnostics::{Diagnostics, Loc};
use crate::load::{self, Stamp};
use crate::parse::{self, DirectiveDraft, number};
use crate::render::{self, Changed, Plan};
use crate::resolve::SiteGraph;
use crate::{BuildFailure, BuildOptions, BuildReport, Diagnostic, output, resolve, validate};
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// A directive file as last parsed.
#[derive(Clone)]
struct Cached {
    stamp: Stamp,
    /// Hash of the decoded text: a touched but unchanged file is no change.
    hash: u64,
    draft: Arc<DirectiveDraft>,
}

/// What the previous successful build left behind.
struct Previous {
    /// site.yaml, registries, theme and options.
    setting: u64,
    graph: SiteGraph,
    all_paths: Vec<String>,
    /// The search index's files, a part of `all_paths`.
    search_paths: Vec<String>,
    hashes: HashMap<String, u64>,
}

#[derive(Default)]
pub struct Builder {
    files: HashMap<String, Cached>,
    /// The directive files as listed at the last build.
    paths: Vec<PathBuf>,
    previous: Option<Previous>,
    plan: Plan,
    /// The pages are newer than the search index.
    search_stale: bool,
    /// The theme and its compiled templates, with the `setting` they are for.
    theme: Option<(u64, load::Theme, tera::Tera)>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    pub fn build(&mut self, opts: &BuildOptions) -> Result<BuildReport, BuildFailure> {
        self.build_after(opts, &[])
    }

    /// [`Builder::build`] when only the files at `changed` can differ
    /// since the last build (serve's file watcher says which): the other
    /// directive files are neither listed nor looked at (a tenth of a
    /// one-file rebuild at 10,000 directives). An empty list, or a folder
    /// among them, and every file is looked at.
    pub fn build_after(
        &mut self,
        opts: &BuildOptions,
        changed: &[PathBuf],
    ) -> Result<BuildReport, BuildFailure> {
        let started = Instant::now();
        let mut timings: Vec<(&'static str, std::time::Duration)> = Vec::new();
        let mut lap = Instant::now();
        let mut stage = |name: &'static str| {
            timings.push((name, lap.elapsed()));
            lap = Instant::now();
        };
        let fail = |code: &'static str, message: String| BuildFailure {
            diagnostics: vec![Diagnostic::error("", Loc::new(0, 0), code, message)],
        };
        let mut diags = Diagnostics::default();
        let registries = load::load_registries(&opts.root, &mut diags);
        let setting = crate::fingerprint(opts, registries.fingerprint);

        // Read and parse only the directive files whose stamp changed.
        let last = std::mem::take(&mut self.paths);
        let (paths, only) = match paths_after(&opts.root, last, changed) {
            Some((paths, looked_at)) => (paths, Some(looked_at)),
            None => (load::directive_paths(&opts.root, &mut diags), None),
        };
        self.paths = paths;
        let looked_at = |path: &PathBuf| only.as_ref().is_none_or(|c| c.contains(path));
        let results: Vec<Result<(String, Cached), Diagnostics>> = self
            .paths
            .par_iter()
            .map(|path| {
                let shown = crate::diagnostics::display_path(&opts.root, path);
                if !looked_at(path) {
                    if let Some(c) = self.files.get(&shown) {
                        return Ok((shown, c.clone()));
                    }
                }
                let mut d = Diagnostics::default();
                let Some(stamp) = load::stamp(path) else {
                    return Err(d);
                };
                if let Some(c) = self.files.get(&shown).filter(|c| c.stamp == stamp) {
                    return Ok((shown, c.clone()));
                }
                let file = load::read_text(&opts.root, path, &mut d).ok_or_else(|| d.clone())?;
                let hash = file.hash;
                match parse::parse_directive(file, parse::Keep::Text) {
                    Ok(draft) => Ok((
                        shown,
                        Cached {
                            stamp,
                            hash,
                            draft: Arc::new(draft),
                        },
                    )),
                    Err(e) => {
                        d.push(e);
                        Err(d)
                    }
                }
            })
            .collect();
        let mut files = HashMap::with_capacity_and_hasher(results.len(), Default::default());
        let mut drafts = Vec::with_capacity(results.len());
        for r in results {
            match r {
                Ok((path, cached)) => {
                    drafts.push(cached.draft.clone());
                    files.insert(path, cached);
                }
                Err(d) => diags.extend(d),
            }
        }
        stage("read changed files");
        let parsed = parse::parse_registries(registries, drafts, &mut diags);
        // A file unchanged under unchanged settings was checked already.
        let checked: HashMap<&str, &Arc<crate::model::Directive>> = match &self.previous {
            Some(p) if p.setting == setting => p
                .graph
                .validated
                .directives
                .iter()
                .map(|d| (d.file.as_str(), d))
                .collect(),
            _ => HashMap::default(),
        };
        let reuse = |draft: &DirectiveDraft| {
            let same = self
                .files
                .get(&draft.file)
                .zip(files.get(&draft.file))
                .is_some_and(|(a, b)| a.hash == b.hash);
            same.then(|| checked.get(draft.file.as_str()).map(|d| Arc::clone(d)))
                .flatten()
        };
        let validated = validate::validate_reusing(parsed, &mut diags, &reuse);
        drop(checked);
        let graph = validated
            .filter(|_| !diags.has_errors())
            .map(|v| resolve::resolve(v, opts.drafts, &mut diags))
            .filter(|_| !diags.has_errors());
        diags.attach_sources(|p| load::read_source(&opts.root, p));
        let diagnostics = diags.into_sorted();
        let Some(graph) = graph else {
            // The last good site stays; so do the caches of files that parsed.
            self.files.extend(files);
            return Err(BuildFailure { diagnostics });
        };

        stage("validate, resolve");
        // The theme is part of `setting`: while that holds, so do the
        // compiled templates.
        let (theme, tera) = match self.theme.take().filter(|(s, _, _)| *s == setting) {
            Some((_, theme, tera)) => (theme, tera),
            None => {
                let theme = load::load_theme(&opts.root, graph.validated.config.theme.as_deref())
                    .map_err(|e| fail("theme", e))?;
                let tera =
                    render::compile_templates(&theme).map_err(|e| fail(e.code, e.message))?;
                (theme, tera)
            }
        };
        let render_opts = render::RenderOptions {
            base_url: opts.base_url.clone().unwrap_or_default(),
            inject: opts.inject.clone(),
        };
        let mut all_paths = render::page_paths(&graph, &theme);
        let incremental = self
            .previous
            .as_ref()
            .filter(|p| p.setting == setting && opts.out.is_dir());
        let (stats, pages, hashes, search_paths) = match incremental {
            Some(previous) => {
                // The search index follows in `refresh_search`, after the
                // pages are out: its files stay until then.
                all_paths.extend(previous.search_paths.iter().cloned());
                let mut changed = changes(&self.files, &files);
                // A directive's status derives from others' `supersedes`:
                // where it moved, every list showing the directive changes.
                let before: HashMap<&str, resolve::Status> =
                    (0..previous.graph.validated.directives.len())
                        .map(|id| {
                            (
                                previous.graph.directive(id).file.as_str(),
                                previous.graph.status[id],
                            )
                        })
                        .collect();
                for (id, d) in graph.validated.directives.iter().enumerate() {
                    if before
                        .get(d.file.as_str())
                        .is_some_and(|s| *s != graph.status[id])
                    {
                        changed.files.insert(d.file.clone());
                    }
                }
                // A list item shows its directive's own fields and status.
                self.plan.forget(&changed.files);
                let mut only = render::touched_paths(&previous.graph, &changed);
                only.extend(render::touched_paths(&graph, &changed));
                let present: HashSet<&str> = all_paths.iter().map(String::as_str).collect();
                only.retain(|p| present.contains(p.as_str()));
                self.plan.only = Some(only);
                stage("find touched pages");
                let gone: Vec<String> = previous
                    .all_paths
                    .iter()
                    .filter(|p| !present.contains(p.as_str()))
                    .cloned()
                    .collect();
                let writer = output::InPlace::new(&opts.out, previous.hashes.clone());
                let pages =
                    crate::render_into(&graph, &theme, &tera, &render_opts, &self.plan, &writer)
                        .map_err(|e| fail(e.code, e.message))?;
                stage("render and write");
                let (stats, hashes) = writer
                    .finish(&gone)
                    .map_err(|e| fail("write", e.to_string()))?;
                self.search_stale = true;
                (stats, pages, hashes, previous.search_paths.clone())
            }
            None => {
                self.plan = Plan {
                    only: None,
                    items: Some(Default::default()),
                };
                let staging =
                    output::Staging::begin(&opts.out).map_err(|e| fail("write", e.to_string()))?;
                let pages =
                    crate::render_into(&graph, &theme, &tera, &render_opts, &self.plan, &staging)
                        .map_err(|e| fail(e.code, e.message))?;
                let search_pages = crate::search::index::build(&graph);
                let search_paths: Vec<String> =
                    search_pages.iter().map(|p| p.path.clone()).collect();
                all_paths.extend(search_paths.iter().cloned());
                let pages = pages
                    + crate::write_search_index(search_pages, &staging)
                        .map_err(|e| fail("write", e))?;
                let stats = staging
                    .commit(None)
                    .map_err(|e| fail("write", e.to_string()))?;
                self.search_stale = false;
                (
                    stats,
                    pages,
                    output::previous_hashes(&opts.out),
                    search_paths,
                )
            }
        };
        let report = BuildReport::new(diagnostics, &graph, pages, stats, started, timings);
        self.files = files;
        self.theme = Some((setting, theme, tera));
        self.previous = Some(Previous {
            search_paths,
            setting,
            graph,
            all_paths,
            hashes,
        });
        Ok(report)
    }
}

impl Builder {
    /// Brings the search index up to date with the last good build, writing
    /// only index files whose bytes changed. Serve mode calls it after the
    /// pages are out, so an edit shows without waiting for the index.
    pub fn refresh_search(&mut self, opts: &BuildOptions) -> Result<usize, String> {
        let Some(previous) = self.previous.as_mut().filter(|_| self.search_stale) else {
            return Ok(0);
        };
        let pages = crate::search::index::build(&previous.graph);
        let paths: Vec<String> = pages.iter().map(|p| p.path.clone()).collect();
        let fresh: HashSet<&str> = paths.iter().map(String::as_str).collect();
        let gone: Vec<String> = previous
            .search_paths
            .iter()
            .filter(|p| !fresh.contains(p.as_str()))
            .cloned()
            .collect();
        let writer = output::InPlace::new(&opts.out, std::mem::take(&mut previous.hashes));
        let written = crate::write_search_index(pages, &writer);
        let (stats, hashes) = writer.finish(&gone).map_err(|e| e.to_string())?;
        previous.hashes = hashes;
        written?;
        let before: HashSet<String> = previous.search_paths.drain(..).collect();
        let gone: HashSet<String> = gone.into_iter().collect();
        previous.all_paths.retain(|p| !gone.contains(p));
        previous
            .all_paths
            .extend(paths.iter().filter(|p| !before.contains(*p)).cloned());
        previous.search_paths = paths;
        self.search_stale = false;
        Ok(stats.written)
    }
}

/// The directive files once `changed` is applied to `last`, the last
/// build's list, and the changed ones; `None` when that cannot tell (no
/// list yet, no change given, or a folder changed, whose files the watcher
/// does not name).
fn paths_after(
    root: &Path,
    mut last: Vec<PathBuf>,
    changed: &[PathBuf],
) -> Option<(Vec<PathBuf>, HashSet<PathBuf>)> {
    if changed.is_empty() || last.is_empty() {
        return None;
    }
    let dir = load::content_dir(root).join("directives");
    let mut looked_at = HashSet::default();
    for path in changed {
        if !path.starts_with(&dir) {
            // Registries and the theme are read at every build anyway;
            // a path in another form than the root's tells nothing.
            if path.starts_with(root) {
                continue;
            }
            return None;
        }
        // `last` is in walkdir's sorted order, which is Path's (by
        // component).
        let at = last.binary_search(path);
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => return None,
            Ok(m) if m.is_file() && load::is_directive_file(path) => {
                if let Err(i) = at {
                    last.insert(i, path.clone());
                }
            }
            Ok(_) => {}
            // Gone: a directive file, or maybe a folder of them.
            Err(_) if load::is_directive_file(path) => {
                if let Ok(i) = at {
                    last.remove(i);
                }
            }
            Err(_) => return None,
        }
        looked_at.insert(path.clone());
    }
    Some((last, looked_at))
}

/// Files added, edited or removed, and the numbers they carried before and
/// carry now.
fn changes(before: &HashMap<String, Cached>, now: &HashMap<String, Cached>) -> Changed {
    let mut changed = Changed::default();
    let mut note = |path: &String, c: Option<&Cached>| {
        changed.files.insert(path.clone());
        if let Some(c) = c {
            changed.numbers.insert(number::key(&c.draft.front.number));
        }
    };
    for (path, c) in now {
        match before.get(path) {
            Some(old) if old.hash == c.hash => {}
            old => {
                note(path, Some(c));
                note(path, old);
            }
        }
    }
    for (path, old) in before {
        if !now.contains_key(path) {
            note(path, Some(old));
        }
    }
    changed
}
