//! Watching `content/` and `themes/`: notify's events, debounced so that an
//! editor's save (often a burst: write a temporary file, rename it, touch
//! the original) is one change, with editors' temporary files and plain
//! reads left out. Changes that arrive during a build are gathered into the
//! next one.

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{Event, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Keeps the watch running; dropping it stops the watcher.
pub struct Watch {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

/// Editors' temporary and backup files, and hidden files: `*~`, `.#*`,
/// `#*#`, `*.swp`, `*.swx`, `*.tmp`, vim's `4913` probe, `.*`.
pub fn is_ignored(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    name.ends_with('~')
        || name.starts_with('.')
        || (name.starts_with('#') && name.ends_with('#'))
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913"
}

/// Whether an event may change the site: a write, create, remove or
/// rename of a file that is not an editor's temporary file. Opening and
/// reading (which every build does) are not changes.
pub fn is_relevant(event: &Event) -> bool {
    let kind_matters = match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    };
    kind_matters && event.paths.iter().any(|p| !is_ignored(p))
}

/// Watches `dirs` recursively and calls `on_change` with the changed
/// paths, one call per settled burst, on a thread of its own; with none
/// when the watcher lost track of them (an error, or events dropped by
/// the kernel): anything may have changed.
pub fn watch(
    dirs: &[PathBuf],
    debounce: Duration,
    mut on_change: impl FnMut(Vec<PathBuf>) + Send + 'static,
) -> Result<Watch, String> {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer =
        new_debouncer(debounce, None, tx).map_err(|e| format!("cannot watch for changes: {e}"))?;
    for d in dirs {
        debouncer
            .watch(d, RecursiveMode::Recursive)
            .map_err(|e| format!("cannot watch {}: {e}", d.display()))?;
    }
    std::thread::Builder::new()
        .name("banhanh-watch".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut changed = changed_paths(first);
                // Gather what else arrived meanwhile into the same build.
                while let Ok(more) = rx.try_recv() {
                    changed = changed.zip(changed_paths(more)).map(|(mut a, b)| {
                        a.extend(b);
                        a
                    });
                }
                match changed {
                    None => on_change(Vec::new()),
                    Some(mut paths) if !paths.is_empty() => {
                        paths.sort();
                        paths.dedup();
                        on_change(paths);
                    }
                    Some(_) => {}
                }
            }
        })
        .map_err(|e| format!("cannot start the watcher: {e}"))?;
    Ok(Watch {
        _debouncer: debouncer,
    })
}

/// The paths that changed, or `None` when the watcher cannot tell.
fn changed_paths(result: DebounceEventResult) -> Option<Vec<PathBuf>> {
    match result {
        Ok(events) if events.iter().any(|e| e.need_rescan()) => None,
        Ok(events) => Some(
            events
                .iter()
                .filter(|e| is_relevant(e))
                .flat_map(|e| e.paths.iter().filter(|p| !is_ignored(p)).cloned())
                .collect(),
        ),
        Err(errors) => {
            for e in errors {
                eprintln!("warning: file watcher: {e}");
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    #[test]
    fn ignores_editors_temporary_files() {
        for name in [
            "a.md~",
            ".#a.md",
            "#a.md#",
            ".a.md.swp",
            "a.md.swp",
            "a.swx",
            "x.tmp",
            "4913",
            ".hidden",
        ] {
            assert!(
                is_ignored(Path::new("content/directives").join(name).as_path()),
                "{name}"
            );
        }
        for name in ["a.md", "site.yaml", "style.css", "49130.md"] {
            assert!(
                !is_ignored(Path::new("content").join(name).as_path()),
                "{name}"
            );
        }
    }

    #[test]
    fn reads_are_not_changes_but_renames_to_real_files_are() {
        let ev = |kind, paths: &[&str]| Event {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
            attrs: Default::default(),
        };
        assert!(!is_relevant(&ev(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            &["c/a.md"]
        )));
        assert!(!is_relevant(&ev(
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            &["c/a.md"]
        )));
        assert!(is_relevant(&ev(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            &["c/a.md"]
        )));
        assert!(!is_relevant(&ev(
            EventKind::Create(CreateKind::File),
            &["c/4913"]
        )));
        // Save by rename: temporary file → real file.
        assert!(is_relevant(&ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["c/.a.md.tmp", "c/a.md"]
        )));
    }

    #[test]
    fn a_burst_of_saves_is_one_change() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let _w = watch(
            &[dir.path().to_path_buf()],
            Duration::from_millis(150),
            move |paths| {
                let _ = tx.send(paths);
            },
        )
        .unwrap();
        let file = dir.path().join("a.md");
        for i in 0..5 {
            std::fs::write(&file, format!("v{i}")).unwrap();
            std::fs::write(dir.path().join("a.md~"), "backup").unwrap();
        }
        // Collect batches until the watcher has been quiet for a while;
        // a build reading the file in between is no change.
        let mut batches = vec![rx.recv_timeout(Duration::from_secs(5)).unwrap()];
        let _ = std::fs::read(&file).unwrap();
        while let Ok(b) = rx.recv_timeout(Duration::from_millis(600)) {
            batches.push(b);
        }
        // Five saves in a few microseconds: one batch, two if a tick of
        // the debouncer fell in the middle of the burst.
        assert!(batches.len() <= 2, "{batches:?}");
        assert!(
            batches.iter().flatten().all(|p| p.ends_with("a.md")),
            "{batches:?}"
        );
    }
}
