"""Dashboard first view: per role and view, the API requests the page makes and the time until the
view's content is painted, in a real browser over 10k generated calls (prints figures).

    .venv/bin/python tests/bench/ui_first_view.py [--calls 10000] [--index-calls 1000] [--repeats 5]
        [--emulator-modes stock,fast] [--no-wait] [--out ui-first-view.json]

A server process (``emulator_process``: the embedded moto emulator and the API's local server, as
``callsight local up`` runs them) gets ``--calls`` generated calls (``data_generator``: production
items, bulk-written) and the statistics rollup of every closed day (what the hourly schedule would
have done). Headless Chromium (Debian's ``chromium``, or ``CALLSIGHT_CHROMIUM``) driven by
Playwright opens ``/ui`` with a token of each role — admin, QA of one team, one agent — and
measures:

* **load → calls**: a cold first visit (a fresh browser context, nothing cached), ``--repeats``
  times: from navigation start to the first animation frame after the calls list is painted, on the
  page's own clock (``performance.now()``; ``driver_ms`` adds Playwright's round trips), with where the
  time went (the HTML, each asset and API request: start and duration): the first view a user sees;
* each view (calls list, one call, a keyword search, the dashboard, the weekly report) opened by
  changing the hash, ``--repeats`` times in turn: from the change to the first animation frame after
  the view marked itself ready (``#main[data-ready=true]``: every request answered and rendered).
  The in-page clock (``performance.now()``) times it; Resource Timing lists the API requests it made
  and how long each took; the server process counts DynamoDB requests and items read.

Each emulator mode is measured (``emulator_process``: ``stock`` is moto as shipped — every Query
sorts the whole table; ``fast`` hands a Query only its partition, as DynamoDB does). Writes
``results/ui-first-view.json``. Figures depend on the machine and its load: both are recorded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench_common import load_avg, machine, machine_line, quiet_logs, wait_for_quiet, write_result
from emulator_process import ServerProcess, summarize

AGENT = "215"  # one of the busier agents of the generated population (as api_benchmark)
QA_TEAM = "support"
CHROMIUM = os.environ.get("CALLSIGHT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]  # fmt: skip

#: Sets the hash, then resolves at the first animation frame after the view is ready, with the API
#: requests (Resource Timing) started since. Runs through CDP (not eval: the page's CSP allows none).
OPEN_VIEW = """([hash, view, api]) => new Promise((resolve) => {
  performance.clearResourceTimings();
  const main = document.getElementById("main");
  const t0 = performance.now();
  const done = () => requestAnimationFrame(() => {
    const ms = performance.now() - t0;
    const requests = performance.getEntriesByType("resource")
      .filter((e) => e.name.startsWith(api) && !new URL(e.name).pathname.startsWith("/ui"))
      .map((e) => ({ path: new URL(e.name).pathname, ms: Math.round(e.duration) }));
    resolve({ ms, requests });
  });
  const check = () => {
    if (main.dataset.view === view && main.dataset.ready === "true") { observer.disconnect(); done(); }
  };
  const observer = new MutationObserver(check);
  observer.observe(main, { attributes: true });
  // The page is often already at this hash (it opens on #/calls): assigning the same hash fires no
  // hashchange, and the view would never re-render (the harness waited forever). Re-route instead.
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
})"""


def tokens() -> dict[str, str]:
    from callsight.auth.tokens import Role, mint_local_token
    from callsight.config import get_settings

    settings = get_settings()
    return {
        "admin": mint_local_token(settings, subject="bench-admin", role=Role.ADMIN),
        "qa": mint_local_token(settings, subject="bench-qa", role=Role.QA, teams=[QA_TEAM]),
        "agent": mint_local_token(settings, subject="bench-agent", role=Role.AGENT, agent_id=AGENT),
    }


def pick_calls(factory: Any, calls: int) -> dict[str, str]:
    """An analysed call each role may open (from the generator, no reads)."""
    from callsight.models.call import CallStatus

    wanted = {"admin": None, "qa": None, "agent": None}
    for i in range(calls):
        record = factory.call(i).record
        if record.status is not CallStatus.ANALYZED:
            continue
        wanted["admin"] = wanted["admin"] or record.call_id
        if wanted["qa"] is None and QA_TEAM in (record.team, record.queue):
            wanted["qa"] = record.call_id
        if wanted["agent"] is None and record.agent_id == AGENT:
            wanted["agent"] = record.call_id
        if all(wanted.values()):
            break
    return {role: str(call_id) for role, call_id in wanted.items()}


def roll_up_closed_days(settings: Any, days: int) -> dict[str, Any]:
    """The statistics rollup of every closed day the generated calls cover (the hourly schedule's work)."""
    from callsight.sweeps.stats_rollup import StatsRollup

    today = datetime.now(UTC).date()
    started = time.perf_counter()
    report = StatsRollup(settings).run(days=[today - timedelta(days=n) for n in range(days, 0, -1)])
    return {
        "days": len(report.rolled_up),
        "calls": report.calls,
        "seconds": round(time.perf_counter() - started, 1),
    }


def views(role: str, call_id: str, word: str) -> list[tuple[str, str]]:
    """(view, hash) in the order a user might open them; the weekly report is for admin and QA."""
    listed = [
        ("calls", "#/calls"),
        ("call", f"#/call/{call_id}"),
        ("search", f"#/search?q={quote(word)}"),
        ("dashboard", "#/dashboard"),
    ]
    return [*listed, ("weekly", "#/weekly")] if role != "agent" else listed


#: Injected before the page's own script: notes the in-page clock at the first animation frame after
#: the calls list is ready, so that the figure holds no driver round trip (on 2 loaded cores the
#: driver's polling and CDP round trips added up to 0.5 s after the page was done).
MARK_FIRST_VIEW = """window.__firstView = new Promise((resolve) => {
  const check = () => {
    const main = document.getElementById("main");
    if (main && main.dataset.view === "calls" && main.dataset.ready === "true") {
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now()));
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { attributes: true, childList: true, subtree: true });
});"""

#: In the page once the calls list is painted: the in-page clock since navigation started, and where
#: that time went (Navigation and Resource Timing).
FIRST_VIEW_TIMING = """() => window.__firstView.then((painted) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const parts = performance.getEntriesByType("resource").map((e) => ({
    path: new URL(e.name).pathname, start: Math.round(e.startTime), ms: Math.round(e.duration),
  }));
  return { ms: painted, html_ms: Math.round(nav.responseEnd), dom_ready_ms: Math.round(nav.domContentLoadedEventEnd), parts };
})"""


def first_view(browser: Any, server: ServerProcess, token: str) -> dict[str, Any]:
    """One cold first visit in a fresh browser context: ``goto`` → calls list painted."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(300_000)
    page.add_init_script(MARK_FIRST_VIEW)
    server.command("counters")
    started = time.perf_counter()
    page.goto(f"{server.api_url or ''}/ui#token={token}")
    page.wait_for_selector("#main[data-view=calls][data-ready=true]")
    timing = page.evaluate(FIRST_VIEW_TIMING)
    driver_ms = (time.perf_counter() - started) * 1000
    context.close()
    return {"ms": round(timing["ms"], 1), "driver_ms": round(driver_ms, 1), "html_ms": timing["html_ms"],
            "dom_ready_ms": timing["dom_ready_ms"], "parts": timing["parts"],
            **summarize(server.command("counters"), 1)}  # fmt: skip


def measure_role(
    browser: Any, server: ServerProcess, role: str, token: str, call_id: str, word: str, repeats: int
) -> dict[str, Any]:  # fmt: skip
    visits = [first_view(browser, server, token) for _ in range(repeats)]
    times = [v["ms"] for v in visits]
    first = {
        "ms": round(statistics.median(times), 1), "min_ms": min(times), "max_ms": max(times),
        "driver_ms_median": round(statistics.median(v["driver_ms"] for v in visits), 1),
        "visits": visits, "ddb_requests": visits[-1]["ddb_requests"], "items_read": visits[-1]["items_read"],
    }  # fmt: skip
    api = server.api_url or ""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(300_000)
    page.goto(f"{api}/ui#token={token}")
    page.wait_for_selector("#main[data-view=calls][data-ready=true]")
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(repeats):
        for view, hash_ in views(role, call_id, word):
            server.command("counters")
            shown = page.evaluate(OPEN_VIEW, [hash_, view, api])
            ddb = summarize(server.command("counters"), 1)
            errors = page.locator("#main .error").count()
            error_text = page.locator("#main .error").first.inner_text() if errors else None
            runs.setdefault(view, []).append({**shown, "ddb_requests": ddb["ddb_requests"], "items_read": ddb["items_read"],
                                              "errors": errors, "error_text": error_text})  # fmt: skip
    context.close()
    result: dict[str, Any] = {"load_to_calls": first}
    for view, measured in runs.items():
        times = [r["ms"] for r in measured]
        result[view] = {
            "median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1), "first_ms": round(times[0], 1),
            "api_requests": len(measured[-1]["requests"]),
            "requests": measured[-1]["requests"],
            "ddb_requests": measured[-1]["ddb_requests"], "items_read": measured[-1]["items_read"],
            "errors": max(r["errors"] for r in measured),
            "error_text": next((r["error_text"] for r in measured if r["error_text"]), None),
        }  # fmt: skip
    return result


def print_mode(mode: str, roles: dict[str, dict[str, Any]]) -> None:
    print(
        f"\nemulator {mode}: time to the view painted (median of repeats; max), API requests, DynamoDB requests"
    )
    print(f"{'view':<14} " + " | ".join(f"{role:^34}" for role in roles))
    names = ["load_to_calls", "calls", "call", "search", "dashboard", "weekly"]
    for name in names:
        cells = []
        for figures in roles.values():
            f = figures.get(name)
            if f is None:
                cells.append(f"{'–':^34}")
            elif name == "load_to_calls":
                cells.append(
                    f"{f['ms']:>7.0f} ms (≤{f['max_ms']:>5.0f})       {f['ddb_requests']:>4.0f} ddb".ljust(34)
                )
            else:
                flag = " !" if f["errors"] else ""
                cells.append(
                    f"{f['median_ms']:>7.0f} ms (≤{f['max_ms']:>5.0f}) {f['api_requests']} req {f['ddb_requests']:>4.0f} ddb{flag}".ljust(
                        34
                    )
                )
        print(f"{name:<14} " + " | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--index-calls", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--emulator-modes", default="stock,fast")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    parser.add_argument("--out", default="ui-first-view.json")
    args = parser.parse_args()
    quiet_logs()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install chromium, or set CALLSIGHT_CHROMIUM")
    from api_benchmark import clear_rollups, search_words
    from callsight.config import get_settings, reset_settings
    from callsight.storage import aws
    from data_generator import DAYS, load
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {"benchmark": "ui-first-view", "machine": machine(),
                               "settings": {k: v for k, v in vars(args).items() if k != "out"}, "modes": {}}  # fmt: skip
    with ServerProcess() as server:
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = server.endpoint
        reset_settings()
        aws.reset_clients()
        settings = get_settings()
        print(f"machine: {machine_line()}")
        server.command("emulator_mode", "fast")
        server.command("fast_writes", True)
        factory, report = load(settings, args.calls, index_calls=args.index_calls,
                               progress=lambda m: print(f"  {m}", flush=True))  # fmt: skip
        server.command("fast_writes", False)
        results["load"] = report.as_dict()
        clear_rollups()
        results["stats_rollup"] = roll_up_closed_days(settings, DAYS + 1)
        print(f"loaded {args.calls:,} calls; rollup {results['stats_rollup']}", flush=True)
        ids, word, tok = pick_calls(factory, args.calls), search_words()["common"], tokens()
        results["wait"] = {"skipped": True} if args.no_wait else wait_for_quiet(label="UI first view")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for mode in [m for m in args.emulator_modes.split(",") if m]:
                server.command("emulator_mode", mode)
                roles = {}
                for role in ("admin", "qa", "agent"):
                    roles[role] = measure_role(
                        browser, server, role, tok[role], ids[role], word, args.repeats
                    )
                    roles[role]["load_avg"] = load_avg()
                    print(f"  {mode} {role} done", flush=True)
                results["modes"][mode] = roles
                print_mode(mode, roles)
            browser.close()
        results["day"] = date.today().isoformat()
    results["notes"] = [
        "ms: in-page clock from the hash change to the first animation frame after the view is ready "
        "(every request answered and rendered); load_to_calls: a cold visit in a fresh "
        "browser context, from navigation start to the calls list painted (page clock; median of repeats).",
        "api_requests: the API requests (Resource Timing; /ui assets excluded) the view made; "
        "ddb_requests: DynamoDB requests the server made for them.",
        "Server: embedded moto + Chalice local server in one process on this machine, browser on the "
        "same machine; 'stock' moto sorts a whole table per Query, 'fast' reads only the partition.",
    ]
    out = write_result(args.out, results)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
