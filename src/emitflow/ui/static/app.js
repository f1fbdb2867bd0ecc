// The emitflow inspector's few behaviours; every page works without them.
"use strict";

function copyButtons() {
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch (err) {
        button.textContent = "Select and copy";
      }
    });
  }
}

function liveRun() {
  const run = document.querySelector("[data-live]");
  if (!run) return;
  const source = new EventSource(run.dataset.live);
  source.addEventListener("changed", () => {
    source.close();
    window.location.reload();
  });
}

function cell(text, href) {
  const td = document.createElement("td");
  if (href) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    td.appendChild(a);
  } else {
    td.textContent = text || "";
  }
  return td;
}

function eventTail() {
  const tail = document.querySelector("[data-tail]");
  if (!tail) return;
  const rows = document.querySelector("tbody.event-rows");
  const state = tail.querySelector(".tail-state");
  const toggle = tail.querySelector(".tail-toggle");
  let paused = false;
  let held = [];
  const show = (row) => {
    const empty = rows.querySelector("tr.empty");
    if (empty) empty.remove();
    const tr = document.createElement("tr");
    tr.className = "fresh";
    tr.append(
      cell(row.position, "/ui/events/" + row.position),
      cell(row.emitter_id),
      cell(row.channel || "default"),
      cell(row.type),
      cell(row.subject),
      cell(row.time),
    );
    rows.prepend(tr);
  };
  const source = new EventSource(tail.dataset.tail);
  source.onopen = () => { state.textContent = paused ? "Live tail: paused" : "Live tail: on"; };
  source.onmessage = (message) => {
    const row = JSON.parse(message.data);
    if (paused) {
      held.push(row);
      state.textContent = "Live tail: paused, " + held.length + " new";
    } else {
      show(row);
    }
  };
  source.addEventListener("lagged", () => { state.textContent = "Live tail: fell behind, reload"; });
  toggle.addEventListener("click", () => {
    paused = !paused;
    toggle.setAttribute("aria-pressed", String(paused));
    toggle.textContent = paused ? "Resume live tail" : "Pause live tail";
    if (!paused) {
      held.forEach(show);
      held = [];
    }
    state.textContent = paused ? "Live tail: paused" : "Live tail: on";
  });
}

function filterCheck() {
  const area = document.getElementById("s-filter");
  if (!area) return;
  const state = document.getElementById("s-filter-state");
  const csrf = area.form.querySelector("input[name=csrf]").value;
  let timer = null;
  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const body = new URLSearchParams({ filter: area.value });
      const answer = await fetch("/ui/subscriptions/check", {
        method: "POST",
        headers: { "X-CSRF-Token": csrf },
        body,
        credentials: "same-origin",
      });
      const result = await answer.json();
      state.textContent = result.ok ? (area.value.trim() ? "The filter is valid." : "") : result.problem;
      state.classList.toggle("bad", !result.ok);
      area.setAttribute("aria-invalid", String(!result.ok));
    }, 250);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  copyButtons();
  liveRun();
  eventTail();
  filterCheck();
});
