"""The logs kept for the retention period: bookings, refused operations, staff actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base, UtcDateTime


class BookingLogRow(Base):
    """What happened to bookings, kept for the retention period. No personal data."""

    __tablename__ = "booking_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    event: Mapped[str] = mapped_column(String(32))
    booking_no: Mapped[str | None] = mapped_column(String(20), index=True)
    detail: Mapped[dict[str, Any]]


class OperationErrorRow(Base):
    """Refused or failed operations, kept for the retention period. No personal data."""

    __tablename__ = "operation_errors"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    operation: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]]


class AuditRow(Base):
    """What staff did (see booking.staff.audit). No personal data: statuses, roles and ids."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_username_id", "username", "id"),
        Index("ix_audit_log_action_id", "action", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"), nullable=True)
    username: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    times: Mapped[int] = mapped_column(default=1, server_default="1")  # identical refusals
