from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest

from booking.clock import FixedClock
from booking.protect import Protector
from booking.roster.duty import generate_sessions, import_catalogue
from booking.store import Database
from bot.runtime.nlu import build_builtin
from nlu.engine import BuiltinNlu
from tests.support import (
    MONDAY_9AM,
    NLU_DATA,
    SECRET,
    demo_catalogue,
)
from tests.templates import DatabaseTemplates


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_9AM)


@pytest.fixture
def protector() -> Protector:
    return Protector(SECRET)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    made = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield made
    asyncio.run(made.drop())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, templates: DatabaseTemplates
) -> AsyncIterator[Database]:
    """The same tests run on SQLite and on the PostgreSQL server of this machine, each on a
    database of its own: empty, or with the demo hospital when the test asks for `demo`."""
    name, fill = "empty", None
    if "demo" in request.fixturenames:
        clock: FixedClock = request.getfixturevalue("clock")
        name, fill = f"demo-{clock.now():%Y%m%dT%H%M%S}", partial(_load_demo, now=clock.now())
    if request.param == "sqlite":
        copy = templates.sqlite(tmp_path / "guahao.sqlite3", name, fill)
    else:
        copy = templates.postgres(name, fill)
    async with copy as database:
        yield database


async def _load_demo(db: Database, now: datetime) -> None:
    await import_catalogue(db, demo_catalogue())
    await generate_sessions(db, FixedClock(now))


@pytest.fixture
async def demo(db: Database) -> Database:
    """The demo hospital loaded, with its sessions for the booking window (as the clock
    stands when the test starts)."""
    return db


@pytest.fixture(scope="session")
def nlu() -> BuiltinNlu:
    """The built-in NLU trained on data/nlu with the demo catalogue, once per test run."""
    return build_builtin(demo_catalogue(), NLU_DATA)
