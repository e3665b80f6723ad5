"""The OpenAPI 3 document, generated from the route table and the pydantic models (one source).

``ROUTES`` lists every route with its query model and response model; the Chalice app serves
``/openapi.json`` from it and a test checks that it names exactly the app's routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from callsight.api.models import (
    ApiError,
    CallDetail,
    CallPage,
    FeedQuery,
    ListQuery,
    SearchQuery,
    SearchResults,
)
from callsight.models.transcript import Transcript


@dataclass(frozen=True)
class RouteSpec:
    path: str
    summary: str
    response: type[BaseModel] | None
    query: type[BaseModel] | None = None
    auth: bool = True


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/health", "Liveness (no data, no token needed)", None, auth=False),
    RouteSpec("/openapi.json", "This document", None, auth=False),
    RouteSpec("/calls", "List calls the caller may see, newest change first", CallPage, ListQuery),
    RouteSpec("/calls/{call_id}", "One call: metrics, categories, masked entities", CallDetail),
    RouteSpec("/calls/{call_id}/transcript", "The transcript (PII masked unless admin/crm)", Transcript),
    RouteSpec(
        "/search", "Calls where every term was said (stemmed), with offsets", SearchResults, SearchQuery
    ),
    RouteSpec("/feed", "CRM change feed: calls in order of their last change", CallPage, FeedQuery),
)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {
        "ApiError": ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
    }
    paths: dict[str, Any] = {}
    for route in ROUTES:
        operation: dict[str, Any] = {"summary": route.summary, "responses": {}}
        if route.query is not None:
            operation["parameters"] = _query_parameters(route.query)
        if "{call_id}" in route.path:
            operation.setdefault("parameters", []).append(
                {"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}
            )
        if route.response is not None:
            schema = route.response.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[route.response.__name__] = schema
            body = {"$ref": f"#/components/schemas/{route.response.__name__}"}
        else:
            body = {"type": "object"}
        operation["responses"]["200"] = {
            "description": "OK",
            "content": {"application/json": {"schema": body}},
        }
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}
        if route.query is not None:
            operation["responses"]["400"] = {"description": "Invalid query", **error}
        if route.auth:
            operation["security"] = [{"bearer": []}]
            operation["responses"]["401"] = {"description": "Missing or invalid token", **error}
        if "{call_id}" in route.path:
            operation["responses"]["404"] = {"description": "No such call, or not one you may see", **error}
        if route.path == "/feed":
            operation["responses"]["403"] = {"description": "Only the CRM client and admins", **error}
        paths[route.path] = {"get": operation}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Callsight API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
