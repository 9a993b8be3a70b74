//! The preview server: the site folder over HTTP (tower-http's `ServeDir`),
//! plus three addresses of its own under `/__banhanh/`:
//!
//! - `events`: a server-sent event stream; on connecting and after every
//!   build it sends the [`Status`] as a `reload` event (the build is good)
//!   or an `errors` event (it failed), with JSON data.
//! - `status`: the same [`Status`] as JSON, for tools and tests.
//! - `live-reload.js`: the client that listens and draws the error overlay.
//!
//! Only files under the site folder are served: a path with a `..`
//! segment (plain or percent-encoded), a backslash or a NUL is refused, and
//! so is any path that resolves (through a symlink) outside the folder.
//! Text responses carry `charset=utf-8`; nothing is cached by the browser,
//! so a reload always shows the latest build.

use super::{LIVE_RELOAD_JS, Site, Status};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_stream::{Stream, StreamExt, wrappers::WatchStream};
use tower_http::services::{ServeDir, ServeFile};

#[derive(Clone)]
struct AppState {
    site: Arc<Site>,
    /// The site folder, as given and resolved (it is replaced by each build,
    /// but always under the same name).
    out: PathBuf,
    out_resolved: PathBuf,
}

/// The server's routes over the site folder `out`.
pub fn router(out: &Path, site: Arc<Site>) -> Result<Router, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let out_resolved = out
        .canonicalize()
        .map_err(|e| format!("cannot open {}: {e}", out.display()))?;
    let state = AppState {
        site,
        out: out.to_path_buf(),
        out_resolved,
    };
    let files = ServeDir::new(out).not_found_service(ServeFile::new(out.join("404.html")));
    Ok(Router::new()
        .route("/__banhanh/events", get(events))
        .route("/__banhanh/status", get(status))
        .route("/__banhanh/live-reload.js", get(script))
        .fallback_service(files)
        .layer(middleware::from_fn_with_state(state.clone(), confine))
        .layer(middleware::map_response(headers))
        .with_state(state))
}

/// The event name a status is sent under.
pub fn event_name(status: &Status) -> &'static str {
    if status.ok { "reload" } else { "errors" }
}

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = WatchStream::new(state.site.subscribe()).map(|s| {
        Ok(Event::default()
            .event(event_name(&s))
            .data(serde_json::to_string(&s).unwrap_or_default()))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn status(State(state): State<AppState>) -> Response {
    let body = serde_json::to_string(&state.site.status()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], LIVE_RELOAD_JS).into_response()
}

/// Why a request path may not be served.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `..`, a backslash or a NUL in the decoded path.
    Traversal,
    /// The path resolves outside the site folder.
    OutsideSite,
}

/// Checks a request path (still percent-encoded) against the site folder.
pub fn check_path(out: &Path, out_resolved: &Path, raw: &str) -> Result<(), Refusal> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    if decoded.contains(['\\', '\0']) || decoded.split('/').any(|seg| seg == "..") {
        return Err(Refusal::Traversal);
    }
    let rel = decoded.trim_start_matches('/');
    let candidate = out.join(rel);
    if candidate.symlink_metadata().is_err() {
        // Nothing there (the 404 page answers), unless a folder on the way
        // is a link out of the site.
        // (The site folder itself is briefly missing while a build swaps
        // it in: that is no reason to refuse.)
        return match candidate
            .ancestors()
            .take_while(|a| a.starts_with(out))
            .find(|a| a.exists())
        {
            Some(a) if !a.canonicalize().is_ok_and(|c| c.starts_with(out_resolved)) => {
                Err(Refusal::OutsideSite)
            }
            _ => Ok(()),
        };
    }
    match candidate.canonicalize() {
        Ok(real) if real.starts_with(out_resolved) => Ok(()),
        _ => Err(Refusal::OutsideSite),
    }
}

async fn confine(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/__banhanh/") {
        if let Err(why) = check_path(&state.out, &state.out_resolved, req.uri().path()) {
            let body = match why {
                Refusal::Traversal => "403 Forbidden: the path leaves the site folder\n",
                Refusal::OutsideSite => "403 Forbidden: the path points outside the site folder\n",
            };
            return (StatusCode::FORBIDDEN, body).into_response();
        }
    }
    // Every response is fresh (see `headers`); a conditional request could
    // otherwise get "not modified" for a page rebuilt within the same second.
    let h = req.headers_mut();
    h.remove(header::IF_MODIFIED_SINCE);
    h.remove(header::IF_NONE_MATCH);
    h.remove(header::IF_UNMODIFIED_SINCE);
    next.run(req).await
}

/// Whether a content type is text that needs a charset.
fn is_text(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    ct.starts_with("text/")
        || ["javascript", "json", "xml", "svg"]
            .iter()
            .any(|t| ct.starts_with("application/") && ct.contains(t))
        || ct.starts_with("image/svg+xml")
}

async fn headers(mut res: Response<Body>) -> Response<Body> {
    let h = res.headers_mut();
    if let Some(ct) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        if is_text(ct) && !ct.to_ascii_lowercase().contains("charset") {
            if let Ok(v) = HeaderValue::from_str(&format!("{ct}; charset=utf-8")) {
                h.insert(header::CONTENT_TYPE, v);
            }
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_in_any_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("site");
        std::fs::create_dir_all(out.join("a")).unwrap();
        std::fs::write(out.join("a/index.html"), "x").unwrap();
        let real = out.canonicalize().unwrap();
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/%2E%2E/x",
            "/..%2fCargo.toml",
            "/a/..%5c..%5cx",
            "/a/%00",
        ] {
            assert_eq!(
                check_path(&out, &real, bad),
                Err(Refusal::Traversal),
                "{bad}"
            );
        }
        for good in [
            "/",
            "/a/",
            "/a/index.html",
            "/missing/page/",
            "/%C4%91.html",
        ] {
            assert_eq!(check_path(&out, &real, good), Ok(()), "{good}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_out_of_the_site() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("site");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), out.join("s.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), out.join("up")).unwrap();
        std::fs::write(out.join("in.txt"), "i").unwrap();
        std::os::unix::fs::symlink(out.join("in.txt"), out.join("in-link.txt")).unwrap();
        let real = out.canonicalize().unwrap();
        assert_eq!(check_path(&out, &real, "/s.txt"), Err(Refusal::OutsideSite));
        assert_eq!(
            check_path(&out, &real, "/up/secret.txt"),
            Err(Refusal::OutsideSite)
        );
        assert_eq!(
            check_path(&out, &real, "/up/nothing"),
            Err(Refusal::OutsideSite)
        );
        assert_eq!(check_path(&out, &real, "/in-link.txt"), Ok(()));
    }

    #[test]
    fn text_types_get_a_charset() {
        for t in [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "application/atom+xml",
            "image/svg+xml",
        ] {
            assert!(is_text(t), "{t}");
        }
        for t in ["image/png", "font/woff2", "application/octet-stream"] {
            assert!(!is_text(t), "{t}");
        }
    }
}
