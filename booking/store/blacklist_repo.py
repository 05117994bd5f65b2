"""The blacklist in the database: the hospital's entries (replaced by each sync), the bans
after no-shows, and the reports of the syncs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.patients.model import (
    BlacklistEntry,
    BlacklistPage,
    BlacklistSource,
    Changes,
    HospitalEntry,
    RowProblem,
    ShownEntry,
    SyncOrigin,
    SyncReport,
    SyncStatus,
)
from booking.store.tables.patients import BlacklistRow, BlacklistSyncRow, PatientRow

_SYNC_LOCK = 0x6775_6168_6130  # pg_advisory_xact_lock key of the hospital list's syncs
_HOSPITAL = BlacklistSource.HOSPITAL.value


class SqlBlacklist:
    def __init__(self, tx: AsyncSession, *, postgres: bool = False) -> None:
        self.tx = tx
        self.postgres = postgres

    async def entries(self, id_hash: str) -> list[BlacklistEntry]:
        rows = await self.tx.scalars(select(BlacklistRow).where(BlacklistRow.id_hash == id_hash))
        return [
            BlacklistEntry(
                id_hash=r.id_hash,
                source=BlacklistSource(r.source),
                reason=r.reason,
                starts_on=r.starts_on,
                until=r.until,
            )
            for r in rows.all()
        ]

    async def add(self, entry: BlacklistEntry, now: datetime) -> None:
        self.tx.add(
            BlacklistRow(
                id_hash=entry.id_hash,
                source=entry.source.value,
                reason=entry.reason,
                starts_on=entry.starts_on,
                until=entry.until,
                created_at=now,
            )
        )
        await self.tx.flush()

    async def lock_hospital_list(self) -> None:
        # SQLite's writers already take turns (Database.writer_lock).
        if self.postgres:
            await self.tx.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SYNC_LOCK})

    async def hospital_entries(self) -> list[HospitalEntry]:
        rows = await self.tx.scalars(select(BlacklistRow).where(BlacklistRow.source == _HOSPITAL))
        return [
            HospitalEntry(r.id_hash, r.id_masked, r.reason, r.starts_on, r.until)
            for r in rows.all()
        ]

    async def apply_hospital_changes(self, changes: Changes, now: datetime) -> None:
        hospital = BlacklistRow.source == _HOSPITAL
        for chunk in _chunks(changes.removed):
            await self.tx.execute(
                delete(BlacklistRow).where(hospital, BlacklistRow.id_hash.in_(chunk))
            )
        for e in changes.updated:
            await self.tx.execute(
                update(BlacklistRow)
                .where(hospital, BlacklistRow.id_hash == e.id_hash)
                .values(
                    reason=e.reason, starts_on=e.starts_on, until=e.until, id_masked=e.id_masked
                )
            )
        self.tx.add_all(
            BlacklistRow(
                id_hash=e.id_hash,
                source=_HOSPITAL,
                reason=e.reason,
                starts_on=e.starts_on,
                until=e.until,
                id_masked=e.id_masked,
                created_at=now,
            )
            for e in changes.added
        )
        await self.tx.flush()

    async def save_sync(self, report: SyncReport) -> int:
        row = BlacklistSyncRow(
            at=report.at,
            origin=report.origin.value,
            status=report.status.value,
            username=report.username,
            rows=report.rows,
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            unchanged=report.unchanged,
            rejected=report.rejected,
            failure=report.failure,
            problems=[_problem_dict(p) for p in report.problems],
        )
        self.tx.add(row)
        await self.tx.flush()
        return row.id

    async def latest_syncs(self, count: int) -> list[SyncReport]:
        rows = await self.tx.scalars(
            select(BlacklistSyncRow)
            .order_by(BlacklistSyncRow.at.desc(), BlacklistSyncRow.id.desc())
            .limit(count)
        )
        return [_report(r) for r in rows.all()]

    async def page(self, source: str, page: int, per_page: int) -> BlacklistPage:
        of_source = BlacklistRow.source == source
        total = await self.tx.scalar(
            select(func.count()).select_from(BlacklistRow).where(of_source)
        )
        if source == _HOSPITAL:
            query = select(BlacklistRow, BlacklistRow.id_masked)
        else:  # a no-show ban names a registered patient: their masked number
            masked = func.coalesce(PatientRow.id_masked, BlacklistRow.id_masked)
            query = select(BlacklistRow, masked).outerjoin(
                PatientRow, PatientRow.id_hash == BlacklistRow.id_hash
            )
        query = (
            query.where(of_source)
            .order_by(BlacklistRow.created_at.desc(), BlacklistRow.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        found = await self.tx.execute(query)
        entries = [
            ShownEntry(shown or "", r.reason, r.starts_on, r.until, r.created_at)
            for r, shown in found.all()
        ]
        return BlacklistPage(entries, int(total or 0))


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _problem_dict(p: RowProblem) -> dict[str, Any]:
    found: dict[str, Any] = {"row": p.row, "column": p.column, "problem": p.problem}
    if p.other_row is not None:
        found["other_row"] = p.other_row
    return found


def _report(r: BlacklistSyncRow) -> SyncReport:
    problems = tuple(
        RowProblem(int(p["row"]), str(p["column"]), str(p["problem"]), p.get("other_row"))
        for p in r.problems or []
    )
    return SyncReport(
        at=r.at,
        origin=SyncOrigin(r.origin),
        status=SyncStatus(r.status),
        username=r.username,
        rows=r.rows,
        added=r.added,
        updated=r.updated,
        removed=r.removed,
        unchanged=r.unchanged,
        rejected=r.rejected,
        failure=r.failure,
        problems=problems,
        id=r.id,
    )
