"""候补 (issue 6, item 4): a freed place goes to the first in line, who has 30 minutes to take
it before it passes on; the line closes at 23:00 the day before; never more bookings than
places, whatever the timing (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from booking.appointments.book import book
from booking.appointments.changes import cancel, stop_session, transfer_stopped
from booking.appointments.waitlist import (
    accept_offer,
    decline_offer,
    join_waitlist,
    waiting_of_account,
)
from booking.appointments.waitlist_offers import tend_waitlists
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import (
    AlreadyWaiting,
    BookingError,
    DifferentDepartment,
    NotFound,
    NotFull,
    OfferGone,
    QuotaExceeded,
    SessionStopped,
    SlotFull,
    WaitlistClosed,
)
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.duty import generate_sessions, import_catalogue
from booking.store import Database, upgrade
from bot.runtime.build import build
from bot.settings import Settings
from tests.support import SECRET, demo_catalogue, id_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
WED, FRI = date(2026, 11, 25), date(2026, 11, 27)
_numbers = itertools.count()


async def a_patient(db: Database, protector: Protector, clock: FixedClock, who: str) -> tuple:
    account = protector.account("telegram", who)
    n = next(_numbers)  # born in 1990 and after: apart from other tests' patients
    number = id_number(n % 1000, born=date(1990, 1, 1) + timedelta(days=n // 1000))
    patient = await register_patient(
        db, protector, clock, name="候补", id_number=number,
        phone="13812345678", account=account,
    )  # fmt: skip
    return patient.id, account


async def wed_afternoon(db: Database, clock: FixedClock) -> int:
    [offer] = await search_sessions(
        db, clock, doctor="00868", date_from=WED, date_to=WED, part=Part.PM
    )
    return offer.session.id


async def fill(db: Database, protector: Protector, clock: FixedClock, session_id: int) -> list:
    """Strangers book every place; their (booking number, account)."""
    taken = []
    while True:
        patient_id, account = await a_patient(db, protector, clock, f"s{next(_numbers)}")
        try:
            receipt = await book(
                db, clock, patient_id=patient_id, session_id=session_id, channel="telegram",
                account=account,
            )  # fmt: skip
        except SlotFull:
            return taken
        taken.append((receipt.appointment.booking_no, account))


async def join(db: Database, protector: Protector, clock: FixedClock, session_id: int, who: str):
    patient_id, account = await a_patient(db, protector, clock, who)
    waiting = await join_waitlist(
        db, clock, patient_id=patient_id, session_id=session_id, channel="telegram",
        account=account,
    )  # fmt: skip
    return waiting, account, patient_id


async def offers_to(db: Database, account: tuple[str, str]) -> list[int]:
    """The waitlist offers notified to an account: their entry ids."""
    async with db(readonly=True) as uow:
        rows = await uow.tx.execute(
            text(
                "SELECT n.payload FROM notices n JOIN accounts a ON a.id = n.account_id "
                "WHERE a.channel = :c AND a.user_id = :u AND n.kind = 'waitlist_offer'"
            ),
            {"c": account[0], "u": account[1]},
        )
        return [json.loads(r[0])["entry_id"] for r in rows.all()]


async def places(db: Database, session_id: int) -> dict[str, int]:
    async with db(readonly=True) as uow:
        rows = await uow.tx.execute(
            text("SELECT status, COUNT(*) FROM places WHERE session_id = :s GROUP BY status"),
            {"s": session_id},
        )
        booked = await uow.tx.scalar(
            text(
                "SELECT COUNT(*) FROM appointments WHERE session_id = :s AND status <> 'cancelled'"
            ),
            {"s": session_id},
        )
    counts = {status: int(n) for status, n in rows.all()}
    counts["appointments"] = int(booked or 0)
    return counts


async def test_a_freed_place_is_held_for_the_first_in_line_who_books_it(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    session_id = await wed_afternoon(demo, clock)
    patient_id, account = await a_patient(demo, protector, clock, "early")
    with pytest.raises(NotFull):  # places left: book it instead
        await join_waitlist(
            demo, clock, patient_id=patient_id, session_id=session_id, channel="telegram",
            account=account,
        )  # fmt: skip
    taken = await fill(demo, protector, clock, session_id)
    first, first_account, first_patient = await join(demo, protector, clock, session_id, "one")
    second, second_account, _ = await join(demo, protector, clock, session_id, "two")
    assert (first.position, second.position) == (1, 2)
    with pytest.raises(AlreadyWaiting):
        await join_waitlist(
            demo, clock, patient_id=first_patient, session_id=session_id, channel="telegram",
            account=first_account,
        )  # fmt: skip

    await cancel(demo, clock, taken[3][0], account=taken[3][1])
    # Not free for anyone else: held for the first in line, who is told.
    stranger, stranger_account = await a_patient(demo, protector, clock, "late")
    with pytest.raises(SlotFull):
        await book(
            demo, clock, patient_id=stranger, session_id=session_id, channel="telegram",
            account=stranger_account,
        )  # fmt: skip
    assert await offers_to(demo, first_account) == [first.entry_id]
    assert await offers_to(demo, second_account) == []
    [view] = await waiting_of_account(demo, *first_account)
    assert view.status == "offered"

    receipt = await accept_offer(demo, clock, first.entry_id, account=first_account)
    assert receipt.place.queue_no == 4  # the place that was freed
    counts = await places(demo, session_id)
    assert counts.get("free", 0) == 0 and counts["appointments"] == len(taken)
    with pytest.raises(OfferGone):  # taken once
        await accept_offer(demo, clock, first.entry_id, account=first_account)
    [view] = await waiting_of_account(demo, *second_account)
    assert view.position == 1  # next in line now


async def test_an_offer_not_taken_in_30_minutes_passes_to_the_next(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    first, first_account, _ = await join(demo, protector, clock, session_id, "one")
    second, second_account, _ = await join(demo, protector, clock, session_id, "two")
    await cancel(demo, clock, taken[0][0], account=taken[0][1])
    clock.advance(timedelta(minutes=29))
    assert (await tend_waitlists(demo, clock)).lapsed == 0
    clock.advance(timedelta(minutes=1))
    assert (await tend_waitlists(demo, clock)).lapsed == 1
    with pytest.raises(OfferGone):
        await accept_offer(demo, clock, first.entry_id, account=first_account)
    assert await offers_to(demo, second_account) == [second.entry_id]
    await decline_offer(demo, clock, second.entry_id, account=second_account)
    # Nobody else waits: the place is free for anyone.
    assert (await places(demo, session_id))["free"] == 1


async def test_one_who_can_no_longer_book_lets_the_place_pass_on(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    first, first_account, first_patient = await join(demo, protector, clock, session_id, "one")
    second, second_account, _ = await join(demo, protector, clock, session_id, "two")
    # Meanwhile the first booked the same department that day elsewhere: one a day.
    [morning] = await search_sessions(
        demo, clock, department="CARD", date_from=WED, date_to=WED, part=Part.AM
    )
    await book(
        demo, clock, patient_id=first_patient, session_id=morning.session.id,
        channel="telegram", account=first_account,
    )  # fmt: skip
    await cancel(demo, clock, taken[0][0], account=taken[0][1])
    with pytest.raises(QuotaExceeded):
        await accept_offer(demo, clock, first.entry_id, account=first_account)
    assert await offers_to(demo, second_account) == [second.entry_id]
    await accept_offer(demo, clock, second.entry_id, account=second_account)


async def test_the_line_closes_at_23_the_day_before_and_a_stop_ends_it(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    _, account, _ = await join(demo, protector, clock, session_id, "one")
    clock.set(datetime(2026, 11, 24, 23, 0, tzinfo=SHANGHAI))
    assert (await tend_waitlists(demo, clock)).closed == 1
    assert await waiting_of_account(demo, *account) == []
    with pytest.raises(WaitlistClosed):
        await join(demo, protector, clock, session_id, "late")
    await cancel(demo, clock, taken[0][0], account=taken[0][1])
    assert (await places(demo, session_id))["free"] == 1  # nobody to hold it for

    [friday] = await search_sessions(
        demo, clock, doctor="00868", date_from=FRI, date_to=FRI, part=Part.AM
    )
    await fill(demo, protector, clock, friday.session.id)
    _, account, _ = await join(demo, protector, clock, friday.session.id, "fri")
    await stop_session(demo, clock, friday.session.id, "医生外出会诊")
    assert await waiting_of_account(demo, *account) == []


async def test_cancellations_joins_offers_and_bookings_racing_never_overbook(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    capacity = len(taken)
    waiting = [await join(demo, protector, clock, session_id, f"w{n}") for n in range(8)]
    strangers = [await a_patient(demo, protector, clock, f"x{n}") for n in range(8)]
    rng = random.Random(6)

    async def cancels() -> None:
        for booking_no, account in rng.sample(taken, 6):
            await cancel(demo, clock, booking_no, account=account)
            await asyncio.sleep(0)

    async def takes(entry_id: int, account: tuple[str, str]) -> None:
        for _ in range(20):
            try:
                await accept_offer(demo, clock, entry_id, account=account)
                return
            except OfferGone:
                await asyncio.sleep(0.005)
            except BookingError:
                return

    async def strangers_try(patient_id: int, account: tuple[str, str]) -> None:
        for _ in range(10):
            try:
                await book(
                    demo, clock, patient_id=patient_id, session_id=session_id,
                    channel="telegram", account=account,
                )  # fmt: skip
                return
            except BookingError:
                await asyncio.sleep(0.005)

    async def tending() -> None:
        for _ in range(10):
            await tend_waitlists(demo, clock)
            await asyncio.sleep(0.005)

    await asyncio.gather(
        cancels(),
        tending(),
        *(takes(w.entry_id, account) for w, account, _ in waiting),
        *(strangers_try(*s) for s in strangers),
    )
    counts = await places(demo, session_id)
    assert counts["appointments"] <= capacity
    assert counts["appointments"] == counts.get("busy", 0)  # each booking has its own place
    held = counts.get("busy-tentative", 0)
    assert counts["appointments"] + held + counts.get("free", 0) == capacity


async def test_a_stop_and_a_patient_taking_an_offer_at_once_both_finish(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    """On PostgreSQL the two lock the session, the entry and the place: in one order, so that
    neither is cancelled as a deadlock."""
    session_id = await wed_afternoon(demo, clock)
    taken = await fill(demo, protector, clock, session_id)
    first, account, _ = await join(demo, protector, clock, session_id, "one")
    await cancel(demo, clock, taken[0][0], account=taken[0][1])
    accepted, stopped = await asyncio.gather(
        accept_offer(demo, clock, first.entry_id, account=account),
        stop_session(demo, clock, session_id, "医生外出会诊"),
        return_exceptions=True,
    )
    assert not isinstance(stopped, BaseException)  # the stop always goes through
    if isinstance(accepted, BaseException):  # the stop came first
        assert isinstance(accepted, (OfferGone, SessionStopped)), accepted
    counts = await places(demo, session_id)
    assert counts == {"busy-unavailable": len(taken), "appointments": 0}


async def test_a_stopped_booking_moves_only_to_the_same_doctor_or_level_and_only_its_own(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    session_id = await wed_afternoon(demo, clock)
    patient_id, account = await a_patient(demo, protector, clock, "moving")
    receipt = await book(
        demo, clock, patient_id=patient_id, session_id=session_id, channel="telegram",
        account=account,
    )  # fmt: skip
    booking_no = receipt.appointment.booking_no
    await stop_session(demo, clock, session_id, "医生外出会诊")
    card = await search_sessions(demo, clock, department="CARD")
    expert = [o for o in card if o.session.clinic_type == "expert" and o.session.id != session_id]
    other_level = [o for o in card if o.session.clinic_type != "expert"]
    assert expert and other_level
    with pytest.raises(DifferentDepartment):  # a doctor of another level (another fee)
        await transfer_stopped(demo, clock, booking_no, other_level[0].session.id, account=account)
    _, stranger = await a_patient(demo, protector, clock, "stranger")
    with pytest.raises(NotFound):  # not the stranger's booking
        await transfer_stopped(demo, clock, booking_no, expert[0].session.id, account=stranger)
    moved = await transfer_stopped(demo, clock, booking_no, expert[0].session.id, account=account)
    assert moved.appointment.booking_no == booking_no


async def test_the_background_of_guahao_serve_passes_a_lapsed_offer_on(
    tmp_path: Path, protector: Protector, clock: FixedClock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    await import_catalogue(db, demo_catalogue())
    await generate_sessions(db, clock)
    session_id = await wed_afternoon(db, clock)
    taken = await fill(db, protector, clock, session_id)
    await join(db, protector, clock, session_id, "one")
    second, second_account, _ = await join(db, protector, clock, session_id, "two")
    await cancel(db, clock, taken[0][0], account=taken[0][1])
    bot = await build(
        Settings(
            DATABASE_URL=url,
            GUAHAO_SECRET_KEY=SECRET,
            GUAHAO_NOW=(clock.now() + timedelta(minutes=31)).isoformat(),
            GUAHAO_NLU_MODELS=tmp_path / "models",
        )  # type: ignore[call-arg]
    )
    bot.start_rounds()
    try:
        for _ in range(100):  # the first round runs as the bot starts
            if await offers_to(db, second_account):
                break
            await asyncio.sleep(0.05)
        assert await offers_to(db, second_account) == [second.entry_id]
    finally:
        await bot.stop()
        await db.dispose()
