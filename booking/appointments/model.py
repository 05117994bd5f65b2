"""Appointments (预约挂号) and the quota rules on them."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from booking.catalogue.model import Part
from booking.catalogue.policy import MAX_PERIOD_DAYS, BookingPolicy
from booking.catalogue.schedule import ClinicSession
from booking.errors import QuotaExceeded


class AppointmentStatus(StrEnum):
    """FHIR Appointment status values, so the HIS mapping is one-to-one."""

    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"


# Every status but cancelled keeps its place taken and counts towards the quotas: a no-show
# used up a place as surely as a visit did.
ACTIVE = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.FULFILLED,
    AppointmentStatus.NOSHOW,
)


class CancelReason(StrEnum):
    PATIENT = "patient"  # 退号
    HOSPITAL_STOP = "hospital_stop"  # 停诊
    STAFF = "staff"


@dataclass(frozen=True)
class Appointment:
    id: int
    booking_no: str
    patient_id: int
    account_id: int | None
    channel: str
    session_id: int
    department_code: str
    visit_date: date
    queue_no: int
    status: AppointmentStatus
    registration_fee_fen: int
    consultation_fee_fen: int
    created_at: datetime


@dataclass(frozen=True)
class BookingView:
    """A booking as patients and staff see it: everything the listing and receipts need."""

    booking_no: str
    status: AppointmentStatus
    patient_name: str
    patient_id_masked: str
    patient_phone_masked: str
    doctor_work_no: str
    doctor_name: str
    doctor_title: str
    department_code: str
    department_name_zh: str
    department_name_en: str
    hospital_code: str
    visit_date: date
    part: Part
    queue_no: int
    expected_time: datetime
    window_end: datetime
    registration_fee_fen: int
    consultation_fee_fen: int
    channel: str
    created_at: datetime
    session_id: int
    cancel_reason: str | None
    refund_due: bool


@dataclass(frozen=True)
class QuotaUse:
    """One of a patient's existing bookings, as far as the quota rules care."""

    visit_date: date
    department_code: str
    session_id: int = 0
    appointment_id: int = 0


def check_quotas(
    policy: BookingPolicy, existing: Iterable[QuotaUse], visit_date: date, department_code: str
) -> None:
    """Raise QuotaExceeded when one more booking on ``visit_date`` would break a quota.

    The period quota holds for every run of ``period_days`` consecutive visit days.
    """
    uses = list(existing)
    same_day = [u for u in uses if u.visit_date == visit_date]
    if sum(u.department_code == department_code for u in same_day) >= (
        policy.max_per_department_per_day
    ):
        raise QuotaExceeded(
            "one booking per department per day",
            quota="per_department_per_day",
            limit=policy.max_per_department_per_day,
        )
    if len(same_day) >= policy.max_per_day:
        raise QuotaExceeded("too many bookings that day", quota="per_day", limit=policy.max_per_day)
    span = policy.period_days - 1
    for offset in range(span + 1):
        first = visit_date - timedelta(days=span - offset)
        last = first + timedelta(days=span)
        if sum(first <= u.visit_date <= last for u in uses) >= policy.max_per_period:
            raise QuotaExceeded(
                f"too many bookings within {policy.period_days} days",
                quota="per_period",
                limit=policy.max_per_period,
                period_days=policy.period_days,
            )


def quota_horizon(visit_date: date) -> tuple[date, date]:
    """Visit dates wide enough for any hospital's quota period (at most 31 days)."""
    span = timedelta(days=MAX_PERIOD_DAYS - 1)
    return visit_date - span, visit_date + span


def new_booking_no(visit_date: date) -> str:
    """Digits only, easy to read out on the phone: the visit date and 8 random digits."""
    return f"{visit_date:%y%m%d}{secrets.randbelow(10**8):08d}"


class WaitStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # a place is held for this patient until the offer expires
    BOOKED = "booked"
    LAPSED = "lapsed"  # the offer was not taken in time
    DECLINED = "declined"  # by the patient, or the patient could no longer book it
    LEFT = "left"  # the patient left the line
    CLOSED = "closed"  # the line closed before a place came free, or the session was stopped


IN_LINE = (WaitStatus.WAITING, WaitStatus.OFFERED)


@dataclass(frozen=True)
class WaitlistEntry:
    id: int
    session_id: int
    patient_id: int
    account_id: int | None
    channel: str
    status: WaitStatus
    joined_at: datetime
    closes_at: datetime
    queue_no: int | None = None  # the place held while offered
    offer_expires_at: datetime | None = None
    booking_no: str | None = None


@dataclass(frozen=True)
class NewWaitlistEntry:
    session_id: int
    patient_id: int
    account_id: int
    channel: str
    closes_at: datetime


@dataclass(frozen=True)
class Waiting:
    entry_id: int
    position: int  # 1: next to be offered a place
    session: ClinicSession
    closes_at: datetime
    offer_minutes: int


@dataclass(frozen=True)
class WaitingView:
    """A patient's place in a line, as "my bookings" shows it."""

    entry_id: int
    status: WaitStatus
    position: int
    session_id: int
    visit_date: date
    patient_name: str
    offer_expires_at: datetime | None
