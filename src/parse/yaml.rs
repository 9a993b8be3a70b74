//! YAML with located errors: serde errors become diagnostics with a
//! "did you mean", and a small locator finds where a key or value was
//! written, for checks that run after deserialization.

use crate::diagnostics::{Diagnostic, Loc, did_you_mean};
use serde::de::DeserializeOwned;

/// A YAML document inside a file, starting at `first_line` of that file.
pub struct YamlDoc<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub first_line: usize,
}

impl<'a> YamlDoc<'a> {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        yaml_serde::from_str(self.text).map_err(|e| self.error_of(&e))
    }

    fn error_of(&self, err: &yaml_serde::Error) -> Diagnostic {
        let loc = err
            .location()
            .map(|l| Loc::new(l.line() + self.first_line - 1, l.column()))
            .unwrap_or(Loc::new(self.first_line, 1));
        let full = err.to_string();
        // libyaml says where it gave up and, after ", while ...", where the
        // construct it was reading began: the latter is where to look.
        if let Some((problem, context)) = full.split_once(", while ") {
            if let Some((what, at)) = context.rsplit_once(" at line ") {
                let mut nums = at.split(" column ").map(|n| n.trim().parse::<usize>().ok());
                if let (Some(Some(line)), Some(Some(column))) = (nums.next(), nums.next()) {
                    let problem = problem.split(" at line ").next().unwrap_or(problem);
                    let loc = Loc::new(line + self.first_line - 1, column);
                    let message =
                        format!("{problem} while {what}: is a quote or bracket left open?");
                    return Diagnostic::error(self.file, loc, "yaml-syntax", message);
                }
            }
        }
        // The location is reported separately; keep the message short.
        let message = match full.find(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        let (code, suggestion) = classify(&message);
        let message = if message.contains("invalid type") && self.text.trim().starts_with('-') {
            format!("{message}; expected `key: value` lines, not a list")
        } else {
            message
        };
        Diagnostic::error(self.file, loc, code, message).with_suggestion(suggestion)
    }

    /// The start of each top-level list item (`- ...` at column 1), as byte
    /// offsets; the document's end closes the last one.
    pub fn item_blocks(&self) -> Vec<Block> {
        let mut starts: Vec<usize> = Vec::new();
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            if line.starts_with("- ") || line.trim_end() == "-" {
                starts.push(offset);
            }
            offset += line.len();
        }
        let mut blocks = Vec::new();
        for (i, &s) in starts.iter().enumerate() {
            let e = starts.get(i + 1).copied().unwrap_or(self.text.len());
            blocks.push(Block { start: s, end: e });
        }
        blocks
    }

    pub fn whole(&self) -> Block {
        Block {
            start: 0,
            end: self.text.len(),
        }
    }

    /// Where `key:` is written in `block` (its first character), else the
    /// block's start.
    pub fn key_loc(&self, block: Block, key: &str) -> Loc {
        let offset = self.key_offset(block, key).unwrap_or(block.start);
        Loc::of_offset(self.text, offset, self.first_line)
    }

    /// Where `value` is written under `key` in `block`, else where the key is.
    pub fn value_loc(&self, block: Block, key: &str, value: &str) -> Loc {
        let Some(key_at) = self.key_offset(block, key) else {
            return Loc::of_offset(self.text, block.start, self.first_line);
        };
        let after = key_at + key.len();
        // The key's value runs until the next line that starts a sibling key.
        let key_indent = self.text[..key_at]
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.len());
        let mut end = after;
        for (i, line) in self.text[after..block.end]
            .split_inclusive('\n')
            .enumerate()
        {
            let indent = line.len() - line.trim_start().len();
            if i > 0
                && !line.trim().is_empty()
                && indent <= key_indent
                && !line.trim_start().starts_with('-')
            {
                break;
            }
            end += line.len();
        }
        let end = end.min(block.end);
        match find_token(&self.text[after..end], value) {
            Some(i) => Loc::of_offset(self.text, after + i, self.first_line),
            None => Loc::of_offset(self.text, key_at, self.first_line),
        }
    }

    fn key_offset(&self, block: Block, key: &str) -> Option<usize> {
        let mut offset = block.start;
        for line in self.text[block.start..block.end].split_inclusive('\n') {
            let body = line.trim_start_matches([' ', '-']);
            let lead = line.len() - body.len();
            if let Some(rest) = body.strip_prefix(key) {
                if rest.trim_start().starts_with(':') {
                    return Some(offset + lead);
                }
            }
            // Flow mappings: `{ slug: x, name: y }`.
            if let Some(i) = line.find(&format!("{key}:")) {
                let before = line[..i].chars().last();
                if matches!(before, Some('{') | Some(' ') | Some(',')) {
                    return Some(offset + i);
                }
            }
            offset += line.len();
        }
        None
    }
}

/// `value` as a whole token (not inside a longer slug) in `haystack`.
fn find_token(haystack: &str, value: &str) -> Option<usize> {
    if value.is_empty() {
        return None;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut from = 0;
    while let Some(i) = haystack[from..].find(value) {
        let at = from + i;
        let before_ok = haystack[..at].chars().last().is_none_or(|c| !is_word(c));
        let after_ok = haystack[at + value.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + value.len();
    }
    None
}

#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub start: usize,
    pub end: usize,
}

/// A code for the diagnostic and, for unknown keys and values, the closest
/// expected one.
fn classify(message: &str) -> (&'static str, Option<String>) {
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    if message.contains("unknown field") {
        let expected = quoted.iter().skip(1).copied();
        return (
            "unknown-key",
            quoted.first().and_then(|k| did_you_mean(k, expected)),
        );
    }
    if message.contains("unknown variant") {
        let expected = quoted.iter().skip(1).copied();
        return (
            "unknown-value",
            quoted.first().and_then(|k| did_you_mean(k, expected)),
        );
    }
    if message.contains("missing field") {
        return ("missing-key", None);
    }
    if message.contains("duplicate") {
        return ("duplicate-key", None);
    }
    if message.contains("invalid type") || message.contains("invalid value") {
        return ("invalid-type", None);
    }
    ("yaml-syntax", None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        recipients: Vec<String>,
        topics: Vec<String>,
    }

    #[test]
    fn unknown_key_suggests_and_locates() {
        let doc = YamlDoc {
            file: "f.md",
            text: "topics: []\nrecipents: [a]\n",
            first_line: 2,
        };
        let d = doc.parse::<T>().unwrap_err();
        assert_eq!(d.code, "unknown-key");
        assert_eq!(d.line, 3);
        assert_eq!(d.suggestion.as_deref(), Some("recipients"));
    }

    #[test]
    fn finds_values_in_block_and_flow_lists() {
        let text = "recipients:\n  - tinh-doan\n  - hoi-nha-bao\ntopics: [pctntc, xiv]\n";
        let doc = YamlDoc {
            file: "f",
            text,
            first_line: 2,
        };
        let all = doc.whole();
        assert_eq!(
            doc.value_loc(all, "recipients", "hoi-nha-bao"),
            Loc::new(4, 5)
        );
        assert_eq!(doc.value_loc(all, "topics", "xiv"), Loc::new(5, 18));
        assert_eq!(doc.key_loc(all, "topics"), Loc::new(5, 1));
    }
}
