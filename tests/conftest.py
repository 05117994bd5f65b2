from __future__ import annotations

from collections.abc import AsyncIterator
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
    postgres_database,
    sqlite_database,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_9AM)


@pytest.fixture
def protector() -> Protector:
    return Protector(SECRET)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same tests run on SQLite and on the PostgreSQL server of this machine."""
    if request.param == "sqlite":
        async with sqlite_database(tmp_path / "guahao.sqlite3") as database:
            yield database
    else:
        async with postgres_database() as database:
            yield database


@pytest.fixture
async def demo(db: Database, clock: FixedClock) -> Database:
    """The demo hospital loaded, with its sessions for the booking window."""
    await import_catalogue(db, demo_catalogue())
    await generate_sessions(db, clock)
    return db


@pytest.fixture(scope="session")
def nlu() -> BuiltinNlu:
    """The built-in NLU trained on data/nlu with the demo catalogue, once per test run."""
    return build_builtin(demo_catalogue(), NLU_DATA)
