//! The content types that flow between stages: registries as read from YAML,
//! directive drafts as parsed, and directives as validated.

use crate::config::System;
use crate::diagnostics::Loc;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub slug: String,
    pub name: String,
    /// The suffix used in document numbers ("BTGTU"); not unique.
    #[serde(default)]
    pub short: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub system: Option<System>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Non-empty for a group ("Các cơ quan báo chí của tỉnh").
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub abbr: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GlossaryEntry {
    pub abbr: String,
    pub expansion: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeclaredStatus {
    InForce,
    Expired,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// A reference in `implements`/`supersedes`: a number, with a date where the
/// number recurs.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RefSpec {
    Number(String),
    Dated(DatedRef),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatedRef {
    pub number: String,
    pub date: String,
}

/// The front matter exactly as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub number: String,
    pub kind: String,
    pub issuer: String,
    pub date: String,
    #[serde(default)]
    pub place: Option<String>,
    pub subject: String,
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub implements: Vec<RefSpec>,
    #[serde(default)]
    pub supersedes: Vec<RefSpec>,
    #[serde(default)]
    pub signer: Option<Signer>,
    #[serde(default)]
    pub status: Option<DeclaredStatus>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub slug: Option<String>,
}

/// A heading of a directive body.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub level: u8,
    pub id: String,
    pub title: String,
    /// Bodies this section is addressed to (`{recipients=a,b}`), with where
    /// each slug was written.
    #[serde(skip)]
    pub recipients: Vec<(String, Loc)>,
    pub line: usize,
}

/// A document number written in body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Normalized number ("369-CV/BTGTU").
    pub number: String,
    /// [`crate::parse::number::key`] of `number`.
    pub key: String,
    pub date: Option<NaiveDate>,
    pub loc: Loc,
}

/// A reference after validation: a normalized number and an optional date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub number: String,
    /// [`crate::parse::number::key`] of `number`.
    pub key: String,
    pub date: Option<NaiveDate>,
    pub loc: Loc,
}

/// A directive's Markdown: a range of its file's text. Serve holds the
/// text (it renders pages again and again); a one-shot build keeps only
/// where it is, and reads it again when the page is rendered, so memory is
/// bounded by the metadata, not by the corpus (1.2 GB of text at 100,000
/// directives, all held from reading to rendering before).
#[derive(Debug, Clone)]
pub struct Body {
    origin: Origin,
    /// Where the body starts in the file's text (a char boundary).
    start: usize,
}

#[derive(Debug, Clone)]
enum Origin {
    Held(Arc<str>),
    /// The file, and the hash of its text as first read
    /// ([`crate::load::read_again`] checks it).
    File {
        path: PathBuf,
        hash: u64,
    },
}

/// A body's text, held while it is used: shared with its [`Body`], or
/// the text just read again (not copied into an `Arc`: at 100,000
/// directives that was 1.2 GB more to copy).
pub struct BodyText {
    text: Text,
    start: usize,
}

enum Text {
    Shared(Arc<str>),
    Read(String),
}

impl std::ops::Deref for BodyText {
    type Target = str;
    fn deref(&self) -> &str {
        let text = match &self.text {
            Text::Shared(text) => text.as_ref(),
            Text::Read(text) => text.as_str(),
        };
        &text[self.start.min(text.len())..]
    }
}

impl Body {
    /// The body of `text` from byte `start`, held.
    pub fn new(text: Arc<str>, start: usize) -> Body {
        let start = start.min(text.len());
        Body {
            origin: Origin::Held(text),
            start,
        }
    }

    /// The body from byte `start` of the file at `path`, whose text hashed
    /// to `hash` when it was parsed; read again at each use.
    pub fn in_file(path: PathBuf, hash: u64, start: usize) -> Body {
        Body {
            origin: Origin::File { path, hash },
            start,
        }
    }

    /// The text: held, or read again (an error when the file is gone or
    /// changed since it was parsed).
    pub fn text(&self) -> Result<BodyText, String> {
        let text = match &self.origin {
            Origin::Held(text) => Text::Shared(text.clone()),
            Origin::File { path, hash } => Text::Read(crate::load::read_again(path, *hash)?),
        };
        Ok(BodyText {
            text,
            start: self.start,
        })
    }
}

/// One directive, validated: every slug it names exists.
#[derive(Debug, Clone)]
pub struct Directive {
    /// Source path relative to the site root, for messages.
    pub file: String,
    pub number: String,
    /// [`crate::parse::number::key`] of `number`: what references match.
    pub number_key: String,
    /// Where `number:` is written, and `slug:` if it is: for messages about
    /// the directive's identity and address.
    pub number_loc: Loc,
    pub slug_loc: Option<Loc>,
    pub kind: String,
    pub issuer: String,
    pub date: NaiveDate,
    pub place: Option<String>,
    pub subject: String,
    pub recipients: Vec<String>,
    pub topics: Vec<String>,
    pub implements: Vec<Reference>,
    pub supersedes: Vec<Reference>,
    pub signer: Option<Signer>,
    pub declared_status: Option<DeclaredStatus>,
    pub draft: bool,
    /// The address's last part.
    pub slug: String,
    pub body: Body,
    /// Line of the file where `body` starts.
    pub body_line: usize,
    pub sections: Vec<Section>,
    pub mentions: Vec<Mention>,
    /// Bytes of the body: its length for the search index's BM25, which
    /// needs every length before it scores any text. (Counting its words
    /// took 0.7 s of CPU at 100k directives; Vietnamese words are about as
    /// long in one text as in another, so the ratio of two lengths, all
    /// BM25 uses, is much the same.)
    pub body_bytes: u32,
}

impl Directive {
    pub fn year(&self) -> i32 {
        use chrono::Datelike;
        self.date.year()
    }

    /// The body's text; an error when its file changed since it was
    /// parsed (see [`Body`]).
    pub fn body_text(&self) -> Result<BodyText, String> {
        self.body.text()
    }

    /// Root-relative address of the directive's page, without leading slash.
    pub fn url(&self) -> String {
        format!("van-ban/{}/{}/", self.year(), self.slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_held_or_read_again_from_its_unchanged_file() {
        let held = Body::new(Arc::from("---\nx: 1\n---\nVăn bản"), 13);
        assert_eq!(held.text().as_deref().ok(), Some("Văn bản"));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.md");
        let text = "---\nx: 1\n---\nVăn bản";
        std::fs::write(&path, text).expect("write");
        let hash = crate::load::text_hash(text);
        let body = Body::in_file(path.clone(), hash, 13);
        assert_eq!(body.text().as_deref().ok(), Some("Văn bản"));
        assert_eq!(body.text().as_deref().ok(), Some("Văn bản"), "again");
        std::fs::write(&path, "---\nx: 1\n---\nĐã sửa").expect("write");
        let err = body.text().err().unwrap_or_default();
        assert!(err.contains("changed while the site was built"), "{err}");
        std::fs::remove_file(&path).expect("remove");
        let err = body.text().err().unwrap_or_default();
        assert!(err.contains("cannot read"), "{err}");
    }
}
