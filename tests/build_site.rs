//! The shipped example site, built by the real binary and checked page by page.

mod support;

use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::*;

/// The seed directive's file in the example site, and its page.
const SEED_FILE: &str = "content/directives/2024/1383-cv-btgtu.md";
const SEED_PAGE: &str = "van-ban/2024/1383-cv-btgtu/index.html";

/// Names `theme` in the site's `site.yaml`.
fn use_theme(site: &Path, theme: &str) {
    let cfg = site.join("content/site.yaml");
    let text = read(&cfg);
    std::fs::write(&cfg, format!("{text}theme: {theme}\n")).unwrap();
}

fn built_example() -> (tempfile::TempDir, PathBuf) {
    let site = example_site();
    let out = build(site.path());
    assert!(out.status.success(), "build failed:\n{}", stderr(&out));
    let public = site.path().join("public");
    (site, public)
}

#[test]
fn seed_page_reads_like_the_document() {
    let (_site, public) = built_example();
    let html = read(public.join(SEED_PAGE));
    assert!(html.contains("Số 1383-CV/BTGTU"));
    assert!(html.contains("Bình Phước, ngày 22 tháng 5 năm 2024"));
    assert!(html.contains("ĐẢNG CỘNG SẢN VIỆT NAM"));
    assert!(html.contains("V/v Tiếp tục đẩy mạnh công tác tuyên truyền"));
    assert!(html.contains("Kính gửi:"));
    assert!(html.contains("TỈNH ỦY BÌNH PHƯỚC"));
    for section in ["muc-1", "muc-2", "muc-3", "muc-4"] {
        assert!(
            html.contains(&format!("id=\"{section}\"")),
            "section {section} missing"
        );
    }
    for n in 1..=4 {
        assert!(
            html.contains(&format!(">{n}. ")),
            "numbered section {n} missing"
        );
    }
    // Each recipient of "Kính gửi" links to a page that exists.
    let to = html
        .split("class=\"doc-to-list\"")
        .nth(1)
        .expect("recipient list");
    let to = &to[..to.find("</ul>").expect("end of list")];
    let links = Regex::new(r#"href="([^"]+)""#).unwrap();
    let dir = public.join("van-ban/2024/1383-cv-btgtu");
    let mut count = 0;
    for c in links.captures_iter(to) {
        let target = dir.join(&c[1]).join("index.html");
        assert!(target.is_file(), "recipient page {} missing", &c[1]);
        count += 1;
    }
    assert_eq!(count, 7, "the seed names seven recipients");
}

#[test]
fn recipient_page_lists_the_seed_with_its_section() {
    let (_site, public) = built_example();
    let html = read(public.join("noi-nhan/hoi-nha-bao-tinh/index.html"));
    assert!(html.contains("1383-CV/BTGTU"));
    assert!(
        html.contains("van-ban/2024/1383-cv-btgtu/#muc-3"),
        "section 3 is asked of this body"
    );
    // A member of a group sees the directive through the group.
    let member = read(public.join("noi-nhan/bao-binh-phuoc/index.html"));
    assert!(member.contains("1383-CV/BTGTU"));
    assert!(member.contains("Gửi qua nhóm"));
}

#[test]
fn state_bodies_carry_the_state_motto() {
    let (_site, public) = built_example();
    let html = read(public.join("van-ban/2025/68-kh-ubnd/index.html"));
    assert!(html.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
    assert!(html.contains("Độc lập - Tự do - Hạnh phúc"));
    assert!(
        html.contains("KẾ HOẠCH"),
        "non-letter kinds show their name as title"
    );
    assert!(html.contains("Nơi nhận:"));
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let (site, public) = built_example();
    assert!(!public.join("van-ban/2024/118-kh-btgtu").exists());
    let out = banhanh(site.path(), &["build", "--drafts"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        public
            .join("van-ban/2024/118-kh-btgtu/index.html")
            .is_file()
    );
}

/// Every `href` and `src` of every page resolves to a file of the site,
/// and every `#fragment` to an id on the target page.
#[test]
fn every_internal_link_resolves() {
    let (_site, public) = built_example();
    let attr = Regex::new(r#"(?:href|src)="([^"]*)""#).unwrap();
    let mut checked = 0;
    let mut broken = BTreeSet::new();
    for entry in walkdir::WalkDir::new(&public) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "html") || path.ends_with("404.html") {
            continue;
        }
        let html = read(path);
        for c in attr.captures_iter(&html) {
            let link = c[1].replace("&amp;", "&");
            if link.starts_with("http") || link.starts_with("mailto:") {
                continue;
            }
            let (file_part, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = resolve(path, file_part);
            if !target.is_file() {
                broken.insert(format!(
                    "{} -> {link}",
                    path.strip_prefix(&public).unwrap().display()
                ));
                continue;
            }
            if !fragment.is_empty() && !read(&target).contains(&format!("id=\"{fragment}\"")) {
                broken.insert(format!(
                    "{} -> {link} (no such anchor)",
                    path.strip_prefix(&public).unwrap().display()
                ));
            }
            checked += 1;
        }
    }
    assert!(
        broken.is_empty(),
        "broken links:\n{}",
        broken.into_iter().collect::<Vec<_>>().join("\n")
    );
    assert!(checked > 1000, "only {checked} links checked");
}

fn resolve(page: &Path, link: &str) -> PathBuf {
    let base = page.parent().unwrap();
    let mut target = if link.is_empty() {
        page.to_path_buf()
    } else {
        base.join(link)
    };
    if link.is_empty() {
        return target;
    }
    if link.ends_with('/') || target.is_dir() {
        target = target.join("index.html");
    }
    // Normalize `..` without touching the file system.
    let mut parts: Vec<_> = Vec::new();
    for c in target.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

#[test]
fn output_is_identical_with_one_thread_or_several() {
    let site = example_site();
    let one = site.path().join("one");
    let many = site.path().join("many");
    for (dir, jobs) in [(&one, "1"), (&many, "2")] {
        let out = banhanh(
            site.path(),
            &["build", "--jobs", jobs, "--out", dir.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let strip = |m: std::collections::BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)>| {
        m.into_iter().map(|(k, (b, _))| (k, b)).collect::<Vec<_>>()
    };
    let (a, b) = (strip(snapshot(&one)), strip(snapshot(&many)));
    assert!(a.len() > 100);
    assert!(a == b, "output differs between thread counts");
}

#[test]
fn a_folder_with_only_content_builds_with_the_built_in_theme() {
    let (_site, public) = built_example();
    assert!(public.join("assets/style.css").is_file());
    assert!(public.join("404.html").is_file());
    assert!(public.join("feed.xml").is_file());
    assert!(public.join("sitemap.xml").is_file());
}

#[test]
fn the_embedded_theme_lists_every_file_of_themes_default() {
    let dir = repo().join("themes/default");
    let on_disk: BTreeSet<String> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let embedded: BTreeSet<String> = banhanh::theme::DEFAULT_THEME
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(on_disk, embedded, "update src/theme.rs");
}

#[test]
fn a_named_theme_overrides_default_files_by_name() {
    let site = example_site();
    let custom = site.path().join("themes/trang-rieng/static");
    std::fs::create_dir_all(&custom).unwrap();
    std::fs::write(custom.join("style.css"), "body { color: green }").unwrap();
    use_theme(site.path(), "trang-rieng");
    let out = build(site.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        read(site.path().join("public/assets/style.css")),
        "body { color: green }"
    );
    assert!(
        site.path().join("public/index.html").is_file(),
        "templates still come from the default theme"
    );
}

/// Every relation in the shipped content is navigable both ways: each
/// citation link, "implements" and "supersedes" link of a directive page is
/// answered on the target page by a link back.
#[test]
fn every_relation_of_the_example_is_navigable_both_ways() {
    let (_site, public) = built_example();
    let href = Regex::new(r#"href="\.\./\.\./\.\./(van-ban/\d{4}/[^"/]+/)""#).unwrap();
    let cited = Regex::new(r#"<a class="ref" href="\.\./\.\./\.\./([^"]+)""#).unwrap();
    let mut pairs = 0;
    for entry in walkdir::WalkDir::new(public.join("van-ban"))
        .min_depth(2)
        .max_depth(2)
    {
        let dir = entry.unwrap().into_path();
        if !dir.is_dir() {
            continue;
        }
        let own = format!(
            "van-ban/{}/",
            dir.strip_prefix(public.join("van-ban")).unwrap().display()
        );
        let html = read(dir.join("index.html"));
        let body = &html
            [html.find("class=\"doc-body\"").unwrap()..html.find("class=\"doc-footer\"").unwrap()];
        let mut forward: Vec<(&str, String)> = Vec::new();
        for c in cited.captures_iter(body) {
            forward.push(("Được dẫn chiếu bởi", c[1].to_string()));
        }
        for (heading, back) in [
            ("Căn cứ / thực hiện", "Được thực hiện bởi"),
            ("Thay thế", "Bị thay thế bởi"),
        ] {
            if let Some(i) = html.find(&format!(">{heading}</h3>")) {
                let list = &html[i..i + html[i..].find("</ul>").unwrap()];
                for c in href.captures_iter(list) {
                    forward.push((back, c[1].to_string()));
                }
            }
        }
        for (back, target) in forward {
            let target_html = read(public.join(&target).join("index.html"));
            let i = target_html
                .find(&format!(">{back}</h3>"))
                .unwrap_or_else(|| panic!("{target} lacks {back} for {own}"));
            let list = &target_html[i..i + target_html[i..].find("</ul>").unwrap()];
            assert!(
                list.contains(&format!("../../../{own}")),
                "{target} does not link back to {own} under {back}"
            );
            pairs += 1;
        }
    }
    assert!(
        pairs >= 5,
        "the example has at least five relations, found {pairs}"
    );
}

/// The shipped seed holds the real dispatch in full: every word of its body,
/// in order, on the rendered page.
#[test]
fn the_seed_page_carries_every_word_of_the_original() {
    let original = repo().join("../shared/seed-1383-CV-BTGTU.txt");
    let Ok(text) = std::fs::read_to_string(&original) else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have ../shared/seed-1383-CV-BTGTU.txt"
        );
        eprintln!("NOTE: {} not found; skipping", original.display());
        return;
    };
    use unicode_normalization::UnicodeNormalization;
    let text: String = text.nfc().collect();
    let body = &text[text.find("Năm 2024 là năm").expect("body start")..];
    let (_site, public) = built_example();
    let html = read(public.join(SEED_PAGE));
    let page = &html[html.find("class=\"doc-body\"").unwrap()..];
    let page = Regex::new(r"<[^>]+>").unwrap().replace_all(page, " ");
    let page = page.replace("&quot;", "\"").replace("&amp;", "&");
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (want, have) = (words(body), words(&page));
    let mut at = 0;
    for (i, w) in want.iter().enumerate() {
        match have[at..].iter().position(|h| h == w) {
            Some(p) => at += p + 1,
            None => panic!(
                "word {i} `{w}` of the original is missing (after {:?})",
                &want[i.saturating_sub(5)..i]
            ),
        }
    }
    assert!(want.len() > 3500);
}

/// Index pages list topics and organizations by name, not by slug.
#[test]
fn topics_and_organizations_are_listed_by_name() {
    let (_site, public) = built_example();
    let names = |file: &str| -> Vec<String> {
        let html = read(public.join(file));
        let list = &html[html.find("count-list").unwrap()..];
        let list = &list[..list.find("</ul>").unwrap()];
        Regex::new(r#"<a href="[^"]+">([^<]+)</a>"#)
            .unwrap()
            .captures_iter(list)
            .map(|c| banhanh::text::fold(&c[1]))
            .collect()
    };
    for file in [
        "chu-de/index.html",
        "noi-nhan/index.html",
        "co-quan/index.html",
    ] {
        let got = names(file);
        let mut sorted = got.clone();
        sorted.sort();
        assert!(got.len() > 5, "{file}");
        assert_eq!(got, sorted, "{file} is not in name order");
    }
}

/// A build keeps where each directive's text is, not the text, and reads
/// it again for the page: a file that changed meanwhile stops the build
/// with an error naming it, not a page of the new text with the old one's
/// sections and links.
#[test]
fn a_directive_changed_during_the_build_stops_it_by_name() {
    use banhanh::render;
    let site = example_site();
    let (graph, diags) = banhanh::site_graph(site.path(), false);
    let graph = graph.unwrap_or_else(|| panic!("{diags:?}"));
    let path = site.path().join(SEED_FILE);
    assert!(path.is_file(), "the example has the seed at {SEED_FILE}");
    let text = read(&path);
    std::fs::write(&path, format!("{text}\nThêm một dòng.\n")).expect("write");
    let theme = banhanh::load::load_theme(site.path(), None).expect("theme");
    let tera = render::compile_templates(&theme).expect("templates");
    let opts = render::RenderOptions {
        base_url: String::new(),
        inject: String::new(),
    };
    let err = render::render(
        &graph,
        &theme,
        &tera,
        &opts,
        &render::Plan::default(),
        &|_| Ok(()),
        &|_| Ok(()),
    )
    .expect_err("the build stops");
    assert_eq!(
        (err.file.as_str(), err.code),
        (SEED_FILE, "changed-during-build")
    );
    assert!(
        err.message.contains("changed while the site was built"),
        "{}",
        err.message
    );
}

#[test]
fn values_in_pages_are_escaped_as_html() {
    let site = example_site();
    let seed = site.path().join(SEED_FILE);
    let text = read(&seed).replacen(
        "subject: Tiếp tục đẩy mạnh công tác tuyên truyền",
        r#"subject: 'Tuyên truyền <b>"A" & ''B''</b>'"#,
        1,
    );
    std::fs::write(&seed, text).expect("write");
    let out = build(site.path());
    assert!(out.status.success(), "build failed:\n{}", stderr(&out));
    let page = read(site.path().join("public").join(SEED_PAGE));
    let escaped = "Tuyên truyền &lt;b&gt;&quot;A&quot; &amp; &#39;B&#39;&lt;/b&gt;";
    assert!(page.contains(escaped), "the subject, escaped: {escaped}");
    assert!(!page.contains("<b>\"A\""), "no subject markup left as is");
}

#[test]
fn a_theme_looping_over_a_map_builds_the_same_bytes_every_time() {
    let site = example_site();
    let templates = site.path().join("themes/vong-lap/templates");
    std::fs::create_dir_all(&templates).unwrap();
    // A directive's view is a map: its keys in a loop.
    std::fs::write(
        templates.join("directive.html"),
        "{% for key, value in d %}{{ key }} {% endfor %}",
    )
    .unwrap();
    use_theme(site.path(), "vong-lap");
    let built = |out: &str| {
        let dir = site.path().join(out);
        let run = banhanh(site.path(), &["build", "--out", dir.to_str().unwrap()]);
        assert!(run.status.success(), "{}", stderr(&run));
        read(dir.join(SEED_PAGE))
    };
    let first = built("one");
    assert!(
        first.contains("number ") && first.contains("subject "),
        "{first}"
    );
    for out in ["two", "three", "four"] {
        assert_eq!(built(out), first, "the keys' order changed between builds");
    }
}
