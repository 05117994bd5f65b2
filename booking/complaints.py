"""Complaints and suggestions (投诉建议): filed by chat (or entered by staff), each with a
tracking number (受理流水号) the patient can ask about. The staff side comes with the back
office; here a complaint is received and its status can be read."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from booking.clock import Clock
from booking.errors import InvalidInput, NotFound, TryAgain
from booking.ports import UnitOfWorkFactory
from booking.protect import Protector
from booking.registration import DEFAULT_TZ
from booking.schedule import local_now

MAX_TEXT = 2000


class ComplaintCategory(StrEnum):
    SERVICE = "service"  # 服务态度
    WAITING = "waiting"  # 等候时间
    FEES = "fees"  # 收费
    BOOKING = "booking"  # 预约挂号
    FACILITIES = "facilities"  # 环境设施
    SUGGESTION = "suggestion"  # 建议
    OTHER = "other"


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Complaint:
    complaint_no: str
    category: ComplaintCategory
    department_code: str | None
    status: ComplaintStatus
    created_at: datetime
    updated_at: datetime


class ComplaintNumberTaken(TryAgain):
    """The random tracking number drawn was in use: drawn again."""


def new_complaint_no(day: date) -> str:
    """TS, the day and four random digits, e.g. TS2611250427: short enough to read out."""
    return f"TS{day:%y%m%d}{secrets.randbelow(10**4):04d}"


async def file_complaint(
    uows: UnitOfWorkFactory,
    protector: Protector,
    clock: Clock,
    *,
    channel: str,
    user_id: str,
    category: ComplaintCategory,
    text: str,
    department_code: str | None = None,
) -> Complaint:
    words = " ".join(text.split())
    if not words:
        raise InvalidInput("the complaint has no text", field="text")
    now = clock.now()
    sealed = protector.encrypt(words[:MAX_TEXT])
    user_hash = protector.lookup_hash("complainant", f"{channel}\x00{user_id}")
    for _ in range(5):
        number = new_complaint_no(local_now(now, DEFAULT_TZ).date())
        try:
            async with uows() as uow:
                complaint = await uow.complaints.add(
                    number, category, department_code, sealed, channel, user_hash, now
                )
                await uow.commit()
            return complaint
        except ComplaintNumberTaken:
            continue
    raise TryAgain("no free complaint number, please try again")


async def complaint_status(uows: UnitOfWorkFactory, complaint_no: str) -> Complaint:
    async with uows(readonly=True) as uow:
        complaint = await uow.complaints.get(complaint_no.strip().upper())
    if complaint is None:
        raise NotFound("no complaint has this number", what="complaint")
    return complaint
