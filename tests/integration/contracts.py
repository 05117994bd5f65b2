"""What the repository contract tests share: the three stores they run on (the in-memory
fake, SQLite, PostgreSQL) and a small hospital to work in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from booking.catalogue.model import Part
from booking.catalogue.schedule import ClinicSession, PlannedSession
from booking.patients.model import Patient
from booking.patients.ports import NewPatient
from booking.roster.ports import RosterWork
from booking.unit_of_work import UnitOfWorkFactory
from tests.fakes.memory import MemoryDatabase
from tests.support import MONDAY_9AM, demo_catalogue, postgres_database, sqlite_database

Store = UnitOfWorkFactory[RosterWork]
BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = MONDAY_9AM
WED = date(2026, 11, 25)
DOCTOR = "00868"  # 张伟, cardiology


async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """The same contract on the fake, SQLite and the PostgreSQL server of this machine."""
    if request.param == "memory":
        yield MemoryDatabase()
    elif request.param == "sqlite":
        async with sqlite_database(tmp_path / "guahao.sqlite3") as database:
            yield database
    else:
        async with postgres_database() as database:
            yield database


@dataclass(frozen=True)
class Ward:
    """The demo catalogue with one session of DOCTOR (Wednesday afternoon, `capacity` places)
    and a patient."""

    session: ClinicSession
    patient: Patient
    hospital_code: str


async def ward(store: Store, capacity: int = 3, patients: int = 1) -> Ward:
    catalogue = demo_catalogue()
    hospital = next(d.hospital_code for d in catalogue.doctors if d.work_no == DOCTOR)
    async with store() as uow:
        await uow.catalogue.upsert(catalogue)
        await uow.sessions.ensure(hospital, DOCTOR, [PlannedSession(WED, Part.PM, capacity)], NOW)
        [session] = await uow.sessions.find(hospital, DOCTOR, WED, Part.PM)
        added = [await uow.patients.add(new_patient(n), NOW) for n in range(1, patients + 1)]
        await uow.commit()
    return Ward(session, added[0], hospital)


def new_patient(n: int, born: date = date(1980, 5, 17)) -> NewPatient:
    return NewPatient(
        name=f"病人{n}",
        id_hash=f"id-hash-{n}",
        id_cipher=f"id-cipher-{n}",
        id_masked=f"1101**********{n:04d}",
        birth_date=born,
        sex="female",
        phone_hash=f"phone-hash-{n}",
        phone_cipher=f"phone-cipher-{n}",
        phone_masked=f"138****{n:04d}",
    )


def at(hour: int, minute: int = 0) -> datetime:
    """A moment on Wednesday, Shanghai time."""
    from zoneinfo import ZoneInfo

    return datetime(2026, 11, 25, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai"))
