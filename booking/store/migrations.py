"""Schema changes go through Alembic (``guahao db upgrade``); tests may build the schema
straight from the rows and check that it matches the migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from booking.store.database import Database
from booking.store.tables import Base

MIGRATIONS = Path(__file__).resolve().parents[2] / "alembic"


def alembic_config(url: str, schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # PostgreSQL: alembic/env.py works inside this schema (search_path), as Database does.
    config.attributes["schema"] = schema
    return config


def upgrade(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Bring the database at ``url`` (and, on PostgreSQL, ``schema``) up to ``revision``.
    Call it outside a running event loop."""
    command.upgrade(alembic_config(url, schema), revision)


async def create_schema(db: Database) -> None:
    async with db.write_engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def drop_schema(db: Database) -> None:
    async with db.write_engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
