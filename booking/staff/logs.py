"""Reading the booking log and the operation-error log (B8): administrators search them by
period, event or operation, booking number and reason, newest first, a page at a time.

Every search is itself audited, with the kinds of filter used and never their values: a
booking number typed into the search box says whom the administrator was looking for.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.clock import DEFAULT_TZ, Clock
from booking.errors import InvalidInput
from booking.staff import audit
from booking.staff.model import Actor, LogFilter, LogKind, LogPage
from booking.staff.ports import StaffWork
from booking.unit_of_work import UnitOfWorkFactory

MAX_PAGE = 10_000
# Dates a search may name: beyond them a day's midnight in UTC is no datetime at all (a 500).
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)


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


async def search_logs(
    uows: UnitOfWorkFactory[StaffWork], clock: Clock, f: LogFilter, by: Actor
) -> LogPage:
    async with uows(readonly=True) as uow:
        found = await uow.logs.search(f)
    after = {"log": f.kind.value, "filters": f.used(), "page": f.page}
    await audit.record(uows, by.did(clock.now(), audit.LOGS_SEARCH, after=after))
    return LogPage(entries=found[: f.per_page], more=len(found) > f.per_page)
