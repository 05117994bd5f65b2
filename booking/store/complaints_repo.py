"""Complaints and what staff did with them: rows in, domain records out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.complaints.model import (
    Action,
    ActionTaken,
    Complaint,
    ComplaintCategory,
    ComplaintNumberTaken,
    ComplaintStatus,
    StaffMember,
)
from booking.complaints.ports import NewComplaint, SealedAnswer, SealedComplaint
from booking.store.tables.complaints import ComplaintActionRow, ComplaintRow


def _complaint(row: ComplaintRow) -> Complaint:
    accepted = None
    if row.accepted_by is not None:
        accepted = StaffMember(row.accepted_by, row.accepted_name or "")
    return Complaint(
        complaint_no=row.complaint_no,
        category=ComplaintCategory(row.category),
        department_code=row.department_code,
        status=ComplaintStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        channel=row.channel,
        answerable=row.user_cipher is not None,
        language=row.language,
        level=row.level,
        accept_by=row.accept_by,
        accepted_by=accepted,
        accepted_at=row.accepted_at,
    )


def _sealed(row: ComplaintRow) -> SealedComplaint:
    return SealedComplaint(_complaint(row), row.text, row.user_cipher)


def _action(row: ComplaintActionRow) -> ActionTaken:
    staff = None
    if row.staff_id is not None:
        staff = StaffMember(row.staff_id, row.staff_name or "")
    return ActionTaken(
        complaint_no=row.complaint_no,
        action=Action(row.action),
        at=row.at,
        level=row.level,
        staff=staff,
        department_code=row.department_code,
        text=row.text,
    )


CLAIM_BATCH = 20


class SqlComplaints:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def add(self, new: NewComplaint, now: datetime) -> Complaint:
        if await self.tx.get(ComplaintRow, new.complaint_no) is not None:
            raise ComplaintNumberTaken("complaint number in use")
        row = ComplaintRow(
            complaint_no=new.complaint_no,
            category=new.category.value,
            department_code=new.department_code,
            text=new.sealed_text,
            channel=new.channel,
            user_hash=new.user_hash,
            user_cipher=new.user_cipher,
            address_hash=new.address_hash,
            language=new.language,
            status=ComplaintStatus.RECEIVED.value,
            level=0,
            accept_by=new.accept_by,
            post_due_at=now,
            created_at=now,
            updated_at=now,
        )
        self.tx.add(row)
        await self.tx.flush()  # a number drawn twice at the same instant: TryAgain, once in years
        return _complaint(row)

    async def filed_since(
        self, since: datetime, *, user_hash: str | None = None, address_hash: str | None = None
    ) -> int:
        query = select(func.count()).select_from(ComplaintRow)
        query = query.where(ComplaintRow.created_at > since)
        if user_hash is not None:
            query = query.where(ComplaintRow.user_hash == user_hash)
        if address_hash is not None:
            query = query.where(ComplaintRow.address_hash == address_hash)
        return int(await self.tx.scalar(query) or 0)

    async def _row(self, complaint_no: str, *, lock: bool = False) -> ComplaintRow | None:
        query = select(ComplaintRow).where(ComplaintRow.complaint_no == complaint_no)
        if lock:  # PostgreSQL: two staff pressing at once take turns (SQLite writers do anyway)
            query = query.with_for_update()
        return await self.tx.scalar(query)

    async def get(self, complaint_no: str, *, lock: bool = False) -> Complaint | None:
        row = await self._row(complaint_no, lock=lock)
        return _complaint(row) if row else None

    async def sealed(self, complaint_no: str) -> SealedComplaint | None:
        row = await self._row(complaint_no)
        return _sealed(row) if row else None

    async def update(self, complaint: Complaint, *, post: bool = False) -> None:
        accepted = complaint.accepted_by
        values = {
            "status": complaint.status.value,
            "department_code": complaint.department_code,
            "level": complaint.level,
            "accept_by": complaint.accept_by,
            "accepted_by": accepted.id if accepted else None,
            "accepted_name": accepted.name if accepted else None,
            "accepted_at": complaint.accepted_at,
            "updated_at": complaint.updated_at,
        }
        if post:
            values["post_due_at"] = complaint.updated_at
        await self.tx.execute(
            update(ComplaintRow)
            .where(ComplaintRow.complaint_no == complaint.complaint_no)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def record(self, action: ActionTaken, *, tell: bool) -> None:
        staff = action.staff
        self.tx.add(
            ComplaintActionRow(
                complaint_no=action.complaint_no, action=action.action.value,
                staff_id=staff.id if staff else None, staff_name=staff.name if staff else None,
                department_code=action.department_code, level=action.level, text=action.text,
                at=action.at, tell_due_at=action.at if tell else None,
            )
        )  # fmt: skip
        await self.tx.flush()

    async def actions(self, complaint_no: str) -> list[ActionTaken]:
        rows = await self.tx.scalars(
            select(ComplaintActionRow)
            .where(ComplaintActionRow.complaint_no == complaint_no)
            .order_by(ComplaintActionRow.id)
        )
        return [_action(row) for row in rows]

    async def overdue(self, now: datetime, below_level: int) -> list[Complaint]:
        rows = await self.tx.scalars(
            select(ComplaintRow)
            .where(
                ComplaintRow.accept_by <= now,
                ComplaintRow.accepted_by.is_(None),
                ComplaintRow.level < below_level,
                ComplaintRow.status != ComplaintStatus.CLOSED.value,
            )
            .order_by(ComplaintRow.accept_by)
        )
        return [_complaint(row) for row in rows]

    async def claim_posts(
        self, now: datetime, until: datetime, complaint_no: str | None = None
    ) -> list[SealedComplaint]:
        # One conditional update claims them: of two processes, one gets each complaint.
        # A few at a time: a staff group takes 20 posts a minute, and a claim must not run out
        # before its posts are out (another process would post them again).
        where = [ComplaintRow.post_due_at <= now]
        if complaint_no is not None:
            where.append(ComplaintRow.complaint_no == complaint_no)
        batch = (
            select(ComplaintRow.complaint_no)
            .where(*where)
            .order_by(ComplaintRow.post_due_at)
            .limit(CLAIM_BATCH)
        )
        claimed = (
            await self.tx.scalars(
                update(ComplaintRow)
                .where(*where, ComplaintRow.complaint_no.in_(batch.scalar_subquery()))
                .values(post_due_at=until)
                .returning(ComplaintRow.complaint_no)
                .execution_options(synchronize_session=False)
            )
        ).all()
        if not claimed:
            return []
        rows = await self.tx.scalars(
            select(ComplaintRow)
            .where(ComplaintRow.complaint_no.in_(claimed))
            .order_by(ComplaintRow.created_at)
        )
        return [_sealed(row) for row in rows]

    async def posted(self, complaint_no: str, claimed_until: datetime) -> None:
        await self.tx.execute(
            update(ComplaintRow)
            .where(
                ComplaintRow.complaint_no == complaint_no,
                ComplaintRow.post_due_at == claimed_until,
            )
            .values(post_due_at=None)
            .execution_options(synchronize_session=False)
        )

    async def claim_answers(self, now: datetime, until: datetime) -> list[SealedAnswer]:
        batch = (
            select(ComplaintActionRow.id)
            .where(ComplaintActionRow.tell_due_at <= now)
            .order_by(ComplaintActionRow.id)
            .limit(CLAIM_BATCH)
        )
        claimed = (
            await self.tx.scalars(
                update(ComplaintActionRow)
                .where(
                    ComplaintActionRow.tell_due_at <= now,
                    ComplaintActionRow.id.in_(batch.scalar_subquery()),
                )
                .values(tell_due_at=until)
                .returning(ComplaintActionRow.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
        if not claimed:
            return []
        rows = await self.tx.execute(
            select(ComplaintActionRow, ComplaintRow)
            .join(ComplaintRow, ComplaintRow.complaint_no == ComplaintActionRow.complaint_no)
            .where(ComplaintActionRow.id.in_(claimed))
            .order_by(ComplaintActionRow.id)
        )
        return [SealedAnswer(action.id, _action(action), _sealed(c)) for action, c in rows]

    async def told(self, action_id: int) -> None:
        await self.tx.execute(
            update(ComplaintActionRow)
            .where(ComplaintActionRow.id == action_id)
            .values(tell_due_at=None)
            .execution_options(synchronize_session=False)
        )
