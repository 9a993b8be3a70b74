//! Directive bodies to HTML: pulldown-cmark events, rewritten so that
//! headings get the ids the parse stage gave them, cited numbers link to
//! their directive, glossary abbreviations become `<abbr>`, fenced code is
//! highlighted by syntect with CSS classes, and raw HTML is shown as text.

use crate::model::{Directive, GlossaryEntry};
use crate::parse::body::{PlainSections, markdown_options};
use crate::parse::number;
use chrono::NaiveDate;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};
use regex::Regex;
use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// What the body renderer needs from the rest of the site.
pub struct BodyContext<'a> {
    /// Prefix from the page to the site root ("../../../").
    pub root: &'a str,
    /// (number key, date) → address of the cited directive.
    pub links: HashMap<(String, Option<NaiveDate>), String>,
    pub glossary: &'a Glossary,
}

/// Glossary abbreviations, compiled once per build.
pub struct Glossary {
    pattern: Option<Regex>,
    expansions: HashMap<String, String>,
}

impl Glossary {
    pub fn new(entries: &[GlossaryEntry]) -> Self {
        let mut abbrs: Vec<&str> = entries
            .iter()
            .map(|e| e.abbr.as_str())
            .filter(|a| !a.is_empty())
            .collect();
        abbrs.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        abbrs.dedup();
        let alternation = abbrs
            .iter()
            .map(|a| regex::escape(a))
            .collect::<Vec<_>>()
            .join("|");
        let pattern = (!abbrs.is_empty())
            .then(|| Regex::new(&format!(r"(?:^|[^\p{{L}}\p{{N}}])({alternation})")).ok())
            .flatten();
        Glossary {
            pattern,
            expansions: entries
                .iter()
                .map(|e| (e.abbr.clone(), e.expansion.clone()))
                .collect(),
        }
    }
}

/// `texts`, when given, sees every event of the body, so that the search
/// index gets its text without parsing it again.
pub fn render_body(
    d: &Directive,
    body: &str,
    ctx: &BodyContext,
    mut texts: Option<&mut PlainSections>,
) -> String {
    let mut out = String::with_capacity(body.len() * 3 / 2);
    let mut events: Vec<Event> = Vec::new();
    let mut sections = d.sections.iter();
    let mut opaque_depth = 0usize;
    let mut text_run = String::new();
    let mut code: Option<(String, String)> = None; // (language, text)

    for event in Parser::new_ext(body, markdown_options()) {
        if let Some(texts) = texts.as_deref_mut() {
            texts.observe(&event);
        }
        if let Some((_, text)) = code.as_mut() {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let (lang, text) = code.take().unwrap_or_default();
                    events.push(Event::Html(highlight(&lang, &text).into()));
                }
                _ => {}
            }
            continue;
        }
        if let Event::Text(t) = &event {
            if opaque_depth == 0 {
                text_run.push_str(t);
                continue;
            }
        }
        if !text_run.is_empty() {
            events.push(Event::Html(
                linkify(&std::mem::take(&mut text_run), ctx).into(),
            ));
        }
        match event {
            Event::Start(Tag::Heading { level, classes, .. }) => {
                let id = sections.next().map(|s| CowStr::from(s.id.clone()));
                events.push(Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs: Vec::new(),
                }));
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Start(tag @ (Tag::Link { .. } | Tag::Image { .. })) => {
                opaque_depth += 1;
                events.push(Event::Start(tag));
            }
            Event::End(end @ (TagEnd::Link | TagEnd::Image)) => {
                opaque_depth = opaque_depth.saturating_sub(1);
                events.push(Event::End(end));
            }
            // Raw HTML is shown, never executed.
            Event::Html(h) | Event::InlineHtml(h) => events.push(Event::Text(h)),
            other => events.push(other),
        }
    }
    if !text_run.is_empty() {
        events.push(Event::Html(linkify(&text_run, ctx).into()));
    }
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    out
}

/// Escapes `text`, linking document numbers of the corpus and marking
/// glossary abbreviations.
fn linkify(text: &str, ctx: &BodyContext) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut last = 0;
    for f in number::find_all(text) {
        abbreviate(&text[last..f.start], ctx.glossary, &mut out);
        let written = &text[f.start..f.number_end];
        // A number is never split into abbreviations, linked or not.
        match ctx.links.get(&(number::key(&f.number), f.date)) {
            Some(url) => {
                out.push_str("<a class=\"ref\" href=\"");
                let _ = escape_href(&mut out, &format!("{}{}", ctx.root, url));
                out.push_str("\">");
                let _ = escape_html(&mut out, written);
                out.push_str("</a>");
            }
            None => {
                let _ = escape_html(&mut out, written);
            }
        }
        last = f.number_end;
    }
    abbreviate(&text[last..], ctx.glossary, &mut out);
    out
}

fn abbreviate(text: &str, glossary: &Glossary, out: &mut String) {
    let Some(re) = &glossary.pattern else {
        let _ = escape_html(out, text);
        return;
    };
    let mut last = 0;
    for c in re.captures_iter(text) {
        let Some(m) = c.get(1) else { continue };
        // A whole word only: "UBND" but not the start of "UBNDX".
        if text[m.end()..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
        {
            continue;
        }
        let _ = escape_html(&mut *out, &text[last..m.start()]);
        out.push_str("<abbr title=\"");
        let _ = escape_html(
            &mut *out,
            glossary
                .expansions
                .get(m.as_str())
                .map_or("", String::as_str),
        );
        out.push_str("\">");
        let _ = escape_html(&mut *out, m.as_str());
        out.push_str("</abbr>");
        last = m.end();
    }
    let _ = escape_html(out, &text[last..]);
}

/// Highlighted code with `hl-` classes; the theme's CSS colours them.
/// The syntax set is loaded on the first code block only.
fn highlight(lang: &str, code: &str) -> String {
    static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
    let mut html = String::from("<pre class=\"code\"><code");
    if !lang.is_empty() {
        html.push_str(" class=\"language-");
        let _ = escape_html(&mut html, lang);
        html.push('"');
    }
    html.push('>');
    let syntaxes = SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines);
    let syntax = (!lang.is_empty())
        .then(|| syntaxes.find_syntax_by_token(lang))
        .flatten();
    match syntax {
        Some(syntax) => {
            let style = ClassStyle::SpacedPrefixed { prefix: "hl-" };
            let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, syntaxes, style);
            let ok = LinesWithEndings::from(code).all(|line| {
                generator
                    .parse_html_for_line_which_includes_newline(line)
                    .is_ok()
            });
            if ok {
                html.push_str(&generator.finalize());
            } else {
                let _ = escape_html(&mut html, code);
            }
        }
        None => {
            let _ = escape_html(&mut html, code);
        }
    }
    html.push_str("</code></pre>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abbreviated(abbrs: &[&str], text: &str) -> String {
        let entries: Vec<GlossaryEntry> = abbrs
            .iter()
            .map(|a| GlossaryEntry {
                abbr: a.to_string(),
                expansion: format!("{a} in full"),
            })
            .collect();
        let mut out = String::new();
        abbreviate(text, &Glossary::new(&entries), &mut out);
        out
    }

    #[test]
    fn whole_words_only_become_abbr() {
        let abbrs = ["UBND", "HĐND", "BCH TW", "TW"];
        let abbr = |a: &str| format!("<abbr title=\"{a} in full\">{a}</abbr>");
        assert_eq!(
            abbreviated(&abbrs, "UBND tỉnh"),
            format!("{} tỉnh", abbr("UBND"))
        );
        assert_eq!(
            abbreviated(&abbrs, "(HĐND, UBND)"),
            format!("({}, {})", abbr("HĐND"), abbr("UBND"))
        );
        // The longest first.
        assert_eq!(
            abbreviated(&abbrs, "BCH TW họp"),
            format!("{} họp", abbr("BCH TW"))
        );
        // Never inside a longer word, Vietnamese letters and digits too.
        for text in ["UBNDX", "XUBND", "2UBND", "ĐUBND", "UBND2", "ÀTW", "TWở"] {
            assert_eq!(abbreviated(&abbrs, text), text, "{text}");
        }
        assert_eq!(
            abbreviated(&abbrs, "a <b> & TW"),
            format!("a &lt;b&gt; &amp; {}", abbr("TW"))
        );
    }
}
