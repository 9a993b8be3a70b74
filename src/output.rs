//! The write stage: puts rendered pages on disk, so that a failed build
//! leaves the previous output as it was. Over a previous output, changed
//! pages are held until the build succeeded and then written in place,
//! each whole; a large change, or a first build, goes to a staging folder
//! beside the output that replaces it at the end (see [`Staging`]). A page
//! whose bytes did not change (by the content hashes of the previous
//! build, kept in a cache file next to the output) is never rewritten: it
//! keeps its modification time and a sync copies nothing.

use crate::render::Page;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use xxhash_rust::xxh3::xxh3_64;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub written: usize,
    pub unchanged: usize,
}

fn sibling(out: &Path, tag: &str) -> PathBuf {
    let name = out
        .file_name()
        .map_or("public".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.{tag}"))
}

fn cache_path(out: &Path) -> PathBuf {
    sibling(out, "banhanh-cache")
}

/// What the previous build wrote: the fingerprint of its input and the hash
/// of every file.
#[derive(Debug, Default)]
struct Cache {
    fingerprint: Option<u64>,
    files: HashMap<String, u64>,
}

impl Cache {
    fn read(out: &Path) -> Cache {
        // A cache without its output (deleted by hand) describes nothing.
        if !out.is_dir() {
            return Cache::default();
        }
        let Ok(text) = fs::read_to_string(cache_path(out)) else {
            return Cache::default();
        };
        let mut cache = Cache::default();
        for line in text.lines() {
            if let Some(fp) = line.strip_prefix("fingerprint ") {
                cache.fingerprint = u64::from_str_radix(fp, 16).ok();
            } else if let Some((hash, path)) = line.split_once(' ') {
                if let Ok(hash) = u64::from_str_radix(hash, 16) {
                    cache.files.insert(path.to_string(), hash);
                }
            }
        }
        cache
    }
}

/// When `out` holds exactly what a build of input `fingerprint` writes, the
/// number of its files.
pub fn current_files(out: &Path, fingerprint: u64) -> Option<usize> {
    let cache = Cache::read(out);
    let current = cache.fingerprint == Some(fingerprint)
        && !cache.files.is_empty()
        && cache.files.keys().all(|p| out.join(p).is_file());
    current.then_some(cache.files.len())
}

/// Where rendered pages go: [`Staging`] for `build`, [`InPlace`] for serve.
pub trait Writer: Sync {
    /// Creates the folders of these page paths, before any page is written.
    fn create_dirs(&self, paths: &[String]) -> io::Result<()>;
    /// Writes one page; called from several threads at once.
    fn write(&self, page: &Page) -> io::Result<()>;
}

impl Writer for Staging {
    fn create_dirs(&self, paths: &[String]) -> io::Result<()> {
        Staging::create_dirs(self, paths.iter().map(String::as_str))
    }
    fn write(&self, page: &Page) -> io::Result<()> {
        Staging::write(self, page)
    }
}

impl Writer for InPlace {
    fn create_dirs(&self, paths: &[String]) -> io::Result<()> {
        InPlace::create_dirs(self, paths.iter().map(String::as_str))
    }
    fn write(&self, page: &Page) -> io::Result<()> {
        InPlace::write(self, page)
    }
}

/// The hash of every file the previous build wrote, by path.
pub fn previous_hashes(out: &Path) -> HashMap<String, u64> {
    Cache::read(out).files
}

/// Serve mode's writer: updates a private output folder in place. Only
/// pages whose bytes changed are written (to a temporary file, then renamed
/// over the old one, so a browser never reads half a page).
pub struct InPlace {
    out: PathBuf,
    hashes: Mutex<HashMap<String, u64>>,
    written: AtomicUsize,
    unchanged: AtomicUsize,
}

impl InPlace {
    pub fn new(out: &Path, previous: HashMap<String, u64>) -> InPlace {
        InPlace {
            out: out.to_path_buf(),
            hashes: Mutex::new(previous),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
        }
    }

    pub fn create_dirs<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
        for p in paths {
            if let Some((dir, _)) = p.rsplit_once('/') {
                fs::create_dir_all(self.out.join(dir))?;
            }
        }
        Ok(())
    }

    pub fn write(&self, page: &Page) -> io::Result<()> {
        let hash = xxh3_64(&page.bytes);
        let target = self.out.join(&page.path);
        let mut hashes = self
            .hashes
            .lock()
            .map_err(|_| io::Error::other("a writer thread panicked"))?;
        if hashes.get(&page.path) == Some(&hash) && target.is_file() {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        hashes.insert(page.path.clone(), hash);
        drop(hashes);
        let tmp = target.with_file_name(format!(
            ".{}-{:x}.tmp",
            std::process::id(),
            xxh3_64(page.path.as_bytes())
        ));
        fs::write(&tmp, &page.bytes)?;
        fs::rename(&tmp, &target)?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Removes pages that no longer exist; returns the stats and the hashes
    /// of every file now in the folder.
    pub fn finish(self, gone: &[String]) -> io::Result<(WriteStats, HashMap<String, u64>)> {
        let mut hashes = self
            .hashes
            .into_inner()
            .map_err(|_| io::Error::other("a writer thread panicked"))?;
        for path in gone {
            hashes.remove(path);
            let file = self.out.join(path);
            if file.is_file() {
                fs::remove_file(&file)?;
            }
            // Drop folders left empty (a directive's own folder).
            if let Some(dir) = file.parent() {
                let _ = fs::remove_dir(dir);
            }
        }
        let stats = WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
        };
        Ok((stats, hashes))
    }
}

/// A build's output in progress. Dropped without [`Staging::commit`], it
/// leaves the previous output as it was.
///
/// Over a previous output (with its cache), it starts by *updating*: pages
/// whose bytes did not change are left alone and changed ones are held in
/// memory, to be written into the output at commit (each to a temporary
/// file renamed over the old one). Once the changed pages exceed
/// [`UPDATE_BUDGET`] bytes (a theme edit, a renumbering), or without a
/// previous output, it *stages*: a new folder beside the output, unchanged
/// pages hard-linked from the previous output, swapped in at commit. An
/// edit of one directive thus writes a few dozen files instead of linking
/// every page into a new tree and deleting the old one.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    previous: Cache,
    hashes: Mutex<Vec<(String, u64)>>,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    committed: bool,
    /// Whether pages go to the staging folder; set once, never cleared.
    staged: AtomicBool,
    update: Mutex<Update>,
    budget: usize,
}

/// Bytes of changed pages held for an update in place; beyond them the
/// build stages a new tree instead.
pub const UPDATE_BUDGET: usize = 64 << 20;

/// An update in place, until the commit or a switch to staging.
#[derive(Default)]
struct Update {
    /// Every page path given to `create_dirs`, for a switch to staging.
    paths: Vec<String>,
    /// Pages left as they are in the output.
    kept: Vec<String>,
    changed: Vec<Page>,
    bytes: usize,
}

fn poisoned<T>(_: T) -> io::Error {
    io::Error::other("a writer thread panicked")
}

impl Staging {
    pub fn begin(out: &Path) -> io::Result<Staging> {
        Staging::with_budget(out, UPDATE_BUDGET)
    }

    /// [`Staging::begin`] holding at most `budget` bytes of changed pages.
    pub fn with_budget(out: &Path, budget: usize) -> io::Result<Staging> {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let dir = sibling(out, &format!("staging-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        let previous = Cache::read(out);
        let staged = previous.files.is_empty();
        if staged {
            fs::create_dir_all(&dir)?;
        }
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            previous,
            hashes: Mutex::new(Vec::new()),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            committed: false,
            staged: AtomicBool::new(staged),
            update: Mutex::new(Update::default()),
            budget,
        })
    }

    /// Creates the folders of the given page paths, up front, so that
    /// pages can then be written from any thread without `create_dir_all`
    /// checks on each. (Updating, it notes them for a switch to staging.)
    pub fn create_dirs<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
        let paths: Vec<&str> = paths.into_iter().collect();
        if !self.staged.load(Ordering::Acquire) {
            let mut update = self.update.lock().map_err(poisoned)?;
            if !self.staged.load(Ordering::Acquire) {
                update.paths.extend(paths.iter().map(|p| p.to_string()));
                return Ok(());
            }
        }
        self.create_staged_dirs(&paths)
    }

    fn create_staged_dirs(&self, paths: &[&str]) -> io::Result<()> {
        let mut dirs: Vec<&str> = paths
            .iter()
            .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        use rayon::prelude::*;
        dirs.par_iter()
            .try_for_each(|d| fs::create_dir_all(self.dir.join(d)))
    }

    /// Writes one page; safe to call from several threads. Its folder must
    /// have been given to [`Staging::create_dirs`].
    pub fn write(&self, page: &Page) -> io::Result<()> {
        let hash = xxh3_64(&page.bytes);
        self.hashes
            .lock()
            .map_err(poisoned)?
            .push((page.path.clone(), hash));
        let same = self.previous.files.get(&page.path) == Some(&hash);
        if !self.staged.load(Ordering::Acquire) {
            let kept = same && self.out.join(&page.path).is_file();
            let mut update = self.update.lock().map_err(poisoned)?;
            if !self.staged.load(Ordering::Acquire) {
                if kept {
                    update.kept.push(page.path.clone());
                    self.unchanged.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                if update.bytes + page.bytes.len() <= self.budget {
                    update.bytes += page.bytes.len();
                    update.changed.push(page.clone());
                    self.written.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                self.switch_to_staging(&mut update)?;
            }
        }
        self.write_staged(page, same)
    }

    /// Puts what an update held so far into a new staging folder.
    fn switch_to_staging(&self, update: &mut Update) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let paths: Vec<&str> = update.paths.iter().map(String::as_str).collect();
        self.create_staged_dirs(&paths)?;
        use rayon::prelude::*;
        update.kept.par_iter().try_for_each(|path| {
            fs::hard_link(self.out.join(path), self.dir.join(path)).map_err(|e| {
                io::Error::other(format!(
                    "{path} changed in the output during the build: {e}"
                ))
            })
        })?;
        update
            .changed
            .par_iter()
            .try_for_each(|page| fs::write(self.dir.join(&page.path), &page.bytes))?;
        *update = Update::default();
        self.staged.store(true, Ordering::Release);
        Ok(())
    }

    fn write_staged(&self, page: &Page, same: bool) -> io::Result<()> {
        let target = self.dir.join(&page.path);
        if same && fs::hard_link(self.out.join(&page.path), &target).is_ok() {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        } else {
            fs::write(&target, &page.bytes)?;
            self.written.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Puts the new output in place (swaps the staging folder in, or
    /// writes an update's changed pages and removes the pages no longer
    /// made) and records what it holds.
    pub fn commit(mut self, fingerprint: Option<u64>) -> io::Result<WriteStats> {
        let mut hashes = std::mem::take(&mut *self.hashes.lock().map_err(poisoned)?);
        hashes.sort();
        // The cache goes first: if what follows fails, a stale cache only
        // costs a rewrite next time, since hashes are checked against files.
        let _ = fs::remove_file(cache_path(&self.out));
        if self.staged.load(Ordering::Acquire) {
            swap(&self.out, &self.dir)?;
        } else {
            let update = std::mem::take(&mut *self.update.lock().map_err(poisoned)?);
            self.update_in_place(update, &hashes)?;
        }
        self.committed = true;
        let mut text = String::new();
        if let Some(fp) = fingerprint {
            text.push_str(&format!("fingerprint {fp:016x}\n"));
        }
        for (path, hash) in &hashes {
            text.push_str(&format!("{hash:016x} {path}\n"));
        }
        fs::write(cache_path(&self.out), text)?;
        Ok(WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
        })
    }

    /// Writes the changed pages into the output, each whole (a temporary
    /// file renamed over the old one), then removes the files the previous
    /// build wrote and this one did not, and the folders they leave empty.
    fn update_in_place(&self, update: Update, hashes: &[(String, u64)]) -> io::Result<()> {
        use rayon::prelude::*;
        update.changed.par_iter().try_for_each(|page| {
            let target = self.out.join(&page.path);
            if let Some(dir) = target.parent() {
                fs::create_dir_all(dir)?;
            }
            let name = target
                .file_name()
                .map_or_else(Default::default, |n| n.to_string_lossy());
            let tmp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
            fs::write(&tmp, &page.bytes)?;
            fs::rename(&tmp, &target)
        })?;
        let made: std::collections::HashSet<&str> =
            hashes.iter().map(|(p, _)| p.as_str()).collect();
        let mut gone: Vec<&str> = self
            .previous
            .files
            .keys()
            .map(String::as_str)
            .filter(|p| !made.contains(p))
            .collect();
        gone.sort_unstable();
        for path in gone {
            match fs::remove_file(self.out.join(path)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            // Its folders, innermost first, while they are empty.
            let mut dir = Path::new(path).parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                if fs::remove_dir(self.out.join(d)).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed && self.staged.load(Ordering::Acquire) {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn swap(out: &Path, staging: &Path) -> io::Result<()> {
    if !out.exists() {
        return fs::rename(staging, out);
    }
    let old = sibling(out, &format!("old-{}", std::process::id()));
    if old.exists() {
        fs::remove_dir_all(&old)?;
    }
    fs::rename(out, &old)?;
    if let Err(e) = fs::rename(staging, out) {
        // Put the previous site back before reporting.
        let _ = fs::rename(&old, out);
        return Err(e);
    }
    fs::remove_dir_all(&old)
}

/// Writes a whole site at once (tests and small tools).
pub fn write_site(out: &Path, pages: &[Page]) -> io::Result<WriteStats> {
    let staging = Staging::begin(out)?;
    staging.create_dirs(pages.iter().map(|p| p.path.as_str()))?;
    for page in pages {
        staging.write(page)?;
    }
    staging.commit(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, body: &str) -> Page {
        Page {
            path: path.into(),
            bytes: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn replaces_output_and_keeps_unchanged_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write_site(&out, &[page("a/index.html", "A"), page("gone.html", "G")]).unwrap();
        let before = fs::metadata(out.join("a/index.html"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let stats = write_site(&out, &[page("a/index.html", "A"), page("b.html", "B")]).unwrap();
        assert_eq!(
            stats,
            WriteStats {
                written: 1,
                unchanged: 1
            }
        );
        let after = fs::metadata(out.join("a/index.html"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
        assert!(!out.join("gone.html").exists());
        assert_eq!(fs::read_to_string(out.join("b.html")).unwrap(), "B");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.contains("staging") || n.contains("old")),
            "{names:?}"
        );
    }

    fn mtime(path: &Path) -> std::time::SystemTime {
        fs::metadata(path).unwrap().modified().unwrap()
    }

    fn staging_folders(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("staging"))
            .collect()
    }

    /// Builds over `out` with the pages of a first build given, and
    /// returns the staging folders seen before the commit.
    fn rebuild(out: &Path, budget: usize, pages: &[Page]) -> (WriteStats, Vec<String>) {
        let staging = Staging::with_budget(out, budget).unwrap();
        let paths: Vec<String> = pages.iter().map(|p| p.path.clone()).collect();
        Writer::create_dirs(&staging, &paths).unwrap();
        for p in pages {
            staging.write(p).unwrap();
        }
        let seen = staging_folders(out.parent().unwrap());
        (staging.commit(None).unwrap(), seen)
    }

    #[test]
    fn a_small_change_updates_the_output_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let first = [
            page("a/index.html", "A"),
            page("b/x/index.html", "B"),
            page("c.html", "C"),
        ];
        write_site(&out, &first).unwrap();
        let kept = mtime(&out.join("a/index.html"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        let next = [
            page("a/index.html", "A"),
            page("c.html", "C2"),
            page("d/e/index.html", "D"),
        ];
        let (stats, seen) = rebuild(&out, UPDATE_BUDGET, &next);
        assert!(seen.is_empty(), "no staging folder: {seen:?}");
        assert_eq!(
            stats,
            WriteStats {
                written: 2,
                unchanged: 1
            }
        );
        assert_eq!(mtime(&out.join("a/index.html")), kept);
        assert_eq!(fs::read_to_string(out.join("c.html")).unwrap(), "C2");
        assert_eq!(fs::read_to_string(out.join("d/e/index.html")).unwrap(), "D");
        assert!(!out.join("b").exists(), "the folders of gone pages go too");
        let names: Vec<String> = walkdir::WalkDir::new(&out)
            .into_iter()
            .map(|e| {
                e.unwrap()
                    .path()
                    .strip_prefix(&out)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
        assert_eq!(Cache::read(&out).files.len(), 3);
    }

    #[test]
    fn a_large_change_stages_a_new_tree_with_the_same_result() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let first = [
            page("a/index.html", "A"),
            page("b/index.html", "B"),
            page("c.html", "C"),
        ];
        write_site(&out, &first).unwrap();
        let kept = mtime(&out.join("a/index.html"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        // The budget holds one changed page: the second switches to staging.
        let next = [
            page("a/index.html", "A"),
            page("b/index.html", "B2"),
            page("c.html", "C2"),
            page("d/index.html", "D"),
        ];
        let (stats, seen) = rebuild(&out, 2, &next);
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(
            stats,
            WriteStats {
                written: 3,
                unchanged: 1
            }
        );
        assert_eq!(mtime(&out.join("a/index.html")), kept, "hard-linked");
        for (path, text) in [
            ("b/index.html", "B2"),
            ("c.html", "C2"),
            ("d/index.html", "D"),
        ] {
            assert_eq!(fs::read_to_string(out.join(path)).unwrap(), text);
        }
        assert!(staging_folders(dir.path()).is_empty());
    }

    #[test]
    fn an_abandoned_staging_folder_leaves_the_output_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write_site(&out, &[page("a.html", "A")]).unwrap();
        // Updating in place, and switched to staging (a budget of 0).
        for budget in [UPDATE_BUDGET, 0] {
            {
                let staging = Staging::with_budget(&out, budget).unwrap();
                staging.write(&page("a.html", "changed")).unwrap();
            }
            assert_eq!(fs::read_to_string(out.join("a.html")).unwrap(), "A");
            assert_eq!(
                fs::read_dir(dir.path()).unwrap().count(),
                2,
                "public and its cache only"
            );
        }
    }

    #[test]
    fn knows_when_the_output_is_current() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        let staging = Staging::begin(&out).unwrap();
        staging.write(&page("a.html", "A")).unwrap();
        staging.commit(Some(42)).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.html")).unwrap(), "A");
        assert_eq!(current_files(&out, 42), Some(1));
        assert_eq!(current_files(&out, 43), None);
        fs::remove_file(out.join("a.html")).unwrap();
        assert_eq!(
            current_files(&out, 42),
            None,
            "a deleted file forces a rebuild"
        );
    }
}
