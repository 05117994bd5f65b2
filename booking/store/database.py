"""Engines and the unit of work.

SQLite: WAL, durable commits (synchronous=FULL), and writers serialised in-process on one
connection that starts its transactions with BEGIN IMMEDIATE, so that writers never fight over
the file lock; readers use their own connections. PostgreSQL: one pooled engine, READ
COMMITTED, with row locks taken by the repositories where the rules need them.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_

from booking.appointments.ports import (
    AppointmentRepository,
    BookingRepository,
    NoticeRepository,
    WaitlistRepository,
)
from booking.catalogue.ports import CatalogueRepository, SessionRepository
from booking.complaints.ports import ComplaintDeskRepository, ComplaintRepository
from booking.errors import TryAgain
from booking.his.ports import HisRepository
from booking.patients.ports import (
    BlacklistRepository,
    ConversationRepository,
    PatientRecordRepository,
    PatientRepository,
)
from booking.reports.ports import ReportRepository
from booking.roster.ports import DoctorRepository
from booking.staff.ports import AuditRepository, LogRepository, StaffRepository
from booking.store.appointments_repo import SqlAppointments
from booking.store.blacklist_repo import SqlBlacklist
from booking.store.booking_repo import SqlBookings
from booking.store.catalogue_repo import SqlCatalogue
from booking.store.complaint_desk_repo import SqlComplaintDesk
from booking.store.complaints_repo import SqlComplaints
from booking.store.conversations_repo import SqlConversations
from booking.store.doctors_repo import SqlDoctors
from booking.store.hints import SoldOutHints
from booking.store.his_repo import SqlHis
from booking.store.logs_repo import SqlLogs
from booking.store.notices_repo import SqlNotices
from booking.store.patients_repo import SqlPatientRecords, SqlPatients
from booking.store.reports_repo import SqlReports
from booking.store.sessions_repo import SqlSessions
from booking.store.staff_repo import SqlAudit, SqlStaff
from booking.store.waitlist_repo import SqlWaitlist


def _sqlite_engine(url: str, *, writer: bool, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=1 if writer else pool_size,
        max_overflow=0,
        connect_args={"timeout": 30},
        pool_reset_on_return=None,  # see _on_reset
        hide_parameters=True,  # errors are logged; the values may be a patient's
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # We emit BEGIN ourselves (below), as SQLAlchemy's SQLite documentation recommends.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, record: ConnectionPoolEntry, state: Any) -> None:
        # A unit of work has always ended its transaction by now; the pool's own unconditional
        # rollback would cost one more trip to SQLite's thread for every unit of work.
        driver = record.driver_connection
        if driver is None or driver.in_transaction:
            dbapi_connection.rollback()

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: one thread hop instead of the adapter's three.
        await_(connection.connection.driver_connection.execute(begin))

    return engine


class Database:
    """What a process holds on to: engines, session makers and the SQLite writers' queue."""

    def __init__(
        self, url: str, *, pool_size: int = 10, schema: str | None = None, echo: bool = False
    ) -> None:
        self.url = url
        self.schema = schema
        self.dialect = make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self.write_engine = _sqlite_engine(url, writer=True, pool_size=pool_size)
            self.read_engine = _sqlite_engine(url, writer=False, pool_size=pool_size)
            self.writer_lock: asyncio.Lock | None = asyncio.Lock()
        else:
            connect_args: dict[str, Any] = {}
            if schema:
                connect_args["server_settings"] = {"search_path": schema}
            self.write_engine = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=0,
                # After a server restart or failover the pool holds dead connections: a ping
                # (one round trip) at checkout replaces them instead of failing a booking.
                pool_pre_ping=True,
                echo=echo,
                connect_args=connect_args,
                hide_parameters=True,
            )
            self.read_engine = self.write_engine
            self.writer_lock = None
        # SQLAlchemy's async pool lets a newcomer take a returned connection ahead of a task
        # already waiting, which then goes to the back; under sustained load some wait until
        # the pool's timeout. This gate admits units of work strictly in arrival order.
        self.gate = asyncio.Semaphore(pool_size)
        self.sold_out = SoldOutHints()
        self._writers = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._readers = async_sessionmaker(self.read_engine, expire_on_commit=False)

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, readonly=readonly)

    def new_transaction(self, *, readonly: bool) -> AsyncSession:
        return (self._readers if readonly else self._writers)()

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


class SqlUnitOfWork:
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
    complaint_desk: ComplaintDeskRepository
    patient_records: PatientRecordRepository
    reports: ReportRepository
    his: HisRepository
    doctors: DoctorRepository
    tx: AsyncSession

    def __init__(self, db: Database, *, readonly: bool) -> None:
        self._db = db
        self._readonly = readonly
        self._locked = False
        self._admitted = False
        self._freed: set[int] = set()

    async def __aenter__(self) -> Self:
        lock = self._db.writer_lock
        if lock is not None and not self._readonly:
            # SQLite's writers queue on this lock (and one connection), so not at the gate.
            await lock.acquire()
            self._locked = True
        else:
            await self._db.gate.acquire()
            self._admitted = True
        try:
            self.tx = tx = self._db.new_transaction(readonly=self._readonly)
            postgres = self._db.dialect == "postgresql"
            self.bookings = SqlBookings(
                tx, postgres=postgres, hints=self._db.sold_out, freed=self._freed
            )
            self.catalogue = SqlCatalogue(tx)
            self.sessions = SqlSessions(tx, postgres=postgres, freed=self._freed)
            self.patients = SqlPatients(tx)
            self.blacklist = SqlBlacklist(tx, postgres=postgres)
            self.appointments = SqlAppointments(tx)
            self.logs = SqlLogs(tx)
            self.conversations = SqlConversations(tx, postgres=postgres)
            self.complaints = SqlComplaints(tx)
            self.notices = SqlNotices(tx, postgres=postgres)
            self.waitlist = SqlWaitlist(tx)
            self.staff = SqlStaff(tx)
            self.audit = SqlAudit(tx)
            self.complaint_desk = SqlComplaintDesk(tx)
            self.patient_records = SqlPatientRecords(tx)
            self.reports = SqlReports(tx, postgres=postgres)
            self.his = SqlHis(tx)
            self.doctors = SqlDoctors(tx)
        except BaseException:
            self._release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            try:
                await self.tx.rollback()
            finally:
                await self.tx.close()  # returns the connection even if rollback failed
        except DBAPIError:
            if exc is None:
                raise
        finally:
            self._release()
        if isinstance(exc, DBAPIError):
            # Told as a domain error, so every caller gets a definite answer: nothing was saved.
            raise TryAgain("the booking system is busy, please try again") from exc

    def _release(self) -> None:
        if self._locked and self._db.writer_lock is not None:
            self._db.writer_lock.release()
            self._locked = False
        if self._admitted:
            self._db.gate.release()
            self._admitted = False

    async def commit(self) -> None:
        if self._readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.tx.commit()
        self._db.sold_out.forget(self._freed)

    async def rollback(self) -> None:
        await self.tx.rollback()
