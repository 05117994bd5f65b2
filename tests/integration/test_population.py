"""The population test: generated families (tests/population.py) register and book through the
real dialogue engine, NLU and booking domain, on the web chat and by SMS, on SQLite and
PostgreSQL, each patient as tests/simulated_patient.py talks. Every one must succeed; every
failure is printed with its input and the whole conversation.

`make test` runs a sample (GUAHAO_POPULATION families, 60 by default, over 100 patients);
`make population` runs 600 families (about 1,200 patients), as CI does. The seed
(GUAHAO_POPULATION_SEED) replays a run: the same families, the same words, the same choices.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from booking.clock import FixedClock
from booking.protect import Protector
from booking.roster.duty import generate_sessions, import_catalogue
from booking.store import Database
from bot.conversations import Conversations
from bot.dialogue.engine import DialogueEngine
from bot.texts import Texts
from nlu.engine import BuiltinNlu
from tests.population import Family, Population
from tests.simulated_patient import Failed, SimulatedPatient
from tests.support import MONDAY_9AM, SECRET, demo_catalogue, postgres_database, sqlite_database

FAMILIES = int(os.environ.get("GUAHAO_POPULATION", "60"))
SEED = int(os.environ.get("GUAHAO_POPULATION_SEED", "20261207"))
# Families per database: the demo hospital's week has room for them all.
BATCH = 50
AT_ONCE = 8


async def _book_all(db: Database, families: list[Family], nlu: BuiltinNlu) -> list[str]:
    clock = FixedClock(MONDAY_9AM)
    await import_catalogue(db, demo_catalogue())
    await generate_sessions(db, clock)
    protector = Protector(SECRET)
    codes: dict[str, str] = {}

    async def text(phone: str, message: str) -> None:  # the SMS gateway: codes by phone
        code = re.search(r"\d{6}", message)
        if code:
            codes[phone.removeprefix("+86")] = code.group(0)

    conversations = Conversations(db, protector, clock)
    engine = DialogueEngine(
        nlu=nlu,
        conversations=conversations,
        texts=Texts.load(),
        uows=db,
        clock=clock,
        protector=protector,
        triage=demo_catalogue().triage,
        texting=text,
    )
    gate = asyncio.Semaphore(AT_ONCE)
    failures: list[str] = []

    async def one(family: Family) -> None:
        patient = SimulatedPatient(
            family, engine.handle, db, protector, conversations, codes, clock.now, SEED
        )
        async with gate:
            try:
                await patient.run()
            except Failed as failure:
                failures.append(patient.talk.report(str(failure)))

    await asyncio.gather(*(one(family) for family in families))
    return failures


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_every_patient_of_a_generated_population_registers_and_books(
    database: str, tmp_path: Path, nlu: BuiltinNlu
) -> None:
    families = Population(SEED).families(FAMILIES)
    failures: list[str] = []
    for start in range(0, len(families), BATCH):
        batch = families[start : start + BATCH]
        if database == "sqlite":
            async with sqlite_database(tmp_path / f"population-{start}.sqlite3") as db:
                failures += await _book_all(db, batch, nlu)
        else:
            async with postgres_database() as db:
                failures += await _book_all(db, batch, nlu)
    people = sum(len(f.people) for f in families)
    assert not failures, (
        f"{len(failures)} of {len(families)} families ({people} patients) failed; replay with "
        f"GUAHAO_POPULATION={FAMILIES} GUAHAO_POPULATION_SEED={SEED}:\n\n" + "\n\n".join(failures)
    )
