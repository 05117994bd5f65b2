"""The back office's staff accounts and their signed-in browsers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base, UtcDateTime


class StaffAccountRow(Base):
    """A back-office account; the password is an argon2 hash."""

    __tablename__ = "staff_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Wrong passwords since the last lock or success (ISO times), for the lock-out rule.
    failures: Mapped[list[str]]
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]


class StaffLoginRow(Base):
    """A signed-in browser, known by a SHA-256 of the random token in its cookie: the table
    alone does not let anyone sign in."""

    __tablename__ = "staff_sessions"  # the table keeps the name it was created with
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
