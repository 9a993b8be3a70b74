//! The preview server over raw HTTP (std::net::TcpStream): it serves only
//! the site folder, answers missing pages with the site's 404 page, sends
//! text with `charset=utf-8`, survives clients that hang up mid-response,
//! pushes build outcomes on its event stream, keeps the last good site
//! while the content is broken, and ignores editors' temporary files.

mod common;

use common::{Server, copy_dir, copy_fixture, raw_get, wait_for};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

const SECRET: &str = "SECRET-OUTSIDE-THE-SITE";

/// The preview fixture with the repository's default theme (so that the
/// theme is watched too) and a large static file.
fn site() -> tempfile::TempDir {
    let site = copy_fixture("preview");
    let themes = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    copy_dir(&themes, &site.path().join("themes"));
    let big: String = "0123456789abcdef\n".repeat(512 * 1024 / 17 * 16); // ~8 MiB
    std::fs::write(site.path().join("themes/default/static/big.txt"), big).unwrap();
    std::fs::write(site.path().join("secret.txt"), SECRET).unwrap();
    site
}

fn status_json(server: &Server) -> serde_json::Value {
    let r = server.get("/__banhanh/status");
    assert_eq!(r.status, 200);
    serde_json::from_slice(&r.body).expect("status is JSON")
}

#[test]
fn refuses_paths_out_of_the_site_folder() {
    let site = site();
    let server = Server::start(site.path());
    for path in [
        "/../Cargo.toml",
        "/../../secret.txt",
        "/%2e%2e/",
        "/%2e%2e/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/secret.txt",
        "/..%2f",
        "/..%2f..%2fsecret.txt",
        "/assets/..%2f..%2f..%2fsecret.txt",
        "/..%5c..%5csecret.txt",
    ] {
        let r = server.get(path);
        assert!(
            r.status == 403 || r.status == 400,
            "{path}: status {}",
            r.status
        );
        assert!(!r.text().contains(SECRET), "{path} leaked the file");
    }
    // An absolute path or a full URL in the request line.
    let r = server.get(&format!("{}/secret.txt", site.path().display()));
    assert_ne!(r.status, 200);
    assert!(!r.text().contains(SECRET));
}

#[cfg(unix)]
#[test]
fn refuses_symlinks_pointing_out_of_the_site() {
    let site = site();
    let server = Server::start(site.path());
    let out = site.path().join(".banhanh-serve/site");
    assert!(
        out.join("index.html").is_file(),
        "serve builds into .banhanh-serve/site"
    );
    assert!(
        !site.path().join("public").exists(),
        "serve never writes public/"
    );
    std::os::unix::fs::symlink(site.path().join("secret.txt"), out.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(site.path(), out.join("up")).unwrap();
    for path in ["/leak.txt", "/up/secret.txt", "/up/"] {
        let r = server.get(path);
        assert_eq!(r.status, 403, "{path}");
        assert!(!r.text().contains(SECRET), "{path} leaked the file");
    }
}

#[test]
fn missing_pages_get_the_sites_404_page() {
    let site = site();
    let server = Server::start(site.path());
    for path in ["/no/such/page/", "/van-ban/1999/x/", "/nothing.html"] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(
            r.text().contains("Không tìm thấy trang"),
            "{path}: the theme's 404 page"
        );
    }
}

#[test]
fn content_types_carry_a_charset() {
    let site = site();
    let server = Server::start(site.path());
    let cases = [
        ("/", "text/html; charset=utf-8"),
        ("/van-ban/2024/10-cv-btgtu/", "text/html; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/assets/big.txt", "text/plain; charset=utf-8"),
        ("/__banhanh/status", "application/json; charset=utf-8"),
        (
            "/__banhanh/live-reload.js",
            "text/javascript; charset=utf-8",
        ),
    ];
    for (path, ct) in cases {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(ct), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
    for path in ["/feed.xml", "/sitemap.xml"] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        let ct = r.header("content-type").unwrap_or_default();
        assert!(
            ct.contains("xml") && ct.ends_with("charset=utf-8"),
            "{path}: {ct}"
        );
    }
    // A folder without its slash is redirected to it.
    let r = server.get("/van-ban/2024/10-cv-btgtu");
    assert!((300..400).contains(&r.status), "{}", r.status);
}

#[test]
fn the_reload_script_is_in_served_pages_only() {
    let site = site();
    let server = Server::start(site.path());
    let page = server.get("/van-ban/2024/10-cv-btgtu/").text();
    assert!(
        page.contains("<script src=\"/__banhanh/live-reload.js\"></script>\n</body>"),
        "{page}"
    );
    let notfound = server.get("/missing/").text();
    assert!(notfound.contains("/__banhanh/live-reload.js"));
    // `build` carries none.
    let public = site.path().join("public");
    let out = common::run(site.path(), &["build", "--out", public.to_str().unwrap()]);
    assert!(out.status.success());
    let built =
        std::fs::read_to_string(public.join("van-ban/2024/10-cv-btgtu/index.html")).unwrap();
    assert!(!built.contains("__banhanh"));
    assert!(!public.join("assets/live-reload.js").exists());
}

#[test]
fn keeps_serving_when_clients_hang_up_mid_response() {
    let site = site();
    let mut server = Server::start(site.path());
    for _ in 0..5 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        write!(s, "GET /assets/big.txt HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut first = [0u8; 64];
        s.read_exact(&mut first).unwrap();
        assert!(first.starts_with(b"HTTP/1.1 200"));
        drop(s); // unread megabytes: the kernel resets the connection
    }
    // A request cut off before its headers end.
    let mut s = TcpStream::connect(server.addr).unwrap();
    write!(s, "GET /assets/big.txt HTTP/1.1\r\nHo").unwrap();
    drop(s);
    let r = server.get("/");
    assert_eq!(r.status, 200);
    let big = server.get("/assets/big.txt");
    assert_eq!(big.status, 200);
    assert!(big.body.len() > 8_000_000, "{}", big.body.len());
    assert!(server.is_running());
}

/// Reads server-sent events from a raw connection.
struct Events {
    reader: BufReader<TcpStream>,
}

impl Events {
    fn connect(server: &Server) -> Events {
        let mut s = TcpStream::connect(server.addr).unwrap();
        write!(
            s,
            "GET /__banhanh/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Events {
            reader: BufReader::new(s),
        }
    }

    /// The next event's (name, JSON data), skipping keep-alive comments.
    fn next(&mut self, timeout: Duration) -> (String, serde_json::Value) {
        let deadline = Instant::now() + timeout;
        let (mut name, mut data) = (String::new(), String::new());
        loop {
            assert!(Instant::now() < deadline, "no event within {timeout:?}");
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => panic!("event stream closed"),
                Ok(_) => {}
                Err(_) => continue, // read timeout: poll again
            }
            let line = line.trim_end();
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data.push_str(d);
            } else if line.is_empty() && !name.is_empty() {
                return (name, serde_json::from_str(&data).expect("JSON data"));
            }
        }
    }
}

#[test]
fn rebuilds_on_change_reports_errors_and_keeps_the_last_good_site() {
    let site = site();
    let mut server = Server::start(site.path());
    let file = site.path().join("content/directives/2024/10-cv-btgtu.md");
    let original = std::fs::read_to_string(&file).unwrap();
    let mut events = Events::connect(&server);
    let (name, first) = events.next(Duration::from_secs(10));
    assert_eq!(name, "reload");
    assert_eq!(first["ok"], true);

    // An edit: a `reload` event with a new good build, the page changed.
    std::fs::write(
        &file,
        original.replace("Tổ chức tuyên truyền.", "Nội dung mới số một."),
    )
    .unwrap();
    let (name, s) = events.next(Duration::from_secs(20));
    assert_eq!(name, "reload");
    assert_ne!(s["good"], first["good"]);
    assert!(
        server
            .get("/van-ban/2024/10-cv-btgtu/")
            .text()
            .contains("Nội dung mới số một.")
    );

    // Broken front matter: an `errors` event naming file, line and the line itself.
    let broken = std::fs::read_to_string(&file)
        .unwrap()
        .replace("kind: cong-van", "kind: cong-vn");
    std::fs::write(&file, &broken).unwrap();
    let (name, e) = events.next(Duration::from_secs(20));
    assert_eq!(name, "errors");
    assert_eq!(e["ok"], false);
    assert_eq!(
        e["good"], s["good"],
        "the last good build is still the one served"
    );
    let err = &e["errors"][0];
    assert_eq!(err["file"], "content/directives/2024/10-cv-btgtu.md");
    assert_eq!(err["line"], 3);
    assert_eq!(err["code"], "unknown-kind");
    assert_eq!(err["source_line"], "kind: cong-vn");
    assert_eq!(err["suggestion"], "cong-van");
    assert!(
        server.wait_log("error[unknown-kind]", Duration::from_secs(5)),
        "the terminal shows it too"
    );
    assert_eq!(status_json(&server)["ok"], false);
    let page = server.get("/van-ban/2024/10-cv-btgtu/");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("Nội dung mới số một."),
        "the last good page stays served"
    );

    // Fixed: a `reload` event again.
    std::fs::write(&file, &original).unwrap();
    let (name, fixed) = events.next(Duration::from_secs(20));
    assert_eq!(name, "reload");
    assert_eq!(fixed["errors"].as_array().map(Vec::len), Some(0));
    assert_ne!(fixed["good"], s["good"]);

    // A theme edit rebuilds too.
    let css = site.path().join("themes/default/static/style.css");
    let mut text = std::fs::read_to_string(&css).unwrap();
    text.push_str("\n/* theme-edit-marker */\n");
    std::fs::write(&css, text).unwrap();
    let (name, _) = events.next(Duration::from_secs(20));
    assert_eq!(name, "reload");
    assert!(
        server
            .get("/assets/style.css")
            .text()
            .contains("theme-edit-marker")
    );
}

#[test]
fn editors_temporary_files_do_not_rebuild() {
    let site = site();
    let server = Server::start(site.path());
    let dir = site.path().join("content/directives/2024");
    let builds = || status_json(&server)["builds"].as_u64().unwrap();
    let before = builds();
    for name in [
        "10-cv-btgtu.md~",
        ".#10-cv-btgtu.md",
        "#10-cv-btgtu.md#",
        ".10-cv-btgtu.md.swp",
        "x.tmp",
        "4913",
    ] {
        std::fs::write(dir.join(name), "junk").unwrap();
    }
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(builds(), before, "no rebuild for temporary files");
    // A real save does rebuild (and only once for a burst of writes).
    let file = dir.join("10-cv-btgtu.md");
    let text = std::fs::read_to_string(&file).unwrap();
    for _ in 0..3 {
        std::fs::write(&file, &text).unwrap();
    }
    wait_for("a rebuild", Duration::from_secs(20), || {
        (builds() > before).then_some(())
    });
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        builds() <= before + 2,
        "a burst of saves is not a rebuild each"
    );
    let _ = raw_get(server.addr, "/");
}

#[test]
fn a_site_broken_from_the_start_still_shows_its_errors() {
    let site = copy_fixture("broken");
    let mut server = Server::start(site.path());
    let s = status_json(&server);
    assert_eq!(s["ok"], false);
    assert_eq!(s["errors"].as_array().map(Vec::len), Some(4));
    assert_eq!(s["errors"][0]["file"], "content/directives/2023/abc.md");
    for (path, code) in [("/", 200), ("/van-ban/2024/10-cv-btgtu/", 404)] {
        let r = server.get(path);
        assert_eq!(r.status, code, "{path}");
        assert!(
            r.text().contains("/__banhanh/live-reload.js"),
            "{path}: the page that draws the overlay"
        );
    }
    assert!(server.wait_log("error[bad-number]", Duration::from_secs(5)));
    assert!(
        server.is_running(),
        "a failed first build is no reason to stop"
    );
}

#[test]
fn a_save_that_changes_no_page_reloads_none() {
    let site = site();
    let server = Server::start(site.path());
    let file = site.path().join("content/directives/2024/10-cv-btgtu.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut events = Events::connect(&server);
    let (_, first) = events.next(Duration::from_secs(10));

    // The same text saved again: a good build, the same `good`.
    std::fs::write(&file, &text).unwrap();
    let (name, same) = events.next(Duration::from_secs(20));
    assert_eq!(name, "reload");
    assert_eq!(
        same["good"], first["good"],
        "nothing changed: no page reloads"
    );
    assert!(same["builds"].as_u64() > first["builds"].as_u64());

    // Broken, then back to the last good text: the overlay goes, no reload.
    std::fs::write(&file, text.replace("date: 2024-05-22", "date: 2024-13-01")).unwrap();
    let (name, _) = events.next(Duration::from_secs(20));
    assert_eq!(name, "errors");
    std::fs::write(&file, &text).unwrap();
    let (name, back) = events.next(Duration::from_secs(20));
    assert_eq!(name, "reload");
    assert_eq!(back["ok"], true);
    assert_eq!(back["good"], first["good"]);
}
