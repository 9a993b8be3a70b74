//! Correctness under the optimizations: output independent of thread count
//! on a generated corpus, and incremental rebuilds equal to clean builds.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// A generated corpus of `count` directives (the shared benchmark
/// generator), or the example site where the generator is not beside the
/// repository.
fn corpus(count: usize) -> tempfile::TempDir {
    let generator = repo().join("../shared/bench/gen_corpus.py");
    if !generator.is_file() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have ../shared/bench/gen_corpus.py"
        );
        eprintln!("NOTE: ../shared/bench/gen_corpus.py not found; using the example site");
        return example_site();
    }
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(&generator)
        .args(["--count", &count.to_string(), "--seed", "1", "--out"])
        .arg(dir.path().join("content"))
        .status()
        .expect("python3");
    assert!(status.success());
    dir
}

fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot(dir)
        .into_iter()
        .map(|(k, (b, _))| (k, b))
        .collect()
}

fn build_into(root: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["build", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = banhanh(root, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn a_generated_corpus_builds_identically_with_one_or_two_threads() {
    let site = corpus(1000);
    let (a, b) = (site.path().join("a"), site.path().join("b"));
    build_into(site.path(), &a, &["--jobs", "1"]);
    build_into(site.path(), &b, &["--jobs", "2"]);
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 100);
    assert!(ta == tb, "output differs between 1 and 2 threads");
}

#[test]
fn a_rebuild_with_nothing_changed_rewrites_nothing() {
    let site = example_site();
    let out = site.path().join("public");
    build_into(site.path(), &out, &[]);
    let before = snapshot(&out);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let msg = build_into(site.path(), &out, &[]);
    assert!(msg.contains("(0 written"), "{msg}");
    assert_eq!(
        snapshot(&out),
        before,
        "same bytes and same modification times"
    );
}

#[test]
fn incremental_output_equals_a_clean_build() {
    let site = corpus(300);
    let root = site.path();
    let out = root.join("public");
    build_into(root, &out, &[]);
    let before = snapshot(&out);
    let dirs = root.join("content/directives");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&dirs)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    // Edit one directive's subject.
    let edited = &files[0];
    let text = read(edited);
    let text = text.replacen("subject: ", "subject: Đã sửa - ", 1);
    fs::write(edited, text).unwrap();
    // Add one: a copy under a new number.
    let source = read(&files[1]);
    let number_line = source
        .lines()
        .find(|l| l.starts_with("number:"))
        .unwrap()
        .to_string();
    let added = source
        .replacen(&number_line, "number: \"9999-CV/BTGTU\"", 1)
        .replacen(
            source.lines().find(|l| l.starts_with("issuer:")).unwrap(),
            "issuer: ban-tuyen-giao-tinh-uy",
            1,
        );
    fs::write(dirs.join("them-moi.md"), added).unwrap();
    // Rename one (same content, another path).
    fs::rename(&files[2], files[2].with_file_name("doi-ten.md")).unwrap();
    // Delete one.
    fs::remove_file(&files[3]).unwrap();

    let msg = build_into(root, &out, &[]);
    let clean = root.join("clean");
    build_into(root, &clean, &[]);
    assert!(
        tree(&out) == tree(&clean),
        "incremental output differs from a clean build"
    );
    assert!(msg.contains("unchanged"), "{msg}");
    // Pages that did not change kept their modification time.
    let after = snapshot(&out);
    let kept = after
        .iter()
        .filter(|(p, (bytes, mtime))| {
            before
                .get(*p)
                .is_some_and(|(b, t)| b == bytes && t == mtime)
        })
        .count();
    assert!(
        kept > after.len() / 2,
        "only {kept} of {} files kept",
        after.len()
    );
}

/// The directive files below `dirs`, sorted.
fn directive_files(dirs: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dirs)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// The tree of a clean build of `root` into its folder `name`.
fn clean_tree(root: &Path, name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root.join(name);
    build_into(root, &dir, &[]);
    tree(&dir)
}

/// A generated corpus, built once by serve's builder, and its directive
/// files.
struct Served {
    _site: tempfile::TempDir,
    builder: banhanh::incremental::Builder,
    first: banhanh::BuildReport,
    root: PathBuf,
    opts: banhanh::BuildOptions,
    dirs: PathBuf,
    files: Vec<PathBuf>,
}

fn served_corpus(count: usize) -> Served {
    let site = corpus(count);
    let root = site.path().to_path_buf();
    let opts = serve_options(&root, &root.join("serve-out"));
    let mut builder = banhanh::incremental::Builder::new();
    let first = builder.build(&opts).expect("first build");
    let dirs = root.join("content/directives");
    let files = directive_files(&dirs);
    Served {
        _site: site,
        builder,
        first,
        root,
        opts,
        dirs,
        files,
    }
}

/// Serve mode's builder: after each kind of change it renders only the
/// pages that show the changed directives, and its output equals a clean
/// build byte for byte.
#[test]
fn the_incremental_builder_renders_only_what_a_change_touches() {
    let Served {
        _site,
        mut builder,
        first,
        root,
        opts,
        dirs,
        files,
    } = served_corpus(300);
    let out = opts.out.clone();
    let total = first.pages;
    let clean = |name: &str| clean_tree(&root, name);

    // Edit one directive: a few pages, not the site.
    let text = read(&files[0]).replacen("subject: ", "subject: Đã sửa - ", 1);
    fs::write(&files[0], text).unwrap();
    let edit = builder.build(&opts).expect("edit");
    builder.refresh_search(&opts).expect("search index");
    assert!(
        edit.pages < total / 4,
        "an edit rendered {} of {total} pages",
        edit.pages
    );
    assert!(edit.written >= 1);
    assert!(tree(&out) == clean("clean-1"), "after an edit");

    // Add, rename and delete.
    let added = read(&files[1]).replacen(
        read(&files[1])
            .lines()
            .find(|l| l.starts_with("number:"))
            .unwrap(),
        "number: \"9998-CV/BTGTU\"",
        1,
    );
    fs::write(dirs.join("them.md"), added).unwrap();
    fs::rename(&files[2], files[2].with_file_name("doi-ten.md")).unwrap();
    fs::remove_file(&files[3]).unwrap();
    let more = builder.build(&opts).expect("add, rename, delete");
    builder.refresh_search(&opts).expect("search index");
    assert!(more.pages < total, "rendered {} of {total}", more.pages);
    assert!(
        tree(&out) == clean("clean-2"),
        "after adding, renaming and deleting"
    );

    // A broken file fails the build and leaves the served site alone;
    // fixing it builds again.
    let before = snapshot(&out);
    let good = read(&files[4]);
    fs::write(&files[4], good.replacen("kind: ", "kind: khong-co-", 1)).unwrap();
    assert!(builder.build(&opts).is_err());
    assert_eq!(snapshot(&out), before);
    fs::write(&files[4], good).unwrap();
    builder.build(&opts).expect("fixed");
    builder.refresh_search(&opts).expect("search index");
    assert!(tree(&out) == clean("clean-3"), "after a fix");
}

/// Told by serve's watcher which files changed, the builder looks at those
/// only, and still gives a clean build's output; a folder among them, or
/// no list, and it looks at every file again.
#[test]
fn told_what_changed_the_builder_looks_at_nothing_else() {
    let Served {
        _site,
        mut builder,
        root,
        opts,
        dirs,
        files,
        ..
    } = served_corpus(120);
    let out = opts.out.clone();
    let clean = |name: &str| clean_tree(&root, name);
    let subject = |file: &Path, to: &str| {
        let text = read(file).replacen("subject: ", &format!("subject: {to} - "), 1);
        fs::write(file, text).unwrap();
    };

    // An edit the watcher did not report is not seen...
    subject(&files[0], "Không báo");
    let unseen = builder
        .build_after(&opts, &[files[1].clone()])
        .expect("edit");
    assert_eq!(unseen.written, 0, "a file not named was looked at");
    // ...one it reports is, and the output is a clean build's.
    subject(&files[1], "Đã sửa");
    builder
        .build_after(&opts, &[files[0].clone(), files[1].clone()])
        .expect("edit");
    builder.refresh_search(&opts).expect("search index");
    assert!(tree(&out) == clean("clean-1"), "after two edits");

    // Added, renamed and deleted, each named.
    let added = dirs.join("them.md");
    fs::copy(&files[2], &added).unwrap();
    subject(&added, "Thêm");
    let number = read(&added)
        .lines()
        .find(|l| l.starts_with("number:"))
        .unwrap()
        .to_string();
    fs::write(
        &added,
        read(&added).replacen(&number, "number: \"9998-CV/BTGTU\"", 1),
    )
    .unwrap();
    let renamed = files[3].with_file_name("doi-ten.md");
    fs::rename(&files[3], &renamed).unwrap();
    fs::remove_file(&files[4]).unwrap();
    let named = [added, files[3].clone(), renamed, files[4].clone()];
    builder
        .build_after(&opts, &named)
        .expect("add, rename, delete");
    builder.refresh_search(&opts).expect("search index");
    assert!(
        tree(&out) == clean("clean-2"),
        "after adding, renaming and deleting"
    );

    // A folder renamed: the watcher names the folders, not their files.
    let folder = files[5].parent().unwrap().to_path_buf();
    let moved = dirs.join("chuyen-den");
    fs::rename(&folder, &moved).unwrap();
    builder
        .build_after(&opts, &[folder, moved])
        .expect("folder renamed");
    builder.refresh_search(&opts).expect("search index");
    assert!(tree(&out) == clean("clean-3"), "after a folder was renamed");
}

/// Dropping a `supersedes` changes another directive's status, and so every
/// list that shows that other directive.
#[test]
fn a_status_that_moves_updates_every_list_incrementally() {
    use banhanh::incremental::Builder;
    let site = fixture("relations");
    let root = site.path().to_path_buf();
    let out = root.join("serve-out");
    let opts = serve_options(&root, &out);
    let mut builder = Builder::new();
    builder.build(&opts).expect("first");
    assert!(read(out.join("van-ban/2023/index.html")).contains("Đã bị thay thế"));
    let file = root.join("content/directives/2024/09-hd-btgtu.md");
    let text = read(&file).replace(
        "supersedes:\n  - { number: \"03-HD/BTGTU\", date: 2023-02-01 }\n",
        "",
    );
    fs::write(&file, text).unwrap();
    builder.build(&opts).expect("second");
    builder.refresh_search(&opts).expect("search index");
    assert!(!read(out.join("van-ban/2023/index.html")).contains("Đã bị thay thế"));
    let clean = root.join("clean");
    build_into(&root, &clean, &[]);
    assert!(tree(&out) == tree(&clean));
}

/// What serve mode builds with, minus the reload script.
fn serve_options(root: &Path, out: &Path) -> banhanh::BuildOptions {
    banhanh::BuildOptions {
        root: root.to_path_buf(),
        out: out.to_path_buf(),
        drafts: false,
        base_url: None,
        inject: String::new(),
    }
}
