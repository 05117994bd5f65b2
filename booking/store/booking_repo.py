"""The hot path of booking in as few statements as each database allows.

A booking reads its whole context in one statement (session, hospital, department, free
places, the patient's bans and recent bookings; on PostgreSQL it also takes the patient's row
and holds the session shared), decides in Python, then takes its place: on PostgreSQL one
statement claims the place, inserts the appointment and writes the log; on SQLite, whose
writers are already serialised, three short ones do. The statements are built once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.appointments.model import QuotaUse
from booking.appointments.ports import BookingContext, TakenPlace
from booking.catalogue.model import Department, Hospital, Part
from booking.catalogue.ports import ClaimedPlace
from booking.catalogue.schedule import ClinicSession, SessionStatus
from booking.errors import BookingNumberTaken, SlotFull, TryAgain
from booking.patients.model import BlacklistEntry, BlacklistSource
from booking.store.catalogue_repo import hospital_of
from booking.store.hints import SoldOutHints
from booking.store.tables.catalogue import HospitalRow
from booking.store.tables.patients import PatientRow

_CONTEXT = """
SELECT s.id, s.visit_date, s.part, s.starts_at, s.ends_at, s.capacity, s.status,
       s.stop_reason, s.clinic_type, s.registration_fee_fen, s.consultation_fee_fen,
       h.id AS h_id, h.code AS h_code, h.name_zh AS h_zh, h.name_en AS h_en, h.timezone,
       h.aliases AS h_aliases, h.policy, h.part_hours,
       d.id AS d_id, d.code AS d_code, d.name_zh AS d_zh, d.name_en AS d_en,
       d.aliases AS d_aliases, d.bookable, d.min_age, d.max_age, doc.work_no,
       (SELECT birth_date FROM patients WHERE id = :patient_id) AS birth_date,
       (SELECT count(*) FROM places p
         WHERE p.session_id = s.id AND p.status = 'free' AND p.starts_at > :after) AS free,
       {patient_hash} AS id_hash,
       (SELECT {agg}({array}(b.source, b.reason, b.starts_on, b.until)) FROM blacklist b
         WHERE b.id_hash = {patient_hash}) AS bans,
       (SELECT {agg}({array}(a.visit_date, ad.code, a.session_id, a.id))
          FROM appointments a JOIN departments ad ON ad.id = a.department_id
         WHERE a.patient_id = :patient_id AND a.visit_date >= :first
           AND a.visit_date <= :last AND a.status <> 'cancelled') AS uses
FROM clinic_sessions s
JOIN hospitals h ON h.id = s.hospital_id
JOIN departments d ON d.id = s.department_id
JOIN doctors doc ON doc.id = s.doctor_id
WHERE s.id = :session_id
{lock}
"""


def _positional(sql: str, names: list[tuple[str, str]]) -> str:
    """Named parameters to asyncpg's $n, each with a cast (asyncpg cannot always infer)."""
    for n, (name, kind) in enumerate(names, start=1):
        sql = re.sub(rf":{name}\b", f"${n}::{kind}", sql)
    return sql


_PG_CONTEXT_PARAMS = [
    ("session_id", "integer"),
    ("patient_id", "integer"),
    ("after", "timestamptz"),
    ("first", "date"),
    ("last", "date"),
    ("id_hash", "varchar"),
]
_PG_CONTEXT = _positional(
    _CONTEXT.format(
        patient_hash=":id_hash",
        agg="json_agg",
        array="json_build_array",
        # A stop (停诊) takes the session row alone: no booking slips in between the stop
        # and the cancellation of the session's bookings.
        lock="FOR SHARE OF s",
    ),
    _PG_CONTEXT_PARAMS,
)
# Every booking of one patient takes the patient's row first, in a statement of its own:
# the next statement's snapshot then sees the bookings of whoever held the row before (a
# statement's snapshot is taken when it starts, before any lock it waits for). Sent through
# SQLAlchemy, it also opens the transaction, which the asyncpg adapter defers until then.
_patients = cast(Table, PatientRow.__table__)
_PG_LOCK_PATIENT = (
    update(_patients)
    .where(_patients.c.id == bindparam("lock_patient"))
    .values(version=_patients.c.version + 1)
    .returning(_patients.c.id_hash)
)

_PG_TAKE = """
WITH claimed AS (
    UPDATE places SET status = 'busy'
     WHERE id = (SELECT id FROM places
                  WHERE session_id = :session_id AND status = 'free' AND starts_at > :after
                        {which}
                  ORDER BY queue_no LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id, queue_no, starts_at, ends_at
), booked AS (
    INSERT INTO appointments (booking_no, patient_id, account_id, channel, session_id,
        department_id, visit_date, queue_no, status, registration_fee_fen,
        consultation_fee_fen, created_at, updated_at, refund_due)
    SELECT :booking_no, :patient_id, :account_id, :channel, s.id, s.department_id,
           s.visit_date, c.queue_no, 'booked', s.registration_fee_fen,
           s.consultation_fee_fen, :now, :now, false
      FROM claimed c JOIN clinic_sessions s ON s.id = :session_id
    ON CONFLICT (booking_no) DO NOTHING
    RETURNING id, queue_no
), logged AS (
    INSERT INTO booking_log (at, event, booking_no, detail)
    SELECT :now, 'booked', :booking_no,
           json_build_object('session_id', :session_id, 'queue_no', b.queue_no,
                             'channel', :channel)
      FROM booked b
    RETURNING id
)
SELECT c.id, c.queue_no, c.starts_at, c.ends_at, (SELECT id FROM booked) AS appointment_id,
       (SELECT count(*) FROM logged) AS logged
  FROM claimed c
"""


_PG_TAKE_PARAMS = [
    ("session_id", "integer"),
    ("after", "timestamptz"),
    ("booking_no", "varchar"),
    ("patient_id", "integer"),
    ("account_id", "integer"),
    ("channel", "varchar"),
    ("now", "timestamptz"),
    ("queue_no", "integer"),
]
_PG_TAKES = tuple(
    _positional(_PG_TAKE.format(which="AND queue_no = :queue_no" if by_no else ""), _PG_TAKE_PARAMS)
    for by_no in (False, True)
)

# SQLite runs its hot statements on the aiosqlite connection itself: SQLAlchemy's adapter
# makes about four thread hops per statement, the driver one, and SQLite's writers are
# serialised, so hops are what limits bookings per second.
_SQLITE_CONTEXT = _CONTEXT.format(
    patient_hash="(SELECT id_hash FROM patients WHERE id = :patient_id)",
    agg="json_group_array",
    array="json_array",
    lock="",
)
_SQLITE_CLAIM = """
UPDATE places SET status = 'busy'
 WHERE id = (SELECT id FROM places
              WHERE session_id = :session_id AND status = 'free' AND starts_at > :after
                    {which}
              ORDER BY queue_no LIMIT 1)
RETURNING id, queue_no, starts_at, ends_at
"""
_SQLITE_CLAIMS = (
    _SQLITE_CLAIM.format(which=""),
    _SQLITE_CLAIM.format(which="AND queue_no = :queue_no"),
)
_SQLITE_INSERT = """
INSERT INTO appointments (booking_no, patient_id, account_id, channel, session_id,
    department_id, visit_date, queue_no, status, registration_fee_fen, consultation_fee_fen,
    created_at, updated_at, refund_due)
SELECT :booking_no, :patient_id, :account_id, :channel, s.id, s.department_id, s.visit_date,
       :queue_no, 'booked', s.registration_fee_fen, s.consultation_fee_fen, :now, :now, 0
  FROM clinic_sessions s WHERE s.id = :session_id
ON CONFLICT (booking_no) DO NOTHING
RETURNING id
"""
_SQLITE_LOG = """
INSERT INTO booking_log (at, event, booking_no, detail)
VALUES (:now, 'booked', :booking_no,
        json_object('session_id', :session_id, 'queue_no', :queue_no, 'channel', :channel))
"""


def sqlite_time(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (naive UTC), so that both compare."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _from_sqlite_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _raw(value: Any) -> str:
    """JSON as stored: text (it is the cache key), whatever the driver returns."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _date(value: Any) -> date | None:
    """A date as the driver returns it: asyncpg a date, SQLite's driver text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _json_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)


@functools.lru_cache(maxsize=256)
def _hospital(
    hospital_id: int,
    code: str,
    name_zh: str,
    name_en: str,
    timezone: str,
    aliases: str,
    policy: str,
    part_hours: str,
) -> Hospital:
    # Cached on the stored values themselves, so an edited hospital is read afresh.
    return hospital_of(
        HospitalRow(
            id=hospital_id,
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            timezone=timezone,
            aliases=json.loads(aliases),
            policy=json.loads(policy),
            part_hours=json.loads(part_hours),
        )
    )


@functools.lru_cache(maxsize=1024)
def _department(
    department_id: int,
    hospital_code: str,
    code: str,
    name_zh: str,
    name_en: str,
    aliases: str,
    bookable: bool,
    min_age: int | None,
    max_age: int | None,
) -> Department:
    return Department(
        id=department_id,
        hospital_code=hospital_code,
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        aliases=tuple(json.loads(aliases)),
        bookable=bookable,
        min_age=min_age,
        max_age=max_age,
    )


def _context_of(row: Any) -> BookingContext:
    hospital = _hospital(
        row.h_id,
        row.h_code,
        row.h_zh,
        row.h_en,
        row.timezone,
        _raw(row.h_aliases),
        _raw(row.policy),
        _raw(row.part_hours),
    )
    department = _department(
        row.d_id,
        row.h_code,
        row.d_code,
        row.d_zh,
        row.d_en,
        _raw(row.d_aliases),
        bool(row.bookable),
        row.min_age,
        row.max_age,
    )
    session = ClinicSession(
        id=row.id,
        hospital_code=row.h_code,
        department_code=row.d_code,
        doctor_work_no=row.work_no,
        visit_date=row.visit_date,
        part=Part(row.part),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        capacity=row.capacity,
        status=SessionStatus(row.status),
        registration_fee_fen=row.registration_fee_fen,
        consultation_fee_fen=row.consultation_fee_fen,
        clinic_type=row.clinic_type,
        stop_reason=row.stop_reason,
    )
    bans = [
        BlacklistEntry(
            id_hash=row.id_hash,
            source=BlacklistSource(source),
            reason=reason,
            starts_on=date.fromisoformat(starts),
            until=date.fromisoformat(until) if until else None,
        )
        for source, reason, starts, until in _json_list(row.bans)
    ]
    uses = [
        QuotaUse(date.fromisoformat(day), code, session_id, appointment_id)
        for day, code, session_id, appointment_id in _json_list(row.uses)
    ]
    return BookingContext(
        session=session,
        hospital=hospital,
        department=department,
        free=int(row.free),
        patient_found=row.id_hash is not None,
        patient_born=_date(row.birth_date),
        bans=bans,
        uses=uses,
    )


class SqlBookings:
    def __init__(
        self, session: AsyncSession, *, postgres: bool, hints: SoldOutHints, freed: set[int]
    ) -> None:
        self.s = session
        self.postgres = postgres
        self.hints = hints
        self.freed = freed

    async def context(
        self, session_id: int, patient_id: int, after: datetime, horizon: tuple[date, date]
    ) -> BookingContext | None:
        # A place freed in this very transaction (a waitlist's hold let go) is not in the hints.
        if session_id not in self.freed and self.hints.is_sold_out(session_id):
            raise SlotFull("this session is fully booked", session_id=session_id)
        params: dict[str, Any] = {
            "session_id": session_id,
            "patient_id": patient_id,
            "after": after,
            "first": horizon[0],
            "last": horizon[1],
        }
        row: Any
        if self.postgres:
            connection = await self.s.connection()
            params["id_hash"] = await connection.scalar(
                _PG_LOCK_PATIENT, {"lock_patient": patient_id}
            )
            args = [params[name] for name, _ in _PG_CONTEXT_PARAMS]
            async with _driver_errors():
                found = await (await self._driver()).fetchrow(_PG_CONTEXT, *args)
            row = _PgRow(found) if found is not None else None
        else:
            params.update(
                after=sqlite_time(after), first=horizon[0].isoformat(), last=horizon[1].isoformat()
            )
            async with _driver_errors():
                rows = await (await self._driver()).execute_fetchall(_SQLITE_CONTEXT, params)
            row = _SqliteRow(rows[0]) if rows else None
        if row is None:
            return None
        context = _context_of(row)
        session = context.session
        # Only a session that could take a booking is "full"; a stopped or ended one must
        # keep being told as such.
        if context.free == 0 and session.status is SessionStatus.OPEN and session.ends_at > after:
            self.hints.mark(session_id)
        return context

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
        params: dict[str, Any] = {
            "session_id": session.id,
            "after": after,
            "booking_no": booking_no,
            "patient_id": patient_id,
            "account_id": account_id,
            "channel": channel,
            "now": now,
            "queue_no": queue_no,
        }
        take = self._take_postgres if self.postgres else self._take_sqlite
        async with _driver_errors():
            taken = await take(await self._driver(), params)
        if taken is None and queue_no is None:
            self.hints.mark(session.id)
        return taken

    async def _driver(self) -> Any:
        connection = await self.s.connection()
        return (await connection.get_raw_connection()).driver_connection

    @staticmethod
    async def _take_postgres(driver: Any, params: dict[str, Any]) -> TakenPlace | None:
        by_no = params["queue_no"] is not None
        names = _PG_TAKE_PARAMS if by_no else _PG_TAKE_PARAMS[:-1]
        row = await driver.fetchrow(_PG_TAKES[by_no], *(params[name] for name, _ in names))
        if row is None:
            return None
        if row["appointment_id"] is None:
            raise BookingNumberTaken("booking number in use", booking_no_clash=True)
        place = ClaimedPlace(row["id"], row["queue_no"], row["starts_at"], row["ends_at"])
        return TakenPlace(row["appointment_id"], place)

    @staticmethod
    async def _take_sqlite(driver: Any, params: dict[str, Any]) -> TakenPlace | None:
        params = {
            **params,
            "after": sqlite_time(params["after"]),
            "now": sqlite_time(params["now"]),
        }
        claimed = await driver.execute_fetchall(
            _SQLITE_CLAIMS[params["queue_no"] is not None], params
        )
        if not claimed:
            return None
        place_id, queue_no, starts_at, ends_at = claimed[0]
        place = ClaimedPlace(
            place_id, queue_no, _from_sqlite_time(starts_at), _from_sqlite_time(ends_at)
        )
        params["queue_no"] = queue_no
        inserted = await driver.execute_fetchall(_SQLITE_INSERT, params)
        if not inserted:
            raise BookingNumberTaken("booking number in use", booking_no_clash=True)
        await driver.execute_fetchall(_SQLITE_LOG, params)
        return TakenPlace(inserted[0][0], place)


@contextlib.asynccontextmanager
async def _driver_errors() -> AsyncIterator[None]:
    """Errors of the drivers used directly, told like those that pass through SQLAlchemy."""
    try:
        yield
    except (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise TryAgain("the booking system is busy, please try again") from exc


class _PgRow:
    """An asyncpg row of the context statement, read by column name."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        value = self._row[name]
        return value.astimezone(UTC) if name in ("starts_at", "ends_at") else value


_CONTEXT_COLUMNS = [
    "id",
    "visit_date",
    "part",
    "starts_at",
    "ends_at",
    "capacity",
    "status",
    "stop_reason",
    "clinic_type",
    "registration_fee_fen",
    "consultation_fee_fen",
    "h_id",
    "h_code",
    "h_zh",
    "h_en",
    "timezone",
    "h_aliases",
    "policy",
    "part_hours",
    "d_id",
    "d_code",
    "d_zh",
    "d_en",
    "d_aliases",
    "bookable",
    "min_age",
    "max_age",
    "work_no",
    "birth_date",
    "free",
    "id_hash",
    "bans",
    "uses",
]


class _SqliteRow:
    """A driver row of the context statement read by column name, converted as SQLAlchemy
    would."""

    def __init__(self, row: Any) -> None:
        self._values = dict(zip(_CONTEXT_COLUMNS, row, strict=True))

    def __getattr__(self, name: str) -> Any:
        value = self._values[name]
        if name in ("starts_at", "ends_at"):
            return _from_sqlite_time(value)
        if name == "visit_date":
            return date.fromisoformat(value)
        return value
