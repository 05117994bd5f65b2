"""The ports of the domain: a unit of work and the small repositories it carries.

``booking.store`` implements them on SQLAlchemy; the use cases see only these protocols.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from booking.appointments.model import Appointment, AppointmentStatus, BookingView, QuotaUse
from booking.appointments.notices import NewNotice, Notice, NoticeKind
from booking.catalogue.model import Catalogue, Department, Hospital, Part
from booking.catalogue.schedule import ClinicSession, PlaceStatus, PlannedSession
from booking.his.ports import HisRepository
from booking.patients.model import Account, BlacklistEntry, Patient, PendingCode, StillAhead
from booking.patients.ports import PatientRecordRepository
from booking.reports.statistics import ReportRepository
from booking.roster.ports import DoctorRepository
from booking.staff.model import Role, StaffAccount, StaffSession

if TYPE_CHECKING:  # booking.staff.audit, complaints and waitlist use these ports themselves
    from booking.appointments.waitlist import (
        NewWaitlistEntry,
        WaitingView,
        WaitlistEntry,
        WaitStatus,
    )
    from booking.complaints.filing import ActionTaken, Complaint, ComplaintCategory, ComplaintStatus
    from booking.patients.blacklist import BlacklistPage, Changes, HospitalEntry, SyncReport
    from booking.staff.audit import AuditEntry, AuditFilter
    from booking.staff.logs import LogEntry, LogFilter


@dataclass(frozen=True)
class ImportReport:
    hospitals: int = 0
    departments: int = 0
    doctors: int = 0
    templates: int = 0


@dataclass(frozen=True)
class SessionFilter:
    hospital_code: str | None = None
    department_code: str | None = None
    doctor_work_nos: tuple[str, ...] | None = None
    date_from: date | None = None
    date_to: date | None = None
    part: Part | None = None
    open_only: bool = True


@dataclass(frozen=True)
class SessionAvailability:
    session: ClinicSession
    free: int  # places still free whose time is ahead


@dataclass(frozen=True)
class ClaimedPlace:
    place_id: int
    queue_no: int
    starts_at: datetime
    ends_at: datetime


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
class NewPatient:
    name: str
    id_hash: str
    id_cipher: str
    id_masked: str
    birth_date: date
    sex: str
    phone_hash: str
    phone_cipher: str
    phone_masked: str


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


class CatalogueRepository(Protocol):
    async def load(self) -> Catalogue: ...
    async def hospital_and_department(
        self, hospital_code: str, department_code: str
    ) -> tuple[Hospital, Department] | None: ...
    async def upsert(self, catalogue: Catalogue) -> ImportReport: ...


class SessionRepository(Protocol):
    async def ensure(
        self,
        hospital_code: str,
        doctor_work_no: str,
        planned: list[PlannedSession],
        now: datetime,
    ) -> int: ...
    async def get(self, session_id: int, *, for_booking: bool = False) -> ClinicSession | None: ...
    async def find(
        self, hospital_code: str | None, doctor_work_no: str, visit_date: date, part: Part
    ) -> list[ClinicSession]: ...
    async def search(self, f: SessionFilter, after: datetime) -> list[SessionAvailability]: ...
    async def free_places(self, session_id: int, after: datetime) -> int: ...
    async def claim_place(
        self, session_id: int, after: datetime, queue_no: int | None
    ) -> ClaimedPlace | None: ...
    async def place_times(self, session_id: int, queue_no: int) -> ClaimedPlace | None: ...
    async def set_place(
        self, session_id: int, queue_no: int, was: PlaceStatus, becomes: PlaceStatus
    ) -> bool:
        """Changes a place's status only if it still is `was`."""
        ...

    async def hold_free_place(self, session_id: int, after: datetime) -> ClaimedPlace | None:
        """The first free place (starting after `after`) held for a waitlist offer."""
        ...

    async def stop(self, session_id: int, reason: str) -> bool: ...
    async def withdraw_places(self, session_id: int) -> None: ...
    async def busy_places(self, session_id: int) -> int: ...


class PatientRepository(Protocol):
    async def add(self, patient: NewPatient, now: datetime) -> Patient: ...
    async def get(self, patient_id: int, *, lock: bool = False) -> Patient | None: ...
    async def by_id_hash(self, id_hash: str) -> Patient | None: ...
    async def update_phone(
        self, patient_id: int, phone_hash: str, phone_cipher: str, phone_masked: str
    ) -> None: ...
    async def phone_cipher(self, patient_id: int) -> str | None: ...
    async def set_quiet(self, account_id: int, quiet: bool) -> None: ...
    async def set_address(self, account_id: int, sealed: str) -> None: ...
    async def is_quiet(self, account_id: int) -> bool: ...
    async def put_code(self, code: PendingCode, now: datetime, *, forget_before: datetime) -> None:
        """A new SMS code for the account; its earlier ones stop working. Codes sent before
        `forget_before`, anyone's, are forgotten."""
        ...

    async def latest_code(self, account_id: int) -> PendingCode | None: ...
    async def codes_to_phone(self, phone_hash: str, since: datetime) -> list[PendingCode]: ...
    async def codes_of_account(self, account_id: int, since: datetime) -> list[PendingCode]: ...
    async def count_code_try(self, code_id: int) -> None: ...
    async def spend_code(self, code_id: int, now: datetime) -> None: ...
    async def find_account(self, channel: str, user_id: str) -> Account | None: ...
    async def account(self, channel: str, user_id: str, now: datetime) -> Account:
        """This chat user's account, created on first use."""
        ...

    async def of_account(self, account_id: int) -> list[Patient]: ...
    async def link(self, account_id: int, patient_id: int, now: datetime) -> None: ...
    async def is_linked(self, account_id: int, patient_id: int) -> bool: ...
    async def unlink(self, account_id: int, patient_id: int) -> bool: ...
    async def still_ahead(self, account_id: int, patient_id: int, today: date) -> StillAhead:
        """What the account booked for the patient (for `today` or later, still booked) and
        the waitlists it joined for them that are still open."""
        ...


class BlacklistRepository(Protocol):
    async def entries(self, id_hash: str) -> list[BlacklistEntry]: ...
    async def add(self, entry: BlacklistEntry, now: datetime) -> None: ...
    async def lock_hospital_list(self) -> None:
        """Until the transaction ends, no other sync of the hospital's list."""
        ...

    async def hospital_entries(self) -> list[HospitalEntry]: ...
    async def apply_hospital_changes(self, changes: Changes, now: datetime) -> None: ...
    async def save_sync(self, report: SyncReport) -> int: ...
    async def latest_syncs(self, count: int) -> list[SyncReport]: ...
    async def page(self, source: str, page: int, per_page: int) -> BlacklistPage:
        """Entries of one source (hospital or noshow), newest first, with masked ID numbers."""
        ...


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


class LogRepository(Protocol):
    async def booking_event(
        self, now: datetime, event: str, booking_no: str | None, detail: dict[str, Any]
    ) -> None: ...
    async def operation_error(
        self, now: datetime, operation: str, reason: str, detail: dict[str, Any]
    ) -> None: ...
    async def purge(self, before: datetime) -> tuple[int, int]: ...
    async def purge_audit(self, before: datetime) -> int:
        """Audit rows older than `before`: kept longer than the logs (booking.staff.retention)."""
        ...

    async def search(self, f: LogFilter) -> list[LogEntry]:
        """Newest first: the filter's page, and one entry more when there is a next page."""
        ...


@dataclass(frozen=True, slots=True)
class StoredConversation:
    state: str  # opaque to the store (the bot keeps it encrypted)
    version: int


@dataclass(frozen=True, slots=True)
class ConversationSave:
    """One patient's conversation after a message, and that message's replies."""

    channel: str
    user_hash: str
    state: str
    version: int  # the version read; saved as version + 1
    message_hash: str | None = None
    replies: str | None = None


class ConversationRepository(Protocol):
    """Conversations and handled messages as opaque strings, keyed by hashes."""

    async def get(self, channel: str, user_hash: str) -> StoredConversation | None: ...
    async def resume(
        self, channel: str, user_hash: str, message_hash: str
    ) -> tuple[StoredConversation | None, str | None]:
        """The conversation and the replies already given to this message, read together."""
        ...

    async def put(
        self, channel: str, user_hash: str, state: str, version: int, now: datetime
    ) -> bool:
        """Save as `version` + 1; False when someone else saved since `version` was read
        (version 0: the conversation must not exist yet)."""
        ...

    async def put_many(self, saves: list[ConversationSave], now: datetime) -> list[bool]:
        """Several patients' saves in this transaction, each as `put` would (and its message
        remembered); False for those that lost to another save or whose message was handled
        already. At most one save per conversation."""
        ...

    async def leave(self, channel: str, user_hash: str, message: str, now: datetime) -> None:
        """A message for a user who cannot be reached now (a web chat's), kept till asked."""
        ...

    async def collect(self, channel: str, user_hash: str, limit: int) -> list[str]: ...
    async def replies(self, channel: str, message_hash: str) -> str | None: ...
    async def handled(
        self, channel: str, message_hash: str, replies: str, now: datetime
    ) -> None: ...
    async def purge(self, before: datetime) -> int:
        """Forget handled messages, and conversations untouched, since before `before`."""
        ...


@dataclass(frozen=True, slots=True)
class NewComplaint:
    complaint_no: str
    category: ComplaintCategory
    department_code: str | None
    sealed_text: str
    channel: str
    user_hash: str | None  # None: taken by phone, nobody to answer online
    user_cipher: str | None
    language: str
    accept_by: datetime
    address_hash: str | None = None  # the web chat's network address, keyed: caps per address


@dataclass(frozen=True, slots=True)
class SealedComplaint:
    """A complaint with what is kept encrypted: the patient's text and whom to answer."""

    complaint: Complaint
    sealed_text: str
    user_cipher: str | None


@dataclass(frozen=True, slots=True)
class SealedAnswer:
    """A reply or result still to be told to the patient; its text is sealed."""

    action_id: int
    action: ActionTaken
    complaint: SealedComplaint


class ComplaintRepository(Protocol):
    async def add(self, new: NewComplaint, now: datetime) -> Complaint:
        """Raises ComplaintNumberTaken when the number is in use. The complaint is due to be
        posted to staff."""
        ...

    async def filed_since(
        self, since: datetime, *, user_hash: str | None = None, address_hash: str | None = None
    ) -> int:
        """How many complaints came from this patient (or this address) since then."""
        ...

    async def get(self, complaint_no: str, *, lock: bool = False) -> Complaint | None: ...
    async def sealed(self, complaint_no: str) -> SealedComplaint | None: ...
    async def update(self, complaint: Complaint, *, post: bool = False) -> None:
        """Save its status, department, level, deadline and acceptance; with ``post`` it is
        due to be posted to staff (again) from ``complaint.updated_at``."""
        ...

    async def record(self, action: ActionTaken, *, tell: bool) -> None:
        """With ``tell`` the action's (sealed) text is due to be told to the patient."""
        ...

    async def actions(self, complaint_no: str) -> list[ActionTaken]: ...
    async def overdue(self, now: datetime, below_level: int) -> list[Complaint]:
        """Open, not accepted, past ``accept_by``, at a level below ``below_level``."""
        ...

    async def claim_posts(
        self, now: datetime, until: datetime, complaint_no: str | None = None
    ) -> list[SealedComplaint]:
        """Complaints due to be posted, now held until ``until`` for this process."""
        ...

    async def posted(self, complaint_no: str, claimed_until: datetime) -> None:
        """Not due any more, unless it became due again since it was claimed."""
        ...

    async def claim_answers(self, now: datetime, until: datetime) -> list[SealedAnswer]: ...
    async def told(self, action_id: int) -> None: ...


class ComplaintDeskRepository(Protocol):
    """Complaints listed for the back office's complaint desk."""

    async def listed(
        self,
        *,
        statuses: tuple[ComplaintStatus, ...] | None,
        department_code: str | None,
        limit: int,
    ) -> list[Complaint]:
        """Newest first; ``department_code`` None: every department's (and none's)."""
        ...


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


@dataclass(frozen=True, slots=True)
class NewStaff:
    username: str
    role: Role
    department_code: str | None
    password_hash: str


class StaffRepository(Protocol):
    """Back-office accounts and their signed-in sessions (known by a hash of the token)."""

    async def add(self, new: NewStaff, now: datetime) -> StaffAccount:
        """Raises UsernameTaken when the username is in use."""
        ...

    async def get(self, staff_id: int) -> StaffAccount | None: ...
    async def by_username(self, username: str, *, lock: bool = False) -> StaffAccount | None: ...
    async def everyone(self) -> list[StaffAccount]: ...
    async def save_sign_in_state(
        self, staff_id: int, failures: tuple[datetime, ...], locked_until: datetime | None
    ) -> None: ...
    async def set_password(self, staff_id: int, password_hash: str) -> None: ...
    async def disable(self, staff_id: int) -> None: ...
    async def open_session(self, session: StaffSession) -> None: ...
    async def session(self, token_hash: str) -> StaffSession | None: ...
    async def touch_session(self, token_hash: str, now: datetime) -> None: ...
    async def end_session(self, token_hash: str) -> bool: ...
    async def end_sessions_of(self, staff_id: int) -> int: ...
    async def purge_sessions(self, created_before: datetime, seen_before: datetime) -> int: ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...
    async def add_or_count(self, entry: AuditEntry, since: datetime) -> None:
        """One more on the newest identical entry written at `since` or later (same action,
        staff, username, address, target, before and after), or the entry added."""
        ...

    async def page(self, f: AuditFilter) -> list[AuditEntry]:
        """Newest first: the filter's page, and one entry more when there is a next page."""
        ...


class UnitOfWork(Protocol):
    bookings: BookingRepository
    catalogue: CatalogueRepository
    sessions: SessionRepository
    patients: PatientRepository
    blacklist: BlacklistRepository
    appointments: AppointmentRepository
    logs: LogRepository
    conversations: ConversationRepository
    complaints: ComplaintRepository
    notices: NoticeRepository
    waitlist: WaitlistRepository
    staff: StaffRepository
    audit: AuditRepository
    patient_records: PatientRecordRepository
    reports: ReportRepository
    complaint_desk: ComplaintDeskRepository
    his: HisRepository
    doctors: DoctorRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, readonly: bool = False) -> UnitOfWork: ...
