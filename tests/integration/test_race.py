"""Never overbook: 1,000 distinct patients race for one session of 50 places.

On SQLite the attempts are asyncio tasks of one process (writers are serialised in-process);
on PostgreSQL they come from 4 OS processes at once, each with its own connection pool.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
from collections import Counter
from datetime import date

import pytest

from booking.appointments.book import book
from booking.catalogue.model import Part
from booking.catalogue.search import search_sessions
from booking.clock import FixedClock
from booking.errors import SlotFull
from booking.patients.identity import mask_id_number, parse_id_number
from booking.patients.ports import NewPatient
from booking.protect import Protector
from booking.roster.duty import generate_sessions, import_catalogue
from booking.store import Database
from tests.support import (
    MONDAY_9AM,
    POSTGRES_URL,
    SECRET,
    demo_catalogue,
    many_id_numbers,
    postgres_database,
)

ATTEMPTS = 1000
PLACES = 50  # 孙悦 (02415), Tuesday morning: 儿科, so the patients are children
CHILDREN = date(2016, 1, 1)
PROCESSES = 4


async def prepare(db: Database) -> tuple[int, list[int]]:
    clock = FixedClock(MONDAY_9AM)
    await import_catalogue(db, demo_catalogue())
    await generate_sessions(db, clock)
    [offer] = await search_sessions(
        db,
        clock,
        doctor="02415",
        date_from=date(2026, 11, 24),
        date_to=date(2026, 11, 24),
        part=Part.AM,
    )
    assert offer.session.capacity == PLACES
    protector = Protector(SECRET)
    ids = []
    async with db() as uow:
        for n, number in enumerate(many_id_numbers(ATTEMPTS, CHILDREN)):
            resident = parse_id_number(number)
            added = await uow.patients.add(
                NewPatient(
                    name="患者",
                    id_hash=protector.lookup_hash("id", number),
                    id_cipher=protector.encrypt(number),
                    id_masked=mask_id_number(number),
                    birth_date=resident.birth_date,
                    sex=resident.sex.value,
                    phone_hash=f"p{n}",
                    phone_cipher="",
                    phone_masked="",
                ),
                clock.now(),
            )
            ids.append(added.id)
        await uow.commit()
    return offer.session.id, ids


async def attempt_all(db: Database, session_id: int, patient_ids: list[int]) -> list[int]:
    """Book for every patient at once; the queue numbers won. Any refusal but 'full' fails."""
    clock = FixedClock(MONDAY_9AM)
    results = await asyncio.gather(
        *(
            book(db, clock, patient_id=p, session_id=session_id, channel="race")
            for p in patient_ids
        ),
        return_exceptions=True,
    )
    won = []
    for result in results:
        if isinstance(result, SlotFull):
            continue
        if isinstance(result, BaseException):
            raise result
        won.append(result.place.queue_no)
    return won


async def check_outcome(db: Database, session_id: int, won: list[int]) -> None:
    assert sorted(won) == list(range(1, PLACES + 1))
    async with db(readonly=True) as uow:
        assert await uow.sessions.busy_places(session_id) == PLACES
        holding = await uow.appointments.holding_places(session_id)
    assert len(holding) == PLACES
    assert Counter(a.queue_no for a in holding) == Counter(range(1, PLACES + 1))
    assert len({a.patient_id for a in holding}) == PLACES


async def test_sqlite_tasks_never_overbook(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support import sqlite_database

    async with sqlite_database(tmp_path / "race.sqlite3") as db:
        session_id, patients = await prepare(db)
        won = await attempt_all(db, session_id, patients)
        await check_outcome(db, session_id, won)


def _race_in_process(
    schema: str,
    session_id: int,
    patient_ids: list[int],
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    async def run() -> list[int]:
        db = Database(POSTGRES_URL, pool_size=10, schema=schema)
        try:
            async with db(readonly=True) as uow:  # open the pool before the start signal
                await uow.sessions.busy_places(session_id)
            start.wait(timeout=60)
            return await attempt_all(db, session_id, patient_ids)
        finally:
            await db.dispose()

    try:
        results.put(("ok", asyncio.run(run())))
    except BaseException as exc:  # reported to the test, which fails with it
        results.put(("error", repr(exc)))


@pytest.mark.postgres
async def test_postgres_processes_never_overbook() -> None:
    async with postgres_database() as db:
        session_id, patients = await prepare(db)
        assert db.schema is not None
        spawn = multiprocessing.get_context("spawn")
        start = spawn.Barrier(PROCESSES)
        results = spawn.Queue()
        workers = [
            spawn.Process(
                target=_race_in_process,
                args=(db.schema, session_id, patients[i::PROCESSES], start, results),
            )
            for i in range(PROCESSES)
        ]
        for w in workers:
            w.start()
        outcomes = [await asyncio.to_thread(results.get, True, 180) for _ in workers]
        for w in workers:
            w.join(timeout=30)
        errors = [detail for kind, detail in outcomes if kind == "error"]
        assert not errors, errors
        won = [q for _, queue_nos in outcomes for q in queue_nos]
        await check_outcome(db, session_id, won)
