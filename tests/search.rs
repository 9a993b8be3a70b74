//! Search: the shared normalization vectors, the index the build writes for
//! the fixture site tests/fixtures/search, its determinism, and the query
//! set (tests/js/search.test.mjs) run by the real JS client under node.

mod support;

use banhanh::search::{fnv1a, folded, normalized};
use banhanh::{BuildOptions, build};
use flate2::read::GzDecoder;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::repo;

fn build_fixture(out: &Path) {
    build_site(&repo().join("tests/fixtures/search"), out);
}

fn build_site(root: &Path, out: &Path) {
    let opts = BuildOptions {
        root: root.to_path_buf(),
        out: out.to_path_buf(),
        drafts: false,
        base_url: None,
        inject: String::new(),
    };
    if let Err(e) = build(&opts) {
        panic!("build of {} failed: {:?}", root.display(), e.diagnostics);
    }
}

fn gunzip(path: &Path) -> String {
    gunzip_bytes(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn gunzip_bytes(bytes: &[u8]) -> String {
    let mut s = String::new();
    GzDecoder::new(bytes).read_to_string(&mut s).expect("gzip");
    s
}

fn files_below(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("prefix");
            (
                rel.to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

/// A directive with every kind of Markdown text: soft and hard breaks, a
/// list, a table, code inline and fenced, a link, raw HTML, a footnote.
const EVERY_KIND_OF_TEXT: &str = "---
number: \"31-CV/BTGTU\"
kind: cong-van
issuer: ban-tuyen-giao-tinh-uy
date: 2023-01-21
subject: Hướng dẫn trình bày văn bản
recipients: [hoi-nha-bao-tinh]
---
Đoạn mở đầu
xuống dòng mềm,\\
xuống dòng cứng.

## Mục `một` có *nhấn mạnh*

- Ý thứ nhất[^1]
- Ý thứ hai với [liên kết](https://example.org) và <b>HTML</b>

| Cột A | Cột B |
|---|---|
| ô một | ô hai |

```text
khối mã
```

[^1]: Chú thích cuối trang.
";

/// A build's index takes each directive's text from the renderer, which
/// reads it while writing the page; serve's from a parse of its own. Both
/// give the same index, byte for byte.
#[test]
fn the_index_is_the_same_from_the_renderer_or_a_parse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("site");
    support::copy_dir(&repo().join("tests/fixtures/search"), &root);
    std::fs::write(
        root.join("content/directives/2023/31-cv-btgtu.md"),
        EVERY_KIND_OF_TEXT,
    )
    .expect("write");
    let out = dir.path().join("public");
    build_site(&root, &out);
    let (graph, diags) = banhanh::site_graph(&root, false);
    let graph = graph.unwrap_or_else(|| panic!("{diags:?}"));
    let parsed: BTreeMap<String, Vec<u8>> = banhanh::search::index::build(&graph)
        .into_iter()
        .map(|p| (p.path, p.bytes))
        .collect();
    let built: BTreeMap<String, Vec<u8>> = files_below(&out.join("search"))
        .into_iter()
        .map(|(path, bytes)| (format!("search/{path}"), bytes))
        .collect();
    assert!(parsed.len() > 10, "{} files", parsed.len());
    assert_eq!(
        parsed.keys().collect::<Vec<_>>(),
        built.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &parsed {
        assert!(built[path] == *bytes, "{path} differs");
    }
}

#[test]
fn normalization_vectors_hold_in_rust() {
    let text =
        std::fs::read_to_string(repo().join("tests/vectors/normalize.json")).expect("vectors");
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    assert!(vectors.len() >= 15);
    for v in &vectors {
        let input = v["input"].as_str().expect("input");
        let want = |k: &str| -> Vec<String> {
            v[k].as_array()
                .expect(k)
                .iter()
                .map(|s| s.as_str().expect("string").to_string())
                .collect()
        };
        assert_eq!(normalized(input), want("normalized"), "{}", v["note"]);
        assert_eq!(folded(input), want("folded"), "{}", v["note"]);
    }
    assert_eq!(fnv1a("a"), 0xe40c_292c);
}

/// The postings line of `key` in the built index: variant → documents.
fn postings(site: &Path, key: &str) -> Option<BTreeMap<String, Vec<u32>>> {
    let meta: serde_json::Value =
        serde_json::from_str(&gunzip(&site.join("search/meta.gz"))).expect("meta");
    let shards = meta["shards"].as_u64().expect("shards") as u32;
    let shard = gunzip(&site.join(format!("search/s/{:x}.gz", fnv1a(key) % shards)));
    let line = shard.lines().find(|l| l.split('\t').next() == Some(key))?;
    let f: Vec<&str> = line[key.len() + 1..].split('\t').collect();
    let mut out = BTreeMap::new();
    for pair in f.chunks(2) {
        let docs = match pair[1].strip_prefix('@') {
            Some(at) => {
                let at: Vec<&str> = at.split('.').collect();
                let hex = |s: &str| usize::from_str_radix(s, 16).expect("hex");
                let pack =
                    std::fs::read(site.join(format!("search/k/{}.bin", at[0]))).expect("pack");
                let (start, len) = (hex(at[1]), hex(at[2]));
                rice_docs(&pack[start..start + len])
            }
            None => text_docs(pair[1]),
        };
        out.insert(
            if pair[0].is_empty() { key } else { pair[0] }.to_string(),
            docs,
        );
    }
    Some(out)
}

/// The documents of a list in a shard's line: per posting, delta digits
/// (A-Z base 26, then one base 36), then a score digit.
fn text_docs(list: &str) -> Vec<u32> {
    let (mut doc, mut high, mut docs) = (0u32, 0u32, Vec::new());
    let mut chars = list.chars();
    while let Some(c) = chars.next() {
        if c.is_ascii_uppercase() {
            high = high * 26 + (c as u32 - 'A' as u32);
            continue;
        }
        doc += high * 36 + c.to_digit(36).expect("delta digit");
        high = 0;
        chars.next().and_then(|s| s.to_digit(36)).expect("score");
        docs.push(doc);
    }
    docs
}

/// The documents of a long list (`k/`): header k, ks, m, m scores,
/// LEB128 count, then per posting a Rice-coded gap less one and a
/// Rice-coded score rank.
fn rice_docs(bytes: &[u8]) -> Vec<u32> {
    let (k, ks, m) = (
        u32::from(bytes[0]),
        u32::from(bytes[1]),
        usize::from(bytes[2]),
    );
    let (mut at, mut n, mut shift) = (3 + m, 0usize, 0);
    loop {
        let b = bytes[at];
        at += 1;
        n |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b < 0x80 {
            break;
        }
    }
    let mut pos = at * 8;
    let mut rice = |p: u32| {
        let mut bit = || {
            let b = i64::from(bytes[pos / 8] >> (7 - pos % 8) & 1);
            pos += 1;
            b
        };
        let mut high = 0i64;
        while bit() == 1 {
            high += 1;
        }
        (0..p).fold(high, |v, _| v * 2 + bit())
    };
    let (mut doc, mut docs) = (-1i64, Vec::new());
    for _ in 0..n {
        doc += rice(k) + 1;
        assert!(rice(ks) < m as i64, "a score rank within the table");
        docs.push(doc as u32);
    }
    docs
}

fn doc_numbers(site: &Path, docs: &[u32]) -> Vec<String> {
    docs.iter()
        .map(|d| {
            // Doc-store block: u32 offsets (summary, rest per document), then
            // the members (LZ4 blocks after their length).
            let block =
                std::fs::read(site.join(format!("search/b/{:x}.bin", d / 32))).expect("block");
            let at = |i: usize| {
                u32::from_le_bytes(block[4 * i..4 * i + 4].try_into().expect("u32")) as usize
            };
            let k = 2 * (*d as usize % 32);
            let json =
                lz4_flex::block::decompress_size_prepended(&block[at(k)..at(k + 1)]).expect("lz4");
            let v: serde_json::Value = serde_json::from_slice(&json).expect("doc");
            v["n"].as_str().expect("n").to_string()
        })
        .collect()
}

#[test]
fn the_index_keeps_variants_pairs_and_abbreviations() {
    let dir = tempfile::tempdir().expect("tmp");
    build_fixture(dir.path());
    let site = dir.path();
    // Folded key, exact variants: hoá and hóa are one variant, hòa another.
    let hoa = postings(site, "hoa").expect("hoa");
    assert!(
        hoa.contains_key("hóa") && hoa.contains_key("hòa"),
        "{hoa:?}"
    );
    assert!(!hoa.contains_key("hoá"), "old placement is normalized");
    // Pairs: the adjacent "tham nhũng" is a key, in the seed.
    let pair = postings(site, "tham nhung").expect("pair");
    assert!(doc_numbers(site, &pair["tham nhung"]).contains(&"1383-CV/BTGTU".to_string()));
    // The abbreviation is indexed where only the expansion is written, and
    // the reverse.
    let abbr = doc_numbers(site, &postings(site, "pctntc").expect("pctntc")["pctntc"]);
    assert!(abbr.contains(&"1383-CV/BTGTU".into()) && abbr.contains(&"41-CV/BTGTU".into()));
    let hoach = postings(site, "hoach").expect("hoach");
    assert!(!hoach.contains_key("hóa"));
    // Roman numerals are whole words.
    let xiv = doc_numbers(site, &postings(site, "xiv").expect("xiv")["xiv"]);
    assert!(!xiv.contains(&"30-CV/BTGTU".into()), "{xiv:?}");
    assert!(postings(site, "xyzzy").is_none());
}

#[test]
fn the_search_page_and_the_search_box() {
    let dir = tempfile::tempdir().expect("tmp");
    build_fixture(dir.path());
    let page = std::fs::read_to_string(dir.path().join("tim-kiem/index.html")).expect("page");
    assert!(page.contains("<noscript>") && page.contains("cần JavaScript"));
    assert!(page.contains(r#"<ol id="search-results""#));
    // The scripts are loaded from the site, gzip'd, or plain as a fallback.
    assert!(page.contains(r#"("../assets/", ["search-core.js", "search.js"])"#));
    assert!(!page.contains("http://") && !page.contains("https://cdn"));
    for f in [
        "assets/search.js",
        "assets/search-core.js",
        "search/meta.gz",
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
        if f.ends_with(".js") {
            let gz = std::fs::read(dir.path().join(format!("{f}.gz"))).expect("gzip copy");
            let mut plain = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain)
                .expect("gunzip");
            assert_eq!(
                plain,
                std::fs::read_to_string(dir.path().join(f)).expect("js")
            );
        }
    }
    let seed = std::fs::read_to_string(dir.path().join("van-ban/2024/1383-cv-btgtu/index.html"))
        .expect("seed page");
    assert!(seed.contains(r#"action="../../../tim-kiem/""#) && seed.contains(r#"name="q""#));
}

#[test]
fn the_index_is_identical_across_runs_and_thread_counts() {
    let run = |threads: usize| {
        let dir = tempfile::tempdir().expect("tmp");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| build_fixture(dir.path()));
        files_below(&dir.path().join("search"))
    };
    let one = run(1);
    assert!(one.len() > 10);
    assert_eq!(one, run(4));
    assert_eq!(one, run(1));
}

/// Where node is missing the query set cannot run: say so loudly, and fail
/// under CI.
fn node() -> Option<&'static str> {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("node");
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "node is required under CI to run tests/js"
    );
    eprintln!("\n*** SKIP: node not found; the JS search tests (tests/js) did not run ***\n");
    None
}

#[test]
fn the_js_client_passes_the_query_set_and_the_vectors() {
    let Some(node) = node() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    build_fixture(dir.path());
    let out = Command::new(node)
        .arg("--test")
        .arg(repo().join("tests/js/"))
        .env("BANHANH_SEARCH_SITE", dir.path())
        .current_dir(repo())
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("# fail 0"), "{text}");
}

/// The search fixture plus `extra` generated directives that all say
/// "tuyên truyền", so that its postings are long enough to be packed.
fn build_packed_site(extra: usize, out: &Path) -> PathBuf {
    let root = out.join("site");
    support::copy_dir(
        &repo().join("tests/fixtures/search/content"),
        &root.join("content"),
    );
    let dir = root.join("content/directives/2022");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for i in 0..extra {
        let text = format!(
            "---\nnumber: \"{n}-HD/TU\"\nkind: huong-dan\nissuer: tinh-uy-binh-phuoc\n\
             date: 2022-01-{d:02}\nsubject: Hướng dẫn số {n} về công tác tuyên truyền\n---\n\
             Đẩy mạnh tuyên truyền trong đợt {n}.\n",
            n = 1000 + i,
            d = 1 + i % 28,
        );
        std::fs::write(dir.join(format!("{}.md", 1000 + i)), text).expect("write");
    }
    let opts = BuildOptions {
        root: root.clone(),
        out: out.join("public"),
        drafts: false,
        base_url: None,
        inject: String::new(),
    };
    if let Err(e) = build(&opts) {
        panic!("packed site build failed: {:?}", e.diagnostics);
    }
    out.join("public")
}

#[test]
fn long_postings_are_packed_and_read_by_range() {
    const EXTRA: usize = 1000;
    let dir = tempfile::tempdir().expect("tmp");
    let site = build_packed_site(EXTRA, dir.path());
    let packs: Vec<_> = std::fs::read_dir(site.join("search/k"))
        .expect("k/")
        .map(|e| e.expect("entry").file_name().into_string().expect("name"))
        .collect();
    assert!(
        !packs.is_empty() && packs.iter().all(|p| p.ends_with(".bin")),
        "{packs:?}"
    );
    let tuyen = postings(&site, "tuyen").expect("tuyen is indexed");
    let docs = &tuyen["tuyên"];
    assert!(docs.len() >= EXTRA, "{}", docs.len());
    assert!(docs.windows(2).all(|w| w[0] < w[1]), "ascending documents");

    // The JS client reads the same lists through its range reader.
    let Some(node) = node() else { return };
    let script = format!(
        "import {{ S, openIndex }} from {harness:?};\n\
         const res = await S.search(openIndex({site:?}), 'tuyen truyen', {{}});\n\
         if (res.results.length < {EXTRA}) throw new Error('only ' + res.results.length);\n\
         const quoted = await S.search(openIndex({site:?}), '\"đẩy mạnh tuyên truyền\"', {{}});\n\
         if (quoted.results.length !== S.VERIFY_MAX || quoted.unchecked < {EXTRA} - S.VERIFY_MAX)\n\
           throw new Error('quoted: ' + quoted.results.length + ' checked, ' + quoted.unchecked + ' not');\n",
        harness = repo().join("tests/js/harness.mjs").display().to_string(),
        site = site.display().to_string(),
    );
    let out = Command::new(node)
        .args(["--input-type=module", "-e", &script])
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_benchmark_switch_leaves_the_index_out_and_says_so() {
    let root = repo().join("tests/fixtures/search");
    let dir = tempfile::tempdir().expect("tmp");
    let run = |out: &str, skip: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_banhanh"));
        cmd.args(["build", "--root"])
            .arg(&root)
            .arg("--out")
            .arg(dir.path().join(out));
        if skip {
            cmd.env(banhanh::SKIP_INDEX_VAR, "1");
        } else {
            cmd.env_remove(banhanh::SKIP_INDEX_VAR);
        }
        let o = cmd.output().expect("run banhanh");
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let said = run("without", true);
    assert!(said.contains(banhanh::SKIP_INDEX_VAR), "{said}");
    assert!(!dir.path().join("without/search").exists());
    assert!(dir.path().join("without/tim-kiem/index.html").is_file());
    let said = run("with", false);
    assert!(!said.contains(banhanh::SKIP_INDEX_VAR), "{said}");
    assert!(dir.path().join("with/search/meta.gz").is_file());
}
