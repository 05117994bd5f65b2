"""Log retention (B8) on SQLite and PostgreSQL, with a moved clock: the booking log and the
operation-error log keep a year, the audit log three years; the purge is itself audited, with
counts; a shorter retention is refused."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from booking.clock import FixedClock
from booking.errors import InvalidInput
from booking.staff import audit
from booking.staff.audit import COMMAND_LINE, SCHEDULE
from booking.staff.model import AuditFilter
from booking.staff.retention import Purged, Retention, purge_old_records
from booking.store import Database
from bot.runtime.build import build
from bot.settings import Settings
from tests.office import audit_rows
from tests.support import MONDAY_9AM, SECRET, sqlite_database

DAY = timedelta(days=1)


async def write_logs(db: Database, clock: FixedClock, days_ago: int, label: str) -> None:
    """One booking-log, one error-log and one audit row, written `days_ago` days back."""
    at = clock.now() - days_ago * DAY
    async with db() as uow:
        await uow.logs.booking_event(at, "booked", f"B{label}", {"session_id": days_ago})
        await uow.logs.operation_error(at, "book", "slot_full", {"session_id": days_ago})
        await uow.audit.add(COMMAND_LINE.did(at, audit.STAFF_ADD, target=f"staff-{label}"))
        await uow.commit()


async def kept(db: Database) -> tuple[list[int], list[int], list[str]]:
    async with db(readonly=True) as uow:
        booked = await uow.tx.execute(  # type: ignore[attr-defined]
            text("SELECT detail FROM booking_log")
        )
        errors = await uow.tx.execute(  # type: ignore[attr-defined]
            text("SELECT detail FROM operation_errors")
        )
        audited = await uow.audit.page(AuditFilter(action=audit.STAFF_ADD, per_page=100))
    return (
        sorted(_days(row[0]) for row in booked.all()),
        sorted(_days(row[0]) for row in errors.all()),
        sorted(e.target or "" for e in audited),
    )


def _days(detail: object) -> int:
    found = json.loads(detail) if isinstance(detail, str) else detail
    assert isinstance(found, dict)
    return int(found["session_id"])


async def test_logs_older_than_a_year_and_audit_older_than_three_years_are_purged(
    db: Database, clock: FixedClock
) -> None:
    for days_ago in (364, 366, 1094, 1096):
        await write_logs(db, clock, days_ago, str(days_ago))

    purged = await purge_old_records(db, clock, Retention())

    assert (purged.booking_log, purged.operation_errors, purged.audit_log) == (3, 3, 1)
    booked, errors, audited = await kept(db)
    assert booked == [364] and errors == [364]
    assert audited == ["staff-1094", "staff-364", "staff-366"]


async def test_the_purge_is_audited_with_its_counts_and_a_moved_clock_purges_more(
    db: Database, clock: FixedClock
) -> None:
    await write_logs(db, clock, 0, "today")
    assert await purge_old_records(db, clock, Retention()) == Purged(0, 0, 0)

    clock.advance(364 * DAY)  # a day short of a year: kept
    await purge_old_records(db, clock, Retention())
    assert (await kept(db))[:2] == ([0], [0])

    clock.advance(2 * DAY)  # a day over: gone
    purged = await purge_old_records(db, clock, Retention(), by=SCHEDULE)
    assert (purged.booking_log, purged.operation_errors, purged.audit_log) == (1, 1, 0)
    assert (await kept(db))[:2] == ([], [])

    runs = [row for row in await audit_rows(db) if row["action"] == audit.RETENTION_PURGE]
    assert len(runs) == 3
    last = runs[-1]
    assert last["address"] == "schedule" and last["username"] is None
    assert last["before"] == {"log_days": 365, "audit_days": 1095}
    assert last["after"] == {"booking_log": 1, "operation_errors": 1, "audit_log": 0}


async def test_a_longer_retention_keeps_more(db: Database, clock: FixedClock) -> None:
    await write_logs(db, clock, 400, "400")
    purged = await purge_old_records(db, clock, Retention(log_days=730, audit_days=1095))
    assert (purged.booking_log, purged.operation_errors) == (0, 0)


@pytest.mark.parametrize(
    ("log_days", "audit_days"), [(364, 1095), (30, 1095), (365, 1094), (1200, 1100)]
)
def test_a_retention_shorter_than_the_rules_is_refused(log_days: int, audit_days: int) -> None:
    with pytest.raises(InvalidInput):
        Retention(log_days=log_days, audit_days=audit_days)


@pytest.mark.parametrize(
    "env",
    [
        {"GUAHAO_LOG_RETENTION_DAYS": "364"},
        {"GUAHAO_AUDIT_RETENTION_DAYS": "365"},
        {"GUAHAO_LOG_RETENTION_DAYS": "1200", "GUAHAO_AUDIT_RETENTION_DAYS": "1100"},
    ],
)
def test_settings_refuse_a_shorter_retention(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_settings_default_to_a_year_and_three_years(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUAHAO_LOG_RETENTION_DAYS", raising=False)
    monkeypatch.delenv("GUAHAO_AUDIT_RETENTION_DAYS", raising=False)
    assert Settings(_env_file=None).retention == Retention(365, 1095)  # type: ignore[call-arg]


async def test_the_running_application_purges_old_logs_on_its_own(tmp_path: Path) -> None:
    """`guahao serve`'s housekeeping purges as it starts (then once a day), audited."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    clock = FixedClock(MONDAY_9AM)
    async with sqlite_database(tmp_path / "bot.sqlite3") as db:
        await write_logs(db, clock, 366, "old")
        await write_logs(db, clock, 364, "recent")
    bot = await build(
        Settings(
            DATABASE_URL=url,
            GUAHAO_SECRET_KEY=SECRET,
            GUAHAO_NOW=clock.now().isoformat(),
            GUAHAO_NLU_MODELS=tmp_path / "models",
        )  # type: ignore[call-arg]
    )
    bot.start_rounds()
    try:
        assert bot.services is not None
        for _ in range(100):  # the first round runs as the bot starts
            if (await kept(bot.services.db))[0] == [364]:
                break
            await asyncio.sleep(0.05)
        assert (await kept(bot.services.db))[:2] == ([364], [364])
        [run] = [r for r in await audit_rows(bot.services.db) if r["action"] == "retention.purge"]
        assert run["address"] == "schedule"
        assert run["after"] == {"booking_log": 1, "operation_errors": 1, "audit_log": 0}
    finally:
        await bot.stop()
