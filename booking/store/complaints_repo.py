"""Complaints: rows in, domain records out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.complaints import (
    Complaint,
    ComplaintCategory,
    ComplaintNumberTaken,
    ComplaintStatus,
)
from booking.store.tables import ComplaintRow


def _complaint(row: ComplaintRow) -> Complaint:
    return Complaint(
        complaint_no=row.complaint_no,
        category=ComplaintCategory(row.category),
        department_code=row.department_code,
        status=ComplaintStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlComplaints:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(
        self,
        complaint_no: str,
        category: ComplaintCategory,
        department_code: str | None,
        sealed_text: str,
        channel: str,
        user_hash: str,
        now: datetime,
    ) -> Complaint:
        row = ComplaintRow(
            complaint_no=complaint_no,
            category=category.value,
            department_code=department_code,
            text=sealed_text,
            channel=channel,
            user_hash=user_hash,
            status=ComplaintStatus.RECEIVED.value,
            created_at=now,
            updated_at=now,
        )
        if await self.get(complaint_no) is not None:
            raise ComplaintNumberTaken("complaint number in use")
        self.s.add(row)
        await self.s.flush()  # a number drawn twice at the same instant: TryAgain, once in years
        return _complaint(row)

    async def get(self, complaint_no: str) -> Complaint | None:
        row = await self.s.scalar(
            select(ComplaintRow).where(ComplaintRow.complaint_no == complaint_no)
        )
        return _complaint(row) if row else None
