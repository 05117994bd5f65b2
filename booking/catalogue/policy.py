"""Booking rules a hospital can tune. Defaults follow what Chinese hospital platforms publish."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_PERIOD_DAYS = 31


@dataclass(frozen=True)
class BookingPolicy:
    window_days: int = 7
    release_time: time = time(7, 0)
    max_per_department_per_day: int = 1
    max_per_day: int = 2
    max_per_period: int = 3
    period_days: int = 7
    max_patients_per_account: int = 5
    transfer_days_before: int = 1
    noshow_ban_threshold: int = 3
    noshow_lookback_days: int = 90
    noshow_ban_days: int = 90
    log_retention_days: int = 365
    waitlist_offer_minutes: int = 30  # a freed place waits this long for the first in line
    waitlist_closes: time = time(23, 0)  # on the day before the visit

    def waitlist_closing(self, visit_date: date, timezone: str) -> datetime:
        """When a session's waitlist stops taking patients and offering places."""
        day_before = visit_date - timedelta(days=1)
        return datetime.combine(day_before, self.waitlist_closes, ZoneInfo(timezone))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["release_time"] = self.release_time.strftime("%H:%M")
        data["waitlist_closes"] = self.waitlist_closes.strftime("%H:%M")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BookingPolicy:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown policy settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        for name in ("release_time", "waitlist_closes"):
            if isinstance(values.get(name), str):
                values[name] = time.fromisoformat(values[name])
        policy = cls(**values)
        for f in fields(cls):
            value = getattr(policy, f.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"policy setting {f.name} must not be negative")
        if policy.waitlist_offer_minutes < 1:
            raise ValueError("waitlist_offer_minutes must be at least 1")
        if not 1 <= policy.period_days <= MAX_PERIOD_DAYS:
            raise ValueError(f"period_days must be between 1 and {MAX_PERIOD_DAYS}")
        return policy
