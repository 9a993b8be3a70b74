// Bytes a reader downloads for a query on a built site: the page, its CSS
// and scripts, then every index file the client fetches (meta, shards, own
// postings files, the doc-store entries of the first page of results), and
// the time from the last index part arriving to the results being ready.
// usage: node benches/search_size.mjs SITE "query" ["query" ...]
import { statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { S, openIndex } from "../tests/js/harness.mjs";

const site = process.argv[2];
const queries = process.argv.slice(3);
const size = (p) => statSync(join(site, p)).size;
// As a browser loads the page: its scripts gzip'd (see search.html).
const page = ["tim-kiem/index.html", "assets/style.css", "assets/favicon.svg", "assets/search-core.js.gz", "assets/search.js.gz"];
const pageBytes = page.reduce((s, p) => s + size(p), 0);
console.log(`page, CSS and scripts: ${pageBytes} bytes (${page.map((p) => `${p} ${size(p)}`).join(", ")})`);
let worst = 0;
for (const q of queries) {
  const index = openIndex(site);
  let arrived = 0;
  const res = await S.search(index, q, {}, () => { arrived = performance.now(); });
  const docs = await index.pageDocs(res.results.slice(0, S.PAGE), res.query);
  docs.forEach((d) => S.snippet(index, res.query, d));
  const ms = performance.now() - arrived;
  const total = pageBytes + index.bytes;
  worst = Math.max(worst, total);
  console.log(`${JSON.stringify(q)}: ${res.results.length} results; index ${index.bytes} bytes in ${index.files} files; total ${total} bytes (${(total / 1024).toFixed(1)} KiB); ranked and snippets in ${ms.toFixed(1)} ms after the postings arrived`);
}
console.log(`worst total: ${worst} bytes (${(worst / 1024).toFixed(1)} KiB)`);
