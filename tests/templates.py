"""Databases made once per test process and copied for each test.

Creating the schema and loading the demo hospital (its catalogue and a booking window of
sessions) takes most of a second, on every test that asks for it; copying the result takes a few
milliseconds: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL. Each test
still has a database of its own, which it may change as it likes.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from booking.store import Database, create_schema
from tests.support import on_postgres, postgres_url, sqlite_database

Fill = Callable[[Database], Awaitable[None]]
# The tables of a copied PostgreSQL database are in a schema of this name, as in production
# when GUAHAO_DB_SCHEMA is set (so `db.schema` is never None there).
SCHEMA = "guahao"


class DatabaseTemplates:
    """The templates of one test process, by name (``empty``, ``demo-<the clock's time>``)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._files: dict[str, Path] = {}
        self._databases: dict[str, str] = {}
        self._prefix = f"guahao_tmpl_{uuid.uuid4().hex[:10]}"

    @asynccontextmanager
    async def sqlite(
        self, path: Path, name: str, fill: Fill | None = None
    ) -> AsyncIterator[Database]:
        template = self._files.get(name)
        if template is None:
            template = self._folder / f"{name}.sqlite3"
            async with sqlite_database(template) as made:
                if fill is not None:
                    await fill(made)
            # Disposed, the last connection has checkpointed and removed the write-ahead log:
            # the one file is the whole database.
            self._files[name] = template
        shutil.copyfile(template, path)
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            yield db
        finally:
            await db.dispose()

    @asynccontextmanager
    async def postgres(self, name: str, fill: Fill | None = None) -> AsyncIterator[Database]:
        template = self._databases.get(name)
        if template is None:
            template = f"{self._prefix}_{len(self._databases)}"
            await on_postgres(f'CREATE DATABASE "{template}"')
            await on_postgres(f'CREATE SCHEMA "{SCHEMA}"', database=template)
            made = Database(postgres_url(template), schema=SCHEMA)
            try:
                await create_schema(made)
                if fill is not None:
                    await fill(made)
            finally:
                await made.dispose()  # a template is copied only when nobody is connected
            self._databases[name] = template
        copy = f"guahao_test_{uuid.uuid4().hex[:12]}"
        # FILE_COPY copies the files (a small database) instead of logging every page.
        await on_postgres(f'CREATE DATABASE "{copy}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        db = Database(postgres_url(copy), schema=SCHEMA)
        try:
            yield db
        finally:
            await db.dispose()
            await on_postgres(f'DROP DATABASE "{copy}" WITH (FORCE)')

    async def drop(self) -> None:
        for template in self._databases.values():
            await on_postgres(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        self._databases.clear()
        self._files.clear()
