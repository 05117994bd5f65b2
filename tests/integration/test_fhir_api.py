"""/fhir on SQLite and PostgreSQL, as a HIS reads it: doctors, schedules and places, and
searches of bookings; every resource served validates against the FHIR R4B models; refusals
are OperationOutcomes; every access needs a token and is audited, without personal data.
Booking and status changes: test_fhir_booking.py.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; 张伟 (H01, 00868, cardiology,
expert clinic: 1 + 50 yuan) works on Wednesday afternoons, 20 places.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from booking.clock import FixedClock
from booking.his.clients import revoke_client
from booking.protect import Protector
from booking.store import Database
from bot.fhir_handler import his_handlers
from channels.fhir import CONSULTATION_FEE, REGISTRATION_FEE, WORK_NO
from channels.fhir_api import bad_token_gate, fhir_router
from channels.fhir_search import PARAMETERS
from tests.fhir_client import (
    BORN,
    ID_NUMBER,
    NAME,
    PHONE,
    WED_PM,
    ZHANG,
    FhirServices,
    book_first,
    booking_body,
    fhir_client,
    fhir_json,
    new_token,
    outcome,
    resources,
    wed_pm_slots,
)
from tests.office import as_text, audit_rows
from tests.support import id_number


@pytest.fixture
async def his(
    demo: Database, clock: FixedClock, protector: Protector
) -> AsyncIterator[httpx.AsyncClient]:
    token = await new_token(demo, clock)
    async with fhir_client(demo, clock, protector, token) as client:
        yield client


async def test_metadata_needs_no_token(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    async with fhir_client(demo, clock, protector, None) as anyone:
        statement = fhir_json(await anyone.get("/fhir/metadata"))
    assert statement["resourceType"] == "CapabilityStatement"
    served = {
        r["type"]: {p["name"] for p in r["searchParam"]} for r in statement["rest"][0]["resource"]
    }
    assert served == PARAMETERS


async def test_without_a_valid_token_nothing_is_served_and_refusals_are_audited(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    await new_token(demo, clock)
    for token in (None, "not-a-token"):
        async with fhir_client(demo, clock, protector, token) as stranger:
            answer = await stranger.get("/fhir/Practitioner")
            assert outcome(answer, 401) == "login"
            challenge = 'Bearer error="invalid_token"' if token else "Bearer"
            assert answer.headers["www-authenticate"] == challenge
            answer = await stranger.post(
                "/fhir/Appointment", json=booking_body("1-1", ID_NUMBER, NAME, PHONE)
            )
            assert answer.status_code == 401
    refused = [r for r in await audit_rows(demo) if r["action"] == "his.bad_token"]
    # Identical refusals are counted on one entry each.
    assert [(r["after"]["token"], r["times"]) for r in refused] == [("missing", 2), ("unknown", 2)]
    assert all(r["address"] == "10.9.8.7" for r in refused)


async def test_a_revoked_token_stops_working(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    token = await new_token(demo, clock, "old-his")
    async with fhir_client(demo, clock, protector, token) as client:
        assert (await client.get("/fhir/Practitioner?identifier=00868")).status_code == 200
        await revoke_client(demo, clock, "old-his")
        assert (await client.get("/fhir/Practitioner?identifier=00868")).status_code == 401


async def test_an_address_sending_many_wrong_tokens_is_made_to_wait_and_counted_in_the_log(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    good = await new_token(demo, clock)
    app = FastAPI()  # as `guahao serve` mounts it, with the default limit
    services = FhirServices(demo, clock, protector)
    gate = bad_token_gate("20/15 minutes", "async+memory://")
    app.include_router(fhir_router(his_handlers(lambda: services), bad_tokens=gate))

    def from_address(address: str, token: str | None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=transport, base_url="http://his.test", headers=headers)

    async def bad_tokens() -> list[dict[str, object]]:
        return [r for r in await audit_rows(demo) if r["action"] == "his.bad_token"]

    async with from_address("10.1.1.1", "guess") as guesser:
        for _ in range(20):
            assert outcome(await guesser.get("/fhir/Practitioner"), 401) == "login"
        [tried] = await bad_tokens()  # one entry, counting them
        assert tried["times"] == 20 and tried["after"] == {"token": "unknown"}
        held = await guesser.get("/fhir/Practitioner")
        assert outcome(held, 429) == "throttled"
        assert 0 < int(held.headers["retry-after"]) <= 15 * 60
        [*_, noticed] = await bad_tokens()
        assert noticed["after"] == {"token": "unknown", "throttled": True}
        for _ in range(5):  # held back, and no longer written to the audit log
            assert (await guesser.get("/fhir/Slot")).status_code == 429
        assert (await guesser.get("/fhir/Slot", headers={"Authorization": ""})).status_code == 429
        rows = await bad_tokens()
        assert [(r["after"], r["times"]) for r in rows] == [
            ({"token": "unknown"}, 20),
            ({"token": "unknown", "throttled": True}, 1),  # beyond the limit, not written
        ]
    async with from_address("10.1.1.1", good) as his_same_address:
        answer = await his_same_address.get("/fhir/Practitioner?identifier=00868")
        assert [p["id"] for p in resources(fhir_json(answer))] == ["H01-00868"]
    async with from_address("10.2.2.2", "typo") as elsewhere:
        assert outcome(await elsewhere.get("/fhir/Practitioner"), 401) == "login"
    [*_, other] = await bad_tokens()
    assert len(await bad_tokens()) == 3 and other["address"] == "10.2.2.2"


async def test_practitioners_by_work_number_and_name(his: httpx.AsyncClient) -> None:
    [zhang] = resources(fhir_json(await his.get(f"/fhir/Practitioner?identifier={WORK_NO}|00868")))
    assert zhang["id"] == "H01-00868"
    assert zhang["name"][0]["text"] == "张伟"
    assert zhang["qualification"][0]["code"]["text"] == "主任医师"
    named = resources(fhir_json(await his.get("/fhir/Practitioner?name=张")))
    assert {p["id"] for p in named} >= {"H01-00868", "H01-02216"}
    assert all("张" in p["name"][0]["text"] for p in named)
    assert fhir_json(await his.get("/fhir/Practitioner/H01-00868")) == zhang
    assert outcome(await his.get("/fhir/Practitioner/H01-99999"), 404) == "not-found"
    assert resources(fhir_json(await his.get("/fhir/Practitioner?identifier=other|00868"))) == []


async def test_schedules_name_doctor_department_and_clinic(his: httpx.AsyncClient) -> None:
    query = "/fhir/Schedule?actor=Practitioner/H01-00868&date=ge2026-11-25"
    [schedule] = resources(fhir_json(await his.get(query)))
    assert schedule["id"] == "H01-00868"
    actors = {a.get("type", "Practitioner"): a for a in schedule["actor"]}
    assert actors["Practitioner"]["reference"] == "Practitioner/H01-00868"
    assert actors["HealthcareService"]["identifier"]["value"] == "CARD"
    assert actors["HealthcareService"]["display"] == "心血管内科"
    assert schedule["serviceType"][0]["coding"][0]["code"] == "expert"
    assert schedule["planningHorizon"]["start"] >= "2026-11-23"
    # No sessions that far ahead: no schedule within those dates.
    assert resources(fhir_json(await his.get("/fhir/Schedule?date=ge2027-06-01"))) == []
    assert fhir_json(await his.get("/fhir/Schedule/H01-00868"))["id"] == "H01-00868"


async def test_slots_carry_department_doctor_and_fee(his: httpx.AsyncClient) -> None:
    slots = await wed_pm_slots(his)
    assert len(slots) == 20
    assert {s["status"] for s in slots} == {"free"}
    assert all(
        s["start"].startswith("2026-11-25T") and s["start"].endswith("+08:00") for s in slots
    )
    assert slots[0]["start"] == "2026-11-25T13:30:00+08:00"
    first = slots[0]
    fees = {e["url"]: e["valueMoney"] for e in first["extension"] if "valueMoney" in e}
    assert fees[REGISTRATION_FEE] == {"value": 1.0, "currency": "CNY"}
    assert fees[CONSULTATION_FEE] == {"value": 50.0, "currency": "CNY"}
    assert first["specialty"][0]["coding"][0]["code"] == "CARD"
    doctor = next(e for e in first["extension"] if "valueReference" in e)["valueReference"]
    assert doctor == {"reference": "Practitioner/H01-00868", "display": "张伟"}
    assert fhir_json(await his.get(f"/fhir/Slot/{first['id']}")) == first
    assert await wed_pm_slots(his, "&status=busy") == []
    assert outcome(await his.get("/fhir/Slot/999999-1"), 404) == "not-found"


async def test_slot_search_pages_through_next_links(his: httpx.AsyncClient) -> None:
    seen: list[str] = []
    url: str | None = f"/fhir/Slot?schedule={ZHANG}&{WED_PM}&_count=8"
    while url:
        bundle = fhir_json(await his.get(url))
        assert bundle["total"] == 20
        assert next(link["url"] for link in bundle["link"] if link["relation"] == "self")
        seen += [r["id"] for r in resources(bundle)]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    assert len(seen) == len(set(seen)) == 20
    only_total = fhir_json(await his.get(f"/fhir/Slot?schedule={ZHANG}&{WED_PM}&_count=0"))
    assert only_total["total"] == 20 and resources(only_total) == []
    assert [link["relation"] for link in only_total["link"]] == ["self"]
    # More than a page holds: the server gives what it may (all 20 here), not an error.
    everything = fhir_json(await his.get(f"/fhir/Slot?schedule={ZHANG}&{WED_PM}&_count=100000"))
    assert len(resources(everything)) == 20


async def test_appointments_by_patient_identifier_date_and_status(his: httpx.AsyncClient) -> None:
    booking_no = (await book_first(his))["id"]
    by_patient = f"/fhir/Appointment?patient.identifier={ID_NUMBER}"
    assert [a["id"] for a in resources(fhir_json(await his.get(by_patient)))] == [booking_no]
    for query, found in (
        ("&date=2026-11-25", [booking_no]),
        ("&date=ge2026-11-26", []),
        ("&date=le2026-11-24", []),
        ("&status=booked", [booking_no]),
        ("&status=cancelled,noshow", []),
    ):
        assert [a["id"] for a in resources(fhir_json(await his.get(by_patient + query)))] == found
    other = id_number(9, born=BORN)
    assert (
        resources(fhir_json(await his.get(f"/fhir/Appointment?patient.identifier={other}"))) == []
    )
    assert fhir_json(await his.get(f"/fhir/Appointment/{booking_no}"))["status"] == "booked"
    assert outcome(await his.get("/fhir/Appointment/26112500000000"), 404) == "not-found"


async def test_malformed_requests_are_400_operation_outcomes(his: httpx.AsyncClient) -> None:
    post = his.post
    assert outcome(await post("/fhir/Appointment", content=b"{not json"), 400) == "invalid"
    assert (
        outcome(await post("/fhir/Appointment", json={"resourceType": "Patient"}), 400) == "invalid"
    )
    wrong = {**booking_body("1-1", ID_NUMBER, NAME, PHONE), "status": "whenever"}
    assert outcome(await post("/fhir/Appointment", json=wrong), 400) == "invalid"
    bad_field = {**booking_body("1-1", ID_NUMBER, NAME, PHONE), "start": "next tuesday"}
    assert outcome(await post("/fhir/Appointment", json=bad_field), 400) == "invalid"
    no_patient = {**booking_body("1-1", ID_NUMBER, NAME, PHONE), "contained": []}
    assert outcome(await post("/fhir/Appointment", json=no_patient), 400) == "invalid"
    for query in ("Slot?start=soon", "Slot?status=maybe", "Slot?colour=red", "Slot?_count=-1",
                  "Slot?_offset=99999999999999999999", "Slot?_format=xml",
                  "Slot?start=gt9999-12-31", "Schedule?date=lt0001-01-01",
                  "Appointment?patient.identifier=110105197707070000"):  # fmt: skip
        assert outcome(await his.get(f"/fhir/{query}"), 400) == "invalid", query
    someone = [{"actor": {"display": "x"}, "status": "accepted"}]
    other = {
        "resourceType": "Appointment",
        "id": "2",
        "status": "cancelled",
        "participant": someone,
    }
    answer = await his.put("/fhir/Appointment/1", json=other)
    assert outcome(answer, 400) == "invalid" and "id" in answer.text
    patch = [{"op": "replace", "path": "/start", "value": "2026-11-25"}]
    assert outcome(await his.patch("/fhir/Appointment/1", json=patch), 400) == "invalid"
    huge = b"{" + b" " * (70 * 1024) + b"}"
    assert outcome(await post("/fhir/Appointment", content=huge), 413) == "too-costly"


async def test_every_access_is_audited_without_personal_data(
    his: httpx.AsyncClient, demo: Database
) -> None:
    booking_no = (await book_first(his))["id"]
    await his.get(f"/fhir/Appointment?patient.identifier={ID_NUMBER}")
    await his.get(f"/fhir/Appointment/{booking_no}")
    await his.post("/fhir/Appointment", content=b"[]")
    rows = [r for r in await audit_rows(demo) if (r["username"] or "").startswith("his:")]
    actions = [r["action"] for r in rows]
    assert actions == [
        "his.search", "his.book", "his.search", "his.read", "his.refused"
    ]  # fmt: skip
    assert {r["username"] for r in rows} == {"his:his-main"}
    assert rows[1]["target"] == booking_no
    assert rows[2]["after"] == {"params": ["patient.identifier"], "count": 1}
    logged = as_text(rows)
    assert ID_NUMBER not in logged and NAME not in logged and PHONE not in logged


async def test_what_fhir_does_not_serve_is_an_operation_outcome(his: httpx.AsyncClient) -> None:
    answer = await his.delete("/fhir/Appointment/26112500000001")
    assert outcome(answer, 405) == "not-supported"
    assert answer.headers["allow"] == "GET, PUT, PATCH"
    assert outcome(await his.post("/fhir/Slot", json={}), 405) == "not-supported"
    assert outcome(await his.put("/fhir/Practitioner/H01-00868", json={}), 405) == "not-supported"
    assert outcome(await his.get("/fhir/Slot/1-1/_history"), 404) == "not-supported"
    assert outcome(await his.get("/fhir/Patient"), 404) == "not-supported"
    xml = b"<Appointment xmlns='http://hl7.org/fhir'/>"
    sent = await his.post(
        "/fhir/Appointment", content=xml, headers={"Content-Type": "application/fhir+xml"}
    )
    assert outcome(sent, 415) == "not-supported"
    fhir_patch = await his.patch(
        "/fhir/Appointment/26112500000001",
        content=b'{"resourceType": "Parameters"}',
        headers={"Content-Type": "application/fhir+json"},
    )
    assert outcome(fhir_patch, 415) == "not-supported"
    # FHIR's own name for JSON is taken (application/json is, in every other test).
    [first, *_] = await wed_pm_slots(his)
    body = json.dumps(booking_body(first["id"], ID_NUMBER, NAME, PHONE)).encode()
    created = await his.post(
        "/fhir/Appointment", content=body, headers={"Content-Type": "application/fhir+json"}
    )
    assert fhir_json(created, 201)["status"] == "booked"


async def test_appointments_cannot_be_listed_wholesale(his: httpx.AsyncClient) -> None:
    """A HIS names the patient, the booking or one visit day: never "every booking"."""
    booking_no = (await book_first(his))["id"]
    for query in ("", "?status=booked", "?date=ge2026-11-01",
                  "?date=ge2026-11-24&date=le2026-11-26",
                  "?patient.identifier=urn:guahao:resident-id|", "?identifier="):  # fmt: skip
        assert outcome(await his.get(f"/fhir/Appointment{query}"), 400) == "invalid", query
    day = fhir_json(await his.get("/fhir/Appointment?date=2026-11-25&status=booked"))
    assert [a["id"] for a in resources(day)] == [booking_no] and day["total"] == 1
    same_day = "/fhir/Appointment?date=ge2026-11-25&date=le2026-11-25"
    assert [a["id"] for a in resources(fhir_json(await his.get(same_day)))] == [booking_no]
    # |value: an identifier without a system, which ours never are.
    no_system = f"/fhir/Appointment?patient.identifier=|{ID_NUMBER}"
    assert resources(fhir_json(await his.get(no_system))) == []
    assert outcome(await his.get("/fhir/Slot?start=ge2026-11-25T13:00"), 400) == "invalid"


async def test_a_read_by_a_wrong_kind_of_id_keeps_it_out_of_the_audit_log(
    his: httpx.AsyncClient, demo: Database
) -> None:
    assert outcome(await his.get(f"/fhir/Appointment/{ID_NUMBER}"), 404) == "not-found"
    [row] = [r for r in await audit_rows(demo) if r["action"] == "his.refused"]
    assert row["target"] == "Appointment/?" and ID_NUMBER not in as_text([row])
