"""/fhir for tests: its router in a bare FastAPI app on the test database, driven over ASGI
by httpx with a HIS client's bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from fhir.resources.R4B import get_fhir_model_class

from booking.clock import FixedClock
from booking.his.clients import add_client
from booking.protect import Protector
from booking.store import Database
from bot.fhir_handler import his_handlers
from channels.fhir import FHIR_JSON, RESIDENT_ID
from channels.fhir_api import fhir_router
from tests.support import id_number

# The tests' patient, and 张伟's Wednesday afternoon (H01, 00868, cardiology, expert clinic:
# 1 + 50 yuan, 20 places) while the clock stands at Monday 23 November 2026, 09:00.
BORN = date(1977, 7, 7)  # no other test's patients
ID_NUMBER = id_number(1, born=BORN)
NAME = "林黛玉"
PHONE = "13700001111"
ZHANG = "Schedule/H01-00868"
WED_PM = "start=ge2026-11-25&start=le2026-11-25"


@dataclass
class FhirServices:
    uows: Database
    clock: FixedClock
    protector: Protector


@asynccontextmanager
async def fhir_client(
    db: Database, clock: FixedClock, protector: Protector, token: str | None
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    services = FhirServices(db, clock, protector)
    app.include_router(fhir_router(his_handlers(lambda: services)))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://his.test", headers=headers
    ) as client:
        yield client


async def new_token(db: Database, clock: FixedClock, name: str = "his-main") -> str:
    _, token = await add_client(db, clock, name)
    return token


def booking_body(slot_id: str, id_number: str, name: str, phone: str) -> dict[str, Any]:
    """An Appointment to create, the patient contained (实名制)."""
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p",
                "identifier": [{"system": RESIDENT_ID, "value": id_number}],
                "name": [{"text": name}],
                "telecom": [{"system": "phone", "value": phone}],
            }
        ],
        "participant": [{"actor": {"reference": "#p"}, "status": "accepted"}],
    }


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after checking it against its R4B model (and a Bundle's entries)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    for entry in resource.get("entry", []):
        valid(entry["resource"])
    return resource


def fhir_json(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    return valid(answer.json())


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [e["resource"] for e in bundle.get("entry", [])]


def outcome(answer: httpx.Response, status: int) -> str:
    body = fhir_json(answer, status)
    assert body["resourceType"] == "OperationOutcome"
    return str(body["issue"][0]["code"])


async def wed_pm_slots(his: httpx.AsyncClient, extra: str = "") -> list[dict[str, Any]]:
    return resources(fhir_json(await his.get(f"/fhir/Slot?schedule={ZHANG}&{WED_PM}{extra}")))


async def book_first(his: httpx.AsyncClient) -> dict[str, Any]:
    [first, *_] = await wed_pm_slots(his, "&status=free")
    body = booking_body(first["id"], ID_NUMBER, NAME, PHONE)
    return fhir_json(await his.post("/fhir/Appointment", json=body), 201)
