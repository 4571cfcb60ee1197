"""Structure checks with the same FHIR R4B models the kiosk's tests use."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from devtools.platform.outcome import PlatformError


def validate_resource(resource: Any) -> None:
    """Raise a 400 PlatformError whose OperationOutcome lists every problem."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise PlatformError(400, "structure", "The body is not a FHIR resource (no resourceType).")
    try:
        model = get_fhir_model_class(resource["resourceType"])
    except KeyError as exc:
        raise PlatformError(
            400, "not-supported", f"Unknown resource type {resource['resourceType']!r}."
        ) from exc
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        issues = [
            {
                "severity": "error",
                "code": "structure",
                "diagnostics": f"{err['msg']}",
                "expression": [".".join(str(p) for p in err["loc"])],
            }
            for err in exc.errors()[:50]
        ]
        raise PlatformError(
            400, "structure", "The resource does not validate.", issues=issues
        ) from exc
