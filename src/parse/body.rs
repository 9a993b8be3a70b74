//! What the later stages need from a directive body before it is rendered:
//! its sections (headings with ids and section recipients) and the document
//! numbers it cites.

use crate::diagnostics::{Loc, Locator};
use crate::model::{Mention, Section};
use crate::parse::number;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::collections::HashSet;

/// The Markdown dialect of directive bodies, shared with the renderer.
pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
}

#[derive(Clone)]
pub struct BodyScan {
    pub sections: Vec<Section>,
    pub mentions: Vec<Mention>,
    /// The body's length in bytes (see `Directive::body_bytes`).
    pub bytes: u32,
}

/// Scans `body`, which starts at line `first_line` of its file.
pub fn scan(body: &str, first_line: usize) -> BodyScan {
    let mut sections = Vec::new();
    let mut mentions = Vec::new();
    let mut ids = HashSet::new();
    // (level, explicit id, recipients, line, title so far)
    type OpenHeading = (u8, Option<String>, Vec<(String, Loc)>, usize, String);
    let mut heading: Option<OpenHeading> = None;
    let mut opaque_depth = 0usize; // inside links, images or code blocks
    let mut text_run: Option<(usize, String)> = None;

    let mut locate = Locator::new(body, first_line);
    let flush =
        |run: &mut Option<(usize, String)>, mentions: &mut Vec<Mention>, locate: &mut Locator| {
            if let Some((start, text)) = run.take() {
                for f in number::find_all(&text) {
                    // Offsets inside merged text are close to source offsets; the
                    // line is what matters for messages.
                    let at = (start + f.start).min(body.len());
                    mentions.push(Mention {
                        key: number::key(&f.number),
                        number: f.number,
                        date: f.date,
                        loc: locate.loc(at),
                    });
                }
            }
        };

    for (event, range) in Parser::new_ext(body, markdown_options()).into_offset_iter() {
        match event {
            Event::Text(t) => {
                if let Some((_, _, _, _, title)) = heading.as_mut() {
                    title.push_str(&t);
                }
                if opaque_depth == 0 {
                    match text_run.as_mut() {
                        Some((_, s)) => s.push_str(&t),
                        None => text_run = Some((range.start, t.to_string())),
                    }
                }
                continue;
            }
            Event::Code(t) => {
                if let Some((_, _, _, _, title)) = heading.as_mut() {
                    title.push_str(&t);
                }
            }
            Event::Start(Tag::Heading {
                level, id, attrs, ..
            }) => {
                let line = locate.loc(range.start).line;
                let line_text = &body[range.clone()];
                let recipients = attrs
                    .iter()
                    .filter(|(k, _)| k.as_ref() == "recipients")
                    .flat_map(|(_, v)| v.as_deref().unwrap_or("").split(','))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|slug| {
                        let col = line_text
                            .find(slug)
                            .map(|i| locate.loc(range.start + i))
                            .unwrap_or(Loc::new(line, 1));
                        (slug.to_string(), col)
                    })
                    .collect();
                heading = Some((
                    level as u8,
                    id.map(|s| s.to_string()),
                    recipients,
                    line,
                    String::new(),
                ));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, id, recipients, line, title)) = heading.take() {
                    let title = title.trim().to_string();
                    let id = unique_id(id.unwrap_or_else(|| heading_slug(&title)), &mut ids);
                    sections.push(Section {
                        level,
                        id,
                        title,
                        recipients,
                        line,
                    });
                }
            }
            Event::Start(Tag::Link { .. } | Tag::Image { .. } | Tag::CodeBlock(_)) => {
                opaque_depth += 1
            }
            Event::End(TagEnd::Link | TagEnd::Image | TagEnd::CodeBlock) => {
                opaque_depth = opaque_depth.saturating_sub(1)
            }
            _ => {}
        }
        flush(&mut text_run, &mut mentions, &mut locate);
    }
    flush(&mut text_run, &mut mentions, &mut locate);
    BodyScan {
        sections,
        mentions,
        bytes: body.len() as u32,
    }
}

/// An id for a heading without `{#id}`: its folded title.
pub fn heading_slug(title: &str) -> String {
    let s = crate::text::slugify(title);
    if s.is_empty() { "muc".to_string() } else { s }
}

/// `id`, or `id-2`, `id-3`, ... when already taken in this document.
pub fn unique_id(id: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(id.clone()) {
        return id;
    }
    let mut n = 2;
    loop {
        let candidate = format!("{id}-{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_have_ids_and_recipients() {
        let body = "Mở đầu.\n\n## 1. Hội Nhà báo {#muc-1 recipients=hoi-nha-bao-tinh,tinh-doan}\n\nNội dung.\n\n## Kết luận\n\n## Kết luận\n";
        let scan = scan(body, 10);
        let ids: Vec<_> = scan.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["muc-1", "ket-luan", "ket-luan-2"]);
        let s = &scan.sections[0];
        assert_eq!(s.title, "1. Hội Nhà báo");
        assert_eq!(s.line, 12);
        let slugs: Vec<_> = s.recipients.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(slugs, ["hoi-nha-bao-tinh", "tinh-doan"]);
    }

    #[test]
    fn mentions_skip_code_and_links() {
        let body = "Thực hiện Công văn số 8371-CV/BTGTW, ngày 10/5/2024.\n\n`12-CV/TU` và [13-CV/TU](x) và\n\n```\n14-CV/TU\n```\n";
        let scan = scan(body, 1);
        let nums: Vec<_> = scan.mentions.iter().map(|m| m.number.as_str()).collect();
        assert_eq!(nums, ["8371-CV/BTGTW"]);
        assert_eq!(scan.mentions[0].loc.line, 1);
    }
}
