//! Directives that know each other: a fixture corpus checked link by link.

mod support;

use regex::Regex;
use std::path::Path;
use support::*;

fn built() -> (tempfile::TempDir, String) {
    let site = fixture("relations");
    let out = build(site.path());
    assert!(out.status.success(), "{}", stderr(&out));
    (site, stderr(&out))
}

fn page(root: &Path, url: &str) -> String {
    read(root.join("public").join(url).join("index.html"))
}

/// The links of the `<section>`/`<ul>` after `heading`, as written.
fn links_after(html: &str, heading: &str) -> Vec<String> {
    let Some(start) = html.find(&format!(">{heading}</h3>")) else {
        return Vec::new();
    };
    let rest = &html[start..];
    let end = rest.find("</ul>").unwrap_or(rest.len());
    Regex::new(r#"href="([^"]+)""#)
        .unwrap()
        .captures_iter(&rest[..end])
        .map(|c| c[1].to_string())
        .collect()
}

#[test]
fn implements_links_both_ways() {
    let (site, _) = built();
    let plan = page(site.path(), "van-ban/2024/15-kh-tu");
    assert_eq!(
        links_after(&plan, "Căn cứ / thực hiện"),
        ["../../../van-ban/2024/66-ct-tw/"]
    );
    let central = page(site.path(), "van-ban/2024/66-ct-tw");
    assert_eq!(
        links_after(&central, "Được thực hiện bởi"),
        ["../../../van-ban/2024/15-kh-tu/"]
    );
    // The relation graph draws it, with a link, without JavaScript.
    assert!(central.contains("<svg class=\"relation-graph\""));
    assert!(central.contains("<a href=\"../../../van-ban/2024/15-kh-tu/\"><rect"));
}

#[test]
fn a_citation_in_the_body_links_and_backlinks() {
    let (site, _) = built();
    let letter = page(site.path(), "van-ban/2024/20-cv-btgtu");
    assert!(
        letter.contains("<a class=\"ref\" href=\"../../../van-ban/2024/66-ct-tw/\">66-CT/TW</a>")
    );
    let central = page(site.path(), "van-ban/2024/66-ct-tw");
    assert_eq!(
        links_after(&central, "Được dẫn chiếu bởi"),
        ["../../../van-ban/2024/20-cv-btgtu/"]
    );
}

#[test]
fn a_date_picks_among_directives_sharing_a_number() {
    let (site, warnings) = built();
    let letter = page(site.path(), "van-ban/2024/30-cv-btgtu");
    let refs: Vec<_> = Regex::new(r#"<a class="ref" href="([^"]+)""#)
        .unwrap()
        .captures_iter(&letter)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(
        refs,
        ["../../../van-ban/2024/05-ct-tu/"],
        "only the dated citation links"
    );
    assert!(
        warnings
            .contains("content/directives/2024/30-cv-btgtu.md:10:21: warning[ambiguous-citation]"),
        "{warnings}"
    );
    let cited = page(site.path(), "van-ban/2024/05-ct-tu");
    assert_eq!(
        links_after(&cited, "Được dẫn chiếu bởi"),
        ["../../../van-ban/2024/30-cv-btgtu/"]
    );
    let older = page(site.path(), "van-ban/2023/05-ct-tu");
    assert!(links_after(&older, "Được dẫn chiếu bởi").is_empty());
}

#[test]
fn supersedes_and_statuses() {
    let (site, _) = built();
    let new = page(site.path(), "van-ban/2024/09-hd-btgtu");
    assert_eq!(
        links_after(&new, "Thay thế"),
        ["../../../van-ban/2023/03-hd-btgtu/"]
    );
    assert!(new.contains("status-in-force\">Còn hiệu lực"));
    let old = page(site.path(), "van-ban/2023/03-hd-btgtu");
    assert_eq!(
        links_after(&old, "Bị thay thế bởi"),
        ["../../../van-ban/2024/09-hd-btgtu/"]
    );
    assert!(old.contains("status-superseded\">Đã bị thay thế"));
    let expired = page(site.path(), "van-ban/2023/05-ct-tu");
    assert!(expired.contains("status-expired\">Hết hiệu lực"));
    // Lists show the status too.
    let year = page(site.path(), "van-ban/2023");
    assert!(year.contains("Đã bị thay thế") && year.contains("Hết hiệu lực"));
}

#[test]
fn an_ambiguous_reference_in_front_matter_is_an_error() {
    let site = fixture("relations");
    assert!(build(site.path()).status.success());
    let before = snapshot(&site.path().join("public"));
    let file = site.path().join("content/directives/2024/15-kh-tu.md");
    let text = read(&file).replace("implements: [\"66-CT/TW\"]", "implements: [\"05-CT/TU\"]");
    std::fs::write(&file, text).unwrap();
    let out = build(site.path());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("15-kh-tu.md:7:15:") && err.contains("ambiguous-reference"),
        "{err}"
    );
    assert_eq!(snapshot(&site.path().join("public")), before);
}

#[test]
fn a_dated_reference_in_front_matter_resolves() {
    let site = fixture("relations");
    let file = site.path().join("content/directives/2024/15-kh-tu.md");
    let text = read(&file).replace(
        "implements: [\"66-CT/TW\"]",
        "implements: [{ number: \"05-CT/TU\", date: 2023-03-10 }]",
    );
    std::fs::write(&file, text).unwrap();
    let out = build(site.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = page(site.path(), "van-ban/2024/15-kh-tu");
    assert_eq!(
        links_after(&plan, "Căn cứ / thực hiện"),
        ["../../../van-ban/2023/05-ct-tu/"]
    );
}
