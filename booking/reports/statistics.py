"""Statistics for the back office (B7): what the database counts, folded into the hospital's
reports. Pure: the numbers come from a ReportRepository, the period and the zone are given.

A period is a run of days, first to last inclusive, in the hospital's calendar, counted by
visit date (就诊日期, the default: what the clinics of those days were booked for and what
came of each booking) or by booking date (预约日期: the bookings taken on those days, whenever
their visit). Staff workload counts the audit-log entries made on those days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from booking.appointments.model import CancelReason
from booking.errors import InvalidInput

MAX_DAYS = 400  # a year and a bit: this month against the same month last year
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)
EXPIRED = (
    "expired"  # the cancel reason of booking.appointments.desk.close_expired (closed unattended)
)
HOSPITAL_STOP = (
    CancelReason.HOSPITAL_STOP.value
)  # booking.appointments.changes.stop_session's (停诊)
STOPPED = "stopped"  # how the reports count those: the hospital's doing, not the patients'


class Basis(StrEnum):
    VISIT = "visit"  # 就诊日期
    BOOKED = "booked"  # 预约日期: when the booking was made


class Grouping(StrEnum):
    CLINIC_TYPE = "clinic_type"
    DEPARTMENT = "department"
    DOCTOR = "doctor"
    CHANNEL = "channel"
    DAY = "day"


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    hospital_code: str | None = None  # None: every hospital
    basis: Basis = Basis.VISIT

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def between(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as [start, end) instants: its first midnight to the one after it."""
        start = datetime.combine(self.first, time(0), zone)
        return start, datetime.combine(self.last + timedelta(days=1), time(0), zone)


def month_of(today: date) -> Period:
    """The default period: the calendar month of today, to its end (bookings ahead count)."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def parse_period(
    first: str, last: str, hospital: str | None, today: date, basis: str = ""
) -> Period:
    """A period from the form's text (YYYY-MM-DD); InvalidInput, naming the field, when it
    does not make sense. Empty dates: this month; empty basis: visit dates."""
    try:
        counted_by = Basis(basis or Basis.VISIT)
    except ValueError:
        raise InvalidInput("dates are visit or booking dates", field="basis") from None
    if not first.strip() and not last.strip():
        return replace(month_of(today), hospital_code=hospital or None, basis=counted_by)
    dates = []
    for name, text in (("from", first), ("to", last)):
        try:
            dates.append(date.fromisoformat(text.strip()))
        except ValueError:
            raise InvalidInput("a date is written like 2026-11-23", field=name) from None
    start, end = dates
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:  # beyond, a midnight in UTC is no datetime (a 500)
            raise InvalidInput("no bookings are kept for that date", field=name)
    if end < start:
        raise InvalidInput("the period ends before it begins", field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a period is at most {MAX_DAYS} days", field="to", most=MAX_DAYS)
    return Period(start, end, hospital or None, counted_by)


@dataclass(frozen=True)
class Yuan:
    """Money, kept in fen (integers add up exactly), shown in yuan with two decimals."""

    fen: int

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        whole, cents = divmod(abs(self.fen), 100)
        return f"{sign}{whole}.{cents:02d}"


@dataclass(frozen=True)
class Rate:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    def __str__(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


@dataclass(frozen=True)
class Tally:
    """Bookings of one group in one status, with their fees, as the database counts them."""

    key: str
    label: str
    status: str
    bookings: int
    registration_fen: int
    consultation_fen: int


@dataclass(frozen=True)
class Counts:
    booked: int = 0
    arrived: int = 0
    fulfilled: int = 0
    cancelled: int = 0  # returned (退号) by the patient or the desk: refunded
    noshow: int = 0
    registration_fen: int = 0  # fees of the bookings neither cancelled nor stopped (expired kept)
    consultation_fen: int = 0
    expired: int = 0  # closed unattended by the desk: not returned, nothing refunded
    stopped: int = 0  # 停诊, the hospital stopped the session: refunded, no patient's choice

    @property
    def total(self) -> int:
        return (
            self.booked + self.arrived + self.fulfilled + self.cancelled + self.noshow
            + self.expired + self.stopped
        )  # fmt: skip

    @property
    def visits(self) -> int:
        return self.arrived + self.fulfilled

    @property
    def no_show_rate(self) -> Rate:
        # Of the bookings whose outcome is known: bookings still ahead are not yet no-shows.
        return Rate(self.noshow, self.visits + self.noshow)

    @property
    def cancellation_rate(self) -> Rate:
        # The patients' and the desk's: a stopped clinic would make a week look fickle.
        return Rate(self.cancelled, self.total)

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @staticmethod
    def of(tally: Tally) -> Counts:
        fees = tally.status not in ("cancelled", STOPPED)  # both are refunded
        counts = Counts(
            registration_fen=tally.registration_fen if fees else 0,
            consultation_fen=tally.consultation_fen if fees else 0,
        )
        known = ("booked", "arrived", "fulfilled", "cancelled", "noshow", "expired", STOPPED)
        if tally.status not in known:
            return counts  # a status this report does not know: its fees, not its count
        return replace(counts, **{tally.status: tally.bookings})


def total(counts: Iterable[Counts]) -> Counts:
    found = Counts()
    for c in counts:
        found = found + c
    return found


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    counts: Counts


def fold(tallies: Iterable[Tally]) -> list[Group]:
    """One group per key, the busiest first."""
    keyed: dict[str, Group] = {}
    for t in tallies:
        was = keyed.get(t.key, Group(t.key, t.label, Counts()))
        keyed[t.key] = Group(t.key, was.label, was.counts + Counts.of(t))
    return sorted(keyed.values(), key=lambda g: (-g.counts.total, g.label, g.key))


@dataclass(frozen=True)
class Refund:
    """A cancelled booking (退号 or 停诊), with what is owed back; no patient is named."""

    booking_no: str
    cancelled_at: datetime | None
    visit_date: date
    department: str
    doctor: str
    reason: str | None
    refund_due: bool
    registration_fen: int
    consultation_fen: int

    @property
    def refund_fen(self) -> int:
        return self.registration_fen + self.consultation_fen if self.refund_due else 0


@dataclass(frozen=True)
class Workload:
    username: str
    action: str
    count: int


@dataclass(frozen=True)
class HospitalChoice:
    code: str
    name_zh: str
    timezone: str


@dataclass(frozen=True)
class Report:
    period: Period
    zone: ZoneInfo
    clinic_types: list[Group] = field(default_factory=list)
    departments: list[Group] = field(default_factory=list)
    doctors: list[Group] = field(default_factory=list)
    channels: list[Group] = field(default_factory=list)
    days: list[Group] = field(default_factory=list)  # every day of the period, in order
    refunds: list[Refund] = field(default_factory=list)
    refunds_more: bool = False  # more refunds than were read
    workload: list[Workload] = field(default_factory=list)

    @property
    def totals(self) -> Counts:
        return total(g.counts for g in self.days)

    @property
    def months(self) -> list[Group]:
        keyed: dict[str, Counts] = {}
        for day in self.days:
            month = day.key[:7]
            keyed[month] = keyed.get(month, Counts()) + day.counts
        return [Group(month, month, counts) for month, counts in keyed.items()]


def every_day(period: Period, tallies: Iterable[Tally]) -> list[Group]:
    """The daily series with the days nobody booked for, as zeros: a chart's gaps are news."""
    found = {g.key: g for g in fold(tallies)}
    return [
        found.get(day.isoformat(), Group(day.isoformat(), day.isoformat(), Counts()))
        for day in period.days
    ]
