// ordergate's console: what a page needs live, on top of forms that work
// without it. No library, no inline script (the Content-Security-Policy
// forbids it), and text is set with textContent, never as HTML.
"use strict";

(function () {
  const page = document.body.dataset.page;

  // The queue: select every order of the page.
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.select").forEach(function (box) { box.checked = all.checked; });
    });
  }

  async function getJSON(path) {
    const res = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!res.ok) throw new Error(path + ": " + res.status);
    return res.json();
  }

  // The queue: refresh the counts every 10 seconds.
  if (page === "queue") {
    setInterval(async function () {
      try {
        const counts = await getJSON("/counts");
        document.querySelectorAll("[data-count]").forEach(function (el) {
          const key = el.dataset.count;
          const n = key === "on_hold" ? counts.on_hold : counts.by_reason[key];
          if (n !== undefined) el.textContent = String(n);
        });
        document.body.dataset.countsRefreshed = String(Date.now());
      } catch (e) {
        document.body.dataset.countsError = String(e);
      }
    }, 10000);
  }

  // Channels: show the progress of running imports, once a second while
  // one runs.
  if (page === "channels") {
    let timer = null;
    async function poll() {
      try {
        const runs = await getJSON("/channels/progress");
        let running = false;
        Object.keys(runs).forEach(function (id) {
          const el = document.querySelector('[data-progress="' + CSS.escape(id) + '"]');
          const p = runs[id];
          if (!el || !p.status) return;
          running = running || p.running;
          el.textContent = (p.running ? "Importing: " : "Last run " + p.status + ": ") +
            p.pages + " pages, " + p.orders_seen + " orders seen, " + p.imported + " imported, " + p.held + " held";
        });
        if (!running && timer) { clearInterval(timer); timer = null; }
      } catch (e) {
        document.body.dataset.progressError = String(e);
      }
    }
    const active = Array.from(document.querySelectorAll("[data-progress]")).some(function (el) { return el.textContent.trim() !== ""; });
    if (active || document.getElementById("notice")) {
      timer = setInterval(poll, 1000);
      poll();
    }
  }
})();
