"""Patients (就诊人), the chat accounts that manage them, and the blacklist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from booking.errors import InvalidInput
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


class SyncOrigin(StrEnum):
    UPLOAD = "upload"  # a file uploaded in the back office
    IMPORT = "import"  # `guahao blacklist import FILE`
    PULL = "pull"  # fetched from the hospital's server (on schedule, by a button, by the CLI)


class SyncStatus(StrEnum):
    APPLIED = "applied"
    HELD = "held"  # it would lift too many bans: nothing changed until staff confirm the count
    REJECTED = "rejected"  # bad rows: nothing changed
    FAILED = "failed"  # no list could be read (broken file, HTTP error, HTML…): nothing changed


class BrokenList(InvalidInput):
    """The file or answer is not a list at all; ``problem`` says why (machine-readable)."""

    reason = "broken_list"

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message, problem=problem)
        self.problem = problem


@dataclass(frozen=True)
class ListFile:
    """A copy of the hospital's list as it came: the bytes, and what they claim to be."""

    data: bytes
    content_type: str = ""  # from an HTTP answer; files are recognised by their content


@dataclass(frozen=True)
class HospitalEntry:
    """One person on the hospital's list: found by the keyed hash, shown masked."""

    id_hash: str
    id_masked: str
    reason: str
    starts_on: date
    until: date | None


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row in the file (the header is row 1)
    column: str  # id_number, reason, from, until
    problem: str  # machine-readable: missing, checksum, format, number_cell, duplicate, …
    other_row: int | None = None  # a duplicate: the row it repeats


@dataclass(frozen=True)
class HospitalList:
    """A copy of the list, checked: the entries, and the rows that were wrong."""

    entries: tuple[HospitalEntry, ...]
    problems: tuple[RowProblem, ...]
    rows: int  # data rows read (blank rows skipped)


@dataclass(frozen=True)
class Changes:
    added: list[HospitalEntry] = field(default_factory=list)
    updated: list[HospitalEntry] = field(default_factory=list)  # reason or dates changed
    removed: list[str] = field(default_factory=list)  # id hashes
    unchanged: int = 0


@dataclass(frozen=True)
class SyncReport:
    at: datetime
    origin: SyncOrigin
    status: SyncStatus
    username: str | None  # who uploaded or pressed "pull now"; None: the CLI or the schedule
    rows: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: int = 0
    failure: str | None = None  # why no list could be read (BrokenList.problem)
    problems: tuple[RowProblem, ...] = ()  # the first MAX_PROBLEMS_KEPT bad rows
    id: int | None = None

    def counts(self) -> dict[str, object]:
        """What the audit log keeps: statuses and counts, no personal data."""
        return {
            "origin": self.origin.value,
            "status": self.status.value,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            **({"failure": self.failure} if self.failure else {}),
        }


@dataclass(frozen=True)
class ShownEntry:
    """An entry as the back office lists it (masked ID number only)."""

    id_masked: str
    reason: str
    starts_on: date
    until: date | None
    added_at: datetime


@dataclass(frozen=True)
class BlacklistPage:
    entries: list[ShownEntry]
    total: int
