//! The search index writer: the site graph → the files under `search/` that
//! the client fetches piece by piece. The format is described in
//! ARCHITECTURE.md ("Search index"); in short, every file but the packs
//! of long lists and the doc store is gzip (the client inflates it with
//! `DecompressionStream`):
//!
//! - `search/meta.gz`: JSON with the document count, the shard count, year
//!   ranges, facet values with their counts and the abbreviation groups.
//! - `search/s/<shard>.gz`: one line per index key whose hash falls in the
//!   shard: `key \t variant \t postings [\t variant \t postings ...]`,
//!   where a long list is written `@pack.offset.length` (hex): bits
//!   ([`rice_list`]) at that offset of `search/k/<pack>.bin`, read by
//!   range.
//!   A word with several variants also has the variant `*`, their union.
//! - `search/b/<block>.bin`: the doc store, 32 documents per file: a header
//!   of offsets, then per document two LZ4 blocks, one with its address,
//!   number, date, subject and each section's lead (JSON), one with the
//!   rest of its text, for the result list and its snippets (read by range
//!   requests).
//! - `search/facets.gz`: documents per kind, issuer, recipient and topic.
//!
//! Keys are folded tokens ("hoa") and folded adjacent pairs ("tham nhung");
//! a token's variants are its normalized forms ("hóa", "hòa"), an empty
//! variant meaning the key itself. Postings in a shard's line are
//! `delta score` pairs: the document number's difference from the
//! previous one, then one base-36 digit 1-z of BM25F score, with no
//! separator (see [`encode_list`]); a long list's are bits
//! ([`rice_list`]).
//!
//! Documents are numbered in the graph's order (newest first), so a year is
//! a range of numbers. Work is split by document chunk across rayon's
//! threads and merged in chunk order; every map is sorted before it is
//! written, so the output does not depend on the number of threads.

use super::fnv1a;
use crate::gzip::gzip;
use crate::model::Directive;
use crate::parse::body::{SectionText, sections_text};
use crate::render::{Page, dates};
use crate::resolve::SiteGraph;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Field weights of BM25F: the number outweighs everything, then the
/// subject, the topics, the headings and numbers cited; the body counts 1.
pub const W_NUMBER: f32 = 30.0;
pub const W_SUBJECT: f32 = 6.0;
pub const W_TOPIC: f32 = 4.0;
pub const W_HEADING: f32 = 3.0;
pub const W_CITES: f32 = 3.0;
pub const W_BODY: f32 = 1.0;
const K1: f32 = 2.0;
/// Mild length normalization: a long directive about the query keeps its
/// rank over a short one that mentions it once.
const B: f32 = 0.3;
/// Scores are quantized to 1..=35, one base-36 digit.
const MAX_SCORE: f32 = 35.0;
/// Documents per parallel work item, at most (see [`chunk_ranges`]).
const CHUNK: usize = 1024;
/// Key partitions merged in parallel.
const PARTS: usize = 64;
/// Lists of more postings than this get a file of their own (about
/// 1,500 bytes of text: two or three characters a posting).
const OWN_POSTINGS: usize = 700;
/// Files the long postings lists are packed in (`k/`): a list is read
/// from its pack by a range request, so the index is a few hundred files,
/// not thousands (creating files is much of a build's time).
const PACKS: usize = 64;
/// Aim for about this many keys per shard, and at most about this many
/// bytes of text: on a small site most lists are short enough to sit in
/// their shard's lines, and a shard sized by keys alone grew to 25 KB
/// (compressed 7-9 KB) at 1,000 directives, where a query reads three.
const KEYS_PER_SHARD: usize = 48;
const SHARD_BYTES: usize = 6 * 1024;

/// Equivalent phrases: an abbreviation and its expansion (glossary.yaml), a
/// topic's name, abbreviation and aliases (topics.yaml). A text containing
/// one form is indexed as if it contained the others too.
pub struct Abbreviations {
    /// Group → forms → normalized tokens.
    groups: Vec<Vec<Vec<String>>>,
    /// First token of a form → (group, form).
    by_first: FastMap<String, Vec<(usize, usize)>>,
}

impl Abbreviations {
    pub fn new(graph: &SiteGraph) -> Self {
        let v = &graph.validated;
        let mut raw: Vec<Vec<&str>> = v
            .glossary
            .iter()
            .map(|g| vec![g.abbr.as_str(), g.expansion.as_str()])
            .collect();
        for t in v.topics.values() {
            let mut forms = vec![t.name.as_str()];
            forms.extend(t.abbr.as_deref());
            forms.extend(t.aliases.iter().map(String::as_str));
            raw.push(forms);
        }
        Self::from_forms(&raw)
    }

    pub fn from_forms(raw: &[Vec<&str>]) -> Self {
        let mut groups: Vec<Vec<Vec<String>>> = Vec::new();
        for forms in raw {
            let mut g: Vec<Vec<String>> = forms
                .iter()
                .map(|f| super::normalized(f))
                .filter(|t| !t.is_empty())
                .collect();
            g.dedup();
            if g.len() > 1 {
                groups.push(g);
            }
        }
        let mut by_first: FastMap<String, Vec<(usize, usize)>> = FastMap::default();
        for (gi, g) in groups.iter().enumerate() {
            for (fi, f) in g.iter().enumerate() {
                by_first.entry(f[0].clone()).or_default().push((gi, fi));
            }
        }
        Abbreviations { groups, by_first }
    }

    /// Folded forms per group, for the client's highlighting.
    fn folded_groups(&self) -> Vec<Vec<String>> {
        self.groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|f| {
                        f.iter()
                            .map(|t| super::fold(t))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect()
            })
            .collect()
    }
}

/// The index's string-keyed maps: they hash short strings by the million,
/// where SipHash's guarantees buy nothing. Output does not depend on their
/// order (maps are sorted before anything is written).
type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// A multiplicative hash for integer keys (term keys).
#[derive(Default, Clone, Copy)]
pub struct IntHash(u64);

impl std::hash::Hasher for IntHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (x ^ (x >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 ^= self.0 >> 32;
    }
    fn write_u128(&mut self, x: u128) {
        self.write_u64((x as u64) ^ ((x >> 64) as u64).rotate_left(23));
    }
}

type IntMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IntHash>>;

/// [`short_key_of`] a word's text.
#[cfg(test)]
fn short_key(raw: &str) -> Option<u128> {
    short_key_of(raw.as_bytes())
}

/// A word of at most 15 bytes as a number, without copying it: its first
/// eight bytes, then its last seven (which overlap the first eight for a
/// word of under 15 bytes, so together they hold every byte) and its
/// length in the top byte (so "a" and "a\0" differ).
fn short_key_of(b: &[u8]) -> Option<u128> {
    let n = b.len();
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default());
    let (first, last) = match n {
        16.. => return None,
        8.. => (word(0), word(n - 8) >> 8),
        _ => (b.iter().rev().fold(0, |k, &c| k << 8 | u64::from(c)), 0),
    };
    Some(u128::from(first) | u128::from(last | (n as u64) << 56) << 64)
}

/// [`short_key_of`] of `text[start..end]`: a word of under eight bytes
/// with eight bytes of text from its start is read in one load, masked.
#[inline(always)]
fn short_key_at(text: &str, start: usize, end: usize) -> Option<u128> {
    let n = end - start;
    match text.as_bytes().get(start..start + 8) {
        Some(eight) if n < 8 => {
            let first = u64::from_le_bytes(eight.try_into().unwrap_or_default());
            let first = first & ((1u64 << (8 * n)) - 1);
            Some(u128::from(first) | u128::from((n as u64) << 56) << 64)
        }
        _ => short_key_of(&text.as_bytes()[start..end]),
    }
}

/// A word as read: its folded form (id in [`Vocab`]) and term.
#[derive(Clone, Copy)]
struct Word {
    fold: u32,
    /// Dense id of (fold, variant): one per normalized form.
    term: u32,
    /// Whether an abbreviation form starts with it.
    starts_form: bool,
}

/// Words of one chunk of documents, each normalized once: texts repeat
/// their vocabulary, so most tokens are one hash lookup.
#[derive(Default)]
struct Vocab {
    /// Words of up to 15 bytes by [`short_key`] (most syllables: no
    /// string to hash or compare), longer ones by their text.
    by_short: HashMap<u128, u32, std::hash::BuildHasherDefault<IntHash>>,
    by_raw: FastMap<String, u32>,
    words: Vec<Word>,
    folds: Vec<String>,
    fold_ids: FastMap<String, u32>,
    /// Normalized forms; "" when equal to the folded form.
    variants: Vec<String>,
    variant_ids: FastMap<String, u32>,
    /// A reusable buffer of word ids.
    buf: Vec<u32>,
    /// Term key (`fold << 32 | variant`) per dense term id, and back.
    term_keys: Vec<u64>,
    term_ids: IntMap<u32>,
    /// The abbreviation groups' forms as word ids ([`Abbreviations::groups`]
    /// read as text), and by the term of their first word, (group, form):
    /// made at the first text with a word that starts a form.
    forms: Vec<Vec<Vec<u32>>>,
    form_starts: IntMap<Vec<(usize, usize)>>,
    /// Per word id, the last word (folded) seen after it and their pair's
    /// term: most pairs are found again without hashing.
    next_pair: Vec<(u32, u32)>,
    /// The terms of the body lines read in the chunk, by the line's
    /// 128-bit hash (wide enough that two lines sharing one need not be
    /// guarded against): directives repeat whole lines (formulas quoted
    /// from one to the next), and a line read again is not tokenized again.
    lines: HashMap<u128, Vec<u32>, std::hash::BuildHasherDefault<IntHash>>,
}

/// Lines shorter than this are tokenized each time: hashing and looking
/// them up would save little.
const MIN_CACHED_LINE: usize = 48;

fn intern(ids: &mut FastMap<String, u32>, list: &mut Vec<String>, s: String) -> u32 {
    if let Some(&i) = ids.get(&s) {
        return i;
    }
    let i = list.len() as u32;
    list.push(s.clone());
    ids.insert(s, i);
    i
}

impl Vocab {
    fn word(&mut self, raw: &str, abbr: &Abbreviations) -> u32 {
        self.word_at(raw, 0, raw.len(), abbr)
    }

    /// The word `text[start..end]`, the range a token's (so on char
    /// boundaries). A short word, most of them, is looked up by its key
    /// alone: the text is sliced only for a long or a new word.
    #[inline(always)]
    fn word_at(&mut self, text: &str, start: usize, end: usize, abbr: &Abbreviations) -> u32 {
        let short = short_key_at(text, start, end);
        let known = match short {
            Some(k) => self.by_short.get(&k),
            None => self.by_raw.get(&text[start..end]),
        };
        if let Some(&i) = known {
            return i;
        }
        self.new_word(&text[start..end], short, abbr)
    }

    #[inline(never)]
    fn new_word(&mut self, raw: &str, short: Option<u128>, abbr: &Abbreviations) -> u32 {
        let norm = super::normalize_word(raw);
        let fold = super::fold(&norm);
        let starts_form = abbr.by_first.contains_key(&norm);
        let variant = if norm == fold { String::new() } else { norm };
        let fold = intern(&mut self.fold_ids, &mut self.folds, fold);
        let variant = intern(&mut self.variant_ids, &mut self.variants, variant);
        let term = self.term(u64::from(fold) << 32 | u64::from(variant));
        let w = Word {
            fold,
            term,
            starts_form,
        };
        let i = self.words.len() as u32;
        self.words.push(w);
        self.next_pair.push((u32::MAX, 0));
        match short {
            Some(k) => self.by_short.insert(k, i),
            None => self.by_raw.insert(raw.to_string(), i),
        };
        i
    }

    /// The dense id of a term key (a word's or a pair's), given at first
    /// sight.
    fn term(&mut self, key: u64) -> u32 {
        let next = self.term_keys.len() as u32;
        let term = *self.term_ids.entry(key).or_insert(next);
        if term == next {
            self.term_keys.push(key);
        }
        term
    }

    /// The term of the pair of word `a` followed by a word folded `b`.
    fn pair_term(&mut self, a: u32, b: u32) -> u32 {
        let (last, term) = self.next_pair[a as usize];
        if last == b {
            return term;
        }
        let fold = self.words[a as usize].fold;
        let term = self.term(PAIR | u64::from(fold) << 31 | u64::from(b));
        self.next_pair[a as usize] = (b, term);
        term
    }

    /// The forms the words `ids` hold abbreviations or expansions of
    /// stand for, as word ids: for every occurrence of a form (its words'
    /// terms in a row: a term is one normalized form), every other form of
    /// its group.
    fn expansions(&mut self, ids: &[u32], abbr: &Abbreviations) -> Vec<Vec<u32>> {
        if self.forms.is_empty() {
            self.forms = abbr
                .groups
                .iter()
                .map(|g| {
                    g.iter()
                        .map(|f| f.iter().map(|t| self.word(t, abbr)).collect())
                        .collect()
                })
                .collect();
            for (gi, g) in self.forms.iter().enumerate() {
                for (fi, f) in g.iter().enumerate() {
                    let first = self.words[f[0] as usize].term;
                    self.form_starts
                        .entry(u64::from(first))
                        .or_default()
                        .push((gi, fi));
                }
            }
        }
        let term = |i: u32| self.words[i as usize].term;
        let mut out = Vec::new();
        for (i, &id) in ids.iter().enumerate() {
            if !self.words[id as usize].starts_form {
                continue;
            }
            let Some(cands) = self.form_starts.get(&u64::from(term(id))) else {
                continue;
            };
            for &(gi, fi) in cands {
                let form = &self.forms[gi][fi];
                let end = i + form.len();
                if end <= ids.len()
                    && ids[i..end]
                        .iter()
                        .zip(form)
                        .all(|(&a, &b)| term(a) == term(b))
                {
                    for (oi, other) in self.forms[gi].iter().enumerate() {
                        if oi != fi {
                            out.push(other.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// The (key, variant) strings of a term.
    fn key_strings(&self, term: u32) -> (String, String) {
        let key = self.term_keys[term as usize];
        if key & PAIR != 0 {
            let a = ((key >> 31) & 0xffff_ffff) as usize & 0x7fff_ffff;
            let b = (key & 0x7fff_ffff) as usize;
            (
                format!("{} {}", self.folds[a], self.folds[b]),
                String::new(),
            )
        } else {
            (
                self.folds[(key >> 32) as usize].clone(),
                self.variants[(key & 0xffff_ffff) as usize].clone(),
            )
        }
    }
}

/// Bit marking a term key as an adjacent pair.
const PAIR: u64 = 1 << 63;

/// One document's weighted term frequencies, in a dense array by term id
/// (words and pairs alike: no hashing per token but the pair's id).
#[derive(Default)]
struct Acc {
    weights: Vec<f32>,
    touched: Vec<u32>,
}

impl Acc {
    fn add(&mut self, term: u32, w: f32) {
        let t = term as usize;
        if t >= self.weights.len() {
            self.weights.resize(t + 1, 0.0);
        }
        let slot = &mut self.weights[t];
        if *slot == 0.0 {
            self.touched.push(term);
        }
        *slot += w;
    }

    /// Every term id with its weight, emptying the accumulator.
    fn drain(&mut self) -> Vec<(u32, f32)> {
        let weights = &mut self.weights;
        self.touched
            .drain(..)
            .map(|t| (t, std::mem::take(&mut weights[t as usize])))
            .collect()
    }

    /// Caps every weight so far at `max`.
    fn cap(&mut self, max: f32) {
        for &t in &self.touched {
            let w = &mut self.weights[t as usize];
            *w = w.min(max);
        }
    }
}

/// Adds a text's words and adjacent pairs, and (with `expand`) the forms
/// its abbreviations stand for.
fn add_text(
    terms: &mut Acc,
    vocab: &mut Vocab,
    abbr: &Abbreviations,
    text: &str,
    w: f32,
    expand: bool,
) {
    text_terms(vocab, abbr, text, expand, |t| terms.add(t, w));
}

/// [`add_text`] of a body line (expanded), from the terms kept when the
/// line was read before in the chunk. The same terms are added in the same
/// order either way: the index does not change.
fn add_line(terms: &mut Acc, vocab: &mut Vocab, abbr: &Abbreviations, line: &str, w: f32) {
    if line.len() < MIN_CACHED_LINE {
        return add_text(terms, vocab, abbr, line, w, true);
    }
    let key = xxhash_rust::xxh3::xxh3_128(line.as_bytes());
    if let Some(list) = vocab.lines.get(&key) {
        return list.iter().for_each(|&t| terms.add(t, w));
    }
    let mut list = Vec::new();
    text_terms(vocab, abbr, line, true, |t| list.push(t));
    list.iter().for_each(|&t| terms.add(t, w));
    vocab.lines.insert(key, list);
}

/// Gives `add` the terms of a text's words and adjacent pairs, and (with
/// `expand`) of the forms its abbreviations stand for.
fn text_terms(
    vocab: &mut Vocab,
    abbr: &Abbreviations,
    text: &str,
    expand: bool,
    mut add: impl FnMut(u32),
) {
    let mut ids = std::mem::take(&mut vocab.buf);
    ids.clear();
    super::for_each_word(text, |s, e| ids.push(vocab.word_at(text, s, e, abbr)));
    add_ids(vocab, &ids, &mut add);
    if expand && ids.iter().any(|&i| vocab.words[i as usize].starts_form) {
        for form in vocab.expansions(&ids, abbr) {
            add_ids(vocab, &form, &mut add);
        }
    }
    vocab.buf = ids;
}

fn add_ids(vocab: &mut Vocab, ids: &[u32], add: &mut impl FnMut(u32)) {
    let mut prev: Option<u32> = None;
    for &id in ids {
        let word = vocab.words[id as usize];
        add(word.term);
        if let Some(a) = prev {
            add(vocab.pair_term(a, word.fold));
        }
        prev = Some(id);
    }
}

/// What one directive contributes: its terms and its doc-store entries.
fn doc_terms(
    graph: &SiteGraph,
    id: usize,
    texts: &Texts,
    abbr: &Abbreviations,
    vocab: &mut Vocab,
    terms: &mut Acc,
) -> Result<(Vec<(u32, f32)>, Store), String> {
    let d = graph.directive(id);
    let v = &graph.validated;
    // A topic's forms already name each other: no expansion, and each of
    // their words counts once, or a tagged text would outweigh any body.
    for t in &d.topics {
        if let Some(t) = v.topics.get(t) {
            for form in std::iter::once(&t.name)
                .chain(t.abbr.as_ref())
                .chain(t.aliases.iter())
            {
                add_text(terms, vocab, abbr, form, W_TOPIC, false);
            }
        }
    }
    terms.cap(W_TOPIC);
    let mut add = |text: &str, w: f32| add_text(terms, vocab, abbr, text, w, true);
    add(&d.number, W_NUMBER);
    add(&d.subject, W_SUBJECT);
    for m in &d.mentions {
        add(&m.number, W_CITES);
    }
    let kind = v.config.kind(&d.kind).map_or(d.kind.as_str(), |k| &k.name);
    let issuer = v
        .organizations
        .get(&d.issuer)
        .map_or(d.issuer.as_str(), |o| &o.name);
    add(kind, W_BODY);
    add(issuer, W_BODY);
    let sections = texts(id)?;
    for (_, title, text) in &sections {
        add_text(terms, vocab, abbr, title, W_HEADING, true);
        for line in lines(text) {
            add_line(terms, vocab, abbr, line, W_BODY);
        }
    }
    let leads: Vec<(&str, &str, &str)> = sections
        .iter()
        .map(|(a, t, x)| (a.as_str(), t.as_str(), lead(x)))
        .collect();
    let cut = leads
        .iter()
        .zip(&sections)
        .any(|(l, s)| l.2.len() < s.2.len());
    let full = cut.then(|| {
        let rests = sections.iter().zip(&leads).map(|(s, l)| &s.2[l.2.len()..]);
        rest_text(rests).into_bytes()
    });
    let url = d.url();
    let date = dates::short(d.date);
    let entry = DocEntry {
        u: &url,
        n: &d.number,
        d: &date,
        s: &d.subject,
        k: kind,
        i: issuer,
        x: leads,
        f: cut.then_some(1),
    };
    let lead_json = serde_json::to_vec(&entry).unwrap_or_default();
    Ok((
        terms.drain(),
        Store {
            lead: lead_json,
            full,
        },
    ))
}

/// `text.split('\n')`, the line ends found with SIMD.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .chain([text.len()])
        .map(move |end| {
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

/// Between the rests of two sections in a rest member: the client splits
/// on it, so a text holding it has it replaced by a space.
const REST_SEPARATOR: char = '\u{1f}';

/// The rest member's text: the rest of each section after its lead,
/// joined by [`REST_SEPARATOR`] (plain text: no JSON to escape).
fn rest_text<'a>(rests: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, rest) in rests.enumerate() {
        if i > 0 {
            out.push(REST_SEPARATOR);
        }
        if rest.contains(REST_SEPARATOR) {
            out.push_str(&rest.replace(REST_SEPARATOR, " "));
        } else {
            out.push_str(rest);
        }
    }
    out
}

/// A summary member: address, number, date, subject, kind, issuer,
/// sections as (anchor, title, lead), and `f: 1` when a rest member holds
/// more.
#[derive(serde::Serialize)]
struct DocEntry<'a> {
    u: &'a str,
    n: &'a str,
    d: &'a str,
    s: &'a str,
    k: &'a str,
    i: &'a str,
    x: Vec<(&'a str, &'a str, &'a str)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    f: Option<u8>,
}

/// A directive's doc-store entries: the summary (JSON) with each section's
/// lead, and, when a lead was cut, the rest of each section (text, see
/// [`REST_SEPARATOR`]), fetched only when the leads do not show every word
/// of the query.
struct Store {
    lead: Vec<u8>,
    full: Option<Vec<u8>>,
}

/// A doc-store member: an LZ4 block after its length (u32, little-endian).
/// LZ4 compresses in a third of the time gzip takes (the doc store is the
/// whole corpus's text: 0.39 → 0.2 s of CPU at 10k directives), for some
/// 40% more bytes on the few members a query reads (its worst two-word
/// query of the 10k benchmark: 82.7 → 88.7 KB, of at most 100).
fn store_member(bytes: &[u8]) -> Vec<u8> {
    lz4_flex::block::compress_prepend_size(bytes)
}

/// The document ranges of the index's chunks, in order: [`CHUNK`]
/// documents each, then, as the end nears, each a share of what is left
/// (at least [`MIN_CHUNK`]), so that the last chunks, each one thread's
/// alone, are short. Every range but the last is whole doc-store blocks.
/// The index does not depend on where chunks start.
fn chunk_ranges(docs: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < docs {
        let share = (docs - start) / (2 * threads.max(1)) / BLOCK * BLOCK;
        let end = (start + share.clamp(MIN_CHUNK, CHUNK)).min(docs);
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// The smallest chunk but the last: a chunk builds its own vocabulary.
const MIN_CHUNK: usize = 4 * BLOCK;

/// Documents per doc-store block file (`b/`); divides every chunk's size
/// but the last's ([`chunk_ranges`]), so a chunk writes whole blocks.
const BLOCK: usize = 32;
const _: () = assert!(CHUNK % BLOCK == 0);

/// A doc-store block: a header of little-endian u32 offsets in the file,
/// for each document the start of its summary and the start of its rest
/// (equal to the next start when it has none), then the end; then the
/// members (each a [`store_member`]). The client reads the
/// header, then one member, with HTTP range requests: one file per 32
/// documents instead of two per document.
fn block_file(stores: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<u8> {
    let head = (2 * stores.len() + 1) * 4;
    let body: usize = stores
        .iter()
        .map(|(d, t)| d.len() + t.as_ref().map_or(0, Vec::len))
        .sum();
    let mut out = Vec::with_capacity(head + body);
    let mut at = head as u32;
    for (d, t) in stores {
        out.extend_from_slice(&at.to_le_bytes());
        at += d.len() as u32;
        out.extend_from_slice(&at.to_le_bytes());
        at += t.as_ref().map_or(0, Vec::len) as u32;
    }
    out.extend_from_slice(&at.to_le_bytes());
    for (d, t) in stores {
        out.extend_from_slice(d);
        out.extend_from_slice(t.as_deref().unwrap_or_default());
    }
    out
}

/// Characters of a section kept in its lead.
const LEAD: usize = 200;

/// The first [`LEAD`] characters of `text`, cut after a word.
fn lead(text: &str) -> &str {
    match text.char_indices().nth(LEAD) {
        None => text,
        Some((i, _)) => {
            let end = text[i..]
                .char_indices()
                .find(|&(_, c)| !super::is_token_char(c))
                .map_or(text.len(), |(j, _)| i + j);
            &text[..end]
        }
    }
}

/// Postings of one key: (variant, [(document, score)]), variants sorted,
/// documents ascending.
type Postings<'a> = [(&'a str, Vec<(u32, u8)>)];

/// A posting in two bytes: its document's place in its chunk `<< 6 |
/// score` (a chunk has at most 1,024 documents, a score is at most 35). The whole corpus's postings
/// are held until every chunk is done: at 100k directives, some 150
/// million of them.
fn pack(offset: usize, score: u8) -> u16 {
    (offset as u16) << 6 | u16::from(score)
}

fn unpack(base: u32, p: u16) -> (u32, u8) {
    (base + u32::from(p >> 6), (p & 0x3f) as u8)
}
const _: () = assert!(CHUNK <= 1024 && MAX_SCORE < 64.0);

/// One chunk's postings for one key partition, compact: key and variant
/// strings in one buffer, postings packed ([`pack`]) in one array, items
/// sorted by (key, variant). Many small maps per key held the whole
/// corpus's postings several times over.
#[derive(Default)]
struct ChunkPart {
    text: String,
    /// Key start, key end (= variant start), variant end, postings start
    /// and end.
    items: Vec<[u32; 5]>,
    posts: Vec<u16>,
    /// The chunk's first document.
    base: u32,
}

impl ChunkPart {
    fn push(&mut self, key: &str, variant: &str, list: &[u16]) {
        let ks = self.text.len() as u32;
        self.text.push_str(key);
        let ke = self.text.len() as u32;
        self.text.push_str(variant);
        let ve = self.text.len() as u32;
        let ps = self.posts.len() as u32;
        self.posts.extend_from_slice(list);
        self.items.push([ks, ke, ve, ps, self.posts.len() as u32]);
    }

    fn key(&self, it: &[u32; 5]) -> &str {
        &self.text[it[0] as usize..it[1] as usize]
    }

    fn variant(&self, it: &[u32; 5]) -> &str {
        &self.text[it[1] as usize..it[2] as usize]
    }

    fn list(&self, it: &[u32; 5]) -> &[u16] {
        &self.posts[it[3] as usize..it[4] as usize]
    }

    fn sort(&mut self) {
        let mut items = std::mem::take(&mut self.items);
        items.sort_unstable_by(|a, b| {
            self.key(a)
                .cmp(self.key(b))
                .then_with(|| self.variant(a).cmp(self.variant(b)))
        });
        items.shrink_to_fit();
        self.items = items;
        self.text.shrink_to_fit();
        self.posts.shrink_to_fit();
    }
}

/// An encoded postings list: text in its shard's line, or, over
/// [`OWN_POSTINGS`] postings, bits of its own ([`rice_list`]; these lists
/// are most of the index's bytes).
enum List {
    Inline(String),
    Own(Vec<u8>),
}

/// A key with its variants' encoded lists.
type EncodedKey = (String, Vec<(String, List)>);

/// Merges one partition's chunks (in document order) and encodes its keys:
/// (key, [(variant, list)]) in key order.
fn merge_part(parts: &[ChunkPart], docs: usize) -> Vec<EncodedKey> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let head = |c: usize, i: usize| {
        parts[c]
            .items
            .get(i)
            .map(|it| Reverse((parts[c].key(it), parts[c].variant(it), c, i)))
    };
    // Equal (key, variant) pop in chunk order: lists stay sorted.
    let mut heap: BinaryHeap<_> = (0..parts.len()).filter_map(|c| head(c, 0)).collect();
    let mut out = Vec::new();
    let mut key: Option<&str> = None;
    let mut variants: Vec<(&str, Vec<(u32, u8)>)> = Vec::new();
    while let Some(Reverse((k, v, c, i))) = heap.pop() {
        if key != Some(k) {
            if let Some(prev) = key {
                out.push((prev.to_string(), encode_postings(&variants, docs)));
                variants.clear();
            }
            key = Some(k);
        }
        let base = parts[c].base;
        let list = parts[c]
            .list(&parts[c].items[i])
            .iter()
            .map(|&p| unpack(base, p));
        match variants.last_mut() {
            Some((lv, l)) if *lv == v => l.extend(list),
            _ => variants.push((v, list.collect())),
        }
        heap.extend(head(c, i + 1));
    }
    if let Some(prev) = key {
        out.push((prev.to_string(), encode_postings(&variants, docs)));
    }
    out
}

/// The quantized BM25F score of a weighted term frequency.
pub fn score(wtf: f32, len: usize, avg_len: f32) -> u8 {
    let norm = 1.0 - B + B * (len as f32) / avg_len.max(1.0);
    let s = wtf * (K1 + 1.0) / (wtf + K1 * norm) / (K1 + 1.0);
    // `(s * MAX_SCORE).round()` for the non-negative values met here,
    // exactly (doubling is exact, truncation is floor), without the call
    // to libm's roundf (1% of the build's samples).
    let half_steps = (s * MAX_SCORE * 2.0) as u32;
    half_steps.div_ceil(2).clamp(1, MAX_SCORE as u32) as u8
}

/// The digits of base 36, as the client reads them.
const B36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn b36(mut n: u32, out: &mut String) {
    let mut buf = [0u8; 8];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = B36[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| b as char));
}

/// A postings list without separators: per document its difference from
/// the previous one, the digits before the last in base 26 (`A`-`Z`), the
/// last in base 36 (`0`-`9a-z`), then its score (one base-36 digit). Every
/// posting so ends with two lowercase-or-digit chars: the client reads
/// the list without splitting it, and a third of the text (the commas)
/// is gone before gzip.
fn encode_list(list: &[(u32, u8)], out: &mut String) {
    encode_list_with(list, |s| s, out);
}

/// [`encode_list`], each score mapped by `score`.
fn encode_list_with(list: &[(u32, u8)], score: impl Fn(u8) -> u8, out: &mut String) {
    let mut bytes = Vec::with_capacity(list.len() * 3);
    let mut prev = 0u32;
    for &(doc, s) in list {
        let delta = doc - prev;
        let high = delta / 36;
        if high > 0 {
            let mut digits = [0u8; 8];
            let mut i = digits.len();
            let mut h = high;
            while h > 0 {
                i -= 1;
                digits[i] = b'A' + (h % 26) as u8;
                h /= 26;
            }
            bytes.extend_from_slice(&digits[i..]);
        }
        bytes.push(B36[(delta % 36) as usize]);
        bytes.push(B36[usize::from(score(s))]);
        prev = doc;
    }
    // Only ASCII digits and letters were written.
    out.push_str(std::str::from_utf8(&bytes).unwrap_or_default());
}

/// The lists of a key's line: one per variant, and for a word with several
/// variants their union `*` (best score per document), which is all a
/// query without diacritics needs ("doi" is đổi, đối, đội, đời...). Keys in
/// many documents weigh little (low idf) and are the bulk of a query's
/// download: their scores keep 7 levels instead of 35, which gzip packs in
/// a third of the bytes.
fn encode_postings(p: &Postings, docs: usize) -> Vec<(String, List)> {
    let union: Option<Vec<(u32, u8)>> = (p.len() > 1).then(|| {
        p[1..]
            .iter()
            .fold(p[0].1.clone(), |all, (_, l)| union_of(&all, l))
    });
    let df = union
        .as_ref()
        .map_or_else(|| p.iter().map(|(_, l)| l.len()).sum(), Vec::len);
    let coarse = df >= COARSE_MIN && df * COMMON > docs;
    let encode = |list: &[(u32, u8)]| {
        if list.len() > OWN_POSTINGS {
            return List::Own(rice_list(list, coarse));
        }
        let mut out = String::new();
        if coarse {
            encode_list_with(list, coarsen, &mut out);
        } else {
            encode_list(list, &mut out);
        }
        List::Inline(out)
    };
    let mut out: Vec<(String, List)> = Vec::with_capacity(p.len() + 1);
    if let Some(u) = &union {
        out.push(("*".to_string(), encode(u)));
    }
    out.extend(p.iter().map(|(v, list)| (v.to_string(), encode(list))));
    out
}

/// A long postings list as bits, which need no gzip (in about the build
/// time gzip of their text took, and 28% fewer bytes): a header of bytes `k`,
/// `ks`, `m`, the `m` scores the list has from the most frequent to the
/// least (ties: lower first), and the number of postings (LEB128); then
/// per posting, most significant bit first, the gap from the previous
/// document less one (the first: its number) as [`rice`] of parameter
/// `k`, and the rank of its score in the header as [`rice`] of parameter
/// `ks`; zero bits to the byte's end. Each parameter is the cheapest near
/// log2 of its mean.
fn rice_list(list: &[(u32, u8)], coarse: bool) -> Vec<u8> {
    // A score's slot in the tables below (scores are 1 to 35).
    let slot = |s: u8| usize::from(if coarse { coarsen(s) } else { s } & 63);
    let mut counts = [0usize; 64];
    let mut prev = -1i64;
    let mut gaps = Vec::with_capacity(list.len());
    for &(doc, s) in list {
        gaps.push((i64::from(doc) - prev - 1) as u32);
        prev = i64::from(doc);
        counts[slot(s)] += 1;
    }
    let mut table: Vec<u8> = (0..64u8).filter(|&s| counts[usize::from(s)] > 0).collect();
    table.sort_by_key(|&s| std::cmp::Reverse(counts[usize::from(s)]));
    let mut rank = [0u32; 64];
    for (r, &s) in table.iter().enumerate() {
        rank[usize::from(s)] = r as u32;
    }
    // The ranks' parameter from their counts: at most 64 values, where the
    // list has thousands.
    let rank_counts = table
        .iter()
        .enumerate()
        .map(|(r, &s)| (r as u32, counts[usize::from(s)]));
    let (k, ks) = (
        rice_parameter(gaps.iter().map(|&g| (g, 1))),
        rice_parameter(rank_counts),
    );
    let mut bits = BitWriter::default();
    bits.out.reserve(list.len() / 2 + 16);
    bits.out
        .extend_from_slice(&[k as u8, ks as u8, table.len() as u8]);
    bits.out.extend_from_slice(&table);
    let mut n = list.len();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            bits.out.push(byte);
            break;
        }
        bits.out.push(byte | 0x80);
    }
    for (&gap, &(_, s)) in gaps.iter().zip(list) {
        rice(&mut bits, gap, k);
        rice(&mut bits, rank[slot(s)], ks);
    }
    bits.finish()
}

/// The Rice parameter that codes `values` (each value with the number of
/// times it comes) in the fewest bits, among the five nearest log2 of
/// their mean.
fn rice_parameter(values: impl Iterator<Item = (u32, usize)> + Clone) -> u32 {
    let (total, n) = values.clone().fold((0u64, 0u64), |(t, n), (v, c)| {
        (t + u64::from(v) * c as u64, n + c as u64)
    });
    let mean = total / n.max(1);
    let first = (63 - mean.max(1).leading_zeros()).saturating_sub(2).min(27);
    // The unary parts of the five candidates, summed in one pass.
    let mut high = [0u64; 5];
    for (v, c) in values {
        for (i, h) in high.iter_mut().enumerate() {
            *h += u64::from(v >> (first + i as u32)) * c as u64;
        }
    }
    (0..5u32)
        .map(|i| (high[i as usize] + n * u64::from(1 + first + i), first + i))
        .min()
        .map_or(0, |(_, k)| k)
}

/// `value` in a Rice code of parameter `k`: its high bits in unary (ones
/// ended by a zero), then its `k` low bits.
#[inline(always)]
fn rice(bits: &mut BitWriter, value: u32, k: u32) {
    let high = value >> k;
    let low = u64::from(value) & ((1 << k) - 1);
    if high + 1 + k <= 32 {
        // The usual case, in one write.
        bits.put(((1 << high) - 1) << (1 + k) | low, high + 1 + k);
        return;
    }
    for _ in 0..high / 32 {
        bits.put(u64::from(u32::MAX), 32);
    }
    bits.put((1 << (high % 32)) - 1, high % 32);
    bits.put(0, 1);
    bits.put(low, k);
}

/// Bits appended most significant first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    /// The last `len` bits written, not yet in `out`.
    acc: u64,
    len: u32,
}

impl BitWriter {
    /// `value`, of at most `n` bits, `n` at most 32.
    #[inline(always)]
    fn put(&mut self, value: u64, n: u32) {
        if self.len + n > 64 {
            self.len -= 32;
            let word = (self.acc >> self.len) as u32;
            self.out.extend_from_slice(&word.to_be_bytes());
            self.acc &= (1 << self.len) - 1;
        }
        self.acc = self.acc << n | value;
        self.len += n;
    }

    fn finish(mut self) -> Vec<u8> {
        while self.len >= 8 {
            self.len -= 8;
            self.out.push((self.acc >> self.len) as u8);
        }
        if self.len > 0 {
            self.out.push((self.acc << (8 - self.len)) as u8);
        }
        self.out
    }
}

/// Two lists sorted by document merged, a document in both keeping its
/// higher score.
fn union_of(a: &[(u32, u8)], b: &[(u32, u8)]) -> Vec<(u32, u8)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        match x.0.cmp(&y.0) {
            std::cmp::Ordering::Less => {
                out.push(x);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(y);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((x.0, x.1.max(y.1)));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// A key is common when it is in more than 1/COMMON of the documents.
const COMMON: usize = 16;
/// Short lists keep their full scores whatever the corpus size.
const COARSE_MIN: usize = 500;

fn coarsen(s: u8) -> u8 {
    (s.div_ceil(5) * 5).min(35)
}

/// A document's length for BM25, in bytes (see [`Directive::body_bytes`]).
fn doc_len(d: &Directive) -> usize {
    d.subject.len() + d.body_bytes as usize
}

/// Where the index gets a directive's text by section, by id: parsed from
/// its body ([`parsed_texts`]), or handed over by the renderer, which read
/// it while writing the directive's page (one Markdown parse for both).
pub type Texts<'a> = dyn Fn(usize) -> Result<Vec<SectionText>, String> + Sync + 'a;

/// The text by section of each directive, parsed from its body.
pub fn parsed_texts(
    graph: &SiteGraph,
) -> impl Fn(usize) -> Result<Vec<SectionText>, String> + Sync + '_ {
    |id| {
        let d = graph.directive(id);
        Ok(sections_text(&d.sections, &d.body_text()?))
    }
}

/// Every file of the search index, sorted by path.
pub fn build(graph: &SiteGraph) -> Vec<Page> {
    let blocks = std::sync::Mutex::new(Vec::new());
    let (mut pages, _) = build_streaming(graph, &parsed_texts(graph), &|page| {
        blocks.lock().map_err(|e| e.to_string())?.push(page);
        Ok(())
    })
    .unwrap_or_default();
    pages.extend(blocks.into_inner().unwrap_or_default());
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    pages
}

/// [`build`], handing each doc-store block (`search/b/`) to `emit` as soon
/// as it is made, so that they are not all held at once (380 MB at 100k
/// directives); returns the other files, sorted by path, and how many
/// blocks it emitted. The `search/b` folder must exist for `emit`. Asks
/// `texts` for each directive's text once, in chunks of [`CHUNK`]
/// directives in site order.
pub fn build_streaming(
    graph: &SiteGraph,
    texts: &Texts,
    emit: &(dyn Fn(Page) -> Result<(), String> + Sync),
) -> Result<(Vec<Page>, usize), String> {
    let t0 = std::time::Instant::now();
    let trace = std::env::var_os("BANHANH_TRACE_SEARCH").is_some();
    let lap = |what: &str| {
        if trace {
            eprintln!(
                "search index: {what} at {:.2} s",
                t0.elapsed().as_secs_f64()
            );
        }
    };
    let abbr = Abbreviations::new(graph);
    let n = graph.order.len();
    let lens: Vec<usize> = graph
        .order
        .iter()
        .map(|&id| doc_len(graph.directive(id)))
        .collect();
    let avg_len = lens.iter().sum::<usize>() as f32 / n.max(1) as f32;

    // Per chunk of documents: its postings, split in PARTS by key hash so
    // that chunks merge in parallel; its doc-store blocks go to `emit`.
    let failed: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    // The first error of any chunk is the build's.
    let fail = |e: String| {
        if let Ok(mut first) = failed.lock() {
            first.get_or_insert(e);
        }
    };
    let index_chunk = |range: std::ops::Range<usize>| {
        let start = range.start;
        let ids = &graph.order[range];
        let mut vocab = Vocab::default();
        let mut acc = Acc::default();
        // Postings by dense term id.
        let mut by_term: Vec<Vec<u16>> = Vec::new();
        let mut stores = Vec::with_capacity(ids.len());
        for (j, &id) in ids.iter().enumerate() {
            let doc = start + j;
            let (terms, store) = match doc_terms(graph, id, texts, &abbr, &mut vocab, &mut acc) {
                Ok(done) => done,
                Err(e) => {
                    fail(e);
                    continue;
                }
            };
            for (term, wtf) in terms {
                let t = term as usize;
                if t >= by_term.len() {
                    by_term.resize_with(vocab.term_keys.len(), Vec::new);
                }
                by_term[t].push(pack(j, score(wtf, lens[doc], avg_len)));
            }
            stores.push((
                store_member(&store.lead),
                store.full.as_deref().map(store_member),
            ));
        }
        let mut parts: Vec<ChunkPart> = (0..PARTS)
            .map(|_| ChunkPart {
                base: start as u32,
                ..ChunkPart::default()
            })
            .collect();
        for (term, mut list) in by_term.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            list.sort_unstable();
            let (k, variant) = vocab.key_strings(term as u32);
            parts[fnv1a(&k) as usize % PARTS].push(&k, &variant, &list);
        }
        for p in &mut parts {
            p.sort();
        }
        for (i, block) in stores.chunks(BLOCK).enumerate() {
            let page = Page {
                path: format!("search/b/{:x}.bin", start / BLOCK + i),
                bytes: block_file(block),
            };
            if let Err(e) = emit(page) {
                fail(e);
            }
        }
        parts
    };
    // Chunks are handed out in document order to whichever thread is free,
    // the last ones smaller and smaller (see `chunk_ranges`): a chunk is
    // one thread's, so a big one last would leave the other cores idle.
    let threads = rayon::current_num_threads();
    let ranges = chunk_ranges(n, threads);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<ChunkPart>)> = (0..threads)
        .into_par_iter()
        .flat_map_iter(|_| {
            std::iter::from_fn(|| {
                let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                ranges.get(c).map(|r| (c, index_chunk(r.clone())))
            })
        })
        .collect();
    done.sort_unstable_by_key(|(c, _)| *c);
    let chunks = done.into_iter().map(|(_, parts)| parts);
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    lap("terms");
    let mut by_part: Vec<Vec<ChunkPart>> = (0..PARTS).map(|_| Vec::new()).collect();
    for parts in chunks {
        for (i, part) in parts.into_iter().enumerate() {
            by_part[i].push(part);
        }
    }
    // Each part merged and encoded at once, its chunks' postings dropped as
    // soon as its lines are written. Chunks are in document order, so
    // appending keeps every list sorted. The facets, which need only the
    // graph, are made meanwhile (0.2 s at 100k directives, when rendering
    // is over and nothing else would use the other core).
    let (mut encoded, facets_file): (Vec<EncodedKey>, _) = rayon::join(
        || {
            by_part
                .into_par_iter()
                .flat_map_iter(|chunk_parts| merge_part(&chunk_parts, n))
                .collect()
        },
        || facets(graph),
    );
    encoded.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    lap("merged and encoded");

    // The line's bytes but for the pack offsets of long lists (a few each).
    let text_bytes: usize = encoded
        .iter()
        .map(|(key, lists)| {
            let lists: usize = lists
                .iter()
                .map(|(variant, list)| match list {
                    List::Own(_) => variant.len() + 16,
                    List::Inline(list) => variant.len() + list.len() + 2,
                })
                .sum();
            key.len() + lists + 1
        })
        .sum();
    let shards = (encoded.len() / KEYS_PER_SHARD)
        .max(text_bytes / SHARD_BYTES)
        .clamp(1, 4096)
        .next_power_of_two() as u32;
    let mut shard_text: Vec<String> = vec![String::new(); shards as usize];
    let mut packs: Vec<Vec<u8>> = vec![Vec::new(); PACKS];
    for (key, lists) in encoded {
        let shard = (fnv1a(&key) % shards) as usize;
        let line = &mut shard_text[shard];
        line.push_str(&key);
        for (variant, list) in lists {
            line.push('\t');
            line.push_str(&variant);
            line.push('\t');
            match list {
                List::Own(bytes) => {
                    let p = shard % PACKS;
                    let _ = write!(line, "@{p:x}.{:x}.{:x}", packs[p].len(), bytes.len());
                    packs[p].extend_from_slice(&bytes);
                }
                List::Inline(list) => line.push_str(&list),
            }
        }
        line.push('\n');
    }
    let own: Vec<Page> = packs
        .into_iter()
        .enumerate()
        .filter(|(_, bytes)| !bytes.is_empty())
        .map(|(i, bytes)| Page {
            path: format!("search/k/{i:x}.bin"),
            bytes,
        })
        .collect();

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    files.extend(
        shard_text
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("search/s/{i:x}.gz"), t.into_bytes())),
    );
    files.push(("search/meta.gz".into(), meta(graph, shards, &abbr)));
    files.push(("search/facets.gz".into(), facets_file));
    let mut pages: Vec<Page> = files
        .into_par_iter()
        .map(|(path, bytes)| Page {
            path,
            bytes: gzip(&bytes),
        })
        .collect();
    lap("compressed");
    pages.extend(own);
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((pages, n.div_ceil(BLOCK)))
}

/// A facet value: (display name, slug, documents).
type FacetValue = (String, String, Vec<u32>);

/// Facet values in display order with their documents.
fn facet_values(graph: &SiteGraph) -> BTreeMap<&'static str, Vec<FacetValue>> {
    let v = &graph.validated;
    let mut docs: BTreeMap<&'static str, BTreeMap<String, Vec<u32>>> = BTreeMap::new();
    for (i, &id) in graph.order.iter().enumerate() {
        let d = graph.directive(id);
        let i = i as u32;
        docs.entry("kind")
            .or_default()
            .entry(d.kind.clone())
            .or_default()
            .push(i);
        docs.entry("issuer")
            .or_default()
            .entry(d.issuer.clone())
            .or_default()
            .push(i);
        let mut recipients: Vec<&String> = d
            .recipients
            .iter()
            .chain(
                d.sections
                    .iter()
                    .flat_map(|s| s.recipients.iter().map(|r| &r.0)),
            )
            .collect();
        recipients.sort();
        recipients.dedup();
        for r in recipients {
            docs.entry("recipient")
                .or_default()
                .entry(r.clone())
                .or_default()
                .push(i);
        }
        for t in &d.topics {
            docs.entry("topic")
                .or_default()
                .entry(t.clone())
                .or_default()
                .push(i);
        }
    }
    let name = |dim: &str, slug: &str| -> String {
        match dim {
            "kind" => v.config.kind(slug).map_or(slug, |k| &k.name).to_string(),
            "topic" => v.topics.get(slug).map_or(slug, |t| &t.name).to_string(),
            _ => v
                .organizations
                .get(slug)
                .map_or(slug, |o| &o.name)
                .to_string(),
        }
    };
    docs.into_iter()
        .map(|(dim, values)| {
            let mut list: Vec<FacetValue> = values
                .into_iter()
                .map(|(slug, ids)| (name(dim, &slug), slug, ids))
                .collect();
            list.sort_by(|a, b| {
                b.2.len()
                    .cmp(&a.2.len())
                    .then_with(|| crate::text::fold(&a.0).cmp(&crate::text::fold(&b.0)))
                    .then_with(|| a.1.cmp(&b.1))
            });
            (dim, list)
        })
        .collect()
}

fn meta(graph: &SiteGraph, shards: u32, abbr: &Abbreviations) -> Vec<u8> {
    let mut years: Vec<(i32, usize, usize)> = Vec::new();
    for (i, &id) in graph.order.iter().enumerate() {
        let y = graph.directive(id).year();
        match years.last_mut() {
            Some((ly, _, end)) if *ly == y => *end = i + 1,
            _ => years.push((y, i, i + 1)),
        }
    }
    serde_json::to_vec(&json!({
        "v": 1,
        "n": graph.order.len(),
        "shards": shards,
        "block": BLOCK,
        "years": years.iter().map(|(y, s, e)| json!([y, s, e])).collect::<Vec<_>>(),
        "groups": abbr.folded_groups(),
    }))
    .unwrap_or_default()
}

/// `facets.gz`, read only when a filter is used: per dimension its values
/// `[slug, name, count]` in display order, and each value's documents.
fn facets(graph: &SiteGraph) -> Vec<u8> {
    let all = facet_values(graph);
    let values: BTreeMap<&str, Vec<Value>> = all
        .iter()
        .map(|(dim, list)| {
            let list = list
                .iter()
                .map(|(name, slug, ids)| json!([slug, name, ids.len()]))
                .collect();
            (*dim, list)
        })
        .collect();
    let docs: BTreeMap<&str, BTreeMap<String, String>> = all
        .into_iter()
        .map(|(dim, list)| {
            let values = list
                .into_iter()
                .map(|(_, slug, ids)| {
                    let mut s = String::new();
                    let mut prev = 0;
                    for (i, id) in ids.iter().enumerate() {
                        if i > 0 {
                            s.push(',');
                        }
                        b36(id - prev, &mut s);
                        prev = *id;
                    }
                    (slug, s)
                })
                .collect();
            (dim, values)
        })
        .collect();
    serde_json::to_vec(&json!({ "values": values, "docs": docs })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The forms the index adds for `text`, as normalized words.
    fn expansions(abbr: &Abbreviations, text: &str) -> Vec<Vec<String>> {
        let mut vocab = Vocab::default();
        let mut ids = Vec::new();
        crate::search::for_each_word(text, |s, e| ids.push(vocab.word_at(text, s, e, abbr)));
        let forms = vocab.expansions(&ids, abbr);
        let norm = |w: u32| {
            let (fold, variant) = vocab.key_strings(vocab.words[w as usize].term);
            if variant.is_empty() { fold } else { variant }
        };
        forms
            .into_iter()
            .map(|form| form.into_iter().map(norm).collect())
            .collect()
    }

    #[test]
    fn a_repeated_line_adds_what_it_added_when_first_read() {
        let abbr =
            Abbreviations::from_forms(&[vec!["PCTNTC", "phòng, chống tham nhũng, tiêu cực"]]);
        let line = "Đẩy mạnh PCTNTC, xây dựng văn hóa liêm chính, không tham nhũng trong cán bộ";
        assert!(line.len() >= MIN_CACHED_LINE);
        let mut vocab = Vocab::default();
        let mut fresh = Acc::default();
        add_text(&mut fresh, &mut vocab, &abbr, line, 1.0, true);
        let expected = fresh.drain();
        // Once (its terms kept), then twice from them.
        for _ in 0..3 {
            let mut acc = Acc::default();
            add_line(&mut acc, &mut vocab, &abbr, line, 1.0);
            assert_eq!(acc.drain(), expected);
        }
        assert!(vocab.lines.values().next().is_some_and(|t| !t.is_empty()));
    }

    #[test]
    fn abbreviations_expand_both_ways() {
        let a = Abbreviations::from_forms(&[
            vec!["PCTNTC", "phòng, chống tham nhũng, tiêu cực"],
            vec!["Đại hội XIV", "Đại hội đại biểu toàn quốc lần thứ XIV"],
        ]);
        let e = expansions(&a, "công tác PCTNTC năm 2024");
        assert_eq!(e, [&["phòng", "chống", "tham", "nhũng", "tiêu", "cực"][..]]);
        let e = expansions(&a, "về phòng chống tham nhũng, tiêu cực");
        assert_eq!(e, [&["pctntc"][..]]);
        let e = expansions(
            &a,
            "tiến tới Đại hội đại biểu toàn quốc lần thứ XIV của Đảng",
        );
        assert_eq!(e, [&["đại", "hội", "xiv"][..]]);
        assert!(expansions(&a, "Đại hội XIII").is_empty());
    }

    #[test]
    fn pairs_of_adjacent_tokens_are_keys() {
        let mut terms = Acc::default();
        let mut vocab = Vocab::default();
        let none = Abbreviations::from_forms(&[]);
        add_text(
            &mut terms,
            &mut vocab,
            &none,
            "Tham nhũng, tham mưu",
            1.0,
            true,
        );
        let named: HashMap<(String, String), f32> = terms
            .drain()
            .into_iter()
            .map(|(t, w)| (vocab.key_strings(t), w))
            .collect();
        let mut keys: Vec<_> = named.keys().cloned().collect();
        keys.sort();
        let k = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            keys,
            [
                k("muu", "mưu"),
                k("nhung", "nhũng"),
                k("nhung tham", ""),
                k("tham", ""),
                k("tham muu", ""),
                k("tham nhung", ""),
            ]
        );
        assert_eq!(named[&k("tham", "")], 2.0);
    }

    #[test]
    fn a_word_followed_by_different_words_counts_each_pair() {
        let mut terms = Acc::default();
        let mut vocab = Vocab::default();
        let none = Abbreviations::from_forms(&[]);
        let text = "tham nhũng tham mưu tham nhũng";
        add_text(&mut terms, &mut vocab, &none, text, 1.0, true);
        let pairs: HashMap<String, f32> = terms
            .drain()
            .into_iter()
            .map(|(t, w)| (vocab.key_strings(t).0, w))
            .filter(|(k, _)| k.contains(' '))
            .collect();
        let want = [
            ("tham nhung", 2.0),
            ("nhung tham", 1.0),
            ("tham muu", 1.0),
            ("muu tham", 1.0),
        ];
        assert_eq!(pairs, want.map(|(k, w)| (k.to_string(), w)).into());
    }

    #[test]
    fn a_word_first_seen_unexpanded_still_expands_later() {
        let abbr = Abbreviations::from_forms(&[vec!["PCTNTC", "phòng, chống tham nhũng"]]);
        let mut vocab = Vocab::default();
        let mut terms = Acc::default();
        add_text(&mut terms, &mut vocab, &abbr, "PCTNTC", 4.0, false);
        assert_eq!(terms.touched.len(), 1);
        add_text(&mut terms, &mut vocab, &abbr, "về PCTNTC", 1.0, true);
        let keys: Vec<(String, String)> = terms
            .drain()
            .into_iter()
            .map(|(t, _)| vocab.key_strings(t))
            .collect();
        assert!(
            keys.contains(&("tham nhung".into(), String::new())),
            "{keys:?}"
        );
    }

    #[test]
    fn chunks_cover_the_documents_in_whole_blocks_and_shrink_at_the_end() {
        for threads in [1, 2, 3, 8] {
            for docs in [0, 1, 31, 32, 1000, 1025, 10_000, 100_003] {
                let ranges = chunk_ranges(docs, threads);
                let mut at = 0;
                for (i, r) in ranges.iter().enumerate() {
                    assert_eq!(r.start, at, "{docs} docs, {threads} threads");
                    assert!(r.start % BLOCK == 0 && !r.is_empty() && r.len() <= CHUNK);
                    let last = i + 1 == ranges.len();
                    assert!(last || r.len() >= MIN_CHUNK);
                    if let Some(next) = ranges.get(i + 1) {
                        assert!(next.len() <= r.len(), "sizes never grow: {ranges:?}");
                    }
                    at = r.end;
                }
                assert_eq!(at, docs);
            }
        }
        // The end of a big corpus: no chunk there that keeps one thread
        // busy long after the others.
        let ranges = chunk_ranges(10_000, 2);
        assert_eq!(ranges[0].len(), CHUNK);
        assert!(ranges.iter().rev().take(4).all(|r| r.len() <= MIN_CHUNK));
    }

    #[test]
    fn scores_round_half_away_from_zero_as_f32_round_does() {
        // Every weighted frequency in steps of 1/64 up to 100, and lengths
        // around the mean: the same scores as the libm rounding.
        for wtf in (0..6400).map(|i| i as f32 / 64.0) {
            for (len, avg) in [(1, 1000.0), (800, 1000.0), (1000, 1000.0), (5000, 1000.0)] {
                let norm = 1.0 - B + B * (len as f32) / f32::max(avg, 1.0);
                let s = wtf * (K1 + 1.0) / (wtf + K1 * norm) / (K1 + 1.0);
                let libm = (s * MAX_SCORE).round().clamp(1.0, MAX_SCORE) as u8;
                assert_eq!(score(wtf, len, avg), libm, "wtf {wtf}, len {len}");
            }
        }
        // Halves, where the two roundings could part.
        for y in (0..=70).map(|i| i as f32 / 2.0) {
            assert_eq!(((y * 2.0) as u32).div_ceil(2) as f32, y.round(), "{y}");
        }
    }

    #[test]
    fn scores_saturate_and_favour_many_mentions() {
        let avg = 1000.0;
        assert!(score(20.0, 3000, avg) > score(1.0, 200, avg));
        assert!(score(W_NUMBER, 1000, avg) > score(3.0, 1000, avg));
        assert_eq!(score(1e9, 10, avg), 35);
        assert!(score(0.001, 10_000, avg) >= 1);
    }

    #[test]
    fn short_keys_differ_for_different_words() {
        let words = [
            "",
            "a",
            "a\0",
            "hóa",
            "hòa",
            "nghiêng",
            "nghiênG",
            "aaaaaaaa",
            "aaaaaaaaa",
            "aaaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaab",
            "baaaaaaaaaaaaaa",
            "123456789012345",
        ];
        let keys: Vec<_> = words.iter().map(|w| short_key(w)).collect();
        for (i, a) in keys.iter().enumerate() {
            assert!(a.is_some());
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(short_key("1234567890123456"), None, "16 bytes: by text");
    }

    #[test]
    fn short_keys_are_one_to_one() {
        // Many words of every length up to 15 over a small alphabet, so
        // that words sharing their first and last bytes are frequent.
        let mut seen: HashMap<u128, String> = HashMap::new();
        let mut x: u64 = 1;
        for _ in 0..200_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (x >> 60) as usize;
            let word: String = (0..len)
                .map(|i| ['a', 'b', '\0', 'z'][(x >> (2 * i + 8)) as usize & 3])
                .collect();
            let key = short_key(&word).expect("short");
            if let Some(other) = seen.insert(key, word.clone()) {
                assert_eq!(other, word, "two words, one key");
            }
        }
    }

    #[test]
    fn a_word_read_in_its_text_has_its_own_short_key() {
        let text = "Ủy ban nhân dân tỉnh\0a quyết định phòng, chống tham nhũng 1234567890123456";
        for (start, end) in crate::search::word_ranges(text) {
            let word = &text[start..end];
            assert_eq!(short_key_at(text, start, end), short_key(word), "{word:?}");
        }
        assert_eq!(short_key_at("ab\0cdefgh", 0, 2), short_key("ab"));
    }

    #[test]
    fn the_union_of_lists_keeps_each_document_once_with_its_best_score() {
        let a = [(1, 5), (4, 2), (9, 7)];
        let b = [(0, 1), (4, 6), (9, 3), (12, 4)];
        let want = [(0, 1), (1, 5), (4, 6), (9, 7), (12, 4)];
        assert_eq!(union_of(&a, &b), want);
        assert_eq!(union_of(&b, &a), want);
        assert_eq!(union_of(&[], &a), a);
    }

    #[test]
    fn lines_split_as_std_does() {
        for text in ["", "a", "\n", "a\n", "\na", "a\nb\n\nc", "đ\nđ"] {
            assert!(lines(text).eq(text.split('\n')), "{text:?}");
        }
    }

    #[test]
    fn rests_are_joined_by_a_separator_no_text_keeps() {
        let rests = ["một", "", "hai\u{1f}ba"];
        assert_eq!(rest_text(rests.into_iter()), "một\u{1f}\u{1f}hai ba");
        assert_eq!(rest_text([""].into_iter()), "");
    }

    #[test]
    fn long_lists_are_written_as_the_shared_vectors_say() {
        // tests/vectors/postings.json, read by the JS tests too.
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/postings.json"))
                .expect("postings.json");
        let vectors = file["vectors"].as_array().expect("vectors");
        assert!(vectors.len() >= 4);
        for v in vectors {
            let list: Vec<(u32, u8)> = v["postings"]
                .as_array()
                .expect("postings")
                .iter()
                .map(|p| {
                    (
                        p[0].as_u64().unwrap_or(0) as u32,
                        p[1].as_u64().unwrap_or(0) as u8,
                    )
                })
                .collect();
            let bytes = rice_list(&list, v["coarse"].as_bool().unwrap_or(false));
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, v["hex"].as_str().unwrap_or(""), "{}", v["note"]);
        }
    }

    #[test]
    fn postings_are_deltas_without_separators() {
        let mut s = String::new();
        // Deltas 0, 1, 39 = 1·36 + 3, 36·26 = 936 = 1·26·36 + 0·36 + 0.
        encode_list(&[(0, 5), (1, 35), (40, 1), (976, 9)], &mut s);
        assert_eq!(s, "051zB31BA09");
    }
}
