"""Notices to patients (M1, M2): reminders before a visit and news of changes to a booking.

Each notice is a row written in the same transaction as the change that calls for it, so a crash can
lose neither; the dispatcher (bot/notices/dispatcher.py) sends the rows that are due and marks them.
A notice has a key that says what it is about (e.g. "remind-evening:<appointment id>"): written
twice, it is kept once. A reminder carries the moment after which it is pointless (the visit), and
is never sent after it; cancelling or moving a booking withdraws its reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from booking.appointments.model import Appointment
from booking.catalogue.schedule import ClinicSession, local_now

EVENING = time(20, 0)  # the evening before the visit
SOON = timedelta(hours=2)  # before the expected time


class NoticeKind(StrEnum):
    REMINDER_EVENING = "reminder_evening"
    REMINDER_SOON = "reminder_soon"
    CANCELLED = "cancelled"  # by the hospital's staff
    TRANSFERRED = "transferred"  # by the hospital's staff
    STOPPED = "stopped"  # 停诊
    BANNED = "banned"  # after repeated no-shows
    WAITLIST_OFFER = "waitlist_offer"  # 候补: a place is held for the patient for a while
    WAITLIST_LAPSED = "waitlist_lapsed"  # the offer was not taken in time
    WAITLIST_CLOSED = "waitlist_closed"  # no place came free, or the session was stopped
    OPS_ALERT = "ops_alert"  # for the operations group, not a patient


REMINDERS = (NoticeKind.REMINDER_EVENING, NoticeKind.REMINDER_SOON)


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    VOID = "void"  # no longer needed: the booking changed, the visit passed, the patient opted out
    DEAD = "dead"  # could not be delivered after every try; operations are told


@dataclass(frozen=True)
class NewNotice:
    key: str
    kind: NoticeKind
    account_id: int | None  # None: for the operations group
    due_at: datetime
    appointment_id: int | None = None
    not_after: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # what the text says; nothing personal


@dataclass(frozen=True)
class Notice:
    id: int
    key: str
    kind: NoticeKind
    account_id: int | None
    appointment_id: int | None
    due_at: datetime
    not_after: datetime | None
    payload: dict[str, Any]
    attempts: int


def reminders(
    appointment: Appointment,
    session: ClinicSession,
    expected: datetime,
    timezone: str,
    now: datetime,
) -> list[NewNotice]:
    """The evening before at 20:00 and two hours before the expected time, each only when
    still ahead; both pointless once the visit has begun."""
    if appointment.account_id is None:  # booked at the desk: no chat to remind on
        return []
    evening = datetime.combine(
        session.visit_date - timedelta(days=1), EVENING, tzinfo=local_now(now, timezone).tzinfo
    )
    payload = _about(appointment, expected, timezone)
    wanted = [
        (NoticeKind.REMINDER_EVENING, evening),
        (NoticeKind.REMINDER_SOON, expected - SOON),
    ]
    return [
        NewNotice(
            key=f"{kind.value}:{appointment.id}:{session.id}",
            kind=kind,
            account_id=appointment.account_id,
            due_at=when,
            appointment_id=appointment.id,
            not_after=expected,
            payload=payload,
        )
        for kind, when in wanted
        if now < when < expected
    ]


def change_notice(
    kind: NoticeKind,
    appointment: Appointment,
    expected: datetime,
    timezone: str,
    now: datetime,
    **more: Any,
) -> list[NewNotice]:
    """News of a change the patient did not make themselves (a stop, a staff action)."""
    if appointment.account_id is None:
        return []
    return [
        NewNotice(
            key=f"{kind.value}:{appointment.id}:{now.isoformat()}",
            kind=kind,
            account_id=appointment.account_id,
            due_at=now,
            appointment_id=appointment.id,
            payload=_about(appointment, expected, timezone) | more,
        )
    ]


def _about(appointment: Appointment, expected: datetime, timezone: str) -> dict[str, Any]:
    local = local_now(expected, timezone)
    return {
        "booking_no": appointment.booking_no,
        "date": appointment.visit_date.isoformat(),
        "time": local.strftime("%H:%M"),
        "session_id": appointment.session_id,
        "queue_no": appointment.queue_no,
        "department": appointment.department_code,
    }


def stop_alert(session: ClinicSession, reason: str, cancelled: int, now: datetime) -> NewNotice:
    """停诊 tells operations too: how many patients were affected, and why."""
    return NewNotice(
        key=f"{NoticeKind.OPS_ALERT.value}:stopped:{session.id}",
        kind=NoticeKind.OPS_ALERT,
        account_id=None,
        due_at=now,
        payload={
            "about": "stopped",
            "doctor": session.doctor_work_no,
            "department": session.department_code,
            "date": session.visit_date.isoformat(),
            "part": session.part.value,
            "reason": reason,
            "cancelled": cancelled,
        },
    )
