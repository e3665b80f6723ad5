"""The local event source mappings: poll each stage queue and invoke its handler in-process.

Behaves like Lambda's SQS event source mapping: up to ``batch_size`` messages per invocation, the
real SQS event shape, messages deleted only when the handler succeeded for them (partial batch
responses honoured), failed ones left to reappear after the visibility timeout and moved to the
DLQ by SQS's redrive policy after ``max_receive_count`` receives. Neither moto nor LocalStack can
run Lambda functions without Docker, hence this router.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from callsight import resources
from callsight.config import Settings
from callsight.resources import QueueSpec
from callsight.storage.queues import StageQueue

Handler = Callable[[dict[str, Any], Any], Any]

#: ``functions/`` beside ``layers/`` in a source checkout (editable install).
DEFAULT_FUNCTIONS_DIR = Path(__file__).resolve().parents[3] / "functions"


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the fields Powertools reads)."""

    function_name: str
    timeout_s: float
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


def load_handler(function: str, functions_dir: Path = DEFAULT_FUNCTIONS_DIR) -> Handler | None:
    """``functions/<function>/app.py:lambda_handler``, or ``None`` if that function is not built yet."""
    module = load_function_module(function, functions_dir)
    if module is None:
        return None
    handler: Handler = module.lambda_handler
    return handler


def load_function_module(function: str, functions_dir: Path = DEFAULT_FUNCTIONS_DIR) -> ModuleType | None:
    """The module ``functions/<function>/app.py``, imported once per process (cold start)."""
    path = functions_dir / function / "app.py"
    if not path.exists():
        return None
    module_name = f"callsight_function_{function}"
    module: ModuleType | None = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return module


@dataclass
class QueueStats:
    invocations: int = 0
    messages: int = 0
    failed: int = 0
    handler_errors: int = 0


class LocalRunner:
    """Routes stage queues to their handlers. ``visibility_timeout_s`` overrides the queues' own
    (useful to see redelivery within seconds locally); ``None`` keeps the declared values.

    ``function_timeout_s`` is the timeout each invocation's ``LambdaContext`` reports (Powertools
    idempotency expires the in-progress record of an attempt that died after that long). ``None``
    makes it the visibility timeout, AWS's upper bound; AWS recommends a visibility timeout of six
    times the function's timeout, and fault-injection tests use a shorter one to model that."""

    def __init__(
        self,
        settings: Settings,
        functions_dir: Path = DEFAULT_FUNCTIONS_DIR,
        visibility_timeout_s: int | None = None,
        queues: tuple[QueueSpec, ...] = resources.QUEUES,
        function_timeout_s: float | None = None,
    ) -> None:
        self.settings = settings
        self._visibility = visibility_timeout_s
        self._function_timeout = function_timeout_s
        self.routes: dict[str, tuple[QueueSpec, Handler]] = {}
        self.unrouted: list[str] = []
        for spec in queues:
            handler = load_handler(spec.function, functions_dir) if spec.function else None
            if handler is None:
                self.unrouted.append(spec.logical)
            else:
                self.routes[spec.logical] = (spec, handler)
        self.stats: dict[str, QueueStats] = {logical: QueueStats() for logical in self.routes}
        self._queues = {logical: StageQueue(spec, settings) for logical, (spec, _) in self.routes.items()}

    def poll_once(self, logical: str) -> int:
        """Receive one batch from ``logical`` and invoke its handler; returns messages received."""
        spec, handler = self.routes[logical]
        queue = self._queues[logical]
        visibility = self._visibility if self._visibility is not None else spec.visibility_timeout_s
        messages = queue.receive(spec.batch_size, visibility)
        if not messages:
            return 0
        event = {"Records": [self._record(spec, queue.url, m) for m in messages]}
        timeout = visibility if self._function_timeout is None else min(self._function_timeout, visibility)
        context = LambdaContext(function_name=self.settings.name(spec.function or logical), timeout_s=timeout)
        stats = self.stats[logical]
        stats.invocations += 1
        stats.messages += len(messages)
        try:
            response = handler(event, context) or {}
        except Exception:  # a crashed invocation: SQS redelivers the whole batch, as in Lambda
            stats.handler_errors += 1
            stats.failed += len(messages)
            return len(messages)
        failed_ids = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        stats.failed += len(failed_ids)
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            queue.delete([m["ReceiptHandle"] for m in done])
        return len(messages)

    def _record(self, spec: QueueSpec, url: str, message: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:sqs:{self.settings.region}:000000000000:{spec.physical(self.settings)}"
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "dataType": value.get("DataType"),
                    "stringListValues": [],
                    "binaryListValues": [],
                }
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": self.settings.region,
        }

    def drain(
        self,
        *,
        idle_rounds: int = 2,
        idle_sleep_s: float = 0.2,
        max_seconds: float = 300.0,
        on_progress: Callable[[dict[str, QueueStats]], None] | None = None,
    ) -> bool:
        """Poll every routed queue until none has visible or in-flight messages for ``idle_rounds``
        rounds in a row (failed messages come back after their visibility timeout). Returns ``True``
        when drained, ``False`` when ``max_seconds`` ran out first. ``on_progress`` sees the stats
        after every invocation."""
        deadline = time.monotonic() + max_seconds
        quiet = 0
        while time.monotonic() < deadline:
            received = 0
            for logical in self.routes:
                got = self.poll_once(logical)
                received += got
                if got and on_progress is not None:
                    on_progress(self.stats)
            if received:
                quiet = 0
                continue
            quiet = quiet + 1 if self._routed_queues_empty() else 0
            if quiet >= idle_rounds:
                return True
            time.sleep(idle_sleep_s)
        return False

    def _routed_queues_empty(self) -> bool:
        return all(queue.depth() == (0, 0) for queue in self._queues.values())

    def run_forever(self, should_stop: Callable[[], bool], idle_sleep_s: float = 0.5) -> None:
        while not should_stop():
            if sum(self.poll_once(logical) for logical in self.routes) == 0:
                time.sleep(idle_sleep_s)

    def queue_depths(self) -> dict[str, dict[str, int]]:
        """Visible and in-flight messages of every stage queue and its DLQ."""
        depths: dict[str, dict[str, int]] = {}
        for spec in resources.QUEUES:
            for dead_letters in (False, True):
                name = spec.dlq_physical(self.settings) if dead_letters else spec.physical(self.settings)
                visible, in_flight = StageQueue(spec, self.settings, dead_letters=dead_letters).depth()
                depths[name] = {"visible": visible, "in_flight": in_flight}
        return depths
