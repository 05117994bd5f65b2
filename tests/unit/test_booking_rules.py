"""The booking rules through the real use cases, on the in-memory unit of work, checked by
state (what was saved): the demo hospital, its catalogue imported and its sessions generated
through the unit of work as on a database. Each test runs in milliseconds; the same
repositories' behaviour is held to SQLite's and PostgreSQL's by the contract tests
(tests/integration/test_repository_contracts*.py).

The clock stands at Monday 23 November 2026, 09:00 in Shanghai. 张伟 (00868, cardiology)
holds sessions on Monday am, Wednesday pm and Friday am; 吴婷 (02620) has 10 places on
Tuesday and Thursday mornings.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from booking.appointments.attendance import mark_noshow
from booking.appointments.book import book
from booking.appointments.changes import cancel, stop_session, transfer
from booking.appointments.model import Appointment, AppointmentStatus, WaitStatus
from booking.appointments.notices import REMINDERS, NoticeKind, NoticeStatus
from booking.appointments.waitlist import join_waitlist
from booking.catalogue.model import Part
from booking.catalogue.schedule import PlaceStatus
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import (
    AlreadyBooked,
    Blacklisted,
    DifferentDepartment,
    NotFound,
    NotYourBooking,
    OutsideAgeRange,
    OutsideWindow,
    PastDeadline,
    QuotaExceeded,
    SessionStopped,
    SlotFull,
    WrongStatus,
)
from booking.patients.model import BlacklistEntry, BlacklistSource, Patient
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.duty import generate_sessions, import_catalogue
from tests.fakes.memory import MemoryDatabase, State
from tests.fakes.memory.state import Booked
from tests.support import MONDAY_9AM, SECRET, demo_catalogue, id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON, TUE, WED, FRI = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27)
PROTECTOR = Protector(SECRET)


@cache
def _demo_state() -> State:
    """The demo hospital with its sessions, built once through the use cases."""

    async def build() -> State:
        db = MemoryDatabase()
        await import_catalogue(db, demo_catalogue())
        assert await generate_sessions(db, FixedClock(MONDAY_9AM)) > 0
        return db.state

    return asyncio.run(build())


@pytest.fixture
def demo() -> MemoryDatabase:
    db = MemoryDatabase()
    db.state = _demo_state().copy()
    return db


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_9AM)


async def patient(
    db: MemoryDatabase,
    clock: FixedClock,
    n: int,
    born: date = date(1980, 5, 17),
    account: tuple[str, str] | None = None,
) -> Patient:
    return await register_patient(
        db, PROTECTOR, clock, name=f"病人{chr(0x4E00 + n)}", id_number=id_number(n, born=born),
        phone=f"1381234{n:04d}", account=account,
    )  # fmt: skip


async def session_id(
    db: MemoryDatabase, clock: FixedClock, work_no: str, day: date, part: Part
) -> int:
    offers = await search_sessions(db, clock, doctor=work_no, date_from=day, date_to=day, part=part)
    assert len(offers) == 1, offers
    return offers[0].session.id


def saved(db: MemoryDatabase, booking_no: str) -> Booked:
    [found] = [b for b in db.state.appointments.values() if b.appointment.booking_no == booking_no]
    return found


def place_status(db: MemoryDatabase, sid: int, queue_no: int) -> PlaceStatus:
    [place] = [p for p in db.state.places[sid] if p.queue_no == queue_no]
    return place.status


def events(db: MemoryDatabase) -> list[str]:
    return [line.event for line in db.state.booking_log]


async def test_booking_takes_the_place_and_saves_the_booking_with_its_fees(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    p = await patient(demo, clock, 1)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    receipt = await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    assert receipt.place.queue_no == 1
    assert receipt.place.starts_at == datetime(2026, 11, 25, 13, 30, tzinfo=SHANGHAI)
    stored = saved(demo, receipt.appointment.booking_no).appointment
    assert stored == receipt.appointment
    assert stored.booking_no.startswith("261125")
    assert (stored.registration_fee_fen, stored.consultation_fee_fen) == (100, 5000)
    assert place_status(demo, sid, 1) is PlaceStatus.BUSY
    assert events(demo) == ["booked"]

    second = await patient(demo, clock, 2)
    asked = await book(demo, clock, patient_id=second.id, session_id=sid, channel="sms", queue_no=7)
    assert asked.place.queue_no == 7 and place_status(demo, sid, 7) is PlaceStatus.BUSY


async def test_refusals_say_why_and_change_nothing(demo: MemoryDatabase, clock: FixedClock) -> None:
    p = await patient(demo, clock, 1)
    wed = await session_id(demo, clock, "00868", WED, Part.PM)
    await book(demo, clock, patient_id=p.id, session_id=wed, channel="web")
    before = demo.state.copy()
    with pytest.raises(AlreadyBooked):
        await book(demo, clock, patient_id=p.id, session_id=wed, channel="web")
    same_dept_same_day = await session_id(demo, clock, "00902", WED, Part.AM)
    with pytest.raises(QuotaExceeded) as refused:
        await book(demo, clock, patient_id=p.id, session_id=same_dept_same_day, channel="web")
    assert refused.value.details["quota"] == "per_department_per_day"
    assert demo.state == before  # a refusal is never committed

    # Next Monday opened at 07:00 today.
    clock.set(datetime(2026, 11, 23, 6, 59, tzinfo=SHANGHAI))
    next_monday = await session_id(demo, clock, "00868", date(2026, 11, 30), Part.AM)
    with pytest.raises(OutsideWindow):
        await book(demo, clock, patient_id=p.id, session_id=next_monday, channel="web")
    clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=SHANGHAI))
    await book(demo, clock, patient_id=p.id, session_id=next_monday, channel="web")
    assert len(demo.state.appointments) == 2


async def test_paediatrics_sees_children_only_by_the_age_on_the_visit_day(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    wed_pedi = await session_id(demo, clock, "02415", WED, Part.PM)
    fri_pedi = await session_id(demo, clock, "02415", FRI, Part.PM)
    adult = await patient(demo, clock, 1)
    with pytest.raises(OutsideAgeRange) as refused:
        await book(demo, clock, patient_id=adult.id, session_id=wed_pedi, channel="web")
    assert refused.value.details == {"department": "PEDI", "min_age": 0, "max_age": 14, "age": 46}
    fifteen_on_thursday = await patient(demo, clock, 2, born=date(2011, 11, 26))
    teen = await book(
        demo, clock, patient_id=fifteen_on_thursday.id, session_id=wed_pedi, channel="web"
    )
    toddler = await patient(demo, clock, 3, born=date(2024, 2, 29))
    small = await book(demo, clock, patient_id=toddler.id, session_id=wed_pedi, channel="web")
    with pytest.raises(OutsideAgeRange):
        await book(
            demo, clock, patient_id=fifteen_on_thursday.id, session_id=fri_pedi, channel="web"
        )
    with pytest.raises(OutsideAgeRange):  # nor moved there
        await transfer(demo, clock, teen.appointment.booking_no, fri_pedi)
    await transfer(demo, clock, small.appointment.booking_no, fri_pedi)
    assert saved(demo, teen.appointment.booking_no).appointment.session_id == wed_pedi
    assert saved(demo, small.appointment.booking_no).appointment.session_id == fri_pedi


async def test_a_full_session_refuses_and_a_cancelled_place_is_free_again(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    tue = await session_id(demo, clock, "02620", TUE, Part.AM)
    booked = []
    for n in range(10):
        p = await patient(demo, clock, n)
        booked.append(await book(demo, clock, patient_id=p.id, session_id=tue, channel="web"))
    latecomer = await patient(demo, clock, 10)
    with pytest.raises(SlotFull):
        await book(demo, clock, patient_id=latecomer.id, session_id=tue, channel="web")

    freed = booked[3].appointment
    await cancel(demo, clock, freed.booking_no)
    row = saved(demo, freed.booking_no)
    assert (row.appointment.status, row.cancel_reason, row.refund_due) == (
        AppointmentStatus.CANCELLED, "patient", True,
    )  # fmt: skip
    assert place_status(demo, tue, freed.queue_no) is PlaceStatus.FREE
    again = await book(demo, clock, patient_id=latecomer.id, session_id=tue, channel="web")
    assert again.place.queue_no == freed.queue_no
    with pytest.raises(WrongStatus):
        await cancel(demo, clock, freed.booking_no)
    assert events(demo).count("cancelled") == 1


async def test_cancel_until_the_session_starts(demo: MemoryDatabase, clock: FixedClock) -> None:
    p = await patient(demo, clock, 1)
    wed = await session_id(demo, clock, "00868", WED, Part.PM)
    receipt = await book(demo, clock, patient_id=p.id, session_id=wed, channel="web")
    clock.set(datetime(2026, 11, 25, 13, 30, tzinfo=SHANGHAI))
    with pytest.raises(PastDeadline):
        await cancel(demo, clock, receipt.appointment.booking_no)
    kept = saved(demo, receipt.appointment.booking_no).appointment
    assert kept.status is AppointmentStatus.BOOKED
    clock.set(datetime(2026, 11, 25, 13, 29, tzinfo=SHANGHAI))
    await cancel(demo, clock, receipt.appointment.booking_no)
    with pytest.raises(NotFound):
        await cancel(demo, clock, "00000000000000")


async def test_transfer_within_the_department_until_the_day_before(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    p = await patient(demo, clock, 1)
    wed_pm = await session_id(demo, clock, "00868", WED, Part.PM)
    wed_am = await session_id(demo, clock, "00902", WED, Part.AM)
    fri_am = await session_id(demo, clock, "00868", FRI, Part.AM)
    lung = await session_id(demo, clock, "01110", WED, Part.AM)
    receipt = await book(demo, clock, patient_id=p.id, session_id=wed_pm, channel="web")
    number = receipt.appointment.booking_no
    with pytest.raises(DifferentDepartment):
        await transfer(demo, clock, number, lung)
    moved = await transfer(demo, clock, number, wed_am)
    assert moved.place.queue_no == 1
    now = saved(demo, number).appointment
    assert (now.session_id, now.queue_no, now.consultation_fee_fen) == (wed_am, 1, 1000)
    assert place_status(demo, wed_pm, 1) is PlaceStatus.FREE  # the old place is free again
    assert place_status(demo, wed_am, 1) is PlaceStatus.BUSY

    clock.set(datetime(2026, 11, 24, 23, 59, tzinfo=SHANGHAI))
    await transfer(demo, clock, number, fri_am)
    clock.set(datetime(2026, 11, 27, 0, 0, tzinfo=SHANGHAI))
    with pytest.raises(PastDeadline):
        await transfer(demo, clock, number, wed_pm)
    assert saved(demo, number).appointment.session_id == fri_am
    assert events(demo) == ["booked", "transferred", "transferred"]


async def test_stopping_a_session_cancels_its_bookings_for_refund(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    wed = await session_id(demo, clock, "00868", WED, Part.PM)
    numbers = []
    for n in range(3):
        p = await patient(demo, clock, n)
        receipt = await book(demo, clock, patient_id=p.id, session_id=wed, channel="web")
        numbers.append(receipt.appointment.booking_no)
    cancelled = await stop_session(demo, clock, wed, "医生临时外出会诊")
    assert sorted(a.booking_no for a in cancelled) == sorted(numbers)
    rows = [saved(demo, n) for n in numbers]
    assert {(r.appointment.status, r.cancel_reason, r.refund_due) for r in rows} == {
        (AppointmentStatus.CANCELLED, "hospital_stop", True)
    }
    assert {p.status for p in demo.state.places[wed]} == {PlaceStatus.BUSY_UNAVAILABLE}
    late = await patient(demo, clock, 9)
    with pytest.raises(SessionStopped):
        await book(demo, clock, patient_id=late.id, session_id=wed, channel="web")
    with pytest.raises(WrongStatus):
        await stop_session(demo, clock, wed, "again")
    assert not await search_sessions(demo, clock, doctor="00868", date_from=WED, date_to=WED)


async def test_a_ban_blocks_booking_until_it_ends(demo: MemoryDatabase, clock: FixedClock) -> None:
    p = await patient(demo, clock, 1)
    async with demo() as uow:
        entry = BlacklistEntry(p.id_hash, BlacklistSource.HOSPITAL, "倒号", MON, None)
        await uow.blacklist.add(entry, clock.now())
        await uow.commit()
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    with pytest.raises(Blacklisted) as refused:
        await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    assert refused.value.details == {"source": "hospital", "until": None}

    other = await patient(demo, clock, 2)
    async with demo() as uow:
        ended = BlacklistEntry(other.id_hash, BlacklistSource.NOSHOW, "3", MON, date(2026, 11, 22))
        await uow.blacklist.add(ended, clock.now())
        await uow.commit()
    await book(demo, clock, patient_id=other.id, session_id=sid, channel="web")
    assert len(demo.state.appointments) == 1


async def test_an_account_books_only_its_patients_with_reminders_withdrawn_on_cancel(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    mine = await patient(demo, clock, 1, account=("telegram", "7"))
    stranger = await patient(demo, clock, 2)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    with pytest.raises(NotYourBooking):
        await book(demo, clock, patient_id=stranger.id, session_id=sid, channel="telegram",
                   account=("telegram", "7"))  # fmt: skip
    receipt = await book(demo, clock, patient_id=mine.id, session_id=sid, channel="telegram",
                         account=("telegram", "7"), address="sealed")  # fmt: skip
    kinds = {s.notice.kind: s.status for s in demo.state.notices.values()}
    assert set(kinds) == set(REMINDERS) and set(kinds.values()) == {NoticeStatus.PENDING}
    assert list(demo.state.addresses.values()) == ["sealed"]
    await cancel(demo, clock, receipt.appointment.booking_no, account=("telegram", "7"))
    assert {s.status for s in demo.state.notices.values()} == {NoticeStatus.VOID}


async def test_the_same_request_again_gets_the_booking_it_made(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    p = await patient(demo, clock, 1)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    first = await book(demo, clock, patient_id=p.id, session_id=sid, channel="sms", request="m1")
    again = await book(demo, clock, patient_id=p.id, session_id=sid, channel="sms", request="m1")
    assert again.appointment == first.appointment and len(demo.state.appointments) == 1


async def test_a_cancelled_place_is_held_for_the_first_in_line(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    tue = await session_id(demo, clock, "02620", TUE, Part.AM)
    booked: list[Appointment] = []
    for n in range(10):
        p = await patient(demo, clock, n)
        receipt = await book(demo, clock, patient_id=p.id, session_id=tue, channel="web")
        booked.append(receipt.appointment)
    waiting = await patient(demo, clock, 20, account=("web", "w"))
    joined = await join_waitlist(demo, clock, patient_id=waiting.id, session_id=tue,
                                 channel="web", account=("web", "w"))  # fmt: skip
    await cancel(demo, clock, booked[4].booking_no)
    assert place_status(demo, tue, booked[4].queue_no) is PlaceStatus.BUSY_TENTATIVE
    entry = demo.state.waitlist[joined.entry_id]
    assert (entry.status, entry.queue_no) == (WaitStatus.OFFERED, booked[4].queue_no)
    offers = [s for s in demo.state.notices.values() if s.notice.kind is NoticeKind.WAITLIST_OFFER]
    assert len(offers) == 1


async def test_bookings_at_once_never_overbook(demo: MemoryDatabase, clock: FixedClock) -> None:
    tue = await session_id(demo, clock, "02620", TUE, Part.AM)
    people = [await patient(demo, clock, n) for n in range(12)]
    results = await asyncio.gather(
        *(book(demo, clock, patient_id=p.id, session_id=tue, channel="web") for p in people),
        return_exceptions=True,
    )
    taken = sorted(r.place.queue_no for r in results if not isinstance(r, BaseException))
    assert taken == list(range(1, 11))
    assert [type(r) for r in results if isinstance(r, BaseException)] == [SlotFull, SlotFull]
    assert {p.status for p in demo.state.places[tue]} == {PlaceStatus.BUSY}


async def test_three_noshows_in_ninety_days_ban_booking_for_ninety_days(
    demo: MemoryDatabase, clock: FixedClock
) -> None:
    p = await patient(demo, clock, 1)
    visits = [
        (WED, Part.PM, datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)),
        (FRI, Part.AM, datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)),
        (date(2026, 11, 30), Part.AM, datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)),
    ]
    bans = []
    for day, part, during in visits:
        sid = await session_id(demo, clock, "00868", day, part)
        receipt = await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
        with pytest.raises(PastDeadline):
            await mark_noshow(demo, clock, receipt.appointment.booking_no)
        before = clock.now()
        clock.set(during)
        bans.append(await mark_noshow(demo, clock, receipt.appointment.booking_no))
        clock.set(before)
    assert bans[:2] == [None, None]
    assert bans[2] is not None and bans[2].until == date(2026, 11, 30) + timedelta(days=90)
    assert [b.entry for b in demo.state.bans] == [bans[2]]
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI))
    await generate_sessions(demo, clock)
    sid = await session_id(demo, clock, "01110", date(2026, 12, 1), Part.PM)
    with pytest.raises(Blacklisted) as refused:
        await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    assert refused.value.details["until"] == "2027-02-28"
