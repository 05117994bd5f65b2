"""The booking use cases on a real database (SQLite and PostgreSQL), demo hospital loaded.

The clock stands at Monday 23 November 2026, 09:00 in Shanghai. 张伟 (00868, cardiology)
holds sessions on Monday am, Wednesday pm and Friday am; 吴婷 (02620) has 10 places on
Tuesday and Thursday mornings.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from booking.appointments.attendance import mark_arrived, mark_noshow
from booking.appointments.book import book
from booking.appointments.changes import cancel, stop_session, transfer
from booking.appointments.listing import find_bookings, my_bookings
from booking.appointments.model import AppointmentStatus
from booking.catalogue.model import Part
from booking.catalogue.search import search_doctors, search_sessions
from booking.clock import FixedClock
from booking.errors import (
    AccountFull,
    AlreadyBooked,
    Blacklisted,
    DifferentDepartment,
    InvalidInput,
    InvalidName,
    NeedsCode,
    NotFound,
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
from booking.roster.duty import generate_sessions
from booking.staff.retention import Retention, purge_old_records, record_operation_error
from booking.store import Database
from tests.support import id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON, TUE, WED, FRI = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27)


async def patient(db: Database, protector: Protector, clock: FixedClock, n: int) -> Patient:
    return await register_patient(
        db,
        protector,
        clock,
        name=f"病人{chr(0x4E00 + n)}",
        id_number=id_number(n),
        phone=f"1381234{n:04d}",
    )


async def session_id(db: Database, clock: FixedClock, work_no: str, day: date, part: Part) -> int:
    offers = await search_sessions(db, clock, doctor=work_no, date_from=day, date_to=day, part=part)
    assert len(offers) == 1, offers
    return offers[0].session.id


async def test_search_by_name_work_number_department_alias_and_specialty(
    demo: Database, clock: FixedClock
) -> None:
    async with demo(readonly=True) as uow:
        catalogue = await uow.catalogue.load()
    assert [d.work_no for d in search_doctors(catalogue, name_or_work_no="张伟")] == ["00868"]
    assert [d.name for d in search_doctors(catalogue, name_or_work_no="02216")] == ["张卫"]
    cardio = {d.work_no for d in search_doctors(catalogue, department="心内科")}
    assert cardio == {"00868", "00871", "00902"}
    assert {d.work_no for d in search_doctors(catalogue, specialty="高血压")} == {"00868", "00902"}
    assert [d.work_no for d in search_doctors(catalogue, specialty="冠心")] == ["00868"]
    assert search_doctors(catalogue, hospital="中医院", specialty="颈椎")[0].work_no == "10045"

    offers = await search_sessions(demo, clock, department="CARD", date_from=WED, date_to=WED)
    assert {(o.doctor.work_no, o.session.part) for o in offers} == {
        ("00868", Part.PM),
        ("00902", Part.AM),
    }
    assert all(o.bookable and o.free == o.session.capacity for o in offers)


async def test_booking_gives_number_queue_place_time_and_fees(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    receipt = await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    assert receipt.place.queue_no == 1
    assert receipt.place.starts_at == datetime(2026, 11, 25, 13, 30, tzinfo=SHANGHAI)
    assert receipt.place.ends_at - receipt.place.starts_at == timedelta(minutes=10, seconds=30)
    assert receipt.appointment.booking_no.startswith("261125")
    assert (receipt.appointment.registration_fee_fen, receipt.appointment.consultation_fee_fen) == (
        100,
        5000,
    )
    [view] = await find_bookings(demo, protector, booking_no=receipt.appointment.booking_no)
    assert (view.patient_name, view.doctor_name, view.queue_no) == (p.name, "张伟", 1)
    assert view.patient_id_masked == id_number(1)[:4] + "*" * 10 + id_number(1)[-4:]

    second = await patient(demo, protector, clock, 2)
    asked = await book(demo, clock, patient_id=second.id, session_id=sid, channel="sms", queue_no=7)
    assert asked.place.queue_no == 7


async def test_refusals_say_why(demo: Database, clock: FixedClock, protector: Protector) -> None:
    p = await patient(demo, protector, clock, 1)
    wed = await session_id(demo, clock, "00868", WED, Part.PM)
    await book(demo, clock, patient_id=p.id, session_id=wed, channel="web")
    with pytest.raises(AlreadyBooked):
        await book(demo, clock, patient_id=p.id, session_id=wed, channel="web")
    same_dept_same_day = await session_id(demo, clock, "00902", WED, Part.AM)
    with pytest.raises(QuotaExceeded) as refused:
        await book(demo, clock, patient_id=p.id, session_id=same_dept_same_day, channel="web")
    assert refused.value.details["quota"] == "per_department_per_day"

    # Next Monday opened at 07:00 today; the Tuesday after it opens tomorrow.
    offers = await search_sessions(demo, clock, department="RESP", include_closed=True)
    later = [o for o in offers if o.session.visit_date > date(2026, 11, 30)]
    assert later == [] or not any(o.bookable for o in later)
    clock.set(datetime(2026, 11, 23, 6, 59, tzinfo=SHANGHAI))
    next_monday = await session_id(demo, clock, "00868", date(2026, 11, 30), Part.AM)
    with pytest.raises(OutsideWindow):
        await book(demo, clock, patient_id=p.id, session_id=next_monday, channel="web")
    clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=SHANGHAI))
    await book(demo, clock, patient_id=p.id, session_id=next_monday, channel="web")


async def test_paediatrics_sees_children_only_by_the_age_on_the_visit_day(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    """儿科 (ages 0-14 in the demo): the age comes from the ID number, counted on the visit
    day; booking, transfer and the waitlist are all held to it."""
    wed_pedi = await session_id(demo, clock, "02415", WED, Part.PM)
    fri_pedi = await session_id(demo, clock, "02415", FRI, Part.PM)

    async def born(n: int, day: date) -> Patient:
        return await register_patient(
            demo, protector, clock, name=f"孩子{chr(0x4E00 + n)}", phone="13812340000",
            id_number=id_number(n, born=day),
        )  # fmt: skip

    adult = await patient(demo, protector, clock, 1)
    with pytest.raises(OutsideAgeRange) as refused:
        await book(demo, clock, patient_id=adult.id, session_id=wed_pedi, channel="web")
    assert refused.value.details == {"department": "PEDI", "min_age": 0, "max_age": 14, "age": 46}
    fifteen_on_thursday = await born(2, date(2011, 11, 26))  # 14 on Wednesday, 15 on Friday
    teen = await book(
        demo, clock, patient_id=fifteen_on_thursday.id, session_id=wed_pedi, channel="web"
    )
    toddler = await born(3, date(2024, 2, 29))
    receipt = await book(demo, clock, patient_id=toddler.id, session_id=wed_pedi, channel="web")
    with pytest.raises(OutsideAgeRange):
        await book(
            demo, clock, patient_id=fifteen_on_thursday.id, session_id=fri_pedi, channel="web"
        )
    with pytest.raises(OutsideAgeRange):  # nor moved there
        await transfer(demo, clock, teen.appointment.booking_no, fri_pedi, account=None)
    await transfer(demo, clock, receipt.appointment.booking_no, fri_pedi, account=None)


async def test_a_full_session_refuses_and_a_cancelled_place_can_be_taken_again(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    tue = await session_id(demo, clock, "02620", TUE, Part.AM)
    booked = []
    for n in range(10):
        p = await patient(demo, protector, clock, n)
        booked.append(await book(demo, clock, patient_id=p.id, session_id=tue, channel="web"))
    latecomer = await patient(demo, protector, clock, 10)
    with pytest.raises(SlotFull):
        await book(demo, clock, patient_id=latecomer.id, session_id=tue, channel="web")

    freed = booked[3].appointment
    await cancel(demo, clock, freed.booking_no)
    again = await book(demo, clock, patient_id=latecomer.id, session_id=tue, channel="web")
    assert again.place.queue_no == freed.queue_no
    [view] = await find_bookings(demo, protector, booking_no=freed.booking_no)
    assert (view.status, view.cancel_reason, view.refund_due) == (
        AppointmentStatus.CANCELLED,
        "patient",
        True,
    )
    with pytest.raises(WrongStatus):
        await cancel(demo, clock, freed.booking_no)


async def test_cancel_until_the_session_starts(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    wed = await session_id(demo, clock, "00868", WED, Part.PM)
    receipt = await book(demo, clock, patient_id=p.id, session_id=wed, channel="web")
    clock.set(datetime(2026, 11, 25, 13, 30, tzinfo=SHANGHAI))
    with pytest.raises(PastDeadline):
        await cancel(demo, clock, receipt.appointment.booking_no)
    clock.set(datetime(2026, 11, 25, 13, 29, tzinfo=SHANGHAI))
    await cancel(demo, clock, receipt.appointment.booking_no)
    with pytest.raises(NotFound):
        await cancel(demo, clock, "00000000000000")


async def test_transfer_within_the_department_until_the_day_before(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
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
    [view] = await find_bookings(demo, protector, booking_no=number)
    assert (view.doctor_work_no, view.part, view.consultation_fee_fen) == ("00902", Part.AM, 1000)
    offers = await search_sessions(demo, clock, doctor="00868", date_from=WED, date_to=WED)
    assert offers[0].free == offers[0].session.capacity  # the old place is free again

    clock.set(datetime(2026, 11, 24, 23, 59, tzinfo=SHANGHAI))
    moved = await transfer(demo, clock, number, fri_am)
    clock.set(datetime(2026, 11, 27, 0, 0, tzinfo=SHANGHAI))
    with pytest.raises(PastDeadline):
        await transfer(demo, clock, number, wed_pm)


async def test_stopping_a_session_cancels_its_bookings_for_refund(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    wed = await session_id(demo, clock, "00868", WED, Part.PM)
    numbers = []
    for n in range(3):
        p = await patient(demo, protector, clock, n)
        numbers.append(await book(demo, clock, patient_id=p.id, session_id=wed, channel="web"))
    cancelled = await stop_session(demo, clock, wed, "医生临时外出会诊")
    assert sorted(a.booking_no for a in cancelled) == sorted(
        r.appointment.booking_no for r in numbers
    )
    views = await find_bookings(demo, protector, doctor_work_no="00868", visit_date=WED)
    assert {(v.status, v.cancel_reason, v.refund_due) for v in views} == {
        (AppointmentStatus.CANCELLED, "hospital_stop", True)
    }
    late = await patient(demo, protector, clock, 9)
    with pytest.raises(SessionStopped):
        await book(demo, clock, patient_id=late.id, session_id=wed, channel="web")
    with pytest.raises(WrongStatus):
        await stop_session(demo, clock, wed, "again")
    assert not await search_sessions(demo, clock, doctor="00868", date_from=WED, date_to=WED)


async def test_three_noshows_in_ninety_days_ban_booking_for_ninety_days(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    visits = [
        ("00868", WED, Part.PM, datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)),
        ("00868", FRI, Part.AM, datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)),
        ("00868", date(2026, 11, 30), Part.AM, datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)),
    ]
    bans = []
    for work_no, day, part, during in visits:
        sid = await session_id(demo, clock, work_no, day, part)
        receipt = await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
        with pytest.raises(PastDeadline):
            await mark_noshow(demo, clock, receipt.appointment.booking_no)
        saved = clock.now()
        clock.set(during)
        bans.append(await mark_noshow(demo, clock, receipt.appointment.booking_no))
        clock.set(saved)
    assert bans[:2] == [None, None]
    assert bans[2] is not None and bans[2].until == date(2026, 11, 30) + timedelta(days=90)
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI))
    await generate_sessions(demo, clock)
    sid = await session_id(demo, clock, "01110", date(2026, 12, 1), Part.PM)
    with pytest.raises(Blacklisted) as refused:
        await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    assert refused.value.details["until"] == "2027-02-28"


async def test_hospital_blacklist_blocks_booking(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    async with demo() as uow:
        entry = BlacklistEntry(p.id_hash, BlacklistSource.HOSPITAL, "倒号", MON, None)
        await uow.blacklist.add(entry, clock.now())
        await uow.commit()
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    with pytest.raises(Blacklisted) as refused:
        await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    assert refused.value.details == {"source": "hospital", "until": None}


async def test_check_in_only_on_the_visit_day(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    number = (await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")).appointment
    with pytest.raises(PastDeadline):
        await mark_arrived(demo, clock, number.booking_no)
    clock.set(datetime(2026, 11, 25, 13, 0, tzinfo=SHANGHAI))
    await mark_arrived(demo, clock, number.booking_no)
    [view] = await find_bookings(demo, protector, booking_no=number.booking_no)
    assert view.status is AppointmentStatus.ARRIVED


async def test_an_account_holds_up_to_five_family_patients(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    account = ("telegram", "4242")
    for n in range(5):
        await register_patient(
            demo,
            protector,
            clock,
            name="家人" + "甲乙丙丁戊"[n],
            id_number=id_number(n),
            phone="13812345678",
            account=account,
        )
    with pytest.raises(AccountFull):
        await register_patient(
            demo,
            protector,
            clock,
            name="第六",
            id_number=id_number(5),
            phone="13812345678",
            account=account,
        )
    # Another account that knows the name and ID number is not enough: the registered phone
    # must be shown (a code sent there), or the ID card at the desk.
    with pytest.raises(NeedsCode) as asked:
        await register_patient(
            demo,
            protector,
            clock,
            name="家人甲",
            id_number=id_number(0),
            phone="13900001111",
            account=("sms", "+8613900001111"),
        )
    assert asked.value.details["phone_masked"] == "138****5678"
    # At the desk, the same person registered again is the same patient, with the new phone.
    again = await register_patient(
        demo,
        protector,
        clock,
        name="家人甲",
        id_number=id_number(0),
        phone="13900001111",
        account=("sms", "+8613900001111"),
        in_person=True,
    )
    assert again.phone_masked == "139****1111"
    # A wrong name is told only to whoever has shown the registered phone (writing from it).
    with pytest.raises(InvalidName):
        await register_patient(
            demo,
            protector,
            clock,
            name="冒名",
            id_number=id_number(0),
            phone="13900001111",
            phone_proven=True,
        )

    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    await book(
        demo, clock, patient_id=again.id, session_id=sid, channel="telegram", account=account
    )
    mine = await my_bookings(demo, *account)
    assert [v.patient_name for v in mine] == ["家人甲"]
    assert [v.patient_name for v in await my_bookings(demo, "sms", "+8613900001111")] == ["家人甲"]
    assert await my_bookings(demo, "telegram", "someone-else") == []
    with pytest.raises(NotFound):
        await cancel(demo, clock, mine[0].booking_no, account=("telegram", "someone-else"))


async def test_the_desk_finds_bookings_by_phone_id_number_and_dates(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 3)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    receipt = await book(demo, clock, patient_id=p.id, session_id=sid, channel="sms")
    number = receipt.appointment.booking_no
    for found in (
        await find_bookings(demo, protector, phone="+86 138 1234 0003"),
        await find_bookings(demo, protector, id_number=id_number(3).lower()),
        await find_bookings(demo, protector, patient_name=p.name),
        await find_bookings(demo, protector, department_code="card", visit_date=WED),
        await find_bookings(demo, protector, booked_on=MON),
    ):
        assert [v.booking_no for v in found] == [number]
    assert await find_bookings(demo, protector, booked_on=TUE) == []
    assert await find_bookings(demo, protector, phone="13900000000") == []


async def test_numbers_are_stored_only_encrypted(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    await patient(demo, protector, clock, 7)
    async with demo(readonly=True) as uow:
        rows = (await uow.tx.execute(text("SELECT * FROM patients"))).all()  # type: ignore[attr-defined]
    dump = repr(rows)
    assert id_number(7) not in dump and "13812340007" not in dump
    assert id_number(7)[-4:] in dump  # the masked form is kept for display


async def test_logs_are_kept_a_year_then_purged(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    await record_operation_error(demo, clock, "book", "slot_full", {"session_id": sid})
    clock.advance(timedelta(days=364))
    purged = await purge_old_records(demo, clock, Retention())
    assert (purged.booking_log, purged.operation_errors) == (0, 0)
    clock.advance(timedelta(days=2))
    purged = await purge_old_records(demo, clock, Retention())
    assert (purged.booking_log, purged.operation_errors) == (1, 1)


async def test_a_database_failure_is_a_definite_try_again_and_saves_nothing(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    from booking.errors import TryAgain

    p = await patient(demo, protector, clock, 1)
    with pytest.raises(TryAgain):
        async with demo() as uow:
            await uow.logs.booking_event(clock.now(), "x", None, {})
            await uow.tx.execute(text("SELECT * FROM no_such_table"))  # type: ignore[attr-defined]
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    async with demo(readonly=True) as uow:
        events = (await uow.tx.execute(text("SELECT event FROM booking_log"))).all()  # type: ignore[attr-defined]
    assert [e[0] for e in events] == ["booked"]


async def test_asking_for_a_taken_queue_number_is_not_told_as_full(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    from booking.errors import PlaceTaken

    first, second = (
        await patient(demo, protector, clock, 1),
        await patient(demo, protector, clock, 2),
    )
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    await book(demo, clock, patient_id=first.id, session_id=sid, channel="web", queue_no=3)
    with pytest.raises(PlaceTaken):
        await book(demo, clock, patient_id=second.id, session_id=sid, channel="web", queue_no=3)
    with pytest.raises(InvalidInput):
        await stop_session(demo, clock, sid, "   ")


async def test_a_failure_between_claim_and_log_saves_nothing(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    from booking.errors import TryAgain

    p = await patient(demo, protector, clock, 1)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    async with demo() as uow:  # the booking log goes missing: the last step of a booking fails
        await uow.tx.execute(text("ALTER TABLE booking_log RENAME TO booking_log_away"))  # type: ignore[attr-defined]
        await uow.commit()
    with pytest.raises(TryAgain):
        await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    async with demo() as uow:
        await uow.tx.execute(text("ALTER TABLE booking_log_away RENAME TO booking_log"))  # type: ignore[attr-defined]
        await uow.commit()
    async with demo(readonly=True) as uow:
        assert await uow.sessions.busy_places(sid) == 0
    assert await find_bookings(demo, protector, doctor_work_no="00868") == []
    receipt = await book(demo, clock, patient_id=p.id, session_id=sid, channel="web")
    assert receipt.place.queue_no == 1


async def test_a_clashing_booking_number_leaves_no_place_taken(
    demo: Database, clock: FixedClock, protector: Protector, monkeypatch: pytest.MonkeyPatch
) -> None:
    import booking.appointments.book

    first, second = (
        await patient(demo, protector, clock, 1),
        await patient(demo, protector, clock, 2),
    )
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    taken = (
        await book(demo, clock, patient_id=first.id, session_id=sid, channel="web")
    ).appointment
    numbers = iter([taken.booking_no, taken.booking_no, "26112500000001"])
    monkeypatch.setattr(booking.appointments.book, "new_booking_no", lambda _day: next(numbers))
    receipt = await book(demo, clock, patient_id=second.id, session_id=sid, channel="web")
    assert receipt.appointment.booking_no == "26112500000001"
    async with demo(readonly=True) as uow:
        assert await uow.sessions.busy_places(sid) == 2
        assert len(await uow.appointments.holding_places(sid)) == 2


async def test_one_patient_booking_twice_at_once_keeps_the_quotas(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    cardiology_wednesday = [
        await session_id(demo, clock, "00868", WED, Part.PM),
        await session_id(demo, clock, "00902", WED, Part.AM),
    ]
    for _ in range(10):
        results = await asyncio.gather(
            *(
                book(demo, clock, patient_id=p.id, session_id=s, channel="web")
                for s in cardiology_wednesday
            ),
            return_exceptions=True,
        )
        booked = [r for r in results if not isinstance(r, BaseException)]
        assert len(booked) == 1, results
        assert isinstance(next(r for r in results if isinstance(r, BaseException)), QuotaExceeded)
        await cancel(demo, clock, booked[0].appointment.booking_no)


async def test_a_change_to_a_booking_that_moved_meanwhile_does_not_go_through(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    wed_pm = await session_id(demo, clock, "00868", WED, Part.PM)
    wed_am = await session_id(demo, clock, "00902", WED, Part.AM)
    number = (
        await book(demo, clock, patient_id=p.id, session_id=wed_pm, channel="web")
    ).appointment
    stale = number  # what a cancellation read before the transfer below
    await transfer(demo, clock, number.booking_no, wed_am)
    async with demo() as uow:
        assert not await uow.appointments.set_status(
            stale.id, AppointmentStatus.CANCELLED, clock.now(), place=(wed_pm, stale.queue_no)
        )


async def test_a_stopped_session_is_told_stopped_every_time(
    demo: Database, clock: FixedClock, protector: Protector
) -> None:
    p = await patient(demo, protector, clock, 1)
    sid = await session_id(demo, clock, "00868", WED, Part.PM)
    await stop_session(demo, clock, sid, "医生临时停诊")
    for _ in range(2):
        with pytest.raises(SessionStopped):
            await book(demo, clock, patient_id=p.id, session_id=sid, channel="sms")
