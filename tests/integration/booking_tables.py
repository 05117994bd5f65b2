"""The database side of the stateful test (test_booking_stateful.py): what it writes before
it starts (the catalogue, the week's sessions, the patients with their chat accounts), and
what it reads back after every step to hold against the model (the bookings, the sessions
and their places, the lines (候补) and the reminders, as stored, whatever the use cases said
they did)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from booking.appointments.listing import find_bookings
from booking.appointments.model import BookingView
from booking.appointments.notices import REMINDERS, NoticeKind, NoticeStatus
from booking.catalogue.ports import SessionAvailability, SessionFilter
from booking.catalogue.schedule import PlaceStatus, PlannedSession
from booking.clock import FixedClock
from booking.patients.registration import register_patient
from booking.protect import Protector
from booking.roster.duty import import_catalogue
from booking.store import Database
from booking.store.tables.appointments import AppointmentRow, WaitlistRow
from booking.store.tables.notices import NoticeRow
from tests.integration.booking_model import (
    CATALOGUE,
    DEPARTMENT_OF,
    HOSPITAL,
    MONDAY,
    PATIENTS,
    SCHEDULE,
    SessionModel,
)
from tests.support import id_number


async def open_sessions(db: Database, now: datetime) -> list[SessionModel]:
    """The catalogue and the sessions of SCHEDULE, as the model knows them."""
    await import_catalogue(db, CATALOGUE)
    async with db() as uow:
        for work_no, day, part, capacity in SCHEDULE:
            plan = [PlannedSession(MONDAY + timedelta(days=day), part, capacity)]
            assert await uow.sessions.ensure(HOSPITAL, work_no, plan, now) == 1
        await uow.commit()
    sessions = []
    async with db(readonly=True) as uow:
        for work_no, day, part, capacity in SCHEDULE:
            (s,) = await uow.sessions.find(HOSPITAL, work_no, MONDAY + timedelta(days=day), part)
            starts = {}
            for queue_no in range(1, capacity + 1):
                place = await uow.sessions.place_times(s.id, queue_no)
                assert place is not None
                starts[queue_no] = place.starts_at
            department = DEPARTMENT_OF[work_no]
            sessions.append(
                SessionModel(s.id, department, s.visit_date, s.starts_at, s.ends_at, starts)
            )
    return sessions


async def register_patients(
    db: Database, protector: Protector, clock: FixedClock
) -> tuple[list[int], list[str], list[tuple[str, str]], list[int]]:
    """The PATIENTS, each with a chat account of their own: their ids, ID numbers' hashes,
    accounts (as the use cases take them) and the accounts' ids."""
    ids, hashes, accounts, account_ids = [], [], [], []
    for n, name in enumerate(PATIENTS, start=1):
        account = protector.account("telegram", f"patient-{n}")
        patient = await register_patient(
            db, protector, clock, name=name, id_number=id_number(n), phone=f"1390013{n:04d}",
            account=account,
        )  # fmt: skip
        ids.append(patient.id)
        hashes.append(patient.id_hash)
        accounts.append(account)
    async with db(readonly=True) as uow:
        for channel, user_id in accounts:
            found = await uow.patients.find_account(channel, user_id)
            assert found is not None
            account_ids.append(found.id)
    return ids, hashes, accounts, account_ids


async def snapshot(
    db: Database, protector: Protector, now: datetime
) -> tuple[list[BookingView], dict[int, SessionAvailability], Counter[tuple[int, str]]]:
    """Every booking (through the listing), every session with its free places (through the
    search), and the places of each session by status, counted in the table itself."""
    views = await find_bookings(db, protector, limit=10_000)
    async with db(readonly=True) as uow:
        found = await uow.sessions.search(SessionFilter(open_only=False), now)
        rows = await uow.tx.execute(
            text("SELECT session_id, status, count(*) FROM places GROUP BY session_id, status")
        )
        places = Counter({(session_id, status): n for session_id, status, n in rows})
    return views, {a.session.id: a for a in found}, places


async def lines(db: Database) -> tuple[list[tuple[Any, ...]], set[tuple[int, int]]]:
    """Every entry of every line (id, session, patient, status, queue number, booking
    number), and the places held for them (session, queue number)."""
    async with db(readonly=True) as uow:
        entries = await uow.tx.execute(
            select(
                WaitlistRow.id,
                WaitlistRow.session_id,
                WaitlistRow.patient_id,
                WaitlistRow.status,
                WaitlistRow.queue_no,
                WaitlistRow.booking_no,
            ).order_by(WaitlistRow.id)
        )
        held = await uow.tx.execute(
            text("SELECT session_id, queue_no FROM places WHERE status = :held"),
            {"held": PlaceStatus.BUSY_TENTATIVE.value},
        )
        return [tuple(e) for e in entries.all()], {(s, q) for s, q in held.all()}


@dataclass(frozen=True)
class StoredReminder:
    booking_no: str
    kind: NoticeKind
    key: str
    status: NoticeStatus
    account_id: int | None
    due_at: datetime
    not_after: datetime | None
    sent_at: datetime | None
    about: dict[str, Any]  # the payload: session_id, queue_no, date, time, …


async def reminders(db: Database) -> list[StoredReminder]:
    """Every reminder in the notices table, with the number of the booking it is about."""
    async with db(readonly=True) as uow:
        rows = await uow.tx.execute(
            select(
                AppointmentRow.booking_no,
                NoticeRow.kind,
                NoticeRow.key,
                NoticeRow.status,
                NoticeRow.account_id,
                NoticeRow.due_at,
                NoticeRow.not_after,
                NoticeRow.sent_at,
                NoticeRow.payload,
            )
            .join(AppointmentRow, AppointmentRow.id == NoticeRow.appointment_id)
            .where(NoticeRow.kind.in_([kind.value for kind in REMINDERS]))
            .order_by(NoticeRow.id)
        )
        return [
            StoredReminder(
                r.booking_no,
                NoticeKind(r.kind),
                r.key,
                NoticeStatus(r.status),
                r.account_id,
                r.due_at,
                r.not_after,
                r.sent_at,
                json.loads(r.payload),
            )
            for r in rows.all()
        ]
