"""Booking rules a hospital can tune. Defaults follow what Chinese hospital platforms publish."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import time
from typing import Any

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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["release_time"] = self.release_time.strftime("%H:%M")
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
        if isinstance(values.get("release_time"), str):
            values["release_time"] = time.fromisoformat(values["release_time"])
        policy = cls(**values)
        for f in fields(cls):
            value = getattr(policy, f.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"policy setting {f.name} must not be negative")
        if not 1 <= policy.period_days <= MAX_PERIOD_DAYS:
            raise ValueError(f"period_days must be between 1 and {MAX_PERIOD_DAYS}")
        return policy
