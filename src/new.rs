//! `banhanh new`: starts a directive file with valid front matter and the
//! usual sections, at `content/directives/YEAR/SLUG.md` (SLUG the folded
//! number). The kind, issuer, number and date are checked against the site
//! as `check` would, with a "did you mean" for near misses; the file is
//! never overwritten, and a number already used in that year is refused.
//! The file written is checked once more and removed if `check` would
//! reject it.

use crate::config::SiteConfig;
use crate::diagnostics::{Diagnostic, Diagnostics, Severity, did_you_mean, display_path};
use crate::model::Organization;
use crate::parse::number;
use crate::text::slugify;
use crate::validate::parse_date;
use crate::{load, parse, validate};
use chrono::{Datelike, NaiveDate};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct NewOptions {
    pub root: PathBuf,
    /// A kind slug from site.yaml.
    pub kind: String,
    /// "Số và ký hiệu", e.g. "1383-CV/BTGTU".
    pub number: String,
    /// An organization slug.
    pub issuer: String,
    /// YYYY-MM-DD; today when absent.
    pub date: Option<String>,
    pub subject: String,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub path: PathBuf,
    /// Relative to the root, `/`-separated.
    pub file: String,
    /// The page's address below the site root.
    pub url: String,
    /// Hints that did not stop the file being written, e.g. a number whose
    /// kind part is not the kind's abbreviation.
    pub warnings: Vec<String>,
}

/// Why `new` wrote nothing.
#[derive(Debug)]
pub enum NewError {
    /// An argument is wrong.
    Invalid {
        code: &'static str,
        message: String,
        suggestion: Option<String>,
    },
    /// The site's own files have errors that stop `new` from reading it,
    /// or the file written would not pass `check`.
    Site(Vec<Diagnostic>),
    Io(String),
}

impl NewError {
    fn invalid(code: &'static str, message: String, suggestion: Option<String>) -> Self {
        NewError::Invalid {
            code,
            message,
            suggestion,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            NewError::Invalid { code, .. } => code,
            NewError::Site(_) => "site-errors",
            NewError::Io(_) => "io",
        }
    }

    /// For the terminal, like a diagnostic.
    pub fn render_human(&self) -> String {
        match self {
            NewError::Invalid {
                code,
                message,
                suggestion,
            } => {
                let mut out = format!("error[{code}]: {message}\n");
                if let Some(s) = suggestion {
                    let _ = writeln!(out, "  = help: did you mean `{s}`?");
                }
                out
            }
            NewError::Site(diags) => diags.iter().map(Diagnostic::render_human).collect(),
            NewError::Io(msg) => format!("error: {msg}\n"),
        }
    }
}

pub fn new_directive(opts: &NewOptions) -> Result<Created, NewError> {
    let mut diags = Diagnostics::default();
    let sources = load::load_content(&opts.root, &mut diags);
    let parsed = parse::parse(sources, parse::Keep::Place, &mut diags);
    let Some(site) = validate::validate(parsed, &mut diags) else {
        diags.attach_sources(|p| load::read_source(&opts.root, p));
        let errors: Vec<Diagnostic> = diags
            .into_sorted()
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        return Err(NewError::Site(errors));
    };

    let kind = check_kind(&site.config, &opts.kind)?;
    let issuer = check_issuer(&site.organizations, &opts.issuer)?;
    let number = check_number(&opts.number, kind, issuer)?;
    let date = match &opts.date {
        Some(s) => parse_date(s).ok_or_else(|| {
            NewError::invalid(
                "bad-date",
                format!("`{s}` is not a real date; write it as YYYY-MM-DD"),
                None,
            )
        })?,
        None => chrono::Local::now().date_naive(),
    };
    let subject = opts.subject.trim();
    if subject.is_empty() {
        return Err(NewError::invalid(
            "missing-subject",
            "give the subject (trích yếu) in quotes".into(),
            None,
        ));
    }

    let key = number::key(&number);
    if let Some(other) = site
        .directives
        .iter()
        .find(|d| number::key(&d.number) == key && d.date.year() == date.year())
    {
        return Err(NewError::invalid(
            "duplicate-number",
            format!(
                "{number} is already used in {} by {}",
                date.year(),
                other.file
            ),
            None,
        ));
    }

    let slug = slugify(&number);
    let path = load::content_dir(&opts.root)
        .join("directives")
        .join(date.year().to_string())
        .join(format!("{slug}.md"));
    let file = display_path(&opts.root, &path);
    let text = skeleton(
        &number,
        &kind.slug,
        &issuer.slug,
        date,
        subject,
        kind.letter,
        &issuer.name,
    );
    write_new(&path, &text).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => NewError::invalid(
            "file-exists",
            format!("{file} already exists; it was left as it is"),
            None,
        ),
        _ => NewError::Io(format!("cannot write {file}: {e}")),
    })?;

    // The file must pass `check`; one that would not is taken back.
    let problems: Vec<Diagnostic> = crate::check(&opts.root, true)
        .into_iter()
        .filter(|d| d.file == file && d.severity == Severity::Error)
        .collect();
    if !problems.is_empty() {
        let _ = std::fs::remove_file(&path);
        return Err(NewError::Site(problems));
    }
    Ok(Created {
        path,
        file,
        url: format!("van-ban/{}/{slug}/", date.year()),
        warnings: number_hints(&number, kind, issuer),
    })
}

fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

fn check_kind<'a>(config: &'a SiteConfig, kind: &str) -> Result<&'a crate::config::Kind, NewError> {
    config.kind(kind).ok_or_else(|| {
        NewError::invalid(
            "unknown-kind",
            format!("unknown kind `{kind}`; site.yaml defines: {}", {
                let all: Vec<&str> = config.kinds.iter().map(|k| k.slug.as_str()).collect();
                all.join(", ")
            }),
            did_you_mean(kind, config.kinds.iter().map(|k| k.slug.as_str())),
        )
    })
}

fn check_issuer<'a>(
    orgs: &'a std::collections::BTreeMap<String, Organization>,
    issuer: &str,
) -> Result<&'a Organization, NewError> {
    orgs.get(issuer).ok_or_else(|| {
        NewError::invalid(
            "unknown-issuer",
            format!("unknown issuer `{issuer}`: not in organizations.yaml"),
            did_you_mean(issuer, orgs.keys().map(String::as_str)),
        )
    })
}

/// The number in normal form, or why not, with a likely intended number:
/// the same in capitals, or a bare "1383" completed with the kind's and the
/// issuer's abbreviations.
fn check_number(
    raw: &str,
    kind: &crate::config::Kind,
    issuer: &Organization,
) -> Result<String, NewError> {
    let n = number::normalize(raw);
    if number::is_valid(&n) {
        return Ok(n);
    }
    let mut candidates = vec![n.to_uppercase()];
    if let Some(short) = &issuer.short {
        let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            candidates.push(format!("{digits}-{}/{short}", kind.abbr));
            candidates.push(format!("{digits}/{}-{short}", kind.abbr));
        }
    }
    let suggestion = candidates
        .into_iter()
        .find(|c| number::is_valid(c) && *c != n);
    Err(NewError::invalid(
        "bad-number",
        format!(
            "`{raw}` is not a document number: write it as on the paper, e.g. 1383-CV/BTGTU (Party) or 17/NQ-CP (state)"
        ),
        suggestion,
    ))
}

/// For a Party number `N-KIND/BODY`: whether KIND is the kind's
/// abbreviation and BODY the issuer's `short` (compared folded, so "QD"
/// matches "QĐ"). State numbers vary too much to tell.
fn number_hints(number: &str, kind: &crate::config::Kind, issuer: &Organization) -> Vec<String> {
    let mut hints = Vec::new();
    let Some((head, body)) = number.split_once('/') else {
        return hints;
    };
    let Some((_, kind_part)) = head.split_once('-') else {
        return hints;
    };
    let same = |a: &str, b: &str| crate::text::fold(a) == crate::text::fold(b);
    if !same(kind_part, &kind.abbr) {
        hints.push(format!(
            "the number says {kind_part}, but the kind `{}` is abbreviated {}",
            kind.slug, kind.abbr
        ));
    }
    let body_part = body.split('/').next().unwrap_or(body);
    if let Some(short) = issuer.short.as_deref().filter(|s| !same(body_part, s)) {
        hints.push(format!(
            "the number says {body_part}, but `{}` signs as {short}",
            issuer.slug
        ));
    }
    hints
}

/// A YAML double-quoted string (JSON strings are valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.replace('"', "'")))
}

/// The file's text: front matter and the body's usual sections (numbered
/// points for a letter, I/II/III parts for the other kinds).
fn skeleton(
    number: &str,
    kind: &str,
    issuer: &str,
    date: NaiveDate,
    subject: &str,
    letter: bool,
    issuer_name: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "---");
    let _ = writeln!(s, "number: {}", quoted(number));
    let _ = writeln!(s, "kind: {kind}");
    let _ = writeln!(s, "issuer: {issuer}");
    let _ = writeln!(s, "date: {date}");
    let _ = writeln!(s, "subject: {}", quoted(subject));
    let _ = writeln!(
        s,
        "recipients: []      # organization slugs (Kính gửi / Nơi nhận)"
    );
    let _ = writeln!(s, "topics: []          # topic slugs from topics.yaml");
    let _ = writeln!(s, "# implements: [\"8371-CV/BTGTW\"]");
    let _ = writeln!(s, "# signer: {{ name: \"\", title: \"\" }}");
    let _ = writeln!(s, "---");
    if letter {
        let _ = writeln!(
            s,
            "Thực hiện ..., {issuer_name} đề nghị các cơ quan, đơn vị thực hiện một số nội dung sau:\n"
        );
        let _ = writeln!(s, "## 1. Nội dung thứ nhất\n\n...\n");
        let _ = writeln!(s, "## 2. Nội dung thứ hai\n\n...\n");
        let _ = writeln!(s, "## 3. Tổ chức thực hiện\n\n...");
    } else {
        let _ = writeln!(s, "Căn cứ ...\n");
        let _ = writeln!(s, "## I. MỤC ĐÍCH, YÊU CẦU\n");
        let _ = writeln!(s, "### 1. Mục đích\n\n...\n");
        let _ = writeln!(s, "### 2. Yêu cầu\n\n...\n");
        let _ = writeln!(s, "## II. NỘI DUNG\n\n...\n");
        let _ = writeln!(s, "## III. TỔ CHỨC THỰC HIỆN\n\n...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind() -> crate::config::Kind {
        crate::config::Kind {
            slug: "cong-van".into(),
            name: "Công văn".into(),
            abbr: "CV".into(),
            letter: true,
        }
    }

    fn org() -> Organization {
        Organization {
            slug: "ban-tuyen-giao-tinh-uy".into(),
            name: "Ban Tuyên giáo Tỉnh ủy".into(),
            short: Some("BTGTU".into()),
            parent: None,
            system: None,
            aliases: vec![],
            members: vec![],
        }
    }

    fn suggestion_for(raw: &str) -> Option<String> {
        match check_number(raw, &kind(), &org()) {
            Err(NewError::Invalid { suggestion, .. }) => suggestion,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_are_normalized_or_corrected() {
        assert_eq!(
            check_number("1383 - CV/BTGTU", &kind(), &org()).unwrap(),
            "1383-CV/BTGTU"
        );
        assert_eq!(
            suggestion_for("1383-cv/btgtu").as_deref(),
            Some("1383-CV/BTGTU")
        );
        assert_eq!(suggestion_for("1383").as_deref(), Some("1383-CV/BTGTU"));
        assert_eq!(suggestion_for("ABC"), None);
    }

    #[test]
    fn hints_when_the_number_disagrees_with_kind_or_issuer() {
        assert!(number_hints("1383-CV/BTGTU", &kind(), &org()).is_empty());
        assert!(number_hints("17/NQ-CP", &kind(), &org()).is_empty());
        let hints = number_hints("12-KH/TU", &kind(), &org());
        assert_eq!(hints.len(), 2, "{hints:?}");
        assert!(hints[0].contains("says KH") && hints[1].contains("signs as BTGTU"));
        let mut qd = kind();
        qd.abbr = "QĐ".into();
        assert!(number_hints("5-QD/BTGTU", &qd, &org()).is_empty(), "folded");
    }

    #[test]
    fn subjects_are_quoted_safely() {
        let s = skeleton(
            "1-CV/X",
            "cong-van",
            "x",
            NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
            "V/v \"a\": b # c",
            true,
            "X",
        );
        assert!(s.contains(r#"subject: "V/v \"a\": b # c""#), "{s}");
    }
}
