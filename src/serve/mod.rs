//! `banhanh serve`: the editor's loop. Builds the site into a folder of its
//! own (`.banhanh-serve/site/` under the root, never `public/`), serves it
//! over HTTP on loopback ([`http`]), watches `content/` and `themes/`
//! ([`watch`]) and rebuilds on every change. Each page carries a small
//! script (`live_reload.js`, added through [`BuildOptions::inject`] and so
//! only in serve mode) that listens to a server-sent event stream: after a
//! good build it reloads the page; after a failed one it draws the errors
//! over the last good page, which stays served.
//!
//! Threads: the HTTP server runs on a small tokio runtime; builds run one at
//! a time on the watcher's thread; the two meet in a `watch` channel holding
//! the latest [`Status`].

pub mod http;
pub mod watch;

use crate::BuildOptions;
use crate::diagnostics::{Diagnostic, Severity};
use crate::report::Terminal;
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch as channel;

/// The live-reload client, served at `/__banhanh/live-reload.js`.
pub const LIVE_RELOAD_JS: &str = include_str!("live_reload.js");

/// What serve mode adds before `</body>` of every page.
pub const INJECT: &str = "<script src=\"/__banhanh/live-reload.js\"></script>\n";

/// Where serve mode builds, below the site root.
pub const SERVE_DIR: &str = ".banhanh-serve";

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub root: PathBuf,
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    pub drafts: bool,
    /// Open the site in the default browser once it is served.
    pub open: bool,
    /// How long the watcher waits for a burst of saves to settle.
    pub debounce: Duration,
}

/// One error or warning as the browser overlay shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlayItem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub suggestion: Option<String>,
    /// The offending line of the file.
    pub source_line: Option<String>,
}

impl From<&Diagnostic> for OverlayItem {
    fn from(d: &Diagnostic) -> Self {
        OverlayItem {
            file: d.file.clone(),
            line: d.line,
            column: d.column,
            severity: d.severity,
            code: d.code,
            message: d.message.clone(),
            suggestion: d.suggestion.clone(),
            source_line: d.source_line.clone(),
        }
    }
}

/// The state of the served site, sent to every open page after each build
/// and answered at `/__banhanh/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Whether the latest build succeeded.
    pub ok: bool,
    /// Names the last good build (unique across restarts): a page that saw
    /// another value reloads.
    pub good: String,
    /// Builds finished since start, good or not.
    pub builds: u64,
    /// Why the latest build failed (empty when `ok`).
    pub errors: Vec<OverlayItem>,
}

/// The builder: runs builds and publishes their outcome.
pub struct Site {
    opts: BuildOptions,
    term: Terminal,
    started: u128,
    status: channel::Sender<Status>,
    /// Keeps what it can between builds (only touched pages re-render);
    /// the lock also makes builds run one at a time.
    builder: std::sync::Mutex<crate::incremental::Builder>,
}

impl Site {
    pub fn new(opts: BuildOptions, term: Terminal) -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let (status, _) = channel::channel(Status {
            ok: false,
            good: String::new(),
            builds: 0,
            errors: Vec::new(),
        });
        Site {
            opts,
            term,
            started,
            status,
            builder: std::sync::Mutex::new(crate::incremental::Builder::new()),
        }
    }

    pub fn out(&self) -> &Path {
        &self.opts.out
    }

    pub fn subscribe(&self) -> channel::Receiver<Status> {
        self.status.subscribe()
    }

    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Builds once, prints the outcome and tells every open page.
    pub fn rebuild(&self) -> bool {
        self.rebuild_after(&[])
    }

    /// [`Site::rebuild`] when only the files at `changed` can differ
    /// (see [`crate::incremental::Builder::build_after`]).
    pub fn rebuild_after(&self, changed: &[PathBuf]) -> bool {
        let mut builder = self
            .builder
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let progress = self.term.progress("building");
        let result = builder.build_after(&self.opts, changed);
        progress.finish();
        let prev = self.status();
        let builds = prev.builds + 1;
        let next = match result {
            Ok(report) => {
                self.term.print_diagnostics(&report.diagnostics);
                if !self.term.quiet() {
                    eprintln!("{} {}", clock(), self.term.summary(&report));
                }
                // A save that changed no output file (the same text saved
                // again, or a fix back to the last good text) reloads no
                // page: the overlay, if any, just goes.
                let changed = report.written > 0 || prev.good.is_empty();
                Status {
                    ok: true,
                    good: if changed {
                        format!("{}-{builds}", self.started)
                    } else {
                        prev.good
                    },
                    builds,
                    errors: Vec::new(),
                }
            }
            Err(failure) => {
                self.term.print_diagnostics(&failure.diagnostics);
                let errors = failure
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                eprintln!(
                    "{} build failed with {errors} error(s); still serving the last good site",
                    clock()
                );
                if prev.good.is_empty() {
                    // No good build yet: serve a page that shows the overlay.
                    self.write_placeholder();
                }
                let mut items: Vec<OverlayItem> =
                    failure.diagnostics.iter().map(OverlayItem::from).collect();
                items.sort_by_key(|i| i.severity);
                Status {
                    ok: false,
                    good: prev.good,
                    builds,
                    errors: items,
                }
            }
        };
        let ok = next.ok;
        self.status.send_replace(next);
        // The pages are out and open pages reload; the search index
        // follows (the search page reads it on its next query).
        if ok {
            if let Err(e) = builder.refresh_search(&self.opts) {
                eprintln!("{} search index not updated: {e}", clock());
            }
        }
        ok
    }
}

impl Site {
    /// Before the first good build there is no site to show the errors
    /// over: a blank page (as `index.html` and the 404 page) carries the
    /// script instead.
    fn write_placeholder(&self) {
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>banhanh serve</title>\n</head>\n<body>\n\
             <p>Chưa có bản dựng tốt (no good build yet).</p>\n{}</body>\n</html>\n",
            self.opts.inject
        );
        let pages: Vec<crate::render::Page> = ["index.html", "404.html"]
            .iter()
            .map(|p| crate::render::Page {
                path: p.to_string(),
                bytes: html.clone().into_bytes(),
            })
            .collect();
        if let Err(e) = crate::output::write_site(&self.opts.out, &pages) {
            eprintln!("warning: cannot write the placeholder page: {e}");
        }
    }
}

/// The folder serve mode builds into, created with a `.gitignore` that
/// ignores it, so no site needs to list it.
pub fn prepare_out_dir(root: &Path) -> std::io::Result<PathBuf> {
    let dir = root.join(SERVE_DIR);
    std::fs::create_dir_all(&dir)?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, "# Written by `banhanh serve`.\n*\n")?;
    }
    Ok(dir.join("site"))
}

/// Builds, serves and rebuilds on change until interrupted.
pub fn serve(opts: &ServeOptions, term: Terminal) -> Result<(), String> {
    let root = opts
        .root
        .canonicalize()
        .map_err(|e| format!("cannot open the site folder {}: {e}", opts.root.display()))?;
    if !root.join("content").is_dir() {
        return Err(format!("no content/ folder in {}", root.display()));
    }
    let out = prepare_out_dir(&root)
        .map_err(|e| format!("cannot create {}: {e}", root.join(SERVE_DIR).display()))?;
    let listener = std::net::TcpListener::bind(SocketAddr::new(opts.bind, opts.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", opts.bind, opts.port))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let url = format!("http://{}/", display_addr(addr));

    let site = Arc::new(Site::new(
        BuildOptions {
            root: root.clone(),
            out: out.clone(),
            drafts: opts.drafts,
            base_url: Some(url.clone()),
            inject: INJECT.to_string(),
        },
        term,
    ));
    // Watch first, so that a save during the first build is not missed.
    let _watcher = {
        let site = Arc::clone(&site);
        let dirs: Vec<PathBuf> = ["content", "themes"]
            .iter()
            .map(|d| root.join(d))
            .filter(|d| d.is_dir())
            .collect();
        let root = root.clone();
        watch::watch(&dirs, opts.debounce, move |changed| {
            if term.verbose() {
                for p in &changed {
                    eprintln!("changed: {}", crate::diagnostics::display_path(&root, p));
                }
            }
            site.rebuild_after(&changed);
        })?
    };
    site.rebuild();

    if !opts.bind.is_loopback() {
        eprintln!(
            "warning: serving on {} makes the preview reachable from other machines",
            opts.bind
        );
    }
    // Tests and scripts read this line to find the port.
    println!("Serving {url} (Ctrl-C to stop)");
    if term.verbose() {
        eprintln!("building into {}", out.display());
    }
    if opts.open {
        open_browser(&url);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    runtime.block_on(async move {
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot use the listener: {e}"))?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("cannot use the listener: {e}"))?;
        let app = http::router(&out, site)?;
        tokio::select! {
            r = axum::serve(listener, app) => r.map_err(|e| format!("server stopped: {e}")),
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped");
                Ok(())
            }
        }
    })?;
    // Open event streams would keep a graceful shutdown waiting forever.
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(())
}

/// The time of day, to tell one rebuild's lines from the previous one's.
fn clock() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

fn display_addr(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
    }
}

fn open_browser(url: &str) {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    if let Err(e) = cmd.arg(url).spawn() {
        eprintln!("warning: cannot open a browser ({e}); open {url} yourself");
    }
}
