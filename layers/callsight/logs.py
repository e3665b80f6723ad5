"""Route the domain packages' standard-library logs through a function's Powertools Logger.

Domain modules log with ``logging.getLogger(__name__)`` and know nothing of Lambda. A function
claims the packages it runs, so their records come out as that function's structured JSON with its
keys (``call_id``, cold start, request id). Powertools' ``copy_config_to_registered_loggers`` only
handles top-level loggers; claiming sub-packages keeps two functions that share a process (the
local runner) from relabelling each other's logs.

:func:`redact_numbers_in_logs` puts a filter on a function's handler that masks every digit of
anything that looks like a phone number in the message, the extra keys and the exception of each
record (S3 keys carry customer numbers: ``recordings/in-204-+7903…``), so no log line holds a raw
number in any spelling. UUIDs (call ids, request ids) are left alone.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

from aws_lambda_powertools import Logger

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
#: a UUID (kept), or digits possibly separated by spaces, dashes and parentheses (a number candidate)
_CANDIDATE = re.compile(rf"({_UUID})|\+?\(?(?<!\d)\d[\d \-()]*\d")
_RUN = re.compile(r"\d{7,}")
#: record attributes every LogRecord has; everything else came in through ``extra``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def claim_domain_loggers(source: Logger, *packages: str) -> None:
    for package in packages:
        domain = logging.getLogger(package)
        domain.handlers = [source.registered_handler]
        domain.setLevel(source.log_level)
        domain.propagate = False


def redact_numbers(text: str) -> str:
    """Every digit of a phone-number-like part replaced by ``*``: a run of 7+ digits, or 10+ digits
    written with spaces, dashes or parentheses (``+7 (903) 123-45-67``). UUIDs are kept."""

    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        if match.group(1):
            return found
        digits = sum(c.isdigit() for c in found)
        if _RUN.search(found) or digits >= 10:
            return re.sub(r"\d", "*", found)
        return found

    return _CANDIDATE.sub(mask, text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_numbers(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redacted(v) for v in value)
    return value


class NumberRedaction(logging.Filter):
    """Masks phone-number-like digits in a record's extra keys. The message and the exception were
    redacted when the record was made (:func:`_redacting_factory`, installed beside this filter);
    ``extra`` is set on the record only after the factory returns, so it is redacted here."""

    def filter(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(Exception):
            for name, value in list(vars(record).items()):
                if name not in _STANDARD:
                    setattr(record, name, _redacted(value))
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if record.args:
        record.msg, record.args = record.getMessage(), ()
    record.msg = _redacted(record.msg)
    if record.exc_info and record.exc_info[1] is not None:
        _redact_exception(record.exc_info[1])


def _redact_exception(exc: BaseException | None) -> None:
    """Rewrite the messages of an exception and its causes in place (they are being logged)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.args = tuple(_redacted(arg) for arg in exc.args)
        exc = exc.__cause__ or exc.__context__


def redact_numbers_in_logs(source: Logger) -> None:
    """Redact the function's own records (message, extras, exception) at its handler, and every
    other library's message and exception (Powertools' batch processor logs a failed record's
    exception to the root logger) when the record is made."""
    handler = source.registered_handler
    if not any(isinstance(f, NumberRedaction) for f in handler.filters):
        handler.addFilter(NumberRedaction())
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacts_numbers", False):
        logging.setLogRecordFactory(_redacting_factory(factory))


def _redacting_factory(make: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = make(*args, **kwargs)
        with contextlib.suppress(Exception):  # unformattable: logging reports it on emit
            _redact_record(record)
        return record

    factory.redacts_numbers = True  # type: ignore[attr-defined]
    return factory
