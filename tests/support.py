"""Helpers shared by the tests: valid resident ID numbers, databases, the demo hospital."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url
from stdnum.cn import ric

from booking.catalogue.model import Catalogue
from booking.files.catalogue import catalogue_from_data
from booking.store import Database, create_schema

ROOT = Path(__file__).resolve().parents[1]
DEMO_FILE = ROOT / "data" / "demo_hospital.yaml"
NLU_DATA = ROOT / "data" / "nlu"
# The held-out NLU split's dates are relative to Wednesday 25 November 2026, 10:00 in Shanghai.
WEDNESDAY_10AM = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get(
    "GUAHAO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SECRET = "test-secret-key-that-is-long-enough"
# Monday 23 November 2026, 09:00 in Shanghai (01:00 UTC): after the 07:00 release.
MONDAY_9AM = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def id_number(n: int, born: date = date(1980, 5, 17), region: str = "110105") -> str:
    """The n-th valid resident ID number (n < 1000) for people born on one day."""
    body = f"{region}{born:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # it expects a place for the digit


def many_id_numbers(count: int, first_birthday: date = date(1950, 1, 1)) -> list[str]:
    """``count`` distinct valid ID numbers, of people born on or after `first_birthday`."""
    numbers = []
    day = first_birthday
    while len(numbers) < count:
        numbers.extend(id_number(n, born=day) for n in range(min(999, count - len(numbers))))
        day = date.fromordinal(day.toordinal() + 1)
    return numbers


def demo_catalogue() -> Catalogue:
    return catalogue_from_data(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8")))


@asynccontextmanager
async def sqlite_database(path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await create_schema(db)
    try:
        yield db
    finally:
        await db.dispose()


def postgres_url(database: str) -> str:
    """The test server's address, for another database on it."""
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


async def on_postgres(sql: str, database: str | None = None) -> None:
    """Run one statement on the test server, outside any schema (in `database`, or the test
    database)."""
    import asyncpg  # type: ignore[import-untyped]

    url = postgres_url(database) if database is not None else POSTGRES_URL
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_schema(prefix: str = "t") -> AsyncIterator[str]:
    """A schema of its own on the test server, dropped afterwards: test runs never collide."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await on_postgres(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        await on_postgres(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def postgres_schema_outside_loop(prefix: str = "t") -> Iterator[str]:
    """postgres_schema for code that runs its own event loops (the CLI, Alembic)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(on_postgres(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        asyncio.run(on_postgres(f'DROP SCHEMA "{schema}" CASCADE'))


@asynccontextmanager
async def postgres_database(pool_size: int = 10) -> AsyncIterator[Database]:
    """A database in a schema of its own (see postgres_schema)."""
    async with postgres_schema() as schema:
        db = Database(POSTGRES_URL, pool_size=pool_size, schema=schema)
        try:
            await create_schema(db)
            yield db
        finally:
            await db.dispose()


def chat_id(name: str) -> str:
    """A web chat id of the page's form (32 hex characters), the same for the same name."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]
