//! The parse stage: decoded sources → typed registries and directive drafts.
//! Nothing here checks one file against another; that is `validate`'s job.

pub mod body;
pub mod number;
pub mod yaml;

use crate::config::SiteConfig;
use crate::diagnostics::{Diagnostic, Diagnostics, Loc};
use crate::load::{SourceFile, Sources};
use crate::model::{Body, FrontMatter, GlossaryEntry, Organization, Topic};
use rayon::prelude::*;
use std::sync::Arc;
use yaml::YamlDoc;

/// A registry file's entries with the file they came from.
pub struct Registry<T> {
    pub file: String,
    pub text: String,
    pub entries: Vec<T>,
}

impl<T> Registry<T> {
    fn empty() -> Self {
        Registry {
            file: String::new(),
            text: String::new(),
            entries: Vec::new(),
        }
    }

    pub fn doc(&self) -> YamlDoc<'_> {
        YamlDoc {
            file: &self.file,
            text: &self.text,
            first_line: 1,
        }
    }
}

/// A directive file split and deserialized, not yet checked.
#[derive(Clone)]
pub struct DirectiveDraft {
    pub file: String,
    pub front: FrontMatter,
    pub yaml: String,
    pub yaml_line: usize,
    pub body: Body,
    pub body_line: usize,
    pub scan: body::BodyScan,
}

impl DirectiveDraft {
    pub fn doc(&self) -> YamlDoc<'_> {
        YamlDoc {
            file: &self.file,
            text: &self.yaml,
            first_line: self.yaml_line,
        }
    }
}

pub struct Parsed {
    pub config: Option<SiteConfig>,
    pub site_file: Option<SourceFile>,
    pub organizations: Registry<Organization>,
    pub topics: Registry<Topic>,
    pub glossary: Registry<GlossaryEntry>,
    /// Shared, so that serve mode can keep drafts of unchanged files.
    pub drafts: Vec<Arc<DirectiveDraft>>,
}

/// Consumes the sources: each directive's text is dropped once parsed
/// unless `keep` says to keep it.
pub fn parse(sources: Sources, keep: Keep, diags: &mut Diagnostics) -> Parsed {
    let mut registries = sources;
    let directives = std::mem::take(&mut registries.directives);
    let results: Vec<Result<DirectiveDraft, Diagnostic>> = directives
        .into_par_iter()
        .map(|file| parse_directive(file, keep))
        .collect();
    let mut drafts = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(d) => drafts.push(Arc::new(d)),
            Err(e) => diags.push(e),
        }
    }
    parse_registries(registries, drafts, diags)
}

/// Parses `site.yaml` and the registries of `sources` (whose directives are
/// ignored) and joins them with drafts parsed already.
pub fn parse_registries(
    sources: Sources,
    drafts: Vec<Arc<DirectiveDraft>>,
    diags: &mut Diagnostics,
) -> Parsed {
    let config = sources.site.as_ref().and_then(|f| {
        let doc = YamlDoc {
            file: &f.path,
            text: &f.text,
            first_line: 1,
        };
        doc.parse::<SiteConfig>().map_err(|d| diags.push(d)).ok()
    });
    Parsed {
        config,
        site_file: sources.site,
        organizations: registry(sources.organizations, diags),
        topics: registry(sources.topics, diags),
        glossary: registry(sources.glossary, diags),
        drafts,
    }
}

fn registry<T: serde::de::DeserializeOwned>(
    file: Option<SourceFile>,
    diags: &mut Diagnostics,
) -> Registry<T> {
    let Some(file) = file else {
        return Registry::empty();
    };
    let mut reg = Registry {
        file: file.path,
        text: file.text,
        entries: Vec::new(),
    };
    if reg.text.trim().is_empty() {
        return reg;
    }
    match reg.doc().parse::<Vec<T>>() {
        Ok(entries) => reg.entries = entries,
        Err(d) => diags.push(d),
    }
    reg
}

/// What a parsed directive keeps of its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The text (serve, which renders pages again and again).
    Text,
    /// Where it is in its file, read again when the page is rendered (a
    /// one-shot build: memory then holds no corpus text).
    Place,
}

/// Splits front matter from body and deserializes it.
pub fn parse_directive(file: SourceFile, keep: Keep) -> Result<DirectiveDraft, Diagnostic> {
    let err =
        |line, code, msg: &str| Err(Diagnostic::error(&file.path, Loc::new(line, 1), code, msg));
    let text = &file.text;
    if text.trim().is_empty() {
        return err(
            1,
            "empty-file",
            "the file is empty; a directive starts with front matter between `---` lines",
        );
    }
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return err(
            1,
            "no-front-matter",
            "a directive starts with a line `---` that opens its front matter",
        );
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    let mut line_no = 1;
    let mut close = None;
    for line in lines {
        line_no += 1;
        if line.trim_end() == "---" {
            close = Some((offset, offset + line.len(), line_no));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_end, body_start, close_line)) = close else {
        return err(
            1,
            "unclosed-front-matter",
            "the front matter opened here is never closed by a line `---`",
        );
    };
    let yaml = &text[yaml_start..yaml_end];
    if yaml.trim().is_empty() {
        return err(
            1,
            "empty-front-matter",
            "the front matter is empty; it needs number, kind, issuer, date and subject",
        );
    }
    let doc = YamlDoc {
        file: &file.path,
        text: yaml,
        first_line: 2,
    };
    let front: FrontMatter = doc.parse()?;
    let yaml = yaml.to_string();
    let body_line = close_line + 1;
    let scan = body::scan(&file.text[body_start.min(file.text.len())..], body_line);
    let body = match keep {
        Keep::Text => Body::new(file.text.into(), body_start),
        Keep::Place => Body::in_file(file.file, file.hash, body_start),
    };
    Ok(DirectiveDraft {
        file: file.path,
        front,
        yaml,
        yaml_line: 2,
        body,
        body_line,
        scan,
    })
}
