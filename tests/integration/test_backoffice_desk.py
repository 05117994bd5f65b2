"""The registration desk (B1/B4, seed §3.4/§3.7) on SQLite and PostgreSQL: an agent books for
a caller on the phone under the bot's own rules, moves a booking to another session (转号),
closes the bookings left "booked" after their session; each role denied what it must not do.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai. 张伟 (00868, cardiology)
works on Monday and Friday mornings and Wednesday afternoons; 吴婷 (02620, obstetrics, 10
places) on Tuesday and Thursday mornings.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from backoffice.bookings import BAD_FILTER, REFUSALS, Filters, filters_from
from booking import errors
from booking.appointments.attendance import mark_arrived
from booking.appointments.book import book
from booking.appointments.desk import _book as desk_book
from booking.appointments.listing import find_bookings
from booking.appointments.model import AppointmentStatus
from booking.appointments.patient_records import HasFutureBookings, remove_patient
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import BookingError
from booking.patients.model import BlacklistEntry, BlacklistSource
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.duty import generate_roster
from booking.staff.model import Actor, Role
from booking.store import Database
from tests.office import as_text, audit_rows, csrf_of, office, searched, signed_in_as, staff
from tests.support import id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON, TUE, WED, FRI = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27)
BORN = date(1971, 8, 14)  # no other test's patients were born that day
CALLER = {"name": "钱多多", "id_number": id_number(1, born=BORN), "phone": "13712340001"}


@pytest.fixture
async def desk(demo: Database, clock: FixedClock) -> Database:
    await staff(demo, clock, "admin", Role.ADMIN)
    await staff(demo, clock, "desk", Role.REGISTRATION)
    await staff(demo, clock, "cardio", Role.COMPLAINTS, "CARD")
    return demo


async def session_id(db: Database, clock: FixedClock, doctor: str, day: date, part: Part) -> int:
    [offer] = await search_sessions(
        db, clock, doctor=doctor, date_from=day, date_to=day, part=part, include_closed=True
    )
    return offer.session.id


async def free_places(db: Database, clock: FixedClock, doctor: str, day: date, part: Part) -> int:
    [offer] = await search_sessions(db, clock, doctor=doctor, date_from=day, date_to=day, part=part)
    return offer.free


async def book_by_phone(
    client: httpx.AsyncClient, csrf: str, session: int | str, **caller: str
) -> httpx.Response:
    return await client.post(
        "/admin/desk/book", data={"csrf": csrf, "session": str(session), **CALLER, **caller}
    )


async def web_booking(
    db: Database, clock: FixedClock, protector: Protector, n: int, session: int
) -> str:
    """A booking made in the web chat by the n-th patient."""
    account = protector.account("web", f"desk-chat-{n}")
    patient = await register_patient(
        db, protector, clock, name=f"病人{chr(0x4E00 + n)}", id_number=id_number(100 + n, BORN),
        phone=f"1372234{n:04d}", account=account,
    )  # fmt: skip
    receipt = await book(
        db, clock, patient_id=patient.id, session_id=session, channel="web", account=account
    )
    return receipt.appointment.booking_no


async def test_an_agent_books_for_a_caller_step_by_step_and_finds_it_by_phone(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "desk")
        start = (await client.get("/admin/desk/book")).text
        assert "department=H01%3ACARD" in start and "急诊科" not in start  # not bookable
        doctors = (await client.get("/admin/desk/book?department=H01:CARD")).text
        assert "张伟" in doctors and "李娜" in doctors and "王芳" not in doctors
        steps = await client.get("/admin/desk/book?department=H01:CARD&doctor=H01:00868")
        assert "2026-11-25 周三 下午 pm 13:30-17:00" in steps.text
        assert f"session={wed_pm}" in steps.text
        form = await client.get(
            f"/admin/desk/book?department=H01:CARD&doctor=H01:00868&session={wed_pm}"
        )
        assert 'name="id_number"' in form.text
        answer = await book_by_phone(client, csrf_of(form.text), wed_pm)
        assert answer.status_code == 303
        number = answer.headers["location"].rsplit("/", 1)[1]
        receipt = (await client.get(answer.headers["location"])).text
        assert number in receipt and "2026-11-25 周三 13:30-13:40 第1号" in receipt
        assert "心血管内科" in receipt and "¥51.00" in receipt
        assert CALLER["id_number"] not in receipt  # read back masked
        found = (await searched(client, "/admin/bookings", q=CALLER["phone"])).text
        assert number in found and "钱多多" in found
    [view] = await find_bookings(desk, protector, booking_no=number)
    assert view.channel == "desk" and view.status is AppointmentStatus.BOOKED
    assert await free_places(desk, clock, "00868", WED, Part.PM) == 19
    rows = await audit_rows(desk)
    [booked] = [r for r in rows if r["action"] == "booking.book_for_caller"]
    assert booked["username"] == "desk" and booked["target"] == number
    assert booked["after"]["session_id"] == wed_pm and booked["after"]["new_patient"] is True
    logged = as_text(rows)
    for personal in CALLER.values():
        assert personal not in logged


async def test_the_same_caller_again_for_the_same_session_gets_the_bots_reason(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        assert (await book_by_phone(client, csrf, wed_pm)).status_code == 303
        again = await book_by_phone(client, csrf, wed_pm)
        assert again.status_code == 409
        assert "来电人已预约过这个时段" in again.text
        # What was typed stays on the form, to correct rather than ask again.
        assert f'value="{CALLER["phone"]}"' in again.text
    views = await find_bookings(desk, protector, phone=CALLER["phone"])
    assert len(views) == 1
    [refused] = [r for r in await audit_rows(desk) if r["action"] == "booking.refused"]
    assert refused["after"] == {
        "action": "book_for_caller",
        "reason": "already_booked",
        "session_id": wed_pm,
    }


async def test_wrong_or_mismatched_details_are_refused_as_the_bot_refuses_them(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    fri_am = await session_id(desk, clock, "00868", FRI, Part.AM)
    number = CALLER["id_number"]
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        wrong = await book_by_phone(client, csrf, wed_pm, id_number=bad)
        assert wrong.status_code == 409 and "身份证号不正确" in wrong.text
        landline = await book_by_phone(client, csrf, wed_pm, phone="01062345678")
        assert "手机号不正确" in landline.text
        assert (await book_by_phone(client, csrf, wed_pm)).status_code == 303
        # The ID number is registered now: another name, or another phone, is not the caller.
        other_name = await book_by_phone(client, csrf, fri_am, name="钱少少")
        assert "姓名不正确" in other_name.text
        other_phone = await book_by_phone(client, csrf, fri_am, phone="13712349999")
        assert "手机号与登记的不符" in other_phone.text
        assert (await book_by_phone(client, csrf, fri_am)).status_code == 303
    reasons = [
        r["after"]["reason"] for r in await audit_rows(desk) if r["action"] == "booking.refused"
    ]
    assert reasons == ["invalid_id_number", "invalid_phone", "invalid_name", "needs_code"]


async def test_a_blacklisted_caller_is_refused(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    async with desk() as uow:
        entry = BlacklistEntry(
            id_hash=protector.lookup_hash("id", CALLER["id_number"]),
            source=BlacklistSource.HOSPITAL,
            reason="hospital list",
            starts_on=date(2026, 1, 1),
            until=None,
        )
        await uow.blacklist.add(entry, clock.now())
        await uow.commit()
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        refused = await book_by_phone(client, csrf, wed_pm)
        assert refused.status_code == 409 and "黑名单" in refused.text
    assert await find_bookings(desk, protector, phone=CALLER["phone"]) == []
    assert await free_places(desk, clock, "00868", WED, Part.PM) == 20


async def test_the_desk_is_held_to_the_bots_booking_window_and_quotas(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    """The form only offers bookable sessions, but a post names any session: the rules are
    the booking's own, not the page's."""
    await generate_roster(desk, clock, date(2026, 12, 1), date(2026, 12, 10))
    far = await session_id(desk, clock, "00868", date(2026, 12, 4), Part.AM)  # past the 7 days
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    offers = await search_sessions(
        desk, clock, hospital="H01", department="CARD", date_from=WED, date_to=WED
    )
    same_day = [o.session.id for o in offers if o.doctor.work_no != "00868"]
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        early = await book_by_phone(client, csrf, far)
        assert early.status_code == 409 and "不在预约期内" in early.text
        assert (await book_by_phone(client, csrf, wed_pm)).status_code == 303
        again = await book_by_phone(client, csrf, same_day[0])  # one per department a day
        assert again.status_code == 409 and "同一天同一科室只能预约1个号" in again.text
    assert len(await find_bookings(desk, protector, phone=CALLER["phone"])) == 1


async def test_a_caller_removed_while_the_agent_books_is_not_booked(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    """book_for_caller finds the patient, then books in another transaction: a removal may
    commit between the two (on PostgreSQL the booking waits for it on the patient's row).
    That interleaving, step by step: no booking may land on the anonymised record."""
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    patient = await register_patient(desk, protector, clock, **CALLER)
    agent = Actor(1, "desk", "127.0.0.1")
    await remove_patient(desk, clock, patient.id, agent)
    with pytest.raises(errors.NotFound):
        await desk_book(desk, clock, patient.id, wed_pm, agent, False)
    assert await free_places(desk, clock, "00868", WED, Part.PM) == 20


async def test_a_full_session_is_refused_and_not_overbooked(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    tue_am = await session_id(desk, clock, "02620", TUE, Part.AM)
    async with desk() as uow:  # nine places taken at the window, the last one in the chat
        for _ in range(9):
            assert await uow.sessions.claim_place(tue_am, clock.now(), None) is not None
        await uow.commit()
    await web_booking(desk, clock, protector, 1, tue_am)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        steps = await client.get("/admin/desk/book?department=H01:OBGY&doctor=H01:02620")
        assert f"session={tue_am}" not in steps.text  # only sessions with places are offered
        full = await book_by_phone(client, csrf, tue_am)
        assert full.status_code == 409 and "该时段已约满" in full.text
    assert await find_bookings(desk, protector, phone=CALLER["phone"]) == []


async def test_a_booking_moves_to_another_session_and_its_old_place_is_free_again(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    fri_am = await session_id(desk, clock, "00868", FRI, Part.AM)
    number = await web_booking(desk, clock, protector, 2, wed_pm)
    assert await free_places(desk, clock, "00868", WED, Part.PM) == 19
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        listed = (await searched(client, "/admin/bookings", q=number)).text
        assert f'href="/admin/desk/transfer/{number}"' in listed
        form = (await client.get(f"/admin/desk/transfer/{number}")).text
        assert f'value="{fri_am}"' in form and f'value="{wed_pm}"' not in form
        assert "李明" in form and "王芳" not in form  # the department's other doctors only
        moved = await client.post(
            f"/admin/desk/transfer/{number}", data={"csrf": csrf, "session": str(fri_am)}
        )
        assert moved.headers["location"] == f"/admin/bookings?q={number}&done=transfer"
        assert "已转号" in (await client.get(moved.headers["location"])).text
    [view] = await find_bookings(desk, protector, booking_no=number)
    assert (view.session_id, view.visit_date, view.status) == (
        fri_am,
        FRI,
        AppointmentStatus.BOOKED,
    )
    assert await free_places(desk, clock, "00868", WED, Part.PM) == 20
    [entry] = [r for r in await audit_rows(desk) if r["action"] == "booking.transfer"]
    assert entry["target"] == number and entry["username"] == "desk"
    assert entry["before"] == {"session_id": wed_pm, "queue_no": 1}
    assert entry["after"] == {"session_id": fri_am, "queue_no": 1}


async def test_the_desk_narrows_a_search_by_department_doctor_and_dates(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    fri_am = await session_id(desk, clock, "00868", FRI, Part.AM)
    wednesday = await web_booking(desk, clock, protector, 8, wed_pm)
    friday = await web_booking(desk, clock, protector, 9, fri_am)
    friday_name = f"病人{chr(0x4E00 + 9)}"

    async def found(**params: str) -> str:
        return (await searched(client, "/admin/bookings", **params)).text

    async with office(desk, clock, protector) as client:
        await signed_in_as(client, "desk")
        page = await found(department="H01:CARD", visit="2026-11-25")
        assert wednesday in page and friday not in page
        assert '<option value="H01:CARD" selected>' in page and 'value="2026-11-25"' in page
        page = await found(doctor="H01:00868", booked="2026-11-23")
        assert wednesday in page and friday in page
        assert "没有找到预约" in await found(doctor="H01:00902")
        assert "没有找到预约" in await found(department="H01:RESP", q=friday_name)
        page = await found(q=friday_name, department="H01:CARD")
        assert friday in page and wednesday not in page
        assert "没有找到预约" in await found(booked="2026-11-22")
        assert "筛选条件不正确" in await found(visit="2026-13-01")
        assert "筛选条件不正确" in await found(department="<b>")
    searches = [r["after"]["by"] for r in await audit_rows(desk) if r["action"] == "booking.search"]
    assert searches[:3] == ["department,visit_date", "doctor,booked_on", "doctor"]
    assert searches[3:] == ["name,department", "name,department", "booked_on"]


async def test_on_the_visit_day_a_transfer_is_refused_with_the_reason(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    fri_am = await session_id(desk, clock, "00868", FRI, Part.AM)
    number = await web_booking(desk, clock, protector, 3, wed_pm)
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=SHANGHAI))
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        moved = await client.post(
            f"/admin/desk/transfer/{number}", data={"csrf": csrf, "session": str(fri_am)}
        )
        assert moved.headers["location"].endswith("refused=past_deadline")
        assert "就诊当天只能退号" in (await client.get(moved.headers["location"])).text
    [view] = await find_bookings(desk, protector, booking_no=number)
    assert view.session_id == wed_pm
    [refused] = [r for r in await audit_rows(desk) if r["action"] == "booking.refused"]
    assert refused["after"] == {
        "action": "transfer",
        "reason": "past_deadline",
        "session_id": fri_am,
    }


async def test_closing_expired_bookings_closes_exactly_the_ones_left_after_their_session(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    mon_am = await session_id(desk, clock, "00868", MON, Part.AM)
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    left = await web_booking(desk, clock, protector, 4, mon_am)
    came = await web_booking(desk, clock, protector, 5, mon_am)
    coming = await web_booking(desk, clock, protector, 6, wed_pm)
    await mark_arrived(desk, clock, came)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        shown = (await client.get("/admin/desk/expired")).text
        assert 'value="2026-11-23"' in shown  # yesterday, by default
        assert re.search(r"<strong>1</strong>", shown)
        closed = await client.post(
            "/admin/desk/expired", data={"csrf": csrf, "through": "2026-11-23"}
        )
        assert closed.headers["location"] == "/admin/desk/expired?through=2026-11-23&closed=1"
        after = (await client.get(closed.headers["location"])).text
        assert "已关闭 1 个过期预约" in after and "<strong>0</strong>" in after
        again = await client.post(
            "/admin/desk/expired", data={"csrf": csrf, "through": "2026-11-23"}
        )
        assert again.headers["location"].endswith("closed=0")
    statuses = {
        no: (await find_bookings(desk, protector, booking_no=no))[0] for no in (left, came, coming)
    }
    assert statuses[left].status is AppointmentStatus.CANCELLED
    assert statuses[left].cancel_reason == "expired" and statuses[left].refund_due is False
    assert statuses[came].status is AppointmentStatus.ARRIVED
    assert statuses[coming].status is AppointmentStatus.BOOKED
    entries = [
        r["after"]["closed"]
        for r in await audit_rows(desk)
        if r["action"] == "booking.close_expired"
    ]
    assert entries == [1, 0]


async def test_odd_numbers_and_far_off_days_are_answered_not_crashed_on(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    """What a mistyped or tampered form sends: "²" passes str.isdigit() but not int(), 30
    digits overflow the database's integer, 9999-12-31 has no day after it and 0001-01-01
    no UTC midnight before it."""
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "admin")
        for session in ("²", "9" * 30):
            answer = await book_by_phone(client, csrf, session)
            assert answer.status_code == 409 and "重新选择" in answer.text
        for day in ("9999-12-31", "0001-01-01"):
            found = await client.get("/admin/bookings", params={"booked": day})
            assert found.status_code == 200 and "筛选条件不正确" in found.text
            shown = await client.get("/admin/desk/expired", params={"through": day})
            assert shown.status_code == 200
            closed = await client.post("/admin/desk/expired", data={"csrf": csrf, "through": day})
            assert closed.status_code == 303
        wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
        number = await web_booking(desk, clock, protector, 9, wed_pm)
        moved = await client.post(
            f"/admin/desk/transfer/{number}", data={"csrf": csrf, "session": "²"}
        )
        assert moved.headers["location"].endswith("?refused=not_found")


async def test_each_role_is_denied_the_desk_work_it_may_not_do(
    desk: Database, clock: FixedClock, protector: Protector
) -> None:
    wed_pm = await session_id(desk, clock, "00868", WED, Part.PM)
    number = await web_booking(desk, clock, protector, 7, wed_pm)
    fri_am = await session_id(desk, clock, "00868", FRI, Part.AM)
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "cardio")
        for path in ("/admin/desk/book", f"/admin/desk/transfer/{number}", "/admin/desk/expired"):
            assert (await client.get(path)).status_code == 403
        assert (await book_by_phone(client, csrf, wed_pm)).status_code == 403
        moved = await client.post(
            f"/admin/desk/transfer/{number}", data={"csrf": csrf, "session": str(fri_am)}
        )
        assert moved.status_code == 403
        closed = await client.post("/admin/desk/expired", data={"csrf": csrf})
        assert closed.status_code == 403
    async with office(desk, clock, protector) as client:
        csrf = await signed_in_as(client, "desk")
        assert "清理过期预约" not in (await client.get("/admin/")).text
        assert (await client.get("/admin/desk/expired")).status_code == 403
        closed = await client.post("/admin/desk/expired", data={"csrf": csrf})
        assert closed.status_code == 403
        forged = await book_by_phone(client, "not-the-token", wed_pm)
        assert forged.status_code == 403
    [view] = await find_bookings(desk, protector, booking_no=number)
    assert view.session_id == wed_pm
    assert await find_bookings(desk, protector, phone=CALLER["phone"]) == []
    denied = [
        (r["username"], r["target"], r["after"]["why"])
        for r in await audit_rows(desk)
        if r["action"] == "denied"
    ]
    assert denied == [
        ("cardio", "GET /admin/desk/book", "book_for_caller"),
        ("cardio", f"GET /admin/desk/transfer/{number}", "change_bookings"),
        ("cardio", "GET /admin/desk/expired", "cancel_expired"),
        ("cardio", "POST /admin/desk/book", "book_for_caller"),
        ("cardio", f"POST /admin/desk/transfer/{number}", "change_bookings"),
        ("cardio", "POST /admin/desk/expired", "cancel_expired"),
        ("desk", "GET /admin/desk/expired", "cancel_expired"),
        ("desk", "POST /admin/desk/expired", "cancel_expired"),
        ("desk", "POST /admin/desk/book", "csrf"),
    ]


def test_every_reason_the_rules_give_has_a_sentence_for_the_desk() -> None:
    def reasons(cls: type[BookingError]) -> set[str]:
        found = (
            {cls.reason}
            if cls.__module__ in (errors.__name__, HasFutureBookings.__module__)
            else set()
        )
        for sub in cls.__subclasses__():
            found |= reasons(sub)
        return found

    missing = reasons(BookingError) - set(REFUSALS) - {"booking_error"}
    assert not missing, missing


def test_a_search_by_doctor_keeps_the_work_number_as_it_was_typed() -> None:
    """A work number may hold small letters (booking.roster.doctors.WORK_NO), and is stored as
    typed: upper-casing it would find none of that doctor's bookings."""
    filters, error = filters_from({"doctor": "h01:ab12", "department": "h01:card"})
    assert error is None
    assert (filters.doctor, filters.department) == ("H01:ab12", "H01:CARD")
    assert filters_from({"doctor": "H01:<b>"})[1] == BAD_FILTER
    assert filters_from({"booked": "9999-12-31"}) == (Filters(), BAD_FILTER)
