"""The composition root's parts: from the settings, the database, the protector of personal
data and the clock that every entry point (the web app, the worker, the CLI) hands to
the booking use cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from booking.clock import Clock, FixedClock, SystemClock
from booking.patients.blacklist import ListFetcher
from booking.protect import Protector
from booking.store import Database, upgrade
from booking.unit_of_work import UnitOfWorkFactory
from booking.work import HospitalWork
from bot.blacklist_pull import http_list
from bot.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    protector: Protector
    clock: Clock

    @property
    def uows(self) -> UnitOfWorkFactory[HospitalWork]:
        """The database as the use cases see it: a factory of units of work."""
        return self.db

    @property
    def blacklist_pull(self) -> ListFetcher | None:
        """The hospital's blacklist server (GUAHAO_BLACKLIST_URL), if one is configured."""
        url = self.settings.blacklist_url
        return http_list(url, token=self.settings.blacklist_token) if url else None

    @property
    def blacklist_removal_share(self) -> float:
        """GUAHAO_BLACKLIST_MAX_REMOVAL_SHARE: a sync lifting more bans than this share of
        the list changes nothing (a pull) or waits for staff to confirm (an upload)."""
        return self.settings.blacklist_max_removal_share

    async def close(self) -> None:
        await self.db.dispose()


def make_clock(settings: Settings) -> Clock:
    """The system clock, unless GUAHAO_NOW fixes the time (tests and demos)."""
    if settings.fixed_now is not None:
        return FixedClock(settings.fixed_now)
    return SystemClock()


def prepare_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder; create the folder so that a fresh
    ``DATABASE_URL=sqlite+aiosqlite:////some/new/dir/db.sqlite3`` just works."""
    if not url.startswith("sqlite"):
        return
    _, sep, rest = url.partition(":///")
    path = rest.split("?", 1)[0]
    if sep and path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_database(settings: Settings) -> Database:
    prepare_sqlite_directory(settings.database_url)
    return Database(
        settings.database_url, pool_size=settings.db_pool_size, schema=settings.db_schema
    )


def build(settings: Settings) -> Services:
    """Everything a command or request needs. Create it inside the event loop that uses it."""
    return Services(
        settings=settings,
        db=make_database(settings),
        protector=Protector(settings.resolved_secret_key()),
        clock=make_clock(settings),
    )


def migrate(settings: Settings) -> None:
    """Bring the schema up to date (Alembic). Runs its own event loop: call it outside one."""
    prepare_sqlite_directory(settings.database_url)
    upgrade(settings.database_url, schema=settings.db_schema)
