"""The in-memory unit of work and its factory, usable wherever a
``UnitOfWorkFactory[...Work]`` is (``async with memory() as uow: ...; await uow.commit()``).

A unit of work works on a copy of the state and swaps it in on commit: one left without
commit (an exception, a refusal, a read) changes nothing, as a rolled-back transaction.
Units of work run one at a time, as the tests' use cases call them."""

from __future__ import annotations

from types import TracebackType
from typing import Self, cast

from booking.appointments.ports import (
    AppointmentRepository,
    BookingRepository,
    NoticeRepository,
    WaitlistRepository,
)
from booking.catalogue.ports import CatalogueRepository, SessionRepository
from booking.patients.ports import (
    BlacklistRepository,
    ConversationRepository,
    PatientRecordRepository,
    PatientRepository,
)
from booking.roster.ports import DoctorRepository, RosterWork
from booking.staff.ports import AuditRepository, LogRepository, StaffRepository
from tests.fakes.memory.appointments import (
    MemoryAppointments,
    MemoryBookings,
    MemoryNotices,
)
from tests.fakes.memory.catalogue import MemoryCatalogue, MemoryDoctors, MemorySessions
from tests.fakes.memory.patients import MemoryBlacklist, MemoryPatients
from tests.fakes.memory.staff import MemoryAudit, MemoryLogs, MemoryStaff
from tests.fakes.memory.state import State, Unfinished
from tests.fakes.memory.waitlist import MemoryWaitlist


class NotFaked(Unfinished):
    """A repository not faked yet."""


class MemoryUnitOfWork:
    def __init__(self, database: MemoryDatabase, *, readonly: bool = False) -> None:
        self.database = database
        self.readonly = readonly
        self.base = database.state
        self.state = database.state.copy()
        self.freed: set[int] = set()
        s = self.state
        sessions = MemorySessions(s, self.freed)
        self.catalogue: CatalogueRepository = MemoryCatalogue(s)
        self.sessions: SessionRepository = sessions
        self.doctors: DoctorRepository = MemoryDoctors(s)
        self.staff: StaffRepository = MemoryStaff(s)
        self.audit: AuditRepository = MemoryAudit(s)
        self.logs: LogRepository = MemoryLogs(s)
        self.patients: PatientRepository = MemoryPatients(s)
        self.blacklist: BlacklistRepository = MemoryBlacklist(s)
        self.patient_records = cast(PatientRecordRepository, NotFaked())
        self.conversations = cast(ConversationRepository, NotFaked())
        self.bookings: BookingRepository = MemoryBookings(s, sessions)
        self.appointments: AppointmentRepository = MemoryAppointments(s)
        self.notices: NoticeRepository = MemoryNotices(s)
        self.waitlist: WaitlistRepository = MemoryWaitlist(s)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None  # what was not committed is dropped with this copy

    async def commit(self) -> None:
        if self.readonly:
            raise RuntimeError("a readonly unit of work never commits")
        if self.database.state is not self.base:
            raise RuntimeError("another unit of work committed meanwhile (no merging here)")
        # The database gets a copy: work that goes on after this commit stays this unit's
        # until it commits again.
        self.database.state = self.base = self.state.copy()
        self.database.commits += 1


class MemoryDatabase:
    """The factory: ``MemoryDatabase()`` is a ``UnitOfWorkFactory[RosterWork]``."""

    def __init__(self) -> None:
        self.state = State()
        self.commits = 0

    def __call__(self, *, readonly: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, readonly=readonly)


def _typed(work: MemoryUnitOfWork) -> RosterWork:
    return work  # mypy checks here that the fake is the roster's (and every lower) Work
