"""A chat account's history of bookings, page by page, and removing a patient from the account
(issue 14, class 10), on SQLite and PostgreSQL, with generated people."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from booking.appointments.book import book
from booking.appointments.changes import cancel
from booking.appointments.listing import booking_history, find_bookings, my_bookings
from booking.appointments.model import AppointmentStatus
from booking.appointments.waitlist import join_waitlist
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import NotFound, SlotFull, StillBooked
from booking.patients.accounts import unlink_patient
from booking.patients.model import Patient
from booking.patients.registration import patients_of_account, register_patient
from booking.protect import Protector
from booking.roster.duty import generate_sessions
from booking.store import Database
from tests.generated import Person, people

MINE = ("web", "hash-of-my-browser")
THEIRS = ("telegram", "hash-of-a-relative")


async def registered(
    db: Database, protector: Protector, clock: FixedClock, who: Person, account: tuple[str, str]
) -> Patient:
    return await register_patient(
        db, protector, clock, name=who.name, id_number=who.id_number, phone=who.mobile,
        account=account,
    )  # fmt: skip


async def booked(
    db: Database, clock: FixedClock, patient: Patient, doctor: str, account: tuple[str, str],
    in_days: int = 2,
) -> str:  # fmt: skip
    day = clock.now().date() + timedelta(days=in_days)
    offers = await search_sessions(
        db, clock, doctor=doctor, date_from=day, date_to=day + timedelta(days=4)
    )
    offer = next(o for o in offers if o.bookable)
    receipt = await book(
        db, clock, patient_id=patient.id, session_id=offer.session.id, channel=account[0],
        account=account,
    )  # fmt: skip
    return receipt.appointment.booking_no


async def test_a_patient_leaves_the_account_only_when_nothing_it_booked_for_them_is_ahead(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    me, child = people("class-10-unlink", 2)
    mine = await registered(demo, protector, clock, me, MINE)
    theirs = await registered(demo, protector, clock, child, MINE)
    await register_patient(  # a relative manages them too (added at the desk)
        demo, protector, clock, name=child.name, id_number=child.id_number, phone=child.mobile,
        account=THEIRS, in_person=True,
    )  # fmt: skip
    booking_no = await booked(demo, clock, theirs, "00868", MINE)
    await booked(demo, clock, theirs, "01105", THEIRS, in_days=3)  # the relative's own
    with pytest.raises(StillBooked) as refused:
        await unlink_patient(demo, clock, MINE, theirs.id)
    assert refused.value.details == {"bookings": 1, "waiting": 0}
    assert len(await patients_of_account(demo, *MINE)) == 2
    await cancel(demo, clock, booking_no, account=MINE)
    assert (await unlink_patient(demo, clock, MINE, theirs.id)).id == theirs.id
    assert [p.id for p in await patients_of_account(demo, *MINE)] == [mine.id]
    # Only unlinked: the relative still manages them, the record and every booking stay.
    assert [p.id for p in await patients_of_account(demo, *THEIRS)] == [theirs.id]
    kept = await find_bookings(demo, protector, id_number=child.id_number)
    assert {v.status for v in kept} == {AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED}
    assert all(v.patient_name == child.name for v in await my_bookings(demo, *THEIRS))
    assert await my_bookings(demo, *MINE) == []
    with pytest.raises(NotFound):  # not on the account (any more)
        await unlink_patient(demo, clock, MINE, theirs.id)
    with pytest.raises(NotFound):
        await unlink_patient(demo, clock, ("web", "a-stranger"), mine.id)
    # The last account to hold a patient may let go too: nothing of theirs is ahead.
    assert (await unlink_patient(demo, clock, MINE, mine.id)).id == mine.id
    assert await patients_of_account(demo, *MINE) == []


async def test_a_place_in_a_waitlist_keeps_the_patient_on_the_account(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    [child] = people("class-10-waiting", 1)
    patient = await registered(demo, protector, clock, child, MINE)
    day = clock.now().date() + timedelta(days=2)
    [offer, *_] = await search_sessions(
        demo, clock, doctor="02620", date_from=day, date_to=day + timedelta(days=4)
    )
    strangers = people("class-10-strangers", 12)
    for n in itertools.count():  # the session fills up
        account = ("web", f"stranger-{n}")
        other = await registered(demo, protector, clock, strangers[n], account)
        try:
            await book(
                demo, clock, patient_id=other.id, session_id=offer.session.id, channel="web",
                account=account,
            )  # fmt: skip
        except SlotFull:
            break
    await join_waitlist(
        demo, clock, patient_id=patient.id, session_id=offer.session.id, channel="web",
        account=MINE,
    )  # fmt: skip
    with pytest.raises(StillBooked) as refused:
        await unlink_patient(demo, clock, MINE, patient.id)
    assert refused.value.details == {"bookings": 0, "waiting": 1}


async def test_the_history_is_paged_newest_first_without_what_is_still_ahead(
    demo: Database, protector: Protector, clock: FixedClock
) -> None:
    me, child, stranger = people("class-10-history", 3)
    mine = await registered(demo, protector, clock, me, MINE)
    theirs = await registered(demo, protector, clock, child, MINE)
    other = await registered(demo, protector, clock, stranger, THEIRS)
    ahead = await booked(demo, clock, mine, "00868", MINE)
    statuses = itertools.cycle(
        [AppointmentStatus.FULFILLED, AppointmentStatus.NOSHOW, AppointmentStatus.CANCELLED]
    )
    past: list[str] = []
    for days_ago in (3, 6, 9, 12, 15, 18, 21):  # made then, for two days later
        then = FixedClock(clock.now() - timedelta(days=days_ago + 2))
        await generate_sessions(demo, then)
        patient = mine if days_ago % 2 else theirs
        booking_no = await booked(demo, then, patient, "00902", MINE)
        async with demo() as uow:
            appointment = await uow.appointments.get(booking_no)
            assert appointment is not None
            await uow.appointments.set_status(
                appointment.id, next(statuses), clock.now(), cancel_reason="patient"
            )
            await uow.commit()
        past.append(booking_no)
    await booked(demo, FixedClock(clock.now() - timedelta(days=5)), other, "00902", THEIRS)
    today = clock.now().date()
    pages = [await booking_history(demo, *MINE, today=today, page=n, per_page=3) for n in (1, 2, 3)]
    assert [[v.booking_no for v in page.views] for page in pages] == [
        past[0:3], past[3:6], past[6:7]
    ]  # fmt: skip
    assert [page.more for page in pages] == [True, True, False]
    days = [v.visit_date for page in pages for v in page.views]
    assert days == sorted(days, reverse=True)
    assert ahead not in {v.booking_no for page in pages for v in page.views}
    # A booked visit whose day has passed (not yet marked) is history too.
    later = await booking_history(
        demo, *MINE, today=today + timedelta(days=30), page=1, per_page=10
    )
    assert ahead in {v.booking_no for v in later.views}
    nobody = await booking_history(demo, "web", "nobody", today=today, page=1, per_page=3)
    assert nobody.views == [] and not nobody.more
