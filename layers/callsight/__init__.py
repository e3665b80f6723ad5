"""Callsight: call recordings in, searchable, tagged, compliant calls out.

This package is the shared domain library (the Lambda layer). Handlers in ``functions/`` stay
thin and call into it; only ``callsight.storage`` talks to AWS.
"""

__version__ = "0.1.0"
