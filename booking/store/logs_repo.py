"""The booking log and the operation-error log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from booking.store.tables import BookingLogRow, OperationErrorRow


class SqlLogs:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def booking_event(
        self, now: datetime, event: str, booking_no: str | None, detail: dict[str, Any]
    ) -> None:
        self.s.add(BookingLogRow(at=now, event=event, booking_no=booking_no, detail=detail))

    async def operation_error(
        self, now: datetime, operation: str, reason: str, detail: dict[str, Any]
    ) -> None:
        self.s.add(
            OperationErrorRow(at=now, operation=operation[:32], reason=reason[:32], detail=detail)
        )

    async def purge(self, before: datetime) -> tuple[int, int]:
        booked = await self.s.execute(
            delete(BookingLogRow).where(BookingLogRow.at < before).returning(BookingLogRow.id)
        )
        errors = await self.s.execute(
            delete(OperationErrorRow)
            .where(OperationErrorRow.at < before)
            .returning(OperationErrorRow.id)
        )
        return len(booked.all()), len(errors.all())
