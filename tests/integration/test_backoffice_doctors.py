"""Doctors, weekly templates and the roster in the back office (B2), on SQLite and
PostgreSQL: a new doctor becomes bookable once the roster is generated; specialties are
edited; a doctor with bookings to come is not removed until those sessions are stopped; the
audit log names codes and counts, never names.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; the demo sessions run
through Monday 30 November. 张伟 (00868, cardiology) works on Monday and Friday mornings and
Wednesday afternoons.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import date

import httpx
import pytest

import booking.roster.doctors
from booking.appointments.book import book
from booking.appointments.listing import find_bookings
from booking.catalogue.model import Catalogue, Doctor, Part
from booking.catalogue.search import load_catalogue, search_doctors, search_sessions
from booking.clock import FixedClock
from booking.errors import InvalidInput
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.doctors import RETIRED, DoctorForm, add_doctor, parse_specialties, remove_doctor
from booking.roster.duty import generate_roster, generate_sessions, import_catalogue, session_sheet
from booking.staff.audit import COMMAND_LINE
from booking.staff.model import Role
from booking.store import Database
from booking.store.catalogue_repo import SqlCatalogue
from booking.work import HospitalWork
from tests.office import as_text, audit_rows, office, signed_in_as, staff
from tests.support import demo_catalogue, id_number

BORN = date(1966, 6, 16)  # the patients of this file
THU = date(2026, 11, 26)
WED = date(2026, 11, 25)
NEW_DOCTOR = {
    "department": "H01/CARD",
    "work_no": "09001",
    "name": "林一心",
    "name_en": "Lin Yixin",
    "title": "副主任医师",
    "clinic_type": "expert",
    "specialties": "冠心病、高血压, 心衰；冠心病",
}


@pytest.fixture
async def hospital(demo: Database, clock: FixedClock) -> Database:
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "desk", Role.REGISTRATION)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    return demo


async def book_with(
    db: Database, clock: FixedClock, protector: Protector, doctor: str, day: date, n: int
) -> str:
    patient = await register_patient(
        db,
        protector,
        clock,
        name=f"病人{chr(0x4E00 + n)}",
        id_number=id_number(n, born=BORN),
        phone=f"1396616{n:04d}",
        account=protector.account("web", f"doctors-{n}"),
    )
    [offer] = await search_sessions(db, clock, doctor=doctor, date_from=day, date_to=day)
    receipt = await book(
        db,
        clock,
        patient_id=patient.id,
        session_id=offer.session.id,
        channel="web",
        account=protector.account("web", f"doctors-{n}"),
    )
    return receipt.appointment.booking_no


async def post(client: httpx.AsyncClient, path: str, csrf: str, **data: str) -> httpx.Response:
    return await client.post(path, data={"csrf": csrf, **data})


async def test_a_new_doctor_with_a_weekly_duty_is_bookable_once_the_roster_is_generated(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        added = await post(client, "/admin/doctors", csrf, **NEW_DOCTOR)
        assert added.status_code == 303
        assert added.headers["location"] == "/admin/doctors/H01/09001?done=added"
        page = (await client.get(added.headers["location"])).text
        assert "医生已添加" in page and "林一心" in page
        assert "冠心病、高血压、心衰" in page  # as typed, split, the repeat dropped
        duty = await post(
            client, "/admin/doctors/H01/09001/templates", csrf, weekday="4", part="pm", capacity="5"
        )
        assert duty.headers["location"] == "/admin/doctors/H01/09001?done=template_added"
        assert (
            "<td>周四 Thu</td><td>下午 afternoon</td><td>5</td>"
            in (await client.get("/admin/doctors/H01/09001")).text
        )
        # Nothing to book before the roster is generated.
        assert await search_sessions(hospital, clock, doctor="09001") == []
        roster = await post(
            client, "/admin/roster", csrf, scope="H01/CARD", **{"from": "2026-11-23"},
            to="2026-12-06",
        )  # fmt: skip
        # Two weeks of cardiology: 3 + 2 + 7 weekly duties of the demo's three doctors and the
        # new one's; the first eight days of them were there already (the booking window).
        assert roster.status_code == 200
        assert "新建 11 个出诊，15 个已存在" in roster.text
        assert "11 sessions created, 15 already existed" in roster.text
        again = await post(
            client, "/admin/roster", csrf, scope="H01/CARD", **{"from": "2026-11-23"},
            to="2026-12-06",
        )  # fmt: skip
        assert "0 sessions created, 26 already existed" in again.text
        sheet = await client.get(
            "/admin/sessions", params={"date": "2026-11-26", "doctor": "09001"}
        )
        assert "林一心 (09001)" in sheet.text and "13:30-17:00" in sheet.text
    offers = await search_sessions(hospital, clock, doctor="09001")
    assert [(o.session.visit_date, o.session.part, o.free) for o in offers] == [
        (THU, Part.PM, 5),
        (date(2026, 12, 3), Part.PM, 5),
    ]
    assert offers[0].bookable and not offers[1].bookable  # 3 December is not released yet
    assert offers[0].session.clinic_type == "expert"
    assert [o.doctor.work_no for o in await search_sessions(hospital, clock, specialty="心衰")] == [
        "09001",
        "09001",
    ]
    number = await book_with(hospital, clock, protector, "09001", THU, 1)
    assert number.startswith("261126")
    rows = await audit_rows(hospital)
    [add] = [r for r in rows if r["action"] == "doctor.add"]
    assert add["username"] == "admin" and add["target"] == "H01/09001" and add["before"] is None
    assert add["after"] == {
        "hospital": "H01",
        "department": "CARD",
        "clinic_type": "expert",
        "title": "副主任医师",
        "specialties": ["冠心病", "高血压", "心衰"],
        "active": True,
    }
    [duty_row] = [r for r in rows if r["action"] == "template.add"]
    assert duty_row["before"] is None
    assert duty_row["after"] == {"weekday": 4, "part": "pm", "capacity": 5}
    generated = [r["after"] for r in rows if r["action"] == "roster.generate"]
    assert [(g["created"], g["existed"]) for g in generated] == [(11, 15), (0, 26)]
    assert generated[0]["department"] == "CARD" and generated[0]["to"] == "2026-12-06"
    assert "林一心" not in as_text(rows) and "Lin Yixin" not in as_text(rows)


async def test_a_work_number_in_use_or_a_bad_record_is_refused_and_nothing_is_added(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        taken = await post(client, "/admin/doctors", csrf, **{**NEW_DOCTOR, "work_no": "10021"})
        assert taken.status_code == 409 and "工号已被使用" in taken.text
        assert 'value="林一心"' in taken.text  # what was typed is kept
        for bad in ({"name": "林1"}, {"work_no": "09 001"}, {"clinic_type": "vip"},
                    {"department": "H01/NOPE"}, {"title": ""}):  # fmt: skip
            answer = await post(client, "/admin/doctors", csrf, **{**NEW_DOCTOR, **bad})
            assert answer.status_code in (400, 404), bad
        roster = await post(
            client, "/admin/roster", csrf, **{"from": "2026-12-06"}, to="2026-12-01"
        )
        assert roster.status_code == 400 and "输入有误" in roster.text
    catalogue = await load_catalogue(hospital)
    assert len([d for d in catalogue.doctors if d.work_no in ("09001", "09 001")]) == 0
    assert not [r for r in await audit_rows(hospital) if r["action"].startswith("doctor.")]


async def test_editing_a_doctor_changes_the_specialties_patients_find_them_by(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    before = (await load_catalogue(hospital)).doctors
    [zhang] = [d for d in before if d.work_no == "00868"]
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        form = (await client.get("/admin/doctors/H01/00868")).text
        assert 'value="冠心病、高血压、心力衰竭"' in form
        saved = await post(
            client, "/admin/doctors/H01/00868", csrf, department="H01/CARD", name="张伟",
            name_en="Zhang Wei", title="主任医师", clinic_type="expert", active="on",
            specialties="冠心病，高血压、晕厥",
        )  # fmt: skip
        assert saved.headers["location"] == "/admin/doctors/H01/00868?done=saved"
        assert "已保存" in (await client.get(saved.headers["location"])).text
    after = await load_catalogue(hospital)
    [edited] = [d for d in after.doctors if d.work_no == "00868"]
    assert edited.specialties == ("冠心病", "高血压", "晕厥")
    assert edited.templates == zhang.templates and edited.active
    assert [d.work_no for d in search_doctors(after, specialty="晕厥")] == ["00868"]
    assert "00868" not in [d.work_no for d in search_doctors(after, specialty="心力衰竭")]
    [edit] = [r for r in await audit_rows(hospital) if r["action"] == "doctor.edit"]
    assert edit["target"] == "H01/00868"
    assert edit["before"] == {"specialties": ["冠心病", "高血压", "心力衰竭"]}
    assert edit["after"] == {"specialties": ["冠心病", "高血压", "晕厥"]}


async def test_a_doctor_with_bookings_to_come_is_removed_only_after_their_sessions_stop(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await book_with(hospital, clock, protector, "00868", WED, 2)
    [wednesday] = await search_sessions(hospital, clock, doctor="00868", date_from=WED, date_to=WED)
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        refused = await post(client, "/admin/doctors/H01/00868/remove", csrf)
        assert refused.status_code == 409
        assert "该医生还有 1 个预约（1 个出诊）" in refused.text
        assert f'href="/admin/sessions/{wednesday.session.id}"' in refused.text
        assert [o.session.id for o in await search_sessions(hospital, clock, doctor="00868")]
        # Unticking "active" is a removal too, and is refused the same way.
        untick = await post(
            client, "/admin/doctors/H01/00868", csrf, department="H01/CARD", name="张伟",
            title="主任医师", clinic_type="expert", specialties="冠心病",
        )  # fmt: skip
        assert untick.status_code == 409
        stopped = await post(
            client, f"/admin/sessions/{wednesday.session.id}/stop", csrf, reason="医生外出会诊"
        )
        assert stopped.headers["location"].endswith("?stopped=1")
        removed = await post(client, "/admin/doctors/H01/00868/remove", csrf)
        assert removed.headers["location"] == "/admin/doctors/H01/00868?done=removed"
        page = (await client.get(removed.headers["location"])).text
        assert "医生已停用" in page and "删除 Remove</button></p></form>" not in page
    # Friday's and next Monday's mornings are closed; this morning's, under way, runs on.
    sheet = await session_sheet(hospital, date(2026, 11, 23), date(2026, 11, 30), work_no="00868")
    assert [(s.session.visit_date.day, s.session.status.value, s.session.stop_reason)
            for s in sheet] == [
        (23, "open", None),
        (25, "stopped", "医生外出会诊"),
        (27, "stopped", RETIRED),
        (30, "stopped", RETIRED),
    ]  # fmt: skip
    assert await search_sessions(hospital, clock, doctor="00868") == []
    catalogue = await load_catalogue(hospital)
    assert not next(d for d in catalogue.doctors if d.work_no == "00868").active
    [view] = await find_bookings(hospital, protector, booking_no=number)
    assert view.status.value == "cancelled" and view.cancel_reason == "hospital_stop"
    rows = await audit_rows(hospital)
    refusals = [r for r in rows if r["action"] == "schedule.refused"]
    assert refusals[0]["after"] == {"action": "doctor.remove", "reason": "has_future_bookings",
                                    "bookings": 1}  # fmt: skip
    assert [r["action"] for r in rows if r["target"] == "H01/00868"][-1] == "doctor.remove"
    [remove] = [r for r in rows if r["action"] == "doctor.remove"]
    assert remove["before"] == {"active": True}
    assert remove["after"] == {"active": False, "sessions_closed": 2}
    assert not [r for r in rows if r["action"] == "doctor.edit"]  # the untick was refused


async def test_only_administrators_manage_doctors_and_the_roster(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    for username in ("desk", "cardio"):
        async with office(hospital, clock, protector) as client:
            csrf = await signed_in_as(client, username)
            home = (await client.get("/admin/")).text
            assert 'href="/admin/doctors"' not in home
            for path in ("/admin/doctors", "/admin/doctors/H01/00868", "/admin/roster"):
                assert (await client.get(path)).status_code == 403, (username, path)
            for path, data in (
                ("/admin/doctors", NEW_DOCTOR),
                ("/admin/doctors/H01/00868/remove", {}),
                (
                    "/admin/doctors/H01/00868/templates",
                    {"weekday": "7", "part": "am", "capacity": "9"},
                ),
                ("/admin/roster", {"from": "2026-11-23", "to": "2026-12-31"}),
            ):
                assert (await post(client, path, csrf, **data)).status_code == 403
    async with office(hospital, clock, protector) as client:
        await signed_in_as(client, "admin")
        # A post without the session's CSRF token changes nothing either.
        forged = await client.post("/admin/doctors/H01/00868/remove", data={})
        assert forged.status_code == 403
    denied = [r for r in await audit_rows(hospital) if r["action"] == "denied"]
    assert [(r["username"], r["after"]["why"]) for r in denied] == (
        [("desk", "manage_doctors")] * 7 + [("cardio", "manage_doctors")] * 7 + [("admin", "csrf")]
    )
    catalogue = await load_catalogue(hospital)
    [zhang] = [d for d in catalogue.doctors if d.work_no == "00868"]
    assert zhang.active and all(t.weekday != 7 for t in zhang.templates)
    assert "09001" not in [d.work_no for d in catalogue.doctors]


async def test_removing_a_weekly_duty_leaves_the_sessions_generated_from_it(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        gone = await post(
            client, "/admin/doctors/H01/00868/templates/remove", csrf, weekday="3", part="pm"
        )
        assert gone.headers["location"] == "/admin/doctors/H01/00868?done=template_removed"
        again = await post(
            client, "/admin/doctors/H01/00868/templates/remove", csrf, weekday="3", part="pm"
        )
        assert again.status_code == 404
        changed = await post(
            client,
            "/admin/doctors/H01/00868/templates",
            csrf,
            weekday="1",
            part="am",
            capacity="30",
        )
        assert changed.status_code == 303
        bad = await post(
            client, "/admin/doctors/H01/00868/templates", csrf, weekday="8", part="am", capacity="3"
        )
        assert bad.status_code == 400 and "输入有误" in bad.text
        await post(client, "/admin/roster", csrf, **{"from": "2026-11-23"}, to="2026-12-09")
    [zhang] = [d for d in (await load_catalogue(hospital)).doctors if d.work_no == "00868"]
    assert [(t.weekday, t.part, t.capacity) for t in zhang.templates] == [
        (1, Part.AM, 30),
        (5, Part.AM, 20),
    ]
    offers = await search_sessions(hospital, clock, doctor="00868", include_closed=True)
    days = [(o.session.visit_date.isoformat(), o.session.part, o.session.capacity) for o in offers]
    assert ("2026-11-25", Part.PM, 20) in days  # generated before: still there
    assert ("2026-12-02", Part.PM, 20) not in days  # not generated again
    assert ("2026-11-30", Part.AM, 20) in days  # untouched, though the template changed
    assert ("2026-12-07", Part.AM, 30) in days
    rows = [r for r in await audit_rows(hospital) if r["action"].startswith("template.")]
    assert [(r["action"], r["before"], r["after"]) for r in rows] == [
        ("template.remove", {"weekday": 3, "part": "pm", "capacity": 20}, None),
        ("template.add", {"weekday": 1, "part": "am", "capacity": 20},
         {"weekday": 1, "part": "am", "capacity": 30}),
    ]  # fmt: skip


def test_specialties_are_split_on_commas_and_the_chinese_enumeration_comma() -> None:
    assert parse_specialties("冠心病、高血压,心衰 ， 胸闷;胸痛；冠心病") == (
        "冠心病",
        "高血压",
        "心衰",
        "胸闷",
        "胸痛",
    )
    assert parse_specialties(" 、 ,") == ()
    with pytest.raises(InvalidInput):
        parse_specialties("、".join(f"专长{n}" for n in range(21)))


async def test_a_work_number_shared_by_two_hospitals_names_each_doctor_by_its_hospital(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    # An imported (or HIS-synced) catalogue may give H02 a number H01 uses: the schema
    # keeps work numbers unique per hospital only.
    demo = demo_catalogue()
    namesake = replace(
        next(d for d in demo.doctors if d.work_no == "10021"), work_no="00868", templates=()
    )
    await import_catalogue(hospital, replace(demo, doctors=(namesake,)))
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        listing = (await client.get("/admin/doctors")).text
        assert 'href="/admin/doctors/H01/00868"' in listing
        assert 'href="/admin/doctors/H02/00868"' in listing
        h02 = (await client.get("/admin/doctors/H02/00868")).text
        assert "胡军" in h02 and "张伟" not in h02
        assert 'action="/admin/doctors/H02/00868/remove"' in h02
        assert "张伟" in (await client.get("/admin/doctors/H01/00868")).text
        saved = await post(
            client, "/admin/doctors/H02/00868", csrf, department="H02/TCMI", name="胡军",
            title="副主任医师", clinic_type="expert", specialties="失眠", active="on",
        )  # fmt: skip
        assert saved.headers["location"] == "/admin/doctors/H02/00868?done=saved"
        removed = await post(client, "/admin/doctors/H02/00868/remove", csrf)
        assert removed.headers["location"] == "/admin/doctors/H02/00868?done=removed"
        assert (await client.get("/admin/doctors/H03/00868")).status_code == 404
    doctors = {(d.hospital_code, d.work_no): d for d in (await load_catalogue(hospital)).doctors}
    zhang, hu = doctors["H01", "00868"], doctors["H02", "00868"]
    assert (zhang.title, zhang.active) == ("主任医师", True)  # H01's doctor is untouched
    assert (hu.title, hu.specialties, hu.active) == ("副主任医师", ("失眠",), False)
    targets = [r["target"] for r in await audit_rows(hospital) if r["action"].startswith("doctor.")]
    assert targets == ["H02/00868", "H02/00868"]


async def test_two_administrators_adding_one_work_number_at_once_in_two_hospitals_add_one(
    hospital: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both adds are held after their first reads until the other has come as far (or, on
    # SQLite, whose writers take turns, for a moment): a check read before the other's
    # insert must not let both through.
    check_codes = booking.roster.doctors._check_codes
    arrived: list[str] = []
    both = asyncio.Event()

    async def held(uow: HospitalWork, doctor: Doctor) -> None:
        await check_codes(uow, doctor)
        arrived.append(doctor.hospital_code)
        if len(arrived) == 2:
            both.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(both.wait(), 1)

    monkeypatch.setattr(booking.roster.doctors, "_check_codes", held)
    form = DoctorForm("CARD", "林一心", "副主任医师", "expert", "心衰")
    results = await asyncio.gather(
        add_doctor(hospital, clock, "H01", "09001", form, COMMAND_LINE),
        add_doctor(hospital, clock, "H02", "09001", replace(form, department_code="TCMI"),
                   COMMAND_LINE),
        return_exceptions=True,
    )  # fmt: skip
    assert sorted(type(r).__name__ for r in results) == ["Doctor", "WorkNoTaken"], results
    doctors = (await load_catalogue(hospital)).doctors
    assert len([d for d in doctors if d.work_no == "09001"]) == 1


@pytest.mark.parametrize("generate", ["roster", "sessions"])
async def test_a_doctor_removed_while_the_roster_is_generated_gets_no_open_session(
    hospital: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, generate: str
) -> None:
    # The roster read the catalogue (张伟 active) just before the removal committed: the
    # catalogue it works from is the one read then.
    stale = await load_catalogue(hospital)
    assert await remove_doctor(hospital, clock, "H01", "00868", COMMAND_LINE) == 3

    async def read_before_the_removal(_self: SqlCatalogue) -> Catalogue:
        return stale

    monkeypatch.setattr(SqlCatalogue, "load", read_before_the_removal)
    if generate == "roster":
        report = await generate_roster(
            hospital, clock, date(2026, 11, 23), date(2026, 12, 13), hospital_code="H01"
        )
        assert report.created > 0  # the other doctors' sessions are made
    else:
        assert await generate_sessions(hospital, clock, extra_days=14) > 0
    sheet = await session_sheet(  # from tomorrow: this morning's session has begun
        hospital, date(2026, 11, 24), date(2026, 12, 13), hospital_code="H01", work_no="00868"
    )
    assert [line.session.status.value for line in sheet] == ["stopped"] * 3
