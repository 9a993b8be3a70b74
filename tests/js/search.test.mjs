// The query set: queries over the fixture site tests/fixtures/search with
// their expected top results, run by the real client core against the index
// the real `banhanh build` wrote. tests/search.rs runs this file with
// BANHANH_SEARCH_SITE set; run alone, it builds the fixture with cargo.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S, repo, openIndex, top } from "./harness.mjs";

let site = process.env.BANHANH_SEARCH_SITE;
let index;

before(() => {
  if (!site) {
    site = mkdtempSync(join(tmpdir(), "banhanh-search-"));
    execFileSync("cargo", ["run", "-q", "--", "build", "--root", join(repo, "tests/fixtures/search"), "--out", site, "-q"], {
      cwd: repo,
      stdio: "inherit",
    });
  }
  index = openIndex(site);
});

const SEED = "1383-CV/BTGTU";

// [query, expected first results in order, numbers that must not appear,
//  note]. `first` lists a prefix of the ranking; `set` (when given) is the
// whole result set in any order.
const QUERIES = [
  { q: "tham nhung", first: [SEED], note: "without diacritics" },
  { q: "tham nhũng", first: [SEED], note: "with diacritics" },
  { q: "tham nhung", last: "2294-CV/BTGTU", note: "syllables apart (tham mưu ... nhũng nhiễu) rank last" },
  { q: '"tham nhũng"', set: [SEED, "41-CV/BTGTU"], note: "quoted: adjacent only (41 says PCTNTC)" },
  { q: '"tham nhung"', set: [SEED, "41-CV/BTGTU"], note: "quoted, without diacritics" },
  { q: "PCTNTC", set: [SEED, "41-CV/BTGTU"], first: [SEED], note: "abbreviation finds the expansion" },
  { q: "pctntc", set: [SEED, "41-CV/BTGTU"], note: "abbreviation in lower case" },
  { q: "phòng, chống tham nhũng, tiêu cực", set: [SEED, "41-CV/BTGTU"], note: "expansion finds the abbreviation" },
  { q: "dai hoi XIV", set: ["21-HD/BTGTU", SEED], note: "Đại hội XIV without diacritics" },
  { q: "Đại hội XIV", set: ["21-HD/BTGTU", SEED], note: "finds 'Đại hội đại biểu toàn quốc lần thứ XIV'" },
  { q: "XIV", none: ["30-CV/BTGTU"], note: "XIV never matches XIII" },
  { q: "XIII", set: ["30-CV/BTGTU"], note: "XIII never matches XIV" },
  { q: "8371", first: ["8371-CV/BTGTW"], then: ["2294-CV/BTGTU", SEED], note: "number: the directive, then those citing it" },
  { q: "8371-CV/BTGTW", first: ["8371-CV/BTGTW"], then: ["2294-CV/BTGTU", SEED], note: "full number" },
  { q: "8371 cv btgtw", first: ["8371-CV/BTGTW"], then: ["2294-CV/BTGTU", SEED], note: "number in words" },
  { q: "1383", set: [SEED], note: "number alone" },
  { q: "hoa", set: ["42-CV/BTGTU", "40/KH-UBND", "21-HD/BTGTU", "05-CT/TU", "30-CV/BTGTU"], none: ["12-KH/BTGTU"], note: "hoa: hóa, hoá, hòa, hoà; never hoạch or hoàn" },
  { q: "hóa", first: ["42-CV/BTGTU"], last: "40/KH-UBND", note: "marked query: exact matches above folded ones" },
  { q: "hòa", first: ["40/KH-UBND"], note: "marked query: hòa first" },
  { q: "hoà giải", set: ["40/KH-UBND"], note: "old tone placement in the query" },
  { q: "thủy", set: ["41-CV/BTGTU"], note: "new placement finds thuỷ" },
  { q: "thuy", set: ["41-CV/BTGTU"], note: "folded" },
  { q: "xóa đói", set: ["41-CV/BTGTU"], note: "new placement finds xoá" },
  { q: "khoe", set: ["41-CV/BTGTU"], note: "folded finds khoẻ" },
  { q: "chuyen hoa", first: ["21-HD/BTGTU"], note: "adjacent syllables above syllables apart (chuyển đổi số ... văn hóa)" },
  { q: '"chuyển hóa"', set: ["21-HD/BTGTU"], note: "quoted multi-syllable word" },
  { q: '"chuyển đổi số"', set: ["05-CT/TU", "43-CV/TU"], note: "quoted, three words: the sequence, not its pairs apart (44: chuyển đổi mô hình ... thay đổi số lượng)" },
  { q: '"chuyen doi so"', set: ["05-CT/TU", "43-CV/TU"], note: "quoted, three words, without diacritics" },
  { q: '"phòng, chống tham nhũng"', set: [SEED, "41-CV/BTGTU"], note: "quoted part of an expansion: the abbreviation counts (41 says PCTNTC)" },
  { q: "chuyen doi so", last: "44-CV/TU", note: "unquoted, three words: the sequence above its pairs apart" },
  { q: "chuyen doi so", first: ["05-CT/TU", "43-CV/TU"], note: "a long directive about it above a short one mentioning it once" },
  { q: "ke hoach", first: ["12-KH/BTGTU"], note: "subject and body above subject only" },
  { q: "CCHC", set: ["41-CV/BTGTU", "40/KH-UBND"], note: "glossary abbreviation both ways" },
  { q: "cai cach hanh chinh", set: ["41-CV/BTGTU", "40/KH-UBND"], note: "glossary expansion both ways" },
  { q: "tuyen truyen", first: ["8371-CV/BTGTW"], note: "subject weighs more than body" },
  { q: "btgtw", first: ["8371-CV/BTGTW"], note: "issuer abbreviation" },
  { q: "xyzzy", set: [], missing: ["xyzzy"], note: "no answer" },
  { q: "tham nhung xyzzy", set: [], missing: ["xyzzy"], note: "every word must occur" },
  { q: "tham mưu nhũng nhiễu hoà giải", set: [], note: "all words exist, no directive has them all" },
];

for (const c of QUERIES) {
  test(`query ${JSON.stringify(c.q)}: ${c.note}`, async () => {
    const { res } = await top(index, c.q, {}, 0);
    const all = await Promise.all(res.results.map((r) => index.doc(r.doc)));
    const numbers = all.map((d) => d.n);
    if (c.set) assert.deepEqual([...numbers].sort(), [...c.set].sort(), `results: ${numbers}`);
    if (c.first) assert.deepEqual(numbers.slice(0, c.first.length), c.first, `ranking: ${numbers}`);
    if (c.then) {
      const next = numbers.slice(c.first.length, c.first.length + c.then.length);
      assert.deepEqual([...next].sort(), [...c.then].sort(), `ranking: ${numbers}`);
    }
    if (c.last) assert.equal(numbers[numbers.length - 1], c.last, `ranking: ${numbers}`);
    for (const n of c.none || []) assert.ok(!numbers.includes(n), `${n} must not match: ${numbers}`);
    if (c.missing) assert.deepEqual(res.missing, c.missing);
  });
}

test("the query set has at least 25 queries", () => assert.ok(QUERIES.length >= 25));

test("snippets mark the matched words and link to the best section", async () => {
  const { res } = await top(index, "tham nhung", {}, 1);
  const docs = [await index.docFor(res.results[0].doc, res.query, res.results[0])];
  const snip = S.snippet(index, res.query, docs[0]);
  assert.equal(docs[0].n, SEED);
  assert.equal(snip.anchor, "muc-1");
  assert.match(snip.html, /<mark>tham<\/mark> <mark>nhũng<\/mark>/);
  const x = await top(index, "Đại hội XIV", {}, 1);
  assert.equal(S.snippet(index, x.res.query, x.docs[0]).anchor, "dai-hoi");
});

test("abbreviation queries highlight the expansion", async () => {
  const { res, docs } = await top(index, "PCTNTC", {}, 1);
  assert.match(S.snippet(index, res.query, docs[0]).html, /<mark>tham<\/mark>/);
});

test("filters alone list directives newest first, with counts", async () => {
  const { numbers, res } = await top(index, "", { kind: "ke-hoach" }, 10);
  assert.deepEqual(numbers, ["40/KH-UBND", "12-KH/BTGTU"]);
  assert.equal(res.counts.kind["ke-hoach"], 2);
  assert.equal(res.counts.year["2025"], 1);
});

test("filters combine with a query", async () => {
  const y = await top(index, "tuyen truyen", { year: "2025" }, 10);
  assert.deepEqual(y.numbers, ["41-CV/BTGTU"]);
  const t = await top(index, "tuyen truyen", { topic: "pctntc", year: "2024" }, 10);
  assert.deepEqual(t.numbers, [SEED]);
  assert.equal(t.res.counts.topic.pctntc, 1);
  const none = await top(index, "tuyen truyen", { issuer: "uy-ban-nhan-dan-tinh" }, 10);
  assert.deepEqual(none.numbers, []);
  const r = await top(index, "", { recipient: "hoi-nha-bao-tinh", year: "2023" }, 10);
  assert.deepEqual(r.numbers, ["21-HD/BTGTU", "30-CV/BTGTU"]);
});

test("a query reads only the parts it needs", async () => {
  const fresh = openIndex(site);
  await S.search(fresh, "tham nhung", {});
  // meta + at most one shard per key (2 words + 1 pair), and own files.
  assert.ok(fresh.files <= 1 + 3 * 2, `${fresh.files} files`);
  assert.equal(fresh.facets, null, "facets load only for filters");
  await fresh.loadFacets();
  assert.deepEqual(fresh.facetValues.kind.find((v) => v[0] === "ke-hoach"), ["ke-hoach", "Kế hoạch", 2]);
});

test("a word beyond the section leads loads the whole text for its snippet", async () => {
  const { res } = await top(index, "xep loai", {}, 1);
  const lead = await index.doc(res.results[0].doc);
  assert.equal(lead.n, "05-CT/TU");
  assert.equal(lead.f, 1, "the lead was cut");
  const doc = await index.docFor(res.results[0].doc, res.query, res.results[0]);
  assert.equal(doc.x.length, lead.x.length, "a rest per section");
  doc.x.forEach((sec, i) => assert.ok(sec[2].startsWith(lead.x[i][2]) && !sec[2].includes("\x1f"), sec[0]));
  assert.ok(doc.x.some((sec, i) => sec[2].length > lead.x[i][2].length), "some rest was added");
  const snip = S.snippet(index, res.query, doc);
  assert.equal(snip.anchor, "nhiem-vu");
  assert.match(snip.html, /<mark>xếp<\/mark> <mark>loại<\/mark>/);
});

test("a phrase found adjacent is marked there only, not its words apart", async () => {
  const text = "Những năm qua, công tác phòng, chống tham nhũng, tiêu cực đạt những kết quả; chống lãng phí.";
  const marked = (q, t = text) => [...S.snippet(index, S.parseQuery(q), { x: [["", "", t]] }).html.matchAll(/<mark>([^<]*)<\/mark>/g)].map((m) => m[1]);
  assert.deepEqual(marked("tham nhung"), ["tham", "nhũng"], "not the two \"những\"");
  assert.deepEqual(marked("nhung"), ["Những", "nhũng", "những"], "a word alone matches every variant");
  assert.deepEqual(marked("PCTNTC"), ["phòng", "chống", "tham", "nhũng", "tiêu", "cực"], "the whole expansion, not \"chống\" alone");
  assert.deepEqual(marked("tham nhung", "Công tác PCTNTC và chống lãng phí."), ["PCTNTC"], "the abbreviation of a phrase it contains");
  const filler = (n) => Array.from({ length: n }, (_, i) => "từ" + i).join(" ");
  const apart = `${filler(8)} PCTNTC ${filler(22)} tham nhũng ${filler(30)}`;
  assert.deepEqual(marked("tham nhung", apart), ["PCTNTC", "tham", "nhũng"], "the passage shows every mark it was chosen for");
});

test("the doc store's LZ4 blocks decode, long lengths included, and bad ones fail", () => {
  const a = (n) => "a".repeat(n);
  const text = (bytes) => new TextDecoder().decode(S.lz4Block(Uint8Array.from(bytes)));
  const lit = [...Buffer.from("aaaaa")];
  // "a", then a match 1 back of 14 (token 15 would need more bytes), then 5 literals.
  assert.equal(text([20, 0, 0, 0, 0x1a, 97, 1, 0, 0x50, ...lit]), a(20));
  // A match of 294: 4 + 15 + 255 + 20.
  assert.equal(text([44, 1, 0, 0, 0x1f, 97, 1, 0, 255, 20, 0x50, ...lit]), a(300));
  assert.throws(() => text([20, 0, 0, 0, 0x1a, 97, 9, 0, 0x50, ...lit]), /bad LZ4/);
  assert.throws(() => text([21, 0, 0, 0, 0x1a, 97, 1, 0, 0x50, ...lit]), /bad LZ4/);
});

test("long postings lists decode as the shared vectors say", () => {
  const { vectors } = JSON.parse(readFileSync(join(repo, "tests/vectors/postings.json"), "utf8"));
  assert.ok(vectors.length >= 4);
  for (const v of vectors) {
    const l = S.decodeRice(Uint8Array.from(Buffer.from(v.hex, "hex")));
    assert.deepEqual([...l.docs].map((d, i) => [d, l.scores[i]]), v.decoded, v.note);
  }
  // Cut short, a list fails instead of reading past its end.
  const whole = Buffer.from(vectors[0].hex, "hex");
  assert.throws(() => S.decodeRice(Uint8Array.from(whole.subarray(0, whole.length - 2))), /bad postings/);
});

test("postings lists decode as src/search/index.rs encodes them", () => {
  // The vector of the Rust test `postings_are_deltas_without_separators`.
  const l = S.decodeList("051zB31BA09");
  assert.deepEqual([...l.docs], [0, 1, 40, 976]);
  assert.deepEqual([...l.scores], [5, 35, 1, 9]);
  assert.deepEqual([...S.decodeList("").docs], []);
});
