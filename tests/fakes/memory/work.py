"""The in-memory unit of work and its factory, usable wherever a
``UnitOfWorkFactory[...Work]`` is (``async with memory() as uow: ...; await uow.commit()``).

A unit of work works on a copy of the state and swaps it in on commit: one left without
commit (an exception, a refusal, a read) changes nothing, as a rolled-back transaction.
Writing units of work take turns (as SQLite's writers do: booking.store.database); read-only
ones read the state committed when they began and never commit."""

from __future__ import annotations

import asyncio
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
    catalogue: CatalogueRepository
    sessions: SessionRepository
    doctors: DoctorRepository
    staff: StaffRepository
    audit: AuditRepository
    logs: LogRepository
    patients: PatientRepository
    blacklist: BlacklistRepository
    patient_records: PatientRecordRepository
    conversations: ConversationRepository
    bookings: BookingRepository
    appointments: AppointmentRepository
    notices: NoticeRepository
    waitlist: WaitlistRepository

    def __init__(self, database: MemoryDatabase, *, readonly: bool = False) -> None:
        self.database = database
        self.readonly = readonly
        self._locked = False

    async def __aenter__(self) -> Self:
        if not self.readonly:  # writers take turns, as SQLite's do
            await self.database.writer_lock.acquire()
            self._locked = True
        self._open(self.database.state)
        return self

    def _open(self, base: State) -> None:
        self.base = base
        self.state = s = base.copy()
        self.freed: set[int] = set()
        sessions = MemorySessions(s, self.freed)
        self.catalogue = MemoryCatalogue(s)
        self.sessions = sessions
        self.doctors = MemoryDoctors(s)
        self.staff = MemoryStaff(s)
        self.audit = MemoryAudit(s)
        self.logs = MemoryLogs(s)
        self.patients = MemoryPatients(s)
        self.blacklist = MemoryBlacklist(s)
        self.patient_records = cast(PatientRecordRepository, NotFaked())
        self.conversations = cast(ConversationRepository, NotFaked())
        self.bookings = MemoryBookings(s, sessions)
        self.appointments = MemoryAppointments(s)
        self.notices = MemoryNotices(s)
        self.waitlist = MemoryWaitlist(s)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # What was not committed is dropped with this copy.
        if self._locked:
            self.database.writer_lock.release()
            self._locked = False

    async def commit(self) -> None:
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        assert self.database.state is self.base  # writers take turns
        # The database gets this state; work that goes on after the commit, on a copy again,
        # stays this unit's until it commits again.
        self.database.state = self.state
        self.database.commits += 1
        self._open(self.state)

    async def rollback(self) -> None:
        self._open(self.base)


class MemoryDatabase:
    """The factory: ``MemoryDatabase()`` is a ``UnitOfWorkFactory[RosterWork]``."""

    def __init__(self) -> None:
        self.state = State()
        self.commits = 0
        self.writer_lock = asyncio.Lock()

    def __call__(self, *, readonly: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, readonly=readonly)


def _typed(work: MemoryUnitOfWork) -> RosterWork:
    return work  # mypy checks here that the fake is the roster's (and every lower) Work
