//! The search page in headless Chromium, on the built example site: typing
//! without diacritics, a shared address with filters, keyboard navigation,
//! and the plain scripts loaded where their gzip copies cannot be.
//! Skips loudly without Chromium (fails under CI=true); see
//! tests/common/browser.rs. (The page without JavaScript is checked on its
//! HTML in tests/search.rs: headless Chromium cannot dump the DOM of a page
//! with scripting off.)

mod common;

use banhanh::{BuildOptions, build};
use common::browser::{Server, chromium, dump_dom, serve};
use regex::Regex;
use std::path::{Path, PathBuf};

const SEED: &str = "1383-CV/BTGTU";

fn built_example() -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("tmp");
    let opts = BuildOptions {
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        out: out.path().join("site"),
        drafts: false,
        base_url: None,
        inject: String::new(),
    };
    if let Err(e) = build(&opts) {
        panic!("example build failed: {:?}", e.diagnostics);
    }
    out
}

/// Numbers of the results listed in `<ol id="search-results">`, in order.
fn result_numbers(dom: &str) -> Vec<String> {
    let list = dom
        .split(r#"id="search-results""#)
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .unwrap_or("");
    let re = Regex::new(r#"<li[^>]*><h2><a href="[^"]*">([^<]*)</a></h2>"#).expect("regex");
    re.captures_iter(list)
        .map(|c| c[1].rsplit(" số ").next().unwrap_or("").to_string())
        .collect()
}

/// The first `<li>` of the result list.
fn first_result(dom: &str) -> &str {
    dom.split(r#"id="search-results""#)
        .nth(1)
        .and_then(|rest| rest.split("</li>").next())
        .unwrap_or("")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The `key=value` lines the harness page logged.
fn harness_log(dom: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
    let pre = dom
        .split(r#"<pre id="out">"#)
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or("");
    unescape(pre)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.to_string(),
                serde_json::from_str(v).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// A page that loads the search page in a frame and acts like a reader:
/// types letter by letter, uses the arrow keys, picks a filter.
const HARNESS: &str = r#"<!DOCTYPE html><meta charset="utf-8"><pre id="out"></pre>
<iframe id="f" src="../tim-kiem/" width="900" height="600"></iframe>
<script>
const out = document.getElementById("out");
const log = (k, v) => { out.textContent += k + "=" + JSON.stringify(v) + "\n"; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(fn, what) {
  for (let i = 0; i < 400; i++) { try { const v = fn(); if (v) return v; } catch (e) {} await sleep(25); }
  throw new Error("timeout: " + what);
}
const f = document.getElementById("f");
f.addEventListener("load", async () => {
  const d = f.contentDocument, w = f.contentWindow;
  try {
    const list = d.getElementById("search-results");
    const input = await until(() => d.getElementById("search-q"), "input");
    await until(() => list.getAttribute("data-ready"), "idle page");
    input.focus();
    for (const ch of "tham nhung") {
      input.value += ch;
      input.dispatchEvent(new w.Event("input", { bubbles: true }));
      await sleep(40);
    }
    await until(() => list.getAttribute("data-q") === "tham nhung" && list.getAttribute("data-ready"), "results");
    const numbers = () => [...list.querySelectorAll("li h2 a")].map((a) => a.textContent.split(" số ").pop());
    log("typed", numbers());
    log("typed_url", w.location.search);
    log("typed_mark", list.querySelector("li .snippet mark") ? list.querySelector("li .snippet").innerHTML : null);
    log("typed_href", list.querySelector("li h2 a").getAttribute("href"));
    const key = (el, k) => el.dispatchEvent(new w.KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
    const active = () => d.activeElement === input ? "input" : d.activeElement.textContent;
    key(input, "ArrowDown"); log("down1", active());
    key(d.activeElement, "ArrowDown"); log("down2", active());
    key(d.activeElement, "ArrowUp"); log("up1", active());
    key(d.activeElement, "ArrowUp"); log("up2", active());
    const links = [...list.querySelectorAll("li h2 a")].map((a) => a.textContent);
    log("links", links);
    const opened = Number(list.getAttribute("data-seq"));
    d.getElementById("search-filters").open = true;
    await until(() => Number(list.getAttribute("data-seq")) > opened && list.getAttribute("data-ready"), "filters opened");
    log("counted", d.getElementById("filter-year").selectedOptions.length === 1 && [...d.getElementById("filter-year").options].map((o) => o.textContent));
    const seq = Number(list.getAttribute("data-seq"));
    const year = d.getElementById("filter-year");
    year.focus();
    year.value = "2024";
    year.dispatchEvent(new w.Event("change", { bubbles: true }));
    await until(() => Number(list.getAttribute("data-seq")) > seq && list.getAttribute("data-ready"), "filtered");
    log("filtered", numbers());
    log("filtered_url", w.location.pathname + w.location.search);
    log("filtered_focus", d.activeElement.id);
  } catch (e) {
    log("error", String(e));
  }
  log("done", true);
});
</script>"#;

fn setup() -> Option<(PathBuf, tempfile::TempDir, Server)> {
    let browser = chromium()?;
    let dir = built_example();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("__test__")).expect("mkdir");
    std::fs::write(site.join("__test__/harness.html"), HARNESS).expect("harness");
    let server = serve(&site);
    Some((browser, dir, server))
}

fn open(browser: &Path, server: &Server, path: &str) -> String {
    dump_dom(browser, &server.url(path), 15_000, &[])
}

#[test]
fn a_reader_types_without_diacritics_moves_with_arrows_and_shares_a_filtered_address() {
    let Some((browser, _dir, server)) = setup() else {
        return;
    };
    let dom = open(&browser, &server, "__test__/harness.html");
    let log = harness_log(&dom);
    assert_eq!(log.get("error"), None, "harness failed: {log:?}");
    assert_eq!(log.get("done"), Some(&serde_json::json!(true)), "{dom}");
    let typed: Vec<String> = serde_json::from_value(log["typed"].clone()).expect("typed");
    assert_eq!(typed.first().map(String::as_str), Some(SEED), "{typed:?}");
    assert_eq!(log["typed_url"], "?q=tham+nhung");
    let mark = log["typed_mark"].as_str().expect("a snippet with <mark>");
    assert!(mark.contains("<mark>"), "{mark}");
    let href = log["typed_href"].as_str().expect("href");
    assert!(href.starts_with("../van-ban/2024/1383-cv-btgtu/"), "{href}");
    // Keyboard: ↓ from the box to the first result, ↓ to the second, ↑ back,
    // ↑ to the box.
    let links: Vec<String> = serde_json::from_value(log["links"].clone()).expect("links");
    assert!(links.len() >= 2, "{links:?}");
    assert_eq!(log["down1"], links[0]);
    assert_eq!(log["down2"], links[1]);
    assert_eq!(log["up1"], links[0]);
    assert_eq!(log["up2"], "input");
    // The filter is in the address; opening it shows the same list.
    let filtered: Vec<String> = serde_json::from_value(log["filtered"].clone()).expect("filtered");
    let url = log["filtered_url"].as_str().expect("url");
    assert_eq!(url, "/tim-kiem/?q=tham+nhung&year=2024");
    assert!(!filtered.is_empty() && filtered.len() <= typed.len());
    assert_eq!(
        log["filtered_focus"], "filter-year",
        "focus stays on the filter"
    );
    let shared = open(&browser, &server, url);
    assert_eq!(result_numbers(&shared), filtered);
    assert!(shared.contains(r#"<option value="2024" selected"#) || shared.contains("Năm"));
}

#[test]
fn abbreviations_numbers_and_topic_filters_from_the_address() {
    let Some((browser, _dir, server)) = setup() else {
        return;
    };
    for q in ["PCTNTC", "dai+hoi+XIV", "8371", "tham+nhung"] {
        let dom = open(&browser, &server, &format!("tim-kiem/?q={q}"));
        let got = result_numbers(&dom);
        assert_eq!(got.first().map(String::as_str), Some(SEED), "{q}: {got:?}");
        assert!(dom.contains("<mark>"), "{q}: no highlighted snippet");
        // "những" folds to "nhung" too, but the seed says "tham nhũng":
        // its snippet marks the phrase, not the word apart.
        let first = first_result(&dom).to_lowercase();
        assert!(first.contains("<mark>"), "{q}: {first}");
        assert!(!first.contains("<mark>những</mark>"), "{q}: {first}");
    }
    let dom = open(
        &browser,
        &server,
        "tim-kiem/?q=tuyen+truyen&topic=pctntc&year=2024",
    );
    let got = result_numbers(&dom);
    assert!(got.contains(&SEED.to_string()), "{got:?}");
    // The filter shows the topic by name (names come with facets.gz).
    assert!(
        dom.contains(r#"<option value="pctntc">Phòng, chống tham nhũng, tiêu cực ("#),
        "{dom}"
    );
    let none = open(&browser, &server, "tim-kiem/?q=xyzzy+tham");
    assert!(result_numbers(&none).is_empty());
    assert!(none.contains("Không tìm thấy"), "says so");
}

#[test]
fn without_the_gzip_copies_the_page_loads_the_plain_scripts() {
    let Some((browser, dir, server)) = setup() else {
        return;
    };
    // As on a server that refuses .gz files, or a theme without them.
    for f in ["assets/search-core.js.gz", "assets/search.js.gz"] {
        std::fs::remove_file(dir.path().join("site").join(f)).expect("remove");
    }
    let dom = open(&browser, &server, "tim-kiem/?q=tham+nhung");
    let got = result_numbers(&dom);
    assert_eq!(got.first().map(String::as_str), Some(SEED), "{got:?}");
    let sent = server.take_sent();
    assert!(sent.sent("/assets/search-core.js", 200), "{sent:?}");
}
