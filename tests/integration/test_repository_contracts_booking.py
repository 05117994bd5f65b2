"""The contracts of booking's own repositories (bookings, appointments, notices, waitlists),
each run on the in-memory fake, SQLite and PostgreSQL (see test_repository_contracts)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from booking.appointments.model import AppointmentStatus, NewWaitlistEntry, QuotaUse, WaitStatus
from booking.appointments.notices import NewNotice, NoticeKind
from booking.appointments.ports import TakenPlace
from booking.catalogue.schedule import ClinicSession
from booking.errors import BookingNumberTaken
from booking.patients.model import BlacklistEntry, BlacklistSource
from tests.integration.contracts import BACKENDS, NOW, WED, Store, at, open_store, ward

store = pytest.fixture(params=BACKENDS)(open_store)
HORIZON = (date(2026, 11, 1), date.max)


async def take(
    store: Store, session: ClinicSession, patient_id: int, booking_no: str, queue_no: int | None
) -> TakenPlace | None:
    async with store() as uow:
        # As book_in does: context first. On PostgreSQL its first statement, through
        # SQLAlchemy, begins the transaction; `take` alone runs on the driver in autocommit.
        await uow.bookings.context(session.id, patient_id, NOW, HORIZON)
        taken = await uow.bookings.take(
            session=session, patient_id=patient_id, account_id=None, channel="web", after=NOW,
            queue_no=queue_no, booking_no=booking_no, now=NOW,
        )  # fmt: skip
        await uow.commit()
    return taken


async def test_the_booking_context_has_free_places_bans_and_the_patients_bookings(
    store: Store,
) -> None:
    w = await ward(store, capacity=3)
    ban = BlacklistEntry("id-hash-1", BlacklistSource.HOSPITAL, "fraud", WED, None)
    async with store() as uow:
        await uow.blacklist.add(ban, NOW)
        await uow.commit()
    taken = await take(store, w.session, w.patient.id, "B1", None)
    assert taken is not None
    async with store(readonly=True) as uow:
        context = await uow.bookings.context(w.session.id, w.patient.id, NOW, HORIZON)
        nobody = await uow.bookings.context(w.session.id, 999_999, NOW, HORIZON)
        after_it = await uow.bookings.context(
            w.session.id, w.patient.id, NOW, (WED + timedelta(1), date.max)
        )
        assert await uow.bookings.context(999_999, w.patient.id, NOW, HORIZON) is None
    assert context is not None and nobody is not None and after_it is not None
    assert (context.session, context.free, context.department.code) == (
        w.session, 2, w.session.department_code,
    )  # fmt: skip
    assert (context.patient_found, context.patient_born) == (True, w.patient.birth_date)
    assert context.bans == [ban]
    assert context.uses == [
        QuotaUse(WED, w.session.department_code, w.session.id, taken.appointment_id)
    ]
    assert (nobody.patient_found, nobody.patient_born, nobody.bans, nobody.uses) == (
        False, None, [], [],
    )  # fmt: skip
    assert after_it.uses == []  # outside the horizon
    # Free places are those still ahead: at 13:35 the first place (13:30) has begun.
    async with store(readonly=True) as uow:
        later = await uow.bookings.context(w.session.id, w.patient.id, at(13, 35), HORIZON)
    assert later is not None and later.free == 2


async def test_taking_books_the_place_logs_it_and_never_overbooks(store: Store) -> None:
    w = await ward(store, capacity=2, patients=3)
    first = await take(store, w.session, w.patient.id, "B1", 2)
    second = await take(store, w.session, w.patient.id + 1, "B2", None)
    third = await take(store, w.session, w.patient.id + 2, "B3", None)
    assert first is not None and second is not None and third is None
    assert (first.place.queue_no, second.place.queue_no) == (2, 1)
    async with store(readonly=True) as uow:
        booked = await uow.appointments.get("B1")
        assert await uow.appointments.get("B3") is None
        assert await uow.sessions.free_places(w.session.id, NOW) == 0
        holding = await uow.appointments.holding_places(w.session.id)
    assert booked is not None
    assert (booked.id, booked.status, booked.queue_no, booked.visit_date, booked.channel) == (
        first.appointment_id, AppointmentStatus.BOOKED, 2, WED, "web",
    )  # fmt: skip
    assert booked.registration_fee_fen == w.session.registration_fee_fen
    assert [a.booking_no for a in holding] == ["B2", "B1"]


async def test_a_booking_number_in_use_is_refused_and_nothing_is_kept(store: Store) -> None:
    w = await ward(store, capacity=2, patients=2)
    assert await take(store, w.session, w.patient.id, "B1", None) is not None
    with pytest.raises(BookingNumberTaken):
        await take(store, w.session, w.patient.id + 1, "B1", None)
    async with store(readonly=True) as uow:
        assert await uow.sessions.free_places(w.session.id, NOW) == 1


async def test_a_status_changes_only_from_the_expected_one_and_place(store: Store) -> None:
    w = await ward(store, capacity=3)
    taken = await take(store, w.session, w.patient.id, "B1", None)
    assert taken is not None
    aid, sid = taken.appointment_id, w.session.id
    async with store() as uow:
        cancel = AppointmentStatus.CANCELLED
        assert not await uow.appointments.set_status(aid, cancel, NOW, place=(sid, 2))
        assert not await uow.appointments.set_status(
            aid, cancel, NOW, expected=(AppointmentStatus.ARRIVED,)
        )
        assert await uow.appointments.quota_uses(w.patient.id, WED, WED) != []
        assert await uow.appointments.set_status(aid, cancel, NOW, place=(sid, 1))
        assert not await uow.appointments.set_status(aid, cancel, NOW)
        await uow.appointments.remember_request("req-1", aid, NOW)
        await uow.commit()
    async with store(readonly=True) as uow:
        cancelled = await uow.appointments.get("B1")
        assert cancelled is not None and cancelled.status is AppointmentStatus.CANCELLED
        assert await uow.appointments.quota_uses(w.patient.id, WED, WED) == []
        assert await uow.appointments.made_for("req-1") == "B1"
        assert await uow.appointments.made_for("req-2") is None
        assert await uow.appointments.holding_places(sid) == []


async def test_a_booking_moves_only_from_the_session_it_is_in(store: Store) -> None:
    w = await ward(store, capacity=3)
    taken = await take(store, w.session, w.patient.id, "B1", None)
    assert taken is not None
    async with store() as uow:
        place = await uow.sessions.claim_place(w.session.id, NOW, 3)
        assert place is not None
        assert not await uow.appointments.move(taken.appointment_id, 999_999, w.session, place, NOW)
        assert await uow.appointments.move(
            taken.appointment_id, w.session.id, w.session, place, NOW
        )
        await uow.commit()
    async with store(readonly=True) as uow:
        moved = await uow.appointments.get("B1")
    assert moved is not None and moved.queue_no == 3


async def test_notices_are_kept_once_by_key_and_withdrawn_by_kind(store: Store) -> None:
    w = await ward(store)
    taken = await take(store, w.session, w.patient.id, "B1", None)
    assert taken is not None

    def notice(key: str, kind: NoticeKind) -> NewNotice:
        return NewNotice(key, kind, None, NOW, taken.appointment_id if taken else None)

    async with store() as uow:
        await uow.notices.add([notice("k1", NoticeKind.REMINDER_SOON)], NOW)
        await uow.notices.add([notice("k1", NoticeKind.REMINDER_SOON)], NOW)
        await uow.notices.add([notice("k2", NoticeKind.CANCELLED)], NOW)
        await uow.notices.withdraw(taken.appointment_id, (NoticeKind.REMINDER_SOON,))
        await uow.commit()
    async with store(readonly=True) as uow:
        assert await uow.notices.counts() == {"pending": 1, "void": 1}
    async with store() as uow:  # written again: due again
        await uow.notices.add([notice("k1", NoticeKind.REMINDER_SOON)], NOW)
        await uow.commit()
    async with store(readonly=True) as uow:
        assert await uow.notices.counts() == {"pending": 2}


async def test_a_waitlist_has_each_patient_once_and_offers_in_turn(store: Store) -> None:
    w = await ward(store, patients=2)
    sid, pid = w.session.id, w.patient.id
    async with store() as uow:
        accounts = [(await uow.patients.account("web", f"u{n}", NOW)).id for n in (1, 2)]
        await uow.commit()

    def entry(n: int) -> NewWaitlistEntry:
        return NewWaitlistEntry(sid, pid + n, accounts[n], "web", at(12))

    async with store() as uow:
        one = await uow.waitlist.add(entry(0), NOW)
        two = await uow.waitlist.add(entry(1), NOW)
        assert await uow.waitlist.add(entry(0), NOW) is None
        await uow.commit()
    assert one is not None and two is not None
    async with store() as uow:
        assert [await uow.waitlist.position(e) for e in (one, two)] == [1, 2]
        first = await uow.waitlist.first_waiting(sid)
        assert first is not None and first.id == one
        assert await uow.waitlist.offer(one, 1, at(11), NOW)
        assert not await uow.waitlist.offer(one, 2, at(11), NOW)
        second = await uow.waitlist.first_waiting(sid)
        assert second is not None and second.id == two
        assert not await uow.waitlist.finish(two, WaitStatus.BOOKED, NOW, (WaitStatus.OFFERED,))
        closed = await uow.waitlist.close_session(sid, NOW)
        await uow.commit()
    assert sorted((e.id, e.status) for e in closed) == [
        (one, WaitStatus.CLOSED), (two, WaitStatus.CLOSED),
    ]  # fmt: skip
    async with store(readonly=True) as uow:
        offered = await uow.waitlist.get(one)
        assert offered is not None and offered.queue_no == 1
        assert await uow.waitlist.first_waiting(sid) is None
