"""The booking use cases on a real database (SQLite and PostgreSQL), demo hospital loaded: what
needs one (the desk's and patients' views, encryption at rest, failures mid-transaction, races,
logs). The booking rules themselves (quotas, windows, ages, deadlines, stops, bans) are checked on
the in-memory unit of work in tests/unit/test_booking_rules.py.

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

from booking.appointments.attendance import mark_arrived
from booking.appointments.book import book
from booking.appointments.changes import cancel, stop_session, transfer
from booking.appointments.listing import find_bookings, my_bookings
from booking.appointments.model import AppointmentStatus
from booking.catalogue.model import Part
from booking.catalogue.search import search_doctors, search_sessions
from booking.clock import FixedClock
from booking.errors import (
    AccountFull,
    InvalidInput,
    InvalidName,
    NeedsCode,
    NotFound,
    PastDeadline,
    QuotaExceeded,
    SessionStopped,
)
from booking.patients.model import Patient
from booking.patients.registration import register_patient
from booking.protect import Protector
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
