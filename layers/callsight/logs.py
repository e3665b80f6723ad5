"""Route the domain packages' standard-library logs through a function's Powertools Logger.

Domain modules log with ``logging.getLogger(__name__)`` and know nothing of Lambda. A function
claims the packages it runs, so their records come out as that function's structured JSON with its
keys (``call_id``, cold start, request id). Powertools' ``copy_config_to_registered_loggers`` only
handles top-level loggers; claiming sub-packages keeps two functions that share a process (the
local runner) from relabelling each other's logs.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger


def claim_domain_loggers(source: Logger, *packages: str) -> None:
    for package in packages:
        domain = logging.getLogger(package)
        domain.handlers = [source.registered_handler]
        domain.setLevel(source.log_level)
        domain.propagate = False
