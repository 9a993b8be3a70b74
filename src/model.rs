//! The content types that flow between stages: registries as read from YAML,
//! directive drafts as parsed, and directives as validated.

use crate::config::System;
use crate::diagnostics::Loc;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

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

/// A directive's Markdown: a range of its file's text, shared, so the text
/// is held once from reading to rendering. A one-shot build releases each
/// text after its last use ([`Body::release_after`]): memory is then
/// bounded by the metadata, not by the corpus.
#[derive(Debug)]
pub struct Body {
    text: Mutex<Option<Arc<str>>>,
    start: usize,
    /// Uses left before the text is dropped; `u32::MAX`: never.
    uses_left: AtomicU32,
}

/// A body's text, held while it is used.
pub struct BodyText {
    text: Arc<str>,
    start: usize,
}

impl std::ops::Deref for BodyText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text[self.start..]
    }
}

impl Body {
    /// The body of `text` from byte `start` (a char boundary).
    pub fn new(text: Arc<str>, start: usize) -> Body {
        let start = start.min(text.len());
        Body {
            text: Mutex::new(Some(text)),
            start,
            uses_left: AtomicU32::new(u32::MAX),
        }
    }

    /// The text, or `None` once released.
    pub fn get(&self) -> Option<BodyText> {
        let text = self.text.lock().ok()?.clone()?;
        Some(BodyText {
            text,
            start: self.start,
        })
    }

    /// [`Body::get`], counting one of the uses after which the text is
    /// released.
    pub fn consume(&self) -> Option<BodyText> {
        let text = self.get();
        let counted = self
            .uses_left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n != u32::MAX && n > 0).then(|| n - 1)
            });
        if counted == Ok(1) {
            if let Ok(mut t) = self.text.lock() {
                *t = None;
            }
        }
        text
    }

    /// Releases the text after `uses` calls of [`Body::consume`]. Until
    /// this is called, the text is kept (serve renders pages again).
    pub fn release_after(&self, uses: u32) {
        self.uses_left.store(uses, Ordering::Release);
    }
}

impl Clone for Body {
    fn clone(&self) -> Body {
        Body {
            text: Mutex::new(self.text.lock().ok().and_then(|t| t.clone())),
            start: self.start,
            uses_left: AtomicU32::new(self.uses_left.load(Ordering::Acquire)),
        }
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

    /// The body's text for one counted use ([`Body::consume`]); an error
    /// once released, which is a bug in [`crate::BODY_USES`], never the
    /// editor's.
    pub fn body_text(&self) -> Result<BodyText, String> {
        self.body.consume().ok_or_else(|| {
            format!(
                "internal error: the text of {} was released before its last use",
                self.file
            )
        })
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
    fn a_body_is_released_after_its_counted_uses_only() {
        let body = Body::new(Arc::from("---\nx: 1\n---\nVăn bản"), 13);
        assert_eq!(
            body.consume().as_deref(),
            Some("Văn bản"),
            "kept until counted"
        );
        body.release_after(2);
        let held = body.consume();
        assert_eq!(body.get().as_deref(), Some("Văn bản"));
        assert_eq!(body.consume().as_deref(), Some("Văn bản"), "the last use");
        assert!(body.get().is_none(), "released");
        assert!(body.consume().is_none());
        assert_eq!(
            held.as_deref(),
            Some("Văn bản"),
            "a held text outlives release"
        );
    }
}
