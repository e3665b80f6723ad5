"""The embedded emulator and the local API server in a separate process, with DynamoDB request counters.

The API and search benchmarks measure from their own process over HTTP, like a client would. The
server process (``multiprocessing`` spawn) starts the embedded moto emulator and the Chalice local
server on free ports, provisions the resources and then answers commands over a pipe:

* ``counters``: what the API's DynamoDB calls cost since the last reset, per table and operation:
  requests, items read and their size (DynamoDB's item-size rules), read and write capacity units
  as DynamoDB would bill them, and the time spent waiting on the emulator. These figures come from
  a wrapper around PynamoDB's ``Connection._make_api_call`` in the server process (no change to
  the code under test) and they are what transfers to AWS; the latencies are the emulator's.
* ``fast_writes``: during bulk loads only, moto's per-attribute item-size check (quadratic in the
  number of attributes: 60 ms per call item) is replaced by an incremental one with the same 400 KB
  limit; it is switched back before anything is measured.
* ``memory``: the server process's RSS; ``items``: item counts per table straight from moto.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

READ_UNIT = 4096
WRITE_UNIT = 1024


# --- DynamoDB item size and capacity units (AWS's documented rules) ----------------------------------


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value in wire format (``{"S": ...}`` etc.)."""
    (kind, data), *_ = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = data.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(data) if isinstance(data, bytes) else len(data) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in data.items())
    return len(str(data))


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


class DynamoCounters:
    """Per (table, operation): requests, items read/written, bytes, RCU/WCU, seconds waiting."""

    FIELDS = ("requests", "items_read", "bytes_read", "rcu", "items_written", "wcu", "seconds", "errors")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.lock = threading.Lock()
        self.data: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(self.FIELDS, 0.0))

    def reset(self) -> dict[str, dict[str, float]]:
        with self.lock:
            snapshot = {key: dict(values) for key, values in self.data.items()}
            self.data.clear()
        return snapshot

    def _table(self, name: str | None) -> str:
        return (name or "?").removeprefix(self.prefix)

    def record(
        self, operation: str, kwargs: dict[str, Any], data: dict[str, Any] | None, seconds: float
    ) -> None:
        if data is None:
            rows = [(f"{self._table(kwargs.get('TableName'))} {operation}", {"requests": 1, "errors": 1})]
        else:
            rows = self._rows(operation, kwargs, data)
        rows[0][1]["seconds"] = seconds  # one request, however many tables it touched
        with self.lock:
            for key, values in rows:
                for name, value in values.items():
                    self.data[key][name] += value

    def _rows(
        self, operation: str, kwargs: dict[str, Any], data: dict[str, Any]
    ) -> list[tuple[str, dict[str, float]]]:
        table = self._table(kwargs.get("TableName"))
        if operation in ("Query", "Scan", "GetItem"):
            items = (
                data.get("Items", [])
                if operation != "GetItem"
                else [data["Item"]]
                if data.get("Item")
                else []
            )
            size = sum(item_size(i) for i in items)
            index = f" {kwargs['IndexName']}" if kwargs.get("IndexName") else ""
            units = max(1, math.ceil(size / READ_UNIT)) * (1.0 if kwargs.get("ConsistentRead") else 0.5)
            return [(f"{table}{index} {operation}", _reads(len(items), size, units))]
        if operation == "BatchGetItem":
            return [
                (f"{self._table(name)} BatchGetItem", _reads(len(items), sum(item_size(i) for i in items),
                 sum(max(1, math.ceil(item_size(i) / READ_UNIT)) for i in items)
                 * (1.0 if kwargs.get("RequestItems", {}).get(name, {}).get("ConsistentRead") else 0.5)))
                for name, items in data.get("Responses", {}).items()
            ]  # fmt: skip
        if operation == "BatchWriteItem":
            return [
                (f"{self._table(name)} BatchWriteItem", _writes(len(requests), sum(
                    max(1, math.ceil(item_size(r.get("PutRequest", {}).get("Item")) / WRITE_UNIT)) for r in requests)))
                for name, requests in kwargs.get("RequestItems", {}).items()
            ]  # fmt: skip
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            written = kwargs.get("Item") or data.get("Attributes")
            return [(f"{table} {operation}", _writes(1, max(1, math.ceil(item_size(written) / WRITE_UNIT))))]
        return [(f"{table} {operation}", {"requests": 1})]


def _reads(items: int, size: int, units: float) -> dict[str, float]:
    return {"requests": 1, "items_read": items, "bytes_read": size, "rcu": units}


def _writes(items: int, units: float) -> dict[str, float]:
    return {"requests": 1, "items_written": items, "wcu": units}


def install_counters(prefix: str) -> DynamoCounters:
    """Count every DynamoDB call PynamoDB makes in this process (the API's reads and writes)."""
    from pynamodb.connection.base import Connection as PynamoConnection

    counters = DynamoCounters(prefix)
    original = PynamoConnection._make_api_call

    def counted(self: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        data = None
        try:
            data = original(self, operation_name, operation_kwargs)
            return data
        finally:
            counters.record(operation_name, operation_kwargs, data, time.perf_counter() - started)

    PynamoConnection._make_api_call = counted  # type: ignore[method-assign]
    return counters


# --- moto's item-size check, made incremental while bulk loading ----------------------------------------


def _moto_size_check(fast: bool) -> None:
    from moto.dynamodb.models import dynamo_type

    cls: Any = dynamo_type.LimitedSizeDict
    if not hasattr(cls, "_bench_original_setitem"):
        cls._bench_original_setitem = cls.__setitem__
    if not fast:
        cls.__setitem__ = cls._bench_original_setitem
        return

    def size_of(value: Any) -> int:
        return value.size() if type(value) is dynamo_type.DynamoType else dynamo_type.bytesize(str(value))

    def incremental_setitem(self: Any, key: str, value: Any) -> None:
        size = self.__dict__.get("_bench_size")
        if size is None:
            size = sum(size_of(k) + size_of(v) for k, v in self.items())
        if key in self:
            size -= size_of(key) + size_of(dict.__getitem__(self, key))
        new = dynamo_type.bytesize(key) + size_of(value)
        if size + new > 405000:  # moto's own limit
            raise dynamo_type.ItemSizeTooLarge
        dict.__setitem__(self, key, value)
        self.__dict__["_bench_size"] = size + new

    cls.__setitem__ = incremental_setitem


# --- moto as shipped, or with DynamoDB-like partition reads and plain JSON responses ---------------------

#: Item operations whose moto results are already DynamoDB wire-format dicts.
FAST_JSON_OPERATIONS = frozenset(
    {"Query", "Scan", "GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
)


def _moto_mode(mode: str) -> None:
    """``stock``: moto 5.2 as shipped. Every Query lists and sorts the whole table (for a GSI it also
    compares every item's key), and every response goes through moto's model-driven serializer
    (~70 ms per 7 KB call item on this machine). ``fast``: the same moto code with two changes that
    leave every response identical (``check_fast_mode``): a Query is handed only the items of its
    partition (the table's own hash-key map, or a per-index map rebuilt after writes), so its cost
    follows the partition's size as in DynamoDB; and item operations' results, already wire-format
    dicts, are written with ``json.dumps``."""
    import json

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    table_cls: Any = Table
    result_cls: Any = DynamoResult
    if not hasattr(table_cls, "_bench_stock_query"):
        table_cls._bench_stock_query = table_cls.query
        table_cls._bench_lock = threading.Lock()
        result_cls._bench_stock_execute = result_cls.execute_result
        _count_writes(table_cls, DynamoDBBackend)
    if mode == "stock":
        table_cls.query = table_cls._bench_stock_query
        result_cls.execute_result = result_cls._bench_stock_execute
        return
    if mode != "fast":
        raise ValueError(f"unknown emulator mode {mode!r}")

    def execute_result(self: Any, context: Any) -> Any:
        if str(context.operation_model.name) in FAST_JSON_OPERATIONS and not isinstance(
            self.result, Exception
        ):
            return 200, {"Content-Type": "application/json"}, json.dumps(self.result, separators=(",", ":"))
        return result_cls._bench_stock_execute(self, context)

    result_cls.execute_result = execute_result

    def partitioned_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = (
            kwargs.get("index_name") if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        )
        if index_name:
            index = self.get_index(index_name)
            attribute = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
            value = dict(kwargs.get("hash_key_conditions") or []).get(attribute, hash_key)
            candidates = _index_partitions(self, index_name, attribute).get(value, [])
        elif self.range_key_attr:
            candidates = list(self.items.get(hash_key, {}).values())
        else:
            candidates = [self.items[hash_key]] if hash_key in self.items else []
        with table_cls._bench_lock:
            self.all_items = lambda: candidates  # only this partition, for this call
            try:
                return table_cls._bench_stock_query(self, hash_key, *args, **kwargs)
            finally:
                del self.all_items

    table_cls.query = partitioned_query


def check_fast_mode(server: ServerProcess, probes: list[Callable[[], Any]]) -> dict[str, Any]:
    """Run ``probes`` (reads through PynamoDB, from the parent) in both modes; their results must match."""
    answers = {}
    for mode in ("stock", "fast"):
        server.command("emulator_mode", mode)
        answers[mode] = [probe() for probe in probes]
    same = answers["stock"] == answers["fast"]
    return {"probes": len(probes), "identical": same}


def _index_partitions(table: Any, index_name: str, attribute: str) -> dict[Any, list[Any]]:
    cache = table.__dict__.setdefault("_bench_partitions", {})
    version = table.__dict__.get("_bench_version", 0)
    cached = cache.get(index_name)
    if cached is None or cached[0] != version:
        partitions: dict[Any, list[Any]] = defaultdict(list)
        for group in table.items.values():
            for item in group.values() if table.range_key_attr else [group]:
                value = item.attrs.get(attribute)
                if value is not None:
                    partitions[value].append(item)
        cached = cache[index_name] = (version, partitions)
    return cached[1]


def _count_writes(table_cls: Any, backend_cls: Any) -> None:
    """Every write moves the table's version on, so per-index partition maps are rebuilt."""

    def bump(table: Any) -> None:
        table.__dict__["_bench_version"] = table.__dict__.get("_bench_version", 0) + 1

    for name in ("put_item", "delete_item"):
        original = getattr(table_cls, name)

        def wrapped(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            bump(self)
            return _original(self, *args, **kwargs)

        setattr(table_cls, name, wrapped)
    update = backend_cls.update_item

    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        bump(self.get_table(table_name))
        return update(self, table_name, *args, **kwargs)

    backend_cls.update_item = update_item


def _moto_item_counts(prefix: str) -> dict[str, int]:
    from moto.dynamodb.models import dynamodb_backends

    counts: dict[str, int] = {}
    for account in dynamodb_backends.values():
        for backend in account.values():
            for name, table in backend.tables.items():
                if name.startswith(prefix):
                    counts[name.removeprefix(prefix)] = (
                        sum(len(v) for v in table.items.values())
                        if table.range_key_attr
                        else len(table.items)
                    )
    return counts


def _rss_mb() -> dict[str, int]:
    import resource

    rss = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) // 1024
    return {"rss_mb": rss, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


# --- the server process -------------------------------------------------------------------------------


def _serve(conn: Connection, with_api: bool) -> None:
    import logging

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from callsight.config import get_settings, reset_settings
    from callsight.local.emulator import EmbeddedEmulator
    from callsight.storage import aws
    from callsight.storage.provisioning import provision
    from chalice.local import ChaliceRequestHandler

    ChaliceRequestHandler.log_message = lambda *args: None  # type: ignore[method-assign]  # no access log
    emulator = EmbeddedEmulator()
    os.environ["CALLSIGHT_AWS_ENDPOINT"] = emulator.start()
    reset_settings()
    aws.reset_clients()
    settings = get_settings()
    provision(settings)
    counters = install_counters(settings.name(""))
    api = None
    if with_api:
        from callsight.local.api_server import LocalApi

        api = LocalApi(port=0)
        api.start()
    counters.reset()
    log = os.path.join(tempfile.gettempdir(), f"callsight-bench-server-{os.getpid()}.log")
    with open(log, "ab") as sink:  # the API's EMF metrics and logs, away from the figures
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    conn.send({"endpoint": emulator.endpoint, "api": api.url if api else None, "pid": os.getpid()})
    while True:
        command, argument = conn.recv()
        try:
            if _answer(conn, command, argument, counters, settings.name("")):
                continue
        except Exception as exc:  # report, keep serving
            conn.send(RuntimeError(f"{command}: {type(exc).__name__}: {exc}"))
            continue
        if command == "stop":
            if api is not None:
                api.stop()
            emulator.stop()
            conn.send(True)
            return


def _answer(conn: Connection, command: str, argument: Any, counters: DynamoCounters, prefix: str) -> bool:
    """Answer one command; ``False`` when it is not one of these (``stop``)."""
    answers: dict[str, Any] = {
        "counters": counters.reset,
        "fast_writes": lambda: _moto_size_check(bool(argument)) or True,
        "memory": _rss_mb,
        "items": lambda: _moto_item_counts(prefix),
        "emulator_mode": lambda: _moto_mode(str(argument)) or True,
    }
    if command not in answers:
        return False
    conn.send(answers[command]())
    return True


class ServerProcess:
    """Parent-side handle: ``with ServerProcess() as server: server.api_url, server.command(...)``."""

    def __init__(self, with_api: bool = True) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, with_api), name="callsight-bench-server")
        self.endpoint = ""
        self.api_url: str | None = None
        self.pid = 0
        self._with_api = with_api

    def __enter__(self) -> ServerProcess:
        self._process.start()
        if not self._conn.poll(180):
            raise RuntimeError("the server process did not start within 180 s")
        ready = self._conn.recv()
        self.endpoint, self.api_url, self.pid = ready["endpoint"], ready["api"], ready["pid"]
        return self

    def command(self, name: str, argument: Any = None, timeout_s: float = 120) -> Any:
        self._conn.send((name, argument))
        if not self._conn.poll(timeout_s):
            raise RuntimeError(f"the server process did not answer {name!r} within {timeout_s} s")
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def __exit__(self, *exc: object) -> None:
        try:
            if self._process.is_alive():
                self.command("stop", timeout_s=30)
        except (OSError, EOFError, RuntimeError):
            pass
        finally:
            self._process.join(30)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(10)


def summarize(counters: dict[str, dict[str, float]], requests: int) -> dict[str, Any]:
    """Per API request: DynamoDB requests, items read, KB read, RCU, items written, WCU, emulator ms;
    plus the breakdown per table and operation."""
    total = dict.fromkeys(DynamoCounters.FIELDS, 0.0)
    for values in counters.values():
        for name in DynamoCounters.FIELDS:
            total[name] += values.get(name, 0.0)
    per = max(1, requests)
    return {
        "ddb_requests": round(total["requests"] / per, 2),
        "items_read": round(total["items_read"] / per, 1),
        "kb_read": round(total["bytes_read"] / 1024 / per, 1),
        "rcu": round(total["rcu"] / per, 2),
        "items_written": round(total["items_written"] / per, 2),
        "wcu": round(total["wcu"] / per, 2),
        "emulator_ms": round(total["seconds"] * 1000 / per, 1),
        "by_operation": {
            key: {
                "requests": round(v["requests"] / per, 2),
                "items_read": round(v["items_read"] / per, 1),
                "ms": round(v["seconds"] * 1000 / per, 1),
            }
            for key, v in sorted(counters.items())
        },
    }
