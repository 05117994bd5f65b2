"""Notices in the database: added with the change, claimed by dispatchers, marked."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from booking.appointments.notices import NewNotice, Notice, NoticeKind, NoticeStatus
from booking.store.tables.notices import NoticeRow
from booking.store.tables.patients import AccountRow

_WITHDRAWN = "withdrawn"


class SqlNotices:
    def __init__(self, tx: AsyncSession, *, postgres: bool) -> None:
        self.tx = tx
        self._insert: Any = postgresql.insert if postgres else sqlite.insert

    async def add(self, notices: list[NewNotice], now: datetime) -> None:
        if not notices:
            return
        rows = [
            {"key": n.key, "kind": n.kind.value, "account_id": n.account_id,
             "appointment_id": n.appointment_id, "payload": json.dumps(n.payload),
             "due_at": n.due_at, "not_after": n.not_after,
             "status": NoticeStatus.PENDING.value, "next_try_at": n.due_at, "attempts": 0,
             "created_at": now}
            for n in notices
        ]  # fmt: skip
        insert = self._insert(NoticeRow).values(rows)
        # A key written twice is kept once; but a reminder withdrawn when its booking moved away
        # is due again when the booking moves back (A -> B -> A): the same key, written anew.
        again = {
            name: insert.excluded[name]
            for name in ("payload", "due_at", "not_after", "status", "next_try_at", "attempts")
        }
        await self.tx.execute(
            insert.on_conflict_do_update(
                index_elements=[NoticeRow.key],
                set_={**again, "last_error": None, "sent_at": None},
                where=(NoticeRow.status == NoticeStatus.VOID.value)
                & (NoticeRow.last_error == _WITHDRAWN),
            )
        )

    async def withdraw(self, appointment_id: int, kinds: tuple[NoticeKind, ...]) -> None:
        await self.tx.execute(
            update(NoticeRow)
            .where(
                NoticeRow.appointment_id == appointment_id,
                NoticeRow.status == NoticeStatus.PENDING.value,
                NoticeRow.kind.in_([k.value for k in kinds]),
            )
            .values(status=NoticeStatus.VOID.value, last_error=_WITHDRAWN)
            .execution_options(synchronize_session=False)
        )

    async def claim(
        self,
        now: datetime,
        until: datetime,
        limit: int,
        *,
        channels: Collection[str] | None = None,
        other_than: Collection[str] | None = None,
    ) -> list[Notice]:
        # One conditional update claims a batch: of two dispatchers, one gets each notice; a
        # claim runs out at `until`, so a dispatcher that died mid-batch delays, not loses.
        # On PostgreSQL, rows another dispatcher is claiming are skipped, not waited for.
        due = (NoticeRow.status == NoticeStatus.PENDING.value, NoticeRow.next_try_at <= now)
        batch = select(NoticeRow.id).where(*due)
        if channels is not None:
            on = AccountRow.channel.in_(channels)
            batch = batch.where(NoticeRow.account_id.in_(_accounts_on(on)))
        if other_than is not None:
            batch = batch.where(
                or_(
                    NoticeRow.account_id.is_(None),
                    NoticeRow.account_id.in_(_accounts_on(AccountRow.channel.not_in(other_than))),
                )
            )
        batch = (
            batch.order_by(NoticeRow.next_try_at, NoticeRow.due_at, NoticeRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = (
            await self.tx.scalars(
                update(NoticeRow)
                .where(*due, NoticeRow.id.in_(batch.scalar_subquery()))
                .values(next_try_at=until)
                .returning(NoticeRow.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
        if not claimed:
            return []
        rows = await self.tx.scalars(
            select(NoticeRow)
            .where(NoticeRow.id.in_(claimed))
            .order_by(NoticeRow.due_at, NoticeRow.id)
        )
        return [_notice(row) for row in rows]

    async def extend(
        self, notice_ids: list[int], claimed_until: datetime, until: datetime
    ) -> list[int]:
        # A later claim of a notice always ends later than an earlier one: the end of the
        # claim tells whose it is.
        if not notice_ids:
            return []
        return list(
            (
                await self.tx.scalars(
                    update(NoticeRow)
                    .where(
                        NoticeRow.id.in_(notice_ids),
                        NoticeRow.status == NoticeStatus.PENDING.value,
                        NoticeRow.next_try_at == claimed_until,
                    )
                    .values(next_try_at=until)
                    .returning(NoticeRow.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        )

    async def sent(self, notice_id: int, now: datetime) -> None:
        await self._mark(notice_id, status=NoticeStatus.SENT.value, sent_at=now)

    async def void(self, notice_id: int, why: str) -> None:
        await self._mark(notice_id, status=NoticeStatus.VOID.value, last_error=why[:200])

    async def failed(self, notice_id: int, error: str, retry_at: datetime | None) -> None:
        tried = NoticeRow.attempts + 1
        if retry_at is None:
            await self._mark(
                notice_id, status=NoticeStatus.DEAD.value, last_error=error[:200], attempts=tried
            )
        else:
            await self._mark(
                notice_id, next_try_at=retry_at, last_error=error[:200], attempts=tried
            )

    async def postpone(self, notice_ids: list[int], until: datetime) -> None:
        if notice_ids:
            await self.tx.execute(
                update(NoticeRow)
                .where(NoticeRow.id.in_(notice_ids))
                .values(next_try_at=until)
                .execution_options(synchronize_session=False)
            )

    async def pending_before(self, account_id: int, until: datetime) -> list[int]:
        """The account's pending notices due to be tried before `until`."""
        return list(
            (
                await self.tx.scalars(
                    select(NoticeRow.id).where(
                        NoticeRow.account_id == account_id,
                        NoticeRow.status == NoticeStatus.PENDING.value,
                        NoticeRow.next_try_at < until,
                    )
                )
            ).all()
        )

    async def address(self, account_id: int) -> tuple[str, str | None, bool]:
        row = (
            await self.tx.execute(
                select(AccountRow.channel, AccountRow.address_cipher, AccountRow.quiet).where(
                    AccountRow.id == account_id
                )
            )
        ).one()
        return row.channel, row.address_cipher, bool(row.quiet)

    async def counts(self) -> dict[str, int]:
        rows = await self.tx.execute(
            select(NoticeRow.status, func.count()).group_by(NoticeRow.status)
        )
        return {status: int(count) for status, count in rows.all()}

    async def _mark(self, notice_id: int, **values: Any) -> None:
        await self.tx.execute(
            update(NoticeRow)
            .where(NoticeRow.id == notice_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _accounts_on(channel: Any) -> Any:
    return select(AccountRow.id).where(channel).scalar_subquery()


def _notice(row: NoticeRow) -> Notice:
    return Notice(
        id=row.id,
        key=row.key,
        kind=NoticeKind(row.kind),
        account_id=row.account_id,
        appointment_id=row.appointment_id,
        due_at=row.due_at,
        not_after=row.not_after,
        payload=json.loads(row.payload),
        attempts=row.attempts,
    )
