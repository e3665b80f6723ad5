// Callsight dashboard: one page, no build step. Every data request goes to the API's own authorised
// routes with the user's bearer token (sessionStorage only); nothing is cached beyond the open view.
"use strict";

const TOKEN_KEY = "callsight.token";
const STATUSES = ["RECEIVED", "TRANSCRIBING", "TRANSCRIBED", "ANALYZED", "FAILED", "QUARANTINED"];
const root = document.getElementById("main");
let main = root; // each view renders into its own section: a stale view's late results land nowhere
let charts = [];
let stopPlayback = null;

// --- helpers ----------------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const fmt = {
  time: (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) : "–"),
  secs: (s) => (s === null || s === undefined ? "–" : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`),
  num: (x, digits = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits)),
  pct: (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`),
};

function session() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return { token, role: String(payload["callsight:role"] || ""), sub: String(payload.sub || ""), exp: payload.exp };
  } catch {
    return null;
  }
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The API is at the page's own origin and path prefix (the page is /ui, or /<stage>/ui on API Gateway).
function apiUrl(path, params) {
  const url = new URL(path, document.baseURI);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  return url;
}

async function api(path, params, options = {}) {
  const s = session();
  const headers = { Authorization: `Bearer ${s ? s.token : ""}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiUrl(path, params), {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    cache: "no-store",
  });
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    const body = await response.json().catch(() => ({}));
    renderSignIn(`Signed out: ${body.message || "the token was refused"}`);
    throw new ApiError(401, "unauthorized", body.message || "unauthorized");
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body.error || "error", body.message || response.statusText);
  }
  return options.raw ? response : response.json();
}

function errorBox(error) {
  return el("p", { class: "error", role: "alert" }, error instanceof ApiError ? `${error.status}: ${error.message}` : String(error));
}

function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const [view, ...rest] = path.split("/");
  return { view: view || "calls", arg: rest.map(decodeURIComponent).join("/"), params: Object.fromEntries(new URLSearchParams(query || "")) };
}

function go(view, params) {
  const query = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== "" && v !== undefined && v !== null));
  location.hash = `#/${view}${query.toString() ? `?${query}` : ""}`;
}

function formValues(form) {
  return Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v !== ""));
}

function field(label, name, value, attrs = {}) {
  return el("label", {}, label, el("input", { name, value: value || "", ...attrs }));
}

function kv(...pairs) {
  return el("div", { class: "kv" }, pairs.map((item, i) => el("span", { class: i % 2 ? "v" : "k muted" }, item)));
}

function tags(list) {
  return (list || []).map((t) => el("span", { class: "tag" }, t));
}

function clear() {
  charts.forEach((c) => c.destroy());
  charts = [];
  if (stopPlayback) stopPlayback();
  stopPlayback = null;
  main = document.createElement("section");
  root.replaceChildren(main);
}

// --- sign-in ----------------------------------------------------------------------------------------

function renderSignIn(message) {
  clear();
  document.getElementById("nav").hidden = true;
  document.getElementById("signout").hidden = true;
  document.getElementById("who").textContent = "";
  const form = el(
    "form",
    { class: "signin card", id: "signin" },
    el("h2", {}, "Sign in"),
    el("p", { class: "muted" }, "Paste a bearer token: locally from ", el("code", {}, "callsight token --role qa --sub you --team sales-ru"),
      "; in AWS a JWT of the identity provider the API trusts. It is kept in this tab only (sessionStorage)."),
    message ? el("p", { class: "error", role: "alert" }, message) : null,
    el("textarea", { name: "token", required: true, "aria-label": "token", spellcheck: "false" }),
    el("p", {}, el("button", { type: "submit" }, "Sign in")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = form.token.value.trim().replace(/^Bearer\s+/i, "");
    sessionStorage.setItem(TOKEN_KEY, token);
    if (!session()) {
      sessionStorage.removeItem(TOKEN_KEY);
      renderSignIn("That is not a JWT.");
      return;
    }
    try {
      await api("calls", { limit: 1 });
    } catch {
      return; // 401 re-rendered the form with the API's reason
    }
    if (!location.hash || location.hash === "#/" || location.hash === "#") location.hash = "#/calls";
    route();
  });
  main.append(form);
}

// --- calls ------------------------------------------------------------------------------------------

// The calls view's first page is short (the first view: a QA user's page is found among ~3× as many
// calls of the day, each read costs), "More" loads full pages.
const FIRST_PAGE = 15;
const NEXT_PAGE = 25;
const FILTERS = ["since", "until", "agent", "team", "queue", "tag", "outcome", "sentiment_min", "sentiment_max", "language", "status"];

function callsTable(items) {
  return el(
    "table",
    { id: "calls-table" },
    el("thead", {}, el("tr", {}, ["Started", "Dir", "Agent", "Team", "Queue", "Customer", "Duration", "Lang", "Tags", "Outcome", "Sentiment", "Risk", "Status"].map((h) => el("th", {}, h)))),
    el(
      "tbody",
      {},
      items.map((c) =>
        el(
          "tr",
          { class: "row", dataset: { callId: c.call_id }, onclick: () => go(`call/${c.call_id}`) },
          el("td", {}, el("a", { href: `#/call/${c.call_id}` }, fmt.time(c.started_at))),
          el("td", {}, c.direction), el("td", {}, c.agent_id || "–"), el("td", {}, c.team || "–"), el("td", {}, c.queue || "–"),
          el("td", {}, c.customer_phone || "–"), el("td", {}, fmt.secs(c.duration_s)), el("td", {}, c.language || "–"),
          el("td", {}, tags(c.tags)), el("td", {}, c.outcome || "–"), el("td", {}, fmt.num(c.sentiment)),
          el("td", {}, fmt.num(c.risk_score)), el("td", {}, c.status),
        ),
      ),
    ),
  );
}

async function renderCalls(params) {
  main.append(el("h2", {}, "Calls"));
  const form = el(
    "form",
    { class: "filters", id: "call-filters" },
    field("Since", "since", params.since, { type: "date" }),
    field("Until", "until", params.until, { type: "date" }),
    field("Agent", "agent", params.agent, { size: 6 }),
    field("Team", "team", params.team, { size: 10 }),
    field("Queue", "queue", params.queue, { size: 6 }),
    field("Tag", "tag", params.tag, { size: 12 }),
    field("Outcome", "outcome", params.outcome, { size: 10 }),
    field("Sentiment ≥", "sentiment_min", params.sentiment_min, { type: "number", step: "0.1", min: -1, max: 1 }),
    field("Sentiment ≤", "sentiment_max", params.sentiment_max, { type: "number", step: "0.1", min: -1, max: 1 }),
    field("Language", "language", params.language, { size: 3 }),
    el("label", {}, "Status", el("select", { name: "status" }, el("option", { value: "" }, "any"),
      STATUSES.map((s) => el("option", { value: s, selected: params.status === s }, s)))),
    el("button", { type: "submit" }, "Filter"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go("calls", formValues(form));
  });
  main.append(form);
  const query = Object.fromEntries(FILTERS.filter((k) => params[k]).map((k) => [k, params[k]]));
  const holder = el("div", { id: "calls" });
  main.append(holder);
  let cursor = null;
  const more = el("button", { type: "button", class: "secondary", id: "more", hidden: true }, "More");
  const load = async () => {
    more.disabled = true;
    try {
      const page = await api("calls", { ...query, limit: cursor ? NEXT_PAGE : FIRST_PAGE, cursor });
      const rows = callsTable(page.items);
      const existing = holder.querySelector("tbody");
      if (existing) existing.append(...rows.querySelector("tbody").children);
      else holder.append(rows);
      if (!page.items.length && !existing) holder.append(el("p", { class: "muted", id: "no-calls" }, "No calls match."));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      holder.append(errorBox(error));
    }
    more.disabled = false;
  };
  more.addEventListener("click", load);
  main.append(el("p", {}, more));
  await load();
}

// --- one call ---------------------------------------------------------------------------------------

function wordClass(text) {
  return /[*█]|\[[A-Z_]+\]/.test(text) ? "w pii" : "w";
}

function stem(term) {
  const t = term.toLowerCase();
  return t.length > 5 ? t.slice(0, t.length - 2) : t;
}

// Each tag says which layer put it there (rules: phrases with evidence; model: the learned layer's
// score); clicking one marks its evidence turns in the transcript and plays the first.
function labelList(detail, box, audio) {
  const categories = (detail.labels || []).filter((l) => detail.tags.includes(l.label));
  if (!categories.length) return detail.tags.length ? el("span", {}, tags(detail.tags)) : el("span", { class: "muted" }, "none");
  const decided = (detail.labels || []).filter((l) => !detail.tags.includes(l.label) && l.value);
  const show = (label) => {
    box.querySelectorAll(".turn.evidence").forEach((n) => n.classList.remove("evidence"));
    for (const index of label.turns) box.querySelector(`.turn[data-turn="${index}"]`)?.classList.add("evidence");
    box.querySelector(".turn.evidence")?.scrollIntoView({ block: "center" });
    if (label.starts.length) audio.currentTime = label.starts[0];
  };
  const why = (l) => `${l.source}${l.score === null || l.score === undefined ? "" : ` ${fmt.num(l.score)}`}`;
  return el("div", {},
    el("ul", { class: "labels" }, categories.map((l) => el("li", {},
      el("a", { href: "#", class: "tag", dataset: { label: l.label }, onclick: (ev) => { ev.preventDefault(); show(l); } }, l.label),
      el("span", { class: "muted" }, ` ${why(l)}${l.turns.length ? ` · ${l.turns.length} evidence` : ""}`)))),
    decided.length ? el("p", { class: "muted" }, decided.map((l) => `${l.label}: ${l.value} (${why(l)})`).join(" · ")) : null);
}

async function renderCall(callId, params) {
  main.append(el("p", {}, el("a", { href: "#/calls" }, "← calls")));
  // Two requests: the detail with its audio URL (include=audio) and the transcript, in parallel.
  const [detail, transcript] = await Promise.all([
    api(`calls/${encodeURIComponent(callId)}`, { include: "audio" }),
    api(`calls/${encodeURIComponent(callId)}/transcript`).catch((error) => error),
  ]);
  main.append(el("h2", {}, `Call ${detail.call_id.slice(0, 8)}… `, el("span", { class: "muted" }, `${fmt.time(detail.started_at)} · ${detail.direction} · ${detail.status}`)));
  const audio = el("audio", { controls: true, preload: "auto", id: "player" });
  const audioNote = el("p", { class: "muted", id: "audio-note" }, "loading audio…");
  const words = [];
  const box = el("div", { id: "transcript" });
  const terms = (params.q || "").split(/\s+/).filter(Boolean).map(stem);
  if (transcript instanceof Error) {
    box.append(errorBox(transcript));
  } else {
    for (const [index, turn] of transcript.turns.entries()) {
      const line = el("div", { class: `turn ${turn.speaker}`, dataset: { turn: index } }, el("div", { class: "who" }, `${turn.speaker} · ${fmt.secs(turn.start)}`));
      const text = el("div", { class: "text" });
      for (const w of transcript.words.slice(turn.first_word, turn.first_word + turn.word_count)) {
        let cls = wordClass(w.text);
        const bare = w.text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
        if (terms.some((t) => bare.startsWith(t))) cls += " hit";
        const span = el("span", { class: cls, dataset: { start: w.start, end: w.end }, title: fmt.secs(w.start) }, w.text);
        span.addEventListener("click", () => {
          audio.currentTime = w.start;
          audio.play().catch(() => {});
        });
        words.push({ start: w.start, end: w.end, span });
        text.append(w.space_before && text.childNodes.length ? " " : "", span);
      }
      line.append(text);
      box.append(line);
    }
    if (!transcript.turns.length) box.append(el("p", { class: "muted" }, "No speech."));
  }
  const side = el(
    "div",
    {},
    el("div", { class: "card" }, el("h3", {}, "Call"), kv(
      "Agent", detail.agent_id || "–", "Team", detail.team || "–", "Queue", detail.queue || "–",
      "Customer", detail.customer_phone || "–", "Duration", fmt.secs(detail.duration_s), "Language", detail.language || "–",
      "Purpose", detail.purpose || "–", "Outcome", detail.outcome || "–", "Refusal", detail.refusal_reason || "–",
      "Sentiment", fmt.num(detail.sentiment), "Risk", fmt.num(detail.risk_score), "PII", detail.masked ? "masked" : "shown")),
    el("div", { class: "card", id: "tags" }, el("h3", {}, "Tags"), labelList(detail, box, audio)),
    el("div", { class: "card", id: "checkpoints" }, el("h3", {}, "Checkpoints"),
      Object.keys(detail.checkpoints).length
        ? el("ul", {}, Object.entries(detail.checkpoints).map(([k, ok]) => el("li", { class: ok ? "ok" : "no" }, `${ok ? "✓" : "✗"} ${k}`)))
        : el("span", { class: "muted" }, "none")),
    el("div", { class: "card", id: "entities" }, el("h3", {}, "Entities (masked)"),
      detail.entities.length
        ? el("ul", {}, detail.entities.map((e) => el("li", {}, el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); audio.currentTime = e.start; } },
          fmt.secs(e.start)), ` ${e.type} · ${e.speaker}: `, el("code", {}, e.display))))
        : el("span", { class: "muted" }, "none")),
    detail.metrics
      ? el("div", { class: "card", id: "metrics" }, el("h3", {}, "Talk"), kv(
        "Speech", fmt.secs(detail.metrics.speech_s), "Silence", fmt.secs(detail.metrics.silence_s),
        "Longest silence", `${fmt.num(detail.metrics.longest_silence_s, 1)} s`, "Words/min", fmt.num(detail.metrics.words_per_minute, 0),
        "Talk/listen", fmt.num(detail.metrics.talk_listen_ratio), "Overtalk", detail.metrics.overtalk_s === null ? "–" : `${fmt.num(detail.metrics.overtalk_s, 1)} s`))
      : null,
  );
  main.append(el("div", { class: "call-layout" }, el("div", {}, audio, audioNote, box), side));

  // Highlight follows the audio: the word being said gets .now and is scrolled into view.
  let current = -1;
  const starts = words.map((w) => w.start);
  const sync = () => {
    const t = audio.currentTime;
    let lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (found !== current) {
      if (current >= 0) words[current].span.classList.remove("now");
      current = found;
      if (found >= 0) {
        words[found].span.classList.add("now");
        words[found].span.scrollIntoView({ block: "nearest" });
      }
    }
  };
  let frame = 0;
  const loop = () => { sync(); frame = requestAnimationFrame(loop); };
  audio.addEventListener("play", () => { cancelAnimationFrame(frame); loop(); });
  audio.addEventListener("pause", () => cancelAnimationFrame(frame));
  audio.addEventListener("seeked", sync);
  stopPlayback = () => { cancelAnimationFrame(frame); audio.pause(); audio.removeAttribute("src"); };

  const link = detail.audio;
  if (link) {
    audio.src = link.url;
    audioNote.textContent = link.redacted ? "redacted recording (PII bleeped)" : "original recording (admin)";
    if (params.t) {
      const at = Number(params.t);
      const seek = () => { audio.currentTime = at; sync(); };
      if (audio.readyState >= 1) seek();
      else audio.addEventListener("loadedmetadata", seek, { once: true });
    }
  } else {
    audioNote.textContent = `no audio: ${detail.audio_unavailable || "none"}`;
  }
  if (params.t) {
    const at = Number(params.t);
    const target = words.find((w) => w.end >= at);
    if (target) { target.span.classList.add("hit"); target.span.scrollIntoView({ block: "center" }); }
  }
}

// --- search -----------------------------------------------------------------------------------------

async function renderSearch(params) {
  main.append(el("h2", {}, "Search"));
  const form = el("form", { class: "filters", id: "search-form" },
    field("Words (all must be said)", "q", params.q, { size: 30, required: true }),
    el("label", {}, "Speaker", el("select", { name: "speaker" }, ["", "agent", "customer"].map((s) => el("option", { value: s, selected: params.speaker === s }, s || "either")))),
    field("Language", "language", params.language, { size: 3 }),
    el("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => { event.preventDefault(); go("search", formValues(form)); });
  main.append(form);
  if (!params.q) return;
  const results = await api("search", { q: params.q, speaker: params.speaker, language: params.language, limit: 50 });
  const list = el("ol", { id: "hits" });
  for (const hit of results.items) {
    const c = hit.call;
    const offsets = Object.entries(hit.terms).flatMap(([term, times]) => times.map((t) => ({ term, t })));
    offsets.sort((a, b) => a.t - b.t);
    list.append(el("li", { class: "card" },
      el("div", {}, el("strong", {}, fmt.time(c.started_at)), ` · agent ${c.agent_id || "–"} · ${c.customer_phone || "–"} · `, tags(c.tags)),
      el("div", {}, offsets.map(({ term, t }) => el("a", { class: "hit-link", href: `#/call/${c.call_id}?t=${t}&q=${encodeURIComponent(params.q)}` }, `${term} @ ${fmt.secs(t)}`)).flatMap((a) => [a, " "]))));
  }
  main.append(el("p", { class: "muted" }, `${results.items.length} call(s)${results.complete ? "" : " — incomplete: narrow the query"}`), list);
}

// --- dashboard --------------------------------------------------------------------------------------

function isoDay(d) { return d.toISOString().slice(0, 10); }

// Chart.js (210 KB) is loaded by the first view that draws a chart, not by the page: the calls list,
// the first view, does not wait for it. A failed load leaves the figures without charts.
let chartLibrary = null;
function chartsReady() {
  if (window.Chart) return Promise.resolve();
  if (!chartLibrary) {
    chartLibrary = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = "ui/chart.umd.min.js";
      script.addEventListener("load", resolve, { once: true });
      script.addEventListener("error", resolve, { once: true });
      document.head.append(script);
    });
  }
  return chartLibrary;
}

function chart(id, config) {
  const canvas = el("canvas", { id });
  const card = el("div", { class: "card" }, canvas);
  if (window.Chart) charts.push(new window.Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...(config.options || {}) } }));
  return card;
}

async function renderDashboard(params) {
  const today = new Date();
  const since = params.since || isoDay(new Date(today.getTime() - 29 * 864e5));
  const until = params.until || isoDay(today);
  main.append(el("h2", {}, "Dashboard"));
  const form = el("form", { class: "filters", id: "period" }, field("Since", "since", since, { type: "date" }), field("Until", "until", until, { type: "date" }), el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => { event.preventDefault(); go("dashboard", formValues(form)); });
  main.append(form);
  // Two requests in parallel, each drawn as soon as it answers: the aggregate (one /stats read,
  // rolled up per day) and the alert list (/alerts: only calls that tripped an alert rule).
  const totals = el("p", { id: "totals" }, "…");
  const grid = el("div", { class: "grid", id: "charts" });
  const lower = el("div", { class: "grid" });
  main.append(totals, grid, lower);
  const alertsCard = el("div", { class: "card", id: "alerts-card" }, el("h3", {}, "Alerts"), el("p", { class: "muted" }, "…"));
  const agentsCard = el("div", { class: "card", id: "agents-card" }, el("h3", {}, "Agents"), el("p", { class: "muted" }, "…"));
  lower.append(agentsCard, alertsCard);
  const showStats = (stats) => {
    totals.textContent = `${stats.calls} calls (${stats.analysed} analysed) · average ${fmt.secs(stats.avg_duration_s)} · short ${fmt.pct(stats.short_call_rate)} · no speech ${fmt.pct(stats.missed_call_rate)}`;
    const days = Object.keys(stats.calls_per_day).sort();
    const topics = Object.entries(stats.topic_shares).sort((a, b) => b[1] - a[1]);
    const outcomes = Object.entries(stats.outcomes).sort((a, b) => b[1] - a[1]);
    grid.append(
      chart("topics", { type: "bar", data: { labels: topics.map((t) => t[0]), datasets: [{ label: "share of calls", data: topics.map((t) => t[1]), backgroundColor: "#2557d6" }] }, options: { indexAxis: "y", scales: { y: { ticks: { autoSkip: false } } }, plugins: { title: { display: true, text: "Topic shares" } } } }),
      chart("trend", { type: "line", data: { labels: days, datasets: [
        { label: "calls", data: days.map((d) => stats.calls_per_day[d]), borderColor: "#2557d6", yAxisID: "y" },
        { label: "customer sentiment", data: days.map((d) => stats.sentiment_per_day[d] ?? null), borderColor: "#1b7f3b", yAxisID: "s" },
      ] }, options: { plugins: { title: { display: true, text: "Calls and sentiment per day" } }, scales: { y: { beginAtZero: true }, s: { position: "right", min: -1, max: 1 } } } }),
      chart("outcomes", { type: "bar", data: { labels: outcomes.map((o) => o[0]), datasets: [{ label: "calls", data: outcomes.map((o) => o[1]), backgroundColor: "#7b5bd6" }] }, options: { plugins: { title: { display: true, text: "Outcomes" } } } }),
    );
    const agents = [...stats.agents].sort((a, b) => b.conversion - a.conversion || (b.checkpoints_met ?? 0) - (a.checkpoints_met ?? 0));
    agentsCard.replaceChildren(el("h3", {}, "Agents"), el("table", { id: "agents" },
      el("thead", {}, el("tr", {}, ["#", "Agent", "Calls", "Conversion", "Sentiment", "Checkpoints met"].map((h) => el("th", {}, h)))),
      el("tbody", {}, agents.map((a, i) => el("tr", {}, el("td", {}, i + 1), el("td", {}, a.agent_id), el("td", {}, a.calls), el("td", {}, fmt.pct(a.conversion)), el("td", {}, fmt.num(a.avg_sentiment)), el("td", {}, fmt.pct(a.checkpoints_met)))))));
  };
  const showAlerts = (alerts) => {
    alertsCard.replaceChildren(el("h3", {}, "Alerts"), el("ul", { id: "alerts" },
      alerts.items.length
        ? alerts.items.map((c) => el("li", { dataset: { callId: c.call_id } }, el("a", { href: `#/call/${c.call_id}` }, fmt.time(c.started_at)),
          ` agent ${c.agent_id || "–"} · ${(c.alerts || []).join(", ")} · sentiment ${fmt.num(c.sentiment)} · risk ${fmt.num(c.risk_score)} `, tags(c.tags)))
        : el("li", { class: "muted" }, "none")));
  };
  const failed = (box) => (error) => { if (!(error instanceof ApiError && error.status === 401)) box.replaceChildren(errorBox(error)); };
  await Promise.all([
    Promise.all([api("stats", { since, until }), chartsReady()]).then(([stats]) => showStats(stats), failed(totals)),
    api("alerts", { since, until: isoDay(new Date(new Date(until).getTime() + 864e5)), limit: 10 }).then(showAlerts, failed(alertsCard)),
  ]);
}

// --- weekly report ----------------------------------------------------------------------------------

function shareTable(id, rows) {
  return el("table", { id }, el("tbody", {}, rows.map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, r.calls), el("td", {}, fmt.pct(r.share))))));
}

async function renderWeekly(params) {
  main.append(el("h2", {}, "Weekly report"));
  const form = el("form", { class: "filters", id: "week-form" }, field("ISO week (e.g. 2026-W47; empty: the last complete one)", "week", params.week, { size: 12 }), el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => { event.preventDefault(); go("weekly", formValues(form)); });
  main.append(form);
  const report = await api("reports/weekly", { week: params.week });
  const csv = el("button", { type: "button", id: "csv", class: "secondary" }, "Export CSV");
  csv.addEventListener("click", async () => {
    const response = await api("reports/weekly", { week: report.week, format: "csv" }, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: `callsight-weekly-${report.week}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  main.append(
    el("p", { id: "week-summary" }, `${report.week} (${report.since} – ${report.until}), scope ${report.scope}: ${report.calls} calls, ${report.analysed} analysed · average ${fmt.secs(report.avg_duration_s)} · short ${fmt.pct(report.short_call_rate)} · no speech ${fmt.pct(report.missed_call_rate)} `, csv),
    el("div", { class: "grid" },
      el("div", { class: "card" }, el("h3", {}, "Reasons for calling"), shareTable("reasons", report.top_reasons)),
      el("div", { class: "card" }, el("h3", {}, "Topics"), shareTable("topics", report.top_topics)),
      el("div", { class: "card" }, el("h3", {}, "Outcomes"), el("table", {}, el("tbody", {}, Object.entries(report.outcomes).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v)))))),
      el("div", { class: "card" }, el("h3", {}, "Top customer questions"), el("ol", { id: "questions" }, report.top_questions.map((q) => el("li", {}, `«${q.question}» ×${q.calls}`)))),
      el("div", { class: "card" }, el("h3", {}, "Agent ranking"), el("table", { id: "ranking" },
        el("thead", {}, el("tr", {}, ["#", "Agent", "Score", "Calls", "Conversion", "Checkpoints", "Sentiment"].map((h) => el("th", {}, h)))),
        el("tbody", {}, report.agent_ranking.map((a) => el("tr", {}, el("td", {}, a.rank), el("td", {}, a.agent_id), el("td", {}, fmt.num(a.score)), el("td", {}, a.calls), el("td", {}, fmt.pct(a.conversion)), el("td", {}, fmt.pct(a.checkpoints_met)), el("td", {}, fmt.num(a.avg_sentiment))))))),
    ),
  );
}

// --- admin ------------------------------------------------------------------------------------------

function adminForm(id, title, fields, submitLabel, onSubmit) {
  const out = el("div", { class: "result" });
  const form = el("form", { id, class: "card" }, el("h3", {}, title), el("div", { class: "filters" }, fields, el("button", { type: "submit" }, submitLabel)), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter && event.submitter.value ? event.submitter.value : "submit";
    out.replaceChildren("…");
    try {
      out.replaceChildren(await onSubmit(formValues(form), action, form));
    } catch (error) {
      out.replaceChildren(errorBox(error));
    }
  });
  return form;
}

async function renderAdmin() {
  main.append(el("h2", {}, "Admin"));
  const policies = await api("policies/retention");
  const policyTable = el("table", { id: "policies" }, el("thead", {}, el("tr", {}, ["Policy", "Days", "Tags", "Queues", "Description"].map((h) => el("th", {}, h)))),
    el("tbody", {}, policies.map((p) => el("tr", {}, el("td", {}, p.policy_id), el("td", {}, p.days), el("td", {}, p.tags.join(", ")), el("td", {}, p.queues.join(", ")), el("td", {}, p.description || "")))));
  const list = (v) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : []);
  const hold = adminForm("hold-form", "Legal hold on a call",
    [field("Call id", "call_id", "", { size: 38, required: true }), field("Reason", "reason", "", { size: 30 }),
      el("button", { type: "submit", value: "release", class: "secondary", id: "release" }, "Release")],
    "Set hold", async (v, action) => {
      const state = await api(`calls/${encodeURIComponent(v.call_id)}/legal-hold`, {}, action === "release" ? { method: "DELETE" } : { method: "PUT", body: { reason: v.reason || "" } });
      return el("p", { class: "ok", id: "hold-result" }, `legal hold ${state.legal_hold ? "set" : "released"} on ${state.call_id}`);
    });
  main.append(
    el("div", { class: "card" }, el("h3", {}, "Retention policies"), policyTable),
    adminForm("policy-form", "Create or change a retention policy",
      [field("Id", "policy_id", "", { size: 12, required: true, pattern: "[a-z0-9][a-z0-9_-]*" }), field("Days", "days", "", { type: "number", min: 1, max: 36500, required: true }),
        field("Tags (comma)", "tags", ""), field("Queues (comma)", "queues", ""), field("Description", "description", "")],
      "Save", async (v) => {
        const saved = await api(`policies/retention/${encodeURIComponent(v.policy_id)}`, {}, { method: "PUT", body: { days: Number(v.days), tags: list(v.tags), queues: list(v.queues), description: v.description || null } });
        setTimeout(route, 600);
        return el("p", { class: "ok" }, `saved ${saved.policy_id ?? v.policy_id}`);
      }),
    hold,
    adminForm("erasure-form", "Erase a customer's calls",
      [field("Phone", "phone", "", { size: 18, required: true }), el("label", {}, "Dry run", el("input", { type: "checkbox", name: "dry_run", value: "true", checked: true }))],
      "Erase", async (v) => {
        const report = await api("erasure", {}, { method: "POST", body: { phone: v.phone, dry_run: v.dry_run === "true" } });
        return el("div", {}, el("p", {}, `${report.dry_run ? "dry run: " : ""}${report.checked} call(s) checked`),
          el("ul", {}, report.outcomes.map((o) => el("li", {}, `${o.call_id || ""} ${o.result || ""}`))));
      }),
    adminForm("audit-form", "Audit log of a target",
      [field("Target", "target", "", { size: 46, required: true, placeholder: "call:<id>" })],
      "Search", async (v) => {
        const entries = await api("audit", { target: v.target });
        return el("table", { id: "audit" }, el("thead", {}, el("tr", {}, ["At", "Actor", "Role", "Action", "Outcome"].map((h) => el("th", {}, h)))),
          el("tbody", {}, entries.map((e) => el("tr", {}, el("td", {}, fmt.time(e.at)), el("td", {}, e.actor), el("td", {}, e.role), el("td", {}, e.action), el("td", {}, e.outcome)))));
      }),
  );
}

// --- routing ----------------------------------------------------------------------------------------

const VIEWS = { calls: renderCalls, call: null, search: renderSearch, dashboard: renderDashboard, weekly: renderWeekly, admin: renderAdmin };

async function route() {
  const s = session();
  if (!s) {
    renderSignIn();
    return;
  }
  const { view, arg, params } = parseHash();
  clear();
  const nav = document.getElementById("nav");
  nav.hidden = false;
  for (const link of nav.querySelectorAll("a")) {
    const roles = link.dataset.roles ? link.dataset.roles.split(" ") : null;
    link.hidden = roles !== null && !roles.includes(s.role);
    link.classList.toggle("active", link.dataset.view === view);
  }
  document.getElementById("who").textContent = `${s.sub} (${s.role})`;
  document.getElementById("signout").hidden = false;
  root.dataset.view = view;
  root.dataset.ready = "false";
  const mine = main;
  try {
    if (view === "call") await renderCall(arg, params);
    else await (VIEWS[view] || renderCalls)(params);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) main.append(errorBox(error));
  }
  if (main === mine) root.dataset.ready = "true";
}

document.getElementById("signout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.hash = "";
  renderSignIn("Signed out.");
});
// `callsight local demo` / `local up` print a ready link: /ui#token=<jwt>. The fragment never reaches a
// server; the token moves to sessionStorage and leaves the address bar (and the history) at once.
if (location.hash.startsWith("#token=")) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, "", `${location.pathname}${location.search}#/calls`);
}
window.addEventListener("hashchange", route);
route();
