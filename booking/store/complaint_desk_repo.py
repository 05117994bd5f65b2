"""Complaints listed for the back office's complaint desk: rows in, domain records out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.complaints.model import Complaint, ComplaintStatus
from booking.store.complaints_repo import _complaint
from booking.store.tables.complaints import ComplaintRow


class SqlComplaintDesk:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def listed(
        self,
        *,
        statuses: tuple[ComplaintStatus, ...] | None,
        department_code: str | None,
        limit: int,
    ) -> list[Complaint]:
        query = select(ComplaintRow)
        if statuses is not None:
            query = query.where(ComplaintRow.status.in_([s.value for s in statuses]))
        if department_code is not None:
            query = query.where(ComplaintRow.department_code == department_code)
        query = query.order_by(ComplaintRow.created_at.desc(), ComplaintRow.complaint_no.desc())
        return [_complaint(row) for row in await self.tx.scalars(query.limit(limit))]
