"""API benchmark: p50/p95/p99 latency and requests/s of list, detail, search, feed and stats over HTTP,
with generated calls in the emulator's tables, measured from a separate process (prints figures).

    .venv/bin/python tests/bench/api_benchmark.py [--calls 100000] [--stages 10000,100000]
        [--index-calls 1000] [--requests 200] [--route-budget-s 60] [--emulator-modes fast,stock]

A server process (``emulator_process``) runs the embedded moto emulator and the API's local server
on free ports. This process loads the generated calls (``data_generator``: production items, bulk
writes), mints tokens of realistic roles (admin, QA of one team, agent, CRM service client) and
sends requests one after another on a keep-alive connection: up to ``--requests`` per route after
warm-up, fewer when the route's ``--route-budget-s`` runs out (the count is reported). With
``--stages`` the routes are measured at each data size on the way up (calls are added, not reloaded).

Each route runs against two emulator modes (see ``emulator_process``): ``stock`` (moto as shipped:
every Query sorts the whole table, every item response goes through a slow serializer) and
``fast`` (the same moto, Query handed only its partition, responses written with ``json.dumps`` —
checked to give identical answers). Beside each latency: what one API request costs in DynamoDB
terms — requests made, items read, KB read, read/write capacity units by DynamoDB's billing rules —
counted inside the server process. Those transfer to AWS; the latencies are this machine's and
the emulator's. Stock routes that would take longer than ``--max-request-s`` at a bigger stage are
not run there: their figure is extrapolated from the stage below (linear in calls) and marked so.

Search uses the keyword-index entries of the first ``--index-calls`` calls (~300 per call);
``search_scale.py`` measures search over 10k → 1M index entries. Writes ``results/api.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench_common import load_avg, machine, machine_line, percentile, quiet_logs, wait_for_quiet, write_result
from emulator_process import ServerProcess, check_fast_mode, summarize

AGENT = "215"  # one of the busier agents of the generated population
QA_TEAM = "support"
#: A rough model of the same request on AWS (not measured): API time without the emulator, plus
#: this much per sequential DynamoDB request and per MB read. Assumptions, see README.
AWS_MODEL = {"ms_per_ddb_request": 5.0, "ms_per_mb_read": 25.0}


@dataclass
class Route:
    name: str
    role: str
    paths: Callable[[int], str]
    note: str = ""


class Client:
    """One keep-alive HTTP connection to the API, timing each request."""

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=3600)

    def get(self, path: str, token: str) -> tuple[int, float, bytes]:
        started = time.perf_counter()
        try:
            self.conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = self.conn.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=3600)
            raise
        return response.status, time.perf_counter() - started, body


def tokens() -> dict[str, str]:
    from callsight.auth.tokens import Role, mint_local_token
    from callsight.config import get_settings

    settings = get_settings()
    return {
        "admin": mint_local_token(settings, subject="bench-admin", role=Role.ADMIN),
        "qa": mint_local_token(settings, subject="bench-qa", role=Role.QA, teams=[QA_TEAM]),
        "agent": mint_local_token(settings, subject="bench-agent", role=Role.AGENT, agent_id=AGENT),
        "crm": mint_local_token(settings, subject="bench-crm", role=Role.CRM),
    }


def search_words() -> dict[str, str]:
    """Query words by how common their stem is (Zipf rank in the generated vocabulary)."""
    from data_generator import vocabulary

    ru = vocabulary("ru")
    content = [w for w in ru if len(w.stem) >= 5]
    return {
        "common": content[0].text,  # said in most Russian calls
        "common2": content[1].text,
        "mid": ru[199].text,  # rank 200
        "rare": ru[2999].text,  # rank 3000
    }


def measure_route(
    client: Client, route: Route, token: str, server: ServerProcess, requests: int, budget_s: float,
    max_request_s: float,
) -> dict[str, Any]:  # fmt: skip
    """Warm up, then time requests until ``requests`` or the budget; one request if even that is slow."""
    server.command("counters")
    load_start = load_avg()
    status, first_s, _ = client.get(route.paths(-1), token)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    results: list[int] = []
    single = first_s > max_request_s or first_s > budget_s
    if single:  # too slow to repeat: the warm-up request is the figure
        latencies, statuses = [first_s], {status: 1}
    else:
        for i in range(2):
            if first_s * (i + 2) < budget_s * 0.2:
                client.get(route.paths(-2 - i), token)
        server.command("counters")  # reset after warm-up
    started = time.perf_counter()
    while (
        not single
        and len(latencies) < requests
        and (time.perf_counter() - started < budget_s or not latencies)
    ):
        status, seconds, body = client.get(route.paths(len(latencies)), token)
        latencies.append(seconds)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            data = json.loads(body)
            if isinstance(data, dict) and isinstance(data.get("items"), list):
                results.append(len(data["items"]))
    elapsed = sum(latencies) if single else time.perf_counter() - started
    cost = summarize(server.command("counters"), len(latencies))
    return {
        "route": route.name,
        "role": route.role,
        "example": route.paths(0),
        "note": route.note,
        "requests": len(latencies),
        "single_cold_request": single,
        "budget_limited": len(latencies) < requests,
        "status": statuses,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "results_per_page": round(sum(results) / len(results), 1) if results else None,
        "load_avg_start": load_start,
        "load_avg_end": load_avg(),
        **cost,
    }


def aws_model_ms(figures: dict[str, Any]) -> float:
    """API time without the emulator + a per-request and per-MB DynamoDB cost (a model, see AWS_MODEL)."""
    api_ms = max(0.0, figures["p50_ms"] - figures["emulator_ms"])
    return round(
        api_ms
        + figures["ddb_requests"] * AWS_MODEL["ms_per_ddb_request"]
        + figures["kb_read"] / 1024 * AWS_MODEL["ms_per_mb_read"],
        1,
    )


def routes(client: Client, tok: dict[str, str], ids: list[str], agent_ids: list[str]) -> list[Route]:
    words = search_words()
    days = stats_week()
    week = f"since={days[0].isoformat()}&until={days[-1].isoformat()}"

    def cursor(path: str, token: str) -> str:
        status, _, body = client.get(path, token)
        value = json.loads(body).get("next_cursor") if status == 200 else None
        return urllib.parse.quote(value or "")

    list_cursor = cursor("/calls?limit=25", tok["admin"])
    feed_cursor = cursor("/feed?limit=50", tok["crm"])
    q = urllib.parse.quote
    two = q(words["common"] + " " + words["mid"])
    return [
        Route("list", "admin", lambda i: "/calls?limit=25", "newest first (by-update index)"),
        Route("list page 2", "admin", lambda i: f"/calls?limit=25&cursor={list_cursor}", "with a cursor"),
        Route("list own", "agent", lambda i: "/calls?limit=25", f"agent {AGENT}: by-agent index"),
        Route(
            "list team", "qa", lambda i: "/calls?limit=25", f"QA of team {QA_TEAM}: filtered after the query"
        ),
        Route(
            "list ?tag=", "admin", lambda i: "/calls?limit=25&tag=delivery_problem", "tag on 26 % of calls"
        ),
        Route("list ?tag= rare", "admin", lambda i: "/calls?limit=25&tag=competitor_mention", "tag on 2.5 %"),
        Route(
            "list ?agent=",
            "admin",
            lambda i: f"/calls?limit=25&agent={AGENT}",
            "1 agent of 50: by-agent index",
        ),
        Route("list ?status=FAILED", "admin", lambda i: "/calls?limit=25&status=FAILED", "3 % of calls"),
        Route(
            "list ?sentiment_max=", "admin", lambda i: "/calls?limit=25&sentiment_max=-0.3", "angry customers"
        ),
        Route(
            "list ?outcome&sentiment",
            "admin",
            lambda i: "/calls?limit=25&outcome=refusal&sentiment_min=0.2&min_duration_s=240",
            "refusals, calm, over 4 min",
        ),
        Route("detail", "admin", lambda i: f"/calls/{ids[i % len(ids)]}", "random calls"),
        Route(
            "detail own", "agent", lambda i: f"/calls/{agent_ids[i % len(agent_ids)]}", "agent's own calls"
        ),
        Route("search 1 common", "admin", lambda i: f"/search?q={q(words['common'])}", words["common"]),
        Route(
            "search 1 mid", "admin", lambda i: f"/search?q={q(words['mid'])}", f"{words['mid']} (rank 200)"
        ),
        Route(
            "search 1 rare",
            "admin",
            lambda i: f"/search?q={q(words['rare'])}",
            f"{words['rare']} (rank 3000)",
        ),
        Route(
            "search 2 terms", "admin", lambda i: f"/search?q={two}", f"{words['common']} AND {words['mid']}"
        ),
        Route(
            "search 1 common", "agent", lambda i: f"/search?q={q(words['common'])}", "agent: own calls only"
        ),
        Route("feed", "crm", lambda i: "/feed?limit=50", "first page"),
        Route("feed cursor", "crm", lambda i: f"/feed?limit=50&cursor={feed_cursor}", "next page"),
        Route("stats week", "admin", lambda i: f"/stats?{week}", "7 days read live (by-day index)"),
        Route(ROLLED_UP_STATS, "admin", lambda i: f"/stats?{week}", "7 days from the daily rollup"),
    ]


ROLLED_UP_STATS = "stats week rolled up"


def stats_week() -> list[date]:
    """The seven days before today: the stats routes' period, and what the rollup folds for them."""
    today = date.today()
    return [today - timedelta(days=n) for n in range(7, 0, -1)]


def clear_rollups() -> None:
    """The generator writes calls directly (no change markers): drop rollups of an earlier stage."""
    from callsight.storage.tables import DailyStatsItem

    with DailyStatsItem.batch_write() as batch:
        for item in DailyStatsItem.scan():
            if item.day_key != "call-days":  # the call-day bounds GET /calls lists between
                batch.delete(item)


def roll_up_week(settings: Any) -> dict[str, Any]:
    """Run the statistics rollup over the stats route's week (what the hourly schedule would have done)."""
    from callsight.sweeps.stats_rollup import StatsRollup

    started = time.perf_counter()
    report = StatsRollup(settings).run(days=stats_week())
    elapsed = time.perf_counter() - started
    return {
        "days": len(report.rolled_up), "calls": report.calls, "cells": report.cells, "seconds": round(elapsed, 1),
        "ms_per_call": round(elapsed * 1000 / report.calls, 2) if report.calls else None,
    }  # fmt: skip


def sample_ids(factory: Any, calls: int, count: int = 200) -> tuple[list[str], list[str]]:
    """Random call ids for detail, and the benchmark agent's own (from the generator, no reads)."""
    rng = random.Random(3)
    ids = [factory.call(rng.randrange(calls)).record.call_id for _ in range(count)]
    own = []
    for i in range(min(calls, 20_000)):
        call = factory.call(i)
        if call.record.agent_id == AGENT:
            own.append(call.record.call_id)
            if len(own) >= count // 2:
                break
    return ids, own


def fast_mode_probes(ids: list[str]) -> list[Callable[[], Any]]:
    """Reads whose answers must not depend on the emulator mode (GSI pages, cursors, items, index)."""
    from callsight.storage.tables import CallItem, SearchEntryItem
    from data_generator import vocabulary

    day = (date.today() - timedelta(days=3)).isoformat()
    term = f"ru#{next(w for w in vocabulary('ru') if len(w.stem) >= 5).stem}"

    def pages(query: Any) -> list[Any]:
        return [item.serialize() for item in query]

    return [
        lambda: pages(CallItem.by_update.query("0", scan_index_forward=False, limit=60, page_size=25)),
        lambda: pages(CallItem.by_update.query("0", scan_index_forward=True, limit=30, page_size=7)),
        lambda: pages(CallItem.by_agent.query(AGENT, scan_index_forward=False, limit=40, page_size=15)),
        lambda: pages(CallItem.by_day.query(day, limit=80)),
        lambda: pages(SearchEntryItem.query(term, scan_index_forward=False, limit=300)),
        lambda: [CallItem.get(i, consistent_read=True).serialize() for i in ids[:5]],
    ]


def print_stage(stage: dict[str, Any]) -> None:
    print(
        f"\n{stage['calls']:,} calls, {stage['index_entries']:,} index entries; "
        f"machine: {machine_line(stage['machine'])}"
    )
    print(
        f"{'route':<20} {'role':<5} | {'fast: p50':>9} {'p95':>7} {'p99':>7} {'req/s':>6} {'n':>4} | "
        f"{'stock: p50':>10} {'n':>3} | {'DDB req':>7} {'items':>7} {'KB':>7} {'RCU':>7} | {'≈AWS ms':>7}"
    )
    fast = {(r["route"], r["role"]): r for r in stage["routes"] if r["emulator"] == "fast"}
    stock = {(r["route"], r["role"]): r for r in stage["routes"] if r["emulator"] == "stock"}
    for key, r in fast.items():
        s = stock.get(key)
        stock_p50 = "-" if s is None else f"{'~' if s.get('extrapolated') else ''}{s['p50_ms']:.0f}"
        print(
            f"{r['route']:<20} {r['role']:<5} | {r['p50_ms']:>9} {r['p95_ms']:>7} {r['p99_ms']:>7} "
            f"{r['requests_per_s']:>6} {r['requests']:>4} | {stock_p50:>10} {s['requests'] if s else '-':>3} | "
            f"{r['ddb_requests']:>7} {r['items_read']:>7} {r['kb_read']:>7} {r['rcu']:>7} | {r['aws_model_ms']:>7}"
        )
    print("(ms; ~ = extrapolated from the stage below; ≈AWS = model, not measured)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--stages", default="", help="comma-separated call counts measured on the way up")
    parser.add_argument("--index-calls", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=200, help="per route and mode, after warm-up")
    parser.add_argument("--route-budget-s", type=float, default=60)
    parser.add_argument("--max-request-s", type=float, default=90, help="stock: extrapolate above this")
    parser.add_argument("--emulator-modes", default="fast,stock")
    parser.add_argument("--routes", default="", help="comma-separated route names (default: all)")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    parser.add_argument("--out", default="api.json")
    args = parser.parse_args()
    quiet_logs()
    run(args)


def _extrapolated(previous: dict[str, Any], same_route_fast: dict[str, Any], ratio: float) -> dict[str, Any]:
    figures = {
        k: same_route_fast[k]
        for k in ("route", "role", "example", "note", "ddb_requests", "items_read", "kb_read", "rcu")
    }
    p50 = round(previous["p50_ms"] * ratio, 1)
    return figures | {
        "requests": 0,
        "extrapolated": True,
        "basis": f"p50 at {previous['calls']:,} calls × {ratio:g} (moto's cost per Query grows at least linearly)",
        "p50_ms": p50,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from callsight.config import get_settings, reset_settings
    from callsight.storage import aws
    from data_generator import load

    stages = sorted({int(s) for s in args.stages.split(",") if s.strip()} | {args.calls})
    modes = [m for m in args.emulator_modes.split(",") if m]
    results: dict[str, Any] = {
        "benchmark": "api",
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "aws_model": AWS_MODEL,
        "stages": [],
        "load": [],
    }
    with ServerProcess() as server:
        os.environ["CALLSIGHT_AWS_ENDPOINT"] = server.endpoint
        reset_settings()
        aws.reset_clients()
        settings = get_settings()
        print(f"machine: {machine_line()}")
        print(f"server process {server.pid}: emulator {server.endpoint}, API {server.api_url}")
        loaded, factory, previous = 0, None, {}
        client = Client(server.api_url or "")
        tok = tokens()
        for stage in stages:
            server.command("emulator_mode", "fast")
            server.command("fast_writes", True)
            factory, report = load(
                settings, stage - loaded, first=loaded, index_calls=max(0, args.index_calls - loaded),
                factory=factory, progress=lambda m: print(f"  {m}", flush=True),
            )  # fmt: skip
            server.command("fast_writes", False)
            load_figures = report.as_dict() | {"stage": stage, "server_memory": server.command("memory")}
            results["load"].append(load_figures)
            print(f"loaded: {load_figures}")
            loaded = stage
            ids, own = sample_ids(factory, loaded)
            check = check_fast_mode(server, fast_mode_probes(ids))
            print(f"fast emulator mode answers like stock moto: {check}")
            wait = {"skipped": True} if args.no_wait else wait_for_quiet(label=f"API at {stage} calls")
            selected = [
                r
                for r in routes(client, tok, ids, own)
                if not args.routes or r.name in args.routes.split(",")
            ]
            measured: list[dict[str, Any]] = []
            rollup: dict[str, Any] | None = None
            clear_rollups()
            for route in selected:
                if route.name == ROLLED_UP_STATS:
                    server.command("emulator_mode", "fast")
                    rollup = roll_up_week(settings)
                    print(f"  statistics rollup of the week: {rollup}", flush=True)
                fast_figures: dict[str, Any] = {}
                for mode in modes:
                    key = (route.name, route.role, mode)
                    before = previous.get(key)
                    ratio = stage / before["calls"] if before else 1
                    grew = not route.name.startswith("search")  # stages add calls; the index stays put
                    if (
                        mode == "stock"
                        and before
                        and grew
                        and before["p50_ms"] * ratio > args.max_request_s * 1000
                    ):
                        figures = _extrapolated(before, fast_figures or before, ratio)
                    else:
                        server.command("emulator_mode", mode)
                        figures = measure_route(
                            client, route, tok[route.role], server, args.requests, args.route_budget_s,
                            args.max_request_s,
                        )  # fmt: skip
                    figures |= {"emulator": mode, "calls": stage}
                    figures["aws_model_ms"] = aws_model_ms(figures) if "emulator_ms" in figures else None
                    if mode == "fast":
                        fast_figures = figures
                    previous[key] = figures
                    measured.append(figures)
                    print(
                        f"  {route.name:<20} {route.role:<6} {mode:<5} n={figures['requests']:<4} "
                        f"p50 {figures['p50_ms']} ms{' (extrapolated)' if figures.get('extrapolated') else ''} · "
                        f"{figures['ddb_requests']} DynamoDB requests, {figures['items_read']} items read",
                        flush=True,
                    )
            server.command("emulator_mode", "fast")
            stage_result = {
                "calls": loaded,
                "index_entries": server.command("items").get("search-index", 0),
                "table_items": server.command("items"),
                "machine": machine(),
                "wait": wait,
                "fast_mode_check": check,
                "routes": measured,
                "stats_rollup": rollup,
                "server_memory": server.command("memory"),
            }
            results["stages"].append(stage_result)
            print_stage(stage_result)
    results["notes"] = NOTES
    out = write_result(args.out, results)
    print(f"written to {out}")
    return results


NOTES = [
    "Latency: over HTTP from a separate process, one request at a time, against the embedded moto "
    "emulator and the Chalice local server in one process on this machine. 'stock' is moto 5.2 as "
    "shipped (every Query sorts the whole table; responses go through a serializer costing ~70 ms per "
    "7 KB call item); 'fast' hands each Query only its partition and writes item responses with "
    "json.dumps (identical answers, checked). Neither is DynamoDB.",
    "ddb_requests / items_read / kb_read / rcu / wcu are per API request, counted in the server process "
    "from PynamoDB's calls, with DynamoDB's size and capacity rules: these transfer to AWS.",
    "aws_model_ms is a model, not a measurement: (fast p50 - time waiting on the emulator) + "
    "ms_per_ddb_request × DynamoDB requests + ms_per_mb_read × MB read.",
    "requests < --requests means the route's time budget ran out; percentiles are over the requests made. "
    "single_cold_request: the one (first) request is the figure.",
    "Listing reads at most 1,000 index items per request (MAX_EXAMINED); a selective filter returns a "
    "short page and a cursor. results_per_page shows how full the pages were.",
    "'stats week' reads the 7 days live (no rollup: today, or days changed since); 'stats week rolled up' "
    "after StatsRollup folded those days into cells (stats_rollup: its time, calls and cells).",
]


if __name__ == "__main__":
    main()
