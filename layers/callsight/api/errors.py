"""The API's refusals, each answered with its own status by the routes (and audited by
:mod:`callsight.api.audited` with its own outcome). Defined apart from :mod:`callsight.api.service`,
which re-exports them, so that the service can audit with :func:`callsight.api.audited.audited`."""

from __future__ import annotations


class NotFound(Exception):
    """404: no such call, or not one the caller may see (indistinguishable on purpose)."""


class BadRequest(ValueError):
    """400 with a message."""


class Forbidden(Exception):
    """403: the route is not for this role (never used for a specific call: those are 404)."""


class Conflict(Exception):
    """409: the call is not in a state the request applies to (e.g. not analysed yet)."""
