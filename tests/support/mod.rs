//! Helpers shared by the integration tests: fixture sites in temporary
//! folders, running the real binary, and snapshots of output trees.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk fixture");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).expect("mkdir");
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A temporary site holding a copy of `tests/fixtures/NAME/content`.
pub fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo().join("tests/fixtures").join(name), dir.path());
    dir
}

/// A temporary site holding a copy of the shipped example `content/`.
pub fn example_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo().join("content"), &dir.path().join("content"));
    dir
}

pub fn banhanh(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_banhanh"))
        .args(args)
        .arg("--root")
        .arg(root)
        .env("NO_COLOR", "1")
        .output()
        .expect("run banhanh")
}

pub fn build(root: &Path) -> Output {
    banhanh(root, &["build"])
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file below `dir` with its bytes and modification time.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut map = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.expect("walk output");
        if entry.file_type().is_file() {
            let meta = entry.metadata().expect("metadata");
            let bytes = fs::read(entry.path()).expect("read");
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("prefix")
                .to_path_buf();
            map.insert(rel, (bytes, meta.modified().expect("mtime")));
        }
    }
    map
}

pub fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("read {}: {e}", path.as_ref().display()))
}
