"""Keyword-search scale: latency and DynamoDB reads of /search over 10k → 100k → 1M index entries
(prints figures; never pass/fail).

    .venv/bin/python tests/bench/search_scale.py [--entries 10000,100000,1000000]
        [--stock-max-entries 100000] [--requests 50] [--route-budget-s 45]

Calls are generated with their keyword-index entries (~300 per call, Zipf over realistic stems:
``data_generator``), so 1M entries are ~3,300 five-minute calls. At each size the API's /search is
timed over HTTP from this process (server in its own process, as in ``api_benchmark``) for a
common, a mid-frequency, a rare and an absent word, two words, and the common word as an agent;
beside each: DynamoDB requests, items read, KB and RCU per search, counted in the server process.

Two things grow, and only one is the design's:

* the design reads a word's index partitions newest first (one word: lazily, a page at a time; several
  words: up to ``MAX_ENTRIES_PER_TERM`` (2,000) entries each, intersected), then reads the candidates'
  call records with BatchGetItem in growing batches until a page of visible calls is full (at most
  ``MAX_CALLS_EXAMINED``, 1,000; calls whose entry names an owner the caller may not see are skipped
  unread): reads stay about one page whatever the index size. Before this
  (commit 9915150 and earlier) every matching call was read with its own GetItem, so a common word cost
  one request per call that said it (up to 2,000 per language): ``results/search-scale-before.json``;
* moto (``stock``) sorts the *whole* index table for every Query, so even an absent word costs time
  proportional to all entries. ``fast`` mode hands the Query only its partition, as DynamoDB does.
  A raw Query of the absent word (0 items) isolates that emulator cost at each size.

Stock moto is timed through the API up to ``--stock-max-entries``; above that only the raw Query
is timed, and the stock API figure is extrapolated (marked). Writes ``results/search-scale.json``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
import urllib.parse
from typing import Any

from api_benchmark import Client, Route, aws_model_ms, measure_route, tokens
from bench_common import load_avg, machine, machine_line, percentile, quiet_logs, wait_for_quiet, write_result
from emulator_process import ServerProcess

ABSENT = "кукарекающий"  # a word no generated call says


def words() -> dict[str, Any]:
    from data_generator import vocabulary

    ru = vocabulary("ru")
    content = [w for w in ru if len(w.stem) >= 5]
    return {"common": content[0], "mid": ru[199], "rare": ru[2999]}


def search_routes() -> list[Route]:
    w = words()
    q = urllib.parse.quote
    common, mid, rare = w["common"].text, w["mid"].text, w["rare"].text
    return [
        Route(
            "search common",
            "admin",
            lambda i: f"/search?q={q(common)}",
            f"{common} (rank {w['common'].rank})",
        ),
        Route("search mid", "admin", lambda i: f"/search?q={q(mid)}", f"{mid} (rank {w['mid'].rank})"),
        Route("search rare", "admin", lambda i: f"/search?q={q(rare)}", f"{rare} (rank {w['rare'].rank})"),
        Route("search absent", "admin", lambda i: f"/search?q={q(ABSENT)}", "no entries: emulator cost only"),
        Route(
            "search 2 terms", "admin", lambda i: f"/search?q={q(common + ' ' + mid)}", f"{common} AND {mid}"
        ),
        Route(
            "search common", "agent", lambda i: f"/search?q={q(common)}", "agent: same reads, own calls kept"
        ),
    ]


def raw_queries(server: ServerProcess, mode: str, repeat: int) -> dict[str, Any]:
    """Time one Query (limit 2,000, newest first, like the API) per word directly, from this process."""
    from callsight.storage.tables import SearchEntryItem

    server.command("emulator_mode", mode)
    w = words()
    found: dict[str, Any] = {}
    for name, stem in (("common", w["common"].stem), ("rare", w["rare"].stem), ("absent", "кукарека")):
        timings, count = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            count = sum(1 for _ in SearchEntryItem.query(f"ru#{stem}", scan_index_forward=False, limit=2000))
            timings.append(time.perf_counter() - started)
        found[name] = {"entries_read": count, "ms": round(percentile(timings, 50) * 1000, 1), "n": repeat}
    return found


def partition_sizes(server: ServerProcess) -> dict[str, int]:
    from callsight.storage.tables import SearchEntryItem

    server.command("emulator_mode", "fast")
    return {name: sum(1 for _ in SearchEntryItem.query(f"ru#{word.stem}")) for name, word in words().items()}


def grow_to(server: ServerProcess, settings: Any, state: dict[str, Any], target: int) -> dict[str, Any]:
    """Add generated calls, each with its index entries, until the index holds ``target`` entries."""
    from data_generator import load

    started = time.perf_counter()
    calls_added = entries_added = 0
    server.command("emulator_mode", "fast")
    server.command("fast_writes", True)
    while state["entries"] < target:
        per_call = state["entries"] / state["calls"] if state["calls"] else 300
        count = max(1, math.ceil((target - state["entries"]) / per_call))
        state["factory"], report = load(
            settings, count, first=state["calls"], index_calls=count, factory=state["factory"],
            progress=lambda m: print(f"  {m}", flush=True),
        )  # fmt: skip
        state["calls"] += count
        state["entries"] += report.index_entries
        calls_added += count
        entries_added += report.index_entries
    server.command("fast_writes", False)
    elapsed = time.perf_counter() - started
    return {
        "calls_added": calls_added,
        "entries_added": entries_added,
        "load_s": round(elapsed, 1),
        "entries_per_s": round(entries_added / elapsed, 1) if elapsed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", default="10000,100000,1000000")
    parser.add_argument("--stock-max-entries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--route-budget-s", type=float, default=45)
    parser.add_argument("--max-request-s", type=float, default=120)
    parser.add_argument("--no-wait", action="store_true")
    parser.add_argument("--out", default="search-scale.json")
    args = parser.parse_args()
    quiet_logs()
    run(args)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from callsight.config import get_settings, reset_settings
    from callsight.storage import aws

    targets = sorted(int(x) for x in args.entries.split(",") if x.strip())
    results: dict[str, Any] = {
        "benchmark": "search-scale",
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "stages": [],
    }
    with ServerProcess() as server:
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = server.endpoint
        reset_settings()
        aws.reset_clients()
        settings = get_settings()
        print(f"machine: {machine_line()}")
        state: dict[str, Any] = {"calls": 0, "entries": 0, "factory": None}
        client = Client(server.api_url or "")
        tok = tokens()
        previous_stock: dict[str, Any] = {}
        for target in targets:
            loading = grow_to(server, settings, state, target) | {"server_memory": server.command("memory")}
            print(f"{state['entries']:,} entries ({state['calls']:,} calls): loaded {loading}")
            sizes = partition_sizes(server)
            wait = {"skipped": True} if args.no_wait else wait_for_quiet(label=f"search at {target} entries")
            stage: dict[str, Any] = {
                "index_entries": state["entries"],
                "calls": state["calls"],
                "entries_per_call": round(state["entries"] / state["calls"], 1),
                "load": loading,
                "partition_sizes": sizes,
                "machine": machine(),
                "wait": wait,
                "raw_query": {"fast": raw_queries(server, "fast", 5)},
                "routes": [],
            }
            stock_api = target <= args.stock_max_entries
            stage["raw_query"]["stock"] = raw_queries(server, "stock", 3 if stock_api else 1)
            for route in search_routes():
                stage["routes"] += measure_both(
                    route, server, client, tok, args, stage, previous_stock, stock_api
                )
            stage["load_avg_end"] = load_avg()
            results["stages"].append(stage)
            print_stage(stage)
    results["notes"] = NOTES
    out = write_result(args.out, results)
    print(f"written to {out}")
    return results


def measure_both(
    route: Route, server: ServerProcess, client: Client, tok: dict[str, str], args: argparse.Namespace,
    stage: dict[str, Any], previous_stock: dict[str, Any], stock_api: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """The route in fast mode, then in stock mode (measured, or extrapolated above the stock limit)."""
    measured = []
    for mode in ("fast", "stock"):
        if mode == "stock" and not stock_api:
            figures = _extrapolate_stock(route, previous_stock, stage, measured[0])
        else:
            server.command("emulator_mode", mode)
            figures = measure_route(
                client, route, tok[route.role], server, args.requests, args.route_budget_s, args.max_request_s
            )
            figures["aws_model_ms"] = aws_model_ms(figures)
        figures["emulator"] = mode
        if mode == "stock" and not figures.get("extrapolated"):
            previous_stock[f"{route.name}/{route.role}"] = figures | {"raw": stage["raw_query"]["stock"]}
        measured.append(figures)
        print(
            f"  {route.name:<15} {route.role:<6} {mode:<5} n={figures['requests']:<3} "
            f"p50 {figures['p50_ms']} ms{' (extrapolated)' if figures.get('extrapolated') else ''} · "
            f"{figures['ddb_requests']} DynamoDB requests, {figures['items_read']} items read",
            flush=True,
        )
    return measured


def _extrapolate_stock(
    route: Route, previous: dict[str, Any], stage: dict[str, Any], fast: dict[str, Any]
) -> dict[str, Any]:
    """Stock API latency above ``--stock-max-entries``: the last measured stock p50 plus, for each
    Query the search makes, the growth of the raw stock Query time (measured) between the sizes."""
    before = previous.get(f"{route.name}/{route.role}")
    keep = ("route", "role", "example", "note", "ddb_requests", "items_read", "kb_read", "rcu")
    figures = {k: fast[k] for k in keep} | {"requests": 0, "extrapolated": True}
    if before is None:
        return figures | {"p50_ms": None}
    queries = fast["by_operation"]
    n_queries = sum(v["requests"] for k, v in queries.items() if k.startswith("search-index Query"))
    growth = stage["raw_query"]["stock"]["absent"]["ms"] - before["raw"]["absent"]["ms"]
    return figures | {
        "p50_ms": round(before["p50_ms"] + n_queries * growth, 1),
        "basis": (
            f"stock p50 at the stage below + {n_queries:g} index Queries × the measured growth of a raw "
            f"stock Query ({growth:.0f} ms); GetItems unchanged"
        ),
    }


def print_stage(stage: dict[str, Any]) -> None:
    print(
        f"\n{stage['index_entries']:,} index entries ({stage['calls']:,} calls, {stage['entries_per_call']} per call); "
        f"partition sizes {stage['partition_sizes']}; machine: {machine_line(stage['machine'])}"
    )
    raw = stage["raw_query"]
    print(
        f"raw Query of an absent word: fast {raw['fast']['absent']['ms']} ms, stock {raw['stock']['absent']['ms']} ms; "
        f"of the common word: fast {raw['fast']['common']['ms']} ms, stock {raw['stock']['common']['ms']} ms"
    )
    print(
        f"{'search':<15} {'role':<6} | {'fast: p50':>9} {'p95':>8} {'n':>3} | {'stock: p50':>10} {'n':>3} | "
        f"{'DDB req':>7} {'items':>7} {'KB':>7} {'RCU':>7} | {'≈AWS ms':>7}"
    )
    rows = stage["routes"]
    for fast, stock in zip(rows[::2], rows[1::2], strict=True):
        stock_p50 = stock["p50_ms"]
        shown = "-" if stock_p50 is None else f"{'~' if stock.get('extrapolated') else ''}{stock_p50:.0f}"
        print(
            f"{fast['route']:<15} {fast['role']:<6} | {fast['p50_ms']:>9} {fast['p95_ms']:>8} {fast['requests']:>3} | "
            f"{shown:>10} {stock['requests']:>3} | {fast['ddb_requests']:>7} {fast['items_read']:>7} "
            f"{fast['kb_read']:>7} {fast['rcu']:>7} | {fast.get('aws_model_ms')!s:>7}"
        )


NOTES = [
    "Per search, the API reads the word's partition in every supported language (ru, en), newest first "
    "(one word: 100 entries a page, lazily; several: up to 2,000 each, intersected), then reads the "
    "candidates' call records with BatchGetItem (consistent) in batches growing from the page size, until "
    "the page is full or 1,000 records were examined; entries carry the call's owner (agent, team, queue), "
    "so an agent's or QA's search skips other people's calls unread; plus 1 Query + 1 PutItem for the "
    "audit entry.",
    "items_read/kb_read/rcu/ddb_requests are per search and transfer to DynamoDB; latencies are moto's.",
    "stock = moto 5.2 as shipped: each Query sorts the whole table; fast = Query given only its "
    "partition + plain JSON responses (identical answers). raw_query.*.absent isolates the emulator's "
    "per-Query cost (0 entries read).",
    "Stock API latencies above --stock-max-entries are extrapolated (marked), not measured.",
]


if __name__ == "__main__":
    main()
