// SCaR browser: filters, paging and review over the data files written by `scar browse`.
// Works from file:// (data arrive as scripts calling SCAR.meta / SCAR.index / SCAR.chunk).
// Every text from the data goes into the page through textContent, never as HTML.
"use strict";
(function () {
  const NEG_TYPES = ["object", "relation", "scene"];
  const MAX_CHUNKS = 48; // full-row data files kept in memory
  const { figure, drawMasks, decodeMask } = window.SCARRegion;

  const S = {
    meta: null,
    index: null,
    chunks: new Map(),
    pending: new Map(),
    filter: { src: "", sp: "", cat: "", gen: "", nt: "", fl: "", rv: "", q: "", all: false },
    filtered: [],
    page: 0,
    pageSize: 24,
    focus: 0,
    shown: [],
    review: null,
    searchAll: null,
    renderToken: 0,
  };

  // ------------------------------------------------------------ small helpers

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
  }

  function status(text) { $("status").textContent = text || ""; }

  // ------------------------------------------------------------ data loading

  function chunkUrl(k) { return "data/chunk-" + String(k).padStart(5, "0") + ".js"; }

  function loadChunk(k) {
    if (S.chunks.has(k)) return Promise.resolve(S.chunks.get(k));
    if (S.pending.has(k)) return S.pending.get(k);
    const promise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = chunkUrl(k);
      script.onload = () => {
        script.remove();
        S.pending.delete(k);
        if (S.chunks.has(k)) resolve(S.chunks.get(k));
        else reject(new Error(chunkUrl(k) + " did not define its rows"));
      };
      script.onerror = () => {
        script.remove();
        S.pending.delete(k);
        reject(new Error("cannot load " + chunkUrl(k)));
      };
      document.head.appendChild(script);
    });
    S.pending.set(k, promise);
    return promise;
  }

  function evictChunks(keep) {
    for (const k of S.chunks.keys()) {
      if (S.chunks.size <= MAX_CHUNKS) break;
      if (!keep.has(k)) S.chunks.delete(k);
    }
  }

  function rowOf(g) {
    const rows = S.chunks.get(Math.floor(g / S.meta.chunk_rows));
    return rows ? rows[g % S.meta.chunk_rows] : null;
  }

  async function loadSearchText() {
    if (S.searchAll) return;
    const text = new Array(S.meta.rows);
    const n = S.meta.chunks;
    let done = 0;
    const next = async (k) => {
      const rows = await loadChunk(k);
      for (const row of rows) text[row.g] = row.c.join("\n").toLowerCase() + "\n" + row.img.toLowerCase();
      done += 1;
      status("loading captions " + done + "/" + n);
      if (!S.rendered || !S.rendered.has(k)) S.chunks.delete(k);
    };
    for (let k = 0; k < n; k += 8) {
      const batch = [];
      for (let j = k; j < Math.min(n, k + 8); j++) batch.push(next(j));
      await Promise.all(batch);
    }
    S.searchAll = text;
    status("");
  }

  // ------------------------------------------------------------ review decisions

  function saved(ok) {
    if (!ok) status("decisions cannot be saved in this browser: export them before closing");
    const c = S.review.counts();
    $("review-count").textContent = c.accepted + " accepted, " + c.rejected + " rejected";
  }

  function exportReview() {
    const text = JSON.stringify(S.review.toDocument(), null, 2) + "\n";
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = el("a", { href: url, download: "review-" + S.meta.site_id + ".json" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function importReview(file) {
    const reader = new FileReader();
    reader.onload = () => {
      let n;
      try {
        n = S.review.merge(JSON.parse(String(reader.result)));
      } catch (e) {
        showError(file.name + ": " + (e instanceof SyntaxError ? "not valid JSON" : e.message));
        return;
      }
      saved(true);
      status("imported " + n + " decisions from " + file.name);
      refresh(false);
    };
    reader.readAsText(file);
  }

  function decide(g, decision) {
    saved(S.review.set(S.index.id[g], decision));
    const card = cardOf(g);
    if (card) paintDecision(card, g);
  }

  // ------------------------------------------------------------ filters

  function facetCounts(column, size) {
    const counts = new Array(size).fill(0);
    for (const v of S.index[column]) counts[v]++;
    return counts;
  }

  function fillSelect(select, entries, allLabel) {
    select.replaceChildren(el("option", { value: "", text: allLabel }));
    for (const [value, label] of entries) select.append(el("option", { value: value, text: label }));
  }

  function setupFilters() {
    const f = S.meta.facets;
    for (const key of ["src", "sp", "cat", "gen"]) {
      const counts = facetCounts(key, f[key].length);
      let entries = f[key].map((name, code) => [name, code, counts[code]]);
      if (key === "cat") entries.sort((a, b) => b[2] - a[2] || a[0].localeCompare(b[0]));
      fillSelect($("f-" + key), entries.map(([name, , n]) => [name, (name || "(none)") + " (" + n + ")"]), "all");
    }
    const ntCounts = NEG_TYPES.map((_, k) => S.index.nt.reduce((n, mask) => n + ((mask >> k) & 1), 0));
    fillSelect($("f-nt"), NEG_TYPES.map((t, k) => [t, t + " (" + ntCounts[k] + " rows)"]), "all");
    const flagCounts = new Array(f.fl.length).fill(0);
    let flagged = 0;
    for (const codes of Object.values(S.index.fl)) { flagged++; for (const c of codes) flagCounts[c]++; }
    const flagEntries = [["__any", "any flag (" + flagged + ")"], ["__none", "no flag (" + (S.meta.rows - flagged) + ")"]];
    f.fl.forEach((name, code) => flagEntries.push([name, name + " (" + flagCounts[code] + ")"]));
    fillSelect($("f-fl"), S.meta.audit.file ? flagEntries : [], S.meta.audit.file ? "all" : "no audit.json");
    $("f-fl").disabled = !S.meta.audit.file;
  }

  function codeOf(key, name) {
    const values = key === "nt" ? NEG_TYPES : S.meta.facets[key];
    return values.indexOf(name);
  }

  function applyFilters() {
    const ix = S.index, f = S.filter, n = S.meta.rows;
    const want = {};
    for (const key of ["src", "sp", "cat", "gen"]) want[key] = f[key] === "" ? -1 : codeOf(key, f[key]);
    const ntBit = f.nt === "" ? 0 : 1 << Math.max(0, codeOf("nt", f.nt));
    const flagCode = f.fl && !f.fl.startsWith("__") ? codeOf("fl", f.fl) : -1;
    const q = f.q.trim().toLowerCase();
    const hay = f.all && S.searchAll ? S.searchAll : ix.text;
    const out = [];
    for (let g = 0; g < n; g++) {
      if (want.src >= 0 && ix.src[g] !== want.src) continue;
      if (want.sp >= 0 && ix.sp[g] !== want.sp) continue;
      if (want.cat >= 0 && ix.cat[g] !== want.cat) continue;
      if (want.gen >= 0 && ix.gen[g] !== want.gen) continue;
      if (ntBit && !(ix.nt[g] & ntBit)) continue;
      if (f.fl) {
        const flags = ix.fl[g];
        if (f.fl === "__any" && !flags) continue;
        if (f.fl === "__none" && flags) continue;
        if (flagCode >= 0 && !(flags && flags.includes(flagCode))) continue;
        if (flagCode < 0 && !f.fl.startsWith("__")) continue;
      }
      if (f.rv) {
        const d = S.review.get(ix.id[g]);
        if (f.rv === "unreviewed" ? d : !d || d.decision !== f.rv) continue;
      }
      if (q && !hay[g].includes(q) && !ix.id[g].toLowerCase().includes(q)) continue;
      out.push(g);
    }
    S.filtered = out;
  }

  // ------------------------------------------------------------ URL state

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    for (const key of Object.keys(S.filter)) {
      if (!params.has(key)) continue;
      S.filter[key] = key === "all" ? params.get(key) === "1" : params.get(key);
    }
    const ps = parseInt(params.get("ps") || "", 10);
    if ([12, 24, 48, 96].includes(ps)) S.pageSize = ps;
    const page = parseInt(params.get("page") || "1", 10);
    S.page = Number.isFinite(page) && page > 0 ? page - 1 : 0;
  }

  function writeHash() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(S.filter)) {
      if (key === "all") { if (value) params.set(key, "1"); }
      else if (value) params.set(key, value);
    }
    if (S.pageSize !== 24) params.set("ps", String(S.pageSize));
    if (S.page > 0) params.set("page", String(S.page + 1));
    const hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function syncControls() {
    for (const key of ["src", "sp", "cat", "gen", "nt", "fl", "rv"]) {
      const select = $("f-" + key);
      select.value = S.filter[key];
      if (select.value !== S.filter[key]) { S.filter[key] = ""; select.value = ""; }
    }
    $("f-q").value = S.filter.q;
    $("f-all").checked = S.filter.all;
    $("f-ps").value = String(S.pageSize);
  }

  // ------------------------------------------------------------ cards

  function cardOf(g) { return $("grid").querySelector('.card[data-g="' + g + '"]'); }

  function candidates(row) {
    const list = el("ol", { class: "cands" });
    row.c.forEach((text, i) => {
      const type = i === 0 ? "gold" : row.nt ? row.nt[i - 1] || "negative" : "negative";
      const dim = S.filter.nt && i > 0 && type !== S.filter.nt;
      list.append(el("li", { class: type + (dim ? " dim" : "") }, el("span", { class: "tag", text: type }), el("span", { text: text })));
    });
    return list;
  }

  function generatorText(row) {
    if (!row.gen) return "";
    return "generator " + row.gen.name + " (" + row.gen.model + "), prompts " + row.gen.prompt_version;
  }

  function card(row) {
    const g = row.g;
    const reason = el("input", { type: "text", class: "reason", placeholder: "reason (optional)", maxlength: 2000 });
    reason.addEventListener("input", () => saved(S.review.setReason(row.id, reason.value)));
    const meta = el("div", { class: "meta" },
      el("span", { class: "cat", text: row.cat || "(no category)" }),
      el("span", { class: "where", text: row.src + " / " + row.sp }));
    for (const flag of row.fl || []) meta.append(el("span", { class: "flag", text: flag }));
    if (row.p) meta.append(el("span", { class: "problem", text: row.p }));
    const fig = figure(row, row.box, row.pt, row.m);
    fig.addEventListener("click", () => { setFocus(S.shown.indexOf(g)); openDetail(g); });
    const node = el("article", { class: "card", "data-g": g, "data-id": row.id, tabindex: -1 },
      fig,
      meta,
      candidates(row),
      el("div", { class: "foot", text: [generatorText(row), row.id].filter(Boolean).join(" · ") }),
      el("div", { class: "decision" },
        el("button", { type: "button", class: "accept", title: "accept (a)", text: "accept", onclick: () => { setFocus(S.shown.indexOf(g)); decide(g, "accept"); } }),
        el("button", { type: "button", class: "reject", title: "reject (r)", text: "reject", onclick: () => { setFocus(S.shown.indexOf(g)); decide(g, "reject"); reason.focus(); } }),
        reason));
    paintDecision(node, g);
    return node;
  }

  function paintDecision(node, g) {
    const d = S.review.get(S.index.id[g]);
    node.classList.toggle("accepted", !!d && d.decision === "accept");
    node.classList.toggle("rejected", !!d && d.decision === "reject");
    node.querySelector("button.accept").classList.toggle("on", !!d && d.decision === "accept");
    node.querySelector("button.reject").classList.toggle("on", !!d && d.decision === "reject");
    const reason = node.querySelector("input.reason");
    reason.hidden = !(d && d.decision === "reject");
    if (document.activeElement !== reason) reason.value = (d && d.reason) || "";
  }

  // ------------------------------------------------------------ rendering a page

  function pageCount() { return Math.max(1, Math.ceil(S.filtered.length / S.pageSize)); }

  async function render() {
    const token = ++S.renderToken;
    const grid = $("grid");
    grid.dataset.state = "loading";
    S.page = Math.min(Math.max(0, S.page), pageCount() - 1);
    const start = S.page * S.pageSize;
    const shown = S.filtered.slice(start, start + S.pageSize);
    const needed = new Set(shown.map((g) => Math.floor(g / S.meta.chunk_rows)));
    try {
      await Promise.all([...needed].map(loadChunk));
    } catch (e) {
      if (token === S.renderToken) { showError(e.message); grid.dataset.state = "error"; }
      return;
    }
    if (token !== S.renderToken) return;
    S.shown = shown;
    S.rendered = needed;
    grid.replaceChildren(...shown.map((g) => card(rowOf(g))));
    if (!shown.length) grid.append(el("div", { class: "empty", text: "No sample matches these filters." }));
    $("page").value = String(S.page + 1);
    $("page").max = String(pageCount());
    $("pages").textContent = String(pageCount());
    $("matches").textContent = S.filtered.length.toLocaleString("en") + " of " + S.meta.rows.toLocaleString("en") + " samples";
    S.focus = Math.min(S.focus, Math.max(0, shown.length - 1));
    paintFocus(false);
    evictChunks(needed);
    writeHash();
    requestAnimationFrame(() => {
      if (token !== S.renderToken) return;
      drawMasks(grid);
      grid.dataset.page = String(S.page + 1);
      grid.dataset.render = String(token);
      grid.dataset.state = "ready";
    });
  }

  function refresh(resetPage) {
    applyFilters();
    if (resetPage) { S.page = 0; S.focus = 0; }
    return render();
  }

  function goPage(page, focus) {
    const target = Math.min(Math.max(0, page), pageCount() - 1);
    if (target === S.page) return;
    S.page = target;
    S.focus = focus === "last" ? S.pageSize - 1 : 0;
    render();
  }

  function setFocus(i) {
    if (i < 0) return;
    S.focus = i;
    paintFocus(true);
  }

  function paintFocus(scroll) {
    const cards = $("grid").querySelectorAll(".card");
    cards.forEach((c, i) => c.classList.toggle("focused", i === S.focus));
    const current = cards[S.focus];
    if (current && scroll) current.scrollIntoView({ block: "nearest" });
  }

  function moveFocus(step) {
    const next = S.focus + step;
    if (next >= S.shown.length) { if (S.page < pageCount() - 1) goPage(S.page + 1, "first"); return; }
    if (next < 0) { if (S.page > 0) goPage(S.page - 1, "last"); return; }
    setFocus(next);
  }

  function focusedG() { return S.shown.length ? S.shown[S.focus] : undefined; }

  // ------------------------------------------------------------ detail view

  function openDetail(g) {
    const row = rowOf(g);
    if (!row) return;
    const table = el("table");
    const add = (label, value) => { if (value !== null && value !== undefined && value !== "") table.append(el("tr", {}, el("td", { text: label }), el("td", { text: String(value) }))); };
    add("id", row.id);
    add("file", row.f + " row " + row.r);
    add("image", row.img + (row.iw ? " (" + row.iw + "x" + row.ih + ")" : ""));
    if (row.p) add("image problem", row.p);
    add("category", row.cat);
    add("source / split", row.src + " / " + row.sp);
    add("box (x, y, w, h)", row.box ? row.box.join(", ") : "");
    add("point", row.pt ? row.pt.join(", ") : "");
    add("mask", row.m ? "RLE " + row.m.size[1] + "x" + row.m.size[0] : "");
    if (row.cp) add("caption parts", [row.cp.object, row.cp.relation, row.cp.scene].join(" | "));
    if (row.gen) { add("generator", row.gen.name + " (" + row.gen.model + ")"); add("prompt version", row.gen.prompt_version); add("seed", row.gen.seed); }
    add("instruction", S.meta.instructions[row.q]);
    add("audit flags", (row.fl || []).join(", "));
    const d = S.review.get(row.id);
    add("review", d ? d.decision + (d.reason ? ": " + d.reason : "") : "");
    const fig = figure(row, row.box, row.pt, row.m);
    $("detail-content").replaceChildren(el("div", {}, fig, candidates(row)), table);
    if (row.rb && row.rb.length) $("detail-content").append(perturbed(row));
    $("detail").hidden = false;
    requestAnimationFrame(() => drawMasks($("detail-content")));
  }

  // The prompts a `scar eval --robustness` run drew for this query, one small figure per level.
  function perturbed(row) {
    const grid = el("div", { class: "perturbed" });
    for (const p of row.rb) {
      const measure = p.s ? "skipped: " + p.s : p.iou !== undefined ? "IoU " + Number(p.iou).toFixed(2)
        : p.d !== undefined ? "distance " + Number(p.d).toFixed(1) + " px" : "";
      const verdict = p.ok === undefined ? "" : p.ok ? " · right" : " · wrong";
      grid.append(el("div", { class: "perturbed-level" }, figure(row, p.box, p.pt, p.m),
        el("div", { text: p.l + (measure ? " · " + measure : "") + verdict })));
    }
    return grid;
  }

  function closeModals() {
    $("detail").hidden = true;
    $("help").hidden = true;
  }

  // ------------------------------------------------------------ rejections view

  function renderRejections() {
    const view = $("rejections-view");
    const groups = S.meta.rejections || [];
    if (!groups.length) {
      view.replaceChildren(el("p", { class: "empty", text: "No rejections recorded: a build's stats.json (written by `scar build`) lists them." }));
      return;
    }
    const total = groups.reduce((n, gr) => n + gr.count, 0);
    const nodes = [el("p", { text: total.toLocaleString("en") + " records rejected, by source, split and reason (examples from stats.json)." })];
    for (const group of groups) {
      const box = el("div", { class: "rej-group" },
        el("h3", {}, group.source + " / " + group.split + ": " + group.reason + " ", el("span", { class: "count", text: "(" + group.count.toLocaleString("en") + ")" })));
      if (group.examples.length) box.append(el("ul", {}, ...group.examples.map((e) => el("li", { text: e }))));
      if (group.regions.length) {
        const images = el("div", { class: "rej-images" });
        for (const r of group.regions) {
          const row = { th: r.th, iw: r.iw, ih: r.ih, p: r.p, img: r.image_path, box: r.bbox, m: null };
          images.append(el("figure", { style: "margin:0" }, figure(row, r.bbox, null, null), el("figcaption", { text: r.record + (r.detail ? ": " + r.detail : "") })));
        }
        box.append(images);
      }
      nodes.push(box);
    }
    view.replaceChildren(...nodes);
  }

  function showTab(name) {
    $("samples-view").hidden = name !== "samples";
    $("rejections-view").hidden = name !== "rejections";
    $("tab-samples").classList.toggle("active", name === "samples");
    $("tab-rejections").classList.toggle("active", name === "rejections");
    if (name === "rejections") renderRejections();
  }

  // ------------------------------------------------------------ keyboard

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
    if (typing) {
      if (target.classList.contains("reason") && event.key === "Enter") {
        event.preventDefault();
        target.blur();
        moveFocus(1);
      } else if (event.key === "Escape") {
        target.blur();
      }
      return;
    }
    if (event.key === "Escape") { closeModals(); return; }
    if ($("samples-view").hidden) return;
    const g = focusedG();
    const handled = {
      j: () => moveFocus(1), ArrowRight: () => moveFocus(1), ArrowDown: () => moveFocus(1),
      k: () => moveFocus(-1), ArrowLeft: () => moveFocus(-1), ArrowUp: () => moveFocus(-1),
      n: () => goPage(S.page + 1), PageDown: () => goPage(S.page + 1),
      p: () => goPage(S.page - 1), PageUp: () => goPage(S.page - 1),
      a: () => { if (g !== undefined) { decide(g, "accept"); moveFocus(1); } },
      r: () => { if (g !== undefined) { decide(g, "reject"); const c = cardOf(g); if (c) c.querySelector("input.reason").focus(); } },
      x: () => { if (g !== undefined) { decide(g, "reject"); const c = cardOf(g); if (c) c.querySelector("input.reason").focus(); } },
      u: () => { if (g !== undefined) decide(g, null); },
      o: () => { if (g !== undefined) openDetail(g); },
      Enter: () => { if (g !== undefined) openDetail(g); },
      "/": () => $("f-q").focus(),
      "?": () => { $("help").hidden = false; },
      e: () => exportReview(),
    }[event.key];
    if (!handled) return;
    if (!$("detail").hidden && !["Escape", "a", "r", "x", "u"].includes(event.key)) closeModals();
    event.preventDefault();
    handled();
  }

  // ------------------------------------------------------------ start

  function bindControls() {
    for (const key of ["src", "sp", "cat", "gen", "nt", "fl", "rv"]) {
      $("f-" + key).addEventListener("change", (e) => { S.filter[key] = e.target.value; refresh(true); });
    }
    let timer = null;
    $("f-q").addEventListener("input", (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => { S.filter.q = e.target.value; refresh(true); }, 150);
    });
    $("f-all").addEventListener("change", async (e) => {
      S.filter.all = e.target.checked;
      if (S.filter.all) {
        try { await loadSearchText(); } catch (err) { showError(err.message); return; }
      }
      refresh(true);
    });
    $("f-ps").addEventListener("change", (e) => { S.pageSize = parseInt(e.target.value, 10) || 24; refresh(true); });
    for (const kind of ["box", "mask", "point"]) {
      $("o-" + kind).addEventListener("change", (e) => document.body.classList.toggle("hide-" + kind, !e.target.checked));
    }
    $("prev").addEventListener("click", () => goPage(S.page - 1));
    $("next").addEventListener("click", () => goPage(S.page + 1));
    $("page").addEventListener("change", (e) => goPage((parseInt(e.target.value, 10) || 1) - 1));
    $("export").addEventListener("click", exportReview);
    $("import").addEventListener("change", (e) => { if (e.target.files[0]) importReview(e.target.files[0]); e.target.value = ""; });
    $("help-button").addEventListener("click", () => { $("help").hidden = false; });
    $("help-close").addEventListener("click", closeModals);
    $("detail-close").addEventListener("click", closeModals);
    for (const modal of [$("detail"), $("help")]) modal.addEventListener("click", (e) => { if (e.target === modal) closeModals(); });
    $("tab-samples").addEventListener("click", () => showTab("samples"));
    $("tab-rejections").addEventListener("click", () => showTab("rejections"));
    document.addEventListener("keydown", onKey);
  }

  function summaryText() {
    const m = S.meta;
    const parts = [m.rows.toLocaleString("en") + " samples in " + m.files.length + " file" + (m.files.length === 1 ? "" : "s")];
    parts.push(m.images.root ? "images " + m.images.root : "no images root (scar browse --images DIR)");
    if (m.audit.file) parts.push("audit " + m.audit.flagged_rows.toLocaleString("en") + " rows flagged");
    parts.push(m.target);
    return parts.join(" · ");
  }

  async function start() {
    if (!S.meta || !S.index) {
      showError("The site's data files (data/meta.js, data/index.js) did not load: rerun `scar browse`.");
      return;
    }
    document.title = "SCaR browser: " + S.meta.title;
    $("title").textContent = "SCaR browser: " + S.meta.title;
    $("summary").textContent = summaryText();
    S.review = window.SCARReview("scar-review:" + S.meta.site_id, { path: S.meta.target, rows: S.meta.rows, site_id: S.meta.site_id });
    saved(true);
    setupFilters();
    readHash();
    syncControls();
    bindControls();
    if (S.filter.all) {
      try { await loadSearchText(); } catch (err) { showError(err.message); }
    }
    await refresh(false);
  }

  window.SCAR = {
    meta: (m) => { S.meta = m; },
    index: (ix) => { S.index = ix; },
    chunk: (k, rows) => { S.chunks.set(k, rows); },
    start: start,
    state: S,
    reviewDocument: () => S.review.toDocument(),
    decodeMask: decodeMask,
  };
})();
