// banhanh serve: live reload and the build error overlay.
// Added to every page by `banhanh serve` only; `banhanh build` never
// carries it. The server sends the build status on connecting and after
// every build, as a `reload` event (the build is good) or an `errors`
// event (it failed), with JSON data: {ok, good, builds, errors: [...]}.
// `good` names the last good build: when it changes, the page reloads.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var OVERLAY_ID = "banhanh-overlay";
  var seen = null;

  function clear() {
    var old = document.getElementById(OVERLAY_ID);
    if (old) old.remove();
  }

  function el(tag, css, text) {
    var e = document.createElement(tag);
    if (css) e.style.cssText = css;
    if (text != null) e.textContent = text;
    return e;
  }

  function draw(errors) {
    clear();
    var box = el("div",
      "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
      "background:rgba(24,24,27,.94);color:#f4f4f5;padding:2rem;" +
      "font:15px/1.5 system-ui,sans-serif;text-align:left");
    box.id = OVERLAY_ID;
    box.setAttribute("role", "alert");
    var count = errors.filter(function (e) { return e.severity === "error"; }).length;
    box.appendChild(el("h2", "margin:0 0 .25rem;color:#fca5a5;font-size:1.3rem",
      "Lỗi bản dựng (build failed): " + count + " lỗi"));
    box.appendChild(el("p", "margin:0 0 1.25rem;color:#d4d4d8",
      "Trang dưới đây là bản dựng tốt gần nhất. Sửa tệp và lưu lại: trang sẽ tự tải lại. " +
      "(The page below is the last good build; fix the file and save.)"));
    errors.forEach(function (e) {
      var item = el("section",
        "margin:0 0 1rem;padding:.75rem 1rem;border-left:4px solid " +
        (e.severity === "error" ? "#ef4444" : "#eab308") + ";background:#27272a");
      item.className = "banhanh-error";
      var where = e.file + (e.line ? ":" + e.line + ":" + e.column : "");
      item.appendChild(el("div", "font:600 14px/1.4 ui-monospace,monospace;color:#93c5fd",
        where + "  " + e.severity + "[" + e.code + "]"));
      var loc = e.line ? " (dòng " + e.line + ", cột " + e.column + ")" : "";
      item.appendChild(el("div", "margin:.25rem 0", e.message + loc));
      if (e.source_line != null) {
        var gutter = String(e.line);
        var pad = new Array(gutter.length + 1).join(" ");
        var caret = new Array(Math.max(e.column, 1)).join(" ") + "^";
        item.appendChild(el("pre",
          "margin:.5rem 0 0;padding:.5rem;background:#18181b;overflow:auto;" +
          "font:13px/1.4 ui-monospace,monospace;white-space:pre",
          gutter + " | " + e.source_line + "\n" + pad + " | " + caret));
      }
      if (e.suggestion) {
        item.appendChild(el("div", "margin-top:.25rem;color:#86efac",
          "Có phải ý bạn là (did you mean) `" + e.suggestion + "`?"));
      }
      box.appendChild(item);
    });
    (document.body || document.documentElement).appendChild(box);
  }

  function onStatus(ev) {
    var s;
    try { s = JSON.parse(ev.data); } catch (_) { return; }
    if (seen === null) seen = s.good;
    // For tests and the curious: the page is listening.
    document.documentElement.setAttribute("data-banhanh-live", s.ok ? "ok" : "errors");
    if (!s.ok) { draw(s.errors || []); return; }
    if (s.good !== seen) { location.reload(); return; }
    clear();
  }

  // A browser opens at most six HTTP/1.1 connections to one server, and
  // each listening page holds one: a hidden page lets go of its stream and
  // asks again when shown (a build it missed then reloads it).
  var source = null;
  function connect() {
    if (source || document.hidden) return;
    source = new EventSource("/__banhanh/events");
    source.addEventListener("reload", onStatus);
    source.addEventListener("errors", onStatus);
  }
  function disconnect() {
    if (!source) return;
    source.close();
    source = null;
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) disconnect(); else connect();
  });
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", connect);
  connect();
})();
