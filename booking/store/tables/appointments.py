"""Appointments (挂号), the requests that made them, and the waitlist (候补)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base, UtcDateTime

_ACTIVE = text("status <> 'cancelled'")


class AppointmentRow(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        # The last word on "one place, one patient": a backstop under the conditional claim.
        Index(
            "uq_appointments_session_queue_active",
            "session_id",
            "queue_no",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        Index(
            "uq_appointments_session_patient_active",
            "session_id",
            "patient_id",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        Index("ix_appointments_patient_visit", "patient_id", "visit_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_no: Mapped[str] = mapped_column(String(20), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    queue_no: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    registration_fee_fen: Mapped[int]
    consultation_fee_fen: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    refund_due: Mapped[bool] = mapped_column(Boolean, default=False)


class BookingRequestRow(Base):
    """The booking a request made (a patient's message, by keyed hash): the same request come
    again, its answer lost in a crash, gets that booking's receipt instead of a refusal."""

    __tablename__ = "booking_requests"
    request_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


_IN_LINE = text("status IN ('waiting', 'offered')")


class WaitlistRow(Base):
    """One patient waiting for a full session (候补); while offered, the place held for them
    (its status busy-tentative) is `queue_no`."""

    __tablename__ = "waitlist"
    __table_args__ = (
        Index(
            "uq_waitlist_session_patient_in_line",
            "session_id",
            "patient_id",
            unique=True,
            sqlite_where=_IN_LINE,
            postgresql_where=_IN_LINE,
        ),
        Index("ix_waitlist_session_status", "session_id", "status", "id"),
        Index("ix_waitlist_status_expires", "status", "offer_expires_at"),
        Index("ix_waitlist_status_closes", "status", "closes_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    joined_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    queue_no: Mapped[int | None] = mapped_column(nullable=True)
    offer_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    booking_no: Mapped[str | None] = mapped_column(String(20), nullable=True)
    updated_at: Mapped[datetime]
