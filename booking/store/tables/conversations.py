"""The bot's memory of a chat: where each conversation is, and the messages already answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base, UtcDateTime


class ConversationRow(Base):
    """Where a patient is in a conversation with the bot, per channel and user. The user is
    known only by a keyed hash (an SMS user id is a phone number) and the state is encrypted
    (it may hold what the patient typed, an ID number half-way through a registration)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(Text)
    # Raised by every save: two processes answering the same patient cannot both win.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class HandledMessageRow(Base):
    """A message already answered, with its (encrypted) replies: a message delivered twice is
    answered the same way and handled once."""

    __tablename__ = "handled_messages"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    replies: Mapped[str] = mapped_column(Text)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
