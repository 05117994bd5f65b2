"""The reports' port: what the database counts for the statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from booking.reports.statistics import Grouping, HospitalChoice, Period, Refund, Tally, Workload
from booking.staff.ports import StaffWork


class ReportRepository(Protocol):
    """GROUP BY queries over appointments, sessions and the audit log."""

    async def one_snapshot(self) -> None:
        """Every query after this, in this transaction, sees the database at one moment."""
        ...

    async def hospitals(self) -> list[HospitalChoice]: ...
    async def tallies(self, period: Period, zone: ZoneInfo, by: Grouping) -> list[Tally]:
        """Bookings of the period (by its basis, its days in ``zone``), per group and status;
        by day, the visit date or the day the booking was made."""
        ...

    async def refunds(self, period: Period, zone: ZoneInfo, limit: int) -> list[Refund]:
        """Cancelled bookings of the period, by cancellation time."""
        ...

    async def workload(self, start: datetime, end: datetime) -> list[Workload]:
        """Audit-log entries by members of staff in [start, end), per staff and action."""
        ...


class ReportWork(StaffWork, Protocol):
    reports: ReportRepository
