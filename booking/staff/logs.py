"""Reading the booking log and the operation-error log (B8): administrators search them by
period, event or operation, booking number and reason, newest first, a page at a time.

Every search is itself audited, with the kinds of filter used and never their values: a
booking number typed into the search box says whom the administrator was looking for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from booking.clock import Clock
from booking.errors import InvalidInput
from booking.patients.registration import DEFAULT_TZ
from booking.ports import UnitOfWorkFactory
from booking.staff import audit
from booking.staff.audit import Actor

PER_PAGE = 50
MAX_PAGE = 10_000
# Dates a search may name: beyond them a day's midnight in UTC is no datetime at all (a 500).
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


class LogKind(StrEnum):
    BOOKINGS = "bookings"  # what happened to bookings (booked, cancelled, arrived…)
    ERRORS = "errors"  # operations refused or failed (slot_full, past_deadline…)


@dataclass(frozen=True, slots=True)
class LogFilter:
    kind: LogKind = LogKind.BOOKINGS
    since: datetime | None = None  # [since, until), UTC
    until: datetime | None = None
    event: str | None = None  # the booking event or the operation; a prefix: "waitlist"
    booking_no: str | None = None
    reason: str | None = None  # an error's reason; a booking event's detail "reason"
    page: int = 1  # from 1, newest first
    per_page: int = PER_PAGE

    def used(self) -> list[str]:
        """The kinds of filter set, for the audit log (not what was typed)."""
        kinds = ("since", "until", "event", "booking_no", "reason")
        return [name for name in kinds if getattr(self, name) is not None]


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: int
    at: datetime
    what: str  # the event, or the operation
    booking_no: str | None
    reason: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[LogEntry] = field(default_factory=list)
    more: bool = False


def day_span(
    first: date | None, last: date | None, tz: str = DEFAULT_TZ
) -> tuple[datetime | None, datetime | None]:
    """From the start of ``first`` to the end of ``last``, days in the hospital's zone."""
    for day in (first, last):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInput("no log is kept for that date", field="date")
    if first is not None and last is not None and last < first:
        raise InvalidInput("the period ends before it starts", field="to")
    zone = ZoneInfo(tz)
    since = datetime.combine(first, time(), zone) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), zone) if last else None
    return since, until


def log_filter(
    kind: LogKind,
    *,
    first: date | None = None,
    last: date | None = None,
    event: str = "",
    booking_no: str = "",
    reason: str = "",
    page: int = 1,
) -> LogFilter:
    """A filter from what was typed: blanks are no filter; booking numbers in capitals."""
    since, until = day_span(first, last)
    return LogFilter(
        kind=kind,
        since=since,
        until=until,
        event=event.strip() or None,
        booking_no=booking_no.strip().upper() or None,
        reason=reason.strip() or None,
        page=min(max(page, 1), MAX_PAGE),
    )


async def search_logs(uows: UnitOfWorkFactory, clock: Clock, f: LogFilter, by: Actor) -> LogPage:
    async with uows(readonly=True) as uow:
        found = await uow.logs.search(f)
    after = {"log": f.kind.value, "filters": f.used(), "page": f.page}
    await audit.record(uows, by.did(clock.now(), audit.LOGS_SEARCH, after=after))
    return LogPage(entries=found[: f.per_page], more=len(found) > f.per_page)
