"""候补: a place that leaves its patient goes to the line. While a session's line is open, the
place is held (busy-tentative) and offered to the first in line, for a while; the background
round passes on offers not taken in time, offers places freed while nobody waited, and closes
lines past their closing time; a stop (停诊) closes the session's line. What the patients do in
the line (join, take or decline an offer, leave) is booking.appointments.waitlist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.appointments.book import where_held
from booking.appointments.model import WaitlistEntry, WaitStatus
from booking.appointments.notices import NewNotice, NoticeKind
from booking.appointments.ports import AppointmentWork
from booking.catalogue.model import Hospital
from booking.catalogue.schedule import ClinicSession, PlaceStatus, SessionStatus, local_now
from booking.clock import Clock
from booking.unit_of_work import UnitOfWorkFactory

BATCH = 50  # entries handled per transaction by the background rounds


@dataclass(frozen=True)
class Tended:
    offered: int = 0
    lapsed: int = 0
    closed: int = 0


async def pass_on_place(
    uow: AppointmentWork,
    session: ClinicSession,
    hospital: Hospital,
    queue_no: int,
    now: datetime,
    *,
    held: bool,
) -> None:
    """A place leaves its patient (a cancellation, a move, an offer let go): held for the
    first in line while the line is open, else free for anyone. `held`: the place is held
    for a waitlist offer now, rather than taken by a booking."""
    was = PlaceStatus.BUSY_TENTATIVE if held else PlaceStatus.BUSY
    first = await _first_in_line(uow, session, now)
    if first is None:
        await uow.sessions.set_place(session.id, queue_no, was, PlaceStatus.FREE)
        return
    held = await uow.sessions.set_place(session.id, queue_no, was, PlaceStatus.BUSY_TENTATIVE)
    if held and not await _offer(uow, first, session, hospital, queue_no, now):
        await uow.sessions.set_place(
            session.id, queue_no, PlaceStatus.BUSY_TENTATIVE, PlaceStatus.FREE
        )


async def _first_in_line(
    uow: AppointmentWork, session: ClinicSession, now: datetime
) -> WaitlistEntry | None:
    if session.status is not SessionStatus.OPEN:
        return None
    first = await uow.waitlist.first_waiting(session.id)
    if first is None or now >= first.closes_at:
        return None
    return first


async def _offer(
    uow: AppointmentWork,
    entry: WaitlistEntry,
    session: ClinicSession,
    hospital: Hospital,
    queue_no: int,
    now: datetime,
) -> bool:
    """Offers the held place to the entry; False (nothing done) if it no longer waits."""
    expires = now + timedelta(minutes=hospital.policy.waitlist_offer_minutes)
    if not await uow.waitlist.offer(entry.id, queue_no, expires, now):
        return False
    place = await uow.sessions.place_times(session.id, queue_no)
    assert place is not None
    await uow.notices.add(
        [
            _notice(NoticeKind.WAITLIST_OFFER, entry, session, hospital, now,
                    queue_no=queue_no, time=_hhmm(place.starts_at, hospital),
                    expires=_hhmm(expires, hospital), not_after=expires)
        ],
        now,
    )  # fmt: skip
    await uow.logs.booking_event(
        now, "waitlist_offered", None, {"session_id": session.id, "queue_no": queue_no}
    )
    return True


async def tend_waitlists(uows: UnitOfWorkFactory[AppointmentWork], clock: Clock) -> Tended:
    """The background's round, safe to run in several processes at once: offers not taken in
    time pass on; free places go to whoever waits for them (a place freed while nobody
    waited, then someone joined); lines past their closing time close."""
    now = clock.now()
    lapsed = offered = closed = 0
    while True:
        async with uows() as uow:
            due = await uow.waitlist.lapsed_offers(now, BATCH)
            for entry in due:
                if not await uow.waitlist.finish(
                    entry.id, WaitStatus.LAPSED, now, (WaitStatus.OFFERED,)
                ):
                    continue
                session = await uow.sessions.get(entry.session_id)
                assert session is not None and entry.queue_no is not None
                hospital, _ = await where_held(uow, session)
                await uow.notices.add(
                    [_notice(NoticeKind.WAITLIST_LAPSED, entry, session, hospital, now)], now
                )
                await pass_on_place(uow, session, hospital, entry.queue_no, now, held=True)
                lapsed += 1
            await uow.commit()
        if len(due) < BATCH:
            break
    for session_id in await _sessions_with_room(uows, now):
        while True:
            async with uows() as uow:
                session = await uow.sessions.get(session_id)
                assert session is not None
                hospital, _ = await where_held(uow, session)
                first = await _first_in_line(uow, session, now)
                place = None if first is None else await uow.sessions.hold_free_place(
                    session_id, now
                )  # fmt: skip
                if first is None or place is None:
                    break
                if not await _offer(uow, first, session, hospital, place.queue_no, now):
                    break  # changed meanwhile: the next round sees it afresh
                await uow.commit()
                offered += 1
    while True:
        async with uows() as uow:
            ended = await uow.waitlist.close_due(now, BATCH)
            for entry in ended:
                session = await uow.sessions.get(entry.session_id)
                assert session is not None
                hospital, _ = await where_held(uow, session)
                await uow.notices.add(
                    [_notice(NoticeKind.WAITLIST_CLOSED, entry, session, hospital, now)], now
                )
            await uow.commit()
        closed += len(ended)
        if len(ended) < BATCH:
            break
    return Tended(offered=offered, lapsed=lapsed, closed=closed)


async def _sessions_with_room(uows: UnitOfWorkFactory[AppointmentWork], now: datetime) -> list[int]:
    async with uows(readonly=True) as uow:
        return await uow.waitlist.sessions_with_room(now)


async def close_for_stop(
    uow: AppointmentWork, session: ClinicSession, hospital: Hospital, reason: str, now: datetime
) -> int:
    """停诊: the line closes; each patient in it is told, with the reason."""
    ended = await uow.waitlist.close_session(session.id, now)
    await uow.notices.add(
        [
            _notice(NoticeKind.WAITLIST_CLOSED, entry, session, hospital, now, reason=reason)
            for entry in ended
        ],
        now,
    )
    return len(ended)


def _hhmm(moment: datetime, hospital: Hospital) -> str:
    return local_now(moment, hospital.timezone).strftime("%H:%M")


def _notice(
    kind: NoticeKind,
    entry: WaitlistEntry,
    session: ClinicSession,
    hospital: Hospital,
    now: datetime,
    *,
    not_after: datetime | None = None,
    **more: object,
) -> NewNotice:
    assert entry.account_id is not None  # only chat patients join a line
    return NewNotice(
        key=f"{kind.value}:{entry.id}:{now.isoformat()}",
        kind=kind,
        account_id=entry.account_id,
        due_at=now,
        not_after=not_after,
        payload={
            "entry_id": entry.id,
            "session_id": session.id,
            "date": session.visit_date.isoformat(),
            "part": session.part.value,
            "department": session.department_code,
            "doctor": session.doctor_work_no,
            **more,
        },
    )
