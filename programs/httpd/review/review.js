// vouch review console (served by vouchd at /review; docs/review.md).
// No framework and no external assets.  The reviewer's token lives only in
// this page's memory and goes in the Authorization header of each API call;
// it is never put in a URL or stored.  Everything shown comes from the
// server and is inserted as text (textContent), never as HTML.
"use strict";
(function () {
  let token = null;
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) e.append(c === null || c === undefined ? "" : c); // strings become text nodes
    return e;
  }

  function status(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  async function api(method, path, body) {
    const opts = { method, headers: { Authorization: "Bearer " + token }, cache: "no-store" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const err = new Error(data && data.error ? data.error.code + ": " + data.error.message : "HTTP " + resp.status);
      err.status = resp.status;
      err.code = data && data.error ? data.error.code : "";
      throw err;
    }
    return data;
  }

  function thumbnail(t) {
    if (!t) return el("div", { class: "nothumb" }, "no derivative");
    const c = el("canvas", { width: t.w, height: t.h, title: t.w + " x " + t.h + " visual derivative" });
    const grey = atob(t.grey);
    const img = c.getContext("2d").createImageData(t.w, t.h);
    for (let i = 0; i < t.w * t.h; i++) {
      const v = grey.charCodeAt(i);
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    c.getContext("2d").putImageData(img, 0, 0);
    return c;
  }

  function when(unix) { return unix ? new Date(unix * 1000).toISOString().replace(".000Z", "Z") : ""; }

  function itemView(it) {
    const s = it.second || { verdict: "unknown", score: -1 };
    const info = el("dl", {},
      el("dt", {}, "item"), el("dd", {}, String(it.id)),
      el("dt", {}, "hash"), el("dd", {}, it.algo + " " + it.hash),
      el("dt", {}, "entry"), el("dd", {}, it.entry
        ? "bank " + it.entry.bank + ", id " + it.entry.id + ", distance " + it.entry.distance : "not in the loaded index"),
      el("dt", {}, "sources"), el("dd", {}, it.entry && it.entry.source ? it.entry.source : "unknown"),
      el("dt", {}, "second hash"), el("dd", { class: s.verdict }, s.verdict + (s.score >= 0 ? " (score " + s.score + ")" : "")),
      el("dt", {}, "queued"), el("dd", {}, when(it.queued_at)),
      el("dt", {}, "decision"), el("dd", { class: "decision" }, it.decision
        ? it.decision.decision + " by " + it.decision.reviewer + " at " + when(it.decision.decided_at) +
          (it.decision.note ? ": " + it.decision.note : "")
        : "none yet"));
    const choice = el("select", { "data-role": "decision" },
      el("option", { value: "confirm" }, "confirm"), el("option", { value: "reject" }, "reject"),
      el("option", { value: "escalate" }, "escalate"));
    const note = el("textarea", { "data-role": "note", placeholder: "reason (required)", maxLength: 2000 });
    const err = el("div", { class: "err" });
    const button = el("button", { type: "submit" }, "Record decision");
    const form = el("form", { class: "decide" }, choice, note, button, err);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!note.value.trim()) { err.textContent = "a reason is required"; return; }
      button.disabled = true;
      try {
        const d = await api("POST", "/v1/review/decisions", {
          item: it.id, decision: choice.value, note: note.value,
          supersedes: it.decision ? it.decision.id : 0,
        });
        await load();
        status("recorded decision " + d.id + " (" + d.decision + ") on item " + it.id);
      } catch (e) {
        if (e.code === "stale_decision") {
          await load();
          status("item " + it.id + " was decided by someone else meanwhile; the queue was reloaded with that " +
            "decision and yours was not recorded: decide again if you disagree", true);
        } else {
          err.textContent = e.message;
          button.disabled = false;
        }
      }
    });
    return el("div", { class: "item", "data-item": String(it.id) }, thumbnail(it.thumb), info, form);
  }

  function render(q) {
    const main = $("queue");
    main.replaceChildren();
    const byAccount = new Map();
    for (const it of q.items) {
      if (!byAccount.has(it.account)) byAccount.set(it.account, []);
      byAccount.get(it.account).push(it);
    }
    for (const [account, items] of byAccount) {
      const forged = (q.suspected_forgeries_by_account || {})[account] || 0;
      const box = el("section", { class: "account", "data-account": account },
        el("h2", {}, "account " + account + " \u2014 " + items.length + " matched payload(s)" +
          (forged ? ", " + forged + " suspected forgery(ies) withheld" : "")));
      for (const it of items) box.append(itemView(it));
      main.append(box);
    }
    if (!q.items.length) main.append(el("p", {}, "The queue is empty."));
    status(q.items.length + " item(s); " + q.suspected_forgeries + " suspected forgery(ies) withheld");
  }

  async function load() {
    const q = await api("GET", "/v1/review/queue" + ($("openonly").checked ? "?open=1" : ""));
    $("who").textContent = q.reviewer;
    render(q);
  }

  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    token = $("token").value.trim();
    $("token").value = "";
    try {
      await load();
      $("login").hidden = true;
      $("session").hidden = false;
    } catch (e) {
      token = null;
      status(e.status === 401 || e.status === 403 ? "not a reviewer token" : e.message, true);
    }
  });
  $("reload").addEventListener("click", () => load().catch((e) => status(e.message, true)));
  $("openonly").addEventListener("change", () => load().catch((e) => status(e.message, true)));
  $("export").addEventListener("click", async () => {
    try {
      const x = await api("GET", "/v1/review/export");
      $("exportjson").textContent = JSON.stringify(x, null, 2);
      $("exported").hidden = false;
    } catch (e) { status(e.message, true); }
  });
  $("signout").addEventListener("click", () => {
    token = null;
    $("queue").replaceChildren();
    $("exported").hidden = true;
    $("session").hidden = true;
    $("login").hidden = false;
    status("signed out");
  });
})();
