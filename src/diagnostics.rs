//! Errors and warnings about the user's input, as values with locations.
//!
//! Every stage reports problems here instead of returning early, so that one
//! run shows the editor every problem at once. Nothing in this module does
//! I/O; printing is the caller's business (see [`Diagnostic::render_human`]).

use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in a source file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Loc {
    pub line: usize,
    pub column: usize,
}

impl Loc {
    pub fn new(line: usize, column: usize) -> Self {
        Loc { line, column }
    }

    /// The location of byte `offset` in `text`, whose first line is `first_line`.
    pub fn of_offset(text: &str, offset: usize, first_line: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = first_line + before.matches('\n').count();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Loc::new(line, before[line_start..].chars().count() + 1)
    }
}

/// [`Loc::of_offset`] for many offsets of one text, each found from the
/// previous one instead of from the start: a body citing many numbers
/// would otherwise be scanned once per number. Offsets are best given in
/// increasing order; an earlier one starts over.
pub struct Locator<'a> {
    text: &'a str,
    first_line: usize,
    at: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str, first_line: usize) -> Self {
        Locator {
            text,
            first_line,
            at: 0,
            line: first_line,
            line_start: 0,
        }
    }

    pub fn loc(&mut self, offset: usize) -> Loc {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        if offset < self.at {
            *self = Locator::new(self.text, self.first_line);
        }
        let between = &self.text.as_bytes()[self.at..offset];
        self.line += memchr::memchr_iter(b'\n', between).count();
        if let Some(i) = memchr::memrchr(b'\n', between) {
            self.line_start = self.at + i + 1;
        }
        self.at = offset;
        Loc::new(
            self.line,
            self.text[self.line_start..offset].chars().count() + 1,
        )
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Path relative to the site root, with `/` separators.
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    /// A stable machine-readable name, e.g. `unknown-recipient`.
    pub code: &'static str,
    pub message: String,
    pub suggestion: Option<String>,
    /// The offending line of the file, for display.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn error(file: &str, loc: Loc, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: loc.line,
            column: loc.column,
            severity: Severity::Error,
            code,
            message: message.into(),
            suggestion: None,
            source_line: None,
        }
    }

    pub fn warning(file: &str, loc: Loc, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, loc, code, message)
        }
    }

    pub fn with_suggestion(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }

    /// `file:line:column: error[code]: message`, the offending line with a
    /// caret under the column, and the "did you mean" hint.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            "{}:{}:{}: {label}[{}]: {}",
            self.file, self.line, self.column, self.code, self.message
        );
        if let Some(src) = &self.source_line {
            let gutter = self.line.to_string();
            let _ = writeln!(out, "{gutter} | {src}");
            let pad = " ".repeat(gutter.len());
            let caret_pad = " ".repeat(self.column.saturating_sub(1));
            let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
        if let Some(s) = &self.suggestion {
            let _ = writeln!(out, "  = help: did you mean `{s}`?");
        }
        out
    }
}

impl Diagnostic {
    /// One JSON object on one line: file, line, column, severity, code,
    /// message, suggestion (`null` when there is none).
    pub fn render_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A GitHub Actions workflow command, which the runner shows as an
    /// annotation on the file: `::error file=F,line=L,col=C::message`.
    pub fn render_github(&self) -> String {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut msg = self.message.clone();
        if let Some(s) = &self.suggestion {
            let _ = write!(msg, " (did you mean `{s}`?)");
        }
        format!(
            "::{level} file={},line={},col={}::{}",
            escape_github_property(&self.file),
            self.line,
            self.column,
            escape_github_data(&msg)
        )
    }
}

/// Workflow command data: `%`, CR and LF escaped.
fn escape_github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command properties: as data, plus `:` and `,`.
fn escape_github_property(s: &str) -> String {
    escape_github_data(s)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// The diagnostics of one run, kept in a stable order.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warning_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorted by file, line, column, then message: independent of thread
    /// scheduling and of the order files were read in.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
        });
        self.items.dedup();
        self.items
    }

    /// Fills in `source_line` from the given sources (path → text), reading
    /// each file once.
    pub fn attach_sources(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        let mut texts: std::collections::HashMap<String, Option<String>> = Default::default();
        for d in &mut self.items {
            if d.source_line.is_none() && d.line > 0 {
                let text = texts
                    .entry(d.file.clone())
                    .or_insert_with(|| lookup(&d.file));
                if let Some(text) = text {
                    d.source_line = text.lines().nth(d.line - 1).map(str::to_string);
                }
            }
        }
    }
}

/// The candidate closest to `input`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let input_lower = input.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&input_lower, &c.to_lowercase());
        let better = match best {
            None => true,
            Some((s, prev)) => score > s || (score == s && c < prev),
        };
        if better {
            best = Some((score, c));
        }
    }
    best.filter(|(score, _)| *score >= 0.8)
        .map(|(_, c)| c.to_string())
}

/// A path relative to `root`, with `/` separators, for messages.
pub fn display_path(root: &Path, path: &Path) -> String {
    let rel: PathBuf = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_slugs_only() {
        let known = ["hoi-nha-bao-tinh", "tinh-doan", "pctntc"];
        assert_eq!(
            did_you_mean("hoi-nha-bao", known).as_deref(),
            Some("hoi-nha-bao-tinh")
        );
        assert_eq!(
            did_you_mean("recipents", ["recipients", "topics"]).as_deref(),
            Some("recipients")
        );
        assert_eq!(did_you_mean("zzzz", known), None);
    }

    #[test]
    fn github_commands_escape_properties_and_data() {
        let d = Diagnostic::error(
            "content/a,b.md",
            Loc::new(3, 7),
            "bad-date",
            "50% off\nnext",
        )
        .with_suggestion(Some("x".into()));
        assert_eq!(
            d.render_github(),
            "::error file=content/a%2Cb.md,line=3,col=7::50%25 off%0Anext (did you mean `x`?)"
        );
        let j: serde_json::Value = serde_json::from_str(&d.render_json()).unwrap();
        assert_eq!(j["suggestion"], "x");
        assert_eq!(j["severity"], "error");
        assert!(j.get("source_line").is_none());
    }

    #[test]
    fn a_locator_finds_what_of_offset_finds_in_any_order() {
        let text = "Mở đầu\n\nsố 8371-CV/BTGTW\r\nĐại hội\n\n\nXIV và 12-CV/TU\n";
        let offsets: Vec<usize> = (0..=text.len() + 2).collect();
        let mut locator = Locator::new(text, 7);
        for &o in offsets.iter().chain(offsets.iter().rev().step_by(3)) {
            assert_eq!(locator.loc(o), Loc::of_offset(text, o, 7), "offset {o}");
        }
    }

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let text = "a: 1\nbé: x\n";
        assert_eq!(Loc::of_offset(text, 0, 1), Loc::new(1, 1));
        assert_eq!(Loc::of_offset(text, 5, 1), Loc::new(2, 1));
        // "bé: " is 5 bytes but 4 characters.
        assert_eq!(Loc::of_offset(text, 10, 3), Loc::new(4, 5));
    }
}
