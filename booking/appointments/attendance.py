"""At the hospital: check-in (arrived), no-shows, and the automatic ban after repeated
no-shows (default: 3 within 90 days → 90 days without booking)."""

from __future__ import annotations

from datetime import timedelta

from booking.appointments.book import where_held
from booking.appointments.model import Appointment, AppointmentStatus
from booking.appointments.notices import REMINDERS, NoticeKind, change_notice
from booking.appointments.ports import AppointmentWork
from booking.catalogue.schedule import local_now
from booking.clock import Clock
from booking.errors import NotFound, PastDeadline, WrongStatus
from booking.patients.model import BlacklistEntry, BlacklistSource
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory


async def confirm_coming(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    booking_no: str,
    *,
    account: tuple[str, str],
) -> None:
    """The patient says, under a reminder, that they will come: written in the booking log
    for the desk (who has confirmed, who may not come). Only the account's own booking."""
    now = clock.now()
    async with uows() as uow:
        appointment = await uow.appointments.get(booking_no)
        acct = await uow.patients.account(account[0], account[1], now)
        if appointment is None or not await uow.patients.is_linked(acct.id, appointment.patient_id):
            raise NotFound("no booking with this number", what="booking")
        if appointment.status is not AppointmentStatus.BOOKED:
            raise WrongStatus(f"this booking is {appointment.status.value}")
        await uow.logs.booking_event(
            now, "coming_confirmed", booking_no, {"session_id": appointment.session_id}
        )
        await uow.commit()


async def mark_arrived(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    booking_no: str,
    *,
    by: Actor | None = None,
) -> Appointment:
    now = clock.now()
    async with uows() as uow:
        appointment = await uow.appointments.get(booking_no)
        if appointment is None:
            raise NotFound("no booking with this number", what="booking")
        session = await uow.sessions.get(appointment.session_id)
        assert session is not None
        hospital, _ = await where_held(uow, session)
        if local_now(now, hospital.timezone).date() != session.visit_date:
            raise PastDeadline(
                "check-in is on the visit day only", visit_date=str(session.visit_date)
            )
        if not await uow.appointments.set_status(
            appointment.id, AppointmentStatus.ARRIVED, now, place=(session.id, appointment.queue_no)
        ):
            raise WrongStatus(f"this booking is {appointment.status.value}")
        await uow.logs.booking_event(now, "arrived", booking_no, {"session_id": session.id})
        if by is not None:
            before, after = {"status": "booked"}, {"status": "arrived"}
            await uow.audit.add(by.did(now, audit.ARRIVE, booking_no, before, after))
        await uow.commit()
    return appointment


async def mark_noshow(
    uows: UnitOfWorkFactory[AppointmentWork],
    clock: Clock,
    booking_no: str,
    *,
    by: Actor | None = None,
) -> BlacklistEntry | None:
    """Mark a booking as not attended; returns the ban it triggered, if any. ``by``: the
    member of staff who marks it, audited in the same transaction."""
    now = clock.now()
    async with uows() as uow:
        appointment = await uow.appointments.get(booking_no)
        if appointment is None:
            raise NotFound("no booking with this number", what="booking")
        session = await uow.sessions.get(appointment.session_id)
        assert session is not None
        if now < session.starts_at:
            raise PastDeadline("a no-show can be marked once the session has begun")
        if not await uow.appointments.set_status(
            appointment.id, AppointmentStatus.NOSHOW, now, place=(session.id, appointment.queue_no)
        ):
            raise WrongStatus(f"this booking is {appointment.status.value}")
        await uow.notices.withdraw(appointment.id, REMINDERS)
        await uow.logs.booking_event(now, "noshow", booking_no, {"session_id": session.id})
        hospital, _ = await where_held(uow, session)
        policy = hospital.policy
        today = local_now(now, hospital.timezone).date()
        patient = await uow.patients.get(appointment.patient_id, lock=True)
        assert patient is not None
        ban = None
        since = today - timedelta(days=policy.noshow_lookback_days)
        if await uow.appointments.noshows_since(patient.id, since) >= policy.noshow_ban_threshold:
            current = [
                e
                for e in await uow.blacklist.entries(patient.id_hash)
                if e.source is BlacklistSource.NOSHOW and e.blocks(today)
            ]
            if not current:
                ban = BlacklistEntry(
                    id_hash=patient.id_hash,
                    source=BlacklistSource.NOSHOW,
                    reason=f"{policy.noshow_ban_threshold} no-shows within "
                    f"{policy.noshow_lookback_days} days",
                    starts_on=today,
                    until=today + timedelta(days=policy.noshow_ban_days),
                )
                await uow.blacklist.add(ban, now)
                expected = session.starts_at
                await uow.notices.add(
                    change_notice(
                        NoticeKind.BANNED, appointment, expected, hospital.timezone, now,
                        until=ban.until.isoformat() if ban.until else "",
                        noshows=policy.noshow_ban_threshold,
                        days=policy.noshow_lookback_days,
                    ),
                    now,
                )  # fmt: skip
                await uow.logs.booking_event(
                    now,
                    "banned",
                    booking_no,
                    {"until": ban.until.isoformat() if ban.until else None},
                )
        if by is not None:
            after = {"status": "noshow", "banned_until": str(ban.until) if ban else None}
            entry = by.did(now, audit.NOSHOW, booking_no, {"status": "booked"}, after)
            await uow.audit.add(entry)
        await uow.commit()
    return ban


# Check-in comes from staff or the HIS, sometimes after the session: a booking becomes a no-show
# only this long after its session ended.
CHECK_IN_GRACE = timedelta(hours=1)


async def mark_noshows(
    uows: UnitOfWorkFactory[AppointmentWork], clock: Clock, *, batch: int = 200
) -> int:
    """Every booking not checked in by the end of its session (and the grace) is a no-show,
    with the bans that follow; how many were marked. Safe to run in several processes."""
    marked = 0
    while True:
        async with uows(readonly=True) as uow:
            due = await uow.appointments.unattended(clock.now() - CHECK_IN_GRACE, batch)
        for booking_no in due:
            try:
                await mark_noshow(uows, clock, booking_no)
            except WrongStatus:  # checked in or marked meanwhile (by another process)
                continue
            marked += 1
        if len(due) < batch:
            return marked
