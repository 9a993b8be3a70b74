/* banhanh search core: normalization, query evaluation and snippets.
 * No DOM here: the page script (search.js) and the node tests
 * (tests/js/*.test.mjs) both use it. Normalization mirrors src/search/mod.rs
 * exactly; tests/vectors/normalize.json keeps the two equal.
 * Index format: ARCHITECTURE.md, "Search index". */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.BanhanhSearch = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var TOKEN = /[\p{Alphabetic}\p{N}\u0300-\u036f]+/gu;
  var MARKS = /[\u0300-\u036f]/g;
  var TONES = "\u0300\u0301\u0303\u0309\u0323";
  var ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
    "ngh", "nh", "p", "ph", "q", "r", "s", "t", "th", "tr", "v", "x"];
  var CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];

  function isVowel(c) { return c.length === 1 && "aeiouy".indexOf(c) >= 0; }
  function isMark(c) { var n = c.charCodeAt(0); return n >= 0x300 && n <= 0x36f; }

  /* Tone mark to its one placement; null when not a toned syllable. */
  function placeTone(lower) {
    var units = [], tone = null, chars = Array.from(lower.normalize("NFD"));
    for (var i = 0; i < chars.length; i++) {
      var c = chars[i];
      if (TONES.indexOf(c) >= 0) { if (tone !== null) return null; tone = c; }
      else if (isMark(c)) { if (!units.length) return null; units[units.length - 1].m.push(c); }
      else units.push({ b: c, m: [] });
    }
    if (tone === null) return null;
    var first = -1;
    for (i = 0; i < units.length; i++) if (isVowel(units[i].b)) { first = i; break; }
    if (first < 0) return null;
    var start = first;
    if (start >= 1 && units[start - 1].b === "q" && units[start].b === "u" &&
        start + 1 < units.length && isVowel(units[start + 1].b)) start++;
    if (start === 1 && units[0].b === "g" && units[1].b === "i" && !units[1].m.length &&
        units.length > 2 && isVowel(units[2].b)) start = 2;
    var end = start;
    while (end < units.length && isVowel(units[end].b)) end++;
    var onset = "", coda = "";
    for (i = 0; i < first; i++) { onset += units[i].b; if (units[i].m.length) return null; }
    for (i = end; i < units.length; i++) { coda += units[i].b; if (units[i].m.length) return null; }
    if (ONSETS.indexOf(onset) < 0 || CODAS.indexOf(coda) < 0) return null;
    var pos = -1;
    for (i = end - 1; i >= start; i--) if (units[i].m.length) { pos = i; break; }
    if (pos < 0) {
      var n = end - start;
      if (end < units.length) pos = end - 1;
      else if (n === 1 || n === 2) pos = start;
      else if (n === 3) pos = start + 1;
      else return null;
    }
    var out = "";
    for (i = 0; i < units.length; i++) {
      out += units[i].b + units[i].m.join("");
      if (i === pos) out += tone;
    }
    return out.normalize("NFC");
  }

  function normalizeWord(word) {
    var lower = word.normalize("NFC").toLowerCase();
    var placed = placeTone(lower);
    return placed === null ? lower.normalize("NFC") : placed;
  }

  function fold(word) { return word.normalize("NFD").replace(MARKS, "").replace(/đ/g, "d"); }

  /* Tokens with their UTF-16 offsets in `text`. */
  function tokenize(text) {
    var out = [], m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      var norm = normalizeWord(m[0]);
      out.push({ norm: norm, fold: fold(norm), start: m.index, end: m.index + m[0].length });
    }
    return out;
  }

  var encoder = typeof TextEncoder !== "undefined" ? new TextEncoder() : null;
  function fnv1a(s) {
    var bytes = encoder.encode(s), h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 0x01000193) >>> 0; }
    return h >>> 0;
  }

  /* Words and adjacent pairs of a query; text between double quotes must
   * occur as written (its pairs are required). */
  function parseQuery(q) {
    var parts = String(q || "").split('"'), words = [], seen = {}, pairs = [], pseen = {}, phrases = [], runs = [];
    for (var i = 0; i < parts.length; i++) {
      var toks = tokenize(parts[i]), quoted = i % 2 === 1;
      if (toks.length > 2) (quoted ? phrases : runs).push(toks.map(function (t) { return t.fold; }));
      for (var j = 0; j < toks.length; j++) {
        var t = toks[j];
        if (!seen[t.norm]) { seen[t.norm] = 1; words.push({ norm: t.norm, fold: t.fold, marked: t.norm !== t.fold }); }
        if (j > 0) {
          var key = toks[j - 1].fold + " " + t.fold;
          if (!pseen[key]) { pseen[key] = pairs.length + 1; pairs.push({ key: key, required: quoted }); }
          else if (quoted) pairs[pseen[key] - 1].required = true;
        }
      }
    }
    return { words: words, pairs: pairs, phrases: phrases, runs: runs };
  }

  /* A postings list: per document its difference from the previous one
   * (digits A-Z in base 26, then one digit 0-9a-z in base 36) and its
   * score (one base-36 digit); see encode_list in src/search/index.rs. */
  function digit36(c) { return c <= 57 ? c - 48 : c - 87; }
  function decodeList(s) {
    var n = 0, i, c;
    for (i = 0; i < s.length; i++) { c = s.charCodeAt(i); if (c < 65 || c > 90) n++; }
    var docs = new Int32Array(n >> 1), scores = new Uint8Array(n >> 1), doc = 0, high = 0, k = 0;
    for (i = 0; i < s.length; i++) {
      c = s.charCodeAt(i);
      if (c >= 65 && c <= 90) { high = high * 26 + c - 65; continue; }
      doc += high * 36 + digit36(c);
      high = 0;
      docs[k] = doc;
      scores[k++] = digit36(s.charCodeAt(++i));
    }
    return { docs: docs, scores: scores };
  }

  /* A long postings list, as bits (rice_list in src/search/index.rs): a
   * header k, ks, m (a byte each), the list's m scores from the most
   * frequent, and the count (LEB128); then per posting, most significant
   * bit first, its gap from the previous document less one (the first:
   * its number) in a Rice code of parameter k (the high bits in unary,
   * ones ended by a zero, then k low bits), and the rank of its score in
   * the header in a Rice code of parameter ks. */
  function decodeRice(bytes) {
    var k = bytes[0], ks = bytes[1], m = bytes[2], table = bytes.subarray(3, 3 + m);
    var at = 3 + m, n = 0, scale = 1, b;
    do { b = bytes[at++]; n += (b & 127) * scale; scale *= 128; } while (b >= 128);
    var end = bytes.length * 8, pos = at * 8;
    if (!(n >= 0) || n > end || table.length !== m) throw new Error("bad postings list");
    function rice(p) {
      var high = 0, low = 0;
      while (pos < end && bytes[pos >> 3] >> (7 - (pos & 7)) & 1) { high++; pos++; }
      pos++;
      for (var i = 0; i < p; i++, pos++) low = low * 2 + (bytes[pos >> 3] >> (7 - (pos & 7)) & 1);
      return high * Math.pow(2, p) + low;
    }
    var docs = new Int32Array(n), scores = new Uint8Array(n), doc = -1;
    for (var i = 0; i < n; i++) {
      doc += rice(k) + 1;
      docs[i] = doc;
      var rank = rice(ks);
      if (pos > end || rank >= m) throw new Error("bad postings list");
      scores[i] = table[rank];
    }
    return { docs: docs, scores: scores };
  }

  /* "variant \t list \t variant \t list ..." → [{variant, list}], where
   * list is the encoded postings or "@name" (a file of its own). */
  function splitLine(key, rest) {
    var f = rest.split("\t"), out = [];
    for (var i = 0; i + 1 < f.length; i += 2) out.push({ variant: f[i] || key, list: f[i + 1] });
    return out;
  }

  /* How much a non-exact variant counts when the query word has marks. */
  var FOLDED = 0.4;
  var PAIR_WEIGHT = 2;
  var PAGE = 10;
  /* First results of a page whose snippet shows the query's words
   * adjacent when the text has them so. */
  var ADJACENT = 2;

  /* An index reader. `load(path)` resolves to the text of a file of the
   * index (already inflated), path relative to the index folder;
   * `range(path, start, end)` to bytes start..end of a file (an HTTP
   * range request), raw (a Uint8Array). */
  function Index(load, range) {
    this.load = load;
    this.range = range;
    this.meta = null;
    this.shards = {};
    this.facets = null;
    this.facetValues = {};
    this.docs = {};
    this.fulls = {};
    this.heads = {};
    this.bytes = 0;
  }

  Index.prototype.init = function () {
    var self = this;
    if (!this.metaPromise) this.metaPromise = this.load("meta.gz").then(function (t) { self.meta = JSON.parse(t); return self.meta; });
    return this.metaPromise;
  };

  Index.prototype.shard = function (n) {
    var self = this;
    if (!this.shards[n]) {
      this.shards[n] = this.load("s/" + n.toString(16) + ".gz").then(function (text) {
        var map = new Map(), lines = text.split("\n");
        for (var i = 0; i < lines.length; i++) {
          var tab = lines[i].indexOf("\t");
          if (tab > 0) map.set(lines[i].slice(0, tab), lines[i].slice(tab + 1));
        }
        return map;
      });
    }
    return this.shards[n];
  };

  /* The variants of one key ({variant, list}), or null when the key is in
   * no document. */
  Index.prototype.variants = function (key) {
    return this.shard(fnv1a(key) % this.meta.shards).then(function (map) {
      var rest = map.get(key);
      return rest === undefined ? null : splitLine(key, rest);
    });
  };

  /* Decoded postings of a variant, fetching its own file if it has one. */
  Index.prototype.list = function (v) {
    if (v.list.charAt(0) !== "@") return Promise.resolve(decodeList(v.list));
    // "@pack.offset.length" (hex): a list's bits inside k/<pack>.bin.
    var at = v.list.slice(1).split("."), start = parseInt(at[1], 16);
    return this.range("k/" + at[0] + ".bin", start, start + parseInt(at[2], 16)).then(decodeRice);
  };

  /* The lists a word needs: without diacritics, the union of its variants
   * ("*") alone; with, the union (folded matches) and its exact form. */
  Index.prototype.wordPostings = function (w) {
    var self = this;
    return this.variants(w.fold).then(function (vs) {
      if (!vs) return null;
      var union = vs.filter(function (v) { return v.variant === "*"; })[0], pick;
      if (!union) pick = vs;
      else if (!w.marked) pick = [union];
      else pick = [union].concat(vs.filter(function (v) { return v.variant === w.norm; }));
      return Promise.all(pick.map(function (v) { return self.list(v); })).then(function (lists) {
        return lists.map(function (l, i) { return { variant: pick[i].variant, docs: l.docs, scores: l.scores }; });
      });
    });
  };

  Index.prototype.loadFacets = function () {
    var self = this;
    if (!this.facetsPromise) {
      this.facetsPromise = this.load("facets.gz").then(function (t) {
        var all = JSON.parse(t), raw = all.docs, out = {};
        self.facetValues = all.values;
        Object.keys(raw).forEach(function (dim) {
          out[dim] = {};
          Object.keys(raw[dim]).forEach(function (v) {
            var parts = raw[dim][v] ? raw[dim][v].split(",") : [], ids = new Int32Array(parts.length), d = 0;
            for (var i = 0; i < parts.length; i++) { d += parseInt(parts[i], 36); ids[i] = d; }
            out[dim][v] = ids;
          });
        });
        self.facets = out;
        return out;
      });
    }
    return this.facetsPromise;
  };

  /* Offsets of a doc-store block file `b/<block>.bin`: per document the
   * start of its summary and of its rest, then the end (u32, little-endian). */
  Index.prototype.blockHead = function (b) {
    var self = this;
    if (!this.heads[b]) {
      this.heads[b] = this.init().then(function (meta) {
        var count = Math.min(meta.block, meta.n - b * meta.block), size = 2 * count + 1;
        return self.range("b/" + b.toString(16) + ".bin", 0, 4 * size).then(function (bytes) {
          var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), out = [];
          for (var i = 0; i < size; i++) out.push(view.getUint32(4 * i, true));
          return out;
        });
      });
    }
    return this.heads[b];
  };

  /* One member of a document's block (an LZ4 block, see lz4Block), as
   * text: 0 its summary (JSON), 1 the rest of each section after its lead,
   * joined by U+001F. */
  Index.prototype.docPart = function (id, part) {
    var self = this;
    return this.init().then(function (meta) {
      var b = Math.floor(id / meta.block), k = 2 * (id % meta.block) + part;
      return self.blockHead(b).then(function (head) {
        return self.range("b/" + b.toString(16) + ".bin", head[k], head[k + 1])
          .then(function (raw) { return new TextDecoder().decode(lz4Block(raw)); });
      });
    });
  };

  /* A directive's summary and the lead of each section. */
  Index.prototype.doc = function (id) {
    if (!this.docs[id]) this.docs[id] = this.docPart(id, 0).then(JSON.parse);
    return this.docs[id];
  };

  /* The summary, with the whole text of each section when the leads do
   * not show every word of the query, or (for a result `r` whose text has
   * the query's words adjacent, r.pairs > 0) not show them adjacent. */
  Index.prototype.docFor = function (id, parsed, r) {
    var self = this;
    return this.doc(id).then(function (doc) {
      return leadsShowQuery(self, parsed, doc, r && r.pairs > 0) ? doc : self.fullDoc(id);
    });
  };

  /* The documents of a page of results, for their snippets: the first
   * ADJACENT show the query's words adjacent where their text does. */
  Index.prototype.pageDocs = function (page, parsed) {
    var self = this;
    return Promise.all(page.map(function (r, i) { return self.docFor(r.doc, parsed, i < ADJACENT ? r : null); }));
  };

  /* The summary with the whole text of each section. */
  Index.prototype.fullDoc = function (id) {
    var self = this;
    if (!this.fulls[id]) {
      this.fulls[id] = this.doc(id).then(function (doc) {
        if (!doc.f) return doc;
        return self.docPart(id, 1).then(function (t) {
          var rest = t.split("\x1f"), out = {};
          Object.keys(doc).forEach(function (k) { out[k] = doc[k]; });
          out.x = doc.x.map(function (sec, i) { return [sec[0], sec[1], sec[2] + (rest[i] || "")]; });
          out.f = 0;
          return out;
        });
      });
    }
    return this.fulls[id];
  };

  /* Decodes an LZ4 block preceded by its decoded length (u32, little-endian):
   * sequences of literals, then a match (2-byte offset back, length + 4);
   * lengths of 15 go on in bytes while they are 255. */
  function lz4Block(src) {
    var size = (src[0] | src[1] << 8 | src[2] << 16 | src[3] << 24) >>> 0;
    var out = new Uint8Array(size), i = 4, o = 0;
    function more(n) { var b; do { b = src[i++]; n += b; } while (b === 255); return n; }
    while (i < src.length) {
      var token = src[i++], lit = token >> 4;
      if (lit === 15) lit = more(lit);
      out.set(src.subarray(i, i + lit), o);
      i += lit; o += lit;
      if (i >= src.length) break;
      var from = o - (src[i] | src[i + 1] << 8), len = token & 15;
      i += 2;
      if (len === 15) len = more(len);
      len += 4;
      if (from < 0 || o + len > size) throw new Error("bad LZ4 block");
      for (var end = o + len; o < end;) out[o++] = out[from++];
    }
    if (o !== size) throw new Error("bad LZ4 block");
    return out;
  }

  function leadsShowQuery(index, parsed, doc, adjacent) {
    var forms = markForms(index, parsed), shown = {}, pairs = {};
    // The snippet shows a section's text, not its title: the text must show it.
    doc.x.forEach(function (sec) {
      var toks = tokenize(sec[2]);
      marks(toks, forms, shown);
      for (var i = 1; i < toks.length; i++) pairs[toks[i - 1].fold + " " + toks[i].fold] = 1;
    });
    return forms.words.every(function (w) { return shown[w]; }) &&
      (!adjacent || parsed.pairs.some(function (p) { return pairs[p.key]; }));
  }

  var DIMS = ["kind", "issuer", "recipient", "topic"];

  function hasFilters(filters) {
    if (!filters) return false;
    return DIMS.concat(["year"]).some(function (d) { return !!filters[d]; });
  }

  /* Documents allowed by the filters (Uint8Array of 0/1), or null for all. */
  function filterMask(index, filters) {
    if (!hasFilters(filters)) return null;
    var n = index.meta.n, mask = new Uint8Array(n).fill(1);
    if (filters.year) {
      var y = index.meta.years.find(function (r) { return String(r[0]) === String(filters.year); });
      for (var i = 0; i < n; i++) if (!y || i < y[1] || i >= y[2]) mask[i] = 0;
    }
    DIMS.forEach(function (dim) {
      if (!filters[dim]) return;
      var ids = index.facets && index.facets[dim] && index.facets[dim][filters[dim]], keep = new Uint8Array(n);
      if (ids) for (var i = 0; i < ids.length; i++) keep[ids[i]] = 1;
      for (i = 0; i < n; i++) mask[i] &= keep[i];
    });
    return mask;
  }

  function counts(index, ids) {
    var out = { year: {} }, n = index.meta.n, member = new Uint8Array(n);
    for (var i = 0; i < ids.length; i++) member[ids[i]] = 1;
    index.meta.years.forEach(function (r) {
      var c = 0;
      for (var d = r[1]; d < r[2]; d++) c += member[d];
      out.year[r[0]] = c;
    });
    if (!index.facets) return out;
    DIMS.forEach(function (dim) {
      out[dim] = {};
      var values = index.facets[dim] || {};
      Object.keys(values).forEach(function (v) {
        var c = 0, list = values[v];
        for (var i = 0; i < list.length; i++) c += member[list[i]];
        out[dim][v] = c;
      });
    });
    return out;
  }

  /* Runs a query. Resolves to {results: [{doc, score, pairs, exact}],
   * missing: [words in no document], counts, query}. Filters other than
   * `year` load the facets. `onLoaded` is called when every part arrived. */
  function search(index, q, filters, onLoaded) {
    return index.init().then(function () {
      var parsed = parseQuery(q), meta = index.meta, n = meta.n;
      var need = hasFilters(filters) && DIMS.some(function (d) { return filters[d]; }) ? index.loadFacets() : Promise.resolve();
      var lists = parsed.words.map(function (w) { return index.wordPostings(w); })
        .concat(parsed.pairs.map(function (p) { return index.wordPostings({ fold: p.key, marked: false }); }));
      return Promise.all([need].concat(lists)).then(function (got) {
        if (onLoaded) onLoaded();
        var posts = got.slice(1), mask = filterMask(index, filters), i, d;
        if (!parsed.words.length) {
          var all = [];
          if (mask) for (d = 0; d < n; d++) if (mask[d]) all.push({ doc: d, score: 0, pairs: 0, exact: 0 });
          return { query: parsed, results: all, missing: [], counts: counts(index, all.map(function (r) { return r.doc; })) };
        }
        var missing = [];
        parsed.words.forEach(function (w, k) { if (!posts[k]) missing.push(w.norm); });
        if (missing.length) return { query: parsed, results: [], missing: missing, counts: counts(index, []) };
        var total = new Float64Array(n), alive = mask ? Uint8Array.from(mask) : new Uint8Array(n).fill(1);
        var exact = new Uint8Array(n), pairsHit = new Uint8Array(n);
        parsed.words.forEach(function (w, k) {
          var ws = new Float32Array(n), ex = new Uint8Array(n), df = 0;
          posts[k].forEach(function (v) {
            var isExact = !w.marked || v.variant === w.norm, mult = isExact ? 1 : FOLDED;
            if (v.variant === "*" && !w.marked) mult = 1;
            for (var j = 0; j < v.docs.length; j++) {
              var doc = v.docs[j], s = v.scores[j] * mult;
              if (s > ws[doc]) ws[doc] = s;
              if (isExact && w.marked) ex[doc] = 1;
            }
          });
          for (d = 0; d < n; d++) if (ws[d] > 0) df++;
          var idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          for (d = 0; d < n; d++) {
            if (ws[d] > 0) { total[d] += idf * ws[d]; exact[d] += ex[d]; } else alive[d] = 0;
          }
        });
        parsed.pairs.forEach(function (p, k) {
          var post = posts[parsed.words.length + k], ps = new Float32Array(n), df = 0;
          if (post) post.forEach(function (v) { for (var j = 0; j < v.docs.length; j++) { ps[v.docs[j]] = v.scores[j]; df++; } });
          var idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          for (d = 0; d < n; d++) {
            if (ps[d] > 0) { total[d] += PAIR_WEIGHT * idf * ps[d]; pairsHit[d]++; } else if (p.required) alive[d] = 0;
          }
        });
        var results = [];
        for (d = 0; d < n; d++) if (alive[d]) results.push({ doc: d, score: total[d], pairs: pairsHit[d], exact: exact[d] });
        results.sort(function (a, b) {
          return b.pairs - a.pairs || b.exact - a.exact || b.score - a.score || a.doc - b.doc;
        });
        return verifyPhrases(index, parsed, results).then(function (v) {
          return rerankRuns(index, parsed, v.results).then(function (results) { v.results = results; return v; });
        }).then(function (v) {
          return { query: parsed, results: v.results, unchecked: v.unchecked, missing: [], counts: counts(index, v.results.map(function (r) { return r.doc; })) };
        });
      });
    });
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  var WINDOW = 28;

  /* The index knows pairs, not longer runs: a quoted phrase of three
   * words or more is checked in the text of the first VERIFY_MAX
   * candidates; the others are dropped, counted in `unchecked`. */
  var VERIFY_MAX = 100;

  function verifyPhrases(index, parsed, results) {
    if (!parsed.phrases.length) return Promise.resolve({ results: results, unchecked: 0 });
    var head = results.slice(0, VERIFY_MAX);
    return saying(index, parsed.phrases, head).then(function (said) {
      return { results: head.filter(function (r, i) { return said[i]; }), unchecked: results.length - head.length };
    });
  }

  /* Unquoted runs of three words or more: on the first page, documents
   * saying them in sequence come before those with only their pairs. */
  function rerankRuns(index, parsed, results) {
    if (!parsed.runs.length) return Promise.resolve(results);
    var head = results.slice(0, PAGE);
    return saying(index, parsed.runs, head).then(function (said) {
      var first = head.filter(function (r, i) { return said[i]; }), then = head.filter(function (r, i) { return !said[i]; });
      return first.concat(then, results.slice(PAGE));
    });
  }

  /* For each result, whether its whole text says every phrase. */
  function saying(index, phrases, results) {
    return Promise.all(results.map(function (r) { return index.fullDoc(r.doc); })).then(function (docs) {
      return docs.map(function (doc) { return hasPhrases(index, phrases, doc); });
    });
  }

  /* Whether a document says every phrase in one field or paragraph, or
   * another form of an abbreviation group containing it. */
  function hasPhrases(index, phrases, doc) {
    var fields = [doc.n, doc.s];
    doc.x.forEach(function (sec) { fields.push(sec[1]); fields = fields.concat(sec[2].split("\n")); });
    var text = fields.map(function (f) {
      return " " + tokenize(f).map(function (t) { return t.fold; }).join(" ") + " ";
    }).join("|");
    var groups = (index.meta && index.meta.groups) || [];
    return phrases.every(function (p) {
      var phrase = " " + p.join(" ") + " ";
      if (text.indexOf(phrase) >= 0) return true;
      return groups.some(function (g) {
        return g.some(function (form) { return (" " + form + " ").indexOf(phrase) >= 0; }) &&
          g.some(function (form) { return text.indexOf(" " + form + " ") >= 0; });
      });
    });
  }

  /* What a snippet marks: sequences (query pairs, forms of the groups the
   * query names), each with the query words it stands for; and words. */
  function markForms(index, parsed) {
    var words = parsed.words.map(function (w) { return w.fold; }), q = " " + words.join(" ") + " ", seqs = [];
    parsed.pairs.forEach(function (p) { seqs.push({ toks: p.key.split(" "), stands: p.key.split(" ") }); });
    ((index.meta && index.meta.groups) || []).forEach(function (g) {
      // A whole form named: every form; a part of one: one-word forms.
      var whole = g.some(function (form) { return q.indexOf(" " + form + " ") >= 0; });
      var part = g.some(function (form) { return (" " + form + " ").indexOf(q) >= 0; });
      var stands = words.filter(function (w) {
        return g.some(function (form) { return (" " + form + " ").indexOf(" " + w + " ") >= 0; });
      });
      g.forEach(function (form) {
        if (whole || (part && form.indexOf(" ") < 0)) seqs.push({ toks: form.split(" "), stands: stands });
      });
    });
    return { words: words, seqs: seqs };
  }

  /* Tokens to mark (1), and in `shown` the query words marked. A word of
   * a pair found adjacent is marked only there ("tham nhung": not
   * "những" elsewhere); group words only as a whole form. */
  function marks(toks, forms, shown) {
    var out = new Uint8Array(toks.length), inPhrase = {};
    shown = shown || {};
    forms.seqs.forEach(function (seq) {
      var n = seq.toks.length;
      for (var i = 0; i + n <= toks.length; i++) {
        var k = 0;
        while (k < n && toks[i + k].fold === seq.toks[k]) k++;
        if (k < n) continue;
        for (k = 0; k < n; k++) { out[i + k] = 1; inPhrase[seq.toks[k]] = 1; }
        seq.stands.forEach(function (w) { shown[w] = 1; });
      }
    });
    toks.forEach(function (t, i) {
      if (!inPhrase[t.fold] && forms.words.indexOf(t.fold) >= 0) { out[i] = 1; shown[t.fold] = 1; }
    });
    return out;
  }

  /* The section where the query matches best and a snippet of it, HTML
   * with matched words in <mark>. */
  function snippet(index, parsed, doc) {
    var forms = markForms(index, parsed), best = null;
    doc.x.forEach(function (sec, si) {
      var text = sec[2] || sec[1] || "", toks = tokenize(text), titleToks = tokenize(sec[1] || "");
      // Words shown in the text first, then how often; a title match breaks ties.
      var hits = 0, seen = {}, tm = marks(titleToks, forms), bm = marks(toks, forms);
      toks.forEach(function (t, i) { if (bm[i]) { hits += 2; seen[t.fold] = 1; } });
      titleToks.forEach(function (t, i) { if (tm[i]) hits++; });
      var distinct = Object.keys(seen).length * 1000 + hits;
      if (distinct > 0 && (!best || distinct > best.rank)) best = { rank: distinct, si: si, text: text, toks: toks, marked: bm };
    });
    if (!best) {
      var first = doc.x[0] || ["", "", ""], t0 = first[2] || "";
      best = { si: 0, text: t0, toks: tokenize(t0) };
      best.marked = marks(best.toks, forms);
    }
    var toks = best.toks, mark = best.marked, from = 0, top = -1;
    for (var i = 0; i < toks.length; i++) {
      if (!mark[i]) continue;
      var c = 0, seen = {};
      for (var j = i; j < toks.length && j < i + WINDOW; j++) if (mark[j] && !seen[toks[j].fold]) { seen[toks[j].fold] = 1; c++; }
      if (c > top) { top = c; from = i; }
    }
    // Six words of context before, and the whole span counted above.
    var to = Math.min(toks.length, from + WINDOW), html = "", text = best.text;
    from = Math.max(0, from - 6);
    if (!toks.length) return { anchor: doc.x[best.si] ? doc.x[best.si][0] : "", html: escapeHtml(text.slice(0, 200)) };
    var pos = toks[from].start;
    html += from > 0 ? "… " : "";
    for (i = from; i < to; i++) {
      var t = toks[i];
      html += escapeHtml(text.slice(pos, t.start));
      var w = escapeHtml(text.slice(t.start, t.end));
      html += mark[i] ? "<mark>" + w + "</mark>" : w;
      pos = t.end;
    }
    if (to < toks.length) html += " …";
    return { anchor: doc.x[best.si][0], html: html };
  }

  return {
    normalizeWord: normalizeWord,
    fold: fold,
    tokenize: tokenize,
    fnv1a: fnv1a,
    parseQuery: parseQuery,
    decodeList: decodeList,
    decodeRice: decodeRice,
    lz4Block: lz4Block,
    Index: Index,
    search: search,
    snippet: snippet,
    escapeHtml: escapeHtml,
    PAGE: PAGE,
    VERIFY_MAX: VERIFY_MAX,
    DIMS: DIMS
  };
});
