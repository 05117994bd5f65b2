"""The database rows. Only ``booking.store`` knows they exist."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class HospitalRow(Base):
    __tablename__ = "hospitals"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    aliases: Mapped[list[str]]
    policy: Mapped[dict[str, Any]]
    part_hours: Mapped[dict[str, Any]]


class ClinicTypeRow(Base):
    __tablename__ = "clinic_types"
    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    code: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100))
    registration_fee_fen: Mapped[int]
    consultation_fee_fen: Mapped[int]


class DepartmentRow(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    code: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]]
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    min_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_age: Mapped[int | None] = mapped_column(Integer, nullable=True)


class DoctorRow(Base):
    __tablename__ = "doctors"
    __table_args__ = (UniqueConstraint("hospital_id", "work_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    work_no: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(50))
    clinic_type_id: Mapped[int] = mapped_column(ForeignKey("clinic_types.id"))
    specialties: Mapped[list[str]]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DutyTemplateRow(Base):
    __tablename__ = "duty_templates"
    __table_args__ = (UniqueConstraint("doctor_id", "weekday", "part"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    weekday: Mapped[int]
    part: Mapped[str] = mapped_column(String(8))
    capacity: Mapped[int]


class ClinicSessionRow(Base):
    __tablename__ = "clinic_sessions"
    __table_args__ = (
        UniqueConstraint("doctor_id", "visit_date", "part"),
        Index("ix_clinic_sessions_department_date", "department_id", "visit_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    part: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    stop_reason: Mapped[str | None] = mapped_column(String(200))
    clinic_type: Mapped[str] = mapped_column(String(16))
    registration_fee_fen: Mapped[int]
    consultation_fee_fen: Mapped[int]
    created_at: Mapped[datetime]


class PlaceRow(Base):
    """One place in a session: queue number n and its time window (a FHIR Slot)."""

    __tablename__ = "places"
    __table_args__ = (
        UniqueConstraint("session_id", "queue_no"),
        Index("ix_places_session_status", "session_id", "status", "queue_no"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    queue_no: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(24))


class PatientRow(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_cipher: Mapped[str] = mapped_column(Text)
    id_masked: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(8))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_cipher: Mapped[str] = mapped_column(Text)
    phone_masked: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    # Bumped by every booking transaction of this patient, so that they queue up on PostgreSQL.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Removed by staff (B3): the row stays, anonymised, for the bookings kept for the reports.
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))  # a keyed hash of the chat user's id
    created_at: Mapped[datetime]
    # Asked for no reminders or other messages it did not ask for (TD / STOP / 退订).
    quiet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Where notices reach it: the chat user's id, encrypted (an SMS user's is a phone number).
    address_cipher: Mapped[str | None] = mapped_column(Text, nullable=True)


class PhoneCodeRow(Base):
    """A one-time code sent by SMS: typing it back proves the chat account holds the phone it
    went to (the number being registered, or a patient's registered phone)."""

    __tablename__ = "phone_codes"
    # Kept after use or expiry for two days: the codes a phone was sent and an account asked
    # for, and the wrong guesses made, in the last day limit the next ones
    # (booking.patients.sms_codes).
    __table_args__ = (
        Index("ix_phone_codes_phone_created", "phone_hash", "created_at"),
        Index("ix_phone_codes_account_created", "account_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    phone_hash: Mapped[str] = mapped_column(String(64))
    # The patient to be added, when the code went to their registered phone; else None.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), nullable=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class AccountPatientRow(Base):
    __tablename__ = "account_patients"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), primary_key=True, index=True)
    created_at: Mapped[datetime]


_HOSPITAL = text("source = 'hospital'")


class BlacklistRow(Base):
    __tablename__ = "blacklist"
    __table_args__ = (
        # The hospital's list names a person once: the backstop under the sync's lock.
        Index(
            "uq_blacklist_hospital_id_hash",
            "id_hash",
            unique=True,
            sqlite_where=_HOSPITAL,
            postgresql_where=_HOSPITAL,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    # The hospital's entries are shown masked (1101**********1234): the number is not kept.
    id_masked: Mapped[str] = mapped_column(String(24), default="", server_default="")


class BlacklistSyncRow(Base):
    """One sync of the hospital's list: counts and bad rows' numbers, no personal data."""

    __tablename__ = "blacklist_syncs"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    origin: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    username: Mapped[str | None] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(32))
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)


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


class BookingRequestRow(Base):
    """The booking a request made (a patient's message, by keyed hash): the same request come
    again, its answer lost in a crash, gets that booking's receipt instead of a refusal."""

    __tablename__ = "booking_requests"
    request_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointments.id"))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class HandledMessageRow(Base):
    """A message already answered, with its (encrypted) replies: a message delivered twice is
    answered the same way and handled once."""

    __tablename__ = "handled_messages"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    replies: Mapped[str] = mapped_column(Text)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


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


class NoticeRow(Base):
    """A notice to a patient's chat account, written with the change that calls for it and
    sent by the dispatcher (bot/notices.py)."""

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


class StaffSessionRow(Base):
    """A signed-in browser, known by a SHA-256 of the random token in its cookie: the table
    alone does not let anyone sign in."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


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


class HisClientRow(Base):
    """A hospital information system allowed to use /fhir, known by a SHA-256 of its bearer
    token: the table alone does not let anyone in."""

    __tablename__ = "his_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(28), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
