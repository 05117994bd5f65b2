"""A booking's context as the driver gives it (asyncpg or SQLite's, used directly on the hot
path), turned into the domain's BookingContext as SQLAlchemy would have read it."""

from __future__ import annotations

import functools
import json
from datetime import UTC, date, datetime
from typing import Any

from booking.appointments.model import QuotaUse
from booking.appointments.ports import BookingContext
from booking.catalogue.model import Department, Hospital, Part
from booking.catalogue.schedule import ClinicSession, SessionStatus
from booking.patients.model import BlacklistEntry, BlacklistSource
from booking.store.booking_sql import CONTEXT_COLUMNS
from booking.store.catalogue_repo import hospital_of
from booking.store.tables.catalogue import HospitalRow


def sqlite_time(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (naive UTC), so that both compare."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def from_sqlite_time(value: str) -> datetime:
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


def context_of(row: Any) -> BookingContext:
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


class PgRow:
    """An asyncpg row of the context statement, read by column name."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        value = self._row[name]
        return value.astimezone(UTC) if name in ("starts_at", "ends_at") else value


class SqliteRow:
    """A driver row of the context statement read by column name, converted as SQLAlchemy
    would."""

    def __init__(self, row: Any) -> None:
        self._values = dict(zip(CONTEXT_COLUMNS, row, strict=True))

    def __getattr__(self, name: str) -> Any:
        value = self._values[name]
        if name in ("starts_at", "ends_at"):
            return from_sqlite_time(value)
        if name == "visit_date":
            return date.fromisoformat(value)
        return value
