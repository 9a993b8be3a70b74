//! A small driver for headless Chromium over the DevTools protocol, for
//! browser tests. Chromium is started on loopback with
//! `--remote-debugging-port=0` and a fresh user-data-dir; the browser's
//! websocket address is read from the `DevToolsActivePort` file it writes
//! there. Pages are opened with `Target.createTarget` and driven through
//! flattened sessions (`Target.attachToTarget`), so one websocket serves
//! every tab. Dropping the [`Browser`] kills Chromium and removes its folder.

use serde_json::{Value, json};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// Where Chromium may be: `BANHANH_CHROMIUM` first, then the usual paths.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BANHANH_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
        "/usr/bin/google-chrome-stable",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// Returns Chromium's path, or `None` after printing a loud SKIP. Where
/// `CI=true`, a missing browser fails the test instead.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(p) = find_chromium() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: Chromium is required in CI (CI=true) but was not found; \
             install it (apt-get install -y chromium) or set BANHANH_CHROMIUM"
        );
    }
    eprintln!();
    eprintln!("**********************************************************************");
    eprintln!("*** SKIP {test}: no Chromium found (/usr/bin/chromium).");
    eprintln!("*** Install it with `apt-get update && apt-get install -y chromium`");
    eprintln!("*** or set BANHANH_CHROMIUM. This test FAILS when CI=true.");
    eprintln!("**********************************************************************");
    eprintln!();
    None
}

pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// One tab, addressed by its DevTools session.
#[derive(Debug, Clone)]
pub struct Page {
    pub session: String,
    pub target: String,
}

impl Browser {
    pub fn launch(chromium: &std::path::Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Chromium");
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(60);
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    if let Ok(port) = port.trim().parse::<u16>() {
                        break (port, path.trim().to_string());
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "Chromium wrote no DevToolsActivePort"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let url = format!("ws://127.0.0.1:{port}{path}");
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to DevTools");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (ws, _) = tungstenite::client::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("DevTools websocket handshake with {url}: {e}"));
        Browser {
            child,
            ws,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Sends a command (to a page's session, or to the browser) and waits
    /// for its result, skipping events.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.try_call(session, method, params)
            .unwrap_or_else(|err| panic!("{method} failed: {err}"))
    }

    /// As [`Browser::call`], with the protocol's error as a value.
    pub fn try_call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .expect("send to DevTools");
        loop {
            let reply = match self.ws.read().expect("read from DevTools") {
                Message::Text(t) => t,
                _ => continue,
            };
            let v: Value = serde_json::from_str(reply.as_str()).expect("DevTools JSON");
            if v["id"] == json!(id) {
                if let Some(err) = v.get("error") {
                    return Err(err.clone());
                }
                return Ok(v["result"].clone());
            }
        }
    }

    /// Opens `url` in a new tab.
    pub fn open(&mut self, url: &str) -> Page {
        let target = self.call(None, "Target.createTarget", json!({ "url": url }))["targetId"]
            .as_str()
            .expect("targetId")
            .to_string();
        let session = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target, "flatten": true }),
        )["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        Page { session, target }
    }

    /// Brings a tab to the front (the others become hidden).
    pub fn activate(&mut self, page: &Page) {
        self.call(
            None,
            "Target.activateTarget",
            json!({ "targetId": page.target }),
        );
    }

    /// Evaluates a JavaScript expression in the page; its value as JSON
    /// (`null` while the page is between documents).
    pub fn eval(&mut self, page: &Page, expression: &str) -> Value {
        let Ok(r) = self.try_call(
            Some(&page.session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        ) else {
            // Between two documents (a reload): nothing to evaluate in yet.
            return Value::Null;
        };
        if r.get("exceptionDetails").is_some() {
            return Value::Null;
        }
        r["result"]["value"].clone()
    }

    /// Polls `expression` until `accept` takes its value; the time it took.
    pub fn wait_until(
        &mut self,
        page: &Page,
        what: &str,
        expression: &str,
        timeout: Duration,
        accept: impl Fn(&Value) -> bool,
    ) -> Duration {
        let started = Instant::now();
        let mut last = Value::Null;
        while started.elapsed() < timeout {
            last = self.eval(page, expression);
            if accept(&last) {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out after {timeout:?} waiting for {what}; last value: {last}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
