"""The appointments' port: booking a place in one go, the bookings, their notices and the
waitlists."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from booking.appointments.model import (
    Appointment,
    AppointmentStatus,
    BookingView,
    NewWaitlistEntry,
    QuotaUse,
    WaitingView,
    WaitlistEntry,
    WaitStatus,
)
from booking.appointments.notices import NewNotice, Notice, NoticeKind
from booking.catalogue.model import Department, Hospital
from booking.catalogue.ports import ClaimedPlace
from booking.catalogue.schedule import ClinicSession
from booking.patients.model import BlacklistEntry
from booking.patients.ports import PatientWork


@dataclass(frozen=True)
class BookingContext:
    """Everything one booking decision needs, read in one go inside the booking transaction
    (on PostgreSQL the session is held shared and the patient's row is taken)."""

    session: ClinicSession
    hospital: Hospital
    department: Department
    free: int
    patient_found: bool
    patient_born: date | None  # for departments that see only some ages
    bans: list[BlacklistEntry]
    uses: list[QuotaUse]  # the patient's bookings within quota_horizon of the visit


@dataclass(frozen=True)
class TakenPlace:
    appointment_id: int
    place: ClaimedPlace


class BookingRepository(Protocol):
    """The hot path of booking, in as few statements as the database allows."""

    async def context(
        self, session_id: int, patient_id: int, after: datetime, horizon: tuple[date, date]
    ) -> BookingContext | None:
        """None when there is no such session. May raise SlotFull at once for a session
        found full moments ago."""
        ...

    async def take(
        self,
        *,
        session: ClinicSession,
        patient_id: int,
        account_id: int | None,
        channel: str,
        after: datetime,
        queue_no: int | None,
        booking_no: str,
        now: datetime,
    ) -> TakenPlace | None:
        """Claim a free place (the first, or ``queue_no``), insert the appointment and its
        'booked' log entry. None when no such place is free; BookingNumberTaken when the
        number is in use."""
        ...


@dataclass(frozen=True)
class BookingFilter:
    booking_no: str | None = None
    account_id: int | None = None
    patient_id_hash: str | None = None
    phone_hash: str | None = None
    patient_name: str | None = None
    doctor_work_no: str | None = None
    department_code: str | None = None
    hospital_code: str | None = None
    booked_between: tuple[datetime, datetime] | None = None  # [start, end)
    visit_date: date | None = None
    statuses: tuple[AppointmentStatus, ...] | None = None
    # The history as of this day: bookings no longer ahead (attended, missed, cancelled, or
    # still booked for an earlier day).
    behind_on: date | None = None
    limit: int = 500
    offset: int = 0


class AppointmentRepository(Protocol):
    async def get(self, booking_no: str) -> Appointment | None: ...
    async def made_for(self, request: str) -> str | None:
        """The booking number of the booking this request made, if it made one."""
        ...

    async def remember_request(self, request: str, appointment_id: int, now: datetime) -> None: ...
    async def quota_uses(self, patient_id: int, first: date, last: date) -> list[QuotaUse]: ...
    async def set_status(
        self,
        appointment_id: int,
        status: AppointmentStatus,
        now: datetime,
        *,
        expected: tuple[AppointmentStatus, ...] = (AppointmentStatus.BOOKED,),
        place: tuple[int, int] | None = None,
        cancel_reason: str | None = None,
        refund_due: bool = False,
    ) -> bool:
        """Change the status if it is still one of ``expected`` (and, with ``place``, the
        booking still holds that (session id, queue number)); False if it was changed."""
        ...

    async def move(
        self,
        appointment_id: int,
        from_session_id: int,
        session: ClinicSession,
        place: ClaimedPlace,
        now: datetime,
    ) -> bool: ...
    async def reinstate(
        self, appointment_id: int, session: ClinicSession, place: ClaimedPlace, now: datetime
    ) -> bool:
        """A booking cancelled by a stop (停诊) and not yet refunded, booked again in another
        session under its own number; False if it is not such a booking any more."""
        ...

    async def holding_places(self, session_id: int) -> list[Appointment]: ...
    async def unattended(self, ended_before: datetime, limit: int) -> list[str]: ...
    async def noshows_since(self, patient_id: int, since: date) -> int: ...
    async def views(self, f: BookingFilter) -> list[BookingView]: ...


class NoticeRepository(Protocol):
    """Notices as rows: written with the change, claimed and marked by the dispatcher."""

    async def add(self, notices: list[NewNotice], now: datetime) -> None:
        """Each kept once by its key."""
        ...

    async def withdraw(self, appointment_id: int, kinds: tuple[NoticeKind, ...]) -> None:
        """Pending notices of these kinds about this appointment are no longer needed."""
        ...

    async def claim(
        self,
        now: datetime,
        until: datetime,
        limit: int,
        *,
        channels: Collection[str] | None = None,
        other_than: Collection[str] | None = None,
    ) -> list[Notice]:
        """Due pending notices, each claimed by one dispatcher until `until`: only those to
        accounts on `channels`, or only those for operations and to accounts on any channel
        but `other_than`; every due one when neither is given."""
        ...

    async def extend(
        self, notice_ids: list[int], claimed_until: datetime, until: datetime
    ) -> list[int]:
        """Those of the notices still pending and still claimed until `claimed_until` (by
        this claim, not taken since by another), now claimed until `until`."""
        ...

    async def sent(self, notice_id: int, now: datetime) -> None: ...
    async def void(self, notice_id: int, why: str) -> None: ...
    async def failed(self, notice_id: int, error: str, retry_at: datetime | None) -> None:
        """Tried again at `retry_at`; None: dead."""
        ...

    async def postpone(self, notice_ids: list[int], until: datetime) -> None: ...
    async def pending_before(self, account_id: int, until: datetime) -> list[int]: ...
    async def address(self, account_id: int) -> tuple[str, str | None, bool]:
        """(channel, sealed address or None, quiet) of an account."""
        ...

    async def counts(self) -> dict[str, int]: ...


class WaitlistRepository(Protocol):
    """候补 lines. Taking the first in line, or the offers that lapsed, skips entries another
    process has locked, so that background rounds can run in several processes."""

    async def add(self, entry: NewWaitlistEntry, now: datetime) -> int | None:
        """The new entry's id; None when the patient already waits for this session."""
        ...

    async def position(self, entry_id: int) -> int: ...
    async def get(self, entry_id: int, *, lock: bool = False) -> WaitlistEntry | None: ...
    async def first_waiting(self, session_id: int) -> WaitlistEntry | None: ...
    async def offer(
        self, entry_id: int, queue_no: int, expires_at: datetime, now: datetime
    ) -> bool:
        """Only while the entry still waits."""
        ...

    async def finish(
        self,
        entry_id: int,
        status: WaitStatus,
        now: datetime,
        expected: tuple[WaitStatus, ...],
        booking_no: str | None = None,
    ) -> bool:
        """Ends an entry only if its status is still one of `expected`."""
        ...

    async def lapsed_offers(self, now: datetime, limit: int) -> list[WaitlistEntry]: ...
    async def sessions_with_room(self, now: datetime) -> list[int]:
        """Sessions with someone waiting and a free place."""
        ...

    async def close_due(self, now: datetime, limit: int) -> list[WaitlistEntry]:
        """Closes waiting entries past their line's closing time; those closed."""
        ...

    async def close_session(self, session_id: int, now: datetime) -> list[WaitlistEntry]: ...
    async def of_account(self, channel: str, user_hash: str) -> list[WaitingView]: ...


class AppointmentWork(PatientWork, Protocol):
    bookings: BookingRepository
    appointments: AppointmentRepository
    notices: NoticeRepository
    waitlist: WaitlistRepository
