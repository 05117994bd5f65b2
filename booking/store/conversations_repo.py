"""Conversations and handled messages: opaque strings under hashed keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.patients.ports import ConversationSave, StoredConversation
from booking.store.tables.appointments import BookingRequestRow
from booking.store.tables.conversations import ConversationRow, HandledMessageRow
from booking.store.tables.notices import WebInboxRow

_MINE = (
    ConversationRow.channel == bindparam("channel"),
    ConversationRow.user_hash == bindparam("user_hash"),
)
# Read on every message, so built once. One statement for both: on SQLite each statement is
# several trips to the database's thread, and they cost more than the query.
_RESUME = select(
    select(ConversationRow.state).where(*_MINE).scalar_subquery(),
    select(ConversationRow.version).where(*_MINE).scalar_subquery(),
    select(HandledMessageRow.replies)
    .where(
        HandledMessageRow.channel == bindparam("channel"),
        HandledMessageRow.message_hash == bindparam("message"),
    )
    .scalar_subquery(),
)


_RESUME_SQLITE = str(_RESUME.compile(dialect=sqlite.dialect(paramstyle="named")))


class SqlConversations:
    def __init__(self, tx: AsyncSession, *, postgres: bool) -> None:
        self.tx = tx
        self._insert: Any = postgresql.insert if postgres else sqlite.insert
        self._sqlite = not postgres

    async def get(self, channel: str, user_hash: str) -> StoredConversation | None:
        row = (
            await self.tx.execute(
                select(ConversationRow.state, ConversationRow.version).where(
                    ConversationRow.channel == channel, ConversationRow.user_hash == user_hash
                )
            )
        ).first()
        return StoredConversation(row.state, row.version) if row else None

    async def resume(
        self, channel: str, user_hash: str, message_hash: str
    ) -> tuple[StoredConversation | None, str | None]:
        params = {"channel": channel, "user_hash": user_hash, "message": message_hash}
        if self._sqlite:
            # Straight to the driver: one trip to SQLite's thread instead of the adapter's four.
            driver = (await (await self.tx.connection()).get_raw_connection()).driver_connection
            assert driver is not None
            rows = await driver.execute_fetchall(_RESUME_SQLITE, params)
            state, version, replies = rows[0]
        else:
            state, version, replies = (await self.tx.execute(_RESUME, params)).one()
        return (None if state is None else StoredConversation(state, version)), replies

    async def put(
        self, channel: str, user_hash: str, state: str, version: int, now: datetime
    ) -> bool:
        if version == 0:
            try:
                await self.tx.execute(insert(ConversationRow).values(
                    channel=channel, user_hash=user_hash, state=state, version=1, updated_at=now
                ))  # fmt: skip
            except IntegrityError:  # saved meanwhile; the caller rolls back and reads again
                return False
            return True
        done = await self.tx.execute(
            update(ConversationRow)
            .where(
                ConversationRow.channel == channel,
                ConversationRow.user_hash == user_hash,
                ConversationRow.version == version,
            )
            .values(state=state, version=version + 1, updated_at=now)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def put_many(self, saves: list[ConversationSave], now: datetime) -> list[bool]:
        # Two statements for the whole batch, whatever its size: on SQLite each statement is
        # several trips to the database's thread, and they cost more than the writing.
        if len({(save.channel, save.user_hash) for save in saves}) != len(saves):
            raise ValueError("one save per conversation in a batch")
        fresh = await self._remember_new(saves, now)
        keep = [
            save
            for save in saves
            if save.message_hash is None or (save.channel, save.message_hash) in fresh
        ]
        if not keep:
            return [False] * len(saves)
        kept = {(save.channel, save.user_hash) for save in keep}
        row = self._insert(ConversationRow).values([
            {"channel": save.channel, "user_hash": save.user_hash, "state": save.state,
             "version": save.version + 1, "updated_at": now}
            for save in keep
        ])  # fmt: skip
        # A new conversation (version 0) must not exist yet; a known one must still be at the
        # version read. Rows that fail the condition are neither written nor returned.
        upsert = row.on_conflict_do_update(
            index_elements=[ConversationRow.channel, ConversationRow.user_hash],
            set_={"state": row.excluded.state, "version": row.excluded.version,
                  "updated_at": row.excluded.updated_at},
            where=ConversationRow.version == row.excluded.version - 1,
        ).returning(ConversationRow.channel, ConversationRow.user_hash)  # fmt: skip
        saved = {(r.channel, r.user_hash) for r in await self.tx.execute(upsert)}
        lost = [
            save
            for save in keep
            if (save.channel, save.user_hash) not in saved and save.message_hash is not None
        ]
        if lost:  # their messages are handled again, after a fresh read
            await self.tx.execute(
                delete(HandledMessageRow).where(
                    or_(*(
                        and_(HandledMessageRow.channel == save.channel,
                             HandledMessageRow.message_hash == save.message_hash)
                        for save in lost
                    ))
                )
            )  # fmt: skip
        return [(key := (save.channel, save.user_hash)) in saved and key in kept for save in saves]

    async def _remember_new(
        self, saves: list[ConversationSave], now: datetime
    ) -> set[tuple[str, str]]:
        rows = [
            {"channel": save.channel, "message_hash": save.message_hash,
             "replies": save.replies, "handled_at": now}
            for save in saves
            if save.message_hash is not None
        ]  # fmt: skip
        if not rows:
            return set()
        done = await self.tx.execute(
            self._insert(HandledMessageRow)
            .values(rows)
            .on_conflict_do_nothing()
            .returning(HandledMessageRow.channel, HandledMessageRow.message_hash)
        )
        return {(r.channel, r.message_hash) for r in done}

    async def replies(self, channel: str, message_hash: str) -> str | None:
        return await self.tx.scalar(
            select(HandledMessageRow.replies).where(
                HandledMessageRow.channel == channel,
                HandledMessageRow.message_hash == message_hash,
            )
        )

    async def handled(self, channel: str, message_hash: str, replies: str, now: datetime) -> None:
        await self.tx.execute(
            insert(HandledMessageRow).values(
                channel=channel, message_hash=message_hash, replies=replies, handled_at=now
            )
        )

    async def leave(self, channel: str, user_hash: str, message: str, now: datetime) -> None:
        await self.tx.execute(
            insert(WebInboxRow).values(
                channel=channel, user_hash=user_hash, message=message, created_at=now
            )
        )

    async def collect(self, channel: str, user_hash: str, limit: int) -> list[str]:
        """The messages left for this user, oldest first, taken away."""
        rows = (
            await self.tx.execute(
                select(WebInboxRow.id, WebInboxRow.message)
                .where(WebInboxRow.channel == channel, WebInboxRow.user_hash == user_hash)
                .order_by(WebInboxRow.id)
                .limit(limit)
            )
        ).all()
        if rows:
            await self.tx.execute(
                delete(WebInboxRow).where(WebInboxRow.id.in_([r.id for r in rows]))
            )
        return [r.message for r in rows]

    async def purge(self, before: datetime) -> int:
        messages = await self.tx.execute(
            delete(HandledMessageRow).where(HandledMessageRow.handled_at < before)
        )
        conversations = await self.tx.execute(
            delete(ConversationRow).where(ConversationRow.updated_at < before)
        )
        await self.tx.execute(delete(WebInboxRow).where(WebInboxRow.created_at < before))
        # A message's booking is remembered as long as the message itself.
        await self.tx.execute(delete(BookingRequestRow).where(BookingRequestRow.made_at < before))
        return int(messages.rowcount + conversations.rowcount)  # type: ignore[attr-defined]
