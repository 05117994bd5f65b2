"""The hospital's blacklist, synchronised (B6): the hospital keeps the list; the platform only
takes copies of it — uploaded by staff, imported on the command line or pulled from the
hospital's server — and each copy replaces exactly the hospital's entries. Bans after
no-shows (booking.appointments.attendance) are kept beside them and never touched by a sync.

A copy with any bad row is refused whole: applying the good rows alone would lift the ban of
whoever's row had a typo. Every sync, applied or not, leaves a report (counts and which rows
were wrong, never an ID number) and an audit entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking.clock import Clock
from booking.patients.model import (
    BlacklistPage,
    BrokenList,
    Changes,
    HospitalEntry,
    HospitalList,
    ListFile,
    SyncOrigin,
    SyncReport,
    SyncStatus,
)
from booking.patients.ports import PatientWork
from booking.protect import Protector
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

# The hospital's day decides when a ban starts; the demo hospitals are in Shanghai.
HOSPITAL_ZONE = ZoneInfo("Asia/Shanghai")
MAX_PROBLEMS_KEPT = 50  # a report names this many bad rows, and counts the rest
# A copy that would lift more than this share of the bans (GUAHAO_BLACKLIST_MAX_REMOVAL_SHARE)
# of a list this long, or every ban of a shorter one, is taken for part of the list (a
# half-written export, a cut-off answer, a header alone): a pull is refused, an upload or an
# import is held until staff confirm how many bans it lifts.
GUARDED_FROM = 10
REMOVAL_SHARE = 0.5


ListFetcher = Callable[[], Awaitable[ListFile]]  # raises BrokenList when the answer is no list
# A copy's format read into entries (blocking); raises BrokenList. The formats are in
# booking.files.
ListReader = Callable[[ListFile, Protector, date], HospitalList]


def compare(current: Sequence[HospitalEntry], listed: Sequence[HospitalEntry]) -> Changes:
    """What a sync does: the people new on the list, those whose reason or dates changed,
    those no longer on it, and how many stay as they were."""
    before = {e.id_hash: e for e in current}
    after = {e.id_hash: e for e in listed}
    added = [e for h, e in after.items() if h not in before]
    updated = [e for h, e in after.items() if h in before and _differs(before[h], e)]
    removed = [h for h in before if h not in after]
    return Changes(added, updated, removed, len(after) - len(added) - len(updated))


def _differs(old: HospitalEntry, new: HospitalEntry) -> bool:
    return (old.reason, old.starts_on, old.until, old.id_masked) != (
        new.reason,
        new.starts_on,
        new.until,
        new.id_masked,
    )


async def sync_file(
    uows: UnitOfWorkFactory[PatientWork],
    clock: Clock,
    protector: Protector,
    file: ListFile,
    *,
    read: ListReader,
    origin: SyncOrigin,
    actor: Actor,
    removal_share: float = REMOVAL_SHARE,
    removals_confirmed: int = 0,
) -> SyncReport:
    """Read a copy of the hospital's list and make it the hospital's entries; a broken copy
    or one with bad rows changes nothing. Either way the report is kept and audited.
    `removals_confirmed`: how many bans staff have agreed to lift, for a copy that would
    lift more than `removal_share` of them (otherwise it is held: a HELD report with the
    counts it would have). `read`: the file's format (booking.files.blacklist.read_list)."""
    now = clock.now()
    today = now.astimezone(HOSPITAL_ZONE).date()
    try:
        # openpyxl and 10,000 keyed hashes take a moment: not on the event loop's time.
        listed = await asyncio.to_thread(read, file, protector, today)
    except BrokenList as broken:
        if origin is SyncOrigin.PULL and broken.problem == "empty":
            listed = HospitalList((), (), 0)  # an empty answer: is the list really empty?
        else:
            return await record_failure(uows, clock, broken.problem, origin=origin, actor=actor)
    return await _apply(
        uows, now, listed, origin=origin, actor=actor, share=removal_share,
        confirmed=removals_confirmed,
    )  # fmt: skip


async def pull(
    uows: UnitOfWorkFactory[PatientWork],
    clock: Clock,
    protector: Protector,
    fetch: ListFetcher,
    *,
    read: ListReader,
    actor: Actor,
    removal_share: float = REMOVAL_SHARE,
) -> SyncReport:
    """Fetch the hospital's list and sync it; an answer that is no list (an HTTP error, an
    HTML page, nothing where there were entries) is reported as failed and changes nothing."""
    try:
        file = await fetch()
    except BrokenList as broken:
        return await record_failure(
            uows, clock, broken.problem, origin=SyncOrigin.PULL, actor=actor
        )
    return await sync_file(
        uows, clock, protector, file, read=read, origin=SyncOrigin.PULL, actor=actor,
        removal_share=removal_share,
    )  # fmt: skip


async def record_failure(
    uows: UnitOfWorkFactory[PatientWork],
    clock: Clock,
    problem: str,
    *,
    origin: SyncOrigin,
    actor: Actor,
) -> SyncReport:
    report = SyncReport(clock.now(), origin, SyncStatus.FAILED, actor.username, failure=problem)
    return await _record(uows, report, actor)


async def _apply(
    uows: UnitOfWorkFactory[PatientWork],
    now: datetime,
    listed: HospitalList,
    *,
    origin: SyncOrigin,
    actor: Actor,
    share: float,
    confirmed: int,
) -> SyncReport:
    base = SyncReport(now, origin, SyncStatus.REJECTED, actor.username, rows=listed.rows)
    if listed.problems:
        rejected = len({p.row for p in listed.problems})
        report = _with(base, rejected=rejected, problems=listed.problems[:MAX_PROBLEMS_KEPT])
        return await _record(uows, report, actor)
    async with uows() as uow:
        await uow.blacklist.lock_hospital_list()  # two syncs at once would both add a person
        current = await uow.blacklist.hospital_entries()
        changes = compare(current, listed.entries)
        if not listed.entries and current and origin is SyncOrigin.PULL:
            # A server that answers nothing (or a bare header) has most likely lost its list;
            # emptying the blacklist takes a deliberate upload by staff.
            report = _with(base, status=SyncStatus.FAILED, failure="empty")
        elif origin is SyncOrigin.PULL and shrinks(len(current), len(changes.removed), share):
            report = _with(base, status=SyncStatus.FAILED, failure="shrank")
        else:
            counted = _with(
                base,
                added=len(changes.added),
                updated=len(changes.updated),
                removed=len(changes.removed),
                unchanged=changes.unchanged,
            )
            held = origin is not SyncOrigin.PULL and confirmed < len(changes.removed)
            if held and lifts_too_many(len(current), len(changes.removed), share):
                report = _with(counted, status=SyncStatus.HELD, failure="confirm_removal")
            else:
                await uow.blacklist.apply_hospital_changes(changes, now)
                report = _with(counted, status=SyncStatus.APPLIED)
        report = await _save(uow, report, actor)
        await uow.commit()
    return report


def shrinks(before: int, removed: int, share: float = REMOVAL_SHARE) -> bool:
    """More than `share` of a long list gone at once: a pull that does it changes nothing."""
    return before >= GUARDED_FROM and removed > share * before


def lifts_too_many(before: int, removed: int, share: float = REMOVAL_SHARE) -> bool:
    """That, or every ban of a short list: an upload or import that does it waits for staff
    to confirm the count."""
    return removed > 0 and (removed == before or shrinks(before, removed, share))


def _with(report: SyncReport, **changes: object) -> SyncReport:
    return replace(report, **changes)  # type: ignore[arg-type]


async def _record(
    uows: UnitOfWorkFactory[PatientWork], report: SyncReport, actor: Actor
) -> SyncReport:
    async with uows() as uow:
        report = await _save(uow, report, actor)
        await uow.commit()
    return report


async def _save(uow: PatientWork, report: SyncReport, actor: Actor) -> SyncReport:
    sync_id = await uow.blacklist.save_sync(report)
    target = f"blacklist sync {sync_id}"
    await uow.audit.add(actor.did(report.at, audit.BLACKLIST_SYNC, target, after=report.counts()))
    return replace(report, id=sync_id)


async def latest_syncs(uows: UnitOfWorkFactory[PatientWork], count: int = 10) -> list[SyncReport]:
    async with uows(readonly=True) as uow:
        return await uow.blacklist.latest_syncs(count)


async def listed_page(
    uows: UnitOfWorkFactory[PatientWork], source: str, page: int, per_page: int = 50
) -> BlacklistPage:
    """One page of the hospital's entries or of the no-show bans, newest first."""
    async with uows(readonly=True) as uow:
        return await uow.blacklist.page(source, page, per_page)
