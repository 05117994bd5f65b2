"""The Alembic migrations build exactly the schema the code expects, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from booking.store import upgrade
from booking.store.tables import Base
from tests.support import POSTGRES_URL, postgres_schema_outside_loop


def _differences(url: str, schema: str | None = None) -> list[Any]:
    async def compare() -> list[Any]:
        args = {"server_settings": {"search_path": schema}} if schema else {}
        engine = create_async_engine(url, connect_args=args)

        def diff(conn: Connection) -> list[Any]:
            return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))

        try:
            async with engine.connect() as conn:
                return await conn.run_sync(diff)
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def test_sqlite_migrations_match_the_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.sqlite3'}"
    upgrade(url)
    upgrade(url)  # a second upgrade is a no-op
    assert _differences(url) == []


@pytest.mark.postgres
def test_postgres_migrations_match_the_rows() -> None:
    with postgres_schema_outside_loop("m") as schema:
        upgrade(POSTGRES_URL, schema=schema)
        assert _differences(POSTGRES_URL, schema) == []
