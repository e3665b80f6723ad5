"""The OpenAPI 3 document, generated from the route table and the pydantic models (one source).

``ROUTES`` lists every route with its query model and response model; the Chalice app serves
``/openapi.json`` from it and a test checks that it names exactly the app's routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from callsight.api.admin import AuditQuery, ErasureBody, HoldRequest, HoldState, PolicyChange
from callsight.api.consent import ConsentBody, ConsentQuery, ConsentRemoveBody
from callsight.api.models import (
    AlertsQuery,
    ApiError,
    AudioUrl,
    CallDetail,
    CallPage,
    DetailQuery,
    FeedQuery,
    ListQuery,
    SearchQuery,
    SearchResults,
)
from callsight.api.stats import Stats, StatsQuery
from callsight.api.voiceprints import VoicePrintOptIn
from callsight.compliance.audit import AuditEntry
from callsight.compliance.policies import RetentionPolicy
from callsight.models.feedback import LabelCorrection, LabelReview
from callsight.models.transcript import Transcript
from callsight.models.voiceprint import VoicePrintView
from callsight.reports.weekly import WeeklyQuery, WeeklyReport
from callsight.sweeps.consent import ConsentChange, ConsentPage, ConsentRemoval
from callsight.sweeps.deletion import SweepReport
from callsight.sweeps.voiceprints import VoicePrintChange, VoicePrintRemoval


@dataclass(frozen=True)
class RouteSpec:
    path: str
    summary: str
    response: type[BaseModel] | None
    query: type[BaseModel] | None = None
    auth: bool = True
    methods: tuple[str, ...] = ("get",)
    body: type[BaseModel] | None = None
    #: The response is a JSON array of ``response``.
    many: bool = False
    #: Also answers ``text/csv`` (``?format=csv``).
    csv: bool = False
    #: Answers 409 when the call is not in a state the request applies to (why).
    conflict: str | None = None
    #: Answers 404 when what the request names does not exist (why); ``{call_id}`` routes always may.
    missing: str | None = None


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/health", "Liveness (no data, no token needed)", None, auth=False),
    RouteSpec("/openapi.json", "This document", None, auth=False),
    RouteSpec(
        "/calls",
        "List calls the caller may see, newest start first (calls without a start time are only in /feed "
        "and the call view; a deployment whose calls predate the call-day bounds lists newest change first)",
        CallPage,
        ListQuery,
    ),
    RouteSpec(
        "/calls/{call_id}",
        "One call: metrics, categories, masked entities; with include=audio its audio URL too",
        CallDetail,
        DetailQuery,
    ),
    RouteSpec(
        "/alerts",
        "Calls that tripped a per-call alert rule, newest start first, in the caller's scope; admin, qa, agent",
        CallPage,
        AlertsQuery,
    ),
    RouteSpec("/calls/{call_id}/transcript", "The transcript (PII masked unless admin/crm)", Transcript),
    RouteSpec(
        "/search", "Calls where every term was said (stemmed), with offsets", SearchResults, SearchQuery
    ),
    RouteSpec(
        "/reports/weekly",
        "Weekly report (top reasons, top-10 questions, agent ranking, sentiment trend) as JSON or CSV; admin, qa",
        WeeklyReport,
        WeeklyQuery,
        csv=True,
    ),
    RouteSpec("/feed", "CRM change feed: calls in order of their last change", CallPage, FeedQuery),
    RouteSpec("/stats", "Topic shares, outcomes, per-agent conversion, sentiment by day", Stats, StatsQuery),
    RouteSpec("/calls/{call_id}/audio", "Presigned URL (5 min) of the redacted audio", AudioUrl),
    RouteSpec(
        "/calls/{call_id}/legal-hold",
        "Set (PUT {reason}) or release (DELETE) a legal hold; admin",
        HoldState,
        methods=("put", "delete"),
        body=HoldRequest,
    ),
    RouteSpec(
        "/calls/{call_id}/labels",
        "Correct a call's labels (last correction wins; audited; ids from the rule set); qa (own teams), admin",
        LabelReview,
        methods=("put",),
        body=LabelCorrection,
        conflict="The call is not analysed yet, or changed meanwhile",
    ),
    RouteSpec(
        "/erasure",
        "Erase every call of a phone number; admin",
        SweepReport,
        methods=("post",),
        body=ErasureBody,
    ),
    RouteSpec(
        "/consent",
        "Consent registry / stop list: masked numbers and hashes, paged; admin",
        ConsentPage,
        ConsentQuery,
    ),
    RouteSpec(
        "/consent",
        "Add or update a stop-list entry (consent_revoked erases the subject's calls); admin",
        ConsentChange,
        methods=("post",),
        body=ConsentBody,
    ),
    RouteSpec(
        "/consent",
        "Remove a stop-list entry (lifts a revoked subject's fence on later uploads); admin",
        ConsentRemoval,
        methods=("delete",),
        body=ConsentRemoveBody,
        missing="No entry for that subject",
    ),
    RouteSpec(
        "/agents/{agent_id}/voiceprint",
        "An agent's voice-print entry: state, consent, enrollment dates, source call (never the vector); admin",
        VoicePrintView,
        missing="The agent is not opted in (no entry)",
    ),
    RouteSpec(
        "/agents/{agent_id}/voiceprint",
        "Opt an agent in to a voice print (consent_confirmed must be true); their next stereo call "
        "enrolls it; admin",
        VoicePrintChange,
        methods=("post",),
        body=VoicePrintOptIn,
    ),
    RouteSpec(
        "/agents/{agent_id}/voiceprint",
        "Withdraw an agent's opt-in and erase their voice print; admin",
        VoicePrintRemoval,
        methods=("delete",),
        missing="The agent has no entry",
    ),
    RouteSpec("/policies/retention", "Retention policies; admin", RetentionPolicy, many=True),
    RouteSpec(
        "/policies/retention/{policy_id}",
        "Create or change a retention policy (recomputes expiries); admin",
        PolicyChange,
        methods=("put",),
        body=RetentionPolicy,
    ),
    RouteSpec(
        "/audit", "Audit entries of a target (?target=call:<id>); admin", AuditEntry, AuditQuery, many=True
    ),
)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(route: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}
    body = _schema_ref(route.response, components) if route.response is not None else {"type": "object"}
    if route.many:
        body = {"type": "array", "items": body}
    content: dict[str, Any] = {"application/json": {"schema": body}}
    if route.csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    operation: dict[str, Any] = {"summary": route.summary, "responses": responses}
    parameters = _query_parameters(route.query) if route.query is not None else []
    parameters += [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("call_id", "policy_id", "agent_id")
        if "{" + name + "}" in route.path
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.query is not None or route.body is not None or "{agent_id}" in route.path:
        responses["400"] = {"description": "Invalid query or body", **error}
    if route.body is not None:
        operation["requestBody"] = {
            "content": {"application/json": {"schema": _schema_ref(route.body, components)}}
        }
    if route.auth:
        operation["security"] = [{"bearer": []}]
        responses["401"] = {"description": "Missing or invalid token", **error}
    if "{call_id}" in route.path or route.missing:
        responses["404"] = {"description": route.missing or "No such call, or not one you may see", **error}
    if route.path in (
        "/feed",
        "/alerts",
        "/reports/weekly",
        "/calls/{call_id}/audio",
        "/calls/{call_id}/labels",
    ) or route.summary.endswith("admin"):
        responses["403"] = {"description": "Not for this role", **error}
    if route.conflict is not None:
        responses["409"] = {"description": route.conflict, **error}
    return operation


def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {
        "ApiError": ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
    }
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:  # a path may have one spec per method (different bodies and answers)
        paths.setdefault(route.path, {}).update({m: _operation(route, components) for m in route.methods})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Callsight API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
