"""Conversations and handled messages: opaque strings under hashed keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.ports import StoredConversation
from booking.store.tables import ConversationRow, HandledMessageRow


class SqlConversations:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def get(self, channel: str, user_hash: str) -> StoredConversation | None:
        row = (
            await self.s.execute(
                select(ConversationRow.state, ConversationRow.version).where(
                    ConversationRow.channel == channel, ConversationRow.user_hash == user_hash
                )
            )
        ).first()
        return StoredConversation(row.state, row.version) if row else None

    async def put(
        self, channel: str, user_hash: str, state: str, version: int, now: datetime
    ) -> bool:
        if version == 0:
            exists = await self.get(channel, user_hash)
            if exists is not None:
                return False
            self.s.add(ConversationRow(
                channel=channel, user_hash=user_hash, state=state, version=1, updated_at=now
            ))  # fmt: skip
            await self.s.flush()  # a concurrent insert fails here on the unique constraint
            return True
        done = await self.s.execute(
            update(ConversationRow)
            .where(
                ConversationRow.channel == channel,
                ConversationRow.user_hash == user_hash,
                ConversationRow.version == version,
            )
            .values(state=state, version=version + 1, updated_at=now)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def replies(self, channel: str, message_hash: str) -> str | None:
        return await self.s.scalar(
            select(HandledMessageRow.replies).where(
                HandledMessageRow.channel == channel,
                HandledMessageRow.message_hash == message_hash,
            )
        )

    async def handled(self, channel: str, message_hash: str, replies: str, now: datetime) -> None:
        self.s.add(
            HandledMessageRow(
                channel=channel, message_hash=message_hash, replies=replies, handled_at=now
            )
        )

    async def purge(self, before: datetime) -> int:
        messages = await self.s.execute(
            delete(HandledMessageRow).where(HandledMessageRow.handled_at < before)
        )
        conversations = await self.s.execute(
            delete(ConversationRow).where(ConversationRow.updated_at < before)
        )
        return int(messages.rowcount + conversations.rowcount)  # type: ignore[attr-defined]
