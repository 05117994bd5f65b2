"""Complaints and suggestions, and what staff did with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base, UtcDateTime

# Complaints have a column named "text", which hides sqlalchemy.text in their class body.
_ZERO = text("0")


class ComplaintRow(Base):
    """A complaint or suggestion; what the patient wrote is encrypted, the patient is a keyed
    hash and an encrypted user id, to answer on their channel (neither when staff took it by
    phone)."""

    __tablename__ = "complaints"
    complaint_no: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    user_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    user_cipher: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A keyed hash of the network address a web chat complaint came from, to cap them per
    # address (booking.complaints.filing.ComplaintCaps); never the address itself.
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    language: Mapped[str] = mapped_column(String(8), server_default="zh")
    status: Mapped[str] = mapped_column(String(16))
    # 0: the department's staff group, 1: the complaints office, 2: management.
    level: Mapped[int] = mapped_column(Integer, server_default=_ZERO)
    accept_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True, nullable=True)
    accepted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accepted_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # When staff still have to see it (filed, forwarded, escalated) and from when it may be
    # posted: set in the same transaction as the change, cleared once posted, so a process
    # that dies in between leaves it to be posted again rather than lost.
    post_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ComplaintActionRow(Base):
    """What staff did with a complaint, and automatic escalations. Staff are named as their
    chat account shows them; a reply or result is the patient's business and is encrypted."""

    __tablename__ = "complaint_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_no: Mapped[str] = mapped_column(
        String(16), ForeignKey("complaints.complaint_no"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    department_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    level: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    # A reply or result still to be told to the patient (as post_due_at above).
    tell_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True, nullable=True)
