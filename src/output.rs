//! The write stage: puts rendered pages on disk, so that a failed build
//! leaves the previous output as it was. Pages go to a staging folder
//! beside the output; at the end a first build's folder replaces the
//! output, and a rebuild's changed pages are renamed into it, each whole
//! (see [`Staging`]). A page whose bytes did not change (by the content
//! hashes of the previous build, kept in a cache file next to the output)
//! is never rewritten: it keeps its modification time and a sync copies
//! nothing.

use crate::render::Page;
use rustc_hash::FxHashMap as HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
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

fn poisoned<T>(_: T) -> io::Error {
    io::Error::other("a writer thread panicked")
}

/// Removes the output's files at `paths` (one already gone is no error)
/// and the folders they leave empty, innermost first.
fn remove_pages<'a>(out: &Path, paths: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
    for path in paths {
        match fs::remove_file(out.join(path)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut dir = Path::new(path).parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            if fs::remove_dir(out.join(d)).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    Ok(())
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
        let mut hashes = self.hashes.lock().map_err(poisoned)?;
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
        let mut hashes = self.hashes.into_inner().map_err(poisoned)?;
        for path in gone {
            hashes.remove(path);
        }
        remove_pages(&self.out, gone.iter().map(String::as_str))?;
        let stats = WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
        };
        Ok((stats, hashes))
    }
}

/// A build's output in progress, in a staging folder beside the output.
/// Dropped without [`Staging::commit`], it removes that folder and the
/// output stays as it was.
///
/// A first build (no previous output with its cache) writes every page
/// into the staging folder, which replaces the output at commit. Over a
/// previous output, it *updates*: only pages whose bytes changed go to
/// the staging folder, and at commit each is renamed into the output over
/// the old one (so a reader sees each page whole, old or new), and the
/// files the previous build wrote and this one did not are removed, with
/// the folders they leave empty. An edit of one directive thus writes a
/// few dozen files, where a new tree would link every unchanged page and
/// the old tree's deletion slow the file system for minutes.
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    previous: Cache,
    /// Whether pages whose bytes changed are all the staging folder gets.
    update: bool,
    hashes: Mutex<Vec<(String, u64)>>,
    /// Pages written into the staging folder when updating.
    changed: Mutex<Vec<String>>,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    committed: bool,
}

impl Staging {
    pub fn begin(out: &Path) -> io::Result<Staging> {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        let dir = sibling(out, &format!("staging-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        spread_subfolders(&dir);
        let previous = Cache::read(out);
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            update: !previous.files.is_empty(),
            previous,
            hashes: Mutex::new(Vec::new()),
            changed: Mutex::new(Vec::new()),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            committed: false,
        })
    }

    /// Creates the folders of the given page paths, up front, so that
    /// pages can then be written from any thread without `create_dir_all`
    /// checks on each. (Updating, each changed page makes its own.)
    pub fn create_dirs<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
        if self.update {
            return Ok(());
        }
        let mut dirs: Vec<&str> = paths
            .into_iter()
            .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        // The folders that hold folders, each before its own (a path sorts
        // before every path it is the prefix of).
        let mut parents: Vec<&str> = dirs
            .iter()
            .flat_map(|d| d.match_indices('/').map(move |(i, _)| &d[..i]))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        for parent in parents {
            let path = self.dir.join(parent);
            match fs::create_dir(&path) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => spread_subfolders(&path),
            }
        }
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
        let same = self.previous.files.get(&page.path) == Some(&hash)
            && self.out.join(&page.path).is_file();
        if same {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let target = self.dir.join(&page.path);
        if self.update {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)?;
            }
            self.changed
                .lock()
                .map_err(poisoned)?
                .push(page.path.clone());
        }
        fs::write(&target, &page.bytes)?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Puts the new output in place (swaps the staging folder in, or moves
    /// an update's changed pages into the output and removes the pages no
    /// longer made) and records what it holds.
    pub fn commit(mut self, fingerprint: Option<u64>) -> io::Result<WriteStats> {
        let mut hashes = std::mem::take(&mut *self.hashes.lock().map_err(poisoned)?);
        hashes.sort();
        // The cache goes first: if what follows fails, a stale cache only
        // costs a rewrite next time, since hashes are checked against files.
        let _ = fs::remove_file(cache_path(&self.out));
        if self.update {
            self.update_in_place(&hashes)?;
        } else {
            swap(&self.out, &self.dir)?;
            self.committed = true;
        }
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

    /// Renames the changed pages from the staging folder into the output,
    /// then removes the files the previous build wrote and this one did
    /// not, and the folders they leave empty.
    fn update_in_place(&mut self, hashes: &[(String, u64)]) -> io::Result<()> {
        use rayon::prelude::*;
        let changed = std::mem::take(&mut *self.changed.lock().map_err(poisoned)?);
        changed.par_iter().try_for_each(|path| {
            let target = self.out.join(path);
            if let Some(dir) = target.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::rename(self.dir.join(path), target)
        })?;
        let made: rustc_hash::FxHashSet<&str> = hashes.iter().map(|(p, _)| p.as_str()).collect();
        let mut gone: Vec<&str> = self
            .previous
            .files
            .keys()
            .map(String::as_str)
            .filter(|p| !made.contains(p))
            .collect();
        gone.sort_unstable();
        remove_pages(&self.out, gone)?;
        // Only the folders of the changed pages are left in it; Drop
        // removes them.
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Marks a new folder as the top of a hierarchy for ext4's inode allocator
/// (`chattr +T`): its subfolders are then spread over the disk's block
/// groups instead of joining their parent's. Why: without a journal, ext4
/// allocating an inode steps one by one over the inodes of its group freed
/// in the last half minute, so a build right after `rm -rf public` put
/// each of its files among the old output's freed inodes (1 to 3 s of
/// kernel time at 10,000 directives, growing with each such rebuild). A
/// hint only: elsewhere it fails and nothing changes.
fn spread_subfolders(dir: &Path) {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{IFlags, ioctl_getflags, ioctl_setflags};
        if let Ok(folder) = fs::File::open(dir) {
            if let Ok(flags) = ioctl_getflags(&folder) {
                let _ = ioctl_setflags(&folder, flags | IFlags::TOPDIR);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
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

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = walkdir::WalkDir::new(dir)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
            .collect();
        names.sort();
        names
    }

    /// Builds `pages` over `out`; returns the stats and the files in the
    /// staging folder before the commit.
    fn rebuild(out: &Path, pages: &[Page]) -> (WriteStats, Vec<String>) {
        let staging = Staging::begin(out).unwrap();
        let paths: Vec<String> = pages.iter().map(|p| p.path.clone()).collect();
        Writer::create_dirs(&staging, &paths).unwrap();
        for p in pages {
            staging.write(p).unwrap();
        }
        let staged = files_in(&staging.dir);
        (staging.commit(None).unwrap(), staged)
    }

    #[test]
    fn a_rebuild_writes_only_changed_pages_and_removes_gone_ones() {
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
        let (stats, staged) = rebuild(&out, &next);
        assert_eq!(
            staged,
            ["c.html", "d/e/index.html"],
            "only the changed pages"
        );
        assert_eq!((stats.written, stats.unchanged), (2, 1));
        assert_eq!(mtime(&out.join("a/index.html")), kept);
        assert_eq!(files_in(&out), ["a/index.html", "c.html", "d/e/index.html"]);
        assert_eq!(fs::read_to_string(out.join("c.html")).unwrap(), "C2");
        assert_eq!(fs::read_to_string(out.join("d/e/index.html")).unwrap(), "D");
        assert!(!out.join("b").exists(), "the folders of gone pages go too");
        assert_eq!(Cache::read(&out).files.len(), 3);
        let beside: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(beside.len(), 2, "public and its cache only");
    }

    #[test]
    fn a_rebuild_that_changes_every_page_gives_the_same_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        write_site(
            &out,
            &[page("a/index.html", "A"), page("b/index.html", "B")],
        )
        .unwrap();
        let next = [
            page("a/index.html", "A2"),
            page("b/index.html", "B2"),
            page("c.html", "C"),
        ];
        let (stats, _) = rebuild(&out, &next);
        assert_eq!((stats.written, stats.unchanged), (3, 0));
        assert_eq!(files_in(&out), ["a/index.html", "b/index.html", "c.html"]);
        for p in &next {
            assert_eq!(fs::read(out.join(&p.path)).unwrap(), p.bytes);
        }
    }

    #[test]
    fn an_abandoned_staging_folder_leaves_the_output_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        {
            let first = Staging::begin(&out).unwrap();
            first.write(&page("a.html", "A")).unwrap();
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left");
        write_site(&out, &[page("a.html", "A")]).unwrap();
        {
            let update = Staging::begin(&out).unwrap();
            update.write(&page("a.html", "changed")).unwrap();
            update.write(&page("b.html", "new")).unwrap();
        }
        assert_eq!(files_in(&out), ["a.html"]);
        assert_eq!(fs::read_to_string(out.join("a.html")).unwrap(), "A");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "public and its cache only"
        );
    }

    /// The folders holding folders are marked for ext4 to spread their
    /// subfolders; the others, and the pages, are left as they are.
    #[cfg(target_os = "linux")]
    #[test]
    fn folders_of_folders_are_marked_as_tops_of_hierarchies() {
        use rustix::fs::{IFlags, ioctl_getflags, ioctl_setflags};
        let dir = tempfile::tempdir().unwrap();
        let flags = |path: &Path| ioctl_getflags(fs::File::open(path).unwrap());
        let probe = dir.path().join("probe");
        fs::create_dir(&probe).unwrap();
        let supported = flags(&probe)
            .and_then(|f| ioctl_setflags(fs::File::open(&probe).unwrap(), f | IFlags::TOPDIR))
            .and_then(|()| flags(&probe))
            .is_ok_and(|f| f.contains(IFlags::TOPDIR));
        if !supported {
            eprintln!(
                "NOTE: the file system of {} has no TOPDIR flag (not ext4?): nothing to check",
                dir.path().display()
            );
            return;
        }
        let staging = Staging::begin(&dir.path().join("public")).unwrap();
        let paths = [
            "index.html",
            "van-ban/2024/a/index.html",
            "van-ban/2024/b/index.html",
        ];
        Writer::create_dirs(&staging, &paths.map(String::from)).unwrap();
        let top = |rel: &str| {
            flags(&staging.dir.join(rel))
                .unwrap()
                .contains(IFlags::TOPDIR)
        };
        assert!(top(""), "the staging folder");
        assert!(top("van-ban") && top("van-ban/2024"));
        assert!(!top("van-ban/2024/a") && !top("van-ban/2024/b"));
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
