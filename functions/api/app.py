"""Callsight API (Chalice): bearer-token auth, role-based views, every read audited. Thin routes.

Routes (the table in ``callsight.api.openapi`` documents each): health, OpenAPI, calls (list with
filters and opaque cursors, detail, transcript masked unless the role holds PII, presigned audio),
alerts, search, stats, weekly report (JSON or CSV), CRM feed, QA label corrections, and the admin routes (legal
hold, erasure, consent registry, agents' voice prints, retention policies, audit log). Errors share one shape: ``{"error": code, "message": text}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from callsight.analysis.rules import DEFAULT_RULES, load_rules
from callsight.api.admin import AdminApi, AuditQuery, ErasureBody, HoldRequest
from callsight.api.consent import ConsentApi, ConsentBody, ConsentQuery, ConsentRemoveBody
from callsight.api.labels import LabelsApi
from callsight.api.models import AlertsQuery, ApiError, DetailQuery, FeedQuery, ListQuery, SearchQuery
from callsight.api.openapi import openapi_document
from callsight.api.reports import ReportsApi, csv_headers
from callsight.api.service import BadRequest, CallsApi, Conflict, Forbidden, NotFound
from callsight.api.stats import StatsApi, StatsQuery
from callsight.api.voiceprints import VoicePrintApi
from callsight.auth.tokens import Principal, TokenVerifier, Unauthorized
from callsight.compliance.policies import RetentionPolicy
from callsight.observability import function_telemetry
from callsight.reports.weekly import WeeklyQuery, report_csv
from callsight.storage.secrets import resolved_settings
from callsight.ui import asset as ui_asset_file
from callsight.ui import security_headers
from chalice.app import BadRequestError, Chalice, Response
from pydantic import ValidationError

app = Chalice(app_name="callsight-api")
logger, tracer, metrics = function_telemetry("api", "callsight.api", "callsight.reports", "callsight.auth")
settings = resolved_settings()
verifier = TokenVerifier(settings)
calls = CallsApi(settings)
admin = AdminApi(settings, calls)
consent = ConsentApi(settings)
voiceprints = VoicePrintApi(settings)
labels = LabelsApi(calls, load_rules(settings.analysis_rules or DEFAULT_RULES))  # the analyzer's rule set
stats_api = StatsApi(settings)
reports = ReportsApi(settings)
DOCUMENT = openapi_document()


@app.middleware("http")
def observe(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """One structured log line and one latency metric per request (never the token or the body)."""
    started = time.perf_counter()
    response = get_response(event)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    route = event.context.get("resourcePath", event.path) if event.context else event.path
    logger.info(
        "request",
        extra={"method": event.method, "route": route, "status": response.status_code, "ms": elapsed_ms,
               "request_id": (event.context or {}).get("requestId")},
    )  # fmt: skip
    metrics.add_metric(name="ApiLatencyMs", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    if response.status_code >= 500:
        metrics.add_metric(name="ApiServerErrors", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
    return response


def _error(status: int, code: str, message: str) -> Response:
    return Response(body=ApiError(error=code, message=message).model_dump(), status_code=status)


def _principal() -> Principal:
    headers = app.current_request.headers if app.current_request else {}
    return verifier.verify(headers.get("authorization"))


def _request_id() -> str | None:
    request = app.current_request
    return request.context.get("requestId") if request is not None else None


def _guarded(handler: Callable[[Principal], Any]) -> Any:
    try:
        principal = _principal()
    except Unauthorized as exc:
        return _error(401, "unauthorized", str(exc))
    try:
        return handler(principal)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        return _error(400, "bad_request", f"{where}: {first['msg']}")
    except BadRequest as exc:
        return _error(400, "bad_request", str(exc))
    except NotFound as exc:
        return _error(404, "not_found", str(exc))
    except Forbidden as exc:
        return _error(403, "forbidden", str(exc))
    except Conflict as exc:
        return _error(409, "conflict", str(exc))


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/openapi.json", methods=["GET"])
def openapi() -> dict[str, Any]:
    return DOCUMENT


# The web dashboard (callsight.ui): public static files, no data; every data request the page makes
# goes to the authorised routes below with the user's own token. Not API operations: not in OpenAPI.
MEDIA_ORIGIN = settings.endpoint_for("s3")


def _ui_file(name: str) -> Response:
    found = ui_asset_file(name)
    if found is None:
        return Response(
            body="not found",
            status_code=404,
            headers=security_headers(MEDIA_ORIGIN, Content_Type="text/plain"),
        )
    body, content_type = found
    return Response(
        body=body.decode("utf-8"),
        status_code=200,
        headers=security_headers(MEDIA_ORIGIN, Content_Type=content_type),
    )


@app.route("/ui", methods=["GET"])
def ui_index() -> Response:
    return _ui_file("index.html")


@app.route("/ui/{asset}", methods=["GET"])
def ui_asset(asset: str) -> Response:
    if asset in ("", "index.html"):  # the page lives at /ui: its relative links resolve from there
        return Response(body="", status_code=302, headers=security_headers(MEDIA_ORIGIN, Location="../ui"))
    return _ui_file(asset)


@app.route("/calls", methods=["GET"])
def list_calls() -> Any:
    params = dict((app.current_request.query_params or {}) if app.current_request else {})
    return _guarded(
        lambda p: calls.list_calls(p, ListQuery.model_validate(params), _request_id()).model_dump(mode="json")
    )


def _params() -> dict[str, str]:
    return dict((app.current_request.query_params or {}) if app.current_request else {})


@app.route("/search", methods=["GET"])
def search() -> Any:
    return _guarded(
        lambda p: calls.search(p, SearchQuery.model_validate(_params()), _request_id()).model_dump(
            mode="json"
        )
    )


@app.route("/stats", methods=["GET"])
def stats() -> Any:
    return _guarded(
        lambda p: stats_api.read(p, StatsQuery.model_validate(_params()), _request_id()).model_dump(
            mode="json"
        )
    )


@app.route("/reports/weekly", methods=["GET"])
def weekly_report() -> Any:
    def build(principal: Principal) -> Any:
        query = WeeklyQuery.model_validate(_params())
        report = reports.weekly(principal, query, _request_id())
        if query.format == "csv":
            return Response(body=report_csv(report), status_code=200, headers=csv_headers(report))
        return report.model_dump(mode="json")

    return _guarded(build)


@app.route("/feed", methods=["GET"])
def feed() -> Any:
    return _guarded(
        lambda p: calls.feed(p, FeedQuery.model_validate(_params()), _request_id()).model_dump(mode="json")
    )


@app.route("/alerts", methods=["GET"])
def alerts() -> Any:
    return _guarded(
        lambda p: calls.alerts(p, AlertsQuery.model_validate(_params()), _request_id()).model_dump(
            mode="json"
        )
    )


@app.route("/calls/{call_id}", methods=["GET"])
def call_detail(call_id: str) -> Any:
    return _guarded(
        lambda p: admin.call_view(
            p, call_id, DetailQuery.model_validate(_params()), _request_id()
        ).model_dump(mode="json")
    )


def _body(*, required: bool = False) -> dict[str, Any]:
    try:
        body = app.current_request.json_body if app.current_request else None
    except BadRequestError as exc:
        raise BadRequest("the request body is not valid JSON") from exc
    if body is None:
        if required:
            raise BadRequest("this route needs a JSON object body (Content-Type: application/json)")
        return {}
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


@app.route("/calls/{call_id}/audio", methods=["GET"])
def call_audio(call_id: str) -> Any:
    return _guarded(lambda p: admin.audio_url(p, call_id, _request_id()).model_dump(mode="json"))


@app.route("/calls/{call_id}/legal-hold", methods=["PUT", "DELETE"])
def legal_hold(call_id: str) -> Any:
    release = app.current_request is not None and app.current_request.method == "DELETE"
    return _guarded(
        lambda p: admin.legal_hold(
            p,
            call_id,
            None if release else HoldRequest.model_validate(_body()),
            release=release,
            request_id=_request_id(),
        ).model_dump(mode="json")
    )


@app.route("/calls/{call_id}/labels", methods=["PUT"])
def correct_labels(call_id: str) -> Any:
    return _guarded(
        lambda p: labels.correct(p, call_id, lambda: _body(required=True), _request_id()).model_dump(
            mode="json"
        )
    )


@app.route("/erasure", methods=["POST"])
def erasure() -> Any:
    return _guarded(
        lambda p: admin.erase(p, ErasureBody.model_validate(_body()), _request_id()).model_dump(mode="json")
    )


@app.route("/consent", methods=["GET", "POST", "DELETE"])
def consent_registry() -> Any:
    """The stop list: list (GET, paged), add or update (POST), remove (DELETE with a JSON body, so no
    number ever sits in a URL or an access log)."""
    method = app.current_request.method if app.current_request else "GET"

    def handle(principal: Principal) -> Any:
        if method == "POST":
            return consent.add(principal, ConsentBody.model_validate(_body(required=True)), _request_id())
        if method == "DELETE":
            return consent.remove(
                principal, ConsentRemoveBody.model_validate(_body(required=True)), _request_id()
            )
        return consent.list(principal, ConsentQuery.model_validate(_params()), _request_id())

    return _guarded(lambda p: handle(p).model_dump(mode="json"))


@app.route("/agents/{agent_id}/voiceprint", methods=["GET", "POST", "DELETE"])
def agent_voiceprint(agent_id: str) -> Any:
    """An agent's voice print (biometric, opt-in): opt in with recorded consent (POST), show state and
    dates (GET), withdraw and erase (DELETE). Never the vector."""
    method = app.current_request.method if app.current_request else "GET"

    def handle(principal: Principal) -> Any:
        if method == "POST":
            return voiceprints.opt_in(principal, agent_id, _body, _request_id())
        if method == "DELETE":
            return voiceprints.remove(principal, agent_id, _request_id())
        return voiceprints.show(principal, agent_id, _request_id())

    return _guarded(lambda p: handle(p).model_dump(mode="json"))


@app.route("/policies/retention", methods=["GET"])
def retention_policies() -> Any:
    return _guarded(
        lambda p: [policy.model_dump(mode="json") for policy in admin.retention_policies(p, _request_id())]
    )


@app.route("/policies/retention/{policy_id}", methods=["PUT"])
def put_retention_policy(policy_id: str) -> Any:
    return _guarded(
        lambda p: admin.put_retention_policy(
            p, RetentionPolicy.model_validate(_body() | {"policy_id": policy_id}), _request_id()
        ).model_dump(mode="json")
    )


@app.route("/audit", methods=["GET"])
def audit_log() -> Any:
    return _guarded(
        lambda p: [
            e.model_dump(mode="json")
            for e in admin.audit_log(p, AuditQuery.model_validate(_params()), _request_id())
        ]
    )


@app.route("/calls/{call_id}/transcript", methods=["GET"])
def call_transcript(call_id: str) -> Any:
    return _guarded(lambda p: calls.transcript(p, call_id, _request_id()).model_dump(mode="json"))
