// The shared vectors (tests/vectors/normalize.json): the JS tokenizer must
// give exactly what the Rust one gives (tests/search.rs checks the same file).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { S, repo } from "./harness.mjs";

const vectors = JSON.parse(readFileSync(join(repo, "tests/vectors/normalize.json"), "utf8"));

test("vectors are not empty", () => assert.ok(vectors.length >= 15));

for (const v of vectors) {
  test(`normalize: ${v.note}`, () => {
    const toks = S.tokenize(v.input);
    assert.deepEqual(toks.map((t) => t.norm), v.normalized, "normalized");
    assert.deepEqual(toks.map((t) => t.fold), v.folded, "folded");
  });
}

test("fnv1a matches the Rust hash", () => {
  assert.equal(S.fnv1a(""), 0x811c9dc5);
  assert.equal(S.fnv1a("a"), 0xe40c292c);
});
