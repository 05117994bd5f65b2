"""Back-office accounts, their logins, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from booking.errors import UsernameTaken
from booking.staff.model import AuditEntry, AuditFilter, Role, StaffAccount, StaffLogin
from booking.staff.ports import NewStaff
from booking.store.tables.logs import AuditRow
from booking.store.tables.staff import StaffAccountRow, StaffLoginRow


def _same(column: InstrumentedAttribute[Any], value: object) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _account(row: StaffAccountRow) -> StaffAccount:
    return StaffAccount(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        department_code=row.department_code,
        password_hash=row.password_hash,
        disabled=row.disabled,
        failures=tuple(datetime.fromisoformat(t) for t in row.failures),
        locked_until=row.locked_until,
        created_at=row.created_at,
    )


def _login(row: StaffLoginRow) -> StaffLogin:
    return StaffLogin(
        token_hash=row.token_hash,
        staff_id=row.staff_id,
        csrf_token=row.csrf_token,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
    )


class SqlStaff:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def add(self, new: NewStaff, now: datetime) -> StaffAccount:
        row = StaffAccountRow(
            username=new.username,
            role=new.role.value,
            department_code=new.department_code,
            password_hash=new.password_hash,
            disabled=False,
            failures=[],
            locked_until=None,
            created_at=now,
        )
        try:
            async with self.tx.begin_nested():
                self.tx.add(row)
        except IntegrityError:
            raise UsernameTaken("this username is taken", username=new.username) from None
        return _account(row)

    async def get(self, staff_id: int) -> StaffAccount | None:
        row = await self.tx.get(StaffAccountRow, staff_id)
        return _account(row) if row else None

    async def by_username(self, username: str, *, lock: bool = False) -> StaffAccount | None:
        query = select(StaffAccountRow).where(StaffAccountRow.username == username)
        if lock:  # wrong passwords typed at once in two browsers both count
            query = query.with_for_update()
        row = await self.tx.scalar(query)
        return _account(row) if row else None

    async def everyone(self) -> list[StaffAccount]:
        rows = await self.tx.scalars(select(StaffAccountRow).order_by(StaffAccountRow.username))
        return [_account(row) for row in rows]

    async def save_sign_in_state(
        self, staff_id: int, failures: tuple[datetime, ...], locked_until: datetime | None
    ) -> None:
        await self.tx.execute(
            update(StaffAccountRow)
            .where(StaffAccountRow.id == staff_id)
            .values(failures=[t.isoformat() for t in failures], locked_until=locked_until)
        )

    async def set_password(self, staff_id: int, password_hash: str) -> None:
        await self.tx.execute(
            update(StaffAccountRow)
            .where(StaffAccountRow.id == staff_id)
            .values(password_hash=password_hash, failures=[], locked_until=None)
        )

    async def disable(self, staff_id: int) -> None:
        await self.tx.execute(
            update(StaffAccountRow).where(StaffAccountRow.id == staff_id).values(disabled=True)
        )

    async def open_login(self, login: StaffLogin) -> None:
        self.tx.add(
            StaffLoginRow(
                token_hash=login.token_hash,
                staff_id=login.staff_id,
                csrf_token=login.csrf_token,
                created_at=login.created_at,
                last_seen_at=login.last_seen_at,
            )
        )

    async def login(self, token_hash: str) -> StaffLogin | None:
        row = await self.tx.get(StaffLoginRow, token_hash)
        return _login(row) if row else None

    async def touch_login(self, token_hash: str, now: datetime) -> None:
        await self.tx.execute(
            update(StaffLoginRow)
            .where(StaffLoginRow.token_hash == token_hash)
            .values(last_seen_at=now)
        )

    async def end_login(self, token_hash: str) -> bool:
        done = await self.tx.execute(
            delete(StaffLoginRow)
            .where(StaffLoginRow.token_hash == token_hash)
            .returning(StaffLoginRow.token_hash)
        )
        return bool(done.all())

    async def end_logins_of(self, staff_id: int) -> int:
        done = await self.tx.execute(
            delete(StaffLoginRow)
            .where(StaffLoginRow.staff_id == staff_id)
            .returning(StaffLoginRow.token_hash)
        )
        return len(done.all())

    async def purge_logins(self, created_before: datetime, seen_before: datetime) -> int:
        done = await self.tx.execute(
            delete(StaffLoginRow)
            .where(
                or_(
                    StaffLoginRow.created_at < created_before,
                    StaffLoginRow.last_seen_at < seen_before,
                )
            )
            .returning(StaffLoginRow.token_hash)
        )
        return len(done.all())


class SqlAudit:
    def __init__(self, tx: AsyncSession) -> None:
        self.tx = tx

    async def add(self, entry: AuditEntry) -> None:
        self.tx.add(
            AuditRow(
                at=entry.at,
                staff_id=entry.staff_id,
                username=entry.username,
                action=entry.action,
                target=entry.target,
                before=entry.before,
                after=entry.after,
                address=entry.address[:64] if entry.address else None,
            )
        )

    async def add_or_count(self, entry: AuditEntry, since: datetime) -> None:
        address = entry.address[:64] if entry.address else None
        query = (
            select(AuditRow.id, AuditRow.before, AuditRow.after)
            .where(
                AuditRow.action == entry.action,
                AuditRow.at >= since,
                _same(AuditRow.staff_id, entry.staff_id),
                _same(AuditRow.username, entry.username),
                _same(AuditRow.address, address),
                _same(AuditRow.target, entry.target),
            )
            .order_by(AuditRow.id.desc())
            .limit(20)
        )
        for row_id, before, after in await self.tx.execute(query):
            if before == entry.before and after == entry.after:  # JSON compared here, portably
                await self.tx.execute(
                    update(AuditRow).where(AuditRow.id == row_id).values(times=AuditRow.times + 1)
                )
                return
        await self.add(entry)

    async def page(self, f: AuditFilter) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc())
        if f.username:
            query = query.where(AuditRow.username == f.username)
        if f.action:
            query = query.where(AuditRow.action == f.action)
        query = query.offset((max(f.page, 1) - 1) * f.per_page).limit(f.per_page + 1)
        return [
            AuditEntry(
                at=row.at,
                action=row.action,
                staff_id=row.staff_id,
                username=row.username,
                target=row.target,
                before=row.before,
                after=row.after,
                address=row.address,
                id=row.id,
                times=row.times,
            )
            for row in await self.tx.scalars(query)
        ]
