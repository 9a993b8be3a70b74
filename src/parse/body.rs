//! What the later stages need from a directive body before it is rendered:
//! its sections (headings with ids and section recipients) and the document
//! numbers it cites.

use crate::diagnostics::{Loc, Locator};
use crate::model::{Mention, Section};
use crate::parse::number;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use rustc_hash::FxHashSet as HashSet;

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
    let mut ids = HashSet::default();
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

/// A section's plain text as the search index reads it: (anchor, title,
/// text), paragraphs, items and table rows each ending in `\n`.
pub type SectionText = (String, String, String);

/// A body's plain text by section, gathered from its Markdown events. The
/// renderer feeds it the events it reads while writing the page, so page and
/// search index share one parse; [`sections_text`] parses for it alone.
pub struct PlainSections<'d> {
    ids: std::slice::Iter<'d, Section>,
    /// The first is the text before any heading, with an empty anchor.
    out: Vec<SectionText>,
    in_heading: bool,
}

impl<'d> PlainSections<'d> {
    /// For a body whose headings are `sections`, in order.
    pub fn new(sections: &'d [Section]) -> Self {
        PlainSections {
            ids: sections.iter(),
            out: vec![(String::new(), String::new(), String::new())],
            in_heading: false,
        }
    }

    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                let id = self.ids.next().map_or(String::new(), |s| s.id.clone());
                self.out.push((id, String::new(), String::new()));
                self.in_heading = true;
            }
            Event::End(TagEnd::Heading(_)) => self.in_heading = false,
            Event::Text(t) | Event::Code(t) => {
                if let Some(last) = self.out.last_mut() {
                    if self.in_heading {
                        last.1.push_str(t);
                    } else {
                        last.2.push_str(t);
                    }
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(last) = self.out.last_mut() {
                    last.2.push(' ');
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::TableRow) => {
                if let Some(last) = self.out.last_mut() {
                    if !last.2.ends_with('\n') && !last.2.is_empty() {
                        last.2.push('\n');
                    }
                }
            }
            _ => {}
        }
    }

    /// The sections' texts, trimmed; the text before the first heading only
    /// where there is some.
    pub fn finish(mut self) -> Vec<SectionText> {
        for s in &mut self.out {
            trim_in_place(&mut s.1);
            trim_in_place(&mut s.2);
        }
        if self.out.len() > 1 && self.out[0].2.is_empty() {
            self.out.remove(0);
        }
        self.out
    }
}

/// `s.trim()`, without copying the text (a section's text is most of
/// its directive).
fn trim_in_place(s: &mut String) {
    s.truncate(s.trim_end().len());
    let start = s.len() - s.trim_start().len();
    s.drain(..start);
}

/// The plain text by section of `body`, whose headings are `sections`.
pub fn sections_text(sections: &[Section], body: &str) -> Vec<SectionText> {
    let mut texts = PlainSections::new(sections);
    for event in Parser::new_ext(body, markdown_options()) {
        texts.observe(&event);
    }
    texts.finish()
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
    fn plain_text_by_section() {
        let body = "Mở đầu\nmềm.\n\n## Mục `một` *nhấn*\n\n- A[^1]\n- [B](x) <b>C</b>\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n```\nmã\n```\n\n[^1]: Chú.\n";
        let sections = scan(body, 1).sections;
        let texts = sections_text(&sections, body);
        let texts: Vec<(&str, &str, &str)> = texts
            .iter()
            .map(|(a, t, x)| (a.as_str(), t.as_str(), x.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                ("", "", "Mở đầu mềm."),
                (
                    "muc-mot-nhan",
                    "Mục một nhấn",
                    "A\nB C\nx\ny\n1\n2\nmã\nChú."
                ),
            ]
        );
        let no_lead = sections_text(&sections, "## Mục `một` *nhấn*\n\nA.");
        assert_eq!(
            no_lead.len(),
            1,
            "no empty section before the first heading"
        );
    }

    #[test]
    fn trimming_in_place_is_trimming() {
        for text in ["", " ", "a", " \n a b \t", "\u{a0}hòa\u{3000}", "x  "] {
            let mut s = text.to_string();
            trim_in_place(&mut s);
            assert_eq!(s, text.trim(), "{text:?}");
        }
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
