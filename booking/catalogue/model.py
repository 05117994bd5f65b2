"""The hospital's catalogue: hospitals, departments, clinic types, doctors and duty templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from enum import StrEnum

from booking.catalogue.policy import BookingPolicy


class Part(StrEnum):
    """A part of the day in which a doctor holds a clinic session (上午/下午/晚上)."""

    AM = "am"
    PM = "pm"
    EVE = "eve"


DEFAULT_PART_HOURS: dict[Part, tuple[time, time]] = {
    Part.AM: (time(8, 0), time(12, 0)),
    Part.PM: (time(13, 30), time(17, 0)),
    Part.EVE: (time(18, 0), time(20, 30)),
}


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def fen(amount: Decimal | int | float | str) -> int:
    return int((Decimal(str(amount)) * 100).to_integral_value())


@dataclass(frozen=True)
class ClinicType:
    code: str  # general / expert / special (普通/专家/特需)
    name_zh: str
    name_en: str
    registration_fee_fen: int
    consultation_fee_fen: int


@dataclass(frozen=True)
class Hospital:
    code: str
    name_zh: str
    name_en: str
    timezone: str = "Asia/Shanghai"
    aliases: tuple[str, ...] = ()
    policy: BookingPolicy = field(default_factory=BookingPolicy)
    part_hours: dict[Part, tuple[time, time]] = field(
        default_factory=lambda: dict(DEFAULT_PART_HOURS)
    )
    id: int | None = None

    def part_at(self, moment: time) -> Part | None:
        """The part of the day whose hours hold this time (08:30 is the morning)."""
        return next((p for p, (lo, hi) in self.part_hours.items() if lo <= moment < hi), None)


@dataclass(frozen=True)
class Department:
    hospital_code: str
    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()
    bookable: bool = True
    id: int | None = None
    # Whole years of age at the visit, both ends included (儿科: 0-14); None: no bound.
    min_age: int | None = None
    max_age: int | None = None

    def admits(self, age: int) -> bool:
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age
        )


@dataclass(frozen=True)
class DutyTemplate:
    """A weekly duty: this doctor holds a session every such weekday (1=Monday) and part."""

    weekday: int
    part: Part
    capacity: int


@dataclass(frozen=True)
class Doctor:
    hospital_code: str
    department_code: str
    work_no: str  # 工号
    name: str
    name_en: str
    title: str
    clinic_type: str
    specialties: tuple[str, ...] = ()
    templates: tuple[DutyTemplate, ...] = ()
    active: bool = True
    id: int | None = None

    def on_duty(self, weekday: int, part: Part) -> bool:
        """Whether the weekly templates give a session then (1 = Monday)."""
        return any(t.weekday == weekday and t.part == part for t in self.templates)


@dataclass(frozen=True)
class Catalogue:
    """Everything a hospital group publishes about itself, as loaded from the demo file or HIS."""

    clinic_types: dict[str, ClinicType]
    hospitals: tuple[Hospital, ...]
    departments: tuple[Department, ...]
    doctors: tuple[Doctor, ...]
    triage: dict[str, object] = field(default_factory=dict)
