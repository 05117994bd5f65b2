"""The schedule: clinic sessions (出诊), their places (one per queue number) and the release
rule that decides which visit dates can be booked now."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from booking.catalogue.model import DutyTemplate, Part
from booking.catalogue.policy import BookingPolicy


class SessionStatus(StrEnum):
    OPEN = "open"
    STOPPED = "stopped"  # 停诊


class PlaceStatus(StrEnum):
    """FHIR Slot status values, so the HIS mapping is one-to-one."""

    FREE = "free"
    BUSY = "busy"
    BUSY_TENTATIVE = "busy-tentative"  # held for the first in a waitlist (候补)
    BUSY_UNAVAILABLE = "busy-unavailable"


@dataclass(frozen=True)
class ClinicSession:
    id: int
    hospital_code: str
    department_code: str
    doctor_work_no: str
    visit_date: date
    part: Part
    starts_at: datetime
    ends_at: datetime
    capacity: int
    status: SessionStatus
    registration_fee_fen: int
    consultation_fee_fen: int
    clinic_type: str
    stop_reason: str | None = None


@dataclass(frozen=True)
class PlanTime:
    queue_no: int
    starts_at: datetime
    ends_at: datetime


def local_now(now: datetime, tz: str) -> datetime:
    return now.astimezone(ZoneInfo(tz))


def session_span(visit_date: date, hours: tuple[time, time], tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start, end = hours
    return datetime.combine(visit_date, start, zone), datetime.combine(visit_date, end, zone)


def place_times(starts_at: datetime, ends_at: datetime, capacity: int) -> list[PlanTime]:
    """Divide a session evenly: 20 places in 08:00–12:00 give each queue number 12 minutes."""
    if capacity < 1:
        raise ValueError("a session needs at least one place")
    step = (ends_at - starts_at) / capacity
    return [
        PlanTime(n + 1, starts_at + step * n, starts_at + step * (n + 1)) for n in range(capacity)
    ]


def last_released_date(now: datetime, policy: BookingPolicy, tz: str) -> date:
    """A new visit day opens at the release time: at 07:00 today, today + window days opens."""
    here = local_now(now, tz)
    ahead = policy.window_days if here.time() >= policy.release_time else policy.window_days - 1
    return here.date() + timedelta(days=ahead)


def is_released(visit_date: date, now: datetime, policy: BookingPolicy, tz: str) -> bool:
    return visit_date <= last_released_date(now, policy, tz)


def release_moment(visit_date: date, policy: BookingPolicy, tz: str) -> datetime:
    """When a visit day opens for booking: window days before it, at the release time."""
    opens_on = visit_date - timedelta(days=policy.window_days)
    return datetime.combine(opens_on, policy.release_time, ZoneInfo(tz))


def dates_ahead(today: date, days: int) -> Iterator[date]:
    for offset in range(days + 1):
        yield today + timedelta(days=offset)


@dataclass(frozen=True)
class PlannedSession:
    visit_date: date
    part: Part
    capacity: int


def plan_sessions(
    templates: Iterable[DutyTemplate], today: date, days: int
) -> list[PlannedSession]:
    """The sessions weekly duty templates give from today through today + days."""
    by_weekday: dict[int, list[DutyTemplate]] = {}
    for template in templates:
        by_weekday.setdefault(template.weekday, []).append(template)
    return [
        PlannedSession(day, t.part, t.capacity)
        for day in dates_ahead(today, days)
        for t in by_weekday.get(day.isoweekday(), [])
    ]
