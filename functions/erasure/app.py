"""Erasure by subject: delete every call of a customer phone number (consent revoked). Thin.

Invoked with ``{"phone": "+7 903 123-45-67", "requested_by": "dpo@example.com", "dry_run": false}``
(the API will call it for admins). Calls under legal hold are kept and reported; a receipt goes to
the audit log. A malformed phone number is refused with a clear error; an unknown one finds nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from callsight.observability import function_telemetry
from callsight.storage.secrets import resolved_settings
from callsight.sweeps.deletion import Actor, DeletionResult
from callsight.sweeps.erasure import InvalidPhone, SubjectErasure
from pydantic import BaseModel

logger, tracer, metrics = function_telemetry("erasure", "callsight.compliance")

erasure = SubjectErasure(resolved_settings())


class ErasureRequest(BaseModel):
    phone: str
    requested_by: str
    role: str = "admin"
    dry_run: bool = False


@logger.inject_lambda_context(log_event=False)  # the event holds the phone number: never logged
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ErasureRequest.model_validate(event)
    who = Actor(actor=request.requested_by, role=request.role, request_id=context.aws_request_id)
    try:
        report = erasure.erase(request.phone, who, dry_run=request.dry_run)
    except InvalidPhone as exc:
        return {"error": "invalid_phone", "message": str(exc)}
    for result in DeletionResult:
        metrics.add_metric(name=f"Erasure_{result.value}", unit=MetricUnit.Count, value=report.count(result))
    return report.model_dump(mode="json")
