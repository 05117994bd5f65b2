"""/fhir on SQLite and PostgreSQL, as a HIS books through it: POST Appointment under the
bot's rules (real name, window, quotas, blacklist, capacity), cancelling and checking in by
status changes; the booking and its audit row are saved together.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; 张伟 (H01, 00868, cardiology,
expert clinic: 1 + 50 yuan) works on Wednesday afternoons, 20 places.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import text

from booking.appointments.attendance import mark_noshows
from booking.appointments.listing import find_bookings
from booking.appointments.patient_records import remove_patient
from booking.clock import FixedClock
from booking.patients.model import BlacklistEntry, BlacklistSource
from booking.protect import Protector
from booking.staff.audit import COMMAND_LINE
from booking.store import Database
from booking.store.staff_repo import SqlAudit
from tests.fhir_client import (
    BORN,
    ID_NUMBER,
    NAME,
    PHONE,
    book_first,
    booking_body,
    fhir_client,
    fhir_json,
    new_token,
    outcome,
    resources,
    wed_pm_slots,
)
from tests.office import audit_rows
from tests.support import id_number


@pytest.fixture
async def his(
    demo: Database, clock: FixedClock, protector: Protector
) -> AsyncIterator[httpx.AsyncClient]:
    token = await new_token(demo, clock)
    async with fhir_client(demo, clock, protector, token) as client:
        yield client


async def test_booking_through_fhir_books_by_the_bots_rules(
    his: httpx.AsyncClient, demo: Database, protector: Protector
) -> None:
    created = await book_first(his)
    booking_no = created["id"]
    assert created["status"] == "booked"
    assert created["start"] == "2026-11-25T13:30:00+08:00"
    [view] = await find_bookings(demo, protector, id_number=ID_NUMBER)
    assert view.booking_no == booking_no and view.channel == "his"
    assert view.doctor_work_no == "00868" and view.queue_no == 1
    [slot] = await wed_pm_slots(his, "&status=busy")
    assert created["slot"] == [{"reference": f"Slot/{slot['id']}"}]
    # The same place again: taken.
    again = booking_body(slot["id"], id_number(2, born=BORN), "贾宝玉", "13700002222")
    assert outcome(await his.post("/fhir/Appointment", json=again), 409) == "conflict"
    # The same patient twice in one session: refused by the booking rules.
    free = (await wed_pm_slots(his, "&status=free"))[0]["id"]
    twice = booking_body(free, ID_NUMBER, NAME, PHONE)
    answer = await his.post("/fhir/Appointment", json=twice)
    assert outcome(answer, 422) == "business-rule" and "already" in answer.text


async def test_a_full_session_refuses_with_an_operation_outcome(
    his: httpx.AsyncClient, demo: Database
) -> None:
    slots = await wed_pm_slots(his)
    session_id = int(slots[0]["id"].split("-")[0])
    async with demo() as uow:
        await uow.tx.execute(
            text("UPDATE places SET status = 'busy' WHERE session_id = :s AND queue_no > 1"),
            {"s": session_id},
        )
        await uow.commit()
    await book_first(his)
    body = booking_body(slots[5]["id"], id_number(3, born=BORN), "薛宝钗", "13700003333")
    answer = await his.post("/fhir/Appointment", json=body)
    assert outcome(answer, 409) == "conflict"
    assert "full" in answer.json()["issue"][0]["diagnostics"] or "not free" in answer.text


async def test_a_blacklisted_patient_is_refused(
    his: httpx.AsyncClient, demo: Database, protector: Protector, clock: FixedClock
) -> None:
    ban = BlacklistEntry(
        protector.lookup_hash("id", ID_NUMBER),
        BlacklistSource.HOSPITAL,
        "x",
        date(2026, 1, 1),
        None,
    )
    async with demo() as uow:
        await uow.blacklist.add(ban, clock.now())
        await uow.commit()
    [first, *_] = await wed_pm_slots(his)
    answer = await his.post(
        "/fhir/Appointment", json=booking_body(first["id"], ID_NUMBER, NAME, PHONE)
    )
    assert outcome(answer, 422) == "business-rule"
    assert await find_bookings(demo, protector, id_number=ID_NUMBER) == []


async def test_cancel_by_patching_the_status_frees_the_place(
    his: httpx.AsyncClient, demo: Database
) -> None:
    booking_no = (await book_first(his))["id"]
    patch = [{"op": "replace", "path": "/status", "value": "cancelled"}]
    answer = await his.patch(
        f"/fhir/Appointment/{booking_no}",
        content=json.dumps(patch),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert fhir_json(answer)["status"] == "cancelled"
    assert await wed_pm_slots(his, "&status=busy") == []
    [cancelled] = [r for r in await audit_rows(demo) if r["action"] == "booking.cancel"]
    assert (cancelled["username"], cancelled["target"]) == ("his:his-main", booking_no)
    # Cancelled: it stays so.
    again = await his.get(f"/fhir/Appointment/{booking_no}")
    put = {**again.json(), "status": "arrived"}
    assert (await his.put(f"/fhir/Appointment/{booking_no}", json=put)).status_code == 422
    answer = await his.get(f"/fhir/Appointment/{booking_no}")
    assert fhir_json(answer)["status"] == "cancelled"


async def test_check_in_from_the_his_keeps_the_booking_from_becoming_a_no_show(
    his: httpx.AsyncClient, demo: Database, clock: FixedClock, protector: Protector
) -> None:
    booking_no = (await book_first(his))["id"]
    free = (await wed_pm_slots(his, "&status=free"))[0]["id"]
    body = booking_body(free, id_number(4, born=BORN), "史湘云", "13700004444")
    stayed_away = fhir_json(await his.post("/fhir/Appointment", json=body), 201)["id"]
    appointment = fhir_json(await his.get(f"/fhir/Appointment/{booking_no}"))
    put = {**appointment, "status": "arrived"}
    # Not on the visit day yet.
    assert (
        outcome(await his.put(f"/fhir/Appointment/{booking_no}", json=put), 422) == "business-rule"
    )
    clock.set(datetime(2026, 11, 25, 5, 30, tzinfo=UTC))  # Wednesday 13:30 in Shanghai
    assert (
        fhir_json(await his.put(f"/fhir/Appointment/{booking_no}", json=put))["status"] == "arrived"
    )
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # long after the session
    await mark_noshows(demo, clock)
    [view] = await find_bookings(demo, protector, booking_no=booking_no)
    assert view.status.value == "arrived"
    [view] = await find_bookings(demo, protector, booking_no=stayed_away)
    assert view.status.value == "noshow"


async def test_real_name_rules_hold_for_the_his(his: httpx.AsyncClient) -> None:
    """实名制: a valid ID number, and the name registered with it."""
    await book_first(his)
    slots = await wed_pm_slots(his, "&status=free")
    bad_number = booking_body(slots[0]["id"], ID_NUMBER[:-1] + "0", NAME, PHONE)
    if bad_number["contained"][0]["identifier"][0]["value"] == ID_NUMBER:  # the check digit was 0
        bad_number = booking_body(slots[0]["id"], ID_NUMBER[:-1] + "1", NAME, PHONE)
    assert outcome(await his.post("/fhir/Appointment", json=bad_number), 422) == "invalid"
    # The same ID number under another name, on another day: refused.
    thu = resources(
        fhir_json(await his.get("/fhir/Slot?schedule=Schedule/H01-00902&start=2026-11-26"))
    )
    other_name = booking_body(thu[0]["id"], ID_NUMBER, "林妹妹", PHONE)
    assert outcome(await his.post("/fhir/Appointment", json=other_name), 422) == "invalid"
    assert len(await wed_pm_slots(his, "&status=busy")) == 1


async def test_the_booking_and_its_audit_row_are_saved_together(
    his: httpx.AsyncClient,
    demo: Database,
    protector: Protector,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """If the audit row cannot be written, there is no booking either (one transaction)."""

    async def broken(self: object, entry: object) -> None:
        raise RuntimeError("the audit table is gone")

    [first, *_] = await wed_pm_slots(his)
    monkeypatch.setattr(SqlAudit, "add", broken)
    sent = await his.post(
        "/fhir/Appointment", json=booking_body(first["id"], ID_NUMBER, NAME, PHONE)
    )
    assert outcome(sent, 500) == "exception"
    assert "RuntimeError" in caplog.text
    assert NAME not in caplog.text and ID_NUMBER not in caplog.text
    monkeypatch.undo()
    assert await find_bookings(demo, protector, id_number=ID_NUMBER) == []
    assert await wed_pm_slots(his, "&status=busy") == []


async def test_setting_the_status_a_booking_has_changes_nothing_but_is_audited(
    his: httpx.AsyncClient, demo: Database
) -> None:
    booking_no = (await book_first(his))["id"]
    patch = [{"op": "replace", "path": "/status", "value": "booked"}]
    answer = await his.patch(f"/fhir/Appointment/{booking_no}", json=patch)
    assert fhir_json(answer)["status"] == "booked"
    [row] = [r for r in await audit_rows(demo) if r["action"] == "his.update"]
    assert row["target"] == f"Appointment/{booking_no}" and row["after"]["changed"] is False


async def test_the_his_own_record_number_beside_the_id_number_is_not_taken_for_it(
    his: httpx.AsyncClient, demo: Database, protector: Protector
) -> None:
    [first, *_] = await wed_pm_slots(his)
    body = booking_body(first["id"], ID_NUMBER, NAME, PHONE)
    patient = body["contained"][0]
    patient["identifier"].insert(0, {"system": "urn:his:mrn", "value": "MRN-0042"})
    fhir_json(await his.post("/fhir/Appointment", json=body), 201)
    assert len(await find_bookings(demo, protector, id_number=ID_NUMBER)) == 1


async def test_a_removed_patient_comes_back_only_as_a_new_registration(
    his: httpx.AsyncClient, demo: Database, protector: Protector, clock: FixedClock
) -> None:
    """The anonymised record is never booked again: the same ID number registers anew."""
    booking_no = (await book_first(his))["id"]
    cancel = [{"op": "replace", "path": "/status", "value": "cancelled"}]
    fhir_json(await his.patch(f"/fhir/Appointment/{booking_no}", json=cancel))
    [old] = await find_bookings(demo, protector, id_number=ID_NUMBER)
    async with demo(readonly=True) as uow:
        appointment = await uow.appointments.get(booking_no)
    assert appointment is not None
    await remove_patient(demo, clock, appointment.patient_id, COMMAND_LINE)
    assert await find_bookings(demo, protector, id_number=ID_NUMBER) == []
    again = (await book_first(his))["id"]
    async with demo(readonly=True) as uow:
        rebooked = await uow.appointments.get(again)
    assert rebooked is not None and rebooked.patient_id != appointment.patient_id
    [view] = await find_bookings(demo, protector, id_number=ID_NUMBER)
    assert view.booking_no == again and old.booking_no != again


async def test_a_place_outside_the_booking_window_is_refused(
    his: httpx.AsyncClient, clock: FixedClock, demo: Database, protector: Protector
) -> None:
    [first, *_] = await wed_pm_slots(his)
    clock.set(datetime(2026, 11, 17, 1, 0, tzinfo=UTC))  # a week earlier: Wednesday not open
    body = booking_body(first["id"], ID_NUMBER, NAME, PHONE)
    answer = await his.post("/fhir/Appointment", json=body)
    assert outcome(answer, 422) == "business-rule" and "7 days ahead" in answer.text
    assert await find_bookings(demo, protector, id_number=ID_NUMBER) == []


async def test_the_same_booking_sent_again_gives_the_first_and_books_once(
    his: httpx.AsyncClient, demo: Database, protector: Protector
) -> None:
    """A HIS whose answer was lost sends the POST again: it learns the booking it made."""
    [first, *_] = await wed_pm_slots(his)
    body = booking_body(first["id"], ID_NUMBER, NAME, PHONE)
    made = fhir_json(await his.post("/fhir/Appointment", json=body), 201)
    again = await his.post("/fhir/Appointment", json=body)
    assert fhir_json(again, 200)["id"] == made["id"]
    assert again.headers["location"].endswith(f"/fhir/Appointment/{made['id']}")
    assert len(await find_bookings(demo, protector, id_number=ID_NUMBER)) == 1
    assert len(await wed_pm_slots(his, "&status=busy")) == 1
    [read] = [r for r in await audit_rows(demo) if r["after"] == {"repeated_create": True}]
    assert read["target"] == f"Appointment/{made['id']}"
