"""Reading the statistics (B7) for the back office, and exporting them (audited: an export
leaves the building)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking.clock import Clock
from booking.errors import InvalidInput
from booking.reports.ports import ReportWork
from booking.reports.statistics import Grouping, HospitalChoice, Period, Report, every_day, fold
from booking.reports.tables import Kind, Table, table
from booking.staff import audit
from booking.staff.model import Actor
from booking.unit_of_work import UnitOfWorkFactory

PAGE_REFUNDS = 200  # the page lists this many refunds; the export, up to EXPORT_ROWS
EXPORT_ROWS = 100_000
DEFAULT_ZONE = "Asia/Shanghai"


async def hospitals(uows: UnitOfWorkFactory[ReportWork]) -> list[HospitalChoice]:
    async with uows(readonly=True) as uow:
        return await uow.reports.hospitals()


def zone_of(choices: list[HospitalChoice], period: Period) -> ZoneInfo:
    """The period's days are the hospital's days; with every hospital, the first one's (a
    city's hospitals share a zone)."""
    if period.hospital_code is None:
        return ZoneInfo(choices[0].timezone if choices else DEFAULT_ZONE)
    for choice in choices:
        if choice.code == period.hospital_code:
            return ZoneInfo(choice.timezone)
    raise InvalidInput("no such hospital", field="hospital")


async def read_report(
    uows: UnitOfWorkFactory[ReportWork], period: Period, *, refunds: int = PAGE_REFUNDS
) -> Report:
    """Every table of the period, read in one transaction so that they add up alike."""
    async with uows(readonly=True) as uow:
        await uow.reports.one_snapshot()
        zone = zone_of(await uow.reports.hospitals(), period)
        by = {g: await uow.reports.tallies(period, zone, g) for g in Grouping}
        found = await uow.reports.refunds(period, zone, refunds + 1)
        start, end = period.between(zone)
        workload = await uow.reports.workload(start, end)
    return Report(
        period=period,
        zone=zone,
        clinic_types=fold(by[Grouping.CLINIC_TYPE]),
        departments=fold(by[Grouping.DEPARTMENT]),
        doctors=fold(by[Grouping.DOCTOR]),
        channels=fold(by[Grouping.CHANNEL]),
        days=every_day(period, by[Grouping.DAY]),
        refunds=found[:refunds],
        refunds_more=len(found) > refunds,
        workload=workload,
    )


async def export(
    uows: UnitOfWorkFactory[ReportWork],
    clock: Clock,
    period: Period,
    kind: Kind,
    file_format: str,
    by: Actor,
) -> Table:
    """One table of the period for a download; the export is audited (what, which period,
    how many rows: no personal data is in a report, nor in its audit entry)."""
    report = await read_report(uows, period, refunds=EXPORT_ROWS)
    found = table(report, kind)
    after = {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "hospital": period.hospital_code,
        "basis": period.basis.value,
        "format": file_format,
        "rows": len(found.rows),
    }
    await audit.record(
        uows, by.did(clock.now(), audit.REPORT_EXPORT, target=kind.value, after=after)
    )
    return found


def today(choices: list[HospitalChoice], now: datetime) -> date:
    """Today in the (first) hospital's calendar: the default period is its month."""
    return now.astimezone(ZoneInfo(choices[0].timezone if choices else DEFAULT_ZONE)).date()
