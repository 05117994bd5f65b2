"""The booking log and the operation-error log; and the purge of old audit rows, which the
retention job runs with theirs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.staff.model import LogEntry, LogFilter, LogKind
from booking.store.tables.logs import AuditRow, BookingLogRow, OperationErrorRow


class SqlLogs:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def booking_event(
        self, now: datetime, event: str, booking_no: str | None, detail: dict[str, Any]
    ) -> None:
        self.tx.add(BookingLogRow(at=now, event=event, booking_no=booking_no, detail=detail))

    async def operation_error(
        self, now: datetime, operation: str, reason: str, detail: dict[str, Any]
    ) -> None:
        self.tx.add(
            OperationErrorRow(at=now, operation=operation[:32], reason=reason[:32], detail=detail)
        )

    async def purge(self, before: datetime) -> tuple[int, int]:
        booked = await self.tx.execute(
            delete(BookingLogRow).where(BookingLogRow.at < before).returning(BookingLogRow.id)
        )
        errors = await self.tx.execute(
            delete(OperationErrorRow)
            .where(OperationErrorRow.at < before)
            .returning(OperationErrorRow.id)
        )
        return len(booked.all()), len(errors.all())

    async def purge_audit(self, before: datetime) -> int:
        gone = await self.tx.execute(
            delete(AuditRow).where(AuditRow.at < before).returning(AuditRow.id)
        )
        return len(gone.all())

    async def search(self, f: LogFilter) -> list[LogEntry]:
        if f.kind is LogKind.BOOKINGS:
            return await self._bookings(f)
        return await self._errors(f)

    async def _bookings(self, f: LogFilter) -> list[LogEntry]:
        row = BookingLogRow
        where: list[ColumnElement[bool]] = _period(row.at, f)
        if f.event:
            where.append(row.event.startswith(f.event, autoescape=True))
        if f.booking_no:
            where.append(row.booking_no == f.booking_no)
        if f.reason:  # a cancellation's reason is in its detail
            where.append(row.detail["reason"].as_string() == f.reason)
        query = select(row).where(*where).order_by(row.at.desc(), row.id.desc())
        return [
            LogEntry(r.id, r.at, r.event, r.booking_no, _reason(r.detail), r.detail)
            for r in await self.tx.scalars(_paged(query, f))
        ]

    async def _errors(self, f: LogFilter) -> list[LogEntry]:
        row = OperationErrorRow
        where: list[ColumnElement[bool]] = _period(row.at, f)
        if f.event:
            where.append(row.operation.startswith(f.event, autoescape=True))
        if f.booking_no:  # an error about one booking names it in its detail
            where.append(row.detail["booking_no"].as_string() == f.booking_no)
        if f.reason:
            where.append(row.reason == f.reason)
        query = select(row).where(*where).order_by(row.at.desc(), row.id.desc())
        return [
            LogEntry(r.id, r.at, r.operation, _booking_no(r.detail), r.reason, r.detail)
            for r in await self.tx.scalars(_paged(query, f))
        ]


def _period(at: Any, f: LogFilter) -> list[ColumnElement[bool]]:
    where = []
    if f.since is not None:
        where.append(at >= f.since)
    if f.until is not None:
        where.append(at < f.until)
    return where


def _paged(query: Any, f: LogFilter) -> Any:
    return query.offset((max(f.page, 1) - 1) * f.per_page).limit(f.per_page + 1)


def _reason(detail: dict[str, Any]) -> str | None:
    reason = detail.get("reason") if isinstance(detail, dict) else None
    return str(reason) if reason is not None else None


def _booking_no(detail: dict[str, Any]) -> str | None:
    number = detail.get("booking_no") if isinstance(detail, dict) else None
    return str(number) if number is not None else None
