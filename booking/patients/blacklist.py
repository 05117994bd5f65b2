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
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from booking.clock import Clock
from booking.errors import InvalidInput
from booking.ports import UnitOfWork, UnitOfWorkFactory
from booking.protect import Protector
from booking.staff import audit
from booking.staff.audit import Actor

# The hospital's day decides when a ban starts; the demo hospitals are in Shanghai.
HOSPITAL_ZONE = ZoneInfo("Asia/Shanghai")
MAX_PROBLEMS_KEPT = 50  # a report names this many bad rows, and counts the rest
# A copy that would lift more than this share of the bans (GUAHAO_BLACKLIST_MAX_REMOVAL_SHARE)
# of a list this long, or every ban of a shorter one, is taken for part of the list (a
# half-written export, a cut-off answer, a header alone): a pull is refused, an upload or an
# import is held until staff confirm how many bans it lifts.
GUARDED_FROM = 10
REMOVAL_SHARE = 0.5


class SyncOrigin(StrEnum):
    UPLOAD = "upload"  # a file uploaded in the back office
    IMPORT = "import"  # `guahao blacklist import FILE`
    PULL = "pull"  # fetched from the hospital's server (on schedule, by a button, by the CLI)


class SyncStatus(StrEnum):
    APPLIED = "applied"
    HELD = "held"  # it would lift too many bans: nothing changed until staff confirm the count
    REJECTED = "rejected"  # bad rows: nothing changed
    FAILED = "failed"  # no list could be read (broken file, HTTP error, HTML…): nothing changed


class BrokenList(InvalidInput):
    """The file or answer is not a list at all; ``problem`` says why (machine-readable)."""

    reason = "broken_list"

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message, problem=problem)
        self.problem = problem


@dataclass(frozen=True)
class ListFile:
    """A copy of the hospital's list as it came: the bytes, and what they claim to be."""

    data: bytes
    content_type: str = ""  # from an HTTP answer; files are recognised by their content


ListFetcher = Callable[[], Awaitable[ListFile]]  # raises BrokenList when the answer is no list


@dataclass(frozen=True)
class HospitalEntry:
    """One person on the hospital's list: found by the keyed hash, shown masked."""

    id_hash: str
    id_masked: str
    reason: str
    starts_on: date
    until: date | None


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row in the file (the header is row 1)
    column: str  # id_number, reason, from, until
    problem: str  # machine-readable: missing, checksum, format, number_cell, duplicate, …
    other_row: int | None = None  # a duplicate: the row it repeats


@dataclass(frozen=True)
class HospitalList:
    """A copy of the list, checked: the entries, and the rows that were wrong."""

    entries: tuple[HospitalEntry, ...]
    problems: tuple[RowProblem, ...]
    rows: int  # data rows read (blank rows skipped)


@dataclass(frozen=True)
class Changes:
    added: list[HospitalEntry] = field(default_factory=list)
    updated: list[HospitalEntry] = field(default_factory=list)  # reason or dates changed
    removed: list[str] = field(default_factory=list)  # id hashes
    unchanged: int = 0


@dataclass(frozen=True)
class SyncReport:
    at: datetime
    origin: SyncOrigin
    status: SyncStatus
    username: str | None  # who uploaded or pressed "pull now"; None: the CLI or the schedule
    rows: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: int = 0
    failure: str | None = None  # why no list could be read (BrokenList.problem)
    problems: tuple[RowProblem, ...] = ()  # the first MAX_PROBLEMS_KEPT bad rows
    id: int | None = None

    def counts(self) -> dict[str, object]:
        """What the audit log keeps: statuses and counts, no personal data."""
        return {
            "origin": self.origin.value,
            "status": self.status.value,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            **({"failure": self.failure} if self.failure else {}),
        }


@dataclass(frozen=True)
class ShownEntry:
    """An entry as the back office lists it (masked ID number only)."""

    id_masked: str
    reason: str
    starts_on: date
    until: date | None
    added_at: datetime


@dataclass(frozen=True)
class BlacklistPage:
    entries: list[ShownEntry]
    total: int


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
    uows: UnitOfWorkFactory,
    clock: Clock,
    protector: Protector,
    file: ListFile,
    *,
    origin: SyncOrigin,
    actor: Actor,
    removal_share: float = REMOVAL_SHARE,
    removals_confirmed: int = 0,
) -> SyncReport:
    """Read a copy of the hospital's list and make it the hospital's entries; a broken copy
    or one with bad rows changes nothing. Either way the report is kept and audited.
    `removals_confirmed`: how many bans staff have agreed to lift, for a copy that would
    lift more than `removal_share` of them (otherwise it is held: a HELD report with the
    counts it would have)."""
    from booking.files.blacklist import read_list  # here: that module imports this one

    now = clock.now()
    today = now.astimezone(HOSPITAL_ZONE).date()
    try:
        # openpyxl and 10,000 keyed hashes take a moment: not on the event loop's time.
        listed = await asyncio.to_thread(read_list, file, protector, today)
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
    uows: UnitOfWorkFactory,
    clock: Clock,
    protector: Protector,
    fetch: ListFetcher,
    *,
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
        uows, clock, protector, file, origin=SyncOrigin.PULL, actor=actor,
        removal_share=removal_share,
    )  # fmt: skip


async def record_failure(
    uows: UnitOfWorkFactory, clock: Clock, problem: str, *, origin: SyncOrigin, actor: Actor
) -> SyncReport:
    report = SyncReport(clock.now(), origin, SyncStatus.FAILED, actor.username, failure=problem)
    return await _record(uows, report, actor)


async def _apply(
    uows: UnitOfWorkFactory,
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


async def _record(uows: UnitOfWorkFactory, report: SyncReport, actor: Actor) -> SyncReport:
    async with uows() as uow:
        report = await _save(uow, report, actor)
        await uow.commit()
    return report


async def _save(uow: UnitOfWork, report: SyncReport, actor: Actor) -> SyncReport:
    sync_id = await uow.blacklist.save_sync(report)
    target = f"blacklist sync {sync_id}"
    await uow.audit.add(actor.did(report.at, audit.BLACKLIST_SYNC, target, after=report.counts()))
    return replace(report, id=sync_id)


async def latest_syncs(uows: UnitOfWorkFactory, count: int = 10) -> list[SyncReport]:
    async with uows(readonly=True) as uow:
        return await uow.blacklist.latest_syncs(count)


async def listed_page(
    uows: UnitOfWorkFactory, source: str, page: int, per_page: int = 50
) -> BlacklistPage:
    """One page of the hospital's entries or of the no-show bans, newest first."""
    async with uows(readonly=True) as uow:
        return await uow.blacklist.page(source, page, per_page)
