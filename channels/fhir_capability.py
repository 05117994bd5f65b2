"""The CapabilityStatement of /fhir: exactly the resources, interactions and search
parameters channels/fhir_search.py and channels/fhir_api.py serve (docs/fhir.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from channels.fhir import FHIR_JSON, to_json

_APPOINTMENT = (
    "create books a Slot for a contained Patient (ID number, name, phone); update and patch "
    "change the status only (cancelled, arrived, noshow). A search names the patient, the "
    "booking or one visit day."
)
_SEARCH = {
    "Practitioner": {"identifier": "token", "name": "string"},
    "Schedule": {"actor": "reference", "date": "date"},
    "Slot": {"schedule": "reference", "start": "date", "status": "token"},
    "Appointment": {
        "patient.identifier": "token",
        "identifier": "token",
        "date": "date",
        "status": "token",
    },
}


def capability_statement(base: str, now: datetime, version: str) -> dict[str, Any]:
    resources = []
    for kind, params in _SEARCH.items():
        interactions = [{"code": "read"}, {"code": "search-type"}]
        entry: dict[str, Any] = {"type": kind}
        if kind == "Appointment":
            interactions += [{"code": "create"}, {"code": "update"}, {"code": "patch"}]
            entry["documentation"] = _APPOINTMENT
        resources.append(
            {
                **entry,
                "interaction": interactions,
                "searchParam": [{"name": n, "type": t} for n, t in params.items()],
            }
        )
    return to_json(
        CapabilityStatement.model_validate(
            {
                "status": "active",
                "date": now,
                "kind": "instance",
                "software": {"name": "guahao", "version": version},
                "implementation": {"description": "Outpatient booking (预约挂号)", "url": base},
                "fhirVersion": "4.3.0",
                "format": [FHIR_JSON, "json"],
                "patchFormat": ["application/json-patch+json"],
                "rest": [
                    {
                        "mode": "server",
                        "security": {
                            "description": "A bearer token per HIS client "
                            "(guahao his add-client NAME)"
                        },
                        "resource": resources,
                    }
                ],
            }
        )
    )
