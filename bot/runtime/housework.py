"""The background rounds' work on the database: no-shows, waitlists, the blacklist pull and
the purge of old records. Each is a plain function of the services, run by the application's
rounds (bot.runtime.application) and by `guahao demo forward`."""

from __future__ import annotations

import logging

from booking.appointments.attendance import mark_noshows as mark_noshows_of
from booking.appointments.waitlist_offers import tend_waitlists as tend
from booking.files.blacklist import read_list
from booking.patients.blacklist import REMOVAL_SHARE, ListFetcher
from booking.patients.blacklist import pull as pull_list
from booking.patients.model import SyncReport, SyncStatus
from booking.staff.audit import SCHEDULE
from booking.staff.retention import Purged, Retention
from booking.staff.retention import purge_old_records as purge_records
from bot.runtime.services import Services

log = logging.getLogger(__name__)


async def mark_noshows(services: Services) -> int:
    """Bookings nobody checked in for, an hour after their session: no-shows, and the bans
    that follow, told to the patient."""
    marked = await mark_noshows_of(services.uows, services.clock)
    if marked:
        log.info("%d bookings marked as no-shows", marked)
    return marked


async def tend_waitlists(services: Services) -> None:
    """候补: offers not taken in time pass on, free places go to whoever waits, lines close at
    their time (each change writes its notice, sent by the dispatcher)."""
    await tend(services.uows, services.clock)


async def pull_blacklist(
    services: Services, fetch: ListFetcher, removal_share: float = REMOVAL_SHARE
) -> SyncReport:
    """The hospital's blacklist from its server (GUAHAO_BLACKLIST_URL). A failed pull is kept
    as a report (seen at /admin/blacklist), changes nothing, and is tried again next round;
    the log says the reason, never the URL or a number."""
    s = services
    report = await pull_list(
        s.uows,
        s.clock,
        s.protector,
        fetch,
        read=read_list,
        actor=SCHEDULE,
        removal_share=removal_share,
    )
    if report.status is SyncStatus.APPLIED:
        log.info("blacklist pulled: %d added, %d updated, %d removed",
                 report.added, report.updated, report.removed)  # fmt: skip
    else:
        why = report.failure or f"{report.rejected} bad rows"
        log.warning("blacklist pull %s (%s)", report.status.value, why)
    return report


async def purge_old_records(services: Services, retention: Retention) -> Purged:
    """B8: log entries past their year, audit rows past theirs; the purge is audited."""
    return await purge_records(services.uows, services.clock, retention)
