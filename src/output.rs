//! The write stage: puts rendered pages on disk. Pages go to a staging
//! folder beside the output, which replaces the output only when every page
//! was written; a failed build leaves the previous output as it was. A page
//! whose bytes did not change is hard-linked from the previous output, so
//! it keeps its modification time and syncs copy nothing.

use crate::render::Page;
use rayon::prelude::*;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub written: usize,
    pub unchanged: usize,
}

fn sibling(out: &Path, tag: &str) -> PathBuf {
    let name = out
        .file_name()
        .map_or("public".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

pub fn write_site(out: &Path, pages: &[Page]) -> io::Result<WriteStats> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let staging = sibling(out, "staging");
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    let result =
        fill_staging(out, &staging, pages).and_then(|stats| swap(out, &staging).map(|_| stats));
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn fill_staging(out: &Path, staging: &Path, pages: &[Page]) -> io::Result<WriteStats> {
    let mut dirs: Vec<PathBuf> = pages
        .iter()
        .filter_map(|p| staging.join(&p.path).parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        fs::create_dir_all(d)?;
    }
    let unchanged: Vec<bool> = pages
        .par_iter()
        .map(|page| {
            let target = staging.join(&page.path);
            let previous = out.join(&page.path);
            if fs::read(&previous).is_ok_and(|old| old == page.bytes)
                && fs::hard_link(&previous, &target).is_ok()
            {
                return Ok(true);
            }
            fs::write(&target, &page.bytes).map(|_| false)
        })
        .collect::<io::Result<_>>()?;
    let kept = unchanged.iter().filter(|u| **u).count();
    Ok(WriteStats {
        written: pages.len() - kept,
        unchanged: kept,
    })
}

fn swap(out: &Path, staging: &Path) -> io::Result<()> {
    if !out.exists() {
        return fs::rename(staging, out);
    }
    let old = sibling(out, "old");
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
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no staging folder left behind");
    }
}
