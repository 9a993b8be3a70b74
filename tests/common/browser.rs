//! Headless Chromium for tests: find it (or skip loudly; under `CI=true` a
//! missing browser fails), serve a folder on a loopback port, and load pages
//! with `--dump-dom`, scripts running on a virtual-time budget.
//!
//! Use from a test file with `mod common;` and `common::browser::...`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The Chromium binary, or `None` after printing a loud SKIP. Panics when
/// `CI=true` and no browser is found.
pub fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
        Some(PathBuf::from("/usr/bin/google-chrome")),
    ];
    if let Some(found) = candidates.into_iter().flatten().find(|p| p.is_file()) {
        return Some(found);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but no Chromium found (set CHROMIUM or install /usr/bin/chromium)"
    );
    eprintln!(
        "\n*** SKIP: no Chromium found (/usr/bin/chromium); browser tests did not run. \
         Install it with `apt-get install -y chromium` ***\n"
    );
    None
}

/// A static file server on 127.0.0.1, serving `root` until the test ends.
/// It counts what it sends, for tests of what a page downloads.
pub struct Server {
    pub port: u16,
    sent: Arc<Mutex<Sent>>,
}

/// What a [`Server`] sent since it was last asked: each response.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sent {
    pub log: Vec<Response>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub path: String,
    pub body_bytes: usize,
    pub head_bytes: usize,
}

impl Sent {
    /// Bytes of the response bodies.
    pub fn body_bytes(&self) -> usize {
        self.log.iter().map(|r| r.body_bytes).sum()
    }

    /// Bytes on the wire: bodies and headers.
    pub fn wire_bytes(&self) -> usize {
        self.log.iter().map(|r| r.body_bytes + r.head_bytes).sum()
    }

    /// Whether a response was sent for `path` with `status`.
    pub fn sent(&self, path: &str, status: u16) -> bool {
        self.log
            .iter()
            .any(|r| r.path == path && r.status == status)
    }
}

impl Server {
    /// What was sent since the last call (or the start), and starts over.
    pub fn take_sent(&self) -> Sent {
        std::mem::take(&mut *self.sent.lock().expect("sent"))
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }
}

pub fn serve(root: &Path) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let root = root.to_path_buf();
    let sent = Arc::new(Mutex::new(Sent::default()));
    let counter = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            let counter = counter.clone();
            std::thread::spawn(move || {
                let _ = answer(stream, &root, &counter);
            });
        }
    });
    Server { port, sent }
}

fn answer(stream: TcpStream, root: &Path, sent: &Mutex<Sent>) -> std::io::Result<()> {
    let mut stream = Counted {
        stream,
        head: Vec::new(),
    };
    let (status, path, body_bytes) = respond(&mut stream, root)?;
    if let Ok(mut sent) = sent.lock() {
        sent.log.push(Response {
            status,
            path,
            body_bytes,
            head_bytes: stream.head.len(),
        });
    }
    Ok(())
}

/// The response's head as written (its body is counted by `respond`).
struct Counted {
    stream: TcpStream,
    head: Vec<u8>,
}

impl Counted {
    fn head(&mut self, head: String) -> std::io::Result<()> {
        self.head.extend_from_slice(head.as_bytes());
        self.stream.write_all(head.as_bytes())
    }
}

/// Answers one request; returns its status, path and body length.
fn respond(out: &mut Counted, root: &Path) -> std::io::Result<(u16, String, usize)> {
    out.stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(out.stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // `Range: bytes=a-b` (the search client reads doc-store blocks so).
    let mut range: Option<(usize, usize)> = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(spec) = lower.strip_prefix("range: bytes=") {
            let mut ends = spec.trim().splitn(2, '-');
            let a = ends.next().and_then(|a| a.parse().ok());
            let b = ends.next().and_then(|b| b.parse().ok());
            if let (Some(a), Some(b)) = (a, b) {
                range = Some((a, b));
            }
        }
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let path = percent_decode(target.split(['?', '#']).next().unwrap_or("/"));
    let mut file = root.to_path_buf();
    for part in path
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
    {
        file.push(part);
    }
    if file.is_dir() {
        file.push("index.html");
    }
    match std::fs::read(&file) {
        Ok(body) => {
            let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
            let kind = match ext {
                "html" => "text/html; charset=utf-8",
                "css" => "text/css; charset=utf-8",
                "js" | "mjs" => "text/javascript; charset=utf-8",
                "json" => "application/json",
                "xml" => "application/xml",
                "svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            if let Some((a, b)) = range.filter(|&(a, b)| a <= b && b < body.len()) {
                out.head(format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Type: {kind}\r\nContent-Range: bytes {a}-{b}/{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len(),
                    b + 1 - a
                ))?;
                out.stream.write_all(&body[a..=b])?;
                return Ok((206, path, b + 1 - a));
            }
            out.head(format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ))?;
            out.stream.write_all(&body)?;
            Ok((200, path, body.len()))
        }
        Err(_) => {
            out.head(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            )?;
            Ok((404, path, 0))
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Loads `url` in a fresh headless Chromium and returns the DOM after
/// `budget_ms` of virtual time. `extra` adds flags.
pub fn dump_dom(browser: &Path, url: &str, budget_ms: u32, extra: &[&str]) -> String {
    assert!(url.starts_with("http://127.0.0.1:"), "loopback only: {url}");
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .args(extra)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !dom.trim().is_empty(),
        "chromium printed no DOM for {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}
