"""Patients in the back office (B3) on SQLite and PostgreSQL: finding them, their record with
masked numbers (an ID number in full only to whoever searched by it), correcting the name or
phone, removing (anonymising) them; each role denied what it must not do.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; 张伟 (00868) works on
Wednesday afternoons.
"""

from __future__ import annotations

import html
import re
from datetime import date

import httpx
import pytest
from sqlalchemy import text

from booking.appointments.book import book
from booking.appointments.listing import find_bookings
from booking.appointments.model import AppointmentStatus
from booking.appointments.waitlist import join_waitlist
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.patients.identity import mask_id_number
from booking.patients.model import Patient
from booking.patients.registration import patients_of_account, register_patient
from booking.protect import Protector
from booking.staff.model import Role
from booking.store import Database
from tests.office import as_text, audit_rows, csrf_of, office, searched, signed_in_as, staff
from tests.support import id_number

WED = date(2026, 11, 25)
BORN = date(1973, 4, 22)  # no other test's patients were born that day
ID_NUMBER = id_number(7, born=BORN)
PHONE = "13655510007"
NAME = "孔乙己"
CHAT = ("web", "patients-chat")


@pytest.fixture
async def desk(demo: Database, clock: FixedClock) -> Database:
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "desk", Role.REGISTRATION)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    return demo


async def registered(db: Database, clock: FixedClock, protector: Protector) -> Patient:
    return await register_patient(
        db, protector, clock, name=NAME, id_number=ID_NUMBER, phone=PHONE,
        account=protector.account(*CHAT),
    )  # fmt: skip


async def booked(db: Database, clock: FixedClock, protector: Protector, patient: Patient) -> str:
    [offer] = await search_sessions(
        db, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    receipt = await book(
        db, clock, patient_id=patient.id, session_id=offer.session.id, channel="web",
        account=protector.account(*CHAT),
    )  # fmt: skip
    return receipt.appointment.booking_no


async def post(client: httpx.AsyncClient, path: str, csrf: str, **data: str) -> httpx.Response:
    return await client.post(path, data={"csrf": csrf, **data})


async def test_the_desk_finds_a_patient_and_sees_masked_numbers_unless_it_typed_the_id(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    patient = await registered(desk, clock, protector)
    number = await booked(desk, clock, protector, patient)
    masked = mask_id_number(ID_NUMBER)
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "desk")
        for q in (PHONE, NAME):
            found = (await searched(client, "/admin/patients", q=q)).text
            assert f'href="/admin/patients/{patient.id}"' in found
            assert masked in found and "136****0007" in found
            assert ID_NUMBER not in found
        by_id = (await searched(client, "/admin/patients", q=ID_NUMBER)).text
        # Carried to the patient's page in the search's sealed token, not in the address.
        [link] = re.findall(rf'href="(/admin/patients/{patient.id}\?s=[^"]+)"', by_id)
        assert ID_NUMBER in by_id and ID_NUMBER not in link
        page = (await client.get(f"/admin/patients/{patient.id}")).text
        assert masked in page and ID_NUMBER not in page and PHONE not in page
        assert number in page and "136****0007" in page
        assert "修改 Edit" not in page and "删除该患者" not in page  # registration staff
        typed = await client.get(html.unescape(link))
        assert ID_NUMBER in typed.text
        in_address = await client.get(f"/admin/patients/{patient.id}", params={"q": ID_NUMBER})
        assert ID_NUMBER not in in_address.text  # not read from an address any more
        other = id_number(8, born=BORN)  # someone else's number shows nothing more
        csrf = csrf_of(typed.text)
        posted = await client.post("/admin/patients", data={"csrf": csrf, "q": other})
        token = posted.headers["location"].partition("?")[2]
        guessed = await client.get(f"/admin/patients/{patient.id}?{token}")
        assert other not in guessed.text and masked in guessed.text
        nobody = await searched(client, "/admin/patients", q="13655519999")
        assert "没有找到患者" in nobody.text
        bad = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
        assert "身份证号不正确" in (await searched(client, "/admin/patients", q=bad)).text
        assert (await client.get("/admin/patients/999999")).status_code == 404
    rows = await audit_rows(desk)
    searches = [r["after"] for r in rows if r["action"] == "patient.search"]
    assert [s["by"] for s in searches] == ["phone", "name", "id_number", "phone"]
    assert searches[0]["patients"] == [patient.id]
    views = [r["after"]["full_id_number"] for r in rows if r["action"] == "patient.view"]
    assert views == [False, True, False, False]  # the page, by the search, by an address, guessed
    logged = as_text(rows)
    for personal in (ID_NUMBER, PHONE, "+86" + PHONE, NAME):
        assert personal not in logged


async def test_an_administrator_corrects_a_name_and_phone_and_the_log_says_only_which(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    patient = await registered(desk, clock, protector)
    number = await booked(desk, clock, protector, patient)
    path = f"/admin/patients/{patient.id}"
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = (await client.get(path)).text
        assert "修改 Edit" in page and f'value="{NAME}"' in page
        same = await post(client, f"{path}/edit", csrf, name=NAME, phone="")
        assert same.headers["location"] == f"{path}?done=unchanged"
        saved = await post(client, f"{path}/edit", csrf, name="孔 乙己", phone="13655510008")
        assert saved.headers["location"] == f"{path}?done=edit"
        assert "已保存" in (await client.get(saved.headers["location"])).text
        wrong = await post(client, f"{path}/edit", csrf, name="孔乙己2", phone="")
        assert wrong.headers["location"] == f"{path}?refused=invalid_name"
        assert "姓名不正确" in (await client.get(wrong.headers["location"])).text
    [view] = await find_bookings(desk, protector, phone="13655510008")
    assert view.booking_no == number and view.patient_name == "孔 乙己"
    assert await find_bookings(desk, protector, phone=PHONE) == []
    rows = await audit_rows(desk)
    [edit] = [r for r in rows if r["action"] == "patient.edit"]
    assert edit["target"] == f"patient:{patient.id}" and edit["after"] == {
        "changed": ["name", "phone"]
    }
    [refused] = [r for r in rows if r["action"] == "booking.refused"]
    assert refused["after"] == {"action": "patient.edit", "reason": "invalid_name"}
    logged = as_text(rows)
    for personal in ("13655510008", "孔 乙己", NAME):
        assert personal not in logged


async def test_a_patient_with_bookings_to_come_is_removed_only_once_they_are_cancelled(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    patient = await registered(desk, clock, protector)
    number = await booked(desk, clock, protector, patient)
    path = f"/admin/patients/{patient.id}"
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = (await client.get(path)).text
        assert "还有 1 个未就诊的预约" in page and "删除该患者" not in page
        refused = await post(client, f"{path}/remove", csrf)
        assert refused.headers["location"] == f"{path}?refused=has_future_bookings"
        assert "请先退号" in (await client.get(refused.headers["location"])).text
        cancelled = await post(client, f"/admin/bookings/{number}/cancel", csrf)
        assert cancelled.status_code == 303
        removed = await post(client, f"{path}/remove", csrf)
        assert removed.headers["location"] == "/admin/patients?done=removed"
        assert "患者已删除" in (await client.get(removed.headers["location"])).text
        gone = (await searched(client, "/admin/patients", q=ID_NUMBER)).text
        assert "没有找到患者" in gone
        record = (await client.get(path)).text
        assert "该患者已删除" in record and NAME not in record and number in record
        assert "删除该患者" not in record and "修改 Edit" not in record
        again = await post(client, f"{path}/edit", csrf, name=NAME, phone=PHONE)
        assert again.headers["location"] == f"{path}?refused=wrong_status"
    # The booking stays for the statistics, with nobody's name on it; the chat lost the patient.
    [view] = await find_bookings(desk, protector, booking_no=number)
    assert view.status is AppointmentStatus.CANCELLED and view.patient_name == "已删除患者"
    assert view.patient_phone_masked == "" and view.patient_id_masked == "已删除"
    assert await patients_of_account(desk, *protector.account(*CHAT)) == []
    async with desk.write_engine.connect() as conn:
        row = (
            await conn.execute(text("SELECT * FROM patients WHERE id = :id"), {"id": patient.id})
        ).one()
    stored = str(row)
    assert NAME not in stored and "+86" + PHONE not in stored and patient.id_hash not in stored
    assert row.birth_date in (date(1973, 1, 1), "1973-01-01")  # only the year is kept
    # The same person may register again, as a new patient.
    anew = await registered(desk, clock, protector)
    assert anew.id != patient.id
    [entry] = [r for r in await audit_rows(desk) if r["action"] == "patient.remove"]
    assert entry["target"] == f"patient:{patient.id}"
    assert entry["after"] == {
        "removed": True, "accounts_unlinked": 1, "bookings_kept": 1, "waitlists_left": 0,
    }  # fmt: skip


async def test_a_removed_patient_leaves_the_waitlist_and_the_place_held_for_them_passes_on(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    [offer] = await search_sessions(
        desk, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    session = offer.session.id
    taken = []
    for n in range(offer.free):  # strangers fill the session
        account = protector.account("web", f"patients-filler-{n}")
        stranger = await register_patient(
            desk, protector, clock, name="填满", id_number=id_number(100 + n, born=BORN),
            phone="13655510100", account=account,
        )  # fmt: skip
        receipt = await book(
            desk, clock, patient_id=stranger.id, session_id=session, channel="web",
            account=account,
        )  # fmt: skip
        taken.append(receipt.appointment.booking_no)
    patient = await registered(desk, clock, protector)
    next_account = protector.account("web", "patients-next-in-line")
    after_them = await register_patient(
        desk, protector, clock, name="排第二", id_number=id_number(200, born=BORN),
        phone="13655510200", account=next_account,
    )  # fmt: skip
    for who, account in ((patient, protector.account(*CHAT)), (after_them, next_account)):
        await join_waitlist(
            desk, clock, patient_id=who.id, session_id=session, channel="web", account=account
        )
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        await post(client, f"/admin/bookings/{taken[0]}/cancel", csrf)  # held for the patient
        assert (await lines(desk, session)) == {patient.id: "offered", after_them.id: "waiting"}
        removed = await post(client, f"/admin/patients/{patient.id}/remove", csrf)
        assert removed.headers["location"] == "/admin/patients?done=removed"
    # Nobody could take an offer for a removed patient: it goes to the next in line at once.
    assert (await lines(desk, session)) == {patient.id: "left", after_them.id: "offered"}
    [entry] = [r for r in await audit_rows(desk) if r["action"] == "patient.remove"]
    assert entry["after"]["waitlists_left"] == 1


async def lines(db: Database, session_id: int) -> dict[int, str]:
    """Who waits for the session, and how."""
    async with db(readonly=True) as uow:
        rows = await uow.tx.execute(
            text("SELECT patient_id, status FROM waitlist WHERE session_id = :s"),
            {"s": session_id},
        )
        return {int(patient_id): status for patient_id, status in rows.all()}


async def test_each_role_is_denied_the_patient_work_it_may_not_do(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    patient = await registered(desk, clock, protector)
    path = f"/admin/patients/{patient.id}"
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        assert (await searched(client, "/admin/patients", q=PHONE)).status_code == 403
        assert (await client.get(path)).status_code == 403
        assert (await post(client, f"{path}/edit", csrf, name="某某", phone="")).status_code == 403
        assert (await post(client, f"{path}/remove", csrf)).status_code == 403
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        assert (await client.get(path)).status_code == 200
        assert (await post(client, f"{path}/edit", csrf, name="某某", phone="")).status_code == 403
        assert (await post(client, f"{path}/remove", csrf)).status_code == 403
    async with desk(readonly=True) as uow:
        kept = await uow.patient_records.record(patient.id)
    assert kept is not None and kept.removed_at is None and kept.patient.name == NAME
    denied = [
        (r["username"], r["target"], r["after"]["why"])
        for r in await audit_rows(desk)
        if r["action"] == "denied"
    ]
    assert denied == [
        ("cardio", "POST /admin/patients", "view_patients"),
        ("cardio", f"GET {path}", "view_patients"),
        ("cardio", f"POST {path}/edit", "edit_patients"),
        ("cardio", f"POST {path}/remove", "edit_patients"),
        ("desk", f"POST {path}/edit", "edit_patients"),
        ("desk", f"POST {path}/remove", "edit_patients"),
    ]


async def test_an_edit_or_removal_without_the_forms_token_is_refused(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    """A page elsewhere that posts to the console with the administrator's cookie (CSRF)."""
    patient = await registered(desk, clock, protector)
    path = f"/admin/patients/{patient.id}"
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "admin")
        for action, data in (("edit", {"name": "某某", "phone": "13655519999"}), ("remove", {})):
            forged = await client.post(f"{path}/{action}", data=data)
            assert forged.status_code == 403
    async with desk(readonly=True) as uow:
        kept = await uow.patient_records.record(patient.id)
    assert kept is not None and kept.removed_at is None and kept.patient.name == NAME
    assert kept.patient.phone_hash == patient.phone_hash
    denied = [r["after"]["why"] for r in await audit_rows(desk) if r["action"] == "denied"]
    assert denied == ["csrf", "csrf"]
