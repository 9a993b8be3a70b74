//! The load stage: the only reader of the file system. It turns `content/`
//! and the theme into decoded text (BOM stripped, CRLF folded, NFC) and
//! bytes, and reports files that are not text.

use crate::diagnostics::{Diagnostic, Diagnostics, Loc, display_path};
use crate::text::nfc_owned;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;
use xxhash_rust::xxh3::Xxh3;

/// One decoded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the site root with `/` separators, e.g.
    /// `content/directives/2024/1383-cv-btgtu.md`.
    pub path: String,
    /// The path it was read from.
    pub file: PathBuf,
    /// A directive's body is a range of it (see [`crate::model::Body`]).
    pub text: String,
    /// [`text_hash`] of `text`.
    pub hash: u64,
}

/// Everything under `content/`, decoded.
#[derive(Debug, Default)]
pub struct Sources {
    pub site: Option<SourceFile>,
    pub organizations: Option<SourceFile>,
    pub topics: Option<SourceFile>,
    pub glossary: Option<SourceFile>,
    /// Sorted by path.
    pub directives: Vec<SourceFile>,
    /// A hash of every path and byte read: equal fingerprints, equal input.
    pub fingerprint: u64,
}

/// A file's decoded text, read again for quoting lines in messages (on the
/// error path only).
pub fn read_source(root: &Path, display_path: &str) -> Option<String> {
    let bytes = std::fs::read(root.join(display_path)).ok()?;
    decode(bytes).ok()
}

pub fn content_dir(root: &Path) -> PathBuf {
    root.join("content")
}

/// Reads `content/` below `root`.
pub fn load_content(root: &Path, diags: &mut Diagnostics) -> Sources {
    let mut sources = load_registries(root, diags);
    let paths = directive_paths(root, diags);
    let read: Vec<(Option<SourceFile>, Diagnostics)> = with_readers(|| {
        paths
            .par_iter()
            .map(|p| {
                let mut d = Diagnostics::default();
                (read_text(root, p, &mut d), d)
            })
            .collect()
    });
    for (file, d) in read {
        diags.extend(d);
        sources.directives.extend(file);
    }
    sources.fingerprint = fingerprint(&sources);
    sources
}

/// Files read at once while loading. Reading waits on the disk more than
/// it computes: with the page cache cold, 16 reads in flight loaded the
/// 100,000 directives in 2.9 s instead of 7.7-8.8 s with one per core
/// (warm, the same); the rest of the build keeps one thread per core.
const READERS: usize = 16;

/// Runs `read` on a pool of [`READERS`] threads, or on the build's own
/// pool when that has a single thread (`--jobs 1`) or none can be made.
fn with_readers<T: Send>(read: impl FnOnce() -> T + Send) -> T {
    if rayon::current_num_threads() == 1 {
        return read();
    }
    let threads = READERS.max(rayon::current_num_threads());
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(read),
        Err(_) => read(),
    }
}

/// The text of a file read before, read again; an error when it cannot be
/// read or its text no longer hashes to `hash` (it changed meanwhile).
pub fn read_again(path: &Path, hash: u64) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match decode(bytes) {
        Ok(text) if text_hash(&text) == hash => Ok(text),
        _ => Err(format!(
            "{} changed while the site was built; build again",
            path.display()
        )),
    }
}

/// The hash of a decoded text that [`SourceFile::hash`] holds.
pub fn text_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// `site.yaml` and the registries, without the directives.
pub fn load_registries(root: &Path, diags: &mut Diagnostics) -> Sources {
    let content = content_dir(root);
    let mut sources = Sources::default();
    if !content.is_dir() {
        diags.push(Diagnostic::error(
            "content",
            Loc::new(0, 0),
            "no-content",
            format!("no content/ folder in {}", root.display()),
        ));
        return sources;
    }
    let mut read = |name: &str, required: bool| {
        let path = content.join(name);
        if path.is_file() {
            read_text(root, &path, diags)
        } else {
            if required {
                diags.push(Diagnostic::error(
                    &display_path(root, &path),
                    Loc::new(0, 0),
                    "missing-file",
                    format!("content/{name} is required but missing"),
                ));
            }
            None
        }
    };
    sources.site = read("site.yaml", true);
    sources.organizations = read("organizations.yaml", true);
    sources.topics = read("topics.yaml", true);
    sources.glossary = read("glossary.yaml", false);
    sources.fingerprint = fingerprint(&sources);
    sources
}

/// Every directive file below `content/directives/`, sorted.
pub fn directive_paths(root: &Path, diags: &mut Diagnostics) -> Vec<PathBuf> {
    let dir = content_dir(root).join("directives");
    if !content_dir(root).is_dir() {
        return Vec::new(); // reported once, by `load_registries`
    }
    let mut paths = Vec::new();
    for entry in WalkDir::new(&dir).sort_by_file_name() {
        match entry {
            Ok(e) if e.file_type().is_file() && is_directive_file(e.path()) => {
                paths.push(e.into_path())
            }
            Ok(_) => {}
            Err(err) => diags.push(Diagnostic::error(
                &display_path(root, err.path().unwrap_or(&dir)),
                Loc::new(0, 0),
                "unreadable",
                format!("cannot read: {err}"),
            )),
        }
    }
    paths
}

/// What identifies a file's version cheaply: modification time and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
}

pub fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
    })
}

fn fingerprint(sources: &Sources) -> u64 {
    let mut hasher = Xxh3::new();
    for f in [
        &sources.site,
        &sources.organizations,
        &sources.topics,
        &sources.glossary,
    ]
    .into_iter()
    .flatten()
    .chain(&sources.directives)
    {
        hasher.update(f.path.as_bytes());
        hasher.update(&f.hash.to_le_bytes());
    }
    hasher.digest()
}

/// A hash of every theme file the build may use: the built-in theme and
/// everything under `themes/`.
pub fn theme_fingerprint(root: &Path) -> u64 {
    let mut hasher = Xxh3::new();
    for (path, bytes) in crate::theme::DEFAULT_THEME {
        hasher.update(path.as_bytes());
        hasher.update(bytes);
    }
    for entry in WalkDir::new(root.join("themes"))
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() {
            hasher.update(entry.path().to_string_lossy().as_bytes());
            hasher.update(&std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    hasher.digest()
}

/// Markdown files, minus editors' temporary and hidden files.
pub fn is_directive_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    path.extension().is_some_and(|e| e == "md")
        && !name.starts_with('.')
        && !name.starts_with('#')
        && !name.ends_with('~')
}

pub fn read_text(root: &Path, path: &Path, diags: &mut Diagnostics) -> Option<SourceFile> {
    let shown = display_path(root, path);
    match std::fs::read(path) {
        Ok(bytes) => match decode(bytes) {
            Ok(text) => Some(SourceFile {
                path: shown,
                file: path.to_path_buf(),
                hash: text_hash(&text),
                text,
            }),
            Err(loc) => {
                diags.push(Diagnostic::error(
                    &shown,
                    loc,
                    "invalid-utf8",
                    "the file is not valid UTF-8 text; save it as UTF-8",
                ));
                None
            }
        },
        Err(err) => {
            diags.push(Diagnostic::error(
                &shown,
                Loc::new(0, 0),
                "unreadable",
                format!("cannot read: {err}"),
            ));
            None
        }
    }
}

/// UTF-8 (with or without BOM, LF or CRLF) to NFC text with LF line ends;
/// on invalid UTF-8, where the first bad byte is.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, Loc> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    // simdutf8 checks valid input several times faster than std; on an
    // error std says where.
    if simdutf8::basic::from_utf8(&bytes).is_err() {
        let valid_up_to = std::str::from_utf8(&bytes)
            .err()
            .map_or(bytes.len(), |e| e.valid_up_to());
        let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or("");
        return Err(Loc::of_offset(valid, valid.len(), 1));
    }
    // SAFETY: simdutf8 has just found these very bytes valid UTF-8. (The
    // text is not copied: `String::from_utf8` would check it again, the
    // slow way, and a copy of every file, twice per build, was 2.4 GB of
    // memory traffic at 100,000 directives.)
    let text = unsafe { String::from_utf8_unchecked(bytes) };
    let text = if memchr::memchr(b'\r', text.as_bytes()).is_some() {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    };
    Ok(nfc_owned(text))
}

/// The theme's files: templates by name and static files by path.
#[derive(Debug, Clone, Default)]
pub struct Theme {
    /// Template name (path below `templates/`) → source.
    pub templates: BTreeMap<String, String>,
    /// Path below `static/` → bytes.
    pub static_files: BTreeMap<String, Vec<u8>>,
}

/// The default theme (from `themes/default/` under `root` when present,
/// otherwise the copy built into the binary), overridden by the named theme.
pub fn load_theme(root: &Path, name: Option<&str>) -> Result<Theme, String> {
    let mut theme = Theme::default();
    let default_dir = root.join("themes").join("default");
    if default_dir.is_dir() {
        overlay_dir(&mut theme, &default_dir)?;
    } else {
        for (path, bytes) in crate::theme::DEFAULT_THEME {
            insert_file(&mut theme, path, bytes.to_vec())?;
        }
    }
    if let Some(name) = name.filter(|n| *n != "default") {
        let dir = root.join("themes").join(name);
        if !dir.is_dir() {
            return Err(format!(
                "site.yaml names the theme `{name}`, but themes/{name}/ does not exist"
            ));
        }
        overlay_dir(&mut theme, &dir)?;
    }
    Ok(theme)
}

fn overlay_dir(theme: &mut Theme, dir: &Path) -> Result<(), String> {
    for entry in WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| format!("cannot read theme: {e}"))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = display_path(dir, entry.path());
        let bytes = std::fs::read(entry.path())
            .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
        insert_file(theme, &rel, bytes)?;
    }
    Ok(())
}

fn insert_file(theme: &mut Theme, rel: &str, bytes: Vec<u8>) -> Result<(), String> {
    if let Some(name) = rel.strip_prefix("templates/") {
        let text =
            String::from_utf8(bytes).map_err(|_| format!("theme file {rel} is not UTF-8"))?;
        theme.templates.insert(name.to_string(), text);
    } else if let Some(name) = rel.strip_prefix("static/") {
        theme.static_files.insert(name.to_string(), bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bom_crlf_and_nfd() {
        let bytes = b"\xEF\xBB\xBFa\r\nho\x61\xCC\x81\r\n";
        assert_eq!(decode(bytes.to_vec()).unwrap(), "a\nhoá\n");
        let plain = "---\nsubject: Hóa\n---\nMột dòng.\n";
        assert_eq!(decode(plain.as_bytes().to_vec()).unwrap(), plain);
    }

    #[test]
    fn locates_invalid_utf8() {
        let loc = decode(b"ok\nab\xFFcd".to_vec()).unwrap_err();
        assert_eq!(loc, Loc::new(2, 3));
    }
}
