// Loads the search core under node and opens a built site's index from disk.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
export const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const S = require(join(repo, "themes/default/static/search-core.js"));

/** An index over `site/search/`, counting the bytes it reads. */
export function openIndex(site) {
  const index = new S.Index(async (path) => {
    const buf = readFileSync(join(site, "search", path));
    index.bytes += buf.length;
    index.files = (index.files || 0) + 1;
    return gunzipSync(buf).toString("utf8");
  }, async (path, start, end) => {
    const buf = readFileSync(join(site, "search", path)).subarray(start, end);
    index.bytes += buf.length;
    index.files = (index.files || 0) + 1;
    return new Uint8Array(buf);
  });
  return index;
}

/** Numbers of the top results of `q`, in rank order. */
export async function top(index, q, filters, count = 5) {
  const res = await S.search(index, q, filters || {});
  const docs = await Promise.all(res.results.slice(0, count).map((r) => index.doc(r.doc)));
  return { numbers: docs.map((d) => d.n), res, docs };
}
