"""候补 lines in the database. The first in line and the lapsed offers are taken with
FOR UPDATE SKIP LOCKED on PostgreSQL, so that several processes tending the lines never hand
one entry two places nor wait on each other; SQLite serialises its writers anyway."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking.appointments.model import (
    IN_LINE,
    NewWaitlistEntry,
    WaitingView,
    WaitlistEntry,
    WaitStatus,
)
from booking.catalogue.schedule import PlaceStatus, SessionStatus
from booking.store.tables.appointments import WaitlistRow
from booking.store.tables.catalogue import ClinicSessionRow, PlaceRow
from booking.store.tables.patients import AccountPatientRow, AccountRow, PatientRow

_IN_LINE = [s.value for s in IN_LINE]


class SqlWaitlist:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def add(self, entry: NewWaitlistEntry, now: datetime) -> int | None:
        row = WaitlistRow(
            session_id=entry.session_id,
            patient_id=entry.patient_id,
            account_id=entry.account_id,
            channel=entry.channel,
            status=WaitStatus.WAITING.value,
            joined_at=now,
            closes_at=entry.closes_at,
            updated_at=now,
        )
        try:
            async with self.tx.begin_nested():
                self.tx.add(row)
        except IntegrityError:  # already in this line
            return None
        return row.id

    async def position(self, entry_id: int) -> int:
        mine = select(WaitlistRow.session_id).where(WaitlistRow.id == entry_id).scalar_subquery()
        count = await self.tx.scalar(
            select(func.count()).where(
                WaitlistRow.session_id == mine,
                WaitlistRow.status.in_(_IN_LINE),
                WaitlistRow.id <= entry_id,
            )
        )
        return int(count or 0)

    async def get(self, entry_id: int, *, lock: bool = False) -> WaitlistEntry | None:
        query = select(WaitlistRow).where(WaitlistRow.id == entry_id)
        if lock:
            query = query.with_for_update()
        row = await self.tx.scalar(query)
        return None if row is None else _entry(row)

    async def first_waiting(self, session_id: int) -> WaitlistEntry | None:
        row = await self.tx.scalar(
            select(WaitlistRow)
            .where(
                WaitlistRow.session_id == session_id,
                WaitlistRow.status == WaitStatus.WAITING.value,
            )
            .order_by(WaitlistRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return None if row is None else _entry(row)

    async def offer(
        self, entry_id: int, queue_no: int, expires_at: datetime, now: datetime
    ) -> bool:
        return await self._update(
            entry_id,
            (WaitStatus.WAITING,),
            status=WaitStatus.OFFERED.value,
            queue_no=queue_no,
            offer_expires_at=expires_at,
            updated_at=now,
        )

    async def finish(
        self,
        entry_id: int,
        status: WaitStatus,
        now: datetime,
        expected: tuple[WaitStatus, ...],
        booking_no: str | None = None,
    ) -> bool:
        return await self._update(
            entry_id, expected, status=status.value, booking_no=booking_no, updated_at=now
        )

    async def lapsed_offers(self, now: datetime, limit: int) -> list[WaitlistEntry]:
        rows = await self.tx.scalars(
            select(WaitlistRow)
            .where(
                WaitlistRow.status == WaitStatus.OFFERED.value,
                WaitlistRow.offer_expires_at <= now,
            )
            .order_by(WaitlistRow.offer_expires_at, WaitlistRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_entry(r) for r in rows.all()]

    async def sessions_with_room(self, now: datetime) -> list[int]:
        free = exists().where(
            PlaceRow.session_id == WaitlistRow.session_id,
            PlaceRow.status == PlaceStatus.FREE.value,
            PlaceRow.starts_at > now,
        )
        rows = await self.tx.scalars(
            select(WaitlistRow.session_id)
            .join(ClinicSessionRow, ClinicSessionRow.id == WaitlistRow.session_id)
            .where(
                WaitlistRow.status == WaitStatus.WAITING.value,
                WaitlistRow.closes_at > now,
                ClinicSessionRow.status == SessionStatus.OPEN.value,
                free,
            )
            .distinct()
        )
        return list(rows.all())

    async def close_due(self, now: datetime, limit: int) -> list[WaitlistEntry]:
        due = (
            select(WaitlistRow.id)
            .where(WaitlistRow.status == WaitStatus.WAITING.value, WaitlistRow.closes_at <= now)
            .order_by(WaitlistRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self._close(WaitlistRow.id.in_(due.scalar_subquery()), now)

    async def close_session(self, session_id: int, now: datetime) -> list[WaitlistEntry]:
        return await self._close(WaitlistRow.session_id == session_id, now)

    async def of_account(self, channel: str, user_hash: str) -> list[WaitingView]:
        ahead = aliased(WaitlistRow)
        position = (
            select(func.count())
            .where(
                ahead.session_id == WaitlistRow.session_id,
                ahead.status.in_(_IN_LINE),
                ahead.id <= WaitlistRow.id,
            )
            .correlate(WaitlistRow)
            .scalar_subquery()
        )
        rows = await self.tx.execute(
            select(WaitlistRow, ClinicSessionRow.visit_date, PatientRow.name, position)
            .join(ClinicSessionRow, ClinicSessionRow.id == WaitlistRow.session_id)
            .join(PatientRow, PatientRow.id == WaitlistRow.patient_id)
            .join(AccountPatientRow, AccountPatientRow.patient_id == WaitlistRow.patient_id)
            .join(AccountRow, AccountRow.id == AccountPatientRow.account_id)
            .where(
                AccountRow.channel == channel,
                AccountRow.user_id == user_hash,
                WaitlistRow.status.in_(_IN_LINE),
            )
            .order_by(ClinicSessionRow.visit_date, WaitlistRow.id)
        )
        return [
            WaitingView(
                entry_id=row.id,
                status=WaitStatus(row.status),
                position=int(position),
                session_id=row.session_id,
                visit_date=visit_date,
                patient_name=name,
                offer_expires_at=row.offer_expires_at,
            )
            for row, visit_date, name, position in rows.all()
        ]

    async def _close(self, which: Any, now: datetime) -> list[WaitlistEntry]:
        rows = await self.tx.scalars(
            update(WaitlistRow)
            .where(which, WaitlistRow.status.in_(_IN_LINE))
            .values(status=WaitStatus.CLOSED.value, updated_at=now)
            .returning(WaitlistRow)
            .execution_options(synchronize_session=False)
        )
        return [_entry(r) for r in rows.all()]

    async def _update(self, entry_id: int, expected: tuple[WaitStatus, ...], **values: Any) -> bool:
        done = await self.tx.execute(
            update(WaitlistRow)
            .where(WaitlistRow.id == entry_id, WaitlistRow.status.in_([s.value for s in expected]))
            .values(**values)
            .returning(WaitlistRow.id)
            .execution_options(synchronize_session=False)
        )
        return done.first() is not None


def _entry(row: WaitlistRow) -> WaitlistEntry:
    return WaitlistEntry(
        id=row.id,
        session_id=row.session_id,
        patient_id=row.patient_id,
        account_id=row.account_id,
        channel=row.channel,
        status=WaitStatus(row.status),
        joined_at=row.joined_at,
        closes_at=row.closes_at,
        queue_no=row.queue_no,
        offer_expires_at=row.offer_expires_at,
        booking_no=row.booking_no,
    )
