"""The desk's first page (B1/B4) on SQLite and PostgreSQL: finding a booking by what a caller
says, cancelling, checking in, marking no-shows; each role denied what it must not do; the
audit log, which holds no personal data.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai; 张伟 (00868, cardiology)
works on Wednesday afternoons.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote_plus
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
from booking.staff import audit
from booking.staff.model import Actor, Role
from booking.store import Database
from tests.office import as_text, audit_rows, csrf_of, office, searched, signed_in_as, staff
from tests.support import id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
WED = date(2026, 11, 25)
PHONE = "13987650001"
ID_NUMBER = id_number(431)
NAME = "柯南"


@pytest.fixture
async def desk(demo: Database, clock: FixedClock) -> Database:
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "desk", Role.REGISTRATION)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    return demo


async def booked(db: Database, clock: FixedClock, protector: Protector, n: int = 0) -> str:
    """A booking made in the web chat (so the patient can be told of changes)."""
    patient = await register_patient(
        db,
        protector,
        clock,
        name=NAME if n == 0 else f"病人{chr(0x4E00 + n)}",
        id_number=ID_NUMBER if n == 0 else id_number(431 + n),
        phone=PHONE if n == 0 else f"1398765{n:04d}",
        account=protector.account("web", f"chat-{n}"),
    )
    [offer] = await search_sessions(
        db, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    receipt = await book(
        db,
        clock,
        patient_id=patient.id,
        session_id=offer.session.id,
        channel="web",
        account=protector.account("web", f"chat-{n}"),
    )
    return receipt.appointment.booking_no


async def status_of(db: Database, protector: Protector, booking_no: str) -> AppointmentStatus:
    [view] = await find_bookings(db, protector, booking_no=booking_no)
    return view.status


async def do(client: httpx.AsyncClient, csrf: str, booking_no: str, action: str) -> str:
    answer = await client.post(f"/admin/bookings/{booking_no}/{action}", data={"csrf": csrf})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


async def test_the_desk_finds_a_booking_by_phone_and_id_number_and_cancels_it(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await booked(desk, clock, protector)
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "desk")
        for q in (PHONE, "139 8765 0001", ID_NUMBER):
            page = (await searched(client, "/admin/bookings", q=q)).text
            assert number in page and NAME in page
            assert mask_id_number(ID_NUMBER) in page and "139****0001" in page
            shown = page.replace(f'value="{q}"', "")  # the search box keeps what was typed
            assert ID_NUMBER not in shown and PHONE not in shown
        csrf = csrf_of(page)
        where = await do(client, csrf, number, "cancel")
        assert where == f"/admin/bookings?q={number}&done=cancel"
        after = (await client.get(where)).text
        assert "已退号" in after and "患者将收到通知" in after
        assert 'action="/admin/bookings/' not in after  # nothing more to do with it
    assert await status_of(desk, protector, number) is AppointmentStatus.CANCELLED
    async with desk.write_engine.connect() as conn:
        told = await conn.execute(
            text(
                "SELECT n.status FROM notices n JOIN appointments a "
                "ON a.id = n.appointment_id WHERE a.booking_no = :no "
                "AND a.cancel_reason = 'staff' AND n.kind = 'cancelled'"
            ),
            {"no": number},
        )
        assert [row.status for row in told] == ["pending"]
    rows = await audit_rows(desk)
    searches = [r["after"] for r in rows if r["action"] == "booking.search"]
    assert [s["by"] for s in searches] == ["phone", "phone", "id_number", "booking_no"]
    assert all(s["bookings"] == [number] for s in searches)
    [cancelled] = [r for r in rows if r["action"] == "booking.cancel"]
    assert cancelled["username"] == "desk" and cancelled["target"] == number
    assert cancelled["before"] == {"status": "booked"}
    assert cancelled["after"] == {"status": "cancelled", "reason": "staff", "refund_due": True}
    logged = as_text(rows)
    for personal in (ID_NUMBER, PHONE, "+86" + PHONE, NAME, ID_NUMBER[6:14]):
        assert personal not in logged


async def test_the_audit_table_itself_holds_no_personal_data(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await booked(desk, clock, protector)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        for q in (PHONE, ID_NUMBER, NAME, number):
            assert (await searched(client, "/admin/bookings", q=q)).status_code == 200
        await do(client, csrf, number, "cancel")
    async with desk.write_engine.connect() as conn:
        dump = str((await conn.execute(text("SELECT * FROM audit_log"))).all())
    assert number in dump
    for personal in (ID_NUMBER, PHONE, NAME):
        assert personal not in dump


async def test_the_desk_finds_by_name_and_booking_number_and_says_what_it_cannot_read(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await booked(desk, clock, protector)
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "desk")
        for q in (NAME, number):
            assert number in (await searched(client, "/admin/bookings", q=q)).text
        nobody = await searched(client, "/admin/bookings", q="无名氏")
        assert "没有找到" in nobody.text
        bad_id = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
        wrong = await searched(client, "/admin/bookings", q=bad_id)
        assert "not a valid resident ID number" in wrong.text
        odd = await searched(client, "/admin/bookings", q="<script>12")
        assert "请输入手机号" in odd.text and "<script>12" not in odd.text


async def test_the_desk_checks_patients_in_and_marks_no_shows(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    coming, missing = (
        await booked(desk, clock, protector, 1),
        await booked(desk, clock, protector, 2),
    )
    clock.set(datetime(2026, 11, 25, 14, 30, tzinfo=SHANGHAI))
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        assert (await do(client, csrf, coming, "arrive")).endswith("done=arrive")
        assert (await do(client, csrf, missing, "noshow")).endswith("done=noshow")
    assert await status_of(desk, protector, coming) is AppointmentStatus.ARRIVED
    assert await status_of(desk, protector, missing) is AppointmentStatus.NOSHOW
    rows = {r["action"]: r for r in await audit_rows(desk)}
    assert (rows["booking.arrive"]["before"], rows["booking.arrive"]["after"]) == (
        {"status": "booked"},
        {"status": "arrived"},
    )
    assert rows["booking.noshow"]["target"] == missing
    assert rows["booking.noshow"]["after"] == {"status": "noshow", "banned_until": None}


async def test_a_change_the_rules_refuse_is_told_and_recorded(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await booked(desk, clock, protector)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        where = await do(client, csrf, number, "arrive")  # Monday: the visit is on Wednesday
        assert where.endswith("refused=past_deadline")
        assert "就诊当天" in (await client.get(where)).text
    assert await status_of(desk, protector, number) is AppointmentStatus.BOOKED
    [refused] = [r for r in await audit_rows(desk) if r["action"] == "booking.refused"]
    assert refused["after"] == {"action": "arrive", "reason": "past_deadline"}


async def test_each_role_is_denied_what_it_may_not_do_and_the_denial_is_recorded(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await booked(desk, clock, protector)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        home = (await client.get("/admin/")).text
        assert "投诉处理" in home and "查找预约" not in home and "CARD" in home
        assert (await searched(client, "/admin/bookings", q=PHONE)).status_code == 403
        cancel = await client.post(f"/admin/bookings/{number}/cancel", data={"csrf": csrf})
        assert cancel.status_code == 403
        assert (await client.get("/admin/audit")).status_code == 403
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "desk")
        assert (await client.get("/admin/audit")).status_code == 403
    assert await status_of(desk, protector, number) is AppointmentStatus.BOOKED
    denied = [
        (r["username"], r["target"], r["after"]["why"])
        for r in await audit_rows(desk)
        if r["action"] == "denied"
    ]
    assert denied == [
        ("cardio", "POST /admin/bookings", "find_bookings"),
        ("cardio", f"POST /admin/bookings/{number}/cancel", "change_bookings"),
        ("cardio", "GET /admin/audit", "read_audit"),
        ("desk", "GET /admin/audit", "read_audit"),
    ]
    searches = [r for r in await audit_rows(desk) if r["action"] == "booking.search"]
    assert searches == []


async def test_administrators_read_the_audit_log_newest_first_filtered_and_paged(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    someone = Actor(staff_id=None, username="desk", address="10.9.9.9")
    for n in range(60):
        at = datetime(2026, 11, 23, 0, n, tzinfo=UTC)
        await audit.record(desk, someone.did(at, "booking.search", after={"n": n}))
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "admin")
        first = (await client.get("/admin/audit")).text
        assert first.index("login") < first.index("{&quot;n&quot;: 59}")  # newest first
        assert "较早 Older" in first and "较新 Newer" not in first
        only = (await client.get("/admin/audit", params={"staff": "desk"})).text
        assert "10.9.9.9" in only and "login" not in only.split("<table>")[1]
        second = await client.get(
            "/admin/audit", params={"staff": "desk", "action": "booking.search", "page": 2}
        )
        assert "{&quot;n&quot;: 9}" in second.text and "{&quot;n&quot;: 10}" not in second.text
        assert "{&quot;n&quot;: 0}" in second.text and "较新 Newer" in second.text
        assert "较早 Older" not in second.text


async def test_after_searches_by_id_number_and_phone_no_address_holds_the_number(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    """ID and phone numbers typed at the desk stay out of every address: those requested, the
    redirects' Location headers and every link or form target on the pages (proxy and server
    logs, browser history). The search is posted; its page is named by a sealed token."""
    number = await booked(desk, clock, protector)
    addresses: list[str] = []

    async def requested(request: httpx.Request) -> None:
        addresses.append(str(request.url))

    async def answered(response: httpx.Response) -> None:
        addresses.append(response.headers.get("location", ""))
        await response.aread()
        addresses.extend(re.findall(r'(?:href|action|src)="([^"]*)"', response.text))

    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "admin")
        client.event_hooks = {"request": [requested], "response": [answered]}
        for q in (ID_NUMBER, PHONE, "139 8765 0001"):
            page = await searched(client, "/admin/bookings", q=q)
            assert number in page.text  # found
            people = await searched(client, "/admin/patients", q=q)
            assert NAME in people.text
            for link in re.findall(r'href="(/admin/patients/\d+[^"]*)"', people.text):
                assert "139****0001" in (await client.get(html.unescape(link))).text
        paged = await searched(client, "/admin/bookings", q=PHONE, department="H01:CARD")
        assert number in paged.text
        where = await do(client, csrf_of(paged.text), number, "cancel")
        assert "已取消" in (await client.get(where)).text or number in where
    assert len(addresses) > 20
    for address in addresses:
        bare = unquote_plus(address).replace(" ", "").replace("-", "")
        assert ID_NUMBER not in bare and PHONE not in bare, address


async def test_a_search_token_is_only_for_who_searched_and_numbers_in_an_address_are_not_read(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    number = await booked(desk, clock, protector)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        posted = await client.post("/admin/bookings", data={"csrf": csrf, "q": PHONE})
        assert posted.status_code == 303
        mine = posted.headers["location"]
        assert number in (await client.get(mine)).text
        typed = await client.get("/admin/bookings", params={"q": PHONE})
        assert number not in typed.text and "Use the search form" in typed.text
        by_booking_no = await client.get("/admin/bookings", params={"q": number})
        assert number in by_booking_no.text and "139****0001" in by_booking_no.text
        forged = await client.post("/admin/bookings", data={"csrf": "forged", "q": PHONE})
        assert forged.status_code == 403
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "admin")
        other = await client.get(mine)  # someone else's search
        assert number not in other.text and "expired" in other.text
        clock.advance(timedelta(hours=2))
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "desk")
        late = await client.get(mine)
        assert number not in late.text and "expired" in late.text
