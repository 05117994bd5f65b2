"""Patients (就诊人), the chat accounts that manage them, and the blacklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from booking.patients.identity import Sex


@dataclass(frozen=True)
class Patient:
    id: int
    name: str
    id_masked: str
    id_hash: str
    birth_date: date
    sex: Sex
    phone_masked: str
    created_at: datetime
    phone_hash: str = ""  # a keyed hash: "is this the registered phone?" without the number


@dataclass(frozen=True)
class Account:
    """A chat identity (channel + user id) that may hold several patients (family members)."""

    id: int
    channel: str
    user_id: str


class BlacklistSource(StrEnum):
    HOSPITAL = "hospital"  # synchronised from the hospital's list, never edited here
    NOSHOW = "noshow"  # automatic ban after repeated no-shows


@dataclass(frozen=True)
class BlacklistEntry:
    id_hash: str
    source: BlacklistSource
    reason: str
    starts_on: date
    until: date | None  # None: until the hospital removes it

    def blocks(self, on: date) -> bool:
        return self.starts_on <= on and (self.until is None or on <= self.until)


@dataclass(frozen=True)
class PendingCode:
    """A one-time code sent by SMS to a mobile number, waiting to be typed back by the chat
    account that asked: to prove the number being registered (`patient_id` None), or to add a
    patient another account registered (`patient_id`: the code went to their registered
    phone). Only keyed hashes of the number and the code are kept."""

    account_id: int
    phone_hash: str
    code_hash: str
    expires_at: datetime
    tries: int
    patient_id: int | None = None
    sent_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class StillAhead:
    """What a chat account arranged for one of its patients that has not happened yet."""

    bookings: int  # booked by this account, for today or later
    waiting: int  # places in a waitlist (候补) this account joined for them

    def __bool__(self) -> bool:
        return bool(self.bookings or self.waiting)
