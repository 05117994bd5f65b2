"""The Alembic migrations build exactly the schema the code expects, on both databases, and
carry the rows over where a table changes shape."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from booking.store import upgrade
from booking.store.migrations import alembic_config
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


def _sql(url: str, schema: str | None, *statements: str) -> list[Any]:
    """Run statements on the database; the last one's rows."""

    async def run() -> list[Any]:
        args = {"server_settings": {"search_path": schema}} if schema else {}
        engine = create_async_engine(url, connect_args=args)
        try:
            async with engine.begin() as conn:
                result = None
                for statement in statements:
                    result = await conn.execute(text(statement))
                return list(result.all()) if result is not None and result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _codes_carried_over(url: str, schema: str | None = None) -> None:
    """0013: the link codes of the last day become phone codes, keyed by the patient's
    registered phone, so that the limits per phone still count them; and back."""
    upgrade(url, "0012", schema=schema)
    _sql(
        url,
        schema,
        "INSERT INTO accounts (id, channel, user_id, created_at, quiet) "
        "VALUES (1, 'web', 'u', '2026-11-23 01:00:00+00', false)",
        "INSERT INTO patients (id, name, id_hash, id_cipher, id_masked, birth_date, sex, "
        "phone_hash, phone_cipher, phone_masked, created_at, version) VALUES (7, '张三', 'i', "
        "'c', 'm', '1980-05-17', 'male', 'phone-of-7', 'c', '138****5678', "
        "'2026-11-23 01:00:00+00', 0)",
        "INSERT INTO link_codes (account_id, patient_id, code_hash, expires_at, tries, "
        "created_at) VALUES (1, 7, 'h', '2026-11-23 01:05:00+00', 2, '2026-11-23 01:00:00+00')",
    )
    upgrade(url, schema=schema)
    rows = _sql(url, schema, "SELECT account_id, phone_hash, patient_id, tries FROM phone_codes")
    assert [tuple(row) for row in rows] == [(1, "phone-of-7", 7, 2)]
    command.downgrade(alembic_config(url, schema), "0012")
    rows = _sql(url, schema, "SELECT account_id, patient_id, tries FROM link_codes")
    assert [tuple(row) for row in rows] == [(1, 7, 2)]


def test_sqlite_link_codes_are_carried_over(tmp_path: Path) -> None:
    _codes_carried_over(f"sqlite+aiosqlite:///{tmp_path / 'codes.sqlite3'}")


@pytest.mark.postgres
def test_postgres_link_codes_are_carried_over() -> None:
    with postgres_schema_outside_loop("c") as schema:
        _codes_carried_over(POSTGRES_URL, schema)
