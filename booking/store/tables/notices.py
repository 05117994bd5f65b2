"""Notices to patients: the outbox the dispatcher sends from, and the web chat's inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base


class NoticeRow(Base):
    """A notice to a patient's chat account, written with the change that calls for it and
    sent by the dispatcher (bot/notices/dispatcher.py)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_next_try", "status", "next_try_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    # None: an alert for the operations group.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id"), nullable=True, index=True
    )
    payload: Mapped[str] = mapped_column(Text)  # JSON: what the text says, nothing personal
    due_at: Mapped[datetime]
    not_after: Mapped[datetime | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(12))
    next_try_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]


class WebInboxRow(Base):
    """A notice waiting for a web chat user (who can be reached only when their page asks):
    an encrypted message under the user's keyed hash."""

    __tablename__ = "web_inbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
