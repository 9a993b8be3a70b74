//! End to end in a real browser: `banhanh serve` on a copy of a small site,
//! a directive page open in headless Chromium (driven over the DevTools
//! protocol, see common/cdp.rs). Editing the file shows the new text without
//! a manual reload; breaking the front matter shows the overlay naming the
//! file and line over the last good page (also in a page opened while
//! broken); fixing it removes the overlay.

mod common;

use common::cdp::{Browser, chromium_or_skip};
use common::{Server, copy_fixture};
use serde_json::Value;
use std::time::{Duration, Instant};

const PAGE: &str = "van-ban/2024/10-cv-btgtu/";
const FILE: &str = "content/directives/2024/10-cv-btgtu.md";
const BODY: &str = "document.body ? document.body.innerText : ''";
/// `true` only when evaluated in a loaded document without the overlay
/// (an evaluation between two documents gives `null`).
const NO_OVERLAY: &str =
    "document.readyState === 'complete' && document.getElementById('banhanh-overlay') === null";
const OVERLAY: &str =
    "(function(){var o=document.getElementById('banhanh-overlay');return o?o.innerText:null})()";

fn text_has(needle: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v.as_str().is_some_and(|s| s.contains(needle))
}

#[test]
fn edits_reload_the_page_and_errors_show_an_overlay() {
    let Some(chromium) = chromium_or_skip("serve_browser") else {
        return;
    };
    let site = copy_fixture("preview");
    let mut server = Server::start(site.path());
    let mut browser = Browser::launch(&chromium);
    let page = browser.open(&format!("{}{PAGE}", server.url));
    let long = Duration::from_secs(30);
    browser.wait_until(
        &page,
        "the directive page",
        BODY,
        long,
        text_has("Tổ chức tuyên truyền."),
    );
    browser.wait_until(
        &page,
        "the live-reload script to connect",
        "document.documentElement.getAttribute('data-banhanh-live')",
        long,
        |v| v == "ok",
    );

    // 1. An edit appears by itself.
    let file = site.path().join(FILE);
    let original = std::fs::read_to_string(&file).unwrap();
    let edited = original.replace(
        "Tổ chức tuyên truyền.",
        "Tổ chức tuyên truyền sâu rộng, sửa lần một.",
    );
    let saved = Instant::now();
    std::fs::write(&file, &edited).unwrap();
    browser.wait_until(
        &page,
        "the edited text",
        BODY,
        long,
        text_has("sửa lần một"),
    );
    let latency = saved.elapsed();
    eprintln!("edit-to-browser latency: {} ms", latency.as_millis());

    // 2. Broken front matter: the overlay names the file and the line, over
    //    the last good page.
    let broken = edited.replace("date: 2024-05-22", "date: 2024-05-32");
    std::fs::write(&file, &broken).unwrap();
    let overlay = browser.wait_until(&page, "the error overlay", OVERLAY, long, |v| v.is_string());
    eprintln!("save-to-overlay latency: {} ms", overlay.as_millis());
    let shown = browser.eval(&page, OVERLAY);
    let shown = shown.as_str().unwrap();
    assert!(
        shown.contains(&format!("{FILE}:5:")),
        "file and line: {shown}"
    );
    assert!(
        shown.contains("date: 2024-05-32"),
        "the offending line: {shown}"
    );
    assert!(shown.contains("2024-05-32"), "the message: {shown}");
    let body = browser.eval(&page, BODY);
    assert!(
        text_has("sửa lần một")(&body),
        "the last good page stays under the overlay"
    );
    assert!(
        server.wait_log(&format!("{FILE}:5:"), Duration::from_secs(5)),
        "the terminal prints it too"
    );

    // A page opened while the build is broken shows the overlay too. The
    // new tab is in front: the first one is hidden and lets go of its
    // event stream.
    let second = browser.open(&server.url);
    browser.wait_until(
        &second,
        "the overlay on a page opened while broken",
        OVERLAY,
        long,
        text_has(FILE),
    );
    browser.wait_until(
        &page,
        "the first tab to be hidden",
        "document.hidden",
        long,
        |v| v == true,
    );

    // 3. Fixed: the overlay goes, the page shows the fixed text; the hidden
    //    tab catches up as soon as it is shown again.
    let fixed = edited.replace("sửa lần một", "sửa lần hai");
    std::fs::write(&file, &fixed).unwrap();
    browser.wait_until(
        &second,
        "the overlay to go on the second page",
        NO_OVERLAY,
        long,
        |v| v == true,
    );
    browser.activate(&page);
    browser.wait_until(&page, "the fixed text", BODY, long, text_has("sửa lần hai"));
    browser.wait_until(&page, "the overlay to go", NO_OVERLAY, long, |v| v == true);

    // And in front, a fix with no tab switch: break and fix once more.
    std::fs::write(&file, &broken).unwrap();
    browser.wait_until(&page, "the overlay again", OVERLAY, long, text_has(FILE));
    std::fs::write(&file, fixed.replace("sửa lần hai", "sửa lần ba")).unwrap();
    browser.wait_until(&page, "the overlay to go again", NO_OVERLAY, long, |v| {
        v == true
    });
    browser.wait_until(
        &page,
        "the text fixed again",
        BODY,
        long,
        text_has("sửa lần ba"),
    );
    assert_eq!(
        browser.eval(&page, NO_OVERLAY),
        true,
        "no overlay on the fixed page"
    );

    assert!(
        latency < Duration::from_secs(5),
        "an edit took {latency:?} to reach the browser"
    );
    assert!(server.is_running());
}

/// Edit-to-browser latency on the repository's example site, measured
/// from writing the file to the browser showing the new text (polled every
/// 20 ms). Run it with the release binary:
/// `cargo test --release --test serve_browser -- --ignored --nocapture`
#[test]
#[ignore = "a measurement; run by hand with --ignored --nocapture"]
fn latency_on_the_example_site() {
    let Some(chromium) = chromium_or_skip("latency_on_the_example_site") else {
        return;
    };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = tempfile::tempdir().unwrap();
    common::copy_dir(&repo.join("content"), &site.path().join("content"));
    common::copy_dir(&repo.join("themes"), &site.path().join("themes"));
    let mut server = Server::start(site.path());
    let mut browser = Browser::launch(&chromium);
    let file = site.path().join("content/directives/2024/1383-cv-btgtu.md");
    let original = std::fs::read_to_string(&file).unwrap();
    let page = browser.open(&format!("{}van-ban/2024/1383-cv-btgtu/", server.url));
    let long = Duration::from_secs(30);
    browser.wait_until(
        &page,
        "the live-reload script to connect",
        "document.documentElement.getAttribute('data-banhanh-live')",
        long,
        |v| v == "ok",
    );
    let mut times = Vec::new();
    for i in 0..10 {
        let marker = format!("Đoạn đo thời gian số {i}.");
        let saved = Instant::now();
        std::fs::write(&file, format!("{original}\n{marker}\n")).unwrap();
        let expr = format!("document.body && document.body.innerText.includes('{marker}')");
        browser.wait_until(&page, "the edit", &expr, long, |v| v == true);
        times.push(saved.elapsed());
        browser.wait_until(
            &page,
            "the script to reconnect",
            "document.documentElement.getAttribute('data-banhanh-live')",
            long,
            |v| v == "ok",
        );
    }
    for line in server.drain_log() {
        eprintln!("server: {line}");
    }
    eprintln!(
        "each: {:?}",
        times.iter().map(Duration::as_millis).collect::<Vec<_>>()
    );
    times.sort();
    eprintln!(
        "edit-to-browser latency over {} edits: min {} ms, median {} ms, max {} ms",
        times.len(),
        times[0].as_millis(),
        times[times.len() / 2].as_millis(),
        times[times.len() - 1].as_millis()
    );
}
