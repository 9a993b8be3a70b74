/* banhanh search page: reads ?q=&kind=&issuer=&recipient=&topic=&year=,
 * fetches only the index parts a query needs (gzip files inflated with
 * DecompressionStream) and lists results as the reader types. */
(function () {
  "use strict";
  var S = window.BanhanhSearch, app = document.getElementById("search-app");
  if (!S || !app) return;
  var root = app.getAttribute("data-root") || "";
  var base = root + "search/";
  var $ = function (id) { return document.getElementById(id); };
  var form = $("search-form"), input = $("search-q"), list = $("search-results"), status = $("search-status");
  var more = $("search-more"), details = $("search-filters"), facetBox = $("search-facets");
  var DIM_LABELS = { kind: "Loại văn bản", issuer: "Cơ quan ban hành", recipient: "Nơi nhận", topic: "Chủ đề", year: "Năm" };
  var ORDER = ["kind", "issuer", "recipient", "topic", "year"];

  function inflate(buf) {
    var bytes = new Uint8Array(buf);
    // Served already decoded (a server adding Content-Encoding): plain text.
    if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return Promise.resolve(new TextDecoder().decode(bytes));
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }
  /* When the last index response was read: the page records how long
   * ranking and showing took after it (data-idle-ms). */
  var arrived = 0;
  function received(buf) { arrived = performance.now(); return buf; }
  function load(path) {
    return fetch(base + path).then(function (r) {
      if (!r.ok) throw new Error(path + ": " + r.status);
      return r.arrayBuffer();
    }).then(received).then(inflate);
  }
  /* Bytes start..end of an index file; a server that ignores the range
   * sends the whole file, cut here. */
  function range(path, start, end) {
    return fetch(base + path, { headers: { Range: "bytes=" + start + "-" + (end - 1) } }).then(function (r) {
      if (!r.ok) throw new Error(path + ": " + r.status);
      var whole = r.status !== 206;
      return r.arrayBuffer().then(received).then(function (buf) {
        var bytes = new Uint8Array(buf);
        if (whole) bytes = bytes.subarray(start, end);
        return bytes;
      });
    });
  }

  if (typeof DecompressionStream === "undefined") {
    status.textContent = "Trình duyệt này quá cũ để tìm kiếm (thiếu DecompressionStream). Hãy dùng phiên bản mới của Chrome, Edge, Firefox hoặc Safari.";
    return;
  }

  var index = new S.Index(load, range);
  var state = { q: "", filters: {}, shown: 0, results: [], query: null, seq: 0 };

  function readUrl() {
    var p = new URLSearchParams(location.search);
    state.q = p.get("q") || "";
    state.filters = {};
    ORDER.forEach(function (d) { var v = p.get(d); if (v) state.filters[d] = v; });
    input.value = state.q;
  }
  function writeUrl() {
    var p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    ORDER.forEach(function (d) { if (state.filters[d]) p.set(d, state.filters[d]); });
    var qs = p.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  function facetValues(dim) {
    if (dim === "year") return index.meta.years.map(function (r) { return [String(r[0]), String(r[0]), r[2] - r[1]]; });
    return index.facetValues[dim] || [];
  }

  function renderFacets(counts) {
    // Rebuilt on every run: keep the focus on the filter being used.
    var focused = document.activeElement && document.activeElement.id;
    facetBox.textContent = "";
    ORDER.forEach(function (dim) {
      var label = document.createElement("label"), select = document.createElement("select");
      label.textContent = DIM_LABELS[dim] + " ";
      select.name = dim;
      select.id = "filter-" + dim;
      var all = document.createElement("option");
      all.value = "";
      all.textContent = "Tất cả";
      select.appendChild(all);
      facetValues(dim).forEach(function (v) {
        var c = counts && counts[dim] ? (counts[dim][v[0]] || 0) : v[2];
        if (c === 0 && state.filters[dim] !== v[0]) return;
        var o = document.createElement("option");
        o.value = v[0];
        o.textContent = v[1] + " (" + c + ")";
        if (state.filters[dim] === v[0]) o.selected = true;
        select.appendChild(o);
      });
      select.addEventListener("change", function () {
        if (select.value) state.filters[dim] = select.value; else delete state.filters[dim];
        run();
      });
      label.appendChild(select);
      var box = document.createElement("div");
      box.className = "facet facet-" + dim;
      box.appendChild(label);
      facetBox.appendChild(box);
    });
    if (focused && focused.indexOf("filter-") === 0 && $(focused)) $(focused).focus();
  }

  function renderItem(r, doc) {
    var snip = S.snippet(index, state.query, doc);
    var li = document.createElement("li");
    var href = root + doc.u + (snip.anchor ? "#" + snip.anchor : "");
    li.innerHTML = '<h2><a href="' + S.escapeHtml(href) + '">' + S.escapeHtml(doc.k + " số " + doc.n) + "</a></h2>" +
      '<p class="meta"><time>' + S.escapeHtml(doc.d) + "</time> · " + S.escapeHtml(doc.i) + "</p>" +
      '<p class="subject">' + S.escapeHtml(doc.s) + "</p>" +
      '<p class="snippet">' + snip.html + "</p>";
    li.setAttribute("data-doc", String(r.doc));
    return li;
  }

  function showMore(seq, started) {
    var page = state.results.slice(state.shown, state.shown + S.PAGE);
    return index.pageDocs(page, state.query).then(function (docs) {
      if (seq !== state.seq) return;
      docs.forEach(function (doc, i) { list.appendChild(renderItem(page[i], doc)); });
      state.shown += page.length;
      more.hidden = state.shown >= state.results.length;
      if (started) {
        var now = performance.now();
        list.setAttribute("data-ms", String(Math.round(now - started)));
        list.setAttribute("data-idle-ms", String(Math.round(now - Math.max(arrived, started))));
      }
      list.setAttribute("data-q", state.q);
      list.setAttribute("data-seq", String(seq));
      list.setAttribute("data-ready", "1");
    });
  }

  function run() {
    var seq = ++state.seq;
    state.q = input.value.trim();
    writeUrl();
    list.removeAttribute("data-ready");
    var needFacets = details.open || ORDER.some(function (d) { return d !== "year" && state.filters[d]; });
    var started = 0;
    var ready = needFacets ? index.init().then(function () { return index.loadFacets(); }) : index.init();
    return ready.then(function () {
      if (seq !== state.seq) return;
      if (!state.q && !Object.keys(state.filters).length) {
        list.textContent = "";
        status.textContent = "Nhập từ khóa để tìm trong " + index.meta.n + " văn bản.";
        more.hidden = true;
        renderFacets(null);
        list.setAttribute("data-ready", "1");
        return;
      }
      status.textContent = "Đang tìm…";
      return S.search(index, state.q, state.filters, function () { started = performance.now(); }).then(function (res) {
        if (seq !== state.seq) return;
        started = started || performance.now();
        state.results = res.results;
        state.query = res.query;
        state.shown = 0;
        list.textContent = "";
        renderFacets(index.facets || state.filters.year ? res.counts : null);
        if (res.missing.length) {
          status.textContent = "Không tìm thấy văn bản nào: không văn bản nào có " +
            res.missing.map(function (w) { return "“" + w + "”"; }).join(", ") + ".";
        } else if (!res.results.length) {
          status.textContent = "Không tìm thấy văn bản nào khớp với tất cả từ khóa và bộ lọc.";
        } else {
          status.textContent = "Tìm thấy " + res.results.length + " văn bản." + (res.unchecked ?
            " Cụm từ trong ngoặc kép chỉ được đối chiếu với " + S.VERIFY_MAX + " văn bản đầu tiên; " + res.unchecked + " văn bản còn lại chưa được xét." : "");
        }
        more.hidden = true;
        return showMore(seq, started);
      });
    }).catch(function (e) {
      status.textContent = "Không tải được chỉ mục tìm kiếm (" + e.message + ").";
    });
  }

  var timer = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); clearTimeout(timer); run(); });
  more.addEventListener("click", function () { showMore(state.seq, 0); });
  details.addEventListener("toggle", function () { if (details.open && !index.facets) run(); });

  /* Arrow keys: from the box to the first result, between results, and
   * from the first result back to the box. */
  function links() { return Array.prototype.slice.call(list.querySelectorAll("li h2 a")); }
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { var l = links(); if (l.length) { e.preventDefault(); l[0].focus(); } }
  });
  list.addEventListener("keydown", function (e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    var l = links(), i = l.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    if (e.key === "ArrowDown" && i + 1 < l.length) l[i + 1].focus();
    else if (e.key === "ArrowUp") (i > 0 ? l[i - 1] : input).focus();
  });

  readUrl();
  if (ORDER.some(function (d) { return state.filters[d]; })) details.open = true;
  run();
  input.focus();
})();
