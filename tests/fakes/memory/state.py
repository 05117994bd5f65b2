"""What the in-memory database holds: immutable records in containers, copied by a unit of work
and swapped in on commit (cosmicpython's fakes, with a transaction's all-or-nothing). A record
changes by being replaced in its container, never in place: copies share the records."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any, NoReturn

from booking.appointments.model import Appointment, WaitlistEntry
from booking.appointments.notices import NewNotice, NoticeStatus
from booking.catalogue.model import ClinicType, Department, Doctor, Hospital
from booking.catalogue.schedule import ClinicSession, PlaceStatus
from booking.patients.model import Account, BlacklistEntry, Patient, PendingCode
from booking.staff.model import AuditEntry, StaffAccount, StaffLogin


@dataclass(frozen=True)
class Place:
    id: int
    session_id: int
    queue_no: int
    starts_at: datetime
    ends_at: datetime
    status: PlaceStatus = PlaceStatus.FREE


@dataclass(frozen=True)
class Booked:
    """An appointment row: the model's appointment and what only the store keeps."""

    appointment: Appointment
    cancel_reason: str | None = None
    refund_due: bool = False
    cancelled_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class StoredNotice:
    id: int
    notice: NewNotice
    status: NoticeStatus = NoticeStatus.PENDING
    last_error: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class LogLine:
    at: datetime
    event: str
    booking_no: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class ListedBan:
    """A blacklist row: the entry and, for the hospital's list, its masked ID number."""

    entry: BlacklistEntry
    id_masked: str = ""
    added_at: datetime | None = None


@dataclass
class State:
    last_id: int = 0
    clinic_types: dict[tuple[str, str], ClinicType] = field(default_factory=dict)
    hospitals: dict[str, Hospital] = field(default_factory=dict)
    departments: dict[tuple[str, str], Department] = field(default_factory=dict)
    # by (hospital code, lower-case work number): work numbers match in any case
    doctors: dict[tuple[str, str], Doctor] = field(default_factory=dict)
    sessions: dict[int, ClinicSession] = field(default_factory=dict)
    places: dict[int, list[Place]] = field(default_factory=dict)  # by session id
    staff: dict[int, StaffAccount] = field(default_factory=dict)
    logins: dict[str, StaffLogin] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    booking_log: list[LogLine] = field(default_factory=list)
    errors: list[LogLine] = field(default_factory=list)
    patients: dict[int, Patient] = field(default_factory=dict)
    phone_ciphers: dict[int, str] = field(default_factory=dict)
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    addresses: dict[int, str] = field(default_factory=dict)
    quiet: set[int] = field(default_factory=set)
    links: dict[tuple[int, int], datetime] = field(default_factory=dict)  # (account, patient)
    codes: dict[int, PendingCode] = field(default_factory=dict)
    bans: list[ListedBan] = field(default_factory=list)
    appointments: dict[int, Booked] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    notices: dict[str, StoredNotice] = field(default_factory=dict)  # by key
    waitlist: dict[int, WaitlistEntry] = field(default_factory=dict)

    def copy(self) -> State:
        """A copy to work on: records are immutable, so only the containers are copied."""
        fresh = replace(self)
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict | list | set):
                setattr(fresh, f.name, copy.copy(value))
        fresh.places = {sid: list(places) for sid, places in self.places.items()}
        return fresh

    def new_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def patient_born(self, patient_id: int) -> date | None:
        patient = self.patients.get(patient_id)
        return None if patient is None else patient.birth_date


class Unfinished:
    """A fake's methods not written yet: calling one says so (no test uses them)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _unfinished(type(self).__name__, name)


def _unfinished(owner: str, name: str) -> Any:
    async def missing(*args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(f"{owner}.{name} is not faked yet")

    return missing
