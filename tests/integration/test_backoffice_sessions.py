"""Sessions in the back office (B2), on SQLite and PostgreSQL: a day's sessions with their
places, each doctor's bookings per session, and the stop (停诊) that cancels the bookings and
queues the notices to the patients, audited with counts only. Registration staff may look;
only administrators stop.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; 张伟 (00868, cardiology)
works on Wednesday afternoons, 20 places from 13:30.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from booking.appointments.book import book
from booking.appointments.listing import find_bookings
from booking.appointments.model import AppointmentStatus
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.patients.identity import mask_id_number
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.staff.model import Role
from booking.store import Database
from tests.office import as_text, audit_rows, office, signed_in_as, staff
from tests.support import id_number

BORN = date(1967, 7, 17)  # the patients of this file
WED = date(2026, 11, 25)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def hospital(demo: Database, clock: FixedClock) -> Database:
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "desk", Role.REGISTRATION)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    return demo


async def wednesday(db: Database, clock: FixedClock) -> int:
    [offer] = await search_sessions(
        db, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    return offer.session.id


async def booked(db: Database, clock: FixedClock, protector: Protector, n: int) -> str:
    """A booking in 张伟's Wednesday afternoon, made in the web chat (whose patient is told)."""
    account = protector.account("web", f"sessions-{n}")
    patient = await register_patient(
        db,
        protector,
        clock,
        name=f"患者{chr(0x4E00 + n)}",
        id_number=id_number(n, born=BORN),
        phone=f"1396717{n:04d}",
        account=account,
    )
    receipt = await book(
        db,
        clock,
        patient_id=patient.id,
        session_id=await wednesday(db, clock),
        channel="web",
        account=account,
    )
    return receipt.appointment.booking_no


async def post(client: httpx.AsyncClient, path: str, csrf: str, **data: str) -> httpx.Response:
    return await client.post(path, data={"csrf": csrf, **data})


async def test_the_desk_sees_a_days_sessions_and_each_sessions_bookings(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    first, second = [await booked(hospital, clock, protector, n) for n in (1, 2)]
    session_id = await wednesday(hospital, clock)
    async with office(hospital, clock, protector) as client:
        await signed_in_as(client, "desk")
        today = (await client.get("/admin/sessions")).text
        assert "2026-11-23" in today and "张伟 (00868)" in today  # Monday morning, by default
        day = (
            await client.get("/admin/sessions", params={"date": "2026-11-25", "scope": "H01/CARD"})
        ).text
        assert f'href="/admin/sessions/{session_id}"' in day
        assert "李娜 (00871)" not in day  # she works on Tuesday and Thursday mornings
        row = day[day.index(f'/admin/sessions/{session_id}"') :].split("</tr>")[0]
        cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
        assert cells[-5:] == ["20", "2", "0", "18", "出诊 open"]
        page = (await client.get(f"/admin/sessions/{session_id}")).text
        assert first in page and second in page
        assert page.index(first) < page.index(second)  # by queue number
        assert f'<a href="/admin/bookings?q={first}">' in page  # to change it there
        assert "<td>1</td>" in page and "<td>2</td>" in page
        assert mask_id_number(id_number(1, born=BORN)) in page
        assert id_number(1, born=BORN) not in page and "1396717" not in page
        assert "停诊 Stop this session" not in page  # the desk may look, not stop
        other = await client.get("/admin/sessions", params={"scope": "no such thing!"})
        assert other.status_code == 200 and "输入有误" in other.text
        assert (await client.get("/admin/sessions/999999")).status_code == 404


async def test_stopping_a_session_cancels_its_bookings_and_tells_each_patient(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    numbers = [await booked(hospital, clock, protector, n) for n in (3, 4)]
    session_id = await wednesday(hospital, clock)
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = (await client.get(f"/admin/sessions/{session_id}")).text
        assert "停诊 Stop this session" in page
        blank = await post(client, f"/admin/sessions/{session_id}/stop", csrf, reason="  ")
        assert blank.headers["location"].endswith("?refused=invalid_input")
        assert "请填写停诊原因" in (await client.get(blank.headers["location"])).text
        assert [await status_of(hospital, protector, n) for n in numbers] == ["booked"] * 2
        stop = await post(client, f"/admin/sessions/{session_id}/stop", csrf, reason="医生外出会诊")
        assert stop.headers["location"] == f"/admin/sessions/{session_id}?stopped=2"
        after = (await client.get(stop.headers["location"])).text
        assert "已停诊：2 个预约已取消" in after and "医生外出会诊" in after
        assert "停诊 Stop this session" not in after and after.count("已退号 cancelled") == 2
        again = await post(client, f"/admin/sessions/{session_id}/stop", csrf, reason="再停一次")
        assert again.headers["location"].endswith("?refused=wrong_status")
        assert "该出诊已停诊" in (await client.get(again.headers["location"])).text
        day = (await client.get("/admin/sessions", params={"date": "2026-11-25"})).text
        row = day[day.index(f'/admin/sessions/{session_id}"') :].split("</tr>")[0]
        assert "<td>0</td><td>2</td><td>0</td><td>停诊 stopped</td>" in row
    assert [await status_of(hospital, protector, n) for n in numbers] == ["cancelled"] * 2
    assert await search_sessions(hospital, clock, doctor="00868", date_from=WED, date_to=WED) == []
    async with hospital.write_engine.connect() as conn:
        told = await conn.execute(
            text(
                "SELECT a.booking_no, n.status FROM notices n JOIN appointments a "
                "ON a.id = n.appointment_id WHERE n.kind = 'stopped' "
                "AND a.cancel_reason = 'hospital_stop' ORDER BY a.queue_no"
            )
        )
        assert [tuple(row) for row in told] == [(n, "pending") for n in numbers]
    rows = await audit_rows(hospital)
    [stopped] = [r for r in rows if r["action"] == "session.stop"]
    assert stopped["username"] == "admin" and stopped["target"] == str(session_id)
    assert stopped["before"] == {"status": "open"}
    assert stopped["after"] == {"status": "stopped", "cancelled": 2}
    refusals = [r["after"] for r in rows if r["action"] == "schedule.refused"]
    assert refusals == [
        {"action": "session.stop", "reason": "invalid_input"},
        {"action": "session.stop", "reason": "wrong_status"},
    ]
    logged = as_text(rows)
    assert "医生外出会诊" not in logged and "患者" not in logged


async def test_a_session_that_has_ended_is_not_stopped_and_its_visits_stay(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    """A stop cancels and refunds booked and checked-in visits and tells each patient: of a
    session that is over, that would undo visits that took place."""
    number = await booked(hospital, clock, protector, 6)
    session_id = await wednesday(hospital, clock)
    clock.set(datetime(2026, 11, 25, 17, 30, tzinfo=SHANGHAI))  # it ended at 17:00
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        page = (await client.get(f"/admin/sessions/{session_id}")).text
        assert number in page and "停诊 Stop this session" not in page
        late = await post(client, f"/admin/sessions/{session_id}/stop", csrf, reason="补停")
        assert late.headers["location"].endswith("?refused=past_deadline")
        assert "该出诊已结束" in (await client.get(late.headers["location"])).text
    assert await status_of(hospital, protector, number) == "booked"
    [refused] = [r for r in await audit_rows(hospital) if r["action"] == "schedule.refused"]
    assert refused["after"] == {"action": "session.stop", "reason": "past_deadline"}


async def status_of(db: Database, protector: Protector, booking_no: str) -> str:
    [view] = await find_bookings(db, protector, booking_no=booking_no)
    return view.status.value


async def test_only_administrators_stop_sessions_and_complaint_staff_see_none(
    hospital: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await booked(hospital, clock, protector, 5)
    session_id = await wednesday(hospital, clock)
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        assert 'href="/admin/sessions"' in (await client.get("/admin/")).text
        assert (await client.get(f"/admin/sessions/{session_id}")).status_code == 200
        stop = await post(client, f"/admin/sessions/{session_id}/stop", csrf, reason="试试")
        assert stop.status_code == 403
    async with office(hospital, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        assert 'href="/admin/sessions"' not in (await client.get("/admin/")).text
        for path in ("/admin/sessions", f"/admin/sessions/{session_id}"):
            assert (await client.get(path)).status_code == 403
        stop = await post(client, f"/admin/sessions/{session_id}/stop", csrf, reason="试试")
        assert stop.status_code == 403
    async with office(hospital, clock, protector) as client:
        await signed_in_as(client, "admin")
        forged = await client.post(f"/admin/sessions/{session_id}/stop", data={"reason": "试试"})
        assert forged.status_code == 403
    assert await status_of(hospital, protector, number) == AppointmentStatus.BOOKED.value
    denied = [r for r in await audit_rows(hospital) if r["action"] == "denied"]
    assert [(r["username"], r["target"], r["after"]["why"]) for r in denied] == [
        ("desk", f"POST /admin/sessions/{session_id}/stop", "stop_sessions"),
        ("cardio", "GET /admin/sessions", "view_schedules"),
        ("cardio", f"GET /admin/sessions/{session_id}", "view_schedules"),
        ("cardio", f"POST /admin/sessions/{session_id}/stop", "stop_sessions"),
        ("admin", f"POST /admin/sessions/{session_id}/stop", "csrf"),
    ]
    assert not [r for r in await audit_rows(hospital) if r["action"] == "session.stop"]
