"""Patients, the chat accounts that book for them, the one-time phone codes, and the
blacklist (the hospital's list and the no-show rule's entries)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.store.tables.base import Base, UtcDateTime


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
